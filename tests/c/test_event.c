/*
 * test_event.c — ifr_event: set / is_set / wait, 8 waiting threads all
 * released by one set (and seeing data written before it), timeouts, set
 * before wait, reference counting, and a create/set/wait/release churn.
 */
#include "harness.h"

static void set_and_is_set(void)
{
    ifr_event *ev = ifr_event_new();
    CHECK(ev != NULL);
    CHECK_EQ(ifr_event_is_set(ev), 0);
    CHECK_ST(ifr_event_wait(ev, 0), IFR_TIMEOUT);
    CHECK_ST(ifr_event_wait(ev, ifr_now_ns() - T_SEC), IFR_TIMEOUT);
    ifr_event_set(ev);
    CHECK_EQ(ifr_event_is_set(ev), 1);
    ifr_event_set(ev); /* idempotent */
    CHECK_EQ(ifr_event_is_set(ev), 1);
    /* Set: every wait returns at once, whatever the deadline. */
    int64_t t0 = t_now();
    CHECK_ST(ifr_event_wait(ev, -1), IFR_OK);
    CHECK_ST(ifr_event_wait(ev, 0), IFR_OK);
    CHECK_ST(ifr_event_wait(ev, ifr_deadline(T_SEC)), IFR_OK);
    CHECK_CMP(t_now() - t0, <, 500 * T_MS);
    ifr_event_release(ev);
}

static void refcount(void)
{
    ifr_event *ev = ifr_event_new();
    CHECK(ev != NULL);
    ifr_event_retain(ev);
    ifr_event_retain(ev);
    ifr_event_release(ev);
    ifr_event_release(ev);
    /* one reference left: still usable (ASan reports a use after free) */
    ifr_event_set(ev);
    CHECK_EQ(ifr_event_is_set(ev), 1);
    ifr_event_release(ev);
}

static void timeout(void)
{
    ifr_event *ev = ifr_event_new();
    CHECK(ev != NULL);
    for (int i = 0; i < 3; i++) {
        int64_t start = ifr_now_ns();
        int64_t dl = start + 20 * T_MS;
        CHECK_ST(ifr_event_wait(ev, dl), IFR_TIMEOUT);
        int64_t end = ifr_now_ns();
        CHECK_MSG(end >= dl, "timeout %lld ns early", (long long)(dl - end));
        CHECK_CMP(end - start, <, 1500 * T_MS);
    }
    CHECK_EQ(ifr_event_is_set(ev), 0);
    ifr_event_release(ev);
}

/* ---- waiters in 8 threads --------------------------------------------------- */

enum { NW = 8 };

typedef struct {
    ifr_event *ev;
    atomic_int arrived;
    int64_t timeout_ns; /* < 0: forever */
    int payload;        /* plain, written before set */
    int seen[NW];
    int status[NW];
} waiters_ctx;

typedef struct {
    waiters_ctx *c;
    int idx;
} waiter_arg;

static void waiter(void *p)
{
    waiter_arg *a = p;
    waiters_ctx *c = a->c;
    atomic_fetch_add(&c->arrived, 1);
    int64_t t0 = t_now();
    c->status[a->idx] = ifr_event_wait(c->ev, ifr_deadline(c->timeout_ns));
    CHECK_PROMPT(t0, "ifr_event_wait woken by set");
    if (c->status[a->idx] == IFR_OK)
        c->seen[a->idx] = c->payload;
}

static void run_waiters(int64_t timeout_ns)
{
    waiters_ctx c;
    memset(&c, 0, sizeof c);
    c.ev = ifr_event_new();
    CHECK(c.ev != NULL);
    c.timeout_ns = timeout_ns;
    waiter_arg args[NW];
    t_thread *ts[NW];
    for (int i = 0; i < NW; i++) {
        args[i].c = &c;
        args[i].idx = i;
        ts[i] = t_spawn(waiter, &args[i]);
    }
    WAIT_UNTIL(atomic_load(&c.arrived) == NW, 5000, "waiters started");
    t_sleep_ms(20); /* past any spin: they are parked */
    c.payload = 77;
    ifr_event_set(c.ev);
    for (int i = 0; i < NW; i++)
        t_join(ts[i], 10000);
    for (int i = 0; i < NW; i++) {
        CHECK_ST(c.status[i], IFR_OK);
        CHECK_EQ(c.seen[i], 77);
    }
    ifr_event_release(c.ev);
}

static void eight_waiters(void)
{
    run_waiters(-1);
    run_waiters(30 * T_SEC);
}

/* ---- set before wait, and set from another thread ---------------------------- */

static void set_before_wait(void)
{
    waiters_ctx c;
    memset(&c, 0, sizeof c);
    c.ev = ifr_event_new();
    CHECK(c.ev != NULL);
    c.timeout_ns = 0; /* deadline "now": only an already-set event passes */
    c.payload = 5;
    ifr_event_set(c.ev);
    waiter_arg a = {&c, 0};
    t_thread *t = t_spawn(waiter, &a);
    t_join(t, 10000);
    CHECK_ST(c.status[0], IFR_OK);
    CHECK_EQ(c.seen[0], 5);
    ifr_event_release(c.ev);
}

static void setter(void *p)
{
    t_sleep_ms(10);
    ifr_event_set(p);
}

static void set_from_other_thread(void)
{
    ifr_event *ev = ifr_event_new();
    CHECK(ev != NULL);
    t_thread *t = t_spawn(setter, ev);
    int64_t t0 = t_now();
    CHECK_ST(ifr_event_wait(ev, ifr_deadline(10 * T_SEC)), IFR_OK);
    CHECK_CMP(t_now() - t0, <, 5 * T_SEC);
    t_join(t, 10000);
    ifr_event_release(ev);
}

/* ---- churn: the waiter drops its reference as soon as it is woken --------- */
/* The setter owns its own reference; the waiter frees its reference right
 * after ifr_event_wait returns, possibly while ifr_event_set is still
 * waking. ASan/TSan check that set does not touch freed memory. */

enum { CHURN = 500 };

typedef struct {
    ifr_event *evs[CHURN];
} churn_ctx;

static void churn_setter(void *p)
{
    churn_ctx *c = p;
    for (int i = 0; i < CHURN; i++) {
        if (i % 7 == 0)
            t_sleep_ns(20000);
        ifr_event_set(c->evs[i]);
        ifr_event_release(c->evs[i]);
    }
}

static void churn(void)
{
    churn_ctx *c = t_xmalloc(sizeof *c);
    for (int i = 0; i < CHURN; i++) {
        c->evs[i] = ifr_event_new();
        CHECK(c->evs[i] != NULL);
        ifr_event_retain(c->evs[i]); /* the setter's reference */
    }
    t_thread *t = t_spawn(churn_setter, c);
    for (int i = 0; i < CHURN; i++) {
        ifr_event *ev = c->evs[i];
        int64_t t0 = t_now();
        CHECK_ST(ifr_event_wait(ev, ifr_deadline(20 * T_SEC)), IFR_OK);
        CHECK_PROMPT(t0, "ifr_event_wait");
        ifr_event_release(ev);
    }
    t_join(t, 20000);
    free(c);
}

T_MAIN(T_CASE(set_and_is_set), T_CASE(refcount), T_CASE(timeout), T_CASE(eight_waiters),
       T_CASE(set_before_wait), T_CASE(set_from_other_thread), T_CASE(churn))
