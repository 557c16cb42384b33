/*
 * selfvirt: a self-virtualizing NIC (IXP2400 NP board behind a 21555 bridge)
 *
 * PCI glue: the QOM type, properties, BARs, the CSR register dispatch to
 * the parts, VMState, and the order in which the parts are set up and
 * reset.  The parts live in their own files (selfvirt.h lists them);
 * docs/specs/selfvirt.rst is the register-level specification.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/pci/pci.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "system/runstate.h"
#include "selfvirt.h"
#include "trace.h"

typedef enum SelfvirtResetScope {
    SELFVIRT_RESET_DATA_PATH, /* VIFs, switch, port: CMD_RESET */
    SELFVIRT_RESET_BOARD,     /* everything: DEV_CTRL, PCI reset, a bad load */
} SelfvirtResetScope;

static void selfvirt_board_reset(SelfvirtState *s, SelfvirtResetScope scope);

static uint32_t selfvirt_caps(SelfvirtState *s)
{
    uint32_t caps = SELFVIRT_CAP_TX_CSUM | SELFVIRT_CAP_TSO |
                    SELFVIRT_CAP_RX_CSUM | SELFVIRT_CAP_JUMBO |
                    SELFVIRT_CAP_NIC_MODE | SELFVIRT_CAP_RX_CHAIN |
                    SELFVIRT_CAP_DOORBELL_PAGES | SELFVIRT_CAP_SIGNAL_GAP |
                    SELFVIRT_CAP_RX_POSTED;

    if (s->irq.mode == SELFVIRT_IRQ_MODE_MSIX) {
        caps |= SELFVIRT_CAP_MSIX;
    }
    return caps;
}

/* The identity and geometry registers, read-only; false for the others */
static bool selfvirt_identity_read(SelfvirtState *s, hwaddr addr,
                                   uint64_t *val)
{
    switch (addr) {
    case SELFVIRT_REG_ID:
        *val = SELFVIRT_ID_MAGIC;
        return true;
    case SELFVIRT_REG_VERSION:
        *val = SELFVIRT_ABI_VERSION;
        return true;
    case SELFVIRT_REG_CAPS:
        *val = selfvirt_caps(s);
        return true;
    case SELFVIRT_REG_MAX_VIFS:
        *val = s->num_vifs;
        return true;
    case SELFVIRT_REG_ENGINES:
        *val = SELFVIRT_ENGINES(s->me.count, s->me.contexts);
        return true;
    case SELFVIRT_REG_SDRAM_SIZE_LO:
        *val = (uint32_t)s->sdram_size;
        return true;
    case SELFVIRT_REG_SDRAM_SIZE_HI:
        *val = s->sdram_size >> 32;
        return true;
    case SELFVIRT_REG_WIN_INFO:
        *val = SELFVIRT_WIN_INFO(SELFVIRT_WIN_ENTRIES, SELFVIRT_WIN_MIN_SHIFT,
                                 SELFVIRT_WIN_MAX_SHIFT);
        return true;
    case SELFVIRT_REG_MAX_FRAME:
        *val = s->port.max_frame;
        return true;
    case SELFVIRT_REG_MAC_LO:
        *val = ldl_le_p(s->port.conf.macaddr.a);
        return true;
    case SELFVIRT_REG_MAC_HI:
        *val = lduw_le_p(s->port.conf.macaddr.a + 4);
        return true;
    case SELFVIRT_REG_PART_SIZE:
        *val = s->part_size;
        return true;
    default:
        return false;
    }
}

