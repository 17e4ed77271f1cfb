/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * es-loadgen: end-to-end latency and loss of the edgesteer data plane at a
 * paced, offered load.
 *
 *   es-loadgen [EAL options] -- -c CONFIG --pcap FILE [--in PORT]
 *              [--rate PPS] [--seconds S] [--ring N] [--burst N] [--out FILE]
 *              [--no-thp]
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
 * costliest for the worker on ring ports: docs/perf.md, "Prefetching the
 * burst").
 *
 * Output (JSON): offered and achieved rates, generated / received / lost
 * packets, the data plane's drop counters, and both latency histograms'
 * quantiles (end to end: generator to sink; in the data plane: rx burst to
 * tx flush).
 *
 * With --no-huge, DPDK memory is moved to transparent huge pages as in
 * edgesteer (dataplane/mem.h) unless --no-thp.
 */
#include <getopt.h>
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
#include <rte_ring.h>
#include "es.h"
#include "latency.h"
#include "mem.h"
#include "worker.h"

#define NPORTS 3
/* Input/output ring depth: rides out a stall of the worker's vCPU of
 * several milliseconds at ~10 Mpps (the Zen 5 VM stalled it for up to
 * 2.5-3 ms within 4 s: at 90 % of the peak rings of 16k lost 25-42k
 * packets a run, rings of 64k none; docs/perf.md). */
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

/* The pcap's frames, one after another in one buffer, each from a cache
 * line's start: the generator reads them in order, a stream the CPU's
 * prefetchers follow (one 2 KiB slot a frame made every small frame a
 * cache miss of its own). */
