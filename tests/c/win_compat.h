/*
 * win_compat.h — lets the portable C tests build with mingw-w64 for Windows.
 *
 * Used only by scripts/c-tests-windows, force-included (-include) before
 * each test file, together with a one-line <sys/wait.h> stub in the build
 * directory. harness.h stays POSIX: on Windows the cases run in-process
 * (IFR_TEST_NOFORK=1, so fork/waitpid are never called) and without the
 * SIGALRM watchdog (the script wraps each test in `timeout`). Threads come
 * from mingw-w64's winpthreads (-lpthread); the core itself uses Win32.
 */
#ifndef IFR_WIN_COMPAT_H
#define IFR_WIN_COMPAT_H
#ifdef _WIN32

#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <windows.h>

#ifndef SIGKILL
#define SIGKILL 9
#endif
#ifndef SIGALRM
#define SIGALRM 14
#endif
#define WNOHANG 1
#define WIFEXITED(s) (1)
#define WEXITSTATUS(s) ((s) & 0xff)
#define WIFSIGNALED(s) (0)
#define WTERMSIG(s) (0)

static inline unsigned ifr_win_alarm_(unsigned s) { (void)s; return 0; }
static inline int ifr_win_kill_(pid_t pid, int sig) { (void)pid; (void)sig; errno = ENOSYS; return -1; }
static inline pid_t ifr_win_fork_(void) { errno = ENOSYS; return -1; }
static inline pid_t ifr_win_waitpid_(pid_t pid, int *st, int opt)
{
    (void)pid; (void)st; (void)opt; errno = ECHILD; return -1;
}
#define _SC_NPROCESSORS_ONLN 84
static inline long ifr_win_sysconf_(int name)
{
    if (name != _SC_NPROCESSORS_ONLN) { errno = EINVAL; return -1; }
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return (long)si.dwNumberOfProcessors;
}
#define sysconf ifr_win_sysconf_
#define alarm ifr_win_alarm_
#define kill ifr_win_kill_
#define fork ifr_win_fork_
#define waitpid ifr_win_waitpid_

#endif /* _WIN32 */
#endif /* IFR_WIN_COMPAT_H */
