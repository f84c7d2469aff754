/*
 * sigbridge.c — OS signals delivered to subscribers (see ifr.h).
 *
 * Owns: the per-signal subscriber table, the saved previous sigactions, the
 * registry of live subscribers, the dispatcher pipe and thread.
 *
 * The handler is the only code of the core that runs in signal context. It
 * walks table[signo], a fixed row of IFR_SIGSUB_SLOTS slots, each an atomic
 * subscriber pointer plus an in-flight counter. For each slot it increments
 * `inflight`, loads the pointer, delivers if non-NULL, decrements. A remover
 * (under `reg_lock`, from a normal thread) stores NULL and then spins until
 * `inflight` is 0. With seq_cst ordering either the handler sees NULL or the
 * remover sees its in-flight mark, so a subscriber is never touched after
 * ifr_sigsub_close returns. (A handler that interrupts the remover's own
 * thread runs to completion before the remover resumes: no deadlock.)
 *
 * Delivery: pending[signo]++, then the subscriber's waitq word++, then
 *   - futex backend: a raw FUTEX_WAKE for single waiters (async-signal-safe);
 *   - waiters that need a lock to be woken (condvar backend: all of them;
 *     futex: selectors, whose nodes sit in a mutex-protected list) are woken
 *     by the dispatcher thread: the handler marks the subscriber `dirty` and,
 *     if no kick is outstanding (`kicked` 0 -> 1), writes one byte to a
 *     non-blocking pipe. The dispatcher reads, clears `kicked`, then, under
 *     `reg_lock`, notifies every dirty subscriber. Clearing `kicked` before
 *     scanning means a delivery that the scan misses writes a new byte.
 * Invariants: `nsubs[s]` (under reg_lock) counts the non-NULL slots of row s;
 * the handler is installed for s exactly while nsubs[s] > 0, and prev[s]
 * holds the sigaction it replaced.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

struct ifr_sigsub {
    ifr_waitq q;                          /* word: bumped on every delivery  */
    _Atomic uint32_t pending[IFR_SIG_MAX]; /* deliveries not yet taken       */
    _Atomic uint64_t scan;                /* bit s-1: ever subscribed to s   */
    uint64_t mask;                        /* bit s-1: subscribed now (lock)  */
    atomic_int dirty;                     /* dispatcher must notify q        */
    atomic_int closed;
    struct ifr_sigsub *rnext, *rprev;     /* registry list (reg_lock)        */
};

typedef struct {
    _Atomic(ifr_sigsub *) sub;
    atomic_uint inflight;
} slot_t;

static slot_t table[IFR_SIG_MAX][IFR_SIGSUB_SLOTS];
static int nsubs[IFR_SIG_MAX];
static ifr_sigsub registry = {.rnext = &registry, .rprev = &registry};

#ifdef _WIN32
static ifr_mutex reg_lock = SRWLOCK_INIT;
typedef void (*old_handler_t)(int);
static old_handler_t prev[IFR_SIG_MAX];
#else
static ifr_mutex reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction prev[IFR_SIG_MAX];
static atomic_int pipe_w = -1;
static int pipe_r = -1;      /* reg_lock; read by the dispatcher it was made for */
static atomic_int kicked;
static int dispatcher_started; /* reg_lock */
#endif

static inline uint64_t sigbit(int signo) { return (uint64_t)1 << (unsigned)(signo - 1); }

/* ---- signal context ---------------------------------------------------- */

#if !defined(_WIN32)
static void kick(ifr_sigsub *s) {
    atomic_store(&s->dirty, 1);
    if (!atomic_exchange(&kicked, 1)) {
        int fd = atomic_load(&pipe_w);
        if (fd >= 0) {
            ssize_t r = write(fd, "k", 1);
            (void)r; /* EAGAIN: a byte is already there, the dispatcher wakes anyway */
        }
    }
}
#endif

static void deliver(ifr_sigsub *s, int signo) {
    atomic_fetch_add(&s->pending[signo], 1);
    atomic_fetch_add(&s->q.word, 1);
#if defined(_WIN32)
    ifr_waitq_notify(&s->q); /* best effort: Windows runs SIGINT on its own thread */
#elif defined(IFR_PARK_FUTEX)
    if (atomic_load(&s->q.nwait)) ifr_unpark(&s->q.word, IFR_ALL); /* raw futex wake */
    if (atomic_load(&s->q.nnodes)) kick(s);
#else
    kick(s);
#endif
}

static void handler(int signo) {
    int saved_errno = errno;
#ifdef _WIN32
    signal(signo, handler); /* Windows resets to SIG_DFL before calling us */
#endif
    if (signo > 0 && signo < IFR_SIG_MAX) {
        slot_t *row = table[signo];
        for (int i = 0; i < IFR_SIGSUB_SLOTS; i++) {
            if (!atomic_load_explicit(&row[i].sub, memory_order_relaxed)) continue;
            atomic_fetch_add(&row[i].inflight, 1);
            ifr_sigsub *s = atomic_load(&row[i].sub);
            if (s) deliver(s, signo);
            atomic_fetch_sub(&row[i].inflight, 1);
        }
    }
    errno = saved_errno;
}

