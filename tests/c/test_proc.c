/*
 * test_proc.c — ifr_proc: the state machine (NEW -> RUNNING -> [READY] ->
 * EXITED), the exit payload (visible after EXITED, kept by the caller on a
 * second exit, disposed when the proc is freed), signals (FIFO, closed and
 * drained at exit), ifr_proc_wait with masks and timeouts, 50 waiting
 * threads released by one exit, and subscriptions (ready/exit tags pushed
 * into a mailbox, late subscriptions delivered at once in ready-before-exit
 * order, undeliverable tags disposed, 1000 procs on one mailbox, subscribe
 * racing with ready/exit).
 */
#include "harness.h"

#define I2P(i) ((void *)(intptr_t)(i))
#define P2I(p) ((intptr_t)(p))

/* ---- payloads ------------------------------------------------------------ */

typedef struct {
    int a, b; /* plain fields, written before ifr_proc_exit */
} payload_t;

static atomic_int payload_disposed;
static void payload_dispose(void *p)
{
    if (p == NULL)
        return; /* tolerated: a proc that never exited has no payload */
    atomic_fetch_add(&payload_disposed, 1);
    free(p);
}

static payload_t *new_payload(int a)
{
    payload_t *p = t_xmalloc(sizeof *p);
    p->a = a;
    p->b = -a;
    return p;
}

/* ---- tags: heap objects whose disposal is recorded ---------------------- */

typedef struct {
    int id;
} tag_t;

static pthread_mutex_t disp_mu = PTHREAD_MUTEX_INITIALIZER;
enum { MAX_DISP = 8192 };
static int disp_ids[MAX_DISP];
static int disp_n;

static void tag_dispose(void *p)
{
    CHECK(p != NULL);
    tag_t *t = p;
    pthread_mutex_lock(&disp_mu);
    CHECK_CMP(disp_n, <, MAX_DISP);
    disp_ids[disp_n++] = t->id;
    pthread_mutex_unlock(&disp_mu);
    free(t);
}

static int disposed_n(void)
{
    pthread_mutex_lock(&disp_mu);
    int n = disp_n;
    pthread_mutex_unlock(&disp_mu);
    return n;
}

static int was_disposed(int id)
{
    int found = 0;
    pthread_mutex_lock(&disp_mu);
    for (int i = 0; i < disp_n; i++)
        found += disp_ids[i] == id;
    pthread_mutex_unlock(&disp_mu);
    return found;
}

static void reset_disposed(void)
{
    pthread_mutex_lock(&disp_mu);
    disp_n = 0;
    pthread_mutex_unlock(&disp_mu);
}

static tag_t *tag(int id)
{
    tag_t *t = t_xmalloc(sizeof *t);
    t->id = id;
    return t;
}

/* Take one tag without blocking and return its id (-1: empty/closed). */
static int poll_tag(ifr_mailbox *mb)
{
    void *item = NULL;
    int st = ifr_mailbox_poll(mb, &item);
    if (st != IFR_OK)
        return -1;
    CHECK(item != NULL);
    int id = ((tag_t *)item)->id;
    free(item);
    return id;
}

/* ---- the state machine ---------------------------------------------------- */

/* A new proc (no payload dispose function). */
static ifr_proc *new_proc(void)
{
    ifr_proc *p = ifr_proc_new(NULL);
    CHECK(p != NULL);
    return p;
}

/* A new proc, started (RUNNING). */
static ifr_proc *started_proc(void)
{
    ifr_proc *p = new_proc();
    ifr_proc_start(p);
    return p;
}

/* A mailbox whose dispose function records tags, with the record cleared. */
static ifr_mailbox *tag_mailbox(void)
{
    reset_disposed();
    ifr_mailbox *mb = ifr_mailbox_new(tag_dispose);
    CHECK(mb != NULL);
    return mb;
}

