// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: one network interface per VIF
 *
 * A VIF's life: bound to the board (VIF_CREATE, its receive queue, its
 * windows), shown as a network interface, quiesced and restored around
 * board resets and ring changes, and destroyed.  The data path is in tx.c,
 * rx.c and napi.c.
 */
#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include "selfvirt.h"

#define SELFVIRT_NAPI_WEIGHT	64

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
u32 selfvirt_vif_rx_chain_max(struct selfvirt_vif *vif)
{
	return min_t(u32, min_t(u32, MAX_SKB_FRAGS + 1, SELFVIRT_RX_CHAIN_MAX),
		     vif->rx_entries);
}

/* The largest MTU a frame over the VIF's receive chain can carry. */
void selfvirt_vif_set_max_mtu(struct selfvirt_vif *vif)
{
	vif->netdev->max_mtu = min_t(u32, vif->rx_buf * vif->rx_chain,
				     vif->board->max_frame) - ETH_HLEN;
}

/* Operations, offloads and MTU, once the queues are known. */
static void selfvirt_vif_setup_netdev(struct selfvirt_vif *vif, const u8 *mac,
				      const struct net_device_ops *netdev_ops,
				      const struct ethtool_ops *ethtool_ops)
{
	struct selfvirt_board *b = vif->board;
	struct net_device *netdev = vif->netdev;

	eth_hw_addr_set(netdev, mac);
	netdev->netdev_ops = netdev_ops;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	netdev->stat_ops = &selfvirt_stat_ops;
#endif
	netdev->ethtool_ops = ethtool_ops;
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
	/* the board parses tagged frames: a VLAN device's offloads are ours */
	netdev->vlan_features = netdev->features & (NETIF_F_SG |
			NETIF_F_IP_CSUM | NETIF_F_IPV6_CSUM | NETIF_F_TSO |
			NETIF_F_TSO6);
	netdev->min_mtu = ETH_MIN_MTU;
	selfvirt_vif_set_max_mtu(vif);
	netif_napi_add_weight(netdev, &vif->napi, selfvirt_poll,
			      SELFVIRT_NAPI_WEIGHT);
	netif_carrier_off(netdev);
}

/* Does a ring of @rx_entries slots fit the VIF's receive queue? */
bool selfvirt_vif_rq_fits(struct selfvirt_vif *vif, u32 rx_entries)
{
	if (vif->pool.pages)	/* its descriptors, and a spare page */
		return SELFVIRT_RQ_DATA_OFF(rx_entries) <= vif->pool.first &&
		       rx_entries < vif->pool.pages;
	return SELFVIRT_RQ_DATA_OFF(rx_entries) +
	       (size_t)rx_entries * vif->rx_buf <= vif->rq_size;
}

static void selfvirt_vif_rq_free(struct selfvirt_vif *vif)
{
	if (vif->pool.pages)
		selfvirt_rx_pool_free(vif);
	else
		dma_free_coherent(&vif->board->pdev->dev, vif->rq_size, vif->rq,
				  vif->rq_dma);
}

/*
 * The receive queue in host memory: a pool of pages for posted buffers
 * where the board, the windows and memory allow, else coherent memory for
 * the paper's copy.
 */
static int selfvirt_vif_rq_alloc(struct selfvirt_vif *vif, u32 rx_buf)
{
	struct selfvirt_board *b = vif->board;

	lockdep_assert_held(&b->vif_lock);
	if (selfvirt_rx_pool_wanted(b, rx_buf) &&
	    selfvirt_windows_available(b, selfvirt_rx_pool_size(vif->rx_entries)) &&
	    !selfvirt_rx_pool_alloc(vif))
		return 0;
	vif->rq_size = SELFVIRT_RQ_DATA_OFF(vif->rx_entries) +
		       (size_t)vif->rx_entries * rx_buf;
	vif->rq = dma_alloc_coherent(&b->pdev->dev, vif->rq_size, &vif->rq_dma,
				     GFP_KERNEL);
	return vif->rq ? 0 : -ENOMEM;
}

/* The receive queue in host memory, its windows, and the board's VIF. */
static int selfvirt_vif_bind(struct selfvirt_vif *vif,
			     struct selfvirt_vif_binding *q)
{
	struct selfvirt_board *b = vif->board;
	int first, err;

