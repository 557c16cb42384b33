/*
 * QTest testcase for selfvirt-nic: isolation between VIFs under abuse
 *
 * The paper's promise: one VIF's guest, however slow or hostile, cannot
 * stall another VIF or make the board do I/O for a VIF it does not own.
 * Each scenario here is a finding of the reliability review (issue 9).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci_regs.h"
#include "qemu/bswap.h"
#include "selfvirt-qtest.h"
#ifdef SELFVIRT_TEST_RAM_DEVICE
#include <glib/gstdio.h>
#include "hw/acpi/tpm.h"
#include "qemu/module.h"
#include "tpm-emu.h"
#endif

/*
 * Frames a VIF's pending queue holds on the board: SELFVIRT_PENDING_MAX,
 * and one more when the producer filled it while ingress had the head out
 * to find the ring full (it puts it back).
 */
#define PENDING_MIN 1024
#define PENDING_MAX 1025
/* frames sent to a VIF that takes none: more than its ring and the board's */
#define FLOOD (PENDING_MAX + 100)

/*
 * A VIF whose receive ring is full and never consumed must not stop the
 * wire's frames for another VIF: its excess is dropped and counted.
 */
static void test_wire_to_full_vif(void)
{
    Board b;
    uint8_t f[64];

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_vif0, mac_far);
    for (int i = 0; i < FLOOD; i++) {
        wire_send(&b, f, sizeof(f));
    }
    frame_init(f, sizeof(f), mac_vif1, mac_far);
    wire_send(&b, f, sizeof(f));
    WAIT_FOR(rq_word(&b, 1, RQ_RX_PROD) == 1,
             "VIF 1 rx_prod %u: VIF 0's full ring stopped the wire",
             rq_word(&b, 1, RQ_RX_PROD));
    /* VIF 0: its ring full (16), the board's queue full, the rest lost */
    g_assert_cmpuint(rq_word(&b, 0, RQ_RX_PROD), ==, 16);
    WAIT_FOR(vif_stat(&b, 0, SELFVIRT_VSTAT_RX_DROPS) >=
             FLOOD - 16 - PENDING_MAX,
             "VIF 0 dropped %u", vif_stat(&b, 0, SELFVIRT_VSTAT_RX_DROPS));
    g_assert_cmpuint(vif_stat(&b, 0, SELFVIRT_VSTAT_RX_DROPS), <=,
                     FLOOD - 16 - PENDING_MIN);
    board_stop(&b);
}

/*
 * VIF 0 sends to a VIF 1 that never consumes (4-entry receive ring): VIF
 * 0's send queue goes on, and its frames for the wire still leave.
 */
static void test_vif_to_full_vif(void)
{
    Board b;
    uint8_t f[64], got[128];

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif_queues(&b, 1, 1, TX_ENTRIES, 4), ==,
                     SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_vif1, mac_vif0);
    for (uint32_t i = 0; i < FLOOD; i++) {
        WAIT_FOR(i - rq_word(&b, 0, RQ_TX_CONS) < TX_ENTRIES,
                 "VIF 0's send queue stuck at tx_cons %u after %u frames "
                 "to a full VIF 1",
                 rq_word(&b, 0, RQ_TX_CONS), i);
        post_quietly(&b, 0, f, sizeof(f));
        csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    }
    WAIT_FOR(rq_word(&b, 0, RQ_TX_CONS) == FLOOD, "VIF 0 tx_cons %u",
             rq_word(&b, 0, RQ_TX_CONS));
    frame_init(f, sizeof(f), mac_far, mac_vif0);
    post_frame(&b, 0, f, sizeof(f));
    WAIT_FOR(rq_word(&b, 0, RQ_TX_CONS) == FLOOD + 1, "VIF 0 tx_cons %u",
             rq_word(&b, 0, RQ_TX_CONS));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    /* VIF 1: 4 in its ring, the board's queue full, the rest counted */
    g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, 4);
    g_assert_cmpuint(vif_stat(&b, 1, SELFVIRT_VSTAT_RX_DROPS), >=,
                     FLOOD - 4 - PENDING_MAX);
    g_assert_cmpuint(vif_stat(&b, 1, SELFVIRT_VSTAT_RX_DROPS), <=,
                     FLOOD - 4 - PENDING_MIN);
    board_stop(&b);
}