static void state_machine(void)
{
    atomic_store(&payload_disposed, 0);
    ifr_proc *p = ifr_proc_new(payload_dispose);
    CHECK(p != NULL);
    CHECK_EQ(ifr_proc_state(p), 0);
    CHECK_PTR(ifr_proc_payload(p), NULL);
    CHECK(ifr_proc_signals(p) != NULL);
    CHECK_EQ(ifr_mailbox_is_closed(ifr_proc_signals(p)), 0);

    CHECK_EQ(ifr_proc_start(p), 1);
    CHECK_EQ(ifr_proc_state(p), IFR_PROC_RUNNING);
    CHECK_EQ(ifr_proc_start(p), 0);
    CHECK_EQ(ifr_proc_state(p), IFR_PROC_RUNNING);

    CHECK_EQ(ifr_proc_ready(p), 1);
    CHECK_EQ(ifr_proc_state(p), IFR_PROC_RUNNING | IFR_PROC_READY);
    CHECK_EQ(ifr_proc_ready(p), 0);
    CHECK_EQ(ifr_proc_state(p), IFR_PROC_RUNNING | IFR_PROC_READY);
    CHECK_EQ(ifr_proc_start(p), 0);

    payload_t *pl = new_payload(11);
    CHECK_EQ(ifr_proc_exit(p, pl), 1);
    CHECK_EQ(ifr_proc_state(p), IFR_PROC_RUNNING | IFR_PROC_READY | IFR_PROC_EXITED);
    CHECK_PTR(ifr_proc_payload(p), pl);

    /* exit twice: 0, and the caller keeps the second payload */
    payload_t *pl2 = new_payload(22);
    CHECK_EQ(ifr_proc_exit(p, pl2), 0);
    CHECK_PTR(ifr_proc_payload(p), pl);
    CHECK_EQ(atomic_load(&payload_disposed), 0);
    free(pl2); /* ours: a double free under ASan if the proc disposed it */

    CHECK_EQ(ifr_proc_ready(p), 0);
    CHECK_EQ(ifr_proc_start(p), 0);
    CHECK_EQ(ifr_proc_state(p), IFR_PROC_RUNNING | IFR_PROC_READY | IFR_PROC_EXITED);

    /* disposed exactly once, on the last release */
    ifr_proc_retain(p);
    ifr_proc_release(p);
    CHECK_EQ(atomic_load(&payload_disposed), 0);
    CHECK_EQ(((payload_t *)ifr_proc_payload(p))->a, 11);
    ifr_proc_release(p);
    CHECK_EQ(atomic_load(&payload_disposed), 1);
}

static void ready_after_exit(void)
{
    atomic_store(&payload_disposed, 0);
    ifr_proc *p = ifr_proc_new(payload_dispose);
    CHECK(p != NULL);
    CHECK_EQ(ifr_proc_start(p), 1);
    CHECK_EQ(ifr_proc_exit(p, new_payload(1)), 1);
    CHECK_EQ(ifr_proc_state(p), IFR_PROC_RUNNING | IFR_PROC_EXITED);
    CHECK_EQ(ifr_proc_ready(p), 0);
    CHECK_EQ(ifr_proc_state(p) & IFR_PROC_READY, 0);
    CHECK_ST(ifr_proc_wait(p, IFR_PROC_READY, ifr_deadline(20 * T_MS)), IFR_TIMEOUT);
    CHECK_ST(ifr_proc_wait(p, IFR_PROC_READY | IFR_PROC_EXITED, 0), IFR_OK);
    ifr_proc_release(p);
    CHECK_EQ(atomic_load(&payload_disposed), 1);

    /* freed without ever exiting: no payload to dispose */
    p = ifr_proc_new(payload_dispose);
    CHECK(p != NULL);
    CHECK_EQ(ifr_proc_start(p), 1);
    ifr_proc_release(p);
    CHECK_EQ(atomic_load(&payload_disposed), 1);

    /* exit with a NULL payload */
    p = new_proc();
    CHECK_EQ(ifr_proc_start(p), 1);
    CHECK_EQ(ifr_proc_exit(p, NULL), 1);
    CHECK_PTR(ifr_proc_payload(p), NULL);
    CHECK_EQ(ifr_proc_exit(p, I2P(5)), 0);
    CHECK_PTR(ifr_proc_payload(p), NULL);
    ifr_proc_release(p);
}

/* ---- payload visible after EXITED ---------------------------------------- */

typedef struct {
    ifr_proc *p;
    int use_wait;
    int seen_a, seen_b;
} pv_ctx;

static void pv_observer(void *arg)
{
    pv_ctx *c = arg;
    if (c->use_wait) {
        int64_t t0 = t_now();
        CHECK_ST(ifr_proc_wait(c->p, IFR_PROC_EXITED, ifr_deadline(20 * T_SEC)), IFR_OK);
        CHECK_PROMPT(t0, "ifr_proc_wait for EXITED");
    } else {
        int64_t dl = t_now() + 10 * T_SEC;
        while (!(ifr_proc_state(c->p) & IFR_PROC_EXITED)) /* acquire load */
            CHECK_MSG(t_now() < dl, "EXITED never observed");
    }
    payload_t *pl = ifr_proc_payload(c->p);
    CHECK(pl != NULL);
    c->seen_a = pl->a; /* plain read: TSan checks the release/acquire */
    c->seen_b = pl->b;
}

