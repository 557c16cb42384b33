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

static void csr_wr(Board *b, uint32_t reg, uint32_t val)
{
    qpci_io_writel(b->dev, b->csr, reg, val);
}

static uint32_t mbox(Board *b, uint32_t cmd, const uint32_t *args, int n)
{
    for (int i = 0; i < SELFVIRT_MBOX_NARGS; i++) {
        csr_wr(b, SELFVIRT_REG_MBOX_ARG(i), i < n ? args[i] : 0);
    }
    csr_wr(b, SELFVIRT_REG_MBOX_CMD, cmd);
    g_assert_true(csr_rd(b, SELFVIRT_REG_MBOX_STATUS) &
                  SELFVIRT_MBOX_STATUS_DONE);
    return SELFVIRT_MBOX_STATUS_CODE(csr_rd(b, SELFVIRT_REG_MBOX_STATUS));
}

/* Guest RAM for VIF receive queues: one window page each, 1 MiB pages. */
#define RQ_BASE 0x1000000ull

static uint32_t create_vif(Board *b, uint32_t vif, uint32_t win)
{
    uint32_t args[6] = { vif, 0, 0, 16 | (16 << 16), win | (1 << 8), 2048 };

    csr_wr(b, SELFVIRT_REG_WIN_HI(win), 0);
    csr_wr(b, SELFVIRT_REG_WIN_LO(win),
           (uint32_t)(RQ_BASE + win * 0x100000ull) | SELFVIRT_WIN_VALID);
    return mbox(b, SELFVIRT_CMD_VIF_CREATE, args, 6);
}

static void test_mailbox_errors(void)
{
    Board b;
    uint32_t args[4];

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(mbox(&b, 99, NULL, 0), ==, SELFVIRT_ST_BAD_CMD);
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(3)), ==, 0x12005452);
    g_assert_cmpuint(create_vif(&b, 0, 1), ==, SELFVIRT_ST_EXISTS);
    g_assert_cmpuint(create_vif(&b, 4, 1), ==, SELFVIRT_ST_NO_VIF);
    /* windows of VIF 0 */
    g_assert_cmpuint(create_vif(&b, 1, 0), ==, SELFVIRT_ST_BAD_ARG);
    /* queue sizes not powers of two */
    args[0] = 1; args[1] = 0; args[2] = 0; args[3] = 10 | (16 << 16);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_CREATE, args, 4), ==,
                     SELFVIRT_ST_BAD_ARG);
    for (uint32_t v = 1; v < 4; v++) {
        g_assert_cmpuint(create_vif(&b, SELFVIRT_VIF_ANY, v), ==,
                         SELFVIRT_ST_OK);
    }
    g_assert_cmpuint(create_vif(&b, SELFVIRT_VIF_ANY, 5), ==,
                     SELFVIRT_ST_NO_RESOURCES);
    args[0] = 9;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_DESTROY, args, 1), ==,
                     SELFVIRT_ST_NO_VIF);
    args[0] = 2; args[1] = SELFVIRT_ATTR_WEIGHT; args[2] = 0;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, args, 3), ==,
                     SELFVIRT_ST_BAD_ARG);
    args[1] = 77;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, args, 3), ==,
                     SELFVIRT_ST_BAD_ARG);
    args[0] = SELFVIRT_MODE_NIC; args[1] = 0;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_SET_MODE, args, 2), ==,
                     SELFVIRT_ST_WRONG_MODE);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_QUERY, NULL, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(0)), ==, 0xf);
    args[0] = 2;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_DESTROY, args, 1), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_QUERY, NULL, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(0)), ==, 0xb);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_RESET, NULL, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_QUERY, NULL, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(0)), ==, 0);
    args[0] = SELFVIRT_MODE_NIC; args[1] = 1;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_SET_MODE, args, 2), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_DEV_STATUS), ==,
                    SELFVIRT_DEV_STATUS_READY | SELFVIRT_DEV_STATUS_NIC_MODE |
                    SELFVIRT_DEV_STATUS_PROMISC);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_WRONG_MODE);
    board_stop(&b);
}

static void test_identifier(void)
{
    Board b;

    board_start(&b, ",vifs=4,irq-id-width=4");
    /* reset: nothing pending, every bit masked */
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_ID), ==, 0);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_MASK), ==, 0xf);
    csr_wr(&b, SELFVIRT_REG_IRQ_MASK, 0xffff);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_MASK), ==, 0xf);
    csr_wr(&b, SELFVIRT_REG_IRQ_MASK, 0x2);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_MASK), ==, 0x2);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_PENDING), ==, 0);
    /* the window page size register refuses out-of-range values */
    csr_wr(&b, SELFVIRT_REG_WIN_PAGE_SHIFT, 7);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_WIN_PAGE_SHIFT), ==, 20);
    csr_wr(&b, SELFVIRT_REG_WIN_PAGE_SHIFT, 26);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_WIN_PAGE_SHIFT), ==, 20);
    csr_wr(&b, SELFVIRT_REG_WIN_PAGE_SHIFT, 8);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_WIN_PAGE_SHIFT), ==, 8);
    /* window entries: reserved bits 1..7 read as zero */
    csr_wr(&b, SELFVIRT_REG_WIN_LO(63), 0x123456ff);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_WIN_LO(63)), ==, 0x12345601);
    board_stop(&b);
}

