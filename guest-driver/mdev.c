// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: a VIF handed to a VM as a VFIO mediated device
 *
 * The paper's domU path (section 3.1): the VM writes its own send queue in
 * the board's SDRAM and reads its own receive queue; the management side
 * maps only that VIF's memory and forwards only that VIF's signals.  Each
 * mdev owns one VIF slot of the board and shows the VM's QEMU (vfio-pci)
 * the "VIF function" of docs/specs/selfvirt.rst:
 *
 *   config space  emulated here, with an MSI capability and no INTx
 *   BAR0          registers, trapped here: identity, geometry, MAC, link,
 *                 and the doorbell, which rings the board's for this VIF
 *   BAR1          the board's doorbell page for this VIF, mmap'ed: the
 *                 VM rings its VIF, and only it, with no trap in here
 *   BAR2          the VIF's SDRAM partition, mmap'ed onto the board's BAR
 *   BAR4          the VIF's receive queue in this kernel's memory, which the
 *                 board fills through the VIF's windows; mmap'ed read-only
 *
 * The board's signals for the VIF reach the VM's eventfd from the
 * interrupt handler, with no user-space hop.
 */
#include <linux/eventfd.h>
#include <linux/etherdevice.h>
#include <linux/interrupt.h>
#include <linux/mm.h>
#include <linux/vfio.h>
#include "selfvirt.h"
#include "mdev.h"

static struct selfvirt_board *selfvirt_mdev_board(struct mdev_device *mdev)
{
	return container_of(mdev->type->parent, struct selfvirt_board,
			    mdev_parent);
}

/* Bind the VIF's queues to the board; with vif_lock held. */
static int selfvirt_mdev_bind(struct selfvirt_mdev *md)
{
	struct selfvirt_board *b = md->board;
	u32 args[3] = { 0, SELFVIRT_ATTR_SPOOF_CHECK, 1 };
	int err;

	lockdep_assert_held(&b->vif_lock);
	err = selfvirt_mbox_vif_create(b, &md->q);
	if (err)
		return err;
	if (b->vif[md->q.index] || b->mdev[md->q.index] ||
	    md->q.part_off % PAGE_SIZE ||
	    SELFVIRT_SQ_DATA_OFF(md->q.tx_entries) >= md->q.part_size) {
		dev_err(&b->pdev->dev, "VIF %u: unusable for an mdev\n", md->q.index);
		err = -EIO;
		goto err_destroy;
	}
	/* the VM may send with its own MAC only */
	args[0] = md->q.index;
	err = selfvirt_mbox(b, SELFVIRT_CMD_VIF_SET, args, 3, NULL, 0);
	if (err)
		goto err_destroy;
	if (b->caps & SELFVIRT_CAP_RX_CHAIN) {
		u32 chain[4] = { md->q.index, SELFVIRT_ATTR_RX_CHAIN,
				 selfvirt_mdev_rx_chain(md),
				 SELFVIRT_RX_COALESCE_TCP };

		err = selfvirt_mbox(b, SELFVIRT_CMD_VIF_SET, chain, 4, NULL, 0);
		if (err)
			goto err_destroy;
	}
	/* management's cap outlives the VM's resets */
	err = selfvirt_vif_apply_rate(b, md->q.index);
	if (err)
		goto err_destroy;
	return 0;

err_destroy:
	selfvirt_mbox(b, SELFVIRT_CMD_VIF_DESTROY, &md->q.index, 1, NULL, 0);
	return err;
}

/*
 * VFIO_DEVICE_RESET, and at every open and close: the VIF on the board
 * afresh, with its slot, MAC and windows.  The board quiesces it first: no
 * DMA into the receive queue while it is cleared.
 */
