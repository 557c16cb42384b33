/*
 * selfvirt-nic benchmark without a guest: frames per second through the
 * on-board switch (VIF to VIF) per micro-engine configuration, and the
 * device's CPU time while 32 VIFs are idle.  Each rate is the median of
 * REPEATS runs, with the CPU time QEMU used per frame beside it, and the
 * host's memcpy of a frame as the peer for that time.
 *
 *   meson test -C build/qemu-x86_64 --benchmark --suite selfvirt -v
 *
 * With SELFVIRT_BENCH_SAVE=FILE the figures go to FILE as JSON too
 * (scripts/bench-device.py adds the date, commit and host load).
 *
 * The qtest protocol only posts work and watches indexes; the frames are
 * moved by the board's micro-engine threads inside QEMU.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <math.h>
#include "hw/pci/pci_regs.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "selfvirt-board.h"

#define ENTRIES     1024
#define RQ_BASE     0x1000000ull
#define WIN_SHIFT   22              /* 4 MiB: one window per VIF */
#define ROUNDS      64
#define REPEATS     5

/* Every figure printed, for SELFVIRT_BENCH_SAVE */
static QDict *figures;

static void board_start(Board *b, const char *opts)
{
    b->wire[0] = b->wire[1] = -1;
    b->qts = qtest_initf("-M pc -m 512 -nodefaults -name debug-threads=on "
                         "-device selfvirt-nic,addr=04.0,%s", opts);
    board_attach(b);
    csr_wr(b, SELFVIRT_REG_WIN_PAGE_SHIFT, WIN_SHIFT);
}

static uint64_t rq_addr(uint32_t v)
{
    return RQ_BASE + ((uint64_t)v << WIN_SHIFT);
}

static void create_vif(Board *b, uint32_t v)
{
    uint32_t args[6] = { v, 0, 0, SELFVIRT_QUEUES(ENTRIES, ENTRIES),
                         SELFVIRT_WINDOWS(v, 1), 2048 };

    csr_wr(b, SELFVIRT_REG_WIN_HI(v), 0);
    csr_wr(b, SELFVIRT_REG_WIN_LO(v), rq_addr(v) | SELFVIRT_WIN_VALID);
    g_assert_cmpuint(mbox(b, SELFVIRT_CMD_VIF_CREATE, args, 6), ==,
                     SELFVIRT_ST_OK);
}

/* Nanoseconds on a CPU of QEMU's threads whose name has @role (NULL: all). */
static double thread_cpu_ns(pid_t pid, const char *role)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/task", pid);
    g_autoptr(GDir) tasks = g_dir_open(dir, 0, NULL);
    const char *tid;
    double sum = 0;

    g_assert_nonnull(tasks);
    while ((tid = g_dir_read_name(tasks))) {
        g_autofree char *comm_path = g_strdup_printf("%s/%s/comm", dir, tid);
        g_autofree char *sched_path = g_strdup_printf("%s/%s/schedstat", dir,
                                                      tid);
        g_autofree char *comm = NULL;
        g_autofree char *sched = NULL;

        /* schedstat's first field: time on a CPU, in ns (not clock ticks) */
        if (g_file_get_contents(comm_path, &comm, NULL, NULL) &&
            (!role || (g_str_has_prefix(comm, "svme") && strstr(comm, role))) &&
            g_file_get_contents(sched_path, &sched, NULL, NULL)) {
            sum += g_ascii_strtod(sched, NULL);
        }
    }
    return sum;
}

static double cpu_seconds(pid_t pid)
{
    return thread_cpu_ns(pid, NULL) / 1e9;
}

typedef struct SwitchRun {
    double fps;             /* frames per second */
    double cpu_ns;          /* QEMU's CPU time per frame */
    double egress_ns;       /* the egress engines' CPU time per frame */
    double ingress_ns;      /* the ingress engine's */
} SwitchRun;

