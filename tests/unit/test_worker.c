/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's pipeline (pipeline.c es_process_burst) on ring ports: a
 * config loaded as the daemon loads it, bursts handed to
 * es_process_burst, and what each port was sent read back from its tx
 * ring. The paths that take the rte_hash session lookup (IPv6 downlink
 * from an app: its /64 key) are run at burst sizes 0, 1, 2, 3, a full
 * burst and mixed with IPv4 (31 and 32). Make builds this suite twice: as is
 * (build/tests/test_worker) and under AddressSanitizer +
 * UndefinedBehaviorSanitizer (build/tests-san/test_worker), which aborts
 * on a misaligned key load inside rte_hash's hash function.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include "config.h"
#include "counters.h"
#include "es.h"
#include "parse.h"
#include "worker.h"

enum { P_N3, P_N9, P_LAN, NPORTS };
static const char *const ring_names[NPORTS] = { "n3", "n9", "lan" };
static struct rte_ring *rx_ring[NPORTS], *tx_ring[NPORTS];

#define MAC_N3   "02:00:00:00:03:01"
#define MAC_LAN  "02:00:00:00:0a:01"
#define MAC_GNB  "02:00:00:00:00:10"
#define MAC_APP  "02:00:00:00:00:20"

static const char config[] =
	"set sessions-max 1024\n"
	"set rules-max 64\n"
	"set mbufs 2047\n"
	"port add n3 dev net_ring_n3 role access addr 192.0.2.1/24 addr 2001:db8:3::1/64 mac " MAC_N3 "\n"
	"port add n9 dev net_ring_n9 role core addr 198.51.100.1/24 addr 2001:db8:9::1/64 mac 02:00:00:00:09:01\n"
	"port add lan dev net_ring_lan role local addr 10.100.0.1/24 addr 2001:db8:a::1/64 mac " MAC_LAN "\n"
	"neigh add 192.0.2.10 lladdr " MAC_GNB " port n3\n"
	"neigh add 2001:db8:3::10 lladdr " MAC_GNB " port n3\n"
	"neigh add 198.51.100.7 lladdr 02:00:00:00:00:07 port n9\n"
	"neigh add 2001:db8:9::7 lladdr 02:00:00:00:00:07 port n9\n"
	"neigh add 2001:db8:a::20 lladdr " MAC_APP " port lan\n"
	"neigh add 10.100.0.20 lladdr " MAC_APP " port lan\n"
	"app add xr6 via 2001:db8:a::20\n"
	/* two IPv6 sessions (one over an IPv6 gNB) and an IPv4 one */
	"session add 1 ul-teid 0x100 gnb 2001:db8:3::10 gnb-teid 0x1100 ue6 2001:db8:45:1::/64 qfi 9\n"
	"session add 2 ul-teid 0x101 gnb 192.0.2.10 gnb-teid 0x1101 ue6 2001:db8:45:2::/64 qfi 5\n"
	"session add 3 ul-teid 0x102 gnb 192.0.2.10 gnb-teid 0x1102 ue 10.45.0.3 qfi 7\n"
	/* the mixed bursts (every path): an IPv4 session with a cloud
	 * F-TEID, an app, uplink rules to it */
	"set errind-rate 1000000\n"
	"set icmp-rate 1000000\n"
	"app add app4 via 10.100.0.20\n"
	"session add 4 ul-teid 0x104 gnb 192.0.2.10 gnb-teid 0x1104 ue 10.45.0.4 cloud 198.51.100.7 cloud-teid 0x2004 n9-teid 0x3004 qfi 9\n"
	"rule add 10 dir ul dst 10.200.0.0/16 action local app4\n"
	"rule add 20 dir ul dst 203.0.113.0/24 action mirror app4 then cloud\n"
	"rule add 30 dir ul dst 192.51.0.0/16 action drop\n";

static struct es_tables *tables;
static struct es_worker *w;

static void mac(uint8_t *out, const char *s)
{
	struct rte_ether_addr a;
	assert_int_equal(rte_ether_unformat_addr(s, &a), 0);
	memcpy(out, a.addr_bytes, 6);
}

