// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: the board's sysfs files, in the PCI device's "selfvirt" directory
 *
 * What devlink has no word for: the board's counters, its VIFs by
 * interface name, and a reset of the board under its interfaces.  VIFs
 * are created, destroyed and capped with devlink (devlink_port.c).
 */
#include <linux/rtnetlink.h>
#include "selfvirt.h"

static ssize_t max_vifs_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", b->max_vifs);
}
static DEVICE_ATTR_RO(max_vifs);

static ssize_t caps_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%#x\n", b->caps);
}
static DEVICE_ATTR_RO(caps);

/* "vifs": one line per VIF, "INDEX IFNAME" */
static ssize_t vifs_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);
	unsigned int i;
	int len = 0;

	mutex_lock(&b->vif_lock);
	for (i = 0; i < SELFVIRT_WIN_ENTRIES; i++)
		if (b->vif[i])
			len += sysfs_emit_at(buf, len, "%u %s\n", i,
					     netdev_name(b->vif[i]->netdev));
	mutex_unlock(&b->vif_lock);
	return len;
}
static DEVICE_ATTR_RO(vifs);

/* "reset": write 1 */
static ssize_t reset_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);
	struct devlink *devlink = priv_to_devlink(b);
	int err;

	if (!sysfs_streq(buf, "1"))
		return -EINVAL;
	devl_lock(devlink);
	rtnl_lock();
	mutex_lock(&b->vif_lock);
	err = selfvirt_board_reset(b);
	mutex_unlock(&b->vif_lock);
	rtnl_unlock();
	devl_unlock(devlink);
	if (!err)
		dev_info(dev, "board reset\n");
	return err ? err : count;
}
static DEVICE_ATTR_WO(reset);

#define SELFVIRT_STAT_NAME(id, name) name
static const char * const selfvirt_board_stat_names[] = {
	SELFVIRT_BOARD_STATS(SELFVIRT_STAT_NAME)
};

#undef SELFVIRT_STAT_NAME

/* "board_stats": the board's counters, one "name value" per line */
static ssize_t board_stats_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);
	unsigned int i;
	int len = 0;

	BUILD_BUG_ON(ARRAY_SIZE(selfvirt_board_stat_names) != SELFVIRT_STAT_COUNT);
	for (i = 0; i < SELFVIRT_STAT_COUNT; i++)
		len += sysfs_emit_at(buf, len, "%s %u\n",
				     selfvirt_board_stat_names[i],
				     selfvirt_rd(b, SELFVIRT_REG_STAT(i)));
	return len;
}
static DEVICE_ATTR_RO(board_stats);

static ssize_t irqs_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct selfvirt_board *b = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu %llu\n", b->irqs, b->irqs_none);
}
static DEVICE_ATTR_RO(irqs);

static struct attribute *selfvirt_board_attrs[] = {
	&dev_attr_max_vifs.attr,
	&dev_attr_caps.attr,
	&dev_attr_vifs.attr,
	&dev_attr_irqs.attr,
	&dev_attr_reset.attr,
	&dev_attr_board_stats.attr,
	NULL,
};

const struct attribute_group selfvirt_board_group = {
	.name = "selfvirt",
	.attrs = selfvirt_board_attrs,
};