	mutex_lock(&b->vif_lock);
	err = selfvirt_vif_rq_alloc(vif, q->rx_buf);
	if (err) {
		mutex_unlock(&b->vif_lock);
		return err;
	}
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
	selfvirt_vif_rq_free(vif);
	mutex_unlock(&b->vif_lock);
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
	selfvirt_vif_rq_free(vif);
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
		.tx_entries = tx_entries,
		.rx_entries = rx_entries,
		.rx_buf = rx_buf,
	};
	struct selfvirt_port *port;
	struct selfvirt_vif *vif;
	int err;

	devl_assert_locked(priv_to_devlink(b));
	/* the port first, then the VIF on its slot */
	port = selfvirt_port_create(b, index);
	if (IS_ERR(port))
		return PTR_ERR(port);
	q.index = port->index;
	vif = selfvirt_vif_alloc(b, tx_entries, rx_entries, rx_buf);
	if (!vif) {
		selfvirt_port_destroy(b, port->index);
		return -ENOMEM;
	}
	err = selfvirt_vif_bind(vif, &q);
	if (err)
		goto err_free;
	selfvirt_vif_setup_netdev(vif, q.mac, &selfvirt_netdev_ops,
				  &selfvirt_ethtool_ops);
	/* the interrupt handler may see it from now on: NAPI is set up */
	mutex_lock(&b->vif_lock);
	b->vif[vif->index] = vif;
	mutex_unlock(&b->vif_lock);
	err = selfvirt_set_rx_chain(vif, vif->netdev->features);
	if (!err && vif->pool.pages)
		err = selfvirt_rx_pool_enable(vif);
	if (err)
		goto err_unbind;
	err = selfvirt_vectors_request(b, vif->index, &vif->vectors, "sv-vif",
				       selfvirt_vif_msix, vif);
	if (err)
		goto err_unbind;
	err = selfvirt_port_bind_vif(port, vif);
	if (err)
		goto err_irq;
	err = register_netdev(vif->netdev);
	if (err)
		goto err_irq;
	selfvirt_port_netdev_set(vif);
	netdev_info(vif->netdev, "VIF %u: MAC %pM, send queue %u at SDRAM 0x%x, receive queue %u x %u B in windows %u+%u, %s\n",
		    vif->index, vif->netdev->dev_addr, tx_entries, q.part_off,
		    rx_entries, rx_buf, vif->win_first, vif->win_count,
		    vif->pool.pages ? "posted buffers" : "copied");
	return vif->index;

err_irq:
	selfvirt_vectors_free(b, vif->index, &vif->vectors, vif);
err_unbind:
	netif_napi_del(&vif->napi);
	selfvirt_vif_unbind(vif);
err_free:
	/* unbinds the VIF (its health reporter) before it is freed */
	selfvirt_port_destroy(b, port->index);
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
	vif->netdev->hw_features &= ~NETIF_F_GRO_HW;
	vif->netdev->features &= ~NETIF_F_GRO_HW;
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
	selfvirt_vif_setup_netdev(vif, mac, &selfvirt_function_netdev_ops,
				  &selfvirt_function_ethtool_ops);
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

	/* not the pool's pages: the stack may hold some */
	memset(vif->rq, 0, vif->pool.pages ? vif->pool.first : vif->rq_size);
	selfvirt_windows_program(vif->board, vif->win_first, vif->win_count,
				 vif->rq_dma, true);
	ether_addr_copy(q.mac, netdev->dev_addr);
	err = selfvirt_mbox_vif_create(vif->board, &q);
	if (!err)
		err = selfvirt_set_rx_chain(vif, netdev->features);
	if (!err && vif->pool.pages)
		err = selfvirt_rx_pool_enable(vif);
	if (!err)
		err = selfvirt_vif_apply_rate(vif->board, vif->index);
	selfvirt_vif_resume(vif);
	return err;
}

/*
 * The board re-lays out the VIF's rings (ATTR_QUEUES, which also restarts
 * a halted send queue) while the interface is quiesced; the rings start
 * empty.  *@tx_end and *@tx_len: the bookkeeping for @tx entries, swapped
 * with the VIF's on success; NULL to keep the VIF's sizes.
 */
int selfvirt_vif_set_queues(struct selfvirt_vif *vif, u32 tx, u32 rx,
			    u32 **tx_end, u32 **tx_len)
{
	u32 args[4] = { vif->index, SELFVIRT_ATTR_QUEUES, SELFVIRT_QUEUES(tx, rx),
			0 };
	int err, busy = 0;

	ASSERT_RTNL();
	selfvirt_vif_quiesce(vif);
	/* buffers for the new ring before the board starts it */
	if (vif->pool.pages && selfvirt_rx_pool_start(vif, rx)) {
		/*
		 * The stack holds too many pages for a larger ring: the old
		 * sizes again, which the pages in slots always cover.
		 */
		busy = -EBUSY;
		tx = vif->tx_entries;
		rx = vif->rx_entries;
		tx_end = NULL;
		args[2] = SELFVIRT_QUEUES(tx, rx);
		selfvirt_rx_pool_start(vif, rx);
	}
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
	return err ?: busy;
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
