/*
 * QTest testcase for selfvirt-nic: a migration stream is guest input too
 *
 * Every field the device loads is checked; a crafted stream is refused
 * with an error and never loaded.  The test saves a board to a file,
 * patches one field (found after a marker value the test set) and loads
 * the result into a new QEMU.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "selfvirt-qtest.h"

/* Markers: VIF 1's and VIF 2's MACs, and the (invalid) window entry 63. */
static const uint8_t mac_mark1[6] = { 0x02, 0x5e, 0x1f, 0xc0, 0xff, 0x01 };
static const uint8_t mac_mark2[6] = { 0x02, 0x5e, 0x1f, 0xc0, 0xff, 0x02 };
#define WIN_HI_MARK 0x5e1f0a11u

/*
 * Offsets in the stream (VMState writes fields in order, big-endian):
 * from win_hi[63] in the board's section, and from a VIF's MAC.
 */
#define AFTER_WIN_MSIX_PENDING1 24
#define AFTER_WIN_MODE          100
#define AFTER_MAC_TX_ENTRIES    6
#define AFTER_MAC_RX_ENTRIES    10
#define AFTER_MAC_RX_BUF_SIZE   14
#define AFTER_MAC_WIN_FIRST     27
#define AFTER_MAC_RATE          39
#define AFTER_MAC_WEIGHT        43

/* The identifier width's subsection: its name, then version, then width */
#define IRQ_WIDTH_SECTION       "selfvirt-nic/irq-width"
#define AFTER_SECTION_WIDTH     (sizeof(IRQ_WIDTH_SECTION) - 1 + 4)

/*
 * Signal moderation's subsection: its name, version, a gap per VIF slot
 * (a slot per window), then held[2]
 */
#define SIGNAL_GAP_SECTION      "selfvirt-nic/signal-gap"
#define AFTER_SECTION_GAP(v)    (sizeof(SIGNAL_GAP_SECTION) - 1 + 4 + 4 * (v))
#define AFTER_SECTION_HELD(k) \
    (AFTER_SECTION_GAP(SELFVIRT_WIN_ENTRIES) + 8 * (k))

typedef struct {
    const char *name;
    const char *props;          /* of both boards */
    uint32_t irq_width;         /* management's, or 0: the board's own */
    /*
     * 0: win_hi[63], 1/2: VIF 1's/2's MAC, 3: the width's subsection,
     * 4: the signal gaps'
     */
    int anchor;
    unsigned off;
    unsigned size;              /* 4 or 8 bytes */
    uint64_t val;
    uint32_t gap_us;            /* VIF 1's signal gap, or 0: none */
} StreamPatch;

static const StreamPatch patches[] = {
    { "msix-vector-past-table", ",irq-mode=msix", 0, 0,
      AFTER_WIN_MSIX_PENDING1, 8, 1 },
    { "nic-mode-with-vif-1", "", 0, 0, AFTER_WIN_MODE, 4, SELFVIRT_MODE_NIC },
    { "weight-0", "", 0, 1, AFTER_MAC_WEIGHT, 4, 0 },
    { "weight-huge", "", 0, 1, AFTER_MAC_WEIGHT, 4, 1000000 },
    { "rate-huge", "", 0, 1, AFTER_MAC_RATE, 4, 1u << 31 },
    { "rx-buf-huge", "", 0, 1, AFTER_MAC_RX_BUF_SIZE, 4, 0xffffffc0u },
    { "tx-entries-2", "", 0, 1, AFTER_MAC_TX_ENTRIES, 4, 2 },
    { "rx-ring-past-windows", "", 0, 1, AFTER_MAC_RX_ENTRIES, 4, 4096 },
    { "windows-shared", "", 0, 2, AFTER_MAC_WIN_FIRST, 4, 1 },
    { "irq-width-0", "", 4, 3, AFTER_SECTION_WIDTH, 4, 0 },
    { "irq-width-past-board", ",irq-id-width=8", 4, 3, AFTER_SECTION_WIDTH,
      4, 9 },
    /* checked before any shift by it (UBSan, make check-sanitizers) */
    { "irq-width-32", "", 4, 3, AFTER_SECTION_WIDTH, 4, 32 },
    { "signal-gap-huge", "", 0, 4, AFTER_SECTION_GAP(1), 4,
      SELFVIRT_SIGNAL_GAP_MAX_US + 1, 100 },
    { "signal-gap-without-vif", "", 0, 4, AFTER_SECTION_GAP(3), 4, 100, 100 },
    { "signal-held-without-vif", "", 0, 4, AFTER_SECTION_HELD(1), 8,
      1u << 3, 100 },
};

