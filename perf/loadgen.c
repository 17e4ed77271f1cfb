/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * es-loadgen: end-to-end latency and loss of the edgesteer data plane at a
 * paced, offered load.
 *
 *   es-loadgen [EAL options] -- -c CONFIG --pcap [PORT=]FILE... [--in PORT]
 *              [--rate PPS] [--seconds S] [--ring N] [--burst N] [--out FILE]
 *              [--no-thp] [--ctl PATH] [--state FILE] [--sample S --samples FILE]
 *              [--drain S]
 *
 * The data plane is the real one (the same objects as edgesteer, less its
 * main): config, tables, worker loop. Its ports are ring ports made here with
 * rte_eth_from_rings, named net_ring_n3, net_ring_n9 and net_ring_lan (the
 * config's 'port add ... dev net_ring_n3 ...'). The main lcore is the generator and the
 * sink: it copies the pcap's frames into fresh mbufs at --rate packets per
 * second (paced by the TSC; 0 = as fast as the input ring takes them),
 * stamps each with the TSC in an mbuf dynamic field and enqueues it on the
 * input port's rx ring; it dequeues what the worker sends on every port's
 * tx ring and records now - stamp. The one worker lcore runs es_worker_main
 * unchanged.
 *
 * Before the measured window: every mbuf of the pool is touched once (with
 * --no-huge the first touch of each page is a page fault, which would make
 * the first packets wait behind a full ring) and the load runs for
 * --warmup seconds (default 0.5) whose packets are not counted. --ring N:
 * the depth of every port's rings (a power of two, 256 to 65536; default
 * RING_SZ; as fast as possible the input ring holds at most PEAK_QUEUE
 * packets). --burst N (1 to 32, default BURST): at a paced rate the
 * packets are offered once N are due, N at a time, each stamped as it is
 * offered; with 1 every packet goes alone, the smoothest arrival (and the
 * costliest for the worker on ring ports: docs/perf-notes.md, "Prefetching the
 * burst").
 *
 * Output (JSON): offered and achieved rates, generated / received / lost
 * packets, the data plane's drop counters, and both latency histograms'
 * quantiles (end to end: generator to sink; in the data plane: rx burst to
 * tx flush).
 *
 * With --no-huge, DPDK memory is moved to transparent huge pages as in
 * edgesteer (dataplane/mem.h) unless --no-thp.
 *
 * Several inputs (make soak, perf/soak.py): --pcap PORT=FILE once per
 * file, each file's frames entering on PORT (a bare --pcap FILE enters on
 * --in). The files are interleaved in proportion to their sizes into one
 * sequence replayed in a loop: frame j of a file of n frames takes the
 * place (j + 1/2) / n in it (ties: the file given first), so a mix's
 * shares are those of its files' sizes, and any prefix of the sequence
 * holds a known number of each frame.
 *
 * Control under load: --ctl PATH serves the control socket (steerctl) as
 * edgesteer does, from a control thread of its own (an EAL control
 * thread: on a CPU no lcore uses, or the main lcore's CPU when every CPU
 * has one); --state FILE keeps and restores the run-time state as
 * edgesteer's --state does.
 *
 * Samples: with --sample S --samples FILE, every S seconds (and once
 * before the first packet and once at the end) the generator stops
 * offering, waits until the input rings are empty and the worker has
 * ended the round that took the last packets (an RCU grace period: the
 * worker reports a quiescent state at the end of every round), drains
 * the output rings, and appends one JSON line to FILE: the frames
 * offered so far, what the sink received, every counter, the mbufs out
 * of the pool, the End Markers queued for the worker, the DPDK heap,
 * the process's RSS, and the end-to-end and data-plane latency of the
 * packets of the interval. At that moment nothing is in flight: the
 * counters satisfy the accounting identity exactly (docs/counters.md).
 * Then the pacing resumes where it stopped (the pause is not made up at
 * a higher rate). --drain S: how long the generator only sinks after the
 * last offered packet (default 0.05; make it longer than the config's
 * frag-timeout-ms for fragments that never complete to time out).
 */
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <unistd.h>
#include "config.h"
#include "entries.h"
#include "ctl.h"
#include "state.h"
#include "es.h"
#include "latency.h"
#include "mem.h"
#include "rules.h"
#include "worker.h"

#define NPORTS 3
/* Input/output ring depth: rides out a stall of the worker's vCPU of
 * several milliseconds at ~10 Mpps (the Zen 5 VM stalled it for up to
 * 2.5-3 ms within 4 s: at 90 % of the peak rings of 16k lost 25-42k
 * packets a run, rings of 64k none; docs/perf-notes.md). */
