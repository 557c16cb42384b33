/*
 * selfvirt: frames inside the board and the queues between micro-engines
 *
 * On the IXP2400 a packet moves between micro-engines as a buffer in the
 * board's memory and a handle on a scratch ring.  Here a frame is a copy
 * (the guest cannot change it once the board has it) and a ring is a
 * bounded queue with a leaf lock.  The checksum and segmentation offloads
 * that the wire-tx engine and local TSO apply to a frame are QEMU's
 * net_tx_pkt, as in e1000e and igb.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/iov.h"
#include "selfvirt.h"

static void selfvirt_frame_init(SelfvirtFrame *fr, uint32_t len, int src_vif)
{
    fr->len = len;
    fr->tx_flags = 0;
    fr->mss = 0;
    fr->csum_ok = false;
    fr->tcp_l4_off = fr->tcp_l5_off = 0;
    fr->src_vif = src_vif;
}

/* A frame of @len bytes, its metadata cleared: the caller fills the data. */
SelfvirtFrame *selfvirt_frame_alloc(uint32_t len, int src_vif)
{
    SelfvirtFrame *fr = g_malloc(sizeof(*fr) + len);

    fr->pool = NULL;
    selfvirt_frame_init(fr, len, src_vif);
    return fr;
}

/*
 * Back to its engine's pool, from any thread: QSLIST_INSERT_HEAD_ATOMIC,
 * but with the head read atomically too, as the engine takes the list
 * with an atomic exchange meanwhile (a plain read is a data race).
 */
static void selfvirt_frame_pool_return(SelfvirtFramePool *p,
                                       SelfvirtFrame *fr)
{
    SelfvirtFrame *head;

    do {
        head = qatomic_read(&p->returned.slh_first);
        fr->pool_next.sle_next = head;
    } while (qatomic_cmpxchg(&p->returned.slh_first, head, fr) != head);
}

void selfvirt_frame_free(SelfvirtFrame *fr)
{
    if (fr && fr->pool) {
        selfvirt_frame_pool_return(fr->pool, fr);
    } else {
        g_free(fr);
    }
}

void selfvirt_frame_pool_init(SelfvirtFramePool *p)
{
    QSLIST_INIT(&p->returned);
    QSLIST_INIT(&p->free);
    p->allocated = 0;
}

/* Every frame the pool allocated is back: none is in a queue any more. */
void selfvirt_frame_pool_destroy(SelfvirtFramePool *p)
{
    SelfvirtFrame *fr;

    do {
        while ((fr = QSLIST_FIRST(&p->free))) {
            QSLIST_REMOVE_HEAD(&p->free, pool_next);
            g_free(fr);
        }
        QSLIST_MOVE_ATOMIC(&p->free, &p->returned);
    } while (!QSLIST_EMPTY(&p->free));
    p->allocated = 0;
}

/* A copy of @len bytes at @data, from @p (owned by the calling engine). */
SelfvirtFrame *selfvirt_frame_pool_new(SelfvirtFramePool *p,
                                       const void *data, uint32_t len)
{
    SelfvirtFrame *fr;

    if (QSLIST_EMPTY(&p->free)) {
        QSLIST_MOVE_ATOMIC(&p->free, &p->returned);   /* take all returns */
    }
    fr = QSLIST_FIRST(&p->free);
    if (len > SELFVIRT_FRAME_POOL_DATA ||
        (!fr && p->allocated == SELFVIRT_FRAME_POOL_MAX)) {
        return selfvirt_frame_new(data, len);
    }
    if (fr) {
        QSLIST_REMOVE_HEAD(&p->free, pool_next);
    } else {
        fr = g_malloc(sizeof(*fr) + SELFVIRT_FRAME_POOL_DATA);
        fr->pool = p;
        p->allocated++;
    }
    selfvirt_frame_init(fr, len, -1);
    memcpy(fr->data, data, len);
    return fr;
}

SelfvirtFrame *selfvirt_frame_new(const void *data, uint32_t len)
{
    SelfvirtFrame *fr = selfvirt_frame_alloc(len, -1);

    memcpy(fr->data, data, len);
    return fr;
}

