/*
 * Unit test of the selfvirt-nic egress rate limiter (selfvirt_rate.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include <stdint.h>
#include "selfvirt_rate.h"

#define MS 1000000ll
#define S  (1000 * MS)

/* Send @n frames of @len bytes as fast as allowed from @t; the end time. */
static int64_t send_frames(SelfvirtRate *r, int64_t t, unsigned n,
                           uint32_t len)
{
    for (unsigned i = 0; i < n; i++) {
        int64_t wait = INT64_MAX;

        while (!selfvirt_rate_check(r, t, len, &wait)) {
            g_assert_cmpint(wait, >, 0);
            g_assert_cmpint(wait, <=, S);
            t += wait;
            wait = INT64_MAX;
        }
        selfvirt_rate_charge(r, len);
    }
    return t;
}

/* No limit: every frame goes, at any time, and no clock is needed. */
static void test_unlimited(void)
{
    SelfvirtRate r;
    int64_t wait = INT64_MAX;

    selfvirt_rate_set(&r, 0);
    g_assert_false(selfvirt_rate_limited(&r));
    g_assert_true(selfvirt_rate_check(&r, 0, 65536, &wait));
    g_assert_cmpint(wait, ==, INT64_MAX);
    selfvirt_rate_set(&r, 100);
    g_assert_true(selfvirt_rate_limited(&r));
}

/* 100 Mbit/s is 12.5 MB/s: 12500 frames of 1000 bytes take about 1 s. */
static void test_rate(void)
{
    SelfvirtRate r;
    int64_t t0 = 5 * S, t;

    selfvirt_rate_set(&r, 100);
    t = send_frames(&r, t0, 12500, 1000);
    g_assert_cmpint(t - t0, >=, 980 * MS);
    g_assert_cmpint(t - t0, <=, 1010 * MS);
}

/* Idle for a long time at the highest rates: no overflow, no stall. */
static void test_idle_then_send(void)
{
    static const uint32_t rates[] = { 10000, 100000 };

    for (unsigned i = 0; i < G_N_ELEMENTS(rates); i++) {
        for (int64_t idle = 1 * S; idle <= 3600 * S; idle *= 3) {
            SelfvirtRate r;
            int64_t wait = INT64_MAX, t = 1 * S;

            selfvirt_rate_set(&r, rates[i]);
            t = send_frames(&r, t, 10, 1500);
            g_assert_true(selfvirt_rate_check(&r, t + idle, 1500, &wait));
            selfvirt_rate_charge(&r, 1500);
            /* and the burst after idling is bounded (10 ms + 64 KiB) */
            g_assert_cmpint(r.tokens, <=, (int64_t)rates[i] * 1250 + 65536);
        }
    }
}

/* A frame checked again and again (its destination was busy) pays once. */
static void test_retry_pays_once(void)
{
    SelfvirtRate r;
    int64_t wait = INT64_MAX, t = 1 * S, tokens;

    selfvirt_rate_set(&r, 1000);
    t = send_frames(&r, t, 1, 1500);       /* start the bucket */
    t += 10 * MS;                          /* full: 1.25 MB + 64 KiB */
    g_assert_true(selfvirt_rate_check(&r, t, 1500, &wait));
    tokens = r.tokens;
    for (int i = 0; i < 100; i++) {
        g_assert_true(selfvirt_rate_check(&r, t, 1500, &wait));
    }
    g_assert_cmpint(r.tokens, ==, tokens);
    selfvirt_rate_charge(&r, 1500);
    g_assert_cmpint(r.tokens, ==, tokens - 1500);
}

/* A clock that goes backwards never mints tokens. */
static void test_clock_backwards(void)
{
    SelfvirtRate r;
    int64_t t = 10 * S, tokens;

    selfvirt_rate_set(&r, 1000);
    t = send_frames(&r, t, 2000, 1500);    /* bucket nearly empty */
    tokens = r.tokens;
    selfvirt_rate_refill(&r, t - 5 * S);
    g_assert_cmpint(r.tokens, ==, tokens);
    selfvirt_rate_refill(&r, t + 1 * MS);  /* and time goes on from t */
    g_assert_cmpint(r.tokens, ==, tokens + 125000);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/selfvirt/rate/unlimited", test_unlimited);
    g_test_add_func("/selfvirt/rate/rate", test_rate);
    g_test_add_func("/selfvirt/rate/idle-then-send", test_idle_then_send);
    g_test_add_func("/selfvirt/rate/retry-pays-once", test_retry_pays_once);
    g_test_add_func("/selfvirt/rate/clock-backwards", test_clock_backwards);
    return g_test_run();
}
