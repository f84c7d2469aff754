/*
 * harness.h — a tiny test harness for the C core's tests (plain C, no
 * Python, no framework).
 *
 * - CHECK* macros print file:line and the failing expression (with values)
 *   and end the process with status 1 (_exit: no atexit handlers, no leak
 *   report for a test that already failed, safe in a forked child).
 * - t_spawn / t_join: threads joined against a deadline, so a hang fails
 *   with a message instead of blocking until ctest's timeout.
 * - t_main: runs a table of named cases (all, or those named on the command
 *   line), each in a forked child with a time limit (so one failing or
 *   hanging case does not hide the others, and LeakSanitizer checks each),
 *   prints timings, and arms a watchdog (SIGALRM) for the whole run.
 *   Environment: IFR_TEST_SPIN_NS sets ifr_set_spin_ns() before the cases
 *   (the ".nospin" ctest variants use 0 to force the park path);
 *   IFR_TEST_NOFORK=1 runs the cases in-process (for a debugger).
 *
 * Shared memory between threads in tests is either C11/__atomic or
 * published through the core (the sanitizers then check the core's
 * happens-before edges: a plain int written before a wake and read after
 * it is a data race under TSan unless the core synchronises).
 */
#ifndef IFR_TEST_HARNESS_H
#define IFR_TEST_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ifr.h"

#define T_MS 1000000LL
#define T_SEC 1000000000LL

/* ------------------------------------------------------------------------ */
/* Failure reporting                                                        */
/* ------------------------------------------------------------------------ */

static const char *volatile t_current_case = "(setup)";

__attribute__((format(printf, 3, 4), noreturn)) static inline void
t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: FAIL [%s]: ", file, line, t_current_case);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    fflush(stdout);
    _exit(1);
}

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond))                                                        \
            t_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                 \
    } while (0)

#define CHECK_MSG(cond, ...)                                                \
    do {                                                                    \
        if (!(cond))                                                        \
            t_fail(__FILE__, __LINE__, __VA_ARGS__);                        \
    } while (0)

#define CHECK_EQ(a, b)                                                      \
    do {                                                                    \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);             \
        if (t_a_ != t_b_)                                                   \
            t_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %lld != %lld",    \
                   #a, #b, t_a_, t_b_);                                     \
    } while (0)

#define CHECK_CMP(a, op, b)                                                 \
    do {                                                                    \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);             \
        if (!(t_a_ op t_b_))                                                \
            t_fail(__FILE__, __LINE__, "CHECK(%s %s %s): %lld vs %lld",     \
                   #a, #op, #b, t_a_, t_b_);                                \
    } while (0)

#define CHECK_PTR(a, b)                                                     \
    do {                                                                    \
        const void *t_a_ = (const void *)(a), *t_b_ = (const void *)(b);    \
        if (t_a_ != t_b_)                                                   \
            t_fail(__FILE__, __LINE__, "CHECK_PTR(%s, %s): %p != %p", #a,   \
                   #b, t_a_, t_b_);                                         \
    } while (0)

/* CHECK_ST(expr, IFR_OK): compare statuses and print their names. */
#define CHECK_ST(expr, want)                                                \
    do {                                                                    \
        int t_s_ = (int)(expr), t_w_ = (int)(want);                         \
        if (t_s_ != t_w_)                                                   \
            t_fail(__FILE__, __LINE__, "%s returned %d (%s), want %d (%s)", \
                   #expr, t_s_, ifr_strstatus(t_s_), t_w_,                  \
                   ifr_strstatus(t_w_));                                    \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Time and small helpers                                                   */
/* ------------------------------------------------------------------------ */

static inline int64_t t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * T_SEC + ts.tv_nsec;
}

static inline void t_sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / T_SEC), (long)(ns % T_SEC)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline void t_sleep_ms(int64_t ms) { t_sleep_ns(ms * T_MS); }

/* Poll `cond` (an expression) every 200 us until true or `timeout_ms`
 * elapse; fail with `what` on timeout. */
