// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: an mdev VIF's regions: config space, registers, mmaps
 *
 * What the VM's QEMU (vfio-pci) reads, writes and maps of a VIF function:
 * the emulated config space, the trapped registers of BAR0, and the board's
 * doorbell page, the VIF's SDRAM partition and its receive queue mapped
 * into the VM.
 */
#include <linux/etherdevice.h>
#include <linux/mm.h>
#include "selfvirt.h"
#include "mdev.h"

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
u32 selfvirt_mdev_rx_chain(struct selfvirt_mdev *md)
{
	return min_t(u32, min_t(u32, MAX_SKB_FRAGS + 1, SELFVIRT_RX_CHAIN_MAX),
		     md->q.rx_entries);
}

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

void selfvirt_mdev_config_init(struct selfvirt_mdev *md)
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

ssize_t selfvirt_mdev_read(struct vfio_device *vdev, char __user *buf,
			   size_t count, loff_t *ppos)
{
	return selfvirt_mdev_rw(container_of(vdev, struct selfvirt_mdev, vdev),
				buf, count, ppos, false);
}

ssize_t selfvirt_mdev_write(struct vfio_device *vdev,
			    const char __user *buf, size_t count,
			    loff_t *ppos)
{
	return selfvirt_mdev_rw(container_of(vdev, struct selfvirt_mdev, vdev),
				(char __user *)buf, count, ppos, true);
}

static void selfvirt_mdev_vm_flags(struct vm_area_struct *vma, vm_flags_t set,
				   vm_flags_t clear)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/* @vma onto the board's BAR @bar from @off on, as I/O memory with @prot */
static int selfvirt_mdev_remap_bar(struct vm_area_struct *vma,
				   struct selfvirt_mdev *md, int bar, u64 off,
				   pgprot_t prot)
{
	unsigned long pfn = (pci_resource_start(md->board->pdev, bar) + off) >>
			    PAGE_SHIFT;

	vma->vm_page_prot = prot;
	selfvirt_mdev_vm_flags(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
			       VM_DONTDUMP, 0);
	return io_remap_pfn_range(vma, vma->vm_start, pfn,
				  vma->vm_end - vma->vm_start, prot);
}

int selfvirt_mdev_mmap(struct vfio_device *vdev,
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
		return selfvirt_mdev_remap_bar(vma, md, SELFVIRT_BAR_DOORBELL,
					       SELFVIRT_DOORBELL_PAGE(md->q.index),
					       pgprot_noncached(vma->vm_page_prot));
	case VFIO_PCI_BAR0_REGION_INDEX + SELFVIRT_VIF_BAR_SQ:
		if (pos > md->q.part_size || len > md->q.part_size - pos)
			return -EINVAL;
		/* as this kernel maps the SDRAM: the VM only writes there */
		return selfvirt_mdev_remap_bar(vma, md, SELFVIRT_BAR_SDRAM,
					       md->q.part_off + pos,
					       pgprot_writecombine(vma->vm_page_prot));
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

long selfvirt_mdev_ioctl_region_info(struct selfvirt_mdev *md,
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
