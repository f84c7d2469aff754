/*
 * test_park.c — ifr_park / ifr_unpark: wait and wake between threads,
 * "value already differs", timeouts (never early), waking N waiters, waking
 * one specific word among many (the condvar backend shares buckets between
 * words: a wake must not be lost to a waiter of another word), and a
 * ping-pong with a plain payload (checked by TSan for happens-before).
 */
#include "harness.h"

/* ---- wait / wake between two threads ---------------------------------- */

typedef struct {
    ifr_word word;
    atomic_int parked_calls;
    int payload; /* plain: published before the wake */
    int seen;
} ww_ctx;

static void ww_waiter(void *arg)
{
    ww_ctx *c = arg;
    int64_t dl = ifr_deadline(10 * T_SEC);
    while (t_load(&c->word) == 0) {
        atomic_fetch_add(&c->parked_calls, 1);
        int st = ifr_park(&c->word, 0, dl);
        CHECK_MSG(st == IFR_OK, "park returned %s while waiting for a wake", ifr_strstatus(st));
    }
    c->seen = c->payload;
}

static void wait_wake(void)
{
    for (int round = 0; round < 20; round++) {
        ww_ctx c;
        memset(&c, 0, sizeof c);
        t_thread *t = t_spawn(ww_waiter, &c);
        /* Let the waiter reach the kernel on some rounds, race on others. */
        if (round % 2 == 0)
            WAIT_UNTIL(atomic_load(&c.parked_calls) > 0, 5000, "waiter parks");
        if (round % 4 == 0)
            t_sleep_ms(2);
        c.payload = 1000 + round;
        t_store(&c.word, 1);
        ifr_unpark(&c.word, 1);
        t_join(t, 10000);
        CHECK_EQ(c.seen, 1000 + round);
    }
}

/* ---- value already differs ------------------------------------------------ */

static void already_differs(void)
{
    ifr_word w = 7;
    int64_t t0 = t_now();
    CHECK_ST(ifr_park(&w, 0, -1), IFR_OK);            /* forever, but differs */
    CHECK_ST(ifr_park(&w, 8, ifr_deadline(T_SEC)), IFR_OK);
    CHECK_ST(ifr_park(&w, 0, 0), IFR_OK);             /* deadline in the past */
    CHECK_CMP(t_now() - t0, <, 500 * T_MS);
    /* Equal and the deadline already passed: a timeout, at once. */
    t0 = t_now();
    CHECK_ST(ifr_park(&w, 7, 0), IFR_TIMEOUT);
    CHECK_ST(ifr_park(&w, 7, ifr_now_ns() - T_MS), IFR_TIMEOUT);
    CHECK_ST(ifr_park(&w, 7, ifr_deadline(0)), IFR_TIMEOUT);
    CHECK_CMP(t_now() - t0, <, 500 * T_MS);
    /* Unpark with nobody parked is a no-op, for every n. */
    ifr_unpark(&w, 1);
    ifr_unpark(&w, IFR_ALL);
    ifr_unpark(&w, -3);
    ifr_unpark(&w, 1000);
    CHECK_EQ(w, 7);
}

/* ---- timeouts --------------------------------------------------------- */

static void park_until_timeout(ifr_word *w, int64_t timeout_ns)
{
    int64_t start = ifr_now_ns();
    int64_t dl = start + timeout_ns;
    int spurious = 0;
    int st;
    while ((st = ifr_park(w, 0, dl)) == IFR_OK) {
        CHECK_EQ(t_load(w), 0);
        CHECK_CMP(++spurious, <, 1000);
    }
    int64_t end = ifr_now_ns();
    CHECK_ST(st, IFR_TIMEOUT);
    /* Never early... */
    CHECK_MSG(end >= dl, "IFR_TIMEOUT %lld ns before the deadline", (long long)(dl - end));
    /* ... and roughly on time (generous for sanitizers and loaded CI). */
    CHECK_MSG(end - start < timeout_ns + 1500 * T_MS, "a %lld ms timeout took %lld ms",
              (long long)(timeout_ns / T_MS), (long long)((end - start) / T_MS));
}