static void ip6(uint8_t *out, const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

/* An IPv6/UDP packet from the app (src) to dst, from the app's MAC to the
 * local port, with plen bytes of UDP payload: its length. */
static uint16_t app_frame6(uint8_t *f, const char *src, const char *dst,
			   uint16_t sport, uint16_t plen)
{
	uint8_t *ip = f + 14, *udp = ip + 40;
	mac(f, MAC_LAN);
	mac(f + 6, MAC_APP);
	f[12] = 0x86;
	f[13] = 0xdd;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	es_put_be16(ip + 4, (uint16_t)(8 + plen));
	ip[6] = IPPROTO_UDP;
	ip[7] = 64;
	ip6(ip + 8, src);
	ip6(ip + 24, dst);
	es_put_be16(udp, sport);
	es_put_be16(udp + 2, 443);
	es_put_be16(udp + 4, (uint16_t)(8 + plen));
	udp[6] = udp[7] = 0;
	for (uint16_t i = 0; i < plen; i++)
		udp[8 + i] = (uint8_t)(i * 7 + sport);
	es_put_be16(udp + 6, rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)ip, udp));
	return (uint16_t)(14 + 40 + 8 + plen);
}

/* An IPv4/UDP packet from the app to dst. */
static uint16_t app_frame4(uint8_t *f, const char *dst, uint16_t sport)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	mac(f, MAC_LAN);
	mac(f + 6, MAC_APP);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	es_put_be16(ip + 2, 20 + 8 + 4);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	assert_int_equal(inet_pton(AF_INET, "10.200.1.1", ip + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, ip + 16), 1);
	es_put_be16(ip + 10, es_ip4_hdr_cksum(ip, 20));
	es_put_be16(udp, sport);
	es_put_be16(udp + 2, 443);
	es_put_be16(udp + 4, 12);
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, "ping", 4);
	return 14 + 20 + 8 + 4;
}

static struct rte_mbuf *mbuf_of(const uint8_t *f, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(es_pool);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, len), f, len);
	return m;
}

/* Everything port p was sent since the last call (at most max). */
static unsigned int sent(int p, struct rte_mbuf **out, unsigned int max)
{
	es_worker_flush(w);
	return rte_ring_dequeue_burst(tx_ring[p], (void **)out, max, NULL);
}