/* Put one frame into VIF @v's send queue and ring the doorbell. */
static void post_frame(Board *b, uint32_t v, const uint8_t *frame, uint32_t len)
{
    uint32_t part = v * csr_rd(b, SELFVIRT_REG_PART_SIZE);
    uint32_t data = part + SELFVIRT_SQ_DATA_OFF(16);
    uint32_t desc[4] = { 0, len, 0, 0 };
    uint32_t prod = qpci_io_readl(b->dev, b->sdram, part);

    qpci_memwrite(b->dev, b->sdram, data, frame, len);
    qpci_memwrite(b->dev, b->sdram, part + SELFVIRT_SQ_DESC_OFF +
                  (prod % 16) * 16, desc, sizeof(desc));
    qpci_io_writel(b->dev, b->sdram, part, prod + 1);
    csr_wr(b, SELFVIRT_REG_DOORBELL, v);
}

static uint32_t rq_word(Board *b, uint32_t win, uint32_t off)
{
    return qtest_readl(b->qts, RQ_BASE + win * 0x100000ull + off);
}

static void test_vif_to_vif(void)
{
    Board b;
    uint8_t frame[64] = {
        0x52, 0x54, 0x00, 0x12, 0x34, 0x57,     /* to VIF 1 */
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56,     /* from VIF 0 */
        0x88, 0xb5,
    };
    uint8_t got[64];
    int i;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    csr_wr(&b, SELFVIRT_REG_IRQ_MASK, 0);
    memset(frame + 14, 0xa5, sizeof(frame) - 14);
    post_frame(&b, 0, frame, sizeof(frame));
    for (i = 0; i < 1000 && rq_word(&b, 1, 0) != 1; i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(rq_word(&b, 1, 0), ==, 1);            /* rx_prod */
    g_assert_cmpuint(rq_word(&b, 0, 4), ==, 1);            /* tx_cons */
    g_assert_cmpuint(rq_word(&b, 1, SELFVIRT_RQ_DESC_OFF), ==, sizeof(frame));
    qtest_memread(b.qts, RQ_BASE + 0x100000 + SELFVIRT_RQ_DATA_OFF(16), got,
                  sizeof(got));
    g_assert_cmpmem(got, sizeof(got), frame, sizeof(frame));
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_SWITCH_LOCAL)),
                     ==, 1);
    /* nothing reached VIF 0's own queue, nothing the wire */
    g_assert_cmpuint(rq_word(&b, 0, 0), ==, 0);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_WIRE_TX_FRAMES)),
                     ==, 0);

    /* a window gone invalid: the write master-aborts and is counted */
    csr_wr(&b, SELFVIRT_REG_WIN_LO(1), 0);
    post_frame(&b, 0, frame, sizeof(frame));
    for (i = 0; i < 1000 &&
         !csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_WIN_ABORTS)); i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_WIN_ABORTS)),
                     >, 0);

    /* a malformed descriptor (buffer beyond the partition) stops the VIF */
    {
        uint32_t part = 0, desc[4] = { 0xfffffff0, 64, 0, 0 };

        qpci_memwrite(b.dev, b.sdram, part + SELFVIRT_SQ_DESC_OFF + 2 * 16,
                      desc, sizeof(desc));
        qpci_io_writel(b.dev, b.sdram, part, 3);
        csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
        for (i = 0; i < 1000 &&
             !csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_BAD_DESC)); i++) {
            g_usleep(1000);
        }
        g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_BAD_DESC)),
                         ==, 1);
    }
    board_stop(&b);
}

/* Every bad property value is refused at realize, naming the property. */
static void test_bad_properties(void)
{
    static const char *const bad[][2] = {
        { "vifs=0", "'vifs'" }, { "vifs=65", "'vifs'" },
        { "irq-id-width=17", "'irq-id-width'" },
        { "irq-mode=2", "'irq-mode'" }, { "engines=3", "'engines'" },
        { "contexts=9", "'contexts'" }, { "sdram-size=1000", "'sdram-size'" },
        { "window-page-shift=26", "'window-page-shift'" },
    };
    QTestState *qts = qtest_init("-M pc -nodefaults");

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *opts = g_strdup_printf("selfvirt-nic,%s", bad[i][0]);
        g_autofree char *out = qtest_hmp(qts, "device_add %s", opts);

        g_assert_nonnull(strstr(out, bad[i][1]));
    }
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/selfvirt/identity", test_identity);
    qtest_add_func("/selfvirt/mailbox-errors", test_mailbox_errors);
    qtest_add_func("/selfvirt/identifier-and-windows", test_identifier);
    qtest_add_func("/selfvirt/vif-to-vif", test_vif_to_vif);
    qtest_add_func("/selfvirt/bad-properties", test_bad_properties);
    return g_test_run();
}
