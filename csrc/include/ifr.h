/*
 * ifr.h — the pyifrit C core: a small synchronization kernel.
 *
 * This header is the specification of the core. It knows nothing about
 * Python: it moves opaque pointers and integers, parks and wakes threads,
 * and starts threads. Policy (groups, restarts, shutdown order) lives above
 * it, in Python.
 *
 * Conventions
 * -----------
 * - Every name is prefixed `ifr_`; objects are opaque handles.
 * - Functions that can fail return an `ifr_status`: IFR_OK (0) or a negative
 *   code below.
 * - Time is int64 nanoseconds on the monotonic clock (`ifr_now_ns`).
 *   Blocking calls take an absolute DEADLINE (`deadline_ns`); a negative
 *   deadline means "wait forever". `ifr_deadline(timeout_ns)` converts a
 *   relative timeout (negative: forever) into a deadline.
 * - Every blocking call may return IFR_INTERRUPTED when the underlying OS
 *   wait was interrupted by a signal (Linux futex: EINTR). Callers that run
 *   signal handlers (the Python binding) handle them and call again with the
 *   same deadline. Spurious early returns are never reported as IFR_OK unless
 *   the condition holds.
 * - Blocking calls first spin briefly (see `ifr_set_spin_ns`) and only then
 *   park the thread in the kernel: a hand-off between two running threads
 *   then costs a cache-line transfer instead of a futex wake.
 * - Unless a function says otherwise it is thread-safe: any thread may call
 *   it at any time on a live handle. No function is async-signal-safe unless
 *   it says so.
 * - Reference counts: objects made by `*_new` start with one reference owned
 *   by the caller; `*_release` drops one and frees at zero.
 */
#ifndef IFR_H
#define IFR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

typedef enum ifr_status {
    IFR_OK = 0,
    IFR_TIMEOUT = -1,     /* the deadline passed before the condition held   */
    IFR_INTERRUPTED = -2, /* the OS wait was interrupted (EINTR): call again */
    IFR_CLOSED = -3,      /* the mailbox is closed (and, for gets, empty)    */
    IFR_NOMEM = -4,       /* an allocation failed; nothing was changed       */
    IFR_EMPTY = -5,       /* a non-blocking take found nothing               */
    IFR_INVALID = -6,     /* a bad argument (NULL handle, n == 0, ...)       */
    IFR_OSERROR = -7      /* the OS refused (thread creation, ...)           */
} ifr_status;

/* A static, human-readable name for a status ("timeout", ...). Never NULL. */
const char *ifr_strstatus(int status);

/* Item disposer: called on an item the core has to drop (a mailbox freed
 * with items in it, a subscription tag that can never be delivered). It may
 * be called from any thread that drops the last reference. */
typedef void (*ifr_dispose_fn)(void *item);

/* ------------------------------------------------------------------------ */
/* Time                                                                      */
/* ------------------------------------------------------------------------ */

/* Monotonic clock in nanoseconds. Never blocks. Async-signal-safe. */
int64_t ifr_now_ns(void);

/* Absolute deadline `timeout_ns` from now; a negative timeout gives -1
 * (forever). Saturates instead of overflowing. Never blocks. */
int64_t ifr_deadline(int64_t timeout_ns);

/* ------------------------------------------------------------------------ */
/* Park: wait and wake on a 32-bit word                                      */
/* ------------------------------------------------------------------------ */

/* The word type every park call works on. */
typedef _Atomic uint32_t ifr_word;

/* Block while *word == expected, until woken, the deadline passes, or the
 * OS interrupts the wait. Returns IFR_OK when woken or when *word already
 * differed (the caller re-checks its condition: wake-ups may be spurious),
 * IFR_TIMEOUT, or IFR_INTERRUPTED. Does not spin. Any thread. */
ifr_status ifr_park(ifr_word *word, uint32_t expected, int64_t deadline_ns);

/* Wake up to `n` threads parked on `word` (n <= 0 or IFR_ALL: all). Store the
 * new value of the word (atomically) before calling. Never blocks for long
 * (the condvar backend takes a bucket lock). Any thread. */
#define IFR_ALL 0
void ifr_unpark(ifr_word *word, int n);

/* The park backend this library was built with: "futex", "condvar" or
 * "waitonaddress". Static string. */
const char *ifr_park_backend(void);