/* A UDP/IPv4 frame of @len bytes from @src to @dst. */
static void udp_frame(uint8_t *f, uint32_t len, const uint8_t *dst,
                      const uint8_t *src)
{
    memset(f, 0x5a, len);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    stw_be_p(f + 12, 0x0800);
    f[14] = 0x45;
    stw_be_p(f + 16, len - 14);                 /* IP total length */
    f[22] = 64;                                 /* TTL */
    f[23] = 17;                                 /* UDP */
    memcpy(f + 26, (uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
    stw_be_p(f + 14 + 20 + 4, len - 34);        /* UDP length */
    stw_be_p(f + 14 + 20 + 6, 0);               /* no UDP checksum */
}

/*
 * TSO on a frame that is not TCP is a malformed descriptor: dropped and
 * counted, never sent whole past max-frame nor labelled TCP for a VIF.
 */
static void test_tso_not_tcp(void)
{
    enum { BIG = 20000 };
    g_autofree uint8_t *f = g_malloc(BIG);
    g_autofree uint8_t *got = g_malloc(65536);
    Board b;
    uint32_t len;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);

    udp_frame(f, BIG, mac_far, mac_vif0);
    post_desc(&b, 0, f, BIG, 0, SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM, 1000);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    WAIT_FOR(rq_word(&b, 0, RQ_TX_CONS) == 1, "VIF 0 tx_cons %u",
             rq_word(&b, 0, RQ_TX_CONS));
    while ((len = wire_recv(&b, got, 65536, 200))) {
        g_assert_cmpuint(len, <=, 9018);
        g_assert_cmphex(got[12], !=, 0x08);     /* nothing of it left */
    }
    g_assert_cmpuint(vif_stat(&b, 0, SELFVIRT_VSTAT_TX_ERRORS), ==, 1);

    /* an ARP frame with TSO: the same */
    stw_be_p(f + 12, 0x0806);
    post_desc(&b, 0, f, BIG, 0, SELFVIRT_TX_TSO, 1000);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    WAIT_FOR(rq_word(&b, 0, RQ_TX_CONS) == 2, "VIF 0 tx_cons %u",
             rq_word(&b, 0, RQ_TX_CONS));
    g_assert_cmpuint(wire_recv(&b, got, 65536, 200), ==, 0);
    g_assert_cmpuint(vif_stat(&b, 0, SELFVIRT_VSTAT_TX_ERRORS), ==, 2);

    /* to a VIF: not delivered as a TCP GSO frame */
    udp_frame(f, 3000, mac_vif1, mac_vif0);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, (uint32_t[]){
                     1, SELFVIRT_ATTR_RX_CHAIN, 4, 0 }, 4), ==, SELFVIRT_ST_OK);
    post_desc(&b, 0, f, 3000, 0, SELFVIRT_TX_TSO, 1000);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    WAIT_FOR(rq_word(&b, 0, RQ_TX_CONS) == 3, "VIF 0 tx_cons %u",
             rq_word(&b, 0, RQ_TX_CONS));
    g_usleep(50 * 1000);
    g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, 0);
    g_assert_cmpuint(vif_stat(&b, 0, SELFVIRT_VSTAT_TX_ERRORS), ==, 3);

    /* the VIF was not halted: a plain frame still goes */
    frame_init(f, 64, mac_far, mac_vif0);
    post_desc(&b, 0, f, 64, 0, 0, 0);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    g_assert_cmpuint(wire_recv(&b, got, 65536, 2000), ==, 64);
    board_stop(&b);
}

