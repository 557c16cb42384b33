/*
 * selfvirt: a self-virtualizing NIC (IXP2400 NP board behind a 21555 bridge)
 *
 * PCI glue: the QOM type, properties, BARs and the CSR register dispatch.
 * The board's parts live in their own files; docs/specs/selfvirt.rst is
 * the register-level specification.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "system/runstate.h"
#include "selfvirt.h"
#include "trace.h"

static uint32_t selfvirt_caps(SelfvirtState *s)
{
    uint32_t caps = SELFVIRT_CAP_TX_CSUM | SELFVIRT_CAP_TSO |
                    SELFVIRT_CAP_RX_CSUM | SELFVIRT_CAP_JUMBO |
                    SELFVIRT_CAP_NIC_MODE | SELFVIRT_CAP_RX_CHAIN;

    if (s->irq_mode == SELFVIRT_IRQ_MODE_MSIX) {
        caps |= SELFVIRT_CAP_MSIX;
    }
    return caps;
}

static uint64_t selfvirt_csr_read(void *opaque, hwaddr addr, unsigned size)
{
    SelfvirtState *s = opaque;
    const uint8_t *mac = s->conf.macaddr.a;
    uint64_t val = 0;

    if (addr < SELFVIRT_REG_STAT(0) ||
        addr > SELFVIRT_REG_STAT(SELFVIRT_STAT_COUNT - 1)) {
        selfvirt_stat_inc(s, SELFVIRT_STAT_CSR_READS);
    }
    switch (addr) {
    case SELFVIRT_REG_ID:
        val = SELFVIRT_ID_MAGIC;
        break;
    case SELFVIRT_REG_VERSION:
        val = SELFVIRT_ABI_VERSION;
        break;
    case SELFVIRT_REG_CAPS:
        val = selfvirt_caps(s);
        break;
    case SELFVIRT_REG_MAX_VIFS:
        val = s->num_vifs;
        break;
    case SELFVIRT_REG_ENGINES:
        val = SELFVIRT_ENGINES(s->num_engines, s->num_contexts);
        break;
    case SELFVIRT_REG_SDRAM_SIZE_LO:
        val = (uint32_t)s->sdram_size;
        break;
    case SELFVIRT_REG_SDRAM_SIZE_HI:
        val = s->sdram_size >> 32;
        break;
    case SELFVIRT_REG_WIN_INFO:
        val = SELFVIRT_WIN_INFO(SELFVIRT_WIN_ENTRIES, SELFVIRT_WIN_MIN_SHIFT,
                                SELFVIRT_WIN_MAX_SHIFT);
        break;
    case SELFVIRT_REG_IRQ_INFO:
        val = SELFVIRT_IRQ_INFO(s->irq_width, s->irq_mode);
        break;
    case SELFVIRT_REG_MAX_FRAME:
        val = s->max_frame;
        break;
    case SELFVIRT_REG_MAC_LO:
        val = ldl_le_p(mac);
        break;
    case SELFVIRT_REG_MAC_HI:
        val = lduw_le_p(mac + 4);
        break;
    case SELFVIRT_REG_PART_SIZE:
        val = s->part_size;
        break;
    case SELFVIRT_REG_DEV_CTRL:
        val = 0;
        break;
    case SELFVIRT_REG_DEV_STATUS:
        val = SELFVIRT_DEV_STATUS_READY |
              (s->mode == SELFVIRT_MODE_NIC ?
               SELFVIRT_DEV_STATUS_NIC_MODE : 0) |
              (s->promisc ? SELFVIRT_DEV_STATUS_PROMISC : 0);
        break;
    case SELFVIRT_REG_IRQ_ID:
    case SELFVIRT_REG_IRQ_MASK:
    case SELFVIRT_REG_IRQ_PENDING:
        val = selfvirt_irq_reg_read(s, addr);
        break;
    case SELFVIRT_REG_WIN_PAGE_SHIFT:
    case SELFVIRT_REG_WIN_BASE ... SELFVIRT_REG_WIN_HI(SELFVIRT_WIN_ENTRIES - 1):
        val = selfvirt_window_reg_read(s, addr);
        break;
    case SELFVIRT_REG_MBOX_CMD:
    case SELFVIRT_REG_DOORBELL:
        val = 0;
        break;
    case SELFVIRT_REG_MBOX_STATUS:
        val = s->mbox_status;
        break;
    case SELFVIRT_REG_MBOX_ARG(0) ... SELFVIRT_REG_MBOX_ARG(SELFVIRT_MBOX_NARGS - 1):
        val = s->mbox_arg[(addr - SELFVIRT_REG_MBOX_ARG(0)) / 4];
        break;
    case SELFVIRT_REG_MBOX_RES(0) ... SELFVIRT_REG_MBOX_RES(SELFVIRT_MBOX_NARGS - 1):
        val = s->mbox_res[(addr - SELFVIRT_REG_MBOX_RES(0)) / 4];
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

static void selfvirt_board_reset(SelfvirtState *s);

static void selfvirt_csr_write(void *opaque, hwaddr addr, uint64_t val,
                               unsigned size)
{
    SelfvirtState *s = opaque;

    trace_selfvirt_csr_write(addr, val);
    switch (addr) {
    case SELFVIRT_REG_DEV_CTRL:
        if (val & SELFVIRT_DEV_CTRL_RESET) {
            selfvirt_board_reset(s);
        }
        if (val & ~SELFVIRT_DEV_CTRL_RESET) {
            qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: DEV_CTRL bits 0x%"
                          PRIx64 " are reserved\n",
                          val & ~(uint64_t)SELFVIRT_DEV_CTRL_RESET);
        }
        break;
    case SELFVIRT_REG_IRQ_ID:
    case SELFVIRT_REG_IRQ_MASK:
    case SELFVIRT_REG_IRQ_PENDING:
        selfvirt_irq_reg_write(s, addr, val);
        break;
    case SELFVIRT_REG_WIN_PAGE_SHIFT:
    case SELFVIRT_REG_WIN_BASE ... SELFVIRT_REG_WIN_HI(SELFVIRT_WIN_ENTRIES - 1):
        selfvirt_window_reg_write(s, addr, val);
        break;
    case SELFVIRT_REG_DOORBELL:
        selfvirt_doorbell(s, val);
        break;
    case SELFVIRT_REG_MBOX_CMD:
        selfvirt_mbox_run(s, val);
        break;
    case SELFVIRT_REG_MBOX_ARG(0) ... SELFVIRT_REG_MBOX_ARG(SELFVIRT_MBOX_NARGS - 1):
        s->mbox_arg[(addr - SELFVIRT_REG_MBOX_ARG(0)) / 4] = val;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "selfvirt: write of read-only or unknown register 0x%"
                      HWADDR_PRIx "\n", addr);
        break;
    }
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

static bool selfvirt_check_props(SelfvirtState *s, Error **errp)
{
    if (s->num_vifs < 1 || s->num_vifs > SELFVIRT_MAX_VIFS) {
        error_setg(errp, "selfvirt-nic: 'vifs' must be 1..%d, not %u",
                   SELFVIRT_MAX_VIFS, s->num_vifs);
        return false;
    }
    if (s->sdram_size < 16 * MiB || s->sdram_size > 2 * GiB ||
        !is_power_of_2(s->sdram_size)) {
        error_setg(errp, "selfvirt-nic: 'sdram-size' must be a power of two "
                   "from 16M to 2G");
        return false;
    }
    if (s->win_page_shift_default < SELFVIRT_WIN_MIN_SHIFT ||
        s->win_page_shift_default > SELFVIRT_WIN_MAX_SHIFT) {
        error_setg(errp, "selfvirt-nic: 'window-page-shift' must be %d..%d "
                   "(256 B .. 32 MiB pages)", SELFVIRT_WIN_MIN_SHIFT,
                   SELFVIRT_WIN_MAX_SHIFT);
        return false;
    }
    if (s->irq_width < 1 || s->irq_width > 16) {
        error_setg(errp, "selfvirt-nic: 'irq-id-width' must be 1..16, not %u",
                   s->irq_width);
        return false;
    }
    if (!s->irq_mode_name || !strcmp(s->irq_mode_name, "identifier")) {
        s->irq_mode = SELFVIRT_IRQ_MODE_IDENTIFIER;
    } else if (!strcmp(s->irq_mode_name, "msix")) {
        s->irq_mode = SELFVIRT_IRQ_MODE_MSIX;
    } else {
        error_setg(errp, "selfvirt-nic: 'irq-mode' must be 'identifier' or "
                   "'msix', not '%s'", s->irq_mode_name);
        return false;
    }
    if (s->num_engines < 4 || s->num_engines > SELFVIRT_MAX_ENGINES) {
        error_setg(errp, "selfvirt-nic: 'engines' must be 4..%d, not %u",
                   SELFVIRT_MAX_ENGINES, s->num_engines);
        return false;
    }
    if (s->num_contexts < 1 || s->num_contexts > SELFVIRT_MAX_CONTEXTS) {
        error_setg(errp, "selfvirt-nic: 'contexts' must be 1..%d, not %u",
                   SELFVIRT_MAX_CONTEXTS, s->num_contexts);
        return false;
    }
    if (s->max_frame < 1514 || s->max_frame > 16 * KiB) {
        error_setg(errp, "selfvirt-nic: 'max-frame' must be 1514..16384, "
                   "not %u", s->max_frame);
        return false;
    }
    if (s->poll_us > 1000) {
        error_setg(errp, "selfvirt-nic: 'poll-us' must be 0..1000, not %u",
                   s->poll_us);
        return false;
    }
    return true;
}

/* The whole board back to its power-on state; with the BQL. */
static void selfvirt_board_reset(SelfvirtState *s)
{
    trace_selfvirt_reset();
    selfvirt_mbox_reset(s);       /* pauses engines: no DMA in flight */
    selfvirt_engines_pause(s);
    selfvirt_fifo_flush(&s->wire_send);
    selfvirt_window_reset(s);
    selfvirt_irq_reset(s);
    memset(s->mbox_arg, 0, sizeof(s->mbox_arg));
    memset(s->mbox_res, 0, sizeof(s->mbox_res));
    s->mbox_status = 0;
    memset(s->stats, 0, sizeof(s->stats));
    selfvirt_engines_resume(s);
}

