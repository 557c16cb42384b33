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

	struct mutex lock;
	u8 config[PCI_CFG_SPACE_SIZE];
	u8 config_wmask[PCI_CFG_SPACE_SIZE];

	spinlock_t irq_lock;
	struct eventfd_ctx *msi_trigger;
	struct eventfd_ctx *req_trigger;
	struct selfvirt_vectors vectors;

	atomic64_t signals;
	atomic64_t doorbells;
	atomic64_t refused;
};

static struct selfvirt_board *selfvirt_mdev_board(struct mdev_device *mdev)
{
	return container_of(mdev->type->parent, struct selfvirt_board,
			    mdev_parent);
}

/*
 * Region sizes: BARs are powers of two; only the start of BAR2/BAR4 is
 * used.  BAR1 only on a board with doorbell pages (ABI 1.1).
 */
static u64 selfvirt_mdev_region_size(struct selfvirt_mdev *md,
				     unsigned int index)
{
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return PCI_CFG_SPACE_SIZE;
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_REGS:
		return SELFVIRT_VIF_REGS_SIZE;
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_DOORBELL:
		return (md->board->caps & SELFVIRT_CAP_DOORBELL_PAGES) &&
		       SELFVIRT_MDEV_DOORBELL_PAGES ?
		       SELFVIRT_DOORBELL_PAGE_SIZE : 0;
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_SQ:
		return roundup_pow_of_two(md->q.part_size);
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_RQ:
		return roundup_pow_of_two(md->rq_size);
	default:
		return 0;
	}
}

/*
 * The receive chain the board gets for the VM's VIF, with TCP coalescing:
 * what a VIF here gets, so a Linux VM with this kernel's MAX_SKB_FRAGS
 * takes every frame (one with fewer frags drops the longest, counted).
 */
static u32 selfvirt_mdev_rx_chain(struct selfvirt_mdev *md)
{
	return min_t(u32, min_t(u32, MAX_SKB_FRAGS + 1, SELFVIRT_RX_CHAIN_MAX),
		     md->q.rx_entries);
}

/* ---- config space ---- */

static void selfvirt_mdev_cfg_set(struct selfvirt_mdev *md, unsigned int off,
				  unsigned int len, u32 val, u32 wmask)
{
	unsigned int i;

	for (i = 0; i < len; i++) {
		md->config[off + i] = val >> (8 * i);
		md->config_wmask[off + i] = wmask >> (8 * i);
	}
}

static void selfvirt_mdev_bar_init(struct selfvirt_mdev *md, unsigned int bar,
				   u32 type)
{
	u64 size = selfvirt_mdev_region_size(md, VFIO_PCI_BAR0_REGION_INDEX + bar);
	unsigned int off = PCI_BASE_ADDRESS_0 + 4 * bar;

	selfvirt_mdev_cfg_set(md, off, 4, type, ~(u32)(size - 1) & ~0xfu);
	if (type & PCI_BASE_ADDRESS_MEM_TYPE_64)
		selfvirt_mdev_cfg_set(md, off + 4, 4, 0, ~(u32)(upper_32_bits(size - 1)));
}

