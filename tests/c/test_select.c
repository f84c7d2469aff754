/*
 * test_select.c — ifr_select: argument checks, lowest index wins, each kind
 * of waitable (event, mailbox item, mailbox closed, proc ready, proc exit),
 * a firing mailbox gives up exactly one item, wake-ups from other threads,
 * timeouts, repeated waitables, and contention (several selecting consumers
 * on one mailbox; one consumer over several mailboxes; a fast setter
 * racing a selector's registration).
 */
#include "harness.h"

#define I2P(i) ((void *)(intptr_t)(i))
#define P2I(p) ((intptr_t)(p))

static ifr_waitable W(int kind, void *obj)
{
    ifr_waitable w;
    w.kind = kind;
    w.obj = obj;
    return w;
}

static void invalid_args(void)
{
    ifr_event *ev = ifr_event_new();
    CHECK(ev != NULL);
    ifr_selected out;
    ifr_waitable ws[2] = {W(IFR_W_EVENT, ev), W(IFR_W_EVENT, ev)};
    CHECK_ST(ifr_select(ws, 0, 0, &out), IFR_INVALID);
    CHECK_ST(ifr_select(NULL, 0, 0, &out), IFR_INVALID);
    CHECK_ST(ifr_select(ws, 0, -1, &out), IFR_INVALID); /* must not block */
    ws[0] = W(99, ev);
    CHECK_ST(ifr_select(ws, 1, -1, &out), IFR_INVALID);
    ws[0] = W(0, ev);
    CHECK_ST(ifr_select(ws, 1, -1, &out), IFR_INVALID);
    ws[0] = W(IFR_W_MAILBOX, NULL);
    CHECK_ST(ifr_select(ws, 1, -1, &out), IFR_INVALID);
    ws[0] = W(IFR_W_PROC_EXIT, NULL);
    CHECK_ST(ifr_select(ws, 1, -1, &out), IFR_INVALID);
    /* a bad waitable after a good, not-ready one: invalid, not a wait */
    ws[0] = W(IFR_W_EVENT, ev);
    ws[1] = W(IFR_W_EVENT, NULL);
    CHECK_ST(ifr_select(ws, 2, ifr_deadline(T_SEC), &out), IFR_INVALID);
    ifr_event_release(ev);
}

static void lowest_index_wins(void)
{
    ifr_event *e0 = ifr_event_new(), *e1 = ifr_event_new(), *e2 = ifr_event_new();
    ifr_mailbox *ma = ifr_mailbox_new(NULL), *mb = ifr_mailbox_new(NULL);
    CHECK(e0 && e1 && e2 && ma && mb);
    ifr_event_set(e1);
    ifr_event_set(e2);
    ifr_selected out;
    ifr_waitable ws[5] = {W(IFR_W_EVENT, e0), W(IFR_W_EVENT, e1), W(IFR_W_EVENT, e2)};
    for (int i = 0; i < 10; i++) {
        memset(&out, 0xff, sizeof out);
        CHECK_ST(ifr_select(ws, 3, -1, &out), IFR_OK);
        CHECK_EQ(out.index, 1);
    }
    /* [empty mailbox, set event, mailbox with items]: the event wins and the
     * later mailbox is untouched */
    CHECK_ST(ifr_mailbox_put(mb, I2P(1)), IFR_OK);
    CHECK_ST(ifr_mailbox_put(mb, I2P(2)), IFR_OK);
    ws[0] = W(IFR_W_MAILBOX, ma);
    ws[1] = W(IFR_W_EVENT, e1);
    ws[2] = W(IFR_W_MAILBOX, mb);
    CHECK_ST(ifr_select(ws, 3, 0, &out), IFR_OK);
    CHECK_EQ(out.index, 1);
    CHECK_EQ(ifr_mailbox_len(mb), 2);
    /* [mailbox with items, set event]: the mailbox wins, one item taken */
    ws[0] = W(IFR_W_MAILBOX, mb);
    ws[1] = W(IFR_W_EVENT, e1);
    CHECK_ST(ifr_select(ws, 2, 0, &out), IFR_OK);
    CHECK_EQ(out.index, 0);
    CHECK_PTR(out.item, I2P(1));
    CHECK_EQ(out.closed, 0);
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    /* two ready mailboxes: only the first gives up an item */
    CHECK_ST(ifr_mailbox_put(ma, I2P(10)), IFR_OK);
    ws[0] = W(IFR_W_EVENT, e0);
    ws[1] = W(IFR_W_MAILBOX, ma);
    ws[2] = W(IFR_W_MAILBOX, mb);
    CHECK_ST(ifr_select(ws, 3, 0, &out), IFR_OK);
    CHECK_EQ(out.index, 1);
    CHECK_PTR(out.item, I2P(10));
    CHECK_EQ(ifr_mailbox_len(ma), 0);
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    CHECK_ST(ifr_select(ws, 3, 0, &out), IFR_OK);
    CHECK_EQ(out.index, 2);
    CHECK_PTR(out.item, I2P(2));
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    CHECK_ST(ifr_select(ws, 3, 0, &out), IFR_TIMEOUT);
    ifr_event_release(e0);
    ifr_event_release(e1);
    ifr_event_release(e2);
    ifr_mailbox_release(ma);
    ifr_mailbox_release(mb);
}

