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

void selfvirt_window_map_init(SelfvirtWindowMap *m)
{
    m->len = 0;
}

void selfvirt_window_map_destroy(SelfvirtWindowMap *m)
{
    if (m->len) {
        address_space_cache_destroy(&m->cache);
        m->len = 0;
    }
}

/*
 * Map from window offset @off to the end of its page, as far as that is
 * RAM QEMU can write directly.  MMIO and ram_device regions (and a
 * platform IOMMU in front of the board: the window table is the board's
 * own translation) would be written through their callbacks, which need
 * the BQL that an engine thread never takes: those are master aborts.
 */
static bool selfvirt_window_map_at(SelfvirtState *s, SelfvirtVif *vif,
                                   SelfvirtWindowMap *m, uint64_t off)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));
    dma_addr_t addr;
    uint64_t avail;
    int64_t n;

    selfvirt_window_map_destroy(m);
    if (!selfvirt_window_translate(s, vif->win_first, vif->win_count, off,
                                   &addr, &avail)) {
        return false;
    }
    n = address_space_cache_init(&m->cache, as, addr, avail, true);
    if (n <= 0 || !m->cache.ptr) {
        address_space_cache_destroy(&m->cache);
        return false;
    }
    m->off = off;
    m->len = n;
    return true;
}

/* Map the page holding @off: from its start if that reaches @off. */
static bool selfvirt_window_map(SelfvirtState *s, SelfvirtVif *vif,
                                SelfvirtWindowMap *m, uint64_t off)
{
    uint64_t page = 1ull << qatomic_read(&s->win.page_shift);
    uint64_t start = off & ~(page - 1);

    if (start != off && selfvirt_window_map_at(s, vif, m, start) &&
        off < m->off + m->len) {
        return true;
    }
    return selfvirt_window_map_at(s, vif, m, off);
}

static void selfvirt_window_abort(SelfvirtState *s, SelfvirtVif *vif,
                                  uint64_t off, bool is_write)
{
    selfvirt_stat_inc(s, SELFVIRT_STAT_WIN_ABORTS);
    qatomic_inc(&vif->stats[SELFVIRT_VSTAT_WIN_ABORTS]);
    trace_selfvirt_window_abort(vif - s->vif, off);
    qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: VIF %td: upstream %s at "
                  "window offset 0x%" PRIx64 " master-aborted (invalid "
                  "window entry or not RAM)\n", vif - s->vif,
                  is_write ? "write" : "read", off);
}

/*
 * Move @len bytes between @buf and offset @off of @vif's window range,
 * through and into mapping @m.  The access never leaves the VIF's own
 * entries.  Returns false on a master abort (counted, logged); the bytes
 * before it moved.
 */
static bool selfvirt_window_access_mapped(SelfvirtState *s, SelfvirtVif *vif,
                                          SelfvirtWindowMap *m, uint64_t off,
                                          uint8_t *buf, uint64_t len,
                                          bool is_write)
{
    while (len) {
        uint64_t chunk;

        if ((off < m->off || off - m->off >= m->len) &&
            !selfvirt_window_map(s, vif, m, off)) {
            selfvirt_window_abort(s, vif, off, is_write);
            return false;
        }
        chunk = MIN(len, m->len - (off - m->off));
        if (is_write) {
            address_space_write_cached(&m->cache, off - m->off, buf, chunk);
            address_space_cache_invalidate(&m->cache, off - m->off, chunk);
        } else {
            address_space_read_cached(&m->cache, off - m->off, buf, chunk);
        }
        off += chunk;
        buf += chunk;
        len -= chunk;
    }
    return true;
}

bool selfvirt_window_write_mapped(SelfvirtState *s, SelfvirtVif *vif,
                                  SelfvirtWindowMap *m, uint64_t off,
                                  const void *buf, uint64_t len)
{
    return selfvirt_window_access_mapped(s, vif, m, off, (uint8_t *)buf, len,
                                         true);
}

bool selfvirt_window_read_mapped(SelfvirtState *s, SelfvirtVif *vif,
                                 SelfvirtWindowMap *m, uint64_t off,
                                 void *buf, uint64_t len)
{
    return selfvirt_window_access_mapped(s, vif, m, off, buf, len, false);
}

/* One write with a mapping of its own (a single index or flags word). */
bool selfvirt_window_write(SelfvirtState *s, SelfvirtVif *vif, uint64_t off,
                           const void *buf, uint64_t len)
{
    SelfvirtWindowMap m;
    bool ok;

    selfvirt_window_map_init(&m);
    ok = selfvirt_window_write_mapped(s, vif, &m, off, buf, len);
    selfvirt_window_map_destroy(&m);
    return ok;
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
