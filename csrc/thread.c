/*
 * thread.c — start detached OS threads with a stack size and a name, with
 * asynchronous signals blocked (see ifr.h).
 * Owns no state: the start record is allocated here and freed by the new
 * thread.
 */
#include "internal.h"

#include <string.h>

#ifndef _WIN32
#include <limits.h>
#include <signal.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#endif

#define NAME_MAX_LEN 15 /* Linux: 16 bytes with the NUL */

typedef struct {
    ifr_thread_fn fn;
    void *arg;
    char name[NAME_MAX_LEN + 1];
} start_rec;

void ifr_thread_set_name(const char *name) {
    if (!name) return;
    char buf[NAME_MAX_LEN + 1];
    strncpy(buf, name, NAME_MAX_LEN);
    buf[NAME_MAX_LEN] = 0;
#if defined(__linux__)
    prctl(PR_SET_NAME, buf, 0, 0, 0);
#elif defined(__APPLE__)
    pthread_setname_np(buf);
#elif defined(__FreeBSD__) || defined(__OpenBSD__)
    pthread_set_name_np(pthread_self(), buf);
#else
    (void)buf;
#endif
}

#ifdef _WIN32
#include <process.h>
static unsigned __stdcall trampoline(void *p) {
    start_rec r = *(start_rec *)p;
    free(p);
    r.fn(r.arg);
    return 0;
}
#else
static void *trampoline(void *p) {
    start_rec r = *(start_rec *)p;
    free(p);
    if (r.name[0]) ifr_thread_set_name(r.name);
    r.fn(r.arg);
    return NULL;
}
#endif

ifr_status ifr_thread_start(ifr_thread_fn fn, void *arg, const char *name, size_t stack_size) {
    if (!fn) return IFR_INVALID;
    start_rec *r = malloc(sizeof *r);
    if (!r) return IFR_NOMEM;
    r->fn = fn;
    r->arg = arg;
    r->name[0] = 0;
    if (name) {
        strncpy(r->name, name, NAME_MAX_LEN);
        r->name[NAME_MAX_LEN] = 0;
    }
#ifdef _WIN32
    uintptr_t h = _beginthreadex(NULL, (unsigned)stack_size, trampoline, r,
                                 stack_size ? STACK_SIZE_PARAM_IS_A_RESERVATION : 0, NULL);
    if (!h) {
        free(r);
        return IFR_OSERROR;
    }
    CloseHandle((HANDLE)h);
    return IFR_OK;
#else
    pthread_attr_t attr;
    pthread_t tid;
    if (pthread_attr_init(&attr) != 0) {
        free(r);
        return IFR_OSERROR;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (stack_size) {
        size_t min = (size_t)PTHREAD_STACK_MIN;
        long page = sysconf(_SC_PAGESIZE);
        size_t pg = page > 0 ? (size_t)page : 4096;
        if (stack_size < min) stack_size = min;
        stack_size = (stack_size + pg - 1) / pg * pg;
        pthread_attr_setstacksize(&attr, stack_size);
    }
    /* The new thread inherits the creator's mask: block the asynchronous
     * signals around pthread_create, so it starts with them blocked. */
    sigset_t async_sigs, old_mask;
    sigemptyset(&async_sigs);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGWINCH};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&async_sigs, sigs[i]);
    pthread_sigmask(SIG_BLOCK, &async_sigs, &old_mask);
    int rc = pthread_create(&tid, &attr, trampoline, r);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(r);
        return IFR_OSERROR;
    }
    return IFR_OK;
#endif
}
