/*
 * selfvirt: window table translation, the pure arithmetic
 *
 * A VIF's receive queue is reached through windows [first, first + count)
 * of the board's 64-entry table, each a page of 1 << shift bytes of host
 * memory.  No device state here: the board reads the entries (atomically,
 * management may change them) and the unit test (tests/unit) any table.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NET_SELFVIRT_WINDOW_XLATE_H
#define HW_NET_SELFVIRT_WINDOW_XLATE_H

#include <stdbool.h>
#include <stdint.h>
#include "selfvirt_abi.h"

/* The page of the window range that offset @off falls in, or -1: outside. */
static inline int64_t selfvirt_window_page(uint64_t off, uint32_t shift,
                                           uint32_t count)
{
    uint64_t page = off >> shift;

    return page < count ? (int64_t)page : -1;
}

/*
 * Bus address of offset @off through the entry (@lo, @hi) of its page;
 * false if the entry is invalid (a master abort).  @avail gets the bytes
 * left in that page.
 */
static inline bool selfvirt_window_addr(uint32_t lo, uint32_t hi,
                                        uint32_t shift, uint64_t off,
                                        uint64_t *addr, uint64_t *avail)
{
    uint64_t in_page = off & ((1ull << shift) - 1);

    if (!(lo & SELFVIRT_WIN_VALID)) {
        return false;
    }
    *addr = ((uint64_t)hi << 32 |
             (lo & ~((1u << SELFVIRT_WIN_MIN_SHIFT) - 1))) + in_page;
    *avail = (1ull << shift) - in_page;
    return true;
}

#endif
