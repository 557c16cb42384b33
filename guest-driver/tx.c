// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: a VIF's transmit path
 *
 * Transmit writes the frame and its descriptor into the VIF's send queue in
 * the board's SDRAM (PCI writes only, write-combining) and publishes the
 * producer index there; completions are reaped from the status the board
 * writes into the receive queue's memory.  The steady path reads no BAR.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include "selfvirt.h"

/*
 * The largest contiguous free run of the data area.  Frames are placed in
 * order, so head == tail with frames in flight means full after a wrap.
 */
static u32 selfvirt_tx_free_bytes(struct selfvirt_vif *vif)
{
	if (vif->tx_prod == vif->tx_cons)
		return vif->data_size;
	if (vif->data_head > vif->data_tail)
		return max(vif->data_size - vif->data_head, vif->data_tail);
	if (vif->data_head == vif->data_tail)
		return 0;
	return vif->data_tail - vif->data_head;
}

/*
 * Reclaim what the board has consumed; returns frames completed.  Transmit
 * and NAPI both clean: the queue's lock keeps them one at a time.
 */
unsigned int selfvirt_tx_clean(struct selfvirt_vif *vif)
{
	struct selfvirt_rq_status *st = selfvirt_rq_status(vif);
	u32 cons = le32_to_cpu(READ_ONCE(st->tx_cons));
	unsigned int n = 0;
	u64 bytes = 0;

	lockdep_assert_held(&netdev_get_tx_queue(vif->netdev, 0)->_xmit_lock);

	/*
	 * a malformed descriptor: the board sends no more (devlink health);
	 * it raised a transmit signal, so NAPI gets here
	 */
	if (unlikely(le32_to_cpu(READ_ONCE(st->flags)) & SELFVIRT_RQ_HALTED))
		selfvirt_vif_tx_halted(vif);

	if (unlikely(cons - vif->tx_cons > vif->tx_prod - vif->tx_cons)) {
		selfvirt_vif_bad_index(vif, "tx_cons", cons, vif->tx_prod);
		return 0;
	}
	while (vif->tx_cons != cons) {
		u32 slot = vif->tx_cons & (vif->tx_entries - 1);

		vif->data_tail = vif->tx_end[slot];
		bytes += vif->tx_len[slot];
		vif->tx_cons++;
		n++;
	}
	if (n) {
		u64_stats_update_begin(&vif->tx_stats.syncp);
		u64_stats_add(&vif->tx_stats.packets, n);
		u64_stats_add(&vif->tx_stats.bytes, bytes);
		u64_stats_update_end(&vif->tx_stats.syncp);
		/*
		 * not while quiesced: the queue was stopped for a reset, and
		 * a transmit would write the old tx_prod into the new ring
		 * (detach clears "present" before netif_tx_disable() takes
		 * this lock)
		 */
		if (netif_queue_stopped(vif->netdev) &&
		    netif_device_present(vif->netdev) &&
		    selfvirt_tx_free_bytes(vif) >= SELFVIRT_TX_ROOM) {
			netif_wake_queue(vif->netdev);
			selfvirt_update_signals(vif, -1, 0);
		}
	}
	return n;
}

static void selfvirt_copy_skb_toio(void __iomem *dst, const struct sk_buff *skb)
{
	unsigned int off = skb_headlen(skb);
	int i;

	memcpy_toio(dst, skb->data, off);
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *f = &skb_shinfo(skb)->frags[i];

		memcpy_toio(dst + off, skb_frag_address(f), skb_frag_size(f));
		off += skb_frag_size(f);
	}
}

/* TSO the board takes: an MSS it cuts at, segments its wire takes */
static bool selfvirt_tso_ok(struct selfvirt_vif *vif, struct sk_buff *skb)
{
	u16 mss = skb_shinfo(skb)->gso_size;

	return mss >= SELFVIRT_TSO_MSS_MIN && mss <= SELFVIRT_TSO_MSS_MAX &&
	       skb_tcp_all_headers(skb) + mss <= vif->board->max_frame;
}

/*
 * A frame the board takes (its rule for a send descriptor): with TSO an
 * MSS it can cut at, else no longer than its max_frame.  A frame it
 * refuses halts the VIF's send queue, and a peer chooses the MSS.
 */