static void selfvirt_qdev_reset_hold(Object *obj, ResetType type)
{
    selfvirt_board_reset(SELFVIRT_NIC(obj));
}

static bool selfvirt_can_receive(NetClientState *nc)
{
    SelfvirtState *s = qemu_get_nic_opaque(nc);

    if (!selfvirt_fifo_full(&s->wire_in)) {
        return true;
    }
    /* the wire-rx engine flushes the net queue once it has made room */
    qatomic_set(&s->wire_in_blocked, true);
    return false;
}

static ssize_t selfvirt_receive(NetClientState *nc, const uint8_t *buf,
                                size_t size)
{
    return selfvirt_wire_receive(qemu_get_nic_opaque(nc), buf, size);
}

static NetClientInfo selfvirt_net_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = selfvirt_can_receive,
    .receive = selfvirt_receive,
};

/* Engines stop with the VM (and for migration) and resume with it. */
static void selfvirt_vm_state_change(void *opaque, bool running,
                                     RunState state)
{
    SelfvirtState *s = opaque;

    if (running) {
        selfvirt_engines_resume(s);
    } else {
        selfvirt_engines_pause(s);
    }
}

static void selfvirt_realize(PCIDevice *pdev, Error **errp)
{
    ERRP_GUARD();
    SelfvirtState *s = SELFVIRT_NIC(pdev);
    DeviceState *dev = DEVICE(pdev);

    if (!selfvirt_check_props(s, errp)) {
        return;
    }
    /* whole pages, so that one VIF's partition can be mapped on its own */
    s->part_size = QEMU_ALIGN_DOWN(s->sdram_size / s->num_vifs,
                                   SELFVIRT_PART_ALIGN);

    memory_region_init_io(&s->csr, OBJECT(s), &selfvirt_csr_ops, s,
                          "selfvirt-csr", SELFVIRT_CSR_SIZE);
    pci_register_bar(pdev, SELFVIRT_BAR_CSR, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->csr);

    /* RAM-backed: the host's writes into the send queues do not trap */
    if (!memory_region_init_ram(&s->sdram, OBJECT(s), "selfvirt-sdram",
                                s->sdram_size, errp)) {
        return;
    }
    s->sdram_ptr = memory_region_get_ram_ptr(&s->sdram);
    pci_register_bar(pdev, SELFVIRT_BAR_SDRAM,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &s->sdram);

    selfvirt_irq_init(s, errp);
    if (*errp) {
        return;
    }

    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    s->nic = qemu_new_nic(&selfvirt_net_info, &s->conf,
                          object_get_typename(OBJECT(s)), dev->id,
                          &dev->mem_reentrancy_guard, s);
    qemu_format_nic_info_str(qemu_get_queue(s->nic), s->conf.macaddr.a);

    selfvirt_fifo_init(&s->wire_in, SELFVIRT_WIRE_FIFO_MAX, UINT32_MAX);
    selfvirt_fifo_init(&s->wire_out, SELFVIRT_WIRE_FIFO_MAX, UINT32_MAX);
    selfvirt_fifo_init(&s->wire_send, SELFVIRT_WIRE_SEND_MAX, UINT32_MAX);
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        selfvirt_fifo_init(&s->vif[i].pending, SELFVIRT_PENDING_MAX,
                           SELFVIRT_PENDING_BYTES);
        qemu_mutex_init(&s->vif[i].flags_lock);
    }
    selfvirt_switch_rebuild(s);
    s->tx_bh = qemu_bh_new_guarded(selfvirt_tx_bh, s,
                                   &dev->mem_reentrancy_guard);
    s->rx_flush_bh = qemu_bh_new_guarded(selfvirt_rx_flush_bh, s,
                                         &dev->mem_reentrancy_guard);
    qemu_mutex_init(&s->pause_lock);
    qemu_cond_init(&s->pause_cond);
    selfvirt_window_reset(s);
    s->irq_mask = (1u << s->irq_width) - 1;
    selfvirt_engines_start(s);
    s->vmstate = qemu_add_vm_change_state_handler(selfvirt_vm_state_change, s);
    if (!runstate_is_running()) {
        selfvirt_engines_pause(s);
    }
}

