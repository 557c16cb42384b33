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
#include <linux/interrupt.h>
#include <linux/rtnetlink.h>
#include <net/devlink.h>
#include "selfvirt.h"

static unsigned int vifs = 1;
module_param(vifs, uint, 0444);
MODULE_PARM_DESC(vifs, "VIFs to create at probe (default 1)");
static unsigned int tx_entries = 256;
module_param(tx_entries, uint, 0444);
MODULE_PARM_DESC(tx_entries, "send queue entries per VIF (power of two)");
static unsigned int rx_entries = 256;
module_param(rx_entries, uint, 0444);
MODULE_PARM_DESC(rx_entries, "receive queue entries per VIF (power of two)");
static unsigned int rx_buf = 2048;
module_param(rx_buf, uint, 0444);
MODULE_PARM_DESC(rx_buf, "receive buffer bytes; sets the largest MTU (default 2048)");
static bool nic_mode;
module_param(nic_mode, bool, 0444);
MODULE_PARM_DESC(nic_mode, "plain NIC mode: one interface with the board's MAC");
bool selfvirt_cost_stats;
module_param_named(cost_stats, selfvirt_cost_stats, bool, 0644);
MODULE_PARM_DESC(cost_stats, "count the host's costs per message and interrupt (ethtool -S host_*)");

static const struct pci_device_id selfvirt_pci_tbl[] = {
	{ PCI_DEVICE(SELFVIRT_PCI_VENDOR_ID, SELFVIRT_PCI_DEVICE_ID) },
	/* one VIF handed to this (virtual) machine: function.c */
	{ PCI_DEVICE(SELFVIRT_PCI_VENDOR_ID, SELFVIRT_VIF_PCI_DEVICE_ID) },
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

/* "vifs": one line per VIF, "INDEX IFNAME" */
static ssize_t vifs_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);
	unsigned int i;
	int len = 0;

	mutex_lock(&b->vif_lock);
	for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++)
		if (b->vif[i])
			len += sysfs_emit_at(buf, len, "%u %s\n", i,
					     netdev_name(b->vif[i]->netdev));
	mutex_unlock(&b->vif_lock);
	return len;
}
static DEVICE_ATTR_RO(vifs);

/*
 * The files below are the devlink interface's older twins (devlink.c):
 * each takes the instance lock and calls what the devlink operation calls.
 */

/* "create_vif": write a VIF index, or "any" (devlink port add) */
static ssize_t create_vif_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);
	struct devlink *devlink = priv_to_devlink(b);
	int index = -1, err;
	unsigned int n;

	if (!sysfs_streq(buf, "any")) {
		if (kstrtouint(buf, 0, &n) || n >= b->max_vifs)
			return -EINVAL;
		index = n;
	}
	devl_lock(devlink);
	err = selfvirt_vif_create(b, index, b->tx_entries, b->rx_entries,
				  b->rx_buf);
	devl_unlock(devlink);
	return err < 0 ? err : count;
}
static DEVICE_ATTR_WO(create_vif);

/* "destroy_vif": write a VIF index (devlink port del) */
static ssize_t destroy_vif_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);
	struct devlink *devlink = priv_to_devlink(b);
	unsigned int index;
	int err;

	if (kstrtouint(buf, 0, &index) || index >= SELFVIRT_WIN_ENTRIES)
		return -EINVAL;
	devl_lock(devlink);
	err = selfvirt_vif_remove(b, index, NULL);
	devl_unlock(devlink);
	return err ? err : count;
}
static DEVICE_ATTR_WO(destroy_vif);

/* "vif_rate": write "INDEX MBITS", 0 for none (devlink port function rate) */
static ssize_t vif_rate_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t count)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);
	struct devlink *devlink = priv_to_devlink(b);
	unsigned int index, mbps;
	int err;

	if (sscanf(buf, "%u %u", &index, &mbps) != 2 ||
	    index >= SELFVIRT_WIN_ENTRIES || mbps > SELFVIRT_RATE_MAX_MBPS)
		return -EINVAL;
	devl_lock(devlink);
	err = selfvirt_vif_set_rate(b, index, mbps, NULL);
	devl_unlock(devlink);
	return err ? err : count;
}
static DEVICE_ATTR_WO(vif_rate);

static int selfvirt_setup_board(struct selfvirt_board *b);

/*
 * Reset the board under the VIFs.  Their interfaces stay (and stay in
 * their namespaces); frames in flight are lost, nothing else.
 */
static int selfvirt_board_reset(struct selfvirt_board *b)
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
	ret = selfvirt_setup_board(b);
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

