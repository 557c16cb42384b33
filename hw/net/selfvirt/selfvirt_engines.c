/*
 * selfvirt: the micro-engines
 *
 * The IXP2400 has 8 micro-engines of 8 hardware contexts; a context runs
 * until it waits for I/O, then yields to the next (no preemption).  Each
 * micro-engine here is a thread that runs its contexts round-robin.  Roles
 * as in the paper: one engine receives from the physical port, one
 * transmits to it, one runs the ingress pool (demultiplexing into VIF
 * receive queues) and the rest run the egress pool, where every VIF is
 * served by one context picked round-robin when the VIF is created.
 *
 * The paper's contexts poll.  On a host with few cores a polling thread
 * steals the guest's CPU, so an engine polls for poll-us microseconds after
 * its last work and then sleeps; egress tells the driver through the VIF's
 * status flags (SELFVIRT_RQ_EGRESS_ASLEEP) that a doorbell is needed.
 *
 * Engines never take the BQL: interrupts and the net layer are reached
 * through bottom halves.  Management pauses them (parked, no DMA in flight)
 * before it changes what they work on.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "qemu/timer.h"
#include "net/eth.h"
#include "selfvirt.h"
#include "hw/net/net_rx_pkt.h"
#include "hw/net/net_tx_pkt.h"
#include "standard-headers/linux/virtio_net.h"
#include "trace.h"

/* ---- frames and fifos ---- */

/* A frame of @len bytes, its metadata cleared: the caller fills the data. */
SelfvirtFrame *selfvirt_frame_alloc(uint32_t len, int src_vif)
{
    SelfvirtFrame *fr = g_malloc(sizeof(*fr) + len);

    fr->len = len;
    fr->tx_flags = 0;
    fr->mss = 0;
    fr->csum_ok = false;
    fr->tcp_l4_off = fr->tcp_l5_off = 0;
    fr->src_vif = src_vif;
    return fr;
}

SelfvirtFrame *selfvirt_frame_new(const void *data, uint32_t len)
{
    SelfvirtFrame *fr = selfvirt_frame_alloc(len, -1);

    memcpy(fr->data, data, len);
    return fr;
}

/* A frame made of a segment that net_tx_pkt produced. */
static SelfvirtFrame *selfvirt_frame_from_iov(const struct iovec *iov,
                                              int iovcnt, int src_vif)
{
    SelfvirtFrame *fr = selfvirt_frame_alloc(iov_size(iov, iovcnt), src_vif);

    iov_to_buf(iov, iovcnt, 0, fr->data, fr->len);
    return fr;
}

void selfvirt_fifo_init(SelfvirtFifo *f, uint32_t max, uint32_t max_bytes)
{
    qemu_mutex_init(&f->lock);
    QSIMPLEQ_INIT(&f->q);
    f->len = f->bytes = 0;
    f->max = max;
    f->max_bytes = max_bytes;
}

/* Without the lock: a hint for producers, push decides. */
bool selfvirt_fifo_full(SelfvirtFifo *f)
{
    return qatomic_read(&f->len) >= f->max ||
           qatomic_read(&f->bytes) >= f->max_bytes;
}

static void selfvirt_fifo_count(SelfvirtFifo *f, SelfvirtFrame *fr, int dir)
{
    qatomic_set(&f->len, f->len + dir);
    qatomic_set(&f->bytes, f->bytes + dir * (int64_t)fr->len);
}