static void free_all(struct rte_mbuf **m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

static int reset(void **state)
{
	(void)state;
	memset(w->cnt, 0, sizeof(w->cnt));
	return 0;
}

/* The G-PDU toward the gNB in o (outer IPv6 or IPv4 as v6o) carries
 * exactly the app's packet f (len bytes), hop limit less one, with a DL
 * PDU Session Container of qfi, to teid. */
static void check_encap6(struct rte_mbuf *o, bool v6o, const uint8_t *f,
			 uint16_t len, uint32_t teid, uint8_t qfi)
{
	const uint8_t *b = rte_pktmbuf_mtod(o, const uint8_t *);
	uint16_t ol = (uint16_t)(14 + (v6o ? 40 : 20) + 8);
	const uint8_t *g = b + ol, *in = g + 16;
	uint8_t want[256];
	assert_int_equal(rte_pktmbuf_data_len(o), ol + 16 + len - 14);
	assert_int_equal(es_be16(b + 12), v6o ? 0x86dd : 0x0800);
	assert_int_equal(g[0], 0x34);                  /* v1, PT, E */
	assert_int_equal(g[1], ES_GTP_GPDU);
	assert_int_equal(es_be16(g + 2), 8 + len - 14);
	assert_int_equal(es_be32(g + 4), teid);
	assert_int_equal(g[11], ES_GTP_EXT_PSC);
	assert_int_equal(g[12], 1);
	assert_int_equal(g[13] >> 4, ES_PSC_DL);
	assert_int_equal(g[14] & 0x3f, qfi);
	assert_int_equal(g[15], 0);
	memcpy(want, f + 14, len - 14u);
	want[7]--;                                     /* hop limit */
	assert_memory_equal(in, want, len - 14u);
}

static void worker__ipv6_downlink_from_an_app_is_encapsulated(void **state)
{
	uint8_t f[256];
	uint16_t len = app_frame6(f, "2001:db8:200::9", "2001:db8:45:1::5", 1000, 24);
	struct rte_mbuf *m = mbuf_of(f, len), *o[4];
	unsigned int n;
	(void)state;
	es_process_burst(w, tables, P_LAN, &m, 1);
	n = sent(P_N3, o, 4);
	assert_int_equal(n, 1);
	check_encap6(o[0], true, f, len, 0x1100, 9);
	free_all(o, n);
	assert_int_equal(w->cnt[ES_CNT_DL_ENCAP], 1);
	assert_int_equal(w->cnt[ES_CNT_TX], 1);
}

/* Bursts of n IPv6 packets (and, with mixed, every third IPv4), to the
 * two IPv6 sessions and to a /64 that is none: each is encapsulated to
 * its session's gNB or dropped as drop_dl_no_session, in order. */
static void burst6(uint16_t n, bool mixed)
{
	static const char *const ue[3] = {
		"2001:db8:45:1::5", "2001:db8:45:2::77", "2001:db8:46::1",
	};
	uint8_t f[ES_BURST][256];
	uint16_t len[ES_BURST];
	struct rte_mbuf *m[ES_BURST], *o[2 * ES_BURST];
	uint32_t want_n = 0, want_drop = 0;
	unsigned int got;

	assert_true(n <= ES_BURST);
	for (uint16_t i = 0; i < n; i++) {
		if (mixed && i % 3 == 2)
			len[i] = app_frame4(f[i], "10.45.0.3", (uint16_t)(2000 + i));
		else
			len[i] = app_frame6(f[i], "2001:db8:200::9", ue[i % 3],
					    (uint16_t)(2000 + i), (uint16_t)(i % 17));
		m[i] = mbuf_of(f[i], len[i]);
	}
	es_process_burst(w, tables, P_LAN, m, n);
	got = sent(P_N3, o, RTE_DIM(o));
	for (uint16_t i = 0, k = 0; i < n; i++) {
		if (mixed && i % 3 == 2) {
			assert_true(k < got);
			assert_int_equal(es_be32(rte_pktmbuf_mtod(o[k], uint8_t *) + 14 + 20 + 8 + 4),
					 0x1102);
			k++;
			want_n++;
			continue;
		}
		if (i % 3 == 2) {
			want_drop++;
			continue;
		}
		assert_true(k < got);
		check_encap6(o[k], i % 3 == 0, f[i], len[i], i % 3 == 0 ? 0x1100 : 0x1101,
			     i % 3 == 0 ? 9 : 5);
		k++;
		want_n++;
	}
	assert_int_equal(got, want_n);
	free_all(o, got);
	assert_int_equal(w->cnt[ES_CNT_DL_ENCAP], want_n);
	assert_int_equal(w->cnt[ES_CNT_DL_NO_SESSION], want_drop);
	assert_int_equal(w->cnt[ES_CNT_RX], n);
}

static void worker__ipv6_downlink_bursts_of_0_1_2_3_and_full(void **state)
{
	(void)state;
	burst6(0, false);
	burst6(1, false);
	reset(NULL);
	burst6(2, false);
	reset(NULL);
	burst6(3, false);
	reset(NULL);
	burst6(ES_BURST, false);
}

static void worker__ipv6_downlink_mixed_with_ipv4_in_a_full_burst(void **state)
{
	(void)state;
	burst6(ES_BURST, true);
	reset(NULL);
	burst6(ES_BURST - 1, true);
}

/*
 * Every path mixed in one burst, at burst sizes 0, 1, 15, 16, 17, 31 and
 * 32 (either side of the prefetch and session lookahead distances of 16).
 * A burst comes from one port, whose role decides the direction, so the
 * kinds a port can receive are mixed in each port's burst: on N3 (access)
 * uplink to an app, uplink relayed to the cloud, uplink mirrored then
 * relayed, a GTP-U Echo Request, a G-PDU for an unknown TEID, a malformed
 * G-PDU (GTP version 2), an outer fragment (held), an ARP request, a
 * spoofed UE source, a rule drop and an uplink to an app whose TTL expires
 * (ICMP Time Exceeded back through the tunnel); on N9 (core) a downlink
 * relay, an End Marker and an unknown TEID; on the local port a downlink
 * to encapsulate, one to no session and one whose TTL expires (Time
 * Exceeded back to the app). Each packet's output (its port, its position
 * among that port's frames and its key fields) and every counter are
 * checked, and the accounting identity of docs/counters.md.
 */
#define MAC_N9   "02:00:00:00:09:01"
#define MAC_UPF  "02:00:00:00:00:07"

enum kind {
	/* on N3 */
	K_UL_LOCAL, K_UL_CLOUD, K_UL_MIRROR, K_ECHO, K_UL_UNKNOWN, K_MALFORMED,
	K_FRAG, K_ARP, K_SPOOF, K_RULE_DROP, K_UL_TTL, K_N3_MAX,
	/* on N9 */
	K_N9_RELAY = 0, K_END_MARKER, K_N9_UNKNOWN, K_N9_MAX,
	/* on the local port */
	K_DL_ENCAP = 0, K_DL_NO_SESSION, K_DL_TTL, K_LAN_MAX,
};

static uint16_t ip_id = 1;

/* Ethernet + IPv4 + UDP (checksum 0) + plen bytes of pl; ttl; an outer
 * first fragment (MF) with frag. Returns the frame's length. */
static uint16_t udp4(uint8_t *f, const char *dmac, const char *smac,
		     const char *src, const char *dst, uint16_t sport,
		     uint16_t dport, const uint8_t *pl, uint16_t plen,
		     uint8_t ttl, bool frag)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	mac(f, dmac);
	mac(f + 6, smac);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	es_put_be16(ip + 2, (uint16_t)(20 + 8 + plen));
	es_put_be16(ip + 4, ip_id++);
	if (frag)
		ip[6] = 0x20;                      /* MF, offset 0 */
	ip[8] = ttl;
	ip[9] = IPPROTO_UDP;
	assert_int_equal(inet_pton(AF_INET, src, ip + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, ip + 16), 1);
	es_put_be16(ip + 10, es_ip4_hdr_cksum(ip, 20));
	es_put_be16(udp, sport);
	es_put_be16(udp + 2, dport);
	es_put_be16(udp + 4, (uint16_t)(8 + plen));
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, pl, plen);
	return (uint16_t)(14 + 20 + 8 + plen);
}

