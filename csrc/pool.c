/*
 * pool.c — the process thread pool (one per program).
 *
 * Each pool thread owns a `worker` record. A busy worker runs its job; then,
 * unless `max_idle` workers are idle already, it pushes itself on the idle
 * stack (LIFO: the most recently busy thread is the warmest and most likely
 * still spinning) and waits on its `word` for the next job: spinning first,
 * then parked up to `idle_timeout`. A submitter pops an idle worker, stores
 * the job and sets word = JOB; it wakes the worker with a syscall only if
 * the worker announced (`parked`) that it is parking (Dekker: word store
 * then parked load, against parked store then word load).
 *
 * Jobs come in runs (a group starts its members one after another), so a
 * submit also marks the next idle worker for a "pre-wake": its kernel
 * wake-up latency then overlaps the current job's, and it spins (with its
 * own adaptive budget) when the next job comes. The wake-up is deferred to
 * the submitting thread's next blocking call (ifr_flush_deferred): there
 * it costs nobody time, while right away it would delay the submitter
 * (which holds the GIL) or the worker that just got a job. A later submit
 * replaces the mark: in a burst, the marked worker is the next one popped.
 *
 * Worker records are never freed: a finished thread puts its record on the
 * `spare` list for the next new thread, so a submitter or trim that still
 * touches a record after handing it a job or QUIT never touches freed
 * memory (at worst it causes one spurious wake-up).
 *
 * Invariants (under `lock`): a worker is on the idle stack iff its word is
 * IDLE; only the thread that takes a worker off the stack may change its
 * word; `nthreads` counts live pool threads, `nidle` those on the stack;
 * `quitting` counts workers told to QUIT that have not finished exiting.
 */
#include "internal.h"

#include <limits.h>
#include <string.h>

enum { W_BUSY = 0, W_IDLE = 1, W_JOB = 2, W_QUIT = 3 };

typedef struct worker {
    struct worker *next;
    ifr_word word;
    atomic_int parked;
    ifr_thread_fn fn;
    void *arg;
    char name[16];
    char cur_name[16];
} worker;

static struct {
    ifr_mutex lock;
    worker *idle;
    worker *spare;
    unsigned nidle, nthreads;
    ifr_word quitting; /* parked on by ifr_pool_trim */
    ifr_pool_config cfg;
} pool = {
#ifdef _WIN32
    SRWLOCK_INIT,
#else
    PTHREAD_MUTEX_INITIALIZER,
#endif
    NULL, NULL, 0, 0, 0, {0, UINT_MAX, 30000000000LL, 1, NULL, NULL}};

/* ---- the process's futex hash (Linux; see grow_futex_hash in ifr.h) ---- */
#ifdef __linux__
#include <sys/prctl.h>
#ifndef PR_FUTEX_HASH
#define PR_FUTEX_HASH 78
#endif
#ifndef PR_FUTEX_HASH_SET_SLOTS
#define PR_FUTEX_HASH_SET_SLOTS 1
#endif
#ifndef PR_FUTEX_HASH_GET_SLOTS
#define PR_FUTEX_HASH_GET_SLOTS 2
#endif
#define FUTEX_HASH_MAX_SLOTS (1u << 20)
static atomic_int futex_hash_unsupported; /* the kernel has no private hash */

/* The pool now has `nthreads` threads (a power of two >= 64). */
static void grow_futex_hash(unsigned nthreads) {
    if (atomic_load_explicit(&futex_hash_unsupported, memory_order_relaxed)) return;
    unsigned want = nthreads >= FUTEX_HASH_MAX_SLOTS / 2 ? FUTEX_HASH_MAX_SLOTS : nthreads * 2;
    int have = prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, 0, 0);
    if (have < 0) { /* EINVAL: a kernel before 6.16, nothing to do ever */
        atomic_store_explicit(&futex_hash_unsupported, 1, memory_order_relaxed);
        return;
    }
    /* 0: the process uses the global hash (sized by the kernel for the
     * whole machine, or chosen by the program): leave it. Failures (an
     * immutable hash, no memory) leave the hash as it is: only slower. */
    if (have > 0 && (unsigned)have < want)
        (void)prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, (unsigned long)want, 0, 0);
}
#else
static void grow_futex_hash(unsigned nthreads) { (void)nthreads; }
#endif

