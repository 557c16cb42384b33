/*
 * selfvirt: which received TCP segments receive coalescing may merge
 *
 * The rules of Linux's GRO (tcp_gro_receive), on the headers alone: an
 * untagged IPv4 or IPv6 frame whose IP length ends at the frame, a TCP
 * header with ACK and at most PSH, some payload; two segments of one flow
 * have the same headers but for the fields each has its own (lengths, IP
 * ID, sequence number, PSH, checksums), which the key clears.  No device
 * state here, so that the unit test (tests/unit) can try any header.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NET_SELFVIRT_COALESCE_RULES_H
#define HW_NET_SELFVIRT_COALESCE_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SELFVIRT_ETH_HLEN       14      /* untagged: VLAN frames are left */
#define SELFVIRT_IP4_HLEN       20      /* without options */
#define SELFVIRT_IP6_HLEN       40
#define SELFVIRT_TCP_HLEN       20      /* without options */
/* fields each segment has its own: from the IP, from the TCP header */
#define SELFVIRT_IP4_LEN        2
#define SELFVIRT_IP4_ID         4
#define SELFVIRT_IP4_SUM        10
#define SELFVIRT_IP6_PLEN       4
#define SELFVIRT_TCP_SEQ        4
#define SELFVIRT_TCP_FLAGS      13
#define SELFVIRT_TCP_SUM        16
#define SELFVIRT_TCP_PSH        0x08
#define SELFVIRT_TCP_ACK        0x10
#define SELFVIRT_COALESCE_HDR_MAX 256   /* L2-L4 headers compared */

/* A TCP segment that may be merged: its offsets and payload. */
typedef struct SelfvirtTcpSeg {
    unsigned l3, l4, l5;
    uint32_t seq;
    uint32_t plen;
    bool ip4;
} SelfvirtTcpSeg;

static inline uint32_t selfvirt_ld_be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t selfvirt_ld_be32(const uint8_t *p)
{
    return selfvirt_ld_be16(p) << 16 | selfvirt_ld_be16(p + 2);
}

/*
 * May the @len-byte frame @d, with its L3, TCP header and payload at @l3,
 * @l4 and @l5, be merged with its neighbours?  If so, @t describes it.
 */
static inline bool selfvirt_tcp_seg_parse(const uint8_t *d, uint32_t len,
                                          unsigned l3, unsigned l4,
                                          unsigned l5, SelfvirtTcpSeg *t)
{
    uint8_t flags;

    if (l3 != SELFVIRT_ETH_HLEN || l5 >= len ||
        l5 > SELFVIRT_COALESCE_HDR_MAX || l4 + SELFVIRT_TCP_HLEN > l5 ||
        l3 + SELFVIRT_IP4_HLEN > l4) {
        return false;           /* tagged, no payload, or headers too long */
    }
    t->l3 = l3;
    t->l4 = l4;
    t->l5 = l5;
    t->ip4 = (d[l3] >> 4) == 4;
    /* the IP length must end at the frame: no Ethernet padding */
    if (t->ip4 ? l3 + selfvirt_ld_be16(d + l3 + SELFVIRT_IP4_LEN) != len
               : l3 + SELFVIRT_IP6_HLEN +
                 selfvirt_ld_be16(d + l3 + SELFVIRT_IP6_PLEN) != len) {
        return false;
    }
    flags = d[l4 + SELFVIRT_TCP_FLAGS];
    if ((flags & ~SELFVIRT_TCP_PSH) != SELFVIRT_TCP_ACK) {
        return false;           /* SYN, FIN, RST, URG, ECE, CWR: flush */
    }
    t->seq = selfvirt_ld_be32(d + l4 + SELFVIRT_TCP_SEQ);
    t->plen = len - l5;
    return true;
}

/*
 * @d's headers without the fields each segment has its own, into @key
 * (t->l5 bytes): two segments of one flow that GRO would merge have the
 * same key.
 */
static inline void selfvirt_tcp_seg_key(const uint8_t *d,
                                        const SelfvirtTcpSeg *t, uint8_t *key)
{
    memcpy(key, d, t->l5);
    if (t->ip4) {
        memset(key + t->l3 + SELFVIRT_IP4_LEN, 0, 2);
        memset(key + t->l3 + SELFVIRT_IP4_ID, 0, 2);
        memset(key + t->l3 + SELFVIRT_IP4_SUM, 0, 2);
    } else {
        memset(key + t->l3 + SELFVIRT_IP6_PLEN, 0, 2);
    }
    memset(key + t->l4 + SELFVIRT_TCP_SEQ, 0, 4);
    key[t->l4 + SELFVIRT_TCP_FLAGS] &= ~SELFVIRT_TCP_PSH;
    memset(key + t->l4 + SELFVIRT_TCP_SUM, 0, 2);
}

#endif
