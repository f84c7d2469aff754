/*
 * test_mailbox.c — ifr_mailbox: FIFO order, NULL items, poll/len, get with
 * timeout, blocking get woken by put and by close, close semantics, the
 * dispose callback on release, close_drain, and several producers x
 * several consumers under contention (every item exactly once, per-producer
 * order kept, item contents published through put/get).
 */
#include "harness.h"

#define I2P(i) ((void *)(intptr_t)(i))
#define P2I(p) ((intptr_t)(p))

/* A disposer that records what it was given (items are small ints). */
static atomic_int disposed_count;
static atomic_llong disposed_sum;
static void count_dispose(void *item)
{
    atomic_fetch_add(&disposed_count, 1);
    atomic_fetch_add(&disposed_sum, (long long)P2I(item));
}
static void reset_dispose(void)
{
    atomic_store(&disposed_count, 0);
    atomic_store(&disposed_sum, 0);
}

/* A disposer for heap items (ASan's leak check counts what it misses). */
static atomic_int freed_count;
static void free_dispose(void *item)
{
    atomic_fetch_add(&freed_count, 1);
    free(item);
}

static void fifo(void)
{
    ifr_mailbox *mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    CHECK_EQ(ifr_mailbox_is_closed(mb), 0);
    for (int i = 1; i <= 1000; i++) {
        CHECK_ST(ifr_mailbox_put(mb, I2P(i)), IFR_OK);
        CHECK_EQ(ifr_mailbox_len(mb), i);
    }
    void *item = NULL;
    for (int i = 1; i <= 1000; i++) {
        if (i % 3 == 0)
            CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_OK);
        else if (i % 3 == 1)
            CHECK_ST(ifr_mailbox_get(mb, &item, -1), IFR_OK);
        else /* an expired deadline still takes an available item */
            CHECK_ST(ifr_mailbox_get(mb, &item, 0), IFR_OK);
        CHECK_EQ(P2I(item), i);
        CHECK_EQ(ifr_mailbox_len(mb), 1000 - i);
    }
    /* interleaved put/take keeps order across the queue's internal blocks */
    int next_put = 0, next_get = 0;
    for (int round = 0; round < 200; round++) {
        for (int k = 0; k < 7; k++)
            CHECK_ST(ifr_mailbox_put(mb, I2P(next_put++)), IFR_OK);
        for (int k = 0; k < 5; k++) {
            CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_OK);
            CHECK_EQ(P2I(item), next_get++);
        }
    }
    CHECK_EQ(ifr_mailbox_len(mb), next_put - next_get);
    while (next_get < next_put) {
        CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_OK);
        CHECK_EQ(P2I(item), next_get++);
    }
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_EMPTY);
    ifr_mailbox_release(mb);
}

static void null_items_and_poll(void)
{
    ifr_mailbox *mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    void *item = I2P(99);
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_EMPTY);
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_EMPTY);
    CHECK_ST(ifr_mailbox_put(mb, NULL), IFR_OK);
    CHECK_ST(ifr_mailbox_put(mb, I2P(1)), IFR_OK);
    CHECK_ST(ifr_mailbox_put(mb, NULL), IFR_OK);
    CHECK_EQ(ifr_mailbox_len(mb), 3);
    item = I2P(99);
    CHECK_ST(ifr_mailbox_get(mb, &item, 0), IFR_OK);
    CHECK_PTR(item, NULL);
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_OK);
    CHECK_PTR(item, I2P(1));
    item = I2P(99);
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_OK);
    CHECK_PTR(item, NULL);
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_EMPTY);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    ifr_mailbox_release(mb);
}

static void get_timeout(void)
{
    ifr_mailbox *mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    void *item;
    for (int i = 0; i < 3; i++) {
        int64_t start = ifr_now_ns();
        int64_t dl = start + 20 * T_MS;
        CHECK_ST(ifr_mailbox_get(mb, &item, dl), IFR_TIMEOUT);
        int64_t end = ifr_now_ns();
        CHECK_MSG(end >= dl, "timeout %lld ns early", (long long)(dl - end));
        CHECK_CMP(end - start, <, 1500 * T_MS);
    }
    CHECK_ST(ifr_mailbox_get(mb, &item, 0), IFR_TIMEOUT);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    ifr_mailbox_release(mb);
}

/* ---- blocking get woken by put / by close -------------------------------------- */

