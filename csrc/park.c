/*
 * park.c — wait and wake on a 32-bit word; three backends chosen at build
 * time (IFR_PARK_FUTEX, IFR_PARK_CONDVAR, IFR_PARK_WAITONADDRESS).
 *
 * futex: FUTEX_WAIT_PRIVATE with a relative timeout; EINTR is reported as
 *   IFR_INTERRUPTED so the binding can run Python signal handlers.
 * condvar: portable pthreads: per-address waiter lists in hashed buckets
 *   (see below). Condvar waits are never interrupted by signals.
 * waitonaddress: Windows WaitOnAddress/WakeByAddress*.
 * Invariant for every backend: ifr_park returns IFR_OK only when woken or
 * when the word no longer equals `expected` (or spuriously); callers always
 * re-check their condition.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>

/* ===================================================================== */
#if defined(IFR_PARK_FUTEX)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

const char *ifr_park_backend(void) { return "futex"; }

ifr_status ifr_park(ifr_word *word, uint32_t expected, int64_t deadline_ns) {
    struct timespec ts, *tp = NULL;
    if (deadline_ns >= 0) {
        int64_t rel = deadline_ns - ifr_now_ns();
        if (rel <= 0) return atomic_load(word) != expected ? IFR_OK : IFR_TIMEOUT;
        ts.tv_sec = (time_t)(rel / 1000000000LL);
        ts.tv_nsec = (long)(rel % 1000000000LL);
        tp = &ts;
    }
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, tp, NULL, 0);
    if (r == 0) return IFR_OK;
    switch (errno) {
    case ETIMEDOUT: return IFR_TIMEOUT;
    case EINTR: return IFR_INTERRUPTED;
    default: return IFR_OK; /* EAGAIN: the word differed */
    }
}

void ifr_unpark(ifr_word *word, int n) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n <= 0 ? INT_MAX : n, NULL, NULL, 0);
}

void ifr__park_after_fork(void) {}

/* ===================================================================== */
#elif defined(IFR_PARK_WAITONADDRESS)

const char *ifr_park_backend(void) { return "waitonaddress"; }

ifr_status ifr_park(ifr_word *word, uint32_t expected, int64_t deadline_ns) {
    DWORD ms = INFINITE;
    if (deadline_ns >= 0) {
        int64_t rel = deadline_ns - ifr_now_ns();
        if (rel <= 0) return atomic_load(word) != expected ? IFR_OK : IFR_TIMEOUT;
        int64_t m = (rel + 999999) / 1000000;
        ms = m >= (int64_t)INFINITE ? INFINITE - 1 : (DWORD)m;
    }
    uint32_t cmp = expected;
    if (WaitOnAddress((volatile VOID *)word, &cmp, sizeof(cmp), ms)) return IFR_OK;
    if (GetLastError() == ERROR_TIMEOUT && deadline_ns >= 0 && ifr_now_ns() >= deadline_ns)
        return IFR_TIMEOUT;
    return IFR_OK;
}

void ifr_unpark(ifr_word *word, int n) {
    if (n == 1)
        WakeByAddressSingle((PVOID)word);
    else
        WakeByAddressAll((PVOID)word);
}

void ifr__park_after_fork(void) {}

/* ===================================================================== */
#else /* IFR_PARK_CONDVAR */
/*
 * condvar: a table of IFR_BUCKETS buckets hashed by address, each a mutex
 * and a FIFO list of parked waiters. A waiter is the parking thread's own
 * (thread-local) record with its own condition variable, made once, so a wake-up reaches only threads
 * parked on that very word (no thundering herd on shared buckets). The
 * parker checks the word under the bucket lock; the waker takes the same
 * lock, unlinks the waiters it wakes and marks them woken, so no wake-up is
 * lost and an unlinked waiter never touches the list again.
 */
#include <time.h>

#define IFR_BUCKETS 256

typedef struct waiter {
    struct waiter *next;
    ifr_word *addr;
    int woken; /* protected by the bucket lock */
    pthread_cond_t cv;
} waiter;

