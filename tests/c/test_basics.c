/*
 * test_basics.c — status names, the clock, deadlines, ncpu, the spin budget
 * and the park backend this build selected.
 */
#include "harness.h"

static void status_names(void)
{
    const int codes[] = {IFR_OK, IFR_TIMEOUT, IFR_INTERRUPTED, IFR_CLOSED,
                         IFR_NOMEM, IFR_EMPTY, IFR_INVALID, IFR_OSERROR};
    const size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = ifr_strstatus(codes[i]);
        CHECK(s != NULL);
        CHECK(s[0] != '\0');
        for (size_t j = 0; j < i; j++)
            CHECK_MSG(strcmp(s, ifr_strstatus(codes[j])) != 0,
                      "statuses %d and %d share the name '%s'", codes[i], codes[j], s);
    }
    CHECK(strstr(ifr_strstatus(IFR_TIMEOUT), "timeout") != NULL);
    /* Unknown codes still give a static, non-NULL string. */
    CHECK(ifr_strstatus(12345) != NULL);
    CHECK(ifr_strstatus(-12345) != NULL);
    CHECK(ifr_strstatus(-8) != NULL);
}

static void clock_and_deadlines(void)
{
    int64_t a = ifr_now_ns();
    int64_t t = t_now();
    int64_t b = ifr_now_ns();
    CHECK_CMP(a, >, 0);
    CHECK_CMP(b, >=, a);
    /* Same clock as CLOCK_MONOTONIC (within a generous second). */
    CHECK_CMP(llabs(t - a), <, T_SEC);
    int64_t prev = ifr_now_ns();
    for (int i = 0; i < 100000; i++) {
        int64_t now = ifr_now_ns();
        CHECK_CMP(now, >=, prev);
        prev = now;
    }
    int64_t before = ifr_now_ns();
    t_sleep_ms(5);
    CHECK_CMP(ifr_now_ns() - before, >=, 5 * T_MS);

    CHECK_EQ(ifr_deadline(-1), -1);
    CHECK_EQ(ifr_deadline(-123456789), -1);
    CHECK_EQ(ifr_deadline(INT64_MIN), -1);
    int64_t n0 = ifr_now_ns();
    int64_t d0 = ifr_deadline(0);
    int64_t n1 = ifr_now_ns();
    CHECK_CMP(d0, >=, n0);
    CHECK_CMP(d0, <=, n1);
    int64_t d1 = ifr_deadline(T_SEC);
    CHECK_CMP(d1, >=, n1 + T_SEC);
    CHECK_CMP(d1, <=, ifr_now_ns() + T_SEC);
    /* Saturates: a huge timeout is a far, positive deadline, never an
     * overflow into "forever" (-1) or the past. */
    int64_t dmax = ifr_deadline(INT64_MAX);
    CHECK_CMP(dmax, >, ifr_now_ns() + 100LL * 365 * 24 * 3600 * T_SEC);
    int64_t dbig = ifr_deadline(INT64_MAX - 5);
    CHECK_CMP(dbig, >, 0);
}

static void ncpu_and_spin(void)
{
    int n = ifr_ncpu();
    CHECK_CMP(n, >=, 1);
    CHECK_EQ(ifr_ncpu(), n);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online >= 1) /* online CPUs, or fewer when it reads the affinity mask */
        CHECK_CMP(n, <=, online);

    int64_t old = ifr_get_spin_ns();
    CHECK_CMP(old, >=, 0);
    ifr_set_spin_ns(0);
    CHECK_EQ(ifr_get_spin_ns(), 0);
    ifr_set_spin_ns(123456);
    CHECK_EQ(ifr_get_spin_ns(), 123456);
    ifr_set_spin_ns(old);
    CHECK_EQ(ifr_get_spin_ns(), old);
}

static void default_spin(void)
{
    /* The documented default is 50 us (unless the run overrides it). */
    if (getenv("IFR_TEST_SPIN_NS") == NULL)
        CHECK_EQ(ifr_get_spin_ns(), 50000);
}

static void backend_name(void)
{
    const char *b = ifr_park_backend();
    CHECK(b != NULL);
#if defined(IFR_PARK_FUTEX)
    CHECK_MSG(strcmp(b, "futex") == 0, "backend '%s', built for futex", b);
#elif defined(IFR_PARK_CONDVAR)
    CHECK_MSG(strcmp(b, "condvar") == 0, "backend '%s', built for condvar", b);
#elif defined(IFR_PARK_WAITONADDRESS)
    CHECK_MSG(strcmp(b, "waitonaddress") == 0, "backend '%s', built for waitonaddress", b);
#else
    CHECK(strcmp(b, "futex") == 0 || strcmp(b, "condvar") == 0 ||
          strcmp(b, "waitonaddress") == 0);
#endif
}

T_MAIN(T_CASE(default_spin), T_CASE(status_names), T_CASE(clock_and_deadlines),
       T_CASE(ncpu_and_spin), T_CASE(backend_name))
