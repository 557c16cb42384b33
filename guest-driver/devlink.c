// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: the board as a devlink instance, each VIF as a devlink port
 *
 * A VIF is a port of flavour pcisf (pfnum 0, sfnum and port index = the VIF
 * slot), whether it carries an interface (vif.c) or is a VM's (mdev.c).
 * "devlink port add/del" create and destroy interface VIFs, "port function
 * set" gives one a MAC or stops it, "port function rate" caps its egress on
 * the board, and a health reporter per interface VIF tells of a send queue
 * that the board halted on a malformed descriptor.  Board-wide parameters
 * and "devlink dev reload" replace the module parameters after probe.
 *
 * Locking: devlink calls these operations with the instance lock held, on
 * 6.1 too.  The order is devlink instance lock -> RTNL -> vif_lock ->
 * mbox_lock; the sysfs files of main.c and mdev creation and release take
 * the instance lock too.
 *
 * Built for Linux 6.1 and 6.12; the API differences are wrapped right
 * below, with the release that changed each (kernels in between are not
 * built).
 */
#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <net/devlink.h>
#include "selfvirt.h"

/* ---- Linux 6.1 compatibility ---- */

/* 6.2: the core names the driver; reload needs no feature flag */
#define SELFVIRT_DL_OLD_INFO	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0))
/* 6.3: health reporters and driverinit values under the instance lock */
#define SELFVIRT_DL_OLD_LOCKED	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0))
/* 6.4: devlink_port_ops; port_new/port_del under the instance lock */
#define SELFVIRT_DL_OLD_PORTS	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0))
/* 6.7: devlink_fmsg_*() report errors in the message, not by return */
#define SELFVIRT_DL_OLD_FMSG	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0))

#if SELFVIRT_DL_OLD_FMSG
#define selfvirt_fmsg(err, call)	((err) = (err) ?: (call))
#else
#define selfvirt_fmsg(err, call)	(call)
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
#define selfvirt_rate_leaf_create(port, priv)	devl_rate_leaf_create(port, priv)
#else
#define selfvirt_rate_leaf_create(port, priv)	devl_rate_leaf_create(port, priv, NULL)
#endif

#if SELFVIRT_DL_OLD_LOCKED
#define selfvirt_port_reporter_create	devlink_port_health_reporter_create
#define selfvirt_reporter_destroy	devlink_port_health_reporter_destroy
#define selfvirt_driverinit_get		devlink_param_driverinit_value_get
#define selfvirt_driverinit_set		devlink_param_driverinit_value_set
#else
#define selfvirt_port_reporter_create	devl_port_health_reporter_create
#define selfvirt_reporter_destroy	devl_health_reporter_destroy
#define selfvirt_driverinit_get		devl_param_driverinit_value_get
#define selfvirt_driverinit_set		devl_param_driverinit_value_set
#endif

/* 6.8 passes an extack to a parameter's set */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#define SELFVIRT_PARAM_SET_ARGS	struct devlink *devlink, u32 id, \
				struct devlink_param_gset_ctx *ctx
#define SELFVIRT_PARAM_EXTACK	NULL
#else
#define SELFVIRT_PARAM_SET_ARGS	struct devlink *devlink, u32 id, \
				struct devlink_param_gset_ctx *ctx, \
				struct netlink_ext_ack *extack
#define SELFVIRT_PARAM_EXTACK	extack
#endif

/* ---- the instance ---- */

enum selfvirt_param_id {
	SELFVIRT_PARAM_PROMISC = DEVLINK_PARAM_GENERIC_ID_MAX + 1,
	SELFVIRT_PARAM_BOARD_MODE,
	SELFVIRT_PARAM_IRQ_ID_WIDTH,
};

#define SELFVIRT_MODE_NAME_SELFVIRT	"selfvirt"
#define SELFVIRT_MODE_NAME_NIC		"nic"

static struct selfvirt_board *selfvirt_dl_board(struct devlink *devlink)
{
	return devlink_priv(devlink);
}

static struct selfvirt_port *selfvirt_dl_port(struct devlink_port *dl)
{
	return container_of(dl, struct selfvirt_port, dl);
}