/* Spin budget: how long a blocking call polls its condition before it
 * parks (default 50 us; 0 disables spinning). At most ncpu - 1 threads spin
 * at once; others park at once. Any thread; takes effect for later waits. */
void ifr_set_spin_ns(int64_t ns);
int64_t ifr_get_spin_ns(void);

/* Number of online CPUs (at least 1), read once. */
int ifr_ncpu(void);

/* ------------------------------------------------------------------------ */
/* Baton: a hint for handing an external lock (the GIL) between threads      */
/* ------------------------------------------------------------------------ */
/*
 * A thread that is about to run code under an external lock (the Python
 * GIL) calls ifr_baton_take(); right after releasing that lock it calls
 * ifr_baton_drop(). A thread whose wait has just succeeded and that now
 * needs the lock calls ifr_baton_await(max_ns) first: it spins, without
 * syscalls, until no thread holds the baton, or until the smaller of max_ns
 * and the baton's adaptive spin budget (at most ifr_get_spin_ns(); shrunk
 * after awaits that ran out, regrown after ones that succeeded) passes; it
 * does not spin at all when ncpu - 1 threads spin already. Taking the lock
 * after that usually finds it free, so the hand-off costs no kernel wake-up.
 * It is only a hint: holders that release the lock through other paths
 * (a Python thread in time.sleep) cost one await that runs out; the holder
 * count seen then is treated as stale, and awaits return at once until the
 * count changes. Each thread is counted at most once (thread-local). Never
 * blocks beyond max_ns. Any thread.
 */
void ifr_baton_take(void);
void ifr_baton_drop(void);
void ifr_baton_await(int64_t max_ns);

/*
 * Admission to the external lock: few threads at a time go for it. A
 * thread about to take the lock calls ifr_admit_enter() (lock not held),
 * which returns once it is admitted: at once if an admission is free, else
 * in FIFO order, when an admitted thread calls ifr_admit_leave() right
 * after it got the lock. Waiting threads park without timeouts,
 * except the first, which is woken early to spin for its turn and goes in
 * anyway after 20 ms. Per thread: a second enter before leave, or a leave
 * without enter, does nothing. Any thread.
 */
void ifr_admit_enter(void);
void ifr_admit_leave(void);
/* How long the first waiter waits for its turn before it goes in anyway
 * (default 20 ms, a few GIL switch intervals), and how many threads may be
 * admitted at once at most (1..64, default 64): one while hand-offs are
 * quick; doubled each time an admitted thread needed 1 ms or more to get
 * the lock (held by a thread outside this protocol, a busy Python thread
 * say: then only a few of ours would get it per switch interval if one of
 * them at a time waited for it), one less after each quick acquisition. */
void ifr_admit_tune(int64_t head_timeout_ns, unsigned max_admitted);

/* ------------------------------------------------------------------------ */
/* Event: a settable flag                                                    */
/* ------------------------------------------------------------------------ */

typedef struct ifr_event ifr_event;

/* A new, unset event, or NULL when out of memory. */
ifr_event *ifr_event_new(void);
void ifr_event_retain(ifr_event *ev);
void ifr_event_release(ifr_event *ev);

/* Set the flag and wake every waiter (single waits and selects). Idempotent.
 * Never blocks for long. The event is still touched after waiters are
 * woken: the caller must hold its own reference across the call (a waiter
 * that releases the last reference on waking would free it under us). */
void ifr_event_set(ifr_event *ev);
/* 1 if set, else 0. Never blocks. */
int ifr_event_is_set(const ifr_event *ev);
/* Block until set: IFR_OK, IFR_TIMEOUT or IFR_INTERRUPTED. */
ifr_status ifr_event_wait(ifr_event *ev, int64_t deadline_ns);

/* ------------------------------------------------------------------------ */
/* Mailbox: an unbounded FIFO of opaque items, with close                    */
/* ------------------------------------------------------------------------ */

typedef struct ifr_mailbox ifr_mailbox;

/* A new, open, empty mailbox. `dispose` (may be NULL) is called on items
 * still inside when the last reference is released, and by the core on
 * undeliverable subscription tags (see ifr_proc_subscribe). NULL when out
 * of memory. */
ifr_mailbox *ifr_mailbox_new(ifr_dispose_fn dispose);
void ifr_mailbox_retain(ifr_mailbox *mb);
void ifr_mailbox_release(ifr_mailbox *mb);