#define RING_SZ 65536
static unsigned int ring_sz = RING_SZ;   /* --ring */
/* As fast as possible (--rate 0), the input ring is kept at most this
 * full: a queue of 64k would be ~6 ms of packets whose buffers no longer
 * fit in cache (rings of 64k filled to the brim measured half the peak),
 * and the peak is the worker's rate, not the queue's. */
#define PEAK_QUEUE 16384
/* --burst: at a paced rate, packets are offered once this many are due */
#define BURST 32
static unsigned int burst = BURST;
/* rte_eth_from_rings(X) makes the ethdev "net_ring_X" */
static const char *const ring_names[NPORTS] = { "n3", "n9", "lan" };
static struct rte_ring *rx_ring[NPORTS], *tx_ring[NPORTS];
static int ts_off = -1;
/* set on every frame the generator offers: a frame the data plane makes
 * itself (an End Marker the control thread builds after a handover) comes
 * from a fresh allocation, which clears ol_flags, and may carry a stale
 * stamp from the buffer's last use; the sink times stamped frames only */
static uint64_t stamped;

/* The pcap's frames, one after another in one buffer, each from a cache
 * line's start: the generator reads them in order, a stream the CPU's
 * prefetchers follow (one 2 KiB slot a frame made every small frame a
 * cache miss of its own). */
struct frames {
	uint8_t *data;
	uint32_t *off;
	uint16_t *len;
	uint8_t *ring;      /* the ring port each frame enters on */
	uint32_t n;
	size_t used;        /* bytes of data */
};

/* --pcap [PORT=]FILE, at most MAX_PCAPS of them */
#define MAX_PCAPS 16
struct pcap_arg {
	const char *port;   /* NULL: --in */
	const char *path;
};

static inline uint64_t *ts_of(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, ts_off, uint64_t *);
}

/* A whole decimal number from lo to hi in s, into *v; false otherwise. */
static bool count_arg(const char *s, unsigned long lo, unsigned long hi, unsigned int *v)
{
	char *e;
	unsigned long x = strtoul(s, &e, 10);
	if (*s == '\0' || *e != '\0' || x < lo || x > hi)
		return false;
	*v = (unsigned int)x;
	return true;
}

static void load_pcap(const char *path, struct frames *f)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t used = 0, size = 0;
	uint32_t cap = 0;
	if (p == NULL)
		rte_exit(EXIT_FAILURE, "%s: %s\n", path, err);
	memset(f, 0, sizeof(*f));
	while (pcap_next_ex(p, &h, &d) == 1) {
		size_t slot = RTE_ALIGN_CEIL((size_t)h->caplen, RTE_CACHE_LINE_SIZE);
		if (h->caplen > RTE_MBUF_DEFAULT_DATAROOM || h->caplen == 0)
			continue;
		if (f->n == cap) {
			cap = cap ? cap * 2 : 1024;
			f->off = realloc(f->off, cap * sizeof(*f->off));
			f->len = realloc(f->len, cap * sizeof(*f->len));
			if (f->off == NULL || f->len == NULL)
				rte_exit(EXIT_FAILURE, "out of memory for %s\n", path);
		}
		if (used + slot > size) {
			uint8_t *nd;
			size_t nsize = size ? size * 2 : (size_t)1 << 20;
			nd = aligned_alloc(RTE_CACHE_LINE_SIZE, nsize);
			if (nd == NULL)
				rte_exit(EXIT_FAILURE, "out of memory for %s\n", path);
			if (used)
				memcpy(nd, f->data, used);
			free(f->data);
			f->data = nd;
			size = nsize;
		}
		f->off[f->n] = (uint32_t)used;
		f->len[f->n] = (uint16_t)h->caplen;
		memcpy(f->data + used, d, h->caplen);
		used += slot;
		f->n++;
	}
	pcap_close(p);
	if (f->n == 0)
		rte_exit(EXIT_FAILURE, "%s: no usable frame\n", path);
	if (used > UINT32_MAX)
		rte_exit(EXIT_FAILURE, "%s: over 4 GiB of frames\n", path);
	f->used = used;
}

/*
 * Interleave k files (their frames entering on ring[i]) into one
 * sequence in proportion to their sizes: frame j of file i takes the
 * place (2j + 1) / (2 n_i); ties go to the lower i. perf/soak.py orders
 * the frames the same way to know what any prefix holds.
 */