/* "reset": write 1 */
static ssize_t reset_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);
	struct devlink *devlink = priv_to_devlink(b);
	int err;

	if (!sysfs_streq(buf, "1"))
		return -EINVAL;
	devl_lock(devlink);
	rtnl_lock();
	mutex_lock(&b->vif_lock);
	err = selfvirt_board_reset(b);
	mutex_unlock(&b->vif_lock);
	rtnl_unlock();
	devl_unlock(devlink);
	if (!err)
		dev_info(dev, "board reset\n");
	return err ? err : count;
}
static DEVICE_ATTR_WO(reset);

#define SELFVIRT_STAT_NAME(id, name) name
static const char * const selfvirt_board_stat_names[] = {
	SELFVIRT_BOARD_STATS(SELFVIRT_STAT_NAME)
};
#undef SELFVIRT_STAT_NAME

/* "board_stats": the board's counters, one "name value" per line */
static ssize_t board_stats_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);
	unsigned int i;
	int len = 0;

	BUILD_BUG_ON(ARRAY_SIZE(selfvirt_board_stat_names) != SELFVIRT_STAT_COUNT);
	for (i = 0; i < SELFVIRT_STAT_COUNT; i++)
		len += sysfs_emit_at(buf, len, "%s %u\n",
				     selfvirt_board_stat_names[i],
				     selfvirt_rd(b, SELFVIRT_REG_STAT(i)));
	return len;
}
static DEVICE_ATTR_RO(board_stats);

static ssize_t irqs_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu %llu\n", b->irqs, b->irqs_none);
}
static DEVICE_ATTR_RO(irqs);

static struct attribute *selfvirt_board_attrs[] = {
	&dev_attr_max_vifs.attr,
	&dev_attr_caps.attr,
	&dev_attr_vifs.attr,
	&dev_attr_create_vif.attr,
	&dev_attr_destroy_vif.attr,
	&dev_attr_vif_rate.attr,
	&dev_attr_irqs.attr,
	&dev_attr_reset.attr,
	&dev_attr_board_stats.attr,
	NULL,
};

static const struct attribute_group selfvirt_board_group = {
	.name = "selfvirt",
	.attrs = selfvirt_board_attrs,
};

/*
 * The master interrupt: read the identifier, clear what we read, and poll
 * every VIF that shares a set bit (the paper's demultiplexing).
 */
static irqreturn_t selfvirt_intr(int irq, void *data)
{
	struct selfvirt_board *b = data;
	u64 start = selfvirt_cost_start();
	u32 id = selfvirt_rd(b, SELFVIRT_REG_IRQ_ID);
	unsigned int i;

	if (!id || id == ~0u) {
		b->irqs_none++;
		return IRQ_NONE;
	}
	b->irqs++;
	selfvirt_wr(b, SELFVIRT_REG_IRQ_ID, id);
	for (i = 0; i < b->max_vifs; i++) {
		struct selfvirt_vif *vif = READ_ONCE(b->vif[i]);
		struct selfvirt_mdev *md = READ_ONCE(b->mdev[i]);

		if (!(id & (BIT(SELFVIRT_IRQ_TX_BIT(i, b->irq_width)) |
			    BIT(SELFVIRT_IRQ_RX_BIT(i, b->irq_width)))))
			continue;
		if (vif)
			selfvirt_vif_signal(vif);
		else if (md)
			selfvirt_mdev_signal(md);
	}
	selfvirt_cost_end(&b->cost_master, start, 1);
	return IRQ_HANDLED;
}

static int selfvirt_setup_irq(struct selfvirt_board *b)
{
	struct pci_dev *pdev = b->pdev;
	int n;

	if (b->irq_mode == SELFVIRT_IRQ_MODE_MSIX) {
		n = SELFVIRT_MSIX_MBOX_VEC(b->max_vifs) + 1;
		b->nvec = pci_alloc_irq_vectors(pdev, n, n, PCI_IRQ_MSIX);
		if (b->nvec < 0)
			dev_err(&pdev->dev, "cannot get %d MSI-X vectors: %d\n",
				n, b->nvec);
		return b->nvec < 0 ? b->nvec : 0;
	}
	b->nvec = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI | PCI_IRQ_INTX);
	if (b->nvec < 0)
		return b->nvec;
	return request_irq(pci_irq_vector(pdev, 0), selfvirt_intr, IRQF_SHARED,
			   SELFVIRT_DRV_NAME, b);
}

