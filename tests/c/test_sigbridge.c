/*
 * test_sigbridge.c — OS signals delivered to subscribers: raised from other
 * threads, several subscribers, select on a subscriber, exact restore of the
 * previous sigaction, and a storm with concurrent subscriber churn.
 *
 * Coalescing rule checked here: raise() and pthread_kill() on the calling
 * thread run the handler before they return, so every one of them must be
 * counted exactly once by every subscriber; process-directed kill() may be
 * merged by the kernel while the signal is still pending, so only "at least
 * one, at most as many as sent" holds for it.
 */
#include "harness.h"

#include <sys/wait.h>

#define P2I(p) ((int)(intptr_t)(p))

#if defined(__SANITIZE_THREAD__)
/* after_fork starts the dispatcher thread in a child of a multi-threaded
 * process, which TSan refuses by default (die_after_fork=1). */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }
#endif

static void basics(void)
{
    ifr_sigsub *s = ifr_sigsub_new();
    CHECK(s != NULL);
    int sig = 0;
    CHECK_ST(ifr_sigsub_poll(s, &sig), IFR_EMPTY);
    CHECK_ST(ifr_sigsub_add(s, 0), IFR_INVALID);
    CHECK_ST(ifr_sigsub_add(s, IFR_SIG_MAX), IFR_INVALID);
    CHECK_ST(ifr_sigsub_add(s, SIGKILL), IFR_INVALID);
    CHECK_ST(ifr_sigsub_add(s, SIGSTOP), IFR_INVALID);
    CHECK_ST(ifr_sigsub_add(s, SIGUSR1), IFR_OK);
    CHECK_ST(ifr_sigsub_add(s, SIGUSR1), IFR_OK); /* no-op */
    CHECK_EQ(ifr_sigbridge_subscribers(SIGUSR1), 1);
    raise(SIGUSR1);
    raise(SIGUSR1);
    CHECK_EQ(ifr_sigsub_pending(s), 2);
    CHECK_ST(ifr_sigsub_poll(s, &sig), IFR_OK);
    CHECK_EQ(sig, SIGUSR1);
    CHECK_ST(ifr_sigsub_wait(s, &sig, ifr_deadline(T_SEC)), IFR_OK);
    CHECK_EQ(sig, SIGUSR1);
    CHECK_ST(ifr_sigsub_wait(s, &sig, ifr_deadline(10 * T_MS)), IFR_TIMEOUT);
    /* lowest number first */
    CHECK_ST(ifr_sigsub_add(s, SIGUSR2), IFR_OK);
    raise(SIGUSR2);
    raise(SIGUSR1);
    CHECK_ST(ifr_sigsub_poll(s, &sig), IFR_OK);
    CHECK_EQ(sig, SIGUSR1 < SIGUSR2 ? SIGUSR1 : SIGUSR2);
    /* close: pending ones can still be taken, then CLOSED */
    ifr_sigsub_close(s);
    CHECK(ifr_sigsub_is_closed(s));
    CHECK_EQ(ifr_sigbridge_subscribers(SIGUSR1), 0);
    CHECK_ST(ifr_sigsub_add(s, SIGUSR1), IFR_CLOSED);
    CHECK_ST(ifr_sigsub_poll(s, &sig), IFR_OK);
    CHECK_EQ(sig, SIGUSR1 < SIGUSR2 ? SIGUSR2 : SIGUSR1);
    CHECK_ST(ifr_sigsub_poll(s, &sig), IFR_CLOSED);
    CHECK_ST(ifr_sigsub_wait(s, &sig, -1), IFR_CLOSED);
    ifr_sigsub_close(s); /* idempotent */
    ifr_sigsub_free(s);
    ifr_sigsub_free(NULL);
}

/* ---- a waiter on another thread ------------------------------------------ */

typedef struct {
    ifr_sigsub *s;
    atomic_int parked;
    int got[3];
    pthread_t tid;
} waiter_ctx;

static void waiter(void *p)
{
    waiter_ctx *c = p;
    c->tid = pthread_self();
    atomic_store(&c->parked, 1);
    for (int i = 0; i < 3; i++) {
        int sig = 0;
        ifr_status st;
        do
            st = ifr_sigsub_wait(c->s, &sig, ifr_deadline(20 * T_SEC));
        while (st == IFR_INTERRUPTED);
        CHECK_ST(st, IFR_OK);
        c->got[i] = sig;
    }
}