static void merge_frames(struct frames *in, const uint8_t *ring, int k, struct frames *out)
{
	uint32_t next[MAX_PCAPS] = { 0 };
	uint64_t total = 0;
	size_t bytes = 0, used = 0;
	for (int i = 0; i < k; i++) {
		total += in[i].n;
		bytes += in[i].used;
	}
	if (total > UINT32_MAX || bytes > UINT32_MAX)
		rte_exit(EXIT_FAILURE, "over 4 GiB of frames\n");
	memset(out, 0, sizeof(*out));
	out->data = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(bytes, RTE_CACHE_LINE_SIZE));
	out->off = malloc(total * sizeof(*out->off));
	out->len = malloc(total * sizeof(*out->len));
	out->ring = malloc(total);
	if (!out->data || !out->off || !out->len || !out->ring)
		rte_exit(EXIT_FAILURE, "out of memory for the frames\n");
	for (uint64_t x = 0; x < total; x++) {
		int b = -1;
		for (int i = 0; i < k; i++) {
			if (next[i] == in[i].n)
				continue;
			/* (2 next_i + 1) / n_i < (2 next_b + 1) / n_b */
			if (b < 0 || (2 * (uint64_t)next[i] + 1) * in[b].n <
				     (2 * (uint64_t)next[b] + 1) * in[i].n)
				b = i;
		}
		{
			uint32_t j = next[b]++;
			size_t slot = RTE_ALIGN_CEIL((size_t)in[b].len[j], RTE_CACHE_LINE_SIZE);
			out->off[x] = (uint32_t)used;
			out->len[x] = in[b].len[j];
			out->ring[x] = ring[b];
			memcpy(out->data + used, in[b].data + in[b].off[j], in[b].len[j]);
			used += slot;
		}
	}
	out->n = (uint32_t)total;
	out->used = used;
	for (int i = 0; i < k; i++) {
		free(in[i].data);
		free(in[i].off);
		free(in[i].len);
	}
}

/* Touch every mbuf of the pool once, so that page faults happen now. */
static void prefault_pool(void)
{
	enum { CHUNK = 256 };
	struct rte_mbuf **all;
	unsigned int n = 0, cap = rte_mempool_avail_count(es_pool);
	all = malloc(cap * sizeof(*all));
	if (all == NULL)
		return;
	while (n + CHUNK <= cap && rte_pktmbuf_alloc_bulk(es_pool, all + n, CHUNK) == 0)
		n += CHUNK;
	for (unsigned int i = 0; i < n; i++)
		memset(rte_pktmbuf_mtod(all[i], void *), 0, rte_pktmbuf_tailroom(all[i]));
	if (n)
		rte_pktmbuf_free_bulk(all, n);
	free(all);
}