/**
 * selfvirt_vectors_request - request a VIF slot's two MSI-X vectors
 * @b: the board
 * @index: the VIF slot
 * @v: the vectors' state, kept by the slot's owner
 * @prefix: their names' start ("sv-vif", "sv-mdev")
 * @handler: the handler of both
 * @data: its argument and dev_id
 *
 * Nothing to do in identifier mode, where selfvirt_intr() demultiplexes.
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_vectors_request(struct selfvirt_board *b, unsigned int index,
			     struct selfvirt_vectors *v, const char *prefix,
			     irq_handler_t handler, void *data)
{
	int tx = pci_irq_vector(b->pdev, SELFVIRT_MSIX_TX_VEC(index));
	int rx = pci_irq_vector(b->pdev, SELFVIRT_MSIX_RX_VEC(index));
	int err;

	if (b->irq_mode != SELFVIRT_IRQ_MODE_MSIX)
		return 0;
	snprintf(v->name[0], sizeof(v->name[0]), "%s%u-tx", prefix, index);
	snprintf(v->name[1], sizeof(v->name[1]), "%s%u-rx", prefix, index);
	err = request_irq(tx, handler, 0, v->name[0], data);
	if (err)
		return err;
	err = request_irq(rx, handler, 0, v->name[1], data);
	if (err) {
		free_irq(tx, data);
		return err;
	}
	v->requested = true;
	return 0;
}

/**
 * selfvirt_vectors_free - free what selfvirt_vectors_request() requested
 * @b: the board
 * @index: the VIF slot
 * @v: the vectors' state
 * @data: the dev_id they were requested with
 */
void selfvirt_vectors_free(struct selfvirt_board *b, unsigned int index,
			   struct selfvirt_vectors *v, void *data)
{
	if (!v->requested)
		return;
	free_irq(pci_irq_vector(b->pdev, SELFVIRT_MSIX_TX_VEC(index)), data);
	free_irq(pci_irq_vector(b->pdev, SELFVIRT_MSIX_RX_VEC(index)), data);
	v->requested = false;
}

static void selfvirt_teardown_irq(struct selfvirt_board *b)
{
	selfvirt_wr(b, SELFVIRT_REG_IRQ_MASK, GENMASK(b->irq_width - 1, 0));
	if (b->irq_mode != SELFVIRT_IRQ_MODE_MSIX)
		free_irq(pci_irq_vector(b->pdev, 0), b);
	pci_free_irq_vectors(b->pdev);
}

/* Window page size: the smallest that holds one VIF's receive queue. */
static void selfvirt_setup_windows(struct selfvirt_board *b)
{
	size_t need = SELFVIRT_RQ_DATA_OFF(rx_entries) + (size_t)rx_entries * rx_buf;

	b->win_shift = clamp_t(u32, order_base_2(need), SELFVIRT_WIN_MIN_SHIFT,
			       SELFVIRT_WIN_MAX_SHIFT);
	selfvirt_wr(b, SELFVIRT_REG_WIN_PAGE_SHIFT, b->win_shift);
}

static bool selfvirt_params_ok(struct device *dev)
{
	if (!is_power_of_2(tx_entries) || tx_entries < SELFVIRT_QUEUE_MIN ||
	    tx_entries > SELFVIRT_QUEUE_MAX || !is_power_of_2(rx_entries) ||
	    rx_entries < SELFVIRT_QUEUE_MIN || rx_entries > SELFVIRT_QUEUE_MAX) {
		dev_err(dev, "tx_entries %u / rx_entries %u: powers of two %d..%d\n",
			tx_entries, rx_entries, SELFVIRT_QUEUE_MIN, SELFVIRT_QUEUE_MAX);
		return false;
	}
	if (rx_buf < SELFVIRT_RX_BUF_MIN || rx_buf > SELFVIRT_RX_BUF_MAX ||
	    rx_buf % SELFVIRT_RX_BUF_ALIGN) {
		dev_err(dev, "rx_buf %u: a multiple of %d in %d..%d\n", rx_buf,
			SELFVIRT_RX_BUF_ALIGN, SELFVIRT_RX_BUF_MIN,
			SELFVIRT_RX_BUF_MAX);
		return false;
	}
	return true;
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
static int selfvirt_setup_board(struct selfvirt_board *b)
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
	return selfvirt_setup_board(b);
}

/**
 * selfvirt_board_create_vifs - the VIFs of probe: "vifs", or one in NIC mode
 * @b: the board, with no VIF
 *
 * Return: 0 or a negative errno; the VIFs made stay.
 */