static void from_other_thread(void)
{
    waiter_ctx *c = t_xmalloc(sizeof *c);
    c->s = ifr_sigsub_new();
    CHECK_ST(ifr_sigsub_add(c->s, SIGTERM), IFR_OK);
    CHECK_ST(ifr_sigsub_add(c->s, SIGHUP), IFR_OK);
    t_thread *t = t_spawn(waiter, c);
    WAIT_UNTIL(atomic_load(&c->parked), 5000, "waiter started");
    t_sleep_ms(5); /* let it park: the test passes either way */
    kill(getpid(), SIGTERM); /* process-directed: any thread may run the handler */
    WAIT_UNTIL(ifr_sigsub_pending(c->s) == 0, 5000, "first taken");
    raise(SIGHUP); /* handler on this thread, waiter on the other */
    WAIT_UNTIL(ifr_sigsub_pending(c->s) == 0, 5000, "second taken");
    pthread_kill(c->tid, SIGTERM); /* handler on the waiter's own thread */
    t_join(t, 20000);
    CHECK_EQ(c->got[0], SIGTERM);
    CHECK_EQ(c->got[1], SIGHUP);
    CHECK_EQ(c->got[2], SIGTERM);
    ifr_sigsub_free(c->s);
    free(c);
}

/* ---- several subscribers ------------------------------------------------- */

static void several_subscribers(void)
{
    ifr_sigsub *a = ifr_sigsub_new(), *b = ifr_sigsub_new(), *c = ifr_sigsub_new();
    CHECK_ST(ifr_sigsub_add(a, SIGTERM), IFR_OK);
    CHECK_ST(ifr_sigsub_add(b, SIGTERM), IFR_OK);
    CHECK_ST(ifr_sigsub_add(c, SIGUSR1), IFR_OK);
    CHECK_EQ(ifr_sigbridge_subscribers(SIGTERM), 2);
    for (int i = 0; i < 5; i++)
        raise(SIGTERM);
    CHECK_EQ(ifr_sigsub_pending(a), 5);
    CHECK_EQ(ifr_sigsub_pending(b), 5);
    CHECK_EQ(ifr_sigsub_pending(c), 0);
    ifr_sigsub_close(a);
    raise(SIGTERM);
    CHECK_EQ(ifr_sigsub_pending(a), 5);
    CHECK_EQ(ifr_sigsub_pending(b), 6);
    ifr_sigsub_free(a);
    ifr_sigsub_free(b);
    ifr_sigsub_free(c);
    CHECK_EQ(ifr_sigbridge_subscribers(SIGTERM), 0);
}

/* ---- select -------------------------------------------------------------- */

typedef struct {
    ifr_sigsub *s;
    ifr_event *never;
    atomic_int started;
    ifr_selected out;
    ifr_status st;
} sel_ctx;

static void selector(void *p)
{
    sel_ctx *c = p;
    ifr_waitable ws[2] = {{IFR_W_EVENT, c->never}, {IFR_W_SIGSUB, c->s}};
    atomic_store(&c->started, 1);
    do
        c->st = ifr_select(ws, 2, ifr_deadline(20 * T_SEC), &c->out);
    while (c->st == IFR_INTERRUPTED);
}

static void select_on_sigsub(void)
{
    for (int round = 0; round < 50; round++) {
        sel_ctx *c = t_xmalloc(sizeof *c);
        c->s = ifr_sigsub_new();
        c->never = ifr_event_new();
        CHECK_ST(ifr_sigsub_add(c->s, SIGUSR2), IFR_OK);
        t_thread *t = t_spawn(selector, c);
        WAIT_UNTIL(atomic_load(&c->started), 5000, "selector started");
        if (round % 3 == 0)
            t_sleep_ms(2);
        if (round % 2)
            raise(SIGUSR2);
        else
            kill(getpid(), SIGUSR2);
        t_join(t, 20000);
        CHECK_ST(c->st, IFR_OK);
        CHECK_EQ(c->out.index, 1);
        CHECK_EQ(P2I(c->out.item), SIGUSR2);
        CHECK_EQ(c->out.closed, 0);
        ifr_sigsub_free(c->s);
        ifr_event_release(c->never);
        free(c);
    }
    /* a closed, empty subscriber fires with closed = 1 */
    ifr_sigsub *s = ifr_sigsub_new();
    CHECK_ST(ifr_sigsub_add(s, SIGUSR2), IFR_OK);
    ifr_sigsub_close(s);
    ifr_waitable w = {IFR_W_SIGSUB, s};
    ifr_selected out;
    CHECK_ST(ifr_select(&w, 1, ifr_deadline(T_SEC), &out), IFR_OK);
    CHECK_EQ(out.closed, 1);
    ifr_sigsub_free(s);
}

/* ---- restore ------------------------------------------------------------- */

static atomic_int custom_hits;
static void custom_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    atomic_fetch_add(&custom_hits, 1);
}

static void same_action(const struct sigaction *x, const struct sigaction *y)
{
    CHECK_PTR((void *)x->sa_sigaction, (void *)y->sa_sigaction);
    CHECK_EQ(x->sa_flags, y->sa_flags);
    for (int s = 1; s < IFR_SIG_MAX; s++)
        CHECK_EQ(sigismember(&x->sa_mask, s), sigismember(&y->sa_mask, s));
}

