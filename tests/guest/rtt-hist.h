/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Round trips in 0.1 us buckets: every sample kept, at the resolution it
 * is printed with, however many millions a ping-pong makes.  Printed as
 * "pingpong_hist US:COUNT,..." (ascending), then "rounds N seconds S".
 */
#ifndef RTT_HIST_H
#define RTT_HIST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RTT_HIST_BUCKETS   (1u << 20)      /* 0.1 us each: up to 104 ms */

struct rtt_hist {
    uint32_t *count;                       /* [RTT_HIST_BUCKETS], the last
                                            * one everything longer */
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
    h->count = calloc(RTT_HIST_BUCKETS, sizeof(*h->count));
    if (!h->count) {
        perror("rtt_hist");
        exit(2);
    }
    h->rounds = 0;
    h->t0 = rtt_now_ns();
}

static inline void rtt_hist_add(struct rtt_hist *h, uint64_t ns)
{
    uint64_t b = (ns + 50) / 100;

    h->count[b < RTT_HIST_BUCKETS ? b : RTT_HIST_BUCKETS - 1]++;
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
    uint32_t b;

    printf("pingpong_hist");
    for (b = 0; b < RTT_HIST_BUCKETS; b++) {
        if (h->count[b]) {
            printf("%s%.1f:%u", sep, b / 10.0, h->count[b]);
            sep = ",";
        }
    }
    printf("\nrounds %llu seconds %.3f\n", (unsigned long long)h->rounds, seconds);
}

#endif