static void each_kind(void)
{
    ifr_selected out;
    ifr_waitable w;

    ifr_event *ev = ifr_event_new();
    CHECK(ev != NULL);
    w = W(IFR_W_EVENT, ev);
    CHECK_ST(ifr_select(&w, 1, 0, &out), IFR_TIMEOUT);
    ifr_event_set(ev);
    CHECK_ST(ifr_select(&w, 1, 0, &out), IFR_OK);
    CHECK_EQ(out.index, 0);
    CHECK_ST(ifr_select(&w, 1, -1, &out), IFR_OK); /* level-triggered */
    ifr_event_release(ev);

    ifr_mailbox *mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    w = W(IFR_W_MAILBOX, mb);
    CHECK_ST(ifr_select(&w, 1, 0, &out), IFR_TIMEOUT);
    CHECK_ST(ifr_mailbox_put(mb, I2P(5)), IFR_OK);
    CHECK_ST(ifr_mailbox_put(mb, NULL), IFR_OK);
    CHECK_ST(ifr_mailbox_put(mb, I2P(6)), IFR_OK);
    CHECK_ST(ifr_select(&w, 1, 0, &out), IFR_OK);
    CHECK_EQ(out.index, 0);
    CHECK_PTR(out.item, I2P(5));
    CHECK_EQ(out.closed, 0);
    CHECK_EQ(ifr_mailbox_len(mb), 2);
    CHECK_ST(ifr_select(&w, 1, 0, &out), IFR_OK); /* a NULL item is an item */
    CHECK_PTR(out.item, NULL);
    CHECK_EQ(out.closed, 0);
    ifr_mailbox_close(mb);
    /* closed but not empty: the item first */
    CHECK_ST(ifr_select(&w, 1, -1, &out), IFR_OK);
    CHECK_PTR(out.item, I2P(6));
    CHECK_EQ(out.closed, 0);
    /* closed and empty: fires with closed = 1, every time */
    for (int i = 0; i < 3; i++) {
        out.closed = 0;
        CHECK_ST(ifr_select(&w, 1, -1, &out), IFR_OK);
        CHECK_EQ(out.index, 0);
        CHECK_EQ(out.closed, 1);
    }
    ifr_mailbox_release(mb);

    ifr_proc *p = ifr_proc_new(NULL);
    CHECK(p != NULL);
    ifr_waitable pw[2] = {W(IFR_W_PROC_READY, p), W(IFR_W_PROC_EXIT, p)};
    CHECK_ST(ifr_select(pw, 2, 0, &out), IFR_TIMEOUT);
    ifr_proc_start(p);
    CHECK_ST(ifr_select(pw, 2, 0, &out), IFR_TIMEOUT);
    ifr_proc_ready(p);
    CHECK_ST(ifr_select(pw, 2, 0, &out), IFR_OK);
    CHECK_EQ(out.index, 0);
    CHECK_ST(ifr_select(&pw[1], 1, 0, &out), IFR_TIMEOUT);
    ifr_proc_exit(p, NULL);
    CHECK_ST(ifr_select(&pw[1], 1, -1, &out), IFR_OK);
    CHECK_EQ(out.index, 0);
    CHECK_ST(ifr_select(pw, 2, -1, &out), IFR_OK); /* ready stays set */
    CHECK_EQ(out.index, 0);
    ifr_proc_release(p);

    /* PROC_READY never fires for a proc that exited without ready */
    p = ifr_proc_new(NULL);
    CHECK(p != NULL);
    ifr_proc_start(p);
    ifr_proc_exit(p, NULL);
    w = W(IFR_W_PROC_READY, p);
    int64_t dl = ifr_now_ns() + 20 * T_MS;
    CHECK_ST(ifr_select(&w, 1, dl, &out), IFR_TIMEOUT);
    CHECK_CMP(ifr_now_ns(), >=, dl);
    pw[0] = W(IFR_W_PROC_READY, p);
    pw[1] = W(IFR_W_PROC_EXIT, p);
    CHECK_ST(ifr_select(pw, 2, -1, &out), IFR_OK);
    CHECK_EQ(out.index, 1);
    ifr_proc_release(p);
}

