// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * selfvirt-vfio: use a VIF handed out as a VFIO mediated device from user
 * space, as a VM's QEMU would, without the VM (tests/guest/test_mdev.py).
 *
 *   selfvirt-vfio UUID ping IP PEER_IP   ARP for PEER_IP, then an ICMP echo
 *                                       with a random payload, checked
 *   selfvirt-vfio UUID hostile          what the VIF function must refuse
 *   selfvirt-vfio --pci BDF hostile     inside the VM: the same garbage
 *                                       written straight into the function's
 *                                       BARs (sysfs resource files)
 *   selfvirt-vfio UUID pingpong UUID_B poll|irq SECONDS
 *                                       the paper's mailbox ping-pong (its
 *                                       Figs. 9/10): a 32-bit word into this
 *                                       VIF's send queue (the board's SDRAM),
 *                                       back in UUID_B's receive queue (host
 *                                       memory), seen by polling or by the
 *                                       MSI; every round trip (rtt-hist.h)
 *   selfvirt-vfio UUID bandwidth UUID_B MIB
 *                                       the paper's Fig. 5: host writes and
 *                                       reads of the SDRAM BAR, 1500 bytes at
 *                                       a time, and the board moving
 *                                       1500-byte frames SDRAM to host memory
 *
 * Prints "name value" lines; exits 0 when every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "selfvirt/selfvirt_abi.h"
#include "rtt-hist.h"
#include "vfio-open.h"

#define REGION(bar)     (VFIO_PCI_BAR0_REGION_INDEX + (bar))

struct vif {
    int device;
    uint64_t off[VFIO_PCI_NUM_REGIONS];
    uint64_t size[VFIO_PCI_NUM_REGIONS];
    uint32_t flags[VFIO_PCI_NUM_REGIONS];
    volatile uint8_t *sq;           /* BAR2: the SDRAM partition */
    const volatile uint8_t *rq;     /* BAR4: the receive queue */
    uint32_t tx_entries, rx_entries, rx_buf, part_size, rq_size;
    uint32_t tx_prod, rx_cons;
    uint8_t mac[6];
    int irq;                        /* eventfd of the MSI */
    volatile uint32_t *regs;        /* --pci: BAR0 mapped, else pread/pwrite */
    volatile uint32_t *db;          /* BAR1: the doorbell page, or NULL */
};

static int failures;