static void payload_visible(void)
{
    for (int round = 0; round < 50; round++) {
        atomic_store(&payload_disposed, 0);
        pv_ctx c;
        memset(&c, 0, sizeof c);
        c.p = ifr_proc_new(payload_dispose);
        CHECK(c.p != NULL);
        c.use_wait = round % 2;
        ifr_proc_start(c.p);
        t_thread *t = t_spawn(pv_observer, &c);
        if (round % 3 == 0)
            t_sleep_ns(100000);
        payload_t *pl = malloc(sizeof *pl);
        CHECK(pl != NULL);
        pl->a = round;
        pl->b = round * 3;
        CHECK_EQ(ifr_proc_exit(c.p, pl), 1);
        t_join(t, 10000);
        CHECK_EQ(c.seen_a, round);
        CHECK_EQ(c.seen_b, round * 3);
        ifr_proc_release(c.p);
        CHECK_EQ(atomic_load(&payload_disposed), 1);
    }
}

/* ---- signals --------------------------------------------------------------- */

static void signals(void)
{
    ifr_proc *p = new_proc();
    ifr_mailbox *sigs = ifr_proc_signals(p);
    CHECK(sigs != NULL);
    CHECK_PTR(ifr_proc_signals(p), sigs);
    CHECK_ST(ifr_proc_signal(p, 15), IFR_OK); /* NEW: the mailbox is open */
    ifr_proc_start(p);
    CHECK_ST(ifr_proc_signal(p, 2), IFR_OK);
    CHECK_ST(ifr_proc_signal(p, 0), IFR_OK);
    CHECK_ST(ifr_proc_signal(p, -7), IFR_OK);
    CHECK_EQ(ifr_mailbox_len(sigs), 4);
    void *item;
    CHECK_ST(ifr_mailbox_get(sigs, &item, 0), IFR_OK);
    CHECK_EQ(P2I(item), 15);
    CHECK_ST(ifr_mailbox_poll(sigs, &item), IFR_OK);
    CHECK_EQ(P2I(item), 2);
    CHECK_ST(ifr_mailbox_poll(sigs, &item), IFR_OK);
    CHECK_EQ(P2I(item), 0);
    CHECK_ST(ifr_mailbox_poll(sigs, &item), IFR_OK);
    CHECK_EQ(P2I(item), -7);
    CHECK_ST(ifr_mailbox_poll(sigs, &item), IFR_EMPTY);

    for (int i = 0; i < 100; i++)
        CHECK_ST(ifr_proc_signal(p, i), IFR_OK);
    for (int i = 0; i < 50; i++) {
        CHECK_ST(ifr_mailbox_poll(sigs, &item), IFR_OK);
        CHECK_EQ(P2I(item), i);
    }
    ifr_proc_ready(p);
    CHECK_ST(ifr_proc_signal(p, 1), IFR_OK); /* READY: still open */
    CHECK_EQ(ifr_mailbox_len(sigs), 51);

    /* exit: closed and drained */
    CHECK_EQ(ifr_proc_exit(p, NULL), 1);
    CHECK_EQ(ifr_mailbox_is_closed(sigs), 1);
    CHECK_EQ(ifr_mailbox_len(sigs), 0);
    CHECK_ST(ifr_mailbox_poll(sigs, &item), IFR_CLOSED);
    CHECK_ST(ifr_mailbox_get(sigs, &item, -1), IFR_CLOSED);
    CHECK_ST(ifr_proc_signal(p, 9), IFR_CLOSED);
    CHECK_EQ(ifr_mailbox_len(sigs), 0);
    ifr_proc_release(p);
}

/* A thread blocked on the signal mailbox is woken by exit with IFR_CLOSED. */
typedef struct {
    ifr_proc *p;
    atomic_int started;
    int got[3];
    int final_status;
} sigwait_ctx;

static void sig_reader(void *arg)
{
    sigwait_ctx *c = arg;
    ifr_mailbox *sigs = ifr_proc_signals(c->p);
    atomic_store(&c->started, 1);
    void *item;
    for (int i = 0; i < 3; i++) {
        int64_t t0 = t_now();
        CHECK_ST(ifr_mailbox_get(sigs, &item, ifr_deadline(20 * T_SEC)), IFR_OK);
        CHECK_PROMPT(t0, "signal get");
        c->got[i] = (int)P2I(item);
    }
    int64_t t0 = t_now();
    c->final_status = ifr_mailbox_get(sigs, &item, ifr_deadline(20 * T_SEC));
    CHECK_PROMPT(t0, "signal get woken by exit");
}