/* Frames per second VIF 2k -> VIF 2k+1 for @pairs pairs of @len bytes. */
static SwitchRun switch_rate(const char *opts, unsigned pairs, uint32_t len)
{
    SwitchRun run;
    double cpu0, egress0, ingress0;
    pid_t pid;
    Board b;
    g_autofree uint8_t *frame = g_malloc0(len);
    g_autofree uint32_t *descs = g_new0(uint32_t, 4 * ENTRIES);
    int64_t start, end;

    board_start(&b, opts);
    for (unsigned v = 0; v < 2 * pairs; v++) {
        create_vif(&b, v);
    }
    for (unsigned i = 0; i < ENTRIES; i++) {
        descs[4 * i + 1] = len;             /* every descriptor: buf 0 */
    }
    for (unsigned p = 0; p < pairs; p++) {
        uint32_t part = 2 * p * b.part_size;

        /* from VIF 2p's default MAC to VIF 2p+1's (the spoof check) */
        static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

        memcpy(frame, mac, 6);
        frame[5] += 2 * p + 1;
        memcpy(frame + 6, mac, 6);
        frame[11] += 2 * p;
        frame[12] = 0x88; frame[13] = 0xb5;
        qpci_memwrite(b.dev, b.sdram, part + SELFVIRT_SQ_DATA_OFF(ENTRIES),
                      frame, len);
        qpci_memwrite(b.dev, b.sdram, part + SELFVIRT_SQ_DESC_OFF, descs,
                      4 * 4 * ENTRIES);
    }

    pid = qtest_pid(b.qts);
    cpu0 = cpu_seconds(pid);
    egress0 = thread_cpu_ns(pid, "-egress");
    ingress0 = thread_cpu_ns(pid, "-ingress");
    start = g_get_monotonic_time();
    for (unsigned r = 1; r <= ROUNDS; r++) {
        for (unsigned p = 0; p < pairs; p++) {
            /* the receiver has taken the last round; the sender posts more */
            qpci_io_writel(b.dev, b.sdram, (2 * p + 1) * b.part_size + 4,
                           (r - 1) * ENTRIES);
            qpci_io_writel(b.dev, b.sdram, 2 * p * b.part_size, r * ENTRIES);
            csr_wr(&b, SELFVIRT_REG_DOORBELL, 2 * p);
            csr_wr(&b, SELFVIRT_REG_DOORBELL, 2 * p + 1);
        }
        /*
         * Watch one receiver at a time, sleeping between looks: each look
         * is a round trip through QEMU's main loop, and a watcher that
         * polls flat out takes a core from the board's engines.
         */
        for (unsigned p = 0; p < pairs; p++) {
            while (qtest_readl(b.qts, rq_addr(2 * p + 1)) != r * ENTRIES) {
                g_usleep(100);
            }
        }
    }
    end = g_get_monotonic_time();
    run.cpu_ns = (cpu_seconds(pid) - cpu0) * 1e9 / (pairs * ENTRIES * ROUNDS);
    run.egress_ns = (thread_cpu_ns(pid, "-egress") - egress0) /
                    (pairs * ENTRIES * ROUNDS);
    run.ingress_ns = (thread_cpu_ns(pid, "-ingress") - ingress0) /
                     (pairs * ENTRIES * ROUNDS);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_BAD_DESC)),
                     ==, 0);
    g_assert_cmpuint(csr_rd(&b, SELFVIRT_REG_STAT(SELFVIRT_STAT_TX_SPOOFED)),
                     ==, 0);
    board_stop(&b);
    run.fps = (double)pairs * ENTRIES * ROUNDS * 1e6 / (end - start);
    return run;
}

static int cmp_run(const void *a, const void *b)
{
    double x = ((const SwitchRun *)a)->fps, y = ((const SwitchRun *)b)->fps;

    return (x > y) - (x < y);
}

/* The run with the median rate of REPEATS. */
static SwitchRun switch_rate_median(const char *opts, unsigned pairs,
                                    uint32_t len)
{
    SwitchRun runs[REPEATS];

    for (unsigned i = 0; i < REPEATS; i++) {
        runs[i] = switch_rate(opts, pairs, len);
    }
    qsort(runs, REPEATS, sizeof(runs[0]), cmp_run);
    return runs[REPEATS / 2];
}

static void bench_switch(void)
{
    static const struct { const char *opts; unsigned egress; } cfg[] = {
        /* the engines' own work: no turn on the main loop's doorbells */
        { "vifs=16,engines=4,inline-wake-us=0", 1 },
        { "vifs=16,engines=6,inline-wake-us=0", 3 },
        { "vifs=16,engines=8,inline-wake-us=0", 5 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cfg); i++) {
        for (uint32_t len = 64; len <= 1514; len += 1450) {
            SwitchRun run = switch_rate_median(cfg[i].opts, 8, len);

            QDict *row = qdict_new();

            qdict_put_str(row, "board", cfg[i].opts);
            qdict_put_int(row, "egress_engines", cfg[i].egress);
            qdict_put_int(row, "frame_bytes", len);
            qdict_put_int(row, "frames_per_s", llround(run.fps));
            qdict_put_int(row, "cpu_ns_qemu", llround(run.cpu_ns));
            qdict_put_int(row, "cpu_ns_egress", llround(run.egress_ns));
            qdict_put_int(row, "cpu_ns_ingress", llround(run.ingress_ns));
            qlist_append(qdict_get_qlist(figures, "switch"), row);
            g_test_message("switch VIF->VIF, 8 pairs, %4u-byte frames, %s: "
                           "%8.0f frames/s, %8.0f per egress engine, "
                           "%6.0f Mbit/s; CPU ns/frame: QEMU %4.0f, "
                           "egress %4.0f, ingress %4.0f",
                           len, cfg[i].opts, run.fps, run.fps / cfg[i].egress,
                           run.fps * len * 8 / 1e6, run.cpu_ns,
                           run.egress_ns, run.ingress_ns);
        }
    }
}

