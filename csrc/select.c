/*
 * select.c — wait for the first of k waitables; the lowest index wins.
 *
 * A selector owns one park word (`selword`, on its stack). It registers a
 * node pointing at that word in each waitable's wait queue, re-checks every
 * waitable in index order, and parks on its word; any change to a waitable
 * bumps the word of every registered node (ifr_waitq_notify). Nodes are
 * always removed before returning, so no waitable keeps a pointer to the
 * stack. A mailbox that fires has exactly one item taken (by the check).
 */
#include "internal.h"

#define SMALL_N 8

static ifr_waitq *queue_of(const ifr_waitable *w) {
    switch (w->kind) {
    case IFR_W_EVENT: return ifr__event_q((ifr_event *)w->obj);
    case IFR_W_MAILBOX: return ifr__mailbox_q((ifr_mailbox *)w->obj);
    case IFR_W_PROC_READY:
    case IFR_W_PROC_EXIT: return ifr__proc_q((ifr_proc *)w->obj);
    case IFR_W_SIGSUB: return ifr__sigsub_q((ifr_sigsub *)w->obj);
    default: return NULL;
    }
}

typedef struct {
    const ifr_waitable *ws;
    size_t n;
    ifr_selected *out;
} sel_args;

/* Check the waitables in order; on the first that fired fill *out. */
static int check_all(void *p) {
    sel_args *a = p;
    for (size_t i = 0; i < a->n; i++) {
        const ifr_waitable *w = &a->ws[i];
        switch (w->kind) {
        case IFR_W_EVENT:
            if (!ifr_event_is_set((ifr_event *)w->obj)) continue;
            a->out->item = NULL;
            a->out->closed = 0;
            break;
        case IFR_W_MAILBOX: {
            void *item = NULL;
            ifr_status st = ifr__mailbox_try_take((ifr_mailbox *)w->obj, &item);
            if (st == IFR_EMPTY) continue;
            a->out->item = item;
            a->out->closed = st == IFR_CLOSED;
            break;
        }
        case IFR_W_PROC_READY:
            if (!(ifr_proc_state((ifr_proc *)w->obj) & IFR_PROC_READY)) continue;
            a->out->item = NULL;
            a->out->closed = 0;
            break;
        case IFR_W_PROC_EXIT:
            if (!(ifr_proc_state((ifr_proc *)w->obj) & IFR_PROC_EXITED)) continue;
            a->out->item = NULL;
            a->out->closed = 0;
            break;
        case IFR_W_SIGSUB: {
            int signo = 0;
            ifr_status st = ifr__sigsub_try_take((ifr_sigsub *)w->obj, &signo);
            if (st == IFR_EMPTY) continue;
            a->out->item = (void *)(intptr_t)signo;
            a->out->closed = st == IFR_CLOSED;
            break;
        }
        default: continue;
        }
        a->out->index = i;
        return 1;
    }
    return 0;
}

ifr_status ifr_select(const ifr_waitable *ws, size_t n, int64_t deadline_ns, ifr_selected *out) {
    if (!ws || !out || n == 0) return IFR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!ws[i].obj || !queue_of(&ws[i])) return IFR_INVALID;
    sel_args a = {ws, n, out};
    if (check_all(&a)) return IFR_OK;
    if (deadline_ns >= 0 && ifr_now_ns() >= deadline_ns) return IFR_TIMEOUT;
    ifr_flush_deferred(); /* about to wait: a good moment for wake-ups */
    if (ifr_spin_until(IFR_SPIN_WAIT, check_all, &a, deadline_ns)) return IFR_OK;

    ifr_node small[SMALL_N];
    ifr_node *nodes = n <= SMALL_N ? small : malloc(n * sizeof *nodes);
    if (!nodes) return IFR_NOMEM;
    ifr_word selword;
    atomic_init(&selword, 0);
    for (size_t i = 0; i < n; i++) ifr_waitq_add(queue_of(&ws[i]), &nodes[i], &selword);

    ifr_status st;
    for (;;) {
        uint32_t seq = atomic_load(&selword);
        if (check_all(&a)) {
            st = IFR_OK;
            break;
        }
        ifr_status rc = ifr_park(&selword, seq, deadline_ns);
        if (rc == IFR_TIMEOUT || rc == IFR_INTERRUPTED) {
            st = check_all(&a) ? IFR_OK : rc;
            break;
        }
    }
    for (size_t i = 0; i < n; i++) ifr_waitq_remove(queue_of(&ws[i]), &nodes[i]);
    if (nodes != small) free(nodes);
    return st;
}
