/*
 * Unit test of the ABI header (selfvirt_abi.h): the encodings the device,
 * the driver and the tests share, and the identifier mapping.  The struct
 * layouts are checked at compile time by the header's own asserts, which
 * this file compiles in a plain C build.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include "selfvirt_abi.h"

static void test_encodings(void)
{
    uint32_t q = SELFVIRT_QUEUES(SELFVIRT_QUEUE_MAX, SELFVIRT_QUEUE_MIN);
    uint32_t w = SELFVIRT_WINDOWS(63, 1);
    uint32_t e = SELFVIRT_ENGINES(8, 8);
    uint32_t wi = SELFVIRT_WIN_INFO(SELFVIRT_WIN_ENTRIES,
                                    SELFVIRT_WIN_MIN_SHIFT,
                                    SELFVIRT_WIN_MAX_SHIFT);
    uint32_t ii = SELFVIRT_IRQ_INFO(SELFVIRT_IRQ_ID_BITS,
                                    SELFVIRT_IRQ_MODE_MSIX);

    g_assert_cmpuint(SELFVIRT_QUEUES_TX(q), ==, SELFVIRT_QUEUE_MAX);
    g_assert_cmpuint(SELFVIRT_QUEUES_RX(q), ==, SELFVIRT_QUEUE_MIN);
    g_assert_cmpuint(SELFVIRT_WINDOWS_FIRST(w), ==, 63);
    g_assert_cmpuint(SELFVIRT_WINDOWS_COUNT(w), ==, 1);
    g_assert_cmpuint(SELFVIRT_ENGINES_COUNT(e), ==, 8);
    g_assert_cmpuint(SELFVIRT_ENGINES_CONTEXTS(e), ==, 8);
    g_assert_cmpuint(SELFVIRT_WIN_INFO_ENTRIES(wi), ==, SELFVIRT_WIN_ENTRIES);
    g_assert_cmpuint(SELFVIRT_WIN_INFO_MIN_SHIFT(wi), ==,
                     SELFVIRT_WIN_MIN_SHIFT);
    g_assert_cmpuint(SELFVIRT_WIN_INFO_MAX_SHIFT(wi), ==,
                     SELFVIRT_WIN_MAX_SHIFT);
    g_assert_cmpuint(SELFVIRT_IRQ_INFO_WIDTH(ii), ==, SELFVIRT_IRQ_ID_BITS);
    g_assert_cmpuint(SELFVIRT_IRQ_INFO_MODE(ii), ==, SELFVIRT_IRQ_MODE_MSIX);
    /* the widest identifier fits the width field */
    g_assert_cmpuint(SELFVIRT_IRQ_INFO_WIDTH(SELFVIRT_IRQ_ID_BITS), ==,
                     SELFVIRT_IRQ_ID_BITS);
}

/* Descriptors, then data on cache lines, for every ring size. */
static void test_queue_layout(void)
{
    for (uint32_t n = SELFVIRT_QUEUE_MIN; n <= SELFVIRT_QUEUE_MAX; n *= 2) {
        g_assert_cmpuint(SELFVIRT_SQ_DATA_OFF(n) % 64, ==, 0);
        g_assert_cmpuint(SELFVIRT_SQ_DATA_OFF(n), >=, SELFVIRT_SQ_DESC(n));
        g_assert_cmpuint(SELFVIRT_SQ_DESC(0), ==, SELFVIRT_SQ_DESC_OFF);
        g_assert_cmpuint(SELFVIRT_RQ_DATA_OFF(n) % 64, ==, 0);
        g_assert_cmpuint(SELFVIRT_RQ_DATA_OFF(n), >=, SELFVIRT_RQ_DESC(n));
        g_assert_cmpuint(SELFVIRT_RQ_SLOT(n, 2048, n - 1) + 2048, ==,
                         SELFVIRT_RQ_DATA_OFF(n) + (uint64_t)n * 2048);
    }
}

/*
 * The paper's identifier: each VIF two bits, within the width; with W
 * bits, VIF v shares its bits with VIF v + W/2 (W even), and no two VIFs
 * share below that.  MSI-X: a vector each, the mailbox's after them all.
 */
static void test_identifier_mapping(void)
{
    for (uint32_t width = 1; width <= SELFVIRT_IRQ_ID_BITS; width++) {
        for (uint32_t v = 0; v < SELFVIRT_WIN_ENTRIES; v++) {
            g_assert_cmpuint(SELFVIRT_IRQ_TX_BIT(v, width), <, width);
            g_assert_cmpuint(SELFVIRT_IRQ_RX_BIT(v, width), <, width);
            if (width >= 2 && width % 2 == 0) {
                g_assert_cmpuint(SELFVIRT_IRQ_TX_BIT(v, width), !=,
                                 SELFVIRT_IRQ_RX_BIT(v, width));
                g_assert_cmpuint(SELFVIRT_IRQ_RX_BIT(v, width), ==,
                                 SELFVIRT_IRQ_RX_BIT(v + width / 2, width));
            }
        }
    }
    for (uint32_t a = 0; a < SELFVIRT_IRQ_ID_BITS / 2; a++) {
        for (uint32_t b = a + 1; b < SELFVIRT_IRQ_ID_BITS / 2; b++) {
            g_assert_cmpuint(SELFVIRT_IRQ_TX_BIT(a, 16), !=,
                             SELFVIRT_IRQ_TX_BIT(b, 16));
        }
    }
    for (uint32_t v = 0; v < SELFVIRT_WIN_ENTRIES; v++) {
        g_assert_cmpuint(SELFVIRT_MSIX_TX_VEC(v), <,
                         SELFVIRT_MSIX_MBOX_VEC(SELFVIRT_WIN_ENTRIES));
        g_assert_cmpuint(SELFVIRT_MSIX_RX_VEC(v), ==,
                         SELFVIRT_MSIX_TX_VEC(v) + 1);
    }
}

/* The counter lists: one name per counter, as many as the enum says. */
#define NAME(id, name) name
static const char *const board_stats[] = { SELFVIRT_BOARD_STATS(NAME) };
static const char *const vif_stats[] = { SELFVIRT_VIF_STATS(NAME) };
#undef NAME

static void test_counter_names(void)
{
    g_assert_cmpuint(G_N_ELEMENTS(board_stats), ==, SELFVIRT_STAT_COUNT);
    g_assert_cmpuint(G_N_ELEMENTS(vif_stats), ==, SELFVIRT_VSTAT_COUNT);
    for (unsigned i = 0; i < G_N_ELEMENTS(board_stats); i++) {
        for (unsigned j = i + 1; j < G_N_ELEMENTS(board_stats); j++) {
            g_assert_cmpstr(board_stats[i], !=, board_stats[j]);
        }
    }
    /* the board's counters fit the CSR window before the window table */
    g_assert_cmpuint(SELFVIRT_REG_STAT(SELFVIRT_STAT_COUNT), <=,
                     SELFVIRT_REG_WIN_BASE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/selfvirt/abi/encodings", test_encodings);
    g_test_add_func("/selfvirt/abi/queue-layout", test_queue_layout);
    g_test_add_func("/selfvirt/abi/identifier-mapping",
                    test_identifier_mapping);
    g_test_add_func("/selfvirt/abi/counter-names", test_counter_names);
    return g_test_run();
}