static bool selfvirt_tx_frame_ok(struct selfvirt_vif *vif, struct sk_buff *skb)
{
	if (skb_is_gso(skb))
		return selfvirt_tso_ok(vif, skb) &&
		       skb->len <= SELFVIRT_TSO_MAX_FRAME;
	return skb->len >= ETH_HLEN && skb->len <= vif->board->max_frame;
}

/*
 * A TSO frame with an MSS the board cannot cut at (a peer that advertises
 * 48, a route with a small locked MTU) is segmented by the stack instead.
 */
netdev_features_t selfvirt_features_check(struct sk_buff *skb,
					  struct net_device *dev,
					  netdev_features_t features)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	if (!skb_is_gso(skb) || selfvirt_tso_ok(vif, skb))
		return features;
	atomic64_inc(&vif->tx_gso_soft);
	return features & ~NETIF_F_GSO_MASK;
}

static netdev_tx_t selfvirt_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct selfvirt_vif *vif = netdev_priv(dev);
	u32 len = skb->len, need = ALIGN(len, SELFVIRT_TX_ALIGN), slot, off;
	struct selfvirt_tx_desc d = {};
	void __iomem *desc;

	if (!selfvirt_tx_frame_ok(vif, skb)) {
		/* the board would halt the send queue: refuse the frame alone */
		dev_kfree_skb_any(skb);
		dev->stats.tx_dropped++;
		vif->tx_refused++;
		return NETDEV_TX_OK;
	}
	if (vif->tx_prod - vif->tx_cons >= vif->tx_entries ||
	    selfvirt_tx_free_bytes(vif) < need) {
		selfvirt_tx_clean(vif);
		if (vif->tx_prod - vif->tx_cons >= vif->tx_entries ||
		    selfvirt_tx_free_bytes(vif) < need) {
			netif_stop_queue(dev);
			selfvirt_update_signals(vif, -1, 1);
			/* a completion may have come in before the signal was on */
			smp_mb();
			if (selfvirt_tx_clean(vif) == 0)
				return NETDEV_TX_BUSY;
			netif_start_queue(dev);
			selfvirt_update_signals(vif, -1, 0);
			if (selfvirt_tx_free_bytes(vif) < need)
				return NETDEV_TX_BUSY;
		}
	}

	/* a frame is contiguous in the data area: wrap when the end is short */
	off = vif->data_head;
	if (vif->tx_prod == vif->tx_cons) {
		off = 0;
		vif->data_tail = 0;
	} else if (off > vif->data_tail && vif->data_size - off < need) {
		off = 0;
	}
	selfvirt_copy_skb_toio(vif->part + SELFVIRT_SQ_DATA_OFF(vif->tx_entries) + off,
			       skb);

	d.buf = cpu_to_le32(off);
	d.len = cpu_to_le32(len);
	if (skb_is_gso(skb)) {
		d.flags = cpu_to_le16(SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM);
		d.mss = cpu_to_le16(skb_shinfo(skb)->gso_size);
	} else if (skb->ip_summed == CHECKSUM_PARTIAL) {
		d.flags = cpu_to_le16(SELFVIRT_TX_CSUM);
	}
	slot = vif->tx_prod & (vif->tx_entries - 1);
	desc = vif->part + SELFVIRT_SQ_DESC(slot);
	memcpy_toio(desc, &d, sizeof(d));
	vif->data_head = off + need;
	vif->tx_end[slot] = vif->data_head;
	vif->tx_len[slot] = len;
	vif->tx_prod++;
	skb_tx_timestamp(skb);
	dev_consume_skb_any(skb);

	/* frame and descriptor before the index; index before the check */
	wmb();
	selfvirt_ctrl_wr(vif, offsetof(struct selfvirt_sq_ctrl, tx_prod),
			 vif->tx_prod);
	/* the index out before EGRESS_ASLEEP is read (the board: the reverse) */
	mb();
	if (le32_to_cpu(READ_ONCE(selfvirt_rq_status(vif)->flags)) &
	    SELFVIRT_RQ_EGRESS_ASLEEP)
		selfvirt_doorbell(vif);
	return NETDEV_TX_OK;
}

/* A frame into the send queue: the paper's message send, costed */
netdev_tx_t selfvirt_start_xmit(struct sk_buff *skb,
				struct net_device *dev)
{
	struct selfvirt_vif *vif = netdev_priv(dev);
	u64 start = selfvirt_cost_start();
	netdev_tx_t ret = selfvirt_xmit(skb, dev);

	selfvirt_cost_end(&vif->cost_send, start, ret == NETDEV_TX_OK);
	return ret;
}
