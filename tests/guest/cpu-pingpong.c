// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cpu-pingpong: the reference line of the paper's Figs. 9/10, a 32-bit word
 * passed back and forth between two CPUs through mailboxes in memory.
 *
 *   cpu-pingpong poll|irq SECONDS
 *
 * The main thread (CPU 0) writes the peer's mailbox and polls its own; the
 * peer (CPU 1) polls its mailbox (poll), or sleeps on it in a futex and is
 * woken by the main thread's FUTEX_WAKE, an inter-processor interrupt when
 * CPU 1 is idle (irq), then writes the word back; with irq the main thread
 * waits 200 us between round trips, so that the peer is asleep when woken
 * (back to back, it would find the next word before it slept).  Round
 * trips for SECONDS,
 * every one kept (rtt-hist.h); a round ends when its own word (a new one
 * each round) is back.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "rtt-hist.h"

/* each mailbox on a cache line of its own, as two boards' would be */
static struct {
    _Alignas(64) uint32_t word;
} mbox_main, mbox_peer;
static int use_irq;

#define IRQ_GAP_NS      200000

static void pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
        fprintf(stderr, "cpu-pingpong: cannot run on CPU %d (two are needed)\n", cpu);
        exit(2);
    }
}

static uint32_t wait_change(uint32_t *box, uint32_t old)
{
    uint32_t now;

    while ((now = __atomic_load_n(box, __ATOMIC_ACQUIRE)) == old) {
        if (use_irq)
            syscall(SYS_futex, box, FUTEX_WAIT_PRIVATE, old, NULL, NULL, 0);
    }
    return now;
}

/* The last word (0) ends the peer. */
static void *peer(void *arg)
{
    uint32_t word = 0;

    (void)arg;
    pin(1);
    do {
        word = wait_change(&mbox_peer.word, word);
        __atomic_store_n(&mbox_main.word, word, __ATOMIC_RELEASE);
    } while (word);
    return NULL;
}

int main(int argc, char **argv)
{
    struct rtt_hist h;
    pthread_t t;
    uint32_t word;
    uint64_t t0, r;
    double seconds = 0;
    char *end = NULL;

    if (argc == 3)
        seconds = strtod(argv[2], &end);
    if (argc != 3 || *end || !(seconds > 0 && seconds <= 600) ||
        (strcmp(argv[1], "poll") && strcmp(argv[1], "irq"))) {
        fprintf(stderr, "usage: %s poll|irq SECONDS (up to 600)\n", argv[0]);
        return 2;
    }
    use_irq = !strcmp(argv[1], "irq");
    pin(0);
    if (pthread_create(&t, NULL, peer, NULL))
        return 2;
    usleep(100000);                 /* the peer asleep or spinning first */
    rtt_hist_init(&h);
    for (r = 1; ; r++) {
        /* odd words, a new one each round; 0 is the last */
        word = rtt_hist_done(&h, seconds) ? 0 : (uint32_t)r * 2654435761u | 1;
        t0 = rtt_now_ns();
        __atomic_store_n(&mbox_peer.word, word, __ATOMIC_RELEASE);
        if (use_irq)
            syscall(SYS_futex, &mbox_peer.word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        while (__atomic_load_n(&mbox_main.word, __ATOMIC_ACQUIRE) != word)
            ;
        if (!word)
            break;
        rtt_hist_add(&h, rtt_now_ns() - t0);
        if (use_irq)
            for (t0 = rtt_now_ns(); rtt_now_ns() - t0 < IRQ_GAP_NS;)
                ;
    }
    pthread_join(t, NULL);
    rtt_hist_print(&h);
    return 0;
}