/* Append `item` (any value, NULL included). Never blocks for long.
 * IFR_OK: the item is in the mailbox, which owns it from now on.
 * IFR_CLOSED: the mailbox is closed; the caller still owns the item.
 * IFR_NOMEM: out of memory; the caller still owns the item. */
ifr_status ifr_mailbox_put(ifr_mailbox *mb, void *item);

/* Take the oldest item into *item (ownership passes to the caller).
 * Blocks until there is one. IFR_OK, IFR_CLOSED (closed and empty),
 * IFR_TIMEOUT, IFR_INTERRUPTED. */
ifr_status ifr_mailbox_get(ifr_mailbox *mb, void **item, int64_t deadline_ns);

/* Non-blocking take: IFR_OK, IFR_EMPTY, or IFR_CLOSED (closed and empty). */
ifr_status ifr_mailbox_poll(ifr_mailbox *mb, void **item);

/* Items currently inside. Never blocks for long. */
size_t ifr_mailbox_len(ifr_mailbox *mb);

/* Close: later puts fail with IFR_CLOSED; items inside can still be taken;
 * then gets return IFR_CLOSED. Wakes every waiter. Idempotent. */
void ifr_mailbox_close(ifr_mailbox *mb);
int ifr_mailbox_is_closed(ifr_mailbox *mb);

/* A sequence number that changes (increments, wrapping at 2^32) on every
 * successful put and on close. Two equal readings with no put or close in
 * between: a caller can tell whether anything was put into the mailbox
 * during an interval (ifrit.restart uses it to know whether a process was
 * signaled while it ran a runner). Never blocks. */
uint32_t ifr_mailbox_seq(ifr_mailbox *mb);
/* A hint that an item will be put soon: wake the threads parked in
 * ifr_mailbox_get so that their kernel wake-up latency overlaps the time
 * until the put; they spin a while for it, then park again. Changes nothing
 * else (not the sequence number); never needed for correctness. */
void ifr_mailbox_poke(ifr_mailbox *mb);
/* The same poke, done later by this thread: at its next
 * ifr_flush_deferred(), which every blocking call of the core does before
 * it waits (the binding releases the GIL first, so the system call does
 * not delay a thread waiting for the GIL). One pending poke per thread: a
 * second call does the first one at once. Holds a reference to the mailbox
 * until then. */
void ifr_mailbox_poke_deferred(ifr_mailbox *mb);
/* Do this thread's deferred wake-ups now: a pending mailbox poke, and the
 * pre-wake of the idle pool thread its last ifr_pool_submit marked. Called
 * by the core's blocking calls before they wait; call it when a thread
 * that submitted or poked will not block for a while (or exits). */
void ifr_flush_deferred(void);

/* Close and remove every remaining item, handing each to `fn(item, ctx)` in
 * FIFO order after the mailbox lock is released (with fn NULL: to the
 * mailbox's dispose function, if any). Used when a process exits: its
 * pending signals are discarded. */
void ifr_mailbox_close_drain(ifr_mailbox *mb, void (*fn)(void *item, void *ctx),
                             void *ctx);

/* ------------------------------------------------------------------------ */
/* Proc: the state of one process                                            */
/* ------------------------------------------------------------------------ */
/*
 * State machine (bits of one state word, only ever added):
 *   NEW (0) -> RUNNING -> [READY] -> EXITED
 * READY is set at most once and never after EXITED. EXITED is set exactly
 * once. The signal mailbox is open until EXITED, then closed and drained.
 */

typedef struct ifr_proc ifr_proc;

#define IFR_PROC_RUNNING 1u
#define IFR_PROC_READY 2u
#define IFR_PROC_EXITED 4u

/* A new proc in state NEW with an empty, open signal mailbox.
 * `payload_dispose` (may be NULL) is called on the exit payload when the
 * proc is freed. NULL when out of memory. */
ifr_proc *ifr_proc_new(ifr_dispose_fn payload_dispose);
void ifr_proc_retain(ifr_proc *p);
void ifr_proc_release(ifr_proc *p);

/* Current state bits. Never blocks. An acquire load: after seeing EXITED,
 * the payload set by ifr_proc_exit is visible. */
uint32_t ifr_proc_state(const ifr_proc *p);

