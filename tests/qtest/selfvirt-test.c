/*
 * QTest testcase for the selfvirt-nic self-virtualizing NIC
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci_regs.h"
#include "qemu/sockets.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "selfvirt-qtest.h"

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
                     ==, 8);
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
    args[0] = 1; args[1] = 0; args[2] = 0; args[3] = SELFVIRT_QUEUES(10, 16);
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

/*
 * A VIF slot's next tenant (an mdev opened by another VM) reads nothing of
 * the last one's: CREATE hands out a zeroed partition.  Before, the
 * descriptors and frames stayed, and only the control block was cleared.
 */
static void test_partition_cleared(void)
{
    static const uint8_t secret[] = "the last tenant's frame";
    uint8_t buf[sizeof(secret)], zero[sizeof(secret)] = {};
    Board b;
    uint32_t v = 1, args[1] = { v }, part, last;

    board_start(&b, ",vifs=4");
    part = v * b.part_size;
    last = part + b.part_size - sizeof(secret);
    g_assert_cmpuint(create_vif(&b, v, 0), ==, SELFVIRT_ST_OK);
    qpci_memwrite(b.dev, b.sdram, part + SELFVIRT_SQ_DESC(0), secret,
                  sizeof(secret));
    qpci_memwrite(b.dev, b.sdram, last, secret, sizeof(secret));
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_DESTROY, args, 1), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, v, 0), ==, SELFVIRT_ST_OK);
    qpci_memread(b.dev, b.sdram, part + SELFVIRT_SQ_DESC(0), buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), zero, sizeof(zero));
    qpci_memread(b.dev, b.sdram, last, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), zero, sizeof(zero));
    board_stop(&b);
}

/* PIIX4's power management: its I/O base (config 0x40), S3 in PM1_CNT */
#define PIIX4_PM_DEVFN      QPCI_DEVFN(1, 3)
#define PIIX4_PM_BASE       0xb000
#define PM1_CNT_SUSPEND     (1u << 13 | 1u << 10)   /* SLP_EN, SLP_TYP 1 */

/*
 * A board hot-plugged while the VM is suspended (S3) works once the VM
 * wakes.  A wake-up is no vm state change, so a board that parks its
 * engines at realize unless the VM "runs" never unparks them: before,
 * no frame left it.
 */
static void test_hotplug_while_suspended(void)
{
    uint8_t f[64], got[128];
    QPCIDevice *pm;
    Board b;

    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, b.wire), ==, 0);
    b.qts = qtest_initf("-M pc -nodefaults -netdev socket,fd=%d,id=wire",
                        b.wire[1]);
    b.bus = qpci_new_pc(b.qts, NULL);
    pm = qpci_device_find(b.bus, PIIX4_PM_DEVFN);
    g_assert_nonnull(pm);
    qpci_config_writel(pm, 0x40, PIIX4_PM_BASE | 1);
    qpci_config_writeb(pm, 0x80, 1);
    qtest_outw(b.qts, PIIX4_PM_BASE + 4, PM1_CNT_SUSPEND);
    qtest_qmp_eventwait(b.qts, "SUSPEND");
    qtest_qmp_device_add(b.qts, "selfvirt-nic", "sv",
                         "{'netdev': 'wire', 'addr': '04.0', 'vifs': 4}");
    qtest_qmp_assert_success(b.qts, "{'execute': 'system_wakeup'}");
    qtest_qmp_eventwait(b.qts, "WAKEUP");
    g_free(pm);
    qpci_free_pc(b.bus);

    board_attach(&b);
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_far, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, sizeof(f));
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

/* A board with VIFs 0 and 1, signals masked off; a frame from 0 to 1. */
static void two_vifs(Board *b, uint8_t *frame, size_t len)
{
    board_start(b, ",vifs=4");
    g_assert_cmpuint(create_vif(b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(b, 1, 1), ==, SELFVIRT_ST_OK);
    csr_wr(b, SELFVIRT_REG_IRQ_MASK, 0);
    frame_init(frame, len, mac_vif1, mac_vif0);
    memset(frame + 14, 0xa5, len - 14);
}

/* VIF to VIF through the board's switch: never the wire. */
static void test_vif_to_vif(void)
{
    Board b;
    uint8_t frame[64], got[64];

    two_vifs(&b, frame, sizeof(frame));
    post_frame(&b, 0, frame, sizeof(frame));
    WAIT_FOR(rq_word(&b, 1, RQ_RX_PROD) == 1, "VIF 1 received no frame");
    g_assert_cmpuint(rq_word(&b, 0, RQ_TX_CONS), ==, 1);
    g_assert_cmpuint(le32_to_cpu(rx_desc_at(&b, 1, 0).len), ==, sizeof(frame));
    qtest_memread(b.qts, RQ_BASE + 0x100000 + SELFVIRT_RQ_DATA_OFF(16), got,
                  sizeof(got));
    g_assert_cmpmem(got, sizeof(got), frame, sizeof(frame));
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_SWITCH_LOCAL)),
                     ==, 1);
    /* nothing reached VIF 0's own queue, nothing the wire */
    g_assert_cmpuint(rq_word(&b, 0, RQ_RX_PROD), ==, 0);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(
                         SELFVIRT_STAT_WIRE_TX_FRAMES)), ==, 0);
    board_stop(&b);
}

/* A property of board "sv" (started with id=sv), as qom-get returns it. */
static QDict *qom_get(Board *b, const char *prop)
{
    return qtest_qmp(b->qts, "{'execute': 'qom-get', 'arguments': "
                     "{'path': '/machine/peripheral/sv', 'property': %s}}",
                     prop);
}

static char *qom_get_str(Board *b, const char *prop)
{
    QDict *rsp = qom_get(b, prop);
    char *val = g_strdup(qdict_get_str(rsp, "return"));

    qobject_unref(rsp);
    return val;
}

static int64_t qom_get_int(Board *b, const char *prop)
{
    QDict *rsp = qom_get(b, prop);
    int64_t val = qdict_get_int(rsp, "return");

    qobject_unref(rsp);
    return val;
}

/*
 * Until every micro-engine of board "sv" waits for a kick.  An egress
 * engine shows EGRESS_ASLEEP before its last look at its send queues: a
 * frame posted before that look ends goes without a doorbell.
 */
static void wait_engines_asleep(Board *b)
{
    int64_t all = (1 << qom_get_int(b, "engines")) - 1;

    WAIT_FOR(qom_get_int(b, "x-engines-asleep") == all,
             "the engines did not all go to sleep");
}

/* Where the five frames of wakeups_for_five_frames() go */
typedef enum { VIF0_TO_VIF1, VIF0_TO_WIRE, WIRE_TO_VIF1 } FivePath;

/*
 * The engine wake-ups while five frames cross the board 5 ms apart (VIF 0's
 * and VIF 1's egress engines asleep first), each checked where it lands:
 * in VIF 1's ring or on the wire.
 */
static uint32_t wakeups_for_five_frames(Board *b, FivePath path)
{
    uint8_t frame[64], got[64];
    uint32_t wakeups;

    for (uint32_t v = 0; v < 2; v++) {
        WAIT_FOR(rq_word(b, v, RQ_FLAGS) & SELFVIRT_RQ_EGRESS_ASLEEP,
                 "VIF %u's egress engine never went to sleep", v);
    }
    wakeups = csr_rd(b, SELFVIRT_REG_STAT(SELFVIRT_STAT_ENGINE_WAKEUPS));
    for (uint32_t i = 1; i <= 5; i++) {
        g_usleep(5 * 1000);         /* the engines have slept 5 ms */
        frame_init(frame, sizeof(frame),
                   path == VIF0_TO_WIRE ? mac_far : mac_vif1,
                   path == WIRE_TO_VIF1 ? mac_far : mac_vif0);
        frame[20] = i;
        if (path == WIRE_TO_VIF1) {
            wire_send(b, frame, sizeof(frame));
        } else {
            post_frame(b, 0, frame, sizeof(frame));
        }
        if (path == VIF0_TO_WIRE) {
            g_assert_cmpuint(wire_recv(b, got, sizeof(got), 2000), ==,
                             sizeof(frame));
        } else {
            WAIT_FOR(rq_word(b, 1, RQ_RX_PROD) == i,
                     "VIF 1 did not receive frame %u", i);
            qtest_memread(b->qts, RQ_BASE + RQ_PAGE +
                          SELFVIRT_RQ_SLOT(16, 2048, i - 1), got, sizeof(got));
        }
        g_assert_cmpmem(got, sizeof(got), frame, sizeof(frame));
    }
    return csr_rd(b, SELFVIRT_REG_STAT(SELFVIRT_STAT_ENGINE_WAKEUPS)) -
           wakeups;
}