/*
 * TSO on a frame to a group address is a malformed descriptor too: a
 * broadcast would be cut for the wire and copied whole to every VIF.
 */
static void test_tso_to_group(void)
{
    enum { PAYLOAD = 20000 };
    g_autofree uint8_t *f = g_malloc(PAYLOAD + 64);
    uint8_t got[128];
    uint32_t len;
    Board b;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    len = tcp_frame(f, mac_bcast, mac_vif0, 1, TCP_ACK, PAYLOAD, 4000);
    post_desc(&b, 0, f, len, 0, SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM, 1000);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    WAIT_FOR(rq_word(&b, 0, RQ_TX_CONS) == 1, "VIF 0 tx_cons %u",
             rq_word(&b, 0, RQ_TX_CONS));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 200), ==, 0);
    g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, 0);
    g_assert_cmpuint(vif_stat(&b, 0, SELFVIRT_VSTAT_TX_ERRORS), ==, 1);

    /* the VIF was not halted: a plain broadcast still goes everywhere */
    frame_init(f, 64, mac_bcast, mac_vif0);
    post_desc(&b, 0, f, 64, 0, 0, 0);
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, 64);
    WAIT_FOR(rq_word(&b, 1, RQ_RX_PROD) == 1, "VIF 1 rx_prod %u",
             rq_word(&b, 1, RQ_RX_PROD));
    board_stop(&b);
}

/*
 * The window page size is one for the whole table: a change while VIFs
 * are live would move their receive queues.  Refused and counted.
 */
static void test_page_shift_live(void)
{
    Board b;

    board_start(&b, ",vifs=4");
    csr_wr(&b, SELFVIRT_REG_WIN_PAGE_SHIFT, 21);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_WIN_PAGE_SHIFT), ==, 21);
    csr_wr(&b, SELFVIRT_REG_WIN_PAGE_SHIFT, 20);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    csr_wr(&b, SELFVIRT_REG_WIN_PAGE_SHIFT, 25);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_WIN_PAGE_SHIFT), ==, 20);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_CSR_REFUSED)),
                     ==, 1);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_DESTROY, (uint32_t[]){ 1 }, 1),
                     ==, SELFVIRT_ST_OK);
    csr_wr(&b, SELFVIRT_REG_WIN_PAGE_SHIFT, 25);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_WIN_PAGE_SHIFT), ==, 25);
    board_stop(&b);
}

/*
 * The spoof check: in the self-virtualizing mode a VIF sends only with its
 * own source MAC, unless management turned the check off for it.
 */
static void test_spoofed_source(void)
{
    Board b;
    uint8_t f[64], got[128];

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_far, mac_vif1);      /* VIF 1's MAC */
    post_quietly(&b, 0, f, sizeof(f));
    frame_init(f, sizeof(f), mac_vif1, mac_far);      /* to VIF 1 */
    post_quietly(&b, 0, f, sizeof(f));
    csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
    WAIT_FOR(rq_word(&b, 0, RQ_TX_CONS) == 2, "VIF 0 tx_cons %u",
             rq_word(&b, 0, RQ_TX_CONS));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 200), ==, 0);
    g_usleep(50 * 1000);
    g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, 0);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_TX_SPOOFED)),
                     ==, 2);
    g_assert_cmpuint(vif_stat(&b, 0, SELFVIRT_VSTAT_TX_ERRORS), ==, 2);

    /* management may allow it (a VIF in a guest's bridge) */
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, (uint32_t[]){
                     0, SELFVIRT_ATTR_SPOOF_CHECK, 0 }, 3), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, (uint32_t[]){
                     0, SELFVIRT_ATTR_SPOOF_CHECK, 2 }, 3), ==,
                     SELFVIRT_ST_BAD_ARG);
    frame_init(f, sizeof(f), mac_far, mac_vif1);
    post_frame(&b, 0, f, sizeof(f));
    g_assert_cmpuint(wire_recv(&b, got, sizeof(got), 2000), ==, sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    board_stop(&b);
}