/* NEW -> RUNNING. Returns 1 if this call did it, else 0. Never blocks. */
int ifr_proc_start(ifr_proc *p);

/* Mark ready. Returns 1 if this call made the proc ready, 0 when it was
 * already ready or has exited. Wakes waiters; pushes the ready tag of every
 * subscription. Any thread. Never blocks for long. */
int ifr_proc_ready(ifr_proc *p);

/* Mark exited with `payload` (opaque, owned by the proc from now on).
 * Closes the signal mailbox and drops its pending signals, wakes waiters,
 * pushes the exit tag of every subscription and disposes of ready tags that
 * can no longer fire. Returns 1 if this call did it; 0 if the proc had
 * already exited (the payload is then NOT taken: the caller keeps it). */
int ifr_proc_exit(ifr_proc *p, void *payload);

/* The exit payload (NULL before exit). Borrowed: valid while the proc is. */
void *ifr_proc_payload(const ifr_proc *p);

/* Block until (state & mask) != 0: IFR_OK, IFR_TIMEOUT, IFR_INTERRUPTED.
 * mask = IFR_PROC_READY|IFR_PROC_EXITED waits for "ready or exited". */
ifr_status ifr_proc_wait(ifr_proc *p, uint32_t mask, int64_t deadline_ns);

/* Queue signal `sig` (any int) for the process: IFR_OK, or IFR_CLOSED when
 * it has exited (the signal is dropped). Never blocks for long. */
ifr_status ifr_proc_signal(ifr_proc *p, int sig);

/* The proc's signal mailbox (borrowed; items are signals stored as
 * (void *)(intptr_t)sig). Valid while the proc is. */
ifr_mailbox *ifr_proc_signals(ifr_proc *p);

/* Subscribe `mb` to this proc's events: when the proc becomes ready,
 * `ready_tag` is put into `mb`; when it exits, `exit_tag` is. Either tag
 * may be NULL for "not interested". Each tag is delivered at most once and
 * the mailbox owns it after delivery. An event that already happened is
 * delivered at once (so subscribing after ready still yields the ready
 * tag, in the order ready-before-exit). A tag that can never be delivered
 * (ready after an exit without ready, the mailbox closed, the proc freed
 * first) is passed to mb's dispose function. The proc holds a reference
 * to `mb` until both tags are settled. IFR_OK or IFR_NOMEM (nothing
 * subscribed, tags still owned by the caller). O(1). */
ifr_status ifr_proc_subscribe(ifr_proc *p, ifr_mailbox *mb, void *ready_tag,
                              void *exit_tag);

/* ------------------------------------------------------------------------ */
/* Select: wait for the first of k waitables                                 */
/* ------------------------------------------------------------------------ */

typedef enum ifr_wkind {
    IFR_W_EVENT = 1,      /* obj: ifr_event*;  fires when set              */
    IFR_W_MAILBOX = 2,    /* obj: ifr_mailbox*; fires with an item or closed */
    IFR_W_PROC_READY = 3, /* obj: ifr_proc*;   fires when ready             */
    IFR_W_PROC_EXIT = 4,  /* obj: ifr_proc*;   fires when exited            */
    IFR_W_SIGSUB = 5      /* obj: ifr_sigsub*; takes one pending OS signal:
                           * item = (void *)(intptr_t)signo; closed = 1 when
                           * the subscriber is closed with none pending     */
} ifr_wkind;

typedef struct ifr_waitable {
    int kind; /* an ifr_wkind */
    void *obj;
} ifr_waitable;

typedef struct ifr_selected {
    size_t index; /* which waitable fired (lowest index among those ready) */
    void *item;   /* IFR_W_MAILBOX: the item taken (caller owns it)       */
    int closed;   /* IFR_W_MAILBOX/SIGSUB: 1 if it fired because closed and empty */
} ifr_selected;

/* Block until at least one waitable fires; report the lowest-index one in
 * *out. A mailbox or sigsub that fires has its item taken (only that one). IFR_OK,
 * IFR_TIMEOUT, IFR_INTERRUPTED, IFR_INVALID (n == 0, unknown kind, NULL
 * obj), IFR_NOMEM. Waitables may repeat. Any thread. */
ifr_status ifr_select(const ifr_waitable *ws, size_t n, int64_t deadline_ns,
                      ifr_selected *out);