/* An IPv4/UDP inner packet src -> dst (no L2) in in; its length. */
static uint16_t inner4(uint8_t *in, const char *src, const char *dst, uint16_t sport)
{
	uint8_t f[128];
	static const uint8_t data[12] = "edgesteer-1";
	uint16_t len = udp4(f, MAC_N3, MAC_GNB, src, dst, sport, 4000, data,
			    sizeof(data), 64, false);
	memcpy(in, f + 14, len - 14u);
	return (uint16_t)(len - 14);
}

/* A GTP-U message (8-byte header, type, teid, flags) of body, from the
 * gNB to N3 or from the UPF to N9. */
static uint16_t gtpu4(uint8_t *f, bool n9, uint8_t flags, uint8_t type,
		      uint32_t teid, const uint8_t *body, uint16_t blen, bool frag)
{
	uint8_t g[256];
	g[0] = flags;
	g[1] = type;
	es_put_be16(g + 2, blen);
	es_put_be32(g + 4, teid);
	if (blen)
		memcpy(g + 8, body, blen);
	return n9 ? udp4(f, MAC_N9, MAC_UPF, "198.51.100.7", "198.51.100.1",
			 ES_GTPU_PORT, ES_GTPU_PORT, g, (uint16_t)(8 + blen), 64, frag)
		  : udp4(f, MAC_N3, MAC_GNB, "192.0.2.10", "192.0.2.1",
			 ES_GTPU_PORT, ES_GTPU_PORT, g, (uint16_t)(8 + blen), 64, frag);
}

