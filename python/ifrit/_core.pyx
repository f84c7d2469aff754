# cython: language_level=3
# cython: freethreading_compatible = True
# cython: boundscheck=False, wraparound=False, initializedcheck=False
"""ifrit._core: the one native boundary between Python and the C core.

Mechanism only: waitable objects (Event, Mailbox, Signals, a process's ready
and exit events), the process mechanism (Proc: state, signals, start on a pool
thread), select, and tuning knobs. The public API in ``ifrit`` builds on it.

Rules kept here:
- every blocking call releases the GIL and waits on the remaining deadline;
  in the main thread it waits in slices of 20 ms and runs Python signal
  handlers between them (and on EINTR), so Ctrl-C raises KeyboardInterrupt;
- ``_block`` is the one place that turns C statuses of blocking calls into
  retries or exceptions, ``_raise_status`` the one for the rest;
- Python objects parked in C mailboxes hold one reference each, taken on put
  and handed to the taker (or released by the mailbox's dispose function).
"""

cimport cython
from cpython.exc cimport PyErr_CheckSignals
from cpython.ref cimport PyObject, Py_DECREF, Py_INCREF, Py_XDECREF
from libc.stdint cimport int64_t, intptr_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from ifrit._libifr cimport *

import signal as _signal
import threading as _threading
import types as _types