/* ---- dispatcher (POSIX) ------------------------------------------------ */

#if !defined(_WIN32)
static void dispatch_main(void *arg) {
    int fd = (int)(intptr_t)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    char buf[64];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return; /* the pipe is gone (never in practice) */
        atomic_store(&kicked, 0);
        ifr_mutex_lock(&reg_lock);
        for (ifr_sigsub *s = registry.rnext; s != &registry; s = s->rnext)
            if (atomic_load(&s->dirty) && atomic_exchange(&s->dirty, 0)) ifr_waitq_notify(&s->q);
        ifr_mutex_unlock(&reg_lock);
    }
}

/* Under reg_lock. */
static ifr_status ensure_dispatcher(void) {
    if (dispatcher_started) return IFR_OK;
    int fds[2];
    if (pipe(fds) != 0) return IFR_OSERROR;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    int fl = fcntl(fds[1], F_GETFL);
    if (fl < 0 || fcntl(fds[1], F_SETFL, fl | O_NONBLOCK) != 0) {
        close(fds[0]);
        close(fds[1]);
        return IFR_OSERROR;
    }
    if (ifr_thread_start(dispatch_main, (void *)(intptr_t)fds[0], "ifr-sigbridge", 0) != IFR_OK) {
        close(fds[0]);
        close(fds[1]);
        return IFR_OSERROR;
    }
    pipe_r = fds[0];
    atomic_store(&pipe_w, fds[1]);
    atomic_store(&kicked, 0);
    dispatcher_started = 1;
    return IFR_OK;
}
#endif

/* ---- installing and restoring handlers (under reg_lock) ---------------- */

static ifr_status install(int signo) {
#ifdef _WIN32
    old_handler_t old = signal(signo, handler);
    if (old == SIG_ERR) return IFR_INVALID;
    prev[signo] = old;
    return IFR_OK;
#else
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_ONSTACK;
    if (sigaction(signo, &sa, &prev[signo]) != 0) return errno == EINVAL ? IFR_INVALID : IFR_OSERROR;
    return IFR_OK;
#endif
}

static void restore(int signo) {
#ifdef _WIN32
    signal(signo, prev[signo]);
#else
    sigaction(signo, &prev[signo], NULL);
#endif
}

/* Empty a slot and wait until no handler is reading it. */
static void vacate(slot_t *slot) {
    atomic_store(&slot->sub, NULL);
    while (atomic_load(&slot->inflight)) ifr_cpu_relax();
}

/* ---- public API ------------------------------------------------------- */

ifr_sigsub *ifr_sigsub_new(void) {
    ifr_sigsub *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    ifr_waitq_init(&s->q, 0);
    for (int i = 0; i < IFR_SIG_MAX; i++) atomic_init(&s->pending[i], 0);
    atomic_init(&s->scan, 0);
    atomic_init(&s->dirty, 0);
    atomic_init(&s->closed, 0);
    ifr_mutex_lock(&reg_lock);
    s->rnext = &registry;
    s->rprev = registry.rprev;
    registry.rprev->rnext = s;
    registry.rprev = s;
    ifr_mutex_unlock(&reg_lock);
    return s;
}

ifr_status ifr_sigsub_add(ifr_sigsub *s, int signo) {
    if (!s || signo < 1 || signo >= IFR_SIG_MAX) return IFR_INVALID;
#ifdef _WIN32
    if (signo != SIGINT && signo != SIGTERM) return IFR_INVALID;
#else
    if (signo == SIGKILL || signo == SIGSTOP) return IFR_INVALID;
#endif
    ifr_status st = IFR_OK;
    ifr_mutex_lock(&reg_lock);
    if (atomic_load(&s->closed)) {
        st = IFR_CLOSED;
        goto out;
    }
    if (s->mask & sigbit(signo)) goto out;
#ifndef _WIN32
    if ((st = ensure_dispatcher()) != IFR_OK) goto out;
#endif
    slot_t *slot = NULL;
    for (int i = 0; i < IFR_SIGSUB_SLOTS && !slot; i++)
        if (!atomic_load(&table[signo][i].sub)) slot = &table[signo][i];
    if (!slot) {
        st = IFR_NOMEM;
        goto out;
    }
    atomic_fetch_or(&s->scan, sigbit(signo));
    atomic_store(&slot->sub, s); /* published before the handler can run for it */
    if (nsubs[signo] == 0 && (st = install(signo)) != IFR_OK) {
        vacate(slot);
        goto out;
    }
    nsubs[signo]++;
    s->mask |= sigbit(signo);
out:
    ifr_mutex_unlock(&reg_lock);
    return st;
}

