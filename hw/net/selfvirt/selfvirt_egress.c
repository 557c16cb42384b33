/*
 * selfvirt: the egress pool, from the VIFs' send queues into the switch
 *
 * A VIF's send queue lives in its partition of the board's SDRAM: the
 * host writes frames, descriptors and tx_prod there with plain PCI writes
 * (no exit: the BAR is RAM).  Every VIF is served by one egress context,
 * picked round-robin when the VIF is created (the paper's "one context
 * per VIF").  A context copies a descriptor, checks it, applies the VIF's
 * rate, copies the frame (after which the guest cannot change it), checks
 * its source MAC and offloads, and hands it on as the switch decides: to
 * another VIF's pending queue, or to the port.
 *
 * A malformed descriptor halts its VIF only; a VIF sending faster than a
 * destination takes frames loses them there, never stalls the engine.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/timer.h"
#include "net/eth.h"
#include "system/kvm.h"
#include "selfvirt.h"
#include "selfvirt_tx_desc.h"
#include "trace.h"

/* What became of a descriptor's frame. */
typedef enum SelfvirtEgress {
    EGRESS_SENT,              /* switched (or dropped by its destination) */
    EGRESS_RETRY,             /* the board is busy: the descriptor waits */
    EGRESS_BAD,               /* malformed: dropped, counted as bad_desc */
    EGRESS_REFUSED,           /* refused (spoofed, no room): dropped */
} SelfvirtEgress;

/* The doorbell: the driver saw EGRESS_ASLEEP or RX_BLOCKED on VIF @v. */
void selfvirt_egress_doorbell(SelfvirtState *s, uint32_t v)
{
    selfvirt_stat_inc(s, SELFVIRT_STAT_DOORBELLS);
    if (v >= s->num_vifs || !s->vif[v].active) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: doorbell for VIF %u, "
                      "which does not exist\n", v);
        return;
    }
    trace_selfvirt_doorbell(v);
    selfvirt_engine_wake(selfvirt_egress_engine(s, &s->vif[v]));
    selfvirt_engine_kick_role(s, SELFVIRT_ME_INGRESS);
}

/* A write anywhere in doorbell page v is DOORBELL = v; reads are zero. */
static uint64_t selfvirt_doorbell_page_read(void *opaque, hwaddr addr,
                                            unsigned size)
{
    return 0;
}

static void selfvirt_doorbell_page_write(void *opaque, hwaddr addr,
                                         uint64_t val, unsigned size)
{
    SelfvirtState *s = opaque;

    selfvirt_egress_doorbell(s, addr / SELFVIRT_DOORBELL_PAGE_SIZE);
    selfvirt_engines_run_inline(s);
}