static int selfvirt_dl_info_get(struct devlink *devlink,
				struct devlink_info_req *req,
				struct netlink_ext_ack *extack)
{
	struct selfvirt_board *b = selfvirt_dl_board(devlink);
	u32 ver = selfvirt_rd(b, SELFVIRT_REG_VERSION);
	char buf[32];
	int err;

#if SELFVIRT_DL_OLD_INFO
	err = devlink_info_driver_name_put(req, SELFVIRT_DRV_NAME);
	if (err)
		return err;
#endif
	snprintf(buf, sizeof(buf), "%pM", b->base_mac);
	err = devlink_info_serial_number_put(req, buf);
	if (err)
		return err;
	snprintf(buf, sizeof(buf), "%u.%u", SELFVIRT_ABI_MAJOR(ver),
		 ver & 0xffff);
	err = devlink_info_version_fixed_put(req, "abi", buf);
	if (err)
		return err;
	snprintf(buf, sizeof(buf), "%u", b->engines);
	return devlink_info_version_fixed_put(req, "board.engines", buf);
}

/* ---- parameters ---- */

static int selfvirt_param_promisc_get(struct devlink *devlink, u32 id,
				      struct devlink_param_gset_ctx *ctx)
{
	struct selfvirt_board *b = selfvirt_dl_board(devlink);

	/* the board's switch as it is, whoever made it promiscuous */
	ctx->val.vbool = selfvirt_rd(b, SELFVIRT_REG_DEV_STATUS) &
			 SELFVIRT_DEV_STATUS_PROMISC;
	return 0;
}

static int selfvirt_param_promisc_set(SELFVIRT_PARAM_SET_ARGS)
{
	struct selfvirt_board *b = selfvirt_dl_board(devlink);
	bool old = b->promisc;
	int err;

	if (!b->nic_mode) {
		NL_SET_ERR_MSG_MOD(SELFVIRT_PARAM_EXTACK,
				   "only NIC mode has a promiscuous wire port: reload with board_mode nic");
		return -EOPNOTSUPP;
	}
	WRITE_ONCE(b->promisc, ctx->val.vbool);
	err = selfvirt_board_set_mode(b);
	if (err) {
		WRITE_ONCE(b->promisc, old);
		NL_SET_ERR_MSG_MOD(SELFVIRT_PARAM_EXTACK,
				   "the board refused the promiscuous mode");
	}
	return err;
}

static int selfvirt_param_board_mode_validate(struct devlink *devlink, u32 id,
					      union devlink_param_value val,
					      struct netlink_ext_ack *extack)
{
	if (!strcmp(val.vstr, SELFVIRT_MODE_NAME_SELFVIRT) ||
	    !strcmp(val.vstr, SELFVIRT_MODE_NAME_NIC))
		return 0;
	NL_SET_ERR_MSG_MOD(extack, "board_mode is \"selfvirt\" or \"nic\"");
	return -EINVAL;
}

static int selfvirt_param_irq_width_validate(struct devlink *devlink, u32 id,
					     union devlink_param_value val,
					     struct netlink_ext_ack *extack)
{
	struct selfvirt_board *b = selfvirt_dl_board(devlink);

	if (val.vu8 >= 1 && val.vu8 <= b->irq_width_max)
		return 0;
	NL_SET_ERR_MSG_MOD(extack, "irq_id_width is 1 up to the board's width at probe");
	return -ERANGE;
}

static const struct devlink_param selfvirt_params[] = {
	DEVLINK_PARAM_DRIVER(SELFVIRT_PARAM_PROMISC, "promiscuous",
			     DEVLINK_PARAM_TYPE_BOOL,
			     BIT(DEVLINK_PARAM_CMODE_RUNTIME),
			     selfvirt_param_promisc_get,
			     selfvirt_param_promisc_set, NULL),
	DEVLINK_PARAM_DRIVER(SELFVIRT_PARAM_BOARD_MODE, "board_mode",
			     DEVLINK_PARAM_TYPE_STRING,
			     BIT(DEVLINK_PARAM_CMODE_DRIVERINIT), NULL, NULL,
			     selfvirt_param_board_mode_validate),
	DEVLINK_PARAM_DRIVER(SELFVIRT_PARAM_IRQ_ID_WIDTH, "irq_id_width",
			     DEVLINK_PARAM_TYPE_U8,
			     BIT(DEVLINK_PARAM_CMODE_DRIVERINIT), NULL, NULL,
			     selfvirt_param_irq_width_validate),
};