static void timeout(void)
{
    ifr_event *ev = ifr_event_new();
    ifr_mailbox *mb = ifr_mailbox_new(NULL);
    ifr_proc *p = ifr_proc_new(NULL);
    CHECK(ev && mb && p);
    ifr_proc_start(p);
    ifr_waitable ws[4] = {W(IFR_W_EVENT, ev), W(IFR_W_MAILBOX, mb), W(IFR_W_PROC_READY, p),
                          W(IFR_W_PROC_EXIT, p)};
    ifr_selected out;
    for (int i = 0; i < 3; i++) {
        int64_t start = ifr_now_ns();
        int64_t dl = start + 20 * T_MS;
        CHECK_ST(ifr_select(ws, 4, dl, &out), IFR_TIMEOUT);
        int64_t end = ifr_now_ns();
        CHECK_MSG(end >= dl, "select timed out %lld ns early", (long long)(dl - end));
        CHECK_CMP(end - start, <, 1500 * T_MS);
    }
    int64_t t0 = t_now();
    CHECK_ST(ifr_select(ws, 4, 0, &out), IFR_TIMEOUT);
    CHECK_ST(ifr_select(ws, 4, ifr_now_ns() - T_SEC, &out), IFR_TIMEOUT);
    CHECK_CMP(t_now() - t0, <, 500 * T_MS);
    /* after timeouts, the waitables still work (no stale registration) */
    CHECK_ST(ifr_mailbox_put(mb, I2P(3)), IFR_OK);
    CHECK_ST(ifr_select(ws, 4, 0, &out), IFR_OK);
    CHECK_EQ(out.index, 1);
    CHECK_PTR(out.item, I2P(3));
    ifr_proc_exit(p, NULL);
    ifr_proc_release(p);
    ifr_mailbox_release(mb);
    ifr_event_release(ev);
}

