/*
 * event.c — a settable flag. The wait queue's word is the flag (0 or 1);
 * it only ever goes from 0 to 1.
 */
#include "internal.h"

struct ifr_event {
    ifr_waitq q;
    atomic_int refs;
};

ifr_event *ifr_event_new(void) {
    ifr_event *ev = malloc(sizeof *ev);
    if (!ev) return NULL;
    ifr_waitq_init(&ev->q, 0);
    atomic_init(&ev->refs, 1);
    return ev;
}

void ifr_event_retain(ifr_event *ev) { atomic_fetch_add_explicit(&ev->refs, 1, memory_order_relaxed); }

void ifr_event_release(ifr_event *ev) {
    if (!ev) return;
    if (atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) == 1) {
        ifr_waitq_destroy(&ev->q);
        free(ev);
    }
}

void ifr_event_set(ifr_event *ev) {
    if (atomic_load(&ev->q.word)) return;
    if (atomic_exchange(&ev->q.word, 1) == 0) ifr_waitq_notify(&ev->q);
}

int ifr_event_is_set(const ifr_event *ev) {
    return atomic_load((ifr_word *)&ev->q.word) != 0;
}

static ifr_status event_try(void *p) { return atomic_load(&((ifr_event *)p)->q.word) ? IFR_OK : IFR_EMPTY; }

ifr_status ifr_event_wait(ifr_event *ev, int64_t deadline_ns) {
    return ifr_waitq_wait(&ev->q, event_try, ev, deadline_ns);
}

ifr_waitq *ifr__event_q(ifr_event *ev) { return &ev->q; }
