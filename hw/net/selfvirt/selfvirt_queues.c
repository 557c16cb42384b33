/*
 * selfvirt: the queues between the board's roles
 *
 * Roles hand frames on only through here.  A frame the switch sends to a
 * VIF goes into the sending engine's outbox, then at once per turn onto the
 * VIF's pending queue (the paper's per-VIF message queues on the board),
 * where the ingress role takes it; a frame for the wire goes onto the port's
 * queue, where the wire-tx role takes it.  An engine that finds a queue
 * full because the board itself is behind waits to be woken; a VIF whose
 * guest takes no frames loses its own, counted, and stalls nobody.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "standard-headers/linux/virtio_net.h"
#include "selfvirt.h"
#include "trace.h"

/* A VIF whose guest stopped taking frames: its ring is full. */
static bool selfvirt_vif_rx_blocked(SelfvirtVif *vif)
{
    return qatomic_read(&vif->rq_flags) & SELFVIRT_RQ_RX_BLOCKED;
}

/* VIF @v could not take a frame of @len bytes: its loss, counted. */
void selfvirt_pending_drop(SelfvirtState *s, unsigned v, uint32_t len)
{
    trace_selfvirt_rx_drop(v, len, 0);
    qatomic_inc(&s->vif[v].stats[SELFVIRT_VSTAT_RX_DROPS]);
}

/* Ingress made room in a pending queue: wake the engines that wait for it. */
void selfvirt_pending_room_made(SelfvirtState *s)
{
    selfvirt_engines_wake_waiters(s, &s->queues.pending_waiters);
}

/* VIF @v's pending queue is full, counting engine @e's outbox. */
static bool selfvirt_pending_full(SelfvirtState *s, unsigned v,
                                  SelfvirtEngine *e)
{
    bool mine = e->outbox_vif == (int)v;

    return selfvirt_fifo_full_with(&s->vif[v].pending,
                                   mine ? e->outbox_frames : 0,
                                   mine ? e->outbox_bytes : 0);
}

/*
 * Is there room for a frame to VIF @v?  A full pending queue while the
 * VIF's ring has room is the board's own ingress falling behind, which
 * passes: engine @e is woken when it has drained (SELFVIRT_ROOM_WAIT).  A
 * VIF whose guest stopped taking frames (RX_BLOCKED) has none: nobody
 * waits for a guest.
 */
SelfvirtRoom selfvirt_pending_room(SelfvirtState *s, unsigned v,
                                   SelfvirtEngine *e)
{
    if (!selfvirt_pending_full(s, v, e)) {
        return SELFVIRT_ROOM;
    }
    if (selfvirt_vif_rx_blocked(&s->vif[v])) {
        return SELFVIRT_ROOM_NONE;
    }
    selfvirt_engine_wait_on(&s->queues.pending_waiters, e);
    /*
     * Both again: ingress sets RX_BLOCKED before it wakes the waiters, and
     * may have done so before this engine was one of them.
     */
    if (!selfvirt_pending_full(s, v, e)) {
        return SELFVIRT_ROOM;
    }
    return selfvirt_vif_rx_blocked(&s->vif[v]) ? SELFVIRT_ROOM_NONE
                                               : SELFVIRT_ROOM_WAIT;
}

/*
 * Queue @fr for VIF @v in engine @e's outbox, or drop it and count; false:
 * wait (the board's ingress is behind), the frame stays the caller's.
 * The outbox goes to the pending queue when the destination changes and
 * at the end of the turn, with selfvirt_outbox_kick().
 */
bool selfvirt_pending_queue(SelfvirtState *s, unsigned v, SelfvirtFrame *fr,
                            SelfvirtEngine *e)
{
    if (e->outbox_vif != (int)v) {
        selfvirt_outbox_flush(e);
    }
    switch (selfvirt_pending_room(s, v, e)) {
    case SELFVIRT_ROOM:
        break;
    case SELFVIRT_ROOM_WAIT:
        return false;
    case SELFVIRT_ROOM_NONE:
        selfvirt_pending_drop(s, v, fr->len);
        selfvirt_frame_free(fr);
        return true;
    }
    QSIMPLEQ_INSERT_TAIL(&e->outbox, fr, next);
    e->outbox_vif = v;
    e->outbox_frames++;
    e->outbox_bytes += fr->len;
    return true;
}

/*
 * Engine @e's outbox onto its VIF's pending queue: before anything else
 * of @e's goes there (pieces, group frames) and at the end of a turn.
 */
void selfvirt_outbox_flush(SelfvirtEngine *e)
{
    if (e->outbox_vif < 0) {
        return;
    }
    selfvirt_fifo_append_queue(&e->s->vif[e->outbox_vif].pending, &e->outbox,
                               e->outbox_frames, e->outbox_bytes);
    e->outbox_vif = -1;
    e->outbox_frames = e->outbox_bytes = 0;
    e->ingress_pending = true;
}

/*
 * At the end of a batch (and before it can sleep), engine @e wakes ingress
 * for the frames it queued: one wake-up per batch, not per frame.
 */
void selfvirt_outbox_kick(SelfvirtEngine *e)
{
    selfvirt_outbox_flush(e);
    if (e->ingress_pending) {
        e->ingress_pending = false;
        selfvirt_engine_kick_role(e->s, SELFVIRT_ME_INGRESS);
    }
}

/*
 * One piece of a frame that was cut for VIF @v after its room was checked:
 * pending queues hold frames, not bytes, so a burst of pieces may pass.
 */
void selfvirt_pending_queue_burst(SelfvirtState *s, unsigned v,
                                  SelfvirtFrame *fr)
{
    selfvirt_fifo_append(&s->vif[v].pending, fr);
}