#define WAIT_UNTIL(cond, timeout_ms, what)                                  \
    do {                                                                    \
        int64_t t_dl_ = t_now() + (int64_t)(timeout_ms) * T_MS;             \
        while (!(cond)) {                                                   \
            if (t_now() > t_dl_)                                            \
                t_fail(__FILE__, __LINE__,                                  \
                       "timed out after %d ms waiting for %s (%s)",         \
                       (int)(timeout_ms), #cond, what);                     \
            t_sleep_ns(200000);                                             \
        }                                                                   \
    } while (0)

/* Blocking calls re-check their condition when the deadline passes, so a
 * lost wake-up shows up as a wait that lasted until its (long) deadline,
 * not as a failure. Waits that another thread satisfies promptly are
 * therefore also timed: CHECK_PROMPT(t0, what) fails when more than
 * T_PROMPT_NS passed since t0 (far below the 20-30 s deadlines used). */
#define T_PROMPT_NS (5 * T_SEC)
#define CHECK_PROMPT(t0, what)                                              \
    do {                                                                    \
        int64_t t_d_ = t_now() - (t0);                                      \
        if (t_d_ > T_PROMPT_NS)                                             \
            t_fail(__FILE__, __LINE__,                                      \
                   "%s took %lld ms: a lost wake-up, masked by the deadline?", \
                   what, (long long)(t_d_ / T_MS));                         \
    } while (0)

static inline void *t_xmalloc(size_t n)
{
    void *p = calloc(1, n);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        _exit(1);
    }
    return p;
}

/* Word accessors with acquire/release semantics (the park word is
 * `volatile uint32_t`; __atomic builtins accept volatile pointers). */
static inline uint32_t t_load(ifr_word *w) { return __atomic_load_n(w, __ATOMIC_ACQUIRE); }
static inline void t_store(ifr_word *w, uint32_t v) { __atomic_store_n(w, v, __ATOMIC_RELEASE); }

/* A tiny xorshift PRNG for shuffles (deterministic per seed). */
static inline uint32_t t_rand(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x ? x : 0x9e3779b9u;
}

/* ------------------------------------------------------------------------ */
/* Threads joined against a deadline                                        */
/* ------------------------------------------------------------------------ */

typedef struct t_thread {
    pthread_t tid;
    void (*fn)(void *);
    void *arg;
    atomic_int done;
} t_thread;

static inline void *t_thread_main_(void *p)
{
    t_thread *t = (t_thread *)p;
    t->fn(t->arg);
    atomic_store(&t->done, 1);
    return NULL;
}

static inline t_thread *t_spawn(void (*fn)(void *), void *arg)
{
    t_thread *t = (t_thread *)t_xmalloc(sizeof *t);
    t->fn = fn;
    t->arg = arg;
    atomic_init(&t->done, 0);
    int rc = pthread_create(&t->tid, NULL, t_thread_main_, t);
    if (rc != 0) {
        fprintf(stderr, "pthread_create: %s\n", strerror(rc));
        _exit(1);
    }
    return t;
}

/* Join `t` (and free it); fail if it has not finished within timeout_ms. */
#define t_join(t, timeout_ms) t_join_at_((t), (timeout_ms), __FILE__, __LINE__)
static inline void t_join_at_(t_thread *t, int64_t timeout_ms, const char *file,
                              int line)
{
    int64_t dl = t_now() + timeout_ms * T_MS;
    while (!atomic_load(&t->done)) {
        if (t_now() > dl)
            t_fail(file, line, "thread did not finish within %lld ms (hang?)",
                   (long long)timeout_ms);
        t_sleep_ns(200000);
    }
    pthread_join(t->tid, NULL);
    free(t);
}

/* ------------------------------------------------------------------------ */
/* Test table and main                                                      */
/* ------------------------------------------------------------------------ */

typedef struct t_case {
    const char *name;
    void (*fn)(void);
} t_case;

#define T_CASE(fn) {#fn, fn}

/* A child process the watchdog kills too (test_fork sets it while it
 * waits for a child), so a hung child does not outlive the test. */
static volatile pid_t t_child_pid;

static inline void t_watchdog_(int sig)
{
    (void)sig;
    if (t_child_pid > 0)
        kill(t_child_pid, SIGKILL);
    static const char msg[] = "\nwatchdog: the test run took too long (hang?) in case: ";
    ssize_t r = write(2, msg, sizeof msg - 1);
    const char *name = t_current_case;
    r = write(2, name, strlen(name));
    r = write(2, "\n", 1);
    (void)r;
    _exit(3);
}

