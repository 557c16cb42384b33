/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selfvirt: what devlink.c, devlink_port.c and health.c share: the devlink
 * API of Linux 6.1 and 6.12, wrapped with the release that changed each
 * (kernels in between are not built)
 */
#ifndef _SELFVIRT_DEVLINK_LOCAL_H_
#define _SELFVIRT_DEVLINK_LOCAL_H_

#include <linux/version.h>
#include <net/devlink.h>

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

static inline struct selfvirt_board *selfvirt_dl_board(struct devlink *devlink)
{
	return devlink_priv(devlink);
}

/* devlink_port.c: devlink_ops of the ports (devlink_port_ops from 6.4) */
#if SELFVIRT_DL_OLD_PORTS
int selfvirt_dl_port_new(struct devlink *devlink,
			 const struct devlink_port_new_attrs *attrs,
			 struct netlink_ext_ack *extack,
			 unsigned int *new_port_index);
int selfvirt_dl_port_del(struct devlink *devlink, unsigned int port_index,
			 struct netlink_ext_ack *extack);
#else
int selfvirt_dl_port_new(struct devlink *devlink,
			 const struct devlink_port_new_attrs *attrs,
			 struct netlink_ext_ack *extack,
			 struct devlink_port **dl_port);
#endif
int selfvirt_port_fn_hw_addr_get(struct devlink_port *dl, u8 *hw_addr,
				 int *hw_addr_len,
				 struct netlink_ext_ack *extack);
int selfvirt_port_fn_hw_addr_set(struct devlink_port *dl, const u8 *hw_addr,
				 int hw_addr_len,
				 struct netlink_ext_ack *extack);
int selfvirt_port_fn_state_get(struct devlink_port *dl,
			       enum devlink_port_fn_state *state,
			       enum devlink_port_fn_opstate *opstate,
			       struct netlink_ext_ack *extack);
int selfvirt_port_fn_state_set(struct devlink_port *dl,
			       enum devlink_port_fn_state state,
			       struct netlink_ext_ack *extack);
int selfvirt_rate_leaf_tx_max_set(struct devlink_rate *rate, void *priv,
				  u64 tx_max, struct netlink_ext_ack *extack);
int selfvirt_rate_leaf_tx_share_set(struct devlink_rate *rate, void *priv,
				    u64 tx_share,
				    struct netlink_ext_ack *extack);

/* health.c */
int selfvirt_port_reporter_add(struct selfvirt_port *port);
void selfvirt_port_reporter_del(struct selfvirt_port *port);

#endif /* _SELFVIRT_DEVLINK_LOCAL_H_ */
