/*
 * test_thread_pool.c — ifr_thread_start (runs fn, names the thread, honours
 * the stack size), ifr_thread_set_name, and the pool: default config, 10 000
 * jobs from 4 submitting threads each run exactly once (with data published
 * by submit), idle threads reused, job names, stack size, max_idle,
 * idle_timeout, the start/exit hooks, and ifr_pool_trim.
 */
#include "harness.h"

#include <limits.h>
#include <unistd.h>

#define BIG_STACK (16u << 20) /* above the usual 8 MiB default */

static atomic_int hook_starts, hook_exits;
static _Thread_local int tl_hooked;

static void on_start(void)
{
    CHECK_EQ(tl_hooked, 0); /* once per thread */
    tl_hooked = 1;
    atomic_fetch_add(&hook_starts, 1);
}

static void on_exit_hook(void)
{
    CHECK_EQ(tl_hooked, 1); /* after on_start, on the same thread */
    tl_hooked = 2;
    atomic_fetch_add(&hook_exits, 1);
}

static int configured;

/* The first pool case checks the defaults, then installs the hooks (before
 * the first submit, as the header asks). */
static void ensure_configured(void)
{
    if (configured)
        return;
    configured = 1;
    ifr_pool_config cfg;
    memset(&cfg, 0xab, sizeof cfg);
    ifr_pool_get_config(&cfg);
    CHECK_EQ(cfg.stack_size, 0);
    CHECK_EQ(cfg.max_idle, UINT_MAX);
    CHECK_EQ(cfg.idle_timeout_ns, 30 * T_SEC);
    CHECK_EQ(cfg.grow_futex_hash, 1);
    CHECK(cfg.on_thread_start == NULL);
    CHECK(cfg.on_thread_exit == NULL);
    unsigned threads = 99, idle = 99;
    ifr_pool_stats(&threads, &idle);
    CHECK_EQ(threads, 0);
    CHECK_EQ(idle, 0);
    cfg.on_thread_start = on_start;
    cfg.on_thread_exit = on_exit_hook;
    ifr_pool_configure(&cfg);
    ifr_pool_config back;
    ifr_pool_get_config(&back);
    CHECK(back.on_thread_start == on_start);
    CHECK(back.on_thread_exit == on_exit_hook);
    CHECK_EQ(back.max_idle, UINT_MAX);
}

static void set_config(size_t stack_size, unsigned max_idle, int64_t idle_timeout_ns)
{
    ifr_pool_config cfg;
    ifr_pool_get_config(&cfg);
    cfg.stack_size = stack_size;
    cfg.max_idle = max_idle;
    cfg.idle_timeout_ns = idle_timeout_ns;
    ifr_pool_configure(&cfg);
    ifr_pool_config back;
    ifr_pool_get_config(&back);
    CHECK_EQ(back.stack_size, stack_size);
    CHECK_EQ(back.max_idle, max_idle);
    CHECK_EQ(back.idle_timeout_ns, idle_timeout_ns);
    CHECK(back.on_thread_start == on_start);
}

static unsigned pool_threads(void)
{
    unsigned threads, idle;
    ifr_pool_stats(&threads, &idle);
    CHECK_CMP(idle, <=, threads);
    return threads;
}

static unsigned pool_idle(void)
{
    unsigned threads, idle;
    ifr_pool_stats(&threads, &idle);
    CHECK_CMP(idle, <=, threads);
    return idle;
}

static int all_idle(void)
{
    unsigned threads, idle;
    ifr_pool_stats(&threads, &idle);
    return threads == idle;
}

/* Let threads finishing earlier jobs settle (idle, or gone), then trim:
 * with nothing busy, trim leaves no pool thread at all. */
static void trim_all(void)
{
    WAIT_UNTIL(all_idle(), 10000, "every pool thread idle (earlier jobs finished)");
    CHECK_ST(ifr_pool_trim(ifr_deadline(10 * T_SEC)), IFR_OK);
    unsigned threads, idle;
    ifr_pool_stats(&threads, &idle);
    CHECK_EQ(idle, 0);
    CHECK_EQ(threads, 0);
}

