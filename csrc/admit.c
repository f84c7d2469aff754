/*
 * admit.c — admission to an external lock (the GIL): one thread at a time
 * goes for it, the others wait in FIFO order, each parked on its own word.
 *
 * Why: CPython's GIL makes every waiter sleep on one condition variable
 * with a 5 ms timeout, so thousands of threads that all want the GIL at
 * once (a Parallel group of 10 000 members starting) wake 200 times a
 * second each, and every hand-off costs a kernel wake-up of an arbitrary
 * waiter. Through admission, only the admitted thread waits for the GIL
 * (spinning on the baton, then taking it); the first in the queue has
 * already been woken (by the thread admitted before it, while that one
 * waited for the GIL) and spins for its turn, so a hand-off between two of
 * our threads usually costs no system call on the GIL holder's path, and
 * the rest of the queue sleeps without timeouts.
 *
 * Protocol: ifr_admit_enter() (GIL not held) returns once this thread is
 * admitted; the thread then takes the GIL and calls ifr_admit_leave(),
 * which hands the admission to the first queued thread (or frees it).
 * Liveness never depends on the hint being right: the first queued thread
 * waits at most `head_timeout_ns`, then goes in anyway (over-admission).
 *
 * Queue nodes are never freed: a thread takes one from `spare` while it
 * waits and gives it back under the lock when it is admitted, so a granter
 * that wakes a node after that causes at most a spurious wake-up of the
 * node's next user, who re-checks its word (as pool worker records do).
 */
#include "internal.h"

/* Admissions at once: 1 while hand-offs between our threads are quick.
 * When an admitted thread waited long for the GIL (held by a thread that
 * does not hand it over through the baton: a busy Python thread, say), only
 * a few of ours get it per GIL switch interval (5 ms) if just one of them
 * is waiting for it; so the slots double then (up to MAX_SLOTS, which
 * bounds how many threads sleep in CPython's timed GIL wait) and shrink
 * one by one again after quick acquisitions. */
#define MAX_SLOTS 64 /* the most ifr_admit_tune allows */
static atomic_uint max_slots = MAX_SLOTS;
#define SLOW_NS 1000000LL /* took 1 ms or more to get the GIL: slow */
#define FAST_NS 200000LL  /* took under 0.2 ms: quick */
static atomic_llong head_timeout_ns = 20000000LL; /* 20 ms */



typedef struct admit_node {
    struct admit_node *next;
    ifr_word word;    /* 0: waiting, 1: admitted (handed over by a leaver) */
    atomic_int first; /* 1 once it is the first in the queue                */
    atomic_int parked;
} admit_node;

static struct {
    ifr_mutex lock;
    admit_node *head, *tail, *spare;
    unsigned admitted; /* threads between enter and leave */
    unsigned slots;    /* admissions allowed at once (1..MAX_SLOTS) */
} adm = {
#ifdef _WIN32
    SRWLOCK_INIT,
#else
    PTHREAD_MUTEX_INITIALIZER,
#endif
    NULL, NULL, NULL, 0, 1};

void ifr_admit_tune(int64_t head_timeout, unsigned most) {
    most = most < 1 ? 1 : most > MAX_SLOTS ? MAX_SLOTS : most;
    atomic_store(&head_timeout_ns, head_timeout < 0 ? 0 : head_timeout);
    atomic_store(&max_slots, most);
    ifr_mutex_lock(&adm.lock);
    if (adm.slots > most) adm.slots = most;
    ifr_mutex_unlock(&adm.lock);
}

static _Thread_local int admitted_here; /* this thread is between enter and leave */
static _Thread_local int64_t admitted_at;

static int handed_over(void *p) { return atomic_load(&((admit_node *)p)->word) != 0; }

/* Unlink the first node; the next one becomes first. Lock held. Returns
 * the new first node (to wake), or NULL. */
static admit_node *pop_first(void) {
    admit_node *n = adm.head;
    adm.head = n->next;
    if (!adm.head) adm.tail = NULL;
    if (adm.head) atomic_store(&adm.head->first, 1);
    return adm.head;
}