static uint16_t frame_of(int port, int k, uint16_t i, uint8_t *f)
{
	uint8_t in[128], b[8];
	uint16_t il;
	if (port == P_N3) {
		switch (k) {
		case K_UL_LOCAL:
			il = inner4(in, "10.45.0.4", "10.200.1.5", (uint16_t)(1000 + i));
			return gtpu4(f, false, 0x30, ES_GTP_GPDU, 0x104, in, il, false);
		case K_UL_CLOUD:
			il = inner4(in, "10.45.0.4", "8.8.8.8", (uint16_t)(1000 + i));
			return gtpu4(f, false, 0x30, ES_GTP_GPDU, 0x104, in, il, false);
		case K_UL_MIRROR:
			il = inner4(in, "10.45.0.4", "203.0.113.5", (uint16_t)(1000 + i));
			return gtpu4(f, false, 0x30, ES_GTP_GPDU, 0x104, in, il, false);
		case K_ECHO:
			/* S flag: sequence number i, N-PDU number, next type */
			es_put_be16(b, i);
			b[2] = b[3] = 0;
			return gtpu4(f, false, 0x32, ES_GTP_ECHO_REQ, 0, b, 4, false);
		case K_UL_UNKNOWN:
			il = inner4(in, "10.45.0.4", "8.8.8.8", (uint16_t)(1000 + i));
			return gtpu4(f, false, 0x30, ES_GTP_GPDU, 0x999, in, il, false);
		case K_MALFORMED:   /* GTP version 2 */
			il = inner4(in, "10.45.0.4", "8.8.8.8", (uint16_t)(1000 + i));
			return gtpu4(f, false, 0x50, ES_GTP_GPDU, 0x104, in, il, false);
		case K_FRAG:
			il = inner4(in, "10.45.0.4", "8.8.8.8", (uint16_t)(1000 + i));
			return gtpu4(f, false, 0x30, ES_GTP_GPDU, 0x104, in, il, true);
		case K_ARP: {
			uint8_t *a = f + 14;
			mac(f, "ff:ff:ff:ff:ff:ff");
			mac(f + 6, MAC_GNB);
			f[12] = 0x08;
			f[13] = 0x06;
			es_put_be16(a, 1);
			es_put_be16(a + 2, 0x0800);
			a[4] = 6;
			a[5] = 4;
			es_put_be16(a + 6, 1);
			mac(a + 8, MAC_GNB);
			assert_int_equal(inet_pton(AF_INET, "192.0.2.10", a + 14), 1);
			memset(a + 18, 0, 6);
			assert_int_equal(inet_pton(AF_INET, "192.0.2.1", a + 24), 1);
			return 14 + 28;
		}
		case K_SPOOF:
			il = inner4(in, "10.45.0.99", "8.8.8.8", (uint16_t)(1000 + i));
			return gtpu4(f, false, 0x30, ES_GTP_GPDU, 0x104, in, il, false);
		case K_RULE_DROP:
			il = inner4(in, "10.45.0.4", "192.51.7.7", (uint16_t)(1000 + i));
			return gtpu4(f, false, 0x30, ES_GTP_GPDU, 0x104, in, il, false);
		default:   /* K_UL_TTL: to the app, TTL 1 */
			il = inner4(in, "10.45.0.4", "10.200.1.5", (uint16_t)(1000 + i));
			in[8] = 1;
			in[10] = in[11] = 0;
			es_put_be16(in + 10, es_ip4_hdr_cksum(in, 20));
			return gtpu4(f, false, 0x30, ES_GTP_GPDU, 0x104, in, il, false);
		}
	}
	if (port == P_N9) {
		switch (k) {
		case K_N9_RELAY:
			il = inner4(in, "8.8.8.8", "10.45.0.4", (uint16_t)(1000 + i));
			return gtpu4(f, true, 0x30, ES_GTP_GPDU, 0x3004, in, il, false);
		case K_END_MARKER:
			return gtpu4(f, true, 0x30, ES_GTP_END_MARKER, 0x3004, NULL, 0, false);
		default:   /* K_N9_UNKNOWN */
			il = inner4(in, "8.8.8.8", "10.45.0.4", (uint16_t)(1000 + i));
			return gtpu4(f, true, 0x30, ES_GTP_GPDU, 0x3999, in, il, false);
		}
	}
	il = app_frame4(f, k == K_DL_NO_SESSION ? "10.45.9.9" : "10.45.0.4", (uint16_t)(1000 + i));
	if (k == K_DL_TTL) {
		f[14 + 8] = 1;
		f[14 + 10] = f[14 + 11] = 0;
		es_put_be16(f + 14 + 10, es_ip4_hdr_cksum(f + 14, 20));
	}
	return il;
}