/* What a thread sees of itself. */
typedef struct {
    ifr_event *done;
    const char *want_name;
    char name[32];
    size_t stack;
    pthread_t self;
    int hooked;
    int input;  /* plain, written before the start/submit */
    int output; /* plain, read after done */
} probe_t;

static size_t my_stack_size(void)
{
    pthread_attr_t attr;
    size_t sz = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstacksize(&attr, &sz);
        pthread_attr_destroy(&attr);
    }
    return sz;
}

static void probe(void *arg)
{
    probe_t *p = arg;
    ifr_event *done = p->done;
    ifr_event_retain(done); /* set() below must not race the waiter's release */
    p->self = pthread_self();
    p->stack = my_stack_size();
    p->hooked = tl_hooked;
    /* the name may be set by the creator just after the start: poll */
    int64_t dl = t_now() + 2 * T_SEC;
    for (;;) {
        pthread_getname_np(pthread_self(), p->name, sizeof p->name);
        if (p->want_name == NULL || strcmp(p->name, p->want_name) == 0 || t_now() > dl)
            break;
        t_sleep_ms(1);
    }
    p->output = p->input * 2;
    ifr_event_set(done);
    ifr_event_release(done);
}

static probe_t *probe_new(const char *want_name, int input)
{
    probe_t *p = t_xmalloc(sizeof *p);
    p->done = ifr_event_new();
    CHECK(p->done != NULL);
    p->want_name = want_name;
    p->input = input;
    return p;
}

static void probe_wait_free(probe_t *p)
{
    int64_t t0 = t_now();
    CHECK_ST(ifr_event_wait(p->done, ifr_deadline(20 * T_SEC)), IFR_OK);
    CHECK_PROMPT(t0, "waiting for a job");
    ifr_event_release(p->done);
    free(p);
}

/* ---- ifr_thread_start / set_name ------------------------------------------- */

static void thread_start(void)
{
    probe_t *p = probe_new("ifr-test-thread", 21); /* 15 chars: the Linux limit */
    CHECK_ST(ifr_thread_start(probe, p, "ifr-test-thread-with-a-long-name", BIG_STACK), IFR_OK);
    CHECK_ST(ifr_event_wait(p->done, ifr_deadline(20 * T_SEC)), IFR_OK);
    CHECK_EQ(p->output, 42);
    CHECK(!pthread_equal(p->self, pthread_self()));
    CHECK_MSG(strcmp(p->name, "ifr-test-thread") == 0, "thread name '%s'", p->name);
    CHECK_MSG(p->stack >= BIG_STACK, "stack %zu < %u requested", p->stack, BIG_STACK);
    CHECK_EQ(p->hooked, 0); /* not a pool thread: no pool hooks */
    probe_wait_free(p);

    p = probe_new("short", 1);
    CHECK_ST(ifr_thread_start(probe, p, "short", 0), IFR_OK);
    CHECK_ST(ifr_event_wait(p->done, ifr_deadline(20 * T_SEC)), IFR_OK);
    CHECK_MSG(strcmp(p->name, "short") == 0, "thread name '%s'", p->name);
    CHECK_CMP(p->stack, >, 0);
    probe_wait_free(p);

    p = probe_new(NULL, 3);
    CHECK_ST(ifr_thread_start(probe, p, NULL, 0), IFR_OK);
    CHECK_ST(ifr_event_wait(p->done, ifr_deadline(20 * T_SEC)), IFR_OK);
    CHECK_EQ(p->output, 6);
    probe_wait_free(p);

    /* many short-lived detached threads */
    enum { N = 64 };
    probe_t *ps[N];
    for (int i = 0; i < N; i++) {
        ps[i] = probe_new(NULL, i);
        CHECK_ST(ifr_thread_start(probe, ps[i], "many", 0), IFR_OK);
    }
    for (int i = 0; i < N; i++) {
        CHECK_ST(ifr_event_wait(ps[i]->done, ifr_deadline(20 * T_SEC)), IFR_OK);
        CHECK_EQ(ps[i]->output, 2 * i);
        probe_wait_free(ps[i]);
    }
}

