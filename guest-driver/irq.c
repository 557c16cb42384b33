// SPDX-License-Identifier: GPL-2.0
/*
 * selfvirt: the board's interrupts
 *
 * In identifier mode one vector (MSI or INTx) carries the 16-bit
 * identifier: the handler reads it, clears what it read and signals every
 * VIF that shares a set bit.  In MSI-X mode each VIF slot has two vectors,
 * requested by whoever owns the slot (an interface VIF or an mdev).
 */
#include <linux/interrupt.h>
#include "selfvirt.h"

/*
 * The master interrupt: read the identifier, clear what we read, and poll
 * every VIF that shares a set bit (the paper's demultiplexing).
 */
static irqreturn_t selfvirt_intr(int irq, void *data)
{
	struct selfvirt_board *b = data;
	u64 start = selfvirt_cost_start();
	u32 id = selfvirt_rd(b, SELFVIRT_REG_IRQ_ID);
	unsigned int i;

	if (!id || id == ~0u) {
		b->irqs_none++;
		return IRQ_NONE;
	}
	b->irqs++;
	selfvirt_wr(b, SELFVIRT_REG_IRQ_ID, id);
	for (i = 0; i < b->max_vifs; i++) {
		struct selfvirt_vif *vif = READ_ONCE(b->vif[i]);
		struct selfvirt_mdev *md = READ_ONCE(b->mdev[i]);

		if (!(id & (BIT(SELFVIRT_IRQ_TX_BIT(i, b->irq_width)) |
			    BIT(SELFVIRT_IRQ_RX_BIT(i, b->irq_width)))))
			continue;
		if (vif)
			selfvirt_vif_signal(vif);
		else if (md)
			selfvirt_mdev_signal(md);
	}
	selfvirt_cost_end(&b->cost_master, start, 1);
	return IRQ_HANDLED;
}

int selfvirt_irq_setup(struct selfvirt_board *b)
{
	struct pci_dev *pdev = b->pdev;
	int n;

	if (b->irq_mode == SELFVIRT_IRQ_MODE_MSIX) {
		n = SELFVIRT_MSIX_MBOX_VEC(b->max_vifs) + 1;
		b->nvec = pci_alloc_irq_vectors(pdev, n, n, PCI_IRQ_MSIX);
		if (b->nvec < 0)
			dev_err(&pdev->dev, "cannot get %d MSI-X vectors: %d\n",
				n, b->nvec);
		return b->nvec < 0 ? b->nvec : 0;
	}
	b->nvec = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI | PCI_IRQ_INTX);
	if (b->nvec < 0)
		return b->nvec;
	return request_irq(pci_irq_vector(pdev, 0), selfvirt_intr, IRQF_SHARED,
			   SELFVIRT_DRV_NAME, b);
}

/**
 * selfvirt_vectors_request - request a VIF slot's two MSI-X vectors
 * @b: the board
 * @index: the VIF slot
 * @v: the vectors' state, kept by the slot's owner
 * @prefix: their names' start ("sv-vif", "sv-mdev")
 * @handler: the handler of both
 * @data: its argument and dev_id
 *
 * Nothing to do in identifier mode, where selfvirt_intr() demultiplexes.
 *
 * Return: 0 or a negative errno.
 */
int selfvirt_vectors_request(struct selfvirt_board *b, unsigned int index,
			     struct selfvirt_vectors *v, const char *prefix,
			     irq_handler_t handler, void *data)
{
	int tx = pci_irq_vector(b->pdev, SELFVIRT_MSIX_TX_VEC(index));
	int rx = pci_irq_vector(b->pdev, SELFVIRT_MSIX_RX_VEC(index));
	int err;

	if (b->irq_mode != SELFVIRT_IRQ_MODE_MSIX)
		return 0;
	snprintf(v->name[0], sizeof(v->name[0]), "%s%u-tx", prefix, index);
	snprintf(v->name[1], sizeof(v->name[1]), "%s%u-rx", prefix, index);
	err = request_irq(tx, handler, 0, v->name[0], data);
	if (err)
		return err;
	err = request_irq(rx, handler, 0, v->name[1], data);
	if (err) {
		free_irq(tx, data);
		return err;
	}
	v->requested = true;
	return 0;
}

/**
 * selfvirt_vectors_free - free what selfvirt_vectors_request() requested
 * @b: the board
 * @index: the VIF slot
 * @v: the vectors' state
 * @data: the dev_id they were requested with
 */
void selfvirt_vectors_free(struct selfvirt_board *b, unsigned int index,
			   struct selfvirt_vectors *v, void *data)
{
	if (!v->requested)
		return;
	free_irq(pci_irq_vector(b->pdev, SELFVIRT_MSIX_TX_VEC(index)), data);
	free_irq(pci_irq_vector(b->pdev, SELFVIRT_MSIX_RX_VEC(index)), data);
	v->requested = false;
}

void selfvirt_irq_teardown(struct selfvirt_board *b)
{
	selfvirt_wr(b, SELFVIRT_REG_IRQ_MASK, GENMASK(b->irq_width - 1, 0));
	if (b->irq_mode != SELFVIRT_IRQ_MODE_MSIX)
		free_irq(pci_irq_vector(b->pdev, 0), b);
	pci_free_irq_vectors(b->pdev);
}
