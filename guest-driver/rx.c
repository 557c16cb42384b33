// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: a VIF's receive path
 *
 * Receive takes frames out of the VIF's receive queue in host memory,
 * which the board fills through the VIF's windows, in NAPI context: in
 * their buffers as skb frags where the VIF posts buffers (rx_pool.c), else
 * by a copy, as the paper's driver.
 */
#include <linux/etherdevice.h>
#include "selfvirt.h"

static struct selfvirt_rx_desc *selfvirt_rx_desc(struct selfvirt_vif *vif,
						 u32 slot)
{
	return vif->rq + SELFVIRT_RQ_DESC(slot);
}

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
	if (vif->pool.pages)
		return selfvirt_rx_pool_buf(vif, idx);
	return vif->rq + SELFVIRT_RQ_DATA_OFF(vif->rx_entries) +
	       (size_t)(idx & (vif->rx_entries - 1)) * vif->rx_buf;
}

/* Bytes of a frame's head copied into the skb: its headers, at most. */
#define SELFVIRT_RX_HDR	256

/*
 * Frame @f at rx_cons into a new skb in place: its headers copied, the
 * rest of each buffer a frag, and page @fresh[i] posted in slot i instead.
 */
static struct sk_buff *selfvirt_rx_skb_in_place(struct selfvirt_vif *vif,
						const struct selfvirt_rx_frame *f,
						const u32 *fresh)
{
	void *head = selfvirt_rx_slot(vif, vif->rx_cons);
	u32 hlen = eth_get_headlen(vif->netdev, head,
				   min_t(u32, f->len[0], SELFVIRT_RX_HDR));
	struct sk_buff *skb;
	u32 i;

	skb = napi_alloc_skb(&vif->napi, SELFVIRT_RX_HDR);
	if (!skb)
		return NULL;
	skb_put_data(skb, head, hlen);
	for (i = 0; i < f->slots; i++) {
		u32 off = i ? 0 : hlen;

		if (f->len[i] > off) {
			struct page *page =
				virt_to_page(selfvirt_rx_slot(vif, vif->rx_cons + i));

			get_page(page);
			skb_add_rx_frag(skb, skb_shinfo(skb)->nr_frags, page, off,
					f->len[i] - off, PAGE_SIZE);
		}
		selfvirt_rx_pool_post(vif, vif->rx_cons + i, fresh[i]);
	}
	return skb;
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

/*
 * Frame @f at rx_cons into an skb: in place if the VIF posts buffers and
 * has a free page for each of its slots, else copied (the buffers stay).
 */
static struct sk_buff *selfvirt_rx_take(struct selfvirt_vif *vif,
					const struct selfvirt_rx_frame *f)
{
	u32 fresh[MAX_SKB_FRAGS];
	struct sk_buff *skb;

	if (vif->pool.pages && f->slots <= ARRAY_SIZE(fresh) &&
	    selfvirt_rx_pool_take(vif, f->slots, fresh)) {
		skb = selfvirt_rx_skb_in_place(vif, f, fresh);
		if (skb) {
			vif->rx_in_place++;
			return skb;
		}
		selfvirt_rx_pool_untake(vif, f->slots, fresh);
		return NULL;
	}
	skb = selfvirt_rx_skb(vif, f);
	vif->rx_copied += !!skb;
	return skb;
}

int selfvirt_rx(struct selfvirt_vif *vif, int budget)
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
			skb = selfvirt_rx_take(vif, &f);
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