static void selfvirt_exit(PCIDevice *pdev)
{
    SelfvirtState *s = SELFVIRT_NIC(pdev);

    qemu_del_vm_change_state_handler(s->vmstate);
    selfvirt_engines_stop(s);
    qemu_del_nic(s->nic);
    qemu_bh_delete(s->tx_bh);
    qemu_bh_delete(s->rx_flush_bh);
    selfvirt_irq_fini(s);
    selfvirt_fifo_destroy(&s->wire_in);
    selfvirt_fifo_destroy(&s->wire_out);
    selfvirt_fifo_destroy(&s->wire_send);
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        selfvirt_fifo_destroy(&s->vif[i].pending);
        qemu_mutex_destroy(&s->vif[i].flags_lock);
    }
    qemu_cond_destroy(&s->pause_cond);
    qemu_mutex_destroy(&s->pause_lock);
}

static const Property selfvirt_properties[] = {
    DEFINE_NIC_PROPERTIES(SelfvirtState, conf),
    DEFINE_PROP_UINT32("vifs", SelfvirtState, num_vifs, 8),
    DEFINE_PROP_SIZE("sdram-size", SelfvirtState, sdram_size, 256 * MiB),
    DEFINE_PROP_UINT32("window-page-shift", SelfvirtState,
                       win_page_shift_default, 20),
    DEFINE_PROP_UINT32("irq-id-width", SelfvirtState, irq_width, 16),
    DEFINE_PROP_STRING("irq-mode", SelfvirtState, irq_mode_name),
    DEFINE_PROP_UINT32("engines", SelfvirtState, num_engines, 8),
    DEFINE_PROP_UINT32("contexts", SelfvirtState, num_contexts, 8),
    DEFINE_PROP_UINT32("max-frame", SelfvirtState, max_frame, 9018),
    DEFINE_PROP_UINT32("poll-us", SelfvirtState, poll_us, 0),
    DEFINE_PROP_BOOL("x-engines-inline", SelfvirtState, engines_inline, false),
};