cdef extern from "Python.h":
    ctypedef struct PyThreadState:
        pass
    ctypedef enum PyGILState_STATE:
        PyGILState_LOCKED
        PyGILState_UNLOCKED
    PyGILState_STATE PyGILState_Ensure() nogil
    void PyGILState_Release(PyGILState_STATE state) nogil
    PyThreadState *PyEval_SaveThread() nogil
    unsigned long PyThread_get_thread_ident() nogil
    void PyErr_WriteUnraisable(object obj)

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030D0000
    #define ifrit_is_finalizing() Py_IsFinalizing()
    #else
    #define ifrit_is_finalizing() _Py_IsFinalizing()
    #endif
    """
    int ifrit_is_finalizing() nogil


# Waits in the main thread come back this often to run signal handlers.
cdef int64_t SLICE_NS = 20000000
# How long a thread whose wait succeeded spins for the GIL holder to let go.
cdef int64_t BATON_NS = 30000
# Timeouts above this many seconds mean "forever" (int64 nanoseconds overflow
# at about 292 years).
cdef double FOREVER_S = 1e9

cdef unsigned long _main_ident = <unsigned long>_threading.main_thread().ident

# Threads queue for the GIL through the core's admission (ifr_admit_enter):
# only with a GIL, and never the main thread (Ctrl-C must not wait in line).
import sys as _sys
cdef bint _ADMIT = bool(getattr(_sys, "_is_gil_enabled", lambda: True)())

cdef dict _SIGNALS = {int(s): s for s in _signal.Signals}


class Closed(Exception):
    """The mailbox is closed: raised by ``get`` once it is empty, and by ``put``."""


@cython.final
cdef class _ClosedType:
    """Type of ``ifrit.CLOSED``, the value ``select`` yields for a closed mailbox."""

    def __repr__(self):
        return "ifrit.CLOSED"

    def __reduce__(self):
        return "CLOSED"


CLOSED = _ClosedType()

# Passed by the Python layer when it makes a process; see Proc.__init__.
_MAKE = object()


# ---------------------------------------------------------------------------
# The error gate and the blocking loop
# ---------------------------------------------------------------------------

cdef int _raise_status(int st, str what) except -1:
    """Raise the exception for a non-OK status of a non-blocking call."""
    if st == IFR_NOMEM:
        raise MemoryError(what)
    if st == IFR_CLOSED:
        raise Closed(what)
    if st == IFR_TIMEOUT:
        raise TimeoutError(what)
    if st == IFR_INVALID:
        raise ValueError(what)
    raise OSError(f"{what}: {ifr_strstatus(st).decode()}")


cdef int64_t _deadline(object timeout) except -2:
    """Validate a timeout in seconds (None: forever); return a C deadline."""
    cdef double t
    if timeout is None:
        return -1
    if isinstance(timeout, (str, bytes, bool)) or not hasattr(type(timeout), "__float__"):
        raise TypeError(
            f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    t = float(timeout)
    if t != t:
        raise ValueError("timeout must be a number of seconds or None, not NaN")
    if t < 0:
        raise ValueError(f"timeout must be >= 0 or None, got {timeout!r}")
    if t > FOREVER_S:
        return -1
    return ifr_deadline(<int64_t>(t * 1e9))


ctypedef int (*_wait_fn)(void *ctx, int64_t deadline) noexcept nogil


cdef int _block(_wait_fn fn, void *ctx, int64_t deadline) except -100:
    """Run ``fn(ctx, deadline)`` with the GIL released until it settles.

    Returns the final status: anything but IFR_TIMEOUT/IFR_INTERRUPTED as
    ``fn`` gave it, or IFR_TIMEOUT once the caller's deadline has passed.
    In the main thread the wait runs in slices, with Python signal handlers
    run between them: an exception they raise (KeyboardInterrupt) propagates.
    """
    cdef bint main = PyThread_get_thread_ident() == _main_ident
    cdef bint admit = _ADMIT and not main
    cdef int64_t d
    cdef int st
    while True:
        d = deadline
        if main:
            d = ifr_now_ns() + SLICE_NS
            if 0 <= deadline < d:
                d = deadline
        with nogil:
            ifr_baton_drop()
            st = fn(ctx, d)
            if admit:
                ifr_admit_enter()
            if st != IFR_TIMEOUT and st != IFR_INTERRUPTED:
                ifr_baton_await(BATON_NS)
            ifr_baton_take()
        if admit:
            ifr_admit_leave()
        if st == IFR_TIMEOUT:
            if deadline >= 0 and ifr_now_ns() >= deadline:
                return IFR_TIMEOUT
            PyErr_CheckSignals()
        elif st == IFR_INTERRUPTED:
            PyErr_CheckSignals()
        else:
            return st


cdef str _fmt_timeout(object timeout):
    return f"{float(timeout):g} s"


# ---------------------------------------------------------------------------
# Items and signals
# ---------------------------------------------------------------------------

cdef void _dispose_obj(void *item) noexcept nogil:
    # The mailbox (or a subscription) drops an item it owned.
    if item != NULL:
        with gil:
            Py_DECREF(<object>item)


cdef inline object _steal(void *item):
    """Turn an owned item pointer from a mailbox into an object."""
    cdef object obj = <object>item    # takes a new reference ...
    Py_DECREF(obj)                     # ... so drop the one the mailbox held
    return obj


cdef inline object _sig_value(intptr_t v):
    return _SIGNALS.get(v, v)


cdef object _as_signal(object obj):
    """A boxed item read through a Signals view: ints come back as signals."""
    if isinstance(obj, int) and not isinstance(obj, bool):
        return _SIGNALS.get(int(obj), obj)
    return obj


cdef int _check_signal(object sig) except -1:
    if isinstance(sig, bool) or not isinstance(sig, int):
        raise TypeError(
            f"a signal must be an int or signal.Signals, not {type(sig).__name__}: {sig!r}")
    if not -2147483648 <= sig <= 2147483647:
        raise ValueError(f"signal number out of range: {sig!r}")
    return 0


# ---------------------------------------------------------------------------
# Event
# ---------------------------------------------------------------------------

cdef struct _ev_ctx:
    ifr_event *ev

cdef int _ev_wait(void *c, int64_t d) noexcept nogil:
    return ifr_event_wait((<_ev_ctx *>c).ev, d)


@cython.final
cdef class Event:
    """A flag that is set once and stays set; usable in ``select`` (value None)."""

    def __cinit__(self):
        self._ev = ifr_event_new()
        if self._ev == NULL:
            raise MemoryError("cannot allocate an Event")

    def __dealloc__(self):
        ifr_event_release(self._ev)

    def set(self):
        """Set the flag and wake every waiter. Idempotent."""
        ifr_event_set(self._ev)

    def is_set(self):
        """True once set."""
        return ifr_event_is_set(self._ev) != 0

    def wait(self, timeout=None):
        """Block until set; raise TimeoutError after ``timeout`` seconds."""
        cdef int64_t deadline = _deadline(timeout)
        if ifr_event_is_set(self._ev):
            return None
        cdef _ev_ctx c
        c.ev = self._ev
        if _block(_ev_wait, &c, deadline) == IFR_TIMEOUT:
            raise TimeoutError(f"event not set within {_fmt_timeout(timeout)}")
        return None

    def __repr__(self):
        return f"<ifrit.Event {'set' if self.is_set() else 'unset'}>"


# ---------------------------------------------------------------------------
# Mailbox and Signals
# ---------------------------------------------------------------------------

cdef struct _mb_ctx:
    ifr_mailbox *mb
    void *item

cdef int _mb_get(void *c, int64_t d) noexcept nogil:
    cdef _mb_ctx *x = <_mb_ctx *>c
    return ifr_mailbox_get(x.mb, &x.item, d)


cdef int _take(ifr_mailbox *mb, object timeout, void **item) except -100:
    """Take one item from a mailbox, blocking; returns IFR_OK or IFR_CLOSED."""
    cdef _mb_ctx c
    cdef int64_t deadline = _deadline(timeout)
    cdef int st = ifr_mailbox_poll(mb, item)
    if st != IFR_EMPTY:
        return st
    c.mb = mb
    c.item = NULL
    st = _block(_mb_get, &c, deadline)
    if st == IFR_TIMEOUT:
        raise TimeoutError(f"nothing received within {_fmt_timeout(timeout)}")
    item[0] = c.item
    return st


def _until_closed(get):
    """Iterate a mailbox (or a Signals view): ``get()`` until it raises
    Closed, that is until the mailbox is closed and empty."""
    while True:
        try:
            yield get()
        except Closed:
            return


cdef class Mailbox:
    """An unbounded FIFO: ``put`` never blocks; usable in ``select``.

    ``close()`` ends it: items already inside can still be taken, then ``get``
    raises :class:`Closed`, iteration stops, ``poll`` returns None and
    ``select`` yields ``CLOSED``; ``put`` after close raises ``Closed``.
    """

    def __cinit__(self, *args, **kwargs):
        self._mb = ifr_mailbox_new(_dispose_obj)
        if self._mb == NULL:
            raise MemoryError("cannot allocate a Mailbox")

    def __dealloc__(self):
        ifr_mailbox_release(self._mb)

    @classmethod
    def __class_getitem__(cls, item):
        return _types.GenericAlias(cls, item)

    def put(self, item):
        """Append ``item``; never blocks. Raises Closed after close()."""
        Py_INCREF(item)
        cdef int st = ifr_mailbox_put(self._mb, <void *>item)
        if st != IFR_OK:
            Py_DECREF(item)
            _raise_status(st, "put on a closed mailbox" if st == IFR_CLOSED else "put failed")

    def get(self, timeout=None):
        """Take the oldest item, blocking; Closed once closed and empty."""
        cdef void *item = NULL
        if _take(self._mb, timeout, &item) == IFR_CLOSED:
            raise Closed("the mailbox is closed")
        return _steal(item)

    def poll(self):
        """Take the oldest item, or return None at once."""
        cdef void *item = NULL
        if ifr_mailbox_poll(self._mb, &item) == IFR_OK:
            return _steal(item)
        return None

    def close(self):
        """No more puts; waiters wake. Idempotent."""
        ifr_mailbox_close(self._mb)

    @property
    def closed(self):
        """True once closed."""
        return ifr_mailbox_is_closed(self._mb) != 0

    def signals(self):
        """A read-only :class:`Signals` view of this mailbox."""
        cdef Signals s = Signals.__new__(Signals)
        s._mb = self._mb
        s._owner = self
        s._boxed = True
        return s

    def __len__(self):
        return ifr_mailbox_len(self._mb)

    def __iter__(self):
        return _until_closed(self.get)

    def __repr__(self):
        state = "closed" if self.closed else "open"
        return f"<ifrit.Mailbox {state}, {len(self)} pending>"


@cython.final
cdef class Signals:
    """Read-only view of a process's signal mailbox (FIFO).

    Values that are valid ``signal.Signals`` come back as that enum, other
    ints as int.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("Signals views are made by ifrit, not directly")

    cdef object _value(self, void *item):
        if self._boxed:
            return _as_signal(_steal(item))
        return _sig_value(<intptr_t>item)

    def get(self, timeout=None):
        """Block until a signal is pending and take it."""
        cdef void *item = NULL
        if _take(self._mb, timeout, &item) == IFR_CLOSED:
            raise Closed("the signal mailbox is closed")
        return self._value(item)

    def poll(self):
        """Take one pending signal, or return None at once."""
        cdef void *item = NULL
        if ifr_mailbox_poll(self._mb, &item) == IFR_OK:
            return self._value(item)
        return None

    def __len__(self):
        return ifr_mailbox_len(self._mb)

    def __iter__(self):
        return _until_closed(self.get)

    @property
    def _seq(self):
        """A number that changes whenever a signal is sent here (or on close):
        compare two readings to learn whether any signal came in between."""
        return ifr_mailbox_seq(self._mb)

    def __repr__(self):
        return f"<ifrit.Signals {len(self)} pending>"


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