void ifr_pool_configure(const ifr_pool_config *cfg) {
    ifr_mutex_lock(&pool.lock);
    pool.cfg = *cfg;
    ifr_mutex_unlock(&pool.lock);
}

void ifr_pool_get_config(ifr_pool_config *cfg) {
    ifr_mutex_lock(&pool.lock);
    *cfg = pool.cfg;
    ifr_mutex_unlock(&pool.lock);
}

void ifr_pool_stats(unsigned *threads, unsigned *idle) {
    ifr_mutex_lock(&pool.lock);
    if (threads) *threads = pool.nthreads;
    if (idle) *idle = pool.nidle;
    ifr_mutex_unlock(&pool.lock);
}

static void set_job(worker *w, ifr_thread_fn fn, void *arg, const char *name) {
    w->fn = fn;
    w->arg = arg;
    if (name) {
        strncpy(w->name, name, sizeof w->name - 1);
        w->name[sizeof w->name - 1] = 0;
    } else {
        w->name[0] = 0;
    }
}

static int job_arrived(void *p) { return atomic_load(&((worker *)p)->word) != W_IDLE; }

/* Remove w from the idle stack; lock held. Returns 1 if it was there. */
static int unlink_idle(worker *w) {
    for (worker **pp = &pool.idle; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            pool.nidle--;
            return 1;
        }
    }
    return 0;
}

static void worker_main(void *p) {
    worker *w = p;
    ifr_pool_config cfg;
    ifr_pool_get_config(&cfg);
    if (cfg.on_thread_start) cfg.on_thread_start();
    int quit = 0;
    for (;;) {
        /* Run the job we were handed. */
        if (strcmp(w->cur_name, w->name) != 0) {
            memcpy(w->cur_name, w->name, sizeof w->cur_name);
            ifr_thread_set_name(w->name[0] ? w->name : "ifrit-idle");
        }
        w->fn(w->arg);

        /* Go idle, unless enough threads already are. */
        ifr_mutex_lock(&pool.lock);
        int64_t idle_timeout = pool.cfg.idle_timeout_ns;
        if (pool.nidle >= pool.cfg.max_idle) {
            ifr_mutex_unlock(&pool.lock);
            break;
        }
        atomic_store(&w->word, W_IDLE);
        w->next = pool.idle;
        pool.idle = w;
        pool.nidle++;
        ifr_mutex_unlock(&pool.lock);

        int64_t deadline = idle_timeout < 0 ? -1 : ifr_deadline(idle_timeout);
        int spin_kind = IFR_SPIN_IDLE;
        for (;;) {
            if (ifr_spin_until(spin_kind, job_arrived, w, deadline)) break;
            atomic_store(&w->parked, 1);
            ifr_status rc = IFR_OK;
            if (atomic_load(&w->word) == W_IDLE) rc = ifr_park(&w->word, W_IDLE, deadline);
            atomic_store(&w->parked, 0);
            if (atomic_load(&w->word) != W_IDLE) break;
            if (rc == IFR_TIMEOUT) {
                ifr_mutex_lock(&pool.lock);
                int was_idle = unlink_idle(w); /* else a job or QUIT is on its way */
                ifr_mutex_unlock(&pool.lock);
                if (was_idle) quit = 1;
                break;
            }
            /* Woken without a job: a submitter pre-woke us because a job
             * for us is likely to follow (see ifr_pool_submit). Spin for it
             * (with its own adaptive budget) before parking again. */
            spin_kind = IFR_SPIN_PREWAKE;
        }
        if (quit) break;
        /* A submitter or trim took us off the stack: wait for its store. */
        uint32_t s;
        while ((s = atomic_load(&w->word)) == W_IDLE) ifr_cpu_relax();
        if (s == W_QUIT) {
            quit = 2;
            break;
        }
    }
    if (cfg.on_thread_exit) cfg.on_thread_exit();
    ifr_mutex_lock(&pool.lock);
    pool.nthreads--;
    w->next = pool.spare;
    pool.spare = w;
    ifr_mutex_unlock(&pool.lock);
    if (quit == 2) {
        atomic_fetch_sub(&pool.quitting, 1);
        ifr_unpark(&pool.quitting, IFR_ALL);
    }
}

