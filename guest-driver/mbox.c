// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: the management mailbox (the board's XScale core)
 */
#include <linux/delay.h>
#include "selfvirt.h"

/*
 * The board runs a command before the write of MBOX_CMD completes; the
 * poll is for a board that is wedged: at most 1000 reads 100-200 us apart.
 */
#define SELFVIRT_MBOX_POLLS		1000
#define SELFVIRT_MBOX_POLL_MIN_US	100
#define SELFVIRT_MBOX_POLL_MAX_US	200

static const char * const selfvirt_status_names[] = {
	[SELFVIRT_ST_OK] = "ok",
	[SELFVIRT_ST_BAD_CMD] = "unknown command",
	[SELFVIRT_ST_NO_VIF] = "no such VIF",
	[SELFVIRT_ST_NO_RESOURCES] = "no resources",
	[SELFVIRT_ST_BAD_ARG] = "bad argument",
	[SELFVIRT_ST_EXISTS] = "VIF exists",
	[SELFVIRT_ST_WRONG_MODE] = "wrong mode",
};

static int selfvirt_status_errno(u32 st)
{
	switch (st) {
	case SELFVIRT_ST_OK:
		return 0;
	case SELFVIRT_ST_BAD_CMD:
		return -EOPNOTSUPP;
	case SELFVIRT_ST_NO_VIF:
		return -ENOENT;
	case SELFVIRT_ST_NO_RESOURCES:
		return -ENOSPC;
	case SELFVIRT_ST_EXISTS:
		return -EEXIST;
	case SELFVIRT_ST_WRONG_MODE:
		return -EBUSY;
	default:
		return -EINVAL;
	}
}

/*
 * Run one mailbox command.  The board answers before the command write
 * completes; a missing DONE bit (a wedged board) is an error, never a hang.
 */
int selfvirt_mbox(struct selfvirt_board *b, u32 cmd, const u32 *args,
		  unsigned int nargs, u32 *res, unsigned int nres)
{
	unsigned int i, tries;
	u32 st = 0, code;

	if (WARN_ON(nargs > SELFVIRT_MBOX_NARGS || nres > SELFVIRT_MBOX_NARGS))
		return -EINVAL;
	if (b->no_mbox)
		return -EOPNOTSUPP;	/* the management side's, not a VM's */
	mutex_lock(&b->mbox_lock);
	for (i = 0; i < SELFVIRT_MBOX_NARGS; i++)
		selfvirt_wr(b, SELFVIRT_REG_MBOX_ARG(i), i < nargs ? args[i] : 0);
	selfvirt_wr(b, SELFVIRT_REG_MBOX_CMD, cmd);
	for (tries = 0; tries < SELFVIRT_MBOX_POLLS; tries++) {
		st = selfvirt_rd(b, SELFVIRT_REG_MBOX_STATUS);
		if (st & SELFVIRT_MBOX_STATUS_DONE)
			break;
		usleep_range(SELFVIRT_MBOX_POLL_MIN_US, SELFVIRT_MBOX_POLL_MAX_US);
	}
	for (i = 0; i < nres; i++)
		res[i] = selfvirt_rd(b, SELFVIRT_REG_MBOX_RES(i));
	mutex_unlock(&b->mbox_lock);

	if (!(st & SELFVIRT_MBOX_STATUS_DONE)) {
		dev_err(&b->pdev->dev, "mailbox command %u: no answer\n", cmd);
		return -ETIMEDOUT;
	}
	code = SELFVIRT_MBOX_STATUS_CODE(st);
	if (code != SELFVIRT_ST_OK)
		dev_err(&b->pdev->dev, "mailbox command %u failed: %s (%u)\n",
			cmd, code < ARRAY_SIZE(selfvirt_status_names) &&
			selfvirt_status_names[code] ?
			selfvirt_status_names[code] : "unknown status", code);
	return selfvirt_status_errno(code);
}