/*
 * inline-wake-us: on an idle board (engines asleep for longer than it)
 * the doorbell's vCPU runs the egress and ingress engines' turns itself,
 * so a frame crosses the board without waking a thread.  With 0, or with
 * frames closer together than it (streaming), the engine threads do the
 * work and are woken.
 */
static void test_inline_wake(void)
{
    static const struct { const char *opts; bool inline_expected; } cfg[] = {
        { ",vifs=4", true },                            /* 1000 us */
        { ",vifs=4,inline-wake-us=0", false },
        { ",vifs=4,inline-wake-us=1000000", false },
    };

    for (unsigned c = 0; c < ARRAY_SIZE(cfg); c++) {
        Board b;
        uint32_t wakeups;

        board_start(&b, cfg[c].opts);
        g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
        g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
        wakeups = wakeups_for_five_frames(&b, VIF0_TO_VIF1);
        if (cfg[c].inline_expected) {
            g_assert_cmpuint(wakeups, ==, 0);
        } else {
            g_assert_cmpuint(wakeups, >=, 5);
        }
        board_stop(&b);
    }
}

/*
 * Frames to the wire (@data VIF0_TO_WIRE) wake no egress engine: the
 * wire-tx engine wakes only those that wait for room in its queue (it used
 * to wake them all, per batch).  Nor do frames from the wire (WIRE_TO_VIF1):
 * ingress wakes only the engines that wait for room in a VIF's pending
 * queue (it used to wake every egress engine after each turn, and each
 * wrote its VIFs' flags).  With inline-wake-us (1000 us) and frames 5 ms
 * apart, the doorbell's vCPU or the main loop runs every turn, so no
 * engine thread wakes at all.
 */
static void test_wakes_no_sender(const void *data)
{
    Board b;

    board_start(&b, ",vifs=4,contexts=1");      /* an egress engine each */
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(wakeups_for_five_frames(&b, GPOINTER_TO_INT(data)), ==,
                     0);
    board_stop(&b);
}

/* A window gone invalid: the write master-aborts and is counted. */
static void test_window_abort(void)
{
    Board b;
    uint8_t frame[64];

    two_vifs(&b, frame, sizeof(frame));
    csr_wr(&b, SELFVIRT_REG_WIN_LO(1), 0);
    post_frame(&b, 0, frame, sizeof(frame));
    WAIT_FOR(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_WIN_ABORTS)),
             "no master abort through an invalid window");
    g_assert_cmpuint(vif_stat(&b, 1, SELFVIRT_VSTAT_WIN_ABORTS), >, 0);
    board_stop(&b);
}

/* A descriptor whose buffer is beyond the partition halts its VIF. */
static void test_bad_buffer_halts(void)
{
    Board b;
    uint8_t frame[64];
    struct selfvirt_tx_desc d = {
        .buf = cpu_to_le32(0xfffffff0), .len = cpu_to_le32(64),
    };

    two_vifs(&b, frame, sizeof(frame));
    post_tx_desc(&b, 0, &d);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    WAIT_FOR(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_BAD_DESC)),
             "a malformed descriptor was not counted");
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_BAD_DESC)),
                     ==, 1);
    /* halted: the next, good frame stays in the queue */
    post_frame(&b, 0, frame, sizeof(frame));
    g_usleep(100 * 1000);
    g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, 0);
    board_stop(&b);
}

/*
 * A halted VIF tells its driver (flags word, transmit signal) and says why
 * (VIF_STATUS); new queues restart it.
 */
static void test_halt_status(void)
{
    Board b;
    uint8_t frame[64];
    uint32_t args[4] = { 0 };
    struct selfvirt_tx_desc d = {
        .buf = cpu_to_le32(0xfffffff0), .len = cpu_to_le32(64),
        .flags = cpu_to_le16(SELFVIRT_TX_CSUM), .mss = cpu_to_le16(1400),
    };

    two_vifs(&b, frame, sizeof(frame));
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_STATUS, args, 1), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(0)), ==, 0);
    post_frame(&b, 0, frame, sizeof(frame));
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 1));
    csr_wr(&b, SELFVIRT_REG_IRQ_ID, 0xffff);
    post_tx_desc(&b, 0, &d);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    WAIT_FOR(rq_word(&b, 0, RQ_FLAGS) & SELFVIRT_RQ_HALTED,
             "VIF 0's flags do not say halted");
    WAIT_FOR(csr_rd(&b, SELFVIRT_REG_IRQ_ID) &
             (1u << SELFVIRT_IRQ_TX_BIT(0, 16)),
             "no transmit signal for the halt");
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_STATUS, args, 1), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(0)), ==,
                    SELFVIRT_VIF_HALTED);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_MBOX_RES(1)), ==,
                     SELFVIRT_HALT_BAD_DESC);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_MBOX_RES(2)), ==, 1);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(3)), ==, 0xfffffff0);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_MBOX_RES(4)), ==, 64);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(5)), ==,
                    SELFVIRT_TX_CSUM | 1400u << 16);
    /* VIF 1 is fine; VIF 9 does not exist */
    args[0] = 1;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_STATUS, args, 1), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(0)), ==, 0);
    g_assert_cmphex(rq_word(&b, 1, RQ_FLAGS) & SELFVIRT_RQ_HALTED, ==, 0);
    args[0] = 9;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_STATUS, args, 1), ==,
                     SELFVIRT_ST_NO_VIF);

    /* management sets the queues up again: the VIF runs, the flag is gone */
    args[0] = 0; args[1] = SELFVIRT_ATTR_QUEUES;
    args[2] = SELFVIRT_QUEUES(TX_ENTRIES, TX_ENTRIES); args[3] = 0;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, args, 4), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmphex(rq_word(&b, 0, RQ_FLAGS) & SELFVIRT_RQ_HALTED, ==, 0);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_STATUS, args, 1), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(0)), ==, 0);
    post_frame(&b, 0, frame, sizeof(frame));
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 2));
    board_stop(&b);
}

/*
 * Management narrows the identifier: the VIFs' bits follow the new width.
 * Never while a VIF exists; a reset gives the board's own width back.
 */
static void test_identifier_width(void)
{
    Board b;
    uint8_t f[64];
    uint32_t refused;

    board_start(&b, ",vifs=4");
    csr_wr(&b, SELFVIRT_REG_IRQ_INFO, 0);                   /* ignored */
    csr_wr(&b, SELFVIRT_REG_IRQ_INFO, 17);
    g_assert_cmpuint(SELFVIRT_IRQ_INFO_WIDTH(csr_rd(&b, SELFVIRT_REG_IRQ_INFO)),
                     ==, 16);
    csr_wr(&b, SELFVIRT_REG_IRQ_INFO, 2);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_INFO), ==,
                    SELFVIRT_IRQ_INFO(2, SELFVIRT_IRQ_MODE_IDENTIFIER));
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_MASK), ==, 0x3);
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    csr_wr(&b, SELFVIRT_REG_IRQ_MASK, 0);

    /* VIF 1's receive bit is 3 % 2 = 1, within two bits */
    frame_init(f, sizeof(f), mac_vif1, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 1));
    WAIT_FOR(csr_rd(&b, SELFVIRT_REG_IRQ_ID) &
             (1u << SELFVIRT_IRQ_RX_BIT(1, 2)),
             "VIF 1 did not signal on bit %u", SELFVIRT_IRQ_RX_BIT(1, 2));
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & ~0x3u, ==, 0);

    refused = csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_CSR_REFUSED));
    csr_wr(&b, SELFVIRT_REG_IRQ_INFO, 8);
    g_assert_cmpuint(SELFVIRT_IRQ_INFO_WIDTH(csr_rd(&b, SELFVIRT_REG_IRQ_INFO)),
                     ==, 2);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_CSR_REFUSED)),
                     ==, refused + 1);
    csr_wr(&b, SELFVIRT_REG_DEV_CTRL, SELFVIRT_DEV_CTRL_RESET);
    g_assert_cmpuint(SELFVIRT_IRQ_INFO_WIDTH(csr_rd(&b, SELFVIRT_REG_IRQ_INFO)),
                     ==, 16);
    board_stop(&b);
}