cdef struct _proc_ctx:
    ifr_proc *p
    uint32_t mask

cdef int _proc_wait(void *c, int64_t d) noexcept nogil:
    cdef _proc_ctx *x = <_proc_ctx *>c
    return ifr_proc_wait(x.p, x.mask, d)


cdef int _wait_state(Proc proc, uint32_t mask, object timeout) except -100:
    cdef _proc_ctx c
    cdef int64_t deadline = _deadline(timeout)
    if ifr_proc_state(proc._p) & mask:
        return IFR_OK
    c.p = proc._p
    c.mask = mask
    return _block(_proc_wait, &c, deadline)


@cython.final
cdef class ReadyEvent:
    """``process.ready_event``: fires once the process is ready (select value None)."""

    def is_set(self):
        return (ifr_proc_state(self._proc._p) & IFR_PROC_READY) != 0

    def wait(self, timeout=None):
        """Block until the process is ready (an exit without ready never sets it)."""
        if _wait_state(self._proc, IFR_PROC_READY, timeout) == IFR_TIMEOUT:
            raise TimeoutError(
                f"process {self._proc._name!r} not ready within {_fmt_timeout(timeout)}")

    def __repr__(self):
        return f"<ready_event of process {self._proc._name!r}>"


@cython.final
cdef class ExitEvent:
    """``process.exit_event``: fires once the process exits (select value: the exit error)."""

    def is_set(self):
        return (ifr_proc_state(self._proc._p) & IFR_PROC_EXITED) != 0

    def wait(self, timeout=None):
        """Block until the process exits; return its exit error."""
        return self._proc.wait(timeout)

    def __repr__(self):
        return f"<exit_event of process {self._proc._name!r}>"


