/*
 * selfvirt: the on-board layer-2 switch
 *
 * The paper's micro-engines implement a software Ethernet switch: unicast
 * frames go to the VIF that owns the destination MAC (found by hashing on
 * the board), broadcast and multicast to every VIF and the wire, and
 * VIF-to-VIF traffic never touches the wire.  This file is the MAC table
 * and the forwarding decision only; the contexts that asked carry it out
 * (selfvirt_port.c, selfvirt_egress.c, with selfvirt_ingress.c's queues).
 *
 * In the plain NIC mode the board is one NIC: everything from VIF 0 goes
 * to the wire, and the wire's frames for its MAC (or all of them,
 * promiscuous) to VIF 0.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "net/eth.h"
#include "selfvirt.h"

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

/* Management changed a VIF or its MAC; with the engines parked. */
void selfvirt_switch_rebuild(SelfvirtState *s)
{
    SelfvirtSwitch *sw = &s->sw;

    assert(selfvirt_engines_parked(s));
    memset(sw->mac_table, -1, sizeof(sw->mac_table));
    for (unsigned v = 0; v < s->num_vifs; v++) {
        unsigned h;

        if (!s->vif[v].active) {
            continue;
        }
        for (h = selfvirt_mac_hash(s->vif[v].mac); sw->mac_table[h] >= 0;
             h = (h + 1) % SELFVIRT_MAC_SLOTS) {
            /* linear probing */
        }
        sw->mac_table[h] = v;
    }
}

/* Back to the self-virtualizing mode; with the engines parked, no VIFs. */
void selfvirt_switch_reset(SelfvirtState *s)
{
    s->sw.mode = SELFVIRT_MODE_SELF_VIRT;
    s->sw.promisc = false;
    selfvirt_switch_rebuild(s);
}

/* The VIF owning unicast MAC @dst, or -1. */
static int selfvirt_switch_lookup(SelfvirtState *s, const uint8_t *dst)
{
    SelfvirtSwitch *sw = &s->sw;
    int v;

    if (sw->mode == SELFVIRT_MODE_NIC) {
        return s->vif[0].active &&
               (sw->promisc || !memcmp(dst, s->vif[0].mac, ETH_ALEN)) ? 0 : -1;
    }
    for (unsigned h = selfvirt_mac_hash(dst); (v = sw->mac_table[h]) >= 0;
         h = (h + 1) % SELFVIRT_MAC_SLOTS) {
        if (!memcmp(dst, s->vif[v].mac, ETH_ALEN)) {
            return v;
        }
    }
    return -1;
}

/*
 * Where a frame to @dst goes that came from VIF @src_vif (-1: from the
 * wire).  Read-only: engines ask it concurrently.
 */
SelfvirtRoute selfvirt_switch_route(SelfvirtState *s, const uint8_t *dst,
                                    int src_vif)
{
    bool from_vif = src_vif >= 0;
    int v;

    if (s->sw.mode == SELFVIRT_MODE_NIC && from_vif) {
        /* a plain NIC sends everything from its one queue to the wire */
        return (SelfvirtRoute) { .dest = SELFVIRT_DEST_WIRE };
    }
    if (is_multicast_ether_addr(dst)) {
        return (SelfvirtRoute) { .dest = SELFVIRT_DEST_FLOOD };
    }
    v = selfvirt_switch_lookup(s, dst);
    if (v < 0) {
        return (SelfvirtRoute) {
            .dest = from_vif ? SELFVIRT_DEST_WIRE : SELFVIRT_DEST_UNKNOWN,
        };
    }
    if (v == src_vif) {
        /* a switch port never reflects a frame back to where it came from */
        return (SelfvirtRoute) { .dest = SELFVIRT_DEST_SOURCE };
    }
    return (SelfvirtRoute) { .dest = SELFVIRT_DEST_VIF, .vif = v };
}