/* The board's state in QEMU's terms: read-only QOM properties. */
static void test_qom_state(void)
{
    Board b;
    uint32_t args[2] = { SELFVIRT_MODE_NIC, 1 };
    g_autofree char *none = NULL, *vifs = NULL, *mode = NULL, *nic = NULL;
    g_autofree char *qtree = NULL;
    QDict *rsp;

    board_start(&b, ",vifs=8,id=sv");
    none = qom_get_str(&b, "active-vifs");
    g_assert_cmpstr(none, ==, "none");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 5, 1), ==, SELFVIRT_ST_OK);
    vifs = qom_get_str(&b, "active-vifs");
    g_assert_cmpstr(vifs, ==, "0,5");
    mode = qom_get_str(&b, "board-mode");
    g_assert_cmpstr(mode, ==, "self-virtualizing");
    g_assert_cmpint(qom_get_int(&b, "stat-mbox_cmds"), ==,
                    csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_MBOX_CMDS)));
    g_assert_cmpint(qom_get_int(&b, "irq-id-width-used"), ==, 16);
    qtree = qtest_hmp(b.qts, "info qtree");
    g_assert_nonnull(strstr(qtree, "active-vifs = \"0,5\""));
    g_assert_nonnull(strstr(qtree, "stat-mbox_cmds = "));

    /* read-only: a set is refused, nothing changes */
    rsp = qtest_qmp(b.qts, "{'execute': 'qom-set', 'arguments': {'path': "
                    "'/machine/peripheral/sv', 'property': 'board-mode', "
                    "'value': 'nic'}}");
    g_assert_true(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);

    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_RESET, NULL, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_SET_MODE, args, 2), ==,
                     SELFVIRT_ST_OK);
    nic = qom_get_str(&b, "board-mode");
    g_assert_cmpstr(nic, ==, "nic");
    rsp = qom_get(&b, "promiscuous");
    g_assert_true(qdict_get_bool(rsp, "return"));
    qobject_unref(rsp);
    board_stop(&b);
}

/* A stage's frames and time, as qom-get of stage-times reads them. */
static void stage_time(Board *b, const char *stage, int64_t *frames,
                       int64_t *ns)
{
    QDict *rsp = qom_get(b, "stage-times");
    QDict *st = qdict_get_qdict(qdict_get_qdict(rsp, "return"), stage);

    g_assert_nonnull(st);
    *frames = qdict_get_int(st, "frames");
    *ns = qdict_get_int(st, "ns");
    qobject_unref(rsp);
}

/*
 * The paper's Fig. 4 from the model's own clock: with stage-timing=on a
 * frame VIF to wire, wire to VIF and VIF to VIF go through every stage;
 * off, nothing is timed.
 */
static void test_stage_times(void)
{
    static const char *const stages[] = {
        "egress-msg-recv", "egress-pkt-tx", "wire-tx", "ingress-pkt-rx",
        "ingress-demux", "ingress-msg-send",
    };
    uint8_t f[64], got[128];
    int64_t frames, ns;
    Board b;

    for (int on = 0; on <= 1; on++) {
        board_start(&b, on ? ",vifs=4,id=sv,stage-timing=on" : ",vifs=4,id=sv");
        g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
        g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
        frame_init(f, sizeof(f), mac_far, mac_vif0);
        post_frame(&b, 0, f, sizeof(f));
        g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, sizeof(f));
        frame_init(f, sizeof(f), mac_vif1, mac_far);
        wire_send(&b, f, sizeof(f));
        g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 1));
        frame_init(f, sizeof(f), mac_vif1, mac_vif0);
        post_frame(&b, 0, f, sizeof(f));
        g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 2));
        for (size_t i = 0; i < G_N_ELEMENTS(stages); i++) {
            stage_time(&b, stages[i], &frames, &ns);
            if (!on) {
                g_assert_cmpint(frames, ==, 0);
                g_assert_cmpint(ns, ==, 0);
                continue;
            }
            g_assert_cmpint(frames, >=, 1);
            g_assert_cmpint(ns, >, 0);
        }
        if (on) {
            stage_time(&b, "egress-msg-recv", &frames, &ns);
            g_assert_cmpint(frames, ==, 2);     /* two frames from VIF 0 */
            stage_time(&b, "ingress-msg-send", &frames, &ns);
            g_assert_cmpint(frames, ==, 2);     /* two into VIF 1's ring */
            /* a board reset starts the sums again */
            csr_wr(&b, SELFVIRT_REG_DEV_CTRL, SELFVIRT_DEV_CTRL_RESET);
            stage_time(&b, "egress-msg-recv", &frames, &ns);
            g_assert_cmpint(frames, ==, 0);
        }
        board_stop(&b);
    }
}

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
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 1));
    qtest_memread(b.qts, RQ_BASE + 0x100000 + SELFVIRT_RQ_DATA_OFF(16), got,
                  sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    g_assert_cmpuint(rq_word(&b, 0, RQ_RX_PROD), ==, 0);

    /* unicast to nobody on the board is dropped and counted */
    frame_init(f, sizeof(f), mac_far, mac_far);
    wire_send(&b, f, sizeof(f));
    WAIT_FOR(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_WIRE_RX_NO_VIF)),
             "a frame for no VIF was not counted");
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(
                         SELFVIRT_STAT_WIRE_RX_NO_VIF)), ==, 1);

    /* broadcast from the wire reaches every VIF */
    frame_init(f, sizeof(f), mac_bcast, mac_far);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 0, RQ_RX_PROD, 1));
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 2));

    /* a frame for a MAC not on the board goes out on the wire */
    frame_init(f, sizeof(f), mac_far, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));

    /* broadcast from VIF 0: the wire and VIF 1, not VIF 0 itself */
    frame_init(f, sizeof(f), mac_bcast, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, sizeof(f));
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 3));
    g_assert_cmpuint(rq_word(&b, 0, RQ_RX_PROD), ==, 1);
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
    g_assert_true(wait_rq(&b, 0, RQ_RX_PROD, 1));
    args[1] = 1;                             /* promiscuous */
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_SET_MODE, args, 2), ==,
                     SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_far, mac_far);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 0, RQ_RX_PROD, 2));
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
    uint8_t f[14 + 20 + 20 + 3000], got[2048];
    uint32_t len, total = 0;
    int n = 0;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    tcp_frame(f, mac_far, mac_vif0, 0, TCP_PSH | TCP_ACK, 3000, 1234);

    post_desc(&b, 0, f, sizeof(f), 0, SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM,
              1000);
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

/*
 * On a board whose largest frame is 1514 bytes, an MSS of 1500 would cut
 * 1554-byte segments: the board drops the frame and counts it, and the
 * VIF sends on.  Before, the segments went to the wire as they were.
 */
static void test_tso_segment_over_max_frame(void)
{
    Board b;
    uint8_t f[14 + 20 + 20 + 3000], small[60], got[2048];

    board_start(&b, ",vifs=4,max-frame=1514");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    tcp_frame(f, mac_far, mac_vif0, 0, TCP_PSH | TCP_ACK, 3000, 1234);
    post_desc(&b, 0, f, sizeof(f), 0, SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM,
              1500);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    g_assert_true(wait_stat(&b, SELFVIRT_STAT_BAD_DESC, 1));
    g_assert_true(wait_rq(&b, 0, RQ_TX_CONS, 1));
    g_assert_cmphex(rq_word(&b, 0, RQ_FLAGS) & SELFVIRT_RQ_HALTED, ==, 0);

    frame_init(small, sizeof(small), mac_far, mac_vif0);
    post_frame(&b, 0, small, sizeof(small));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, sizeof(small));
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(
                         SELFVIRT_STAT_WIRE_TX_FRAMES)), ==, 1);
    board_stop(&b);
}

/* A TCP/IPv4 frame from the wire is marked checksum-good only if it is. */
static void test_rx_checksum(void)
{
    Board b;
    uint8_t f[14 + 20 + 20 + 100];
    uint16_t flags;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    tcp_frame(f, mac_vif1, mac_far, 0, 0, 100, 1234);

    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 1));
    flags = le16_to_cpu(rx_desc_at(&b, 1, 0).flags);
    g_assert_cmphex(flags & SELFVIRT_RX_CSUM_OK, ==, SELFVIRT_RX_CSUM_OK);

    f[60] ^= 0xff;                           /* corrupt the payload */
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 2));
    flags = le16_to_cpu(rx_desc_at(&b, 1, 1).flags);
    g_assert_cmphex(flags & SELFVIRT_RX_CSUM_OK, ==, 0);
    board_stop(&b);
}

static uint32_t set_rx_chain(Board *b, uint32_t v, uint32_t slots,
                             uint32_t coalesce)
{
    uint32_t args[4] = { v, SELFVIRT_ATTR_RX_CHAIN, slots, coalesce };

    return mbox(b, SELFVIRT_CMD_VIF_SET, args, 4);
}

/* Receive descriptor @slot of the VIF in window @win (16 entries). */
static void rx_desc(Board *b, uint32_t win, uint32_t slot, uint32_t *len,
                    uint16_t *flags, uint16_t *gso_size)
{
    struct selfvirt_rx_desc d = rx_desc_at(b, win, slot);

    *len = le32_to_cpu(d.len);
    *flags = le16_to_cpu(d.flags);
    *gso_size = le16_to_cpu(d.gso_size);
}