static bool selfvirt_is_msix(void *opaque, int version_id)
{
    return SELFVIRT_NIC(opaque)->irq_mode == SELFVIRT_IRQ_MODE_MSIX;
}

static const VMStateDescription selfvirt_vmstate_vif = {
    .name = "selfvirt-nic/vif",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(active, SelfvirtVif),
        VMSTATE_UINT8_ARRAY(mac, SelfvirtVif, ETH_ALEN),
        VMSTATE_UINT32(tx_entries, SelfvirtVif),
        VMSTATE_UINT32(rx_entries, SelfvirtVif),
        VMSTATE_UINT32(rx_buf_size, SelfvirtVif),
        VMSTATE_UINT32(rx_chain, SelfvirtVif),
        VMSTATE_UINT32(rx_coalesce, SelfvirtVif),
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
                            SELFVIRT_RQ_RX_BLOCKED), "rq_flags" },
        { vif->rate.mbps > SELFVIRT_RATE_MAX_MBPS, "rate" },
        { vif->weight < 1 || vif->weight > SELFVIRT_WEIGHT_MAX, "weight" },
        { vif->egress_ctx >= s->num_egress_ctx, "egress_ctx" },
        { is_multicast_ether_addr(vif->mac), "mac" },
    };

    if (i >= s->num_vifs || (s->mode == SELFVIRT_MODE_NIC && i != 0)) {
        error_setg(errp, "no VIF %u on this board in mode %u", i, s->mode);
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
    uint32_t id_bits = (1u << s->irq_width) - 1;

    if (s->win_page_shift < SELFVIRT_WIN_MIN_SHIFT ||
        s->win_page_shift > SELFVIRT_WIN_MAX_SHIFT ||
        s->mode > SELFVIRT_MODE_NIC || (s->irq_id & ~id_bits) ||
        (s->irq_mask & ~id_bits)) {
        error_setg(errp, "board registers out of range");
        return false;
    }
    for (unsigned w = 0; w < ARRAY_SIZE(s->msix_pending); w++) {
        unsigned first = w * 64;
        unsigned vectors = s->irq_mode == SELFVIRT_IRQ_MODE_MSIX
                           ? SELFVIRT_MSIX_VECTORS(s) : 0;
        uint64_t valid = vectors <= first ? 0
                         : vectors - first >= 64 ? UINT64_MAX
                         : (1ull << (vectors - first)) - 1;

        if (s->msix_pending[w] & ~valid) {
            error_setg(errp, "MSI-X vectors pending that the board lacks");
            return false;
        }
    }
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        if (s->vif[i].active && !selfvirt_vif_state_ok(s, i, errp)) {
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
        selfvirt_board_reset(s);
        return -EINVAL;
    }
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        selfvirt_rate_set(&s->vif[i].rate, s->vif[i].rate.mbps);
    }
    selfvirt_switch_rebuild(s);
    return 0;
}