/* INTx drops when the host switches the function to MSI. */
static void test_intx_after_msi(void)
{
    Board b;
    uint8_t f[64], cap;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    csr_wr(&b, SELFVIRT_REG_IRQ_MASK, 0);
    frame_init(f, sizeof(f), mac_vif1, mac_far);
    wire_send(&b, f, sizeof(f));
    WAIT_FOR(qpci_config_readw(b.dev, PCI_STATUS) & PCI_STATUS_INTERRUPT,
             "INTx not asserted");
    cap = qpci_find_capability(b.dev, PCI_CAP_ID_MSI, 0);
    qpci_config_writew(b.dev, cap + PCI_MSI_FLAGS,
                       qpci_config_readw(b.dev, cap + PCI_MSI_FLAGS) |
                       PCI_MSI_FLAGS_ENABLE);
    g_assert_cmphex(qpci_config_readw(b.dev, PCI_STATUS) &
                    PCI_STATUS_INTERRUPT, ==, 0);
    board_stop(&b);
}

/*
 * A window pointed at the board's own registers: the write is a master
 * abort, never an MMIO access from an engine thread.
 */
static void test_window_on_mmio(void)
{
    Board b;
    uint8_t f[64];
    uint64_t csr_addr;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    csr_addr = qpci_config_readl(b.dev, PCI_BASE_ADDRESS_0) & ~0xfull;
    csr_wr(&b, SELFVIRT_REG_WIN_LO(1), csr_addr | SELFVIRT_WIN_VALID);
    frame_init(f, sizeof(f), mac_vif1, mac_far);
    wire_send(&b, f, sizeof(f));
    WAIT_FOR(vif_stat(&b, 1, SELFVIRT_VSTAT_WIN_ABORTS) > 0,
             "no master abort on a window onto MMIO");
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_QUERY, NULL, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmphex(csr_rd(&b, SELFVIRT_REG_MBOX_RES(0)), ==, 1u << 1);
    board_stop(&b);
}

#ifdef SELFVIRT_TEST_RAM_DEVICE
/*
 * A window pointed at a ram_device region (here the TPM's Physical Presence
 * Interface page; VFIO's BARs are the same kind): QEMU writes it through
 * the MMIO path with the BQL, so it is a master abort as MMIO is, and the
 * page keeps its bytes.  The TPM needs an emulator on its chardev.
 */