/* ------------------------------------------------------------------------ */
/* Threads and the thread pool                                               */
/* ------------------------------------------------------------------------ */

typedef void (*ifr_thread_fn)(void *arg);

/* Start a detached OS thread running fn(arg). `name` (may be NULL) becomes
 * the OS thread name where supported (truncated to the OS limit);
 * stack_size 0 means the platform default. On POSIX the new thread starts
 * with the asynchronous signals SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
 * SIGUSR2, SIGALRM, SIGCHLD and SIGWINCH blocked, so the kernel delivers
 * such signals sent to the OS process to the program's own threads (the
 * main thread), whose blocking waits they interrupt at once.
 * IFR_OK, IFR_OSERROR, IFR_NOMEM. */
ifr_status ifr_thread_start(ifr_thread_fn fn, void *arg, const char *name,
                            size_t stack_size);

/* Best-effort: name the calling thread (truncated to the OS limit). */
void ifr_thread_set_name(const char *name);

/*
 * The pool: process threads are reused. A finished job's thread stays idle
 * (spinning briefly, then parked) for up to idle_timeout and takes the next
 * job handed to the pool; with no idle thread, submitting starts a new one.
 */
typedef struct ifr_pool_config {
    size_t stack_size;       /* new threads' stack size; 0 = OS default      */
    unsigned max_idle;       /* idle threads kept at most (default UINT_MAX: */
                             /* no limit; idle_timeout trims them)           */
    int64_t idle_timeout_ns; /* an idle thread exits after this (default 30 s) */
    /* Linux >= 6.16 gives a process a private futex hash sized by its CPU
     * count (16 buckets on 2 CPUs) and a futex wake walks a whole bucket, so
     * with thousands of parked threads every wake-up costs O(threads).
     * Non-zero (default): grow that hash with the pool (2 buckets per pool
     * thread, checked when the thread count reaches a power of two >= 64).
     * Never shrinks it; leaves the global hash, or a larger one, alone. */
    int grow_futex_hash;
    /* Called on each pool thread when it starts and right before it exits
     * (the binding attaches and detaches a Python thread state). NULL: none. */
    void (*on_thread_start)(void);
    void (*on_thread_exit)(void);
} ifr_pool_config;

/* Replace the pool configuration (threads already running keep their stack
 * size and hooks). Call before the first submit to set hooks. Any thread. */
void ifr_pool_configure(const ifr_pool_config *cfg);
/* The current configuration. */
void ifr_pool_get_config(ifr_pool_config *cfg);

/* Run fn(arg) on a pool thread named `name` (copied; may be NULL). Never
 * blocks for long. IFR_OK, or IFR_OSERROR / IFR_NOMEM when no thread could
 * be started (then fn is not run and arg is still the caller's). */
ifr_status ifr_pool_submit(ifr_thread_fn fn, void *arg, const char *name);

/* Live pool threads, and how many of them are idle. Never blocks for long. */
void ifr_pool_stats(unsigned *threads, unsigned *idle);

/* Ask every idle thread to exit now and wait up to the deadline until none
 * is left idle: IFR_OK or IFR_TIMEOUT. Busy threads are not touched. */
ifr_status ifr_pool_trim(int64_t deadline_ns);

/* ------------------------------------------------------------------------ */
/* Sigbridge: OS signals delivered to subscribers                            */
/* ------------------------------------------------------------------------ */
/*
 * The sigbridge is the only code of the core that runs inside a signal
 * handler. A subscriber (`ifr_sigsub`) asks for some OS signals; while at
 * least one subscriber wants signal S, the core's handler is installed for S
 * (sigaction, SA_ONSTACK, no SA_RESTART, nothing extra blocked) and every
 * delivery of S is counted for EVERY subscriber of S. When the last
 * subscriber of S leaves, the exact `struct sigaction` that was in place
 * before the first one came is restored (Python's own SIGINT handler
 * included). Subscribed signals are not passed on to the previous handler.
 *
 * The handler is async-signal-safe: it only does atomic increments, a raw
 * futex wake (futex backend) and a one-byte write to a non-blocking pipe. It
 * never allocates, locks, or touches Python. Wake-ups that need a lock (the
 * condvar backend, and any thread blocked in ifr_select on a subscriber) are
 * done by a dispatcher thread the core starts on the first subscription and
 * keeps for the life of the process (it blocks every signal and waits in
 * read(2) on the pipe).
 *
 * Counting: each subscriber keeps one pending counter per signal; each
 * delivery adds one, each take removes one. Nothing the handler saw is ever
 * lost. The only coalescing is the kernel's: a standard signal sent again
 * while it is still pending (not yet handled) is delivered once.
 * Takes return the pending signal with the LOWEST number first (there is no
 * order between different signals).
 *
 * Windows (best effort): SIGINT and SIGTERM only, through signal(); the
 * handler re-arms itself and wakes waiters directly.
 */