/* What one received packet becomes: out[] frames (port, the stage whose
 * verdict sent it: 1 ingress, 2 lookup, 4 action; what to check). */
struct want {
	int port;
	int stage;
	uint16_t i;        /* the packet's position in the burst */
	int what;          /* a check below */
};
enum { W_DECAP, W_RELAY_UL, W_ECHO_RESP, W_ERRIND, W_ARP_REPLY, W_ENCAP, W_END_MARKER,
       W_TE_UL, W_TE_DL };

static unsigned int wants_of(int port, int k, uint16_t i, struct want *w_)
{
	unsigned int n = 0;
#define W(p, s, x) (w_[n++] = (struct want){ (p), (s), i, (x) })
	if (port == P_N3) {
		switch (k) {
		case K_UL_LOCAL:   W(P_LAN, 4, W_DECAP); break;
		case K_UL_CLOUD:   W(P_N9, 4, W_RELAY_UL); break;
		case K_UL_MIRROR:  W(P_LAN, 4, W_DECAP); W(P_N9, 4, W_RELAY_UL); break;
		case K_ECHO:       W(P_N3, 1, W_ECHO_RESP); break;
		case K_UL_UNKNOWN: W(P_N3, 2, W_ERRIND); break;
		case K_ARP:        W(P_N3, 1, W_ARP_REPLY); break;
		case K_UL_TTL:     W(P_N3, 4, W_TE_UL); break;
		default: break;   /* dropped or held */
		}
	} else if (port == P_N9) {
		switch (k) {
		case K_N9_RELAY:   W(P_N3, 4, W_ENCAP); break;
		case K_END_MARKER: W(P_N3, 4, W_END_MARKER); break;
		default:           W(P_N9, 2, W_ERRIND); break;
		}
	} else if (k == K_DL_ENCAP) {
		W(P_N3, 4, W_ENCAP);
	} else if (k == K_DL_TTL) {
		W(P_LAN, 4, W_TE_DL);
	}
#undef W
	return n;
}

static void check_out(const struct want *x, struct rte_mbuf *o, int in_port)
{
	const uint8_t *b = rte_pktmbuf_mtod(o, const uint8_t *);
	const uint8_t *ip = b + 14, *g = b + 14 + 20 + 8;
	uint8_t a[6];
	switch (x->what) {
	case W_DECAP:        /* the inner packet to the app, TTL - 1 */
		mac(a, MAC_APP);
		assert_memory_equal(b, a, 6);
		assert_int_equal(es_be16(b + 12), 0x0800);
		assert_int_equal(ip[8], 63);
		assert_int_equal(es_be16(ip + 20), 1000 + x->i);   /* sport */
		assert_int_equal(ip[12], 10);                      /* UE src */
		assert_int_equal(ip[15], 4);
		break;
	case W_RELAY_UL:     /* to the UPF with the cloud TEID */
		assert_int_equal(ip[16], 198);
		assert_int_equal(ip[19], 7);
		assert_int_equal(g[1], ES_GTP_GPDU);
		assert_int_equal(es_be32(g + 4), 0x2004);
		assert_int_equal(es_be16(g + 8 + 20), 1000 + x->i);
		break;
	case W_ECHO_RESP:
		assert_int_equal(ip[19], 10);                      /* to the gNB */
		assert_int_equal(g[1], ES_GTP_ECHO_RESP);
		assert_int_equal(es_be16(g + 8), x->i);            /* sequence */
		break;
	case W_ERRIND:
		assert_int_equal(ip[19], in_port == P_N9 ? 7 : 10);
		assert_int_equal(g[1], ES_GTP_ERROR_IND);
		assert_int_equal(es_be32(g + 4), 0);
		break;
	case W_ARP_REPLY:
		assert_int_equal(es_be16(b + 12), 0x0806);
		assert_int_equal(es_be16(b + 14 + 6), 2);
		break;
	case W_ENCAP:        /* to the gNB, the session's gNB TEID, a DL PSC */
		assert_int_equal(ip[19], 10);
		assert_int_equal(g[0], 0x34);
		assert_int_equal(g[1], ES_GTP_GPDU);
		assert_int_equal(es_be32(g + 4), 0x1104);
		assert_int_equal(g[11], ES_GTP_EXT_PSC);
		assert_int_equal(es_be16(g + 16 + 20), 1000 + x->i);
		break;
	case W_TE_UL:        /* ICMP Time Exceeded to the UE in its tunnel */
		assert_int_equal(ip[19], 10);
		assert_int_equal(g[1], ES_GTP_GPDU);
		assert_int_equal(es_be32(g + 4), 0x1104);
		assert_int_equal(g[16 + 9], IPPROTO_ICMP);
		assert_int_equal(g[16 + 19], 4);                   /* to the UE */
		assert_int_equal(g[16 + 20], 11);
		break;
	case W_TE_DL:        /* ICMP Time Exceeded back to the app */
		mac(a, MAC_APP);
		assert_memory_equal(b, a, 6);
		assert_int_equal(ip[9], IPPROTO_ICMP);
		assert_int_equal(ip[20], 11);
		break;
	default:             /* W_END_MARKER */
		assert_int_equal(ip[19], 10);
		assert_int_equal(g[1], ES_GTP_END_MARKER);
		assert_int_equal(es_be32(g + 4), 0x1104);
		break;
	}
}