static void test_window_on_ram_device(void)
{
    g_autofree char *dir = g_dir_make_tmp("selfvirt-tpm.XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "sock", NULL);
    g_autofree char *extra = g_strdup_printf(
        ",vifs=4 -chardev socket,id=chr,path=%s "
        "-tpmdev emulator,id=tpm,chardev=chr -device tpm-crb,tpmdev=tpm", sock);
    SocketAddress addr = {
        .type = SOCKET_ADDRESS_TYPE_UNIX, .u.q_unix.path = sock,
    };
    TPMTestState tpm = { .addr = &addr, .tpm_version = TPM_VERSION_2_0 };
    uint8_t before[0x400], after[0x400], f[64];
    GThread *emu;
    Board b;

    g_mutex_init(&tpm.data_mutex);
    g_cond_init(&tpm.data_cond);
    emu = g_thread_new(NULL, tpm_emu_ctrl_thread, &tpm);
    tpm_emu_test_wait_cond(&tpm);

    board_start(&b, extra);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    qtest_memread(b.qts, TPM_PPI_ADDR_BASE, before, sizeof(before));
    csr_wr(&b, SELFVIRT_REG_WIN_LO(1), TPM_PPI_ADDR_BASE | SELFVIRT_WIN_VALID);
    frame_init(f, sizeof(f), mac_vif1, mac_far);
    wire_send(&b, f, sizeof(f));
    WAIT_FOR(vif_stat(&b, 1, SELFVIRT_VSTAT_WIN_ABORTS) > 0,
             "no master abort on a window onto a ram_device region");
    /* the status block would have gone to the page's first bytes */
    qtest_memread(b.qts, TPM_PPI_ADDR_BASE, after, sizeof(after));
    g_assert_cmpmem(after, sizeof(after), before, sizeof(before));
    board_stop(&b);

    g_thread_join(emu);
    g_unlink(sock);
    g_rmdir(dir);
    g_mutex_clear(&tpm.data_mutex);
    g_cond_clear(&tpm.data_cond);
}
#endif

/*
 * VIF 1's MAC with another last byte: a MAC of no VIF, for the wire.  A
 * frame's destination flips between the two with one byte written, so the
 * board's copy never holds a mix of two MACs.
 */
#define MAC_VIF1_LAST 0x57
#define MAC_NEAR_LAST 0x58
static const uint8_t mac_near[6] = { 0x52, 0x54, 0x00, 0x12, 0x34,
                                     MAC_NEAR_LAST };

/* Frames on the wire, read without waiting; each is for mac_near. */
static uint32_t wire_take_near(Board *b, int quiet_ms)
{
    uint8_t got[128];
    uint32_t n = 0;

    while (wire_recv(b, got, sizeof(got), quiet_ms)) {
        g_assert_cmpmem(got, ETH_ALEN, mac_near, ETH_ALEN);
        n++;
    }
    return n;
}

/*
 * Finding 10b: the board routes a frame by the destination in its own
 * copy, not by what SDRAM held a moment before the copy.  A guest that
 * changes the MAC while the board sends cannot get a frame for the wire
 * into a VIF, nor a VIF's frame onto the wire.  Every descriptor of VIF
 * 0's send queue points at one buffer, whose destination the test flips
 * between VIF 1 and the wire while the board sends all along (paced by
 * VIF 0's rate limit, the queue kept full).
 */
static void test_mac_changed_while_sent(void)
{
    enum { N = SELFVIRT_QUEUE_MAX, FLIPS = 2000 };
    g_autofree struct selfvirt_tx_desc *d = g_new0(struct selfvirt_tx_desc, N);
    uint64_t buf = SELFVIRT_SQ_DATA_OFF(N);
    uint32_t to_wire = 0, prod = 0;
    uint8_t f[64], got[ETH_ALEN];
    Board b;

    g_assert_cmphex(mac_vif1[5], ==, MAC_VIF1_LAST);
    board_start(&b, ",vifs=4,inline-wake-us=0");    /* engine threads */
    g_assert_cmpuint(create_vif_queues(&b, 0, 0, N, 16), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, (uint32_t[]){
                     0, SELFVIRT_ATTR_RATE, 400 }, 3), ==, SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_near, mac_vif0);
    qpci_memwrite(b.dev, b.sdram, buf, f, sizeof(f));
    for (uint32_t i = 0; i < N; i++) {
        d[i].len = cpu_to_le32(sizeof(f));
    }
    qpci_memwrite(b.dev, b.sdram, SELFVIRT_SQ_DESC(0), d, N * sizeof(*d));
    for (uint32_t flip = 1; flip <= FLIPS; flip++) {
        prod = rq_word(&b, 0, RQ_TX_CONS) + N;
        qpci_io_writel(b.dev, b.sdram,
                       offsetof(struct selfvirt_sq_ctrl, tx_prod), prod);
        csr_wr(&b, SELFVIRT_REG_DOORBELL, 0);
        qpci_io_writeb(b.dev, b.sdram, buf + ETH_ALEN - 1,
                       flip & 1 ? MAC_VIF1_LAST : MAC_NEAR_LAST);
        to_wire += wire_take_near(&b, 0);
    }
    while (rq_word(&b, 0, RQ_TX_CONS) != prod) {
        to_wire += wire_take_near(&b, 1);
    }
    to_wire += wire_take_near(&b, 100);

    /* VIF 1 took the first of its frames (the rest were dropped, counted) */
    g_assert_cmpuint(rq_word(&b, 1, RQ_RX_PROD), ==, 16);
    for (uint32_t i = 0; i < 16; i++) {
        qtest_memread(b.qts, RQ_BASE + RQ_PAGE +
                      SELFVIRT_RQ_SLOT(16, 2048, i), got, ETH_ALEN);
        g_assert_cmpmem(got, ETH_ALEN, mac_vif1, ETH_ALEN);
    }
    g_test_message("%u flips, %u of %u frames to the wire", FLIPS, to_wire,
                   prod);
    g_assert_cmpuint(to_wire, >, 0);
    board_stop(&b);
}

