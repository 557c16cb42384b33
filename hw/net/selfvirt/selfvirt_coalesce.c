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
#include "selfvirt_coalesce_rules.h"
#include "trace.h"

#define COALESCE_MAX_SEGS   64          /* as GRO's limit */

/* @fr: a verified TCP frame from the wire, and one GRO would merge? */
static bool coalesce_parse(const SelfvirtFrame *fr, SelfvirtTcpSeg *t)
{
    if (!fr->csum_ok || !fr->tcp_l5_off || fr->src_vif >= 0 || fr->tx_flags) {
        return false;
    }
    return selfvirt_tcp_seg_parse(fr->data, fr->len,
                                  eth_get_l2_hdr_length(fr->data),
                                  fr->tcp_l4_off, fr->tcp_l5_off, t);
}

/* selfvirt_coalesce() for a @head that parsed as @th. */
static SelfvirtFrame *coalesce_merge(SelfvirtState *s, SelfvirtVif *vif,
                                     SelfvirtBatch *b, SelfvirtFrame *head,
                                     SelfvirtTcpSeg th, uint32_t limit)
{
    SelfvirtFrame *seg[COALESCE_MAX_SEGS], *next, *fr;
    uint8_t key[SELFVIRT_COALESCE_HDR_MAX];
    uint8_t next_key[SELFVIRT_COALESCE_HDR_MAX];
    uint32_t len, mss, last_plen, next_seq;
    SelfvirtTcpSeg tn;
    unsigned n = 1;
    uint8_t *p;

    selfvirt_tcp_seg_key(head->data, &th, key);
    seg[0] = head;
    len = head->len;
    mss = last_plen = th.plen;
    next_seq = th.seq + th.plen;
    while (n < COALESCE_MAX_SEGS && last_plen == mss &&
           !(seg[n - 1]->data[th.l4 + SELFVIRT_TCP_FLAGS] &
             SELFVIRT_TCP_PSH) &&
           (next = selfvirt_batch_peek(b)) &&
           coalesce_parse(next, &tn) && tn.l5 == th.l5 && tn.l4 == th.l4 &&
           tn.plen <= mss && tn.seq == next_seq &&
           len + tn.plen <= limit && len + tn.plen - th.l3 <= 65535) {
        selfvirt_tcp_seg_key(next->data, &tn, next_key);
        if (memcmp(key, next_key, th.l5)) {
            break;              /* another flow, or other options */
        }
        seg[n++] = selfvirt_batch_pop(b);
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
        fr->data[th.l4 + SELFVIRT_TCP_FLAGS] |=
            seg[i]->data[th.l4 + SELFVIRT_TCP_FLAGS] & SELFVIRT_TCP_PSH;
        selfvirt_frame_free(seg[i]);
    }
    selfvirt_frame_free(head);
    if (th.ip4) {
        stw_be_p(fr->data + th.l3 + SELFVIRT_IP4_LEN, len - th.l3);
        eth_fix_ip4_checksum(fr->data + th.l3, th.l4 - th.l3);
    } else {
        stw_be_p(fr->data + th.l3 + SELFVIRT_IP6_PLEN,
                 len - th.l3 - SELFVIRT_IP6_HLEN);
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

/*
 * Merge @head with the segments that follow it in batch @b of @vif's
 * pending queue, up to @limit bytes.  Returns @head, or a new frame that
 * replaces it.  The merge's arrays live in coalesce_merge(): QEMU builds
 * with -ftrivial-auto-var-init=zero, and most frames are not merged.
 */
SelfvirtFrame *selfvirt_coalesce(SelfvirtState *s, SelfvirtVif *vif,
                                 SelfvirtBatch *b, SelfvirtFrame *head,
                                 uint32_t limit)
{
    SelfvirtTcpSeg th;

    if (!(vif->rx_coalesce & SELFVIRT_RX_COALESCE_TCP) ||
        !coalesce_parse(head, &th)) {
        return head;
    }
    return coalesce_merge(s, vif, b, head, th, limit);
}
