// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * selfvirt-mdev-fuzz: a hostile user of a VIF handed out as a VFIO
 * mediated device, from user space (tests/guest/test_mdev_fuzz.py,
 * make fuzz-mdev).
 *
 *   selfvirt-mdev-fuzz UUID SECONDS SEED
 *
 * For SECONDS it makes, at random (SEED), region reads and writes at
 * random offsets and sizes, mmaps of random ranges with random rights
 * (a byte of each mapping touched), VFIO ioctls (SET_IRQS with random
 * indexes, ranges, flags and eventfds; RESET; GET_REGION_INFO and
 * GET_IRQ_INFO with random indexes and sizes), garbage descriptors and
 * indexes in its send queue, doorbell storms, and closes and reopens of
 * the device.  Errors are the expected answer; what must not happen is a
 * kernel report, a hang, or another VIF disturbed (the test watches
 * those).  Most choices are legal, so that the driver's real paths run,
 * and some mappings live on across resets and past the device's close.
 * Prints "ops N", and per operation how often it ran and how often the
 * kernel took it (op_NAME, ok_NAME); exits 1 if the device could not be
 * opened again or a mapping the kernel granted faulted, else 0.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "selfvirt/selfvirt_abi.h"
#include "vfio-open.h"

#define MAX_IRQ_FDS     8
#define REGIONS         VFIO_PCI_NUM_REGIONS

#define OP_COUNT        10      /* the entries of ops[] */

#define KEPT_MAPS       4
#define BAR(n)          (VFIO_PCI_BAR0_REGION_INDEX + (n))

struct mapping {
    void *p;
    size_t len;
    int prot;
};

struct fuzz {
    const char *uuid;
    struct vfio_open vfio;
    uint64_t off[REGIONS], size[REGIONS];
    int irq_fd[MAX_IRQ_FDS];
    volatile uint32_t *db;          /* the doorbell page, mapped, or NULL */
    struct mapping kept[KEPT_MAPS]; /* live across resets and reopens */
    unsigned long count[OP_COUNT], ok[OP_COUNT], faults;
};

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t in_touch;