void selfvirt_fifo_destroy(SelfvirtFifo *f)
{
    selfvirt_fifo_flush(f);
    qemu_mutex_destroy(&f->lock);
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
static void selfvirt_fifo_append(SelfvirtFifo *f, SelfvirtFrame *fr)
{
    QEMU_LOCK_GUARD(&f->lock);
    QSIMPLEQ_INSERT_TAIL(&f->q, fr, next);
    selfvirt_fifo_count(f, fr, 1);
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

/* Only the fifo's single consumer may peek and then pop. */
SelfvirtFrame *selfvirt_fifo_peek(SelfvirtFifo *f)
{
    QEMU_LOCK_GUARD(&f->lock);
    return QSIMPLEQ_FIRST(&f->q);
}

void selfvirt_fifo_flush(SelfvirtFifo *f)
{
    SelfvirtFrame *fr;

    while ((fr = selfvirt_fifo_pop(f))) {
        g_free(fr);
    }
}

static bool selfvirt_fifo_empty(SelfvirtFifo *f)
{
    return qatomic_read(&f->len) == 0;
}

/* ---- waking and parking ---- */

static void selfvirt_engines_run_inline(SelfvirtState *s);

void selfvirt_engine_kick(SelfvirtEngine *e)
{
    if (e->s->engines_inline) {
        selfvirt_engines_run_inline(e->s);
        return;
    }
    qemu_mutex_lock(&e->lock);
    e->kicked = true;
    if (e->asleep) {
        selfvirt_stat_inc(e->s, SELFVIRT_STAT_ENGINE_WAKEUPS);
        qemu_cond_signal(&e->cond);
    }
    qemu_mutex_unlock(&e->lock);
}

void selfvirt_kick_all(SelfvirtState *s)
{
    for (unsigned i = 0; i < s->num_engines; i++) {
        selfvirt_engine_kick(&s->engine[i]);
    }
}

SelfvirtEngine *selfvirt_engine_of_role(SelfvirtState *s,
                                        enum SelfvirtEngineRole role)
{
    return &s->engine[role];
}

SelfvirtEngine *selfvirt_egress_engine(SelfvirtState *s, SelfvirtVif *vif)
{
    unsigned n_egress = s->num_engines - SELFVIRT_ME_EGRESS;

    return &s->engine[SELFVIRT_ME_EGRESS +
                      (vif->egress_ctx / s->num_contexts) % n_egress];
}

/* The doorbell: the driver saw EGRESS_ASLEEP or RX_BLOCKED on VIF @v. */
void selfvirt_doorbell(SelfvirtState *s, uint32_t v)
{
    selfvirt_stat_inc(s, SELFVIRT_STAT_DOORBELLS);
    if (v >= s->num_vifs || !s->vif[v].active) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: doorbell for VIF %u, "
                      "which does not exist\n", v);
        return;
    }
    trace_selfvirt_doorbell(v);
    selfvirt_engine_kick(selfvirt_egress_engine(s, &s->vif[v]));
    selfvirt_engine_kick(selfvirt_engine_of_role(s, SELFVIRT_ME_INGRESS));
}

/* Park here while management has the engines paused. */
static void selfvirt_engine_check_pause(SelfvirtState *s)
{
    if (!qatomic_read(&s->pause_req)) {
        return;
    }
    qemu_mutex_lock(&s->pause_lock);
    if (s->pause_req) {
        s->paused++;
        qemu_cond_broadcast(&s->pause_cond);
        while (s->pause_req && !s->engines_stop) {
            qemu_cond_wait(&s->pause_cond, &s->pause_lock);
        }
        s->paused--;
    }
    qemu_mutex_unlock(&s->pause_lock);
}

/* With the BQL.  Nests; returns with every engine parked. */
void selfvirt_engines_pause(SelfvirtState *s)
{
    assert(bql_locked());
    if (!s->engines_running) {
        return;
    }
    trace_selfvirt_engines_pause(qatomic_read(&s->pause_req));
    qemu_mutex_lock(&s->pause_lock);
    if (s->pause_req++ == 0) {
        qemu_mutex_unlock(&s->pause_lock);
        selfvirt_kick_all(s);
        qemu_mutex_lock(&s->pause_lock);
        while (s->paused < s->num_engines) {
            qemu_cond_wait(&s->pause_cond, &s->pause_lock);
        }
    }
    qemu_mutex_unlock(&s->pause_lock);
}

/*
 * For assertions: may management change what the engines work on?  Yes
 * with the BQL and every engine thread parked (or none running).
 */
bool selfvirt_engines_parked(SelfvirtState *s)
{
    if (!bql_locked()) {
        return false;
    }
    if (!s->engines_running) {
        return true;
    }
    QEMU_LOCK_GUARD(&s->pause_lock);
    return s->pause_req && s->paused == s->num_engines;
}

void selfvirt_engines_resume(SelfvirtState *s)
{
    assert(bql_locked());
    if (!s->engines_running) {
        return;
    }
    trace_selfvirt_engines_resume(qatomic_read(&s->pause_req));
    qemu_mutex_lock(&s->pause_lock);
    assert(s->pause_req > 0);
    if (--s->pause_req == 0) {
        qemu_cond_broadcast(&s->pause_cond);
    }
    qemu_mutex_unlock(&s->pause_lock);
    selfvirt_kick_all(s);
}