static void restores_previous_handler(void)
{
    struct sigaction custom, before, during, after;
    memset(&custom, 0, sizeof custom);
    custom.sa_sigaction = custom_handler;
    custom.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&custom.sa_mask);
    sigaddset(&custom.sa_mask, SIGUSR2);
    CHECK(sigaction(SIGUSR1, &custom, NULL) == 0);
    CHECK(sigaction(SIGUSR1, NULL, &before) == 0);

    ifr_sigsub *a = ifr_sigsub_new(), *b = ifr_sigsub_new();
    CHECK_ST(ifr_sigsub_add(a, SIGUSR1), IFR_OK);
    CHECK_ST(ifr_sigsub_add(b, SIGUSR1), IFR_OK);
    CHECK(sigaction(SIGUSR1, NULL, &during) == 0);
    CHECK((void *)during.sa_sigaction != (void *)custom_handler);
    CHECK(during.sa_flags & SA_ONSTACK);
    CHECK(!(during.sa_flags & SA_RESTART));
    raise(SIGUSR1);
    CHECK_EQ(atomic_load(&custom_hits), 0); /* not chained */
    ifr_sigsub_free(a);
    CHECK(sigaction(SIGUSR1, NULL, &during) == 0);
    CHECK((void *)during.sa_sigaction != (void *)custom_handler); /* b still there */
    ifr_sigsub_free(b);
    CHECK(sigaction(SIGUSR1, NULL, &after) == 0);
    same_action(&before, &after);
    raise(SIGUSR1);
    CHECK_EQ(atomic_load(&custom_hits), 1);

    /* SIG_IGN and SIG_DFL come back too */
    signal(SIGHUP, SIG_IGN);
    CHECK(sigaction(SIGHUP, NULL, &before) == 0);
    ifr_sigsub *c = ifr_sigsub_new();
    CHECK_ST(ifr_sigsub_add(c, SIGHUP), IFR_OK);
    ifr_sigsub_free(c);
    CHECK(sigaction(SIGHUP, NULL, &after) == 0);
    same_action(&before, &after);
    CHECK(after.sa_handler == SIG_IGN);
    signal(SIGHUP, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
}

/* ---- storm --------------------------------------------------------------- */

#define STORM_THREADS 4
#define STORM_EACH 5000

typedef struct {
    ifr_sigsub *a, *b;
    atomic_int stop;
    atomic_long taken_a;
    atomic_int churned;
} storm_ctx;

static void storm_raiser(void *p)
{
    (void)p;
    for (int i = 0; i < STORM_EACH; i++)
        raise(i % 2 ? SIGUSR1 : SIGUSR2); /* synchronous: handled before raise returns */
}

static void storm_kill_raiser(void *p)
{
    (void)p;
    for (int i = 0; i < STORM_EACH; i++)
        kill(getpid(), SIGHUP); /* may coalesce */
}

static void storm_consumer(void *p)
{
    storm_ctx *c = p;
    ifr_waitable ws[1] = {{IFR_W_SIGSUB, c->a}};
    long n = 0;
    while (n < (long)STORM_THREADS * STORM_EACH) {
        int sig;
        ifr_status st;
        if (n % 2) {
            ifr_selected out;
            st = ifr_select(ws, 1, ifr_deadline(20 * T_SEC), &out);
            sig = P2I(out.item);
        } else {
            st = ifr_sigsub_wait(c->a, &sig, ifr_deadline(20 * T_SEC));
        }
        if (st == IFR_INTERRUPTED)
            continue;
        CHECK_ST(st, IFR_OK);
        CHECK(sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGHUP);
        if (sig != SIGHUP)
            n++;
    }
    atomic_store(&c->taken_a, n);
}

static void storm_churn(void *p)
{
    storm_ctx *c = p;
    while (!atomic_load(&c->stop)) {
        ifr_sigsub *s = ifr_sigsub_new();
        CHECK_ST(ifr_sigsub_add(s, SIGUSR1), IFR_OK);
        CHECK_ST(ifr_sigsub_add(s, SIGUSR2), IFR_OK);
        ifr_sigsub_free(s);
        atomic_fetch_add(&c->churned, 1);
    }
}