typedef struct {
    ifr_mailbox *mb;
    atomic_int started;
    int status;
    void *item;
} getter_ctx;

static void getter(void *p)
{
    getter_ctx *g = p;
    atomic_store(&g->started, 1);
    int64_t t0 = t_now();
    g->status = ifr_mailbox_get(g->mb, &g->item, ifr_deadline(20 * T_SEC));
    CHECK_PROMPT(t0, "a blocked ifr_mailbox_get");
}

static void blocking_get(void)
{
    ifr_mailbox *mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    getter_ctx g;
    memset(&g, 0, sizeof g);
    g.mb = mb;
    t_thread *t = t_spawn(getter, &g);
    WAIT_UNTIL(atomic_load(&g.started), 5000, "getter started");
    t_sleep_ms(20);
    CHECK_ST(ifr_mailbox_put(mb, I2P(31)), IFR_OK);
    t_join(t, 10000);
    CHECK_ST(g.status, IFR_OK);
    CHECK_PTR(g.item, I2P(31));
    CHECK_EQ(ifr_mailbox_len(mb), 0);

    /* close wakes a blocked getter with IFR_CLOSED */
    memset(&g, 0, sizeof g);
    g.mb = mb;
    t = t_spawn(getter, &g);
    WAIT_UNTIL(atomic_load(&g.started), 5000, "getter started");
    t_sleep_ms(20);
    ifr_mailbox_close(mb);
    t_join(t, 10000);
    CHECK_ST(g.status, IFR_CLOSED);
    ifr_mailbox_release(mb);
}

/* ---- poke: a wake-up hint that changes nothing ------------------------------------ */

static void poke(void)
{
    ifr_mailbox *mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    uint32_t seq = ifr_mailbox_seq(mb);
    ifr_mailbox_poke(mb); /* nobody waiting: nothing happens */
    CHECK_EQ(ifr_mailbox_seq(mb), seq);
    CHECK_EQ(ifr_mailbox_len(mb), 0);

    getter_ctx g;
    memset(&g, 0, sizeof g);
    g.mb = mb;
    g.status = -12345;
    t_thread *t = t_spawn(getter, &g);
    WAIT_UNTIL(atomic_load(&g.started), 5000, "getter started");
    /* poked while it spins, parks, or spins again after a poke: it keeps
     * waiting (no item, no status), and the sequence number stays */
    for (int i = 0; i < 30; i++) {
        t_sleep_ms(2);
        ifr_mailbox_poke(mb);
    }
    t_sleep_ms(20);
    CHECK_EQ(g.status, -12345); /* plain read: the getter has not returned */
    CHECK_EQ(ifr_mailbox_seq(mb), seq);
    CHECK_ST(ifr_mailbox_put(mb, I2P(77)), IFR_OK);
    t_join(t, 10000);
    CHECK_ST(g.status, IFR_OK);
    CHECK_PTR(g.item, I2P(77));

    /* deferred: done by this thread's next flush; a second one does the
     * first at once; a pending poke keeps its mailbox alive (ASan checks) */
    ifr_mailbox *other = ifr_mailbox_new(NULL);
    CHECK(other != NULL);
    seq = ifr_mailbox_seq(mb);
    ifr_mailbox_poke_deferred(mb);
    ifr_mailbox_poke_deferred(other);
    ifr_mailbox_release(other); /* still referenced by the pending poke */
    ifr_flush_deferred();
    ifr_flush_deferred(); /* nothing pending: nothing happens */
    CHECK_EQ(ifr_mailbox_seq(mb), seq);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    ifr_mailbox_release(mb);
}

/* ---- close semantics ------------------------------------------------------------ */