/* A frame larger than a receive buffer, spread over chained slots. */
static void test_rx_chain(void)
{
    Board b;
    uint8_t f[5000], got[5000];
    uint32_t len;
    uint16_t flags, gso;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_CAPS) & SELFVIRT_CAP_RX_CHAIN,
                    ==, SELFVIRT_CAP_RX_CHAIN);
    g_assert_cmpuint(set_rx_chain(&b, 1, 0, 0), ==, SELFVIRT_ST_BAD_ARG);
    g_assert_cmpuint(set_rx_chain(&b, 1, SELFVIRT_RX_CHAIN_MAX + 1, 0), ==,
                     SELFVIRT_ST_BAD_ARG);
    g_assert_cmpuint(set_rx_chain(&b, 1, 4, 0x2), ==, SELFVIRT_ST_BAD_ARG);
    g_assert_cmpuint(set_rx_chain(&b, 3, 4, 0), ==, SELFVIRT_ST_NO_VIF);

    /* one slot per frame (the default): a jumbo frame is dropped, counted */
    frame_init(f, sizeof(f), mac_vif1, mac_far);
    wire_send(&b, f, sizeof(f));
    frame_init(f, 100, mac_vif1, mac_far);
    wire_send(&b, f, 100);
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 1));
    rx_desc(&b, 1, 0, &len, &flags, &gso);
    g_assert_cmpuint(len, ==, 100);
    g_assert_cmpuint(vif_stat(&b, 1, SELFVIRT_VSTAT_RX_DROPS), ==, 1);

    /* chained: 5000 bytes in 2048 + 2048 + 904, MORE on all but the last */
    g_assert_cmpuint(set_rx_chain(&b, 1, 4, 0), ==, SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_vif1, mac_far);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 4));
    for (int i = 0; i < 3; i++) {
        rx_desc(&b, 1, 1 + i, &len, &flags, &gso);
        g_assert_cmpuint(len, ==, i < 2 ? 2048 : 904);
        g_assert_cmphex(flags & SELFVIRT_RX_MORE, ==,
                        i < 2 ? SELFVIRT_RX_MORE : 0);
    }
    qtest_memread(b.qts, RQ_BASE + 0x100000 + SELFVIRT_RQ_DATA_OFF(16) + 2048,
                  got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), f, sizeof(f));

    /* a frame needing more slots than are free waits for them */
    wire_send(&b, f, sizeof(f));
    wire_send(&b, f, sizeof(f));
    wire_send(&b, f, sizeof(f));
    wire_send(&b, f, sizeof(f));        /* 4 + 12 slots: the ring is full */
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 16));
    wire_send(&b, f, sizeof(f));
    g_usleep(100 * 1000);
    g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, 16);
    qpci_io_writel(b.dev, b.sdram, csr_rd(&b, SELFVIRT_REG_PART_SIZE) + 4, 3);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 1);
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 19));
    g_assert_cmpuint(le16_to_cpu(rx_desc_at(&b, 1, 0).flags), ==,
                     SELFVIRT_RX_MORE);
    board_stop(&b);
}

static uint32_t set_rx_posted(Board *b, uint32_t v, uint32_t on)
{
    uint32_t args[3] = { v, SELFVIRT_ATTR_RX_POSTED, on };

    return mbox(b, SELFVIRT_CMD_VIF_SET, args, 3);
}

/* Post buffer @buf, a queue offset, in slot @slot of window @win's VIF. */
static void post_rx_buf(Board *b, uint32_t win, uint32_t slot, uint64_t buf)
{
    qtest_writeq(b->qts, RQ_BASE + win * RQ_PAGE + SELFVIRT_RQ_DESC(slot) +
                 offsetof(struct selfvirt_rx_desc, buf), buf);
}

/*
 * Posted receive buffers: a slot's bytes go where its descriptor says,
 * the board leaves the descriptor's buf alone, and a buffer out of bounds
 * drops the frame, counted, with no byte outside the VIF's window.
 */
static void test_rx_posted(void)
{
    const uint64_t far = 0x80000, rq1 = RQ_BASE + RQ_PAGE;
    const uint64_t bad[] = {
        far + 1,                        /* not aligned */
        SELFVIRT_RQ_DESC(8),            /* among the descriptors */
        RQ_PAGE,                        /* past the VIF's one window */
    };
    uint8_t f[3000], got[3000], zero[2048] = { 0 };
    uint32_t len;
    uint16_t flags, gso;
    Board b;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_CAPS) & SELFVIRT_CAP_RX_POSTED,
                    ==, SELFVIRT_CAP_RX_POSTED);
    g_assert_cmpuint(set_rx_posted(&b, 1, 2), ==, SELFVIRT_ST_BAD_ARG);
    g_assert_cmpuint(set_rx_posted(&b, 3, 1), ==, SELFVIRT_ST_NO_VIF);
    g_assert_cmpuint(set_rx_posted(&b, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(set_rx_chain(&b, 1, 2, 0), ==, SELFVIRT_ST_OK);

    /* one slot, then a chain of two whose buffers go backwards */
    post_rx_buf(&b, 1, 0, far);
    post_rx_buf(&b, 1, 1, far + 0x2000);
    post_rx_buf(&b, 1, 2, far + 0x1000);
    frame_init(f, 100, mac_vif1, mac_far);
    wire_send(&b, f, 100);
    frame_init(f, sizeof(f), mac_vif1, mac_far);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 3));
    rx_desc(&b, 1, 0, &len, &flags, &gso);
    g_assert_cmpuint(len, ==, 100);
    g_assert_cmphex(le64_to_cpu(rx_desc_at(&b, 1, 0).buf), ==, far);
    g_assert_cmphex(le64_to_cpu(rx_desc_at(&b, 1, 2).buf), ==, far + 0x1000);
    qtest_memread(b.qts, rq1 + far + 0x2000, got, 2048);
    qtest_memread(b.qts, rq1 + far + 0x1000, got + 2048, sizeof(f) - 2048);
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    qtest_memread(b.qts, rq1 + SELFVIRT_RQ_SLOT(16, 2048, 0), got, 2048);
    g_assert_cmpmem(got, 2048, zero, 2048);     /* the paper's slot: unused */

    /* each bad buffer drops one frame; the slot waits for a good one */
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        uint64_t drops = vif_stat(&b, 1, SELFVIRT_VSTAT_RX_DROPS);
        uint64_t aborts = vif_stat(&b, 1, SELFVIRT_VSTAT_WIN_ABORTS);

        post_rx_buf(&b, 1, 3, bad[i]);
        wire_send(&b, f, 100);
        WAIT_FOR(vif_stat(&b, 1, SELFVIRT_VSTAT_RX_DROPS) +
                 vif_stat(&b, 1, SELFVIRT_VSTAT_WIN_ABORTS) ==
                 drops + aborts + 1, "bad buffer 0x%" PRIx64 " dropped",
                 bad[i]);
        g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, 3);
    }
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_BAD_DESC)),
                     ==, 2);
    qtest_memread(b.qts, RQ_BASE + 2 * RQ_PAGE, got, 2048);
    g_assert_cmpmem(got, 2048, zero, 2048);     /* the next window: untouched */
    post_rx_buf(&b, 1, 3, far + 0x3000);
    wire_send(&b, f, 100);
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 4));
    qtest_memread(b.qts, rq1 + far + 0x3000, got, 100);
    g_assert_cmpmem(got, 100, f, 100);

    /* off again: the paper's slot 4 */
    g_assert_cmpuint(set_rx_posted(&b, 1, 0), ==, SELFVIRT_ST_OK);
    wire_send(&b, f, 100);
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 5));
    qtest_memread(b.qts, rq1 + SELFVIRT_RQ_SLOT(16, 2048, 4), got, 100);
    g_assert_cmpmem(got, 100, f, 100);
    board_stop(&b);
}

/*
 * Receive coalescing: back-to-back segments of a TCP flow waiting for a
 * VIF become one frame with its MSS; anything else stays as it came.
 */