static inline void t_run_inline_(const t_case *c)
{
    t_current_case = c->name;
    c->fn();
    t_current_case = "(between cases)";
}

/* Run one case in a forked child, so a failing or hanging case does not
 * hide the others, and each case ends with the sanitizers' exit checks
 * (LeakSanitizer). The parent stays single-threaded. 0: passed. */
static inline int t_run_forked_(const t_case *c, int64_t timeout_ns)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        alarm(0);
        t_run_inline_(c);
        fflush(stdout);
        exit(0); /* not _exit: LeakSanitizer checks at exit */
    }
    t_child_pid = pid;
    int64_t dl = t_now() + timeout_ns;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            perror("waitpid");
            return 1;
        }
        if (t_now() > dl) {
            fprintf(stderr, "FAIL [%s]: still running after %lld s (hang?): killed\n", c->name,
                    (long long)(timeout_ns / T_SEC));
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            t_child_pid = 0;
            return 1;
        }
        t_sleep_ns(1000000);
    }
    t_child_pid = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status))
        fprintf(stderr, "FAIL [%s]: killed by signal %d\n", c->name, WTERMSIG(status));
    else
        fprintf(stderr, "FAIL [%s]: exit status %d\n", c->name, WEXITSTATUS(status));
    return 1;
}

/* Environment: IFR_TEST_SPIN_NS (spin budget), IFR_TEST_NOFORK=1 (run the
 * cases in this process, e.g. under gdb; the first failure ends the run),
 * IFR_TEST_CASE_TIMEOUT_S (per case, default 60), IFR_TEST_WATCHDOG_S
 * (whole run, default 110). */
static inline int t_main(int argc, char **argv, const t_case *cases, size_t ncases)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *spin = getenv("IFR_TEST_SPIN_NS");
    if (spin != NULL && *spin != '\0')
        ifr_set_spin_ns(strtoll(spin, NULL, 10));
    const char *nofork_env = getenv("IFR_TEST_NOFORK");
    int nofork = nofork_env != NULL && atoi(nofork_env) != 0;
    const char *ct = getenv("IFR_TEST_CASE_TIMEOUT_S");
    int64_t case_timeout = (ct != NULL ? atoll(ct) : 60) * T_SEC;
    const char *wd = getenv("IFR_TEST_WATCHDOG_S");
    unsigned watchdog_s = wd != NULL ? (unsigned)atoi(wd) : 110u;
    if (watchdog_s > 0) {
        signal(SIGALRM, t_watchdog_);
        alarm(watchdog_s);
    }
    printf("backend=%s spin_ns=%lld ncpu=%d%s\n", ifr_park_backend(),
           (long long)ifr_get_spin_ns(), ifr_ncpu(), nofork ? " nofork" : "");
    int ran = 0, failed = 0;
    int64_t t_all = t_now();
    for (size_t i = 0; i < ncases; i++) {
        int selected = argc <= 1;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], cases[i].name) == 0)
                selected = 1;
        if (!selected)
            continue;
        t_current_case = cases[i].name;
        printf("[ RUN  ] %s\n", cases[i].name);
        int64_t t0 = t_now();
        int bad = 0;
        if (nofork)
            t_run_inline_(&cases[i]);
        else
            bad = t_run_forked_(&cases[i], case_timeout);
        printf("[%s] %s (%.1f ms)\n", bad ? "FAILED" : "   OK ", cases[i].name,
               (double)(t_now() - t0) / 1e6);
        ran++;
        failed += bad;
    }
    t_current_case = "(teardown)";
    if (ran == 0) {
        fprintf(stderr, "no test case matched; cases:");
        for (size_t i = 0; i < ncases; i++)
            fprintf(stderr, " %s", cases[i].name);
        fputc('\n', stderr);
        return 2;
    }
    if (failed) {
        printf("FAILED %d of %d case(s)\n", failed, ran);
        return 1;
    }
    printf("PASSED %d case(s) in %.1f ms\n", ran, (double)(t_now() - t_all) / 1e6);
    return 0;
}

#define T_MAIN(...)                                                         \
    int main(int argc, char **argv)                                         \
    {                                                                       \
        static const t_case cases_[] = {__VA_ARGS__};                       \
        return t_main(argc, argv, cases_, sizeof cases_ / sizeof cases_[0]); \
    }

#endif /* IFR_TEST_HARNESS_H */