/*
 * Post frame @f (64 bytes, to the wire) numbered *@posted on VIF 0 and ring,
 * if its send queue has room; false if it is full.
 */
static bool post_numbered(Board *b, uint8_t *f, uint32_t *posted)
{
    if (*posted - rq_word(b, 0, RQ_TX_CONS) >= TX_ENTRIES) {
        return false;
    }
    stl_le_p(f + 20, (*posted)++);
    post_quietly(b, 0, f, 64);
    csr_wr(b, SELFVIRT_REG_DOORBELL, 0);
    return true;
}

/* Frames from the wire until @quiet_ms pass without one; checks the order. */
static uint32_t wire_drain(Board *b, uint32_t *next, int quiet_ms)
{
    uint8_t got[128];
    uint32_t n = 0;

    while (wire_recv(b, got, sizeof(got), quiet_ms) == 64) {
        g_assert_cmpuint(ldl_le_p(got + 20), ==, *next);
        (*next)++;
        n++;
    }
    return n;
}

/*
 * A peer on the wire that reads nothing for a while: the board holds the
 * VIF's frames back rather than losing frames it has counted as sent (QEMU's
 * net queue drops what is queued past 10000 packets without a sent callback).
 */
static void test_slow_wire_loses_nothing(void)
{
    enum { FRAMES = 15000 };
    uint32_t posted = 0, next = 0, stuck = 0;
    uint8_t f[64];
    Board b;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_far, mac_vif0);
    while (posted < FRAMES) {
        if (post_numbered(&b, f, &posted)) {
            stuck = 0;
        } else if (++stuck > 50) {
            /* the board holds back: now the peer reads for a while */
            wire_drain(&b, &next, 5);
            stuck = 0;
        } else {
            g_usleep(1000);
        }
    }
    wire_drain(&b, &next, 1000);
    g_assert_cmpuint(next, ==, FRAMES);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(
                         SELFVIRT_STAT_WIRE_TX_FRAMES)), ==, FRAMES);
    board_stop(&b);
}

/*
 * A peer on the wire that reads nothing at all: the board's queues toward
 * it are bounded, so the VIF's send queue stops (the guest's frames wait in
 * its own SDRAM) instead of the board buffering whatever a guest posts.
 * Then the peer reads, and every frame arrives once, in order.  In both
 * modes (@data): the plain NIC mode's frames once took a path of their
 * own that dropped them on a full queue, counted as sent.
 */
static void test_wire_queue_bounded(const void *data)
{
    enum { FRAMES = 8000 };
    uint32_t mode[2] = { GPOINTER_TO_UINT(data), 0 };
    uint32_t posted = 0, next = 0, stuck = 0;
    uint8_t f[64];
    Board b;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_SET_MODE, mode, 2), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    frame_init(f, sizeof(f), mac_far, mac_vif0);
    while (posted < FRAMES && stuck < 200) {
        if (post_numbered(&b, f, &posted)) {
            stuck = 0;
        } else {
            stuck++;
            g_usleep(1000);
        }
    }
    /* the board's queues and the socket's buffer: far below FRAMES */
    g_assert_cmpuint(posted, <, FRAMES / 2);

    stuck = 0;
    while (next < FRAMES) {
        if (posted < FRAMES && post_numbered(&b, f, &posted)) {
            continue;
        }
        if (wire_drain(&b, &next, 5)) {
            stuck = 0;
        } else {
            g_assert_cmpuint(++stuck, <, 400);
        }
    }
    g_assert_cmpuint(next, ==, FRAMES);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(
                         SELFVIRT_STAT_WIRE_TX_FRAMES)), ==, FRAMES);
    board_stop(&b);
}