@cython.final
cdef class _Ready:
    """The ``ready`` callable handed to a runner."""

    def __call__(self):
        ifr_proc_ready(self._proc._p)

    def __repr__(self):
        return f"<ready() of process {self._proc._name!r}>"


cdef int _job_name(Proc p, char *out) except -1:
    """The pool thread's name for ``p``: its name in UTF-8, cut to 15 bytes
    (the OS limit), NUL-terminated, into ``out[16]``."""
    cdef bytes b = p._name.encode("utf-8", "replace")[:15]
    memcpy(out, <char *>b, len(b))
    out[len(b)] = 0
    return 0


cdef void _run_job(void *arg) noexcept nogil:
    # Runs on a pool thread. `arg` is an owned reference to the Proc.
    # The submitter usually still holds the GIL for a while (it returns from
    # background() and goes on); spin until it lets go rather than block on
    # the GIL's condition variable, which costs a kernel wake-up on each side.
    if _ADMIT:
        ifr_admit_enter()
    ifr_baton_await(BATON_NS)
    ifr_baton_take()
    with gil:
        if _ADMIT:
            ifr_admit_leave()
        _run(<object>arg)
        Py_DECREF(<object>arg)
    ifr_baton_drop()
    ifr_flush_deferred()  # wake-ups the runner left pending (Proc._prewake, submits)


cdef Signals _proc_signals(Proc proc):
    # Not cached on the Proc: the view refers to its owner, and a cached view
    # would make every process a reference cycle.
    cdef Signals s = Signals.__new__(Signals)
    s._mb = ifr_proc_signals(proc._p)
    s._owner = proc
    s._boxed = False
    return s


cdef void _run(Proc proc) noexcept:
    cdef object fn = proc._fn
    cdef object ctx = proc._ctx
    cdef object error = None
    proc._fn = None
    proc._ctx = None
    cdef _Ready ready = _Ready.__new__(_Ready)
    ready._proc = proc
    ifr_proc_start(proc._p)
    try:
        ctx.run(fn, _proc_signals(proc), ready)
    except BaseException as e:
        error = e
    fn = ctx = ready = None
    try:
        proc._finish(error)
    except BaseException:
        PyErr_WriteUnraisable(proc)


