/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the rx path (docs/reliability.md "Fuzzing the rx
 * path"). An input is a list of frames, each
 *
 *     [port] [length, 2 bytes big-endian] [length bytes of frame]
 *
 * (port: its low bits modulo 3 select n3 access, n9 core, lan local;
 * bits 5-6 what the NIC says of the outer IPv4 checksum, as the mbuf's
 * RX_IP_CKSUM flags: 0 unknown, 1 good, 2 bad, 3 none; bit 7 of the
 * first frame's port byte turns 'set gtpu-padding' on for the input; a
 * length past the end of the input takes what is left). For each input:
 *
 *  (a) the parsers (dataplane/parse.c), on an exact heap copy of each
 *      frame so that AddressSanitizer sees a read one byte too far:
 *      es_parse_outer, es_parse_gtpu on its UDP payload, es_parse_inner
 *      on the T-PDU or plain IP packet, each returning 0 or a DROP
 *      counter, with offsets inside the frame; and es_parse_fast, which
 *      when it recognises a frame must agree byte for byte with the full
 *      parsers;
 *  (b) the whole burst pipeline on ring ports: the frames, in order, as
 *      bursts of up to ES_BURST (a new burst where the port changes),
 *      through es_process_burst with a small fixed table set (sessions
 *      with and without a cloud F-TEID, IPv4 and IPv6, local, mirror and
 *      drop rules, apps, the cloud peer). Then every frame must have
 *      exactly one fate, the accounting identity of docs/counters.md
 *      over the input's counter deltas:
 *        rx + frag_reassembled + mirror + gtpu_errind_tx +
 *        icmp_time_exceeded_tx + gtpu_end_marker_tx
 *          = tx + (sum of DROP counters) + frag_merged + held,
 *      held being the fragments reassembly took in; the frames the tx
 *      rings got must number tx, each one segment and well formed as
 *      the parsers see it (a gNB's or the cloud's: Ethernet, IP, UDP and
 *      GTP-U; an app's: Ethernet and IP); once they are freed and reassembly's
 *      table expired (its fragments count as drop_frag_timeout), the
 *      identity holds with held 0 and the mbuf pool has every mbuf back
 *      (no leak; a double free shows as more mbufs free than the pool
 *      has, or as a mempool panic).
 * Any violation aborts, which libFuzzer reports with the input.
 *
 * Only the data plane's public entry points are used: es_config_load,
 * es_dataplane_setup, es_worker_init, es_process_burst,
 * es_worker_flush, the counters of struct es_worker, es_pool_stats_get
 * and es_frag_expire.
 *
 * EAL runs in this process as in the unit suites: --no-huge -m 256
 * --no-pci --no-shconf, one lcore. The data plane's objects and this
 * file are built with -fsanitize=fuzzer,address,undefined; DPDK's own
 * libraries are not instrumented, and its memory (the mbufs) comes from
 * one anonymous mapping that ASan does not track, so a read past an
 * mbuf's data is caught in (a), on the heap copy, not in (b).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include "config.h"
#include "es.h"
#include "frag.h"
#include "parse.h"
#include "tx.h"
#include "worker.h"

#define CHECK(cond, ...) do {                                           \
		if (!(cond)) {                                          \
			fprintf(stderr, "fuzz_rx: " __VA_ARGS__);       \
			fputc('\n', stderr);                            \
			abort();                                        \
		}                                                       \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { P_N3, P_N9, P_LAN, NPORTS };
static const char *const ring_names[NPORTS] = { "n3", "n9", "lan" };
static struct rte_ring *rx_ring[NPORTS], *tx_ring[NPORTS];

/* A frame at most this long (a jumbo frame; longer ones are cut). */
#define MAX_FRAME 9216
/* Frames per input at most (the rest of an input is ignored). */
#define MAX_FRAMES 64

static const char config[] =
	"set sessions-max 64\n"
	"set rules-max 16\n"
	"set mbufs 1023\n"
	"port add n3 dev net_ring_n3 role access addr 192.0.2.1/24 addr 2001:db8:3::1/64 mac 02:00:00:00:03:01\n"
	"port add n9 dev net_ring_n9 role core addr 198.51.100.1/24 addr 2001:db8:9::1/64 mac 02:00:00:00:09:01\n"
	"port add lan dev net_ring_lan role local addr 10.100.0.1/24 addr 2001:db8:a::1/64 mac 02:00:00:00:0a:01\n"
	"neigh add 192.0.2.10 lladdr 02:00:00:00:00:10 port n3\n"
	"neigh add 2001:db8:3::10 lladdr 02:00:00:00:00:10 port n3\n"
	"neigh add 198.51.100.7 lladdr 02:00:00:00:00:07 port n9\n"
	"neigh add 10.100.0.20 lladdr 02:00:00:00:00:20 port lan\n"
	"neigh add 10.100.0.22 lladdr 02:00:00:00:00:22 port lan\n"
	"neigh add 2001:db8:a::20 lladdr 02:00:00:00:00:20 port lan\n"
	"app add xr via 10.100.0.20\n"
	"app add analytics via 10.100.0.22\n"
	"app add xr6 via 2001:db8:a::20\n"
	"session add 1 ue 10.45.0.2 ul-teid 0x100 gnb 192.0.2.10 gnb-teid 0x1001 cloud 198.51.100.7 cloud-teid 0x2001 n9-teid 0x3001 qfi 9\n"
	"session add 2 ue 10.45.0.3 ul-teid 0x101 gnb 192.0.2.10 gnb-teid 0x1002 qfi 5\n"
	"session add 3 ue6 2001:db8:45:4::/64 ul-teid 0x103 gnb 2001:db8:3::10 gnb-teid 0x1004 cloud 198.51.100.7 cloud-teid 0x2004 n9-teid 0x3004 qfi 9\n"
	"rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action local xr\n"
	"rule add 20 dst 2001:db8:200::/48 action local xr6\n"
	"rule add 30 dst 203.0.113.0/24 action mirror analytics then cloud\n"
	"rule add 40 dst 10.201.0.0/16 action mirror analytics then local xr\n"
	"rule add 50 proto tcp dport 23 action drop\n";

static struct es_tables *tables;
static struct es_worker *w;

/* The accounting identity's two sides over the counters c. */
static void sides(const uint64_t *c, uint64_t *in, uint64_t *out)
{
	*in = c[ES_CNT_RX] + c[ES_CNT_FRAG_DONE] + c[ES_CNT_MIRROR] +
	      c[ES_CNT_ERRIND_TX] + c[ES_CNT_TIME_EXCEEDED_TX] +
	      c[ES_CNT_END_MARKER_TX];
	*out = c[ES_CNT_TX] + c[ES_CNT_FRAG_MERGED];
	for (int i = 1; i < ES_CNT_MAX; i++)
		if (es_cnt_desc[i].kind == ES_KIND_DROP)
			*out += c[i];
}

static uint64_t frag_held(void)
{
	struct es_pool_stats s;
	es_pool_stats_get(&s);
	return s.frag_held;
}

static uint32_t pool_in_use(void)
{
	struct es_pool_stats s;
	es_pool_stats_get(&s);
	CHECK(s.available <= s.mbufs, "pool has %u free of %u: a double free",
	      s.available, s.mbufs);
	return s.in_use;
}

/* A frame the data plane sent is well formed as the parsers see it:
 * Ethernet, then ARP or IPv4 (header checksum right) / IPv6 whose length
 * fits the frame; GTP-U sent to a gNB or the cloud parses as GTP-U. */
static void check_sent(int port, const struct rte_mbuf *m)
{
	struct es_outer o;
	struct es_gtpu g;
	int rc;
	CHECK(m->nb_segs == 1 && m->data_len == m->pkt_len,
	      "sent a chain of %u segments", m->nb_segs);
	rc = es_parse_outer(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, true, &o);
	/* toward an app goes the UE's packet as it came (routed: TTL and
	 * checksum updated, L4 and IPv6 extension headers untouched), so
	 * there only Ethernet and the IPv4 / IPv6 header must be right;
	 * toward a gNB or the cloud the outer headers are ours: all of it */
	if (port == P_LAN && rc >= ES_CNT_NOT_LOCAL && rc <= ES_CNT_ROLE)
		rc = ES_CNT_NONE;
	if (port == P_LAN && rc == ES_CNT_IP6_EXT)
		rc = ES_CNT_NONE;
	CHECK(rc == ES_CNT_NONE || rc == ES_CNT_NOT_LOCAL,
	      "frame sent on port %d does not parse: %s", port, es_cnt_desc[rc].name);
	if (rc == ES_CNT_NONE && o.kind == ES_K_GTPU && port != P_LAN) {
		rc = es_parse_gtpu(rte_pktmbuf_mtod(m, const uint8_t *) + o.l4_off + 8,
				   o.ip_end - o.l4_off - 8u, &g);
		CHECK(rc == ES_CNT_NONE, "GTP-U sent on port %d does not parse: %s",
		      port, es_cnt_desc[rc].name);
	}
}

/* Free what the tx rings got; their number. */
static uint64_t drain_tx(void)
{
	struct rte_mbuf *m[64];
	uint64_t n = 0;
	unsigned int k;
	es_worker_flush(w);
	for (int p = 0; p < NPORTS; p++)
		while ((k = rte_ring_dequeue_burst(tx_ring[p], (void **)m, RTE_DIM(m), NULL)) > 0) {
			for (unsigned int i = 0; i < k; i++) {
				CHECK(m[i]->pkt_len >= 14 && m[i]->pkt_len <= MAX_FRAME + 256,
				      "sent frame of %u bytes", m[i]->pkt_len);
				check_sent(p, m[i]);
				rte_pktmbuf_free(m[i]);
			}
			n += k;
		}
	return n;
}

static void check_rc(int rc, const char *what)
{
	CHECK(rc == ES_CNT_NONE ||
	      (rc > 0 && rc < ES_CNT_MAX && es_cnt_desc[rc].kind == ES_KIND_DROP),
	      "%s returned %d, neither 0 nor a DROP counter", what, rc);
}

/* (a) the parsers on one frame, an exact heap copy. */
static void parsers(const uint8_t *f, uint32_t len)
{
	uint8_t *b = malloc(len ? len : 1);
	struct es_outer o, o2;
	struct es_gtpu g, g2;
	struct es_inner in, in2;
	int rc, fast;

	CHECK(b != NULL, "malloc");
	memcpy(b, f, len);
	for (int verify = 0; verify < 2; verify++) {
		rc = es_parse_outer(b, len, verify, &o);
		check_rc(rc, "es_parse_outer");
		memset(&g2, 0, sizeof(g2));
		memset(&in2, 0, sizeof(in2));
		if (rc == ES_CNT_NONE) {
			CHECK(o.kind <= ES_K_FRAG, "kind %u", o.kind);
			CHECK(o.l2_len >= 14 && o.l2_len <= len, "l2_len %u of %u", o.l2_len, len);
			if (o.kind != ES_K_ARP) {
				CHECK(o.ip_end <= len && o.ip_end >= o.l2_len + o.l3_len,
				      "ip_end %u, l2 %u, l3 %u, len %u", o.ip_end, o.l2_len, o.l3_len, len);
				CHECK(o.l4_off == o.l2_len + o.l3_len, "l4_off %u", o.l4_off);
			}
			if (o.kind == ES_K_GTPU) {
				uint32_t goff = o.l4_off + 8u;
				CHECK(goff <= o.ip_end, "UDP header past the IP end");
				rc = es_parse_gtpu(b + goff, o.ip_end - goff, &g2);
				check_rc(rc, "es_parse_gtpu");
				if (rc == ES_CNT_NONE) {
					CHECK(g2.hdr_len >= 8 && (uint32_t)g2.hdr_len + g2.payload_len <= o.ip_end - goff,
					      "GTP-U hdr %u + payload %u past %u", g2.hdr_len,
					      g2.payload_len, o.ip_end - goff);
					for (int exact = 0; exact < 2; exact++) {
						rc = es_parse_inner(b + goff + g2.hdr_len, g2.payload_len, exact, &in);
						check_rc(rc, "es_parse_inner (T-PDU)");
						if (rc == ES_CNT_NONE)
							CHECK(in.l3_len <= in.ip_len && in.ip_len <= g2.payload_len,
							      "inner l3 %u ip %u of %u", in.l3_len, in.ip_len, g2.payload_len);
						if (exact == 0 && rc == ES_CNT_NONE)
							in2 = in;
					}
				}
			} else if (o.kind == ES_K_IP) {
				rc = es_parse_inner(b + o.l2_len, o.ip_end - o.l2_len, false, &in2);
				check_rc(rc, "es_parse_inner (plain)");
				if (rc == ES_CNT_NONE)
					CHECK(in2.ip_len <= o.ip_end - o.l2_len, "inner ip_len %u", in2.ip_len);
			}
		}
		/* the fast track agrees with the full parsers when it says yes */
		memset(&o2, 0xa5, sizeof(o2));
		memset(&g, 0xa5, sizeof(g));
		memset(&in, 0xa5, sizeof(in));
		fast = es_parse_fast(b, len, verify, &o2, &g, &in);
		CHECK(fast == ES_FAST_NONE || fast == ES_FAST_GPDU || fast == ES_FAST_IP4,
		      "es_parse_fast returned %d", fast);
		if (fast != ES_FAST_NONE) {
			static const struct es_gtpu zero;
			struct es_outer o3;
			CHECK(es_parse_outer(b, len, verify, &o3) == ES_CNT_NONE,
			      "fast track took a frame the full parser drops");
			CHECK(memcmp(&o2, &o3, sizeof(o3)) == 0, "fast track's outer differs");
			if (fast == ES_FAST_GPDU) {
				CHECK(o3.kind == ES_K_GTPU && g2.type == ES_GTP_GPDU,
				      "fast G-PDU that is not");
				CHECK(memcmp(&g, &g2, sizeof(g)) == 0, "fast track's GTP-U differs");
			} else {
				CHECK(o3.kind == ES_K_IP, "fast IPv4 that is not");
				CHECK(memcmp(&g, &zero, sizeof(g)) == 0, "fast IPv4 with GTP-U");
			}
			CHECK(memcmp(&in, &in2, sizeof(in)) == 0, "fast track's inner differs");
		}
	}
	free(b);
}

/* A frame as an mbuf: one segment, or a chain where it is longer than
 * one mbuf's room (the worker linearises or drops those). */
static struct rte_mbuf *mbuf_of(const uint8_t *f, uint32_t len)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	uint32_t off = 0;
	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(es_pool);
		uint32_t k;
		CHECK(m != NULL, "pool empty while building an input");
		k = RTE_MIN(len - off, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_append(m, (uint16_t)k), f + off, k);
		off += k;
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += k;
		}
		last = m;
	} while (off < len);
	return head;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *burst[ES_BURST];
	uint64_t before[ES_CNT_MAX], d[ES_CNT_MAX], in, out, held0, held, ntx;
	uint16_t nb = 0;
	uint8_t bport = 0;
	size_t pos = 0;
	int frames = 0;

	CHECK(pool_in_use() == 0, "mbufs in use before the input");
	held0 = frag_held();
	memcpy(before, w->cnt, sizeof(before));
	w->last_rx_tsc = rte_rdtsc();
	es_set.gtpu_padding = size > 0 && (data[0] & 0x80);
	while (pos + 3 <= size && frames < MAX_FRAMES) {
		static const uint64_t ck[4] = {
			RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
			RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_NONE,
		};
		uint8_t port = (data[pos] & 0x1f) % NPORTS;
		uint64_t ol = ck[(data[pos] >> 5) & 3];
		uint32_t len = ((uint32_t)data[pos + 1] << 8) | data[pos + 2];
		pos += 3;
		len = (uint32_t)RTE_MIN((size_t)len, size - pos);
		len = RTE_MIN(len, (uint32_t)MAX_FRAME);
		parsers(data + pos, len);
		if (nb > 0 && (port != bport || nb == ES_BURST)) {
			es_process_burst(w, tables, bport, burst, nb);
			nb = 0;
		}
		if (len > 0) {   /* a port never receives an empty frame */
			bport = port;
			burst[nb] = mbuf_of(data + pos, len);
			burst[nb++]->ol_flags |= ol;
		}
		pos += len;
		frames++;
	}
	if (nb > 0)
		es_process_burst(w, tables, bport, burst, nb);

	ntx = drain_tx();
	held = frag_held();
	for (int i = 0; i < ES_CNT_MAX; i++)
		d[i] = w->cnt[i] - before[i];
	sides(d, &in, &out);
	CHECK(in + held0 == out + held,
	      "accounting: rx %lu + generated %lu + held before %lu != tx %lu + dropped/merged %lu + held %lu",
	      (unsigned long)d[ES_CNT_RX], (unsigned long)(in - d[ES_CNT_RX]),
	      (unsigned long)held0, (unsigned long)d[ES_CNT_TX],
	      (unsigned long)(out - d[ES_CNT_TX]), (unsigned long)held);
	CHECK(ntx == d[ES_CNT_TX], "tx counted %lu, the rings got %lu",
	      (unsigned long)d[ES_CNT_TX], (unsigned long)ntx);
	CHECK(pool_in_use() == held, "%u mbufs in use, reassembly holds %lu",
	      pool_in_use(), (unsigned long)held);

	/* what reassembly holds times out: dropped, and every mbuf back */
	es_frag_expire(&w->frag, w->last_rx_tsc + (rte_get_tsc_hz() << 12));
	es_exit_frags(w, &w->frag.out);
	for (int i = 0; i < ES_CNT_MAX; i++)
		d[i] = w->cnt[i] - before[i];
	sides(d, &in, &out);
	CHECK(frag_held() == 0, "reassembly still holds %lu", (unsigned long)frag_held());
	CHECK(in + held0 == out, "accounting after expiry: in %lu + held %lu != out %lu",
	      (unsigned long)in, (unsigned long)held0, (unsigned long)out);
	CHECK(pool_in_use() == 0, "%u mbufs leaked", pool_in_use());
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { (*argv)[0], "--no-huge", "-m", "256", "--no-shconf",
			"--no-pci", "--no-telemetry", "--log-level=error", "-l", "0", NULL };
	char path[] = "/tmp/fuzz_rx_XXXXXX";
	int fd;
	(void)argc;
	CHECK(rte_eal_init((int)RTE_DIM(eal) - 1, eal) >= 0, "EAL init: %s",
	      rte_strerror(rte_errno));
	for (int i = 0; i < NPORTS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "fz_%s_rx", ring_names[i]);
		rx_ring[i] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "fz_%s_tx", ring_names[i]);
		tx_ring[i] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		CHECK(rx_ring[i] && tx_ring[i] &&
		      rte_eth_from_rings(ring_names[i], &rx_ring[i], 1, &tx_ring[i], 1, SOCKET_ID_ANY) >= 0,
		      "ring port %s: %s", ring_names[i], rte_strerror(rte_errno));
	}
	fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, config, sizeof(config) - 1) == (ssize_t)(sizeof(config) - 1),
	      "%s", path);
	close(fd);
	CHECK(es_config_load(path, &tables) == 0, "config");
	unlink(path);
	es_tables_live = tables;
	es_n_workers = 1;
	es_dataplane_setup();
	w = &es_workers[0];
	CHECK(es_worker_init(w, rte_lcore_id(), 0) == 0, "worker init");
	return 0;
}