static void close_semantics(void)
{
    reset_dispose();
    ifr_mailbox *mb = ifr_mailbox_new(count_dispose);
    CHECK(mb != NULL);
    CHECK_ST(ifr_mailbox_put(mb, I2P(1)), IFR_OK);
    CHECK_ST(ifr_mailbox_put(mb, I2P(2)), IFR_OK);
    ifr_mailbox_close(mb);
    CHECK_EQ(ifr_mailbox_is_closed(mb), 1);
    /* put after close fails, and the caller keeps the item (no dispose) */
    CHECK_ST(ifr_mailbox_put(mb, I2P(1000)), IFR_CLOSED);
    CHECK_EQ(atomic_load(&disposed_count), 0);
    CHECK_EQ(ifr_mailbox_len(mb), 2);
    ifr_mailbox_close(mb); /* idempotent */
    CHECK_EQ(ifr_mailbox_is_closed(mb), 1);
    CHECK_EQ(ifr_mailbox_len(mb), 2);
    /* items still readable after close, then IFR_CLOSED */
    void *item = NULL;
    CHECK_ST(ifr_mailbox_get(mb, &item, -1), IFR_OK);
    CHECK_PTR(item, I2P(1));
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_OK);
    CHECK_PTR(item, I2P(2));
    int64_t t0 = t_now();
    CHECK_ST(ifr_mailbox_get(mb, &item, -1), IFR_CLOSED); /* must not block */
    CHECK_ST(ifr_mailbox_get(mb, &item, 0), IFR_CLOSED);
    CHECK_ST(ifr_mailbox_get(mb, &item, ifr_deadline(T_SEC)), IFR_CLOSED);
    CHECK_CMP(t_now() - t0, <, 500 * T_MS);
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_CLOSED);
    CHECK_ST(ifr_mailbox_put(mb, NULL), IFR_CLOSED);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    ifr_mailbox_release(mb);
    CHECK_EQ(atomic_load(&disposed_count), 0);

    /* close an empty mailbox: gets return IFR_CLOSED at once */
    mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    ifr_mailbox_close(mb);
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_CLOSED);
    CHECK_ST(ifr_mailbox_get(mb, &item, -1), IFR_CLOSED);
    ifr_mailbox_release(mb);
}

static void release_mb(void *mb) { ifr_mailbox_release(mb); }

/* ---- dispose on the last release ---------------------------------------------- */

static void dispose_on_release(void)
{
    reset_dispose();
    ifr_mailbox *mb = ifr_mailbox_new(count_dispose);
    CHECK(mb != NULL);
    long long want_sum = 0;
    for (int i = 1; i <= 10; i++)
        CHECK_ST(ifr_mailbox_put(mb, I2P(i)), IFR_OK);
    void *item;
    for (int i = 1; i <= 3; i++) {
        CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_OK);
        CHECK_EQ(P2I(item), i);
    }
    for (int i = 4; i <= 10; i++)
        want_sum += i;
    ifr_mailbox_retain(mb);
    ifr_mailbox_release(mb);
    CHECK_EQ(atomic_load(&disposed_count), 0); /* not the last reference */
    CHECK_EQ(ifr_mailbox_len(mb), 7);
    ifr_mailbox_release(mb);
    CHECK_EQ(atomic_load(&disposed_count), 7);
    CHECK_EQ(atomic_load(&disposed_sum), want_sum);

    /* closed, with items: still disposed on release */
    reset_dispose();
    mb = ifr_mailbox_new(count_dispose);
    CHECK(mb != NULL);
    CHECK_ST(ifr_mailbox_put(mb, I2P(5)), IFR_OK);
    ifr_mailbox_close(mb);
    ifr_mailbox_release(mb);
    CHECK_EQ(atomic_load(&disposed_count), 1);
    CHECK_EQ(atomic_load(&disposed_sum), 5);

    /* heap items: none leaked (LeakSanitizer), none freed twice (ASan) */
    atomic_store(&freed_count, 0);
    mb = ifr_mailbox_new(free_dispose);
    CHECK(mb != NULL);
    for (int i = 0; i < 100; i++)
        CHECK_ST(ifr_mailbox_put(mb, t_xmalloc(16)), IFR_OK);
    for (int i = 0; i < 40; i++) {
        CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_OK);
        free(item);
    }
    /* the last reference dropped by another thread */
    ifr_mailbox_retain(mb);
    t_thread *t = t_spawn(release_mb, mb);
    t_join(t, 10000);
    CHECK_EQ(atomic_load(&freed_count), 0);
    ifr_mailbox_release(mb);
    CHECK_EQ(atomic_load(&freed_count), 60);

    /* no disposer: releasing with items inside is fine */
    mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    CHECK_ST(ifr_mailbox_put(mb, I2P(1)), IFR_OK);
    ifr_mailbox_release(mb);
}

/* ---- close_drain -------------------------------------------------------------- */

typedef struct {
    int n;
    intptr_t items[64];
} drain_rec;

static void drain_fn(void *item, void *ctx)
{
    drain_rec *r = ctx;
    CHECK_CMP(r->n, <, 64);
    r->items[r->n++] = P2I(item);
}

