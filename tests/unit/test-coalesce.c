/*
 * Unit test of receive coalescing's header rules (selfvirt_coalesce_rules.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include "selfvirt_coalesce_rules.h"

#define L3      SELFVIRT_ETH_HLEN
#define L4_V4   (L3 + SELFVIRT_IP4_HLEN)
#define L4_V6   (L3 + SELFVIRT_IP6_HLEN)
#define PAYLOAD 100

static void st_be16(uint8_t *p, uint32_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void st_be32(uint8_t *p, uint32_t v)
{
    st_be16(p, v >> 16);
    st_be16(p + 2, v);
}

/* An ACK segment of one IPv4 (@v6: IPv6) flow, @seq, PAYLOAD bytes; its
 * length.  The per-segment fields (ID, checksums) vary with @seq. */
static uint32_t segment(uint8_t *f, bool v6, uint32_t seq, uint16_t port)
{
    unsigned l4 = v6 ? L4_V6 : L4_V4, l5 = l4 + SELFVIRT_TCP_HLEN;
    uint32_t len = l5 + PAYLOAD;

    memset(f, 0, len);
    memset(f, 0x52, 12);                        /* MACs */
    st_be16(f + 12, v6 ? 0x86dd : 0x0800);
    if (v6) {
        f[L3] = 0x60;
        st_be16(f + L3 + SELFVIRT_IP6_PLEN, len - L3 - SELFVIRT_IP6_HLEN);
        f[L3 + 6] = 6;                          /* next header: TCP */
    } else {
        f[L3] = 0x45;
        st_be16(f + L3 + SELFVIRT_IP4_LEN, len - L3);
        st_be16(f + L3 + SELFVIRT_IP4_ID, seq);
        f[L3 + 9] = 6;
        st_be16(f + L3 + SELFVIRT_IP4_SUM, ~seq);
    }
    st_be16(f + l4, port);
    st_be16(f + l4 + 2, 5001);
    st_be32(f + l4 + SELFVIRT_TCP_SEQ, seq);
    f[l4 + 12] = 5 << 4;                        /* data offset */
    f[l4 + SELFVIRT_TCP_FLAGS] = SELFVIRT_TCP_ACK;
    st_be16(f + l4 + SELFVIRT_TCP_SUM, seq * 7);
    memset(f + l5, seq, PAYLOAD);
    return len;
}

static bool parse(const uint8_t *f, uint32_t len, bool v6, SelfvirtTcpSeg *t)
{
    unsigned l4 = v6 ? L4_V6 : L4_V4;

    return selfvirt_tcp_seg_parse(f, len, L3, l4, l4 + SELFVIRT_TCP_HLEN, t);
}

static void test_merge_candidates(void)
{
    uint8_t f[256];
    SelfvirtTcpSeg t = { 0 };

    for (int v6 = 0; v6 <= 1; v6++) {
        uint32_t len = segment(f, v6, 1000, 40000);

        g_assert_true(parse(f, len, v6, &t));
        g_assert_cmpuint(t.seq, ==, 1000);
        g_assert_cmpuint(t.plen, ==, PAYLOAD);
        g_assert_cmpint(t.ip4, ==, !v6);
        f[(v6 ? L4_V6 : L4_V4) + SELFVIRT_TCP_FLAGS] |= SELFVIRT_TCP_PSH;
        g_assert_true(parse(f, len, v6, &t));   /* PSH ends a run, merges */
    }
}

static void test_what_is_never_merged(void)
{
    static const uint8_t flush[] = { 0x01, 0x02, 0x04, 0x20, 0x40, 0x80 };
    uint8_t f[256];
    SelfvirtTcpSeg t = { 0 };
    uint32_t len = segment(f, false, 1000, 40000);

    for (size_t i = 0; i < G_N_ELEMENTS(flush); i++) {   /* FIN .. CWR */
        segment(f, false, 1000, 40000);
        f[L4_V4 + SELFVIRT_TCP_FLAGS] |= flush[i];
        g_assert_false(parse(f, len, false, &t));
    }
    segment(f, false, 1000, 40000);
    f[L4_V4 + SELFVIRT_TCP_FLAGS] = 0;                  /* no ACK */
    g_assert_false(parse(f, len, false, &t));
    segment(f, false, 1000, 40000);
    g_assert_false(parse(f, len + 6, false, &t));       /* Ethernet padding */
    g_assert_false(selfvirt_tcp_seg_parse(f, len, L3 + 4, L4_V4 + 4,
                                          L4_V4 + 24, &t));  /* VLAN tag */
    g_assert_false(parse(f, L4_V4 + SELFVIRT_TCP_HLEN, false, &t)); /* no data */
    g_assert_false(selfvirt_tcp_seg_parse(f, len, L3, L4_V4, L4_V4 + 10,
                                          &t));         /* short TCP header */
    g_assert_false(selfvirt_tcp_seg_parse(f, 400, L3, L4_V4, 300, &t));
}

static void test_one_flow_one_key(void)
{
    uint8_t a[256], b[256], ka[SELFVIRT_COALESCE_HDR_MAX];
    uint8_t kb[SELFVIRT_COALESCE_HDR_MAX];
    SelfvirtTcpSeg ta = { 0 }, tb = { 0 };

    for (int v6 = 0; v6 <= 1; v6++) {
        g_assert_true(parse(a, segment(a, v6, 1000, 40000), v6, &ta));
        g_assert_true(parse(b, segment(b, v6, 1100, 40000), v6, &tb));
        b[(v6 ? L4_V6 : L4_V4) + SELFVIRT_TCP_FLAGS] |= SELFVIRT_TCP_PSH;
        selfvirt_tcp_seg_key(a, &ta, ka);
        selfvirt_tcp_seg_key(b, &tb, kb);
        g_assert_cmpmem(ka, ta.l5, kb, tb.l5);
        /* another flow: another source port */
        g_assert_true(parse(b, segment(b, v6, 1100, 40001), v6, &tb));
        selfvirt_tcp_seg_key(b, &tb, kb);
        g_assert_true(memcmp(ka, kb, ta.l5) != 0);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/selfvirt/coalesce/merge-candidates",
                    test_merge_candidates);
    g_test_add_func("/selfvirt/coalesce/what-is-never-merged",
                    test_what_is_never_merged);
    g_test_add_func("/selfvirt/coalesce/one-flow-one-key",
                    test_one_flow_one_key);
    return g_test_run();
}
