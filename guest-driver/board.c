// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: the board: its capabilities, set-up, reset and the VIFs of probe
 *
 * The management side of the paper's design (its dom0 driver) owns the
 * board's CSR and SDRAM BARs, reads its capabilities, and sets it up after
 * power-on or a reset: identifier width, mode, window page size.
 */
#include <linux/rtnetlink.h>
#include "selfvirt.h"

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
	if (SELFVIRT_ABI_MAJOR(ver) != SELFVIRT_ABI_MAJOR(SELFVIRT_ABI_VERSION)) {
		dev_err(dev, "ABI version %#x, driver speaks %#x\n", ver,
			SELFVIRT_ABI_VERSION);
		return -ENODEV;
	}
	b->caps = selfvirt_rd(b, SELFVIRT_REG_CAPS);
	b->max_vifs = selfvirt_rd(b, SELFVIRT_REG_MAX_VIFS);
	v = selfvirt_rd(b, SELFVIRT_REG_ENGINES);
	b->engines = SELFVIRT_ENGINES_COUNT(v);
	b->contexts = SELFVIRT_ENGINES_CONTEXTS(v);
	v = selfvirt_rd(b, SELFVIRT_REG_WIN_INFO);
	b->win_entries = SELFVIRT_WIN_INFO_ENTRIES(v);
	v = selfvirt_rd(b, SELFVIRT_REG_IRQ_INFO);
	b->irq_width = SELFVIRT_IRQ_INFO_WIDTH(v);
	b->irq_mode = SELFVIRT_IRQ_INFO_MODE(v);
	b->max_frame = selfvirt_rd(b, SELFVIRT_REG_MAX_FRAME);
	b->part_size = selfvirt_rd(b, SELFVIRT_REG_PART_SIZE);
	put_unaligned_le32(selfvirt_rd(b, SELFVIRT_REG_MAC_LO), b->base_mac);
	put_unaligned_le16(selfvirt_rd(b, SELFVIRT_REG_MAC_HI), b->base_mac + 4);

	if (!b->max_vifs || b->max_vifs > SELFVIRT_WIN_ENTRIES ||
	    !b->irq_width || b->irq_width > SELFVIRT_IRQ_ID_BITS ||
	    b->win_entries != SELFVIRT_WIN_ENTRIES ||
	    b->part_size > b->sdram_len ||
	    b->part_size < SELFVIRT_SQ_DATA_OFF(SELFVIRT_QUEUE_MIN) + SELFVIRT_TX_ROOM) {
		dev_err(dev, "implausible capabilities: vifs %u, windows %u, identifier width %u, partition %u\n",
			b->max_vifs, b->win_entries, b->irq_width, b->part_size);
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

/*
 * BAR1, the doorbell pages that mdevs map into VMs: claimed, and only if it
 * is memory with a page for every VIF; else VMs' doorbells trap.
 */
static int selfvirt_doorbell_bar(struct selfvirt_board *b)
{
	struct pci_dev *pdev = b->pdev;
	u64 need = SELFVIRT_DOORBELL_PAGE(b->max_vifs);

	if (!(b->caps & SELFVIRT_CAP_DOORBELL_PAGES))
		return 0;
	if (!(pci_resource_flags(pdev, SELFVIRT_BAR_DOORBELL) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, SELFVIRT_BAR_DOORBELL) < need) {
		dev_warn(&pdev->dev, "BAR1 is not %llu bytes of memory: no doorbell pages\n",
			 need);
		b->caps &= ~SELFVIRT_CAP_DOORBELL_PAGES;
		return 0;
	}
	return pcim_iomap_regions(pdev, BIT(SELFVIRT_BAR_DOORBELL),
				  SELFVIRT_DRV_NAME);
}

/**
 * selfvirt_board_map - enable the board and map its CSR and SDRAM BARs
 * @b: the board
 *
 * Return: 0 or a negative errno; selfvirt_board_unmap() undoes it.
 */
int selfvirt_board_map(struct selfvirt_board *b)
{
	struct pci_dev *pdev = b->pdev;
	int err;

	err = pcim_enable_device(pdev);
	if (err)
		return err;
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
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
		pci_release_region(pdev, SELFVIRT_BAR_SDRAM);
		return -ENOMEM;
	}
	pci_set_master(pdev);
	return 0;
}

