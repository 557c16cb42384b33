/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selfvirt: a VIF handed to a VM as a VFIO mediated device (mdev*.c)
 */
#ifndef _SELFVIRT_MDEV_H_
#define _SELFVIRT_MDEV_H_

#include <linux/eventfd.h>
#include <linux/vfio.h>

#define SELFVIRT_MDEV_TYPE		"vif"
/* region index in the top bits of the device file offset, as vfio-pci */
#define SELFVIRT_MDEV_OFFSET_SHIFT	40
#define SELFVIRT_MDEV_INDEX(off)	((off) >> SELFVIRT_MDEV_OFFSET_SHIFT)
#define SELFVIRT_MDEV_OFFSET(index)	((u64)(index) << SELFVIRT_MDEV_OFFSET_SHIFT)
#define SELFVIRT_MDEV_OFFSET_MASK	(SELFVIRT_MDEV_OFFSET(1) - 1)

/* a larger kernel page would map other VIFs' doorbell pages too */
#define SELFVIRT_MDEV_DOORBELL_PAGES	(PAGE_SIZE == SELFVIRT_DOORBELL_PAGE_SIZE)

/* the emulated config space: an MSI capability right after the header */
#define SELFVIRT_MDEV_MSI_CAP		0x40
#define SELFVIRT_MDEV_MSI_FLAGS		(SELFVIRT_MDEV_MSI_CAP + PCI_MSI_FLAGS)

/**
 * struct selfvirt_mdev - one VIF as a VFIO device
 * @vdev: the VFIO device (first: vfio_alloc_device)
 * @board: the board the VIF is on
 * @q: the VIF's queues as bound to the board
 * @rq: the receive queue; separately refcounted pages, so that KVM can map
 *	them into a VM (it refuses tail pages of a higher-order allocation)
 * @rq_dma: its bus address, in the VIF's windows
 * @rq_size: its bytes, whole pages
 * @bound: the VIF is on the board (a failed reset leaves it off, but
 *	   keeps its slot: the partition stays this mdev's)
 * @lock: config space, interrupt set-up, reset
 * @config: the emulated config space
 * @config_wmask: its writable bits
 * @irq_lock: @msi_trigger, as the interrupt handler reads it
 * @msi_trigger: the VM's MSI eventfd, or NULL
 * @req_trigger: the eventfd that asks the VM's QEMU to let the device go
 * @vectors: MSI-X mode: the VIF's two vectors
 * @signals: board signals forwarded to the VM
 * @doorbells: doorbell writes trapped and passed to the board
 * @refused: accesses refused (out of range, read-only, unknown register)
 */
struct selfvirt_mdev {
	struct vfio_device vdev;
	struct selfvirt_board *board;
	struct selfvirt_vif_binding q;
	void *rq;
	dma_addr_t rq_dma;
	size_t rq_size;
	bool bound;

	struct mutex lock;		/* config space, interrupt set-up, reset */
	u8 config[PCI_CFG_SPACE_SIZE];
	u8 config_wmask[PCI_CFG_SPACE_SIZE];

	spinlock_t irq_lock;		/* @msi_trigger for the handler */
	struct eventfd_ctx *msi_trigger;
	struct eventfd_ctx *req_trigger;
	struct selfvirt_vectors vectors;

	atomic64_t signals;
	atomic64_t doorbells;
	atomic64_t refused;
};

/* mdev_region.c */
u32 selfvirt_mdev_rx_chain(struct selfvirt_mdev *md);
void selfvirt_mdev_config_init(struct selfvirt_mdev *md);
ssize_t selfvirt_mdev_read(struct vfio_device *vdev, char __user *buf,
			   size_t count, loff_t *ppos);
ssize_t selfvirt_mdev_write(struct vfio_device *vdev, const char __user *buf,
			    size_t count, loff_t *ppos);
int selfvirt_mdev_mmap(struct vfio_device *vdev, struct vm_area_struct *vma);
long selfvirt_mdev_ioctl_region_info(struct selfvirt_mdev *md,
				     void __user *arg);

/* mdev_irq.c */
void selfvirt_eventfd_signal(struct eventfd_ctx *ctx);
irqreturn_t selfvirt_mdev_msix(int irq, void *data);
void selfvirt_mdev_set_trigger(struct selfvirt_mdev *md,
			       struct eventfd_ctx **slot,
			       struct eventfd_ctx *ctx);
long selfvirt_mdev_ioctl_irq_info(void __user *arg);
long selfvirt_mdev_ioctl_set_irqs(struct selfvirt_mdev *md, void __user *arg);

#endif /* _SELFVIRT_MDEV_H_ */