static void make_ring_ports(void)
{
	for (int i = 0; i < NPORTS; i++) {
		char name[64];
		snprintf(name, sizeof(name), "es_%s_rx", ring_names[i]);
		rx_ring[i] = rte_ring_create(name, ring_sz, (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "es_%s_tx", ring_names[i]);
		tx_ring[i] = rte_ring_create(name, ring_sz, (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!rx_ring[i] || !tx_ring[i] ||
		    rte_eth_from_rings(ring_names[i], &rx_ring[i], 1, &tx_ring[i], 1,
				       rte_socket_id()) < 0)
			rte_exit(EXIT_FAILURE, "cannot make ring port %s\n", ring_names[i]);
	}
}

static void print_hist(FILE *f, const char *key, const struct es_lat_hist *h,
		       double ns)
{
	fprintf(f, "  \"%s\": ", key);
	es_lat_json(f, h, ns, false);
}

/* Take what the worker sent on every port; record its latency. */
static uint64_t sink(struct es_lat_hist *e2e, uint64_t now)
{
	struct rte_mbuf *m[64];
	uint64_t got = 0;
	for (int i = 0; i < NPORTS; i++) {
		unsigned int n = rte_ring_sc_dequeue_burst(tx_ring[i], (void **)m, 64, NULL);
		/* written by the worker's core: fetch them all at once */
		for (unsigned int k = 0; k < n; k++) {
			rte_prefetch0(m[k]);
			rte_prefetch0((char *)m[k] + RTE_CACHE_LINE_SIZE);
		}
		for (unsigned int k = 0; k < n; k++) {
			uint64_t ts = *ts_of(m[k]);
			if ((m[k]->ol_flags & stamped) && ts && now > ts)
				es_lat_add(e2e, now - ts, 1);
		}
		if (n)
			rte_pktmbuf_free_bulk(m, n);
		got += n;
	}
	return got;
}

/* --ctl: the control thread, edgesteer's main loop less its watching */
static volatile int ctl_stop;

static void *ctl_main(void *arg)
{
	(void)arg;
	while (!ctl_stop) {
		es_ctl_poll(10);  /* sleeps 10 ms without a client */
		es_rules_poll();
	}
	return NULL;
}

static uint64_t rss_bytes(void)
{
	char buf[128];
	unsigned long long size = 0, rss = 0;
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &rss) != 2)
		return 0;
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* What the generator counted so far (the sample's and the JSON's). */
struct gen_state {
	uint64_t gen, enqueued, ring_full, late, recv;
};

/*
 * Stop offering and let everything in flight end: the input rings empty,
 * the worker past the end of the round that took their last packets (an
 * RCU grace period begun once they were empty), the output rings
 * drained. At most 5 s; returns whether it got there.
 */
static bool quiesce(struct es_lat_hist *e2e, struct gen_state *g, uint64_t hz)
{
	uint64_t deadline = rte_rdtsc() + 5 * hz;
	bool empty = false;
	uint64_t token;
	while (rte_rdtsc() < deadline) {
		empty = true;
		for (int i = 0; i < NPORTS; i++)
			empty &= rte_ring_empty(rx_ring[i]);
		if (empty)
			break;
		g->recv += sink(e2e, rte_rdtsc());
	}
	if (!empty)
		return false;
	token = rte_rcu_qsbr_start(es_rcu);
	while (rte_rcu_qsbr_check(es_rcu, token, false) != 1) {
		if (rte_rdtsc() >= deadline)
			return false;
		g->recv += sink(e2e, rte_rdtsc());
	}
	/* what the last round sent is in the output rings */
	for (;;) {
		uint64_t n = sink(e2e, rte_rdtsc());
		g->recv += n;
		if (n == 0)
			break;
	}
	return true;
}

/* One line of --samples: see the top of the file. */
static void write_sample(FILE *f, double t, bool quiet, double pause_s,
			 const struct gen_state *g, const struct es_lat_hist *e2e,
			 const struct es_lat_hist *dp, double ns)
{
	struct rte_malloc_socket_stats hs;
	uint64_t heap_alloc = 0, heap_total = 0, heap_count = 0, in_use = 0;
	unsigned int pend = 0;
	for (unsigned int sk = 0; sk < rte_socket_count(); sk++) {
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(sk), &hs) != 0)
			continue;
		heap_alloc += hs.heap_allocsz_bytes;
		heap_total += hs.heap_totalsz_bytes;
		heap_count += hs.alloc_count;
	}
	/* an End Marker the control thread queues between the two reads
	 * would make them disagree: read again */
	for (int tries = 0; tries < 4; tries++) {
		unsigned int p0 = rte_ring_count(es_ctl_tx);
		in_use = rte_mempool_in_use_count(es_pool);
		pend = rte_ring_count(es_ctl_tx);
		if (p0 == pend)
			break;
	}
	fprintf(f, "{\"t\": %.3f, \"quiescent\": %s, \"pause_s\": %.6f, \"generated\": %llu, "
		"\"enqueued\": %llu, \"input_ring_full\": %llu, \"generator_late\": %llu, "
		"\"received\": %llu, \"mbufs_in_use\": %llu, \"mbufs\": %u, \"ctl_tx_pending\": %u, "
		"\"heap_alloc_bytes\": %llu, \"heap_total_bytes\": %llu, \"heap_allocs\": %llu, "
		"\"rss_bytes\": %llu,\n \"e2e_latency\": ",
		t, quiet ? "true" : "false", pause_s, (unsigned long long)g->gen,
		(unsigned long long)g->enqueued, (unsigned long long)g->ring_full,
		(unsigned long long)g->late, (unsigned long long)g->recv,
		(unsigned long long)in_use, es_pool->size, pend,
		(unsigned long long)heap_alloc, (unsigned long long)heap_total,
		(unsigned long long)heap_count, (unsigned long long)rss_bytes());
	es_lat_json(f, e2e, ns, false);
	fprintf(f, ",\n \"dataplane_latency\": ");
	es_lat_json(f, dp, ns, false);
	fprintf(f, ",\n \"counters\": {");
	for (int i = 1; i < ES_CNT_MAX; i++)
		fprintf(f, "%s\"%s\": %llu", i > 1 ? ", " : "", es_cnt_desc[i].name,
			(unsigned long long)es_counter_sum(i));
	fprintf(f, "}}\n");
	fflush(f);
}