static void repeated_waitables(void)
{
    ifr_event *ev = ifr_event_new();
    ifr_mailbox *mb = ifr_mailbox_new(NULL);
    CHECK(ev && mb);
    ifr_selected out;
    ifr_waitable ws[4] = {W(IFR_W_EVENT, ev), W(IFR_W_EVENT, ev), W(IFR_W_EVENT, ev)};
    CHECK_ST(ifr_select(ws, 3, ifr_deadline(5 * T_MS), &out), IFR_TIMEOUT);
    ifr_event_set(ev);
    CHECK_ST(ifr_select(ws, 3, -1, &out), IFR_OK);
    CHECK_EQ(out.index, 0);

    ws[0] = W(IFR_W_MAILBOX, mb);
    ws[1] = W(IFR_W_MAILBOX, mb);
    CHECK_ST(ifr_select(ws, 2, ifr_deadline(5 * T_MS), &out), IFR_TIMEOUT);
    CHECK_ST(ifr_mailbox_put(mb, I2P(1)), IFR_OK);
    CHECK_ST(ifr_mailbox_put(mb, I2P(2)), IFR_OK);
    CHECK_ST(ifr_select(ws, 2, -1, &out), IFR_OK);
    CHECK_EQ(out.index, 0);
    CHECK_PTR(out.item, I2P(1));
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    CHECK_ST(ifr_select(ws, 2, -1, &out), IFR_OK);
    CHECK_EQ(out.index, 0);
    CHECK_PTR(out.item, I2P(2));
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    CHECK_ST(ifr_select(ws, 2, ifr_deadline(5 * T_MS), &out), IFR_TIMEOUT);

    /* repeated, blocked, then woken from another thread (wakes once, and
     * the duplicate registration is cleaned up: ASan/TSan would see it) */
    ifr_proc *p = ifr_proc_new(NULL);
    CHECK(p != NULL);
    ifr_proc_start(p);
    ws[0] = W(IFR_W_PROC_EXIT, p);
    ws[1] = W(IFR_W_MAILBOX, mb);
    ws[2] = W(IFR_W_PROC_EXIT, p);
    ws[3] = W(IFR_W_MAILBOX, mb);
    CHECK_ST(ifr_select(ws, 4, ifr_deadline(5 * T_MS), &out), IFR_TIMEOUT);
    CHECK_ST(ifr_mailbox_put(mb, I2P(9)), IFR_OK);
    CHECK_ST(ifr_select(ws, 4, -1, &out), IFR_OK);
    CHECK_EQ(out.index, 1);
    CHECK_PTR(out.item, I2P(9));
    ifr_proc_exit(p, NULL);
    CHECK_ST(ifr_select(ws, 4, -1, &out), IFR_OK);
    CHECK_EQ(out.index, 0);
    ifr_proc_release(p);
    ifr_mailbox_release(mb);
    ifr_event_release(ev);
}

typedef struct {
    const ifr_waitable *ws;
    size_t n;
    atomic_int started;
    int status;
    ifr_selected out;
} sel_many_ctx;

static void sel_many(void *arg)
{
    sel_many_ctx *c = arg;
    atomic_store(&c->started, 1);
    int64_t t0 = t_now();
    c->status = ifr_select(c->ws, c->n, ifr_deadline(20 * T_SEC), &c->out);
    CHECK_PROMPT(t0, "a blocked ifr_select over many waitables");
}

/* ---- more waitables than fit in a small on-stack array ---------------------- */

enum { NMANY = 40 };

