// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: Linux driver for the self-virtualizing NIC (QEMU selfvirt-nic)
 *
 * The management side of the paper's design (its dom0 driver): probe the
 * board, read its capabilities, own its CSR and SDRAM BARs.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/etherdevice.h>
#include "selfvirt.h"

static const struct pci_device_id selfvirt_pci_tbl[] = {
	{ PCI_DEVICE(SELFVIRT_PCI_VENDOR_ID, SELFVIRT_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, selfvirt_pci_tbl);

static int selfvirt_read_caps(struct selfvirt_board *b)
{
	struct device *dev = &b->pdev->dev;
	u32 id = selfvirt_rd(b, SELFVIRT_REG_ID);
	u32 ver = selfvirt_rd(b, SELFVIRT_REG_VERSION);
	u32 v;

	if (id != SELFVIRT_ID_MAGIC) {
		dev_err(dev, "not a selfvirt board (id %#x)\n", id);
		return -ENODEV;
	}
	if ((ver >> 16) != (SELFVIRT_ABI_VERSION >> 16)) {
		dev_err(dev, "ABI version %#x, driver speaks %#x\n", ver,
			SELFVIRT_ABI_VERSION);
		return -ENODEV;
	}
	b->caps = selfvirt_rd(b, SELFVIRT_REG_CAPS);
	b->max_vifs = selfvirt_rd(b, SELFVIRT_REG_MAX_VIFS);
	v = selfvirt_rd(b, SELFVIRT_REG_ENGINES);
	b->engines = SELFVIRT_ENGINES_COUNT(v);
	b->contexts = SELFVIRT_ENGINES_CONTEXTS(v);
	b->win_entries = SELFVIRT_WIN_INFO_ENTRIES(selfvirt_rd(b,
					SELFVIRT_REG_WIN_INFO));
	v = selfvirt_rd(b, SELFVIRT_REG_IRQ_INFO);
	b->irq_width = SELFVIRT_IRQ_INFO_WIDTH(v);
	b->irq_mode = SELFVIRT_IRQ_INFO_MODE(v);
	b->max_frame = selfvirt_rd(b, SELFVIRT_REG_MAX_FRAME);
	put_unaligned_le32(selfvirt_rd(b, SELFVIRT_REG_MAC_LO), b->base_mac);
	put_unaligned_le16(selfvirt_rd(b, SELFVIRT_REG_MAC_HI), b->base_mac + 4);

	if (!b->max_vifs || b->max_vifs > SELFVIRT_WIN_ENTRIES ||
	    !b->irq_width || b->irq_width > 16 ||
	    b->win_entries != SELFVIRT_WIN_ENTRIES) {
		dev_err(dev, "implausible capabilities: vifs %u, windows %u, identifier width %u\n",
			b->max_vifs, b->win_entries, b->irq_width);
		return -ENODEV;
	}
	dev_info(dev, "board: %u VIFs, %u micro-engines x %u contexts, %llu MiB SDRAM, %u windows, %u-bit identifier (%s), max frame %u, base MAC %pM, caps %#x\n",
		 b->max_vifs, b->engines, b->contexts,
		 (unsigned long long)b->sdram_len >> 20, b->win_entries,
		 b->irq_width,
		 b->irq_mode == SELFVIRT_IRQ_MODE_MSIX ? "msix" : "identifier",
		 b->max_frame, b->base_mac, b->caps);
	return 0;
}

static ssize_t max_vifs_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", b->max_vifs);
}
static DEVICE_ATTR_RO(max_vifs);

static ssize_t caps_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%#x\n", b->caps);
}
static DEVICE_ATTR_RO(caps);

static struct attribute *selfvirt_board_attrs[] = {
	&dev_attr_max_vifs.attr,
	&dev_attr_caps.attr,
	NULL,
};

static const struct attribute_group selfvirt_board_group = {
	.name = "selfvirt",
	.attrs = selfvirt_board_attrs,
};

static int selfvirt_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct selfvirt_board *b;
	int err;

	b = devm_kzalloc(dev, sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->pdev = pdev;
	pci_set_drvdata(pdev, b);

	err = pcim_enable_device(pdev);
	if (err)
		return err;
	err = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (err)
		return err;
	err = pcim_iomap_regions(pdev, BIT(SELFVIRT_BAR_CSR), SELFVIRT_DRV_NAME);
	if (err)
		return err;
	b->csr = pcim_iomap_table(pdev)[SELFVIRT_BAR_CSR];

	/* The send queues: the host only ever writes here, so combine writes. */
	err = pci_request_region(pdev, SELFVIRT_BAR_SDRAM, SELFVIRT_DRV_NAME);
	if (err)
		return err;
	b->sdram_len = pci_resource_len(pdev, SELFVIRT_BAR_SDRAM);
	b->sdram = pci_iomap_wc(pdev, SELFVIRT_BAR_SDRAM, 0);
	if (!b->sdram) {
		err = -ENOMEM;
		goto err_release_sdram;
	}
	pci_set_master(pdev);

	err = selfvirt_read_caps(b);
	if (err)
		goto err_unmap_sdram;
	err = sysfs_create_group(&dev->kobj, &selfvirt_board_group);
	if (err)
		goto err_unmap_sdram;
	return 0;

err_unmap_sdram:
	pci_iounmap(pdev, b->sdram);
err_release_sdram:
	pci_release_region(pdev, SELFVIRT_BAR_SDRAM);
	return err;
}

static void selfvirt_remove(struct pci_dev *pdev)
{
	struct selfvirt_board *b = pci_get_drvdata(pdev);

	sysfs_remove_group(&pdev->dev.kobj, &selfvirt_board_group);
	pci_iounmap(pdev, b->sdram);
	pci_release_region(pdev, SELFVIRT_BAR_SDRAM);
	dev_info(&pdev->dev, "removed\n");
}

static struct pci_driver selfvirt_driver = {
	.name = SELFVIRT_DRV_NAME,
	.id_table = selfvirt_pci_tbl,
	.probe = selfvirt_probe,
	.remove = selfvirt_remove,
};
module_pci_driver(selfvirt_driver);

MODULE_DESCRIPTION("Self-virtualizing NIC (selfvirt-nic) driver");
MODULE_LICENSE("GPL");
