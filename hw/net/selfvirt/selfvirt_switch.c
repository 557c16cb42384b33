/*
 * selfvirt: the on-board layer-2 switch and the VIF receive queues
 *
 * The paper's micro-engines implement a software Ethernet switch: unicast
 * frames go to the VIF that owns the destination MAC (found by hashing on
 * the board), broadcast and multicast to every VIF and the wire, and
 * VIF-to-VIF traffic never touches the wire.  Frames switched to a VIF wait
 * in its pending queue until an ingress context copies them into the VIF's
 * receive queue in host memory, through the VIF's windows only.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "net/eth.h"
#include "selfvirt.h"
#include "trace.h"

/*
 * The board's MAC table: as on the NP, a frame's VIF is found by hashing
 * its destination MAC.  Open addressing over twice as many slots as VIFs,
 * so a probe ends at an empty slot soon.
 */
static unsigned selfvirt_mac_hash(const uint8_t *mac)
{
    uint32_t h = (ldl_le_p(mac + 2) ^ lduw_le_p(mac)) * 0x9e3779b1u;

    return h >> (32 - ctz32(SELFVIRT_MAC_SLOTS));
}

/* Management changed a VIF or its MAC; with the engines paused. */
void selfvirt_switch_rebuild(SelfvirtState *s)
{
    assert(selfvirt_engines_parked(s));
    memset(s->mac_table, -1, sizeof(s->mac_table));
    for (unsigned v = 0; v < s->num_vifs; v++) {
        unsigned h;

        if (!s->vif[v].active) {
            continue;
        }
        for (h = selfvirt_mac_hash(s->vif[v].mac); s->mac_table[h] >= 0;
             h = (h + 1) % SELFVIRT_MAC_SLOTS) {
            /* linear probing */
        }
        s->mac_table[h] = v;
    }
}

/* The VIF owning unicast MAC @dst, or -1. */
int selfvirt_switch_lookup(SelfvirtState *s, const uint8_t *dst)
{
    int v;

    if (s->mode == SELFVIRT_MODE_NIC) {
        return s->vif[0].active &&
               (s->promisc || !memcmp(dst, s->vif[0].mac, ETH_ALEN)) ? 0 : -1;
    }
    for (unsigned h = selfvirt_mac_hash(dst); (v = s->mac_table[h]) >= 0;
         h = (h + 1) % SELFVIRT_MAC_SLOTS) {
        if (!memcmp(dst, s->vif[v].mac, ETH_ALEN)) {
            return v;
        }
    }
    return -1;
}

/* A VIF whose guest stopped taking frames: its ring is full. */
static bool selfvirt_vif_rx_blocked(SelfvirtVif *vif)
{
    return qatomic_read(&vif->rq_flags) & SELFVIRT_RQ_RX_BLOCKED;
}

/* VIF @v could not take a frame of @len bytes: its loss, counted. */
void selfvirt_switch_drop(SelfvirtState *s, unsigned v, uint32_t len)
{
    trace_selfvirt_rx_drop(v, len, 0);
    qatomic_inc(&s->vif[v].stats[SELFVIRT_VSTAT_RX_DROPS]);
}

static void selfvirt_rx_drop(SelfvirtState *s, unsigned v, SelfvirtFrame *fr)
{
    selfvirt_switch_drop(s, v, fr->len);
    g_free(fr);
}

/* Ingress made room in a pending queue: wake the engines that wait for it. */
void selfvirt_switch_wake_waiters(SelfvirtState *s)
{
    uint32_t waiters = qatomic_xchg(&s->pending_waiters, 0);

    while (waiters) {
        selfvirt_engine_kick(&s->engine[ctz32(waiters)]);
        waiters &= waiters - 1;
    }
}

/*
 * Is there room for a frame to VIF @v?  A full pending queue while the
 * VIF's ring has room is the board's own ingress falling behind, which
 * passes: engine @e is woken when it has drained (SELFVIRT_ROOM_WAIT).  A
 * VIF whose guest stopped taking frames (RX_BLOCKED) has none: nobody
 * waits for a guest.
 */
SelfvirtRoom selfvirt_switch_room(SelfvirtState *s, unsigned v,
                                  SelfvirtEngine *e)
{
    SelfvirtFifo *pending = &s->vif[v].pending;

    if (!selfvirt_fifo_full(pending)) {
        return SELFVIRT_ROOM;
    }
    if (selfvirt_vif_rx_blocked(&s->vif[v])) {
        return SELFVIRT_ROOM_NONE;
    }
    qatomic_or(&s->pending_waiters, 1u << (e - s->engine));
    smp_mb();     /* waiting, then look again: no lost wake-up */
    return selfvirt_fifo_full(pending) ? SELFVIRT_ROOM_WAIT : SELFVIRT_ROOM;
}