static void set_name_thread(void *arg)
{
    char *out = arg;
    ifr_thread_set_name("abcdefghijklmnopqrstuvwxyz");
    pthread_getname_np(pthread_self(), out, 32);
    ifr_thread_set_name("x");
    pthread_getname_np(pthread_self(), out + 32, 32);
}

static void thread_set_name(void)
{
    char names[64] = {0};
    t_thread *t = t_spawn(set_name_thread, names);
    t_join(t, 10000);
    CHECK_MSG(strcmp(names, "abcdefghijklmno") == 0, "name '%s'", names);
    CHECK_MSG(strcmp(names + 32, "x") == 0, "name '%s'", names + 32);
}

/* ---- many jobs from several submitters -------------------------------------- */

enum { NJOBS = 10000, NSUB = 4 };

static struct {
    int input[NJOBS]; /* plain, written before submit */
    atomic_int runs[NJOBS];
    atomic_int total;
    atomic_int unhooked;
    ifr_event *all_done;
} jobs;

static void count_job(void *arg)
{
    intptr_t i = (intptr_t)arg;
    CHECK(i >= 0 && i < NJOBS);
    CHECK_EQ(jobs.input[i], (int)i * 7 + 1);
    if (tl_hooked != 1)
        atomic_fetch_add(&jobs.unhooked, 1);
    atomic_fetch_add(&jobs.runs[i], 1);
    if (atomic_fetch_add(&jobs.total, 1) + 1 == NJOBS) {
        /* the waiter may release its reference as soon as it wakes: hold
         * one across the set */
        ifr_event *ev = jobs.all_done;
        ifr_event_retain(ev);
        ifr_event_set(ev);
        ifr_event_release(ev);
    }
}

static void submitter(void *arg)
{
    intptr_t s = (intptr_t)arg;
    for (intptr_t i = s; i < NJOBS; i += NSUB) {
        jobs.input[i] = (int)i * 7 + 1;
        int st = ifr_pool_submit(count_job, (void *)i, "job");
        CHECK_ST(st, IFR_OK);
    }
}

static void pool_many_jobs(void)
{
    ensure_configured();
    jobs.all_done = ifr_event_new();
    CHECK(jobs.all_done != NULL);
    t_thread *ts[NSUB];
    for (intptr_t s = 0; s < NSUB; s++)
        ts[s] = t_spawn(submitter, (void *)s);
    for (int s = 0; s < NSUB; s++)
        t_join(ts[s], 60000);
    CHECK_ST(ifr_event_wait(jobs.all_done, ifr_deadline(60 * T_SEC)), IFR_OK);
    for (int i = 0; i < NJOBS; i++)
        CHECK_MSG(atomic_load(&jobs.runs[i]) == 1, "job %d ran %d times", i,
                  atomic_load(&jobs.runs[i]));
    CHECK_EQ(atomic_load(&jobs.total), NJOBS);
    CHECK_EQ(atomic_load(&jobs.unhooked), 0);
    printf("  (pool threads after the burst: %u, idle %u; hook starts %d)\n", pool_threads(),
           pool_idle(), atomic_load(&hook_starts));
    ifr_event_release(jobs.all_done);
}

/* ---- reuse ------------------------------------------------------------------ */