static void many_waitables(void)
{
    ifr_event *evs[NMANY / 2];
    ifr_mailbox *mbs[NMANY / 2];
    ifr_waitable ws[NMANY];
    for (int i = 0; i < NMANY / 2; i++) {
        evs[i] = ifr_event_new();
        mbs[i] = ifr_mailbox_new(NULL);
        CHECK(evs[i] && mbs[i]);
        ws[2 * i] = W(IFR_W_EVENT, evs[i]);
        ws[2 * i + 1] = W(IFR_W_MAILBOX, mbs[i]);
    }
    ifr_selected out;
    CHECK_ST(ifr_select(ws, NMANY, ifr_deadline(5 * T_MS), &out), IFR_TIMEOUT);
    /* the last one fires while the selector is blocked */
    sel_many_ctx c;
    memset(&c, 0, sizeof c);
    c.ws = ws;
    c.n = NMANY;
    t_thread *t = t_spawn(sel_many, &c);
    WAIT_UNTIL(atomic_load(&c.started), 5000, "selector started");
    t_sleep_ms(20);
    CHECK_ST(ifr_mailbox_put(mbs[NMANY / 2 - 1], I2P(42)), IFR_OK);
    t_join(t, 20000);
    CHECK_ST(c.status, IFR_OK);
    CHECK_EQ(c.out.index, NMANY - 1);
    CHECK_PTR(c.out.item, I2P(42));
    /* several ready: the lowest index */
    ifr_event_set(evs[15]);
    CHECK_ST(ifr_mailbox_put(mbs[7], I2P(7)), IFR_OK);
    CHECK_ST(ifr_mailbox_put(mbs[19], I2P(19)), IFR_OK);
    CHECK_ST(ifr_select(ws, NMANY, -1, &out), IFR_OK);
    CHECK_EQ(out.index, 15);
    CHECK_PTR(out.item, I2P(7));
    CHECK_ST(ifr_select(ws, NMANY, -1, &out), IFR_OK);
    CHECK_EQ(out.index, 30);
    CHECK_EQ(ifr_mailbox_len(mbs[19]), 1);
    for (int i = 0; i < NMANY / 2; i++) {
        ifr_event_release(evs[i]);
        ifr_mailbox_release(mbs[i]);
    }
}

/* ---- woken from another thread while blocked ------------------------------- */

enum { K_EVENT, K_PUT, K_CLOSE, K_READY, K_EXIT, K_COUNT };

typedef struct {
    ifr_waitable ws[6];
    size_t n;
    atomic_int started;
    int status;
    ifr_selected out;
} sel_ctx;

static void selector(void *arg)
{
    sel_ctx *c = arg;
    atomic_store(&c->started, 1);
    memset(&c->out, 0, sizeof c->out);
    int64_t t0 = t_now();
    c->status = ifr_select(c->ws, c->n, ifr_deadline(20 * T_SEC), &c->out);
    CHECK_PROMPT(t0, "a blocked ifr_select");
}

static void wakeup_from_other_thread(void)
{
    for (int round = 0; round < 3 * K_COUNT; round++) {
        int k = round % K_COUNT;
        ifr_event *never = ifr_event_new(), *ev = ifr_event_new();
        ifr_mailbox *mb = ifr_mailbox_new(NULL);
        ifr_proc *pr = ifr_proc_new(NULL), *pe = ifr_proc_new(NULL);
        CHECK(never && ev && mb && pr && pe);
        ifr_proc_start(pr);
        ifr_proc_start(pe);
        sel_ctx c;
        memset(&c, 0, sizeof c);
        c.ws[0] = W(IFR_W_EVENT, never);
        c.ws[1] = W(IFR_W_EVENT, ev);
        c.ws[2] = W(IFR_W_MAILBOX, mb);
        c.ws[3] = W(IFR_W_PROC_READY, pr);
        c.ws[4] = W(IFR_W_PROC_EXIT, pe);
        c.ws[5] = W(IFR_W_PROC_READY, pe); /* never: pe exits without ready */
        c.n = 6;
        t_thread *t = t_spawn(selector, &c);
        WAIT_UNTIL(atomic_load(&c.started), 5000, "selector started");
        t_sleep_ms(round < K_COUNT ? 20 : 1); /* parked, or racing the setup */
        size_t want = 0;
        switch (k) {
        case K_EVENT: ifr_event_set(ev); want = 1; break;
        case K_PUT: CHECK_ST(ifr_mailbox_put(mb, I2P(77)), IFR_OK); want = 2; break;
        case K_CLOSE: ifr_mailbox_close(mb); want = 2; break;
        case K_READY: ifr_proc_ready(pr); want = 3; break;
        case K_EXIT: ifr_proc_exit(pe, NULL); want = 4; break;
        }
        t_join(t, 20000);
        CHECK_ST(c.status, IFR_OK);
        CHECK_MSG(c.out.index == want, "round %d: index %zu, want %zu", round, c.out.index, want);
        if (k == K_PUT) {
            CHECK_PTR(c.out.item, I2P(77));
            CHECK_EQ(c.out.closed, 0);
            CHECK_EQ(ifr_mailbox_len(mb), 0);
        }
        if (k == K_CLOSE)
            CHECK_EQ(c.out.closed, 1);
        ifr_proc_exit(pr, NULL);
        ifr_proc_exit(pe, NULL);
        ifr_proc_release(pr);
        ifr_proc_release(pe);
        ifr_mailbox_release(mb);
        ifr_event_release(ev);
        ifr_event_release(never);
    }
}