/* Queue @fr for VIF @v, or drop it; false: wait, the frame is the caller's. */
static bool selfvirt_pending_push(SelfvirtState *s, unsigned v,
                                  SelfvirtFrame *fr, SelfvirtEngine *e)
{
    while (!selfvirt_fifo_push(&s->vif[v].pending, fr)) {
        switch (selfvirt_switch_room(s, v, e)) {
        case SELFVIRT_ROOM:
            continue;
        case SELFVIRT_ROOM_WAIT:
            return false;
        case SELFVIRT_ROOM_NONE:
            selfvirt_rx_drop(s, v, fr);
            return true;
        }
    }
    selfvirt_engine_kick(selfvirt_engine_of_role(s, SELFVIRT_ME_INGRESS));
    return true;
}

/* Broadcast and multicast: a copy for every other VIF that has room. */
static void selfvirt_switch_flood(SelfvirtState *s, const SelfvirtFrame *fr)
{
    for (unsigned i = 0; i < s->num_vifs; i++) {
        SelfvirtFifo *pending = &s->vif[i].pending;
        SelfvirtFrame *copy;

        if (!s->vif[i].active || (int)i == fr->src_vif) {
            continue;
        }
        if (selfvirt_fifo_full(pending)) {
            /* group frames wait for nobody: no copy for a VIF without room */
            selfvirt_switch_drop(s, i, fr->len);
            continue;
        }
        copy = selfvirt_frame_alloc(fr->len, fr->src_vif);
        memcpy(copy->data, fr->data, fr->len);
        copy->tx_flags = fr->tx_flags;
        copy->mss = fr->mss;
        copy->csum_ok = fr->csum_ok;
        if (!selfvirt_fifo_push(pending, copy)) {
            selfvirt_rx_drop(s, i, copy);
            continue;
        }
        selfvirt_engine_kick(selfvirt_engine_of_role(s, SELFVIRT_ME_INGRESS));
    }
}

/*
 * Switch frame @fr for engine @e.  Frames for VIFs are queued for them,
 * or dropped and counted for a VIF that takes no more; a frame for the
 * wire, or one that must wait for the board's ingress, stays the caller's.
 */
SelfvirtForward selfvirt_switch_forward(SelfvirtState *s, SelfvirtFrame *fr,
                                        SelfvirtEngine *e)
{
    const uint8_t *dst = fr->data;
    bool from_vif = fr->src_vif >= 0;
    int v;

    if (s->mode == SELFVIRT_MODE_NIC && from_vif) {
        /* a plain NIC sends everything from its one queue to the wire */
        return SELFVIRT_FWD_WIRE;
    }
    if (is_multicast_ether_addr(dst)) {
        selfvirt_switch_flood(s, fr);
        if (from_vif) {
            return SELFVIRT_FWD_WIRE;
        }
        g_free(fr);
        return SELFVIRT_FWD_DONE;
    }
    v = selfvirt_switch_lookup(s, dst);
    if (v < 0) {
        if (from_vif) {
            return SELFVIRT_FWD_WIRE;
        }
        selfvirt_stat_inc(s, SELFVIRT_STAT_WIRE_RX_NO_VIF);
        g_free(fr);
        return SELFVIRT_FWD_DONE;
    }
    if (v == fr->src_vif) {
        /* a switch port never reflects a frame back to where it came from */
        g_free(fr);
        return SELFVIRT_FWD_DONE;
    }
    if (!selfvirt_pending_push(s, v, fr, e)) {
        return SELFVIRT_FWD_BUSY;
    }
    if (from_vif) {
        selfvirt_stat_inc(s, SELFVIRT_STAT_SWITCH_LOCAL);
    }
    return SELFVIRT_FWD_DONE;
}

/* Would a frame from a VIF to @dst go to the wire (if only in part)? */
bool selfvirt_switch_to_wire(SelfvirtState *s, const uint8_t *dst)
{
    return s->mode == SELFVIRT_MODE_NIC || is_multicast_ether_addr(dst) ||
           selfvirt_switch_lookup(s, dst) < 0;
}

/* Publish the VIF's receive producer and/or transmit consumer index. */
void selfvirt_vif_publish(SelfvirtState *s, SelfvirtVif *vif, bool rx, bool tx)
{
    struct selfvirt_rq_status st = {
        .rx_prod = cpu_to_le32(vif->rx_prod),
        .tx_cons = cpu_to_le32(vif->tx_cons),
    };

    if (rx && tx) {
        QEMU_LOCK_GUARD(&vif->flags_lock);
        st.flags = cpu_to_le32(vif->rq_flags);
        selfvirt_window_write(s, vif, 0, &st, 12);
    } else if (rx) {
        selfvirt_window_write(s, vif, 0, &st.rx_prod, 4);
    } else if (tx) {
        selfvirt_window_write(s, vif, 4, &st.tx_cons, 4);
    }
}

/*
 * The flags word has two writers, the VIF's egress engine (EGRESS_ASLEEP)
 * and the ingress engine (RX_BLOCKED): a lost update would stall the VIF
 * for good, so the change and its write to host memory are one step.
 */
