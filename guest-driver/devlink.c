// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: the board as a devlink instance
 *
 * "devlink dev info", the board-wide parameters, and "devlink dev reload",
 * which applies them after probe in place of the module parameters.  Each
 * VIF is a devlink port (devlink_port.c) with a health reporter (health.c).
 *
 * Locking: devlink calls these operations with the instance lock held, on
 * 6.1 too.  The order is devlink instance lock -> RTNL -> vif_lock ->
 * mbox_lock; the sysfs files (sysfs.c) and mdev creation and release take
 * the instance lock too.  Built for Linux 6.1 and 6.12: devlink_local.h
 * wraps the API differences.
 */
#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <net/devlink.h>
#include "selfvirt.h"
#include "devlink_local.h"

enum selfvirt_param_id {
	SELFVIRT_PARAM_PROMISC = DEVLINK_PARAM_GENERIC_ID_MAX + 1,
	SELFVIRT_PARAM_BOARD_MODE,
	SELFVIRT_PARAM_IRQ_ID_WIDTH,
};

#define SELFVIRT_MODE_NAME_SELFVIRT	"selfvirt"
#define SELFVIRT_MODE_NAME_NIC		"nic"

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
