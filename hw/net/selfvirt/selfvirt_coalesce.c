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
#define TCP_FLAGS_OFF       13          /* in the TCP header */
#define TCP_ACK             0x10
#define TCP_PSH             0x08

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
    if (t->l5 >= fr->len || t->l4 + 20 > t->l5 || t->l3 + 40 > t->l5) {
        return false;           /* no payload, or headers that do not fit */
    }
    t->ip4 = (d[t->l3] >> 4) == 4;
    /* the IP length must end at the frame: no Ethernet padding */
    if (t->ip4 ? t->l3 + lduw_be_p(d + t->l3 + 2) != fr->len
               : t->l3 + 40 + lduw_be_p(d + t->l3 + 4) != fr->len) {
        return false;
    }
    flags = d[t->l4 + TCP_FLAGS_OFF];
    if ((flags & ~TCP_PSH) != TCP_ACK) {
        return false;           /* SYN, FIN, RST, URG, ECE, CWR: flush */
    }
    t->seq = ldl_be_p(d + t->l4 + 4);
    t->plen = fr->len - t->l5;
    return true;
}

/* Same flow and same headers but for the fields each segment has its own. */
static bool coalesce_same_headers(const SelfvirtFrame *a,
                                  const SelfvirtFrame *b,
                                  const CoalesceSeg *ta, const CoalesceSeg *tb)
{
    uint8_t ha[256], hb[256];
    unsigned len = ta->l5;

    if (tb->l3 != ta->l3 || tb->l4 != ta->l4 || tb->l5 != ta->l5 ||
        len > sizeof(ha)) {
        return false;
    }
    memcpy(ha, a->data, len);
    memcpy(hb, b->data, len);
    for (uint8_t *h = ha; h; h = h == ha ? hb : NULL) {
        if (ta->ip4) {
            memset(h + ta->l3 + 2, 0, 4);       /* total length, ID */
            memset(h + ta->l3 + 10, 0, 2);      /* header checksum */
        } else {
            memset(h + ta->l3 + 4, 0, 2);       /* payload length */
        }
        memset(h + ta->l4 + 4, 0, 4);           /* sequence number */
        h[ta->l4 + TCP_FLAGS_OFF] &= ~TCP_PSH;
        memset(h + ta->l4 + 16, 0, 2);          /* TCP checksum */
    }
    return !memcmp(ha, hb, len);
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
    CoalesceSeg th, tn;
    uint32_t len, mss, last_plen;
    unsigned n = 1;
    uint8_t *p;

    if (!(vif->rx_coalesce & SELFVIRT_RX_COALESCE_TCP) ||
        !coalesce_parse(head, &th)) {
        return head;
    }
    seg[0] = head;
    len = head->len;
    mss = last_plen = th.plen;
    while (n < COALESCE_MAX_SEGS && last_plen == mss &&
           !(seg[n - 1]->data[th.l4 + TCP_FLAGS_OFF] & TCP_PSH) &&
           (next = selfvirt_fifo_peek(&vif->pending)) &&
           coalesce_parse(next, &tn) && tn.plen <= mss &&
           tn.seq == th.seq + (len - head->len) + th.plen &&
           len + tn.plen <= limit && len + tn.plen - th.l3 <= 65535 &&
           coalesce_same_headers(head, next, &th, &tn)) {
        seg[n++] = selfvirt_fifo_pop(&vif->pending);
        len += tn.plen;
        last_plen = tn.plen;
    }
    if (n == 1) {
        return head;
    }

    fr = g_malloc(sizeof(*fr) + len);
    *fr = *head;
    fr->len = len;
    memcpy(fr->data, head->data, head->len);
    p = fr->data + head->len;
    for (unsigned i = 1; i < n; i++) {
        uint32_t plen = seg[i]->len - th.l5;

        memcpy(p, seg[i]->data + th.l5, plen);
        p += plen;
        /* the merged header pushes if any segment did */
        fr->data[th.l4 + TCP_FLAGS_OFF] |=
            seg[i]->data[th.l4 + TCP_FLAGS_OFF] & TCP_PSH;
        g_free(seg[i]);
    }
    g_free(head);
    if (th.ip4) {
        stw_be_p(fr->data + th.l3 + 2, len - th.l3);
        eth_fix_ip4_checksum(fr->data + th.l3, th.l4 - th.l3);
    } else {
        stw_be_p(fr->data + th.l3 + 4, len - th.l3 - 40);
    }
    /*
     * To the host it is now an unsegmented TCP frame, checksums verified
     * (the TCP one in the header is stale: GSO recomputes it if the host
     * cuts the frame again).
     */
    fr->tx_flags = SELFVIRT_TX_TSO;
    fr->mss = mss;
    fr->tcp_l4_off = fr->tcp_l5_off = 0;
    qatomic_add(&s->stats[SELFVIRT_STAT_RX_COALESCED], n - 1);
    trace_selfvirt_rx_coalesce(vif - s->vif, n, len, mss);
    return fr;
}
