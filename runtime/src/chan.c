/* Channels: a ring buffer of CAP elements plus FIFO queues of blocked
 * senders and receivers.  A waiter lives on its coroutine's stack; whoever
 * completes its operation copies the element directly to or from the
 * waiter and makes it runnable, so a woken coroutine never retries. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct corort_chan {
    corort__lock lock;
    size_t elem_size;
    size_t cap;
    size_t len;  /* buffered elements */
    size_t head; /* index of the oldest buffered element */
    int closed;
    struct corort__waitq sendq, recvq;
    unsigned char *buf;
};

corort_chan *corort_chan_new(size_t elem_size, size_t cap)
{
    if (cap && elem_size && cap > ((size_t)-1) / elem_size)
        return NULL;
    corort_chan *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    if (cap && elem_size && !(ch->buf = malloc(cap * elem_size))) {
        free(ch);
        return NULL;
    }
    corort__lock_init(&ch->lock);
    ch->elem_size = elem_size;
    ch->cap = cap;
    return ch;
}

int corort_chan_free(corort_chan *ch)
{
    if (!ch)
        return CORORT_OK;
    corort__lock_take(&ch->lock);
    int busy = ch->sendq.head || ch->recvq.head;
    corort__lock_drop(&ch->lock);
    if (busy)
        return CORORT_ESTATE;
    pthread_mutex_destroy(&ch->lock);
    free(ch->buf);
    free(ch);
    return CORORT_OK;
}

static void copy(corort_chan *ch, void *dst, const void *src)
{
    if (ch->elem_size && dst && src)
        memcpy(dst, src, ch->elem_size);
    else if (ch->elem_size && dst)
        memset(dst, 0, ch->elem_size);
}

static void *slot(corort_chan *ch, size_t i)
{
    return ch->buf + ((ch->head + i) % ch->cap) * ch->elem_size;
}

/* BLOCK: 1 to wait, 0 for the try_ forms. */
static int send(corort_chan *ch, const void *elem, int block, const void *ret)
{
    struct corort__waiter *r;
    if (!ch)
        return CORORT_EINVAL;
    corort__lock_take(&ch->lock);
    if (ch->closed) {
        corort__lock_drop(&ch->lock);
        return CORORT_ECLOSED;
    }
    if ((r = corort__wq_pop(&ch->recvq)) != NULL) {
        copy(ch, r->elem, elem);
        r->result = CORORT_OK;
        corort__ready(r->co);
        corort__lock_drop(&ch->lock);
        return CORORT_OK;
    }
    if (ch->len < ch->cap) {
        copy(ch, ch->elem_size ? slot(ch, ch->len) : NULL, elem);
        ch->len++;
        corort__lock_drop(&ch->lock);
        return CORORT_OK;
    }
    corort_co *self = corort__current();
    if (!block || !self) {
        corort__lock_drop(&ch->lock);
        return block ? CORORT_ESTATE : CORORT_EAGAIN;
    }
    struct corort__waiter w = {self, (void *)elem, CORORT_OK, NULL};
    corort__wq_push(&ch->sendq, &w);
    corort__block(CORODBG_WAIT_CHAN_SEND, ch, &ch->lock, ret);
    return w.result;
}

static int recv(corort_chan *ch, void *elem, int block, const void *ret)
{
    struct corort__waiter *s;
    if (!ch)
        return CORORT_EINVAL;
    corort__lock_take(&ch->lock);
    if (ch->len > 0) {
        copy(ch, elem, ch->elem_size ? slot(ch, 0) : NULL);
        ch->head = ch->cap ? (ch->head + 1) % ch->cap : 0;
        ch->len--;
        /* A blocked sender moves its value into the freed slot. */
        if ((s = corort__wq_pop(&ch->sendq)) != NULL) {
            copy(ch, ch->elem_size ? slot(ch, ch->len) : NULL, s->elem);
            ch->len++;
            s->result = CORORT_OK;
            corort__ready(s->co);
        }
        corort__lock_drop(&ch->lock);
        return CORORT_OK;
    }
    if ((s = corort__wq_pop(&ch->sendq)) != NULL) {
        copy(ch, elem, s->elem);
        s->result = CORORT_OK;
        corort__ready(s->co);
        corort__lock_drop(&ch->lock);
        return CORORT_OK;
    }
    if (ch->closed) {
        corort__lock_drop(&ch->lock);
        copy(ch, elem, NULL);
        return CORORT_ECLOSED;
    }
    corort_co *self = corort__current();
    if (!block || !self) {
        corort__lock_drop(&ch->lock);
        return block ? CORORT_ESTATE : CORORT_EAGAIN;
    }
    struct corort__waiter w = {self, elem, CORORT_OK, NULL};
    corort__wq_push(&ch->recvq, &w);
    corort__block(CORODBG_WAIT_CHAN_RECV, ch, &ch->lock, ret);
    return w.result;
}

int corort_chan_send(corort_chan *ch, const void *elem)
{
    return send(ch, elem, 1, CORORT__RET);
}

int corort_chan_try_send(corort_chan *ch, const void *elem)
{
    return send(ch, elem, 0, NULL);
}

int corort_chan_recv(corort_chan *ch, void *elem)
{
    return recv(ch, elem, 1, CORORT__RET);
}

int corort_chan_try_recv(corort_chan *ch, void *elem)
{
    return recv(ch, elem, 0, NULL);
}

int corort_chan_close(corort_chan *ch)
{
    struct corort__waiter *w;
    if (!ch)
        return CORORT_EINVAL;
    corort__lock_take(&ch->lock);
    if (ch->closed) {
        corort__lock_drop(&ch->lock);
        return CORORT_ECLOSED;
    }
    ch->closed = 1;
    while ((w = corort__wq_pop(&ch->recvq)) != NULL) {
        copy(ch, w->elem, NULL);
        w->result = CORORT_ECLOSED;
        corort__ready(w->co);
    }
    while ((w = corort__wq_pop(&ch->sendq)) != NULL) {
        w->result = CORORT_ECLOSED;
        corort__ready(w->co);
    }
    corort__lock_drop(&ch->lock);
    return CORORT_OK;
}

size_t corort_chan_len(const corort_chan *ch)
{
    return ch ? __atomic_load_n(&ch->len, __ATOMIC_RELAXED) : 0;
}
