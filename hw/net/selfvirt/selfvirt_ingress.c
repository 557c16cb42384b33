/*
 * selfvirt: the ingress pool, from the switch into the VIFs' receive queues
 *
 * Frames the switch sends to a VIF wait in that VIF's pending queue (the
 * paper's per-VIF message queues on the board) until an ingress context
 * copies them into the VIF's receive queue in host memory, through the
 * VIF's windows only, and signals the VIF.  Context c of the ingress
 * engine serves VIFs c, c + contexts, ...
 *
 * One VIF's slowness never stalls another: a VIF whose ring is full
 * (RX_BLOCKED) loses its own frames, counted in rx_drops; an engine waits
 * for a pending queue only while the board's own ingress is behind.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "selfvirt.h"
#include "trace.h"

void selfvirt_ingress_init(SelfvirtState *s)
{
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        selfvirt_fifo_init(&s->vif[i].pending, SELFVIRT_PENDING_MAX,
                           SELFVIRT_PENDING_BYTES);
        qemu_mutex_init(&s->vif[i].flags_lock);
    }
    s->ingress.room_waiters = 0;
}

void selfvirt_ingress_fini(SelfvirtState *s)
{
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        selfvirt_fifo_destroy(&s->vif[i].pending);
        qemu_mutex_destroy(&s->vif[i].flags_lock);
    }
}

/* A VIF's receive side empty, its ring at 0; with the engines parked. */
void selfvirt_ingress_vif_reset(SelfvirtState *s, SelfvirtVif *vif)
{
    assert(selfvirt_engines_parked(s));
    selfvirt_fifo_flush(&vif->pending);
    vif->rx_prod = 0;
    vif->rq_flags = 0;
}

/* ---- pending queues ---- */

/* A VIF whose guest stopped taking frames: its ring is full. */
static bool selfvirt_vif_rx_blocked(SelfvirtVif *vif)
{
    return qatomic_read(&vif->rq_flags) & SELFVIRT_RQ_RX_BLOCKED;
}

/* VIF @v could not take a frame of @len bytes: its loss, counted. */
void selfvirt_ingress_drop(SelfvirtState *s, unsigned v, uint32_t len)
{
    trace_selfvirt_rx_drop(v, len, 0);
    qatomic_inc(&s->vif[v].stats[SELFVIRT_VSTAT_RX_DROPS]);
}

/* Ingress made room in a pending queue: wake the engines that wait for it. */
static void selfvirt_ingress_wake_waiters(SelfvirtState *s)
{
    selfvirt_engines_wake_waiters(s, &s->ingress.room_waiters);
}