static void check(int ok, const char *fmt, ...)
{
    va_list ap;

    printf("%s ", ok ? "ok" : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    failures += !ok;
}

static void die(const char *what)
{
    printf("FAIL %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint32_t reg_read(struct vif *v, uint32_t reg)
{
    uint32_t val;

    if (v->regs)
        return v->regs[reg / 4];
    if (pread(v->device, &val, 4, v->off[REGION(SELFVIRT_VIF_BAR_REGS)] + reg) != 4)
        die("register read");
    return val;
}

static void reg_write(struct vif *v, uint32_t reg, uint32_t val)
{
    if (v->regs) {
        v->regs[reg / 4] = val;
        return;
    }
    if (pwrite(v->device, &val, 4, v->off[REGION(SELFVIRT_VIF_BAR_REGS)] + reg) != 4)
        die("register write");
}

static int open_device(const char *uuid)
{
    struct vfio_open o;
    const char *what;

    if (vfio_open_mdev(&o, uuid, &what))
        die(what);
    return o.device;
}

static void *map_region(struct vif *v, int bar, size_t len, int prot)
{
    void *p = mmap(NULL, len, prot, MAP_SHARED, v->device, v->off[REGION(bar)]);

    if (p == MAP_FAILED)
        die("mmap");
    return p;
}

static void setup(struct vif *v, const char *uuid)
{
    struct vfio_device_info info = { .argsz = sizeof(info) };
    struct {
        struct vfio_irq_set set;
        int32_t fd;
    } irq = { { .argsz = sizeof(irq), .index = VFIO_PCI_MSI_IRQ_INDEX,
                .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                .count = 1 }, -1 };
    uint32_t i, lo, hi, q;
    uint16_t ids[2];

    v->device = open_device(uuid);
    if (ioctl(v->device, VFIO_DEVICE_GET_INFO, &info))
        die("VFIO_DEVICE_GET_INFO");
    check(info.flags & VFIO_DEVICE_FLAGS_PCI, "device_flags %#x", info.flags);
    for (i = 0; i < VFIO_PCI_NUM_REGIONS && i < info.num_regions; i++) {
        struct vfio_region_info r = { .argsz = sizeof(r), .index = i };

        if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &r))
            die("VFIO_DEVICE_GET_REGION_INFO");
        v->off[i] = r.offset;
        v->size[i] = r.size;
        v->flags[i] = r.flags;
    }
    if (pread(v->device, ids, 4, v->off[VFIO_PCI_CONFIG_REGION_INDEX]) != 4)
        die("config read");
    check(ids[0] == SELFVIRT_PCI_VENDOR_ID && ids[1] == SELFVIRT_VIF_PCI_DEVICE_ID,
          "pci_id %04x:%04x", ids[0], ids[1]);
    check(reg_read(v, SELFVIRT_VIF_REG_ID) == SELFVIRT_VIF_ID_MAGIC, "vif_id");
    q = reg_read(v, SELFVIRT_VIF_REG_QUEUES);
    v->tx_entries = SELFVIRT_QUEUES_TX(q);
    v->rx_entries = SELFVIRT_QUEUES_RX(q);
    v->rx_buf = reg_read(v, SELFVIRT_VIF_REG_RX_BUF);
    v->part_size = reg_read(v, SELFVIRT_VIF_REG_PART_SIZE);
    v->rq_size = reg_read(v, SELFVIRT_VIF_REG_RQ_SIZE);
    lo = reg_read(v, SELFVIRT_VIF_REG_MAC_LO);
    hi = reg_read(v, SELFVIRT_VIF_REG_MAC_HI);
    for (i = 0; i < 6; i++)
        v->mac[i] = (i < 4 ? lo >> (8 * i) : hi >> (8 * (i - 4))) & 0xff;
    printf("queues %u %u rx_buf %u part_size %u rq_size %u\n", v->tx_entries,
           v->rx_entries, v->rx_buf, v->part_size, v->rq_size);
    printf("mac %02x:%02x:%02x:%02x:%02x:%02x\n", v->mac[0], v->mac[1],
           v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
    check((v->flags[REGION(SELFVIRT_VIF_BAR_SQ)] & VFIO_REGION_INFO_FLAG_MMAP) &&
          (v->flags[REGION(SELFVIRT_VIF_BAR_RQ)] & VFIO_REGION_INFO_FLAG_MMAP) &&
          !(v->flags[REGION(SELFVIRT_VIF_BAR_RQ)] & VFIO_REGION_INFO_FLAG_WRITE),
          "region_flags sq %#x rq %#x", v->flags[REGION(SELFVIRT_VIF_BAR_SQ)],
          v->flags[REGION(SELFVIRT_VIF_BAR_RQ)]);
    v->sq = map_region(v, SELFVIRT_VIF_BAR_SQ, v->part_size, PROT_READ | PROT_WRITE);
    v->rq = map_region(v, SELFVIRT_VIF_BAR_RQ, v->rq_size, PROT_READ);
    if (v->flags[REGION(SELFVIRT_VIF_BAR_DOORBELL)] & VFIO_REGION_INFO_FLAG_MMAP)
        v->db = map_region(v, SELFVIRT_VIF_BAR_DOORBELL,
                           SELFVIRT_DOORBELL_PAGE_SIZE, PROT_WRITE);
    printf("doorbell %s\n", v->db ? "page" : "trapped");

    v->irq = eventfd(0, EFD_NONBLOCK);
    irq.fd = v->irq;
    if (v->irq < 0 || ioctl(v->device, VFIO_DEVICE_SET_IRQS, &irq))
        die("VFIO_DEVICE_SET_IRQS");
}

static uint32_t le32_at(const volatile uint8_t *base, size_t off)
{
    return *(const volatile uint32_t *)(base + off);
}

static void put32(volatile uint8_t *base, size_t off, uint32_t val)
{
    *(volatile uint32_t *)(base + off) = val;
}

/* The doorbell page where the function has one, else the trapped register */
static void doorbell(struct vif *v)
{
    if (v->db)
        *v->db = 1;
    else
        reg_write(v, SELFVIRT_VIF_REG_DOORBELL, 1);
}

static void doorbell_if(struct vif *v, uint32_t flag)
{
    __sync_synchronize();
    if (le32_at(v->rq, offsetof(struct selfvirt_rq_status, flags)) & flag)
        doorbell(v);
}

/* Frames the send queue holds at once: descriptors, and 2 KiB buffers. */
static uint32_t tx_slots(struct vif *v)
{
    uint32_t rooms = (v->part_size - SELFVIRT_SQ_DATA_OFF(v->tx_entries)) / 2048;

    return rooms < v->tx_entries ? rooms : v->tx_entries;
}

static int rx_ready(struct vif *v)
{
    return le32_at(v->rq, offsetof(struct selfvirt_rq_status, rx_prod)) != v->rx_cons;
}

/* The frame in the next receive slot: its length, and its bytes at @data. */
static uint32_t rx_peek(struct vif *v, const volatile uint8_t **data)
{
    uint32_t slot = v->rx_cons % v->rx_entries;

    *data = v->rq + SELFVIRT_RQ_SLOT(v->rx_entries, v->rx_buf, slot);
    return le32_at(v->rq, SELFVIRT_RQ_DESC(slot));
}

static void rx_consume(struct vif *v)
{
    put32(v->sq, offsetof(struct selfvirt_sq_ctrl, rx_cons), ++v->rx_cons);
    doorbell_if(v, SELFVIRT_RQ_RX_BLOCKED);
}

/* Wait until @v has a frame: spin on rx_prod, or sleep on the MSI; 5 s. */
static int rx_wait_ready(struct vif *v, int use_irq)
{
    struct pollfd p = { .fd = v->irq, .events = POLLIN };
    uint64_t n, deadline = rtt_now_ns() + 5000000000ull;
    uint32_t spins = 0;

    while (!rx_ready(v)) {
        if (!use_irq) {
            if (!(++spins & 0xfff) && rtt_now_ns() > deadline)
                return -1;
            continue;
        }
        if (poll(&p, 1, 5000) <= 0 || read(v->irq, &n, sizeof(n)) != sizeof(n))
            return -1;
    }
    return 0;
}

/*
 * Wait for @b's next frame from @a (the ping-pong's EtherType, from @a's
 * MAC).  Frames of others (a broadcast of another VIF's) are consumed and
 * counted in @others.  Return its length and its bytes at @data, or -1
 * after 5 s of nothing.
 */
static int rx_wait(struct vif *b, const struct vif *a, int use_irq,
                   const volatile uint8_t **data, unsigned long *others)
{
    uint32_t len;

    for (;;) {
        if (rx_wait_ready(b, use_irq) < 0)
            return -1;
        len = rx_peek(b, data);
        if (len >= 14 && !memcmp((const void *)(*data + 6), a->mac, 6) &&
            (*data)[12] == 0x88 && (*data)[13] == 0xb5)
            return len;
        ++*others;
        rx_consume(b);
    }
}

static void signals(struct vif *v, uint32_t enable)
{
    put32(v->sq, offsetof(struct selfvirt_sq_ctrl, signal_enable), enable);
    __sync_synchronize();
}

/* One frame into the send queue: data, descriptor, then the index. */
static void send_frame(struct vif *v, const void *frame, uint32_t len)
{
    uint32_t slot = v->tx_prod % v->tx_entries;
    uint32_t rooms = (v->part_size - SELFVIRT_SQ_DATA_OFF(v->tx_entries)) / 2048;
    uint32_t buf = (v->tx_prod % rooms) * 2048;
    uint32_t data = SELFVIRT_SQ_DATA_OFF(v->tx_entries) + buf;
    struct selfvirt_tx_desc d = { .buf = buf, .len = len };

    memcpy((void *)(v->sq + data), frame, len);
    memcpy((void *)(v->sq + SELFVIRT_SQ_DESC(slot)), &d, sizeof(d));
    __sync_synchronize();
    put32(v->sq, offsetof(struct selfvirt_sq_ctrl, tx_prod), ++v->tx_prod);
    doorbell_if(v, SELFVIRT_RQ_EGRESS_ASLEEP);
}

/* The next received frame into @buf, waiting on the MSI eventfd. */
static int recv_frame(struct vif *v, uint8_t *buf)
{
    const volatile uint8_t *data;
    uint32_t len;

    signals(v, SELFVIRT_SIGNAL_RX);
    if (rx_wait_ready(v, 1) < 0)
        return -1;
    len = rx_peek(v, &data);
    if (len > v->rx_buf)
        return -1;
    memcpy(buf, (const void *)data, len);
    rx_consume(v);
    return len;
}

static uint16_t ip_sum(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint32_t s = 0;
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        s += b[i] << 8 | b[i + 1];
    if (len & 1)
        s += b[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return htons(~s & 0xffff);
}

/*
 * An ARP frame of operation @op (1 request, 2 reply) from @me to @to (its
 * MAC, also the frame's destination) about address @tpa.
 */
static void send_arp(struct vif *v, uint8_t op, uint32_t me, const uint8_t *to,
                     const uint8_t *tpa)
{
    uint8_t f[60] = { 0 };

    memcpy(f, to, 6);
    memcpy(f + 6, v->mac, 6);
    f[12] = 0x08, f[13] = 0x06;             /* ARP */
    f[15] = 1, f[16] = 8, f[18] = 6, f[19] = 4, f[21] = op;
    memcpy(f + 22, v->mac, 6);
    memcpy(f + 28, &me, 4);
    if (op == 2)
        memcpy(f + 32, to, 6);              /* a request's target MAC: 0 */
    memcpy(f + 38, tpa, 4);
    send_frame(v, f, sizeof(f));
}

/* Resolve @peer with ARP from @me; its MAC into @peer_mac. */
static int arp(struct vif *v, uint32_t me, uint32_t peer, uint8_t *peer_mac)
{
    static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint8_t r[SELFVIRT_RX_BUF_MAX];
    int tries, len;

    send_arp(v, 1, me, broadcast, (const uint8_t *)&peer);
    for (tries = 0; tries < 8; tries++) {
        len = recv_frame(v, r);
        if (len < 0)
            return -1;
        if (len >= 42 && r[12] == 0x08 && r[13] == 0x06 && r[21] == 2 &&
            !memcmp(r + 28, &peer, 4)) {
            memcpy(peer_mac, r + 22, 6);
            return 0;
        }
    }
    return -1;
}

/*
 * Answer @r if it is an ARP request for @me, as any host does: the peer's
 * kernel checks a neighbour it has not heard from with unicast requests,
 * and without an answer stops sending to it.  1 if it was one.
 */
static int arp_answer(struct vif *v, uint32_t me, const uint8_t *r, int len)
{
    if (len < 42 || r[12] != 0x08 || r[13] != 0x06 || r[21] != 1 ||
        memcmp(r + 38, &me, 4)) {
        return 0;
    }
    send_arp(v, 2, me, r + 22, r + 28);     /* to the asker, about it */
    return 1;
}

static int ping(struct vif *v, uint32_t me, uint32_t peer, const uint8_t *peer_mac,
                uint16_t seq, size_t payload)
{
    uint8_t f[1514], r[SELFVIRT_RX_BUF_MAX];
    size_t ip_len = 20 + 8 + payload, i;
    int tries, len;

    memcpy(f, peer_mac, 6);
    memcpy(f + 6, v->mac, 6);
    f[12] = 0x08, f[13] = 0x00;
    memset(f + 14, 0, 28);
    f[14] = 0x45;
    f[16] = ip_len >> 8, f[17] = ip_len & 0xff;
    f[22] = 64, f[23] = 1;                  /* TTL, ICMP */
    memcpy(f + 26, &me, 4);
    memcpy(f + 30, &peer, 4);
    memcpy(f + 24, (uint16_t[]){ ip_sum(f + 14, 20) }, 2);
    f[34] = 8;                              /* echo request */
    f[38] = 0x53, f[39] = 0x56, f[40] = seq >> 8, f[41] = seq & 0xff;
    for (i = 0; i < payload; i++)
        f[42 + i] = rand();
    memcpy(f + 36, (uint16_t[]){ ip_sum(f + 34, 8 + payload) }, 2);
    send_frame(v, f, 14 + ip_len);
    for (tries = 0; tries < 8; tries++) {
        len = recv_frame(v, r);
        if (len < 0)
            return -1;
        if (arp_answer(v, me, r, len)) {
            continue;
        }
        if (len >= (int)(14 + ip_len) && r[12] == 0x08 && r[13] == 0 &&
            r[23] == 1 && r[34] == 0 && !memcmp(r + 38, f + 38, 4))
            return memcmp(r + 42, f + 42, payload) ? -2 : 0;
    }
    return -1;
}

/* 20 echoes, spread over @seconds (0: at once), then one after a reset */
static int run_ping(struct vif *v, const char *me_s, const char *peer_s,
                    double seconds)
{
    uint32_t me = inet_addr(me_s), peer = inet_addr(peer_s);
    uint8_t peer_mac[6];
    int i, ok = 0, err;

    check(arp(v, me, peer, peer_mac) == 0, "arp %s", peer_s);
    for (i = 0; i < 20; i++) {
        if (i && seconds)
            usleep(seconds * 1e6 / 20);
        err = ping(v, me, peer, peer_mac, i, 56 + 64 * i);
        ok += err == 0;
        if (err == -2)
            check(0, "echo %d: payload differs", i);
    }
    check(ok == 20, "echo_replies %d of 20", ok);
    /* a reset gives empty rings, and the VIF works on */
    check(ioctl(v->device, VFIO_DEVICE_RESET) == 0, "reset");
    v->tx_prod = v->rx_cons = 0;
    check(ping(v, me, peer, peer_mac, 100, 1000) == 0, "echo_after_reset");
    return 0;
}

/*
 * Descriptors pointing anywhere, indexes far past the ring, a doorbell
 * storm: through the doorbell page and the trapped register in turn.
 */
static void write_garbage(struct vif *v, unsigned int doorbells)
{
    struct selfvirt_tx_desc d;
    uint32_t i;

    for (i = 0; i < v->tx_entries; i++) {
        d.buf = rand() * 4096u;
        d.len = rand();
        d.flags = rand();
        d.mss = rand();
        memcpy((void *)(v->sq + SELFVIRT_SQ_DESC(i)), &d, sizeof(d));
    }
    put32(v->sq, offsetof(struct selfvirt_sq_ctrl, tx_prod), 0x7fffffff);
    put32(v->sq, offsetof(struct selfvirt_sq_ctrl, rx_cons), 0x12345678);
    for (i = 0; i < doorbells; i++) {
        if (v->db && i % 2)
            v->db[i % (SELFVIRT_DOORBELL_PAGE_SIZE / 4)] = i;
        else
            reg_write(v, SELFVIRT_VIF_REG_DOORBELL, i);
    }
    printf("doorbell_storm %u\n", doorbells);
}

static void *map_resource(const char *bdf, int bar, size_t len, int prot)
{
    char path[PATH_MAX];
    void *p;
    int fd;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d", bdf, bar);
    fd = open(path, prot & PROT_WRITE ? O_RDWR : O_RDONLY);
    if (fd < 0)
        die(path);
    p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die(path);
    close(fd);
    return p;
}

/* Inside the VM, with no driver bound: the function's BARs, written raw. */
static int run_pci_hostile(struct vif *v, const char *bdf)
{
    uint32_t q;

    v->regs = map_resource(bdf, SELFVIRT_VIF_BAR_REGS, SELFVIRT_VIF_REGS_SIZE,
                           PROT_READ | PROT_WRITE);
    check(reg_read(v, SELFVIRT_VIF_REG_ID) == SELFVIRT_VIF_ID_MAGIC, "vif_id");
    q = reg_read(v, SELFVIRT_VIF_REG_QUEUES);
    v->tx_entries = SELFVIRT_QUEUES_TX(q);
    v->part_size = reg_read(v, SELFVIRT_VIF_REG_PART_SIZE);
    v->sq = map_resource(bdf, SELFVIRT_VIF_BAR_SQ, v->part_size,
                         PROT_READ | PROT_WRITE);
    v->db = map_resource(bdf, SELFVIRT_VIF_BAR_DOORBELL,
                         SELFVIRT_DOORBELL_PAGE_SIZE, PROT_READ | PROT_WRITE);
    reg_write(v, SELFVIRT_VIF_REG_QUEUES, 0xffffffff);
    check(reg_read(v, SELFVIRT_VIF_REG_QUEUES) == q, "queues_read_only");
    write_garbage(v, 2000);
    return 0;
}

/* What the VIF function refuses, and bad input that only its own VIF sees. */
static int run_hostile(struct vif *v)
{
    uint64_t rq = v->off[REGION(SELFVIRT_VIF_BAR_RQ)];
    uint32_t val = 0;
    void *p;

    p = mmap(NULL, v->rq_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->device, rq);
    check(p == MAP_FAILED, "rq_mmap_writable refused (%s)", strerror(errno));
    check(mprotect((void *)v->rq, 4096, PROT_READ | PROT_WRITE) != 0,
          "rq_mprotect_writable refused (%s)", strerror(errno));
    check(pwrite(v->device, &val, 4, rq) < 0, "rq_write refused (%s)", strerror(errno));
    p = mmap(NULL, v->part_size + 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
             v->device, v->off[REGION(SELFVIRT_VIF_BAR_SQ)]);
    check(p == MAP_FAILED, "sq_mmap_past_partition refused");
    p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, v->device,
             v->off[REGION(SELFVIRT_VIF_BAR_REGS)]);
    check(p == MAP_FAILED, "regs_mmap refused");
    if (v->db) {
        p = mmap(NULL, 2 * SELFVIRT_DOORBELL_PAGE_SIZE, PROT_WRITE, MAP_SHARED,
                 v->device, v->off[REGION(SELFVIRT_VIF_BAR_DOORBELL)]);
        check(p == MAP_FAILED, "doorbell_mmap_past_page refused");
    }
    check(pread(v->device, &val, 4, v->off[REGION(SELFVIRT_VIF_BAR_REGS)] +
                SELFVIRT_VIF_REGS_SIZE) < 0, "regs_read_past_bar refused");
    check(pread(v->device, &val, 4, VFIO_PCI_NUM_REGIONS * (1ull << 40)) < 0,
          "no_such_region refused");
    /* writes to read-only registers change nothing */
    reg_write(v, SELFVIRT_VIF_REG_QUEUES, 0xffffffff);
    check(reg_read(v, SELFVIRT_VIF_REG_QUEUES) ==
          SELFVIRT_QUEUES(v->tx_entries, v->rx_entries), "queues_read_only");

    write_garbage(v, 20000);
    return 0;
}

/* An Ethernet header from @a to @b (local experimental EtherType). */
static void eth_header(uint8_t *f, const struct vif *a, const struct vif *b)
{
    memcpy(f, b->mac, 6);
    memcpy(f + 6, a->mac, 6);
    f[12] = 0x88, f[13] = 0xb5;
}

/*
 * The paper's ping-pong: one 32-bit word from the CPU to the board's
 * SDRAM mailbox (@a's send queue) and from the board to the CPU's mailbox
 * in host memory (@b's receive queue).  The board polls its mailbox or
 * sleeps until the doorbell (its poll-us); the CPU polls or takes the MSI.
 */
static int run_pingpong(struct vif *a, struct vif *b, int use_irq, double seconds)
{
    struct rtt_hist h;
    uint8_t f[18];
    const volatile uint8_t *data;
    unsigned long others = 0;
    uint64_t t0;
    uint32_t word, got, r;
    long bad = 0;
    int len;

    signals(a, 0);
    signals(b, use_irq ? SELFVIRT_SIGNAL_RX : 0);
    eth_header(f, a, b);
    rtt_hist_init(&h);
    for (r = 0; !rtt_hist_done(&h, seconds); r++) {
        word = 0x5356u ^ r * 2654435761u;
        memcpy(f + 14, &word, 4);
        t0 = rtt_now_ns();
        send_frame(a, f, sizeof(f));
        len = rx_wait(b, a, use_irq, &data, &others);
        if (len < 0) {
            check(0, "pingpong round %u: no answer in 5 s", r);
            return -1;
        }
        rtt_hist_add(&h, rtt_now_ns() - t0);
        memcpy(&got, (const void *)(data + 14), 4);
        bad += len != sizeof(f) || got != word;
        rx_consume(b);
    }
    rtt_hist_print(&h);
    printf("other_frames %lu\n", others);
    check(bad == 0, "pingpong_words %lu of %u intact", r - bad, r);
    return 0;
}

/*
 * MiB/s of 1500-byte copies into (@to_buf) or out of a 1 MiB buffer @buf,
 * against @other.  One untimed pass first: the pages are mapped and
 * written before the clock starts, so first touches are not measured.
 */
static double copy_rate(volatile uint8_t *buf, uint8_t *other, int to_buf,
                        unsigned long mib)
{
    unsigned long i, chunks = mib * 1048576ul / 1500, warm = 1048576 / 1500;
    size_t off = 0;
    uint64_t t0 = 0;

    for (i = 0; i < warm + chunks; i++) {
        if (i == warm)
            t0 = rtt_now_ns();
        if (to_buf || i < warm)
            memcpy((void *)(buf + off), other, 1500);
        else
            memcpy(other, (const void *)(buf + off), 1500);
        off = off + 3000 > 1048576 ? 0 : off + 1500;
    }
    return chunks * 1500.0 / 1048576 / ((rtt_now_ns() - t0) / 1e9);
}

/*
 * Frames of 1500 bytes from @a to @b for @mib MiB: the host writes them
 * into the SDRAM, the board copies them out and up into host memory, the
 * host takes them from there.  Every frame's sequence number is checked.
 */
static double stream_rate(struct vif *a, struct vif *b, unsigned long mib)
{
    unsigned long frames = mib * 1048576ul / 1500, sent = 0, got = 0, next = 0;
    unsigned long others = 0;
    const volatile uint8_t *data;
    uint8_t f[1500] = { 0 };
    uint32_t seq, limit = tx_slots(a) < b->rx_entries ? tx_slots(a) : b->rx_entries;
    uint64_t t0 = rtt_now_ns();
    long bad = 0;
    int len;

    signals(a, 0);
    signals(b, 0);
    eth_header(f, a, b);
    /* never more in flight than @b's ring holds: nothing may be dropped */
    while (got < frames) {
        if (sent < frames && sent - got < limit - 1) {
            seq = sent++;
            memcpy(f + 14, &seq, 4);
            send_frame(a, f, sizeof(f));
        }
        if (sent == got || !rx_ready(b))   /* ours in flight, or wait */
            continue;
        len = rx_wait(b, a, 0, &data, &others);
        if (len < 0) {
            check(0, "stream: frame %lu not there after 5 s", got);
            break;
        }
        memcpy(&seq, (const void *)(data + 14), 4);
        bad += len != sizeof(f) || seq != next;
        next = seq + 1;
        got++;
        rx_consume(b);
    }
    check(bad == 0, "stream_frames %lu of %lu, in order", got - bad, frames);
    return got * 1500.0 / 1048576 / ((rtt_now_ns() - t0) / 1e9);
}

static int run_bandwidth(struct vif *a, struct vif *b, unsigned long mib)
{
    volatile uint8_t *sdram = a->sq + SELFVIRT_SQ_DATA_OFF(a->tx_entries);
    static uint8_t ram[1 << 20], frame[1500];

    if (a->part_size - SELFVIRT_SQ_DATA_OFF(a->tx_entries) < sizeof(ram)) {
        check(0, "bandwidth: the SDRAM partition is smaller than 1 MiB");
        return -1;
    }
    memset(frame, 0x5a, sizeof(frame));
    printf("host_write_sdram_mibs %.1f\n", copy_rate(sdram, frame, 1, mib));
    printf("host_read_sdram_mibs %.1f\n", copy_rate(sdram, frame, 0, mib));
    printf("host_write_ram_mibs %.1f\n", copy_rate(ram, frame, 1, mib));
    printf("host_read_ram_mibs %.1f\n", copy_rate(ram, frame, 0, mib));
    printf("board_sdram_to_host_mibs %.1f\n", stream_rate(a, b, mib));
    return 0;
}

int main(int argc, char **argv)
{
    struct vif v = { 0 }, peer = { 0 };
    char *end;
    double n = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: %s UUID ping IP PEER_IP [SECONDS] | UUID hostile | "
                "--pci BDF hostile | UUID pingpong UUID_B poll|irq SECONDS | "
                "UUID bandwidth UUID_B MIB (1..600)\n", argv[0]);
        return 2;
    }
    if (argc == 5 || argc == 6) {
        n = strtod(argv[argc - 1], &end);
        if (*end || !(n > 0 && n <= 600))
            n = 0;
    }
    srand(getpid());
    if (!strcmp(argv[1], "--pci") && argc == 4 && !strcmp(argv[3], "hostile")) {
        run_pci_hostile(&v, argv[2]);
        printf("failures %d\n", failures);
        return failures ? 1 : 0;
    }
    setup(&v, argv[1]);
    if (!strcmp(argv[2], "ping") && (argc == 5 || (argc == 6 && n))) {
        run_ping(&v, argv[3], argv[4], argc == 6 ? n : 0);
    } else if (!strcmp(argv[2], "hostile")) {
        run_hostile(&v);
    } else if (!strcmp(argv[2], "pingpong") && argc == 6 && n &&
               (!strcmp(argv[4], "poll") || !strcmp(argv[4], "irq"))) {
        setup(&peer, argv[3]);
        run_pingpong(&v, &peer, !strcmp(argv[4], "irq"), n);
    } else if (!strcmp(argv[2], "bandwidth") && argc == 5 && n && n == (int)n) {
        setup(&peer, argv[3]);
        run_bandwidth(&v, &peer, n);
    } else {
        check(0, "bad command or argument: %s", argv[2]);
    }
    printf("failures %d\n", failures);
    return failures ? 1 : 0;
}