static void test_rx_coalesce(void)
{
    static const uint8_t mac_vif2[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x58 };
    Board b;
    uint8_t f[2048], got[4054], want[4054];
    uint32_t seq = 1000, len, n, part;
    uint16_t flags, gso;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 2, 2), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(set_rx_chain(&b, 1, 4, SELFVIRT_RX_COALESCE_TCP), ==,
                     SELFVIRT_ST_OK);

    /* fill VIF 1's ring, so that what follows waits in its pending queue */
    frame_init(f, 100, mac_vif1, mac_far);
    for (int i = 0; i < 16; i++) {
        wire_send(&b, f, 100);
    }
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 16));

    /* 4 segments, the last with PSH: merged into one */
    for (int i = 0; i < 4; i++) {
        n = tcp_frame(f, mac_vif1, mac_far, seq,
                      TCP_ACK | (i == 3 ? TCP_PSH : 0), 1000, 40000);
        wire_send(&b, f, n);
        if (i == 0) {
            memcpy(want, f, n);
        } else {
            memcpy(want + 54 + 1000 * i, f + 54, 1000);
        }
        seq += 1000;
    }
    /* not after PSH; not across a gap; not another flow; not a pure ACK */
    wire_send(&b, f, tcp_frame(f, mac_vif1, mac_far, seq, TCP_ACK,
                               1000, 40000));
    wire_send(&b, f, tcp_frame(f, mac_vif1, mac_far, seq + 2000, TCP_ACK,
                               1000, 40000));
    wire_send(&b, f, tcp_frame(f, mac_vif1, mac_far, seq + 3000, TCP_ACK,
                               1000, 40001));
    wire_send(&b, f, tcp_frame(f, mac_vif1, mac_far, seq + 4000, TCP_ACK,
                               0, 40000));
    /* the wire-rx engine is in order: when this is in, so is the rest */
    frame_init(f, 100, mac_vif2, mac_far);
    wire_send(&b, f, 100);
    g_assert_true(wait_rq(&b, 2, RQ_RX_PROD, 1));

    part = csr_rd(&b, SELFVIRT_REG_PART_SIZE);
    qpci_io_writel(b.dev, b.sdram, part + 4, 16);       /* all consumed */
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 1);
    wait_rq(&b, 1, RQ_RX_PROD, 16 + 2 + 4);
    g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, 16 + 2 + 4);

    /* slots 0 and 1: the merged frame, 4054 bytes, MSS 1000 */
    rx_desc(&b, 1, 0, &len, &flags, &gso);
    g_assert_cmpuint(len, ==, 2048);
    g_assert_cmphex(flags, ==, SELFVIRT_RX_CSUM_OK | SELFVIRT_RX_GSO_TCPV4 |
                    SELFVIRT_RX_MORE);
    g_assert_cmpuint(gso, ==, 1000);
    rx_desc(&b, 1, 1, &len, &flags, &gso);
    g_assert_cmpuint(len, ==, 4054 - 2048);
    g_assert_cmphex(flags, ==, 0);
    qtest_memread(b.qts, RQ_BASE + 0x100000 + SELFVIRT_RQ_DATA_OFF(16), got,
                  sizeof(got));
    g_assert_cmpuint(lduw_be_p(got + 16), ==, 4054 - 14);  /* IP length */
    g_assert_cmpuint(csum16(got + 14, 20, 0), ==, 0);      /* IP checksum */
    g_assert_cmphex(got[47], ==, TCP_ACK | TCP_PSH);
    g_assert_cmpmem(got + 54, 4000, want + 54, 4000);
    g_assert_cmpmem(got, 16, want, 16);

    /* then the four that may not be merged, one slot each, as they came */
    for (int i = 0; i < 4; i++) {
        rx_desc(&b, 1, 2 + i, &len, &flags, &gso);
        g_assert_cmpuint(len, ==, i < 3 ? 1054 : 54);
        g_assert_cmphex(flags, ==, SELFVIRT_RX_CSUM_OK);
    }
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_RX_COALESCED)),
                     ==, 3);
    board_stop(&b);
}

/*
 * A TSO frame to another VIF of the board is cut into as many whole MSS as
 * the destination's receive chain holds, each piece a GSO frame with the
 * sender's MSS and right checksums; without a chain, at every MSS.
 */
static void test_tso_local(void)
{
    static uint8_t f[14 + 20 + 20 + 20000];
    uint32_t n = tcp_frame(f, mac_vif1, mac_far, 5000, TCP_ACK | TCP_PSH,
                           20000, 1234);
    uint32_t len, total = 0, slot = 0, pseudo;
    uint16_t flags, gso;
    uint8_t got[7054];
    Board b;

    memcpy(f + 6, mac_vif0, 6);                 /* from VIF 0 */
    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(set_rx_chain(&b, 1, 4, 0), ==, SELFVIRT_ST_OK);
    post_desc(&b, 0, f, n, 0, SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM, 1000);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);

    /* 8 KiB a frame: 7 MSS, 7 MSS, 6 MSS, over 4 + 4 + 3 slots */
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 11));
    for (int piece = 0; piece < 3; piece++) {
        uint32_t plen = piece < 2 ? 7000 : 6000;

        rx_desc(&b, 1, slot, &len, &flags, &gso);
        g_assert_cmphex(flags, ==, SELFVIRT_RX_CSUM_OK |
                        SELFVIRT_RX_GSO_TCPV4 | SELFVIRT_RX_MORE);
        g_assert_cmpuint(gso, ==, 1000);
        qtest_memread(b.qts, RQ_BASE + 0x100000 + SELFVIRT_RQ_DATA_OFF(16) +
                      slot * 2048, got, 54 + plen);
        g_assert_cmpuint(lduw_be_p(got + 16), ==, 40 + plen);
        g_assert_cmpuint(ldl_be_p(got + 38), ==, 5000 + total);
        g_assert_cmpmem(got + 54, plen, f + 54 + total, plen);
        pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 20 + plen;
        g_assert_cmphex(csum16(got + 34, 20 + plen, pseudo), ==, 0);
        total += plen;
        slot += DIV_ROUND_UP(54 + plen, 2048);
    }
    g_assert_cmpuint(slot, ==, 11);
    g_assert_cmpuint(total, ==, 20000);

    /* one slot per frame: cut at every MSS, plain frames */
    g_assert_cmpuint(set_rx_chain(&b, 1, 1, 0), ==, SELFVIRT_ST_OK);
    n = tcp_frame(f, mac_vif1, mac_far, 25000, TCP_ACK, 3000, 1234);
    memcpy(f + 6, mac_vif0, 6);
    post_desc(&b, 0, f, n, 0, SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM, 1000);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 14));
    for (slot = 11; slot < 14; slot++) {
        rx_desc(&b, 1, slot, &len, &flags, &gso);
        g_assert_cmpuint(len, ==, 1054);
        g_assert_cmphex(flags, ==, SELFVIRT_RX_CSUM_OK);
    }
    board_stop(&b);
}

/*
 * The egress weight: frames a VIF's context sends per turn of the egress
 * engine.  With weights 4 and 1 and both queues full, the wire sees four
 * frames of VIF 0 for each of VIF 1 while both have frames.
 */
static void test_egress_weight(void)
{
    const char *want = "0000100001111111";
    uint32_t args[3] = { 0, SELFVIRT_ATTR_WEIGHT, 4 };
    Board b;
    uint8_t f[100], got[2048];
    char order[17] = "";

    board_start(&b, ",vifs=4,id=sv");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, args, 3), ==,
                     SELFVIRT_ST_OK);
    args[0] = 1;
    args[2] = 1;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, args, 3), ==,
                     SELFVIRT_ST_OK);
    args[2] = 0;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, args, 3), ==,
                     SELFVIRT_ST_BAD_ARG);
    args[2] = 257;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, args, 3), ==,
                     SELFVIRT_ST_BAD_ARG);

    /* the egress engine sleeps: nothing is sent until the doorbell */
    g_assert_true(wait_rq(&b, 0, RQ_FLAGS, SELFVIRT_RQ_EGRESS_ASLEEP));
    g_assert_true(wait_rq(&b, 1, RQ_FLAGS, SELFVIRT_RQ_EGRESS_ASLEEP));
    wait_engines_asleep(&b);
    for (int i = 0; i < 16; i++) {
        uint32_t v = i % 2;

        frame_init(f, sizeof(f), mac_far, v ? mac_vif1 : mac_vif0);
        f[14] = '0' + v;
        post_quietly(&b, v, f, sizeof(f));
    }
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    for (int i = 0; i < 16; i++) {
        g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==,
                         sizeof(f));
        order[i] = got[14];
    }
    g_assert_cmpstr(order, ==, want);
    board_stop(&b);
}

/*
 * A doorbell's vCPU runs an idle egress engine's turn, but at most
 * SELFVIRT_INLINE_BUDGET (64) frames of it, however many VIFs have full
 * queues: 48 frames waiting go in that turn, 128 are cut after 64
 * (counted in inline_squeezed) and the engine's thread sends the rest.
 * Every frame reaches the wire once, each VIF's in order.
 */
