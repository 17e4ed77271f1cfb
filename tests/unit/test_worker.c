/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's pipeline (worker.c es_process_burst) on ring ports: a
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
	"session add 3 ul-teid 0x102 gnb 192.0.2.10 gnb-teid 0x1102 ue 10.45.0.3 qfi 7\n";

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
#undef T
	};
	(void)argc;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests_name("worker", tests, setup, NULL);
}