void selfvirt_board_unmap(struct selfvirt_board *b)
{
	pci_iounmap(b->pdev, b->sdram);
	pci_release_region(b->pdev, SELFVIRT_BAR_SDRAM);
}

/**
 * selfvirt_board_identify - read what the board is, and reset it
 * @b: the board, mapped
 *
 * Return: 0, or -ENODEV for a board this driver cannot drive.
 */
int selfvirt_board_identify(struct selfvirt_board *b)
{
	int err;

	err = selfvirt_read_caps(b);
	if (!err)
		err = selfvirt_doorbell_bar(b);
	if (err)
		return err;
	/* a known state whatever the previous user left: reset the board */
	err = selfvirt_mbox(b, SELFVIRT_CMD_RESET, NULL, 0, NULL, 0);
	if (err)
		return err;
	/* the board's own identifier width, not one a previous user chose */
	b->irq_width_max = SELFVIRT_IRQ_INFO_WIDTH(selfvirt_rd(b, SELFVIRT_REG_IRQ_INFO));
	if (!b->irq_width_max || b->irq_width_max > SELFVIRT_IRQ_ID_BITS) {
		dev_err(&b->pdev->dev, "identifier width %u after reset\n",
			b->irq_width_max);
		return -ENODEV;
	}
	b->irq_width = b->irq_width_max;
	return 0;
}

/*
 * Window page size: the smallest that holds one VIF's receive queue, of
 * posted buffers where the VIFs post them.
 */
static void selfvirt_setup_windows(struct selfvirt_board *b)
{
	size_t need = SELFVIRT_RQ_DATA_OFF(b->rx_entries) +
		      (size_t)b->rx_entries * b->rx_buf;

	if (selfvirt_rx_pool_wanted(b, b->rx_buf))
		need = max(need, selfvirt_rx_pool_size(b->rx_entries));

	b->win_shift = clamp_t(u32, order_base_2(need), SELFVIRT_WIN_MIN_SHIFT,
			       SELFVIRT_WIN_MAX_SHIFT);
	selfvirt_wr(b, SELFVIRT_REG_WIN_PAGE_SHIFT, b->win_shift);
}

/**
 * selfvirt_board_set_mode - the board's mode and promiscuous switch (SET_MODE)
 * @b: the board
 *
 * Promiscuous if the devlink parameter says so, or, in NIC mode, if the
 * one interface is.
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_board_set_mode(struct selfvirt_board *b)
{
	struct selfvirt_vif *vif = READ_ONCE(b->vif[0]);
	u32 args[2] = { b->nic_mode ? SELFVIRT_MODE_NIC : SELFVIRT_MODE_SELF_VIRT,
			READ_ONCE(b->promisc) };

	if (b->nic_mode && vif && (READ_ONCE(vif->netdev->flags) & IFF_PROMISC))
		args[1] = 1;
	return selfvirt_mbox(b, SELFVIRT_CMD_SET_MODE, args, 2, NULL, 0);
}

/* The identifier width chosen with devlink, if not the board's own. */
static int selfvirt_setup_irq_width(struct selfvirt_board *b)
{
	u32 v;

	if (b->irq_mode != SELFVIRT_IRQ_MODE_IDENTIFIER ||
	    b->irq_width == b->irq_width_max)
		return 0;
	selfvirt_wr(b, SELFVIRT_REG_IRQ_INFO, SELFVIRT_IRQ_INFO(b->irq_width, 0));
	v = selfvirt_rd(b, SELFVIRT_REG_IRQ_INFO);
	if (SELFVIRT_IRQ_INFO_WIDTH(v) != b->irq_width) {
		dev_err(&b->pdev->dev, "board kept a %u-bit identifier, not %u\n",
			SELFVIRT_IRQ_INFO_WIDTH(v), b->irq_width);
		return -EIO;
	}
	return 0;
}

/*
 * Identifier width, mode, window page size and interrupt mask: after
 * power-on or a reset, before any VIF is on the board.
 */
int selfvirt_board_setup(struct selfvirt_board *b)
{
	int err;

	err = selfvirt_setup_irq_width(b);
	if (err)
		return err;
	if (b->nic_mode || b->promisc) {
		err = selfvirt_board_set_mode(b);
		if (err)
			return err;
	}
	selfvirt_setup_windows(b);
	selfvirt_wr(b, SELFVIRT_REG_IRQ_ID, GENMASK(b->irq_width - 1, 0));
	selfvirt_wr(b, SELFVIRT_REG_IRQ_MASK, 0);
	return 0;
}