static void close_drain(void)
{
    reset_dispose();
    ifr_mailbox *mb = ifr_mailbox_new(count_dispose);
    CHECK(mb != NULL);
    for (int i = 1; i <= 20; i++)
        CHECK_ST(ifr_mailbox_put(mb, I2P(i)), IFR_OK);
    void *item;
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_OK); /* takes 1 */
    drain_rec r;
    memset(&r, 0, sizeof r);
    ifr_mailbox_close_drain(mb, drain_fn, &r);
    CHECK_EQ(r.n, 19);
    for (int i = 0; i < 19; i++)
        CHECK_EQ(r.items[i], i + 2);
    CHECK_EQ(ifr_mailbox_is_closed(mb), 1);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_CLOSED);
    CHECK_ST(ifr_mailbox_get(mb, &item, -1), IFR_CLOSED);
    CHECK_ST(ifr_mailbox_put(mb, I2P(7)), IFR_CLOSED);
    /* a second drain finds nothing */
    memset(&r, 0, sizeof r);
    ifr_mailbox_close_drain(mb, drain_fn, &r);
    CHECK_EQ(r.n, 0);
    ifr_mailbox_release(mb);
    CHECK_EQ(atomic_load(&disposed_count), 0); /* fn owned them, not dispose */

    /* drain with fn == NULL empties and closes */
    mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    for (int i = 0; i < 5; i++)
        CHECK_ST(ifr_mailbox_put(mb, I2P(i)), IFR_OK);
    ifr_mailbox_close_drain(mb, NULL, NULL);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    CHECK_EQ(ifr_mailbox_is_closed(mb), 1);
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_CLOSED);
    ifr_mailbox_release(mb);

    /* close_drain wakes a blocked getter */
    mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    getter_ctx g;
    memset(&g, 0, sizeof g);
    g.mb = mb;
    t_thread *t = t_spawn(getter, &g);
    WAIT_UNTIL(atomic_load(&g.started), 5000, "getter started");
    t_sleep_ms(10);
    ifr_mailbox_close_drain(mb, NULL, NULL);
    t_join(t, 10000);
    CHECK_ST(g.status, IFR_CLOSED);
    ifr_mailbox_release(mb);
}

/* ---- several producers x several consumers ---------------------------------- */

enum { NPROD = 4, NCONS = 4, PER_PROD = 10000 };

typedef struct {
    int producer;
    int seq;
    uint32_t check; /* a function of (producer, seq): read after get */
} mitem;

typedef struct {
    ifr_mailbox *mb;
    atomic_int received[NPROD][PER_PROD];
    atomic_int total;
    atomic_int timeouts;
} mpmc_ctx;

typedef struct {
    mpmc_ctx *c;
    int idx;
} mpmc_arg;

static uint32_t mix(int p, int s) { return (uint32_t)p * 2654435761u ^ (uint32_t)s * 40503u; }

static void producer(void *p)
{
    mpmc_arg *a = p;
    for (int s = 0; s < PER_PROD; s++) {
        mitem *it = malloc(sizeof *it);
        CHECK(it != NULL);
        it->producer = a->idx;
        it->seq = s;
        it->check = mix(a->idx, s);
        CHECK_ST(ifr_mailbox_put(a->c->mb, it), IFR_OK);
        if (s % 1024 == 0)
            sched_yield();
    }
}

static void consumer(void *p)
{
    mpmc_arg *a = p;
    mpmc_ctx *c = a->c;
    int last[NPROD];
    for (int i = 0; i < NPROD; i++)
        last[i] = -1;
    for (;;) {
        void *item = NULL;
        int st;
        if (a->idx % 2 == 0) {
            int64_t t0 = t_now();
            st = ifr_mailbox_get(c->mb, &item, ifr_deadline(30 * T_SEC));
            CHECK_PROMPT(t0, "ifr_mailbox_get under contention");
        } else {
            /* short deadlines: a getter that times out must not lose an item */
            st = ifr_mailbox_get(c->mb, &item, ifr_deadline(200 * 1000));
            if (st == IFR_TIMEOUT) {
                atomic_fetch_add(&c->timeouts, 1);
                continue;
            }
            if (st == IFR_EMPTY)
                CHECK_MSG(0, "get returned IFR_EMPTY");
        }
        if (st == IFR_CLOSED)
            break;
        CHECK_ST(st, IFR_OK);
        mitem *it = item;
        CHECK(it != NULL);
        CHECK(it->producer >= 0 && it->producer < NPROD);
        CHECK(it->seq >= 0 && it->seq < PER_PROD);
        CHECK_EQ(it->check, mix(it->producer, it->seq));
        /* per-producer order as seen by this consumer */
        CHECK_MSG(it->seq > last[it->producer],
                  "consumer %d got producer %d's item %d after %d", a->idx, it->producer,
                  it->seq, last[it->producer]);
        last[it->producer] = it->seq;
        int prev = atomic_fetch_add(&c->received[it->producer][it->seq], 1);
        CHECK_MSG(prev == 0, "item (%d, %d) received twice", it->producer, it->seq);
        atomic_fetch_add(&c->total, 1);
        free(it);
    }
}