static const VMStateDescription selfvirt_vmstate = {
    .name = "selfvirt-nic",
    .version_id = 2,
    .minimum_version_id = 2,
    .post_load = selfvirt_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, SelfvirtState),
        VMSTATE_MSIX_TEST(parent_obj, SelfvirtState, selfvirt_is_msix),
        VMSTATE_UINT32_ARRAY(win_lo, SelfvirtState, SELFVIRT_WIN_ENTRIES),
        VMSTATE_UINT32_ARRAY(win_hi, SelfvirtState, SELFVIRT_WIN_ENTRIES),
        VMSTATE_UINT32(win_page_shift, SelfvirtState),
        VMSTATE_UINT32(irq_id, SelfvirtState),
        VMSTATE_UINT32(irq_mask, SelfvirtState),
        VMSTATE_UINT64_ARRAY(msix_pending, SelfvirtState, 2),
        VMSTATE_UINT32_ARRAY(mbox_arg, SelfvirtState, SELFVIRT_MBOX_NARGS),
        VMSTATE_UINT32_ARRAY(mbox_res, SelfvirtState, SELFVIRT_MBOX_NARGS),
        VMSTATE_UINT32(mbox_status, SelfvirtState),
        VMSTATE_UINT32(mode, SelfvirtState),
        VMSTATE_BOOL(promisc, SelfvirtState),
        VMSTATE_UINT32(next_egress_ctx, SelfvirtState),
        VMSTATE_UINT32_ARRAY(stats, SelfvirtState, SELFVIRT_STAT_COUNT),
        VMSTATE_STRUCT_ARRAY(vif, SelfvirtState, SELFVIRT_MAX_VIFS, 2,
                             selfvirt_vmstate_vif, SelfvirtVif),
        VMSTATE_END_OF_LIST()
    },
};

