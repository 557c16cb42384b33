/*
 * selfvirt: the host window table (upstream address translation)
 *
 * The IXP2400 reaches host memory only through the 21555 bridge's upstream
 * window: a 64-entry lookup table, each entry mapping one page (256 B ..
 * 32 MiB, one size for the table) to a host bus address.  Every write the
 * board makes into host memory (received frames, the indexes and flags it
 * publishes) goes through a VIF's own range of entries.  An access through
 * an invalid entry is a master abort: the write is dropped and counted.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "exec/memory.h"
#include "system/dma.h"
#include "hw/pci/pci.h"
#include "selfvirt.h"
#include "selfvirt_window_xlate.h"
#include "trace.h"

/*
 * Translate offset @off of the window range [first, first + count) to a bus
 * address.  Returns false for an invalid entry (master abort).  @avail gets
 * the bytes left in that page.
 */
static bool selfvirt_window_translate(SelfvirtState *s, uint32_t first,
                                      uint32_t count, uint64_t off,
                                      dma_addr_t *addr, uint64_t *avail)
{
    uint32_t shift = qatomic_read(&s->win.page_shift);
    int64_t page = selfvirt_window_page(off, shift, count);
    uint64_t a;

    if (page < 0) {
        return false;
    }
    if (!selfvirt_window_addr(qatomic_read(&s->win.lo[first + page]),
                              qatomic_read(&s->win.hi[first + page]),
                              shift, off, &a, avail)) {
        return false;
    }
    *addr = a;
    return true;
}

/*
 * One DMA write of the board into host memory: one translation, and only
 * to RAM that QEMU can write directly.  MMIO and ram_device regions (and
 * a platform IOMMU in front of the board: the window table is the board's
 * own translation) would be written through their callbacks, which need
 * the BQL that an engine thread never takes.
 */
static bool selfvirt_window_dma(SelfvirtState *s, dma_addr_t addr,
                                const uint8_t *buf, uint64_t len)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));

    while (len) {
        MemoryRegionCache cache;
        int64_t n = address_space_cache_init(&cache, as, addr, len, true);
        bool direct = n > 0 && cache.ptr;

        if (direct) {
            address_space_write_cached(&cache, 0, buf, n);
            address_space_cache_invalidate(&cache, 0, n);   /* dirty, TBs */
        }
        address_space_cache_destroy(&cache);
        if (!direct) {
            return false;
        }
        addr += n;
        buf += n;
        len -= n;
    }
    return true;
}

/*
 * Write @len bytes at offset @off of @vif's window range.  The write never
 * leaves the VIF's own entries; it is all or nothing.  Returns false on a
 * master abort (counted, logged).
 */
bool selfvirt_window_write(SelfvirtState *s, SelfvirtVif *vif, uint64_t off,
                           const void *buf, uint64_t len)
{
    const uint8_t *p = buf;
    uint64_t done = 0;

    while (done < len) {
        dma_addr_t addr;
        uint64_t avail, chunk;

        if (!selfvirt_window_translate(s, vif->win_first, vif->win_count,
                                       off + done, &addr, &avail)) {
            goto abort;
        }
        chunk = MIN(avail, len - done);
        if (!selfvirt_window_dma(s, addr, p + done, chunk)) {
            goto abort;
        }
        done += chunk;
    }
    return true;

abort:
    selfvirt_stat_inc(s, SELFVIRT_STAT_WIN_ABORTS);
    qatomic_inc(&vif->stats[SELFVIRT_VSTAT_WIN_ABORTS]);
    trace_selfvirt_window_abort(vif - s->vif, off + done);
    qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %td: upstream write at "
                  "window offset 0x%" PRIx64 " master-aborted (invalid "
                  "window entry or not RAM)\n", vif - s->vif, off + done);
    return false;
}

/* Does the range hold @need bytes? (checked when a VIF is created) */
bool selfvirt_window_range_ok(SelfvirtState *s, uint32_t first,
                              uint32_t count, uint64_t need)
{
    return count >= 1 && first < SELFVIRT_WIN_ENTRIES &&
           count <= SELFVIRT_WIN_ENTRIES - first &&
           need <= ((uint64_t)count << s->win.page_shift);
}

uint64_t selfvirt_window_reg_read(SelfvirtState *s, hwaddr addr)
{
    unsigned n;

    if (addr == SELFVIRT_REG_WIN_PAGE_SHIFT) {
        return s->win.page_shift;
    }
    n = (addr - SELFVIRT_REG_WIN_BASE) / 8;
    return (addr & 4) ? s->win.hi[n] : s->win.lo[n];
}

void selfvirt_window_reg_write(SelfvirtState *s, hwaddr addr, uint32_t val)
{
    unsigned n;

    if (addr == SELFVIRT_REG_WIN_PAGE_SHIFT) {
        if (val < SELFVIRT_WIN_MIN_SHIFT || val > SELFVIRT_WIN_MAX_SHIFT) {
            qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: window page shift %u "
                          "out of range %d..%d, ignored\n", val,
                          SELFVIRT_WIN_MIN_SHIFT, SELFVIRT_WIN_MAX_SHIFT);
            return;
        }
        /* one page size for the table: a change would move live rings */
        if (selfvirt_csr_refused_while_live(s, "window page shift", val)) {
            return;
        }
        qatomic_set(&s->win.page_shift, val);
        return;
    }
    n = (addr - SELFVIRT_REG_WIN_BASE) / 8;
    if (addr & 4) {
        qatomic_set(&s->win.hi[n], val);
    } else {
        /* bits 1..7 are reserved: entries are 256-byte aligned */
        qatomic_set(&s->win.lo[n], val & ~0xfeu);
    }
    trace_selfvirt_window_set(n, s->win.hi[n], s->win.lo[n]);
}

/* Every entry invalid, the page size of the property; no VIF is live. */
void selfvirt_window_reset(SelfvirtState *s)
{
    SelfvirtWindows *win = &s->win;

    assert(selfvirt_engines_parked(s));
    memset(win->lo, 0, sizeof(win->lo));
    memset(win->hi, 0, sizeof(win->hi));
    win->page_shift = win->page_shift_reset;
}

/* A migration stream's table: the page size must be one the board has. */
bool selfvirt_window_state_ok(SelfvirtState *s, Error **errp)
{
    if (s->win.page_shift < SELFVIRT_WIN_MIN_SHIFT ||
        s->win.page_shift > SELFVIRT_WIN_MAX_SHIFT) {
        error_setg(errp, "window page shift %u out of range",
                   s->win.page_shift);
        return false;
    }
    return true;
}