/*
 * Nine VIFs, spread over the egress engines' contexts, send numbered frames
 * into a wire that fills (the peer reads nothing until every send queue is
 * full) and drains (it reads until 5 ms pass without a frame), over and
 * over.  Every frame of every VIF arrives once and in its VIF's order, and
 * no VIF is left stuck (a lost wake-up would leave a queue waiting).
 * Before, an engine that found room in the port's queue and then lost it
 * to another engine dropped its frame (counted in tx_errors): one frame in
 * some 10,000, in about half the runs.
 */
static void test_many_vifs_into_a_filling_wire(void)
{
    enum { VIFS = 9, FRAMES = 1500 };
    uint32_t posted[VIFS] = {}, next[VIFS] = {}, total = 0, quiet = 0;
    uint8_t f[VIFS][64], got[128];
    Board b;

    board_start(&b, ",vifs=16");
    for (uint32_t v = 0; v < VIFS; v++) {
        g_assert_cmpuint(create_vif(&b, v, v), ==, SELFVIRT_ST_OK);
        frame_init(f[v], sizeof(f[v]), mac_far, mac_vif0);
        f[v][ETH_ALEN + 5] += v;             /* VIF v's MAC */
        f[v][24] = v;
    }
    while (total < VIFS * FRAMES) {
        bool room = false;

        for (uint32_t v = 0; v < VIFS; v++) {
            if (posted[v] < FRAMES &&
                posted[v] - rq_word(&b, v, RQ_TX_CONS) < TX_ENTRIES) {
                stl_le_p(f[v] + 20, posted[v]++);
                post_quietly(&b, v, f[v], sizeof(f[v]));
                csr_wr(&b, SELFVIRT_REG_DOORBELL, v);
                room = true;
            }
        }
        if (room) {
            continue;
        }
        /* every queue full or done: the wire drains for a while */
        while (wire_recv(&b, got, sizeof(got), 5) == 64) {
            uint32_t v = got[24];

            g_assert_cmpuint(v, <, VIFS);
            g_assert_cmpuint(ldl_le_p(got + 20), ==, next[v]);
            next[v]++;
            total++;
            quiet = 0;
        }
        g_assert_cmpuint(++quiet, <, 400);
    }
    for (uint32_t v = 0; v < VIFS; v++) {
        g_assert_cmpuint(next[v], ==, FRAMES);
        g_assert_cmpuint(rq_word(&b, v, RQ_TX_CONS), ==, FRAMES);
    }
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(
                         SELFVIRT_STAT_WIRE_TX_FRAMES)), ==, VIFS * FRAMES);
    board_stop(&b);
}

/* Post numbered frames to the wire until the socket and the board are full. */
static uint32_t fill_wire(Board *b)
{
    uint32_t posted = 0, stuck = 0;
    uint8_t f[64];

    frame_init(f, sizeof(f), mac_far, mac_vif0);
    while (stuck < 200) {
        if (post_numbered(b, f, &posted)) {
            stuck = 0;
        } else {
            stuck++;
            g_usleep(1000);
        }
    }
    return posted;
}

/*
 * netdev_del of a wire that holds a frame of the board's in its queue
 * takes the board's link down: the board drops that frame (at its next
 * look at the peer, on the virtual clock) instead of waiting for ever,
 * VIF 0's send queue drains, and VIF 1's broadcast reaches VIF 0.
 * Before, the port stayed busy for good and every VIF's frames behind it.
 */