static uint64_t selfvirt_csr_read(void *opaque, hwaddr addr, unsigned size)
{
    SelfvirtState *s = opaque;
    uint64_t val = 0;

    if (addr < SELFVIRT_REG_STAT(0) ||
        addr > SELFVIRT_REG_STAT(SELFVIRT_STAT_COUNT - 1)) {
        selfvirt_stat_inc(s, SELFVIRT_STAT_CSR_READS);
    }
    if (selfvirt_identity_read(s, addr, &val)) {
        trace_selfvirt_csr_read(addr, val);
        return val;
    }
    switch (addr) {
    case SELFVIRT_REG_DEV_CTRL:
    case SELFVIRT_REG_DOORBELL:
        val = 0;    /* write-only */
        break;
    case SELFVIRT_REG_DEV_STATUS:
        val = SELFVIRT_DEV_STATUS_READY |
              (s->sw.mode == SELFVIRT_MODE_NIC ?
               SELFVIRT_DEV_STATUS_NIC_MODE : 0) |
              (s->sw.promisc ? SELFVIRT_DEV_STATUS_PROMISC : 0);
        break;
    case SELFVIRT_REG_IRQ_INFO:
    case SELFVIRT_REG_IRQ_ID:
    case SELFVIRT_REG_IRQ_MASK:
    case SELFVIRT_REG_IRQ_PENDING:
        val = selfvirt_irq_reg_read(s, addr);
        break;
    case SELFVIRT_REG_WIN_PAGE_SHIFT:
    case SELFVIRT_REG_WIN_BASE ...
         SELFVIRT_REG_WIN_HI(SELFVIRT_WIN_ENTRIES - 1):
        val = selfvirt_window_reg_read(s, addr);
        break;
    case SELFVIRT_REG_MBOX_CMD:
    case SELFVIRT_REG_MBOX_STATUS:
    case SELFVIRT_REG_MBOX_ARG(0) ...
         SELFVIRT_REG_MBOX_ARG(SELFVIRT_MBOX_NARGS - 1):
    case SELFVIRT_REG_MBOX_RES(0) ...
         SELFVIRT_REG_MBOX_RES(SELFVIRT_MBOX_NARGS - 1):
        val = selfvirt_mbox_reg_read(s, addr);
        break;
    case SELFVIRT_REG_STAT(0) ... SELFVIRT_REG_STAT(SELFVIRT_STAT_COUNT - 1):
        val = qatomic_read(&s->stats[(addr - SELFVIRT_REG_STAT(0)) / 4]);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "selfvirt: read of unknown register 0x%" HWADDR_PRIx "\n",
                      addr);
        break;
    }
    trace_selfvirt_csr_read(addr, val);
    return val;
}

static void selfvirt_csr_write(void *opaque, hwaddr addr, uint64_t val,
                               unsigned size)
{
    SelfvirtState *s = opaque;

    trace_selfvirt_csr_write(addr, val);
    switch (addr) {
    case SELFVIRT_REG_DEV_CTRL:
        if (val & SELFVIRT_DEV_CTRL_RESET) {
            selfvirt_board_reset(s, SELFVIRT_RESET_BOARD);
        }
        if (val & ~SELFVIRT_DEV_CTRL_RESET) {
            qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: DEV_CTRL bits 0x%"
                          PRIx64 " are reserved\n",
                          val & ~(uint64_t)SELFVIRT_DEV_CTRL_RESET);
        }
        break;
    case SELFVIRT_REG_IRQ_INFO:
    case SELFVIRT_REG_IRQ_ID:
    case SELFVIRT_REG_IRQ_MASK:
    case SELFVIRT_REG_IRQ_PENDING:
        selfvirt_irq_reg_write(s, addr, val);
        break;
    case SELFVIRT_REG_WIN_PAGE_SHIFT:
    case SELFVIRT_REG_WIN_BASE ...
         SELFVIRT_REG_WIN_HI(SELFVIRT_WIN_ENTRIES - 1):
        selfvirt_window_reg_write(s, addr, val);
        break;
    case SELFVIRT_REG_DOORBELL:
        selfvirt_egress_doorbell(s, val);
        break;
    case SELFVIRT_REG_MBOX_CMD:
    case SELFVIRT_REG_MBOX_ARG(0) ...
         SELFVIRT_REG_MBOX_ARG(SELFVIRT_MBOX_NARGS - 1):
        if (selfvirt_mbox_reg_write(s, addr, val)) {
            selfvirt_board_reset(s, SELFVIRT_RESET_DATA_PATH);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "selfvirt: write of read-only or unknown register 0x%"
                      HWADDR_PRIx "\n", addr);
        break;
    }
    selfvirt_engines_run_inline(s);
}