/* A fault while touching a mapping is a finding; anywhere else, a crash. */
static void on_fault(int sig)
{
    if (in_touch)
        siglongjmp(fault_jmp, sig);
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint64_t rnd64(void)
{
    return (uint64_t)random() << 33 ^ (uint64_t)random() << 2 ^ random();
}

/* Mostly near the region's size, sometimes anywhere. */
static uint64_t rnd_offset(uint64_t size)
{
    switch (random() % 4) {
    case 0:
        return rnd64();
    case 1:
        return size + random() % 4096;          /* just past the end */
    default:
        return size ? rnd64() % size : (uint64_t)random() % 4096;
    }
}

static size_t rnd_len(void)
{
    static const size_t lens[] = { 1, 2, 3, 4, 8, 16, 64, 4096, 8192, 65536 };

    return random() % 8 ? lens[random() % 5] : lens[random() % 10];
}

/* Mostly the regions the device has (BARs 0, 1, 2, 4 and config). */
static int rnd_region(void)
{
    static const int real[] = {
        BAR(SELFVIRT_VIF_BAR_REGS), BAR(SELFVIRT_VIF_BAR_DOORBELL),
        BAR(SELFVIRT_VIF_BAR_SQ), BAR(SELFVIRT_VIF_BAR_RQ),
        VFIO_PCI_CONFIG_REGION_INDEX,
    };

    switch (random() % 8) {
    case 0:
        return random();
    case 1:
        return random() % REGIONS;
    default:
        return real[random() % 5];
    }
}

static void map_doorbell(struct fuzz *f)
{
    void *p = mmap(NULL, SELFVIRT_DOORBELL_PAGE_SIZE, PROT_WRITE, MAP_SHARED,
                   f->vfio.device, f->off[BAR(SELFVIRT_VIF_BAR_DOORBELL)]);

    f->db = p == MAP_FAILED ? NULL : p;
}

static void release_kept(struct fuzz *f);

/*
 * Close the device, then open it again.  Kept mappings hold the device
 * file open past the close (VFIO then refuses a second open of the
 * group): touched once more, they are let go before the reopen.
 */
static void reopen(struct fuzz *f)
{
    const char *what;

    if (f->db)
        munmap((void *)f->db, SELFVIRT_DOORBELL_PAGE_SIZE);
    f->db = NULL;
    vfio_close(&f->vfio);
    release_kept(f);
    if (vfio_open_mdev(&f->vfio, f->uuid, &what)) {
        printf("FAIL reopen: %s: %s\n", what, strerror(errno));
        exit(1);
    }
    for (int i = 0; i < REGIONS; i++) {
        struct vfio_region_info r = { .argsz = sizeof(r), .index = i };

        if (ioctl(f->vfio.device, VFIO_DEVICE_GET_REGION_INFO, &r) == 0) {
            f->off[i] = r.offset;
            f->size[i] = r.size;
        } else {
            f->off[i] = (uint64_t)i << 40;
            f->size[i] = 0;
        }
    }
    map_doorbell(f);
}

/* A region access of random place and size; errors are expected. */
static int region_rw(struct fuzz *f, int write)
{
    static uint8_t buf[65536];
    int r = rnd_region();
    uint64_t base = r >= 0 && r < REGIONS ? f->off[r] : (uint64_t)r << 40;
    uint64_t size = r >= 0 && r < REGIONS ? f->size[r] : 4096;
    size_t len = rnd_len();
    ssize_t n;

    if (write) {
        for (size_t i = 0; i < len; i++)
            buf[i] = random();
        n = pwrite(f->vfio.device, buf, len, base + rnd_offset(size));
    } else {
        n = pread(f->vfio.device, buf, len, base + rnd_offset(size));
    }
    return n > 0;
}

/* Touch a byte of mapping @p; false if that faulted. */
static int touch(volatile uint8_t *p, size_t len, int prot)
{
    size_t at = random() % len;

    if (sigsetjmp(fault_jmp, 1)) {
        in_touch = 0;
        return 0;
    }
    in_touch = 1;
    if (prot & PROT_WRITE)
        p[at] = random();
    else
        (void)p[at];
    in_touch = 0;
    return 1;
}

static void check_touch(struct fuzz *f, struct mapping *m, const char *when)
{
    if (!touch(m->p, m->len, m->prot)) {
        f->faults++;
        printf("FAULT touching a mapping of %zu bytes, prot %d, %s\n",
               m->len, m->prot, when);
    }
}

/*
 * An mmap, mostly of a range the driver grants (the doorbell page, the
 * send queue, the read-only receive queue), sometimes of any; a granted
 * one is touched, and some are kept, to be touched after later resets
 * and reopens.
 */
static int region_mmap(struct fuzz *f)
{
    static const int bars[] = {
        SELFVIRT_VIF_BAR_DOORBELL, SELFVIRT_VIF_BAR_SQ, SELFVIRT_VIF_BAR_RQ,
    };
    int legal = random() % 4 != 0;
    int r = legal ? BAR(bars[random() % 3]) : (int)(random() % REGIONS);
    uint64_t size = f->size[r];
    struct mapping m;
    uint64_t off;

    if (legal && size) {
        off = 0;
        m.len = r == BAR(SELFVIRT_VIF_BAR_DOORBELL) ? size
                : (1 + random() % ((size + 4095) / 4096)) * 4096;
        m.prot = r == BAR(SELFVIRT_VIF_BAR_RQ) ? PROT_READ
                 : r == BAR(SELFVIRT_VIF_BAR_DOORBELL) ? PROT_WRITE
                 : PROT_READ | PROT_WRITE;
    } else {
        static const int prots[] = {
            PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE,
        };

        off = (random() % (size / 4096 + 2)) * 4096;
        if (random() % 8 == 0)
            off += random() % 4096;                 /* not page-aligned */
        m.len = (1 + random() % 4) * 4096ul;
        m.prot = prots[random() % 3];
    }
    m.p = mmap(NULL, m.len, m.prot, MAP_SHARED, f->vfio.device,
               f->off[r] + off);
    if (m.p == MAP_FAILED)
        return 0;
    check_touch(f, &m, "at once");
    if (random() % 4 == 0) {
        struct mapping *k = &f->kept[random() % KEPT_MAPS];

        if (k->p)
            munmap(k->p, k->len);
        *k = m;
    } else {
        munmap(m.p, m.len);
    }
    return 1;
}

/* The kept mappings, after a reset or a close: still backed. */
static void touch_kept(struct fuzz *f, const char *when)
{
    for (int i = 0; i < KEPT_MAPS; i++)
        if (f->kept[i].p)
            check_touch(f, &f->kept[i], when);
}

static void release_kept(struct fuzz *f)
{
    touch_kept(f, "after the device's close");
    for (int i = 0; i < KEPT_MAPS; i++) {
        if (f->kept[i].p)
            munmap(f->kept[i].p, f->kept[i].len);
        f->kept[i].p = NULL;
    }
}

/*
 * SET_IRQS: three in four calls as a VM's QEMU makes them (the MSI or the
 * request interrupt, start 0, at most one, triggered, each data type),
 * the rest with any index, range, flags, size and file.
 */
static int set_irqs(struct fuzz *f)
{
    static const uint32_t data[] = {
        VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL,
        VFIO_IRQ_SET_DATA_EVENTFD,
    };
    static const uint32_t action[] = {
        VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK,
        VFIO_IRQ_SET_ACTION_TRIGGER,
    };
    struct {
        struct vfio_irq_set set;
        int32_t fd[MAX_IRQ_FDS];
    } irq;
    int legal = random() % 4 != 0;
    uint32_t count = legal ? random() % 2
                           : random() % 4 ? random() % 3 : (uint32_t)random();
    uint32_t n = count < MAX_IRQ_FDS ? count : MAX_IRQ_FDS;

    memset(&irq, 0, sizeof(irq));
    irq.set.argsz = legal || random() % 8 ? sizeof(irq.set) + 4 * n
                                          : (uint32_t)random() % 64;
    irq.set.count = count;
    if (legal) {
        irq.set.index = random() % 2 ? VFIO_PCI_MSI_IRQ_INDEX
                                     : VFIO_PCI_REQ_IRQ_INDEX;
        irq.set.start = 0;
        irq.set.flags = data[random() % 3] | VFIO_IRQ_SET_ACTION_TRIGGER;
    } else {
        irq.set.index = random() % 8 ? random() % VFIO_PCI_NUM_IRQS
                                     : (uint32_t)random();
        irq.set.start = random() % 4 ? random() % 2 : (uint32_t)random();
        irq.set.flags = random() % 16 ? data[random() % 3] |
                                        action[random() % 3]
                                      : (uint32_t)random();
    }
    for (uint32_t i = 0; i < n; i++) {
        switch (random() % 4) {
        case 0:
            irq.fd[i] = -1;                     /* turn off */
            break;
        case 1:
            irq.fd[i] = legal ? f->irq_fd[i] : random() % 64;  /* any file */
            break;
        default:
            irq.fd[i] = f->irq_fd[i];
        }
        if ((irq.set.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) ==
            VFIO_IRQ_SET_DATA_BOOL)
            ((uint8_t *)irq.fd)[i] = random() % 2;
    }
    return ioctl(f->vfio.device, VFIO_DEVICE_SET_IRQS, &irq) == 0;
}

static int region_info(struct fuzz *f)
{
    struct {
        struct vfio_region_info info;
        uint8_t caps[256];
    } r;

    memset(&r, 0, sizeof(r));
    r.info.argsz = random() % 4 ? sizeof(r) : random() % sizeof(r);
    r.info.index = rnd_region();
    return ioctl(f->vfio.device, VFIO_DEVICE_GET_REGION_INFO, &r) == 0;
}

static int irq_info(struct fuzz *f)
{
    struct vfio_irq_info i = {
        .argsz = random() % 4 ? sizeof(i) : random() % sizeof(i),
        .index = random() % 4 ? random() % (VFIO_PCI_NUM_IRQS + 1) : random(),
    };

    return ioctl(f->vfio.device, VFIO_DEVICE_GET_IRQ_INFO, &i) == 0;
}

/* Descriptors pointing anywhere and indexes anywhere, by pwrite. */
static int garbage(struct fuzz *f)
{
    uint64_t sq = f->off[BAR(SELFVIRT_VIF_BAR_SQ)];
    uint64_t size = f->size[BAR(SELFVIRT_VIF_BAR_SQ)];
    struct selfvirt_tx_desc d = { 0 };
    uint32_t idx = random() % 4 ? random() % 4096 : (uint32_t)random();
    int ok = 0;

    for (int i = 0; i < 8 && size; i++) {
        d.buf = random() % 2 ? rnd64() : random() % size;
        d.len = random() % 2 ? (uint32_t)random() : random() % 9100;
        d.flags = random();
        d.mss = random();
        ok |= pwrite(f->vfio.device, &d, sizeof(d),
                     sq + SELFVIRT_SQ_DESC(random() % 256)) > 0;
    }
    ok |= pwrite(f->vfio.device, &idx, 4,
                 sq + (random() % 2
                       ? offsetof(struct selfvirt_sq_ctrl, tx_prod)
                       : offsetof(struct selfvirt_sq_ctrl, rx_cons))) > 0;
    return ok;
}

/* A storm through the mapped page (a VM's path, no trap) and trapped. */
static int doorbells(struct fuzz *f)
{
    uint64_t regs = f->off[BAR(SELFVIRT_VIF_BAR_REGS)];
    uint64_t db = f->off[BAR(SELFVIRT_VIF_BAR_DOORBELL)];
    uint32_t val;
    int ok = 0;

    for (int i = 0; i < 200; i++) {
        val = random();
        if (f->db && i % 2) {
            f->db[random() % (SELFVIRT_DOORBELL_PAGE_SIZE / 4)] = val;
            ok = 1;
        } else {
            ok |= pwrite(f->vfio.device, &val, 4,
                         random() % 2 ? regs + SELFVIRT_VIF_REG_DOORBELL
                                      : db + (random() % 1024) * 4) == 4;
        }
    }
    return ok;
}

static int region_read(struct fuzz *f)
{
    return region_rw(f, 0);
}

static int region_write(struct fuzz *f)
{
    return region_rw(f, 1);
}

static int reset(struct fuzz *f)
{
    int ok = ioctl(f->vfio.device, VFIO_DEVICE_RESET) == 0;

    touch_kept(f, "after a reset");
    return ok;
}

static int close_reopen(struct fuzz *f)
{
    reopen(f);
    return 1;
}

/* how often each is picked, of 100: reopen and reset are the costly ones */
static const struct op {
    const char *name;
    unsigned int weight;
    int (*run)(struct fuzz *f);     /* true if the kernel took it */
} ops[] = {
    { "read", 22, region_read },
    { "write", 22, region_write },
    { "mmap", 12, region_mmap },
    { "set_irqs", 12, set_irqs },
    { "reset", 2, reset },
    { "region_info", 8, region_info },
    { "irq_info", 5, irq_info },
    { "garbage", 8, garbage },
    { "doorbells", 8, doorbells },
    { "reopen", 1, close_reopen },
};
_Static_assert(sizeof(ops) / sizeof(ops[0]) == OP_COUNT, "OP_COUNT");

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int pick(void)
{
    unsigned int r = random() % 100;

    for (int op = 0; op < OP_COUNT; op++) {
        if (r < ops[op].weight)
            return op;
        r -= ops[op].weight;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sigaction sa = { .sa_handler = on_fault };
    struct fuzz f = { 0 };
    unsigned long made = 0;
    double end, seconds;
    char *rest;
    long seed;

    if (argc != 4) {
        fprintf(stderr, "usage: %s UUID SECONDS SEED\n", argv[0]);
        return 2;
    }
    seconds = strtod(argv[2], &rest);
    if (*rest || !(seconds > 0 && seconds <= 86400)) {
        fprintf(stderr, "%s: SECONDS must be in (0, 86400], not '%s'\n",
                argv[0], argv[2]);
        return 2;
    }
    seed = strtol(argv[3], &rest, 0);
    if (*rest || !*argv[3]) {
        fprintf(stderr, "%s: SEED must be a number, not '%s'\n", argv[0],
                argv[3]);
        return 2;
    }
    srandom(seed);
    f.uuid = argv[1];
    f.vfio.container = f.vfio.group = f.vfio.device = -1;
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    for (int i = 0; i < MAX_IRQ_FDS; i++)
        f.irq_fd[i] = eventfd(0, EFD_NONBLOCK);
    reopen(&f);
    end = now() + seconds;
    while (now() < end) {
        for (int batch = 0; batch < 64; batch++, made++) {
            int op = pick();

            f.count[op]++;
            f.ok[op] += ops[op].run(&f);
        }
    }
    if (f.db)
        munmap((void *)f.db, SELFVIRT_DOORBELL_PAGE_SIZE);
    vfio_close(&f.vfio);
    release_kept(&f);
    printf("seed %ld seconds %.0f\n", seed, seconds);
    for (int op = 0; op < OP_COUNT; op++)
        printf("op_%s %lu\nok_%s %lu\n", ops[op].name, f.count[op],
               ops[op].name, f.ok[op]);
    printf("faults %lu\nops %lu\n", f.faults, made);
    return f.faults ? 1 : 0;
}