static int want_cmp(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	if (x->stage != y->stage)
		return x->stage - y->stage;
	return (int)x->i - (int)y->i;
}

/* The counters a burst of n packets on port moves, by kind. */
static void mixed_burst(int port, uint16_t n)
{
	static const int nk[NPORTS] = { K_N3_MAX, K_N9_MAX, K_LAN_MAX };
	uint8_t f[ES_BURST][256];
	struct rte_mbuf *m[ES_BURST], *o[NPORTS][2 * ES_BURST];
	struct want want[2 * ES_BURST];
	unsigned int nw = 0, got[NPORTS];
	uint64_t exp[ES_CNT_MAX], before[ES_CNT_MAX];
	uint64_t held0 = w->frag.held, in = 0, out = 0;

	memset(exp, 0, sizeof(exp));
	memcpy(before, w->cnt, sizeof(before));
	for (uint16_t i = 0; i < n; i++) {
		int k = (i + n) % nk[port];   /* each size starts elsewhere */
		m[i] = mbuf_of(f[i], frame_of(port, k, i, f[i]));
		nw += wants_of(port, k, i, want + nw);
		if (port == P_N3) {
			static const enum es_cnt c[K_N3_MAX] = {
				ES_CNT_UL_LOCAL, ES_CNT_UL_CLOUD, ES_CNT_MIRROR,
				ES_CNT_ECHO_REQ, ES_CNT_ERRIND_TX, ES_CNT_GTP_VERSION,
				ES_CNT_FRAG_IN, ES_CNT_ARP_REPLY, ES_CNT_SPOOF,
				ES_CNT_RULE_DROP, ES_CNT_TIME_EXCEEDED_TX,
			};
			exp[c[k]]++;
			if (k == K_UL_MIRROR)
				exp[ES_CNT_UL_CLOUD]++;
			if (k == K_UL_UNKNOWN)
				exp[ES_CNT_GTP_TEID_UNKNOWN]++;
			if (k == K_UL_TTL)
				exp[ES_CNT_TTL]++;
		} else if (port == P_N9) {
			static const enum es_cnt c[K_N9_MAX] = {
				ES_CNT_DL_RELAY, ES_CNT_END_MARKER_RELAY, ES_CNT_ERRIND_TX,
			};
			exp[c[k]]++;
			if (k == K_N9_UNKNOWN)
				exp[ES_CNT_GTP_TEID_UNKNOWN]++;
		} else {
			static const enum es_cnt c[K_LAN_MAX] = {
				ES_CNT_DL_ENCAP, ES_CNT_DL_NO_SESSION, ES_CNT_TIME_EXCEEDED_TX,
			};
			exp[c[k]]++;
			if (k == K_DL_TTL)
				exp[ES_CNT_TTL]++;
		}
	}
	exp[ES_CNT_RX] = n;
	exp[ES_CNT_TX] = nw;

	es_process_burst(w, tables, (uint8_t)port, m, n);

	for (int p = 0; p < NPORTS; p++)
		got[p] = sent(p, o[p], RTE_DIM(o[p]));
	/* each port's frames in the order of the verdicts: a stage's
	 * verdicts in packet order, stage by stage */
	qsort(want, nw, sizeof(want[0]), want_cmp);
	for (int p = 0; p < NPORTS; p++) {
		unsigned int k = 0;
		for (unsigned int j = 0; j < nw; j++) {
			if (want[j].port != p)
				continue;
			assert_true(k < got[p]);
			check_out(&want[j], o[p][k++], port);
		}
		assert_int_equal(got[p], k);
		free_all(o[p], got[p]);
	}
	for (int c = 0; c < ES_CNT_MAX; c++) {
		uint64_t d = w->cnt[c] - before[c];
		if (exp[c] != d)
			fprintf(stderr, "port %d burst %u: %s %lu, want %lu\n", port, n,
				es_cnt_desc[c].name, (unsigned long)d, (unsigned long)exp[c]);
		assert_int_equal(d, exp[c]);
		/* the accounting identity (docs/counters.md) */
		if (c == ES_CNT_RX || c == ES_CNT_MIRROR || c == ES_CNT_ERRIND_TX ||
		    c == ES_CNT_TIME_EXCEEDED_TX)
			in += d;
		else if (c == ES_CNT_TX || es_cnt_desc[c].kind == ES_KIND_DROP)
			out += d;
	}
	assert_int_equal(in, out + (w->frag.held - held0));
	assert_int_equal(w->frag.held - held0, exp[ES_CNT_FRAG_IN]);
}

