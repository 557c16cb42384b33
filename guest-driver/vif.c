// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: one network interface per VIF
 *
 * Transmit writes the frame and its descriptor into the VIF's send queue in
 * the board's SDRAM (PCI writes only, write-combining) and publishes the
 * producer index there.  Receive copies frames out of the VIF's receive
 * queue in host memory, which the board fills through the VIF's windows,
 * in NAPI context.  The steady path reads no BAR.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/interrupt.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/version.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#include <net/netdev_queues.h>	/* qstats */
#endif
#include "selfvirt.h"

#define SELFVIRT_NAPI_WEIGHT	64

static struct selfvirt_rq_status *selfvirt_rq_status(struct selfvirt_vif *vif)
{
	return vif->rq;
}

static struct selfvirt_rx_desc *selfvirt_rx_desc(struct selfvirt_vif *vif,
						 u32 slot)
{
	return vif->rq + SELFVIRT_RQ_DESC(slot);
}

static void selfvirt_ctrl_wr(struct selfvirt_vif *vif, unsigned int off, u32 v)
{
	iowrite32(v, vif->part + off);
}

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
static void selfvirt_update_signals(struct selfvirt_vif *vif, int polling,
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

static void selfvirt_doorbell(struct selfvirt_vif *vif)
{
	vif->doorbells++;
	iowrite32(vif->doorbell_val, vif->doorbell);
}

/* ---- transmit ---- */

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
 * The board published an index its ring cannot hold.  Stop the VIF (its
 * queue; no signals, no NAPI rescheduling) until a restart empties its
 * rings, and report it as a halt: devlink health recover, a reload or a
 * board reset restarts it.
 */
static void selfvirt_vif_bad_index(struct selfvirt_vif *vif, const char *which,
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

/*
 * Reclaim what the board has consumed; returns frames completed.  Transmit
 * and NAPI both clean: the queue's lock keeps them one at a time.
 */
static unsigned int selfvirt_tx_clean(struct selfvirt_vif *vif)
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
static netdev_features_t selfvirt_features_check(struct sk_buff *skb,
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
static netdev_tx_t selfvirt_start_xmit(struct sk_buff *skb,
				       struct net_device *dev)
{
	struct selfvirt_vif *vif = netdev_priv(dev);
	u64 start = selfvirt_cost_start();
	netdev_tx_t ret = selfvirt_xmit(skb, dev);

	selfvirt_cost_end(&vif->cost_send, start, ret == NETDEV_TX_OK);
	return ret;
}

/* ---- receive ---- */

/*
 * One frame's descriptors as the board wrote them, each value read from
 * the ring once: the board (or, for a VIF function, whoever emulates it)
 * may write the ring again between a check and a use.
 */
struct selfvirt_rx_frame {
	u32 slots;		/* to consume, the frame malformed or not */
	u16 flags;		/* of the first slot: checksum and GSO */
	u16 gso_size;
	u32 len[MAX_SKB_FRAGS + 1];	/* of each slot, up to rx_chain */
};

/*
 * Read the frame at rx_cons: the slots it spans (SELFVIRT_RX_MORE chains
 * them) and their lengths.  False if it is malformed: a bad length, longer
 * than the agreed chain, or cut off at @prod; @f->slots then counts the
 * slots to skip.
 */
static bool selfvirt_rx_frame_read(struct selfvirt_vif *vif, u32 prod,
				   struct selfvirt_rx_frame *f)
{
	bool ok = true;
	u32 i = 0;
	u16 flags;

	do {
		struct selfvirt_rx_desc *d =
			selfvirt_rx_desc(vif, (vif->rx_cons + i) & (vif->rx_entries - 1));
		u32 len = le32_to_cpu(READ_ONCE(d->len));

		flags = le16_to_cpu(READ_ONCE(d->flags));
		if (!i) {
			f->flags = flags;
			f->gso_size = le16_to_cpu(READ_ONCE(d->gso_size));
		}
		if (i < ARRAY_SIZE(f->len))
			f->len[i] = len;
		if (len > vif->rx_buf || len < (i ? 1 : ETH_HLEN))
			ok = false;
		i++;
	} while ((flags & SELFVIRT_RX_MORE) && vif->rx_cons + i != prod);
	f->slots = i;
	return ok && !(flags & SELFVIRT_RX_MORE) && i <= vif->rx_chain;
}

static void *selfvirt_rx_slot(struct selfvirt_vif *vif, u32 idx)
{
	return vif->rq + SELFVIRT_RQ_DATA_OFF(vif->rx_entries) +
	       (size_t)(idx & (vif->rx_entries - 1)) * vif->rx_buf;
}

/* Copy frame @f at rx_cons into a new skb: head, then frags. */
static struct sk_buff *selfvirt_rx_skb(struct selfvirt_vif *vif,
				       const struct selfvirt_rx_frame *f)
{
	struct sk_buff *skb;
	u32 i;

	skb = napi_alloc_skb(&vif->napi, f->len[0]);
	if (!skb)
		return NULL;
	skb_put_data(skb, selfvirt_rx_slot(vif, vif->rx_cons), f->len[0]);
	for (i = 1; i < f->slots; i++) {
		void *buf = napi_alloc_frag(f->len[i]);
		struct page *page;

		if (!buf) {
			dev_kfree_skb_any(skb);
			return NULL;
		}
		memcpy(buf, selfvirt_rx_slot(vif, vif->rx_cons + i), f->len[i]);
		page = virt_to_head_page(buf);
		skb_add_rx_frag(skb, i - 1, page, buf - page_address(page),
				f->len[i], SKB_DATA_ALIGN(f->len[i]));
	}
	return skb;
}

static int selfvirt_rx(struct selfvirt_vif *vif, int budget)
{
	struct selfvirt_rq_status *st = selfvirt_rq_status(vif);
	u32 prod = le32_to_cpu(READ_ONCE(st->rx_prod));
	u64 packets = 0, bytes = 0;
	int done = 0;

	if (unlikely(prod - vif->rx_cons > vif->rx_entries)) {
		selfvirt_vif_bad_index(vif, "rx_prod", prod, vif->rx_cons);
		return 0;
	}
	dma_rmb();
	while (vif->rx_cons != prod && done < budget) {
		u64 start = selfvirt_cost_start();
		struct selfvirt_rx_frame f;
		struct sk_buff *skb = NULL;

		done++;
		if (selfvirt_rx_frame_read(vif, prod, &f))
			skb = selfvirt_rx_skb(vif, &f);
		/* the paper's message receive: the copy out of the ring */
		selfvirt_cost_end(&vif->cost_recv, start, !!skb);
		vif->rx_cons += f.slots;
		if (!skb) {
			vif->rx_dropped++;
			continue;
		}
		packets++;
		bytes += skb->len;
		skb->protocol = eth_type_trans(skb, vif->netdev);
		if ((f.flags & SELFVIRT_RX_CSUM_OK) &&
		    (vif->netdev->features & NETIF_F_RXCSUM))
			skb->ip_summed = CHECKSUM_UNNECESSARY;
		/* a coalesced frame's TCP checksum is its first segment's: only
		 * the board's check of each segment vouches for it
		 */
		if ((f.flags & (SELFVIRT_RX_GSO_TCPV4 | SELFVIRT_RX_GSO_TCPV6)) &&
		    f.gso_size && skb->ip_summed == CHECKSUM_UNNECESSARY) {
			skb_shinfo(skb)->gso_size = f.gso_size;
			skb_shinfo(skb)->gso_type =
				(f.flags & SELFVIRT_RX_GSO_TCPV4 ? SKB_GSO_TCPV4 :
				 SKB_GSO_TCPV6) | SKB_GSO_DODGY;
			skb_shinfo(skb)->gso_segs = 0;
		}
		napi_gro_receive(&vif->napi, skb);
	}
	if (done) {
		u64_stats_update_begin(&vif->rx_stats.syncp);
		u64_stats_add(&vif->rx_stats.packets, packets);
		u64_stats_add(&vif->rx_stats.bytes, bytes);
		u64_stats_update_end(&vif->rx_stats.syncp);
		/* slots free for the board; then see whether it waits for them */
		wmb();
		selfvirt_ctrl_wr(vif, offsetof(struct selfvirt_sq_ctrl, rx_cons),
				 vif->rx_cons);
		/* rx_cons out before RX_BLOCKED is read (the board: the reverse) */
		mb();
		if (le32_to_cpu(READ_ONCE(st->flags)) & SELFVIRT_RQ_RX_BLOCKED)
			selfvirt_doorbell(vif);
	}
	return done;
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

static int selfvirt_poll(struct napi_struct *napi, int budget)
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

/* ---- net_device_ops ---- */

static int selfvirt_open(struct net_device *dev)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	napi_enable(&vif->napi);
	netif_carrier_on(dev);
	netif_start_queue(dev);
	/* the first poll turns the signals on */
	selfvirt_update_signals(vif, 1, 0);
	napi_schedule(&vif->napi);
	return 0;
}

static int selfvirt_stop(struct net_device *dev)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	netif_stop_queue(dev);
	netif_carrier_off(dev);
	if (!vif->quiesced)	/* else disabled already */
		napi_disable(&vif->napi);
	/* after NAPI: a poll that ends turns the signals back on */
	selfvirt_update_signals(vif, 1, 0);
	return 0;
}

/* One direction's counters, consistent with each other */
static void selfvirt_stats_read(struct selfvirt_vif_stats *st, u64 *packets,
				u64 *bytes)
{
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&st->syncp);
		*packets = u64_stats_read(&st->packets);
		*bytes = u64_stats_read(&st->bytes);
	} while (u64_stats_fetch_retry(&st->syncp, start));
}