static void test_busy_wire_deleted(void)
{
    uint8_t f[64];
    uint32_t posted;
    Board b;

    board_start(&b, ",vifs=4");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    g_assert_cmpuint(create_vif(&b, 1, 1), ==, SELFVIRT_ST_OK);
    posted = fill_wire(&b);
    qtest_qmp_assert_success(b.qts, "{'execute': 'netdev_del', "
                             "'arguments': {'id': 'wire'}}");
    qtest_clock_step(b.qts, 200 * 1000 * 1000);
    WAIT_FOR(rq_word(&b, 0, RQ_TX_CONS) == posted,
             "VIF 0 stuck at tx_cons %u of %u", rq_word(&b, 0, RQ_TX_CONS),
             posted);
    frame_init(f, sizeof(f), mac_bcast, mac_vif1);
    post_frame(&b, 1, f, sizeof(f));
    g_assert_true(wait_rq(&b, 0, RQ_RX_PROD, 1));
    board_stop(&b);
}

/*
 * Hot-unplug while a frame of the board's waits in the wire's queue: the
 * board takes it back first (as virtio-net does), so that the net layer
 * does not call the gone board when the peer reads again.  Before, it did.
 */
static void test_unplug_with_frame_queued(void)
{
    uint32_t next = 0;
    Board b;

    board_start(&b, ",vifs=4,id=sv");
    g_assert_cmpuint(create_vif(&b, 0, 0), ==, SELFVIRT_ST_OK);
    fill_wire(&b);
    qpci_unplug_acpi_device_test(b.qts, "sv", 4);
    wire_drain(&b, &next, 200);         /* the peer sends what it holds */
    g_assert_cmpuint(next, >, 0);
    qtest_qmp_assert_success(b.qts, "{'execute': 'query-status'}");
    board_stop(&b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#ifdef SELFVIRT_TEST_RAM_DEVICE
    module_call_init(MODULE_INIT_QOM);      /* the TPM emulator's channels */
#endif
    qtest_add_func("/selfvirt/isolation/wire-to-full-vif",
                   test_wire_to_full_vif);
    qtest_add_func("/selfvirt/isolation/vif-to-full-vif",
                   test_vif_to_full_vif);
    qtest_add_func("/selfvirt/isolation/tso-not-tcp", test_tso_not_tcp);
    qtest_add_func("/selfvirt/isolation/many-vifs-into-a-filling-wire",
                   test_many_vifs_into_a_filling_wire);
    qtest_add_func("/selfvirt/isolation/busy-wire-deleted",
                   test_busy_wire_deleted);
    qtest_add_func("/selfvirt/isolation/unplug-with-frame-queued",
                   test_unplug_with_frame_queued);
    qtest_add_func("/selfvirt/isolation/tso-to-group", test_tso_to_group);
    qtest_add_func("/selfvirt/isolation/page-shift-live",
                   test_page_shift_live);
    qtest_add_func("/selfvirt/isolation/spoofed-source", test_spoofed_source);
    qtest_add_func("/selfvirt/isolation/intx-after-msi", test_intx_after_msi);
    qtest_add_func("/selfvirt/isolation/window-on-mmio", test_window_on_mmio);
#ifdef SELFVIRT_TEST_RAM_DEVICE
    qtest_add_func("/selfvirt/isolation/window-on-ram-device",
                   test_window_on_ram_device);
#endif
    qtest_add_func("/selfvirt/isolation/mac-changed-while-sent",
                   test_mac_changed_while_sent);
    qtest_add_func("/selfvirt/isolation/slow-wire-loses-nothing",
                   test_slow_wire_loses_nothing);
    qtest_add_data_func("/selfvirt/isolation/wire-queue-bounded",
                        GUINT_TO_POINTER(SELFVIRT_MODE_SELF_VIRT),
                        test_wire_queue_bounded);
    qtest_add_data_func("/selfvirt/isolation/wire-queue-bounded-nic-mode",
                        GUINT_TO_POINTER(SELFVIRT_MODE_NIC),
                        test_wire_queue_bounded);
    return g_test_run();
}