static void test_inline_budget(void)
{
    static const struct { uint32_t vifs; bool squeezed; } round[] = {
        { 3, false },           /* 3 VIFs x 16 frames */
        { 8, true },            /* 8 VIFs x 16 frames */
    };

    for (unsigned r = 0; r < ARRAY_SIZE(round); r++) {
        uint32_t n = round[r].vifs, next[8] = { 0 };
        uint8_t f[64], got[2048];
        uint32_t squeezed, wakeups;
        Board b;

        /* one egress engine: its 8 contexts serve VIFs 0..7 */
        board_start(&b, ",vifs=8,engines=4,id=sv");
        for (uint32_t v = 0; v < n; v++) {
            g_assert_cmpuint(create_vif(&b, v, v), ==, SELFVIRT_ST_OK);
        }
        wait_engines_asleep(&b);
        g_usleep(5 * 1000);     /* idle for longer than inline-wake-us */
        for (uint32_t i = 0; i < TX_ENTRIES; i++) {
            for (uint32_t v = 0; v < n; v++) {
                uint8_t src[6];

                memcpy(src, mac_vif0, sizeof(src));
                src[5] += v;        /* VIF v's own address */
                frame_init(f, sizeof(f), mac_far, src);
                f[14] = i;
                post_quietly(&b, v, f, sizeof(f));
            }
        }
        wakeups = csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_ENGINE_WAKEUPS));
        csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
        for (uint32_t i = 0; i < n * TX_ENTRIES; i++) {
            uint32_t v;

            g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==,
                             sizeof(f));
            v = got[11] - mac_vif0[5];
            g_assert_cmpuint(v, <, n);
            g_assert_cmpuint(got[14], ==, next[v]++);
        }
        squeezed = csr_rd(&b,
                          SELFVIRT_REG_STAT(SELFVIRT_STAT_INLINE_SQUEEZED));
        wakeups = csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_ENGINE_WAKEUPS)) -
                  wakeups;
        if (round[r].squeezed) {        /* the engine's thread took the rest */
            g_assert_cmpuint(squeezed, >=, 1);
            g_assert_cmpuint(wakeups, >=, 1);
        } else {                        /* all on the doorbell's vCPU */
            g_assert_cmpuint(squeezed, ==, 0);
            g_assert_cmpuint(wakeups, ==, 0);
        }
        board_stop(&b);
    }
}

/*
 * Doorbell pages: a write anywhere in page v rings VIF v and no other, so
 * that management can map one VIF's page into a VM.
 */
static void test_doorbell_pages(void)
{
    static const uint8_t mac_vif2[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x58 };
    Board b;
    QPCIBar db;
    uint64_t size;
    uint32_t rung;
    uint8_t f[100];

    /* an egress engine each; SDRAM small enough for libqos's PCI window */
    board_start(&b, ",vifs=4,contexts=1,sdram-size=16M,id=sv");
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_CAPS) &
                    SELFVIRT_CAP_DOORBELL_PAGES, ==,
                    SELFVIRT_CAP_DOORBELL_PAGES);
    db = qpci_iomap(b.dev, SELFVIRT_BAR_DOORBELL, &size);
    g_assert_cmphex(size, ==, SELFVIRT_DOORBELL_BAR_SIZE);
    for (uint32_t v = 0; v < 3; v++) {
        g_assert_cmpuint(create_vif(&b, v, v), ==, SELFVIRT_ST_OK);
    }
    g_assert_true(wait_rq(&b, 0, RQ_FLAGS, SELFVIRT_RQ_EGRESS_ASLEEP));
    g_assert_true(wait_rq(&b, 1, RQ_FLAGS, SELFVIRT_RQ_EGRESS_ASLEEP));
    wait_engines_asleep(&b);
    /* to VIF 2: the wire's transmit engine would wake every sender */
    for (uint32_t v = 0; v < 2; v++) {
        frame_init(f, sizeof(f), mac_vif2, v ? mac_vif1 : mac_vif0);
        post_quietly(&b, v, f, sizeof(f));
    }

    /* page 1, in the middle: VIF 1 sends, VIF 0 still sleeps */
    qpci_io_writel(b.dev, db, SELFVIRT_DOORBELL_PAGE(1) + 0x800, 0);
    g_assert_true(wait_rq(&b, 2, RQ_RX_PROD, 1));
    g_assert_cmpuint(rq_word(&b, 1, RQ_TX_CONS), ==, 1);
    g_assert_cmpuint(rq_word(&b, 0, RQ_TX_CONS), ==, 0);

    /* a page of a VIF that does not exist: counted and ignored */
    rung = csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_DOORBELLS));
    qpci_io_writel(b.dev, db, SELFVIRT_DOORBELL_PAGE(3), 0);
    qpci_io_writel(b.dev, db, SELFVIRT_DOORBELL_PAGE(63) + 0xffc, 0);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_DOORBELLS)),
                     ==, rung + 2);
    g_assert_cmpuint(rq_word(&b, 0, RQ_TX_CONS), ==, 0);

    /* reads are zero; a byte write rings as well */
    g_assert_cmpuint(qpci_io_readl(b.dev, db, 0), ==, 0);
    qpci_io_writeb(b.dev, db, SELFVIRT_DOORBELL_PAGE(0) + 3, 0xff);
    g_assert_true(wait_rq(&b, 2, RQ_RX_PROD, 2));
    g_assert_cmpuint(rq_word(&b, 0, RQ_TX_CONS), ==, 1);
    qpci_iounmap(b.dev, db);
    board_stop(&b);
}

/* Migration carries the VIF table, windows, identifier and attributes. */
static void test_migration(void)
{
    g_autofree char *uri = g_strdup_printf("unix:%s/selfvirt-mig-%d.sock",
                                           g_get_tmp_dir(), getpid());
    g_autofree char *incoming = g_strdup_printf(",vifs=4 -incoming %s", uri);
    Board src, dst;
    uint8_t f[5000];
    uint32_t len, args[1] = { 0 };
    uint16_t flags, gso;

    board_start(&src, ",vifs=4");
    g_assert_cmpuint(create_vif(&src, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(set_rx_chain(&src, 1, 4, 0), ==, SELFVIRT_ST_OK);
    csr_wr(&src, SELFVIRT_REG_IRQ_MASK, 0xfff0);
    frame_init(f, 100, mac_vif1, mac_far);
    wire_send(&src, f, 100);
    g_assert_true(wait_rq(&src, 1, RQ_RX_PROD, 1));
    /* the signal follows the index */
    WAIT_FOR(csr_rd(&src, SELFVIRT_REG_IRQ_ID), "no identifier bit set");
    g_assert_cmphex(csr_rd(&src, SELFVIRT_REG_IRQ_ID), ==, 0x8);

    board_launch(&dst, incoming);
    qtest_qmp_assert_success(src.qts, "{'execute': 'migrate', "
                             "'arguments': {'uri': %s}}", uri);
    g_assert_cmpstr(wait_migration(src.qts), ==, "completed");
    qtest_qmp_eventwait(dst.qts, "RESUME");
    board_attach(&dst);

    g_assert_cmphex(csr_rd(&dst, SELFVIRT_REG_IRQ_MASK), ==, 0xfff0);
    g_assert_cmphex(csr_rd(&dst, SELFVIRT_REG_IRQ_ID), ==, 0x8);
    g_assert_cmphex(csr_rd(&dst, SELFVIRT_REG_WIN_LO(1)), ==,
                    (uint32_t)(RQ_BASE + 0x100000) | SELFVIRT_WIN_VALID);
    g_assert_cmpuint(mbox(&dst, SELFVIRT_CMD_QUERY, args, 1), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&dst, SELFVIRT_REG_MBOX_RES(0)), ==, 1u << 1);
    g_assert_cmpuint(vif_stat(&dst, 1, SELFVIRT_VSTAT_RX_FRAMES), ==, 1);
    g_assert_cmpuint(rq_word(&dst, 1, RQ_RX_PROD), ==, 1);

    /* the VIF goes on where it was: next slot, still chained */
    frame_init(f, sizeof(f), mac_vif1, mac_far);
    wire_send(&dst, f, sizeof(f));
    g_assert_true(wait_rq(&dst, 1, RQ_RX_PROD, 4));
    rx_desc(&dst, 1, 1, &len, &flags, &gso);
    g_assert_cmpuint(len, ==, 2048);
    g_assert_cmphex(flags & SELFVIRT_RX_MORE, ==, SELFVIRT_RX_MORE);
    board_stop(&dst);
    board_stop(&src);
    unlink(uri + strlen("unix:"));
}

/*
 * Malformed lengths and indexes from the host halt the VIF that made them
 * and are counted; no other VIF notices and no memory outside is written.
 */
static void test_malformed(void)
{
    static const uint8_t mac_vif2[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x58 };
    static const uint8_t mac_vif3[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x59 };
    struct selfvirt_tx_desc runt = { .len = cpu_to_le32(10) };
    Board b;
    uint8_t f[100];

    board_start(&b, ",vifs=4");
    for (uint32_t v = 0; v < 4; v++) {
        g_assert_cmpuint(create_vif(&b, v, v), ==, SELFVIRT_ST_OK);
    }

    /* VIF 0: a 10-byte frame */
    post_tx_desc(&b, 0, &runt);               /* shorter than a header */
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    g_assert_true(wait_stat(&b, SELFVIRT_STAT_BAD_DESC, 1));
    g_assert_cmpuint(vif_stat(&b, 0, SELFVIRT_VSTAT_TX_ERRORS), ==, 1);

    /* VIF 1: a send producer index 100 ahead of a 16-entry ring */
    qpci_io_writel(b.dev, b.sdram, b.part_size, 100);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 1);
    g_assert_true(wait_stat(&b, SELFVIRT_STAT_BAD_DESC, 2));
    g_assert_cmpuint(vif_stat(&b, 1, SELFVIRT_VSTAT_TX_ERRORS), ==, 1);
    g_assert_cmpuint(rq_word(&b, 1, RQ_TX_CONS), ==, 0);  /* nothing taken */

    /* VIF 2: a receive consumer index the board never reached */
    qpci_io_writel(b.dev, b.sdram, 2 * b.part_size + 4, 50);
    frame_init(f, sizeof(f), mac_vif2, mac_far);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_stat(&b, SELFVIRT_STAT_BAD_DESC, 3));
    g_assert_cmpuint(rq_word(&b, 2, RQ_RX_PROD), ==, 0);  /* nothing written */

    /* a doorbell for a VIF that does not exist is ignored */
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 77);

    /* VIF 3 never noticed, and no other receive queue was written */
    frame_init(f, sizeof(f), mac_vif3, mac_far);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 3, RQ_RX_PROD, 1));
    for (uint32_t w = 0; w < 3; w++) {
        g_assert_cmpuint(rq_word(&b, w, RQ_RX_PROD), ==, 0);
        g_assert_cmpuint(le32_to_cpu(rx_desc_at(&b, w, 0).len), ==, 0);
    }
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_BAD_DESC)),
                     ==, 3);
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
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 1));
    WAIT_FOR(qpci_msix_pending(b.dev, SELFVIRT_MSIX_RX_VEC(1)),
             "VIF 1's receive vector is not pending");
    /* the sender's completion is signalled after the delivery, not before */
    WAIT_FOR(qpci_msix_pending(b.dev, SELFVIRT_MSIX_TX_VEC(0)),
             "VIF 0's transmit vector is not pending");
    g_assert_true(qpci_msix_pending(b.dev, SELFVIRT_MSIX_RX_VEC(1)));
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
    g_assert_cmpuint(SELFVIRT_IRQ_RX_BIT(9, 16), ==,
                     SELFVIRT_IRQ_RX_BIT(1, 16));
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 9, 9), ==, SELFVIRT_ST_OK);
    csr_wr(&b, SELFVIRT_REG_IRQ_MASK, 0);
    frame_init(f, sizeof(f), (const uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34,
                                                0x5f }, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_true(wait_rq(&b, 9, RQ_RX_PROD, 1));
    WAIT_FOR(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx1, "VIF 9 did not signal "
             "on VIF 1's identifier bit");
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx1, ==, rx1);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_PENDING) & rx1, ==, rx1);
    csr_wr(&b, SELFVIRT_REG_IRQ_MASK, rx1);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_PENDING) & rx1, ==, 0);
    csr_wr(&b, SELFVIRT_REG_IRQ_ID, rx1);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx1, ==, 0);
    board_stop(&b);
}

