"""A service in the shape ifrit is made for: an ordered start, a clean stop.

    python examples/service.py            # Ctrl-C or `kill -TERM <pid>` stops it

Three runners start one after the other, each only once the previous one is
ready (``grouper.Ordered``): a config loader, a job queue, and a worker pool
that is restarted with backoff if it crashes. ``ifrit.run`` installs the
SIGINT/SIGTERM handlers (through the C core, before anything starts), forwards
the first signal to the group, which stops the members in reverse order, and
turns the outcome into an exit code. Each runner prints its state changes, so
you can watch the order.
"""

from __future__ import annotations

import queue
import sys
import threading

import ifrit
from ifrit import grouper, restart


def log(msg: str) -> None:
    print(msg, flush=True)


class Config:
    """Loads settings, then just holds them until told to stop."""

    name = "config"

    def __init__(self) -> None:
        self.settings: dict[str, int] = {}

    def run(self, signals: ifrit.Signals, ready) -> None:
        self.settings = {"workers": 2}
        log("config: loaded")
        ready()
        sig = signals.get()
        log(f"config: stopped ({sig!r})")


class JobQueue:
    """A queue other runners share; feeds it a job every 0.2 s."""

    name = "queue"

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[int] = queue.SimpleQueue()

    def run(self, signals: ifrit.Signals, ready) -> None:
        log("queue: accepting jobs")
        ready()
        n = 0
        while True:
            try:
                sig = signals.get(timeout=0.2)
            except TimeoutError:
                n += 1
                self.jobs.put(n)
                continue
            log(f"queue: stopped after {n} jobs ({sig!r})")
            return


class Workers:
    """Takes jobs off the queue on a few threads; stops them on a signal."""

    name = "workers"

    def __init__(self, config: Config, jobs: JobQueue) -> None:
        self.config = config
        self.jobs = jobs

    def run(self, signals: ifrit.Signals, ready) -> None:
        stop = threading.Event()

        def work(i: int) -> None:
            while not stop.is_set():
                try:
                    job = self.jobs.jobs.get(timeout=0.1)
                except queue.Empty:
                    continue
                log(f"workers: #{i} did job {job}")

        threads = [threading.Thread(target=work, args=(i,)) for i in range(self.config.settings["workers"])]
        for t in threads:
            t.start()
        log("workers: running")
        ready()
        sig = signals.get()
        stop.set()
        for t in threads:
            t.join()
        log(f"workers: stopped ({sig!r})")


def main() -> int:
    config = Config()
    jobs = JobQueue()
    app = grouper.Ordered(
        [
            ("config", config),
            ("queue", jobs),
            ("workers", restart.Backoff(Workers(config, jobs), initial=0.5, max_restarts=5, within=60)),
        ]
    )
    code = ifrit.run(app, name="service")
    log(f"service: exit code {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