static void selfvirt_mdev_config_init(struct selfvirt_mdev *md)
{
	u32 bar64 = PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_TYPE_64 |
		    PCI_BASE_ADDRESS_MEM_PREFETCH;

	memset(md->config, 0, sizeof(md->config));
	memset(md->config_wmask, 0, sizeof(md->config_wmask));
	selfvirt_mdev_cfg_set(md, PCI_VENDOR_ID, 2, SELFVIRT_PCI_VENDOR_ID, 0);
	selfvirt_mdev_cfg_set(md, PCI_DEVICE_ID, 2, SELFVIRT_VIF_PCI_DEVICE_ID, 0);
	selfvirt_mdev_cfg_set(md, PCI_COMMAND, 2, 0,
			      PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			      PCI_COMMAND_INTX_DISABLE);
	selfvirt_mdev_cfg_set(md, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0);
	selfvirt_mdev_cfg_set(md, PCI_REVISION_ID, 1, SELFVIRT_PCI_REVISION, 0);
	selfvirt_mdev_cfg_set(md, PCI_CLASS_PROG, 3, PCI_CLASS_NETWORK_ETHERNET << 8, 0);
	selfvirt_mdev_bar_init(md, SELFVIRT_VIF_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY);
	if (selfvirt_mdev_region_size(md, VFIO_PCI_BAR0_REGION_INDEX +
				      SELFVIRT_VIF_BAR_DOORBELL))
		selfvirt_mdev_bar_init(md, SELFVIRT_VIF_BAR_DOORBELL,
				       PCI_BASE_ADDRESS_SPACE_MEMORY);
	selfvirt_mdev_bar_init(md, SELFVIRT_VIF_BAR_SQ, bar64);
	selfvirt_mdev_bar_init(md, SELFVIRT_VIF_BAR_RQ, bar64);
	selfvirt_mdev_cfg_set(md, PCI_SUBSYSTEM_VENDOR_ID, 2, SELFVIRT_PCI_VENDOR_ID, 0);
	selfvirt_mdev_cfg_set(md, PCI_SUBSYSTEM_ID, 2, SELFVIRT_VIF_PCI_DEVICE_ID, 0);
	selfvirt_mdev_cfg_set(md, PCI_CAPABILITY_LIST, 1, SELFVIRT_MDEV_MSI_CAP, 0);
	selfvirt_mdev_cfg_set(md, PCI_INTERRUPT_LINE, 1, 0, 0xff);
	/* one MSI message, 64-bit address: no INTx, which would trap BARs */
	selfvirt_mdev_cfg_set(md, SELFVIRT_MDEV_MSI_CAP + PCI_CAP_LIST_ID, 1,
			      PCI_CAP_ID_MSI, 0);
	selfvirt_mdev_cfg_set(md, SELFVIRT_MDEV_MSI_FLAGS, 2, PCI_MSI_FLAGS_64BIT,
			      PCI_MSI_FLAGS_ENABLE);
	selfvirt_mdev_cfg_set(md, SELFVIRT_MDEV_MSI_CAP + PCI_MSI_ADDRESS_LO, 4, 0,
			      ~3u);
	selfvirt_mdev_cfg_set(md, SELFVIRT_MDEV_MSI_CAP + PCI_MSI_ADDRESS_HI, 4, 0,
			      ~0u);
	selfvirt_mdev_cfg_set(md, SELFVIRT_MDEV_MSI_CAP + PCI_MSI_DATA_64, 2, 0,
			      0xffff);
}

static void selfvirt_mdev_config_rw(struct selfvirt_mdev *md, loff_t pos,
				    u8 *val, size_t len, bool write)
{
	size_t i;

	mutex_lock(&md->lock);
	for (i = 0; i < len; i++) {
		u8 *b = &md->config[pos + i], m = md->config_wmask[pos + i];

		if (write)
			*b = (*b & ~m) | (val[i] & m);
		else
			val[i] = *b;
	}
	mutex_unlock(&md->lock);
}

/* ---- BAR0: the VIF function's registers ---- */

static u32 selfvirt_mdev_reg_read(struct selfvirt_mdev *md, unsigned int reg)
{
	struct selfvirt_board *b = md->board;

	switch (reg) {
	case SELFVIRT_VIF_REG_ID:
		return SELFVIRT_VIF_ID_MAGIC;
	case SELFVIRT_VIF_REG_VERSION:
		return SELFVIRT_ABI_VERSION;
	case SELFVIRT_VIF_REG_CAPS:
		return b->caps & (SELFVIRT_CAP_TX_CSUM | SELFVIRT_CAP_TSO |
				  SELFVIRT_CAP_RX_CSUM | SELFVIRT_CAP_JUMBO);
	case SELFVIRT_VIF_REG_QUEUES:
		return SELFVIRT_QUEUES(md->q.tx_entries, md->q.rx_entries);
	case SELFVIRT_VIF_REG_RX_BUF:
		return md->q.rx_buf;
	case SELFVIRT_VIF_REG_PART_SIZE:
		return md->q.part_size;
	case SELFVIRT_VIF_REG_RQ_SIZE:
		return md->rq_size;
	case SELFVIRT_VIF_REG_MAX_FRAME:
		return b->max_frame;
	case SELFVIRT_VIF_REG_MAC_LO:
		return get_unaligned_le32(md->q.mac);
	case SELFVIRT_VIF_REG_MAC_HI:
		return get_unaligned_le16(md->q.mac + 4);
	case SELFVIRT_VIF_REG_STATUS:
		return SELFVIRT_VIF_STATUS_LINK;
	case SELFVIRT_VIF_REG_RX_CHAIN:
		return b->caps & SELFVIRT_CAP_RX_CHAIN ?
		       selfvirt_mdev_rx_chain(md) | SELFVIRT_VIF_RX_COALESCE : 1;
	default:
		return 0;
	}
}

/* A doorbell that came through this driver (BAR0, or BAR1 by pwrite) */
static void selfvirt_mdev_doorbell(struct selfvirt_mdev *md)
{
	atomic64_inc(&md->doorbells);
	selfvirt_wr(md->board, SELFVIRT_REG_DOORBELL, md->q.index);
}

static void selfvirt_mdev_reg_write(struct selfvirt_mdev *md, unsigned int reg,
				    u32 val)
{
	if (reg == SELFVIRT_VIF_REG_DOORBELL) {
		selfvirt_mdev_doorbell(md);
		return;
	}
	atomic64_inc(&md->refused);
	dev_dbg(md->vdev.dev, "write %#x to read-only register %#x\n", val, reg);
}

