/*
 * test_fork.c — ifr_after_fork_child: fork() while the pool has live (idle
 * and busy) threads; in the child, after ifr_after_fork_child(), the pool
 * is empty and works again (a job runs and is waited for), fresh events,
 * mailboxes and threads work; the child exits 0; the parent reaps it
 * against a deadline and its own pool keeps working.
 */
#include "harness.h"

#include <sched.h>
#include <sys/types.h>
#include <sys/wait.h>


typedef struct {
    ifr_event *done;
    int input;
    int output;
} job_t;

static void job(void *arg)
{
    job_t *j = arg;
    ifr_event *done = j->done;
    ifr_event_retain(done);
    j->output = j->input + 1;
    ifr_event_set(done);
    ifr_event_release(done);
}

static void run_pool_job(int input)
{
    job_t j;
    j.done = ifr_event_new();
    CHECK(j.done != NULL);
    j.input = input;
    j.output = 0;
    CHECK_ST(ifr_pool_submit(job, &j, "fork-job"), IFR_OK);
    CHECK_ST(ifr_event_wait(j.done, ifr_deadline(10 * T_SEC)), IFR_OK);
    CHECK_EQ(j.output, input + 1);
    ifr_event_release(j.done);
}

static void blocked_job(void *arg)
{
    /* stays busy in the parent across the fork */
    CHECK_ST(ifr_event_wait(arg, ifr_deadline(30 * T_SEC)), IFR_OK);
    ifr_event_release(arg);
}

static int child_main(void)
{
    t_current_case = "child";
    ifr_after_fork_child();
    unsigned threads = 99, idle = 99;
    ifr_pool_stats(&threads, &idle);
    CHECK_EQ(threads, 0);
    CHECK_EQ(idle, 0);
    for (int i = 0; i < 20; i++)
        run_pool_job(100 + i);
    ifr_pool_stats(&threads, &idle);
    CHECK_CMP(threads, >=, 1);

    /* fresh objects work; so does a plain thread */
    ifr_mailbox *mb = ifr_mailbox_new(NULL);
    CHECK(mb != NULL);
    CHECK_ST(ifr_mailbox_put(mb, (void *)7), IFR_OK);
    void *item;
    CHECK_ST(ifr_mailbox_get(mb, &item, ifr_deadline(T_SEC)), IFR_OK);
    CHECK_PTR(item, (void *)7);
    ifr_mailbox_release(mb);
    job_t j;
    j.done = ifr_event_new();
    CHECK(j.done != NULL);
    j.input = 5;
    CHECK_ST(ifr_thread_start(job, &j, "fork-thread", 0), IFR_OK);
    CHECK_ST(ifr_event_wait(j.done, ifr_deadline(10 * T_SEC)), IFR_OK);
    CHECK_EQ(j.output, 6);
    ifr_event_release(j.done);
    /* touch every park bucket/lock the backend may have: none may be held
     * by a thread of the parent */
    ifr_word *words = t_xmalloc(sizeof(ifr_word) * 4096);
    for (int i = 0; i < 4096; i++) {
        ifr_unpark(&words[i], IFR_ALL);
        if (i % 64 == 0)
            CHECK_ST(ifr_park(&words[i], 0, ifr_deadline(1000)), IFR_TIMEOUT);
    }
    free(words);
    CHECK_ST(ifr_pool_trim(ifr_deadline(10 * T_SEC)), IFR_OK);
    return 0;
}

static void reap(pid_t pid, int64_t timeout_ms)
{
    int64_t dl = t_now() + timeout_ms * T_MS;
    int status = 0;
    t_child_pid = pid;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            t_child_pid = 0;
            break;
        }
        CHECK_MSG(r == 0, "waitpid: %s", strerror(errno));
        if (t_now() > dl) {
            /* leave the hung child's stacks in the log, for diagnosis */
            char cmd[160];
            snprintf(cmd, sizeof cmd,
                     "gdb -p %d -batch -ex 'thread apply all bt' </dev/null 2>&1 | tail -n 80",
                     (int)pid);
            if (system("command -v gdb >/dev/null 2>&1") == 0 && system(cmd) != 0)
                fprintf(stderr, "(gdb could not dump the child)\n");
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            CHECK_MSG(0, "the child did not exit within %lld ms (hang after fork?)",
                      (long long)timeout_ms);
        }
        t_sleep_ms(2);
    }
    CHECK_MSG(WIFEXITED(status), "the child died by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    CHECK_MSG(WEXITSTATUS(status) == 0, "the child exited with %d", WEXITSTATUS(status));
}

/* The condvar backend initialises its bucket table lazily with
 * pthread_once. glibc's pthread_once copes with a fork during the
 * initialisation, TSan's interceptor does not (the child then waits forever
 * on the once-control): initialise it before any thread exists. */
static void warm_up_park(void)
{
    ifr_word w = 0;
    ifr_unpark(&w, 1);
}

static void fork_with_pool_threads(void)
{
    warm_up_park();
    /* live pool threads in the parent: two idle, one busy */
    run_pool_job(1);
    run_pool_job(2);
    ifr_event *gate = ifr_event_new();
    CHECK(gate != NULL);
    ifr_event_retain(gate);
    CHECK_ST(ifr_pool_submit(blocked_job, gate, "busy"), IFR_OK);
    unsigned threads, idle;
    ifr_pool_stats(&threads, &idle);
    CHECK_CMP(threads, >=, 1);

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK_MSG(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0)
        _exit(child_main()); /* _exit: the parent's objects are not the child's to free */
    reap(pid, 60000);

    /* the parent is untouched */
    ifr_event_set(gate);
    ifr_event_release(gate);
    run_pool_job(3);
    CHECK_ST(ifr_pool_trim(ifr_deadline(10 * T_SEC)), IFR_OK);
}