static void selfvirt_get_stats64(struct net_device *dev,
				 struct rtnl_link_stats64 *s)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	selfvirt_stats_read(&vif->rx_stats, &s->rx_packets, &s->rx_bytes);
	selfvirt_stats_read(&vif->tx_stats, &s->tx_packets, &s->tx_bytes);
	s->rx_dropped = vif->rx_dropped;
	s->tx_dropped = dev->stats.tx_dropped;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
/*
 * Queue statistics (netdev netlink qstats): a VIF has one queue pair,
 * whose counters are the interface's; nothing lies outside it.
 */
static void selfvirt_qstats_rx(struct net_device *dev, int idx,
			       struct netdev_queue_stats_rx *rx)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	selfvirt_stats_read(&vif->rx_stats, &rx->packets, &rx->bytes);
}

static void selfvirt_qstats_tx(struct net_device *dev, int idx,
			       struct netdev_queue_stats_tx *tx)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	selfvirt_stats_read(&vif->tx_stats, &tx->packets, &tx->bytes);
}

static void selfvirt_qstats_base(struct net_device *dev,
				 struct netdev_queue_stats_rx *rx,
				 struct netdev_queue_stats_tx *tx)
{
	rx->packets = 0;
	rx->bytes = 0;
	tx->packets = 0;
	tx->bytes = 0;
}

static const struct netdev_stat_ops selfvirt_stat_ops = {
	.get_queue_stats_rx = selfvirt_qstats_rx,
	.get_queue_stats_tx = selfvirt_qstats_tx,
	.get_base_stats = selfvirt_qstats_base,
};
#endif

static int selfvirt_set_mac(struct net_device *dev, void *p)
{
	struct selfvirt_vif *vif = netdev_priv(dev);
	struct sockaddr *sa = p;
	u32 args[4];
	int err;

	if (!is_valid_ether_addr(sa->sa_data))
		return -EADDRNOTAVAIL;
	args[0] = vif->index;
	args[1] = SELFVIRT_ATTR_MAC;
	args[2] = get_unaligned_le32(sa->sa_data);
	args[3] = get_unaligned_le16(sa->sa_data + 4);
	err = selfvirt_mbox(vif->board, SELFVIRT_CMD_VIF_SET, args, 4, NULL, 0);
	if (err)
		return err;
	eth_hw_addr_set(dev, sa->sa_data);
	return 0;
}