static void signals_across_threads(void)
{
    sigwait_ctx c;
    memset(&c, 0, sizeof c);
    c.p = started_proc();
    t_thread *t = t_spawn(sig_reader, &c);
    WAIT_UNTIL(atomic_load(&c.started), 5000, "reader started");
    for (int i = 1; i <= 3; i++) {
        t_sleep_ms(2);
        CHECK_ST(ifr_proc_signal(c.p, i * 10), IFR_OK);
    }
    t_sleep_ms(20);
    ifr_proc_exit(c.p, NULL);
    t_join(t, 10000);
    CHECK_EQ(c.got[0], 10);
    CHECK_EQ(c.got[1], 20);
    CHECK_EQ(c.got[2], 30);
    CHECK_ST(c.final_status, IFR_CLOSED);
    ifr_proc_release(c.p);
}

/* ---- ifr_proc_wait ----------------------------------------------------------- */

static void wait_timeout_check(ifr_proc *p, uint32_t mask)
{
    int64_t start = ifr_now_ns();
    int64_t dl = start + 20 * T_MS;
    CHECK_ST(ifr_proc_wait(p, mask, dl), IFR_TIMEOUT);
    int64_t end = ifr_now_ns();
    CHECK_MSG(end >= dl, "timeout %lld ns early", (long long)(dl - end));
    CHECK_CMP(end - start, <, 1500 * T_MS);
}

static void wait_masks(void)
{
    ifr_proc *p = new_proc();
    wait_timeout_check(p, IFR_PROC_RUNNING);
    wait_timeout_check(p, IFR_PROC_READY);
    wait_timeout_check(p, IFR_PROC_READY | IFR_PROC_EXITED);
    CHECK_ST(ifr_proc_wait(p, IFR_PROC_EXITED, 0), IFR_TIMEOUT);
    ifr_proc_start(p);
    CHECK_ST(ifr_proc_wait(p, IFR_PROC_RUNNING, 0), IFR_OK);
    CHECK_ST(ifr_proc_wait(p, IFR_PROC_RUNNING, -1), IFR_OK);
    wait_timeout_check(p, IFR_PROC_READY);
    wait_timeout_check(p, IFR_PROC_EXITED);
    ifr_proc_ready(p);
    CHECK_ST(ifr_proc_wait(p, IFR_PROC_READY, -1), IFR_OK);
    CHECK_ST(ifr_proc_wait(p, IFR_PROC_READY | IFR_PROC_EXITED, 0), IFR_OK);
    wait_timeout_check(p, IFR_PROC_EXITED);
    ifr_proc_exit(p, NULL);
    CHECK_ST(ifr_proc_wait(p, IFR_PROC_EXITED, -1), IFR_OK);
    CHECK_ST(ifr_proc_wait(p, IFR_PROC_EXITED, 0), IFR_OK);
    CHECK_ST(ifr_proc_wait(p, IFR_PROC_READY, 0), IFR_OK);
    ifr_proc_release(p);
}

/* A waiter blocked on READY is released by ready from another thread; one
 * blocked on READY alone is NOT released by an exit without ready. */
typedef struct {
    ifr_proc *p;
    uint32_t mask;
    int64_t timeout_ns;
    atomic_int started;
    int status;
    uint32_t state_after;
} pw_ctx;

static void proc_waiter(void *arg)
{
    pw_ctx *c = arg;
    atomic_fetch_add(&c->started, 1);
    int64_t t0 = t_now();
    c->status = ifr_proc_wait(c->p, c->mask, ifr_deadline(c->timeout_ns));
    if (c->timeout_ns < 0 || c->timeout_ns > T_PROMPT_NS)
        CHECK_PROMPT(t0, "ifr_proc_wait woken by another thread");
    c->state_after = ifr_proc_state(c->p);
}