static uint32_t create_marked_vif(Board *b, uint32_t v, uint32_t win,
                                  const uint8_t *mac)
{
    uint32_t args[6] = { v, ldl_le_p(mac), lduw_le_p(mac + 4),
                         SELFVIRT_QUEUES(TX_ENTRIES, TX_ENTRIES),
                         SELFVIRT_WINDOWS(win, 1), 2048 };

    csr_wr(b, SELFVIRT_REG_WIN_HI(win), 0);
    csr_wr(b, SELFVIRT_REG_WIN_LO(win),
           (uint32_t)(RQ_BASE + win * RQ_PAGE) | SELFVIRT_WIN_VALID);
    return mbox(b, SELFVIRT_CMD_VIF_CREATE, args, 6);
}

/*
 * A board with VIFs 1 and 2; management set identifier width @irq_width
 * first, unless 0, and VIF 1's signal gap @gap_us.
 */
static void marked_board_start(Board *b, const char *props,
                               uint32_t irq_width, uint32_t gap_us)
{
    uint32_t gap[3] = { 1, SELFVIRT_ATTR_SIGNAL_GAP, gap_us };
    g_autofree char *opts = g_strdup_printf(",vifs=4,sdram-size=16M%s",
                                            props);

    board_start(b, opts);
    if (irq_width) {
        csr_wr(b, SELFVIRT_REG_IRQ_INFO, irq_width);
    }
    g_assert_cmpuint(create_marked_vif(b, 1, 1, mac_mark1), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmpuint(create_marked_vif(b, 2, 2, mac_mark2), ==,
                     SELFVIRT_ST_OK);
    g_assert_cmpuint(mbox(b, SELFVIRT_CMD_VIF_SET, gap, 3), ==,
                     SELFVIRT_ST_OK);
}

/* Board @b saved to @path, and stopped. */
static void board_save_stop(Board *b, const char *path)
{
    g_autofree char *uri = g_strdup_printf("file:%s", path);

    qtest_qmp_assert_success(b->qts, "{'execute': 'migrate', "
                             "'arguments': {'uri': %s}}", uri);
    g_assert_cmpstr(wait_migration(b->qts), ==, "completed");
    board_stop(b);
}

/* marked_board_start()'s board, window 63 marked, saved to @path. */
static void save_board(const char *props, uint32_t irq_width,
                       uint32_t gap_us, const char *path)
{
    Board b;

    marked_board_start(&b, props, irq_width, gap_us);
    csr_wr(&b, SELFVIRT_REG_WIN_HI(63), WIN_HI_MARK);
    board_save_stop(&b, path);
}

/*
 * Load @path into a new board; returns the migration's end state.  A
 * loaded board has identifier width @irq_width, unless 0.
 */
static const char *load_board(const char *props, uint32_t irq_width,
                              const char *path)
{
    g_autofree char *opts = g_strdup_printf(",vifs=4,sdram-size=16M%s "
                                            "-incoming defer", props);
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    const char *end;
    Board b;

    board_launch(&b, opts);
    qtest_qmp_assert_success(b.qts, "{'execute': 'migrate-incoming', "
                             "'arguments': {'uri': %s, "
                             "'exit-on-error': false}}", uri);
    end = wait_migration(b.qts);
    if (!strcmp(end, "completed")) {
        /* a loaded board must keep working: a signal for VIF 1 */
        uint8_t f[64];

        board_attach(&b);
        if (irq_width) {
            g_assert_cmpuint(SELFVIRT_IRQ_INFO_WIDTH(csr_rd(&b,
                             SELFVIRT_REG_IRQ_INFO)), ==, irq_width);
        }
        frame_init(f, sizeof(f), mac_mark1, mac_far);
        wire_send(&b, f, sizeof(f));
        g_assert_true(wait_rq(&b, 1, RQ_RX_PROD, 1));
        g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_QUERY, NULL, 0), ==,
                         SELFVIRT_ST_OK);
    }
    board_stop(&b);
    return end;
}