/* The data plane's histogram since *prev, and *prev := now. */
static void dp_interval(struct es_lat_hist *prev, struct es_lat_hist *out)
{
	struct es_lat_hist now = es_workers[0].lat;
	*out = now;
	for (unsigned int b = 0; b < ES_LAT_BUCKETS; b++)
		out->n[b] -= prev->n[b];
	out->count -= prev->count;
	out->sum -= prev->sum;
	out->sumsq -= prev->sumsq;
	/* the max is over the whole run: the interval's is the top of its
	 * highest bucket */
	out->max = 0;
	for (unsigned int b = ES_LAT_BUCKETS; b-- > 0;)
		if (out->n[b]) {
			uint64_t hi = b + 1 < ES_LAT_BUCKETS ? es_lat_bucket_low(b + 1) - 1 : now.max;
			out->max = hi < now.max ? hi : now.max;
			break;
		}
	*prev = now;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "in", required_argument, NULL, 'i' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "no-thp", no_argument, NULL, 'H' },
		{ "ring", required_argument, NULL, 'R' },
		{ "burst", required_argument, NULL, 'b' },
		{ "ctl", required_argument, NULL, 'C' },
		{ "state", required_argument, NULL, 'T' },
		{ "sample", required_argument, NULL, 'S' },
		{ "samples", required_argument, NULL, 'F' },
		{ "drain", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct rte_mbuf_dynfield ts_desc = {
		.name = "es_loadgen_tsc", .size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};
	const char *config = NULL, *in_name = "n3", *out = NULL;
	const char *ctl_path = NULL, *state = NULL, *samples_path = NULL;
	struct pcap_arg pcaps[MAX_PCAPS];
	int n_pcaps = 0;
	double rate = 0, seconds = 3, warmup = 0.5, sample_s = 0, drain = 0.05;
	struct es_tables *t = NULL;
	struct es_lat_hist e2e, e2e_all;
	struct frames fr;
	uint32_t fi = 0;
	uint64_t hz, start, end, warm_end, next_sample = UINT64_MAX;
	uint64_t gen0 = 0, recv0 = 0, full0 = 0, rx0 = 0, tx0 = 0, drops0 = 0;
	uint64_t sched = 0, late0 = 0;
	struct gen_state g = { 0 };
	struct es_lat_hist dp0 = { .count = 0 }, dp, dp_prev = { .count = 0 }, dp_iv;
	bool warming = true, thp = true;
	bool used_ring[NPORTS] = { false };
	pthread_t ctl_th;
	bool ctl_running = false;
	char err[ES_ERR_MAX];
	FILE *f, *samples = NULL;
	int opt, ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed\n");
	argc -= ret;
	argv += ret;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'p': {
			char *eq = strchr(optarg, '=');
			if (n_pcaps == MAX_PCAPS)
				rte_exit(EXIT_FAILURE, "at most %d --pcap\n", MAX_PCAPS);
			pcaps[n_pcaps].port = NULL;
			pcaps[n_pcaps].path = optarg;
			if (eq != NULL) {
				*eq = '\0';
				pcaps[n_pcaps].port = optarg;
				pcaps[n_pcaps].path = eq + 1;
			}
			n_pcaps++;
			break;
		}
		case 'i': in_name = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'o': out = optarg; break;
		case 'w': warmup = atof(optarg); break;
		case 'H': thp = false; break;
		case 'R':
			if (!count_arg(optarg, 256, 65536, &ring_sz) || (ring_sz & (ring_sz - 1)))
				rte_exit(EXIT_FAILURE, "--ring %s: a power of two from 256 to 65536\n", optarg);
			break;
		case 'b':
			if (!count_arg(optarg, 1, 32, &burst))
				rte_exit(EXIT_FAILURE, "--burst %s: 1 to 32 packets\n", optarg);
			break;
		case 'C': ctl_path = optarg; break;
		case 'T': state = optarg; break;
		case 'S':
			sample_s = atof(optarg);
			if (!(sample_s >= 0.01 && sample_s <= 86400))
				rte_exit(EXIT_FAILURE, "--sample %s: seconds from 0.01 to 86400\n", optarg);
			break;
		case 'F': samples_path = optarg; break;
		case 'D':
			drain = atof(optarg);
			if (!(drain >= 0 && drain <= 600))
				rte_exit(EXIT_FAILURE, "--drain %s: seconds from 0 to 600\n", optarg);
			break;
		default: rte_exit(EXIT_FAILURE, "bad option\n");
		}
	}
	if (!config || n_pcaps == 0)
		rte_exit(EXIT_FAILURE, "usage: es-loadgen [EAL] -- -c CONFIG --pcap [PORT=]FILE... [--in PORT] [--rate PPS] [--seconds S] [--ring N] [--burst N] [--out FILE] [--ctl PATH] [--state FILE] [--sample S --samples FILE] [--drain S]\n");
	if ((sample_s > 0) != (samples_path != NULL))
		rte_exit(EXIT_FAILURE, "--sample S and --samples FILE go together\n");
	if (thp) {
		char msg[160];

		es_mem_thp(msg, sizeof(msg));   /* before any pool or table */
		if (msg[0])
			printf("es-loadgen: %s\n", msg);
	}
	if (rte_lcore_count() != 2)
		rte_exit(EXIT_FAILURE, "give exactly two lcores: the generator/sink and one worker\n");
	ts_off = rte_mbuf_dynfield_register(&ts_desc);
	if (ts_off < 0)
		rte_exit(EXIT_FAILURE, "cannot register the timestamp field\n");
	{
		static const struct rte_mbuf_dynflag flag_desc = { .name = "es_loadgen_stamped" };
		int bit = rte_mbuf_dynflag_register(&flag_desc);
		if (bit < 0)
			rte_exit(EXIT_FAILURE, "cannot register the stamp flag\n");
		stamped = 1ULL << bit;
	}
	make_ring_ports();
	es_n_workers = 1;
	if (state) {
		if (es_state_init(state, false) != 0)
			rte_exit(EXIT_FAILURE, "--state: path too long\n");
		es_config_skip_state = es_state_exists();
	}
	if (es_config_load(config, &t) != 0)
		rte_exit(EXIT_FAILURE, "config not loaded\n");
	es_neigh_config = es_neigh_count();
	es_tables_live = t;
	for (uint16_t p = 0; p < es_n_ports; p++) {
		int k;
		for (k = 0; k < NPORTS; k++)
			if (strncmp(es_ports[p].dev, "net_ring_", 9) == 0 &&
			    strcmp(es_ports[p].dev + 9, ring_names[k]) == 0)
				break;
		if (k == NPORTS)
			rte_exit(EXIT_FAILURE, "port %s: dev must be one of net_ring_n3, net_ring_n9, net_ring_lan\n",
				 es_ports[p].name);
	}
	/* every input file: its port's ring */
	{
		struct frames in[MAX_PCAPS];
		uint8_t ring[MAX_PCAPS];
		for (int i = 0; i < n_pcaps; i++) {
			const char *name = pcaps[i].port ? pcaps[i].port : in_name;
			int found = -1;
			for (uint16_t p = 0; p < es_n_ports; p++)
				if (strcmp(es_ports[p].name, name) == 0)
					for (int k = 0; k < NPORTS; k++)
						if (strcmp(es_ports[p].dev + 9, ring_names[k]) == 0)
							found = k;
			if (found < 0)
				rte_exit(EXIT_FAILURE, "no port named '%s' in the config\n", name);
			ring[i] = (uint8_t)found;
			used_ring[found] = true;
			load_pcap(pcaps[i].path, &in[i]);
		}
		merge_frames(in, ring, n_pcaps, &fr);
	}
	es_dataplane_setup();
	if (state) {
		if (es_config_skip_state)
			printf("es-loadgen: restoring apps, sessions and rules from %s (the config's are not used)\n",
			       state);
		if (es_state_restore(es_ctl_replay, err) != 0)
			rte_exit(EXIT_FAILURE, "state not restored: %s\n", err);
	}
	if (ctl_path) {
		if (es_ctl_open(ctl_path, ES_CTL_IDLE_MS_DEF, ES_CTL_SEND_MS_DEF, err) != 0)
			rte_exit(EXIT_FAILURE, "%s\n", err);
		if (rte_ctrl_thread_create(&ctl_th, "es-ctl", NULL, ctl_main, NULL) != 0)
			rte_exit(EXIT_FAILURE, "cannot start the control thread\n");
		ctl_running = true;
	}
	if (samples_path && (samples = fopen(samples_path, "w")) == NULL)
		rte_exit(EXIT_FAILURE, "%s: cannot write\n", samples_path);
	es_workers_launch();

	prefault_pool();
	memset(&e2e, 0, sizeof(e2e));
	memset(&e2e_all, 0, sizeof(e2e_all));
	hz = rte_get_tsc_hz();
	if (samples) {
		/* the state before the first packet */
		bool q = quiesce(&e2e, &g, hz);
		dp_interval(&dp_prev, &dp_iv);
		write_sample(samples, 0, q, 0, &g, &e2e, &dp_iv, 1e9 / (double)hz);
	}
	start = rte_rdtsc();
	warm_end = start + (uint64_t)(warmup * (double)hz);
	end = warm_end + (uint64_t)(seconds * (double)hz);
	if (samples)
		next_sample = start + (uint64_t)(sample_s * (double)hz);
	for (;;) {
		uint64_t now = rte_rdtsc(), want;
		struct rte_mbuf *m[32];
		unsigned int n, room;
		if (now >= end)
			break;
		if (now >= next_sample) {
			/* a sample: nothing in flight while it is read; the
			 * pause shifts the schedule, it is not made up */
			bool q = quiesce(&e2e, &g, hz);
			uint64_t pause = rte_rdtsc() - now;
			dp_interval(&dp_prev, &dp_iv);
			write_sample(samples, (double)(now - start) / (double)hz, q,
				     (double)pause / (double)hz, &g, &e2e, &dp_iv, 1e9 / (double)hz);
			es_lat_merge(&e2e_all, &e2e);
			memset(&e2e, 0, sizeof(e2e));
			pause = rte_rdtsc() - now;
			start += pause;
			warm_end += pause;
			end += pause;
			next_sample = now + pause + (uint64_t)(sample_s * (double)hz);
			continue;
		}
		/* pacing: as many as are due by now, at most a burst, and
		 * (--burst N) only once N are due: a source that offers its
		 * packets in groups, as DPDK's traffic generators do. A
		 * generator that was descheduled does not make the time up at
		 * full speed (that burst would be its own overload, not the
		 * offered load): what is more than two bursts late is skipped
		 * and counted. */
		if (rate > 0) {
			uint64_t due = (uint64_t)((double)(now - start) * rate / (double)hz);
			if (due > sched + 64) {
				g.late += due - sched - 32;
				sched = due - 32;
			}
			want = due > sched ? due - sched : 0;
			if (want < burst)
				want = 0;
		} else {
			want = 32;
		}
		if (want > 32)
			want = 32;
		/* no more than every input ring has room for: at a paced
		 * rate the rest is offered and lost (the worker is not
		 * keeping up); as fast as possible it is not offered. A
		 * burst built only to be refused would compete with the
		 * worker for the caches. */
		room = UINT32_MAX;
		for (int i = 0; i < NPORTS; i++) {
			unsigned int r, q;
			if (!used_ring[i])
				continue;
			r = rte_ring_free_count(rx_ring[i]);
			if (rate == 0) {
				q = rte_ring_count(rx_ring[i]);
				r = q >= PEAK_QUEUE ? 0 : RTE_MIN(r, PEAK_QUEUE - q);
			}
			room = RTE_MIN(room, r);
		}
		if (want > room) {
			if (rate > 0) {
				g.ring_full += want - room;
				g.gen += want - room;
				sched += want - room;
			}
			want = room;
		}
		if (want && rte_pktmbuf_alloc_bulk(es_pool, m, (unsigned int)want) == 0) {
			struct rte_mbuf *per[NPORTS][32];
			unsigned int cnt[NPORTS] = { 0 };
			/* the mbufs the sink freed last: their data was last
			 * written by the worker's core */
			for (n = 0; n < want; n++)
				rte_prefetch0_write(rte_pktmbuf_mtod(m[n], void *));
			for (n = 0; n < want; n++) {
				uint16_t len = fr.len[fi];
				uint8_t r = fr.ring[fi];
				memcpy(rte_pktmbuf_mtod(m[n], void *), fr.data + fr.off[fi], len);
				fi = fi + 1 == fr.n ? 0 : fi + 1;
				m[n]->data_len = m[n]->pkt_len = len;
				m[n]->ol_flags |= stamped;
				*ts_of(m[n]) = now;
				per[r][cnt[r]++] = m[n];
			}
			/* one producer: the room counted above is there */
			for (int i = 0; i < NPORTS; i++)
				if (cnt[i])
					rte_ring_sp_enqueue_bulk(rx_ring[i], (void **)per[i], cnt[i], NULL);
			sched += n;
			g.gen += n;
			g.enqueued += n;
		}
		g.recv += sink(&e2e, rte_rdtsc());
		if (warming && rte_rdtsc() >= warm_end) {
			/* the measured window starts: forget the warm-up */
			warming = false;
			if (!samples)
				memset(&e2e, 0, sizeof(e2e));
			dp0 = es_workers[0].lat;       /* subtracted at the end */
			rx0 = es_counter_sum(ES_CNT_RX);
			tx0 = es_counter_sum(ES_CNT_TX);
			for (int i = 1; i < ES_CNT_MAX; i++)
				if (es_cnt_desc[i].kind == ES_KIND_DROP)
					drops0 += es_counter_sum(i);
			/* what is in flight now is received in the window:
			 * count it as generated in it too */
			gen0 = g.recv + (rate > 0 ? g.ring_full : 0);
			recv0 = g.recv;
			full0 = g.ring_full;
			late0 = g.late;
		}
	}
	/* let the last packets through (--drain), then stop */
	{
		uint64_t t_end = rte_rdtsc();
		for (uint64_t until = t_end + (uint64_t)(drain * (double)hz); rte_rdtsc() < until;)
			g.recv += sink(&e2e, rte_rdtsc());
		if (samples) {
			bool q = quiesce(&e2e, &g, hz);
			dp_interval(&dp_prev, &dp_iv);
			write_sample(samples, (double)(t_end - start) / (double)hz, q, 0,
				     &g, &e2e, &dp_iv, 1e9 / (double)hz);
		}
	}
	if (ctl_running) {
		ctl_stop = 1;
		pthread_join(ctl_th, NULL);
		es_ctl_close();
	}
	es_quit = 1;
	rte_eal_mp_wait_lcore();
	g.recv += sink(&e2e, rte_rdtsc());

	f = out ? fopen(out, "w") : stdout;
	if (f == NULL)
		rte_exit(EXIT_FAILURE, "%s: cannot write\n", out);
	{
		double el = (double)(end - warm_end) / (double)hz, ns = 1e9 / (double)hz;
		uint64_t drops = 0, sent = es_counter_sum(ES_CNT_TX) - tx0;
		uint64_t gen = g.gen - gen0, recv = g.recv - recv0;
		uint64_t ring_full = g.ring_full - full0, late = g.late - late0;
		for (int i = 1; i < ES_CNT_MAX; i++)
			if (es_cnt_desc[i].kind == ES_KIND_DROP)
				drops += es_counter_sum(i);
		drops -= drops0;
		/* the data plane's histogram over the measured window only */
		dp = es_workers[0].lat;
		for (unsigned int b = 0; b < ES_LAT_BUCKETS; b++)
			dp.n[b] -= dp0.n[b];
		dp.count -= dp0.count;
		dp.sum -= dp0.sum;
		dp.sumsq -= dp0.sumsq;
		fprintf(f, "{\n  \"offered_pps\": %.0f, \"seconds\": %.3f, \"warmup_s\": %.3f, \"generated\": %llu, \"generator_late\": %llu, \"input_ring_full\": %llu,\n"
			"  \"received\": %llu, \"dataplane_rx\": %llu, \"dataplane_tx\": %llu, \"dataplane_drops\": %llu,\n"
			"  \"lost\": %lld, \"achieved_pps\": %.0f, \"tsc_hz\": %llu, \"ring\": %u, \"burst\": %u,\n",
			rate, el, warmup, (unsigned long long)gen, (unsigned long long)late,
			(unsigned long long)ring_full,
			(unsigned long long)recv, (unsigned long long)(es_counter_sum(ES_CNT_RX) - rx0),
			(unsigned long long)sent, (unsigned long long)drops,
			(long long)gen - (long long)recv, (double)recv / el,
			(unsigned long long)hz, ring_sz, burst);
		fprintf(f, "  \"frames\": %u, \"enqueued_total\": %llu,\n", fr.n,
			(unsigned long long)g.enqueued);
		/* with --sample: over the whole run, warm-up included */
		if (samples) {
			es_lat_merge(&e2e_all, &e2e);
			e2e = e2e_all;
		}
		print_hist(f, "e2e_latency", &e2e, ns);
		fprintf(f, ",\n");
		/* (its max is over the whole run, warm-up included) */
		print_hist(f, "dataplane_latency", &dp, ns);
		fprintf(f, "\n}\n");
	}
	if (out)
		fclose(f);
	if (samples)
		fclose(samples);
	free(fr.data);
	free(fr.off);
	free(fr.len);
	free(fr.ring);
	es_rules_fini();   /* joins a background rule build */
	rte_eal_cleanup();
	return 0;
}
