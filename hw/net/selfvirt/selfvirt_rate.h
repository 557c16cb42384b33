/*
 * selfvirt: the per-VIF egress rate limiter (a token bucket)
 *
 * The paper's management interface gives each VIF a bandwidth.  Pure
 * logic, no device state: the egress engine passes the clock in, and the
 * unit test (tests/unit/test-rate.c) drives it with any clock.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NET_SELFVIRT_RATE_H
#define HW_NET_SELFVIRT_RATE_H

#include <stdbool.h>
#include <stdint.h>

#define SELFVIRT_RATE_NS_PER_S  1000000000ll

typedef struct SelfvirtRate {
    uint32_t mbps;          /* 0: unlimited */
    int64_t tokens;         /* bytes the VIF may send now */
    int64_t stamp_ns;       /* when tokens was last brought up to date */
} SelfvirtRate;

static inline int64_t selfvirt_rate_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static inline void selfvirt_rate_set(SelfvirtRate *r, uint32_t mbps)
{
    r->mbps = mbps;
    r->tokens = 0;
    r->stamp_ns = 0;
}

static inline int64_t selfvirt_rate_bytes_per_s(const SelfvirtRate *r)
{
    return (int64_t)r->mbps * 125000;
}

/* The bucket holds 10 ms of the rate, and one largest TSO frame more. */
static inline int64_t selfvirt_rate_burst(const SelfvirtRate *r)
{
    return selfvirt_rate_bytes_per_s(r) / 100 + 65536;
}

/* Bring the bucket to @now_ns; a clock that went back adds nothing. */
static inline void selfvirt_rate_refill(SelfvirtRate *r, int64_t now_ns)
{
    int64_t bytes_per_s = selfvirt_rate_bytes_per_s(r);
    int64_t room = selfvirt_rate_burst(r) - r->tokens;
    int64_t elapsed = now_ns - r->stamp_ns;

    if (!r->stamp_ns) {
        r->stamp_ns = now_ns;
        return;
    }
    if (elapsed <= 0) {
        return;
    }
    /* past the time that fills the bucket, idling adds nothing: no overflow */
    elapsed = selfvirt_rate_min(elapsed, room * SELFVIRT_RATE_NS_PER_S /
                                         bytes_per_s + 1);
    r->tokens = selfvirt_rate_min(r->tokens + elapsed * bytes_per_s /
                                  SELFVIRT_RATE_NS_PER_S,
                                  selfvirt_rate_burst(r));
    r->stamp_ns = now_ns;
}

/* Is there a limit at all?  (Unlimited VIFs need not read a clock.) */
static inline bool selfvirt_rate_limited(const SelfvirtRate *r)
{
    return r->mbps != 0;
}

/*
 * May a frame of @len bytes go at time @now_ns (a monotonic clock)?  If
 * not, *@wait_ns is lowered to when it may.  Nothing is charged: a frame
 * that then cannot go (its queue is full) is checked again later and pays
 * once, in selfvirt_rate_charge().
 */
static inline bool selfvirt_rate_check(SelfvirtRate *r, int64_t now_ns,
                                       uint32_t len, int64_t *wait_ns)
{
    if (!r->mbps) {
        return true;
    }
    selfvirt_rate_refill(r, now_ns);
    if (r->tokens >= (int64_t)len) {
        return true;
    }
    *wait_ns = selfvirt_rate_min(*wait_ns, (len - r->tokens) *
                                 SELFVIRT_RATE_NS_PER_S /
                                 selfvirt_rate_bytes_per_s(r) + 1);
    return false;
}

/* The frame of @len bytes that selfvirt_rate_check() allowed was sent. */
static inline void selfvirt_rate_charge(SelfvirtRate *r, uint32_t len)
{
    if (r->mbps) {
        r->tokens -= len;
    }
}

#endif