static const MemoryRegionOps selfvirt_csr_ops = {
    .read = selfvirt_csr_read,
    .write = selfvirt_csr_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

/*
 * The numeric properties: one table for the check at realize and for the
 * descriptions that -device selfvirt-nic,help prints.
 */
typedef struct SelfvirtPropRange {
    const char *name;
    size_t offset;            /* of a uint32_t in SelfvirtState */
    uint32_t min, max;
    const char *what;
} SelfvirtPropRange;

#define PROP_RANGE(_name, _field, _min, _max, _what) { \
    .name = _name, .offset = offsetof(SelfvirtState, _field), \
    .min = _min, .max = _max, .what = _what }

static const SelfvirtPropRange selfvirt_prop_ranges[] = {
    PROP_RANGE("vifs", num_vifs, 1, SELFVIRT_MAX_VIFS,
               "virtual interfaces"),
    PROP_RANGE("window-page-shift", win.page_shift_reset,
               SELFVIRT_WIN_MIN_SHIFT, SELFVIRT_WIN_MAX_SHIFT,
               "log2 of the host window page size at reset"),
    PROP_RANGE("irq-id-width", irq.width_max, 1, SELFVIRT_IRQ_ID_BITS,
               "bits of the interrupt identifier: fewer bits, more sharing"),
    PROP_RANGE("engines", me.count, SELFVIRT_ME_EGRESS + 1,
               SELFVIRT_MAX_ENGINES,
               "micro-engine threads: engines 3 and up run egress"),
    PROP_RANGE("contexts", me.contexts, 1, SELFVIRT_MAX_CONTEXTS,
               "hardware contexts per micro-engine"),
    PROP_RANGE("max-frame", port.max_frame, SELFVIRT_MIN_MAX_FRAME,
               SELFVIRT_MAX_MAX_FRAME, "largest frame in bytes (jumbo)"),
    PROP_RANGE("poll-us", me.poll_us, 0, SELFVIRT_POLL_US_MAX,
               "microseconds an idle egress engine polls before it sleeps"),
    PROP_RANGE("inline-wake-us", me.inline_wake_us, 0,
               SELFVIRT_INLINE_WAKE_US_MAX,
               "a micro-engine asleep this long runs its turn on the vCPU "
               "or main loop that wakes it (0: never)"),
};

static bool selfvirt_check_props(SelfvirtState *s, Error **errp)
{
    for (unsigned i = 0; i < ARRAY_SIZE(selfvirt_prop_ranges); i++) {
        const SelfvirtPropRange *p = &selfvirt_prop_ranges[i];
        uint32_t val = *(uint32_t *)((uint8_t *)s + p->offset);

        if (val < p->min || val > p->max) {
            error_setg(errp, "selfvirt-nic: '%s' must be %u..%u, not %u",
                       p->name, p->min, p->max, val);
            return false;
        }
    }
    if (s->sdram_size < SELFVIRT_SDRAM_MIN ||
        s->sdram_size > SELFVIRT_SDRAM_MAX || !is_power_of_2(s->sdram_size)) {
        error_setg(errp, "selfvirt-nic: 'sdram-size' must be a power of two "
                   "from 16M to 2G");
        return false;
    }
    if (!s->irq.mode_name || !strcmp(s->irq.mode_name, "identifier")) {
        s->irq.mode = SELFVIRT_IRQ_MODE_IDENTIFIER;
    } else if (!strcmp(s->irq.mode_name, "msix")) {
        s->irq.mode = SELFVIRT_IRQ_MODE_MSIX;
    } else {
        error_setg(errp, "selfvirt-nic: 'irq-mode' must be 'identifier' or "
                   "'msix', not '%s'", s->irq.mode_name);
        return false;
    }
    return true;
}

/*
 * Reset, with the BQL.  The engines park first: nothing moves and no DMA
 * is in flight.  Then the parts, from the VIFs through the paths their
 * frames take (switch, port, the engines' context allocation) to the
 * registers (windows, signals, mailbox, counters); the engines resume
 * last.  CMD_RESET resets the data path only: management keeps its
 * windows, interrupt set-up and mailbox.
 */
static void selfvirt_board_reset(SelfvirtState *s, SelfvirtResetScope scope)
{
    assert(bql_locked());
    trace_selfvirt_reset(scope);
    selfvirt_engines_pause(s);
    selfvirt_vifs_reset(s);
    selfvirt_switch_reset(s);
    selfvirt_port_reset(s);
    selfvirt_engines_reset(s);
    if (scope == SELFVIRT_RESET_BOARD) {
        selfvirt_window_reset(s);
        selfvirt_irq_reset(s);
        selfvirt_mbox_reset(s);
        memset(s->stats, 0, sizeof(s->stats));
        selfvirt_stage_reset(s);
    }
    selfvirt_engines_resume(s);
}

