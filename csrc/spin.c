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
#include <sched.h>
#include <unistd.h>
#endif

static atomic_llong spin_ns = 50000; /* 50 us */
#define IFR_PURE_SPIN_NS 300     /* then spin with yields */

static void ifr_yield(void) {
#ifdef _WIN32
    SwitchToThread();
#else
    sched_yield();
#endif
}
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

/* Adaptive budgets, one per kind of spin (see IFR_SPIN_* in internal.h):
 * a spin that succeeds doubles its kind's budget (up to spin_ns; at once to
 * four times what that spin took); one that runs out quarters it. Below MIN_USEFUL_NS a kind does not spin, except
 * that every PROBE_EVERY-th spin of a kind probes with the full budget, so a
 * machine that stops being busy gets spinning back. On an idle machine
 * hand-offs succeed within microseconds and budgets stay full; on a busy
 * one (more runnable threads than CPUs) spins fail, and threads park at
 * once instead of stealing CPU time from the thread they wait for. */
#define MIN_USEFUL_NS 1000
#define PROBE_EVERY 64

static struct {
    atomic_llong budget;
    atomic_uint tick;
} kinds[IFR_SPIN_KINDS] = {{50000, 0}, {50000, 0}, {50000, 0}, {50000, 0}, {50000, 0}, {50000, 0}};

/* The budget for one spin of `kind` now: 0 means do not spin. */
static int64_t spin_budget(int kind) {
    int64_t max = atomic_load_explicit(&spin_ns, memory_order_relaxed);
    if (max <= 0) return 0;
    int64_t b = atomic_load_explicit(&kinds[kind].budget, memory_order_relaxed);
    if (b > max) b = max;
    if (b < MIN_USEFUL_NS) {
        if ((atomic_fetch_add_explicit(&kinds[kind].tick, 1, memory_order_relaxed) % PROBE_EVERY) != 0)
            return 0;
        b = max;
    }
    return b;
}

static void spin_learn(int kind, int64_t budget, int64_t took, int ok) {
    int64_t max = atomic_load_explicit(&spin_ns, memory_order_relaxed);
    int64_t b;
    if (ok) {
        b = budget * 2; /* grow back step by step ...            */
        if (b < took * 4) b = took * 4; /* ... but at once to what works */
        if (b > max) b = max;
    } else {
        b = budget / 4;
    }
    atomic_store_explicit(&kinds[kind].budget, b, memory_order_relaxed);
}

int ifr_spin_until(int kind, ifr_cond_fn cond, void *arg, int64_t deadline_ns) {
    int max_spinners = ifr_ncpu() > 1 ? ifr_ncpu() : 0;
    if (max_spinners <= 0) return 0;
    int64_t budget = spin_budget(kind);
    if (budget <= 0) return 0;
    if (atomic_fetch_add(&spinners, 1) >= max_spinners) {
        atomic_fetch_sub(&spinners, 1);
        return 0;
    }
    int64_t start = ifr_now_ns();
    int64_t end = start + budget;
    int capped = 0;
    if (deadline_ns >= 0 && deadline_ns < end) {
        end = deadline_ns;
        capped = 1;
    }
    int ok = 0;
    int64_t now = start;
    int64_t yield_after = start + IFR_PURE_SPIN_NS;
    for (unsigned i = 1;; i++) {
        if (cond(arg)) {
            ok = 1;
            break;
        }
        ifr_cpu_relax();
        if ((i & 7) == 0) {
            now = ifr_now_ns();
            if (now >= end) break;
            /* Past a brief pure spin, yield often: when the thread we wait
             * for shares this CPU (the scheduler often puts a woken thread
             * on its waker's CPU), it runs at once instead of after our
             * budget; when it does not, a yield costs a fraction of a us. */
            if (now >= yield_after) ifr_yield();
        }
    }
    atomic_fetch_sub(&spinners, 1);
    if (ok || !capped) spin_learn(kind, budget, now - start, ok);
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

static int baton_free(void *arg) {
    (void)arg;
    return atomic_load(&baton_holders) <= atomic_load_explicit(&baton_stale, memory_order_relaxed);
}

void ifr_baton_await(int64_t max_ns) {
    if (max_ns <= 0 || baton_free(NULL)) return;
    if (!ifr_spin_until(IFR_SPIN_BATON, baton_free, NULL, ifr_deadline(max_ns))) {
        int h = atomic_load(&baton_holders);
        if (h > 0) atomic_store_explicit(&baton_stale, h, memory_order_relaxed);
    }
}

void ifr__spin_after_fork(void) {
    atomic_store(&spinners, 0);
    atomic_store(&baton_holders, baton_mine ? 1 : 0);
    atomic_store(&baton_stale, 0);
}