/*
 * Signal moderation (ATTR_SIGNAL_GAP): a signal after a quiet gap comes at
 * once; one within the gap when the gap ends.  Under qtest the virtual
 * clock moves only with clock_step, so "within" is exact.
 */
static void test_signal_gap(void)
{
    Board b;
    uint8_t f[64];
    uint32_t rx0 = 1u << SELFVIRT_IRQ_RX_BIT(0, 16);
    uint32_t rx1 = 1u << SELFVIRT_IRQ_RX_BIT(1, 16);
    uint32_t gap[3] = { 1, SELFVIRT_ATTR_SIGNAL_GAP,
                        SELFVIRT_SIGNAL_GAP_MAX_US + 1 };

    board_start(&b, ",vifs=4");
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_CAPS) & SELFVIRT_CAP_SIGNAL_GAP,
                    ==, SELFVIRT_CAP_SIGNAL_GAP);
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, gap, 3), ==,
                     SELFVIRT_ST_BAD_ARG);
    gap[2] = 1000;
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, gap, 3), ==,
                     SELFVIRT_ST_OK);
    csr_wr(&b, SELFVIRT_REG_IRQ_MASK, 0);

    for (uint32_t i = 1; i <= 3; i++) {
        frame_init(f, sizeof(f), mac_vif1, mac_far);
        wire_send(&b, f, sizeof(f));
        frame_init(f, sizeof(f), mac_vif0, mac_far);
        wire_send(&b, f, sizeof(f));
        g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, i));
        g_assert_true(wait_rq(&b, 0, RQ_RX_PROD, i));
        /* VIF 0 has no gap: a signal per frame */
        WAIT_FOR(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx0, "VIF 0: no signal");
        if (i == 1) {
            WAIT_FOR(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx1,
                     "VIF 1's first signal did not come at once");
        } else {
            /* within the gap: held, however long the test takes */
            g_usleep(50 * 1000);
            g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx1, ==, 0);
            qtest_clock_step(b.qts, 999 * 1000);
            g_usleep(10 * 1000);
            g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx1, ==, 0);
            qtest_clock_step(b.qts, 1000);
            g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_IRQ_ID) & rx1, ==, rx1);
        }
        csr_wr(&b, SELFVIRT_REG_IRQ_ID, rx0 | rx1);
    }
    g_assert_cmpuint(vif_stat(&b, 1, SELFVIRT_VSTAT_SIGNALS), ==, 3);
    g_assert_cmpuint(vif_stat(&b, 0, SELFVIRT_VSTAT_SIGNALS), ==, 3);
    board_stop(&b);
}

/*
 * A guest may aim an MSI-X message at the board's own DEV_CTRL, with the
 * reset bit as its data.  A signal that waited for its gap's end is raised
 * by a timer, and goes out through the board's guarded bottom half, so
 * that QEMU's re-entrancy guard blocks the message (as it does when the
 * net layer's receive or a register write raises it).  Before, the timer
 * sent it unguarded, and the board reset itself.
 */
static void test_msix_into_own_registers(void)
{
    uint32_t gap[3] = { 1, SELFVIRT_ATTR_SIGNAL_GAP, 1000 };
    uint32_t vec = SELFVIRT_MSIX_RX_VEC(1);
    uint64_t entry, csr;
    uint8_t f[64];
    Board b;

    board_start(&b, ",vifs=4,irq-mode=msix,sdram-size=16M");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, gap, 3), ==,
                     SELFVIRT_ST_OK);
    qpci_msix_enable(b.dev);
    csr = qpci_config_readl(b.dev, PCI_BASE_ADDRESS_0) & ~0xfull;
    entry = b.dev->msix_table_off + vec * PCI_MSIX_ENTRY_SIZE;
    qpci_io_writel(b.dev, b.dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_LOWER_ADDR,
                   csr + SELFVIRT_REG_DEV_CTRL);
    qpci_io_writel(b.dev, b.dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_UPPER_ADDR, csr >> 32);
    qpci_io_writel(b.dev, b.dev->msix_table_bar, entry + PCI_MSIX_ENTRY_DATA,
                   SELFVIRT_DEV_CTRL_RESET);
    qpci_io_writel(b.dev, b.dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);

    /* the first signal at once, the second held until the gap ends */
    for (uint32_t i = 1; i <= 2; i++) {
        frame_init(f, sizeof(f), mac_vif1, mac_far);
        wire_send(&b, f, sizeof(f));
        g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, i));
    }
    WAIT_FOR(vif_stat(&b, 1, SELFVIRT_VSTAT_SIGNALS) == 1, "no signal");
    qtest_clock_step(b.qts, 1000 * 1000);
    WAIT_FOR(vif_stat(&b, 1, SELFVIRT_VSTAT_SIGNALS) == 2, "none released");
    g_usleep(50 * 1000);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_QUERY, NULL, 0), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(0)), ==, 0x3);
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
    before = rq_word(&b, 1, RQ_RX_PROD);
    for (int i = 0; i < 8; i++) {
        wire_send(&b, f, sizeof(f));
    }
    g_usleep(100 * 1000);
    g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, before);
    /* and the board works again */
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    qtest_memset(b.qts, RQ_BASE + 0x100000, 0, 64);
    wire_send(&b, f, sizeof(f));
    g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 1));
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

/*
 * x-engines-inline (for the fuzzer): the doorbell's write runs the
 * engines before it returns, so the frame is there without waiting.
 */