static void storm(void)
{
    storm_ctx *c = t_xmalloc(sizeof *c);
    c->a = ifr_sigsub_new();
    c->b = ifr_sigsub_new();
    int sigs[3] = {SIGUSR1, SIGUSR2, SIGHUP};
    for (int i = 0; i < 3; i++) {
        CHECK_ST(ifr_sigsub_add(c->a, sigs[i]), IFR_OK);
        CHECK_ST(ifr_sigsub_add(c->b, sigs[i]), IFR_OK);
    }
    t_thread *consumer = t_spawn(storm_consumer, c);
    t_thread *churn = t_spawn(storm_churn, c);
    t_thread *raisers[STORM_THREADS];
    for (int i = 0; i < STORM_THREADS; i++)
        raisers[i] = t_spawn(storm_raiser, c);
    t_thread *killer = t_spawn(storm_kill_raiser, c);
    for (int i = 0; i < STORM_THREADS; i++)
        t_join(raisers[i], 60000);
    t_join(killer, 60000);
    t_join(consumer, 60000);
    atomic_store(&c->stop, 1);
    t_join(churn, 60000);
    CHECK_EQ(atomic_load(&c->taken_a), (long)STORM_THREADS * STORM_EACH);
    /* b never took anything: it holds every synchronous delivery exactly */
    long usr = 0, hup = 0;
    int sig;
    while (ifr_sigsub_poll(c->b, &sig) == IFR_OK) {
        if (sig == SIGHUP)
            hup++;
        else
            usr++;
    }
    CHECK_EQ(usr, (long)STORM_THREADS * STORM_EACH);
    CHECK_CMP(hup, >=, 1);
    CHECK_CMP(hup, <=, STORM_EACH);
    printf("    storm: %ld synchronous deliveries per subscriber, %ld of %d kill()s "
           "counted (kernel coalescing), %d subscriber churns\n",
           usr, hup, STORM_EACH, atomic_load(&c->churned));
    ifr_sigsub_free(c->a);
    ifr_sigsub_free(c->b);
    CHECK_EQ(ifr_sigbridge_subscribers(SIGUSR1), 0);
    struct sigaction now;
    CHECK(sigaction(SIGUSR1, NULL, &now) == 0);
    CHECK(now.sa_handler == SIG_DFL);
    free(c);
}

/* ---- fork ---------------------------------------------------------------- */

static void after_fork(void)
{
    ifr_sigsub *s = ifr_sigsub_new();
    CHECK_ST(ifr_sigsub_add(s, SIGUSR1), IFR_OK);
    raise(SIGUSR1);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        ifr_after_fork_child();
        /* the parent's subscription is gone in the child: closed, handler restored */
        struct sigaction now;
        int sig = 0;
        if (sigaction(SIGUSR1, NULL, &now) != 0 || now.sa_handler != SIG_DFL)
            _exit(2);
        if (ifr_sigsub_poll(s, &sig) != IFR_OK || sig != SIGUSR1) /* pending kept */
            _exit(3);
        if (ifr_sigsub_poll(s, &sig) != IFR_CLOSED)
            _exit(4);
        /* a new subscriber works, a selector included (new dispatcher) */
        ifr_sigsub *c = ifr_sigsub_new();
        if (ifr_sigsub_add(c, SIGUSR2) != IFR_OK)
            _exit(5);
        ifr_waitable w = {IFR_W_SIGSUB, c};
        ifr_selected out;
        kill(getpid(), SIGUSR2);
        ifr_status st;
        do
            st = ifr_select(&w, 1, ifr_deadline(10 * T_SEC), &out);
        while (st == IFR_INTERRUPTED);
        if (st != IFR_OK || P2I(out.item) != SIGUSR2)
            _exit(6);
        ifr_sigsub_free(c);
        ifr_sigsub_free(s);
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    /* the parent still has its subscription */
    CHECK_EQ(ifr_sigbridge_subscribers(SIGUSR1), 1);
    int sig;
    CHECK_ST(ifr_sigsub_poll(s, &sig), IFR_OK);
    CHECK_ST(ifr_sigsub_poll(s, &sig), IFR_EMPTY);
    ifr_sigsub_free(s);
}

/* ifr_mailbox_seq (used by ifrit.restart next to the sigbridge): it moves
 * on every put and on close, not on takes. */
static void mailbox_seq(void)
{
    ifr_mailbox *mb = ifr_mailbox_new(NULL);
    uint32_t s0 = ifr_mailbox_seq(mb);
    void *item;
    CHECK_ST(ifr_mailbox_put(mb, (void *)(intptr_t)1), IFR_OK);
    uint32_t s1 = ifr_mailbox_seq(mb);
    CHECK(s1 != s0);
    CHECK_ST(ifr_mailbox_poll(mb, &item), IFR_OK);
    CHECK_EQ(ifr_mailbox_seq(mb), s1);
    ifr_mailbox_close(mb);
    CHECK(ifr_mailbox_seq(mb) != s1);
    ifr_mailbox_release(mb);
}

T_MAIN(T_CASE(mailbox_seq), T_CASE(basics), T_CASE(from_other_thread), T_CASE(several_subscribers),
       T_CASE(select_on_sigsub), T_CASE(restores_previous_handler), T_CASE(storm),
       T_CASE(after_fork))
