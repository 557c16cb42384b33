/*
 * Unit test of the window table translation (selfvirt_window_xlate.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include "selfvirt_window_xlate.h"

static void test_page(void)
{
    g_assert_cmpint(selfvirt_window_page(0, 12, 1), ==, 0);
    g_assert_cmpint(selfvirt_window_page(4095, 12, 1), ==, 0);
    g_assert_cmpint(selfvirt_window_page(4096, 12, 1), ==, -1);
    g_assert_cmpint(selfvirt_window_page(4096, 12, 2), ==, 1);
    g_assert_cmpint(selfvirt_window_page(UINT64_MAX, SELFVIRT_WIN_MIN_SHIFT,
                                         SELFVIRT_WIN_ENTRIES), ==, -1);
    g_assert_cmpint(selfvirt_window_page((64ull << 25) - 1,
                                         SELFVIRT_WIN_MAX_SHIFT, 64), ==, 63);
}

static void test_addr(void)
{
    uint64_t addr = 0, avail = 0;

    /* 64-bit target, offset inside the page, bytes to the page's end */
    g_assert_true(selfvirt_window_addr(0x12345000 | SELFVIRT_WIN_VALID, 0x7,
                                       12, 0x1010, &addr, &avail));
    g_assert_cmphex(addr, ==, 0x712345010ull);
    g_assert_cmpuint(avail, ==, 4096 - 0x10);
    /* the low bits of an entry are the valid bit and reserved: not address */
    g_assert_true(selfvirt_window_addr(0xabcd00ff, 0, 8, 0, &addr, &avail));
    g_assert_cmphex(addr, ==, 0xabcd0000);
    g_assert_cmpuint(avail, ==, 256);
    /* the last byte of a 32 MiB page */
    g_assert_true(selfvirt_window_addr(SELFVIRT_WIN_VALID, 1, 25,
                                       (1ull << 25) - 1, &addr, &avail));
    g_assert_cmphex(addr, ==, 0x101ffffffull);
    g_assert_cmpuint(avail, ==, 1);
}

static void test_invalid_entry_aborts(void)
{
    uint64_t addr = 42, avail = 42;

    g_assert_false(selfvirt_window_addr(0x12345000, 0, 12, 0, &addr, &avail));
    g_assert_cmpuint(addr, ==, 42);         /* nothing written */
    g_assert_cmpuint(avail, ==, 42);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/selfvirt/window/page", test_page);
    g_test_add_func("/selfvirt/window/addr", test_addr);
    g_test_add_func("/selfvirt/window/invalid-entry-aborts",
                    test_invalid_entry_aborts);
    return g_test_run();
}
