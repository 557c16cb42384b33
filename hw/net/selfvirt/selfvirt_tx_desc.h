/*
 * selfvirt: the check of a send descriptor, the pure rule
 *
 * The board checks each descriptor it copies out of a VIF's send queue
 * before it touches the frame; a descriptor that fails halts the VIF.  No
 * device state here, so that the unit test (tests/unit) can try any.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NET_SELFVIRT_TX_DESC_H
#define HW_NET_SELFVIRT_TX_DESC_H

#include <stdbool.h>
#include <stdint.h>
#include "selfvirt_abi.h"

#define SELFVIRT_TX_MIN_FRAME   14      /* an Ethernet header */

/*
 * A frame of @len bytes at @buf in a data area of @data_size bytes, with
 * descriptor @flags and @mss, on a board whose largest frame is
 * @max_frame: inside the area, of a length the board takes, known flags,
 * and with TSO an MSS the board can cut at.
 */
static inline bool selfvirt_tx_desc_valid(uint32_t data_size,
                                          uint32_t max_frame, uint32_t buf,
                                          uint32_t len, uint16_t flags,
                                          uint16_t mss)
{
    uint32_t max = (flags & SELFVIRT_TX_TSO) ? SELFVIRT_TSO_MAX_FRAME
                                             : max_frame;

    return len >= SELFVIRT_TX_MIN_FRAME && len <= max &&
           buf <= data_size && len <= data_size - buf &&
           !(flags & ~SELFVIRT_TX_FLAGS) &&
           (!(flags & SELFVIRT_TX_TSO) ||
            (mss >= SELFVIRT_TSO_MSS_MIN && mss <= SELFVIRT_TSO_MSS_MAX));
}

#endif