/* ---- wire receive (the receive micro-engine) ---- */

/* NetClientInfo.receive, with the BQL: hand the frame to the engine. */
ssize_t selfvirt_wire_receive(SelfvirtState *s, const uint8_t *buf,
                              size_t len)
{
    SelfvirtFrame *fr;

    trace_selfvirt_wire_rx(len);
    if (len < ETH_HLEN || len > s->max_frame) {
        return len;   /* runts and giants are dropped by the MAC */
    }
    fr = selfvirt_frame_new(buf, len);
    if (!selfvirt_fifo_push(&s->wire_in, fr)) {
        g_free(fr);
        qatomic_set(&s->wire_in_blocked, true);
        return 0;     /* the net layer queues it and waits for a flush */
    }
    selfvirt_stat_inc(s, SELFVIRT_STAT_WIRE_RX_FRAMES);
    selfvirt_engine_kick(selfvirt_engine_of_role(s, SELFVIRT_ME_WIRE_RX));
    return len;
}

void selfvirt_rx_flush_bh(void *opaque)
{
    SelfvirtState *s = opaque;

    if (qatomic_xchg(&s->wire_in_blocked, false)) {
        qemu_flush_queued_packets(qemu_get_queue(s->nic));
    }
}

/*
 * Checksum-verified receive (the paper's future work): a TCP or UDP frame
 * whose checksum checks out is marked, so the host need not check it.  A
 * verified TCP frame keeps its header offsets for receive coalescing.
 */
static void selfvirt_rx_csum(SelfvirtEngine *e, SelfvirtFrame *fr)
{
    struct iovec iov = { .iov_base = fr->data, .iov_len = fr->len };
    bool valid = false, ip4, ip6;
    EthL4HdrProto l4;

    net_rx_pkt_set_protocols(e->rx_pkt, &iov, 1, 0);
    net_rx_pkt_attach_iovec(e->rx_pkt, &iov, 1, 0, false);
    fr->csum_ok = net_rx_pkt_validate_l4_csum(e->rx_pkt, &valid) && valid;
    net_rx_pkt_get_protocols(e->rx_pkt, &ip4, &ip6, &l4);
    if (fr->csum_ok && l4 == ETH_L4_HDR_PROTO_TCP) {
        fr->tcp_l4_off = net_rx_pkt_get_l4_hdr_offset(e->rx_pkt);
        fr->tcp_l5_off = net_rx_pkt_get_l5_hdr_offset(e->rx_pkt);
    }
}

static bool selfvirt_ctx_wire_rx(SelfvirtEngine *e)
{
    SelfvirtState *s = e->s;
    SelfvirtFrame *fr;
    unsigned n = 0;

    while (n < 32 && (fr = selfvirt_fifo_pop(&s->wire_in))) {
        if (!fr->csum_ok) {     /* not yet looked at (put back otherwise) */
            selfvirt_rx_csum(e, fr);
        }
        if (selfvirt_switch_forward(s, fr, e) == SELFVIRT_FWD_BUSY) {
            /* the board's ingress is behind, not a guest: wait for it */
            selfvirt_fifo_unpop(&s->wire_in, fr);
            break;
        }
        n++;
    }
    if (n && qatomic_read(&s->wire_in_blocked)) {
        qemu_bh_schedule(s->rx_flush_bh);
    }
    return n > 0;
}

/* ---- wire transmit (the transmit micro-engine) ---- */

static void selfvirt_wire_send_cb(void *opaque, const struct iovec *iov,
                                  int iovcnt, const struct iovec *virt_iov,
                                  int virt_iovcnt)
{
    SelfvirtState *s = opaque;

    /* the segments of one frame go whole: the engine checked for room */
    selfvirt_fifo_append(&s->wire_send, selfvirt_frame_from_iov(iov, iovcnt,
                                                                 -1));
}

/* Fragments point into frames the caller owns: nothing to unmap. */
static void selfvirt_frag_keep(void *context, void *base, size_t len)
{
}

/*
 * Do a frame's checksum and segmentation offloads with QEMU's net_tx_pkt
 * and hand each resulting frame to @cb.  Returns false for a frame the
 * offloads cannot parse.
 */
static bool selfvirt_offload(SelfvirtEngine *e, SelfvirtFrame *fr,
                             NetTxPktSend cb, void *opaque)
{
    struct NetTxPkt *pkt = e->tx_pkt;
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
    return ok && net_tx_pkt_send_custom(pkt, false, cb, opaque);
}

