/*
 * test_baton.c — ifr_baton_take / drop / await: await returns at once with
 * no holder, spins up to max_ns (never much longer) while another thread
 * holds the baton, returns soon after the holder drops it, counts each
 * thread at most once, and survives concurrent take/drop.
 */
#include "harness.h"

static int64_t timed_await(int64_t max_ns)
{
    int64_t t0 = ifr_now_ns();
    ifr_baton_await(max_ns);
    return ifr_now_ns() - t0;
}

static void no_holder(void)
{
    CHECK_CMP(timed_await(2 * T_SEC), <, 200 * T_MS);
    CHECK_CMP(timed_await(0), <, 200 * T_MS);
    CHECK_CMP(timed_await(-1), <, 200 * T_MS);
    ifr_baton_take();
    ifr_baton_drop();
    CHECK_CMP(timed_await(2 * T_SEC), <, 200 * T_MS);
    /* counted at most once per thread: take, take, drop leaves no holder */
    ifr_baton_take();
    ifr_baton_take();
    ifr_baton_drop();
    CHECK_CMP(timed_await(2 * T_SEC), <, 200 * T_MS);
    /* a drop without a take is harmless */
    ifr_baton_drop();
    ifr_baton_drop();
    CHECK_CMP(timed_await(2 * T_SEC), <, 200 * T_MS);
}

typedef struct {
    atomic_int holding;
    atomic_int release;
} holder_ctx;

static void holder(void *arg)
{
    holder_ctx *h = arg;
    ifr_baton_take();
    atomic_store(&h->holding, 1);
    int64_t dl = t_now() + 30 * T_SEC;
    while (!atomic_load(&h->release) && t_now() < dl)
        t_sleep_ns(100000);
    ifr_baton_drop();
    atomic_store(&h->holding, 0);
}

/* A holder in another thread: await spins (for at most the adaptive spin
 * budget, itself at most ifr_get_spin_ns()) and never longer than max_ns. */
static void check_full_spin(int64_t max_ns)
{
    int64_t took = timed_await(max_ns);
    int64_t cap = ifr_get_spin_ns() < max_ns ? ifr_get_spin_ns() : max_ns;
    CHECK_CMP(took, <, cap + 1500 * T_MS);
}

static void held_elsewhere(void)
{
    holder_ctx h, h2;
    atomic_init(&h.holding, 0);
    atomic_init(&h.release, 0);
    atomic_init(&h2.holding, 0);
    atomic_init(&h2.release, 0);
    t_thread *t = t_spawn(holder, &h);
    WAIT_UNTIL(atomic_load(&h.holding), 5000, "holder took the baton");
    /* a holder in another thread: await spins, bounded (and no_holder's
     * stray drops did not make the count negative) */
    check_full_spin(30 * T_MS);
    /* Later awaits with the same holder: never longer than max_ns. (The
     * core may then treat that holder as stale and return at once.) */
    for (int i = 0; i < 3; i++)
        CHECK_CMP(timed_await(20 * T_MS), <, 20 * T_MS + 1500 * T_MS);
    /* a zero budget never waits */
    CHECK_CMP(timed_await(0), <, 200 * T_MS);
    /* a second, new holder: the count changed; await is still bounded */
    t_thread *t2 = t_spawn(holder, &h2);
    WAIT_UNTIL(atomic_load(&h2.holding), 5000, "second holder took the baton");
    check_full_spin(30 * T_MS);
    atomic_store(&h2.release, 1);
    atomic_store(&h.release, 1);
    t_join(t, 10000);
    t_join(t2, 10000);
    CHECK_CMP(timed_await(2 * T_SEC), <, 200 * T_MS);
    /* a holder after everybody dropped: spins again */
    atomic_store(&h.holding, 0);
    atomic_store(&h.release, 0);
    t = t_spawn(holder, &h);
    WAIT_UNTIL(atomic_load(&h.holding), 5000, "holder took the baton again");
    check_full_spin(30 * T_MS);
    atomic_store(&h.release, 1);
    t_join(t, 10000);
    CHECK_CMP(timed_await(2 * T_SEC), <, 200 * T_MS);
}

/* The holder drops mid-await: await returns well before max_ns. */
static void dropped_while_waiting(void)
{
    holder_ctx h;
    atomic_init(&h.holding, 0);
    atomic_init(&h.release, 0);
    t_thread *t = t_spawn(holder, &h);
    WAIT_UNTIL(atomic_load(&h.holding), 5000, "holder took the baton");
    int64_t t0 = ifr_now_ns();
    atomic_store(&h.release, 1); /* holder drops within ~0.1 ms */
    ifr_baton_await(10 * T_SEC);
    CHECK_CMP(ifr_now_ns() - t0, <, 5 * T_SEC);
    t_join(t, 10000);
}

enum { NCHURN = 4, ROUNDS = 20000 };

static void churner(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        ifr_baton_take();
        if (i % 3 == 0)
            ifr_baton_take();
        ifr_baton_drop();
        if (i % 100 == 0)
            ifr_baton_await(10000);
    }
}

static void concurrent(void)
{
    t_thread *ts[NCHURN];
    for (int i = 0; i < NCHURN; i++)
        ts[i] = t_spawn(churner, NULL);
    for (int i = 0; i < 200; i++)
        ifr_baton_await(50000);
    for (int i = 0; i < NCHURN; i++)
        t_join(ts[i], 30000);
    /* everyone dropped: no holder is left behind */
    CHECK_CMP(timed_await(2 * T_SEC), <, 200 * T_MS);
}

T_MAIN(T_CASE(no_holder), T_CASE(held_elsewhere), T_CASE(dropped_while_waiting),
       T_CASE(concurrent))