static void pool_reuse(void)
{
    ensure_configured();
    trim_all();
    pthread_t first = pthread_self();
    unsigned max_threads = 0;
    int distinct = 0;
    /* one at a time, waiting until the worker is idle again: always reused */
    for (int i = 0; i < 200; i++) {
        probe_t *p = probe_new(NULL, i);
        CHECK_ST(ifr_pool_submit(probe, p, "reuse"), IFR_OK);
        CHECK_ST(ifr_event_wait(p->done, ifr_deadline(20 * T_SEC)), IFR_OK);
        CHECK_EQ(p->output, 2 * i);
        CHECK_EQ(p->hooked, 1);
        if (i == 0)
            first = p->self;
        else if (!pthread_equal(first, p->self))
            distinct++;
        probe_wait_free(p);
        WAIT_UNTIL(pool_idle() >= 1, 5000, "the worker becomes idle again");
        unsigned n = pool_threads();
        if (n > max_threads)
            max_threads = n;
    }
    CHECK_MSG(max_threads == 1, "%u pool threads for one-at-a-time jobs", max_threads);
    CHECK_EQ(distinct, 0);
    /* back to back, without waiting for idleness: stays small */
    for (int i = 0; i < 300; i++) {
        probe_t *p = probe_new(NULL, i);
        CHECK_ST(ifr_pool_submit(probe, p, "reuse"), IFR_OK);
        probe_wait_free(p);
        unsigned n = pool_threads();
        if (n > max_threads)
            max_threads = n;
    }
    CHECK_MSG(max_threads <= 8, "%u pool threads for one-at-a-time jobs", max_threads);
    printf("  (at most %u pool threads)\n", max_threads);
}

/* ---- job names and stack size ------------------------------------------------ */

static void pool_job_names(void)
{
    ensure_configured();
    trim_all();
    char name[64];
    snprintf(name, sizeof name, "pool-job-a-with-a-long-name");
    probe_t *p = probe_new("pool-job-a-with", 1);
    CHECK_ST(ifr_pool_submit(probe, p, name), IFR_OK);
    memset(name, 'z', sizeof name - 1); /* the pool copied it */
    CHECK_ST(ifr_event_wait(p->done, ifr_deadline(20 * T_SEC)), IFR_OK);
    CHECK_MSG(strcmp(p->name, "pool-job-a-with") == 0, "job name '%s'", p->name);
    pthread_t first = p->self;
    probe_wait_free(p);
    WAIT_UNTIL(pool_idle() >= 1, 5000, "the worker becomes idle");
    /* the same (reused) thread takes the next job's name */
    p = probe_new("pool-job-b", 2);
    CHECK_ST(ifr_pool_submit(probe, p, "pool-job-b"), IFR_OK);
    CHECK_ST(ifr_event_wait(p->done, ifr_deadline(20 * T_SEC)), IFR_OK);
    CHECK_MSG(strcmp(p->name, "pool-job-b") == 0, "job name '%s'", p->name);
    CHECK(pthread_equal(first, p->self));
    probe_wait_free(p);
}

static void pool_stack_size(void)
{
    ensure_configured();
    trim_all();
    set_config(BIG_STACK, 16, 10 * T_SEC);
    probe_t *p = probe_new(NULL, 1);
    CHECK_ST(ifr_pool_submit(probe, p, "big-stack"), IFR_OK);
    CHECK_ST(ifr_event_wait(p->done, ifr_deadline(20 * T_SEC)), IFR_OK);
    CHECK_MSG(p->stack >= BIG_STACK, "pool stack %zu < %u configured", p->stack, BIG_STACK);
    probe_wait_free(p);
    set_config(0, 16, 10 * T_SEC);
    trim_all();
}

/* ---- max_idle and idle_timeout ----------------------------------------------- */

typedef struct {
    ifr_event *gate;
    atomic_int arrived;
    atomic_int done;
} gate_ctx;

static void gated_job(void *arg)
{
    gate_ctx *g = arg;
    atomic_fetch_add(&g->arrived, 1);
    CHECK_ST(ifr_event_wait(g->gate, ifr_deadline(20 * T_SEC)), IFR_OK);
    atomic_fetch_add(&g->done, 1);
}

/* Submit n gated jobs and wait until all n run at once (n threads busy);
 * they finish once g->gate is set. The caller releases g->gate. */
static void gate_start(gate_ctx *g, int n, const char *name)
{
    g->gate = ifr_event_new();
    CHECK(g->gate != NULL);
    atomic_init(&g->arrived, 0);
    atomic_init(&g->done, 0);
    for (int i = 0; i < n; i++)
        CHECK_ST(ifr_pool_submit(gated_job, g, name), IFR_OK);
    WAIT_UNTIL(atomic_load(&g->arrived) == n, 20000, "all gated jobs running at once");
}