static int selfvirt_mdev_reset(struct selfvirt_mdev *md)
{
	struct selfvirt_board *b = md->board;
	int err;

	mutex_lock(&b->vif_lock);
	if (md->bound)
		selfvirt_mbox(b, SELFVIRT_CMD_VIF_DESTROY, &md->q.index, 1, NULL, 0);
	md->bound = false;
	memset(md->rq, 0, md->rq_size);
	/* b->mdev[] keeps the slot: nobody else gets the partition */
	b->mdev[md->q.index] = NULL;
	err = selfvirt_mdev_bind(md);
	b->mdev[md->q.index] = md;
	md->bound = !err;
	mutex_unlock(&b->vif_lock);
	if (err)
		dev_err(md->vdev.dev, "VIF %u lost in reset: %d\n", md->q.index, err);
	return err;
}

static void selfvirt_mdev_free_rq(struct selfvirt_mdev *md)
{
	dma_unmap_single(&md->board->pdev->dev, md->rq_dma, md->rq_size,
			 DMA_BIDIRECTIONAL);
	free_pages_exact(md->rq, md->rq_size);
}

static int selfvirt_mdev_alloc_rq(struct selfvirt_mdev *md)
{
	struct device *dev = &md->board->pdev->dev;

	md->rq_size = PAGE_ALIGN(SELFVIRT_RQ_DATA_OFF(md->q.rx_entries) +
				 (size_t)md->q.rx_entries * md->q.rx_buf);
	/* order-0 pages, each with its own reference: see struct selfvirt_mdev */
	md->rq = alloc_pages_exact(md->rq_size, GFP_KERNEL | __GFP_ZERO |
				   __GFP_NOWARN);
	if (!md->rq)
		return -ENOMEM;
	md->rq_dma = dma_map_single(dev, md->rq, md->rq_size, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, md->rq_dma)) {
		free_pages_exact(md->rq, md->rq_size);
		return -ENOMEM;
	}
	/* the VM reads the ring with no sync calls: no bounce buffers */
	if (dma_need_sync(dev, md->rq_dma)) {
		dev_err(dev, "mdev VIFs need DMA without sync calls (no swiotlb bouncing)\n");
		selfvirt_mdev_free_rq(md);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Undo selfvirt_mdev_take(): the board forgets the VIF. */
static void selfvirt_mdev_drop(struct selfvirt_mdev *md)
{
	struct selfvirt_board *b = md->board;

	selfvirt_port_destroy(b, md->q.index);
	mutex_lock(&b->vif_lock);
	b->mdev[md->q.index] = NULL;
	/* the board quiesces the VIF: no DMA into its pages after this */
	if (md->bound)
		selfvirt_mbox(b, SELFVIRT_CMD_VIF_DESTROY, &md->q.index, 1, NULL, 0);
	selfvirt_windows_put(b, md->q.win_first, md->q.win_count);
	mutex_unlock(&b->vif_lock);
	synchronize_irq(b->pdev->irq);
}

/*
 * A VIF slot, windows and queues on the board, and the VIF's devlink
 * port; with the instance lock held, so that no reload runs meanwhile.
 */
static int selfvirt_mdev_take(struct selfvirt_mdev *md)
{
	struct selfvirt_board *b = md->board;
	struct selfvirt_port *port;
	int err, first;

	devl_assert_locked(priv_to_devlink(b));
	if (b->nic_mode) {
		dev_err(&b->pdev->dev, "no mdev VIFs in NIC mode\n");
		return -EBUSY;
	}
	/* the port first, then the VM's VIF on its slot */
	port = selfvirt_port_create(b, -1);
	if (IS_ERR(port))
		return PTR_ERR(port);
	md->q.index = port->index;
	mutex_lock(&b->vif_lock);
	first = selfvirt_windows_get(b, md->rq_dma, md->rq_size, &md->q.win_count);
	if (first < 0) {
		err = first;
		goto err_unlock;
	}
	md->q.win_first = first;
	err = selfvirt_mdev_bind(md);
	if (err) {
		selfvirt_windows_put(b, md->q.win_first, md->q.win_count);
		goto err_unlock;
	}
	b->mdev[md->q.index] = md;
	md->bound = true;
	mutex_unlock(&b->vif_lock);
	selfvirt_port_bind_mdev(port, md);
	return 0;

err_unlock:
	mutex_unlock(&b->vif_lock);
	selfvirt_port_destroy(b, port->index);
	return err;
}

/* vfio_device_ops.init: take a VIF slot, windows and queues on the board. */
static int selfvirt_mdev_init_dev(struct vfio_device *vdev)
{
	struct selfvirt_mdev *md = container_of(vdev, struct selfvirt_mdev, vdev);
	struct selfvirt_board *b = selfvirt_mdev_board(to_mdev_device(vdev->dev));
	struct devlink *devlink = priv_to_devlink(b);
	int err;

	md->board = b;
	mutex_init(&md->lock);
	spin_lock_init(&md->irq_lock);
	md->q.index = SELFVIRT_VIF_ANY;
	md->q.tx_entries = b->tx_entries;
	md->q.rx_entries = b->rx_entries;
	md->q.rx_buf = b->rx_buf;
	err = selfvirt_mdev_alloc_rq(md);
	if (err)
		return err;

	devl_lock(devlink);
	err = selfvirt_mdev_take(md);
	devl_unlock(devlink);
	if (err)
		goto err_free_rq;
	err = selfvirt_vectors_request(b, md->q.index, &md->vectors, "sv-mdev",
				       selfvirt_mdev_msix, md);
	if (err)
		goto err_drop;
	selfvirt_mdev_config_init(md);
	dev_info(&b->pdev->dev, "VIF %u: mdev %s, MAC %pM, receive queue in windows %u+%u\n",
		 md->q.index, dev_name(vdev->dev), md->q.mac, md->q.win_first,
		 md->q.win_count);
	return 0;

err_drop:
	devl_lock(devlink);
	selfvirt_mdev_drop(md);
	devl_unlock(devlink);
err_free_rq:
	selfvirt_mdev_free_rq(md);
	return err;
}

/* vfio_device_ops.release: the last reference; the VM is gone. */
static void selfvirt_mdev_release_dev(struct vfio_device *vdev)
{
	struct selfvirt_mdev *md = container_of(vdev, struct selfvirt_mdev, vdev);
	struct selfvirt_board *b = md->board;
	struct devlink *devlink = priv_to_devlink(b);

	selfvirt_vectors_free(b, md->q.index, &md->vectors, md);
	devl_lock(devlink);
	selfvirt_mdev_drop(md);
	devl_unlock(devlink);
	selfvirt_mdev_free_rq(md);
	mutex_destroy(&md->lock);
	dev_info(&b->pdev->dev, "VIF %u: mdev released\n", md->q.index);
}

/**
 * selfvirt_mdev_mac - the MAC of a VM's VIF
 * @md: the mediated device
 * @mac: ETH_ALEN bytes for it
 */
void selfvirt_mdev_mac(struct selfvirt_mdev *md, u8 *mac)
{
	ether_addr_copy(mac, md->q.mac);
}

static int selfvirt_mdev_open(struct vfio_device *vdev)
{
	return selfvirt_mdev_reset(container_of(vdev, struct selfvirt_mdev, vdev));
}

static void selfvirt_mdev_close(struct vfio_device *vdev)
{
	struct selfvirt_mdev *md = container_of(vdev, struct selfvirt_mdev, vdev);

	selfvirt_mdev_set_trigger(md, &md->msi_trigger, NULL);
	selfvirt_mdev_set_trigger(md, &md->req_trigger, NULL);
	selfvirt_mdev_reset(md);
	mutex_lock(&md->lock);
	selfvirt_mdev_config_init(md);
	mutex_unlock(&md->lock);
}

/* vfio_device_ops.request: the mdev is being removed; ask the VM's QEMU. */
static void selfvirt_mdev_request(struct vfio_device *vdev, unsigned int count)
{
	struct selfvirt_mdev *md = container_of(vdev, struct selfvirt_mdev, vdev);

	spin_lock_irq(&md->irq_lock);
	if (md->req_trigger) {
		if (!(count % 10))
			dev_notice(vdev->dev, "asking the user to release the device (%u)\n",
				   count);
		selfvirt_eventfd_signal(md->req_trigger);
	} else if (count == 0) {
		dev_notice(vdev->dev, "the device is in use and its user cannot be asked to release it\n");
	}
	spin_unlock_irq(&md->irq_lock);
}

static long selfvirt_mdev_ioctl(struct vfio_device *vdev, unsigned int cmd,
				unsigned long arg)
{
	struct selfvirt_mdev *md = container_of(vdev, struct selfvirt_mdev, vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
		struct vfio_device_info info;

		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO:
		return selfvirt_mdev_ioctl_region_info(md, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return selfvirt_mdev_ioctl_irq_info(uarg);
	case VFIO_DEVICE_SET_IRQS:
		return selfvirt_mdev_ioctl_set_irqs(md, uarg);
	case VFIO_DEVICE_RESET:
		return selfvirt_mdev_reset(md);
	}
	return -ENOTTY;
}

static const struct vfio_device_ops selfvirt_mdev_ops = {
	.name = "selfvirt-vif",
	.init = selfvirt_mdev_init_dev,
	.release = selfvirt_mdev_release_dev,
	.open_device = selfvirt_mdev_open,
	.close_device = selfvirt_mdev_close,
	.read = selfvirt_mdev_read,
	.write = selfvirt_mdev_write,
	.ioctl = selfvirt_mdev_ioctl,
	.mmap = selfvirt_mdev_mmap,
	.request = selfvirt_mdev_request,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
#endif
};

/*
 * ---- the mdev device's sysfs: selfvirt/{vif,mac,signal_gap_us,signals,
 * doorbells,refused}
 */

static struct selfvirt_mdev *selfvirt_mdev_of(struct device *dev)
{
	return dev_get_drvdata(dev);
}

static ssize_t vif_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", selfvirt_mdev_of(dev)->q.index);
}
static DEVICE_ATTR_RO(vif);

static ssize_t mac_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%pM\n", selfvirt_mdev_of(dev)->q.mac);
}
static DEVICE_ATTR_RO(mac);

