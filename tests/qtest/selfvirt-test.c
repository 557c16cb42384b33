/*
 * QTest testcase for the selfvirt-nic self-virtualizing NIC
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "selfvirt_abi.h"

typedef struct {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar csr;
    QPCIBar sdram;
} Board;

static void board_start(Board *b, const char *extra)
{
    b->qts = qtest_initf("-M pc -nodefaults -device selfvirt-nic,addr=04.0%s",
                         extra ? extra : "");
    b->bus = qpci_new_pc(b->qts, NULL);
    b->dev = qpci_device_find(b->bus, QPCI_DEVFN(4, 0));
    g_assert_nonnull(b->dev);
    qpci_device_enable(b->dev);
    b->csr = qpci_iomap(b->dev, SELFVIRT_BAR_CSR, NULL);
    b->sdram = qpci_iomap(b->dev, SELFVIRT_BAR_SDRAM, NULL);
}

static void board_stop(Board *b)
{
    qpci_iounmap(b->dev, b->csr);
    qpci_iounmap(b->dev, b->sdram);
    g_free(b->dev);
    qpci_free_pc(b->bus);
    qtest_quit(b->qts);
}

static uint32_t csr_rd(Board *b, uint32_t reg)
{
    return qpci_io_readl(b->dev, b->csr, reg);
}

static void test_identity(void)
{
    Board b;

    board_start(&b, ",vifs=32");
    g_assert_cmphex(qpci_config_readw(b.dev, PCI_VENDOR_ID), ==,
                    SELFVIRT_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(b.dev, PCI_DEVICE_ID), ==,
                    SELFVIRT_PCI_DEVICE_ID);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_ID), ==, SELFVIRT_ID_MAGIC);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_VERSION), ==,
                    SELFVIRT_ABI_VERSION);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_MAX_VIFS), ==, 32);
    g_assert_cmpuint(SELFVIRT_ENGINES_COUNT(csr_rd(&b, SELFVIRT_REG_ENGINES)),
                     ==, 4);
    g_assert_cmpuint(
        SELFVIRT_ENGINES_CONTEXTS(csr_rd(&b, SELFVIRT_REG_ENGINES)), ==, 8);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_SDRAM_SIZE_LO), ==, 256 << 20);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_SDRAM_SIZE_HI), ==, 0);
    g_assert_cmpuint(SELFVIRT_WIN_INFO_ENTRIES(csr_rd(&b,
                     SELFVIRT_REG_WIN_INFO)), ==, 64);
    g_assert_cmpuint(SELFVIRT_IRQ_INFO_WIDTH(csr_rd(&b,
                     SELFVIRT_REG_IRQ_INFO)), ==, 16);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_CAPS) & SELFVIRT_CAP_MSIX, ==, 0);
    board_stop(&b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/selfvirt/identity", test_identity);
    return g_test_run();
}