/**
 * selfvirt_board_reinit - reset the board, no VIF on it, and set it up
 * @b: the board, with the mode and identifier width to apply
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_board_reinit(struct selfvirt_board *b)
{
	int err;

	devl_assert_locked(priv_to_devlink(b));
	err = selfvirt_mbox(b, SELFVIRT_CMD_RESET, NULL, 0, NULL, 0);
	if (err)
		return err;
	return selfvirt_board_setup(b);
}

/*
 * Reset the board under the VIFs.  Their interfaces stay (and stay in
 * their namespaces); frames in flight are lost, nothing else.
 */
int selfvirt_board_reset(struct selfvirt_board *b)
{
	unsigned int i;
	int err, ret;

	devl_assert_locked(priv_to_devlink(b));
	ASSERT_RTNL();
	lockdep_assert_held(&b->vif_lock);
	for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++) {
		if (b->mdev[i]) {
			/* a VM's rings would vanish under it */
			dev_err(&b->pdev->dev, "no reset while VIF %u is a VM's (mdev)\n",
				i);
			return -EBUSY;
		}
	}
	for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++)
		if (b->vif[i])
			selfvirt_vif_quiesce(b->vif[i]);
	selfvirt_wr(b, SELFVIRT_REG_DEV_CTRL, SELFVIRT_DEV_CTRL_RESET);
	ret = selfvirt_board_setup(b);
	for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++) {
		if (!b->vif[i])
			continue;
		err = selfvirt_vif_restore(b->vif[i]);
		if (err) {
			netdev_err(b->vif[i]->netdev, "not restored after reset: %d\n",
				   err);
			ret = err;
		}
	}
	return ret;
}

/**
 * selfvirt_board_create_vifs - the VIFs of probe: "vifs", or one in NIC mode
 * @b: the board, with no VIF
 *
 * Return: 0 or a negative errno; the VIFs made stay.
 */
int selfvirt_board_create_vifs(struct selfvirt_board *b)
{
	unsigned int i, n = b->nic_mode ? 1 : min(b->vifs, b->max_vifs);
	int err;

	devl_assert_locked(priv_to_devlink(b));
	for (i = 0; i < n; i++) {
		err = selfvirt_vif_create(b, i, b->tx_entries, b->rx_entries,
					  selfvirt_rx_pool_slot_size(b));
		if (err < 0)
			return err;
	}
	return 0;
}

/* Locks and driver data, for a board or a VIF function. */
void selfvirt_board_init(struct selfvirt_board *b, struct pci_dev *pdev)
{
	b->pdev = pdev;
	mutex_init(&b->mbox_lock);
	mutex_init(&b->vif_lock);
	pci_set_drvdata(pdev, b);
}

/**
 * selfvirt_board_alloc - the driver's state of a VIF function
 * @pdev: its PCI device, whose driver data it becomes
 *
 * A board's is a devlink instance's instead: selfvirt_devlink_alloc().
 *
 * Return: the state (device-managed), or NULL.
 */
struct selfvirt_board *selfvirt_board_alloc(struct pci_dev *pdev)
{
	struct selfvirt_board *b;

	b = devm_kzalloc(&pdev->dev, sizeof(*b), GFP_KERNEL);
	if (b)
		selfvirt_board_init(b, pdev);
	return b;
}

/* The VIFs of probe, under the instance lock; none left on failure. */
int selfvirt_board_probe_vifs(struct selfvirt_board *b)
{
	struct devlink *devlink = priv_to_devlink(b);
	unsigned int i;
	int err;

	devl_lock(devlink);
	err = selfvirt_board_create_vifs(b);
	if (err)
		for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++)
			selfvirt_vif_destroy(b, i);
	devl_unlock(devlink);
	return err;
}

void selfvirt_board_destroy_vifs(struct selfvirt_board *b)
{
	struct devlink *devlink = priv_to_devlink(b);
	unsigned int i;

	devl_lock(devlink);
	for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++)
		selfvirt_vif_destroy(b, i);
	devl_unlock(devlink);
}
