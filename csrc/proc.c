/*
 * proc.c — the state of one process: a state word (the wait queue's word:
 * RUNNING | READY | EXITED bits, only ever added), a signal mailbox, the
 * exit payload, and subscriptions.
 *
 * Invariants:
 * - READY is set at most once and never after EXITED; EXITED exactly once.
 * - `payload` is written before EXITED is published (seq_cst fetch_or) and
 *   never changes after.
 * - Subscriptions are changed and delivered under `lock`, so for one
 *   subscription the ready tag is always put before the exit tag. Tags that
 *   must be disposed (callbacks into the binding) are disposed only after
 *   `lock` is released; mailbox puts under `lock` are fine (lock order:
 *   proc lock, then mailbox lock; a mailbox never calls into a proc).
 */
#include "internal.h"

typedef struct sub {
    struct sub *next;
    ifr_mailbox *mb;
    void *rtag; /* pending ready tag, or NULL */
    void *xtag; /* pending exit tag, or NULL  */
    void *dead; /* a ready tag whose put failed: disposed later */
} sub;

struct ifr_proc {
    ifr_waitq q;
    ifr_mutex lock;
    ifr_mailbox *sigs;
    void *payload;
    ifr_dispose_fn payload_dispose;
    sub *subs;
    atomic_int refs;
};

ifr_proc *ifr_proc_new(ifr_dispose_fn payload_dispose) {
    ifr_proc *p = malloc(sizeof *p);
    if (!p) return NULL;
    p->sigs = ifr_mailbox_new(NULL);
    if (!p->sigs) {
        free(p);
        return NULL;
    }
    ifr__mailbox_set_signals(p->sigs);
    ifr_waitq_init(&p->q, 0);
    ifr_mutex_init(&p->lock);
    p->payload = NULL;
    p->payload_dispose = payload_dispose;
    p->subs = NULL;
    atomic_init(&p->refs, 1);
    return p;
}

void ifr_proc_retain(ifr_proc *p) { atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed); }

/* Dispose what a detached list of subscriptions still holds, and free it. */
static void settle_subs(sub *s) {
    while (s) {
        sub *next = s->next;
        if (s->rtag) ifr__mailbox_dispose(s->mb, s->rtag);
        if (s->dead) ifr__mailbox_dispose(s->mb, s->dead);
        if (s->xtag) ifr__mailbox_dispose(s->mb, s->xtag);
        ifr_mailbox_release(s->mb);
        free(s);
        s = next;
    }
}

void ifr_proc_release(ifr_proc *p) {
    if (!p) return;
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1) return;
    settle_subs(p->subs);
    if (p->payload && p->payload_dispose) p->payload_dispose(p->payload);
    ifr_mailbox_release(p->sigs);
    ifr_mutex_destroy(&p->lock);
    ifr_waitq_destroy(&p->q);
    free(p);
}

uint32_t ifr_proc_state(const ifr_proc *p) { return atomic_load((ifr_word *)&p->q.word); }

int ifr_proc_start(ifr_proc *p) {
    uint32_t old = atomic_fetch_or(&p->q.word, IFR_PROC_RUNNING);
    if (old & IFR_PROC_RUNNING) return 0;
    ifr_waitq_notify(&p->q);
    return 1;
}

int ifr_proc_ready(ifr_proc *p) {
    uint32_t s = atomic_load(&p->q.word);
    if (s & (IFR_PROC_READY | IFR_PROC_EXITED)) return 0;
    ifr_mutex_lock(&p->lock);
    s = atomic_load(&p->q.word);
    if (s & (IFR_PROC_READY | IFR_PROC_EXITED)) {
        ifr_mutex_unlock(&p->lock);
        return 0;
    }
    atomic_fetch_or(&p->q.word, IFR_PROC_READY);
    for (sub *x = p->subs; x; x = x->next) {
        if (x->rtag) {
            if (ifr_mailbox_put(x->mb, x->rtag) != IFR_OK) x->dead = x->rtag;
            x->rtag = NULL;
        }
    }
    ifr_mutex_unlock(&p->lock);
    ifr_waitq_notify(&p->q);
    return 1;
}

int ifr_proc_exit(ifr_proc *p, void *payload) {
    ifr_mutex_lock(&p->lock);
    if (atomic_load(&p->q.word) & IFR_PROC_EXITED) {
        ifr_mutex_unlock(&p->lock);
        return 0;
    }
    p->payload = payload;
    atomic_fetch_or(&p->q.word, IFR_PROC_EXITED);
    sub *subs = p->subs;
    p->subs = NULL;
    for (sub *x = subs; x; x = x->next) {
        if (x->xtag && ifr_mailbox_put(x->mb, x->xtag) == IFR_OK) x->xtag = NULL;
    }
    ifr_mutex_unlock(&p->lock);
    /* Pending signals are dropped: a process that exited takes no more. */
    ifr_mailbox_close_drain(p->sigs, NULL, NULL);
    ifr_waitq_notify(&p->q);
    settle_subs(subs); /* ready tags that can no longer fire, failed puts */
    return 1;
}

void *ifr_proc_payload(const ifr_proc *p) {
    if (!(atomic_load((ifr_word *)&p->q.word) & IFR_PROC_EXITED)) return NULL;
    return p->payload;
}

typedef struct {
    ifr_proc *p;
    uint32_t mask;
} wait_args;

static ifr_status proc_try(void *arg) {
    wait_args *a = arg;
    return (atomic_load(&a->p->q.word) & a->mask) ? IFR_OK : IFR_EMPTY;
}

ifr_status ifr_proc_wait(ifr_proc *p, uint32_t mask, int64_t deadline_ns) {
    wait_args a = {p, mask};
    return ifr_waitq_wait(&p->q, proc_try, &a, deadline_ns);
}

ifr_status ifr_proc_signal(ifr_proc *p, int sig) {
    return ifr_mailbox_put(p->sigs, (void *)(intptr_t)sig);
}

ifr_mailbox *ifr_proc_signals(ifr_proc *p) { return p->sigs; }

ifr_status ifr_proc_subscribe(ifr_proc *p, ifr_mailbox *mb, void *ready_tag, void *exit_tag) {
    if (!p || !mb) return IFR_INVALID;
    sub *x = malloc(sizeof *x);
    if (!x) return IFR_NOMEM;
    ifr_mailbox_retain(mb);
    x->mb = mb;
    x->rtag = ready_tag;
    x->xtag = exit_tag;
    x->dead = NULL;
    x->next = NULL;
    ifr_mutex_lock(&p->lock);
    uint32_t s = atomic_load(&p->q.word);
    if ((s & IFR_PROC_READY) && x->rtag) {
        if (ifr_mailbox_put(mb, x->rtag) != IFR_OK) x->dead = x->rtag;
        x->rtag = NULL;
    }
    if (s & IFR_PROC_EXITED) {
        if (x->xtag && ifr_mailbox_put(mb, x->xtag) == IFR_OK) x->xtag = NULL;
        ifr_mutex_unlock(&p->lock);
        settle_subs(x); /* disposes a ready tag that can never fire */
        return IFR_OK;
    }
    if (!x->rtag && !x->xtag && !x->dead) {
        ifr_mutex_unlock(&p->lock);
        settle_subs(x);
        return IFR_OK;
    }
    x->next = p->subs;
    p->subs = x;
    ifr_mutex_unlock(&p->lock);
    return IFR_OK;
}

ifr_waitq *ifr__proc_q(ifr_proc *p) { return &p->q; }
