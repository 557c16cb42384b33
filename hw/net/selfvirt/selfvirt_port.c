/*
 * selfvirt: the physical port and its two micro-engines
 *
 * The IXP2400's gigabit MAC is QEMU's netdev here.  As in the paper, one
 * micro-engine receives from the port (and classifies: checksum, then the
 * switch) and one transmits to it (checksum and segmentation offloads).
 * The net layer wants the BQL, which engines never take: frames from the
 * netdev arrive on the main loop and queue for the wire-rx engine, and
 * frames for the netdev queue for a bottom half.
 *
 *   netdev receive (BQL) -> in -> wire-rx engine -> switch -> ingress
 *   egress -> out -> wire-tx engine (offloads) -> send -> tx BH (BQL)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "hw/net/net_rx_pkt.h"
#include "standard-headers/linux/virtio_net.h"
#include "qemu/timer.h"
#include "selfvirt.h"
#include "selfvirt_vnet_hdr.h"
#include "trace.h"

/* ---- receive: the netdev, then the wire-rx engine ---- */

/*
 * With the BQL: the port's queue was full, so the net layer holds its
 * frames until the wire-rx engine has made room and flushes.  Flag it,
 * then look again: an engine that drained the queue in between read the
 * flag before it was set.
 */
static void selfvirt_port_block_rx(SelfvirtState *s)
{
    qatomic_set(&s->port.in_blocked, true);
    smp_mb();     /* the flag, then the queue: pairs with rx_context's */
    if (!selfvirt_fifo_full(&s->port.in)) {
        qemu_bh_schedule(s->port.rx_flush_bh);
    }
}

static bool selfvirt_port_can_receive(NetClientState *nc)
{
    SelfvirtState *s = qemu_get_nic_opaque(nc);

    if (!selfvirt_fifo_full(&s->port.in)) {
        return true;
    }
    selfvirt_port_block_rx(s);
    return false;
}

/*
 * With the BQL: the virtio-net header in front of a frame from the peer,
 * read into the board's offloads @tx_flags and @mss and taken off @buf and
 * @size.  False: a header the port does not take, counted.
 */
static bool selfvirt_port_vnet_strip(SelfvirtState *s, const uint8_t **buf,
                                     size_t *size, uint16_t *tx_flags,
                                     uint16_t *mss)
{
    struct virtio_net_hdr h;

    if (*size < sizeof(h)) {
        selfvirt_stat_inc(s, SELFVIRT_STAT_WIRE_RX_BAD_HDR);
        return false;
    }
    memcpy(&h, *buf, sizeof(h));     /* host order, as net_tx_pkt's */
    *buf += sizeof(h);
    *size -= sizeof(h);
    if (!selfvirt_vnet_hdr_offloads(h.flags, h.gso_type, h.gso_size,
                                    tx_flags, mss)) {
        qemu_log_mask(LOG_UNIMP, "selfvirt: a frame from the peer with GSO "
                      "type %u size %u, dropped\n", h.gso_type, h.gso_size);
        selfvirt_stat_inc(s, SELFVIRT_STAT_WIRE_RX_BAD_HDR);
        return false;
    }
    return true;
}

/* With the BQL: hand the frame to the wire-rx engine. */
static ssize_t selfvirt_port_receive(NetClientState *nc, const uint8_t *buf,
                                     size_t len)
{
    SelfvirtState *s = qemu_get_nic_opaque(nc);
    uint16_t tx_flags = 0, mss = 0;
    size_t size = len;
    SelfvirtFrame *fr;

    assert(bql_locked());
    if (s->port.has_vnet &&
        !selfvirt_port_vnet_strip(s, &buf, &size, &tx_flags, &mss)) {
        return len;
    }
    trace_selfvirt_wire_rx(size, mss);
    if (size < ETH_HLEN ||
        size > (mss ? SELFVIRT_GSO_FRAME_MAX : s->port.max_frame)) {
        return len;   /* runts and giants are dropped by the MAC */
    }
    fr = selfvirt_frame_new(buf, size);
    fr->tx_flags = tx_flags;
    fr->mss = mss;
    if (!selfvirt_fifo_push(&s->port.in, fr)) {
        selfvirt_frame_free(fr);
        selfvirt_port_block_rx(s);
        return 0;     /* the net layer queues it and waits for a flush */
    }
    selfvirt_stat_inc(s, SELFVIRT_STAT_WIRE_RX_FRAMES);
    if (mss) {
        selfvirt_stat_inc(s, SELFVIRT_STAT_WIRE_RX_GSO);
    }
    selfvirt_engine_kick_role(s, SELFVIRT_ME_WIRE_RX);
    selfvirt_engines_run_inline(s);
    return len;
}