/**
 * selfvirt_mbox_vif_create - bind a VIF's queues to the board (VIF_CREATE)
 * @b: the board
 * @q: the queues; index and MAC in (SELFVIRT_VIF_ANY, all-zero MAC: the
 *     board chooses), index, MAC and SDRAM partition out; its signal gap,
 *     if any, is set on the new VIF (which is gone again if that fails)
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_mbox_vif_create(struct selfvirt_board *b,
			     struct selfvirt_vif_binding *q)
{
	u32 args[6], res[5];
	int err;

	args[0] = q->index;
	args[1] = get_unaligned_le32(q->mac);
	args[2] = get_unaligned_le16(q->mac + 4);
	args[3] = SELFVIRT_QUEUES(q->tx_entries, q->rx_entries);
	args[4] = SELFVIRT_WINDOWS(q->win_first, q->win_count);
	args[5] = q->rx_buf;
	err = selfvirt_mbox(b, SELFVIRT_CMD_VIF_CREATE, args, 6, res, 5);
	if (err)
		return err;
	/* the slot asked for, a partition that holds the send queue's ring
	 * and a frame's room
	 */
	if (res[0] >= SELFVIRT_WIN_ENTRIES ||
	    (args[0] != SELFVIRT_VIF_ANY && res[0] != args[0]) ||
	    res[1] >= b->sdram_len ||
	    res[2] > b->sdram_len - res[1] ||
	    res[2] < SELFVIRT_SQ_DATA_OFF(q->tx_entries) + SELFVIRT_TX_ROOM) {
		dev_err(&b->pdev->dev, "VIF_CREATE answered VIF %u at %#x+%#x\n",
			res[0], res[1], res[2]);
		/* the board made it: unmade, it writes into no freed queue */
		if (res[0] < SELFVIRT_WIN_ENTRIES)
			selfvirt_mbox(b, SELFVIRT_CMD_VIF_DESTROY, &res[0], 1,
				      NULL, 0);
		return -EIO;
	}
	q->index = res[0];
	q->part_off = res[1];
	q->part_size = res[2];
	put_unaligned_le32(res[3], q->mac);
	put_unaligned_le16(res[4], q->mac + 4);
	if (!q->signal_gap_us)
		return 0;
	err = selfvirt_mbox_signal_gap(b, q->index, q->signal_gap_us);
	if (err)
		selfvirt_mbox(b, SELFVIRT_CMD_VIF_DESTROY, &q->index, 1, NULL, 0);
	return err;
}

/**
 * selfvirt_mbox_signal_gap - a VIF's signal moderation (ATTR_SIGNAL_GAP)
 * @b: the board
 * @index: the VIF slot, an interface's or a VM's
 * @us: microseconds between two signals of a kind, 0 for none
 *
 * Return: 0, -EOPNOTSUPP on a board without moderation, -ERANGE for a gap
 * above SELFVIRT_SIGNAL_GAP_MAX_US, or the mailbox's errno.
 */
int selfvirt_mbox_signal_gap(struct selfvirt_board *b, u32 index, u32 us)
{
	u32 args[3] = { index, SELFVIRT_ATTR_SIGNAL_GAP, us };
	int err = selfvirt_signal_gap_check(b, us);

	return err ?: selfvirt_mbox(b, SELFVIRT_CMD_VIF_SET, args, 3, NULL, 0);
}

/**
 * selfvirt_signal_gap_check - may the board take signal gap @us?
 * @b: the board
 * @us: microseconds
 *
 * Return: 0, -EOPNOTSUPP or -ERANGE, as selfvirt_mbox_signal_gap().
 */
int selfvirt_signal_gap_check(struct selfvirt_board *b, u32 us)
{
	if (!(b->caps & SELFVIRT_CAP_SIGNAL_GAP))
		return -EOPNOTSUPP;
	return us > SELFVIRT_SIGNAL_GAP_MAX_US ? -ERANGE : 0;
}