static void wait_across_threads(void)
{
    ifr_proc *p = started_proc();
    pw_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.mask = IFR_PROC_READY;
    c.timeout_ns = 10 * T_SEC;
    t_thread *t = t_spawn(proc_waiter, &c);
    WAIT_UNTIL(atomic_load(&c.started), 5000, "waiter started");
    t_sleep_ms(20);
    ifr_proc_ready(p);
    t_join(t, 10000);
    CHECK_ST(c.status, IFR_OK);
    CHECK(c.state_after & IFR_PROC_READY);
    ifr_proc_exit(p, NULL);
    ifr_proc_release(p);

    /* READY-only waiter, exit without ready: it times out (no false OK) */
    p = started_proc();
    memset(&c, 0, sizeof c);
    c.p = p;
    c.mask = IFR_PROC_READY;
    c.timeout_ns = 150 * T_MS;
    t = t_spawn(proc_waiter, &c);
    WAIT_UNTIL(atomic_load(&c.started), 5000, "waiter started");
    t_sleep_ms(10);
    ifr_proc_exit(p, NULL);
    t_join(t, 10000);
    CHECK_ST(c.status, IFR_TIMEOUT);
    CHECK_EQ(c.state_after & IFR_PROC_READY, 0);
    ifr_proc_release(p);
}

enum { NW50 = 50 };

static void fifty_waiters(void)
{
    ifr_proc *p = started_proc();
    pw_ctx *cs = t_xmalloc(sizeof(pw_ctx) * NW50);
    t_thread *ts[NW50];
    for (int i = 0; i < NW50; i++) {
        cs[i].p = p;
        cs[i].mask = i % 2 ? IFR_PROC_EXITED : IFR_PROC_READY | IFR_PROC_EXITED;
        cs[i].timeout_ns = i % 3 ? -1 : 30 * T_SEC;
        atomic_init(&cs[i].started, 0);
        ts[i] = t_spawn(proc_waiter, &cs[i]);
    }
    for (int i = 0; i < NW50; i++)
        WAIT_UNTIL(atomic_load(&cs[i].started), 5000, "waiters started");
    t_sleep_ms(30);
    CHECK_EQ(ifr_proc_exit(p, NULL), 1);
    for (int i = 0; i < NW50; i++)
        t_join(ts[i], 10000);
    for (int i = 0; i < NW50; i++) {
        CHECK_ST(cs[i].status, IFR_OK);
        CHECK(cs[i].state_after & IFR_PROC_EXITED);
    }
    free(cs);
    ifr_proc_release(p);
}

/* ---- subscriptions ------------------------------------------------------------ */

static void subscribe_basic(void)
{
    ifr_mailbox *mb = tag_mailbox();
    ifr_proc *p = new_proc();
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(1), tag(2)), IFR_OK);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    ifr_proc_start(p);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    ifr_proc_ready(p);
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    CHECK_EQ(poll_tag(mb), 1);
    ifr_proc_ready(p); /* no second delivery */
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    ifr_proc_exit(p, NULL);
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    CHECK_EQ(poll_tag(mb), 2);
    ifr_proc_exit(p, NULL);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    ifr_proc_release(p);
    ifr_mailbox_release(mb);
    CHECK_EQ(disposed_n(), 0);

    /* two subscriptions to the same proc, one mailbox each and a shared one */
    ifr_mailbox *a = ifr_mailbox_new(tag_dispose), *b = ifr_mailbox_new(tag_dispose);
    CHECK(a != NULL && b != NULL);
    p = started_proc();
    CHECK_ST(ifr_proc_subscribe(p, a, tag(10), tag(11)), IFR_OK);
    CHECK_ST(ifr_proc_subscribe(p, b, tag(20), tag(21)), IFR_OK);
    CHECK_ST(ifr_proc_subscribe(p, a, tag(30), tag(31)), IFR_OK);
    ifr_proc_ready(p);
    ifr_proc_exit(p, NULL);
    CHECK_EQ(ifr_mailbox_len(a), 4);
    CHECK_EQ(ifr_mailbox_len(b), 2);
    int ra[4];
    for (int i = 0; i < 4; i++)
        ra[i] = poll_tag(a);
    /* each subscription's ready precedes its exit, and all readies precede
     * all exits (ready happened first) */
    CHECK((ra[0] == 10 && ra[1] == 30) || (ra[0] == 30 && ra[1] == 10));
    CHECK((ra[2] == 11 && ra[3] == 31) || (ra[2] == 31 && ra[3] == 11));
    CHECK_EQ(poll_tag(b), 20);
    CHECK_EQ(poll_tag(b), 21);
    ifr_proc_release(p);
    ifr_mailbox_release(a);
    ifr_mailbox_release(b);
    CHECK_EQ(disposed_n(), 0);
}

static void subscribe_null_tags(void)
{
    ifr_mailbox *mb = tag_mailbox();
    ifr_proc *p = started_proc();
    CHECK_ST(ifr_proc_subscribe(p, mb, NULL, tag(2)), IFR_OK);
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(3), NULL), IFR_OK);
    CHECK_ST(ifr_proc_subscribe(p, mb, NULL, NULL), IFR_OK);
    ifr_proc_ready(p);
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    CHECK_EQ(poll_tag(mb), 3);
    ifr_proc_exit(p, NULL);
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    CHECK_EQ(poll_tag(mb), 2);
    ifr_proc_release(p);
    ifr_mailbox_release(mb);
    CHECK_EQ(disposed_n(), 0);
}