static void selfvirt_qdev_reset_hold(Object *obj, ResetType type)
{
    SelfvirtState *s = SELFVIRT_NIC(obj);

    selfvirt_irqfd_off(s);        /* the PCI core turns MSI(-X) off */
    selfvirt_board_reset(s, SELFVIRT_RESET_BOARD);
}

/* Engines stop with the VM (and for migration) and resume with it. */
static void selfvirt_vm_state_change(void *opaque, bool running,
                                     RunState state)
{
    SelfvirtState *s = opaque;

    if (running) {
        selfvirt_engines_resume(s);
        selfvirt_irq_vm_running(s);
    } else {
        selfvirt_engines_pause(s);
    }
}

/* The SDRAM BAR, in whole pages per VIF: a partition is mapped on its own. */
static bool selfvirt_sdram_init(SelfvirtState *s, Error **errp)
{
    s->part_size = QEMU_ALIGN_DOWN(s->sdram_size / s->num_vifs,
                                   SELFVIRT_PART_ALIGN);
    /* RAM-backed: the host's writes into the send queues do not trap */
    if (!memory_region_init_ram(&s->sdram, OBJECT(s), "selfvirt-sdram",
                                s->sdram_size, errp)) {
        return false;
    }
    s->sdram_ptr = memory_region_get_ram_ptr(&s->sdram);
    pci_register_bar(PCI_DEVICE(s), SELFVIRT_BAR_SDRAM,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &s->sdram);
    return true;
}

/* The parts in the order they depend on each other; exit undoes it. */
static void selfvirt_realize(PCIDevice *pdev, Error **errp)
{
    SelfvirtState *s = SELFVIRT_NIC(pdev);

    /* the engines' parts sit on cache lines of their own (instance_align) */
    assert(QEMU_PTR_IS_ALIGNED(s, __alignof__(SelfvirtState)));
    if (!selfvirt_check_props(s, errp)) {
        return;
    }
    memory_region_init_io(&s->csr, OBJECT(s), &selfvirt_csr_ops, s,
                          "selfvirt-csr", SELFVIRT_CSR_SIZE);
    pci_register_bar(pdev, SELFVIRT_BAR_CSR, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->csr);
    memory_region_init_io(&s->doorbells, OBJECT(s), &selfvirt_doorbell_page_ops,
                          s, "selfvirt-doorbells", SELFVIRT_DOORBELL_BAR_SIZE);
    pci_register_bar(pdev, SELFVIRT_BAR_DOORBELL,
                     PCI_BASE_ADDRESS_SPACE_MEMORY, &s->doorbells);
    if (!selfvirt_sdram_init(s, errp) || !selfvirt_irq_init(s, errp)) {
        return;
    }
    selfvirt_doorbell_eventfds_init(s);
    selfvirt_port_init(s);
    selfvirt_vifs_init(s);
    selfvirt_ingress_init(s);
    selfvirt_egress_init(s);
    selfvirt_switch_reset(s);
    selfvirt_window_reset(s);
    selfvirt_engines_init(s);
    s->vmstate = qemu_add_vm_change_state_handler(selfvirt_vm_state_change, s);
    /* suspended (S3) is live: its wake-up is no vm state change */
    if (!runstate_is_live(runstate_get())) {
        selfvirt_engines_pause(s);
    }
}

static void selfvirt_exit(PCIDevice *pdev)
{
    SelfvirtState *s = SELFVIRT_NIC(pdev);

    qemu_del_vm_change_state_handler(s->vmstate);
    selfvirt_engines_fini(s);
    selfvirt_doorbell_eventfds_fini(s);
    selfvirt_vifs_fini(s);
    selfvirt_port_fini(s);
    selfvirt_engines_free_frames(s);
    selfvirt_irq_fini(s);
}

/*
 * The board's state for QEMU's user (info qtree, qom-get): read-only
 * properties, computed when read, with the BQL that the mailbox holds too.
 */
