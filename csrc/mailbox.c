/*
 * mailbox.c — an unbounded FIFO of opaque items with close.
 *
 * Items live in a growable ring buffer (`buf`, `cap` a power of two,
 * `head`, `len`), protected by `lock`; small mailboxes use the inline
 * buffer and never allocate. The wait queue's word is a sequence number
 * bumped on every put and on close, so waiters park on "nothing changed".
 * `alen` mirrors len (and `aclosed` closed) for lock-free empty checks
 * while spinning. Invariants: len <= cap; after close, no put succeeds;
 * items are handed out exactly once, in put order.
 */
#include "internal.h"

#include <string.h>

#define INLINE_CAP 4

struct ifr_mailbox {
    ifr_waitq q;
    ifr_mutex lock;
    void **buf;
    size_t cap, head, len;
    int closed;
    atomic_size_t alen;
    atomic_int aclosed;
    atomic_int refs;
    ifr_dispose_fn dispose;
    void *inline_buf[INLINE_CAP];
};

ifr_mailbox *ifr_mailbox_new(ifr_dispose_fn dispose) {
    ifr_mailbox *mb = malloc(sizeof *mb);
    if (!mb) return NULL;
    ifr_waitq_init(&mb->q, 0);
    ifr_mutex_init(&mb->lock);
    mb->buf = mb->inline_buf;
    mb->cap = INLINE_CAP;
    mb->head = mb->len = 0;
    mb->closed = 0;
    atomic_init(&mb->alen, 0);
    atomic_init(&mb->aclosed, 0);
    atomic_init(&mb->refs, 1);
    mb->dispose = dispose;
    return mb;
}

void ifr_mailbox_retain(ifr_mailbox *mb) { atomic_fetch_add_explicit(&mb->refs, 1, memory_order_relaxed); }

void ifr_mailbox_release(ifr_mailbox *mb) {
    if (!mb) return;
    if (atomic_fetch_sub_explicit(&mb->refs, 1, memory_order_acq_rel) != 1) return;
    if (mb->dispose) {
        for (size_t i = 0; i < mb->len; i++) mb->dispose(mb->buf[(mb->head + i) & (mb->cap - 1)]);
    }
    if (mb->buf != mb->inline_buf) free(mb->buf);
    ifr_mutex_destroy(&mb->lock);
    ifr_waitq_destroy(&mb->q);
    free(mb);
}

void ifr__mailbox_dispose(ifr_mailbox *mb, void *item) {
    if (mb->dispose) mb->dispose(item);
}

/* Double the ring; called with the lock held and len == cap. */
static int grow(ifr_mailbox *mb) {
    size_t ncap = mb->cap * 2;
    void **nb = malloc(ncap * sizeof *nb);
    if (!nb) return -1;
    for (size_t i = 0; i < mb->len; i++) nb[i] = mb->buf[(mb->head + i) & (mb->cap - 1)];
    if (mb->buf != mb->inline_buf) free(mb->buf);
    mb->buf = nb;
    mb->cap = ncap;
    mb->head = 0;
    return 0;
}

ifr_status ifr_mailbox_put(ifr_mailbox *mb, void *item) {
    ifr_mutex_lock(&mb->lock);
    if (mb->closed) {
        ifr_mutex_unlock(&mb->lock);
        return IFR_CLOSED;
    }
    if (mb->len == mb->cap && grow(mb) != 0) {
        ifr_mutex_unlock(&mb->lock);
        return IFR_NOMEM;
    }
    mb->buf[(mb->head + mb->len) & (mb->cap - 1)] = item;
    mb->len++;
    atomic_store(&mb->alen, mb->len);
    atomic_fetch_add(&mb->q.word, 1);
    ifr_mutex_unlock(&mb->lock);
    ifr_waitq_notify(&mb->q);
    return IFR_OK;
}

