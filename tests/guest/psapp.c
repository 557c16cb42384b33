// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * psapp: the latency probe of Raj et al., section 4.1, rebuilt.
 *
 * The client sends 64-byte probes with a packet socket (AF_PACKET,
 * SOCK_RAW: no IP stack) to the server, which echoes each one straight
 * back; the client waits for the echo, then a random 0..100 ms, then
 * sends the next.  It prints every round trip and the flow's median, the
 * figure the paper averages over flows.
 *
 *   psapp server IFNAME [-t SECONDS]
 *   psapp client IFNAME DST_MAC [-n PROBES] [-w MAX_WAIT_MS] [-s SEED]
 *                               [-T TIMEOUT_MS]
 *
 * A probe whose echo does not come within TIMEOUT_MS (1000) is counted as
 * lost; the paper's client waits forever, which a test cannot.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PSAPP_ETHERTYPE 0x88b5  /* IEEE local experimental */
#define PSAPP_LEN       64      /* the paper's probe size */
#define PSAPP_MAGIC     0x70736170u  /* "psap" */

struct probe {
	struct ether_header eth;
	uint32_t magic;
	uint32_t flow;
	uint32_t seq;
	uint8_t pad[PSAPP_LEN - sizeof(struct ether_header) - 12];
} __attribute__((packed));

_Static_assert(sizeof(struct probe) == PSAPP_LEN, "a probe is 64 bytes");

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: psapp server IFNAME [-t SECONDS]\n"
		"       psapp client IFNAME DST_MAC [-n PROBES] [-w MAX_WAIT_MS]"
		" [-s SEED] [-T TIMEOUT_MS]\n");
	exit(2);
}

static long parse_num(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "psapp: %s must be %ld..%ld, not '%s'\n", what,
			min, max, s);
		exit(2);
	}
	return v;
}

static void parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &extra) != 6) {
		fprintf(stderr, "psapp: '%s' is not a MAC address\n", s);
		exit(2);
	}
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff) {
			fprintf(stderr, "psapp: '%s' is not a MAC address\n", s);
			exit(2);
		}
		mac[i] = b[i];
	}
}

/* A packet socket on @ifname for psapp's ethertype; its MAC in @mac. */
static int open_socket(const char *ifname, int *ifindex, uint8_t *mac)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(PSAPP_ETHERTYPE),
	};
	struct ifreq ifr = { 0 };
	int fd = socket(AF_PACKET, SOCK_RAW, htons(PSAPP_ETHERTYPE));

	if (fd < 0)
		die("socket(AF_PACKET)");
	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		fprintf(stderr, "psapp: interface name '%s' too long\n", ifname);
		exit(2);
	}
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		die(ifname);
	*ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("SIOCGIFHWADDR");
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_ifindex = *ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind");
	return fd;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Echo every probe back to its sender, for @seconds (0: for ever). */
static int run_server(const char *ifname, long seconds)
{
	int64_t end = seconds ? now_ns() + seconds * 1000000000ll : 0;
	uint8_t mac[6];
	int ifindex;
	int fd = open_socket(ifname, &ifindex, mac);
	long echoed = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct probe p;
		ssize_t n;

		if (end && now_ns() >= end)
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(fd, &p, sizeof(p), 0);
		if (n < (ssize_t)sizeof(p) || p.magic != htonl(PSAPP_MAGIC))
			continue;
		memcpy(p.eth.ether_dhost, p.eth.ether_shost, 6);
		memcpy(p.eth.ether_shost, mac, 6);
		if (send(fd, &p, sizeof(p), 0) != sizeof(p))
			die("send");
		echoed++;
	}
	printf("echoed %ld\n", echoed);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Wait for the echo of probe @seq; its round trip in us, or -1: lost. */
static double wait_echo(int fd, uint32_t flow, uint32_t seq, int64_t sent,
			long timeout_ms)
{
	int64_t deadline = sent + timeout_ms * 1000000ll;

	for (;;) {
		int64_t left = deadline - now_ns();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct probe p;

		if (left <= 0 || poll(&pfd, 1, left / 1000000 + 1) <= 0)
			return -1;
		if (recv(fd, &p, sizeof(p), 0) < (ssize_t)sizeof(p))
			continue;
		if (p.magic == htonl(PSAPP_MAGIC) && p.flow == htonl(flow) &&
		    p.seq == htonl(seq))
			return (now_ns() - sent) / 1000.0;
	}
}

static int run_client(const char *ifname, const uint8_t *dst, long probes,
		      long max_wait_ms, long timeout_ms, unsigned int seed)
{
	double *rtt = calloc(probes, sizeof(*rtt));
	uint8_t mac[6];
	int ifindex;
	int fd = open_socket(ifname, &ifindex, mac);
	uint32_t flow = (uint32_t)getpid();
	long got = 0, lost = 0;

	if (!rtt)
		die("calloc");
	srand(seed);
	for (long i = 0; i < probes; i++) {
		struct probe p = { .magic = htonl(PSAPP_MAGIC),
				   .flow = htonl(flow), .seq = htonl(i) };
		int64_t sent;
		double us;

		memcpy(p.eth.ether_dhost, dst, 6);
		memcpy(p.eth.ether_shost, mac, 6);
		p.eth.ether_type = htons(PSAPP_ETHERTYPE);
		sent = now_ns();
		if (send(fd, &p, sizeof(p), 0) != sizeof(p))
			die("send");
		us = wait_echo(fd, flow, i, sent, timeout_ms);
		if (us < 0) {
			lost++;
		} else {
			rtt[got++] = us;
			printf("rtt_us %.1f\n", us);
		}
		if (max_wait_ms)
			usleep((rand() % (max_wait_ms + 1)) * 1000);
	}
	qsort(rtt, got, sizeof(*rtt), cmp_double);
	printf("probes %ld received %ld lost %ld median_us %.1f\n", probes, got,
	       lost, !got ? -1.0 : got % 2 ? rtt[got / 2]
			: (rtt[got / 2 - 1] + rtt[got / 2]) / 2);
	free(rtt);
	return got ? 0 : 1;
}

int main(int argc, char **argv)
{
	long probes = 100, max_wait_ms = 100, timeout_ms = 1000, seconds = 0;
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	int client, first_opt, opt;
	uint8_t dst[6];

	if (argc < 3)
		usage();
	client = !strcmp(argv[1], "client");
	if (!client && strcmp(argv[1], "server"))
		usage();
	if (client) {
		if (argc < 4)
			usage();
		parse_mac(argv[3], dst);
	}
	first_opt = client ? 4 : 3;
	optind = first_opt;
	while ((opt = getopt(argc, argv, client ? "n:w:s:T:" : "t:")) != -1) {
		switch (opt) {
		case 'n':
			probes = parse_num(optarg, 1, 1000000, "-n PROBES");
			break;
		case 'w':
			max_wait_ms = parse_num(optarg, 0, 10000, "-w MAX_WAIT_MS");
			break;
		case 's':
			seed = parse_num(optarg, 0, 0x7fffffff, "-s SEED");
			break;
		case 'T':
			timeout_ms = parse_num(optarg, 1, 600000, "-T TIMEOUT_MS");
			break;
		case 't':
			seconds = parse_num(optarg, 0, 86400, "-t SECONDS");
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	return client ? run_client(argv[2], dst, probes, max_wait_ms,
				   timeout_ms, seed)
		      : run_server(argv[2], seconds);
}