/*
 * Let the board spread a frame over up to rx_chain receive slots (a head
 * and MAX_SKB_FRAGS frags here) and, with NETIF_F_GRO_HW, merge the TCP
 * segments of a flow that wait for the VIF (receive coalescing).
 */
static int selfvirt_set_rx_chain(struct selfvirt_vif *vif,
				 netdev_features_t features)
{
	u32 args[4] = { vif->index, SELFVIRT_ATTR_RX_CHAIN, vif->rx_chain,
			features & NETIF_F_GRO_HW ? SELFVIRT_RX_COALESCE_TCP : 0 };

	if (!(vif->board->caps & SELFVIRT_CAP_RX_CHAIN))
		return 0;
	return selfvirt_mbox(vif->board, SELFVIRT_CMD_VIF_SET, args, 4, NULL, 0);
}

static int selfvirt_set_features(struct net_device *dev,
				 netdev_features_t features)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	if (!((dev->features ^ features) & NETIF_F_GRO_HW))
		return 0;
	return selfvirt_set_rx_chain(vif, features);
}

static void selfvirt_rx_mode_work(struct work_struct *work)
{
	struct selfvirt_vif *vif = container_of(work, struct selfvirt_vif,
						rx_mode_work);

	selfvirt_board_set_mode(vif->board);
}

/* Called with the address lock held: the mailbox waits, so defer it. */
static void selfvirt_set_rx_mode(struct net_device *dev)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	/* only the plain NIC mode has a promiscuous switch port */
	if (vif->board->nic_mode)
		schedule_work(&vif->rx_mode_work);
}

static const struct net_device_ops selfvirt_netdev_ops = {
	.ndo_open = selfvirt_open,
	.ndo_stop = selfvirt_stop,
	.ndo_start_xmit = selfvirt_start_xmit,
	.ndo_features_check = selfvirt_features_check,
	.ndo_get_stats64 = selfvirt_get_stats64,
	.ndo_set_mac_address = selfvirt_set_mac,
	.ndo_set_rx_mode = selfvirt_set_rx_mode,
	.ndo_set_features = selfvirt_set_features,
	.ndo_validate_addr = eth_validate_addr,
#ifndef SET_NETDEV_DEVLINK_PORT	/* Linux 6.1: netdev->devlink_port later */
	.ndo_get_devlink_port = selfvirt_port_of_netdev,
#endif
};

/* ---- ethtool ---- */

#define SELFVIRT_VSTAT_NAME(id, name) "board_" name
static const char selfvirt_gstrings[][ETH_GSTRING_LEN] = {
	"vif_index", "polls", "redundant_polls", "empty_polls", "doorbells",
	"rx_dropped", "tx_refused", "tx_gso_soft", "tx_unreaped",
	/* host costs (module parameter cost_stats): this VIF's, the board's */
	"host_send_ns", "host_sends", "host_recv_ns", "host_recvs",
	"host_vector_irq_ns", "host_vector_irqs",
	"host_master_irq_ns", "host_master_irqs",
	SELFVIRT_VIF_STATS(SELFVIRT_VSTAT_NAME)
};
#undef SELFVIRT_VSTAT_NAME

static void selfvirt_get_drvinfo(struct net_device *dev,
				 struct ethtool_drvinfo *info)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	strscpy(info->driver, SELFVIRT_DRV_NAME, sizeof(info->driver));
	strscpy(info->bus_info, pci_name(vif->board->pdev),
		sizeof(info->bus_info));
}

/* a VIF function has no mailbox, so none of the board's counters */
static int selfvirt_stats_count(struct selfvirt_vif *vif)
{
	return ARRAY_SIZE(selfvirt_gstrings) -
	       (vif->board->vif_function ? SELFVIRT_VSTAT_COUNT : 0);
}

static int selfvirt_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? selfvirt_stats_count(netdev_priv(dev)) :
	       -EOPNOTSUPP;
}

static void selfvirt_get_strings(struct net_device *dev, u32 sset, u8 *buf)
{
	if (sset == ETH_SS_STATS)
		memcpy(buf, selfvirt_gstrings,
		       selfvirt_stats_count(netdev_priv(dev)) * ETH_GSTRING_LEN);
}

static void selfvirt_get_ethtool_stats(struct net_device *dev,
				       struct ethtool_stats *stats, u64 *data)
{
	struct selfvirt_vif *vif = netdev_priv(dev);
	u32 res[SELFVIRT_VSTAT_COUNT] = {};
	u32 arg = vif->index;
	int i = 0, j;

	data[i++] = vif->index;
	data[i++] = vif->polls;
	data[i++] = vif->redundant_polls;
	data[i++] = vif->empty_polls;
	data[i++] = vif->doorbells;
	data[i++] = vif->rx_dropped;
	data[i++] = vif->tx_refused;
	data[i++] = atomic64_read(&vif->tx_gso_soft);
	/* sent, and published by the board, but not counted in tx_packets yet */
	data[i++] = (u32)(le32_to_cpu(READ_ONCE(selfvirt_rq_status(vif)->tx_cons)) -
			  READ_ONCE(vif->tx_cons));
	data[i++] = vif->cost_send.ns;
	data[i++] = vif->cost_send.events;
	data[i++] = vif->cost_recv.ns;
	data[i++] = vif->cost_recv.events;
	data[i++] = vif->cost_vector.ns;
	data[i++] = vif->cost_vector.events;
	data[i++] = vif->board->cost_master.ns;
	data[i++] = vif->board->cost_master.events;
	if (vif->board->vif_function)
		return;
	/* the board's own counters: a mailbox read, off the fast path */
	selfvirt_mbox(vif->board, SELFVIRT_CMD_VIF_STATS, &arg, 1, res,
		      SELFVIRT_VSTAT_COUNT);
	for (j = 0; j < SELFVIRT_VSTAT_COUNT; j++)
		data[i++] = res[j];
}

