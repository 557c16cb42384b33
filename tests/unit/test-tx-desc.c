/*
 * Unit test of the send descriptor check (selfvirt_tx_desc.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include "selfvirt_tx_desc.h"

#define AREA   (1u << 20)
#define MAX_FRAME 1514u

static bool ok(uint32_t buf, uint32_t len, uint16_t flags, uint16_t mss)
{
    return selfvirt_tx_desc_valid(AREA, MAX_FRAME, buf, len, flags, mss);
}

static void test_lengths(void)
{
    g_assert_false(ok(0, 0, 0, 0));
    g_assert_false(ok(0, SELFVIRT_TX_MIN_FRAME - 1, 0, 0));
    g_assert_true(ok(0, SELFVIRT_TX_MIN_FRAME, 0, 0));
    g_assert_true(ok(0, MAX_FRAME, 0, 0));
    g_assert_false(ok(0, MAX_FRAME + 1, 0, 0));
    /* TSO: up to a whole IP datagram, whatever max-frame says */
    g_assert_true(ok(0, SELFVIRT_TSO_MAX_FRAME, SELFVIRT_TX_TSO, 1448));
    g_assert_false(ok(0, SELFVIRT_TSO_MAX_FRAME + 1, SELFVIRT_TX_TSO, 1448));
}

static void test_inside_the_area(void)
{
    g_assert_true(ok(AREA - 64, 64, 0, 0));
    g_assert_false(ok(AREA - 63, 64, 0, 0));
    g_assert_false(ok(AREA + 1, 64, 0, 0));
    /* no wrap-around: buf + len past 2^32 */
    g_assert_false(ok(UINT32_MAX - 10, 64, 0, 0));
    g_assert_false(selfvirt_tx_desc_valid(0, MAX_FRAME, 0, 64, 0, 0));
}

static void test_flags_and_mss(void)
{
    g_assert_true(ok(0, 64, SELFVIRT_TX_CSUM, 0));
    g_assert_false(ok(0, 64, 1u << 2, 0));
    g_assert_false(ok(0, 64, 0x8000, 0));
    g_assert_false(ok(0, 64, SELFVIRT_TX_TSO, SELFVIRT_TSO_MSS_MIN - 1));
    g_assert_true(ok(0, 64, SELFVIRT_TX_TSO, SELFVIRT_TSO_MSS_MIN));
    g_assert_true(ok(0, 64, SELFVIRT_TX_TSO | SELFVIRT_TX_CSUM,
                     SELFVIRT_TSO_MSS_MAX));
    g_assert_false(ok(0, 64, SELFVIRT_TX_TSO, SELFVIRT_TSO_MSS_MAX + 1));
    /* without TSO the MSS is not looked at */
    g_assert_true(ok(0, 64, 0, 0xffff));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/selfvirt/tx-desc/lengths", test_lengths);
    g_test_add_func("/selfvirt/tx-desc/inside-the-area", test_inside_the_area);
    g_test_add_func("/selfvirt/tx-desc/flags-and-mss", test_flags_and_mss);
    return g_test_run();
}
