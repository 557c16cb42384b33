/*
 * Unit test of what the port takes from a virtio-net header
 * (selfvirt_vnet_hdr.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include <linux/virtio_net.h>
#include "selfvirt_vnet_hdr.h"

static bool take(uint8_t flags, uint8_t gso_type, uint16_t gso_size,
                 uint16_t *tx_flags, uint16_t *mss)
{
    return selfvirt_vnet_hdr_offloads(flags, gso_type, gso_size, tx_flags,
                                      mss);
}

static void test_plain_frames(void)
{
    uint16_t tx_flags, mss;

    g_assert_true(take(0, VIRTIO_NET_HDR_GSO_NONE, 0, &tx_flags, &mss));
    g_assert_cmpuint(tx_flags, ==, 0);
    g_assert_cmpuint(mss, ==, 0);
    /* checked by the host that sent it: the board checks it again */
    g_assert_true(take(VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_GSO_NONE,
                       0, &tx_flags, &mss));
    g_assert_cmpuint(tx_flags, ==, 0);
    /* a partial checksum: left to the VIF's host */
    g_assert_true(take(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE,
                       0, &tx_flags, &mss));
    g_assert_cmpuint(tx_flags, ==, SELFVIRT_TX_CSUM);
    /* a size without a GSO type means nothing */
    g_assert_true(take(0, VIRTIO_NET_HDR_GSO_NONE, 1448, &tx_flags, &mss));
    g_assert_cmpuint(mss, ==, 0);
}

static void test_tcp_gso(void)
{
    uint16_t tx_flags, mss;

    g_assert_true(take(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4,
                       1448, &tx_flags, &mss));
    g_assert_cmpuint(tx_flags, ==, SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM);
    g_assert_cmpuint(mss, ==, 1448);
    /* GSO implies a partial checksum, flagged or not */
    g_assert_true(take(0, VIRTIO_NET_HDR_GSO_TCPV6, 1428, &tx_flags, &mss));
    g_assert_cmpuint(tx_flags, ==, SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM);
    g_assert_cmpuint(mss, ==, 1428);
}

static void test_refused(void)
{
    uint16_t tx_flags, mss;

    /* no segment size to cut at */
    g_assert_false(take(VIRTIO_NET_HDR_F_NEEDS_CSUM,
                        VIRTIO_NET_HDR_GSO_TCPV4, 0, &tx_flags, &mss));
    /* kinds the port never enables on its peer */
    g_assert_false(take(0, VIRTIO_NET_HDR_GSO_UDP, 1472, &tx_flags, &mss));
    g_assert_false(take(0, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
                        1448, &tx_flags, &mss));
    g_assert_false(take(0, 5 /* UDP_L4 */, 1472, &tx_flags, &mss));
    g_assert_false(take(0, 0xff, 1448, &tx_flags, &mss));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnet-hdr/plain", test_plain_frames);
    g_test_add_func("/vnet-hdr/tcp-gso", test_tcp_gso);
    g_test_add_func("/vnet-hdr/refused", test_refused);
    return g_test_run();
}
