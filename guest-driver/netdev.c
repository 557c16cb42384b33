// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: a VIF's network interface operations
 */
#include <linux/etherdevice.h>
#include <linux/version.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#include <net/netdev_queues.h>	/* qstats */
#endif
#include "selfvirt.h"

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

const struct netdev_stat_ops selfvirt_stat_ops = {
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
int selfvirt_set_rx_chain(struct selfvirt_vif *vif,
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

void selfvirt_rx_mode_work(struct work_struct *work)
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

const struct net_device_ops selfvirt_netdev_ops = {
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

/*
 * A VIF function's (in a VM): its MAC, receive chain and switch port are
 * the manager's, so no mailbox ops.
 */
const struct net_device_ops selfvirt_function_netdev_ops = {
	.ndo_open = selfvirt_open,
	.ndo_stop = selfvirt_stop,
	.ndo_start_xmit = selfvirt_start_xmit,
	.ndo_features_check = selfvirt_features_check,
	.ndo_get_stats64 = selfvirt_get_stats64,
	.ndo_validate_addr = eth_validate_addr,
};
