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
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "selfvirt.h"
#include "trace.h"

static uint32_t selfvirt_caps(SelfvirtState *s)
{
    uint32_t caps = SELFVIRT_CAP_TX_CSUM | SELFVIRT_CAP_TSO |
                    SELFVIRT_CAP_RX_CSUM | SELFVIRT_CAP_JUMBO |
                    SELFVIRT_CAP_NIC_MODE;

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
        val = s->num_engines | (s->num_contexts << 8);
        break;
    case SELFVIRT_REG_SDRAM_SIZE_LO:
        val = (uint32_t)s->sdram_size;
        break;
    case SELFVIRT_REG_SDRAM_SIZE_HI:
        val = s->sdram_size >> 32;
        break;
    case SELFVIRT_REG_WIN_INFO:
        val = SELFVIRT_WIN_ENTRIES | (SELFVIRT_WIN_MIN_SHIFT << 8) |
              (SELFVIRT_WIN_MAX_SHIFT << 16);
        break;
    case SELFVIRT_REG_IRQ_INFO:
        val = s->irq_width | (s->irq_mode << 8);
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
    trace_selfvirt_csr_write(addr, val);
    qemu_log_mask(LOG_GUEST_ERROR,
                  "selfvirt: write of read-only or unknown register 0x%"
                  HWADDR_PRIx "\n", addr);
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
    if (s->irq_mode > SELFVIRT_IRQ_MODE_MSIX) {
        error_setg(errp, "selfvirt-nic: 'irq-mode' must be 0 (identifier) "
                   "or 1 (msix), not %u", s->irq_mode);
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
        error_setg(errp, "selfvirt-nic: 'max-frame' must be 1514..16384");
        return false;
    }
    return true;
}

static void selfvirt_realize(PCIDevice *pdev, Error **errp)
{
    SelfvirtState *s = SELFVIRT_NIC(pdev);

    if (!selfvirt_check_props(s, errp)) {
        return;
    }

    memory_region_init_io(&s->csr, OBJECT(s), &selfvirt_csr_ops, s,
                          "selfvirt-csr", SELFVIRT_CSR_SIZE);
    pci_register_bar(pdev, SELFVIRT_BAR_CSR, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->csr);

    /* RAM-backed: the host's writes into the send queues do not trap */
    if (!memory_region_init_ram(&s->sdram, OBJECT(s), "selfvirt-sdram",
                                s->sdram_size, errp)) {
        return;
    }
    pci_register_bar(pdev, SELFVIRT_BAR_SDRAM,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &s->sdram);

    pci_config_set_interrupt_pin(pdev->config, 1);
    qemu_macaddr_default_if_unset(&s->conf.macaddr);
}

static void selfvirt_exit(PCIDevice *pdev)
{
}

static const Property selfvirt_properties[] = {
    DEFINE_NIC_PROPERTIES(SelfvirtState, conf),
    DEFINE_PROP_UINT32("vifs", SelfvirtState, num_vifs, 8),
    DEFINE_PROP_SIZE("sdram-size", SelfvirtState, sdram_size, 256 * MiB),
    DEFINE_PROP_UINT32("window-page-shift", SelfvirtState,
                       win_page_shift_default, 20),
    DEFINE_PROP_UINT32("irq-id-width", SelfvirtState, irq_width, 16),
    DEFINE_PROP_UINT32("irq-mode", SelfvirtState, irq_mode,
                       SELFVIRT_IRQ_MODE_IDENTIFIER),
    DEFINE_PROP_UINT32("engines", SelfvirtState, num_engines, 4),
    DEFINE_PROP_UINT32("contexts", SelfvirtState, num_contexts, 8),
    DEFINE_PROP_UINT32("max-frame", SelfvirtState, max_frame, 9018),
};

static const VMStateDescription selfvirt_vmstate = {
    .name = "selfvirt-nic",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, SelfvirtState),
        VMSTATE_END_OF_LIST()
    },
};

static void selfvirt_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = selfvirt_realize;
    k->exit = selfvirt_exit;
    k->vendor_id = SELFVIRT_PCI_VENDOR_ID;
    k->device_id = SELFVIRT_PCI_DEVICE_ID;
    k->revision = SELFVIRT_PCI_REVISION;
    k->class_id = PCI_CLASS_NETWORK_ETHERNET;
    dc->desc = "Self-virtualizing NIC (IXP2400-style NP with VIFs)";
    dc->vmsd = &selfvirt_vmstate;
    device_class_set_props(dc, selfvirt_properties);
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
