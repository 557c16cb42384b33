// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: a VIF's signals and its NAPI poll
 *
 * The board signals a VIF (its identifier bit, or its MSI-X vectors) when
 * frames arrived or, while the queue waits for room, when frames were sent.
 * NAPI then owns the VIF with its signals off, reaps the send queue and
 * drains the receive queue until it finds nothing, and turns them back on.
 */
#include <linux/interrupt.h>
#include "selfvirt.h"

static void selfvirt_set_signals(struct selfvirt_vif *vif, u32 enable)
{
	vif->signal_enable = enable;
	selfvirt_ctrl_wr(vif, offsetof(struct selfvirt_sq_ctrl, signal_enable),
			 enable);
}

/*
 * Which signals the board may raise: none while NAPI polls; else receive,
 * and transmit-done only while the queue waits for room (frames are copied
 * at transmit, so their completion matters only then).  @polling and
 * @tx_waiting: 1 or 0 to change them, -1 to keep them.
 */
void selfvirt_update_signals(struct selfvirt_vif *vif, int polling,
			     int tx_waiting)
{
	unsigned long flags;
	u32 want = 0;

	spin_lock_irqsave(&vif->signal_lock, flags);
	if (polling >= 0)
		vif->polling = polling;
	if (tx_waiting >= 0)
		vif->tx_waiting = tx_waiting;
	if (!vif->polling)
		want = SELFVIRT_SIGNAL_RX | (vif->tx_waiting ? SELFVIRT_SIGNAL_TX : 0);
	if (want != vif->signal_enable)
		selfvirt_set_signals(vif, want);
	spin_unlock_irqrestore(&vif->signal_lock, flags);
}

/*
 * The board published an index its ring cannot hold.  Stop the VIF (its
 * queue; no signals, no NAPI rescheduling) until a restart empties its
 * rings, and report it as a halt: devlink health recover, a reload or a
 * board reset restarts it.
 */
void selfvirt_vif_bad_index(struct selfvirt_vif *vif, const char *which,
			    u32 val, u32 mine)
{
	if (READ_ONCE(vif->bad_index))
		return;
	netdev_err(vif->netdev, "board reports %s %u against %u: VIF stopped until a restart\n",
		   which, val, mine);
	WRITE_ONCE(vif->bad_index, true);
	netif_stop_queue(vif->netdev);
	selfvirt_vif_tx_halted(vif);
}

static bool selfvirt_has_work(struct selfvirt_vif *vif)
{
	struct selfvirt_rq_status *st = selfvirt_rq_status(vif);

	if (READ_ONCE(vif->bad_index))
		return false;
	return le32_to_cpu(READ_ONCE(st->rx_prod)) != vif->rx_cons ||
	       (READ_ONCE(vif->tx_waiting) &&
		le32_to_cpu(READ_ONCE(st->tx_cons)) != vif->tx_cons);
}

int selfvirt_poll(struct napi_struct *napi, int budget)
{
	struct selfvirt_vif *vif = container_of(napi, struct selfvirt_vif, napi);
	struct netdev_queue *txq = netdev_get_tx_queue(vif->netdev, 0);
	unsigned int cleaned;
	int done;

	__netif_tx_lock(txq, smp_processor_id());
	cleaned = selfvirt_tx_clean(vif);
	__netif_tx_unlock(txq);
	done = selfvirt_rx(vif, budget);

	vif->polls++;
	if (!done && !cleaned) {
		vif->redundant_polls++;
		vif->empty_polls++;
	}
	if (done < budget && napi_complete_done(napi, done)) {
		if (READ_ONCE(vif->bad_index))
			return done;	/* signals stay off until a restart */
		selfvirt_update_signals(vif, 0, -1);
		/* work that arrived while signals were off raised none */
		mb();
		if (selfvirt_has_work(vif) && napi_schedule_prep(napi)) {
			selfvirt_update_signals(vif, 1, -1);
			__napi_schedule(napi);
		}
	}
	return done;
}

/**
 * selfvirt_vif_signal - a signal for this VIF: poll it
 * @vif: the VIF whose identifier bit or vector fired
 *
 * Called from the interrupt handler.
 */
void selfvirt_vif_signal(struct selfvirt_vif *vif)
{
	if (napi_schedule_prep(&vif->napi)) {
		selfvirt_update_signals(vif, 1, -1);
		__napi_schedule(&vif->napi);
	} else {
		vif->redundant_polls++;
	}
}

/**
 * selfvirt_vif_msix - the handler of a VIF's own vector (MSI-X, VIF function)
 * @irq: the vector's interrupt
 * @data: the VIF
 *
 * Return: IRQ_HANDLED.
 */
irqreturn_t selfvirt_vif_msix(int irq, void *data)
{
	struct selfvirt_vif *vif = data;
	u64 start = selfvirt_cost_start();

	selfvirt_vif_signal(vif);
	selfvirt_cost_end(&vif->cost_vector, start, 1);
	return IRQ_HANDLED;
}
