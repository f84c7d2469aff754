/*
 * spin.c — the spin policy and the baton (GIL hand-off hint).
 *
 * Spinning: a blocking call polls its condition for up to `spin_ns` before
 * it parks, so a hand-off between two running threads costs a cache-line
 * transfer rather than a kernel wake-up. At most max(ncpu - 1, 0) threads
 * spin at once (counted in `spinners`): with every CPU busy, spinning only
 * steals time from the thread that would make the condition true.
 *
 * Baton: `holders` counts threads that announced (ifr_baton_take) that they
 * hold, or are about to take, an external lock, and have not announced its
 * release (ifr_baton_drop); each thread is counted at most once (TLS flag).
 * `stale` is the holder count seen when an await last ran out of time:
 * holders that released the lock by other paths (a Python thread sleeping
 * in time.sleep) are then ignored until the count changes, so they cost one
 * timed-out await, not one per wake-up. Both are hints: wrong values only
 * cost bounded spinning, never correctness.
 */
#include "internal.h"

#ifndef _WIN32
#include <unistd.h>
#endif

static atomic_llong spin_ns = 50000; /* 50 us */
static atomic_int spinners;
static atomic_int ncpu_cached;

static atomic_int baton_holders;
static atomic_int baton_stale;
static _Thread_local int baton_mine;

int ifr_ncpu(void) {
    int n = atomic_load_explicit(&ncpu_cached, memory_order_relaxed);
    if (n > 0) return n;
#ifdef _WIN32
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    n = (int)si.dwNumberOfProcessors;
#else
    long r = sysconf(_SC_NPROCESSORS_ONLN);
    n = r > 0 ? (int)r : 1;
#endif
    if (n < 1) n = 1;
    atomic_store_explicit(&ncpu_cached, n, memory_order_relaxed);
    return n;
}

void ifr_set_spin_ns(int64_t ns) { atomic_store(&spin_ns, ns < 0 ? 0 : ns); }
int64_t ifr_get_spin_ns(void) { return atomic_load(&spin_ns); }

int ifr_spin_until(ifr_cond_fn cond, void *arg, int64_t deadline_ns) {
    int64_t budget = atomic_load_explicit(&spin_ns, memory_order_relaxed);
    int max_spinners = ifr_ncpu() - 1;
    if (budget <= 0 || max_spinners <= 0) return 0;
    if (atomic_fetch_add(&spinners, 1) >= max_spinners) {
        atomic_fetch_sub(&spinners, 1);
        return 0;
    }
    int64_t end = ifr_now_ns() + budget;
    if (deadline_ns >= 0 && deadline_ns < end) end = deadline_ns;
    int ok = 0;
    for (unsigned i = 1;; i++) {
        if (cond(arg)) {
            ok = 1;
            break;
        }
        ifr_cpu_relax();
        if ((i & 31) == 0 && ifr_now_ns() >= end) break;
    }
    atomic_fetch_sub(&spinners, 1);
    return ok;
}

void ifr_baton_take(void) {
    if (!baton_mine) {
        baton_mine = 1;
        atomic_fetch_add(&baton_holders, 1);
    }
}

void ifr_baton_drop(void) {
    if (baton_mine) {
        baton_mine = 0;
        int now = atomic_fetch_sub(&baton_holders, 1) - 1;
        if (now < atomic_load_explicit(&baton_stale, memory_order_relaxed))
            atomic_store_explicit(&baton_stale, now, memory_order_relaxed);
    }
}

void ifr_baton_await(int64_t max_ns) {
    int h = atomic_load(&baton_holders);
    if (h <= atomic_load_explicit(&baton_stale, memory_order_relaxed) || max_ns <= 0) return;
    int64_t end = ifr_now_ns() + max_ns;
    for (unsigned i = 1;; i++) {
        ifr_cpu_relax();
        h = atomic_load(&baton_holders);
        if (h <= atomic_load_explicit(&baton_stale, memory_order_relaxed)) return;
        if ((i & 31) == 0 && ifr_now_ns() >= end) break;
    }
    atomic_store_explicit(&baton_stale, h, memory_order_relaxed);
}

void ifr__spin_after_fork(void) {
    atomic_store(&spinners, 0);
    atomic_store(&baton_holders, baton_mine ? 1 : 0);
    atomic_store(&baton_stale, 0);
}
