// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: each VIF as a devlink port
 *
 * A VIF is a port of flavour pcisf (pfnum 0, sfnum and port index = the VIF
 * slot), whether it carries an interface (vif.c) or is a VM's (mdev.c).
 * "devlink port add/del" create and destroy interface VIFs, "port function
 * set" gives one a MAC or stops it, and "port function rate" caps its
 * egress on the board.
 */
#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include "selfvirt.h"
#include "devlink_local.h"

static struct selfvirt_port *selfvirt_dl_port(struct devlink_port *dl)
{
	return container_of(dl, struct selfvirt_port, dl);
}

/* "devlink port add ... flavour pcisf pfnum 0 [sfnum N]": a VIF, port,
 * interface and all
 */
static int selfvirt_port_new_locked(struct selfvirt_board *b,
				    const struct devlink_port_new_attrs *attrs,
				    struct netlink_ext_ack *extack)
{
	int index = -1, err;

	devl_assert_locked(priv_to_devlink(b));
	if (attrs->flavour != DEVLINK_PORT_FLAVOUR_PCI_SF) {
		NL_SET_ERR_MSG_MOD(extack, "a VIF is a port of flavour pcisf");
		return -EOPNOTSUPP;
	}
	if (attrs->pfnum != 0 ||
	    (attrs->controller_valid && attrs->controller != 0)) {
		NL_SET_ERR_MSG_MOD(extack, "the board has controller 0, pfnum 0 only");
		return -EINVAL;
	}
	if (attrs->sfnum_valid) {
		if (attrs->sfnum >= b->max_vifs) {
			NL_SET_ERR_MSG_MOD(extack, "sfnum is a VIF slot, below the board's max_vifs");
			return -ERANGE;
		}
		index = attrs->sfnum;
	}
	if (attrs->port_index_valid &&
	    (index < 0 || attrs->port_index != index)) {
		NL_SET_ERR_MSG_MOD(extack, "the port index is the sfnum: give sfnum only");
		return -EINVAL;
	}
	if (b->nic_mode) {
		NL_SET_ERR_MSG_MOD(extack, "NIC mode has one VIF: reload with board_mode selfvirt");
		return -EBUSY;
	}
	if (index >= 0 && (b->port[index] || b->mdev[index])) {
		NL_SET_ERR_MSG_MOD(extack, "a VIF with that sfnum exists");
		return -EEXIST;
	}
	err = selfvirt_vif_create(b, index, b->tx_entries, b->rx_entries,
				  selfvirt_rx_pool_slot_size(b));
	if (err < 0)
		NL_SET_ERR_MSG_MOD(extack, "the board made no VIF (all slots or windows in use?)");
	return err;
}

#if SELFVIRT_DL_OLD_PORTS
/*
 * Linux 6.1: the new port by its index, the port to delete by index too.
 * The core holds the instance lock here as in 6.12, whatever 6.1's
 * devlink.h still says of port_new and port_del.
 */
int selfvirt_dl_port_new(struct devlink *devlink,
			 const struct devlink_port_new_attrs *attrs,
			 struct netlink_ext_ack *extack,
			 unsigned int *new_port_index)
{
	int ret;

	ret = selfvirt_port_new_locked(selfvirt_dl_board(devlink), attrs, extack);
	if (ret < 0)
		return ret;
	*new_port_index = ret;
	return 0;
}

int selfvirt_dl_port_del(struct devlink *devlink,
			 unsigned int port_index,
			 struct netlink_ext_ack *extack)
{
	if (port_index >= SELFVIRT_WIN_ENTRIES)
		return -ENOENT;
	return selfvirt_vif_remove(selfvirt_dl_board(devlink), port_index,
				   extack);
}
#else
int selfvirt_dl_port_new(struct devlink *devlink,
			 const struct devlink_port_new_attrs *attrs,
			 struct netlink_ext_ack *extack,
			 struct devlink_port **dl_port)
{
	struct selfvirt_board *b = selfvirt_dl_board(devlink);
	int ret;

	ret = selfvirt_port_new_locked(b, attrs, extack);
	if (ret < 0)
		return ret;
	*dl_port = &b->port[ret]->dl;
	return 0;
}

static int selfvirt_dl_port_del(struct devlink *devlink,
				struct devlink_port *dl,
				struct netlink_ext_ack *extack)
{
	return selfvirt_vif_remove(selfvirt_dl_board(devlink),
				   selfvirt_dl_port(dl)->index, extack);
}
#endif

int selfvirt_port_fn_hw_addr_get(struct devlink_port *dl, u8 *hw_addr,
				 int *hw_addr_len,
				 struct netlink_ext_ack *extack)
{
	struct selfvirt_port *port = selfvirt_dl_port(dl);

	if (port->vif)
		ether_addr_copy(hw_addr, port->vif->netdev->dev_addr);
	else
		selfvirt_mdev_mac(port->md, hw_addr);
	*hw_addr_len = ETH_ALEN;
	return 0;
}