static void selfvirt_vif_resume(struct selfvirt_vif *vif);
static u32 selfvirt_vif_rx_chain_max(struct selfvirt_vif *vif);
static void selfvirt_vif_set_max_mtu(struct selfvirt_vif *vif);

/*
 * The board re-lays out the VIF's rings (ATTR_QUEUES, which also restarts
 * a halted send queue) while the interface is quiesced; the rings start
 * empty.  *@tx_end and *@tx_len: the bookkeeping for @tx entries, swapped
 * with the VIF's on success; NULL to keep the VIF's sizes.
 */
static int selfvirt_vif_set_queues(struct selfvirt_vif *vif, u32 tx, u32 rx,
				   u32 **tx_end, u32 **tx_len)
{
	u32 args[4] = { vif->index, SELFVIRT_ATTR_QUEUES, SELFVIRT_QUEUES(tx, rx),
			0 };
	int err;

	ASSERT_RTNL();
	selfvirt_vif_quiesce(vif);
	err = selfvirt_mbox(vif->board, SELFVIRT_CMD_VIF_SET, args, 4, NULL, 0);
	if (!err) {
		if (tx_end) {
			swap(vif->tx_end, *tx_end);
			swap(vif->tx_len, *tx_len);
		}
		vif->tx_entries = tx;
		vif->rx_entries = rx;
		vif->data_size = vif->board->part_size - SELFVIRT_SQ_DATA_OFF(tx);
		clear_bit(0, &vif->halted);
	}
	selfvirt_vif_resume(vif);
	return err;
}

/**
 * selfvirt_vif_restart - empty the VIF's rings and start them again
 * @vif: the VIF, e.g. with a send queue the board halted
 *
 * Under RTNL.  Frames in the rings are lost.
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_vif_restart(struct selfvirt_vif *vif)
{
	return selfvirt_vif_set_queues(vif, vif->tx_entries, vif->rx_entries,
				       NULL, NULL);
}

/**
 * selfvirt_vif_set_active - start or stop a VIF (devlink port function state)
 * @vif: the VIF
 * @active: true to start it
 *
 * Under RTNL.  A stopped VIF's interface is detached, without carrier, and
 * the board raises no signal for it; starting it empties its rings.
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_vif_set_active(struct selfvirt_vif *vif, bool active)
{
	ASSERT_RTNL();
	if (active == !vif->inactive)
		return 0;
	if (!active) {
		selfvirt_vif_quiesce(vif);
		netif_carrier_off(vif->netdev);
		selfvirt_update_signals(vif, 1, 0);
		vif->inactive = true;
		return 0;
	}
	vif->inactive = false;
	return selfvirt_vif_restart(vif);
}

static void selfvirt_get_ringparam(struct net_device *dev,
				   struct ethtool_ringparam *ring,
				   struct kernel_ethtool_ringparam *kring,
				   struct netlink_ext_ack *extack)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	ring->rx_max_pending = SELFVIRT_QUEUE_MAX;
	ring->tx_max_pending = SELFVIRT_QUEUE_MAX;
	ring->rx_pending = vif->rx_entries;
	ring->tx_pending = vif->tx_entries;
}

/*
 * New queue sizes: the board re-lays out the VIF's rings (ATTR_QUEUES)
 * while the interface is quiesced; the receive queue must still fit the
 * memory its windows map.
 */
static int selfvirt_set_ringparam(struct net_device *dev,
				  struct ethtool_ringparam *ring,
				  struct kernel_ethtool_ringparam *kring,
				  struct netlink_ext_ack *extack)
{
	struct selfvirt_vif *vif = netdev_priv(dev);
	u32 tx = ring->tx_pending, rx = ring->rx_pending;
	u32 *tx_end, *tx_len;
	int err;

	if (vif->board->vif_function) {
		NL_SET_ERR_MSG_MOD(extack, "the management side sets a VM's queues");
		return -EOPNOTSUPP;
	}
	if (!is_power_of_2(tx) || !is_power_of_2(rx) ||
	    tx < SELFVIRT_QUEUE_MIN || rx < SELFVIRT_QUEUE_MIN) {
		NL_SET_ERR_MSG_MOD(extack, "queue sizes must be powers of two, at least 4");
		return -EINVAL;
	}
	if (rx * vif->rx_buf < dev->mtu + ETH_HLEN) {
		NL_SET_ERR_MSG_MOD(extack, "receive queue too small for a frame of the MTU");
		return -EINVAL;
	}
	if (SELFVIRT_RQ_DATA_OFF(rx) + (size_t)rx * vif->rx_buf > vif->rq_size) {
		NL_SET_ERR_MSG_MOD(extack, "receive queue larger than the VIF's receive memory");
		return -EINVAL;
	}
	if (SELFVIRT_SQ_DATA_OFF(tx) + SELFVIRT_TX_ROOM > vif->board->part_size) {
		NL_SET_ERR_MSG_MOD(extack, "send queue larger than the VIF's SDRAM partition");
		return -EINVAL;
	}
	tx_end = kcalloc(tx, sizeof(u32), GFP_KERNEL);
	tx_len = kcalloc(tx, sizeof(u32), GFP_KERNEL);
	if (!tx_end || !tx_len) {
		kfree(tx_end);
		kfree(tx_len);
		return -ENOMEM;
	}
	err = selfvirt_vif_set_queues(vif, tx, rx, &tx_end, &tx_len);
	kfree(tx_end);
	kfree(tx_len);
	if (err || !(vif->board->caps & SELFVIRT_CAP_RX_CHAIN))
		return err;
	/* a frame spans no more slots than the ring has, nor the MTU more */
	vif->rx_chain = selfvirt_vif_rx_chain_max(vif);
	selfvirt_vif_set_max_mtu(vif);
	return selfvirt_set_rx_chain(vif, dev->features);
}