static NetClientInfo selfvirt_port_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = selfvirt_port_can_receive,
    .receive = selfvirt_port_receive,
};

/* With the BQL: the wire-rx engine made room, take what the net layer has. */
static void selfvirt_port_rx_flush_bh(void *opaque)
{
    SelfvirtState *s = opaque;

    if (qatomic_xchg(&s->port.in_blocked, false)) {
        qemu_flush_queued_packets(qemu_get_queue(s->port.nic));
    }
}

/*
 * Checksum-verified receive (the paper's future work): a TCP or UDP frame
 * whose checksum checks out is marked, so the host need not check it.  A
 * verified TCP frame keeps its header offsets for receive coalescing.
 */
static void selfvirt_port_rx_csum(SelfvirtEngine *e, SelfvirtFrame *fr)
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

/*
 * A frame whose peer left offloads to the board (a virtio-net header):
 * a GSO frame must be TCP, which its VIF's host and the board's cutting
 * rely on.  False: it is not, and is dropped.
 */
static bool selfvirt_port_rx_offloaded(SelfvirtEngine *e, SelfvirtFrame *fr)
{
    struct iovec iov = { .iov_base = fr->data, .iov_len = fr->len };
    bool ip4, ip6;
    EthL4HdrProto l4;

    if (!(fr->tx_flags & SELFVIRT_TX_TSO)) {
        return true;
    }
    net_rx_pkt_set_protocols(e->rx_pkt, &iov, 1, 0);
    net_rx_pkt_get_protocols(e->rx_pkt, &ip4, &ip6, &l4);
    return (ip4 || ip6) && l4 == ETH_L4_HDR_PROTO_TCP;
}

/* The wire-rx engine's first look at a frame; false: it was dropped. */
static bool selfvirt_port_rx_check(SelfvirtEngine *e, SelfvirtFrame *fr)
{
    if (!fr->tx_flags) {
        if (!fr->csum_ok) {     /* not yet looked at (put back otherwise) */
            selfvirt_port_rx_csum(e, fr);
        }
        return true;
    }
    if (selfvirt_port_rx_offloaded(e, fr)) {
        return true;
    }
    selfvirt_stat_inc(e->s, SELFVIRT_STAT_WIRE_RX_BAD_HDR);
    selfvirt_frame_free(fr);
    return false;
}

/* A GSO frame too large for VIF @v's chain: cut; false: wait, still ours. */
static bool selfvirt_port_cut(SelfvirtEngine *e, unsigned v,
                              SelfvirtFrame *fr)
{
    switch (selfvirt_pending_queue_cut(e, v, fr)) {
    case SELFVIRT_CUT_WAIT:
        return false;
    case SELFVIRT_CUT_BAD:
        selfvirt_stat_inc(e->s, SELFVIRT_STAT_WIRE_RX_BAD_HDR);
        break;
    case SELFVIRT_CUT_QUEUED:
    case SELFVIRT_CUT_DROPPED:
        break;
    }
    return true;
}