static bool selfvirt_ctx_wire_tx(SelfvirtEngine *e)
{
    SelfvirtState *s = e->s;
    SelfvirtFrame *fr;
    unsigned n = 0;

    /* the tx BH drains wire_send and kicks us when it has */
    while (n < 32 && !selfvirt_fifo_full(&s->wire_send) &&
           (fr = selfvirt_fifo_pop(&s->wire_out))) {
        if (fr->tx_flags) {
            if (!selfvirt_offload(e, fr, selfvirt_wire_send_cb, s)) {
                qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %d: offload "
                              "requested on a frame it cannot parse\n",
                              fr->src_vif);
                selfvirt_stat_inc(s, SELFVIRT_STAT_BAD_DESC);
            }
        } else {
            struct iovec iov = { .iov_base = fr->data, .iov_len = fr->len };

            selfvirt_wire_send_cb(s, &iov, 1, NULL, 0);
        }
        g_free(fr);
        n++;
    }
    if (n) {
        qemu_bh_schedule(s->tx_bh);
        /* egress may be waiting for room in wire_out */
        for (unsigned i = SELFVIRT_ME_EGRESS; i < s->num_engines; i++) {
            selfvirt_engine_kick(&s->engine[i]);
        }
    }
    return n > 0;
}

/* With the BQL: the frames go out through the netdev. */
void selfvirt_tx_bh(void *opaque)
{
    SelfvirtState *s = opaque;
    NetClientState *nc = qemu_get_queue(s->nic);
    SelfvirtFrame *fr;

    while ((fr = selfvirt_fifo_pop(&s->wire_send))) {
        if (qemu_get_queue(s->nic)->link_down) {
            g_free(fr);
            continue;
        }
        trace_selfvirt_wire_tx(fr->len);
        qemu_send_packet(nc, fr->data, fr->len);
        selfvirt_stat_inc(s, SELFVIRT_STAT_WIRE_TX_FRAMES);
        g_free(fr);
    }
    if (!selfvirt_fifo_empty(&s->wire_out)) {
        selfvirt_engine_kick(selfvirt_engine_of_role(s, SELFVIRT_ME_WIRE_TX));
    }
}

/* ---- ingress pool ---- */

static bool selfvirt_ctx_ingress(SelfvirtEngine *e, unsigned ctx)
{
    SelfvirtState *s = e->s;
    bool work = false;

    /* context c serves VIFs c, c + contexts, ... */
    for (unsigned v = ctx; v < s->num_vifs; v += s->num_contexts) {
        if (!selfvirt_fifo_empty(&s->vif[v].pending)) {
            work |= selfvirt_switch_deliver(s, v);
        }
    }
    if (work) {
        selfvirt_switch_wake_waiters(s);
    }
    return work;
}

/* ---- egress pool ---- */

typedef struct SelfvirtLocalSeg {
    SelfvirtState *s;
    struct NetTxPkt *pkt;
    int src_vif;
    int dst_vif;
    uint16_t mss;           /* the sender's; pieces may hold several */
} SelfvirtLocalSeg;

/* A piece of a frame too large for the destination VIF's buffers. */
static void selfvirt_local_seg_cb(void *opaque, const struct iovec *iov,
                                  int iovcnt, const struct iovec *virt_iov,
                                  int virt_iovcnt)
{
    SelfvirtLocalSeg *ls = opaque;
    SelfvirtFrame *fr = selfvirt_frame_from_iov(iov, iovcnt, ls->src_vif);
    uint32_t hdr_len = net_tx_pkt_get_vhdr(ls->pkt)->hdr_len;

    fr->csum_ok = true;     /* net_tx_pkt filled the checksums in */
    if (ls->mss && fr->len > hdr_len + ls->mss) {
        /* still several segments: the host may cut it again (GSO) */
        fr->tx_flags = SELFVIRT_TX_TSO;
        fr->mss = ls->mss;
    }
    /* pending queues hold frames, not bytes: a burst of segments may pass */
    selfvirt_fifo_append(&ls->s->vif[ls->dst_vif].pending, fr);
}