/* The driverinit values as the board runs now: the start of a reload. */
static void selfvirt_params_init(struct selfvirt_board *b)
{
	struct devlink *devlink = priv_to_devlink(b);
	union devlink_param_value val = {};

	strscpy(val.vstr, b->nic_mode ? SELFVIRT_MODE_NAME_NIC :
		SELFVIRT_MODE_NAME_SELFVIRT, sizeof(val.vstr));
	selfvirt_driverinit_set(devlink, SELFVIRT_PARAM_BOARD_MODE, val);
	memset(&val, 0, sizeof(val));
	val.vu8 = b->irq_width;
	selfvirt_driverinit_set(devlink, SELFVIRT_PARAM_IRQ_ID_WIDTH, val);
}

/* The driverinit values into the board's state, for the reload's reinit. */
static int selfvirt_params_apply(struct selfvirt_board *b)
{
	struct devlink *devlink = priv_to_devlink(b);
	union devlink_param_value val;
	int err;

	err = selfvirt_driverinit_get(devlink, SELFVIRT_PARAM_BOARD_MODE, &val);
	if (err)
		return err;
	b->nic_mode = !strcmp(val.vstr, SELFVIRT_MODE_NAME_NIC);
	err = selfvirt_driverinit_get(devlink, SELFVIRT_PARAM_IRQ_ID_WIDTH, &val);
	if (err)
		return err;
	WRITE_ONCE(b->irq_width, val.vu8);
	return 0;
}

/* ---- reload ---- */

static int selfvirt_dl_reload_down(struct devlink *devlink, bool netns_change,
				   enum devlink_reload_action action,
				   enum devlink_reload_limit limit,
				   struct netlink_ext_ack *extack)
{
	struct selfvirt_board *b = selfvirt_dl_board(devlink);
	unsigned int i;

	devl_assert_locked(devlink);
	if (netns_change) {
		NL_SET_ERR_MSG_MOD(extack, "the board stays in its namespace");
		return -EOPNOTSUPP;
	}
	for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++) {
		if (b->port[i] && b->port[i]->md) {
			NL_SET_ERR_MSG_MOD(extack, "a VIF is a VM's (mdev): remove the mdev first");
			return -EBUSY;
		}
	}
	for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++)
		selfvirt_vif_destroy(b, i);
	return 0;
}

static int selfvirt_dl_reload_up(struct devlink *devlink,
				 enum devlink_reload_action action,
				 enum devlink_reload_limit limit,
				 u32 *actions_performed,
				 struct netlink_ext_ack *extack)
{
	struct selfvirt_board *b = selfvirt_dl_board(devlink);
	int err;

	devl_assert_locked(devlink);
	err = selfvirt_params_apply(b);
	if (err)
		return err;
	err = selfvirt_board_reinit(b);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "board not set up again after its reset");
		return err;
	}
	*actions_performed = BIT(DEVLINK_RELOAD_ACTION_DRIVER_REINIT);
	/* a board probed in NIC mode offers mdevs once it self-virtualizes */
	if (!b->nic_mode) {
		err = selfvirt_mdev_parent_register(b);
		if (err) {
			NL_SET_ERR_MSG_MOD(extack, "the board's mdev type not registered");
			return err;
		}
	}
	return selfvirt_board_create_vifs(b);
}

/* ---- ports ---- */

/* "devlink port add ... flavour pcisf pfnum 0 [sfnum N]": a VIF, interface
 * and all, as the create_vif file makes one.
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
				  b->rx_buf);
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
static int selfvirt_dl_port_new(struct devlink *devlink,
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

static int selfvirt_dl_port_del(struct devlink *devlink,
				unsigned int port_index,
				struct netlink_ext_ack *extack)
{
	if (port_index >= SELFVIRT_WIN_ENTRIES)
		return -ENOENT;
	return selfvirt_vif_remove(selfvirt_dl_board(devlink), port_index,
				   extack);
}
#else
static int selfvirt_dl_port_new(struct devlink *devlink,
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

static int selfvirt_port_fn_hw_addr_get(struct devlink_port *dl, u8 *hw_addr,
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
static int selfvirt_port_fn_hw_addr_set(struct devlink_port *dl,
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

static int selfvirt_port_fn_state_get(struct devlink_port *dl,
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

static int selfvirt_port_fn_state_set(struct devlink_port *dl,
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

/* ---- rates ---- */