struct frames {
	uint8_t *data;
	uint32_t *off;
	uint16_t *len;
	uint32_t n;
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
			if (ts && now > ts)
				es_lat_add(e2e, now - ts, 1);
		}
		if (n)
			rte_pktmbuf_free_bulk(m, n);
		got += n;
	}
	return got;
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
		{ NULL, 0, NULL, 0 },
	};
	static const struct rte_mbuf_dynfield ts_desc = {
		.name = "es_loadgen_tsc", .size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};
	const char *config = NULL, *pcap_path = NULL, *in_name = "n3", *out = NULL;
	double rate = 0, seconds = 3, warmup = 0.5;
	struct es_tables *t = NULL;
	struct es_lat_hist e2e;
	struct frames fr;
	uint32_t fi = 0;
	uint64_t hz, start, end, warm_end, gen = 0, ring_full = 0, recv = 0;
	uint64_t gen0 = 0, recv0 = 0, full0 = 0, rx0 = 0, tx0 = 0, drops0 = 0;
	uint64_t sched = 0, late = 0, late0 = 0;
	struct es_lat_hist dp0 = { .count = 0 }, dp;
	bool warming = true, thp = true;
	int in_port = -1, opt, ret;
	FILE *f;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed\n");
	argc -= ret;
	argv += ret;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'p': pcap_path = optarg; break;
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
		default: rte_exit(EXIT_FAILURE, "bad option\n");
		}
	}
	if (!config || !pcap_path)
		rte_exit(EXIT_FAILURE, "usage: es-loadgen [EAL] -- -c CONFIG --pcap FILE [--in PORT] [--rate PPS] [--seconds S] [--ring N] [--burst N] [--out FILE]\n");
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
	load_pcap(pcap_path, &fr);
	make_ring_ports();
	es_n_workers = 1;
	if (es_config_load(config, &t) != 0)
		rte_exit(EXIT_FAILURE, "config not loaded\n");
	es_tables_live = t;
	for (uint16_t p = 0; p < es_n_ports; p++)
		if (strcmp(es_ports[p].name, in_name) == 0)
			in_port = p;
	if (in_port < 0)
		rte_exit(EXIT_FAILURE, "no port named '%s' in the config\n", in_name);
	for (uint16_t p = 0; p < es_n_ports; p++) {
		int k;
		for (k = 0; k < NPORTS; k++)
			if (strncmp(es_ports[p].dev, "net_ring_", 9) == 0 &&
			    strcmp(es_ports[p].dev + 9, ring_names[k]) == 0)
				break;
		if (k == NPORTS)
			rte_exit(EXIT_FAILURE, "port %s: dev must be one of net_ring_n3, net_ring_n9, net_ring_lan\n",
				 es_ports[p].name);
		if (p == in_port)
			in_port = k;   /* from here on: the ring index */
	}
	es_dataplane_setup();
	es_workers_launch();

	prefault_pool();
	memset(&e2e, 0, sizeof(e2e));
	hz = rte_get_tsc_hz();
	start = rte_rdtsc();
	warm_end = start + (uint64_t)(warmup * (double)hz);
	end = warm_end + (uint64_t)(seconds * (double)hz);
	for (;;) {
		uint64_t now = rte_rdtsc(), want;
		struct rte_mbuf *m[32];
		unsigned int n, room;
		if (now >= end)
			break;
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
				late += due - sched - 32;
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
		/* no more than the input ring has room for: at a paced rate
		 * the rest is offered and lost (the worker is not keeping
		 * up); as fast as possible it is not offered. A burst built
		 * only to be refused would compete with the worker for the
		 * caches. */
		room = rte_ring_free_count(rx_ring[in_port]);
		if (rate == 0) {
			unsigned int q = rte_ring_count(rx_ring[in_port]);
			room = q >= PEAK_QUEUE ? 0 : RTE_MIN(room, PEAK_QUEUE - q);
		}
		if (want > room) {
			if (rate > 0) {
				ring_full += want - room;
				gen += want - room;
				sched += want - room;
			}
			want = room;
		}
		if (want && rte_pktmbuf_alloc_bulk(es_pool, m, (unsigned int)want) == 0) {
			/* the mbufs the sink freed last: their data was last
			 * written by the worker's core */
			for (n = 0; n < want; n++)
				rte_prefetch0_write(rte_pktmbuf_mtod(m[n], void *));
			for (n = 0; n < want; n++) {
				uint16_t len = fr.len[fi];
				memcpy(rte_pktmbuf_mtod(m[n], void *), fr.data + fr.off[fi], len);
				fi = fi + 1 == fr.n ? 0 : fi + 1;
				m[n]->data_len = m[n]->pkt_len = len;
				*ts_of(m[n]) = now;
			}
			/* one producer: the room counted above is there */
			rte_ring_sp_enqueue_bulk(rx_ring[in_port], (void **)m, n, NULL);
			sched += n;
			gen += n;
		}
		recv += sink(&e2e, rte_rdtsc());
		if (warming && rte_rdtsc() >= warm_end) {
			/* the measured window starts: forget the warm-up */
			warming = false;
			memset(&e2e, 0, sizeof(e2e));
			dp0 = es_workers[0].lat;       /* subtracted at the end */
			rx0 = es_counter_sum(ES_CNT_RX);
			tx0 = es_counter_sum(ES_CNT_TX);
			for (int i = 1; i < ES_CNT_MAX; i++)
				if (es_cnt_desc[i].kind == ES_KIND_DROP)
					drops0 += es_counter_sum(i);
			/* what is in flight now is received in the window:
			 * count it as generated in it too */
			gen0 = recv + (rate > 0 ? ring_full : 0);
			recv0 = recv;
			full0 = ring_full;
			late0 = late;
		}
	}
	/* let the last packets through, then stop */
	for (uint64_t until = rte_rdtsc() + hz / 20; rte_rdtsc() < until;)
		recv += sink(&e2e, rte_rdtsc());
	es_quit = 1;
	rte_eal_mp_wait_lcore();
	recv += sink(&e2e, rte_rdtsc());

	f = out ? fopen(out, "w") : stdout;
	if (f == NULL)
		rte_exit(EXIT_FAILURE, "%s: cannot write\n", out);
	{
		double el = (double)(end - warm_end) / (double)hz, ns = 1e9 / (double)hz;
		uint64_t drops = 0, sent = es_counter_sum(ES_CNT_TX) - tx0;
		for (int i = 1; i < ES_CNT_MAX; i++)
			if (es_cnt_desc[i].kind == ES_KIND_DROP)
				drops += es_counter_sum(i);
		drops -= drops0;
		gen -= gen0;
		recv -= recv0;
		ring_full -= full0;
		late -= late0;
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
		print_hist(f, "e2e_latency", &e2e, ns);
		fprintf(f, ",\n");
		/* (its max is over the whole run, warm-up included) */
		print_hist(f, "dataplane_latency", &dp, ns);
		fprintf(f, "\n}\n");
	}
	if (out)
		fclose(f);
	free(fr.data);
	free(fr.off);
	free(fr.len);
	rte_eal_cleanup();
	return 0;
}