static bool selfvirt_tx_desc_ok(SelfvirtState *s, SelfvirtVif *vif,
                                struct selfvirt_tx_desc *d)
{
    uint32_t data_size = s->part_size - SELFVIRT_SQ_DATA_OFF(vif->tx_entries);
    uint32_t buf = le32_to_cpu(d->buf), len = le32_to_cpu(d->len);
    uint16_t flags = le16_to_cpu(d->flags), mss = le16_to_cpu(d->mss);
    uint32_t max = (flags & SELFVIRT_TX_TSO) ? SELFVIRT_TSO_MAX_FRAME
                                             : s->max_frame;

    return len >= ETH_HLEN && len <= max && buf <= data_size &&
           len <= data_size - buf && !(flags & ~SELFVIRT_TX_FLAGS) &&
           (!(flags & SELFVIRT_TX_TSO) ||
            (mss >= SELFVIRT_TSO_MSS_MIN && mss <= SELFVIRT_TSO_MSS_MAX));
}

/* Why a frame could not be sent now. */
enum { EGRESS_SENT, EGRESS_RETRY, EGRESS_BAD, EGRESS_REFUSED };

/* TSO needs a TCP segment: on anything else it would bypass max-frame. */
static bool selfvirt_frame_is_tcp(SelfvirtFrame *fr)
{
    struct iovec iov = { .iov_base = fr->data, .iov_len = fr->len };
    size_t l3_off, l4_off, l5_off;
    eth_ip6_hdr_info ip6;
    eth_ip4_hdr_info ip4;
    eth_l4_hdr_info l4;
    bool has_ip4, has_ip6;

    eth_get_protocols(&iov, 1, 0, &has_ip4, &has_ip6, &l3_off, &l4_off,
                      &l5_off, &ip6, &ip4, &l4);
    return l4.proto == ETH_L4_HDR_PROTO_TCP;
}

/* Checks on the frame itself, on the board's copy the guest cannot change. */
static int selfvirt_egress_check(SelfvirtState *s, unsigned v,
                                 SelfvirtFrame *fr)
{
    SelfvirtVif *vif = &s->vif[v];

    if (vif->spoof_check && s->mode == SELFVIRT_MODE_SELF_VIRT &&
        memcmp(fr->data + ETH_ALEN, vif->mac, ETH_ALEN)) {
        trace_selfvirt_tx_spoofed(v);
        selfvirt_stat_inc(s, SELFVIRT_STAT_TX_SPOOFED);
        return EGRESS_REFUSED;
    }
    if ((fr->tx_flags & SELFVIRT_TX_TSO) &&
        (is_multicast_ether_addr(fr->data) || !selfvirt_frame_is_tcp(fr))) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %u: TSO on a frame "
                      "that is not unicast TCP (%u bytes), dropped\n", v,
                      fr->len);
        return EGRESS_BAD;
    }
    return EGRESS_SENT;
}

/*
 * A TSO frame too large for its local destination @dst is cut here, into
 * as many whole MSS as the destination takes: between two VIFs a segment
 * need not be cut at every MSS.
 */
static int selfvirt_egress_local_tso(SelfvirtEngine *e, unsigned v,
                                     unsigned dst, SelfvirtFrame *fr)
{
    SelfvirtState *s = e->s;
    uint32_t capacity = selfvirt_vif_rx_capacity(&s->vif[dst]);
    SelfvirtLocalSeg ls = {
        .s = s, .pkt = e->tx_pkt, .src_vif = v, .dst_vif = dst,
    };
    bool ok;

    switch (selfvirt_switch_room(s, dst, e)) {
    case SELFVIRT_ROOM:
        break;
    case SELFVIRT_ROOM_WAIT:
        g_free(fr);
        return EGRESS_RETRY;
    case SELFVIRT_ROOM_NONE:
        selfvirt_switch_drop(s, dst, fr->len);
        g_free(fr);
        return EGRESS_SENT;
    }
    fr->tx_flags |= SELFVIRT_TX_CSUM;
    if ((fr->tx_flags & SELFVIRT_TX_TSO) && fr->mss &&
        capacity > SELFVIRT_LOCAL_HDR_MAX + fr->mss) {
        ls.mss = fr->mss;
        fr->mss *= MIN((capacity - SELFVIRT_LOCAL_HDR_MAX) / fr->mss,
                       UINT16_MAX / fr->mss);
    }
    trace_selfvirt_tso_local(v, dst, fr->len, fr->mss);
    ok = selfvirt_offload(e, fr, selfvirt_local_seg_cb, &ls);
    g_free(fr);
    if (!ok) {
        return EGRESS_BAD;
    }
    selfvirt_stat_inc(s, SELFVIRT_STAT_SWITCH_LOCAL);
    selfvirt_engine_kick(selfvirt_engine_of_role(s, SELFVIRT_ME_INGRESS));
    return EGRESS_SENT;
}