static int selfvirt_rate_leaf_tx_max_set(struct devlink_rate *rate, void *priv,
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

static int selfvirt_rate_leaf_tx_share_set(struct devlink_rate *rate,
					   void *priv, u64 tx_share,
					   struct netlink_ext_ack *extack)
{
	if (!tx_share)
		return 0;
	NL_SET_ERR_MSG_MOD(extack, "the board caps a VIF's rate, it guarantees none");
	return -EOPNOTSUPP;
}

/* ---- health: a send queue halted by the board ---- */

static const char * const selfvirt_halt_reasons[] = {
	[SELFVIRT_HALT_NONE] = "none",
	[SELFVIRT_HALT_PROD_AHEAD] = "tx_prod more than a ring ahead",
	[SELFVIRT_HALT_BAD_DESC] = "descriptor out of range",
};

#define SELFVIRT_STAT_NAME(id, name) name
static const char * const selfvirt_vif_stat_names[] = {
	SELFVIRT_VIF_STATS(SELFVIRT_STAT_NAME)
};
#undef SELFVIRT_STAT_NAME

static const char *selfvirt_halt_reason(u32 reason)
{
	if (reason < ARRAY_SIZE(selfvirt_halt_reasons))
		return selfvirt_halt_reasons[reason];
	return "unknown";
}

/* Ask the board why the VIF's send queue halted (VIF_STATUS). */
static int selfvirt_halt_read(struct selfvirt_vif *vif,
			      struct selfvirt_halt *h)
{
	u32 arg = vif->index, res[7];
	int err;

	err = selfvirt_mbox(vif->board, SELFVIRT_CMD_VIF_STATUS, &arg, 1, res,
			    ARRAY_SIZE(res));
	if (err)
		return err;
	h->halted = res[0] & SELFVIRT_VIF_HALTED;
	h->reason = res[1];
	h->index = res[2];
	memcpy(h->desc, &res[3], sizeof(h->desc));
	return 0;
}

static int selfvirt_fmsg_stats(struct selfvirt_vif *vif,
			       struct devlink_fmsg *fmsg)
{
	u32 arg = vif->index, res[SELFVIRT_VSTAT_COUNT];
	int i, err;

	BUILD_BUG_ON(ARRAY_SIZE(selfvirt_vif_stat_names) != SELFVIRT_VSTAT_COUNT);
	err = selfvirt_mbox(vif->board, SELFVIRT_CMD_VIF_STATS, &arg, 1, res,
			    SELFVIRT_VSTAT_COUNT);
	if (err)
		return err;
	selfvirt_fmsg(err, devlink_fmsg_pair_nest_start(fmsg, "counters"));
	selfvirt_fmsg(err, devlink_fmsg_obj_nest_start(fmsg));
	for (i = 0; i < SELFVIRT_VSTAT_COUNT; i++)
		selfvirt_fmsg(err, devlink_fmsg_u32_pair_put(fmsg,
				selfvirt_vif_stat_names[i], res[i]));
	selfvirt_fmsg(err, devlink_fmsg_obj_nest_end(fmsg));
	selfvirt_fmsg(err, devlink_fmsg_pair_nest_end(fmsg));
	return err;
}

static int selfvirt_fmsg_halt(const struct selfvirt_halt *h,
			      struct devlink_fmsg *fmsg)
{
	int err = 0;

	selfvirt_fmsg(err, devlink_fmsg_pair_nest_start(fmsg, "last_halt"));
	selfvirt_fmsg(err, devlink_fmsg_obj_nest_start(fmsg));
	selfvirt_fmsg(err, devlink_fmsg_string_pair_put(fmsg, "reason",
				selfvirt_halt_reason(h->reason)));
	selfvirt_fmsg(err, devlink_fmsg_u32_pair_put(fmsg, "index", h->index));
	selfvirt_fmsg(err, devlink_fmsg_u32_pair_put(fmsg, "buf", h->desc[0]));
	selfvirt_fmsg(err, devlink_fmsg_u32_pair_put(fmsg, "len", h->desc[1]));
	selfvirt_fmsg(err, devlink_fmsg_u32_pair_put(fmsg, "flags",
						     h->desc[2] & 0xffff));
	selfvirt_fmsg(err, devlink_fmsg_u32_pair_put(fmsg, "mss",
						     h->desc[2] >> 16));
	selfvirt_fmsg(err, devlink_fmsg_obj_nest_end(fmsg));
	selfvirt_fmsg(err, devlink_fmsg_pair_nest_end(fmsg));
	return err;
}

static int selfvirt_tx_diagnose(struct devlink_health_reporter *reporter,
				struct devlink_fmsg *fmsg,
				struct netlink_ext_ack *extack)
{
	struct selfvirt_vif *vif = devlink_health_reporter_priv(reporter);
	struct selfvirt_halt now;
	int err;

	err = selfvirt_halt_read(vif, &now);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "the board did not answer VIF_STATUS");
		return err;
	}
	selfvirt_fmsg(err, devlink_fmsg_bool_pair_put(fmsg, "halted", now.halted));
	if (!err)
		err = selfvirt_fmsg_stats(vif, fmsg);
	/* the board's record if it is halted now, else the last one seen */
	if (!err)
		err = selfvirt_fmsg_halt(now.halted ? &now : &vif->halt, fmsg);
	return err;
}