/* Under reg_lock. */
static void unsubscribe_all(ifr_sigsub *s) {
    for (int signo = 1; signo < IFR_SIG_MAX; signo++) {
        if (!(s->mask & sigbit(signo))) continue;
        if (nsubs[signo] == 1) restore(signo);
        for (int i = 0; i < IFR_SIGSUB_SLOTS; i++)
            if (atomic_load(&table[signo][i].sub) == s) vacate(&table[signo][i]);
        nsubs[signo]--;
    }
    s->mask = 0;
}

void ifr_sigsub_close(ifr_sigsub *s) {
    if (!s) return;
    ifr_mutex_lock(&reg_lock);
    int was = atomic_exchange(&s->closed, 1);
    if (!was) unsubscribe_all(s);
    ifr_mutex_unlock(&reg_lock);
    if (!was) {
        atomic_fetch_add(&s->q.word, 1);
        ifr_waitq_notify(&s->q);
    }
}

void ifr_sigsub_free(ifr_sigsub *s) {
    if (!s) return;
    ifr_sigsub_close(s);
    ifr_mutex_lock(&reg_lock);
    s->rprev->rnext = s->rnext;
    s->rnext->rprev = s->rprev;
    ifr_mutex_unlock(&reg_lock);
    ifr_waitq_destroy(&s->q);
    free(s);
}

ifr_status ifr__sigsub_try_take(ifr_sigsub *s, int *signo) {
    uint64_t m = atomic_load(&s->scan);
    for (int sig = 1; m && sig < IFR_SIG_MAX; sig++) {
        if (!(m & sigbit(sig))) continue;
        m &= ~sigbit(sig);
        uint32_t v = atomic_load(&s->pending[sig]);
        while (v) {
            if (atomic_compare_exchange_weak(&s->pending[sig], &v, v - 1)) {
                *signo = sig;
                return IFR_OK;
            }
        }
    }
    if (atomic_load(&s->closed)) {
        /* re-check: a delivery may have raced the close */
        m = atomic_load(&s->scan);
        for (int sig = 1; sig < IFR_SIG_MAX; sig++)
            if ((m & sigbit(sig)) && atomic_load(&s->pending[sig])) return ifr__sigsub_try_take(s, signo);
        return IFR_CLOSED;
    }
    return IFR_EMPTY;
}

static ifr_status take_fn(void *p) {
    void **a = p;
    return ifr__sigsub_try_take((ifr_sigsub *)a[0], (int *)a[1]);
}

ifr_status ifr_sigsub_wait(ifr_sigsub *s, int *signo, int64_t deadline_ns) {
    if (!s || !signo) return IFR_INVALID;
    void *a[2] = {s, signo};
    return ifr_waitq_wait(&s->q, take_fn, a, deadline_ns);
}

ifr_status ifr_sigsub_poll(ifr_sigsub *s, int *signo) {
    if (!s || !signo) return IFR_INVALID;
    return ifr__sigsub_try_take(s, signo);
}

size_t ifr_sigsub_pending(ifr_sigsub *s) {
    size_t n = 0;
    uint64_t m = atomic_load(&s->scan);
    for (int sig = 1; sig < IFR_SIG_MAX; sig++)
        if (m & sigbit(sig)) n += atomic_load(&s->pending[sig]);
    return n;
}

int ifr_sigsub_is_closed(ifr_sigsub *s) { return atomic_load(&s->closed) != 0; }

int ifr_sigbridge_subscribers(int signo) {
    if (signo < 1 || signo >= IFR_SIG_MAX) return 0;
    ifr_mutex_lock(&reg_lock);
    int n = nsubs[signo];
    ifr_mutex_unlock(&reg_lock);
    return n;
}

ifr_waitq *ifr__sigsub_q(ifr_sigsub *s) { return &s->q; }

void ifr__sigbridge_after_fork(void) {
    /* The child keeps none of the parent's subscriptions: nobody in it would
     * act on them (their threads are gone), and a forked worker must react
     * to SIGTERM/SIGINT as it did before. Restore every saved handler, close
     * every subscriber, forget the parent's dispatcher and pipe. */
#ifdef _WIN32
    InitializeSRWLock(&reg_lock);
#else
    pthread_mutex_init(&reg_lock, NULL);
#endif
    for (int signo = 1; signo < IFR_SIG_MAX; signo++) {
        if (nsubs[signo] > 0) restore(signo);
        nsubs[signo] = 0;
    }
    for (int signo = 0; signo < IFR_SIG_MAX; signo++)
        for (int i = 0; i < IFR_SIGSUB_SLOTS; i++) {
            atomic_store(&table[signo][i].sub, NULL);
            atomic_store(&table[signo][i].inflight, 0); /* handlers of vanished threads */
        }
    for (ifr_sigsub *s = registry.rnext; s != &registry; s = s->rnext) {
        s->mask = 0;
        atomic_store(&s->closed, 1);
        atomic_store(&s->dirty, 0);
    }
#ifndef _WIN32
    int w = atomic_exchange(&pipe_w, -1);
    if (w >= 0) close(w);
    if (pipe_r >= 0) close(pipe_r);
    pipe_r = -1;
    dispatcher_started = 0;
    atomic_store(&kicked, 0);
#endif
}
