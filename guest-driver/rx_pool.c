// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: posted receive buffers (SELFVIRT_ATTR_RX_POSTED)
 *
 * The paper's receive queue has one fixed buffer per slot, and its driver
 * copies every frame out.  With posted buffers the receive queue's memory
 * after the descriptors is a pool of pages, one buffer per page and about
 * one and a half times as many as slots.  A filled buffer goes to the
 * stack as an skb frag, and a free page is posted in its slot.  A page is
 * free when no slot has it and only the pool holds it (its count is 1).
 * When too few are free the frame is copied and its buffers stay posted:
 * the ring never waits for the stack.  Slots always hold rx_entries pages,
 * so the stack never holds more than the rest, and a ring reset always
 * finds a page for every slot it had.
 */
#include <linux/etherdevice.h>
#include "selfvirt.h"

static bool rx_copy;
module_param(rx_copy, bool, 0444);
MODULE_PARM_DESC(rx_copy, "copy every frame out of the receive queue, as the paper's driver (no posted buffers)");

/* The pool's first page: after the status block and the descriptors. */
static size_t selfvirt_rx_pool_first(u32 rx_entries)
{
	return PAGE_ALIGN(SELFVIRT_RQ_DATA_OFF(rx_entries));
}

/**
 * selfvirt_rx_pool_size - bytes of a receive queue with posted buffers
 * @rx_entries: its slots
 *
 * Return: a power of two, as window pages are, of at least 3/2 pages per
 * slot after the descriptors.
 */
size_t selfvirt_rx_pool_size(u32 rx_entries)
{
	return roundup_pow_of_two(selfvirt_rx_pool_first(rx_entries) +
				  (size_t)(rx_entries + rx_entries / 2) * PAGE_SIZE);
}

/**
 * selfvirt_rx_pool_wanted - whether a VIF of this geometry posts buffers
 * @b: the board
 * @rx_buf: bytes of a receive slot: at most a page
 *
 * Return: true unless the board cannot, the slots are larger than a page,
 * or the module parameter rx_copy asks for the paper's copy.
 */
bool selfvirt_rx_pool_wanted(struct selfvirt_board *b, u32 rx_buf)
{
	return !rx_copy && (b->caps & SELFVIRT_CAP_RX_POSTED) &&
	       rx_buf <= PAGE_SIZE;
}

/**
 * selfvirt_rx_pool_slot_size - receive slot bytes of a new interface VIF
 * @b: the board
 *
 * Return: a page where buffers are posted and the module parameter rx_buf
 * is not set (a page holds one either way), else the board's rx_buf.
 */
u32 selfvirt_rx_pool_slot_size(struct selfvirt_board *b)
{
	if (b->rx_buf_auto && selfvirt_rx_pool_wanted(b, PAGE_SIZE))
		return PAGE_SIZE;
	return b->rx_buf;
}

static struct page *selfvirt_rx_pool_page(struct selfvirt_vif *vif, u32 i)
{
	return virt_to_page(vif->rq + vif->pool.first + (size_t)i * PAGE_SIZE);
}

/**
 * selfvirt_rx_pool_alloc - the receive queue as a pool of pages
 * @vif: the VIF, its rx_entries set
 *
 * Pages of their own (not coherent memory): the stack takes and frees
 * them one by one.  A pool that would need DMA syncs (a bounce buffer) is
 * refused, and so is one the allocator cannot find at once: the VIF then
 * copies, from coherent memory.
 *
 * Return: 0, or -ENOMEM.
 */
int selfvirt_rx_pool_alloc(struct selfvirt_vif *vif)
{
	struct device *dev = &vif->board->pdev->dev;
	struct selfvirt_rx_pool *pool = &vif->pool;

	vif->rq_size = selfvirt_rx_pool_size(vif->rx_entries);
	pool->first = selfvirt_rx_pool_first(vif->rx_entries);
	pool->pages = (vif->rq_size - pool->first) / PAGE_SIZE;
	pool->slot_page = kcalloc(pool->pages, sizeof(u32), GFP_KERNEL);
	pool->posted = bitmap_zalloc(pool->pages, GFP_KERNEL);
	vif->rq = alloc_pages_exact(vif->rq_size, GFP_KERNEL | __GFP_ZERO |
				    __GFP_NOWARN | __GFP_NORETRY);
	if (!pool->slot_page || !pool->posted || !vif->rq)
		goto err;
	vif->rq_dma = dma_map_single(dev, vif->rq, vif->rq_size,
				     DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, vif->rq_dma))
		goto err;
	if (dma_need_sync(dev, vif->rq_dma)) {
		dma_unmap_single(dev, vif->rq_dma, vif->rq_size,
				 DMA_BIDIRECTIONAL);
		goto err;
	}
	return 0;
err:
	if (vif->rq)
		free_pages_exact(vif->rq, vif->rq_size);
	vif->rq = NULL;
	kfree(pool->slot_page);
	bitmap_free(pool->posted);
	memset(pool, 0, sizeof(*pool));
	return -ENOMEM;
}

/**
 * selfvirt_rx_pool_free - release the pool
 * @vif: the VIF, gone from the board (no DMA into its pages)
 *
 * Pages the stack still holds are freed when it lets them go.
 */