cdef class Proc:
    """The process mechanism under ``ifrit.Process``."""

    def __cinit__(self, *args, **kwargs):
        self._p = ifr_proc_new(NULL)
        if self._p == NULL:
            raise MemoryError("cannot allocate a process")
        self._name = ""

    def __init__(self, str name, token=None):
        if token is not _MAKE:
            raise TypeError("processes are made by ifrit.background() or ifrit.invoke()")
        self._name = name

    def __dealloc__(self):
        ifr_proc_release(self._p)

    @property
    def name(self):
        """The process's name."""
        return self._name

    @property
    def is_ready(self):
        """True once the runner called ready() (before exiting)."""
        return (ifr_proc_state(self._p) & IFR_PROC_READY) != 0

    @property
    def is_exited(self):
        """True once the runner has returned or raised."""
        return (ifr_proc_state(self._p) & IFR_PROC_EXITED) != 0

    @property
    def ready_event(self):
        """A waitable for ``select`` that fires once the process is ready."""
        cdef ReadyEvent ev = ReadyEvent.__new__(ReadyEvent)
        ev._proc = self
        return ev

    @property
    def exit_event(self):
        """A waitable for ``select`` that fires (with the exit error) once the process exits."""
        cdef ExitEvent ev = ExitEvent.__new__(ExitEvent)
        ev._proc = self
        return ev

    def signal(self, sig=_signal.SIGTERM):
        """Queue ``sig`` for the process (FIFO, never blocks); dropped after exit."""
        _check_signal(sig)
        ifr_proc_signal(self._p, <int>sig)

    def wait(self, timeout=None):
        """Block until the process exits; return its exit error (None if clean).

        Every caller gets the same object. Raises TimeoutError after
        ``timeout`` seconds.
        """
        if _wait_state(self, IFR_PROC_EXITED, timeout) == IFR_TIMEOUT:
            raise TimeoutError(f"process {self._name!r} did not exit within {_fmt_timeout(timeout)}")
        return self._error

    def wait_ready(self, timeout=None):
        """Block until ready (True) or exited without having been ready (False)."""
        if _wait_state(self, IFR_PROC_READY | IFR_PROC_EXITED, timeout) == IFR_TIMEOUT:
            raise TimeoutError(
                f"process {self._name!r} neither ready nor exited within {_fmt_timeout(timeout)}")
        return (ifr_proc_state(self._p) & IFR_PROC_READY) != 0

    # -- mechanism for the Python layer --------------------------------------

    def _prewake(self):
        """Hint: a signal for this process is coming soon. A runner parked
        in ``signals.get()`` wakes now and spins for it, so its wake-up
        latency overlaps the caller's work (an ordered group calls it for
        the member it stops next). Changes nothing else.

        The wake-up happens at this thread's next blocking call, after it
        released the GIL (a process just signaled can take the GIL while
        it runs): see ``ifr_mailbox_poke_deferred``."""
        ifr_mailbox_poke_deferred(ifr_proc_signals(self._p))

    def _prepare(self, fn, ctx):
        """Make the process ready to start: ``ctx.run(fn, signals, ready)``."""
        if ifr_proc_state(self._p) != 0 or self._ctx is not None:
            raise RuntimeError(f"process {self._name!r} was already started")
        self._fn = fn
        self._ctx = ctx

    def _start(self, fn, ctx):
        """Run ``ctx.run(fn, signals, ready)`` on a pool thread."""
        self._prepare(fn, ctx)
        cdef char cname[16]
        _job_name(self, cname)
        Py_INCREF(self)
        cdef int st = ifr_pool_submit(_run_job, <void *>self, cname)
        if st != IFR_OK:
            Py_DECREF(self)
            self._fn = None
            self._ctx = None
            _raise_status(st, f"cannot start a thread for process {self._name!r}")

    def _subscribe(self, Mailbox mailbox not None, ready_tag, exit_tag):
        """Put ``ready_tag`` / ``exit_tag`` (None: not wanted) into ``mailbox``
        when the process becomes ready / exits (at once if it already has)."""
        cdef void *rt = NULL
        cdef void *xt = NULL
        if ready_tag is not None:
            Py_INCREF(ready_tag)
            rt = <void *>ready_tag
        if exit_tag is not None:
            Py_INCREF(exit_tag)
            xt = <void *>exit_tag
        cdef int st = ifr_proc_subscribe(self._p, mailbox._mb, rt, xt)
        if st != IFR_OK:
            if rt != NULL:
                Py_DECREF(ready_tag)
            if xt != NULL:
                Py_DECREF(exit_tag)
            _raise_status(st, "subscribe failed")

    def _add_exit_callback(self, fn):
        """Call ``fn()`` once the process has exited: on the exiting thread,
        or at once on this one if it already has."""
        with cython.critical_section(self):
            if not self._cb_fired:
                if self._callbacks is None:
                    self._callbacks = [fn]
                else:
                    self._callbacks.append(fn)
                return
        fn()

    cdef int _finish(self, object error) except -1:
        self._error = error
        ifr_proc_exit(self._p, NULL)
        with cython.critical_section(self):
            callbacks = self._callbacks
            self._callbacks = None
            self._cb_fired = True
        if callbacks is not None:
            for cb in callbacks:
                try:
                    cb()
                except BaseException:
                    PyErr_WriteUnraisable(cb)
        return 0

    @property
    def _signals(self):
        return _proc_signals(self)

    @property
    def _exit_error(self):
        return self._error


# ---------------------------------------------------------------------------
# select
# ---------------------------------------------------------------------------

cdef struct _sel_ctx:
    ifr_waitable *ws
    size_t n
    ifr_selected out

cdef int _sel_wait(void *c, int64_t d) noexcept nogil:
    cdef _sel_ctx *x = <_sel_ctx *>c
    return ifr_select(x.ws, x.n, d, &x.out)