static int selfvirt_tx_recover(struct devlink_health_reporter *reporter,
			       void *priv_ctx, struct netlink_ext_ack *extack)
{
	struct selfvirt_vif *vif = devlink_health_reporter_priv(reporter);
	int err;

	rtnl_lock();
	err = selfvirt_vif_restart(vif);
	rtnl_unlock();
	if (err)
		NL_SET_ERR_MSG_MOD(extack, "the board did not restart the VIF's queues");
	return err;
}

static const struct devlink_health_reporter_ops selfvirt_tx_reporter_ops = {
	.name = "tx",
	.diagnose = selfvirt_tx_diagnose,
	.recover = selfvirt_tx_recover,
};

/*
 * Report a halt once.  The reporter goes to "error" before the report, so
 * that devlink never recovers from here: its auto-recovery would take the
 * instance lock, under which the VIF's destruction waits for this work.
 * Recovery is "devlink health recover" (or a reload or board reset).
 */
static void selfvirt_halt_work(struct work_struct *work)
{
	struct selfvirt_vif *vif = container_of(work, struct selfvirt_vif,
						halt_work);
	struct devlink_health_reporter *reporter = vif->port->tx_reporter;
	const char *msg = "send queue halted";
	struct selfvirt_halt h = {};

	if (READ_ONCE(vif->bad_index)) {
		msg = "impossible ring index";	/* logged where it was seen */
	} else if (selfvirt_halt_read(vif, &h) || !h.halted) {
		netdev_warn(vif->netdev, "send queue halted, the board tells no reason\n");
	} else {
		vif->halt = h;
		netdev_err(vif->netdev, "send queue halted at descriptor %u: %s\n",
			   h.index, selfvirt_halt_reason(h.reason));
	}
	if (!READ_ONCE(vif->board->health_reports))
		return;		/* devlink not registered (yet) */
	devlink_health_reporter_state_update(reporter,
					     DEVLINK_HEALTH_REPORTER_STATE_ERROR);
	devlink_health_report(reporter, msg, NULL);
}

/**
 * selfvirt_vif_tx_halted - the board says it halted the VIF's send queue
 * @vif: the VIF whose receive-queue status carries SELFVIRT_RQ_HALTED
 *
 * Called from the transmit and NAPI paths; the report (mailbox, devlink)
 * runs from a work item, once per halt: restarting the VIF clears
 * @vif->halted again.
 */
void selfvirt_vif_tx_halted(struct selfvirt_vif *vif)
{
	if (vif->port && !test_and_set_bit(0, &vif->halted))
		schedule_work(&vif->halt_work);
}

static int selfvirt_port_reporter_add(struct selfvirt_port *port)
{
	struct selfvirt_vif *vif = port->vif;
	struct devlink_health_reporter *r;

	INIT_WORK(&vif->halt_work, selfvirt_halt_work);
	r = selfvirt_port_reporter_create(&port->dl, &selfvirt_tx_reporter_ops,
					  0, vif);
	if (IS_ERR(r))
		return PTR_ERR(r);
	port->tx_reporter = r;
	return 0;
}

