/*
 * selfvirt-nic qtest helpers: a board on a socket netdev (the test holds
 * the wire's other end), VIFs whose receive queues are one 1 MiB window
 * page of guest RAM each, and frames posted to their send queues.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SELFVIRT_QTEST_H
#define SELFVIRT_QTEST_H

#include "qemu/sockets.h"
#include "net/eth.h"
#include "qobject/qdict.h"
#include "selfvirt-board.h"

/* Guest RAM for VIF receive queues: one window page each, 1 MiB pages. */
#define RQ_BASE 0x1000000ull
#define RQ_PAGE 0x100000ull
/* send queues of the helpers' VIFs; the buffer of slot i at i * TX_STRIDE */
#define TX_ENTRIES 16
#define TX_STRIDE 128

static const uint8_t mac_vif0[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_vif1[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
static const uint8_t mac_far[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static inline void board_launch(Board *b, const char *extra)
{
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, b->wire), ==, 0);
    b->qts = qtest_initf("-M pc -nodefaults -netdev socket,fd=%d,id=wire "
                         "-device selfvirt-nic,netdev=wire,addr=04.0%s",
                         b->wire[1], extra ? extra : "");
}

static inline void board_start(Board *b, const char *extra)
{
    board_launch(b, extra);
    board_attach(b);
}

/* A frame from the wire, in the socket netdev's framing (length, bytes). */
static inline void wire_send(Board *b, const uint8_t *frame, uint32_t len)
{
    uint32_t be = htonl(len);

    g_assert_cmpint(write(b->wire[0], &be, 4), ==, 4);
    g_assert_cmpint(write(b->wire[0], frame, len), ==, len);
}

/* The next frame on the wire, or 0 after @ms milliseconds. */
static inline uint32_t wire_recv(Board *b, uint8_t *buf, uint32_t size, int ms)
{
    uint32_t be, len;
    int i;

    for (i = 0; recv(b->wire[0], &be, 4, MSG_DONTWAIT | MSG_PEEK) != 4; i++) {
        if (i >= ms) {
            return 0;
        }
        g_usleep(1000);
    }
    g_assert_cmpint(recv(b->wire[0], &be, 4, MSG_WAITALL), ==, 4);
    len = ntohl(be);
    g_assert_cmpuint(len, <=, size);
    g_assert_cmpint(recv(b->wire[0], buf, len, MSG_WAITALL), ==, len);
    return len;
}

/*
 * Create VIF @vif (or SELFVIRT_VIF_ANY) with its receive queue in window
 * @win, @tx_n send and @rx_n receive entries; returns the mailbox status.
 */
static inline uint32_t create_vif_queues(Board *b, uint32_t vif, uint32_t win,
                                         uint32_t tx_n, uint32_t rx_n)
{
    uint32_t args[6] = { vif, 0, 0, SELFVIRT_QUEUES(tx_n, rx_n),
                         SELFVIRT_WINDOWS(win, 1), 2048 };
    uint32_t st;

    csr_wr(b, SELFVIRT_REG_WIN_HI(win), 0);
    csr_wr(b, SELFVIRT_REG_WIN_LO(win),
           (uint32_t)(RQ_BASE + win * RQ_PAGE) | SELFVIRT_WIN_VALID);
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

static inline uint32_t create_vif(Board *b, uint32_t vif, uint32_t win)
{
    return create_vif_queues(b, vif, win, TX_ENTRIES, TX_ENTRIES);
}

/* Post descriptor @d on VIF @v's send queue (TX_ENTRIES entries). */
static inline void post_tx_desc(Board *b, uint32_t v,
                                const struct selfvirt_tx_desc *d)
{
    uint32_t part = v * csr_rd(b, SELFVIRT_REG_PART_SIZE);
    uint32_t prod = qpci_io_readl(b->dev, b->sdram, part);

    qpci_memwrite(b->dev, b->sdram,
                  part + SELFVIRT_SQ_DESC(prod % TX_ENTRIES), d, sizeof(*d));
    qpci_io_writel(b->dev, b->sdram,
                   part + offsetof(struct selfvirt_sq_ctrl, tx_prod), prod + 1);
}

/*
 * Post @len bytes of @frame on VIF @v's send queue with descriptor @flags
 * and @mss, its buffer at @buf in the data area.
 */
static inline void post_desc(Board *b, uint32_t v, const uint8_t *frame,
                             uint32_t len, uint32_t buf, uint16_t flags,
                             uint16_t mss)
{
    uint32_t part = v * csr_rd(b, SELFVIRT_REG_PART_SIZE);
    struct selfvirt_tx_desc d = {
        .buf = cpu_to_le32(buf),
        .len = cpu_to_le32(len),
        .flags = cpu_to_le16(flags),
        .mss = cpu_to_le16(mss),
    };

    qpci_memwrite(b->dev, b->sdram, part + SELFVIRT_SQ_DATA_OFF(TX_ENTRIES) +
                  buf, frame, len);
    post_tx_desc(b, v, &d);
}

/* Put one frame into VIF @v's send queue and ring the doorbell. */
static inline void post_frame(Board *b, uint32_t v, const uint8_t *frame,
                              uint32_t len)
{
    post_desc(b, v, frame, len, 0, 0, 0);
    csr_wr(b, SELFVIRT_REG_DOORBELL, v);
}

/* Post a frame of at most TX_STRIDE bytes in its slot's buffer, no doorbell. */
static inline void post_quietly(Board *b, uint32_t v, const uint8_t *frame,
                                uint32_t len)
{
    uint32_t part = v * csr_rd(b, SELFVIRT_REG_PART_SIZE);
    uint32_t prod = qpci_io_readl(b->dev, b->sdram, part);

    g_assert_cmpuint(len, <=, TX_STRIDE);
    post_desc(b, v, frame, len, (prod % TX_ENTRIES) * TX_STRIDE, 0, 0);
}

/* The words of a receive queue's status block, by field */
#define RQ_RX_PROD offsetof(struct selfvirt_rq_status, rx_prod)
#define RQ_TX_CONS offsetof(struct selfvirt_rq_status, tx_cons)
#define RQ_FLAGS offsetof(struct selfvirt_rq_status, flags)

/* A word of the receive queue of the VIF in window @win. */
static inline uint32_t rq_word(Board *b, uint32_t win, uint32_t off)
{
    return qtest_readl(b->qts, RQ_BASE + win * RQ_PAGE + off);
}

/* Receive descriptor @slot of the VIF in window @win, to read by field. */
static inline struct selfvirt_rx_desc rx_desc_at(Board *b, uint32_t win,
                                                 uint32_t slot)
{
    struct selfvirt_rx_desc d;

    qtest_memread(b->qts, RQ_BASE + win * RQ_PAGE + SELFVIRT_RQ_DESC(slot),
                  &d, sizeof(d));
    return d;
}

/* How long a test waits for the board's threads before it gives up. */
#define WAIT_MS 2000

/*
 * The one wait of the qtests: until @cond holds, or fail after WAIT_MS
 * with a message (printf-style) saying what did not happen.
 */
#define WAIT_FOR(cond, ...)                                             \
    do {                                                                \
        for (int i_ = 0; i_ < WAIT_MS && !(cond); i_++) {               \
            g_usleep(1000);                                             \
        }                                                               \
        if (!(cond)) {                                                  \
            g_test_message(__VA_ARGS__);                                \
            g_assert_true(cond);                                        \
        }                                                               \
    } while (0)

/* Wait for word @off of window @win's receive queue to be @want. */
static inline bool wait_rq(Board *b, uint32_t win, uint32_t off, uint32_t want)
{
    for (int i = 0; i < WAIT_MS && rq_word(b, win, off) != want; i++) {
        g_usleep(1000);
    }
    return rq_word(b, win, off) == want;
}

static inline uint32_t vif_stat(Board *b, uint32_t v,
                                enum selfvirt_vif_stat st)
{
    g_assert_cmpuint(mbox(b, SELFVIRT_CMD_VIF_STATS, &v, 1), ==,
                     SELFVIRT_ST_OK);
    return csr_rd(b, SELFVIRT_REG_MBOX_RES(st));
}

static inline bool wait_stat(Board *b, enum selfvirt_board_stat st,
                             uint32_t want)
{
    for (int i = 0; i < WAIT_MS && csr_rd(b, SELFVIRT_REG_STAT(st)) != want;
         i++) {
        g_usleep(1000);
    }
    return csr_rd(b, SELFVIRT_REG_STAT(st)) == want;
}

/* An Ethernet frame of the local experimental ethertype, bytes counting up. */
static inline void frame_init(uint8_t *f, size_t len, const uint8_t *dst,
                              const uint8_t *src)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    for (size_t i = 14; i < len; i++) {
        f[i] = i;
    }
}

/* The Internet checksum (RFC 1071) of @len bytes at @p, from @sum on. */
static inline uint16_t csum16(const uint8_t *p, size_t len, uint32_t sum)
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

#define TCP_ACK 0x10
#define TCP_PSH 0x08

/*
 * A TCP/IPv4 frame from @src to @dst (10.0.0.1:@sport to 10.0.0.2:5201),
 * checksums right, 20-byte headers, @plen payload bytes counting up from
 * the sequence number's low byte; returns its length.
 */
static inline uint32_t tcp_frame(uint8_t *f, const uint8_t *dst,
                                 const uint8_t *src, uint32_t seq,
                                 uint8_t flags, uint32_t plen, uint16_t sport)
{
    /* headers built aligned, then copied: in the frame they are not */
    struct eth_header eth = { .h_proto = cpu_to_be16(ETH_P_IP) };
    uint32_t tcp_len = sizeof(struct tcp_header) + plen;
    struct ip_header ip = {
        .ip_ver_len = 0x45,
        .ip_len = cpu_to_be16(sizeof(ip) + tcp_len),
        .ip_off = cpu_to_be16(IP_DF),
        .ip_ttl = 64,
        .ip_p = IP_PROTO_TCP,
        .ip_src = cpu_to_be32(0x0a000001),
        .ip_dst = cpu_to_be32(0x0a000002),
    };
    struct tcp_header tcp = {
        .th_sport = cpu_to_be16(sport),
        .th_dport = cpu_to_be16(5201),
        .th_seq = cpu_to_be32(seq),
        .th_ack = cpu_to_be32(777),
        .th_offset_flags = cpu_to_be16(5 << 12 | flags),
        .th_win = cpu_to_be16(512),
    };
    uint8_t *l3 = f + sizeof(eth), *l4 = l3 + sizeof(ip);
    uint32_t pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + IP_PROTO_TCP +
                      tcp_len;
    uint16_t sum;

    memcpy(eth.h_dest, dst, ETH_ALEN);
    memcpy(eth.h_source, src, ETH_ALEN);
    memcpy(f, &eth, sizeof(eth));
    ip.ip_sum = cpu_to_be16(csum16((uint8_t *)&ip, sizeof(ip), 0));
    memcpy(l3, &ip, sizeof(ip));
    memcpy(l4, &tcp, sizeof(tcp));
    for (uint32_t i = 0; i < plen; i++) {
        l4[sizeof(tcp) + i] = seq + i;
    }
    sum = cpu_to_be16(csum16(l4, tcp_len, pseudo));
    memcpy(l4 + offsetof(struct tcp_header, th_sum), &sum, sizeof(sum));
    return sizeof(eth) + sizeof(ip) + tcp_len;
}

/* Wait for a migration to end; returns "completed" or "failed". */
static inline const char *wait_migration(QTestState *qts)
{
    for (;;) {
        QDict *rsp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
        const char *st = qdict_get_try_str(qdict_get_qdict(rsp, "return"),
                                           "status");
        const char *end = NULL;

        if (st && !strcmp(st, "completed")) {
            end = "completed";
        } else if (st && !strcmp(st, "failed")) {
            end = "failed";
        }
        qobject_unref(rsp);
        if (end) {
            return end;
        }
        g_usleep(10 * 1000);
    }
}

#endif