def select(*waitables, timeout=None):
    """Block until one of ``waitables`` fires; return ``(index, value)``.

    When several have fired the lowest index wins. Values: a Signals view
    yields the signal it took, a Mailbox the item it took (or ``CLOSED``),
    an Event or ``ready_event`` None, an ``exit_event`` the exit error.
    """
    cdef size_t n = len(waitables)
    cdef size_t i
    cdef ifr_waitable small[8]
    cdef ifr_waitable *ws = small
    cdef _sel_ctx c
    cdef int st
    if n == 0:
        raise ValueError("select() needs at least one waitable")
    cdef int64_t deadline = _deadline(timeout)
    if n > 8:
        ws = <ifr_waitable *>malloc(n * sizeof(ifr_waitable))
        if ws == NULL:
            raise MemoryError()
    try:
        for i in range(n):
            w = waitables[i]
            if isinstance(w, Signals):
                ws[i].kind = IFR_W_MAILBOX
                ws[i].obj = (<Signals>w)._mb
            elif isinstance(w, Mailbox):
                ws[i].kind = IFR_W_MAILBOX
                ws[i].obj = (<Mailbox>w)._mb
            elif isinstance(w, Event):
                ws[i].kind = IFR_W_EVENT
                ws[i].obj = (<Event>w)._ev
            elif isinstance(w, ReadyEvent):
                ws[i].kind = IFR_W_PROC_READY
                ws[i].obj = (<ReadyEvent>w)._proc._p
            elif isinstance(w, ExitEvent):
                ws[i].kind = IFR_W_PROC_EXIT
                ws[i].obj = (<ExitEvent>w)._proc._p
            elif isinstance(w, SigSub):
                ws[i].kind = IFR_W_SIGSUB
                ws[i].obj = (<SigSub>w)._s
            else:
                raise TypeError(
                    f"select() argument {i} is not waitable: {type(w).__name__} (expected "
                    "Signals, Mailbox, Event, SigSub, process.ready_event or process.exit_event)")
        c.ws = ws
        c.n = n
        st = ifr_select(ws, n, 0, &c.out)          # no waiting if one already fired
        if st == IFR_TIMEOUT and deadline != 0:
            st = _block(_sel_wait, &c, deadline)
        if st == IFR_TIMEOUT:
            raise TimeoutError(f"nothing fired within {_fmt_timeout(timeout)}")
        if st != IFR_OK:
            _raise_status(st, "select failed")
    finally:
        if ws != small:
            free(ws)
    w = waitables[c.out.index]
    if isinstance(w, Signals):
        if c.out.closed:
            return c.out.index, CLOSED
        return c.out.index, (<Signals>w)._value(c.out.item)
    if isinstance(w, Mailbox):
        if c.out.closed:
            return c.out.index, CLOSED
        return c.out.index, _steal(c.out.item)
    if isinstance(w, ExitEvent):
        return c.out.index, (<ExitEvent>w)._proc._error
    if isinstance(w, SigSub):
        if c.out.closed:
            return c.out.index, CLOSED
        return c.out.index, _sig_value(<intptr_t>c.out.item)
    return c.out.index, None


# ---------------------------------------------------------------------------
# OS signals: a subscription to the C core's sigbridge
# ---------------------------------------------------------------------------

cdef struct _sub_ctx:
    ifr_sigsub *s
    int signo

cdef int _sub_wait(void *c, int64_t d) noexcept nogil:
    cdef _sub_ctx *x = <_sub_ctx *>c
    return ifr_sigsub_wait(x.s, &x.signo, d)


