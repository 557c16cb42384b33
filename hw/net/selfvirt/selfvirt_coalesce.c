/*
 * selfvirt: receive coalescing (hardware GRO)
 *
 * Under TCG a guest pays dearly for every frame it receives, whatever its
 * size.  A VIF that asked for SELFVIRT_RX_COALESCE_TCP gets back-to-back
 * TCP segments of one flow, already waiting in its pending queue, as one
 * large frame spread over chained receive slots; the descriptor gives the
 * MSS, so the host can cut it again if it forwards it.  The rules are
 * those of Linux's GRO (tcp_gro_receive): same headers but for lengths,
 * IDs, sequence numbers and checksums; in-order sequence numbers; ACK with
 * at most PSH; every segment but the last a full MSS.  Nothing waits for a
 * segment that has not arrived: latency is never traded for batching.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "net/eth.h"
#include "selfvirt.h"
#include "trace.h"

#define COALESCE_MAX_SEGS   64          /* as GRO's limit */
#define COALESCE_HDR_MAX    256         /* L2-L4 headers compared */

/* Offsets of the header fields every segment has its own */
#define IP4_LEN     offsetof(struct ip_header, ip_len)
#define IP4_ID      offsetof(struct ip_header, ip_id)
#define IP4_SUM     offsetof(struct ip_header, ip_sum)
#define IP6_PLEN    offsetof(struct ip6_header, ip6_plen)
#define TCP_SEQ     offsetof(struct tcp_header, th_seq)
#define TCP_FLAGS   (offsetof(struct tcp_header, th_offset_flags) + 1)
#define TCP_SUM     offsetof(struct tcp_header, th_sum)

/* A TCP segment that may be merged: its offsets and payload length. */
typedef struct CoalesceSeg {
    unsigned l3, l4, l5;
    uint32_t seq;
    uint32_t plen;
    bool ip4;
} CoalesceSeg;

static bool coalesce_parse(const SelfvirtFrame *fr, CoalesceSeg *t)
{
    const uint8_t *d = fr->data;
    uint8_t flags;

    if (!fr->csum_ok || !fr->tcp_l5_off || fr->src_vif >= 0 || fr->tx_flags) {
        return false;
    }
    t->l3 = eth_get_l2_hdr_length(d);
    if (t->l3 != ETH_HLEN) {
        return false;           /* VLAN-tagged: left alone */
    }
    t->l4 = fr->tcp_l4_off;
    t->l5 = fr->tcp_l5_off;
    if (t->l5 >= fr->len || t->l4 + sizeof(struct tcp_header) > t->l5 ||
        t->l3 + sizeof(struct ip_header) > t->l4 || t->l5 > COALESCE_HDR_MAX) {
        return false;           /* no payload, or headers that do not fit */
    }
    t->ip4 = (d[t->l3] >> 4) == 4;
    /* the IP length must end at the frame: no Ethernet padding */
    if (t->ip4 ? t->l3 + lduw_be_p(d + t->l3 + IP4_LEN) != fr->len
               : t->l3 + sizeof(struct ip6_header) +
                 lduw_be_p(d + t->l3 + IP6_PLEN) != fr->len) {
        return false;
    }
    flags = d[t->l4 + TCP_FLAGS];
    if ((flags & ~TH_PUSH) != TH_ACK) {
        return false;           /* SYN, FIN, RST, URG, ECE, CWR: flush */
    }
    t->seq = ldl_be_p(d + t->l4 + TCP_SEQ);
    t->plen = fr->len - t->l5;
    return true;
}

/*
 * @fr's headers without the fields each segment has its own: two segments
 * of one flow that GRO would merge have the same key.
 */