/* A frame made of a segment that net_tx_pkt produced. */
SelfvirtFrame *selfvirt_frame_from_iov(const struct iovec *iov, int iovcnt,
                                       int src_vif)
{
    SelfvirtFrame *fr = selfvirt_frame_alloc(iov_size(iov, iovcnt), src_vif);

    iov_to_buf(iov, iovcnt, 0, fr->data, fr->len);
    return fr;
}

/* A copy for one more destination: data, offloads and checksum state. */
SelfvirtFrame *selfvirt_frame_copy(const SelfvirtFrame *fr)
{
    SelfvirtFrame *copy = selfvirt_frame_alloc(fr->len, fr->src_vif);

    memcpy(copy->data, fr->data, fr->len);
    copy->tx_flags = fr->tx_flags;
    copy->mss = fr->mss;
    copy->csum_ok = fr->csum_ok;
    return copy;
}

/* Fragments point into frames the caller owns: nothing to unmap. */
static void selfvirt_frag_keep(void *context, void *base, size_t len)
{
}

/*
 * Do a frame's checksum and segmentation offloads with @pkt (the calling
 * engine's) and hand each resulting frame to @cb.  With @to_peer, a peer
 * that takes a virtio-net header does them: @cb gets the frame whole,
 * header first, in its virt_iov.  Returns false for a frame the offloads
 * cannot parse.
 */
bool selfvirt_frame_offload(struct NetTxPkt *pkt, SelfvirtFrame *fr,
                            bool to_peer, NetTxPktSend cb, void *opaque)
{
    bool ok;

    net_tx_pkt_reset(pkt, selfvirt_frag_keep, NULL);
    if (!net_tx_pkt_add_raw_fragment(pkt, fr->data, fr->len) ||
        !net_tx_pkt_parse(pkt)) {
        return false;
    }
    if (fr->tx_flags & SELFVIRT_TX_TSO) {
        ok = net_tx_pkt_build_vheader(pkt, true, true, fr->mss);
        net_tx_pkt_update_ip_checksums(pkt);
    } else if (fr->tx_flags & SELFVIRT_TX_CSUM) {
        ok = net_tx_pkt_build_vheader(pkt, false, true, 0);
    } else {
        ok = net_tx_pkt_build_vheader(pkt, false, false, 0);
    }
    return ok && net_tx_pkt_send_custom(pkt, to_peer, cb, opaque);
}

void selfvirt_fifo_init(SelfvirtFifo *f, uint32_t max, uint32_t max_bytes)
{
    qemu_mutex_init(&f->lock);
    QSIMPLEQ_INIT(&f->q);
    f->len = f->bytes = 0;
    f->max = max;
    f->max_bytes = max_bytes;
}

void selfvirt_fifo_destroy(SelfvirtFifo *f)
{
    selfvirt_fifo_flush(f);
    qemu_mutex_destroy(&f->lock);
}

/* Without the lock: a hint for producers, push decides. */
bool selfvirt_fifo_full(SelfvirtFifo *f)
{
    return selfvirt_fifo_full_with(f, 0, 0);
}

/* selfvirt_fifo_full() once a producer's @frames of @bytes are added. */
bool selfvirt_fifo_full_with(SelfvirtFifo *f, uint32_t frames, uint32_t bytes)
{
    return qatomic_read(&f->len) + frames >= f->max ||
           (uint64_t)qatomic_read(&f->bytes) + bytes >= f->max_bytes;
}

bool selfvirt_fifo_empty(SelfvirtFifo *f)
{
    return qatomic_read(&f->len) == 0;
}

static void selfvirt_fifo_count(SelfvirtFifo *f, SelfvirtFrame *fr, int dir)
{
    qatomic_set(&f->len, f->len + dir);
    qatomic_set(&f->bytes, f->bytes + dir * (int64_t)fr->len);
}

bool selfvirt_fifo_push(SelfvirtFifo *f, SelfvirtFrame *fr)
{
    QEMU_LOCK_GUARD(&f->lock);
    if (f->len >= f->max || (f->len && f->bytes + fr->len > f->max_bytes)) {
        return false;
    }
    QSIMPLEQ_INSERT_TAIL(&f->q, fr, next);
    selfvirt_fifo_count(f, fr, 1);
    return true;
}

