"""A tour of pyifrit in one small program: runners, processes, signals, select.

Run it with ``python examples/demo.py``; it finishes by itself in about a
second. It starts three processes:

- a *ticker* that does periodic work until it is signaled;
- an *echo server* on 127.0.0.1 (port 0: any free port), ready once it is
  listening;
- a *client* that talks to the server a few times and then exits by itself;

while the main thread watches them with ``ifrit.select``. Then it stops
what is still running with ``process.signal`` + ``process.wait``.

Every runner follows the same contract: set up, call ``ready()``, work, and
return soon after a signal arrives. Raising from ``run`` makes that exception
the process's exit error.
"""

from __future__ import annotations

import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Sequence

import ifrit

Ready = Callable[[], None]


def say(who: str, text: str) -> None:
    print(f"[{who:>6}] {text}", flush=True)


class Ticker:
    """Does some periodic work (here: counting) every ``interval`` seconds.

    Each tick is reported through a mailbox, so another thread can follow
    along. Stops on any signal.
    """

    name = "ticker"

    def __init__(self, interval: float, ticks: ifrit.Mailbox[int]) -> None:
        self.interval = interval
        self.ticks = ticks

    def run(self, signals: ifrit.Signals, ready: Ready) -> None:
        ready()  # nothing to set up: ready at once
        count = 0
        while True:
            # Wait for a signal *or* for the interval to elapse: the runner
            # stays responsive to signals while it idles between ticks.
            try:
                sig = signals.get(timeout=self.interval)
            except TimeoutError:
                count += 1
                self.ticks.put(count)
                continue
            say("ticker", f"got {signal_name(sig)} after {count} ticks, stopping")
            return


class EchoHandler(socketserver.StreamRequestHandler):
    """Sends every line it receives straight back."""

    def handle(self) -> None:
        for line in self.rfile:
            self.wfile.write(line)


class EchoServer:
    """A line-based TCP echo server on 127.0.0.1.

    Ready once it is listening; ``address`` is then the bound (host, port).
    A bind error (the port is taken, say) is raised before ``ready()``, so
    it becomes the exit error and ``ifrit.invoke`` reports it as a
    ``StartError``. On a signal, it stops accepting and returns.
    """

    name = "echo-server"

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.address: tuple[str, int] | None = None

    def run(self, signals: ifrit.Signals, ready: Ready) -> None:
        # Set up: binding and listening happen in the constructor.
        with socketserver.ThreadingTCPServer(
            ("127.0.0.1", self.port), EchoHandler
        ) as srv:
            srv.daemon_threads = True
            self.address = srv.server_address[:2]
            # serve_forever() blocks, so it gets a thread of its own while this
            # thread waits for a signal, as a Go runner would start a goroutine.
            loop = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
            loop.start()
            ready()
            say("server", f"listening on {self.address[0]}:{self.address[1]}")

            sig = signals.get()
            say("server", f"got {signal_name(sig)}, shutting down")
            srv.shutdown()  # returns once serve_forever() has stopped
            loop.join()


class EchoClient:
    """Connects to an echo server, sends a few lines, checks the replies.

    Ready once connected; exits cleanly when done. An unexpected reply is
    raised, and so becomes the process's exit error. A signal stops it early.
    """

    name = "client"

    def __init__(
        self, address: tuple[str, int], lines: Sequence[str], pause: float
    ) -> None:
        self.address = address
        self.lines = lines
        self.pause = pause

    def run(self, signals: ifrit.Signals, ready: Ready) -> None:
        with socket.create_connection(self.address, timeout=5) as sock:
            replies = sock.makefile("r", encoding="utf-8")
            ready()
            for i, line in enumerate(self.lines):
                if i > 0:  # pause between messages, but stop early on a signal
                    try:
                        signals.get(timeout=self.pause)
                    except TimeoutError:
                        pass
                    else:
                        say("client", "signaled, stopping early")
                        return
                sock.sendall(f"{line}\n".encode())
                reply = replies.readline().rstrip("\n")
                if reply != line:
                    raise RuntimeError(f"sent {line!r}, got back {reply!r}")
                say("client", f"sent {line!r}, got {reply!r} back")


def signal_name(sig: signal.Signals | int) -> str:
    return sig.name if isinstance(sig, signal.Signals) else str(sig)


def stop(process: ifrit.Process) -> None:
    """Ask a process to stop (SIGINT) and wait for it to exit."""
    if process.is_exited:
        return
    process.signal(signal.SIGINT)
    error = process.wait(timeout=5)
    say(
        "main",
        f"{process.name} exited " + ("cleanly" if error is None else f"with {error!r}"),
    )


def main() -> int:
    running: list[ifrit.Process] = []  # what to stop at the end, in start order
    try:
        # 1. A ticker. invoke() returns once the process is ready.
        ticks: ifrit.Mailbox[int] = ifrit.Mailbox()
        running.append(ifrit.invoke(Ticker(interval=0.1, ticks=ticks)))
        say("main", f"started {running[-1]!r}")

        # 2. The echo server. Once invoke() returns it is listening, so its
        #    address is known and clients can connect at once.
        server = EchoServer()
        running.append(ifrit.invoke(server, timeout=5))
        say("main", f"started {running[-1]!r}")
        assert server.address is not None

        # A second server on the same port cannot bind: its exit error comes
        # before ready(), so invoke() raises StartError.
        try:
            ifrit.invoke(EchoServer(port=server.address[1]), name="echo-server-2")
        except ifrit.StartError as exc:
            say("main", f"second server failed to start: {exc.error!r}")

        # 3. The client runs on its own and exits when it is done.
        client = ifrit.invoke(
            EchoClient(server.address, ["hello", "ifrit", "bye"], 0.15)
        )
        running.append(client)
        say("main", f"started {client!r}")

        # Follow the ticks until the client exits. When both are ready at
        # once, select() picks the lowest index: the client's exit wins.
        while True:
            index, value = ifrit.select(client.exit_event, ticks, timeout=5)
            if index == 0:
                outcome = "cleanly" if value is None else f"with {value!r}"
                say("main", f"client exited {outcome}")
                if value is not None:
                    return 1
                break
            say("main", f"tick {value}")
    finally:
        # Stop what is still running, last started first. This also runs on
        # Ctrl-C (KeyboardInterrupt) or on an unexpected error above.
        # Processes that have already exited are skipped.
        for process in reversed(running):
            stop(process)
    say("main", "all done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
