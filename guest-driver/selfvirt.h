/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selfvirt: Linux driver for the self-virtualizing NIC (QEMU selfvirt-nic)
 */
#ifndef _SELFVIRT_H_
#define _SELFVIRT_H_

#include <linux/pci.h>
#include <linux/netdevice.h>
#include "selfvirt_abi.h"

#define SELFVIRT_DRV_NAME	"selfvirt"

/* The board, as the management (the paper's dom0) driver sees it. */
struct selfvirt_board {
	struct pci_dev *pdev;
	void __iomem *csr;
	void __iomem *sdram;		/* write-combining */
	resource_size_t sdram_len;

	u32 caps;
	u32 max_vifs;
	u32 engines;
	u32 contexts;
	u32 win_entries;
	u32 irq_width;
	u32 irq_mode;
	u32 max_frame;
	u32 part_size;
	u8 base_mac[ETH_ALEN];
};

static inline u32 selfvirt_rd(struct selfvirt_board *b, u32 reg)
{
	return ioread32(b->csr + reg);
}

static inline void selfvirt_wr(struct selfvirt_board *b, u32 reg, u32 val)
{
	iowrite32(val, b->csr + reg);
}

#endif /* _SELFVIRT_H_ */