static void pool_max_idle(void)
{
    ensure_configured();
    trim_all();
    set_config(0, 2, 10 * T_SEC);
    gate_ctx g;
    gate_start(&g, 8, "gated"); /* eight blocking jobs need eight threads at once */
    CHECK_CMP(pool_threads(), >=, 8);
    ifr_event_set(g.gate);
    WAIT_UNTIL(atomic_load(&g.done) == 8, 10000, "gated jobs finish");
    WAIT_UNTIL(pool_threads() <= 2, 5000, "threads beyond max_idle exit");
    CHECK_CMP(pool_idle(), <=, 2);
    ifr_event_release(g.gate);
    set_config(0, 16, 10 * T_SEC);
    trim_all();
}

/* ---- the futex hash (Linux >= 6.16) ------------------------------------------ */

#ifdef __linux__
#include <sys/prctl.h>
static int futex_slots(void) { return prctl(78 /* PR_FUTEX_HASH */, 2 /* GET_SLOTS */, 0, 0, 0); }

/* Run n gated jobs at once (n threads), then let them go. */
static void run_gated(int n)
{
    gate_ctx g;
    gate_start(&g, n, "hash");
    ifr_event_set(g.gate);
    WAIT_UNTIL(atomic_load(&g.done) == n, 20000, "gated jobs finish");
    ifr_event_release(g.gate);
}
#endif

static void pool_futex_hash(void)
{
#ifdef __linux__
    ensure_configured();
    trim_all();
    int before = futex_slots();
    if (before < 0) {
        printf("  (kernel without a private futex hash: nothing to grow)\n");
        return;
    }
    /* switched off: 140 threads leave the hash as the kernel sized it
     * (the kernel itself grows it only up to 4 slots per CPU) */
    ifr_pool_config cfg;
    ifr_pool_get_config(&cfg);
    cfg.grow_futex_hash = 0;
    ifr_pool_configure(&cfg);
    run_gated(140);
    int off = futex_slots();
    int cpu_sized = 16;
    while (cpu_sized < 4 * (int)sysconf(_SC_NPROCESSORS_ONLN)) cpu_sized *= 2;
    CHECK_MSG(off == before || off <= cpu_sized, "slots %d -> %d with growth off", before, off);
    trim_all();
    /* on: once the pool has 128 threads, the hash has >= 256 slots, unless
     * the process uses the global hash (0), which is left alone */
    cfg.grow_futex_hash = 1;
    ifr_pool_configure(&cfg);
    run_gated(140);
    int on = futex_slots();
    if (off == 0)
        CHECK_EQ(on, 0);
    else
        CHECK_MSG(on >= 256, "slots %d (was %d) after 140 pool threads", on, off);
    printf("  (futex hash slots: %d at start, %d with growth off, %d with growth on)\n", before,
           off, on);
    trim_all();
#else
    printf("  (not Linux: no futex hash)\n");
#endif
}

/* A submit marks the next idle worker for a pre-wake at the submitter's
 * next blocking call (or ifr_flush_deferred). The mark may outlive that
 * worker: flushing after it was trimmed is harmless (records are never
 * freed), and the pool keeps working. */
static void pool_deferred_prewake(void)
{
    ensure_configured();
    trim_all();
    gate_ctx g;
    gate_start(&g, 3, "pw"); /* three threads ... */
    ifr_event_set(g.gate);
    WAIT_UNTIL(pool_idle() == 3, 10000, "three idle workers");
    probe_t *p = probe_new(NULL, 1);
    CHECK_ST(ifr_pool_submit(probe, p, "pw-job"), IFR_OK); /* marks the next idle one */
    probe_wait_free(p); /* a blocking call: flushes the mark */
    p = probe_new(NULL, 2);
    CHECK_ST(ifr_pool_submit(probe, p, "pw-job"), IFR_OK); /* marks again */
    probe_wait_free(p);
    ifr_event_release(g.gate);
    p = probe_new(NULL, 3);
    CHECK_ST(ifr_pool_submit(probe, p, "pw-job"), IFR_OK);
    probe_wait_free(p);
    trim_all(); /* the marked worker (if any) is gone */
    ifr_flush_deferred();
    ifr_flush_deferred();
    p = probe_new(NULL, 4);
    CHECK_ST(ifr_pool_submit(probe, p, "pw-after"), IFR_OK);
    probe_wait_free(p);
    trim_all();
}