typedef struct SelfvirtCutCtx {
    struct NetTxPkt *pkt;
    SelfvirtState *s;
    int src_vif;
    unsigned dst_vif;
    uint16_t mss;           /* the sender's; pieces may hold several */
} SelfvirtCutCtx;

/* A piece of a frame too large for the destination VIF's buffers. */
static void selfvirt_cut_piece(void *opaque, const struct iovec *iov,
                               int iovcnt, const struct iovec *virt_iov,
                               int virt_iovcnt)
{
    SelfvirtCutCtx *c = opaque;
    SelfvirtFrame *fr = selfvirt_frame_from_iov(iov, iovcnt, c->src_vif);
    uint32_t hdr_len = net_tx_pkt_get_vhdr(c->pkt)->hdr_len;

    fr->csum_ok = true;     /* net_tx_pkt filled the checksums in */
    if (c->mss && fr->len > hdr_len + c->mss) {
        /* still several segments: the host may cut it again (GSO) */
        fr->tx_flags = SELFVIRT_TX_TSO;
        fr->mss = c->mss;
    }
    selfvirt_pending_queue_burst(c->s, c->dst_vif, fr);
}

/*
 * A TSO frame @fr too large for VIF @v's receive chain (from another VIF,
 * or whole from a wire with virtio-net headers), cut by engine @e into as
 * many whole MSS as the chain takes: between the board and a VIF a segment
 * need not be cut at every MSS.  The pieces come after what @e queued
 * before.  @fr is used up, but on SELFVIRT_CUT_WAIT.
 */
SelfvirtCut selfvirt_pending_queue_cut(SelfvirtEngine *e, unsigned v,
                                       SelfvirtFrame *fr)
{
    SelfvirtState *s = e->s;
    uint32_t capacity = selfvirt_vif_rx_capacity(&s->vif[v]);
    SelfvirtCutCtx c = {
        .pkt = e->tx_pkt, .s = s, .src_vif = fr->src_vif, .dst_vif = v,
    };
    bool ok;

    selfvirt_outbox_flush(e);
    switch (selfvirt_pending_room(s, v, e)) {
    case SELFVIRT_ROOM:
        break;
    case SELFVIRT_ROOM_WAIT:
        return SELFVIRT_CUT_WAIT;
    case SELFVIRT_ROOM_NONE:
        selfvirt_pending_drop(s, v, fr->len);
        selfvirt_frame_free(fr);
        return SELFVIRT_CUT_DROPPED;
    }
    fr->tx_flags |= SELFVIRT_TX_CSUM;
    if ((fr->tx_flags & SELFVIRT_TX_TSO) && fr->mss &&
        capacity > SELFVIRT_LOCAL_HDR_MAX + fr->mss) {
        c.mss = fr->mss;
        fr->mss *= MIN((capacity - SELFVIRT_LOCAL_HDR_MAX) / fr->mss,
                       UINT16_MAX / fr->mss);
    }
    trace_selfvirt_tso_cut(fr->src_vif, v, fr->len, fr->mss);
    ok = selfvirt_frame_offload(e->tx_pkt, fr, false, selfvirt_cut_piece, &c);
    selfvirt_frame_free(fr);
    if (!ok) {
        return SELFVIRT_CUT_BAD;
    }
    selfvirt_engine_kick_role(s, SELFVIRT_ME_INGRESS);
    return SELFVIRT_CUT_QUEUED;
}

/* Broadcast and multicast: a copy for every other VIF that has room. */
void selfvirt_pending_flood(SelfvirtState *s, const SelfvirtFrame *fr)
{
    for (unsigned i = 0; i < s->num_vifs; i++) {
        SelfvirtFifo *pending = &s->vif[i].pending;
        SelfvirtFrame *copy;

        if (!s->vif[i].active || (int)i == fr->src_vif) {
            continue;
        }
        if (selfvirt_fifo_full(pending)) {
            /* group frames wait for nobody: no copy for a VIF without room */
            selfvirt_pending_drop(s, i, fr->len);
            continue;
        }
        copy = selfvirt_frame_copy(fr);
        if (!selfvirt_fifo_push(pending, copy)) {
            selfvirt_pending_drop(s, i, copy->len);
            selfvirt_frame_free(copy);
            continue;
        }
        selfvirt_engine_kick_role(s, SELFVIRT_ME_INGRESS);
    }
}

/*
 * Would the port take no frame now (egress looks before it copies)?  Then
 * engine @e waits for room: the wire-tx engine wakes it when it has taken
 * frames.
 */
bool selfvirt_port_queue_busy(SelfvirtState *s, SelfvirtEngine *e)
{
    if (!selfvirt_fifo_full(&s->port.out)) {
        return false;
    }
    selfvirt_engine_wait_on(&s->port.room_waiters, e);
    return selfvirt_fifo_full(&s->port.out);
}

/* A frame from a VIF for the wire; false: no room, it stays the caller's. */
bool selfvirt_port_queue(SelfvirtState *s, SelfvirtFrame *fr)
{
    bool tso = fr->tx_flags & SELFVIRT_TX_TSO;

    if (!selfvirt_fifo_push(&s->port.out, fr)) {
        return false;
    }
    if (tso) {
        /* dozens of segments to cut and send: the engine's, not a vCPU's */
        selfvirt_engine_kick(&s->me.engine[SELFVIRT_ME_WIRE_TX]);
    } else {
        selfvirt_engine_kick_role(s, SELFVIRT_ME_WIRE_TX);
    }
    return true;
}
