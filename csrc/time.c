/* time.c — the monotonic clock and deadline arithmetic. No state beyond the
 * Windows counter frequency, read once. */
#include "internal.h"

#ifdef _WIN32
int64_t ifr_now_ns(void) {
    static LARGE_INTEGER freq; /* benign race: every thread stores the same value */
    LARGE_INTEGER c;
    if (freq.QuadPart == 0) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&c);
    return (int64_t)((double)c.QuadPart * 1e9 / (double)freq.QuadPart);
}
#else
#include <time.h>
int64_t ifr_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
#endif

int64_t ifr_deadline(int64_t timeout_ns) {
    if (timeout_ns < 0) return -1;
    int64_t now = ifr_now_ns();
    if (timeout_ns > INT64_MAX - now) return INT64_MAX;
    return now + timeout_ns;
}