const MemoryRegionOps selfvirt_doorbell_page_ops = {
    .read = selfvirt_doorbell_page_read,
    .write = selfvirt_doorbell_page_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

/*
 * Under KVM each VIF's doorbell is an ioeventfd: the vCPU's write ends in
 * the host kernel, with no exit to QEMU, and the main loop rings the
 * board.  The VIF's page (the mdev's, written at any size) and DOORBELL
 * with its index (the host's interfaces) share the VIF's notifier.  A
 * write elsewhere in a page still comes through the MMIO callback.
 */
static void selfvirt_doorbell_notified(EventNotifier *n)
{
    SelfvirtDoorbell *db = container_of(n, SelfvirtDoorbell, notifier);
    SelfvirtState *s = db->s;

    if (event_notifier_test_and_clear(n)) {
        selfvirt_stat_inc(s, SELFVIRT_STAT_DOORBELL_EVENTFDS);
        selfvirt_egress_doorbell(s, db - s->doorbell);
        selfvirt_engines_run_inline(s);
    }
}

/* Every VIF's doorbell to its ioeventfd (@add), or back to the MMIO path. */
static void selfvirt_doorbell_eventfds_set(SelfvirtState *s, bool add)
{
    void (*set)(MemoryRegion *, hwaddr, unsigned, bool, uint64_t,
                EventNotifier *) = add ? memory_region_add_eventfd
                                       : memory_region_del_eventfd;

    memory_region_transaction_begin();
    for (unsigned v = 0; v < s->num_vifs; v++) {
        EventNotifier *n = &s->doorbell[v].notifier;

        set(&s->doorbells, SELFVIRT_DOORBELL_PAGE(v), 0, false, 0, n);
        set(&s->csr, SELFVIRT_REG_DOORBELL, 4, true, v, n);
        event_notifier_set_handler(n, add ? selfvirt_doorbell_notified : NULL);
    }
    memory_region_transaction_commit();
}

/* At realize, with KVM and property ioeventfd: every VIF's doorbell. */
void selfvirt_doorbell_eventfds_init(SelfvirtState *s)
{
    if (!s->ioeventfd || !kvm_enabled()) {
        return;
    }
    for (unsigned v = 0; v < s->num_vifs; v++) {
        int err = event_notifier_init(&s->doorbell[v].notifier, 0);

        if (err) {
            warn_report("selfvirt: no eventfd for doorbells (%s): they trap",
                        strerror(-err));
            while (v--) {
                event_notifier_cleanup(&s->doorbell[v].notifier);
            }
            return;
        }
        s->doorbell[v].s = s;
    }
    selfvirt_doorbell_eventfds_set(s, true);
    s->doorbell_eventfds = true;
}

void selfvirt_doorbell_eventfds_fini(SelfvirtState *s)
{
    if (!s->doorbell_eventfds) {
        return;
    }
    selfvirt_doorbell_eventfds_set(s, false);
    for (unsigned v = 0; v < s->num_vifs; v++) {
        event_notifier_cleanup(&s->doorbell[v].notifier);
    }
    s->doorbell_eventfds = false;
}

/* ---- checks ---- */

static bool selfvirt_tx_desc_ok(SelfvirtState *s, SelfvirtVif *vif,
                                const struct selfvirt_tx_desc *d)
{
    return selfvirt_tx_desc_valid(
        s->part_size - SELFVIRT_SQ_DATA_OFF(vif->tx_entries),
        s->port.max_frame, le32_to_cpu(d->buf), le32_to_cpu(d->len),
        le16_to_cpu(d->flags), le16_to_cpu(d->mss));
}

/*
 * The bytes of a TCP frame's headers (L2 to L4); 0 if it is no TCP frame.
 * TSO needs a TCP segment: on anything else it would bypass max-frame.
 */
static size_t selfvirt_tcp_hdr_len(SelfvirtFrame *fr)
{
    struct iovec iov = { .iov_base = fr->data, .iov_len = fr->len };
    size_t l3_off, l4_off, l5_off;
    eth_ip6_hdr_info ip6;
    eth_ip4_hdr_info ip4;
    eth_l4_hdr_info l4;
    bool has_ip4, has_ip6;

    eth_get_protocols(&iov, 1, 0, &has_ip4, &has_ip6, &l3_off, &l4_off,
                      &l5_off, &ip6, &ip4, &l4);
    return l4.proto == ETH_L4_HDR_PROTO_TCP ? l5_off : 0;
}

/* Checks on the frame itself, on the board's copy the guest cannot change. */
static SelfvirtEgress selfvirt_egress_check(SelfvirtState *s, unsigned v,
                                            SelfvirtFrame *fr)
{
    SelfvirtVif *vif = &s->vif[v];
    size_t hdr_len;

    if (vif->spoof_check && s->sw.mode == SELFVIRT_MODE_SELF_VIRT &&
        memcmp(fr->data + ETH_ALEN, vif->mac, ETH_ALEN)) {
        trace_selfvirt_tx_spoofed(v);
        selfvirt_stat_inc(s, SELFVIRT_STAT_TX_SPOOFED);
        return EGRESS_REFUSED;
    }
    if (!(fr->tx_flags & SELFVIRT_TX_TSO)) {
        return EGRESS_SENT;
    }
    hdr_len = selfvirt_tcp_hdr_len(fr);
    if (is_multicast_ether_addr(fr->data) || !hdr_len) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %u: TSO on a frame "
                      "that is not unicast TCP (%u bytes), dropped\n", v,
                      fr->len);
        return EGRESS_BAD;
    }
    /* each segment must be a frame the wire takes */
    if (hdr_len + fr->mss > s->port.max_frame) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %u: TSO segments of "
                      "%zu bytes exceed max-frame %u, dropped\n", v,
                      hdr_len + fr->mss, s->port.max_frame);
        return EGRESS_BAD;
    }
    return EGRESS_SENT;
}