/*
 * A first look at the frame's destination, before it is copied: a frame
 * waits for room in the port's queue or for the board's ingress to drain
 * its VIF's queue, both of which pass without any guest.
 */
static bool selfvirt_egress_must_wait(SelfvirtEngine *e, unsigned v,
                                      const uint8_t *data)
{
    SelfvirtState *s = e->s;
    int dst;

    if (selfvirt_switch_to_wire(s, data)) {
        return selfvirt_fifo_full(&s->wire_out);
    }
    dst = selfvirt_switch_lookup(s, data);
    return dst != (int)v &&
           selfvirt_switch_room(s, dst, e) == SELFVIRT_ROOM_WAIT;
}

static int selfvirt_egress_frame(SelfvirtEngine *e, unsigned v,
                                 const struct selfvirt_tx_desc *d)
{
    SelfvirtState *s = e->s;
    SelfvirtVif *vif = &s->vif[v];
    uint32_t len = le32_to_cpu(d->len);
    const uint8_t *data = selfvirt_part(s, v) +
                          SELFVIRT_SQ_DATA_OFF(vif->tx_entries) +
                          le32_to_cpu(d->buf);
    SelfvirtFrame *fr;
    int dst, r;

    if (selfvirt_egress_must_wait(e, v, data)) {
        return EGRESS_RETRY;
    }
    fr = selfvirt_frame_new(data, len);
    fr->tx_flags = le16_to_cpu(d->flags);
    fr->mss = le16_to_cpu(d->mss);
    fr->src_vif = v;
    r = selfvirt_egress_check(s, v, fr);
    if (r != EGRESS_SENT) {
        g_free(fr);
        return r;
    }
    dst = is_multicast_ether_addr(fr->data) ? -1
          : selfvirt_switch_lookup(s, fr->data);
    if (dst >= 0 && dst != (int)v &&
        len > selfvirt_vif_rx_capacity(&s->vif[dst])) {
        return selfvirt_egress_local_tso(e, v, dst, fr);
    }
    switch (selfvirt_switch_forward(s, fr, e)) {
    case SELFVIRT_FWD_BUSY:
        g_free(fr);
        return EGRESS_RETRY;
    case SELFVIRT_FWD_WIRE:
        if (!selfvirt_fifo_push(&s->wire_out, fr)) {
            /* the guest changed the frame after the first look: its loss */
            g_free(fr);
            return EGRESS_REFUSED;
        }
        selfvirt_engine_kick(selfvirt_engine_of_role(s, SELFVIRT_ME_WIRE_TX));
        break;
    case SELFVIRT_FWD_DONE:
        break;
    }
    return EGRESS_SENT;
}