/* ethtool -C rx-usecs: the board's gap between two signals of a kind */
static int selfvirt_get_coalesce(struct net_device *dev,
				 struct ethtool_coalesce *ec,
				 struct kernel_ethtool_coalesce *kec,
				 struct netlink_ext_ack *extack)
{
	struct selfvirt_vif *vif = netdev_priv(dev);

	ec->rx_coalesce_usecs = vif->signal_gap_us;
	return 0;
}

static int selfvirt_set_coalesce(struct net_device *dev,
				 struct ethtool_coalesce *ec,
				 struct kernel_ethtool_coalesce *kec,
				 struct netlink_ext_ack *extack)
{
	struct selfvirt_vif *vif = netdev_priv(dev);
	int err;

	if (vif->board->vif_function) {
		NL_SET_ERR_MSG_MOD(extack, "the management side sets a VM's signal gap");
		return -EOPNOTSUPP;
	}
	err = selfvirt_mbox_signal_gap(vif->board, vif->index,
				       ec->rx_coalesce_usecs);
	switch (err) {
	case 0:
		vif->signal_gap_us = ec->rx_coalesce_usecs;
		return 0;
	case -EOPNOTSUPP:
		NL_SET_ERR_MSG_MOD(extack, "the board has no signal moderation");
		return err;
	case -ERANGE:
		NL_SET_ERR_MSG_MOD(extack, "rx-usecs above the board's maximum, "
				   __stringify(SELFVIRT_SIGNAL_GAP_MAX_US));
		return -EINVAL;
	default:
		NL_SET_ERR_MSG_MOD(extack, "the board refused the signal gap");
		return err;
	}
}

static const struct ethtool_ops selfvirt_ethtool_ops = {
	.supported_coalesce_params = ETHTOOL_COALESCE_RX_USECS,
	.get_drvinfo = selfvirt_get_drvinfo,
	.get_ringparam = selfvirt_get_ringparam,
	.set_ringparam = selfvirt_set_ringparam,
	.get_link = ethtool_op_get_link,
	.get_sset_count = selfvirt_get_sset_count,
	.get_strings = selfvirt_get_strings,
	.get_ethtool_stats = selfvirt_get_ethtool_stats,
	.get_coalesce = selfvirt_get_coalesce,
	.set_coalesce = selfvirt_set_coalesce,
};

/* ---- creation and destruction ---- */

/* A VIF's interface, not yet bound to any queues. */
static struct selfvirt_vif *selfvirt_vif_alloc(struct selfvirt_board *b,
					       u32 tx_entries, u32 rx_entries,
					       u32 rx_buf)
{
	struct net_device *netdev;
	struct selfvirt_vif *vif;

	netdev = alloc_etherdev(sizeof(*vif));
	if (!netdev)
		return NULL;
	SET_NETDEV_DEV(netdev, &b->pdev->dev);
	vif = netdev_priv(netdev);
	vif->board = b;
	vif->netdev = netdev;
	vif->tx_entries = tx_entries;
	vif->rx_entries = rx_entries;
	vif->rx_buf = rx_buf;
	vif->rx_chain = 1;
	spin_lock_init(&vif->signal_lock);
	vif->polling = true;		/* no signals until the interface is up */
	u64_stats_init(&vif->rx_stats.syncp);
	u64_stats_init(&vif->tx_stats.syncp);
	INIT_WORK(&vif->rx_mode_work, selfvirt_rx_mode_work);
	vif->tx_end = kcalloc(tx_entries, sizeof(u32), GFP_KERNEL);
	vif->tx_len = kcalloc(tx_entries, sizeof(u32), GFP_KERNEL);
	if (!vif->tx_end || !vif->tx_len) {
		kfree(vif->tx_end);
		kfree(vif->tx_len);
		free_netdev(netdev);
		return NULL;
	}
	return vif;
}

static void selfvirt_vif_free(struct selfvirt_vif *vif)
{
	kfree(vif->tx_end);
	kfree(vif->tx_len);
	free_netdev(vif->netdev);
}

/* The most receive slots a frame may span: a head and frags, in the ring. */
static u32 selfvirt_vif_rx_chain_max(struct selfvirt_vif *vif)
{
	return min_t(u32, min_t(u32, MAX_SKB_FRAGS + 1, SELFVIRT_RX_CHAIN_MAX),
		     vif->rx_entries);
}

/* The largest MTU a frame over the VIF's receive chain can carry. */
static void selfvirt_vif_set_max_mtu(struct selfvirt_vif *vif)
{
	vif->netdev->max_mtu = min_t(u32, vif->rx_buf * vif->rx_chain,
				     vif->board->max_frame) - ETH_HLEN;
}

/* Operations, offloads and MTU, once the queues are known. */
static void selfvirt_vif_setup_netdev(struct selfvirt_vif *vif, const u8 *mac)
{
	struct selfvirt_board *b = vif->board;
	struct net_device *netdev = vif->netdev;

	eth_hw_addr_set(netdev, mac);
	netdev->netdev_ops = &selfvirt_netdev_ops;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	netdev->stat_ops = &selfvirt_stat_ops;
#endif
	netdev->ethtool_ops = &selfvirt_ethtool_ops;
	netdev->dev_port = vif->index;
	netdev->hw_features = NETIF_F_SG | NETIF_F_RXCSUM;
	if (b->caps & SELFVIRT_CAP_TX_CSUM)
		netdev->hw_features |= NETIF_F_IP_CSUM | NETIF_F_IPV6_CSUM;
	if (b->caps & SELFVIRT_CAP_TSO)
		netdev->hw_features |= NETIF_F_TSO | NETIF_F_TSO6;
	if (b->caps & SELFVIRT_CAP_RX_CHAIN) {
		vif->rx_chain = selfvirt_vif_rx_chain_max(vif);
		netdev->hw_features |= NETIF_F_GRO_HW;
	}
	netdev->features = netdev->hw_features;
	netdev->min_mtu = ETH_MIN_MTU;
	selfvirt_vif_set_max_mtu(vif);
	netif_napi_add_weight(netdev, &vif->napi, selfvirt_poll,
			      SELFVIRT_NAPI_WEIGHT);
	netif_carrier_off(netdev);
}