@cython.final
cdef class SigSub:
    """A subscription to OS signals, usable in ``select`` (value: the signal).

    ``SigSub(*signals)`` installs the C core's handler for each signal (any
    thread may do this; the handler needs no GIL) and counts every delivery
    from then on. Several subscriptions to one signal each see every
    delivery. ``close()`` unsubscribes; when the last subscription of a
    signal goes, the handler that was there before (Python's own included)
    is restored exactly. Pending signals can still be taken after close; then
    ``get`` raises :class:`Closed`, ``poll`` returns None and ``select``
    yields ``CLOSED``. Signals pending at once come out lowest number first.
    """

    def __cinit__(self, *signals):
        self._s = ifr_sigsub_new()
        if self._s == NULL:
            raise MemoryError("cannot allocate a signal subscription")
        self._signals = ()

    def __init__(self, *signals):
        cdef int st
        cdef list done = []
        for sig in signals:
            _check_signal(sig)
            st = ifr_sigsub_add(self._s, <int>sig)
            if st != IFR_OK:
                ifr_sigsub_close(self._s)
                if st == IFR_INVALID:
                    raise ValueError(f"cannot handle OS signal {sig!r}")
                _raise_status(st, f"cannot subscribe to OS signal {sig!r}")
            v = _sig_value(<intptr_t>sig)
            if v not in done:
                done.append(v)
        self._signals = tuple(done)

    def __dealloc__(self):
        ifr_sigsub_free(self._s)

    @property
    def signals(self):
        """The signals subscribed to (in the order given, without repeats)."""
        return self._signals

    def close(self):
        """Unsubscribe and restore the previous handlers where this was the last
        subscription. Idempotent."""
        with nogil:
            ifr_sigsub_close(self._s)

    @property
    def closed(self):
        return ifr_sigsub_is_closed(self._s) != 0

    def poll(self):
        """Take one pending signal, or return None at once."""
        cdef int signo = 0
        if ifr_sigsub_poll(self._s, &signo) == IFR_OK:
            return _sig_value(signo)
        return None

    def get(self, timeout=None):
        """Block until a signal is delivered and take it; Closed once closed and empty."""
        cdef _sub_ctx c
        c.s = self._s
        c.signo = 0
        cdef int st = ifr_sigsub_poll(self._s, &c.signo)
        if st == IFR_EMPTY:
            st = _block(_sub_wait, &c, _deadline(timeout))
        if st == IFR_TIMEOUT:
            raise TimeoutError(f"no signal within {_fmt_timeout(timeout)}")
        if st == IFR_CLOSED:
            raise Closed("the signal subscription is closed")
        return _sig_value(c.signo)

    def __len__(self):
        return ifr_sigsub_pending(self._s)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        names = ", ".join(getattr(s, "name", str(s)) for s in self._signals)
        state = "closed" if self.closed else "open"
        return f"<ifrit SigSub [{names}] {state}, {len(self)} pending>"


def _sigbridge_subscribers(signo):
    """How many subscriptions the C core holds for ``signo`` (for tests)."""
    return ifr_sigbridge_subscribers(signo)


# ---------------------------------------------------------------------------
# The thread pool's Python thread states, tuning, fork
# ---------------------------------------------------------------------------

cdef void _on_thread_start() noexcept nogil:
    # Give the new pool thread a Python thread state for its whole life:
    # later `with gil` blocks on it are then cheap re-entries. Through
    # PyGILState_Ensure (which takes the GIL), not PyThreadState_New without
    # it: a thread that starts while the interpreter finalizes must meet
    # CPython's "exit instead of taking the GIL" rule, not create a thread
    # state in an interpreter being torn down (that crashed a program that
    # exited while its processes were still starting).
    PyGILState_Ensure()
    PyEval_SaveThread()


cdef void _on_thread_exit() noexcept nogil:
    if ifrit_is_finalizing():
        return      # never touch the interpreter while it shuts down
    # Take the GIL on this thread's state (its count goes from 1 to 2), then
    # undo both counts: the first release keeps the GIL, the last one deletes
    # the thread state and releases the GIL.
    PyGILState_Ensure()
    PyGILState_Release(PyGILState_LOCKED)
    PyGILState_Release(PyGILState_UNLOCKED)


cdef void _configure_pool() noexcept:
    cdef ifr_pool_config cfg
    ifr_pool_get_config(&cfg)
    cfg.on_thread_start = _on_thread_start
    cfg.on_thread_exit = _on_thread_exit
    ifr_pool_configure(&cfg)


_configure_pool()


def _start_all(procs, Signals stop_if not None):
    """Start every process of the sequence ``procs`` (each made ready to run
    by ``_prepare``), in order, from C with the GIL released, so that the
    ones started can run meanwhile (a Parallel group's start). Stops before
    the next start once a signal is pending in ``stop_if``. Returns
    ``(k, error)``: ``procs[:k]`` were started; ``error`` is None, or the
    exception (not raised) for ``procs[k]``, which could not get a thread
    (it and the rest were not started)."""
    cdef Py_ssize_t n = len(procs), i, k = 0
    cdef void **objs = <void **>malloc(max(n, 1) * sizeof(void *))
    cdef char *names = <char *>malloc(max(n, 1) * 16)
    if objs == NULL or names == NULL:
        free(objs)
        free(names)
        raise MemoryError("_start_all")
    cdef Proc p
    cdef int st = IFR_OK
    cdef ifr_mailbox *sig_mb = stop_if._mb
    try:
        for i in range(n):
            p = <Proc?>procs[i]
            if p._ctx is None or ifr_proc_state(p._p) != 0:
                raise RuntimeError(f"process {p._name!r} is not prepared, or already started")
            _job_name(p, names + 16 * i)
            objs[i] = <void *>p
            Py_INCREF(p)  # owned by its job (see _run_job); given back below if not started
        with nogil:
            while k < n and ifr_mailbox_len(sig_mb) == 0:
                st = ifr_pool_submit(_run_job, objs[k], names + 16 * k)
                if st != IFR_OK:
                    break
                k += 1
        for i in range(k, n):
            Py_DECREF(<object>objs[i])
        if st != IFR_OK:
            p = <Proc>procs[k]
            p._fn = None
            p._ctx = None
            try:
                _raise_status(st, f"cannot start a thread for process {p._name!r}")
            except Exception as e:
                return k, e
        return k, None
    finally:
        free(objs)
        free(names)