/* The VIF's MAC, on the board and on its interface: as "ip link set address" */
int selfvirt_port_fn_hw_addr_set(struct devlink_port *dl,
				 const u8 *hw_addr, int hw_addr_len,
				 struct netlink_ext_ack *extack)
{
	struct selfvirt_port *port = selfvirt_dl_port(dl);
	struct sockaddr sa;
	int err;

	if (!port->vif) {
		NL_SET_ERR_MSG_MOD(extack, "the VIF is a VM's (mdev): its MAC is set at creation");
		return -EBUSY;
	}
	if (hw_addr_len != ETH_ALEN || !is_valid_ether_addr(hw_addr)) {
		NL_SET_ERR_MSG_MOD(extack, "hw_addr must be a unicast, non-zero Ethernet address");
		return -EADDRNOTAVAIL;
	}
	sa.sa_family = port->vif->netdev->type;
	memcpy(sa.sa_data, hw_addr, ETH_ALEN);
	rtnl_lock();
	err = dev_set_mac_address(port->vif->netdev, &sa, extack);
	rtnl_unlock();
	return err;
}

int selfvirt_port_fn_state_get(struct devlink_port *dl,
			       enum devlink_port_fn_state *state,
			       enum devlink_port_fn_opstate *opstate,
			       struct netlink_ext_ack *extack)
{
	struct selfvirt_port *port = selfvirt_dl_port(dl);
	bool active = !port->vif || !port->vif->inactive;

	*state = active ? DEVLINK_PORT_FN_STATE_ACTIVE :
		 DEVLINK_PORT_FN_STATE_INACTIVE;
	*opstate = active ? DEVLINK_PORT_FN_OPSTATE_ATTACHED :
		   DEVLINK_PORT_FN_OPSTATE_DETACHED;
	return 0;
}

int selfvirt_port_fn_state_set(struct devlink_port *dl,
			       enum devlink_port_fn_state state,
			       struct netlink_ext_ack *extack)
{
	struct selfvirt_port *port = selfvirt_dl_port(dl);
	int err;

	if (!port->vif) {
		NL_SET_ERR_MSG_MOD(extack, "the VIF is a VM's (mdev): the VM starts and stops it");
		return -EBUSY;
	}
	rtnl_lock();
	err = selfvirt_vif_set_active(port->vif,
				      state == DEVLINK_PORT_FN_STATE_ACTIVE);
	rtnl_unlock();
	if (err)
		NL_SET_ERR_MSG_MOD(extack, "the board did not restart the VIF");
	return err;
}

int selfvirt_rate_leaf_tx_max_set(struct devlink_rate *rate, void *priv,
				  u64 tx_max,
				  struct netlink_ext_ack *extack)
{
	struct selfvirt_port *port = priv;
	/* bytes/s to Mbit/s, up (a cap is never below what was asked), with
	 * no sum that wraps near U64_MAX
	 */
	u64 mbps = div_u64(tx_max, 1000000 / BITS_PER_BYTE) +
		   !!(tx_max % (1000000 / BITS_PER_BYTE));

	if (mbps > SELFVIRT_RATE_MAX_MBPS) {
		NL_SET_ERR_MSG_MOD(extack, "tx_max above the board's limit of "
				   __stringify(SELFVIRT_RATE_MAX_MBPS) " Mbit/s");
		return -ERANGE;
	}
	return selfvirt_vif_set_rate(port->board, port->index, mbps, extack);
}

int selfvirt_rate_leaf_tx_share_set(struct devlink_rate *rate,
				    void *priv, u64 tx_share,
				    struct netlink_ext_ack *extack)
{
	if (!tx_share)
		return 0;
	NL_SET_ERR_MSG_MOD(extack, "the board caps a VIF's rate, it guarantees none");
	return -EOPNOTSUPP;
}

#if !SELFVIRT_DL_OLD_PORTS
static const struct devlink_port_ops selfvirt_port_ops = {
	.port_del = selfvirt_dl_port_del,
	.port_fn_hw_addr_get = selfvirt_port_fn_hw_addr_get,
	.port_fn_hw_addr_set = selfvirt_port_fn_hw_addr_set,
	.port_fn_state_get = selfvirt_port_fn_state_get,
	.port_fn_state_set = selfvirt_port_fn_state_set,
};
#endif

static int selfvirt_port_register(struct selfvirt_port *port)
{
	struct devlink *devlink = priv_to_devlink(port->board);

#if SELFVIRT_DL_OLD_PORTS
	return devl_port_register(devlink, &port->dl, port->index);
#else
	return devl_port_register_with_ops(devlink, &port->dl, port->index,
					   &selfvirt_port_ops);
#endif
}

/* The lowest VIF slot with no port, no VIF and no mdev, or -ENOSPC */
static int selfvirt_port_free_slot(struct selfvirt_board *b)
{
	unsigned int i;

	for (i = 0; i < b->max_vifs; i++)
		if (!b->port[i] && !b->vif[i] && !b->mdev[i])
			return i;
	return -ENOSPC;
}