typedef struct ifr_sigsub ifr_sigsub;

/* Largest signal number + 1 the sigbridge handles (1 .. IFR_SIG_MAX-1). */
#define IFR_SIG_MAX 65
/* At most this many subscribers per signal at once. */
#define IFR_SIGSUB_SLOTS 64

/* A new subscriber with no signals. NULL when out of memory. Any thread;
 * never blocks for long. */
ifr_sigsub *ifr_sigsub_new(void);

/* Unsubscribe (as ifr_sigsub_close) and free. No thread may be waiting or
 * selecting on `sub`, and none may use it afterwards. NULL is a no-op. */
void ifr_sigsub_free(ifr_sigsub *sub);

/* Subscribe `sub` to OS signal `signo`. On return the handler is installed
 * and every later delivery of `signo` is counted for `sub`. Subscribing
 * twice to one signal is a no-op. The first subscriber of a signal saves
 * the signal's current sigaction for the restore.
 * IFR_OK; IFR_INVALID (signo out of 1..IFR_SIG_MAX-1, SIGKILL, SIGSTOP, or a
 * signal the OS refuses; Windows: anything but SIGINT/SIGTERM); IFR_CLOSED
 * (sub was closed); IFR_NOMEM (IFR_SIGSUB_SLOTS subscribers already have
 * this signal); IFR_OSERROR (the dispatcher pipe or thread could not be
 * made). Never blocks for long (takes the sigbridge lock). Any thread; not
 * async-signal-safe. */
ifr_status ifr_sigsub_add(ifr_sigsub *sub, int signo);

/* Unsubscribe from every signal; restore a signal's previous sigaction when
 * `sub` was its last subscriber. Signals already counted stay pending and can
 * still be taken; once none is left, takes return IFR_CLOSED. Wakes waiters.
 * Idempotent. Waits (spinning) for handler invocations that are reading the
 * subscriber on other threads to finish, which takes a few instructions.
 * Any thread; not async-signal-safe. */
void ifr_sigsub_close(ifr_sigsub *sub);

/* Take one pending signal into *signo (lowest number first). Blocks until
 * one is pending. IFR_OK, IFR_CLOSED (closed and nothing pending),
 * IFR_TIMEOUT, IFR_INTERRUPTED. Any thread. */
ifr_status ifr_sigsub_wait(ifr_sigsub *sub, int *signo, int64_t deadline_ns);

/* Non-blocking take: IFR_OK, IFR_EMPTY, or IFR_CLOSED (closed, none left). */
ifr_status ifr_sigsub_poll(ifr_sigsub *sub, int *signo);

/* Total number of pending (counted, not yet taken) signals. Never blocks. */
size_t ifr_sigsub_pending(ifr_sigsub *sub);

/* 1 once ifr_sigsub_close was called. Never blocks. */
int ifr_sigsub_is_closed(ifr_sigsub *sub);

/* Number of subscribers of `signo` (0 when out of range). Takes the lock
 * briefly. For tests and diagnostics. */
int ifr_sigbridge_subscribers(int signo);

/* ------------------------------------------------------------------------ */
/* Fork                                                                      */
/* ------------------------------------------------------------------------ */

/* Call in the child right after fork(), before any other ifr_ call: resets
 * the pool (its threads do not exist in the child) and re-initialises the
 * core's global locks. The sigbridge drops every subscription inherited
 * from the parent: each signal's saved sigaction is restored and every
 * ifr_sigsub becomes closed (its pending signals can still be taken); new
 * subscriptions in the child work as usual (with a new dispatcher). Handles made before the fork must not be waited on
 * in the child. Only the single thread of the child may run meanwhile. */
void ifr_after_fork_child(void);

#ifdef __cplusplus
}
#endif

#endif /* IFR_H */