static void subscribe_late(void)
{
    ifr_mailbox *mb = tag_mailbox();

    /* after ready: the ready tag at once; the exit tag on exit */
    ifr_proc *p = started_proc();
    ifr_proc_ready(p);
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(1), tag(2)), IFR_OK);
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    CHECK_EQ(poll_tag(mb), 1);
    ifr_proc_exit(p, NULL);
    CHECK_EQ(poll_tag(mb), 2);
    ifr_proc_release(p);

    /* after ready and exit: both at once, ready first */
    p = started_proc();
    ifr_proc_ready(p);
    ifr_proc_exit(p, NULL);
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(3), tag(4)), IFR_OK);
    CHECK_EQ(ifr_mailbox_len(mb), 2);
    CHECK_EQ(poll_tag(mb), 3);
    CHECK_EQ(poll_tag(mb), 4);
    CHECK_EQ(disposed_n(), 0);

    /* the proc exited without ready: the exit tag at once, the ready tag
     * disposed at once */
    ifr_proc *q = started_proc();
    ifr_proc_exit(q, NULL);
    CHECK_ST(ifr_proc_subscribe(q, mb, tag(5), tag(6)), IFR_OK);
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    CHECK_EQ(poll_tag(mb), 6);
    CHECK_EQ(disposed_n(), 1);
    CHECK_EQ(was_disposed(5), 1);

    ifr_proc_release(p);
    ifr_proc_release(q);
    ifr_mailbox_release(mb);
    CHECK_EQ(disposed_n(), 1);
}

static void subscribe_exit_without_ready(void)
{
    ifr_mailbox *mb = tag_mailbox();
    ifr_proc *p = new_proc();
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(1), tag(2)), IFR_OK);
    ifr_proc_start(p);
    ifr_proc_exit(p, NULL);
    /* the ready tag can never fire: disposed at exit, not at free */
    CHECK_EQ(disposed_n(), 1);
    CHECK_EQ(was_disposed(1), 1);
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    CHECK_EQ(poll_tag(mb), 2);
    CHECK_EQ(ifr_proc_ready(p), 0);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    ifr_proc_release(p);
    ifr_mailbox_release(mb);
    CHECK_EQ(disposed_n(), 1);
}

static void subscribe_closed_mailbox(void)
{
    reset_disposed();
    /* closed before subscribing */
    ifr_mailbox *mb = ifr_mailbox_new(tag_dispose);
    CHECK(mb != NULL);
    ifr_mailbox_close(mb);
    ifr_proc *p = started_proc();
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(1), tag(2)), IFR_OK);
    ifr_proc_ready(p);
    ifr_proc_exit(p, NULL);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    CHECK_EQ(disposed_n(), 2);
    CHECK_EQ(was_disposed(1), 1);
    CHECK_EQ(was_disposed(2), 1);
    ifr_proc_release(p);
    ifr_mailbox_release(mb);
    CHECK_EQ(disposed_n(), 2);

    /* closed between subscribe and the events; the ready tag delivered
     * before the close stays readable */
    reset_disposed();
    mb = ifr_mailbox_new(tag_dispose);
    CHECK(mb != NULL);
    p = started_proc();
    ifr_proc *q = started_proc();
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(3), tag(4)), IFR_OK);
    CHECK_ST(ifr_proc_subscribe(q, mb, tag(5), tag(6)), IFR_OK);
    ifr_proc_ready(q);
    ifr_mailbox_close(mb);
    ifr_proc_ready(p);
    ifr_proc_exit(p, NULL);
    ifr_proc_exit(q, NULL);
    CHECK_EQ(disposed_n(), 3);
    CHECK_EQ(was_disposed(3), 1);
    CHECK_EQ(was_disposed(4), 1);
    CHECK_EQ(was_disposed(6), 1);
    CHECK_EQ(ifr_mailbox_len(mb), 1);
    CHECK_EQ(poll_tag(mb), 5);
    ifr_proc_release(p);
    ifr_proc_release(q);
    ifr_mailbox_release(mb);
    CHECK_EQ(disposed_n(), 3);
}