static void pool_idle_timeout(void)
{
    ensure_configured();
    trim_all();
    set_config(0, 16, 50 * T_MS);
    int starts0 = atomic_load(&hook_starts);
    probe_t *p = probe_new(NULL, 1);
    CHECK_ST(ifr_pool_submit(probe, p, "short-idle"), IFR_OK);
    probe_wait_free(p);
    WAIT_UNTIL(pool_threads() == 0, 5000, "the idle thread expires after 50 ms");
    CHECK_CMP(atomic_load(&hook_starts), >, starts0);
    WAIT_UNTIL(atomic_load(&hook_exits) == atomic_load(&hook_starts), 2000,
               "exit hook of the expired thread");
    set_config(0, 16, 10 * T_SEC);
}

/* ---- trim and hooks ---------------------------------------------------------- */

static void pool_trim_and_hooks(void)
{
    ensure_configured();
    /* a few idle threads: run 4 overlapping jobs */
    gate_ctx g;
    gate_start(&g, 4, "trim");
    ifr_event_set(g.gate);
    WAIT_UNTIL(pool_idle() >= 4, 10000, "4 idle threads");

    /* a busy thread is not touched by trim */
    gate_ctx busy;
    gate_start(&busy, 1, "busy");
    CHECK_ST(ifr_pool_trim(ifr_deadline(10 * T_SEC)), IFR_OK);
    unsigned threads, idle;
    ifr_pool_stats(&threads, &idle);
    CHECK_EQ(idle, 0);
    CHECK_CMP(threads, >=, 1); /* the busy one */
    CHECK_EQ(atomic_load(&busy.done), 0);
    ifr_event_set(busy.gate);
    WAIT_UNTIL(atomic_load(&busy.done) == 1, 10000, "busy job finishes");
    WAIT_UNTIL(pool_idle() == 1, 10000, "the busy thread becomes idle");

    CHECK_ST(ifr_pool_trim(ifr_deadline(10 * T_SEC)), IFR_OK);
    /* Nothing was busy: once trim returns, every pool thread is gone and
     * ran its exit hook (trim waits for the threads it told to quit). */
    ifr_pool_stats(&threads, &idle);
    CHECK_EQ(idle, 0);
    CHECK_EQ(threads, 0);
    CHECK_EQ(atomic_load(&hook_exits), atomic_load(&hook_starts));
    CHECK_CMP(atomic_load(&hook_starts), >, 0);
    /* trim with nothing idle returns at once */
    int64_t t0 = t_now();
    CHECK_ST(ifr_pool_trim(ifr_deadline(10 * T_SEC)), IFR_OK);
    CHECK_ST(ifr_pool_trim(0), IFR_OK);
    CHECK_CMP(t_now() - t0, <, T_SEC);
    printf("  (hooks: %d starts, %d exits)\n", atomic_load(&hook_starts),
           atomic_load(&hook_exits));
    ifr_event_release(g.gate);
    ifr_event_release(busy.gate);
}

T_MAIN(T_CASE(pool_many_jobs), T_CASE(thread_start), T_CASE(thread_set_name), T_CASE(pool_reuse),
       T_CASE(pool_job_names), T_CASE(pool_stack_size), T_CASE(pool_max_idle),
       T_CASE(pool_idle_timeout), T_CASE(pool_deferred_prewake), T_CASE(pool_futex_hash), T_CASE(pool_trim_and_hooks))