typedef struct {
    pthread_mutex_t mu;
    waiter *head, *tail;
} bucket;

/* Statically initialised (GNU range designators: gcc and clang), so no
 * lazy once-control exists that a fork could catch half-done. */
static bucket buckets[IFR_BUCKETS] = {
    [0 ... IFR_BUCKETS - 1] = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL}};

static void buckets_init(void) {
    for (int i = 0; i < IFR_BUCKETS; i++) {
        pthread_mutex_init(&buckets[i].mu, NULL);
        buckets[i].head = buckets[i].tail = NULL;
    }
}

static bucket *bucket_of(ifr_word *word) {
    uint64_t a = (uint64_t)(uintptr_t)word;
    a ^= a >> 17;
    a *= 0x9E3779B97F4A7C15ull;
    return &buckets[(a >> 40) % IFR_BUCKETS];
}

/* The calling thread's waiter: a thread parks on one word at a time. */
static _Thread_local waiter tls_waiter;
static _Thread_local int tls_waiter_ready;

static void unlink_waiter(bucket *b, waiter *w) {
    waiter *prev = NULL;
    for (waiter *x = b->head; x; prev = x, x = x->next) {
        if (x == w) {
            if (prev) prev->next = x->next;
            else b->head = x->next;
            if (b->tail == x) b->tail = prev;
            return;
        }
    }
}

const char *ifr_park_backend(void) { return "condvar"; }

ifr_status ifr_park(ifr_word *word, uint32_t expected, int64_t deadline_ns) {
    bucket *b = bucket_of(word);
    ifr_status st = IFR_OK;
    waiter *wp = &tls_waiter;
    if (!tls_waiter_ready) {
        /* One condition variable per thread, made on its first park. */
        pthread_condattr_t a;
        pthread_condattr_init(&a);
#if !defined(__APPLE__)
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
#endif
        pthread_cond_init(&wp->cv, &a);
        pthread_condattr_destroy(&a);
        tls_waiter_ready = 1;
    }
    pthread_mutex_lock(&b->mu);
    if (atomic_load(word) != expected) {
        pthread_mutex_unlock(&b->mu);
        return IFR_OK;
    }
    wp->addr = word;
    wp->woken = 0;
    wp->next = NULL;
    if (b->tail) b->tail->next = wp;
    else b->head = wp;
    b->tail = wp;
    while (!wp->woken) {
        if (deadline_ns < 0) {
            pthread_cond_wait(&wp->cv, &b->mu);
            continue;
        }
        int r;
#if defined(__APPLE__)
        int64_t rel = deadline_ns - ifr_now_ns();
        if (rel <= 0) {
            r = ETIMEDOUT;
        } else {
            struct timespec ts = {(time_t)(rel / 1000000000LL), (long)(rel % 1000000000LL)};
            r = pthread_cond_timedwait_relative_np(&wp->cv, &b->mu, &ts);
        }
#else
        struct timespec ts = {(time_t)(deadline_ns / 1000000000LL), (long)(deadline_ns % 1000000000LL)};
        r = pthread_cond_timedwait(&wp->cv, &b->mu, &ts);
#endif
        if (r == ETIMEDOUT && !wp->woken) {
            unlink_waiter(b, wp);
            st = IFR_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return st;
}

void ifr_unpark(ifr_word *word, int n) {
    bucket *b = bucket_of(word);
    pthread_mutex_lock(&b->mu);
    waiter *prev = NULL, *x = b->head;
    while (x) {
        waiter *next = x->next;
        if (x->addr == word) {
            if (prev) prev->next = next;
            else b->head = next;
            if (b->tail == x) b->tail = prev;
            x->woken = 1;
            pthread_cond_signal(&x->cv);
            if (n > 0 && --n == 0) break;
        } else {
            prev = x;
        }
        x = next;
    }
    pthread_mutex_unlock(&b->mu);
}

void ifr__park_after_fork(void) {
    /* A lock held by a thread that no longer exists stays locked, and the
     * waiters listed belonged to threads that are gone: start over. */
    buckets_init();
}
#endif
