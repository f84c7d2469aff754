# Declarations of the C core's public header, csrc/include/ifr.h, in header
# order. Nothing else belongs here: class layouts are in _core.pxd.
from libc.stdint cimport int64_t, uint32_t


cdef extern from "ifr.h" nogil:
    ctypedef enum ifr_status:
        IFR_OK
        IFR_TIMEOUT
        IFR_INTERRUPTED
        IFR_CLOSED
        IFR_NOMEM
        IFR_EMPTY
        IFR_INVALID
        IFR_OSERROR

    const char *ifr_strstatus(int status)
    ctypedef void (*ifr_dispose_fn)(void *item) noexcept nogil

    int64_t ifr_now_ns()
    int64_t ifr_deadline(int64_t timeout_ns)

    const char *ifr_park_backend()
    void ifr_set_spin_ns(int64_t ns)
    int64_t ifr_get_spin_ns()
    int ifr_ncpu()

    void ifr_baton_take()
    void ifr_baton_drop()
    void ifr_baton_await(int64_t max_ns)
    void ifr_admit_enter()
    void ifr_admit_leave()

    ctypedef struct ifr_event:
        pass
    ifr_event *ifr_event_new()
    void ifr_event_retain(ifr_event *ev)
    void ifr_event_release(ifr_event *ev)
    void ifr_event_set(ifr_event *ev)
    int ifr_event_is_set(const ifr_event *ev)
    ifr_status ifr_event_wait(ifr_event *ev, int64_t deadline_ns)

    ctypedef struct ifr_mailbox:
        pass
    ifr_mailbox *ifr_mailbox_new(ifr_dispose_fn dispose)
    void ifr_mailbox_retain(ifr_mailbox *mb)
    void ifr_mailbox_release(ifr_mailbox *mb)
    ifr_status ifr_mailbox_put(ifr_mailbox *mb, void *item)
    ifr_status ifr_mailbox_get(ifr_mailbox *mb, void **item, int64_t deadline_ns)
    ifr_status ifr_mailbox_poll(ifr_mailbox *mb, void **item)
    size_t ifr_mailbox_len(ifr_mailbox *mb)
    void ifr_mailbox_close(ifr_mailbox *mb)
    int ifr_mailbox_is_closed(ifr_mailbox *mb)
    uint32_t ifr_mailbox_seq(ifr_mailbox *mb)
    void ifr_mailbox_poke(ifr_mailbox *mb)
    void ifr_mailbox_poke_deferred(ifr_mailbox *mb)
    void ifr_flush_deferred()

    ctypedef struct ifr_proc:
        pass
    uint32_t IFR_PROC_RUNNING
    uint32_t IFR_PROC_READY
    uint32_t IFR_PROC_EXITED
    ifr_proc *ifr_proc_new(ifr_dispose_fn payload_dispose)
    void ifr_proc_retain(ifr_proc *p)
    void ifr_proc_release(ifr_proc *p)
    uint32_t ifr_proc_state(const ifr_proc *p)
    int ifr_proc_start(ifr_proc *p)
    int ifr_proc_ready(ifr_proc *p)
    int ifr_proc_exit(ifr_proc *p, void *payload)
    ifr_status ifr_proc_wait(ifr_proc *p, uint32_t mask, int64_t deadline_ns)
    ifr_status ifr_proc_signal(ifr_proc *p, int sig)
    ifr_mailbox *ifr_proc_signals(ifr_proc *p)
    ifr_status ifr_proc_subscribe(ifr_proc *p, ifr_mailbox *mb, void *ready_tag, void *exit_tag)

    ctypedef enum ifr_wkind:
        IFR_W_EVENT
        IFR_W_MAILBOX
        IFR_W_PROC_READY
        IFR_W_PROC_EXIT
        IFR_W_SIGSUB
    ctypedef struct ifr_waitable:
        int kind
        void *obj
    ctypedef struct ifr_selected:
        size_t index
        void *item
        int closed
    ifr_status ifr_select(const ifr_waitable *ws, size_t n, int64_t deadline_ns, ifr_selected *out)

    ctypedef void (*ifr_thread_fn)(void *arg) noexcept nogil
    void ifr_thread_set_name(const char *name)
    ctypedef struct ifr_pool_config:
        size_t stack_size
        unsigned max_idle
        int64_t idle_timeout_ns
        int grow_futex_hash
        void (*on_thread_start)() noexcept nogil
        void (*on_thread_exit)() noexcept nogil
    void ifr_pool_configure(const ifr_pool_config *cfg)
    void ifr_pool_get_config(ifr_pool_config *cfg)
    ifr_status ifr_pool_submit(ifr_thread_fn fn, void *arg, const char *name)
    void ifr_pool_stats(unsigned *threads, unsigned *idle)
    ifr_status ifr_pool_trim(int64_t deadline_ns)

    ctypedef struct ifr_sigsub:
        pass
    int IFR_SIG_MAX
    int IFR_SIGSUB_SLOTS
    ifr_sigsub *ifr_sigsub_new()
    void ifr_sigsub_free(ifr_sigsub *sub)
    ifr_status ifr_sigsub_add(ifr_sigsub *sub, int signo)
    void ifr_sigsub_close(ifr_sigsub *sub)
    ifr_status ifr_sigsub_wait(ifr_sigsub *sub, int *signo, int64_t deadline_ns)
    ifr_status ifr_sigsub_poll(ifr_sigsub *sub, int *signo)
    size_t ifr_sigsub_pending(ifr_sigsub *sub)
    int ifr_sigsub_is_closed(ifr_sigsub *sub)
    int ifr_sigbridge_subscribers(int signo)

    void ifr_after_fork_child()