static void selfvirt_get_mode(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    SelfvirtState *s = SELFVIRT_NIC(obj);
    char *mode = (char *)(s->sw.mode == SELFVIRT_MODE_NIC ?
                          "nic" : "self-virtualizing");

    visit_type_str(v, name, &mode, errp);
}

static void selfvirt_get_promisc(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    bool promisc = SELFVIRT_NIC(obj)->sw.promisc;

    visit_type_bool(v, name, &promisc, errp);
}

/* "0,1,5": the VIFs that exist, or "none" */
static void selfvirt_get_active_vifs(Object *obj, Visitor *v,
                                     const char *name, void *opaque,
                                     Error **errp)
{
    SelfvirtState *s = SELFVIRT_NIC(obj);
    g_autoptr(GString) list = g_string_new(NULL);
    g_autofree char *str = NULL;

    for (unsigned i = 0; i < s->num_vifs; i++) {
        if (s->vif[i].active) {
            g_string_append_printf(list, "%s%u", list->len ? "," : "", i);
        }
    }
    str = g_strdup(list->len ? list->str : "none");
    visit_type_str(v, name, &str, errp);
}

/* A uint32 field the board updates atomically: a counter, the width */
static void selfvirt_get_u32(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    uint32_t val = qatomic_read((uint32_t *)object_field_prop_ptr(obj,
                                                                  opaque));

    visit_type_uint32(v, name, &val, errp);
}

static const PropertyInfo selfvirt_prop_mode = {
    .type = "str",
    .description = "board mode (read-only): self-virtualizing or nic",
    .get = selfvirt_get_mode,
};

static const PropertyInfo selfvirt_prop_promisc = {
    .type = "bool",
    .description = "promiscuous wire port (read-only; plain NIC mode)",
    .get = selfvirt_get_promisc,
};

static const PropertyInfo selfvirt_prop_active_vifs = {
    .type = "str",
    .description = "the VIFs management created (read-only)",
    .get = selfvirt_get_active_vifs,
};

static const PropertyInfo selfvirt_prop_u32_ro = {
    .type = "uint32",
    .description = "board counter or state (read-only)",
    .get = selfvirt_get_u32,
};

#define SELFVIRT_PROP_RO(_name, _info, _field) { \
    .name = _name, .info = &(_info), \
    .offset = offsetof(SelfvirtState, _field) }
