// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: Linux driver for the self-virtualizing NIC (QEMU selfvirt-nic)
 *
 * The module: its parameters, and two PCI drivers, one for the board (the
 * management side of the paper's design, its dom0 driver) and one for a
 * VIF function, one VIF of a board as a VM sees it (function.c).
 */
#include <linux/module.h>
#include <linux/pci.h>
#include "selfvirt.h"

static unsigned int vifs = 1;
module_param(vifs, uint, 0444);
MODULE_PARM_DESC(vifs, "VIFs to create at probe (default 1)");
static unsigned int tx_entries = 256;
module_param(tx_entries, uint, 0444);
MODULE_PARM_DESC(tx_entries, "send queue entries per VIF (power of two)");
static unsigned int rx_entries = 256;
module_param(rx_entries, uint, 0444);
MODULE_PARM_DESC(rx_entries, "receive queue entries per VIF (power of two)");
static unsigned int rx_buf;
module_param(rx_buf, uint, 0444);
MODULE_PARM_DESC(rx_buf, "receive slot bytes; sets the largest MTU (default: a page for an interface's posted buffers, else 2048)");
static bool nic_mode;
module_param(nic_mode, bool, 0444);
MODULE_PARM_DESC(nic_mode, "plain NIC mode: one interface with the board's MAC");
bool selfvirt_cost_stats;
module_param_named(cost_stats, selfvirt_cost_stats, bool, 0644);
MODULE_PARM_DESC(cost_stats, "count the host's costs per message and interrupt (ethtool -S host_*)");

static const struct pci_device_id selfvirt_pci_tbl[] = {
	{ PCI_DEVICE(SELFVIRT_PCI_VENDOR_ID, SELFVIRT_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, selfvirt_pci_tbl);

static bool selfvirt_params_ok(struct device *dev)
{
	if (!is_power_of_2(tx_entries) || tx_entries < SELFVIRT_QUEUE_MIN ||
	    tx_entries > SELFVIRT_QUEUE_MAX || !is_power_of_2(rx_entries) ||
	    rx_entries < SELFVIRT_QUEUE_MIN || rx_entries > SELFVIRT_QUEUE_MAX) {
		dev_err(dev, "tx_entries %u / rx_entries %u: powers of two %d..%d\n",
			tx_entries, rx_entries, SELFVIRT_QUEUE_MIN, SELFVIRT_QUEUE_MAX);
		return false;
	}
	if (rx_buf && (rx_buf < SELFVIRT_RX_BUF_MIN || rx_buf > SELFVIRT_RX_BUF_MAX ||
		       rx_buf % SELFVIRT_RX_BUF_ALIGN)) {
		dev_err(dev, "rx_buf %u: a multiple of %d in %d..%d\n", rx_buf,
			SELFVIRT_RX_BUF_ALIGN, SELFVIRT_RX_BUF_MIN,
			SELFVIRT_RX_BUF_MAX);
		return false;
	}
	return true;
}

/* The board's settings from the module parameters, once they are checked */
static void selfvirt_board_params(struct selfvirt_board *b)
{
	b->nic_mode = nic_mode;
	b->vifs = vifs;
	b->tx_entries = tx_entries;
	b->rx_entries = rx_entries;
	b->rx_buf = rx_buf ?: SELFVIRT_RX_BUF_DEFAULT;
	b->rx_buf_auto = !rx_buf;
}

static int selfvirt_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct selfvirt_board *b;
	int err;

	b = selfvirt_devlink_alloc(pdev);
	if (!b)
		return -ENOMEM;
	selfvirt_board_init(b, pdev);
	if (!selfvirt_params_ok(dev))
		return -EINVAL;
	selfvirt_board_params(b);

	err = selfvirt_board_map(b);
	if (err)
		return err;
	err = selfvirt_board_identify(b);
	if (err)
		goto err_unmap;
	err = selfvirt_irq_setup(b);
	if (err)
		goto err_unmap;
	err = selfvirt_board_setup(b);
	if (err)
		goto err_irq;
	err = selfvirt_board_probe_vifs(b);
	if (err)
		goto err_irq;
	err = sysfs_create_group(&dev->kobj, &selfvirt_board_group);
	if (err)
		goto err_vifs;
	if (!b->nic_mode) {
		err = selfvirt_mdev_parent_register(b);
		if (err)
			goto err_sysfs;
	}
	err = selfvirt_devlink_register(b);
	if (err)
		goto err_mdev;
	return 0;

err_mdev:
	selfvirt_mdev_parent_unregister(b);
err_sysfs:
	sysfs_remove_group(&dev->kobj, &selfvirt_board_group);
err_vifs:
	selfvirt_board_destroy_vifs(b);
err_irq:
	selfvirt_irq_teardown(b);
err_unmap:
	selfvirt_board_unmap(b);
	return err;
}

static void selfvirt_remove(struct pci_dev *pdev)
{
	struct selfvirt_board *b = pci_get_drvdata(pdev);

	selfvirt_devlink_unregister(b);
	/* the VMs' VIFs: their users are asked to let them go */
	selfvirt_mdev_parent_unregister(b);
	sysfs_remove_group(&pdev->dev.kobj, &selfvirt_board_group);
	selfvirt_board_destroy_vifs(b);
	selfvirt_mbox(b, SELFVIRT_CMD_RESET, NULL, 0, NULL, 0);
	selfvirt_irq_teardown(b);
	selfvirt_board_unmap(b);
	dev_info(&pdev->dev, "removed\n");
}

/*
 * Reboot, power off or kexec: the board stops writing into memory that the
 * next kernel owns.  (A VIF function's rings are its manager's memory.)
 */
static void selfvirt_shutdown(struct pci_dev *pdev)
{
	struct selfvirt_board *b = pci_get_drvdata(pdev);

	if (!b)
		return;
	selfvirt_wr(b, SELFVIRT_REG_DEV_CTRL, SELFVIRT_DEV_CTRL_RESET);
	pci_clear_master(pdev);
}

static struct pci_driver selfvirt_driver = {
	.name = SELFVIRT_DRV_NAME,
	.id_table = selfvirt_pci_tbl,
	.probe = selfvirt_probe,
	.remove = selfvirt_remove,
	.shutdown = selfvirt_shutdown,
};

static int __init selfvirt_init(void)
{
	int err;

	err = selfvirt_mdev_driver_register();
	if (err)
		return err;
	err = pci_register_driver(&selfvirt_driver);
	if (err)
		goto err_mdev;
	err = pci_register_driver(&selfvirt_function_driver);
	if (err)
		goto err_board;
	return 0;

err_board:
	pci_unregister_driver(&selfvirt_driver);
err_mdev:
	selfvirt_mdev_driver_unregister();
	return err;
}
module_init(selfvirt_init);

static void __exit selfvirt_exit(void)
{
	pci_unregister_driver(&selfvirt_function_driver);
	pci_unregister_driver(&selfvirt_driver);
	selfvirt_mdev_driver_unregister();
}
module_exit(selfvirt_exit);

MODULE_DESCRIPTION("Self-virtualizing NIC (selfvirt-nic) driver");
MODULE_LICENSE("GPL");