/*
 * The peer for the board's per-frame CPU time: this host's memcpy of a
 * frame from one hot buffer (a send queue's) into a working set of 2 KiB
 * slots as large as the 8 receivers' rings (16 MiB).  A frame crosses the
 * board with two copies, one per engine.
 */
static void bench_copy(void)
{
    const size_t slot = 2048, set = 8 * ENTRIES * slot, copies = 2000000;
    g_autofree uint8_t *dst = g_malloc0(set);
    uint8_t src[1514];

    memset(src, 0x5a, sizeof(src));
    for (uint32_t len = 64; len <= 1514; len += 1450) {
        g_autofree char *key = g_strdup_printf("memcpy_ns_%u", len);
        int64_t start = g_get_monotonic_time();
        double ns;

        for (size_t i = 0; i < copies; i++) {
            memcpy(dst + (i % (set / slot)) * slot, src, len);
            src[0] = i;             /* one copy's data is not the next's */
        }
        ns = (g_get_monotonic_time() - start) * 1e3 / copies;
        qdict_put(figures, key, qnum_from_double(round(ns * 10) / 10));
        g_test_message("memcpy of a %4u-byte frame into a %zu MiB working "
                       "set: %5.1f ns", len, set >> 20, ns);
    }
}

static void bench_idle_cpu(void)
{
    Board b;
    double t0, t1;

    board_start(&b, "vifs=32,sdram-size=256M");
    csr_wr(&b, SELFVIRT_REG_WIN_PAGE_SHIFT, 20);
    for (unsigned v = 0; v < 32; v++) {
        uint32_t args[6] = { v, 0, 0, SELFVIRT_QUEUES(256, 256),
                             SELFVIRT_WINDOWS(v, 1), 2048 };

        csr_wr(&b, SELFVIRT_REG_WIN_LO(v),
               (RQ_BASE + ((uint64_t)v << 20)) | SELFVIRT_WIN_VALID);
        for (int i = 0; i < SELFVIRT_MBOX_NARGS; i++) {
            csr_wr(&b, SELFVIRT_REG_MBOX_ARG(i), i < 6 ? args[i] : 0);
        }
        csr_wr(&b, SELFVIRT_REG_MBOX_CMD, SELFVIRT_CMD_VIF_CREATE);
    }
    g_usleep(500 * 1000);
    t0 = cpu_seconds(qtest_pid(b.qts));
    g_usleep(5 * 1000 * 1000);
    t1 = cpu_seconds(qtest_pid(b.qts));
    qdict_put(figures, "idle_core_percent",
              qnum_from_double(round((t1 - t0) / 5 * 1e4) / 100));
    g_test_message("idle: 32 VIFs, QEMU (qtest accel, so device and main "
                   "loop only) used %.3f s of CPU in 5 s (%.2f%% of a core)",
                   t1 - t0, (t1 - t0) / 5 * 100);
    board_stop(&b);
}

/* The figures as JSON in $SELFVIRT_BENCH_SAVE, when it is set. */
static void save_figures(void)
{
    const char *path = g_getenv("SELFVIRT_BENCH_SAVE");
    g_autoptr(GString) json = NULL;
    g_autoptr(GError) err = NULL;

    if (!path) {
        return;
    }
    json = qobject_to_json_pretty(QOBJECT(figures), true);
    if (!g_file_set_contents(path, json->str, json->len, &err)) {
        g_printerr("selfvirt-bench: %s\n", err->message);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    figures = qdict_new();
    qdict_put_int(figures, "repeats", REPEATS);
    qdict_put(figures, "switch", qlist_new());
    qtest_add_func("/selfvirt-bench/switch", bench_switch);
    qtest_add_func("/selfvirt-bench/copy", bench_copy);
    qtest_add_func("/selfvirt-bench/idle-cpu", bench_idle_cpu);
    ret = g_test_run();
    save_figures();
    qobject_unref(figures);
    return ret;
}