#define SELFVIRT_PROP_STAT(id, name) \
    SELFVIRT_PROP_RO("stat-" name, selfvirt_prop_u32_ro, \
                     stats[SELFVIRT_STAT_##id])

static const Property selfvirt_properties[] = {
    DEFINE_NIC_PROPERTIES(SelfvirtState, port.conf),
    DEFINE_PROP_UINT32("vifs", SelfvirtState, num_vifs, 8),
    DEFINE_PROP_SIZE("sdram-size", SelfvirtState, sdram_size, 256 * MiB),
    DEFINE_PROP_UINT32("window-page-shift", SelfvirtState,
                       win.page_shift_reset, 20),
    DEFINE_PROP_UINT32("irq-id-width", SelfvirtState, irq.width_max, 16),
    DEFINE_PROP_STRING("irq-mode", SelfvirtState, irq.mode_name),
    DEFINE_PROP_UINT32("engines", SelfvirtState, me.count, 8),
    DEFINE_PROP_UINT32("contexts", SelfvirtState, me.contexts, 8),
    DEFINE_PROP_UINT32("max-frame", SelfvirtState, port.max_frame, 9018),
    DEFINE_PROP_BOOL("ioeventfd", SelfvirtState, ioeventfd, true),
    DEFINE_PROP_BOOL("irqfd", SelfvirtState, irq.irqfd_allowed, true),
    DEFINE_PROP_BOOL("disable-vnet-hdr", SelfvirtState, port.disable_vnet_hdr,
                     false),
    DEFINE_PROP_UINT32("poll-us", SelfvirtState, me.poll_us, 0),
    DEFINE_PROP_BOOL("x-engines-inline", SelfvirtState, me.inline_mode, false),
    DEFINE_PROP_UINT32("inline-wake-us", SelfvirtState, me.inline_wake_us,
                       1000),
    DEFINE_PROP_BOOL("stage-timing", SelfvirtState, me.stage_timing, false),
    /* read-only: the board's state */
    SELFVIRT_PROP_RO("board-mode", selfvirt_prop_mode, sw.mode),
    SELFVIRT_PROP_RO("promiscuous", selfvirt_prop_promisc, sw.promisc),
    SELFVIRT_PROP_RO("active-vifs", selfvirt_prop_active_vifs, vif),
    SELFVIRT_PROP_RO("irq-id-width-used", selfvirt_prop_u32_ro, irq.width),
    SELFVIRT_BOARD_STATS(SELFVIRT_PROP_STAT)
};

static bool selfvirt_is_msix(void *opaque, int version_id)
{
    return SELFVIRT_NIC(opaque)->irq.mode == SELFVIRT_IRQ_MODE_MSIX;
}

static const VMStateDescription selfvirt_vmstate_vif = {
    .name = "selfvirt-nic/vif",
    .version_id = 3,              /* 3: rx_posted */
    .minimum_version_id = 3,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(active, SelfvirtVif),
        VMSTATE_UINT8_ARRAY(mac, SelfvirtVif, ETH_ALEN),
        VMSTATE_UINT32(tx_entries, SelfvirtVif),
        VMSTATE_UINT32(rx_entries, SelfvirtVif),
        VMSTATE_UINT32(rx_buf_size, SelfvirtVif),
        VMSTATE_UINT32(rx_chain, SelfvirtVif),
        VMSTATE_UINT32(rx_coalesce, SelfvirtVif),
        VMSTATE_BOOL(rx_posted, SelfvirtVif),
        VMSTATE_UINT32(win_first, SelfvirtVif),
        VMSTATE_UINT32(win_count, SelfvirtVif),
        VMSTATE_UINT32(signals, SelfvirtVif),
        VMSTATE_UINT32(rate.mbps, SelfvirtVif),
        VMSTATE_UINT32(weight, SelfvirtVif),
        VMSTATE_BOOL(spoof_check, SelfvirtVif),
        VMSTATE_UINT32(egress_ctx, SelfvirtVif),
        VMSTATE_UINT32(tx_cons, SelfvirtVif),
        VMSTATE_UINT32(rx_prod, SelfvirtVif),
        VMSTATE_UINT32(rq_flags, SelfvirtVif),
        VMSTATE_BOOL(stopped, SelfvirtVif),
        VMSTATE_UINT64_ARRAY(stats, SelfvirtVif, SELFVIRT_VSTAT_COUNT),
        VMSTATE_END_OF_LIST()
    },
};

/* A loaded VIF's attributes: the mailbox's bounds, and its mode's rules. */
static bool selfvirt_vif_state_ok(SelfvirtState *s, unsigned i, Error **errp)
{
    SelfvirtVif *vif = &s->vif[i];
    const struct {
        bool bad;
        const char *name;
    } attr[] = {
        { vif->rx_chain < 1 || vif->rx_chain > SELFVIRT_RX_CHAIN_MAX,
          "rx_chain" },
        { vif->rx_coalesce & ~SELFVIRT_RX_COALESCE_TCP, "rx_coalesce" },
        { vif->signals & ~(SELFVIRT_SIGNAL_TX | SELFVIRT_SIGNAL_RX),
          "signals" },
        { vif->rq_flags & ~(SELFVIRT_RQ_EGRESS_ASLEEP |
                            SELFVIRT_RQ_RX_BLOCKED | SELFVIRT_RQ_HALTED),
          "rq_flags" },
        { (vif->rq_flags & SELFVIRT_RQ_HALTED) && !vif->stopped, "rq_flags" },
        { vif->rate.mbps > SELFVIRT_RATE_MAX_MBPS, "rate" },
        { vif->weight < 1 || vif->weight > SELFVIRT_WEIGHT_MAX, "weight" },
        { vif->signal_gap_us > SELFVIRT_SIGNAL_GAP_MAX_US, "signal_gap" },
        { vif->egress_ctx >= s->me.egress_contexts, "egress_ctx" },
        { is_multicast_ether_addr(vif->mac), "mac" },
    };

    if (i >= s->num_vifs || (s->sw.mode == SELFVIRT_MODE_NIC && i != 0)) {
        error_setg(errp, "no VIF %u on this board in mode %u", i, s->sw.mode);
        return false;
    }
    for (unsigned k = 0; k < ARRAY_SIZE(attr); k++) {
        if (attr[k].bad) {
            error_setg(errp, "VIF %u: %s out of range", i, attr[k].name);
            return false;
        }
    }
    return selfvirt_vif_config_ok(s, i, vif, errp);
}

/* Every field of the stream is guest input: check it all, load nothing bad. */
static bool selfvirt_state_ok(SelfvirtState *s, Error **errp)
{
    if (s->sw.mode > SELFVIRT_MODE_NIC) {
        error_setg(errp, "mode %u out of range", s->sw.mode);
        return false;
    }
    if (!selfvirt_window_state_ok(s, errp) || !selfvirt_irq_state_ok(s, errp)) {
        return false;
    }
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        if (s->vif[i].active && !selfvirt_vif_state_ok(s, i, errp)) {
            return false;
        }
        if (!s->vif[i].active && s->vif[i].signal_gap_us) {
            error_setg(errp, "VIF %u: a signal gap, but no VIF", i);
            return false;
        }
    }
    return true;
}