/* VIF @v's pending queue is full, counting engine @e's outbox. */
static bool selfvirt_ingress_full(SelfvirtState *s, unsigned v,
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
SelfvirtRoom selfvirt_ingress_room(SelfvirtState *s, unsigned v,
                                   SelfvirtEngine *e)
{
    if (!selfvirt_ingress_full(s, v, e)) {
        return SELFVIRT_ROOM;
    }
    if (selfvirt_vif_rx_blocked(&s->vif[v])) {
        return SELFVIRT_ROOM_NONE;
    }
    selfvirt_engine_wait_on(&s->ingress.room_waiters, e);
    /*
     * Both again: ingress sets RX_BLOCKED before it wakes the waiters, and
     * may have done so before this engine was one of them.
     */
    if (!selfvirt_ingress_full(s, v, e)) {
        return SELFVIRT_ROOM;
    }
    return selfvirt_vif_rx_blocked(&s->vif[v]) ? SELFVIRT_ROOM_NONE
                                               : SELFVIRT_ROOM_WAIT;
}

/*
 * Queue @fr for VIF @v in engine @e's outbox, or drop it and count; false:
 * wait (the board's ingress is behind), the frame stays the caller's.
 * The outbox goes to the pending queue when the destination changes and
 * at the end of the turn, with selfvirt_ingress_kick_pending().
 */
bool selfvirt_ingress_queue(SelfvirtState *s, unsigned v, SelfvirtFrame *fr,
                            SelfvirtEngine *e)
{
    if (e->outbox_vif != (int)v) {
        selfvirt_ingress_flush(e);
    }
    switch (selfvirt_ingress_room(s, v, e)) {
    case SELFVIRT_ROOM:
        break;
    case SELFVIRT_ROOM_WAIT:
        return false;
    case SELFVIRT_ROOM_NONE:
        selfvirt_ingress_drop(s, v, fr->len);
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
void selfvirt_ingress_flush(SelfvirtEngine *e)
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
void selfvirt_ingress_kick_pending(SelfvirtEngine *e)
{
    selfvirt_ingress_flush(e);
    if (e->ingress_pending) {
        e->ingress_pending = false;
        selfvirt_engine_kick_role(e->s, SELFVIRT_ME_INGRESS);
    }
}

/*
 * One piece of a frame that was cut for VIF @v after its room was checked:
 * pending queues hold frames, not bytes, so a burst of pieces may pass.
 */
void selfvirt_ingress_queue_burst(SelfvirtState *s, unsigned v,
                                  SelfvirtFrame *fr)
{
    selfvirt_fifo_append(&s->vif[v].pending, fr);
}

/* Broadcast and multicast: a copy for every other VIF that has room. */
void selfvirt_ingress_flood(SelfvirtState *s, const SelfvirtFrame *fr)
{
    for (unsigned i = 0; i < s->num_vifs; i++) {
        SelfvirtFifo *pending = &s->vif[i].pending;
        SelfvirtFrame *copy;

        if (!s->vif[i].active || (int)i == fr->src_vif) {
            continue;
        }
        if (selfvirt_fifo_full(pending)) {
            /* group frames wait for nobody: no copy for a VIF without room */
            selfvirt_ingress_drop(s, i, fr->len);
            continue;
        }
        copy = selfvirt_frame_copy(fr);
        if (!selfvirt_fifo_push(pending, copy)) {
            selfvirt_ingress_drop(s, i, copy->len);
            selfvirt_frame_free(copy);
            continue;
        }
        selfvirt_engine_kick_role(s, SELFVIRT_ME_INGRESS);
    }
}

/* ---- the receive ring writer ---- */

/* Publish the VIF's whole status: indexes and flags (management). */
void selfvirt_vif_publish(SelfvirtState *s, SelfvirtVif *vif)
{
    struct selfvirt_rq_status st = {
        .rx_prod = cpu_to_le32(vif->rx_prod),
        .tx_cons = cpu_to_le32(vif->tx_cons),
    };

    QEMU_LOCK_GUARD(&vif->flags_lock);
    st.flags = cpu_to_le32(vif->rq_flags);
    selfvirt_window_write(s, vif, 0, &st,
                          offsetof(struct selfvirt_rq_status, reserved));
}

/* Publish the VIF's transmit consumer index (egress). */
void selfvirt_vif_publish_tx_cons(SelfvirtState *s, SelfvirtVif *vif)
{
    uint32_t tx_cons = cpu_to_le32(vif->tx_cons);

    selfvirt_window_write(s, vif, offsetof(struct selfvirt_rq_status, tx_cons),
                          &tx_cons, sizeof(tx_cons));
}

/*
 * The flags word has two writers, the VIF's egress engine (EGRESS_ASLEEP)
 * and the ingress engine (RX_BLOCKED): a lost update would stall the VIF
 * for good, so the change and its write to host memory are one step.
 * Readers without the lock (a writer looking at its own bit) read it
 * atomically.
 */
void selfvirt_vif_set_flags(SelfvirtState *s, SelfvirtVif *vif,
                            uint32_t set, uint32_t clear)
{
    uint32_t flags, le;

    QEMU_LOCK_GUARD(&vif->flags_lock);
    flags = (vif->rq_flags | set) & ~clear;
    if (flags != vif->rq_flags) {
        qatomic_set(&vif->rq_flags, flags);
        le = cpu_to_le32(flags);
        selfvirt_window_write(s, vif, offsetof(struct selfvirt_rq_status,
                                               flags), &le, 4);
    }
}

static uint32_t selfvirt_rx_cons(SelfvirtState *s, unsigned v)
{
    struct selfvirt_sq_ctrl *ctrl = (void *)selfvirt_part(s, v);

    return le32_to_cpu(qatomic_read(&ctrl->rx_cons));
}

static bool selfvirt_signal_enabled(SelfvirtState *s, unsigned v,
                                    uint32_t signal)
{
    struct selfvirt_sq_ctrl *ctrl = (void *)selfvirt_part(s, v);

    return (qatomic_read(&s->vif[v].signals) &
            le32_to_cpu(qatomic_read(&ctrl->signal_enable)) & signal) != 0;
}

/* The first slot's flags: what the host need not do again. */
static uint16_t selfvirt_rx_flags(const SelfvirtFrame *fr)
{
    uint16_t flags = 0;

    if (fr->csum_ok || (fr->tx_flags & (SELFVIRT_TX_CSUM | SELFVIRT_TX_TSO))) {
        /* verified on the way in, or a local frame the sender left to us */
        flags |= SELFVIRT_RX_CSUM_OK;
    }
    if (fr->tx_flags & SELFVIRT_TX_TSO) {
        flags |= (fr->data[12] == 0x86 && fr->data[13] == 0xdd)
                 ? SELFVIRT_RX_GSO_TCPV6 : SELFVIRT_RX_GSO_TCPV4;
    }
    return flags;
}

/*
 * Write frame @fr into VIF @v's receive slots from rx_prod on, chained
 * over @slots slots, through mapping @m.  False if a window master-aborted.
 */
static bool selfvirt_rx_write(SelfvirtState *s, unsigned v,
                              SelfvirtWindowMap *m, SelfvirtFrame *fr,
                              uint32_t slots)
{
    SelfvirtVif *vif = &s->vif[v];
    uint16_t flags = selfvirt_rx_flags(fr);
    uint16_t gso_size = (fr->tx_flags & SELFVIRT_TX_TSO) ? fr->mss : 0;
    uint32_t off = 0;

    for (uint32_t i = 0; i < slots; i++) {
        uint32_t slot = (vif->rx_prod + i) & (vif->rx_entries - 1);
        uint32_t n = MIN(fr->len - off, vif->rx_buf_size);
        struct selfvirt_rx_desc d = {
            .len = cpu_to_le32(n),
            .flags = cpu_to_le16((i ? 0 : flags) |
                                 (i + 1 < slots ? SELFVIRT_RX_MORE : 0)),
            .gso_size = cpu_to_le16(i ? 0 : gso_size),
        };
        uint64_t buf = SELFVIRT_RQ_SLOT(vif->rx_entries, vif->rx_buf_size,
                                        slot);

        /* the descriptor after the data: the host trusts it once it sees it */
        if (!selfvirt_window_write_mapped(s, vif, m, buf, fr->data + off,
                                          n) ||
            !selfvirt_window_write_mapped(s, vif, m, SELFVIRT_RQ_DESC(slot),
                                          &d, sizeof(d))) {
            return false;
        }
        off += n;
    }
    return true;
}

/*
 * rx_cons moved past rx_prod: the guest broke its ring, and loses what
 * was pending, batch @b as well.
 */
static void selfvirt_ingress_bad_cons(SelfvirtState *s, unsigned v,
                                      SelfvirtBatch *b, uint32_t cons)
{
    SelfvirtVif *vif = &s->vif[v];
    SelfvirtFrame *fr;

    qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %u: rx_cons %u is ahead "
                  "of rx_prod %u\n", v, cons, vif->rx_prod);
    qatomic_inc(&vif->stats[SELFVIRT_VSTAT_TX_ERRORS]);
    selfvirt_stat_inc(s, SELFVIRT_STAT_BAD_DESC);
    while ((fr = selfvirt_batch_pop(b))) {
        selfvirt_frame_free(fr);
    }
    selfvirt_fifo_flush(&vif->pending);
}

/* Frames are in the ring: publish rx_prod, then signal if the VIF wants. */
static void selfvirt_ingress_publish(SelfvirtState *s, unsigned v,
                                     SelfvirtWindowMap *m)
{
    SelfvirtVif *vif = &s->vif[v];
    uint32_t rx_prod = cpu_to_le32(vif->rx_prod);

    if (qatomic_read(&vif->rq_flags) & SELFVIRT_RQ_RX_BLOCKED) {
        selfvirt_vif_set_flags(s, vif, 0, SELFVIRT_RQ_RX_BLOCKED);
    }
    smp_wmb();     /* frames and descriptors before rx_prod */
    selfvirt_window_write_mapped(s, vif, m,
                                 offsetof(struct selfvirt_rq_status, rx_prod),
                                 &rx_prod, sizeof(rx_prod));
    smp_mb();     /* publish rx_prod, then read the driver's enables */
    if (selfvirt_signal_enabled(s, v, SELFVIRT_SIGNAL_RX)) {
        selfvirt_irq_signal(s, v, SELFVIRT_SIGNAL_RX);
    }
}

/*
 * Move VIF @v's pending frames into its receive queue while there is
 * room, for up to @budget looks, which it takes from @e's turn.  Returns
 * the frames it took: delivered or dropped.
 */
static unsigned selfvirt_ingress_deliver(SelfvirtEngine *e, unsigned v,
                                         uint32_t budget)
{
    SelfvirtState *s = e->s;
    SelfvirtVif *vif = &s->vif[v];
    uint32_t capacity = selfvirt_vif_rx_capacity(vif);
    unsigned done = 0, dropped = 0;
    bool flushed = false;
    uint64_t bytes = 0;
    SelfvirtWindowMap map;
    SelfvirtBatch batch;
    SelfvirtFrame *fr;

    if (!vif->active) {
        return 0;
    }
    selfvirt_window_map_init(&map);
    selfvirt_fifo_take(&vif->pending, &batch);
    while (budget && (fr = selfvirt_batch_pop(&batch))) {
        uint32_t cons = selfvirt_rx_cons(s, v);
        uint32_t used = vif->rx_prod - cons;
        uint32_t slots;

        budget--;
        e->budget--;
        if (used > vif->rx_entries) {
            selfvirt_batch_unpop(&batch, fr);
            selfvirt_ingress_bad_cons(s, v, &batch, cons);
            flushed = true;
            break;
        }
        if (fr->len > capacity) {
            /* larger than the VIF's buffers (jumbo or unsegmented TSO) */
            trace_selfvirt_rx_drop(v, fr->len, capacity);
            qatomic_inc(&vif->stats[SELFVIRT_VSTAT_RX_DROPS]);
            selfvirt_frame_free(fr);
            dropped++;
            continue;
        }
        if (used < vif->rx_entries) {
            /* merge only what can go now: later segments may still come */
            fr = selfvirt_coalesce(s, vif, &batch, fr, capacity);
        }
        slots = DIV_ROUND_UP(fr->len, vif->rx_buf_size);
        if (vif->rx_entries - used < slots) {
            /* full: ask for a doorbell, then look again (no lost wake-up) */
            selfvirt_batch_unpop(&batch, fr);
            trace_selfvirt_rx_blocked(v, vif->rx_prod, cons, slots);
            selfvirt_vif_set_flags(s, vif, SELFVIRT_RQ_RX_BLOCKED, 0);
            selfvirt_ingress_wake_waiters(s);    /* they may drop now */
            smp_mb();     /* RX_BLOCKED visible before rx_cons is re-read */
            if (selfvirt_rx_cons(s, v) == cons) {
                break;
            }
            continue;
        }
        if (selfvirt_rx_write(s, v, &map, fr, slots)) {
            vif->rx_prod += slots;
            bytes += fr->len;
            done++;
        } else {
            dropped++;
        }
        trace_selfvirt_rx_frame(v, fr->len, vif->rx_prod);
        selfvirt_frame_free(fr);
    }
    selfvirt_fifo_take_done(&vif->pending, &batch);
    if (flushed) {
        selfvirt_ingress_wake_waiters(s);    /* the queue has room again */
    }
    if (done) {
        /* once per turn: the counters' line is shared with other threads */
        qatomic_add(&vif->stats[SELFVIRT_VSTAT_RX_FRAMES], done);
        qatomic_add(&vif->stats[SELFVIRT_VSTAT_RX_BYTES], bytes);
        selfvirt_ingress_publish(s, v, &map);
    }
    selfvirt_window_map_destroy(&map);
    return done + dropped;
}

/* Ingress context @ctx: its VIFs' pending queues into their rings. */
bool selfvirt_ingress_context(SelfvirtEngine *e, unsigned ctx)
{
    SelfvirtState *s = e->s;
    bool work = false;

    for (unsigned v = ctx; v < s->num_vifs && e->budget;
         v += s->me.contexts) {
        if (!selfvirt_fifo_empty(&s->vif[v].pending)) {
            int64_t start = selfvirt_stage_clock(e);
            /* bounded: a guest moving rx_cons to and fro cannot keep it */
            uint32_t looks = MIN(s->vif[v].rx_entries, e->budget);
            unsigned n = selfvirt_ingress_deliver(e, v, looks);

            selfvirt_stage_add(e, SELFVIRT_STAGE_INGRESS_MSG_SEND, start, n);
            work |= n > 0;
        }
    }
    if (work) {
        selfvirt_ingress_wake_waiters(s);
    }
    return work;
}