/* Append whatever the fifo's length: for segments of one bounded frame. */
void selfvirt_fifo_append(SelfvirtFifo *f, SelfvirtFrame *fr)
{
    QEMU_LOCK_GUARD(&f->lock);
    QSIMPLEQ_INSERT_TAIL(&f->q, fr, next);
    selfvirt_fifo_count(f, fr, 1);
}

/*
 * Append a producer's queue @q of @frames and @bytes, whose room it
 * checked frame by frame with selfvirt_fifo_full_with(): the bound holds
 * but for what other producers append at the same time, a turn each.
 */
void selfvirt_fifo_append_queue(SelfvirtFifo *f, SelfvirtFrameQueue *q,
                                uint32_t frames, uint32_t bytes)
{
    QEMU_LOCK_GUARD(&f->lock);
    QSIMPLEQ_CONCAT(&f->q, q);
    qatomic_set(&f->len, f->len + frames);
    qatomic_set(&f->bytes, f->bytes + bytes);
}

SelfvirtFrame *selfvirt_fifo_pop(SelfvirtFifo *f)
{
    SelfvirtFrame *fr;

    QEMU_LOCK_GUARD(&f->lock);
    fr = QSIMPLEQ_FIRST(&f->q);
    if (fr) {
        QSIMPLEQ_REMOVE_HEAD(&f->q, next);
        selfvirt_fifo_count(f, fr, -1);
    }
    return fr;
}

/* The single consumer puts back the frame it popped last. */
void selfvirt_fifo_unpop(SelfvirtFifo *f, SelfvirtFrame *fr)
{
    QEMU_LOCK_GUARD(&f->lock);
    QSIMPLEQ_INSERT_HEAD(&f->q, fr, next);
    selfvirt_fifo_count(f, fr, 1);
}

void selfvirt_fifo_flush(SelfvirtFifo *f)
{
    SelfvirtFrame *fr;

    while ((fr = selfvirt_fifo_pop(f))) {
        selfvirt_frame_free(fr);
    }
}

/*
 * The single consumer takes every frame at once into @b: a splice, so the
 * producers never wait while the consumer walks frames another core wrote.
 */
void selfvirt_fifo_take(SelfvirtFifo *f, SelfvirtBatch *b)
{
    QSIMPLEQ_INIT(&b->q);
    b->frames = 0;
    b->bytes = 0;
    QEMU_LOCK_GUARD(&f->lock);
    QSIMPLEQ_CONCAT(&b->q, &f->q);
}

/*
 * The consumer is done with @b: what it did not take off goes back to the
 * head, in order, and what it did leaves the fifo's bound.
 */
void selfvirt_fifo_take_done(SelfvirtFifo *f, SelfvirtBatch *b)
{
    QEMU_LOCK_GUARD(&f->lock);
    if (QSIMPLEQ_EMPTY(&f->q)) {
        QSIMPLEQ_CONCAT(&f->q, &b->q);  /* PREPEND leaves an empty q's tail */
    } else {
        QSIMPLEQ_PREPEND(&f->q, &b->q);
    }
    qatomic_set(&f->len, f->len - b->frames);
    qatomic_set(&f->bytes, f->bytes - b->bytes);
}

SelfvirtFrame *selfvirt_batch_peek(SelfvirtBatch *b)
{
    return QSIMPLEQ_FIRST(&b->q);
}

SelfvirtFrame *selfvirt_batch_pop(SelfvirtBatch *b)
{
    SelfvirtFrame *fr = QSIMPLEQ_FIRST(&b->q);

    if (fr) {
        QSIMPLEQ_REMOVE_HEAD(&b->q, next);
        b->frames++;
        b->bytes += fr->len;
    }
    return fr;
}

/* Put back the frame popped last (or what coalescing made of it). */
void selfvirt_batch_unpop(SelfvirtBatch *b, SelfvirtFrame *fr)
{
    QSIMPLEQ_INSERT_HEAD(&b->q, fr, next);
    b->frames--;
    b->bytes -= fr->len;
}