void selfvirt_rx_pool_free(struct selfvirt_vif *vif)
{
	struct selfvirt_rx_pool *pool = &vif->pool;

	dma_unmap_single(&vif->board->pdev->dev, vif->rq_dma, vif->rq_size,
			 DMA_BIDIRECTIONAL);
	free_pages_exact(vif->rq, vif->rq_size);
	kfree(pool->slot_page);
	bitmap_free(pool->posted);
	memset(pool, 0, sizeof(*pool));
}

static bool selfvirt_rx_pool_page_free(struct selfvirt_vif *vif, u32 i)
{
	return !test_bit(i, vif->pool.posted) &&
	       page_ref_count(selfvirt_rx_pool_page(vif, i)) == 1;
}

/* Pages the stack does not hold: what a ring reset can post. */
u32 selfvirt_rx_pool_unheld(struct selfvirt_vif *vif)
{
	u32 i, n = 0;

	for (i = 0; i < vif->pool.pages; i++)
		n += page_ref_count(selfvirt_rx_pool_page(vif, i)) == 1;
	return n;
}

/**
 * selfvirt_rx_pool_take - find @n free pages and mark them posted
 * @vif: the VIF
 * @n: pages wanted
 * @pages: their indexes
 *
 * Looks on from where the last search stopped: the stack frees pages in
 * about the order it got them.
 *
 * Return: true if all @n were found; none are taken otherwise.
 */
bool selfvirt_rx_pool_take(struct selfvirt_vif *vif, u32 n, u32 *pages)
{
	struct selfvirt_rx_pool *pool = &vif->pool;
	u32 looked, got = 0;

	for (looked = 0; looked < pool->pages && got < n; looked++) {
		u32 i = pool->next;

		pool->next = (i + 1) % pool->pages;
		if (selfvirt_rx_pool_page_free(vif, i)) {
			set_bit(i, pool->posted);
			pages[got++] = i;
		}
	}
	if (got == n)
		return true;
	selfvirt_rx_pool_untake(vif, got, pages);
	return false;
}

/* Give back @n pages taken and not posted. */
void selfvirt_rx_pool_untake(struct selfvirt_vif *vif, u32 n, const u32 *pages)
{
	while (n)
		clear_bit(pages[--n], vif->pool.posted);
}

static void selfvirt_rx_pool_set(struct selfvirt_vif *vif, u32 slot, u32 page)
{
	struct selfvirt_rx_desc *d = vif->rq + SELFVIRT_RQ_DESC(slot);

	vif->pool.slot_page[slot] = page;
	/* the board reads it once rx_cons hands it the slot (a wmb away) */
	WRITE_ONCE(d->buf, cpu_to_le64(vif->pool.first + (u64)page * PAGE_SIZE));
}

/* Post page @page, taken, in slot @slot (ring index) in place of its own. */
void selfvirt_rx_pool_post(struct selfvirt_vif *vif, u32 slot, u32 page)
{
	slot &= vif->rx_entries - 1;
	clear_bit(vif->pool.slot_page[slot], vif->pool.posted);
	selfvirt_rx_pool_set(vif, slot, page);
}

/* The buffer of slot @slot (ring index, wrapped here). */
void *selfvirt_rx_pool_buf(struct selfvirt_vif *vif, u32 slot)
{
	u32 page = vif->pool.slot_page[slot & (vif->rx_entries - 1)];

	return vif->rq + vif->pool.first + (size_t)page * PAGE_SIZE;
}

/**
 * selfvirt_rx_pool_enable - the board fills posted buffers from now on
 * @vif: the VIF, just created on the board, its interface not running
 *
 * Frames the board put in the paper's slots meanwhile go with the ring
 * restart (ATTR_QUEUES).
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_rx_pool_enable(struct selfvirt_vif *vif)
{
	u32 posted[3] = { vif->index, SELFVIRT_ATTR_RX_POSTED, 1 };
	u32 queues[4] = { vif->index, SELFVIRT_ATTR_QUEUES,
			  SELFVIRT_QUEUES(vif->tx_entries, vif->rx_entries), 0 };
	int err;

	err = selfvirt_rx_pool_start(vif, vif->rx_entries);
	if (!err)
		err = selfvirt_mbox(vif->board, SELFVIRT_CMD_VIF_SET, posted, 3,
				    NULL, 0);
	if (!err)
		err = selfvirt_mbox(vif->board, SELFVIRT_CMD_VIF_SET, queues, 4,
				    NULL, 0);
	return err;
}

/**
 * selfvirt_rx_pool_start - post a free page in each of @rx_entries slots
 * @vif: the VIF, quiesced: the board's rings are about to start empty
 * @rx_entries: the slots of the ring to come
 *
 * Return: 0, or -EBUSY if the stack holds too many pages still.
 */
int selfvirt_rx_pool_start(struct selfvirt_vif *vif, u32 rx_entries)
{
	u32 slot, page;

	if (selfvirt_rx_pool_unheld(vif) < rx_entries)
		return -EBUSY;
	bitmap_zero(vif->pool.posted, vif->pool.pages);
	for (slot = 0; slot < rx_entries; slot++) {
		if (WARN_ON(!selfvirt_rx_pool_take(vif, 1, &page)))
			return -EBUSY;
		selfvirt_rx_pool_set(vif, slot, page);
	}
	return 0;
}