static void subscribe_proc_freed_first(void)
{
    ifr_mailbox *mb = tag_mailbox();
    ifr_proc *p = new_proc();
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(1), tag(2)), IFR_OK);
    ifr_proc_start(p);
    ifr_proc_release(p); /* never ready, never exited */
    CHECK_EQ(disposed_n(), 2);
    CHECK_EQ(was_disposed(1), 1);
    CHECK_EQ(was_disposed(2), 1);
    CHECK_EQ(ifr_mailbox_len(mb), 0);

    /* ready delivered, then freed: only the exit tag is disposed */
    reset_disposed();
    p = started_proc();
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(3), tag(4)), IFR_OK);
    ifr_proc_ready(p);
    ifr_proc_release(p);
    CHECK_EQ(disposed_n(), 1);
    CHECK_EQ(was_disposed(4), 1);
    CHECK_EQ(poll_tag(mb), 3);
    ifr_mailbox_release(mb);
    CHECK_EQ(disposed_n(), 1);
}

/* The proc holds a reference to the mailbox until both tags are settled:
 * the subscriber may drop its own reference at once. */
static void subscribe_holds_mailbox(void)
{
    ifr_mailbox *mb = tag_mailbox();
    ifr_proc *p = started_proc();
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(1), tag(2)), IFR_OK);
    ifr_mailbox_retain(mb); /* a reader's reference */
    ifr_mailbox_release(mb); /* the subscriber's reference */
    ifr_proc_ready(p);
    CHECK_EQ(poll_tag(mb), 1);
    ifr_mailbox_release(mb); /* the reader's: the proc still holds one */
    ifr_proc_exit(p, NULL);  /* delivers into a mailbox only the proc holds */
    CHECK_EQ(disposed_n(), 1); /* ...then drops it: the tag inside is disposed */
    CHECK_EQ(was_disposed(2), 1);
    ifr_proc_release(p);
    CHECK_EQ(disposed_n(), 1);

    /* both dropped before anything happened */
    reset_disposed();
    mb = ifr_mailbox_new(tag_dispose);
    CHECK(mb != NULL);
    p = started_proc();
    CHECK_ST(ifr_proc_subscribe(p, mb, tag(7), tag(8)), IFR_OK);
    ifr_mailbox_release(mb);
    ifr_proc_ready(p);
    ifr_proc_exit(p, NULL);
    ifr_proc_release(p);
    CHECK_EQ(disposed_n(), 2);
    CHECK_EQ(was_disposed(7), 1);
    CHECK_EQ(was_disposed(8), 1);
}

/* ---- 1000 procs, one mailbox -------------------------------------------------- */

enum { NPROCS = 1000, NWORKERS = 4 };

typedef struct {
    ifr_proc *procs[NPROCS];
    int worker;
} many_ctx;

typedef struct {
    many_ctx *c;
    int w;
} many_arg;

static int skips_ready(int i) { return i % 5 == 0; }

static void many_worker(void *arg)
{
    many_arg *a = arg;
    for (int i = a->w; i < NPROCS; i += NWORKERS) {
        ifr_proc *p = a->c->procs[i];
        CHECK_EQ(ifr_proc_start(p), 1);
        if (!skips_ready(i))
            CHECK_EQ(ifr_proc_ready(p), 1);
        if (i % 64 == 0)
            sched_yield();
    }
    for (int i = a->w; i < NPROCS; i += NWORKERS)
        CHECK_EQ(ifr_proc_exit(a->c->procs[i], NULL), 1);
}