void ifr_admit_enter(void) {
    if (admitted_here) return;
    ifr_mutex_lock(&adm.lock);
    admit_node *me = NULL;
    if (adm.admitted >= adm.slots || adm.head) {
        me = adm.spare;
        if (me)
            adm.spare = me->next;
        else
            me = calloc(1, sizeof *me);
    }
    if (!me) { /* a free slot, or no memory for a node: go in */
        adm.admitted++;
        ifr_mutex_unlock(&adm.lock);
        admitted_here = 1;
        admitted_at = ifr_now_ns();
        return;
    }
    me->next = NULL;
    atomic_store(&me->word, 0);
    atomic_store(&me->parked, 0);
    atomic_store(&me->first, adm.head == NULL);
    if (adm.tail)
        adm.tail->next = me;
    else
        adm.head = me;
    adm.tail = me;
    ifr_mutex_unlock(&adm.lock);

    int64_t first_since = -1;
    for (;;) {
        int64_t deadline = -1;
        if (atomic_load(&me->first)) {
            if (first_since < 0) {
                first_since = ifr_now_ns();
                /* Just became first (woken early for it): our turn comes
                 * when the admitted thread has the GIL; be running then. */
                if (ifr_spin_until(IFR_SPIN_PREWAKE, handed_over, me, -1)) break;
            }
            deadline = first_since + atomic_load_explicit(&head_timeout_ns, memory_order_relaxed);
        }
        atomic_store(&me->parked, 1);
        ifr_status rc = IFR_OK;
        if (!atomic_load(&me->word)) rc = ifr_park(&me->word, 0, deadline);
        atomic_store(&me->parked, 0);
        if (atomic_load(&me->word)) break;
        if (rc == IFR_TIMEOUT) {
            /* The admitted thread is slow to take the GIL (held elsewhere):
             * do not wait longer than a GIL switch interval or so. */
            admit_node *wake = NULL;
            ifr_mutex_lock(&adm.lock);
            int went_in = !atomic_load(&me->word) && adm.head == me;
            if (went_in) {
                wake = pop_first();
                adm.admitted++;
            }
            ifr_mutex_unlock(&adm.lock);
            if (wake) ifr_unpark(&wake->word, IFR_ALL);
            if (went_in) break;
        }
    }
    /* Give the node back, and wake the new first one now (the leaver did
     * not, to keep system calls off the GIL holder's path): it is then
     * running when its turn comes. We wait for the GIL meanwhile anyway. */
    ifr_mutex_lock(&adm.lock);
    me->next = adm.spare;
    adm.spare = me;
    admit_node *next = adm.head;
    int wake_next = next && atomic_load(&next->parked);
    ifr_mutex_unlock(&adm.lock);
    if (wake_next) ifr_unpark(&next->word, IFR_ALL); /* nodes are never freed */
    admitted_here = 1;
    admitted_at = ifr_now_ns();
}

void ifr_admit_leave(void) {
    if (!admitted_here) return;
    admitted_here = 0;
    int64_t took = ifr_now_ns() - admitted_at;
    admit_node *wake[MAX_SLOTS];
    int nwake = 0;
    ifr_mutex_lock(&adm.lock);
    unsigned most = atomic_load_explicit(&max_slots, memory_order_relaxed);
    if (took >= SLOW_NS)
        adm.slots *= 2;
    else if (took < FAST_NS && adm.slots > 1)
        adm.slots--;
    if (adm.slots > most) adm.slots = most;
    adm.admitted--;
    /* Hand the free admissions to the first queued threads. */
    while (adm.head && adm.admitted < adm.slots) {
        admit_node *h = adm.head;
        (void)pop_first();
        adm.admitted++;
        atomic_store(&h->word, 1);
        /* usually not parked: woken early, it spins for its turn */
        if (atomic_load(&h->parked) && nwake < MAX_SLOTS) wake[nwake++] = h;
    }
    ifr_mutex_unlock(&adm.lock);
    for (int i = 0; i < nwake; i++) ifr_unpark(&wake[i]->word, IFR_ALL);
}

void ifr__admit_after_fork(void) {
    /* Queued threads do not exist in the child; their nodes are forgotten. */
    ifr_mutex_init(&adm.lock);
    adm.head = adm.tail = adm.spare = NULL;
    adm.admitted = 0;
    adm.slots = 1;
    admitted_here = 0;
}