/* ---- several selecting consumers on one mailbox ---------------------------- */
/* A selector woken for an item another consumer took must wait again, not
 * report an empty take: every item exactly once, then closed = 1 for all. */

enum { NSEL = 3, NITEMS = 20000 };

typedef struct {
    ifr_mailbox *mb;
    ifr_event *never;
    atomic_int seen[NITEMS];
    atomic_int total;
} msel_ctx;

static void msel_consumer(void *arg)
{
    msel_ctx *c = arg;
    ifr_waitable ws[2] = {W(IFR_W_EVENT, c->never), W(IFR_W_MAILBOX, c->mb)};
    intptr_t last = -1;
    for (;;) {
        ifr_selected out;
        int64_t t0 = t_now();
        CHECK_ST(ifr_select(ws, 2, ifr_deadline(30 * T_SEC), &out), IFR_OK);
        CHECK_PROMPT(t0, "ifr_select by competing consumers");
        CHECK_EQ(out.index, 1);
        if (out.closed) {
            CHECK_EQ(ifr_mailbox_len(c->mb), 0);
            break;
        }
        intptr_t v = P2I(out.item);
        CHECK(v >= 1 && v <= NITEMS);
        CHECK_MSG(v > last, "items out of order: %ld after %ld", (long)v, (long)last);
        last = v;
        CHECK_MSG(atomic_fetch_add(&c->seen[v - 1], 1) == 0, "item %ld taken twice", (long)v);
        atomic_fetch_add(&c->total, 1);
    }
}

static void selecting_consumers(void)
{
    msel_ctx *c = t_xmalloc(sizeof *c);
    c->mb = ifr_mailbox_new(NULL);
    c->never = ifr_event_new();
    CHECK(c->mb && c->never);
    t_thread *ts[NSEL];
    for (int i = 0; i < NSEL; i++)
        ts[i] = t_spawn(msel_consumer, c);
    for (int i = 1; i <= NITEMS; i++) {
        CHECK_ST(ifr_mailbox_put(c->mb, I2P(i)), IFR_OK);
        if (i % 500 == 0)
            t_sleep_ns(50000); /* let the consumers catch up and park */
    }
    ifr_mailbox_close(c->mb);
    for (int i = 0; i < NSEL; i++)
        t_join(ts[i], 60000);
    CHECK_EQ(atomic_load(&c->total), NITEMS);
    for (int i = 0; i < NITEMS; i++)
        CHECK_EQ(atomic_load(&c->seen[i]), 1);
    ifr_mailbox_release(c->mb);
    ifr_event_release(c->never);
    free(c);
}

/* ---- one consumer over several mailboxes ------------------------------------- */

enum { NMB = 4, PER_MB = 5000 };

typedef struct {
    ifr_mailbox *mbs[NMB];
    int idx;
} fan_arg;

static void fan_producer(void *arg)
{
    fan_arg *a = arg;
    for (int i = 0; i < PER_MB; i++) {
        CHECK_ST(ifr_mailbox_put(a->mbs[a->idx], I2P(i)), IFR_OK);
        if (i % 256 == 0)
            sched_yield();
    }
    ifr_mailbox_close(a->mbs[a->idx]);
}