static void fork_twice(void)
{
    warm_up_park();
    /* a child that forks again (after_fork_child on a reset pool) */
    run_pool_job(1);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK_MSG(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        t_current_case = "child";
        ifr_after_fork_child();
        run_pool_job(10);
        pid_t pid2 = fork();
        CHECK_MSG(pid2 >= 0, "fork: %s", strerror(errno));
        if (pid2 == 0)
            _exit(child_main());
        reap(pid2, 30000);
        run_pool_job(11);
        _exit(0);
    }
    reap(pid, 60000);
    run_pool_job(2);
}

/* Fork while other threads are busy in the core (parking, waking, taking
 * the pool lock): the child must not inherit a lock held by a thread that
 * does not exist in it. */
typedef struct {
    ifr_mailbox *a, *b;
    atomic_int stop;
    atomic_int rounds;
    ifr_word turn; /* raw park ping-pong: keeps park's internal locks busy */
} load_ctx;

typedef struct {
    load_ctx *c;
    uint32_t me;
} pp_arg;

static void load_park_pong(void *arg)
{
    pp_arg *a = arg;
    load_ctx *c = a->c;
    while (!atomic_load(&c->stop)) {
        uint32_t v = t_load(&c->turn);
        if (v != a->me) {
            int st = ifr_park(&c->turn, v, ifr_deadline(2 * T_MS));
            CHECK(st == IFR_OK || st == IFR_TIMEOUT);
            continue;
        }
        t_store(&c->turn, 1u - a->me);
        ifr_unpark(&c->turn, 1);
    }
}

static void load_echo(void *arg)
{
    load_ctx *c = arg;
    while (!atomic_load(&c->stop)) {
        void *item;
        int st = ifr_mailbox_get(c->a, &item, ifr_deadline(2 * T_MS));
        if (st == IFR_OK)
            CHECK_ST(ifr_mailbox_put(c->b, item), IFR_OK);
        else
            CHECK_ST(st, IFR_TIMEOUT);
    }
}

static void load_ping(void *arg)
{
    load_ctx *c = arg;
    while (!atomic_load(&c->stop)) {
        CHECK_ST(ifr_mailbox_put(c->a, (void *)1), IFR_OK);
        void *item;
        int st;
        while ((st = ifr_mailbox_get(c->b, &item, ifr_deadline(2 * T_MS))) == IFR_TIMEOUT &&
               !atomic_load(&c->stop)) {
        }
        if (st == IFR_OK)
            atomic_fetch_add(&c->rounds, 1);
        else
            CHECK_ST(st, IFR_TIMEOUT);
    }
}

static void noop_job(void *arg) { atomic_fetch_add((atomic_int *)arg, 1); }

/* Hands jobs to the pool one at a time, each to the idle thread left by
 * the previous one: the pool lock is taken all the time, but no thread is
 * created and nothing is allocated. (Only locks of the core are meant to be
 * held at the fork: the sanitizers' allocators are not fork-safe when a
 * parent thread is inside malloc, a limit of gcc 12's ASan, not ours.) */
static void load_submit(void *arg)
{
    load_ctx *c = arg;
    atomic_int ran;
    atomic_init(&ran, 0);
    int submitted = 0;
    while (!atomic_load(&c->stop)) {
        unsigned threads, idle;
        ifr_pool_stats(&threads, &idle);
        if (submitted > 0 && idle == 0) {
            sched_yield();
            continue;
        }
        CHECK_ST(ifr_pool_submit(noop_job, &ran, "load"), IFR_OK);
        submitted++;
        while (atomic_load(&ran) < submitted)
            sched_yield();
    }
}

static unsigned pool_idle_now(void)
{
    unsigned threads, idle;
    ifr_pool_stats(&threads, &idle);
    return idle;
}

static void fork_under_load(void)
{
    warm_up_park();
    load_ctx c;
    c.a = ifr_mailbox_new(NULL);
    c.b = ifr_mailbox_new(NULL);
    CHECK(c.a && c.b);
    atomic_init(&c.stop, 0);
    atomic_init(&c.rounds, 0);
    c.turn = 0;
    pp_arg p0 = {&c, 0}, p1 = {&c, 1};
    enum { NLOAD = 5 };
    t_thread *ts[NLOAD] = {t_spawn(load_echo, &c), t_spawn(load_ping, &c), t_spawn(load_submit, &c),
                           t_spawn(load_park_pong, &p0), t_spawn(load_park_pong, &p1)};
    WAIT_UNTIL(atomic_load(&c.rounds) > 10, 10000, "the load runs");
    WAIT_UNTIL(pool_idle_now() >= 1, 10000, "the load's pool thread exists");
    for (int k = 0; k < 30; k++) {
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        CHECK_MSG(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0)
            _exit(child_main());
        reap(pid, 30000);
    }
    atomic_store(&c.stop, 1);
    for (int i = 0; i < NLOAD; i++)
        t_join(ts[i], 30000);
    ifr_mailbox_release(c.a);
    ifr_mailbox_release(c.b);
    CHECK_ST(ifr_pool_trim(ifr_deadline(10 * T_SEC)), IFR_OK);
}

T_MAIN(T_CASE(fork_with_pool_threads), T_CASE(fork_twice), T_CASE(fork_under_load))
