/*
 * internal.h — what the core's .c files share and nothing else sees:
 * the platform layer (mutex, CPU relax), the spin policy, and the wait
 * queue that events, mailboxes and procs are built on.
 *
 * The wait queue (ifr_waitq) couples one 32-bit word with two kinds of
 * waiter:
 *   - single waiters (ifr_event_wait, ifr_mailbox_get, ifr_proc_wait)
 *     park on `word` itself and are counted in `nwait`;
 *   - selectors (ifr_select) register an ifr_node holding a pointer to
 *     their own park word in the intrusive list, counted in `nnodes`.
 * Invariant (Dekker): a changer first changes the state and the word
 * (seq_cst), then reads nwait/nnodes (seq_cst); a waiter first increments
 * nwait/nnodes (seq_cst), then re-checks the state. So either the waiter
 * sees the new state or the changer sees the waiter: no lost wake-up.
 */
#ifndef IFR_INTERNAL_H
#define IFR_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "ifr.h"

/* The park backend, when the build did not choose one (see park.c). */
#if !defined(IFR_PARK_FUTEX) && !defined(IFR_PARK_CONDVAR) && !defined(IFR_PARK_WAITONADDRESS)
#if defined(_WIN32)
#define IFR_PARK_WAITONADDRESS 1
#elif defined(__linux__)
#define IFR_PARK_FUTEX 1
#else
#define IFR_PARK_CONDVAR 1
#endif
#endif

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
typedef SRWLOCK ifr_mutex;
#define ifr_mutex_init(m) InitializeSRWLock(m)
#define ifr_mutex_destroy(m) ((void)(m))
#define ifr_mutex_lock(m) AcquireSRWLockExclusive(m)
#define ifr_mutex_unlock(m) ReleaseSRWLockExclusive(m)
#else
#include <pthread.h>
typedef pthread_mutex_t ifr_mutex;
#define ifr_mutex_init(m) pthread_mutex_init((m), NULL)
#define ifr_mutex_destroy(m) pthread_mutex_destroy(m)
/* ifr_mutex_lock (below) spins briefly before it blocks. */
#define ifr_mutex_unlock(m) pthread_mutex_unlock(m)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define IFR_LIKELY(x) __builtin_expect(!!(x), 1)
#define IFR_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define IFR_LIKELY(x) (x)
#define IFR_UNLIKELY(x) (x)
#endif

/* One pause instruction: tells the CPU we are spinning. */
static inline void ifr_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield" ::: "memory");
#elif defined(_MSC_VER)
    YieldProcessor();
#endif
}

#ifndef _WIN32
/* Every critical section of the core is a few dozen instructions, so a
 * contended lock is almost always released within a microsecond: try again
 * for a while before blocking, as glibc's mutex would otherwise go straight
 * to a futex wait (and the unlocker to a futex wake). A waiter that spins
 * on a lock-free "not empty" hint and then takes the lock meets the writer
 * still inside its critical section all the time. (SRW locks on Windows
 * spin by themselves.) */
#define IFR_MUTEX_SPINS 200
static inline void ifr_mutex_lock(ifr_mutex *m) {
    for (int i = 0; i < IFR_MUTEX_SPINS; i++) {
        if (pthread_mutex_trylock(m) == 0) return;
        ifr_cpu_relax();
    }
    pthread_mutex_lock(m);
}
#endif

/* ---- spin policy (spin.c) ---- */

/* A condition polled while spinning: returns non-zero when it holds. */
typedef int (*ifr_cond_fn)(void *arg);

/* Kinds of spin, each with its own adaptive budget (spin.c). */
enum {
    IFR_SPIN_WAIT = 0,    /* blocking calls in general                        */
    IFR_SPIN_IDLE = 1,    /* an idle pool thread waiting for a job            */
    IFR_SPIN_BATON = 2,   /* a thread waiting for the GIL holder to let go    */
    IFR_SPIN_PREWAKE = 3, /* a thread woken early because news is coming      */
    IFR_SPIN_SIGNALS = 4, /* a runner waiting in its process's signal mailbox:
                           * often until shutdown, so it learns apart from
                           * WAIT (a group's waits for its members are short) */
    IFR_SPIN_POKED = 5,   /* a waiter poked because its news is coming        */
    IFR_SPIN_KINDS = 6
};