/* A TSO frame too large for its local destination @dst: cut it there. */
static SelfvirtEgress selfvirt_egress_local_tso(SelfvirtEngine *e,
                                                unsigned dst,
                                                SelfvirtFrame *fr)
{
    switch (selfvirt_pending_queue_cut(e, dst, fr)) {
    case SELFVIRT_CUT_QUEUED:
        selfvirt_stat_inc(e->s, SELFVIRT_STAT_SWITCH_LOCAL);  /* delivered */
        return EGRESS_SENT;
    case SELFVIRT_CUT_WAIT:
        selfvirt_frame_free(fr);
        return EGRESS_RETRY;
    case SELFVIRT_CUT_DROPPED:
        return EGRESS_SENT;
    case SELFVIRT_CUT_BAD:
        break;
    }
    return EGRESS_BAD;
}

/* ---- one frame ---- */

/*
 * A first look at the frame's destination, before it is copied: a frame
 * waits for room in the port's queue or for the board's ingress to drain
 * its VIF's queue, both of which pass without any guest.
 */
static bool selfvirt_egress_must_wait(SelfvirtEngine *e, unsigned v,
                                      const uint8_t *data)
{
    SelfvirtState *s = e->s;
    SelfvirtRoute r = selfvirt_switch_route(s, data, v);

    switch (r.dest) {
    case SELFVIRT_DEST_WIRE:
    case SELFVIRT_DEST_FLOOD:
        return selfvirt_port_queue_busy(s, e);
    case SELFVIRT_DEST_VIF:
        return selfvirt_pending_room(s, r.vif, e) == SELFVIRT_ROOM_WAIT;
    default:
        return false;
    }
}

/*
 * @fr to the port; false if the port filled since the first look (another
 * egress engine took the room): the frame is freed and its descriptor
 * waits, as one that found the port full, and this engine runs again when
 * there is room.
 */
static bool selfvirt_egress_to_port(SelfvirtEngine *e, SelfvirtFrame *fr)
{
    if (selfvirt_port_queue(e->s, fr)) {
        return true;
    }
    selfvirt_frame_free(fr);
    if (!selfvirt_port_queue_busy(e->s, e)) {
        selfvirt_engine_kick(e);
    }
    return false;
}

/* Hand the board's copy @fr of VIF @v's frame on, as the switch decides. */
static SelfvirtEgress selfvirt_egress_forward(SelfvirtEngine *e, unsigned v,
                                              SelfvirtFrame *fr)
{
    SelfvirtState *s = e->s;
    SelfvirtRoute r = selfvirt_switch_route(s, fr->data, v);

    switch (r.dest) {
    case SELFVIRT_DEST_VIF:
        if (fr->len > selfvirt_vif_rx_capacity(&s->vif[r.vif])) {
            return selfvirt_egress_local_tso(e, r.vif, fr);
        }
        if (!selfvirt_pending_queue(s, r.vif, fr, e)) {
            selfvirt_frame_free(fr);
            return EGRESS_RETRY;
        }
        e->switched_local++;
        return EGRESS_SENT;
    case SELFVIRT_DEST_FLOOD:
        /* the wire's copy first: if it must wait, no VIF has one yet */
        if (!selfvirt_egress_to_port(e, selfvirt_frame_copy(fr))) {
            selfvirt_frame_free(fr);
            return EGRESS_RETRY;
        }
        selfvirt_outbox_flush(e);  /* in order with the frames before it */
        selfvirt_pending_flood(s, fr);
        selfvirt_frame_free(fr);
        return EGRESS_SENT;
    case SELFVIRT_DEST_WIRE:
        return selfvirt_egress_to_port(e, fr) ? EGRESS_SENT : EGRESS_RETRY;
    case SELFVIRT_DEST_SOURCE:
        selfvirt_frame_free(fr);
        return EGRESS_SENT;
    case SELFVIRT_DEST_UNKNOWN:
        break;
    }
    g_assert_not_reached();     /* a frame from a VIF has a way out */
}

/*
 * Descriptor @d's frame: copied out of SDRAM and checked (message receive),
 * then switched (packet transmit).  @start: when the engine took @d.
 */