static void coalesce_key(const SelfvirtFrame *fr, const CoalesceSeg *t,
                         uint8_t *key)
{
    memcpy(key, fr->data, t->l5);
    if (t->ip4) {
        stw_be_p(key + t->l3 + IP4_LEN, 0);
        stw_be_p(key + t->l3 + IP4_ID, 0);
        stw_be_p(key + t->l3 + IP4_SUM, 0);
    } else {
        stw_be_p(key + t->l3 + IP6_PLEN, 0);
    }
    stl_be_p(key + t->l4 + TCP_SEQ, 0);
    key[t->l4 + TCP_FLAGS] &= ~TH_PUSH;
    stw_be_p(key + t->l4 + TCP_SUM, 0);
}

/*
 * Merge @head with the segments that follow it in @vif's pending queue, up
 * to @limit bytes.  Returns @head, or a new frame that replaces it.  Only
 * the ingress context of @vif pops its pending queue.
 */
SelfvirtFrame *selfvirt_coalesce(SelfvirtState *s, SelfvirtVif *vif,
                                 SelfvirtFrame *head, uint32_t limit)
{
    SelfvirtFrame *seg[COALESCE_MAX_SEGS], *next, *fr;
    uint8_t key[COALESCE_HDR_MAX], next_key[COALESCE_HDR_MAX];
    uint32_t len, mss, last_plen, next_seq;
    CoalesceSeg th, tn;
    unsigned n = 1;
    uint8_t *p;

    if (!(vif->rx_coalesce & SELFVIRT_RX_COALESCE_TCP) ||
        !coalesce_parse(head, &th)) {
        return head;
    }
    coalesce_key(head, &th, key);
    seg[0] = head;
    len = head->len;
    mss = last_plen = th.plen;
    next_seq = th.seq + th.plen;
    while (n < COALESCE_MAX_SEGS && last_plen == mss &&
           !(seg[n - 1]->data[th.l4 + TCP_FLAGS] & TH_PUSH) &&
           (next = selfvirt_fifo_peek(&vif->pending)) &&
           coalesce_parse(next, &tn) && tn.l5 == th.l5 && tn.l4 == th.l4 &&
           tn.plen <= mss && tn.seq == next_seq &&
           len + tn.plen <= limit && len + tn.plen - th.l3 <= 65535) {
        coalesce_key(next, &tn, next_key);
        if (memcmp(key, next_key, th.l5)) {
            break;              /* another flow, or other options */
        }
        seg[n++] = selfvirt_fifo_pop(&vif->pending);
        len += tn.plen;
        last_plen = tn.plen;
        next_seq += tn.plen;
    }
    if (n == 1) {
        return head;
    }

    fr = selfvirt_frame_alloc(len, head->src_vif);
    memcpy(fr->data, head->data, head->len);
    p = fr->data + head->len;
    for (unsigned i = 1; i < n; i++) {
        uint32_t plen = seg[i]->len - th.l5;

        memcpy(p, seg[i]->data + th.l5, plen);
        p += plen;
        /* the merged header pushes if any segment did */
        fr->data[th.l4 + TCP_FLAGS] |=
            seg[i]->data[th.l4 + TCP_FLAGS] & TH_PUSH;
        g_free(seg[i]);
    }
    g_free(head);
    if (th.ip4) {
        stw_be_p(fr->data + th.l3 + IP4_LEN, len - th.l3);
        eth_fix_ip4_checksum(fr->data + th.l3, th.l4 - th.l3);
    } else {
        stw_be_p(fr->data + th.l3 + IP6_PLEN,
                 len - th.l3 - sizeof(struct ip6_header));
    }
    /*
     * To the host it is now an unsegmented TCP frame, checksums verified
     * (the TCP one in the header is stale: GSO recomputes it if the host
     * cuts the frame again).
     */
    fr->tx_flags = SELFVIRT_TX_TSO;
    fr->mss = mss;
    fr->csum_ok = true;
    qatomic_add(&s->stats[SELFVIRT_STAT_RX_COALESCED], n - 1);
    trace_selfvirt_rx_coalesce(vif - s->vif, n, len, mss);
    return fr;
}