/* Egress context work for VIF @v; true if it made progress. */
static bool selfvirt_egress_vif(SelfvirtEngine *e, unsigned v,
                                int64_t *wait_ns)
{
    SelfvirtState *s = e->s;
    SelfvirtVif *vif = &s->vif[v];
    struct selfvirt_sq_ctrl *ctrl = (void *)selfvirt_part(s, v);
    uint32_t weight = qatomic_read(&vif->weight);
    unsigned done = 0;

    if (!vif->active || vif->stopped) {
        return false;
    }
    while (done < weight) {
        uint32_t prod = le32_to_cpu(qatomic_read(&ctrl->tx_prod));
        struct selfvirt_tx_desc d;
        int r;

        if (prod == vif->tx_cons) {
            break;
        }
        if (prod - vif->tx_cons > vif->tx_entries) {
            qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %u: tx_prod %u is "
                          "more than %u ahead of %u: VIF stopped\n", v, prod,
                          vif->tx_entries, vif->tx_cons);
            goto bad;
        }
        smp_rmb();     /* the descriptor was written before tx_prod */
        memcpy(&d, selfvirt_part(s, v) +
               SELFVIRT_SQ_DESC(vif->tx_cons & (vif->tx_entries - 1)),
               sizeof(d));
        if (!selfvirt_tx_desc_ok(s, vif, &d)) {
            qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %u: malformed send "
                          "descriptor %u (buf %u len %u flags 0x%x mss %u): "
                          "VIF stopped\n", v, vif->tx_cons, le32_to_cpu(d.buf),
                          le32_to_cpu(d.len), le16_to_cpu(d.flags),
                          le16_to_cpu(d.mss));
            goto bad;
        }
        if (!selfvirt_rate_check(&vif->rate,
                                 qemu_clock_get_ns(QEMU_CLOCK_REALTIME),
                                 le32_to_cpu(d.len), wait_ns)) {
            break;
        }
        r = selfvirt_egress_frame(e, v, &d);
        if (r == EGRESS_RETRY) {
            break;
        }
        selfvirt_rate_charge(&vif->rate, le32_to_cpu(d.len));
        if (r == EGRESS_BAD) {
            selfvirt_stat_inc(s, SELFVIRT_STAT_BAD_DESC);
        }
        if (r != EGRESS_SENT) {
            qatomic_inc(&vif->stats[SELFVIRT_VSTAT_TX_ERRORS]);
        } else {
            qatomic_inc(&vif->stats[SELFVIRT_VSTAT_TX_FRAMES]);
            qatomic_add(&vif->stats[SELFVIRT_VSTAT_TX_BYTES],
                        le32_to_cpu(d.len));
        }
        trace_selfvirt_tx_frame(v, le32_to_cpu(d.len), vif->tx_cons);
        vif->tx_cons++;
        done++;
    }
    if (done) {
        selfvirt_vif_publish(s, vif, false, true);
        smp_mb();     /* publish tx_cons, then read the driver's enables */
        if ((qatomic_read(&vif->signals) &
             le32_to_cpu(qatomic_read(&ctrl->signal_enable)) &
             SELFVIRT_SIGNAL_TX)) {
            selfvirt_irq_signal(s, v, SELFVIRT_SIGNAL_TX);
        }
    }
    return done > 0;

bad:
    trace_selfvirt_vif_stopped(v, vif->tx_cons);
    vif->stopped = true;
    qatomic_inc(&vif->stats[SELFVIRT_VSTAT_TX_ERRORS]);
    selfvirt_stat_inc(s, SELFVIRT_STAT_BAD_DESC);
    return false;
}

static bool selfvirt_ctx_egress(SelfvirtEngine *e, unsigned ctx,
                                int64_t *wait_ns)
{
    SelfvirtState *s = e->s;
    unsigned global = e->egress_base + ctx;
    bool work = false;

    for (unsigned v = 0; v < s->num_vifs; v++) {
        if (s->vif[v].active && s->vif[v].egress_ctx == global) {
            work |= selfvirt_egress_vif(e, v, wait_ns);
        }
    }
    return work;
}

/* Before sleeping: tell the driver of every VIF this engine serves. */
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

/* ---- the engine loop ---- */

static bool selfvirt_engine_run_contexts(SelfvirtEngine *e, int64_t *wait_ns)
{
    bool work = false;

    switch (e->role) {
    case SELFVIRT_ME_WIRE_RX:
        return selfvirt_ctx_wire_rx(e);
    case SELFVIRT_ME_WIRE_TX:
        return selfvirt_ctx_wire_tx(e);
    case SELFVIRT_ME_INGRESS:
        for (unsigned c = 0; c < e->s->num_contexts; c++) {
            work |= selfvirt_ctx_ingress(e, c);
        }
        return work;
    case SELFVIRT_ME_EGRESS:
        for (unsigned c = 0; c < e->s->num_contexts; c++) {
            work |= selfvirt_ctx_egress(e, c, wait_ns);
        }
        return work;
    }
    return false;
}