#define SELFVIRT_MDEV_COUNTER(name)					\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n",				\
			  atomic64_read(&selfvirt_mdev_of(dev)->name));	\
}									\
static DEVICE_ATTR_RO(name)

SELFVIRT_MDEV_COUNTER(signals);
SELFVIRT_MDEV_COUNTER(doorbells);
SELFVIRT_MDEV_COUNTER(refused);

/* The board's signal moderation for the VM's VIF: management's to set */
static ssize_t signal_gap_us_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", selfvirt_mdev_of(dev)->q.signal_gap_us);
}

static ssize_t signal_gap_us_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	struct selfvirt_mdev *md = selfvirt_mdev_of(dev);
	struct selfvirt_board *b = md->board;
	u32 us;
	int err;

	err = kstrtou32(buf, 0, &us) ?: selfvirt_signal_gap_check(b, us);
	if (err)
		return err;
	/* with vif_lock: a reset re-creates the VIF with the gap it finds */
	mutex_lock(&b->vif_lock);
	err = md->bound ? selfvirt_mbox_signal_gap(b, md->q.index, us) : 0;
	if (!err)
		md->q.signal_gap_us = us;
	mutex_unlock(&b->vif_lock);
	return err ?: count;
}
static DEVICE_ATTR_RW(signal_gap_us);