/* ---- read() and write() on the device: every region ---- */

/*
 * One access of @len (1, 2 or 4) bytes at @pos in region @index.  The
 * SDRAM partition and the receive queue are also reachable this way, for
 * users that do not mmap; past their used part they read as zero.
 */
static int selfvirt_mdev_access(struct selfvirt_mdev *md, unsigned int index,
				u64 pos, u8 *val, size_t len, bool write)
{
	u64 size = selfvirt_mdev_region_size(md, index);
	u32 v = 0;

	if (!size || pos >= size || len > size - pos) {
		atomic64_inc(&md->refused);
		return -EINVAL;
	}
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		selfvirt_mdev_config_rw(md, pos, val, len, write);
		return 0;
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_REGS:
		if (len != 4 || pos % 4)
			break;
		if (write)
			selfvirt_mdev_reg_write(md, pos, get_unaligned_le32(val));
		else
			put_unaligned_le32(selfvirt_mdev_reg_read(md, pos), val);
		return 0;
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_DOORBELL:
		if (write)
			selfvirt_mdev_doorbell(md);
		else
			memset(val, 0, len);
		return 0;
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_SQ:
		if (pos + len > md->q.part_size) {
			if (write)
				break;
			memset(val, 0, len);
			return 0;
		}
		if (write)
			memcpy_toio(md->board->sdram + md->q.part_off + pos, val, len);
		else
			memcpy_fromio(val, md->board->sdram + md->q.part_off + pos, len);
		return 0;
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_RQ:
		if (write)
			break;		/* the board's to write, not the VM's */
		memcpy(val, pos + len <= md->rq_size ? md->rq + pos : (void *)&v, len);
		return 0;
	}
	atomic64_inc(&md->refused);
	return -EINVAL;
}

static ssize_t selfvirt_mdev_rw(struct selfvirt_mdev *md, char __user *ubuf,
				size_t count, loff_t *ppos, bool write)
{
	unsigned int index = SELFVIRT_MDEV_INDEX(*ppos);
	u64 pos = *ppos & SELFVIRT_MDEV_OFFSET_MASK;
	size_t done = 0;

	while (done < count) {
		size_t len = (count - done >= 4 && !(pos % 4)) ? 4 :
			     (count - done >= 2 && !(pos % 2)) ? 2 : 1;
		u8 val[4];
		int err;

		err = write && copy_from_user(val, ubuf + done, len) ? -EFAULT : 0;
		if (!err)
			err = selfvirt_mdev_access(md, index, pos, val, len, write);
		if (!err && !write && copy_to_user(ubuf + done, val, len))
			err = -EFAULT;
		if (err) {
			*ppos += done;
			return done ? done : err;
		}
		done += len;
		pos += len;
	}
	*ppos += done;
	return done;
}

static ssize_t selfvirt_mdev_read(struct vfio_device *vdev, char __user *buf,
				  size_t count, loff_t *ppos)
{
	return selfvirt_mdev_rw(container_of(vdev, struct selfvirt_mdev, vdev),
				buf, count, ppos, false);
}

static ssize_t selfvirt_mdev_write(struct vfio_device *vdev,
				   const char __user *buf, size_t count,
				   loff_t *ppos)
{
	return selfvirt_mdev_rw(container_of(vdev, struct selfvirt_mdev, vdev),
				(char __user *)buf, count, ppos, true);
}

/* ---- mmap: the doorbell page, the SDRAM partition, the receive queue ---- */

static void selfvirt_mdev_vm_flags(struct vm_area_struct *vma, vm_flags_t set,
				   vm_flags_t clear)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

static int selfvirt_mdev_mmap(struct vfio_device *vdev,
			      struct vm_area_struct *vma)
{
	struct selfvirt_mdev *md = container_of(vdev, struct selfvirt_mdev, vdev);
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	unsigned int index = SELFVIRT_MDEV_INDEX(off);
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long pfn;
	u64 pos = off & SELFVIRT_MDEV_OFFSET_MASK;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_DOORBELL:
		if (!selfvirt_mdev_region_size(md, index) || pos ||
		    len != SELFVIRT_DOORBELL_PAGE_SIZE)
			return -EINVAL;
		pfn = (pci_resource_start(md->board->pdev, SELFVIRT_BAR_DOORBELL) +
		       SELFVIRT_DOORBELL_PAGE(md->q.index)) >> PAGE_SHIFT;
		vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
		selfvirt_mdev_vm_flags(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
				       VM_DONTDUMP, 0);
		return io_remap_pfn_range(vma, vma->vm_start, pfn, len,
					  vma->vm_page_prot);
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_SQ:
		if (pos > md->q.part_size || len > md->q.part_size - pos)
			return -EINVAL;
		pfn = (pci_resource_start(md->board->pdev, SELFVIRT_BAR_SDRAM) +
		       md->q.part_off + pos) >> PAGE_SHIFT;
		/* as this kernel maps the SDRAM: the VM only writes there */
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
		selfvirt_mdev_vm_flags(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
				       VM_DONTDUMP, 0);
		return io_remap_pfn_range(vma, vma->vm_start, pfn, len,
					  vma->vm_page_prot);
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_RQ:
		if (vma->vm_flags & VM_WRITE) {
			atomic64_inc(&md->refused);
			return -EACCES;
		}
		if (pos > md->rq_size || len > md->rq_size - pos)
			return -EINVAL;
		selfvirt_mdev_vm_flags(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYWRITE);
		pfn = page_to_pfn(virt_to_page(md->rq + pos));
		return remap_pfn_range(vma, vma->vm_start, pfn, len,
				       vma->vm_page_prot);
	default:
		return -EINVAL;
	}
}