/* Switch a frame from the wire; false: ingress is behind, it stays ours. */
static bool selfvirt_port_switch(SelfvirtEngine *e, SelfvirtFrame *fr)
{
    SelfvirtState *s = e->s;
    SelfvirtRoute r = selfvirt_switch_route(s, fr->data, -1);

    switch (r.dest) {
    case SELFVIRT_DEST_VIF:
        if ((fr->tx_flags & SELFVIRT_TX_TSO) &&
            fr->len > selfvirt_vif_rx_capacity(&s->vif[r.vif])) {
            return selfvirt_port_cut(e, r.vif, fr);
        }
        return selfvirt_pending_queue(s, r.vif, fr, e);
    case SELFVIRT_DEST_FLOOD:
        selfvirt_outbox_flush(e);  /* in order with the frames before it */
        selfvirt_pending_flood(s, fr);
        break;
    case SELFVIRT_DEST_UNKNOWN:
        selfvirt_stat_inc(s, SELFVIRT_STAT_WIRE_RX_NO_VIF);
        break;
    case SELFVIRT_DEST_WIRE:
    case SELFVIRT_DEST_SOURCE:
        g_assert_not_reached();     /* only frames from a VIF */
    }
    selfvirt_frame_free(fr);
    return true;
}

/* The wire-rx engine's one context. */
static bool selfvirt_port_rx_context(SelfvirtEngine *e, unsigned ctx,
                                     int64_t *wait_ns)
{
    SelfvirtState *s = e->s;
    SelfvirtFrame *fr;
    unsigned n = 0;

    while (n < 32 && e->budget && (fr = selfvirt_fifo_pop(&s->port.in))) {
        int64_t t = selfvirt_stage_clock(e);

        if (selfvirt_port_rx_check(e, fr)) {
            t = selfvirt_stage_add(e, SELFVIRT_STAGE_INGRESS_PKT_RX, t, 1);
            if (!selfvirt_port_switch(e, fr)) {
                /* the board's ingress is behind, not a guest: wait for it */
                selfvirt_fifo_unpop(&s->port.in, fr);
                break;
            }
            selfvirt_stage_add(e, SELFVIRT_STAGE_INGRESS_DEMUX, t, 1);
        }
        e->budget--;
        n++;
    }
    selfvirt_outbox_kick(e);
    if (n) {
        smp_mb();     /* room made, then the flag: see selfvirt_port_block_rx */
        if (qatomic_read(&s->port.in_blocked)) {
            qemu_bh_schedule(s->port.rx_flush_bh);
        }
    }
    return n > 0;
}

/* ---- transmit: the wire-tx engine, then the netdev ---- */

static void selfvirt_port_send_cb(void *opaque, const struct iovec *iov,
                                  int iovcnt, const struct iovec *virt_iov,
                                  int virt_iovcnt)
{
    SelfvirtState *s = opaque;

    if (s->port.has_vnet) {
        iov = virt_iov;         /* the virtio-net header, then the frame */
        iovcnt = virt_iovcnt;
    }
    /* the segments of one frame go whole: the engine checked for room */
    selfvirt_fifo_append(&s->port.send,
                         selfvirt_frame_from_iov(iov, iovcnt, -1));
}

/* A frame with no offloads to do. */
static void selfvirt_port_send_plain(SelfvirtState *s, SelfvirtFrame *fr)
{
    struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
    struct iovec iov[2] = {
        { .iov_base = &h, .iov_len = sizeof(h) },
        { .iov_base = fr->data, .iov_len = fr->len },
    };

    selfvirt_port_send_cb(s, &iov[1], 1, iov, 2);
}

/*
 * A frame with offloads: the board does them, or with a virtio-net header
 * the peer does (a TSO frame goes whole, as igb's and e1000e's do).
 */
static void selfvirt_port_send_offloaded(SelfvirtEngine *e, SelfvirtFrame *fr)
{
    SelfvirtState *s = e->s;

    if (!selfvirt_frame_offload(e->tx_pkt, fr, s->port.has_vnet,
                                selfvirt_port_send_cb, s)) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %d: offload requested "
                      "on a frame it cannot parse\n", fr->src_vif);
        selfvirt_stat_inc(s, SELFVIRT_STAT_BAD_DESC);
    } else if (s->port.has_vnet && (fr->tx_flags & SELFVIRT_TX_TSO)) {
        selfvirt_stat_inc(s, SELFVIRT_STAT_WIRE_TX_GSO);
    }
}

static void selfvirt_port_tx_bh(void *opaque);

/*
 * The frames in send go to the netdev: right away on a thread that may
 * (selfvirt_engines_finish_here, and not from inside the tx BH), else
 * from the tx BH.
 */
