/*
 * park.c — wait and wake on a 32-bit word; three backends chosen at build
 * time (IFR_PARK_FUTEX, IFR_PARK_CONDVAR, IFR_PARK_WAITONADDRESS).
 *
 * futex: FUTEX_WAIT_PRIVATE with a relative timeout; EINTR is reported as
 *   IFR_INTERRUPTED so the binding can run Python signal handlers.
 * condvar: a table of IFR_BUCKETS mutex+condvar pairs hashed by address.
 *   The parker checks the word under the bucket lock; the waker takes the
 *   bucket lock before broadcasting, so a wake between the check and the
 *   wait cannot be lost. Condvar waits are never interrupted by signals.
 * waitonaddress: Windows WaitOnAddress/WakeByAddress*.
 * Invariant for every backend: ifr_park returns IFR_OK only when woken or
 * when the word no longer equals `expected` (or spuriously); callers always
 * re-check their condition.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>

#if !defined(IFR_PARK_FUTEX) && !defined(IFR_PARK_CONDVAR) && !defined(IFR_PARK_WAITONADDRESS)
#if defined(_WIN32)
#define IFR_PARK_WAITONADDRESS 1
#elif defined(__linux__)
#define IFR_PARK_FUTEX 1
#else
#define IFR_PARK_CONDVAR 1
#endif
#endif

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
        if (rel <= 0) return IFR_TIMEOUT;
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
        if (rel <= 0) return IFR_TIMEOUT;
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
#include <time.h>

#define IFR_BUCKETS 64

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned waiters; /* protected by mu */
    char pad[64];
} bucket;

static bucket buckets[IFR_BUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void) {
    for (int i = 0; i < IFR_BUCKETS; i++) {
        pthread_condattr_t a;
        pthread_condattr_init(&a);
#if !defined(__APPLE__)
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
#endif
        pthread_mutex_init(&buckets[i].mu, NULL);
        pthread_cond_init(&buckets[i].cv, &a);
        pthread_condattr_destroy(&a);
        buckets[i].waiters = 0;
    }
}

static bucket *bucket_of(ifr_word *word) {
    uintptr_t a = (uintptr_t)word;
    a ^= a >> 17;
    a *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return &buckets[(a >> 7) % IFR_BUCKETS];
}

const char *ifr_park_backend(void) { return "condvar"; }

ifr_status ifr_park(ifr_word *word, uint32_t expected, int64_t deadline_ns) {
    pthread_once(&buckets_once, buckets_init);
    bucket *b = bucket_of(word);
    ifr_status st = IFR_OK;
    pthread_mutex_lock(&b->mu);
    if (atomic_load(word) == expected) {
        b->waiters++;
        if (deadline_ns < 0) {
            pthread_cond_wait(&b->cv, &b->mu);
        } else {
            int r;
#if defined(__APPLE__)
            int64_t rel = deadline_ns - ifr_now_ns();
            if (rel <= 0) {
                r = ETIMEDOUT;
            } else {
                struct timespec ts = {(time_t)(rel / 1000000000LL), (long)(rel % 1000000000LL)};
                r = pthread_cond_timedwait_relative_np(&b->cv, &b->mu, &ts);
            }
#else
            struct timespec ts = {(time_t)(deadline_ns / 1000000000LL),
                                  (long)(deadline_ns % 1000000000LL)};
            r = pthread_cond_timedwait(&b->cv, &b->mu, &ts);
#endif
            if (r == ETIMEDOUT) st = IFR_TIMEOUT;
        }
        b->waiters--;
    }
    pthread_mutex_unlock(&b->mu);
    return st;
}

void ifr_unpark(ifr_word *word, int n) {
    (void)n; /* the bucket is shared: always broadcast */
    pthread_once(&buckets_once, buckets_init);
    bucket *b = bucket_of(word);
    pthread_mutex_lock(&b->mu);
    if (b->waiters) pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

void ifr__park_after_fork(void) {
    /* A lock held by a thread that no longer exists stays locked: start over. */
    buckets_init();
}
#endif