static SelfvirtEgress selfvirt_egress_frame(SelfvirtEngine *e, unsigned v,
                                            const struct selfvirt_tx_desc *d,
                                            int64_t start)
{
    SelfvirtState *s = e->s;
    SelfvirtVif *vif = &s->vif[v];
    const uint8_t *data = selfvirt_part(s, v) +
                          SELFVIRT_SQ_DATA_OFF(vif->tx_entries) +
                          le32_to_cpu(d->buf);
    SelfvirtFrame *fr;
    SelfvirtEgress r;

    if (selfvirt_egress_must_wait(e, v, data)) {
        return EGRESS_RETRY;
    }
    fr = selfvirt_frame_pool_new(&e->frames, data, le32_to_cpu(d->len));
    fr->tx_flags = le16_to_cpu(d->flags);
    fr->mss = le16_to_cpu(d->mss);
    fr->src_vif = v;
    r = selfvirt_egress_check(s, v, fr);
    if (r != EGRESS_SENT) {
        selfvirt_frame_free(fr);
        return r;
    }
    start = selfvirt_stage_add(e, SELFVIRT_STAGE_EGRESS_MSG_RECV, start, 1);
    r = selfvirt_egress_forward(e, v, fr);
    selfvirt_stage_add(e, SELFVIRT_STAGE_EGRESS_PKT_TX, start, 1);
    return r;
}

/* ---- a VIF's send queue ---- */

/*
 * A malformed queue: the VIF halts, until management sets its queues up
 * again.  The driver learns it from its flags word and a transmit signal,
 * and why from VIF_STATUS: the reason and the descriptor as posted.
 */
static void selfvirt_egress_halt(SelfvirtState *s, unsigned v,
                                 uint32_t reason,
                                 const struct selfvirt_tx_desc *d)
{
    SelfvirtVif *vif = &s->vif[v];

    trace_selfvirt_vif_stopped(v, vif->tx_cons);
    vif->stopped = true;
    vif->halt.reason = reason;
    vif->halt.index = vif->tx_cons;
    if (d) {
        vif->halt.desc = *d;
    } else {
        memset(&vif->halt.desc, 0, sizeof(vif->halt.desc));
    }
    qatomic_inc(&vif->stats[SELFVIRT_VSTAT_TX_ERRORS]);
    selfvirt_stat_inc(s, SELFVIRT_STAT_BAD_DESC);
    selfvirt_vif_set_flags(s, vif, SELFVIRT_RQ_HALTED, 0);
    selfvirt_irq_signal(s, v, SELFVIRT_SIGNAL_TX);
}

/*
 * Copy the descriptor at tx_cons into @d; false when the queue is empty
 * or malformed (then the VIF is halted).
 */
static bool selfvirt_egress_next_desc(SelfvirtState *s, unsigned v,
                                      struct selfvirt_tx_desc *d)
{
    SelfvirtVif *vif = &s->vif[v];
    struct selfvirt_sq_ctrl *ctrl = (void *)selfvirt_part(s, v);
    uint32_t prod = le32_to_cpu(qatomic_read(&ctrl->tx_prod));

    if (prod == vif->tx_cons) {
        return false;
    }
    if (prod - vif->tx_cons > vif->tx_entries) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %u: tx_prod %u is "
                      "more than %u ahead of %u: VIF stopped\n", v, prod,
                      vif->tx_entries, vif->tx_cons);
        selfvirt_egress_halt(s, v, SELFVIRT_HALT_PROD_AHEAD, NULL);
        return false;
    }
    smp_rmb();     /* the descriptor was written before tx_prod */
    memcpy(d, selfvirt_part(s, v) +
           SELFVIRT_SQ_DESC(vif->tx_cons & (vif->tx_entries - 1)),
           sizeof(*d));
    if (!selfvirt_tx_desc_ok(s, vif, d)) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %u: malformed send "
                      "descriptor %u (buf %u len %u flags 0x%x mss %u): "
                      "VIF stopped\n", v, vif->tx_cons, le32_to_cpu(d->buf),
                      le32_to_cpu(d->len), le16_to_cpu(d->flags),
                      le16_to_cpu(d->mss));
        selfvirt_egress_halt(s, v, SELFVIRT_HALT_BAD_DESC, d);
        return false;
    }
    return true;
}

/* Errors at once; frames sent are added once per turn (the caller's @sent). */
static void selfvirt_egress_count(SelfvirtState *s, SelfvirtVif *vif,
                                  SelfvirtEgress r, uint32_t len,
                                  uint64_t sent[2])
{
    if (r == EGRESS_BAD) {
        selfvirt_stat_inc(s, SELFVIRT_STAT_BAD_DESC);
    }
    if (r != EGRESS_SENT) {
        qatomic_inc(&vif->stats[SELFVIRT_VSTAT_TX_ERRORS]);
    } else {
        sent[0]++;
        sent[1] += len;
    }
}