static void many_procs_one_mailbox(void)
{
    reset_disposed();
    many_ctx *c = t_xmalloc(sizeof *c);
    ifr_mailbox *mb = ifr_mailbox_new(tag_dispose);
    CHECK(mb != NULL);
    for (int i = 0; i < NPROCS; i++) {
        c->procs[i] = ifr_proc_new(NULL);
        CHECK(c->procs[i] != NULL);
        CHECK_ST(ifr_proc_subscribe(c->procs[i], mb, tag(2 * i), tag(2 * i + 1)), IFR_OK);
    }
    many_arg args[NWORKERS];
    t_thread *ts[NWORKERS];
    for (int w = 0; w < NWORKERS; w++) {
        args[w].c = c;
        args[w].w = w;
        ts[w] = t_spawn(many_worker, &args[w]);
    }
    int expected = 0;
    for (int i = 0; i < NPROCS; i++)
        expected += skips_ready(i) ? 1 : 2;
    unsigned char *got = t_xmalloc(2 * NPROCS);
    for (int n = 0; n < expected; n++) {
        void *item;
        int64_t t0 = t_now();
        CHECK_ST(ifr_mailbox_get(mb, &item, ifr_deadline(20 * T_SEC)), IFR_OK);
        CHECK_PROMPT(t0, "get of a subscription tag");
        int id = ((tag_t *)item)->id;
        free(item);
        CHECK(id >= 0 && id < 2 * NPROCS);
        CHECK_MSG(!got[id], "tag %d delivered twice", id);
        got[id] = 1;
        int i = id / 2;
        if (id % 2 == 1 && !skips_ready(i))
            CHECK_MSG(got[2 * i], "proc %d: exit tag before its ready tag", i);
        CHECK_MSG(!(id % 2 == 0 && skips_ready(i)), "proc %d: ready tag delivered", i);
    }
    for (int w = 0; w < NWORKERS; w++)
        t_join(ts[w], 30000);
    CHECK_EQ(ifr_mailbox_len(mb), 0);
    CHECK_EQ(disposed_n(), NPROCS / 5);
    for (int i = 0; i < NPROCS; i += 5)
        CHECK_EQ(was_disposed(2 * i), 1);
    for (int i = 0; i < NPROCS; i++)
        ifr_proc_release(c->procs[i]);
    ifr_mailbox_release(mb);
    CHECK_EQ(disposed_n(), NPROCS / 5);
    free(got);
    free(c);
}

/* ---- subscribe racing with ready and exit ---------------------------------- */

enum { NRACE = 2000 };

typedef struct {
    ifr_proc *procs[NRACE];
} race_ctx;

static void race_driver(void *arg)
{
    race_ctx *c = arg;
    for (int i = 0; i < NRACE; i++) {
        ifr_proc_start(c->procs[i]);
        if (i % 3 != 0)
            ifr_proc_ready(c->procs[i]);
        ifr_proc_exit(c->procs[i], NULL);
    }
}

static void subscribe_races(void)
{
    reset_disposed();
    race_ctx *c = t_xmalloc(sizeof *c);
    ifr_mailbox *mb = ifr_mailbox_new(tag_dispose);
    CHECK(mb != NULL);
    for (int i = 0; i < NRACE; i++) {
        c->procs[i] = ifr_proc_new(NULL);
        CHECK(c->procs[i] != NULL);
    }
    t_thread *t = t_spawn(race_driver, c);
    for (int i = 0; i < NRACE; i++) {
        CHECK_ST(ifr_proc_subscribe(c->procs[i], mb, tag(2 * i), tag(2 * i + 1)), IFR_OK);
        if (i % 16 == 0)
            sched_yield();
    }
    t_join(t, 30000);
    /* every exit tag delivered once, after its ready tag when there is one;
     * the ready tags of procs that never became ready disposed */
    unsigned char *got = t_xmalloc(2 * NRACE);
    int n = 0;
    int id;
    while ((id = poll_tag(mb)) >= 0) {
        CHECK(id < 2 * NRACE);
        CHECK_MSG(!got[id], "tag %d delivered twice", id);
        got[id] = 1;
        int i = id / 2;
        if (id % 2 == 0)
            CHECK_MSG(i % 3 != 0, "proc %d was never ready but its ready tag came", i);
        else if (i % 3 != 0)
            CHECK_MSG(got[2 * i], "proc %d: exit tag before ready tag", i);
        n++;
    }
    int readies = 0;
    for (int i = 0; i < NRACE; i++) {
        CHECK_MSG(got[2 * i + 1], "proc %d: exit tag missing", i);
        if (i % 3 != 0) {
            CHECK_MSG(got[2 * i], "proc %d: ready tag missing", i);
            readies++;
        } else {
            CHECK_EQ(was_disposed(2 * i), 1);
        }
    }
    CHECK_EQ(n, NRACE + readies);
    CHECK_EQ(disposed_n(), NRACE - readies);
    for (int i = 0; i < NRACE; i++)
        ifr_proc_release(c->procs[i]);
    ifr_mailbox_release(mb);
    free(got);
    free(c);
}

T_MAIN(T_CASE(state_machine), T_CASE(ready_after_exit), T_CASE(payload_visible),
       T_CASE(signals), T_CASE(signals_across_threads), T_CASE(wait_masks),
       T_CASE(wait_across_threads), T_CASE(fifty_waiters), T_CASE(subscribe_basic),
       T_CASE(subscribe_null_tags), T_CASE(subscribe_late), T_CASE(subscribe_exit_without_ready),
       T_CASE(subscribe_closed_mailbox), T_CASE(subscribe_proc_freed_first),
       T_CASE(subscribe_holds_mailbox), T_CASE(many_procs_one_mailbox), T_CASE(subscribe_races))