/* Where the last copy of @mark is in @buf (the device state comes last). */
static size_t find_last(const uint8_t *buf, size_t len, const void *mark,
                        size_t mark_len)
{
    size_t found = 0;
    bool any = false;

    for (size_t i = 0; i + mark_len <= len; i++) {
        if (!memcmp(buf + i, mark, mark_len)) {
            found = i;
            any = true;
        }
    }
    g_assert_true(any);
    return found;
}

static void test_stream_intact(void)
{
    g_autofree char *path = g_strdup_printf("%s/selfvirt-stream-%d",
                                            g_get_tmp_dir(), getpid());

    save_board("", 0, 0, path);
    g_assert_cmpstr(load_board("", 0, path), ==, "completed");
    unlink(path);
}

/*
 * A board of another geometry (3 VIFs, so another partition size) refuses
 * the stream: its VIFs' queues would sit at other SDRAM offsets.  Before,
 * the stream loaded and VIF 1 read its neighbour's partition.
 */
static void test_stream_other_geometry(void)
{
    g_autofree char *path = g_strdup_printf("%s/selfvirt-stream-%d",
                                            g_get_tmp_dir(), getpid());

    save_board("", 0, 0, path);
    g_assert_cmpstr(load_board(",vifs=3", 0, path), ==, "failed");
    unlink(path);
}

/*
 * A signal held for a VIF that management then destroys goes with it: a
 * stream saved after that does not carry it, and loads.
 */
static void test_stream_held_signal_of_gone_vif(void)
{
    g_autofree char *path = g_strdup_printf("%s/selfvirt-stream-%d",
                                            g_get_tmp_dir(), getpid());
    uint32_t gap[3] = { 2, SELFVIRT_ATTR_SIGNAL_GAP, 1000 };
    uint32_t vif = 2;
    uint8_t f[64];
    Board b;

    /* VIF 1 keeps a gap, so the subsection is sent */
    marked_board_start(&b, "", 0, 1000);
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_SET, gap, 3), ==,
                     SELFVIRT_ST_OK);
    qpci_io_writel(b.dev, b.sdram, 2 * b.part_size +
                   offsetof(struct selfvirt_sq_ctrl, signal_enable),
                   SELFVIRT_SIGNAL_RX);
    /* the second receive signal falls in the gap: the clock stands still */
    frame_init(f, sizeof(f), mac_mark2, mac_far);
    for (uint32_t i = 1; i <= 2; i++) {
        wire_send(&b, f, sizeof(f));
        g_assert_true(wait_rq(&b, 2, RQ_RX_PROD, i));
        g_usleep(50 * 1000);    /* the signal decided, after rx_prod */
    }
    g_assert_cmpuint(mbox(&b, SELFVIRT_CMD_VIF_DESTROY, &vif, 1), ==,
                     SELFVIRT_ST_OK);
    board_save_stop(&b, path);
    g_assert_cmpstr(load_board("", 0, path), ==, "completed");
    unlink(path);
}

/*
 * Subsection @name is absent from a board saved with identifier width
 * @plain_width and no signal gap, and one saved with @width and VIF 1's
 * gap @gap_us carries it and loads.
 */