/* The receive queue in host memory, its windows, and the board's VIF. */
static int selfvirt_vif_bind(struct selfvirt_vif *vif,
			     struct selfvirt_vif_binding *q)
{
	struct selfvirt_board *b = vif->board;
	int first, err;

	vif->rq_size = SELFVIRT_RQ_DATA_OFF(q->rx_entries) +
		       (size_t)q->rx_entries * q->rx_buf;
	vif->rq = dma_alloc_coherent(&b->pdev->dev, vif->rq_size, &vif->rq_dma,
				     GFP_KERNEL);
	if (!vif->rq)
		return -ENOMEM;
	mutex_lock(&b->vif_lock);
	first = selfvirt_windows_get(b, vif->rq_dma, vif->rq_size, &vif->win_count);
	if (first < 0) {
		err = first;
		goto err_unlock;
	}
	vif->win_first = first;
	q->win_first = vif->win_first;
	q->win_count = vif->win_count;
	err = selfvirt_mbox_vif_create(b, q);
	if (err)
		goto err_windows;
	if (b->vif[q->index] || b->mdev[q->index]) {
		err = -EIO;
		selfvirt_mbox(b, SELFVIRT_CMD_VIF_DESTROY, &q->index, 1, NULL, 0);
		goto err_windows;
	}
	vif->index = q->index;
	vif->part = b->sdram + q->part_off;
	vif->data_size = q->part_size - SELFVIRT_SQ_DATA_OFF(q->tx_entries);
	vif->doorbell = b->csr + SELFVIRT_REG_DOORBELL;
	vif->doorbell_val = vif->index;
	mutex_unlock(&b->vif_lock);
	return 0;

err_windows:
	selfvirt_windows_put(b, vif->win_first, vif->win_count);
err_unlock:
	mutex_unlock(&b->vif_lock);
	dma_free_coherent(&b->pdev->dev, vif->rq_size, vif->rq, vif->rq_dma);
	return err;
}

static void selfvirt_vif_unbind(struct selfvirt_vif *vif)
{
	struct selfvirt_board *b = vif->board;
	u32 arg = vif->index;

	mutex_lock(&b->vif_lock);
	b->vif[vif->index] = NULL;
	/* the board quiesces the VIF: no DMA into its pages after this */
	selfvirt_mbox(b, SELFVIRT_CMD_VIF_DESTROY, &arg, 1, NULL, 0);
	selfvirt_windows_put(b, vif->win_first, vif->win_count);
	mutex_unlock(&b->vif_lock);
	synchronize_irq(b->pdev->irq);
	dma_free_coherent(&b->pdev->dev, vif->rq_size, vif->rq, vif->rq_dma);
}

/**
 * selfvirt_vif_create - a new VIF on the board, with its network interface
 * @b: the board
 * @index: the VIF slot, or -1 for any free one
 * @tx_entries: send queue entries (power of two)
 * @rx_entries: receive queue entries (power of two)
 * @rx_buf: bytes of a receive slot
 *
 * Return: the VIF's index, or a negative errno.
 */
int selfvirt_vif_create(struct selfvirt_board *b, int index, u32 tx_entries,
			u32 rx_entries, u32 rx_buf)
{
	struct selfvirt_vif_binding q = {
		.index = index < 0 ? SELFVIRT_VIF_ANY : index,
		.tx_entries = tx_entries,
		.rx_entries = rx_entries,
		.rx_buf = rx_buf,
	};
	struct selfvirt_vif *vif;
	int err;

	devl_assert_locked(priv_to_devlink(b));
	vif = selfvirt_vif_alloc(b, tx_entries, rx_entries, rx_buf);
	if (!vif)
		return -ENOMEM;
	err = selfvirt_vif_bind(vif, &q);
	if (err)
		goto err_free;
	selfvirt_vif_setup_netdev(vif, q.mac);
	/* the interrupt handler may see it from now on: NAPI is set up */
	mutex_lock(&b->vif_lock);
	b->vif[vif->index] = vif;
	mutex_unlock(&b->vif_lock);
	err = selfvirt_set_rx_chain(vif, vif->netdev->features);
	if (err)
		goto err_unbind;
	err = selfvirt_vectors_request(b, vif->index, &vif->vectors, "sv-vif",
				       selfvirt_vif_msix, vif);
	if (err)
		goto err_unbind;
	err = selfvirt_port_create(b, vif->index, vif, NULL);
	if (err)
		goto err_irq;
	err = register_netdev(vif->netdev);
	if (err)
		goto err_port;
	selfvirt_port_netdev_set(vif);
	netdev_info(vif->netdev, "VIF %u: MAC %pM, send queue %u at SDRAM 0x%x, receive queue %u x %u B in windows %u+%u\n",
		    vif->index, vif->netdev->dev_addr, tx_entries, q.part_off,
		    rx_entries, rx_buf, vif->win_first, vif->win_count);
	return vif->index;

err_port:
	selfvirt_port_destroy(b, vif->index);
err_irq:
	selfvirt_vectors_free(b, vif->index, &vif->vectors, vif);
err_unbind:
	netif_napi_del(&vif->napi);
	selfvirt_vif_unbind(vif);
err_free:
	selfvirt_vif_free(vif);
	return err;
}