static int selfvirt_post_load(void *opaque, int version_id)
{
    SelfvirtState *s = opaque;
    Error *err = NULL;

    if (!selfvirt_state_ok(s, &err)) {
        trace_selfvirt_load_refused(error_get_pretty(err));
        error_reportf_err(err, "selfvirt-nic: migration stream refused: ");
        /* never run on what was loaded: a board as after reset */
        selfvirt_board_reset(s, SELFVIRT_RESET_BOARD);
        return -EINVAL;
    }
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        selfvirt_rate_set(&s->vif[i].rate, s->vif[i].rate.mbps);
    }
    selfvirt_switch_rebuild(s);
    selfvirt_irq_post_load(s);
    return 0;
}

/* Only a board whose identifier width management narrowed sends it. */
static bool selfvirt_irq_width_needed(void *opaque)
{
    SelfvirtState *s = opaque;

    return s->irq.width != s->irq.width_max;
}

static const VMStateDescription selfvirt_vmstate_irq_width = {
    .name = "selfvirt-nic/irq-width",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = selfvirt_irq_width_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(irq.width, SelfvirtState),
        VMSTATE_END_OF_LIST()
    },
};

/* Signal moderation: only a board where some VIF has a gap sends it. */
static bool selfvirt_signal_gap_needed(void *opaque)
{
    SelfvirtState *s = opaque;

    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        if (s->vif[i].signal_gap_us) {
            return true;
        }
    }
    return false;
}

static const VMStateDescription selfvirt_vmstate_vif_signal_gap = {
    .name = "selfvirt-nic/vif-signal-gap",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(signal_gap_us, SelfvirtVif),
        VMSTATE_END_OF_LIST()
    },
};

/* The gaps, and the signals that wait for a gap's end (none is lost). */
static const VMStateDescription selfvirt_vmstate_signal_gap = {
    .name = "selfvirt-nic/signal-gap",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = selfvirt_signal_gap_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(vif, SelfvirtState, SELFVIRT_MAX_VIFS, 1,
                             selfvirt_vmstate_vif_signal_gap, SelfvirtVif),
        VMSTATE_UINT64_ARRAY(irq.held, SelfvirtState, 2),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * The board's geometry, always sent: a destination with other partitions
 * would find every VIF's queues at another SDRAM offset, so it refuses.
 */
static const VMStateDescription selfvirt_vmstate_geometry = {
    .name = "selfvirt-nic/geometry",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_EQUAL(num_vifs, SelfvirtState, NULL),
        VMSTATE_UINT32_EQUAL(part_size, SelfvirtState, NULL),
        VMSTATE_END_OF_LIST()
    },
};

/* A stream without a subsection had the board's width and no gaps. */
static int selfvirt_pre_load(void *opaque)
{
    SelfvirtState *s = opaque;

    s->irq.width = s->irq.width_max;
    s->irq.held[0] = s->irq.held[1] = 0;
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        s->vif[i].signal_gap_us = 0;
    }
    return 0;
}