static void check_subsection(const char *name, uint32_t plain_width,
                             uint32_t width, uint32_t gap_us)
{
    g_autofree char *path = g_strdup_printf("%s/selfvirt-stream-%d",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *buf = NULL;
    size_t len;

    save_board("", plain_width, 0, path);
    g_assert_true(g_file_get_contents(path, &buf, &len, NULL));
    g_assert_null(memmem(buf, len, name, strlen(name)));
    g_free(buf);
    save_board("", width, gap_us, path);
    g_assert_true(g_file_get_contents(path, &buf, &len, NULL));
    g_assert_nonnull(memmem(buf, len, name, strlen(name)));
    g_assert_cmpstr(load_board("", width, path), ==, "completed");
    unlink(path);
}

/* The width management chose travels with the board, and only then. */
static void test_stream_irq_width(void)
{
    check_subsection(IRQ_WIDTH_SECTION, 16, 4, 0);
}

/* A VIF's signal gap travels with the board, and only when one is set. */
static void test_stream_signal_gap(void)
{
    check_subsection(SIGNAL_GAP_SECTION, 0, 0, 100);
}

static void test_stream_patched(gconstpointer data)
{
    const StreamPatch *p = data;
    g_autofree char *path = g_strdup_printf("%s/selfvirt-stream-%d",
                                            g_get_tmp_dir(), getpid());
    g_autofree uint8_t *buf = NULL;
    g_autoptr(GError) err = NULL;
    uint8_t win_mark[4];
    size_t len, at;

    save_board(p->props, p->irq_width, p->gap_us, path);
    g_assert_true(g_file_get_contents(path, (char **)&buf, &len, &err));
    stl_be_p(win_mark, WIN_HI_MARK);
    if (p->anchor >= 3) {
        /* the first copy: the stream's JSON description names it again */
        const char *name = p->anchor == 3 ? IRQ_WIDTH_SECTION
                                          : SIGNAL_GAP_SECTION;
        uint8_t *sec = memmem(buf, len, name, strlen(name));

        g_assert_nonnull(sec);
        at = sec - buf;
    } else if (p->anchor) {
        at = find_last(buf, len, p->anchor == 1 ? mac_mark1 : mac_mark2, 6);
    } else {
        at = find_last(buf, len, win_mark, 4);
    }
    g_assert_cmpuint(at + p->off + p->size, <=, len);
    if (p->size == 8) {
        stq_be_p(buf + at + p->off, p->val);
    } else {
        stl_be_p(buf + at + p->off, p->val);
    }
    g_assert_true(g_file_set_contents(path, (char *)buf, len, &err));
    g_assert_cmpstr(load_board(p->props, p->irq_width, path), ==, "failed");
    unlink(path);
}

/*
 * A signal the source had not sent yet (a bit of msix_pending: saved
 * between an engine's signal and its bottom half) is sent by the
 * destination once it runs: here VIF 2's transmit vector, masked, so that
 * it shows in the PBA.  Before, the destination never sent it.
 */
static void test_stream_pending_signal_raised(void)
{
    g_autofree char *path = g_strdup_printf("%s/selfvirt-stream-%d",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    g_autofree uint8_t *buf = NULL;
    g_autoptr(GError) err = NULL;
    unsigned vec = SELFVIRT_MSIX_TX_VEC(2);
    uint8_t win_mark[4];
    size_t len, at;
    Board b;

    marked_board_start(&b, ",irq-mode=msix", 0, 0);
    qpci_msix_enable(b.dev);                 /* vectors start masked */
    csr_wr(&b, SELFVIRT_REG_WIN_HI(63), WIN_HI_MARK);
    board_save_stop(&b, path);
    g_assert_true(g_file_get_contents(path, (char **)&buf, &len, &err));
    stl_be_p(win_mark, WIN_HI_MARK);
    at = find_last(buf, len, win_mark, 4);
    stq_be_p(buf + at + AFTER_WIN_MSIX_PENDING1 - 8, 1ull << vec);
    g_assert_true(g_file_set_contents(path, (char *)buf, len, &err));

    board_launch(&b, ",vifs=4,sdram-size=16M,irq-mode=msix -incoming defer");
    qtest_qmp_assert_success(b.qts, "{'execute': 'migrate-incoming', "
                             "'arguments': {'uri': %s}}", uri);
    g_assert_cmpstr(wait_migration(b.qts), ==, "completed");
    board_attach(&b);
    qpci_msix_enable(b.dev);
    WAIT_FOR(qpci_msix_pending(b.dev, vec), "vector %u never raised", vec);
    g_assert_false(qpci_msix_pending(b.dev, SELFVIRT_MSIX_RX_VEC(2)));
    board_stop(&b);
    unlink(path);
}

/* The next frame on the wire but the RARPs QEMU announces a VM with. */
static uint32_t wire_recv_not_rarp(Board *b, uint8_t *buf, uint32_t size,
                                   int ms)
{
    uint32_t len;

    do {
        len = wire_recv(b, buf, size, ms);
    } while (len && lduw_be_p(buf + 12) == 0x8035);     /* ETH_P_RARP */
    return len;
}

/*
 * Frames posted while the VM is stopped are sent once, by the destination:
 * the stream carries tx_cons, the engines are parked from the stop on.
 */
static void test_posted_frames_sent_once(void)
{
    g_autofree char *uri = g_strdup_printf("unix:%s/selfvirt-mig-%d.sock",
                                           g_get_tmp_dir(), getpid());
    g_autofree char *incoming = g_strdup_printf(",vifs=4 -incoming %s", uri);
    Board src, dst;
    uint8_t f[100], got[256];

    board_start(&src, ",vifs=4");
    g_assert_cmpuint(create_vif(&src, 0, 0), ==, SELFVIRT_ST_OK);
    qtest_qmp_assert_success(src.qts, "{'execute': 'stop'}");
    for (int i = 0; i < 10; i++) {
        frame_init(f, sizeof(f), mac_far, mac_vif0);
        f[20] = i;
        post_quietly(&src, 0, f, sizeof(f));
    }
    csr_wr(&src, SELFVIRT_REG_DOORBELL, 0);
    g_assert_cmpuint(wire_recv(&src, got, sizeof(got), 200), ==, 0);
    g_assert_cmpuint(rq_word(&src, 0, RQ_TX_CONS), ==, 0);

    board_launch(&dst, incoming);
    qtest_qmp_assert_success(src.qts, "{'execute': 'migrate', "
                             "'arguments': {'uri': %s}}", uri);
    g_assert_cmpstr(wait_migration(src.qts), ==, "completed");
    board_attach(&dst);
    qtest_qmp_assert_success(dst.qts, "{'execute': 'cont'}");
    for (int i = 0; i < 10; i++) {
        g_assert_cmpuint(wire_recv_not_rarp(&dst, got, sizeof(got), 2000), ==,
                         sizeof(f));
        g_assert_cmpuint(got[20], ==, i);
    }
    g_assert_cmpuint(wire_recv_not_rarp(&dst, got, sizeof(got), 200), ==, 0);
    g_assert_cmpuint(wire_recv_not_rarp(&src, got, sizeof(got), 200), ==, 0);
    g_assert_cmpuint(rq_word(&dst, 0, RQ_TX_CONS), ==, 10);
    board_stop(&dst);
    board_stop(&src);
    unlink(uri + strlen("unix:"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/selfvirt/migration-stream/intact", test_stream_intact);
    qtest_add_func("/selfvirt/migration-stream/other-geometry",
                   test_stream_other_geometry);
    qtest_add_func("/selfvirt/migration-stream/pending-signal-raised",
                   test_stream_pending_signal_raised);
    qtest_add_func("/selfvirt/migration-stream/irq-width",
                   test_stream_irq_width);
    qtest_add_func("/selfvirt/migration-stream/signal-gap",
                   test_stream_signal_gap);
    qtest_add_func("/selfvirt/migration-stream/held-signal-of-gone-vif",
                   test_stream_held_signal_of_gone_vif);
    qtest_add_func("/selfvirt/migration/posted-frames-sent-once",
                   test_posted_frames_sent_once);
    for (size_t i = 0; i < ARRAY_SIZE(patches); i++) {
        g_autofree char *name = g_strdup_printf("/selfvirt/migration-stream/%s",
                                                patches[i].name);

        qtest_add_data_func(name, &patches[i], test_stream_patched);
    }
    return g_test_run();
}