static void test_engines_inline(void)
{
    Board b;
    uint8_t f[64], got[64];

    board_start(&b, ",vifs=4,x-engines-inline=on");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    for (uint32_t i = 1; i <= 40; i++) {
        frame_init(f, sizeof(f), mac_vif1, mac_vif0);
        f[20] = i;
        post_frame(&b, 0, f, sizeof(f));
        g_assert_cmpuint(rq_word(&b, 0, RQ_TX_CONS), ==, i);       /* tx_cons */
        if (i <= 16) {
            g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, i);   /* rx_prod */
            qtest_memread(b.qts, RQ_BASE + RQ_PAGE +
                          SELFVIRT_RQ_SLOT(16, 2048, i - 1), got, sizeof(got));
            g_assert_cmpmem(got, sizeof(got), f, sizeof(f));
        }
    }
    /* VIF 1's ring is full: RX_BLOCKED, 24 frames waiting on the board */
    g_assert_cmphex(rq_word(&b, 1, RQ_FLAGS) & SELFVIRT_RQ_RX_BLOCKED, ==,
                    SELFVIRT_RQ_RX_BLOCKED);
    qpci_io_writel(b.dev, b.sdram, b.part_size + 4, 16);     /* rx_cons */
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 1);
    g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, 32);
    g_assert_cmpuint(vif_stat(&b, 1, SELFVIRT_VSTAT_RX_DROPS), ==, 0);
    board_stop(&b);
}

/*
 * With -name debug-threads=on the engines' threads carry their roles
 * (ps -L, top -H, perf): Linux takes at most 15 characters.
 */
static void test_engine_thread_names(void)
{
    static const char *const want[] = {
        "svme0-wire-rx", "svme1-wire-tx", "svme2-ingress", "svme3-egress",
        "svme4-egress",
    };
    QTestState *qts = qtest_init("-M pc -nodefaults -name debug-threads=on "
                                 "-device selfvirt-nic,engines=5");
    g_autofree char *dir = g_strdup_printf("/proc/%d/task", qtest_pid(qts));
    g_autoptr(GDir) tasks = g_dir_open(dir, 0, NULL);
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash,
                                                        g_str_equal,
                                                        g_free, NULL);
    const char *tid;

    g_assert_nonnull(tasks);
    while ((tid = g_dir_read_name(tasks))) {
        g_autofree char *path = g_strdup_printf("%s/%s/comm", dir, tid);
        char *comm;

        if (g_file_get_contents(path, &comm, NULL, NULL)) {
            g_hash_table_add(names, g_strchomp(comm));
        }
    }
    for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
        g_assert_true(g_hash_table_contains(names, want[i]));
    }
    qtest_quit(qts);
}

/* A VIF's SDRAM partition is page-aligned for every VIF count (mmap). */
static void test_partition_aligned(void)
{
    static const unsigned counts[] = { 1, 3, 5, 7, 48, 63, 64 };

    for (unsigned i = 0; i < ARRAY_SIZE(counts); i++) {
        g_autofree char *opts = g_strdup_printf(",vifs=%u,sdram-size=16M",
                                                counts[i]);
        Board b;
        uint32_t part;

        board_start(&b, opts);
        part = csr_rd(&b, SELFVIRT_REG_PART_SIZE);
        g_assert_cmpuint(part % SELFVIRT_PART_ALIGN, ==, 0);
        g_assert_cmpuint((uint64_t)part * counts[i], <=, 16 << 20);
        g_assert_cmpuint((uint64_t)part * counts[i], >, (16 << 20) -
                         counts[i] * SELFVIRT_PART_ALIGN);
        board_stop(&b);
    }
}

/* Every bad property value is refused at realize, naming the property. */
/* Every property takes effect, as the CSR BAR and a new VIF show. */
static void test_properties(void)
{
    uint32_t args[6] = { 31, 0, 0, SELFVIRT_QUEUES(16, 16),
                         SELFVIRT_WINDOWS(0, 1), 2048 };
    Board b;

    board_start(&b, ",vifs=32,mac=52:54:00:aa:bb:00,sdram-size=64M,"
                "window-page-shift=16,irq-id-width=8,engines=6,contexts=4,"
                "max-frame=4000,poll-us=10");
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_MAX_VIFS), ==, 32);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MAC_LO), ==, 0xaa005452);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MAC_HI), ==, 0x00bb);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_SDRAM_SIZE_LO), ==, 64 << 20);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_PART_SIZE), ==, 2 << 20);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_WIN_PAGE_SHIFT), ==, 16);
    g_assert_cmpuint(SELFVIRT_IRQ_INFO_WIDTH(csr_rd(&b, SELFVIRT_REG_IRQ_INFO)),
                     ==, 8);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_ENGINES), ==,
                    SELFVIRT_ENGINES(6, 4));
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_MAX_FRAME), ==, 4000);

    /* VIF 31's default MAC is the base MAC + 31, its partition 2 MiB in */
    csr_wr(&b, SELFVIRT_REG_WIN_LO(0), RQ_BASE | SELFVIRT_WIN_VALID);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_CREATE, args, 6), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(1)), ==, 31 * (2 << 20));
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(3)), ==, 0xaa005452);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(4)), ==,
                    0x00bb + 31 * 256);
    board_stop(&b);
}

static void test_bad_properties(void)
{
    static const char *const bad[][2] = {
        { "vifs=0", "'vifs'" }, { "vifs=65", "'vifs'" },
        { "irq-id-width=17", "'irq-id-width'" },
        { "irq-mode=2", "'irq-mode'" }, { "engines=3", "'engines'" },
        { "contexts=9", "'contexts'" }, { "sdram-size=1000", "'sdram-size'" },
        { "window-page-shift=26", "'window-page-shift'" },
        { "max-frame=1000", "'max-frame'" }, { "poll-us=5000", "'poll-us'" },
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
    qtest_add_func("/selfvirt/partition-cleared", test_partition_cleared);
    qtest_add_func("/selfvirt/tso-segment-over-max-frame",
                   test_tso_segment_over_max_frame);
    qtest_add_func("/selfvirt/identifier-and-windows", test_identifier);
    qtest_add_func("/selfvirt/vif-to-vif", test_vif_to_vif);
    qtest_add_func("/selfvirt/inline-wake", test_inline_wake);
    qtest_add_data_func("/selfvirt/wire-send-wakes-no-sender",
                        GINT_TO_POINTER(VIF0_TO_WIRE), test_wakes_no_sender);
    qtest_add_data_func("/selfvirt/wire-receive-wakes-no-sender",
                        GINT_TO_POINTER(WIRE_TO_VIF1), test_wakes_no_sender);
    qtest_add_func("/selfvirt/window-abort", test_window_abort);
    qtest_add_func("/selfvirt/bad-buffer-halts", test_bad_buffer_halts);
    qtest_add_func("/selfvirt/halt-status", test_halt_status);
    qtest_add_func("/selfvirt/identifier-width", test_identifier_width);
    qtest_add_func("/selfvirt/qom-state", test_qom_state);
    qtest_add_func("/selfvirt/stage-times", test_stage_times);
    qtest_add_func("/selfvirt/properties", test_properties);
    qtest_add_func("/selfvirt/partition-aligned", test_partition_aligned);
    qtest_add_func("/selfvirt/engines-inline", test_engines_inline);
    qtest_add_func("/selfvirt/engine-thread-names", test_engine_thread_names);
    qtest_add_func("/selfvirt/bad-properties", test_bad_properties);
    qtest_add_func("/selfvirt/wire", test_wire);
    qtest_add_func("/selfvirt/hotplug-while-suspended",
                   test_hotplug_while_suspended);
    qtest_add_func("/selfvirt/msix-into-own-registers",
                   test_msix_into_own_registers);
    qtest_add_func("/selfvirt/nic-mode", test_nic_mode);
    qtest_add_func("/selfvirt/tso", test_tso);
    qtest_add_func("/selfvirt/msix", test_msix);
    qtest_add_func("/selfvirt/rx-checksum", test_rx_checksum);
    qtest_add_func("/selfvirt/rx-chain", test_rx_chain);
    qtest_add_func("/selfvirt/rx-coalesce", test_rx_coalesce);
    qtest_add_func("/selfvirt/rx-posted", test_rx_posted);
    qtest_add_func("/selfvirt/tso-local", test_tso_local);
    qtest_add_func("/selfvirt/egress-weight", test_egress_weight);
    qtest_add_func("/selfvirt/inline-budget", test_inline_budget);
    qtest_add_func("/selfvirt/doorbell-pages", test_doorbell_pages);
    qtest_add_func("/selfvirt/malformed", test_malformed);
    qtest_add_func("/selfvirt/migration", test_migration);
    qtest_add_func("/selfvirt/identifier-sharing", test_identifier_sharing);
    qtest_add_func("/selfvirt/signal-gap", test_signal_gap);
    qtest_add_func("/selfvirt/reset-during-traffic", test_reset_during_traffic);
    qtest_add_func("/selfvirt/reset-keeps-msi", test_reset_keeps_msi);
    return g_test_run();
}