static const VMStateDescription selfvirt_vmstate = {
    .name = "selfvirt-nic",
    .version_id = 6,              /* 6: a VIF's rx_posted */
    .minimum_version_id = 6,
    .pre_save = selfvirt_irq_pre_save,
    .pre_load = selfvirt_pre_load,
    .post_load = selfvirt_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, SelfvirtState),
        VMSTATE_MSIX_TEST(parent_obj, SelfvirtState, selfvirt_is_msix),
        VMSTATE_UINT32_ARRAY(win.lo, SelfvirtState, SELFVIRT_WIN_ENTRIES),
        VMSTATE_UINT32_ARRAY(win.hi, SelfvirtState, SELFVIRT_WIN_ENTRIES),
        VMSTATE_UINT32(win.page_shift, SelfvirtState),
        VMSTATE_UINT32(irq.id, SelfvirtState),
        VMSTATE_UINT32(irq.mask, SelfvirtState),
        VMSTATE_UINT64_ARRAY(irq.msix_pending, SelfvirtState, 2),
        VMSTATE_UINT32_ARRAY(mbox.arg, SelfvirtState, SELFVIRT_MBOX_NARGS),
        VMSTATE_UINT32_ARRAY(mbox.res, SelfvirtState, SELFVIRT_MBOX_NARGS),
        VMSTATE_UINT32(mbox.status, SelfvirtState),
        VMSTATE_UINT32(sw.mode, SelfvirtState),
        VMSTATE_BOOL(sw.promisc, SelfvirtState),
        VMSTATE_UINT32(me.next_egress_ctx, SelfvirtState),
        VMSTATE_UINT32_ARRAY(stats, SelfvirtState, SELFVIRT_STAT_COUNT),
        VMSTATE_STRUCT_ARRAY(vif, SelfvirtState, SELFVIRT_MAX_VIFS, 2,
                             selfvirt_vmstate_vif, SelfvirtVif),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &selfvirt_vmstate_irq_width,
        &selfvirt_vmstate_signal_gap,
        &selfvirt_vmstate_geometry,
        NULL
    },
};

static void selfvirt_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = selfvirt_realize;
    k->exit = selfvirt_exit;
    k->config_write = selfvirt_irq_config_write;
    k->vendor_id = SELFVIRT_PCI_VENDOR_ID;
    k->device_id = SELFVIRT_PCI_DEVICE_ID;
    k->revision = SELFVIRT_PCI_REVISION;
    k->class_id = PCI_CLASS_NETWORK_ETHERNET;
    dc->desc = "Self-virtualizing NIC (IXP2400-style NP with VIFs)";
    dc->vmsd = &selfvirt_vmstate;
    rc->phases.hold = selfvirt_qdev_reset_hold;

    device_class_set_props(dc, selfvirt_properties);
    object_class_property_set_description(klass, "stage-timing",
        "time the micro-engines' stages (qom-get stage-times): two clock "
        "reads per stage and frame");
    selfvirt_stage_class_init(klass);
    selfvirt_engines_class_init(klass);
    for (unsigned i = 0; i < ARRAY_SIZE(selfvirt_prop_ranges); i++) {
        const SelfvirtPropRange *p = &selfvirt_prop_ranges[i];
        g_autofree char *desc = g_strdup_printf("%s, %u..%u", p->what,
                                                p->min, p->max);

        object_class_property_set_description(klass, p->name, desc);
    }
    object_class_property_set_description(klass, "sdram-size",
        "board SDRAM holding the send queues, power of two 16M..2G");
    object_class_property_set_description(klass, "irq-mode",
        "'identifier' (the paper's, default) or 'msix' (a vector per signal)");
    object_class_property_set_description(klass, "ioeventfd",
        "under KVM, doorbells as ioeventfds: no exit to QEMU");
    object_class_property_set_description(klass, "irqfd",
        "under KVM, MSI and MSI-X messages by irqfd, sent by the "
        "micro-engines without the BQL");
    object_class_property_set_description(klass, "x-engines-inline",
        "testing only: run the micro-engines on the calling thread, so "
        "that a fuzzer's input replays");
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
}

static const TypeInfo selfvirt_info = {
    .name = TYPE_SELFVIRT_NIC,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(SelfvirtState),
    .instance_align = __alignof__(SelfvirtState),
    .class_init = selfvirt_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void selfvirt_register_types(void)
{
    type_register_static(&selfvirt_info);
}

type_init(selfvirt_register_types)