/* Descriptors are done: publish tx_cons, then signal if the VIF wants. */
static void selfvirt_egress_complete(SelfvirtState *s, unsigned v)
{
    SelfvirtVif *vif = &s->vif[v];
    struct selfvirt_sq_ctrl *ctrl = (void *)selfvirt_part(s, v);

    selfvirt_vif_publish_tx_cons(s, vif);
    smp_mb();     /* publish tx_cons, then read the driver's enables */
    if (qatomic_read(&vif->signals) &
        le32_to_cpu(qatomic_read(&ctrl->signal_enable)) & SELFVIRT_SIGNAL_TX) {
        selfvirt_irq_signal(s, v, SELFVIRT_SIGNAL_TX);
    }
}

/*
 * Up to the VIF's weight of frames, within the turn's budget; true if it
 * made progress.
 */
static bool selfvirt_egress_vif(SelfvirtEngine *e, unsigned v,
                                int64_t *wait_ns)
{
    SelfvirtState *s = e->s;
    SelfvirtVif *vif = &s->vif[v];
    uint32_t weight = qatomic_read(&vif->weight);
    struct selfvirt_tx_desc d;
    uint64_t sent[2] = { 0, 0 };        /* frames, bytes */
    unsigned done = 0;

    if (!vif->active || vif->stopped) {
        return false;
    }
    while (done < weight && e->budget) {
        int64_t start = selfvirt_stage_clock(e);
        uint32_t len;
        SelfvirtEgress r;

        if (!selfvirt_egress_next_desc(s, v, &d)) {
            break;
        }
        len = le32_to_cpu(d.len);
        if (selfvirt_rate_limited(&vif->rate) &&
            !selfvirt_rate_check(&vif->rate,
                                 qemu_clock_get_ns(QEMU_CLOCK_REALTIME),
                                 len, wait_ns)) {
            break;
        }
        r = selfvirt_egress_frame(e, v, &d, start);
        if (r == EGRESS_RETRY) {
            break;
        }
        selfvirt_rate_charge(&vif->rate, len);
        selfvirt_egress_count(s, vif, r, len, sent);
        trace_selfvirt_tx_frame(v, len, vif->tx_cons);
        vif->tx_cons++;
        e->budget--;
        done++;
    }
    if (e->switched_local) {
        /* before ingress delivers: whoever sees a frame sees it counted */
        qatomic_add(&s->stats[SELFVIRT_STAT_SWITCH_LOCAL], e->switched_local);
        e->switched_local = 0;
    }
    selfvirt_outbox_kick(e);
    if (done) {
        /* once per turn: the counters' line is shared with other threads */
        qatomic_add(&vif->stats[SELFVIRT_VSTAT_TX_FRAMES], sent[0]);
        qatomic_add(&vif->stats[SELFVIRT_VSTAT_TX_BYTES], sent[1]);
        selfvirt_egress_complete(s, v);
    }
    return done > 0;
}

/* Egress context @ctx of engine @e: the VIFs assigned to it. */
static bool selfvirt_egress_context(SelfvirtEngine *e, unsigned ctx,
                                    int64_t *wait_ns)
{
    SelfvirtState *s = e->s;
    unsigned global = e->egress_base + ctx;
    bool work = false;

    for (unsigned v = 0; v < s->num_vifs && e->budget; v++) {
        if (s->vif[v].active && s->vif[v].egress_ctx == global) {
            work |= selfvirt_egress_vif(e, v, wait_ns);
        }
    }
    return work;
}

/* Before sleeping: tell the driver of every VIF engine @e serves. */
static void selfvirt_egress_set_asleep(SelfvirtEngine *e, bool asleep)
{
    SelfvirtState *s = e->s;

    for (unsigned v = 0; v < s->num_vifs; v++) {
        SelfvirtVif *vif = &s->vif[v];

        if (vif->active && selfvirt_egress_engine(s, vif) == e) {
            selfvirt_vif_set_flags(s, vif,
                                   asleep ? SELFVIRT_RQ_EGRESS_ASLEEP : 0,
                                   asleep ? 0 : SELFVIRT_RQ_EGRESS_ASLEEP);
        }
    }
}

static const SelfvirtRoleOps selfvirt_egress_ops = {
    .name = "egress",
    .per_context = true,
    .run = selfvirt_egress_context,
    .set_asleep = selfvirt_egress_set_asleep,
};

void selfvirt_egress_init(SelfvirtState *s)
{
    selfvirt_engines_set_role(s, SELFVIRT_ME_EGRESS, &selfvirt_egress_ops);
}