static void selfvirt_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = selfvirt_realize;
    k->exit = selfvirt_exit;
    k->vendor_id = SELFVIRT_PCI_VENDOR_ID;
    k->device_id = SELFVIRT_PCI_DEVICE_ID;
    k->revision = SELFVIRT_PCI_REVISION;
    k->class_id = PCI_CLASS_NETWORK_ETHERNET;
    dc->desc = "Self-virtualizing NIC (IXP2400-style NP with VIFs)";
    dc->vmsd = &selfvirt_vmstate;
    rc->phases.hold = selfvirt_qdev_reset_hold;

    device_class_set_props(dc, selfvirt_properties);
    object_class_property_set_description(klass, "vifs",
        "virtual interfaces, 1..64");
    object_class_property_set_description(klass, "sdram-size",
        "board SDRAM holding the send queues, power of two 16M..2G");
    object_class_property_set_description(klass, "window-page-shift",
        "log2 of the host window page size at reset, 8..25");
    object_class_property_set_description(klass, "irq-id-width",
        "bits of the interrupt identifier, 1..16: fewer bits, more sharing");
    object_class_property_set_description(klass, "irq-mode",
        "'identifier' (the paper's, default) or 'msix' (a vector per signal)");
    object_class_property_set_description(klass, "engines",
        "micro-engine threads, 4..8: engines 3 and up run egress");
    object_class_property_set_description(klass, "contexts",
        "hardware contexts per micro-engine, 1..8");
    object_class_property_set_description(klass, "max-frame",
        "largest frame in bytes, 1514..16384 (jumbo frames)");
    object_class_property_set_description(klass, "x-engines-inline",
        "testing only: run the micro-engines on the calling thread, so "
        "that a fuzzer's input replays");
    object_class_property_set_description(klass, "poll-us",
        "microseconds an idle egress engine polls before it sleeps");
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
}

static const TypeInfo selfvirt_info = {
    .name = TYPE_SELFVIRT_NIC,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(SelfvirtState),
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
