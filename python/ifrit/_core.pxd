# Layouts of the extension types of ifrit._core (behaviour in _core.pyx).
from ifrit._libifr cimport ifr_event, ifr_mailbox, ifr_proc, ifr_sigsub


cdef class Event:
    cdef ifr_event *_ev


cdef class Mailbox:
    cdef ifr_mailbox *_mb
    cdef object __weakref__


cdef class Signals:
    cdef ifr_mailbox *_mb      # borrowed from _owner
    cdef object _owner         # the Proc or Mailbox that owns _mb
    cdef bint _boxed           # items are Python objects (a Mailbox) rather than C ints
    cdef object _value(self, void *item)


cdef class ReadyEvent:
    cdef Proc _proc


cdef class ExitEvent:
    cdef Proc _proc


cdef class _Ready:
    cdef Proc _proc


cdef class Proc:
    cdef ifr_proc *_p
    cdef str _name
    cdef object _error          # the exit error, written before EXITED is published
    cdef object _fn             # runner callable, until the process starts
    cdef object _ctx            # contextvars.Context, until the process starts
    cdef object _callbacks      # list of exit callbacks, or None
    cdef bint _cb_fired
    cdef object __weakref__
    cdef int _finish(self, object error) except -1


cdef class SigSub:
    cdef ifr_sigsub *_s
    cdef tuple _signals