/* Poll cond(arg) for up to the current budget of `kind` (or `deadline_ns`,
 * if sooner), if a spinning slot is free. Returns non-zero as soon as cond
 * holds, 0 when the budget ran out (or no slot was free, or the kind's
 * budget is exhausted). Never parks. */
int ifr_spin_until(int kind, ifr_cond_fn cond, void *arg, int64_t deadline_ns);

/* Reset spin/baton counters in a forked child. */
void ifr__spin_after_fork(void);
/* Pre-wake the idle worker this thread's last submit marked (pool.c). */
void ifr__pool_flush_prewake(void);
/* Reset the GIL admission queue in a forked child (admit.c). */
void ifr__admit_after_fork(void);
void ifr__park_after_fork(void);
void ifr__pool_after_fork(void);

/* ---- wait queue ---- */

typedef struct ifr_node {
    struct ifr_node *prev, *next;
    ifr_word *word; /* the selector's park word */
} ifr_node;

typedef struct ifr_waitq {
    ifr_word word;         /* state or sequence word; single waiters park here */
    atomic_uint nwait;     /* single waiters parked or about to park           */
    atomic_uint nnodes;    /* selector nodes registered                        */
    atomic_uint pokes;     /* bumped by each poke: "spin, news is coming"      */
    int spin_kind;         /* IFR_SPIN_WAIT, or IFR_SPIN_SIGNALS               */
    ifr_mutex nlock;       /* protects the node list                           */
    ifr_node head;         /* sentinel of the circular node list               */
} ifr_waitq;

void ifr_waitq_init(ifr_waitq *q, uint32_t word);
void ifr_waitq_destroy(ifr_waitq *q);
/* Wake single waiters and selectors after the word/state changed. */
void ifr_waitq_notify(ifr_waitq *q);
/* Register / unregister a selector node. */
void ifr_waitq_add(ifr_waitq *q, ifr_node *n, ifr_word *selword);
void ifr_waitq_remove(ifr_waitq *q, ifr_node *n);
/* Wake single waiters without changing the word: each one woken by it
 * spins once more (IFR_SPIN_POKED budget) before parking again. A hint,
 * see ifr_mailbox_poke in ifr.h. */
void ifr_waitq_poke(ifr_waitq *q);

/* Block until try_fn(arg) returns something other than IFR_EMPTY (that value
 * is returned), or the deadline passes (IFR_TIMEOUT) or the OS wait is
 * interrupted (IFR_INTERRUPTED). try_fn is re-run after every wake-up and
 * must be cheap when it fails. Spins first. */
typedef ifr_status (*ifr_try_fn)(void *arg);
ifr_status ifr_waitq_wait(ifr_waitq *q, ifr_try_fn try_fn, void *arg,
                          int64_t deadline_ns);

/* Internal accessors used by select.c. */
/* Mark a mailbox as a process's signal mailbox (its waits spin as
 * IFR_SPIN_SIGNALS). Before it is shared. */
void ifr__mailbox_set_signals(ifr_mailbox *mb);
ifr_waitq *ifr__event_q(ifr_event *ev);
ifr_waitq *ifr__mailbox_q(ifr_mailbox *mb);
ifr_waitq *ifr__proc_q(ifr_proc *p);
ifr_status ifr__mailbox_try_take(ifr_mailbox *mb, void **item);
void ifr__mailbox_dispose(ifr_mailbox *mb, void *item);
ifr_waitq *ifr__sigsub_q(ifr_sigsub *sub);
/* IFR_OK (one signal taken into *signo), IFR_EMPTY, or IFR_CLOSED. */
ifr_status ifr__sigsub_try_take(ifr_sigsub *sub, int *signo);
/* Reset the sigbridge in a forked child (sigbridge.c). */
void ifr__sigbridge_after_fork(void);

#endif /* IFR_INTERNAL_H */
