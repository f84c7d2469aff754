/*
 * waitq.c — the wait queue under events, mailboxes and procs (see the
 * invariant in internal.h). Owns nothing but the node list; the word's
 * meaning belongs to the object that embeds the queue.
 */
#include "internal.h"

void ifr_waitq_init(ifr_waitq *q, uint32_t word) {
    atomic_init(&q->word, word);
    atomic_init(&q->nwait, 0);
    atomic_init(&q->nnodes, 0);
    atomic_init(&q->pokes, 0);
    q->spin_kind = IFR_SPIN_WAIT;
    ifr_mutex_init(&q->nlock);
    q->head.prev = q->head.next = &q->head;
    q->head.word = NULL;
}

void ifr_waitq_destroy(ifr_waitq *q) { ifr_mutex_destroy(&q->nlock); }

void ifr_waitq_notify(ifr_waitq *q) {
    if (atomic_load(&q->nwait)) ifr_unpark(&q->word, IFR_ALL);
    if (atomic_load(&q->nnodes)) {
        ifr_mutex_lock(&q->nlock);
        for (ifr_node *n = q->head.next; n != &q->head; n = n->next) {
            atomic_fetch_add(n->word, 1);
            ifr_unpark(n->word, IFR_ALL);
        }
        ifr_mutex_unlock(&q->nlock);
    }
}

void ifr_waitq_poke(ifr_waitq *q) {
    if (atomic_load(&q->nwait)) {
        atomic_fetch_add(&q->pokes, 1);
        ifr_unpark(&q->word, IFR_ALL);
    }
}

void ifr_waitq_add(ifr_waitq *q, ifr_node *n, ifr_word *selword) {
    n->word = selword;
    ifr_mutex_lock(&q->nlock);
    n->next = &q->head;
    n->prev = q->head.prev;
    q->head.prev->next = n;
    q->head.prev = n;
    atomic_fetch_add(&q->nnodes, 1);
    ifr_mutex_unlock(&q->nlock);
}

void ifr_waitq_remove(ifr_waitq *q, ifr_node *n) {
    ifr_mutex_lock(&q->nlock);
    n->prev->next = n->next;
    n->next->prev = n->prev;
    atomic_fetch_sub(&q->nnodes, 1);
    ifr_mutex_unlock(&q->nlock);
}

typedef struct {
    ifr_try_fn fn;
    void *arg;
    ifr_status st;
} try_state;

static int try_cond(void *p) {
    try_state *t = p;
    t->st = t->fn(t->arg);
    return t->st != IFR_EMPTY;
}

ifr_status ifr_waitq_wait(ifr_waitq *q, ifr_try_fn try_fn, void *arg, int64_t deadline_ns) {
    ifr_status st = try_fn(arg);
    if (st != IFR_EMPTY) return st;
    if (deadline_ns >= 0 && ifr_now_ns() >= deadline_ns) return IFR_TIMEOUT;
    ifr_flush_deferred(); /* about to wait: a good moment for wake-ups */
    try_state t = {try_fn, arg, IFR_EMPTY};
    if (ifr_spin_until(q->spin_kind, try_cond, &t, deadline_ns)) return t.st;
    for (;;) {
        uint32_t seq = atomic_load(&q->word);
        uint32_t pokes = atomic_load(&q->pokes);
        atomic_fetch_add(&q->nwait, 1);
        st = try_fn(arg);
        if (st != IFR_EMPTY) {
            atomic_fetch_sub(&q->nwait, 1);
            return st;
        }
        ifr_status rc = ifr_park(&q->word, seq, deadline_ns);
        atomic_fetch_sub(&q->nwait, 1);
        st = try_fn(arg);
        if (st != IFR_EMPTY) return st;
        if (rc == IFR_TIMEOUT) return IFR_TIMEOUT;
        if (rc == IFR_INTERRUPTED) return IFR_INTERRUPTED;
        if (deadline_ns >= 0 && ifr_now_ns() >= deadline_ns) return IFR_TIMEOUT;
        /* Poked: what we wait for is about to happen; be running for it. */
        if (atomic_load(&q->pokes) != pokes && ifr_spin_until(IFR_SPIN_POKED, try_cond, &t, deadline_ns))
            return t.st;
    }
}