int selfvirt_board_create_vifs(struct selfvirt_board *b)
{
	unsigned int i, n = b->nic_mode ? 1 : min(vifs, b->max_vifs);
	int err;

	devl_assert_locked(priv_to_devlink(b));
	for (i = 0; i < n; i++) {
		err = selfvirt_vif_create(b, i, b->tx_entries, b->rx_entries,
					  b->rx_buf);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Locks and driver data, for a board or a VIF function. */
static void selfvirt_board_init(struct selfvirt_board *b, struct pci_dev *pdev)
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
static int selfvirt_probe_vifs(struct selfvirt_board *b)
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

static void selfvirt_destroy_vifs(struct selfvirt_board *b)
{
	struct devlink *devlink = priv_to_devlink(b);
	unsigned int i;

	devl_lock(devlink);
	for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++)
		selfvirt_vif_destroy(b, i);
	devl_unlock(devlink);
}

static int selfvirt_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct selfvirt_board *b;
	int err;

	if (id->device == SELFVIRT_VIF_PCI_DEVICE_ID)
		return selfvirt_function_probe(pdev);
	b = selfvirt_devlink_alloc(pdev);
	if (!b)
		return -ENOMEM;
	selfvirt_board_init(b, pdev);
	if (!selfvirt_params_ok(dev))
		return -EINVAL;

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
	if (!err)
		err = selfvirt_doorbell_bar(b);
	if (err)
		goto err_unmap_sdram;

	/* a known state whatever the previous user left: reset the board */
	err = selfvirt_mbox(b, SELFVIRT_CMD_RESET, NULL, 0, NULL, 0);
	if (err)
		goto err_unmap_sdram;
	/* the board's own identifier width, not one a previous user chose */
	b->irq_width_max = SELFVIRT_IRQ_INFO_WIDTH(selfvirt_rd(b, SELFVIRT_REG_IRQ_INFO));
	if (!b->irq_width_max || b->irq_width_max > SELFVIRT_IRQ_ID_BITS) {
		dev_err(dev, "identifier width %u after reset\n", b->irq_width_max);
		err = -ENODEV;
		goto err_unmap_sdram;
	}
	b->irq_width = b->irq_width_max;
	b->nic_mode = nic_mode;
	b->tx_entries = tx_entries;
	b->rx_entries = rx_entries;
	b->rx_buf = rx_buf;
	err = selfvirt_setup_irq(b);
	if (err)
		goto err_unmap_sdram;
	err = selfvirt_setup_board(b);
	if (err)
		goto err_irq;

	err = selfvirt_probe_vifs(b);
	if (err)
		goto err_irq;
	err = sysfs_create_group(&dev->kobj, &selfvirt_board_group);
	if (err)
		goto err_vifs;
	if (!b->nic_mode) {
		err = selfvirt_mdev_parent_register(b);
		if (err)
			goto err_sysfs;
	}
	err = selfvirt_devlink_register(b);
	if (err)
		goto err_mdev;
	return 0;

err_mdev:
	selfvirt_mdev_parent_unregister(b);
err_sysfs:
	sysfs_remove_group(&dev->kobj, &selfvirt_board_group);
err_vifs:
	selfvirt_destroy_vifs(b);
err_irq:
	selfvirt_teardown_irq(b);
err_unmap_sdram:
	pci_iounmap(pdev, b->sdram);
err_release_sdram:
	pci_release_region(pdev, SELFVIRT_BAR_SDRAM);
	return err;
}

static void selfvirt_remove(struct pci_dev *pdev)
{
	struct selfvirt_board *b = pci_get_drvdata(pdev);

	if (b->vif_function) {
		selfvirt_function_remove(pdev);
		return;
	}
	selfvirt_devlink_unregister(b);
	/* the VMs' VIFs: their users are asked to let them go */
	selfvirt_mdev_parent_unregister(b);
	sysfs_remove_group(&pdev->dev.kobj, &selfvirt_board_group);
	selfvirt_destroy_vifs(b);
	selfvirt_mbox(b, SELFVIRT_CMD_RESET, NULL, 0, NULL, 0);
	selfvirt_teardown_irq(b);
	pci_iounmap(pdev, b->sdram);
	pci_release_region(pdev, SELFVIRT_BAR_SDRAM);
	dev_info(&pdev->dev, "removed\n");
}

/*
 * Reboot, power off or kexec: the board stops writing into memory that the
 * next kernel owns.  A VIF function's rings are its manager's memory.
 */
static void selfvirt_shutdown(struct pci_dev *pdev)
{
	struct selfvirt_board *b = pci_get_drvdata(pdev);

	if (!b || b->vif_function)
		return;
	selfvirt_wr(b, SELFVIRT_REG_DEV_CTRL, SELFVIRT_DEV_CTRL_RESET);
	pci_clear_master(pdev);
}

static struct pci_driver selfvirt_driver = {
	.name = SELFVIRT_DRV_NAME,
	.id_table = selfvirt_pci_tbl,
	.probe = selfvirt_probe,
	.remove = selfvirt_remove,
	.shutdown = selfvirt_shutdown,
};

static int __init selfvirt_init(void)
{
	int err;

	err = selfvirt_mdev_driver_register();
	if (err)
		return err;
	err = pci_register_driver(&selfvirt_driver);
	if (err)
		selfvirt_mdev_driver_unregister();
	return err;
}
module_init(selfvirt_init);

static void __exit selfvirt_exit(void)
{
	pci_unregister_driver(&selfvirt_driver);
	selfvirt_mdev_driver_unregister();
}
module_exit(selfvirt_exit);

MODULE_DESCRIPTION("Self-virtualizing NIC (selfvirt-nic) driver");
MODULE_LICENSE("GPL");
