/*
 * QTest testcase for the selfvirt-nic self-virtualizing NIC
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "qemu/sockets.h"
#include "qemu/bswap.h"
#include "selfvirt_abi.h"

typedef struct {
    int wire[2];            /* [0]: the test's end of the physical port */
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar csr;
    QPCIBar sdram;
} Board;

static void board_start(Board *b, const char *extra)
{
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, b->wire), ==, 0);
    b->qts = qtest_initf("-M pc -nodefaults -netdev socket,fd=%d,id=wire "
                         "-device selfvirt-nic,netdev=wire,addr=04.0%s",
                         b->wire[1], extra ? extra : "");
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
    close(b->wire[0]);
    close(b->wire[1]);
}

/* A frame from the wire, in the socket netdev's framing (length, bytes). */
static void wire_send(Board *b, const uint8_t *frame, uint32_t len)
{
    uint32_t be = htonl(len);

    g_assert_cmpint(write(b->wire[0], &be, 4), ==, 4);
    g_assert_cmpint(write(b->wire[0], frame, len), ==, len);
}

/* The next frame on the wire, or 0 after @ms milliseconds. */
static uint32_t wire_recv(Board *b, uint8_t *buf, uint32_t size, int ms)
{
    uint32_t be, len;
    int i;

    for (i = 0; i < ms; i++) {
        if (recv(b->wire[0], &be, 4, MSG_DONTWAIT | MSG_PEEK) == 4) {
            break;
        }
        g_usleep(1000);
    }
    if (i == ms) {
        return 0;
    }
    g_assert_cmpint(recv(b->wire[0], &be, 4, MSG_WAITALL), ==, 4);
    len = ntohl(be);
    g_assert_cmpuint(len, <=, size);
    g_assert_cmpint(recv(b->wire[0], buf, len, MSG_WAITALL), ==, len);
    return len;
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

    uint32_t st;

    csr_wr(b, SELFVIRT_REG_WIN_HI(win), 0);
    csr_wr(b, SELFVIRT_REG_WIN_LO(win),
           (uint32_t)(RQ_BASE + win * 0x100000ull) | SELFVIRT_WIN_VALID);
    st = mbox(b, SELFVIRT_CMD_VIF_CREATE, args, 6);
    if (st == SELFVIRT_ST_OK) {
        /* the driver's own signal enables, in the send queue's control */
        uint32_t v = csr_rd(b, SELFVIRT_REG_MBOX_RES(0));

        qpci_io_writel(b->dev, b->sdram,
                       v * csr_rd(b, SELFVIRT_REG_PART_SIZE) + 8,
                       SELFVIRT_SIGNAL_TX | SELFVIRT_SIGNAL_RX);
    }
    return st;
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

static bool wait_rq(Board *b, uint32_t win, uint32_t off, uint32_t want)
{
    for (int i = 0; i < 2000 && rq_word(b, win, off) != want; i++) {
        g_usleep(1000);
    }
    return rq_word(b, win, off) == want;
}

static void frame_init(uint8_t *f, size_t len, const uint8_t *dst,
                       const uint8_t *src)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88;
    f[13] = 0xb5;       /* local experimental ethertype */
    for (size_t i = 14; i < len; i++) {
        f[i] = i;
    }
}

static const uint8_t mac_vif0[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_vif1[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
static const uint8_t mac_far[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Wire to VIF, VIF to wire, broadcast both ways. */
static void test_wire(void)
{
    Board b;
    uint8_t f[100], got[2048];

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);

    /* unicast from the wire lands in VIF 1's receive queue only */
    frame_init(f, sizeof(f), mac_vif1, mac_far);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, 0, 1));
    qtest_memread(b.qts, RQ_BASE + 0x100000 + SELFVIRT_RQ_DATA_OFF(16), got,
                  sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    g_assert_cmpuint(rq_word(&b, 0, 0), ==, 0);

    /* unicast to nobody on the board is dropped and counted */
    frame_init(f, sizeof(f), mac_far, mac_far);
    wire_send(&b, f, sizeof(f));
    for (int i = 0; i < 2000 &&
         !csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_WIRE_RX_NO_VIF)); i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_WIRE_RX_NO_VIF)),
                     ==, 1);

    /* broadcast from the wire reaches every VIF */
    frame_init(f, sizeof(f), mac_bcast, mac_far);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 0, 0, 1));
    g_assert_true(wait_rq(&b, 1, 0, 2));

    /* a frame for a MAC not on the board goes out on the wire */
    frame_init(f, sizeof(f), mac_far, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));

    /* broadcast from VIF 0: the wire and VIF 1, not VIF 0 itself */
    frame_init(f, sizeof(f), mac_bcast, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, sizeof(f));
    g_assert_true(wait_rq(&b, 1, 0, 3));
    g_assert_cmpuint(rq_word(&b, 0, 0), ==, 1);
    board_stop(&b);
}