static void timeouts(void)
{
    ifr_word w = 0;
    for (int i = 0; i < 5; i++)
        park_until_timeout(&w, 20 * T_MS);
    park_until_timeout(&w, 1 * T_MS);
    park_until_timeout(&w, 50 * 1000); /* 50 us */
    park_until_timeout(&w, 1);
    /* A long deadline (> 2^32 ns, checks the timespec conversion) on a word
     * that another thread changes. */
    ww_ctx c;
    memset(&c, 0, sizeof c);
    t_thread *t = t_spawn(ww_waiter, &c);
    t_sleep_ms(5);
    c.payload = 5;
    t_store(&c.word, 1);
    ifr_unpark(&c.word, IFR_ALL);
    t_join(t, 10000);
    CHECK_EQ(c.seen, 5);
}

/* ---- N waiters, IFR_ALL ---------------------------------------------------- */

enum { NW = 8 };

typedef struct {
    ifr_word gate;
    atomic_int arrived;
    atomic_int woke;
    int payload;
    int seen[NW];
} gate_ctx;

typedef struct {
    gate_ctx *g;
    int idx;
} gate_arg;

static void gate_waiter(void *arg)
{
    gate_arg *a = arg;
    gate_ctx *g = a->g;
    atomic_fetch_add(&g->arrived, 1);
    int64_t dl = ifr_deadline(10 * T_SEC);
    while (t_load(&g->gate) == 0) {
        int st = ifr_park(&g->gate, 0, dl);
        CHECK_MSG(st == IFR_OK, "waiter %d: park returned %s (a lost wake?)", a->idx,
                  ifr_strstatus(st));
    }
    g->seen[a->idx] = g->payload;
    atomic_fetch_add(&g->woke, 1);
}

static void wake_all_n(int n_arg)
{
    gate_ctx g;
    memset(&g, 0, sizeof g);
    gate_arg args[NW];
    t_thread *ts[NW];
    for (int i = 0; i < NW; i++) {
        args[i].g = &g;
        args[i].idx = i;
        ts[i] = t_spawn(gate_waiter, &args[i]);
    }
    WAIT_UNTIL(atomic_load(&g.arrived) == NW, 5000, "all waiters started");
    t_sleep_ms(20); /* most of them are parked in the kernel now */
    g.payload = 42;
    t_store(&g.gate, 1);
    ifr_unpark(&g.gate, n_arg); /* one call must wake them all */
    for (int i = 0; i < NW; i++)
        t_join(ts[i], 10000);
    CHECK_EQ(atomic_load(&g.woke), NW);
    for (int i = 0; i < NW; i++)
        CHECK_EQ(g.seen[i], 42);
}

static void wake_all(void)
{
    wake_all_n(IFR_ALL);
    wake_all_n(-1);
    wake_all_n(NW);
}

/* n == 1, called repeatedly, eventually wakes every waiter (each call wakes
 * at least one parked thread, if any). */
static void wake_one_at_a_time(void)
{
    gate_ctx g;
    memset(&g, 0, sizeof g);
    gate_arg args[NW];
    t_thread *ts[NW];
    for (int i = 0; i < NW; i++) {
        args[i].g = &g;
        args[i].idx = i;
        ts[i] = t_spawn(gate_waiter, &args[i]);
    }
    WAIT_UNTIL(atomic_load(&g.arrived) == NW, 5000, "all waiters started");
    t_sleep_ms(20);
    g.payload = 9;
    t_store(&g.gate, 1);
    int calls = 0;
    int64_t dl = t_now() + 10 * T_SEC;
    while (atomic_load(&g.woke) < NW) {
        CHECK_MSG(t_now() < dl, "only %d of %d woke after %d ifr_unpark(w, 1) calls",
                  atomic_load(&g.woke), NW, calls);
        ifr_unpark(&g.gate, 1);
        calls++;
        t_sleep_ms(1);
    }
    for (int i = 0; i < NW; i++)
        t_join(ts[i], 10000);
}

/* ---- many words, each woken on its own ---------------------------------- */
/* Waiters on 128 different words (adjacent, and spread in memory, so the
 * condvar backend's hashed buckets collide). Each word is woken alone, with
 * n = 1, and its waiter must wake: a wake consumed by a waiter of another
 * word in the same bucket would leave it parked (park reports a timeout).
 * Round 0 wakes in reverse arrival order (so within a bucket the waiter
 * parked first is never the one meant), round 1 in a shuffled order. */

