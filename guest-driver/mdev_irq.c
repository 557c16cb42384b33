// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: an mdev VIF's interrupts
 *
 * The board's signals for the VIF reach the VM's MSI eventfd from the
 * interrupt handler, with no user-space hop; VFIO_DEVICE_SET_IRQS sets the
 * eventfds up.
 */
#include <linux/interrupt.h>
#include "selfvirt.h"
#include "mdev.h"

void selfvirt_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/**
 * selfvirt_mdev_signal - forward one of the board's signals for the VIF
 * @md: the mdev whose VIF the board signalled
 *
 * Called from the board's interrupt handler.
 */
void selfvirt_mdev_signal(struct selfvirt_mdev *md)
{
	unsigned long flags;

	spin_lock_irqsave(&md->irq_lock, flags);
	if (md->msi_trigger) {
		selfvirt_eventfd_signal(md->msi_trigger);
		atomic64_inc(&md->signals);
	}
	spin_unlock_irqrestore(&md->irq_lock, flags);
}

irqreturn_t selfvirt_mdev_msix(int irq, void *data)
{
	selfvirt_mdev_signal(data);
	return IRQ_HANDLED;
}

/* Swap in a new eventfd (or NULL); the old one is put outside the lock. */
void selfvirt_mdev_set_trigger(struct selfvirt_mdev *md,
			       struct eventfd_ctx **slot,
			       struct eventfd_ctx *ctx)
{
	struct eventfd_ctx *old;
	unsigned long flags;

	spin_lock_irqsave(&md->irq_lock, flags);
	old = *slot;
	*slot = ctx;
	spin_unlock_irqrestore(&md->irq_lock, flags);
	if (old)
		eventfd_ctx_put(old);
}

static int selfvirt_mdev_set_irqs(struct selfvirt_mdev *md,
				  struct vfio_irq_set *hdr, void *data)
{
	struct eventfd_ctx **slot, *ctx;
	int fd;

	if (hdr->index == VFIO_PCI_MSI_IRQ_INDEX)
		slot = &md->msi_trigger;
	else if (hdr->index == VFIO_PCI_REQ_IRQ_INDEX)
		slot = &md->req_trigger;
	else
		return -EINVAL;
	if ((hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -ENOTTY;
	if (hdr->start != 0 || hdr->count > 1)
		return -EINVAL;		/* one vector each */
	if (!hdr->count) {
		if (!(hdr->flags & VFIO_IRQ_SET_DATA_NONE))
			return -EINVAL;
		selfvirt_mdev_set_trigger(md, slot, NULL);
		return 0;
	}
	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		fd = *(s32 *)data;
		ctx = fd < 0 ? NULL : eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		selfvirt_mdev_set_trigger(md, slot, ctx);
		return 0;
	}
	/* a trigger by hand (DATA_NONE, or DATA_BOOL true): signal once */
	if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) || *(u8 *)data) {
		spin_lock_irq(&md->irq_lock);
		if (*slot)
			selfvirt_eventfd_signal(*slot);
		spin_unlock_irq(&md->irq_lock);
	}
	return 0;
}

long selfvirt_mdev_ioctl_irq_info(void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info.flags = 0;
	info.count = 0;
	if (info.index == VFIO_PCI_MSI_IRQ_INDEX) {
		info.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
		info.count = 1;
	} else if (info.index == VFIO_PCI_REQ_IRQ_INDEX) {
		info.flags = VFIO_IRQ_INFO_EVENTFD;
		info.count = 1;
	}
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

long selfvirt_mdev_ioctl_set_irqs(struct selfvirt_mdev *md,
				  void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	u8 *data = NULL;
	int err;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	err = vfio_set_irqs_validate_and_prepare(&hdr, VFIO_PCI_NUM_IRQS,
						 VFIO_PCI_NUM_IRQS, &data_size);
	if (err)
		return err;
	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}
	mutex_lock(&md->lock);
	err = selfvirt_mdev_set_irqs(md, &hdr, data);
	mutex_unlock(&md->lock);
	kfree(data);
	return err;
}
