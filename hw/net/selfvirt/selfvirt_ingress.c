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
        /* IPv4 or IPv6, under any VLAN tags */
        struct iovec iov = { .iov_base = (void *)fr->data, .iov_len = fr->len };
        size_t l2_len = eth_get_l2_hdr_length_iov(&iov, 1, 0);

        flags |= eth_get_l3_proto(&iov, 1, l2_len) == ETH_P_IPV6
                 ? SELFVIRT_RX_GSO_TCPV6 : SELFVIRT_RX_GSO_TCPV4;
    }
    return flags;
}

/*
 * Where receive slot @slot of VIF @v takes its bytes: the paper's fixed
 * place, or the buffer the host posted in the slot's descriptor
 * (ATTR_RX_POSTED).  False if the posted buffer is unreadable or out of
 * bounds: the frame is dropped, the slot left for the host to fix.
 */
static bool selfvirt_rx_slot_buf(SelfvirtState *s, unsigned v,
                                 SelfvirtWindowMap *m, uint32_t slot,
                                 uint64_t *buf)
{
    SelfvirtVif *vif = &s->vif[v];
    uint64_t posted;

    if (!vif->rx_posted) {
        *buf = SELFVIRT_RQ_SLOT(vif->rx_entries, vif->rx_buf_size, slot);
        return true;
    }
    if (!selfvirt_window_read_mapped(s, vif, m, SELFVIRT_RQ_DESC(slot) +
                                     offsetof(struct selfvirt_rx_desc, buf),
                                     &posted, sizeof(posted))) {
        return false;
    }
    *buf = le64_to_cpu(posted);
    if (*buf % SELFVIRT_RX_BUF_ALIGN ||
        *buf < SELFVIRT_RQ_DATA_OFF(vif->rx_entries)) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %u: receive slot %u "
                      "posts buffer 0x%" PRIx64 ", not %u-aligned or among "
                      "the descriptors\n", v, slot, *buf,
                      SELFVIRT_RX_BUF_ALIGN);
        selfvirt_stat_inc(s, SELFVIRT_STAT_BAD_DESC);
        qatomic_inc(&vif->stats[SELFVIRT_VSTAT_RX_DROPS]);
        return false;
    }
    return true;
}

/*
 * Write frame @fr into VIF @v's receive slots from rx_prod on, chained
 * over @slots slots, through mapping @m.  False if a window master-aborted
 * or a posted buffer was out of bounds.
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
        uint64_t buf;

        /*
         * The descriptor after the data: the host trusts it once it sees
         * it.  Not its buf, which is the host's.
         */
        if (!selfvirt_rx_slot_buf(s, v, m, slot, &buf) ||
            !selfvirt_window_write_mapped(s, vif, m, buf, fr->data + off,
                                          n) ||
            !selfvirt_window_write_mapped(s, vif, m, SELFVIRT_RQ_DESC(slot),
                                          &d, offsetof(typeof(d), buf))) {
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
            selfvirt_pending_room_made(s);    /* they may drop now */
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
        selfvirt_pending_room_made(s);    /* the queue has room again */
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
static bool selfvirt_ingress_context(SelfvirtEngine *e, unsigned ctx,
                                     int64_t *wait_ns)
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
        selfvirt_pending_room_made(s);
    }
    return work;
}

static const SelfvirtRoleOps selfvirt_ingress_ops = {
    .name = "ingress",
    .per_context = true,
    .run = selfvirt_ingress_context,
};

void selfvirt_ingress_init(SelfvirtState *s)
{
    selfvirt_engines_set_role(s, SELFVIRT_ME_INGRESS, &selfvirt_ingress_ops);
}