/**
 * selfvirt_port_create - a VIF slot's devlink port, before its VIF
 * @b: the board
 * @index: the VIF slot, or -1 for the lowest free one
 *
 * With the instance lock held.  The port comes first, with its rate leaf;
 * then an interface VIF (selfvirt_port_bind_vif()) or a VM's mdev
 * (selfvirt_port_bind_mdev()) is bound to it, as netdevsim and mlx5 do.
 *
 * Return: the port, or an ERR_PTR (-ENOSPC: no free slot).
 */
struct selfvirt_port *selfvirt_port_create(struct selfvirt_board *b, int index)
{
	struct selfvirt_port *port;
	int err;

	devl_assert_locked(priv_to_devlink(b));
	if (index < 0)
		index = selfvirt_port_free_slot(b);
	if (index < 0)
		return ERR_PTR(index);
	if (WARN_ON(b->port[index]))
		return ERR_PTR(-EEXIST);
	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return ERR_PTR(-ENOMEM);
	port->board = b;
	port->index = index;
	devlink_port_attrs_pci_sf_set(&port->dl, 0, 0, index, false);
	err = selfvirt_port_register(port);
	if (err)
		goto err_free;
	err = selfvirt_rate_leaf_create(&port->dl, port);
	if (err)
		goto err_unregister;
	b->port[index] = port;
	return port;

err_unregister:
	devl_port_unregister(&port->dl);
err_free:
	kfree(port);
	return ERR_PTR(err);
}

/**
 * selfvirt_port_bind_vif - an interface VIF on its port, with health
 * @port: the port of the VIF's slot
 * @vif: the VIF, its netdev not yet registered
 *
 * An interface's netdev is linked to the port here (6.12) or once
 * registered (6.1, selfvirt_port_netdev_set()).
 *
 * Return: 0 or a negative errno (then nothing is bound).
 */
int selfvirt_port_bind_vif(struct selfvirt_port *port, struct selfvirt_vif *vif)
{
	int err;

	port->vif = vif;
	vif->port = port;
	err = selfvirt_port_reporter_add(port);
	if (err) {
		vif->port = NULL;
		port->vif = NULL;
		return err;
	}
#ifdef SET_NETDEV_DEVLINK_PORT
	SET_NETDEV_DEVLINK_PORT(vif->netdev, &port->dl);
#endif
	return 0;
}

/**
 * selfvirt_port_bind_mdev - a VM's VIF on its port
 * @port: the port of the VIF's slot
 * @md: the mediated device that holds the slot
 */
void selfvirt_port_bind_mdev(struct selfvirt_port *port, struct selfvirt_mdev *md)
{
	port->md = md;
}

/**
 * selfvirt_port_netdev_set - tell devlink the port's netdev is registered
 * @vif: the VIF, its netdev just registered
 *
 * Linux 6.1 links a netdev to its port here; 6.12 did at creation.
 */
void selfvirt_port_netdev_set(struct selfvirt_vif *vif)
{
#ifndef SET_NETDEV_DEVLINK_PORT
	devlink_port_type_eth_set(&vif->port->dl, vif->netdev);
#endif
}

#ifndef SET_NETDEV_DEVLINK_PORT
/**
 * selfvirt_port_of_netdev - ndo_get_devlink_port, for Linux 6.1
 * @netdev: a VIF's interface
 *
 * 6.1 finds an interface's port (and so its phys_port_name) this way.
 *
 * Return: the VIF's devlink port, or NULL.
 */
struct devlink_port *selfvirt_port_of_netdev(struct net_device *netdev)
{
	struct selfvirt_vif *vif = netdev_priv(netdev);

	return vif->port ? &vif->port->dl : NULL;
}
#endif

/**
 * selfvirt_port_netdev_clear - the port's netdev is about to go
 * @vif: the VIF, its netdev still registered
 */
void selfvirt_port_netdev_clear(struct selfvirt_vif *vif)
{
#ifndef SET_NETDEV_DEVLINK_PORT
	devlink_port_type_clear(&vif->port->dl);
#endif
}

/**
 * selfvirt_port_destroy - remove a VIF's devlink port
 * @b: the board
 * @index: the VIF slot; nothing happens if it has no port
 *
 * With the instance lock held, an interface's netdev already unregistered.
 */
void selfvirt_port_destroy(struct selfvirt_board *b, unsigned int index)
{
	struct selfvirt_port *port = b->port[index];

	devl_assert_locked(priv_to_devlink(b));
	if (!port)
		return;
	b->port[index] = NULL;
	selfvirt_port_reporter_del(port);
	if (port->vif)
		port->vif->port = NULL;
	devl_rate_leaf_destroy(&port->dl);
	devl_port_unregister(&port->dl);
	kfree(port);
}