void selfvirt_vif_set_flags(SelfvirtState *s, SelfvirtVif *vif,
                            uint32_t set, uint32_t clear)
{
    uint32_t flags, le;

    QEMU_LOCK_GUARD(&vif->flags_lock);
    flags = (vif->rq_flags | set) & ~clear;
    if (flags != vif->rq_flags) {
        vif->rq_flags = flags;
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

/*
 * Write frame @fr into VIF @v's receive slots from rx_prod on, chained
 * over @slots slots.  False if a window master-aborted.
 */
static bool selfvirt_rx_write(SelfvirtState *s, unsigned v,
                              SelfvirtFrame *fr, uint32_t slots)
{
    SelfvirtVif *vif = &s->vif[v];
    uint16_t flags = 0, gso_size = 0;
    uint32_t off = 0;

    if (fr->csum_ok || (fr->tx_flags & (SELFVIRT_TX_CSUM | SELFVIRT_TX_TSO))) {
        /* verified on the way in, or a local frame the sender left to us */
        flags |= SELFVIRT_RX_CSUM_OK;
    }
    if (fr->tx_flags & SELFVIRT_TX_TSO) {
        flags |= (fr->data[12] == 0x86 && fr->data[13] == 0xdd)
                 ? SELFVIRT_RX_GSO_TCPV6 : SELFVIRT_RX_GSO_TCPV4;
        gso_size = fr->mss;
    }
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
        if (!selfvirt_window_write(s, vif, buf, fr->data + off, n) ||
            !selfvirt_window_write(s, vif, SELFVIRT_RQ_DESC(slot), &d,
                                   sizeof(d))) {
            return false;
        }
        off += n;
    }
    return true;
}

/*
 * Ingress context work for VIF @v: move pending frames into its receive
 * queue while there is room.  Returns true if it did any work.
 */
bool selfvirt_switch_deliver(SelfvirtState *s, unsigned v)
{
    SelfvirtVif *vif = &s->vif[v];
    uint32_t capacity = selfvirt_vif_rx_capacity(vif);
    /* a turn is bounded: a guest moving rx_cons to and fro cannot keep it */
    unsigned budget = vif->rx_entries, done = 0, dropped = 0;
    SelfvirtFrame *fr;

    if (!vif->active) {
        return false;
    }
    while (budget-- && (fr = selfvirt_fifo_pop(&vif->pending))) {
        uint32_t cons = selfvirt_rx_cons(s, v);
        uint32_t used = vif->rx_prod - cons;
        uint32_t slots;

        if (used > vif->rx_entries) {
            qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %u: rx_cons %u is "
                          "ahead of rx_prod %u\n", v, cons, vif->rx_prod);
            qatomic_inc(&vif->stats[SELFVIRT_VSTAT_TX_ERRORS]);
            selfvirt_stat_inc(s, SELFVIRT_STAT_BAD_DESC);
            g_free(fr);
            selfvirt_fifo_flush(&vif->pending);
            break;
        }
        if (fr->len > capacity) {
            /* larger than the VIF's buffers (jumbo or unsegmented TSO) */
            trace_selfvirt_rx_drop(v, fr->len, capacity);
            qatomic_inc(&vif->stats[SELFVIRT_VSTAT_RX_DROPS]);
            g_free(fr);
            dropped++;
            continue;
        }
        if (used < vif->rx_entries) {
            /* merge only what can go now: later segments may still come */
            fr = selfvirt_coalesce(s, vif, fr, capacity);
        }
        slots = DIV_ROUND_UP(fr->len, vif->rx_buf_size);
        if (vif->rx_entries - used < slots) {
            /* full: ask for a doorbell, then look again (no lost wake-up) */
            selfvirt_fifo_unpop(&vif->pending, fr);
            trace_selfvirt_rx_blocked(v, vif->rx_prod, cons, slots);
            selfvirt_vif_set_flags(s, vif, SELFVIRT_RQ_RX_BLOCKED, 0);
            selfvirt_switch_wake_waiters(s);    /* they may drop now */
            smp_mb();     /* RX_BLOCKED visible before rx_cons is re-read */
            if (selfvirt_rx_cons(s, v) == cons) {
                break;
            }
            continue;
        }
        if (selfvirt_rx_write(s, v, fr, slots)) {
            vif->rx_prod += slots;
            qatomic_inc(&vif->stats[SELFVIRT_VSTAT_RX_FRAMES]);
            qatomic_add(&vif->stats[SELFVIRT_VSTAT_RX_BYTES], fr->len);
            done++;
        } else {
            dropped++;
        }
        trace_selfvirt_rx_frame(v, fr->len, vif->rx_prod);
        g_free(fr);
    }
    if (done) {
        if (vif->rq_flags & SELFVIRT_RQ_RX_BLOCKED) {
            selfvirt_vif_set_flags(s, vif, 0, SELFVIRT_RQ_RX_BLOCKED);
        }
        smp_wmb();     /* frames and descriptors before rx_prod */
        selfvirt_vif_publish(s, vif, true, false);
        smp_mb();     /* publish rx_prod, then read the driver's enables */
        if (selfvirt_signal_enabled(s, v, SELFVIRT_SIGNAL_RX)) {
            selfvirt_irq_signal(s, v, SELFVIRT_SIGNAL_RX);
        }
    }
    return done + dropped > 0;
}