static struct attribute *selfvirt_mdev_attrs[] = {
	&dev_attr_vif.attr,
	&dev_attr_mac.attr,
	&dev_attr_signal_gap_us.attr,
	&dev_attr_signals.attr,
	&dev_attr_doorbells.attr,
	&dev_attr_refused.attr,
	NULL,
};

static const struct attribute_group selfvirt_mdev_group = {
	.name = "selfvirt",
	.attrs = selfvirt_mdev_attrs,
};

static const struct attribute_group *selfvirt_mdev_groups[] = {
	&selfvirt_mdev_group,
	NULL,
};

static int selfvirt_mdev_probe(struct mdev_device *mdev)
{
	struct selfvirt_mdev *md;
	int err;

	md = vfio_alloc_device(selfvirt_mdev, vdev, &mdev->dev, &selfvirt_mdev_ops);
	if (IS_ERR(md))
		return PTR_ERR(md);
	err = vfio_register_emulated_iommu_dev(&md->vdev);
	if (err) {
		vfio_put_device(&md->vdev);
		return err;
	}
	dev_set_drvdata(&mdev->dev, md);
	return 0;
}

static void selfvirt_mdev_remove(struct mdev_device *mdev)
{
	struct selfvirt_mdev *md = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&md->vdev);
	vfio_put_device(&md->vdev);
}