enum { NWORDS = 128 };

typedef struct {
    ifr_word *word;
    atomic_int *arrived;
    atomic_int order; /* arrival rank */
    atomic_int done;
} word_arg;

static void word_waiter(void *p)
{
    word_arg *a = p;
    atomic_store(&a->order, atomic_fetch_add(a->arrived, 1));
    int64_t dl = ifr_deadline(20 * T_SEC);
    while (t_load(a->word) == 0) {
        int st = ifr_park(a->word, 0, dl);
        CHECK_MSG(st == IFR_OK, "park returned %s: a lost wake", ifr_strstatus(st));
    }
    atomic_store(&a->done, 1);
}

static void many_words_round(int round)
{
    ifr_word *words = t_xmalloc(sizeof(ifr_word) * NWORDS * 64);
    atomic_int arrived;
    atomic_init(&arrived, 0);
    word_arg *args = t_xmalloc(sizeof(word_arg) * NWORDS);
    t_thread *ts[NWORDS];
    for (int i = 0; i < NWORDS; i++) {
        /* half adjacent words, half spread by 256 bytes */
        args[i].word = i < NWORDS / 2 ? &words[i] : &words[(size_t)i * 64];
        args[i].arrived = &arrived;
        atomic_init(&args[i].done, 0);
        atomic_init(&args[i].order, -1);
        ts[i] = t_spawn(word_waiter, &args[i]);
    }
    WAIT_UNTIL(atomic_load(&arrived) == NWORDS, 10000, "all word waiters started");
    for (int i = 0; i < NWORDS; i++)
        WAIT_UNTIL(atomic_load(&args[i].order) >= 0, 10000, "arrival ranks recorded");
    t_sleep_ms(50);
    int order[NWORDS];
    for (int i = 0; i < NWORDS; i++)
        order[NWORDS - 1 - atomic_load(&args[i].order)] = i; /* latest arrival first */
    if (round == 1) {
        uint32_t seed = 12345;
        for (int i = NWORDS - 1; i > 0; i--) {
            int j = (int)(t_rand(&seed) % (uint32_t)(i + 1));
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
    }
    for (int k = 0; k < NWORDS; k++) {
        int i = order[k];
        t_store(args[i].word, 1);
        ifr_unpark(args[i].word, 1);
        WAIT_UNTIL(atomic_load(&args[i].done), 10000, "the woken word's waiter returns");
    }
    for (int i = 0; i < NWORDS; i++)
        t_join(ts[i], 10000);
    free(args);
    free(words);
}

static void many_words(void)
{
    many_words_round(0);
    many_words_round(1);
}

/* ---- ping-pong ------------------------------------------------------------ */

enum { ROUNDS = 20000 };

typedef struct {
    ifr_word turn; /* 0: A plays, 1: B plays */
    long payload;  /* plain; handed over through the turn word */
} pp_ctx;

typedef struct {
    pp_ctx *c;
    uint32_t me;
} pp_arg;

static void pp_player(void *p)
{
    pp_arg *a = p;
    pp_ctx *c = a->c;
    int64_t dl = ifr_deadline(60 * T_SEC);
    for (int r = 0; r < ROUNDS; r++) {
        uint32_t v;
        while ((v = t_load(&c->turn)) != a->me) {
            int st = ifr_park(&c->turn, v, dl);
            CHECK_MSG(st == IFR_OK, "round %d: park returned %s", r, ifr_strstatus(st));
        }
        CHECK_EQ(c->payload, 2L * r + a->me);
        c->payload++;
        t_store(&c->turn, 1u - a->me);
        ifr_unpark(&c->turn, 1);
    }
}

static void ping_pong(void)
{
    pp_ctx c = {0, 0};
    pp_arg a = {&c, 0}, b = {&c, 1};
    t_thread *tb = t_spawn(pp_player, &b);
    t_thread *ta = t_spawn(pp_player, &a);
    t_join(ta, 60000);
    t_join(tb, 60000);
    CHECK_EQ(c.payload, 2L * ROUNDS);
}

T_MAIN(T_CASE(already_differs), T_CASE(wait_wake), T_CASE(timeouts), T_CASE(wake_all),
       T_CASE(wake_one_at_a_time), T_CASE(many_words), T_CASE(ping_pong))
