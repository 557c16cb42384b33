// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: the host window table (the 21555's upstream lookup table)
 *
 * A VIF's receive queue is one DMA-contiguous buffer; the board reaches it
 * through a run of consecutive window entries of one window page each.
 * Interface VIFs and mediated-device VIFs take their runs from one table.
 */
#include "selfvirt.h"

/**
 * selfvirt_windows_program - point a run of entries at a buffer, or clear it
 * @b: the board
 * @first: first entry of the run
 * @count: entries in the run
 * @dma: bus address of the buffer
 * @valid: program the entries (true) or invalidate them (false)
 */
void selfvirt_windows_program(struct selfvirt_board *b, unsigned int first,
			      unsigned int count, dma_addr_t dma, bool valid)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		dma_addr_t a = dma + ((dma_addr_t)i << b->win_shift);

		selfvirt_wr(b, SELFVIRT_REG_WIN_HI(first + i),
			    valid ? upper_32_bits(a) : 0);
		selfvirt_wr(b, SELFVIRT_REG_WIN_LO(first + i),
			    valid ? (lower_32_bits(a) | SELFVIRT_WIN_VALID) : 0);
	}
}

static unsigned int selfvirt_windows_find(struct selfvirt_board *b, size_t size,
					  unsigned int *count)
{
	*count = DIV_ROUND_UP(size, 1UL << b->win_shift);
	return bitmap_find_next_zero_area(b->win_used, SELFVIRT_WIN_ENTRIES,
					  0, *count, 0);
}

/* Are there entries free for a receive queue of @size bytes? */
bool selfvirt_windows_available(struct selfvirt_board *b, size_t size)
{
	unsigned int count;

	lockdep_assert_held(&b->vif_lock);
	return selfvirt_windows_find(b, size, &count) < SELFVIRT_WIN_ENTRIES;
}

/**
 * selfvirt_windows_get - take and program the entries for a receive queue
 * @b: the board
 * @dma: bus address of the queue
 * @size: bytes of the queue
 * @count: entries taken, on success
 *
 * Return: the first entry of the run, or -ENOSPC.
 */
int selfvirt_windows_get(struct selfvirt_board *b, dma_addr_t dma, size_t size,
			 unsigned int *count)
{
	unsigned int n, first;

	lockdep_assert_held(&b->vif_lock);
	first = selfvirt_windows_find(b, size, &n);
	if (first >= SELFVIRT_WIN_ENTRIES) {
		dev_err(&b->pdev->dev, "no %u free windows for a VIF\n", n);
		return -ENOSPC;
	}
	bitmap_set(b->win_used, first, n);
	selfvirt_windows_program(b, first, n, dma, true);
	*count = n;
	return first;
}

/**
 * selfvirt_windows_put - invalidate and release a run of entries
 * @b: the board
 * @first: first entry of the run
 * @count: entries in the run
 */
void selfvirt_windows_put(struct selfvirt_board *b, unsigned int first,
			  unsigned int count)
{
	lockdep_assert_held(&b->vif_lock);
	selfvirt_windows_program(b, first, count, 0, false);
	bitmap_clear(b->win_used, first, count);
}