/* ---- signals ---- */

static void selfvirt_eventfd_signal(struct eventfd_ctx *ctx)
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

static irqreturn_t selfvirt_mdev_msix(int irq, void *data)
{
	selfvirt_mdev_signal(data);
	return IRQ_HANDLED;
}

/* Swap in a new eventfd (or NULL); the old one is put outside the lock. */
static void selfvirt_mdev_set_trigger(struct selfvirt_mdev *md,
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

/* ---- the VIF on the board ---- */

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
	int err, first;

	devl_assert_locked(priv_to_devlink(b));
	if (b->nic_mode) {
		dev_err(&b->pdev->dev, "no mdev VIFs in NIC mode\n");
		return -EBUSY;
	}
	mutex_lock(&b->vif_lock);
	first = selfvirt_windows_get(b, md->rq_dma, md->rq_size, &md->q.win_count);
	if (first < 0) {
		mutex_unlock(&b->vif_lock);
		return first;
	}
	md->q.win_first = first;
	err = selfvirt_mdev_bind(md);
	if (err) {
		selfvirt_windows_put(b, md->q.win_first, md->q.win_count);
		mutex_unlock(&b->vif_lock);
		return err;
	}
	b->mdev[md->q.index] = md;
	md->bound = true;
	mutex_unlock(&b->vif_lock);

	err = selfvirt_port_create(b, md->q.index, NULL, md);
	if (err)
		selfvirt_mdev_drop(md);
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

/* ---- ioctls ---- */

static int selfvirt_mdev_region_info(struct selfvirt_mdev *md,
				     struct vfio_region_info *info,
				     struct vfio_info_cap *caps)
{
	struct vfio_region_info_cap_sparse_mmap *sparse;
	unsigned int index = info->index;
	u64 used;
	int err;

	if (index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info->offset = SELFVIRT_MDEV_OFFSET(index);
	info->size = selfvirt_mdev_region_size(md, index);
	info->flags = 0;
	if (!info->size)
		return 0;
	info->flags = VFIO_REGION_INFO_FLAG_READ;
	if (index != VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_RQ)
		info->flags |= VFIO_REGION_INFO_FLAG_WRITE;
	/* the doorbell page: one page, all of it mmap-able */
	if (index == VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_DOORBELL) {
		info->flags |= VFIO_REGION_INFO_FLAG_MMAP;
		return 0;
	}
	if (index == VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_SQ)
		used = md->q.part_size;
	else if (index == VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_RQ)
		used = md->rq_size;
	else
		return 0;

	/* mmap-able: the used part, which may be less than the BAR */
	info->flags |= VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
	sparse = kzalloc(struct_size(sparse, areas, 1), GFP_KERNEL);
	if (!sparse)
		return -ENOMEM;
	sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sparse->header.version = 1;
	sparse->nr_areas = 1;
	sparse->areas[0].offset = 0;
	sparse->areas[0].size = used;
	err = vfio_info_add_capability(caps, &sparse->header,
				       struct_size(sparse, areas, 1));
	kfree(sparse);
	return err;
}

static long selfvirt_mdev_ioctl_region_info(struct selfvirt_mdev *md,
					    void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_region_info info;
	int err;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	err = selfvirt_mdev_region_info(md, &info, &caps);
	if (err)
		goto out;
	if (caps.size) {
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
			info.cap_offset = 0;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(arg + sizeof(info), caps.buf, caps.size)) {
				err = -EFAULT;
				goto out;
			}
			info.cap_offset = sizeof(info);
		}
	}
	if (copy_to_user(arg, &info, minsz))
		err = -EFAULT;
out:
	kfree(caps.buf);
	return err;
}

static long selfvirt_mdev_ioctl_irq_info(void __user *arg)
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

static long selfvirt_mdev_ioctl_set_irqs(struct selfvirt_mdev *md,
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

/* ---- the mdev driver and the board as mdev parent ---- */

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