ifr_status ifr__mailbox_try_take(ifr_mailbox *mb, void **item) {
    if (atomic_load(&mb->alen) == 0 && !atomic_load(&mb->aclosed)) return IFR_EMPTY;
    ifr_mutex_lock(&mb->lock);
    ifr_status st;
    if (mb->len) {
        *item = mb->buf[mb->head];
        mb->head = (mb->head + 1) & (mb->cap - 1);
        mb->len--;
        atomic_store(&mb->alen, mb->len);
        if (mb->len == 0 && mb->cap > 1024 && mb->buf != mb->inline_buf) {
            free(mb->buf); /* give a drained burst's memory back */
            mb->buf = mb->inline_buf;
            mb->cap = INLINE_CAP;
            mb->head = 0;
        }
        st = IFR_OK;
    } else {
        st = mb->closed ? IFR_CLOSED : IFR_EMPTY;
    }
    ifr_mutex_unlock(&mb->lock);
    return st;
}

typedef struct {
    ifr_mailbox *mb;
    void **item;
} take_args;

static ifr_status take_try(void *p) {
    take_args *a = p;
    return ifr__mailbox_try_take(a->mb, a->item);
}

ifr_status ifr_mailbox_get(ifr_mailbox *mb, void **item, int64_t deadline_ns) {
    take_args a = {mb, item};
    return ifr_waitq_wait(&mb->q, take_try, &a, deadline_ns);
}

ifr_status ifr_mailbox_poll(ifr_mailbox *mb, void **item) { return ifr__mailbox_try_take(mb, item); }

size_t ifr_mailbox_len(ifr_mailbox *mb) { return atomic_load(&mb->alen); }

int ifr_mailbox_is_closed(ifr_mailbox *mb) { return atomic_load(&mb->aclosed); }

uint32_t ifr_mailbox_seq(ifr_mailbox *mb) { return atomic_load(&mb->q.word); }

void ifr_mailbox_poke(ifr_mailbox *mb) { ifr_waitq_poke(&mb->q); }

/* One deferred poke per thread (a retained mailbox), done by the thread's
 * next ifr_flush_deferred(). */
static _Thread_local ifr_mailbox *poke_later;

void ifr_mailbox_poke_deferred(ifr_mailbox *mb) {
    ifr_mailbox *older = poke_later;
    ifr_mailbox_retain(mb);
    poke_later = mb;
    if (older) { /* one pending poke at a time: an older one goes now */
        ifr_waitq_poke(&older->q);
        ifr_mailbox_release(older);
    }
}

void ifr_flush_deferred(void) {
    ifr__pool_flush_prewake();
    ifr_mailbox *mb = poke_later;
    if (!mb) return;
    poke_later = NULL;
    ifr_waitq_poke(&mb->q);
    ifr_mailbox_release(mb);
}

void ifr__mailbox_set_signals(ifr_mailbox *mb) { mb->q.spin_kind = IFR_SPIN_SIGNALS; }

/* Close; with `drain`, also remove every item and hand each to fn (or, with
 * fn NULL, to the mailbox's dispose function) after the lock is released. */
static void close_impl(ifr_mailbox *mb, int drain, void (*fn)(void *, void *), void *ctx) {
    void *small[INLINE_CAP];
    void **items = small, **owned = NULL;
    size_t n = 0;
    ifr_mutex_lock(&mb->lock);
    int changed = !mb->closed;
    mb->closed = 1;
    atomic_store(&mb->aclosed, 1);
    if (drain && mb->len) {
        n = mb->len;
        if (n > INLINE_CAP) items = owned = malloc(n * sizeof *items);
        if (items) {
            for (size_t i = 0; i < n; i++) items[i] = mb->buf[(mb->head + i) & (mb->cap - 1)];
            mb->head = 0;
            mb->len = 0;
            atomic_store(&mb->alen, 0);
            changed = 1;
        } else {
            n = 0; /* no memory for the copy: leave the items for release() */
        }
    }
    if (changed) atomic_fetch_add(&mb->q.word, 1);
    ifr_mutex_unlock(&mb->lock);
    if (changed) ifr_waitq_notify(&mb->q);
    for (size_t i = 0; i < n; i++) {
        if (fn)
            fn(items[i], ctx);
        else if (mb->dispose)
            mb->dispose(items[i]);
    }
    free(owned);
}

void ifr_mailbox_close_drain(ifr_mailbox *mb, void (*fn)(void *item, void *ctx), void *ctx) {
    close_impl(mb, 1, fn, ctx);
}

void ifr_mailbox_close(ifr_mailbox *mb) { close_impl(mb, 0, NULL, NULL); }

ifr_waitq *ifr__mailbox_q(ifr_mailbox *mb) { return &mb->q; }