static void selfvirt_port_flush(SelfvirtState *s)
{
    if (selfvirt_engines_finish_here(s) && !s->port.tx_running) {
        selfvirt_port_tx_bh(s);
    } else {
        qemu_bh_schedule(s->port.tx_bh);
    }
}

/* The wire-tx engine's one context. */
static bool selfvirt_port_tx_context(SelfvirtEngine *e, unsigned ctx,
                                     int64_t *wait_ns)
{
    SelfvirtState *s = e->s;
    int64_t start = selfvirt_stage_clock(e);
    SelfvirtFrame *fr;
    unsigned n = 0;

    /* the tx BH drains send and kicks us when it has */
    while (n < 32 && e->budget && !selfvirt_fifo_full(&s->port.send) &&
           (fr = selfvirt_fifo_pop(&s->port.out))) {
        if (fr->tx_flags) {
            selfvirt_port_send_offloaded(e, fr);
        } else {
            selfvirt_port_send_plain(s, fr);
        }
        selfvirt_frame_free(fr);
        e->budget--;
        n++;
    }
    selfvirt_stage_add(e, SELFVIRT_STAGE_WIRE_TX, start, n);
    if (n) {
        selfvirt_port_flush(s);
        selfvirt_engines_wake_waiters(s, &s->port.room_waiters);
    }
    return n > 0;
}

/* With the BQL: the net layer sent the frame it had queued for us. */
static void selfvirt_port_sent(NetClientState *nc, ssize_t len)
{
    SelfvirtState *s = qemu_get_nic_opaque(nc);

    s->port.tx_queued = false;
    timer_del(s->port.tx_peer_timer);
    qemu_bh_schedule(s->port.tx_bh);
}

#define SELFVIRT_PEER_CHECK_NS  (100 * SCALE_MS)

/*
 * With the BQL: forget the frame of ours that the net layer holds, if any.
 * Purging runs selfvirt_port_sent(); a frame whose peer is gone is gone.
 */
static void selfvirt_port_drop_queued(SelfvirtState *s)
{
    qemu_purge_queued_packets(qemu_get_queue(s->port.nic));
    if (s->port.tx_queued) {
        selfvirt_port_sent(qemu_get_queue(s->port.nic), 0);
    }
}

/*
 * With the BQL: a frame of ours still waits in the net layer.  A peer that
 * went away (a stream whose other end closed, a netdev_del, which takes
 * our link down) will never take it: drop it rather than hold the port,
 * and every VIF's frames behind it, for ever.
 */
static void selfvirt_port_peer_check(void *opaque)
{
    SelfvirtState *s = opaque;
    NetClientState *nc = qemu_get_queue(s->port.nic);

    if (!s->port.tx_queued) {
        return;
    }
    if (nc->link_down || !nc->peer || nc->peer->link_down) {
        selfvirt_port_drop_queued(s);
        return;
    }
    timer_mod(s->port.tx_peer_timer,
              qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + SELFVIRT_PEER_CHECK_NS);
}

/*
 * With the BQL: the frames go out through the netdev.  A peer that takes
 * no more makes the net layer queue the frame; the rest wait on the board
 * (and so do the VIFs' send queues) until it is sent: never more than one
 * of ours in the net layer's queue, which drops past its limit.
 */
static void selfvirt_port_tx_bh(void *opaque)
{
    SelfvirtState *s = opaque;
    NetClientState *nc = qemu_get_queue(s->port.nic);
    SelfvirtFrame *fr;

    assert(bql_locked());
    s->port.tx_running = true;
    while (!s->port.tx_queued && (fr = selfvirt_fifo_pop(&s->port.send))) {
        if (!nc->link_down) {
            trace_selfvirt_wire_tx(fr->len);
            if (!qemu_send_packet_async(nc, fr->data, fr->len,
                                        selfvirt_port_sent)) {
                s->port.tx_queued = true;
                timer_mod(s->port.tx_peer_timer,
                          qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                          SELFVIRT_PEER_CHECK_NS);
            }
            selfvirt_stat_inc(s, SELFVIRT_STAT_WIRE_TX_FRAMES);
        }
        selfvirt_frame_free(fr);
    }
    if (!selfvirt_fifo_empty(&s->port.out)) {
        selfvirt_engine_kick_role(s, SELFVIRT_ME_WIRE_TX);
        selfvirt_engines_run_inline(s);
    }
    s->port.tx_running = false;
}