static void worker__every_path_mixed_in_bursts_of_0_1_15_16_17_31_32(void **state)
{
	static const uint16_t sizes[] = { 0, 1, 15, 16, 17, 31, 32 };
	(void)state;
	for (unsigned int s = 0; s < RTE_DIM(sizes); s++)
		for (int p = 0; p < NPORTS; p++)
			mixed_burst(p, sizes[s]);
}

static int setup(void **state)
{
	char path[] = "/tmp/test_worker_XXXXXX";
	int fd;
	(void)state;
	for (int i = 0; i < NPORTS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "tw_%s_rx", ring_names[i]);
		rx_ring[i] = rte_ring_create(name, 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "tw_%s_tx", ring_names[i]);
		tx_ring[i] = rte_ring_create(name, 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!rx_ring[i] || !tx_ring[i] ||
		    rte_eth_from_rings(ring_names[i], &rx_ring[i], 1, &tx_ring[i], 1, SOCKET_ID_ANY) < 0) {
			fprintf(stderr, "ring port %s: %s\n", ring_names[i], rte_strerror(rte_errno));
			return -1;
		}
	}
	fd = mkstemp(path);
	if (fd < 0 || write(fd, config, sizeof(config) - 1) != (ssize_t)(sizeof(config) - 1)) {
		perror(path);
		return -1;
	}
	close(fd);
	if (es_config_load(path, &tables) != 0) {
		unlink(path);
		return -1;
	}
	unlink(path);
	es_tables_live = tables;
	es_n_workers = 1;
	es_dataplane_setup();
	/* no worker lcore here (-l 0): the one worker runs on this thread */
	w = &es_workers[0];
	if (es_worker_init(w, rte_lcore_id(), 0) != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-shconf",
			"--no-pci", "--log-level=error", "-l", "0", NULL };
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, reset)
		T(worker__ipv6_downlink_from_an_app_is_encapsulated),
		T(worker__ipv6_downlink_bursts_of_0_1_2_3_and_full),
		T(worker__ipv6_downlink_mixed_with_ipv4_in_a_full_burst),
		T(worker__every_path_mixed_in_bursts_of_0_1_15_16_17_31_32),
#undef T
	};
	(void)argc;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests_name("worker", tests, setup, NULL);
}