/*
 * A VIF function's receive chain and coalescing are the manager's: taken
 * as they are (not features the VM can turn off), and the MTU follows.
 */
static void selfvirt_vif_function_rx_chain(struct selfvirt_vif *vif,
					   u32 rx_chain)
{
	u32 slots = SELFVIRT_VIF_RX_CHAIN_SLOTS(rx_chain);

	if (slots > MAX_SKB_FRAGS + 1)
		netdev_warn(vif->netdev, "frames of %u slots: more than this kernel takes, %u\n",
			    slots, (u32)(MAX_SKB_FRAGS + 1));
	vif->rx_chain = clamp_t(u32, slots, 1,
				min_t(u32, MAX_SKB_FRAGS + 1, vif->rx_entries));
	if (rx_chain & SELFVIRT_VIF_RX_COALESCE) {
		/* coalesced frames need the board's checksum check: both fixed */
		vif->netdev->features |= NETIF_F_GRO_HW;
		vif->netdev->hw_features &= ~NETIF_F_RXCSUM;
	}
	selfvirt_vif_set_max_mtu(vif);
}

/**
 * selfvirt_vif_create_function - the one VIF of a VIF function (in a VM)
 * @b: the VIF function, as a board of one VIF without a mailbox
 * @rq: its receive queue (BAR4), @rq_size bytes
 * @rq_size: bytes of @rq
 * @queues: SELFVIRT_VIF_REG_QUEUES
 * @rx_buf: bytes of a receive slot
 * @rx_chain: SELFVIRT_VIF_REG_RX_CHAIN: slots a frame may span, and
 *	      whether the board merges TCP segments (both the manager's)
 * @mac: the MAC that the management side gave the VIF
 *
 * The same transmit and receive paths as a VIF on the board; the doorbell
 * is the function's doorbell page (or, without one, its trapped register),
 * and its one MSI carries both signals.
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_vif_create_function(struct selfvirt_board *b, void *rq,
				 size_t rq_size, u32 queues, u32 rx_buf,
				 u32 rx_chain, const u8 *mac)
{
	u32 tx = SELFVIRT_QUEUES_TX(queues), rx = SELFVIRT_QUEUES_RX(queues);
	struct selfvirt_vif *vif;
	int err;

	if (!is_power_of_2(tx) || !is_power_of_2(rx) ||
	    rx_buf < SELFVIRT_RX_BUF_MIN || rx_buf > SELFVIRT_RX_BUF_MAX ||
	    SELFVIRT_RQ_DATA_OFF(rx) + (size_t)rx * rx_buf > rq_size ||
	    SELFVIRT_SQ_DATA_OFF(tx) + SELFVIRT_TX_ROOM > b->part_size) {
		dev_err(&b->pdev->dev, "VIF function: queues %u/%u x %u B do not fit %zu/%u bytes\n",
			tx, rx, rx_buf, rq_size, b->part_size);
		return -EINVAL;
	}
	vif = selfvirt_vif_alloc(b, tx, rx, rx_buf);
	if (!vif)
		return -ENOMEM;
	vif->rq = rq;
	vif->rq_size = rq_size;
	vif->part = b->sdram;
	vif->data_size = b->part_size - SELFVIRT_SQ_DATA_OFF(tx);
	/* the doorbell page reaches the board with no trap in the manager */
	vif->doorbell = b->doorbell_page ?: b->csr + SELFVIRT_VIF_REG_DOORBELL;
	selfvirt_vif_setup_netdev(vif, mac);
	selfvirt_vif_function_rx_chain(vif, rx_chain);
	b->vif[0] = vif;
	snprintf(vif->vectors.name[0], sizeof(vif->vectors.name[0]), "sv-vif-fn");
	err = request_irq(pci_irq_vector(b->pdev, 0), selfvirt_vif_msix, 0,
			  vif->vectors.name[0], vif);
	if (err)
		goto err_napi;
	err = register_netdev(vif->netdev);
	if (err)
		goto err_irq;
	netdev_info(vif->netdev, "VIF function: MAC %pM, send queue %u, receive queue %u x %u B\n",
		    vif->netdev->dev_addr, tx, rx, rx_buf);
	return 0;

err_irq:
	free_irq(pci_irq_vector(b->pdev, 0), vif);
err_napi:
	b->vif[0] = NULL;
	netif_napi_del(&vif->napi);
	selfvirt_vif_free(vif);
	return err;
}

/**
 * selfvirt_vif_destroy_function - remove the VIF of a VIF function
 * @b: the VIF function
 */
void selfvirt_vif_destroy_function(struct selfvirt_board *b)
{
	struct selfvirt_vif *vif = b->vif[0];

	if (!vif)
		return;
	unregister_netdev(vif->netdev);
	free_irq(pci_irq_vector(b->pdev, 0), vif);
	b->vif[0] = NULL;
	netif_napi_del(&vif->napi);
	selfvirt_vif_free(vif);
}

/**
 * selfvirt_vif_quiesce - board reset, part 1: stop using the VIF
 * @vif: the VIF
 *
 * Under RTNL.  The board's reset then forgets it; no skb is held, frames
 * are copied at transmit.
 */
void selfvirt_vif_quiesce(struct selfvirt_vif *vif)
{
	ASSERT_RTNL();
	if (vif->quiesced)
		return;		/* stopped by devlink already */
	vif->quiesced = true;
	netif_device_detach(vif->netdev);
	/* a transmit on another CPU would ring the reset board's tx_prod */
	netif_tx_disable(vif->netdev);
	if (netif_running(vif->netdev))
		napi_disable(&vif->napi);
}

