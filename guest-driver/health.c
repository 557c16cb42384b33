// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: the "tx" health reporter of an interface VIF's port
 *
 * It tells of a send queue that the board halted on a malformed
 * descriptor (SELFVIRT_CMD_VIF_STATUS says why), and recovers the VIF by
 * restarting it.
 */
#include <linux/rtnetlink.h>
#include "selfvirt.h"
#include "devlink_local.h"

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
		selfvirt_fmsg(err,
			      devlink_fmsg_u32_pair_put(fmsg,
							selfvirt_vif_stat_names[i],
							res[i]));
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
	selfvirt_fmsg(err,
		      devlink_fmsg_string_pair_put(fmsg, "reason",
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

int selfvirt_port_reporter_add(struct selfvirt_port *port)
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

void selfvirt_port_reporter_del(struct selfvirt_port *port)
{
	if (!port->tx_reporter)
		return;
	cancel_work_sync(&port->vif->halt_work);
	selfvirt_reporter_destroy(port->tx_reporter);
	port->tx_reporter = NULL;
}