static void producers_consumers(void)
{
    mpmc_ctx *c = t_xmalloc(sizeof *c);
    c->mb = ifr_mailbox_new(free_dispose);
    CHECK(c->mb != NULL);
    atomic_store(&freed_count, 0);
    mpmc_arg pa[NPROD], ca[NCONS];
    t_thread *pt[NPROD], *ct[NCONS];
    for (int i = 0; i < NCONS; i++) {
        ca[i].c = c;
        ca[i].idx = i;
        ct[i] = t_spawn(consumer, &ca[i]);
    }
    for (int i = 0; i < NPROD; i++) {
        pa[i].c = c;
        pa[i].idx = i;
        pt[i] = t_spawn(producer, &pa[i]);
    }
    for (int i = 0; i < NPROD; i++)
        t_join(pt[i], 60000);
    ifr_mailbox_close(c->mb); /* consumers drain what is left, then stop */
    for (int i = 0; i < NCONS; i++)
        t_join(ct[i], 60000);
    CHECK_EQ(atomic_load(&c->total), NPROD * PER_PROD);
    for (int p = 0; p < NPROD; p++)
        for (int s = 0; s < PER_PROD; s++)
            CHECK_MSG(atomic_load(&c->received[p][s]) == 1, "item (%d, %d) received %d times",
                      p, s, atomic_load(&c->received[p][s]));
    CHECK_EQ(ifr_mailbox_len(c->mb), 0);
    ifr_mailbox_release(c->mb);
    CHECK_EQ(atomic_load(&freed_count), 0);
    printf("  (%d short-deadline timeouts)\n", atomic_load(&c->timeouts));
    free(c);
}

/* ---- put/get ping-pong across two mailboxes ------------------------------------ */
/* Exercises the spin-then-park hand-off in both directions. */

enum { PP_ROUNDS = 5000 };

typedef struct {
    ifr_mailbox *to_b, *to_a;
} pp_ctx;

static void pp_echo(void *p)
{
    pp_ctx *c = p;
    for (int i = 0; i < PP_ROUNDS; i++) {
        void *item;
        int64_t t0 = t_now();
        CHECK_ST(ifr_mailbox_get(c->to_b, &item, ifr_deadline(30 * T_SEC)), IFR_OK);
        CHECK_PROMPT(t0, "ping-pong get");
        CHECK_EQ(P2I(item), i);
        CHECK_ST(ifr_mailbox_put(c->to_a, I2P(i + 1)), IFR_OK);
    }
}

static void ping_pong(void)
{
    pp_ctx c;
    c.to_b = ifr_mailbox_new(NULL);
    c.to_a = ifr_mailbox_new(NULL);
    CHECK(c.to_a != NULL && c.to_b != NULL);
    t_thread *t = t_spawn(pp_echo, &c);
    for (int i = 0; i < PP_ROUNDS; i++) {
        CHECK_ST(ifr_mailbox_put(c.to_b, I2P(i)), IFR_OK);
        void *item;
        int64_t t0 = t_now();
        CHECK_ST(ifr_mailbox_get(c.to_a, &item, ifr_deadline(30 * T_SEC)), IFR_OK);
        CHECK_PROMPT(t0, "ping-pong get");
        CHECK_EQ(P2I(item), i + 1);
    }
    t_join(t, 30000);
    ifr_mailbox_release(c.to_a);
    ifr_mailbox_release(c.to_b);
}

T_MAIN(T_CASE(fifo), T_CASE(null_items_and_poll), T_CASE(get_timeout), T_CASE(blocking_get), T_CASE(poke),
       T_CASE(close_semantics), T_CASE(dispose_on_release), T_CASE(close_drain),
       T_CASE(producers_consumers), T_CASE(ping_pong))
