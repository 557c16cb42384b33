/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Round trips in buckets 1% wide from 0.1 us up: every sample kept, to
 * within 1%, however many millions a ping-pong makes.  Printed as
 * "pingpong_hist US:COUNT,..." (each bucket's lower edge, ascending), then
 * "rounds N seconds S".
 */
#ifndef RTT_HIST_H
#define RTT_HIST_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define RTT_HIST_BUCKETS   1400        /* 0.1 us * 1.01^1400: beyond 100 ms */

struct rtt_hist {
    double edge_ns[RTT_HIST_BUCKETS];  /* lower edges; [0] takes less too */
    uint64_t count[RTT_HIST_BUCKETS];  /* the last one everything longer */
    uint64_t rounds, t0;
};

static inline uint64_t rtt_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline void rtt_hist_init(struct rtt_hist *h)
{
    unsigned int b;

    h->edge_ns[0] = 100;
    h->count[0] = 0;
    for (b = 1; b < RTT_HIST_BUCKETS; b++) {
        h->edge_ns[b] = h->edge_ns[b - 1] * 1.01;
        h->count[b] = 0;
    }
    h->rounds = 0;
    h->t0 = rtt_now_ns();
}

static inline void rtt_hist_add(struct rtt_hist *h, uint64_t ns)
{
    unsigned int lo = 0, hi = RTT_HIST_BUCKETS - 1, mid;

    /* the last bucket whose edge is at most @ns */
    while (lo < hi) {
        mid = (lo + hi + 1) / 2;
        if (h->edge_ns[mid] <= ns)
            lo = mid;
        else
            hi = mid - 1;
    }
    h->count[lo]++;
    h->rounds++;
}

static inline int rtt_hist_done(const struct rtt_hist *h, double seconds)
{
    return rtt_now_ns() - h->t0 >= seconds * 1e9;
}

static inline void rtt_hist_print(const struct rtt_hist *h)
{
    double seconds = (rtt_now_ns() - h->t0) / 1e9;
    const char *sep = " ";
    unsigned int b;

    printf("pingpong_hist");
    for (b = 0; b < RTT_HIST_BUCKETS; b++) {
        if (h->count[b]) {
            double us = h->edge_ns[b] / 1000;
            /* four significant digits, never an exponent */
            int decimals = us < 10 ? 3 : us < 100 ? 2 : us < 1000 ? 1 : 0;

            printf("%s%.*f:%llu", sep, decimals, us,
                   (unsigned long long)h->count[b]);
            sep = ",";
        }
    }
    printf("\nrounds %llu seconds %.3f\n", (unsigned long long)h->rounds, seconds);
}

#endif