/* ---- the port's life ---- */

static const SelfvirtRoleOps selfvirt_wire_rx_ops = {
    .name = "wire-rx",
    .run = selfvirt_port_rx_context,
};

static const SelfvirtRoleOps selfvirt_wire_tx_ops = {
    .name = "wire-tx",
    .run = selfvirt_port_tx_context,
};

/*
 * A peer that takes virtio-net headers (tap) is given TSO frames whole and
 * gives GSO frames whole, as to igb and e1000e: fewer, larger frames cross
 * the host.  Any other peer (a stream, a socket) gets frames the board cut.
 */
static void selfvirt_port_vnet_init(SelfvirtState *s)
{
    NetClientState *peer = qemu_get_queue(s->port.nic)->peer;

    s->port.has_vnet = !s->port.disable_vnet_hdr && peer &&
                       qemu_has_vnet_hdr(peer);
    if (s->port.has_vnet) {
        qemu_set_vnet_hdr_len(peer, sizeof(struct virtio_net_hdr));
        /* checksums and TCP: what the board can hand to a VIF */
        qemu_set_offload(peer, 1, 1, 1, 0, 0, 0, 0);
    }
}

void selfvirt_port_init(SelfvirtState *s)
{
    SelfvirtPort *port = &s->port;
    DeviceState *dev = DEVICE(s);

    qemu_macaddr_default_if_unset(&port->conf.macaddr);
    port->nic = qemu_new_nic(&selfvirt_port_info, &port->conf,
                             object_get_typename(OBJECT(s)), dev->id,
                             &dev->mem_reentrancy_guard, s);
    qemu_format_nic_info_str(qemu_get_queue(port->nic), port->conf.macaddr.a);
    selfvirt_port_vnet_init(s);
    selfvirt_fifo_init(&port->in, SELFVIRT_WIRE_FIFO_MAX, UINT32_MAX);
    selfvirt_fifo_init(&port->out, SELFVIRT_WIRE_FIFO_MAX, UINT32_MAX);
    selfvirt_fifo_init(&port->send, SELFVIRT_WIRE_SEND_MAX, UINT32_MAX);
    port->tx_bh = qemu_bh_new_guarded(selfvirt_port_tx_bh, s,
                                      &dev->mem_reentrancy_guard);
    port->rx_flush_bh = qemu_bh_new_guarded(selfvirt_port_rx_flush_bh, s,
                                            &dev->mem_reentrancy_guard);
    port->tx_peer_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL,
                                       selfvirt_port_peer_check, s);
    selfvirt_engines_set_role(s, SELFVIRT_ME_WIRE_RX, &selfvirt_wire_rx_ops);
    selfvirt_engines_set_role(s, SELFVIRT_ME_WIRE_TX, &selfvirt_wire_tx_ops);
}

/* After the engines have stopped. */
void selfvirt_port_fini(SelfvirtState *s)
{
    SelfvirtPort *port = &s->port;

    /* as virtio-net: the net layer must not call us back once we are gone */
    selfvirt_port_drop_queued(s);
    timer_free(port->tx_peer_timer);
    qemu_del_nic(port->nic);
    qemu_bh_delete(port->tx_bh);
    qemu_bh_delete(port->rx_flush_bh);
    selfvirt_fifo_destroy(&port->in);
    selfvirt_fifo_destroy(&port->out);
    selfvirt_fifo_destroy(&port->send);
}

/* No frame inside the port; with the engines parked. */
void selfvirt_port_reset(SelfvirtState *s)
{
    assert(selfvirt_engines_parked(s));
    selfvirt_fifo_flush(&s->port.in);
    selfvirt_fifo_flush(&s->port.out);
    selfvirt_fifo_flush(&s->port.send);
    selfvirt_port_drop_queued(s);
    if (qatomic_read(&s->port.in_blocked)) {
        qemu_bh_schedule(s->port.rx_flush_bh);   /* the net layer's turn */
    }
}