/* The worker this thread will pre-wake at its next blocking call. */
static _Thread_local worker *prewake_later;

void ifr__pool_flush_prewake(void) {
    worker *w = prewake_later;
    if (!w) return;
    prewake_later = NULL;
    /* records are never freed; a worker taken meanwhile is awake anyway */
    if (atomic_load(&w->word) == W_IDLE && atomic_load(&w->parked)) ifr_unpark(&w->word, IFR_ALL);
}

ifr_status ifr_pool_submit(ifr_thread_fn fn, void *arg, const char *name) {
    if (!fn) return IFR_INVALID;
    ifr_mutex_lock(&pool.lock);
    worker *w = pool.idle;
    worker *fresh = NULL;
    unsigned grow_hash_at = 0;
    worker *next_idle = NULL;
    if (w) {
        pool.idle = w->next;
        pool.nidle--;
        next_idle = pool.idle;
    } else {
        pool.nthreads++;
        /* At 64, 128, 256, ... threads: keep futex wake-ups O(1). */
        if (pool.nthreads >= 64 && (pool.nthreads & (pool.nthreads - 1)) == 0 && pool.cfg.grow_futex_hash)
            grow_hash_at = pool.nthreads;
        fresh = pool.spare;
        if (fresh) pool.spare = fresh->next;
    }
    size_t stack = pool.cfg.stack_size;
    ifr_mutex_unlock(&pool.lock);

    if (w) {
        set_job(w, fn, arg, name);
        atomic_store(&w->word, W_JOB);
        if (atomic_load(&w->parked)) ifr_unpark(&w->word, IFR_ALL);
        prewake_later = next_idle; /* see "pre-wake" above */
        return IFR_OK;
    }
    w = fresh ? fresh : calloc(1, sizeof *w);
    ifr_status st = IFR_NOMEM;
    if (w) {
        atomic_store(&w->word, W_BUSY);
        atomic_store(&w->parked, 0);
        set_job(w, fn, arg, name);
        memcpy(w->cur_name, w->name, sizeof w->cur_name); /* named at start */
        st = ifr_thread_start(worker_main, w, name, stack);
        if (st == IFR_OK) {
            if (grow_hash_at) grow_futex_hash(grow_hash_at);
            return IFR_OK;
        }
    }
    ifr_mutex_lock(&pool.lock);
    pool.nthreads--;
    if (w) {
        w->next = pool.spare;
        pool.spare = w;
    }
    ifr_mutex_unlock(&pool.lock);
    return st;
}

ifr_status ifr_pool_trim(int64_t deadline_ns) {
    ifr_mutex_lock(&pool.lock);
    worker *list = pool.idle;
    pool.idle = NULL;
    unsigned k = pool.nidle;
    pool.nidle = 0;
    atomic_fetch_add(&pool.quitting, k);
    ifr_mutex_unlock(&pool.lock);
    while (list) {
        worker *w = list;
        list = w->next;
        atomic_store(&w->word, W_QUIT);
        ifr_unpark(&w->word, IFR_ALL);
    }
    for (;;) {
        uint32_t q = atomic_load(&pool.quitting);
        if (q == 0) return IFR_OK;
        ifr_status rc = ifr_park(&pool.quitting, q, deadline_ns);
        if (rc == IFR_TIMEOUT) return atomic_load(&pool.quitting) == 0 ? IFR_OK : IFR_TIMEOUT;
    }
}

void ifr__pool_after_fork(void) {
    prewake_later = NULL;
    /* The pool's threads do not exist in the child. Their records (idle or
     * busy) are simply forgotten: a few dozen bytes each, never touched. */
    ifr_mutex_init(&pool.lock);
    pool.idle = NULL;
    pool.nidle = 0;
    pool.nthreads = 0;
    atomic_store(&pool.quitting, 0);
}

void ifr_after_fork_child(void) {
    ifr__park_after_fork();
    ifr__spin_after_fork();
    ifr__admit_after_fork();
    ifr__pool_after_fork();
    ifr__sigbridge_after_fork();
}
