/*
 * selfvirt: what the port takes from a virtio-net header, the pure rule
 *
 * A netdev with virtio-net headers (tap) gives the port GSO frames whole.
 * The rule that turns a header into the board's own offload flags is here,
 * with no device state, so that the unit test (tests/unit) can try any
 * header.  The includer provides the VIRTIO_NET_HDR_* values (QEMU's
 * standard-headers, or the unit test's <linux/virtio_net.h>).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NET_SELFVIRT_VNET_HDR_H
#define HW_NET_SELFVIRT_VNET_HDR_H

#include <stdbool.h>
#include <stdint.h>
#include "selfvirt_abi.h"

/* The largest GSO frame: a TSO frame's, under two VLAN tags. */
#define SELFVIRT_GSO_FRAME_MAX  (SELFVIRT_TSO_MAX_FRAME + 2 * 4)

/*
 * The offloads that a header's @flags, @gso_type and @gso_size ask of a
 * frame from the peer, as SELFVIRT_TX_* in @tx_flags and @mss.  A GSO
 * frame must be TCP, the one kind the port enables on its peer; its
 * checksum is partial, and so is a frame's with NEEDS_CSUM: both are left
 * to the receiving host, as between VIFs.  False: a header the port does
 * not take (UDP, ECN, a GSO frame without a segment size).
 */
static inline bool selfvirt_vnet_hdr_offloads(uint8_t flags, uint8_t gso_type,
                                              uint16_t gso_size,
                                              uint16_t *tx_flags,
                                              uint16_t *mss)
{
    *tx_flags = (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ? SELFVIRT_TX_CSUM : 0;
    *mss = 0;
    switch (gso_type) {
    case VIRTIO_NET_HDR_GSO_NONE:
        return true;
    case VIRTIO_NET_HDR_GSO_TCPV4:
    case VIRTIO_NET_HDR_GSO_TCPV6:
        *tx_flags |= SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM;
        *mss = gso_size;
        return gso_size != 0;
    default:
        return false;
    }
}

#endif
