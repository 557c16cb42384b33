// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: a VIF's ethtool operations
 */
#include <linux/ethtool.h>
#include "selfvirt.h"

#define SELFVIRT_VSTAT_NAME(id, name) "board_" name
static const char selfvirt_gstrings[][ETH_GSTRING_LEN] = {
	"vif_index", "polls", "redundant_polls", "empty_polls", "doorbells",
	"rx_dropped", "tx_refused", "tx_gso_soft", "tx_unreaped",
	"rx_in_place", "rx_copied", "rx_pages_held",
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
/* the driver's counters, then the board's (a VIF function has only the first) */
#define SELFVIRT_DRIVER_STATS	(ARRAY_SIZE(selfvirt_gstrings) - SELFVIRT_VSTAT_COUNT)

static int selfvirt_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? ARRAY_SIZE(selfvirt_gstrings) : -EOPNOTSUPP;
}

static int selfvirt_function_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? SELFVIRT_DRIVER_STATS : -EOPNOTSUPP;
}

static void selfvirt_get_strings(struct net_device *dev, u32 sset, u8 *buf)
{
	if (sset == ETH_SS_STATS)
		memcpy(buf, selfvirt_gstrings,
		       dev->ethtool_ops->get_sset_count(dev, sset) * ETH_GSTRING_LEN);
}

/* The driver's counters into @data; returns how many */
static int selfvirt_driver_stats(struct selfvirt_vif *vif, u64 *data)
{
	int i = 0;

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
	data[i++] = vif->rx_in_place;
	data[i++] = vif->rx_copied;
	/* posted buffers the stack holds now */
	data[i++] = vif->pool.pages - selfvirt_rx_pool_unheld(vif);
	data[i++] = vif->cost_send.ns;
	data[i++] = vif->cost_send.events;
	data[i++] = vif->cost_recv.ns;
	data[i++] = vif->cost_recv.events;
	data[i++] = vif->cost_vector.ns;
	data[i++] = vif->cost_vector.events;
	data[i++] = vif->board->cost_master.ns;
	data[i++] = vif->board->cost_master.events;
	return i;
}

/* A VIF function has no mailbox, so none of the board's counters */
static void selfvirt_function_get_ethtool_stats(struct net_device *dev,
						struct ethtool_stats *stats,
						u64 *data)
{
	selfvirt_driver_stats(netdev_priv(dev), data);
}

static void selfvirt_get_ethtool_stats(struct net_device *dev,
				       struct ethtool_stats *stats, u64 *data)
{
	struct selfvirt_vif *vif = netdev_priv(dev);
	u32 res[SELFVIRT_VSTAT_COUNT] = {};
	u32 arg = vif->index;
	int i, j;

	i = selfvirt_driver_stats(vif, data);
	/* the board's own counters: a mailbox read, off the fast path */
	selfvirt_mbox(vif->board, SELFVIRT_CMD_VIF_STATS, &arg, 1, res,
		      SELFVIRT_VSTAT_COUNT);
	for (j = 0; j < SELFVIRT_VSTAT_COUNT; j++)
		data[i++] = res[j];
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

	if (!is_power_of_2(tx) || !is_power_of_2(rx) ||
	    tx < SELFVIRT_QUEUE_MIN || rx < SELFVIRT_QUEUE_MIN) {
		NL_SET_ERR_MSG_MOD(extack, "queue sizes must be powers of two, at least 4");
		return -EINVAL;
	}
	if (rx * vif->rx_buf < dev->mtu + ETH_HLEN) {
		NL_SET_ERR_MSG_MOD(extack, "receive queue too small for a frame of the MTU");
		return -EINVAL;
	}
	if (!selfvirt_vif_rq_fits(vif, rx)) {
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
	if (err == -EBUSY)
		NL_SET_ERR_MSG_MOD(extack, "the stack holds too many receive buffers for that ring yet");
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

const struct ethtool_ops selfvirt_ethtool_ops = {
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

/* A VIF function's: its queues and signal gap are the management side's */
const struct ethtool_ops selfvirt_function_ethtool_ops = {
	.get_drvinfo = selfvirt_get_drvinfo,
	.get_ringparam = selfvirt_get_ringparam,
	.get_link = ethtool_op_get_link,
	.get_sset_count = selfvirt_function_get_sset_count,
	.get_strings = selfvirt_get_strings,
	.get_ethtool_stats = selfvirt_function_get_ethtool_stats,
	.get_coalesce = selfvirt_get_coalesce,
};
