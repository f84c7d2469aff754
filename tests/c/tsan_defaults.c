/*
 * tsan_defaults.c — ThreadSanitizer defaults for the C tests, linked into
 * each test program (TSAN_OPTIONS from the environment still apply on top).
 * - atexit_sleep_ms=50: TSan sleeps 1 s at exit while other threads live
 *   (idle pool threads always do); every test case runs in a process of its
 *   own, so keep only a short pause;
 * - die_after_fork=0: test_fork forks a multi-threaded process on purpose
 *   (as Python's os.fork() does) and starts threads in the child.
 */
#if defined(__SANITIZE_THREAD__)
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "atexit_sleep_ms=50:die_after_fork=0"; }
#else
typedef int ifr_tsan_defaults_unused; /* ISO C: no empty translation unit */
#endif