static unsigned int selfvirt_mdev_get_available(struct mdev_type *mtype)
{
	struct selfvirt_board *b = container_of(mtype->parent,
						struct selfvirt_board, mdev_parent);
	unsigned int i, used = 0;

	if (b->nic_mode)
		return 0;
	mutex_lock(&b->vif_lock);
	for (i = 0; i < b->max_vifs; i++)
		used += b->vif[i] || b->mdev[i];
	mutex_unlock(&b->vif_lock);
	return b->max_vifs - used;
}

static ssize_t selfvirt_mdev_show_description(struct mdev_type *mtype,
					      char *buf)
{
	struct selfvirt_board *b = container_of(mtype->parent,
						struct selfvirt_board, mdev_parent);

	return sysfs_emit(buf, "one VIF of the board: send queue of %u in its SDRAM, receive queue of %u x %u B, one MSI\n",
			  b->tx_entries, b->rx_entries, b->rx_buf);
}

static struct mdev_driver selfvirt_mdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = "selfvirt-mdev",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = selfvirt_mdev_groups,
	},
	.probe = selfvirt_mdev_probe,
	.remove = selfvirt_mdev_remove,
	.get_available = selfvirt_mdev_get_available,
	.show_description = selfvirt_mdev_show_description,
};

/**
 * selfvirt_mdev_driver_register - register the mdev driver (module load)
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_mdev_driver_register(void)
{
	return mdev_register_driver(&selfvirt_mdev_driver);
}

/**
 * selfvirt_mdev_driver_unregister - unregister the mdev driver (module unload)
 */
void selfvirt_mdev_driver_unregister(void)
{
	mdev_unregister_driver(&selfvirt_mdev_driver);
}

/**
 * selfvirt_mdev_parent_register - offer the board's VIFs as mdevs
 * @b: the board
 *
 * Adds mdev_supported_types/selfvirt-vif to the board's PCI device, once:
 * a reload back to NIC mode keeps it (creating an mdev is refused there),
 * since unregistering waits for mdev users that may wait for the devlink
 * instance lock a reload holds.
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_mdev_parent_register(struct selfvirt_board *b)
{
	int err;

	if (b->mdev_registered)
		return 0;
	b->mdev_type.sysfs_name = SELFVIRT_MDEV_TYPE;
	b->mdev_type.pretty_name = "selfvirt VIF";
	b->mdev_types[0] = &b->mdev_type;
	err = mdev_register_parent(&b->mdev_parent, &b->pdev->dev,
				   &selfvirt_mdev_driver, b->mdev_types, 1);
	b->mdev_registered = !err;
	return err;
}

/**
 * selfvirt_mdev_parent_unregister - remove the board's mdevs and their type
 * @b: the board
 *
 * Asks each mdev's user to release it and waits; the VIFs are destroyed.
 */
void selfvirt_mdev_parent_unregister(struct selfvirt_board *b)
{
	/* what was registered, whatever mode a reload left the board in */
	if (b->mdev_registered)
		mdev_unregister_parent(&b->mdev_parent);
	b->mdev_registered = false;
}
