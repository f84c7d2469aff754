/*
 * test_admit.c — ifr_admit_enter / ifr_admit_leave: a free admission is
 * immediate; nested enters and stray leaves do nothing; while one thread
 * is admitted, others wait and are admitted one at a time in the order
 * they came (with at most one admitted); slow acquisitions admit more at
 * once; the first waiter goes in anyway after the head timeout
 * (20 ms by default) when the admitted thread does not leave; and many threads
 * entering and leaving at once all get through.
 */
#include "harness.h"

static void immediate(void)
{
    int64_t t0 = t_now();
    ifr_admit_enter();
    ifr_admit_enter(); /* nested: nothing */
    ifr_admit_leave();
    ifr_admit_leave(); /* without enter: nothing */
    ifr_admit_enter();
    ifr_admit_leave();
    CHECK_CMP(t_now() - t0, <, 200 * T_MS);
}

#define NQ 6
static struct {
    atomic_int started[NQ];
    atomic_int inside; /* threads admitted and not yet left */
    atomic_int max_inside;
    atomic_int next; /* admission order */
    int order[NQ];   /* written by the admitted thread, read after join */
} q;

static void queued(void *arg)
{
    int k = (int)(intptr_t)arg;
    atomic_store(&q.started[k], 1);
    ifr_admit_enter();
    int in = atomic_fetch_add(&q.inside, 1) + 1;
    int m = atomic_load(&q.max_inside);
    while (in > m && !atomic_compare_exchange_weak(&q.max_inside, &m, in)) {
    }
    q.order[atomic_fetch_add(&q.next, 1)] = k;
    t_sleep_ms(1); /* hold the admission a moment */
    atomic_fetch_sub(&q.inside, 1);
    ifr_admit_leave();
}

static void fifo_one_at_a_time(void)
{
    memset(&q, 0, sizeof q);
    ifr_admit_tune(30 * T_SEC, 1); /* one at a time, no going in by timeout */
    ifr_admit_enter(); /* this thread is admitted: the others must queue */
    t_thread *ts[NQ];
    for (int k = 0; k < NQ; k++) {
        ts[k] = t_spawn(queued, (void *)(intptr_t)k);
        WAIT_UNTIL(atomic_load(&q.started[k]), 5000, "queued thread started");
        t_sleep_ms(5); /* let it reach the queue before the next one comes */
    }
    CHECK_EQ(atomic_load(&q.next), 0); /* nobody got in past us */
    ifr_admit_leave();
    for (int k = 0; k < NQ; k++)
        t_join(ts[k], 20000);
    CHECK_EQ(atomic_load(&q.next), NQ);
    CHECK_EQ(atomic_load(&q.max_inside), 1);
    for (int k = 0; k < NQ; k++)
        CHECK_MSG(q.order[k] == k, "admitted %d-th: thread %d", k, q.order[k]);
    ifr_admit_tune(20 * T_MS, 64);
}

/* Slow acquisitions (the lock held elsewhere) let more threads in at once. */
static void slow_holder_admits_more(void)
{
    memset(&q, 0, sizeof q);
    ifr_admit_tune(30 * T_SEC, 64);
    ifr_admit_enter();
    t_thread *ts[NQ];
    for (int k = 0; k < NQ; k++)
        ts[k] = t_spawn(queued, (void *)(intptr_t)k);
    for (int k = 0; k < NQ; k++)
        WAIT_UNTIL(atomic_load(&q.started[k]), 5000, "queued thread started");
    t_sleep_ms(20); /* this "acquisition" took 20 ms: slow */
    ifr_admit_leave();
    for (int k = 0; k < NQ; k++)
        t_join(ts[k], 20000);
    CHECK_EQ(atomic_load(&q.next), NQ);
    CHECK_CMP(atomic_load(&q.max_inside), >=, 2);
    ifr_admit_tune(20 * T_MS, 64);
}

typedef struct {
    atomic_int in;
    int64_t waited;
} late_ctx;

static void late(void *arg)
{
    late_ctx *c = arg;
    int64_t t0 = t_now();
    ifr_admit_enter();
    c->waited = t_now() - t0;
    atomic_store(&c->in, 1);
    ifr_admit_leave();
}

static void first_waiter_times_out(void)
{
    late_ctx c;
    memset(&c, 0, sizeof c);
    ifr_admit_tune(20 * T_MS, 1); /* one admission at a time, 20 ms timeout */
    ifr_admit_enter(); /* admitted, and never leaving in time */
    t_thread *t = t_spawn(late, &c);
    WAIT_UNTIL(atomic_load(&c.in), 5000, "the first waiter goes in after its timeout");
    t_join(t, 5000);
    CHECK_CMP(c.waited, >=, 15 * T_MS);
    ifr_admit_leave();
    /* over-admission is undone by the leaves: a new enter is free again */
    int64_t t0 = t_now();
    ifr_admit_enter();
    ifr_admit_leave();
    CHECK_CMP(t_now() - t0, <, 15 * T_MS);
    ifr_admit_tune(20 * T_MS, 64);
}

#define NS 8
#define ROUNDS 3000
static atomic_int stress_done;

static void churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        ifr_admit_enter();
        ifr_admit_leave();
    }
    atomic_fetch_add(&stress_done, 1);
}

static void many_threads(void)
{
    atomic_store(&stress_done, 0);
    t_thread *ts[NS];
    for (int k = 0; k < NS; k++)
        ts[k] = t_spawn(churn, NULL);
    for (int k = 0; k < NS; k++)
        t_join(ts[k], 60000);
    CHECK_EQ(atomic_load(&stress_done), NS);
    int64_t t0 = t_now();
    ifr_admit_enter(); /* all left: free at once */
    ifr_admit_leave();
    CHECK_CMP(t_now() - t0, <, 15 * T_MS);
}

T_MAIN(T_CASE(immediate), T_CASE(fifo_one_at_a_time), T_CASE(slow_holder_admits_more),
       T_CASE(first_waiter_times_out),
       T_CASE(many_threads))