static void fan_in(void)
{
    fan_arg args[NMB];
    ifr_mailbox *mbs[NMB];
    for (int i = 0; i < NMB; i++) {
        mbs[i] = ifr_mailbox_new(NULL);
        CHECK(mbs[i] != NULL);
    }
    t_thread *ts[NMB];
    for (int i = 0; i < NMB; i++) {
        memcpy(args[i].mbs, mbs, sizeof mbs);
        args[i].idx = i;
        ts[i] = t_spawn(fan_producer, &args[i]);
    }
    /* live[] maps select positions to mailbox numbers; closed ones leave */
    int live[NMB], nlive = NMB;
    int next[NMB];
    for (int i = 0; i < NMB; i++) {
        live[i] = i;
        next[i] = 0;
    }
    while (nlive > 0) {
        ifr_waitable ws[NMB];
        for (int i = 0; i < nlive; i++)
            ws[i] = W(IFR_W_MAILBOX, mbs[live[i]]);
        ifr_selected out;
        int64_t t0 = t_now();
        CHECK_ST(ifr_select(ws, (size_t)nlive, ifr_deadline(30 * T_SEC), &out), IFR_OK);
        CHECK_PROMPT(t0, "ifr_select over several mailboxes");
        CHECK_CMP(out.index, <, nlive);
        int m = live[out.index];
        if (out.closed) {
            CHECK_EQ(next[m], PER_MB);
            live[out.index] = live[--nlive];
            continue;
        }
        CHECK_EQ(P2I(out.item), next[m]);
        next[m]++;
    }
    for (int i = 0; i < NMB; i++) {
        t_join(ts[i], 30000);
        CHECK_EQ(next[i], PER_MB);
        ifr_mailbox_release(mbs[i]);
    }
}

/* ---- a fast setter racing the selector's registration ------------------------ */

enum { NRACE = 3000 };

typedef struct {
    ifr_event *evs[NRACE];
    ifr_mailbox *mb;
} race_ctx;

static void race_setter(void *arg)
{
    race_ctx *c = arg;
    for (int i = 0; i < NRACE; i++) {
        if (i % 2)
            ifr_event_set(c->evs[i]);
        else
            CHECK_ST(ifr_mailbox_put(c->mb, I2P(i)), IFR_OK);
        if (i % 100 == 0)
            t_sleep_ns(20000);
    }
}

static void registration_race(void)
{
    race_ctx *c = t_xmalloc(sizeof *c);
    ifr_event *never = ifr_event_new();
    c->mb = ifr_mailbox_new(NULL);
    CHECK(never && c->mb);
    for (int i = 0; i < NRACE; i++) {
        c->evs[i] = ifr_event_new();
        CHECK(c->evs[i] != NULL);
    }
    t_thread *t = t_spawn(race_setter, c);
    for (int i = 0; i < NRACE; i++) {
        ifr_waitable ws[3] = {W(IFR_W_EVENT, never), W(IFR_W_EVENT, c->evs[i]),
                              W(IFR_W_MAILBOX, c->mb)};
        ifr_selected out;
        int64_t t0 = t_now();
        if (i % 2) {
            /* the event (index 1) alone decides this round */
            CHECK_ST(ifr_select(ws, 2, ifr_deadline(20 * T_SEC), &out), IFR_OK);
            CHECK_EQ(out.index, 1);
        } else {
            ws[1] = ws[2];
            CHECK_ST(ifr_select(ws, 2, ifr_deadline(20 * T_SEC), &out), IFR_OK);
            CHECK_EQ(out.index, 1);
            CHECK_EQ(P2I(out.item), i);
        }
        CHECK_PROMPT(t0, "ifr_select racing a setter");
    }
    t_join(t, 30000);
    for (int i = 0; i < NRACE; i++)
        ifr_event_release(c->evs[i]);
    ifr_event_release(never);
    ifr_mailbox_release(c->mb);
    free(c);
}

T_MAIN(T_CASE(invalid_args), T_CASE(lowest_index_wins), T_CASE(each_kind), T_CASE(timeout),
       T_CASE(repeated_waitables), T_CASE(many_waitables), T_CASE(wakeup_from_other_thread), T_CASE(selecting_consumers),
       T_CASE(fan_in), T_CASE(registration_race))