/* Use the VIF again, its rings empty (the board has reset them). */
static void selfvirt_vif_resume(struct selfvirt_vif *vif)
{
	vif->tx_prod = 0;
	vif->tx_cons = 0;
	vif->data_head = 0;
	vif->data_tail = 0;
	vif->rx_cons = 0;
	WRITE_ONCE(vif->bad_index, false);
	vif->signal_enable = 0;		/* what the reset board holds */
	if (vif->inactive)
		return;			/* until devlink starts it */
	vif->quiesced = false;
	if (netif_running(vif->netdev)) {
		napi_enable(&vif->napi);
		netif_carrier_on(vif->netdev);
		selfvirt_update_signals(vif, 1, 0);
		napi_schedule(&vif->napi);
	}
	netif_device_attach(vif->netdev);
}

/**
 * selfvirt_vif_restore - board reset, part 2: the same VIF again
 * @vif: the VIF, quiesced
 *
 * Binds the VIF to the reset board in its slot, with its MAC, windows and
 * rate; its rings start empty.  With vif_lock held.
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_vif_restore(struct selfvirt_vif *vif)
{
	struct net_device *netdev = vif->netdev;
	struct selfvirt_vif_binding q = {
		.index = vif->index,
		.tx_entries = vif->tx_entries,
		.rx_entries = vif->rx_entries,
		.rx_buf = vif->rx_buf,
		.win_first = vif->win_first,
		.win_count = vif->win_count,
		.signal_gap_us = vif->signal_gap_us,
	};
	int err;

	memset(vif->rq, 0, vif->rq_size);
	selfvirt_windows_program(vif->board, vif->win_first, vif->win_count,
				 vif->rq_dma, true);
	ether_addr_copy(q.mac, netdev->dev_addr);
	err = selfvirt_mbox_vif_create(vif->board, &q);
	if (!err)
		err = selfvirt_set_rx_chain(vif, netdev->features);
	if (!err)
		err = selfvirt_vif_apply_rate(vif->board, vif->index);
	selfvirt_vif_resume(vif);
	return err;
}

/**
 * selfvirt_vif_destroy - remove an interface VIF and its interface
 * @b: the board
 * @index: the VIF slot; nothing happens if no interface VIF is there
 *
 * With the devlink instance lock held.
 */
void selfvirt_vif_destroy(struct selfvirt_board *b, unsigned int index)
{
	struct selfvirt_vif *vif = b->vif[index];

	devl_assert_locked(priv_to_devlink(b));
	if (!vif)
		return;
	selfvirt_port_netdev_clear(vif);
	unregister_netdev(vif->netdev);
	cancel_work_sync(&vif->rx_mode_work);
	selfvirt_port_destroy(b, index);
	selfvirt_vectors_free(b, index, &vif->vectors, vif);
	selfvirt_vif_unbind(vif);
	netif_napi_del(&vif->napi);
	selfvirt_vif_free(vif);
	dev_info(&b->pdev->dev, "VIF %u destroyed\n", index);
}

/**
 * selfvirt_vif_remove - destroy an interface VIF on request
 * @b: the board
 * @index: the VIF slot
 * @extack: where to say why not, or NULL
 *
 * With the devlink instance lock held: "devlink port del", destroy_vif.
 *
 * Return: 0, -EBUSY for a VM's VIF, -ENOENT for none.
 */
int selfvirt_vif_remove(struct selfvirt_board *b, unsigned int index,
			struct netlink_ext_ack *extack)
{
	devl_assert_locked(priv_to_devlink(b));
	if (b->mdev[index] || (b->port[index] && b->port[index]->md)) {
		NL_SET_ERR_MSG_MOD(extack, "the VIF is a VM's (mdev): remove the mdev");
		return -EBUSY;
	}
	if (!b->vif[index]) {
		NL_SET_ERR_MSG_MOD(extack, "no interface VIF in that slot");
		return -ENOENT;
	}
	selfvirt_vif_destroy(b, index);
	return 0;
}

/**
 * selfvirt_vif_apply_rate - set slot @index's egress cap on the board again
 * @b: the board
 * @index: the VIF slot, just bound to the board anew
 *
 * The board forgets a VIF's rate with the VIF; a board reset, or a VM's
 * reset of its mdev, binds the slot anew.
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_vif_apply_rate(struct selfvirt_board *b, unsigned int index)
{
	struct selfvirt_port *port = b->port[index];
	u32 args[3] = { index, SELFVIRT_ATTR_RATE, 0 };

	lockdep_assert_held(&b->vif_lock);
	if (!port || !port->rate_mbps)
		return 0;
	args[2] = port->rate_mbps;
	return selfvirt_mbox(b, SELFVIRT_CMD_VIF_SET, args, 3, NULL, 0);
}

/**
 * selfvirt_vif_set_rate - cap a VIF's egress on the board (ATTR_RATE)
 * @b: the board
 * @index: the VIF slot, an interface's or a VM's
 * @mbps: Mbit/s, at most SELFVIRT_RATE_MAX_MBPS; 0 for no cap
 * @extack: where to say why not, or NULL
 *
 * With the devlink instance lock held: devlink rate, vif_rate.  The port
 * keeps the cap for the slot's next binds (selfvirt_vif_apply_rate).
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_vif_set_rate(struct selfvirt_board *b, unsigned int index,
			  u32 mbps, struct netlink_ext_ack *extack)
{
	u32 args[3] = { index, SELFVIRT_ATTR_RATE, mbps };
	int err;

	devl_assert_locked(priv_to_devlink(b));
	if (index >= SELFVIRT_WIN_ENTRIES || !b->port[index]) {
		NL_SET_ERR_MSG_MOD(extack, "no VIF in that slot");
		return -ENODEV;
	}
	mutex_lock(&b->vif_lock);	/* no bind in between: one cap */
	err = selfvirt_mbox(b, SELFVIRT_CMD_VIF_SET, args, 3, NULL, 0);
	if (err)
		NL_SET_ERR_MSG_MOD(extack, "the board refused the VIF's rate");
	else
		b->port[index]->rate_mbps = mbps;
	mutex_unlock(&b->vif_lock);
	return err;
}
