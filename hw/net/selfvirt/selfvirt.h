/*
 * selfvirt: a self-virtualizing NIC (IXP2400 NP board behind a 21555 bridge)
 *
 * Internal state shared by the files of the model: selfvirt.c (PCI glue,
 * CSR dispatch), and one file per part of the board.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NET_SELFVIRT_H
#define HW_NET_SELFVIRT_H

#include "hw/pci/pci_device.h"
#include "net/net.h"
#include "qom/object.h"
#include "selfvirt_abi.h"

#define TYPE_SELFVIRT_NIC "selfvirt-nic"
OBJECT_DECLARE_SIMPLE_TYPE(SelfvirtState, SELFVIRT_NIC)

#define SELFVIRT_MAX_VIFS       64   /* one window entry at least per VIF */
#define SELFVIRT_MAX_ENGINES    8
#define SELFVIRT_MAX_CONTEXTS   8

struct SelfvirtState {
    PCIDevice parent_obj;

    MemoryRegion csr;
    MemoryRegion sdram;
    NICState *nic;
    NICConf conf;

    /* properties */
    uint32_t num_vifs;
    uint64_t sdram_size;
    uint32_t win_page_shift_default;
    uint32_t irq_width;
    uint32_t irq_mode;
    uint32_t num_engines;
    uint32_t num_contexts;
    uint32_t max_frame;
};

#endif
