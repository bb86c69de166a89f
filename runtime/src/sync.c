/* Wait groups and coroutine mutexes.  Both park waiters on a FIFO queue
 * under an internal lock; the mutex hands ownership straight to the next
 * waiter, so it is fair and a woken coroutine never retries. */
#include "internal.h"

#include <stdlib.h>

struct corort_wg {
    corort__lock lock;
    long count;
    struct corort__waitq waiters;
};

corort_wg *corort_wg_new(void)
{
    corort_wg *wg = calloc(1, sizeof *wg);
    if (wg)
        corort__lock_init(&wg->lock);
    return wg;
}

int corort_wg_free(corort_wg *wg)
{
    if (!wg)
        return CORORT_OK;
    corort__lock_take(&wg->lock);
    int busy = wg->waiters.head != NULL;
    corort__lock_drop(&wg->lock);
    if (busy)
        return CORORT_ESTATE;
    pthread_mutex_destroy(&wg->lock);
    free(wg);
    return CORORT_OK;
}

int corort_wg_add(corort_wg *wg, long delta)
{
    struct corort__waiter *w;
    if (!wg)
        return CORORT_EINVAL;
    corort__lock_take(&wg->lock);
    long count = wg->count + delta;
    if (count < 0) {
        corort__lock_drop(&wg->lock);
        corort_panic("corort: negative wait group counter (%ld)", count);
    }
    wg->count = count;
    if (count == 0)
        while ((w = corort__wq_pop(&wg->waiters)) != NULL)
            corort__ready(w->co);
    corort__lock_drop(&wg->lock);
    return CORORT_OK;
}

int corort_wg_done(corort_wg *wg)
{
    return corort_wg_add(wg, -1);
}

int corort_wg_wait(corort_wg *wg)
{
    if (!wg)
        return CORORT_EINVAL;
    corort__lock_take(&wg->lock);
    if (wg->count == 0) {
        corort__lock_drop(&wg->lock);
        return CORORT_OK;
    }
    corort_co *self = corort__current();
    if (!self) {
        corort__lock_drop(&wg->lock);
        return CORORT_ESTATE;
    }
    struct corort__waiter w = {self, NULL, CORORT_OK, NULL};
    corort__wq_push(&wg->waiters, &w);
    corort__block(CORODBG_WAIT_WAITGROUP, wg, &wg->lock, CORORT__RET);
    return CORORT_OK;
}

struct corort_mutex {
    corort__lock lock;
    int locked;
    struct corort__waitq waiters;
};

corort_mutex *corort_mutex_new(void)
{
    corort_mutex *m = calloc(1, sizeof *m);
    if (m)
        corort__lock_init(&m->lock);
    return m;
}

int corort_mutex_free(corort_mutex *m)
{
    if (!m)
        return CORORT_OK;
    corort__lock_take(&m->lock);
    int busy = m->locked;
    corort__lock_drop(&m->lock);
    if (busy)
        return CORORT_ESTATE;
    pthread_mutex_destroy(&m->lock);
    free(m);
    return CORORT_OK;
}

int corort_mutex_trylock(corort_mutex *m)
{
    if (!m)
        return CORORT_EINVAL;
    corort__lock_take(&m->lock);
    int was = m->locked;
    m->locked = 1;
    corort__lock_drop(&m->lock);
    return was ? CORORT_EAGAIN : CORORT_OK;
}

int corort_mutex_lock(corort_mutex *m)
{
    if (!m)
        return CORORT_EINVAL;
    corort__lock_take(&m->lock);
    if (!m->locked) {
        m->locked = 1;
        corort__lock_drop(&m->lock);
        return CORORT_OK;
    }
    corort_co *self = corort__current();
    if (!self) {
        corort__lock_drop(&m->lock);
        return CORORT_ESTATE;
    }
    struct corort__waiter w = {self, NULL, CORORT_OK, NULL};
    corort__wq_push(&m->waiters, &w);
    corort__block(CORODBG_WAIT_MUTEX, m, &m->lock, CORORT__RET);
    return CORORT_OK; /* the unlocker handed the mutex to us */
}

int corort_mutex_unlock(corort_mutex *m)
{
    struct corort__waiter *w;
    if (!m)
        return CORORT_EINVAL;
    corort__lock_take(&m->lock);
    if (!m->locked) {
        corort__lock_drop(&m->lock);
        corort_panic("corort: unlock of an unlocked mutex %p", (void *)m);
    }
    if ((w = corort__wq_pop(&m->waiters)) != NULL)
        corort__ready(w->co); /* stays locked: ownership moves to W */
    else
        m->locked = 0;
    corort__lock_drop(&m->lock);
    return CORORT_OK;
}
