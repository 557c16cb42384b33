// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: the VIF function, one VIF of the board as a VM sees it
 *
 * The management side (mdev.c, in the VM's host) hands one VIF to the VM
 * as a PCI function of its own, 1af4:10f1: a register BAR, the VIF's send
 * queue in the board's SDRAM (BAR2), its receive queue (BAR4, read-only)
 * and one MSI.  The VM runs the same VIF code as the host (vif.c): frames
 * and indexes go straight to the board's memory; only the doorbell traps.
 */
#include <linux/io.h>
#include <linux/module.h>
#include "selfvirt.h"

/* Identity and geometry from the register BAR, checked before use. */
static int selfvirt_function_read_regs(struct selfvirt_board *b)
{
	struct pci_dev *pdev = b->pdev;
	u32 id = selfvirt_rd(b, SELFVIRT_VIF_REG_ID);
	u32 ver = selfvirt_rd(b, SELFVIRT_VIF_REG_VERSION);

	if (id != SELFVIRT_VIF_ID_MAGIC ||
	    SELFVIRT_ABI_MAJOR(ver) != SELFVIRT_ABI_MAJOR(SELFVIRT_ABI_VERSION)) {
		dev_err(&pdev->dev, "not a selfvirt VIF function (id %#x, ABI %#x)\n",
			id, ver);
		return -ENODEV;
	}
	b->caps = selfvirt_rd(b, SELFVIRT_VIF_REG_CAPS);
	b->max_frame = selfvirt_rd(b, SELFVIRT_VIF_REG_MAX_FRAME);
	b->part_size = selfvirt_rd(b, SELFVIRT_VIF_REG_PART_SIZE);
	if (b->part_size > pci_resource_len(pdev, SELFVIRT_VIF_BAR_SQ) ||
	    b->max_frame < ETH_ZLEN || b->max_frame > SELFVIRT_TSO_MAX_FRAME) {
		dev_err(&pdev->dev, "implausible VIF function: partition %u of %llu, max frame %u\n",
			b->part_size,
			(unsigned long long)pci_resource_len(pdev, SELFVIRT_VIF_BAR_SQ),
			b->max_frame);
		return -ENODEV;
	}
	b->max_vifs = 1;
	b->no_mbox = true;
	return 0;
}

/**
 * selfvirt_function_probe - bind a VIF function and register its interface
 * @pdev: the function
 * @id: its entry in the ID table
 *
 * Return: 0 or a negative errno.
 */
static int selfvirt_function_probe(struct pci_dev *pdev,
				   const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct selfvirt_board *b;
	u8 mac[ETH_ALEN];
	u32 rq_size;
	void *rq;
	int err;

	b = selfvirt_board_alloc(pdev);
	if (!b)
		return -ENOMEM;
	err = pcim_enable_device(pdev);
	if (err)
		return err;
	err = pcim_iomap_regions(pdev, BIT(SELFVIRT_VIF_BAR_REGS), SELFVIRT_DRV_NAME);
	if (err)
		return err;
	b->csr = pcim_iomap_table(pdev)[SELFVIRT_VIF_BAR_REGS];
	err = selfvirt_function_read_regs(b);
	if (err)
		return err;

	if (!devm_request_mem_region(dev, pci_resource_start(pdev, SELFVIRT_VIF_BAR_SQ),
				     pci_resource_len(pdev, SELFVIRT_VIF_BAR_SQ),
				     SELFVIRT_DRV_NAME) ||
	    !devm_request_mem_region(dev, pci_resource_start(pdev, SELFVIRT_VIF_BAR_RQ),
				     pci_resource_len(pdev, SELFVIRT_VIF_BAR_RQ),
				     SELFVIRT_DRV_NAME))
		return -EBUSY;
	/* the doorbell page, where the management host offers one */
	if (pci_resource_len(pdev, SELFVIRT_VIF_BAR_DOORBELL) >=
	    SELFVIRT_DOORBELL_PAGE_SIZE) {
		if (!devm_request_mem_region(dev,
					     pci_resource_start(pdev, SELFVIRT_VIF_BAR_DOORBELL),
					     SELFVIRT_DOORBELL_PAGE_SIZE,
					     SELFVIRT_DRV_NAME))
			return -EBUSY;
		b->doorbell_page = devm_ioremap(dev,
						pci_resource_start(pdev, SELFVIRT_VIF_BAR_DOORBELL),
						SELFVIRT_DOORBELL_PAGE_SIZE);
		if (!b->doorbell_page)
			return -ENOMEM;
	}
	/* MSI is a memory write of the function's */
	pci_set_master(pdev);

	/* the send queue: written only, so combine writes, as on the board */
	b->sdram = devm_ioremap_wc(dev, pci_resource_start(pdev, SELFVIRT_VIF_BAR_SQ),
				   b->part_size);
	rq_size = selfvirt_rd(b, SELFVIRT_VIF_REG_RQ_SIZE);
	if (!b->sdram || rq_size > pci_resource_len(pdev, SELFVIRT_VIF_BAR_RQ))
		return -ENOMEM;
	/* the receive queue is memory the board writes by DMA: cacheable */
	rq = devm_memremap(dev, pci_resource_start(pdev, SELFVIRT_VIF_BAR_RQ),
			   rq_size, MEMREMAP_WB);
	if (IS_ERR(rq))
		return PTR_ERR(rq);
	err = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (err < 0) {
		dev_err(dev, "no MSI: %d\n", err);
		return err;
	}
	put_unaligned_le32(selfvirt_rd(b, SELFVIRT_VIF_REG_MAC_LO), mac);
	put_unaligned_le16(selfvirt_rd(b, SELFVIRT_VIF_REG_MAC_HI), mac + 4);
	err = selfvirt_vif_create_function(b, rq, rq_size,
					   selfvirt_rd(b, SELFVIRT_VIF_REG_QUEUES),
					   selfvirt_rd(b, SELFVIRT_VIF_REG_RX_BUF),
					   selfvirt_rd(b, SELFVIRT_VIF_REG_RX_CHAIN), mac);
	if (err)
		pci_free_irq_vectors(pdev);
	return err;
}

/**
 * selfvirt_function_remove - unregister the VIF function's interface
 * @pdev: the function
 */
static void selfvirt_function_remove(struct pci_dev *pdev)
{
	struct selfvirt_board *b = pci_get_drvdata(pdev);

	selfvirt_vif_destroy_function(b);
	pci_free_irq_vectors(pdev);
}

static const struct pci_device_id selfvirt_function_tbl[] = {
	{ PCI_DEVICE(SELFVIRT_PCI_VENDOR_ID, SELFVIRT_VIF_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, selfvirt_function_tbl);

struct pci_driver selfvirt_function_driver = {
	.name = SELFVIRT_DRV_NAME "-vif",
	.id_table = selfvirt_function_tbl,
	.probe = selfvirt_function_probe,
	.remove = selfvirt_function_remove,
};