/* The plain NIC mode: one queue, the base MAC, promiscuous on request. */
static void test_nic_mode(void)
{
    Board b;
    uint32_t args[2] = { SELFVIRT_MODE_NIC, 0 };
    uint8_t f[80], got[2048];

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_SET_MODE, args, 2), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_far, mac_far);
    wire_send(&b, f, sizeof(f));             /* not ours: dropped */
    frame_init(f, sizeof(f), mac_vif0, mac_far);
    wire_send(&b, f, sizeof(f));             /* ours */
    g_assert_true(wait_rq(&b, 0, 0, 1));
    args[1] = 1;                             /* promiscuous */
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_SET_MODE, args, 2), ==,
                     SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_far, mac_far);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 0, 0, 2));
    /* everything from the host queue goes to the wire, even to our MAC */
    frame_init(f, sizeof(f), mac_vif0, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, sizeof(f));
    board_stop(&b);
}

/* A TCP segment of 3000 bytes with TSO at MSS 1000 leaves as 3 frames. */
static void test_tso(void)
{
    Board b;
    uint8_t f[14 + 20 + 20 + 3000] = { 0 }, got[2048];
    uint32_t part, data, desc[4], len, total = 0;
    int n = 0;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    memcpy(f, mac_far, 6);
    memcpy(f + 6, mac_vif0, 6);
    f[12] = 0x08;                            /* IPv4 */
    f[14] = 0x45;
    stw_be_p(f + 16, sizeof(f) - 14);        /* total length */
    f[22] = 64;                              /* TTL */
    f[23] = 6;                               /* TCP */
    stl_be_p(f + 26, 0x0a000001);
    stl_be_p(f + 30, 0x0a000002);
    stw_be_p(f + 34, 1234);
    stw_be_p(f + 36, 5201);
    f[46] = 0x50;                            /* data offset 5 words */
    f[47] = 0x18;                            /* PSH, ACK */

    part = 0;
    data = part + SELFVIRT_SQ_DATA_OFF(16);
    qpci_memwrite(b.dev, b.sdram, data, f, sizeof(f));
    desc[0] = 0;
    desc[1] = sizeof(f);
    desc[2] = (SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM) | (1000u << 16);
    desc[3] = 0;
    qpci_memwrite(b.dev, b.sdram, part + SELFVIRT_SQ_DESC_OFF, desc,
                  sizeof(desc));
    qpci_io_writel(b.dev, b.sdram, part, 1);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    while ((len = wire_recv(&b, got, sizeof(got), 2000))) {
        g_assert_cmpuint(len, <=, 14 + 20 + 20 + 1000);
        g_assert_cmpuint(got[23], ==, 6);
        total += len - 54;
        n++;
        if (total == 3000) {
            break;
        }
    }
    g_assert_cmpint(n, ==, 3);
    g_assert_cmpuint(total, ==, 3000);
    board_stop(&b);
}

static uint16_t csum16(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += lduw_be_p(p + i);
    }
    if (len & 1) {
        sum += p[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum;
}

/* A TCP/IPv4 frame from the wire is marked checksum-good only if it is. */
static void test_rx_checksum(void)
{
    Board b;
    uint8_t f[14 + 20 + 20 + 100] = { 0 };
    uint32_t pseudo;
    uint16_t flags;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    memcpy(f, mac_vif1, 6);
    memcpy(f + 6, mac_far, 6);
    f[12] = 0x08;
    f[14] = 0x45;
    stw_be_p(f + 16, sizeof(f) - 14);
    f[22] = 64;
    f[23] = 6;
    stl_be_p(f + 26, 0x0a000001);
    stl_be_p(f + 30, 0x0a000002);
    stw_be_p(f + 24, csum16(f + 14, 20, 0));
    stw_be_p(f + 34, 1234);
    stw_be_p(f + 36, 5201);
    f[46] = 0x50;
    memset(f + 54, 0x5a, 100);
    pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + (sizeof(f) - 34);
    stw_be_p(f + 50, csum16(f + 34, sizeof(f) - 34, pseudo));

    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, 0, 1));
    flags = rq_word(&b, 1, SELFVIRT_RQ_DESC_OFF + 4) & 0xffff;
    g_assert_cmphex(flags & SELFVIRT_RX_CSUM_OK, ==, SELFVIRT_RX_CSUM_OK);

    f[60] ^= 0xff;                           /* corrupt the payload */
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, 0, 2));
    flags = rq_word(&b, 1, SELFVIRT_RQ_DESC_OFF + 16 + 4) & 0xffff;
    g_assert_cmphex(flags & SELFVIRT_RX_CSUM_OK, ==, 0);
    board_stop(&b);
}

/* MSI-X mode: one vector per VIF signal, no identifier bits. */
static void test_msix(void)
{
    Board b;
    uint8_t f[64];

    board_start(&b, ",vifs=4,irq-mode=msix,sdram-size=16M");
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_CAPS) & SELFVIRT_CAP_MSIX, ==,
                    SELFVIRT_CAP_MSIX);
    qpci_msix_enable(b.dev);                 /* vectors start masked */
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_vif1, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, 0, 1));
    for (int i = 0; i < 2000 &&
         !qpci_msix_pending(b.dev, SELFVIRT_MSIX_RX_VEC(1)); i++) {
        g_usleep(1000);
    }
    g_assert_true(qpci_msix_pending(b.dev, SELFVIRT_MSIX_RX_VEC(1)));
    g_assert_true(qpci_msix_pending(b.dev, SELFVIRT_MSIX_TX_VEC(0)));
    g_assert_false(qpci_msix_pending(b.dev, SELFVIRT_MSIX_RX_VEC(0)));
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_ID), ==, 0);
    qpci_msix_disable(b.dev);
    board_stop(&b);
}