static void *selfvirt_engine_thread(void *opaque)
{
    SelfvirtEngine *e = opaque;
    SelfvirtState *s = e->s;
    int64_t last_work = get_clock();

    rcu_register_thread();
    while (!qatomic_read(&s->engines_stop)) {
        int64_t wait_ns = INT64_MAX;

        selfvirt_engine_check_pause(s);
        qatomic_set(&e->kicked, false);
        if (selfvirt_engine_run_contexts(e, &wait_ns)) {
            last_work = get_clock();
            continue;
        }
        /* only egress polls (the paper's send-queue polling), and briefly */
        if (e->role == SELFVIRT_ME_EGRESS && wait_ns == INT64_MAX &&
            get_clock() - last_work < s->poll_us * 1000ll) {
            sched_yield();
            continue;
        }
        /* going to sleep: announce it, then look once more */
        if (e->role == SELFVIRT_ME_EGRESS) {
            selfvirt_egress_set_asleep(e, true);
            smp_mb();     /* ASLEEP visible before tx_prod is read again */
            if (selfvirt_engine_run_contexts(e, &wait_ns)) {
                selfvirt_egress_set_asleep(e, false);
                continue;
            }
        }
        trace_selfvirt_engine_sleep(e - s->engine, wait_ns);
        qemu_mutex_lock(&e->lock);
        e->asleep = true;
        while (!e->kicked && !qatomic_read(&s->engines_stop) &&
               !qatomic_read(&s->pause_req)) {
            if (wait_ns != INT64_MAX) {
                qemu_cond_timedwait(&e->cond, &e->lock,
                                    MAX(1, wait_ns / SCALE_MS));
                break;
            }
            qemu_cond_wait(&e->cond, &e->lock);
        }
        e->asleep = false;
        qemu_mutex_unlock(&e->lock);
        trace_selfvirt_engine_wake(e - s->engine);
        if (e->role == SELFVIRT_ME_EGRESS &&
            !qatomic_read(&s->pause_req)) {
            selfvirt_egress_set_asleep(e, false);
        }
        last_work = get_clock();
    }
    rcu_unregister_thread();
    return NULL;
}

/*
 * x-engines-inline, for the fuzzer: no threads; a kick runs every engine's
 * contexts on the caller's thread, with the BQL, until none has work, so
 * that an input always does the same.  Bounded: no input can hang it.
 */
static void selfvirt_engines_run_inline(SelfvirtState *s)
{
    bool work = true;

    assert(bql_locked());
    if (s->inline_running) {
        return;     /* a context kicked another: the loop goes round again */
    }
    s->inline_running = true;
    for (unsigned round = 0; work && round < 1000; round++) {
        work = false;
        for (unsigned i = 0; i < s->num_engines; i++) {
            int64_t wait_ns = INT64_MAX;

            work |= selfvirt_engine_run_contexts(&s->engine[i], &wait_ns);
        }
    }
    for (unsigned i = SELFVIRT_ME_EGRESS; i < s->num_engines; i++) {
        selfvirt_egress_set_asleep(&s->engine[i], true);  /* doorbells */
    }
    s->inline_running = false;
}

void selfvirt_engines_start(SelfvirtState *s)
{
    static const char *const names[] = { "wire-rx", "wire-tx", "ingress" };

    s->engines_stop = false;
    s->num_egress_ctx = (s->num_engines - SELFVIRT_ME_EGRESS) * s->num_contexts;
    for (unsigned i = 0; i < s->num_engines; i++) {
        SelfvirtEngine *e = &s->engine[i];
        g_autofree char *name = g_strdup_printf("selfvirt-me%u-%s", i,
            i < SELFVIRT_ME_EGRESS ? names[i] : "egress");

        e->s = s;
        e->role = MIN(i, SELFVIRT_ME_EGRESS);
        e->egress_base = i >= SELFVIRT_ME_EGRESS
                         ? (i - SELFVIRT_ME_EGRESS) * s->num_contexts : 0;
        e->kicked = false;
        e->asleep = false;
        qemu_mutex_init(&e->lock);
        qemu_cond_init(&e->cond);
        net_tx_pkt_init(&e->tx_pkt, 2);
        net_rx_pkt_init(&e->rx_pkt);
        if (!s->engines_inline) {
            qemu_thread_create(&e->thread, name, selfvirt_engine_thread, e,
                               QEMU_THREAD_JOINABLE);
        }
    }
    s->engines_running = !s->engines_inline;
}

void selfvirt_engines_stop(SelfvirtState *s)
{
    if (s->engines_running) {
        qatomic_set(&s->engines_stop, true);
        qemu_mutex_lock(&s->pause_lock);
        qemu_cond_broadcast(&s->pause_cond);
        qemu_mutex_unlock(&s->pause_lock);
        selfvirt_kick_all(s);
    }
    for (unsigned i = 0; i < s->num_engines; i++) {
        SelfvirtEngine *e = &s->engine[i];

        if (s->engines_running) {
            qemu_thread_join(&e->thread);
        }
        net_tx_pkt_uninit(e->tx_pkt);
        net_rx_pkt_uninit(e->rx_pkt);
        qemu_cond_destroy(&e->cond);
        qemu_mutex_destroy(&e->lock);
    }
    s->engines_running = false;
}