static void selfvirt_port_reporter_del(struct selfvirt_port *port)
{
	if (!port->tx_reporter)
		return;
	cancel_work_sync(&port->vif->halt_work);
	selfvirt_reporter_destroy(port->tx_reporter);
	port->tx_reporter = NULL;
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

static const struct devlink_ops selfvirt_devlink_ops = {
	.reload_actions = BIT(DEVLINK_RELOAD_ACTION_DRIVER_REINIT),
	.reload_down = selfvirt_dl_reload_down,
	.reload_up = selfvirt_dl_reload_up,
	.info_get = selfvirt_dl_info_get,
	.port_new = selfvirt_dl_port_new,
#if SELFVIRT_DL_OLD_PORTS
	.port_del = selfvirt_dl_port_del,
	.port_function_hw_addr_get = selfvirt_port_fn_hw_addr_get,
	.port_function_hw_addr_set = selfvirt_port_fn_hw_addr_set,
	.port_fn_state_get = selfvirt_port_fn_state_get,
	.port_fn_state_set = selfvirt_port_fn_state_set,
#endif
	.rate_leaf_tx_max_set = selfvirt_rate_leaf_tx_max_set,
	.rate_leaf_tx_share_set = selfvirt_rate_leaf_tx_share_set,
};

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

/**
 * selfvirt_port_create - a VIF's devlink port, its rate and health
 * @b: the board
 * @index: the VIF slot
 * @vif: the VIF if it is an interface's (its netdev not yet registered)
 * @md: else the VM's mediated device
 *
 * With the instance lock held.  An interface's netdev is linked to the
 * port here (6.12) or once registered (6.1, selfvirt_port_netdev_set()).
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_port_create(struct selfvirt_board *b, unsigned int index,
			 struct selfvirt_vif *vif, struct selfvirt_mdev *md)
{
	struct selfvirt_port *port;
	int err;

	devl_assert_locked(priv_to_devlink(b));
	if (WARN_ON(b->port[index]))
		return -EEXIST;
	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return -ENOMEM;
	port->board = b;
	port->index = index;
	port->vif = vif;
	port->md = md;
	devlink_port_attrs_pci_sf_set(&port->dl, 0, 0, index, false);
	err = selfvirt_port_register(port);
	if (err)
		goto err_free;
	err = selfvirt_rate_leaf_create(&port->dl, port);
	if (err)
		goto err_unregister;
	if (vif) {
		vif->port = port;
		err = selfvirt_port_reporter_add(port);
		if (err)
			goto err_rate;
#ifdef SET_NETDEV_DEVLINK_PORT
		SET_NETDEV_DEVLINK_PORT(vif->netdev, &port->dl);
#endif
	}
	b->port[index] = port;
	return 0;

err_rate:
	vif->port = NULL;
	devl_rate_leaf_destroy(&port->dl);
err_unregister:
	devl_port_unregister(&port->dl);
err_free:
	kfree(port);
	return err;
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

/* ---- the instance's life ---- */

static void selfvirt_devlink_free(void *devlink)
{
	devlink_free(devlink);
}

/**
 * selfvirt_devlink_alloc - the board's state, as a devlink instance's
 * @pdev: the board
 *
 * Freed when the driver lets @pdev go (device-managed).
 *
 * Return: the state, or NULL.
 */
struct selfvirt_board *selfvirt_devlink_alloc(struct pci_dev *pdev)
{
	struct devlink *devlink;

	devlink = devlink_alloc(&selfvirt_devlink_ops,
				sizeof(struct selfvirt_board), &pdev->dev);
	if (!devlink)
		return NULL;
	if (devm_add_action_or_reset(&pdev->dev, selfvirt_devlink_free, devlink))
		return NULL;
	return devlink_priv(devlink);
}

/**
 * selfvirt_devlink_register - parameters, then the instance for user space
 * @b: the board, its VIFs created
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_devlink_register(struct selfvirt_board *b)
{
	struct devlink *devlink = priv_to_devlink(b);
	int err;

	err = devlink_params_register(devlink, selfvirt_params,
				      ARRAY_SIZE(selfvirt_params));
	if (err)
		return err;
	devl_lock(devlink);
	selfvirt_params_init(b);
	devl_unlock(devlink);
#if SELFVIRT_DL_OLD_INFO
	devlink_set_features(devlink, DEVLINK_F_RELOAD);
#endif
	devlink_register(devlink);
	/* halts are reported from now on (one at probe was only logged) */
	WRITE_ONCE(b->health_reports, true);
	return 0;
}

/**
 * selfvirt_devlink_unregister - no more devlink requests for the board
 * @b: the board
 */
void selfvirt_devlink_unregister(struct selfvirt_board *b)
{
	struct devlink *devlink = priv_to_devlink(b);
	unsigned int i;

	/* no halt report once the instance is gone: devlink warns */
	WRITE_ONCE(b->health_reports, false);
	devl_lock(devlink);	/* the ports; the halt work takes no lock */
	for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++)
		if (b->port[i] && b->port[i]->vif)
			cancel_work_sync(&b->port[i]->vif->halt_work);
	devl_unlock(devlink);
	devlink_unregister(devlink);
	devlink_params_unregister(devlink, selfvirt_params,
				  ARRAY_SIZE(selfvirt_params));
}
