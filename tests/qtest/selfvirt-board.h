/*
 * selfvirt-nic qtest helpers shared by the qtest and the device benchmark:
 * the board at 00:04.0, its BARs, CSR access and the mailbox.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SELFVIRT_BOARD_H
#define SELFVIRT_BOARD_H

#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "selfvirt_abi.h"

typedef struct {
    int wire[2];            /* [0]: the test's end of the port; -1: none */
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar csr;
    QPCIBar sdram;
    uint32_t part_size;     /* SDRAM partition per VIF */
} Board;

static inline uint32_t csr_rd(Board *b, uint32_t reg)
{
    return qpci_io_readl(b->dev, b->csr, reg);
}

static inline void csr_wr(Board *b, uint32_t reg, uint32_t val)
{
    qpci_io_writel(b->dev, b->csr, reg, val);
}

/* Find the launched board at 00:04.0, enable it and map its BARs. */
static inline void board_attach(Board *b)
{
    b->bus = qpci_new_pc(b->qts, NULL);
    b->dev = qpci_device_find(b->bus, QPCI_DEVFN(4, 0));
    g_assert_nonnull(b->dev);
    qpci_device_enable(b->dev);
    b->csr = qpci_iomap(b->dev, SELFVIRT_BAR_CSR, NULL);
    b->sdram = qpci_iomap(b->dev, SELFVIRT_BAR_SDRAM, NULL);
    b->part_size = csr_rd(b, SELFVIRT_REG_PART_SIZE);
}

static inline void board_stop(Board *b)
{
    qpci_iounmap(b->dev, b->csr);
    qpci_iounmap(b->dev, b->sdram);
    g_free(b->dev);
    qpci_free_pc(b->bus);
    qtest_quit(b->qts);
    for (int i = 0; i < 2; i++) {
        if (b->wire[i] >= 0) {
            close(b->wire[i]);
        }
    }
}

/* Run mailbox command @cmd with @n arguments; returns its status code. */
static inline uint32_t mbox(Board *b, uint32_t cmd, const uint32_t *args,
                            int n)
{
    for (int i = 0; i < SELFVIRT_MBOX_NARGS; i++) {
        csr_wr(b, SELFVIRT_REG_MBOX_ARG(i), i < n ? args[i] : 0);
    }
    csr_wr(b, SELFVIRT_REG_MBOX_CMD, cmd);
    g_assert_true(csr_rd(b, SELFVIRT_REG_MBOX_STATUS) &
                  SELFVIRT_MBOX_STATUS_DONE);
    return SELFVIRT_MBOX_STATUS_CODE(csr_rd(b, SELFVIRT_REG_MBOX_STATUS));
}

#endif