def _signal_all(procs, skip, sig):
    """Send ``sig`` to every process in the sequence ``procs`` whose index is not marked in
    ``skip`` (a bytearray, or None), in order, with the GIL released: the
    processes woken can run while the rest are signaled (a Parallel group's
    shutdown)."""
    _check_signal(sig)
    cdef Py_ssize_t n = len(procs), i, k = 0
    cdef const unsigned char[:] mask = skip if skip is not None else None
    if skip is not None and len(skip) < n:
        raise ValueError("skip is shorter than procs")
    cdef ifr_proc **ps = <ifr_proc **>malloc(max(n, 1) * sizeof(ifr_proc *))
    if ps == NULL:
        raise MemoryError("_signal_all")
    cdef Proc p
    cdef int c_sig = <int>sig
    try:
        for i in range(n):
            if skip is not None and mask[i]:
                continue
            p = <Proc?>procs[i]
            ps[k] = p._p
            k += 1
        # `procs` keeps every process (and so its C proc) alive meanwhile.
        with nogil:
            for i in range(k):
                ifr_proc_signal(ps[i], c_sig)
    finally:
        free(ps)


def park_backend():
    """The C core's park backend: "futex", "condvar" or "waitonaddress"."""
    return ifr_park_backend().decode()


def set_spin(seconds):
    """How long a blocking call spins before it parks (0 disables spinning)."""
    cdef double s = float(seconds)
    if not s >= 0:
        raise ValueError(f"spin time must be >= 0, got {seconds!r}")
    ifr_set_spin_ns(<int64_t>(s * 1e9))


def get_spin():
    return ifr_get_spin_ns() / 1e9


def pool_stats():
    """``(threads, idle)``: live pool threads and how many of them are idle."""
    cdef unsigned threads = 0, idle = 0
    ifr_pool_stats(&threads, &idle)
    return threads, idle


cdef int _trim(void *c, int64_t d) noexcept nogil:
    return ifr_pool_trim(d)


def pool_trim(timeout=None):
    """Make every idle pool thread exit; True once they all have."""
    return _block(_trim, NULL, _deadline(timeout)) == IFR_OK


def set_pool(*, max_idle=None, idle_timeout=None, stack_size=None, grow_futex_hash=None):
    """Tune the pool: idle threads kept (default: no limit), their idle
    timeout (s, default 30), new threads' stack size (bytes, 0 = the OS
    default), and whether to grow the process's futex hash with the pool
    (Linux >= 6.16; default True). Options left as None keep their value."""
    cdef ifr_pool_config cfg
    ifr_pool_get_config(&cfg)
    if max_idle is not None:
        if max_idle < 0:
            raise ValueError(f"max_idle must be >= 0, got {max_idle!r}")
        cfg.max_idle = min(max_idle, 0xFFFFFFFF)
    if idle_timeout is not None:
        if not idle_timeout >= 0:
            raise ValueError(f"idle_timeout must be >= 0, got {idle_timeout!r}")
        cfg.idle_timeout_ns = <int64_t>(min(float(idle_timeout), FOREVER_S) * 1e9)
    if stack_size is not None:
        if stack_size < 0:
            raise ValueError(f"stack_size must be >= 0, got {stack_size!r}")
        cfg.stack_size = stack_size
    if grow_futex_hash is not None:
        cfg.grow_futex_hash = 1 if grow_futex_hash else 0
    ifr_pool_configure(&cfg)


def pool_config():
    """The pool settings as a dict (see set_pool)."""
    cdef ifr_pool_config cfg
    ifr_pool_get_config(&cfg)
    return {
        "max_idle": cfg.max_idle,
        "idle_timeout": cfg.idle_timeout_ns / 1e9,
        "stack_size": cfg.stack_size,
        "grow_futex_hash": cfg.grow_futex_hash != 0,
    }


def _after_fork_child():
    """Reset the core in a forked child (registered with os.register_at_fork)."""
    global _main_ident
    ifr_after_fork_child()
    _main_ident = PyThread_get_thread_ident()