/* Identifier sharing: VIF 9 signals on VIF 1's bits; W1C and masks. */
static void test_identifier_sharing(void)
{
    Board b;
    uint8_t f[64];
    uint32_t rx1 = 1u << SELFVIRT_IRQ_RX_BIT(1, 16);

    board_start(&b, ",vifs=16");
    g_assert_cmpuint(SELFVIRT_IRQ_RX_BIT(9, 16), ==, SELFVIRT_IRQ_RX_BIT(1, 16));
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 9, 9), ==, SELFVIRT_ST_OK);
    csr_wr(&b, SELFVIRT_REG_IRQ_MASK, 0);
    frame_init(f, sizeof(f), (const uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34,
                                                0x5f }, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_true(wait_rq(&b, 9, 0, 1));
    for (int i = 0; i < 2000 && !(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx1); i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx1, ==, rx1);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_PENDING) & rx1, ==, rx1);
    csr_wr(&b, SELFVIRT_REG_IRQ_MASK, rx1);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_PENDING) & rx1, ==, 0);
    csr_wr(&b, SELFVIRT_REG_IRQ_ID, rx1);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx1, ==, 0);
    board_stop(&b);
}

/* A board reset while frames flow: no VIF left, nothing written after. */
static void test_reset_during_traffic(void)
{
    Board b;
    uint8_t f[64];
    uint32_t before;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_vif1, mac_far);
    for (int i = 0; i < 8; i++) {
        wire_send(&b, f, sizeof(f));
    }
    csr_wr(&b, SELFVIRT_REG_DEV_CTRL, SELFVIRT_DEV_CTRL_RESET);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_QUERY, NULL, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(0)), ==, 0);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_WIN_LO(1)), ==, 0);
    before = rq_word(&b, 1, 0);
    for (int i = 0; i < 8; i++) {
        wire_send(&b, f, sizeof(f));
    }
    g_usleep(100 * 1000);
    g_assert_cmpuint(rq_word(&b, 1, 0), ==, before);
    /* and the board works again */
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    qtest_memset(b.qts, RQ_BASE + 0x100000, 0, 64);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, 0, 1));
    board_stop(&b);
}

/* A board reset is not a PCI reset: the host's MSI / MSI-X set-up stays. */
static void test_reset_keeps_msi(void)
{
    Board b;
    uint8_t cap;

    board_start(&b, ",vifs=4");
    cap = qpci_find_capability(b.dev, PCI_CAP_ID_MSI, 0);
    g_assert_cmphex(cap, !=, 0);
    qpci_config_writew(b.dev, cap + PCI_MSI_FLAGS,
                       qpci_config_readw(b.dev, cap + PCI_MSI_FLAGS) |
                       PCI_MSI_FLAGS_ENABLE);
    csr_wr(&b, SELFVIRT_REG_DEV_CTRL, SELFVIRT_DEV_CTRL_RESET);
    g_assert_cmphex(qpci_config_readw(b.dev, cap + PCI_MSI_FLAGS) &
                    PCI_MSI_FLAGS_ENABLE, ==, PCI_MSI_FLAGS_ENABLE);
    board_stop(&b);

    board_start(&b, ",vifs=4,irq-mode=msix,sdram-size=16M");
    qpci_msix_enable(b.dev);
    cap = qpci_find_capability(b.dev, PCI_CAP_ID_MSIX, 0);
    csr_wr(&b, SELFVIRT_REG_DEV_CTRL, SELFVIRT_DEV_CTRL_RESET);
    g_assert_cmphex(qpci_config_readw(b.dev, cap + PCI_MSIX_FLAGS) &
                    PCI_MSIX_FLAGS_ENABLE, ==, PCI_MSIX_FLAGS_ENABLE);
    qpci_msix_disable(b.dev);
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
    g_autofree char *help = qtest_hmp(qts, "device_add selfvirt-nic,help");

    /* introspection alone (no realize) lists the documented properties */
    g_assert_nonnull(strstr(help, "irq-mode=<str>"));
    g_assert_nonnull(strstr(help, "virtual interfaces, 1..64"));
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
    qtest_add_func("/selfvirt/wire", test_wire);
    qtest_add_func("/selfvirt/nic-mode", test_nic_mode);
    qtest_add_func("/selfvirt/tso", test_tso);
    qtest_add_func("/selfvirt/msix", test_msix);
    qtest_add_func("/selfvirt/rx-checksum", test_rx_checksum);
    qtest_add_func("/selfvirt/identifier-sharing", test_identifier_sharing);
    qtest_add_func("/selfvirt/reset-during-traffic", test_reset_during_traffic);
    qtest_add_func("/selfvirt/reset-keeps-msi", test_reset_keeps_msi);
    return g_test_run();
}
