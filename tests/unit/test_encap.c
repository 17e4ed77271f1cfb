/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Header push/pop on real mbufs (encap.c): the GTP-U header and its DL
 * PDU Session Container, the outer UDP/IP/Ethernet, the MTU and headroom
 * limits, TTL / hop limit decrement and the routed (decapsulated) frame.
 * Checksums are verified with a ones' complement sum written here, not
 * with the helpers under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "encap.h"
#include "parse.h"

static struct rte_mempool *pool;
static struct es_port port;
static struct es_peer peer4, peer6, hop4, hop6;

static const uint8_t port_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t peer4_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t peer6_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 };
static const uint8_t hop_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x04 };

static void ip(uint8_t *out, const char *s)
{
	if (inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, out) != 1)
		fail_msg("bad address %s", s);
}

static void init_port_and_peers(void)
{
	memset(&port, 0, sizeof(port));
	snprintf(port.name, sizeof(port.name), "n3");
	memcpy(port.mac.addr_bytes, port_mac, 6);
	port.mtu = 1500;
	port.has4 = port.has6 = 1;
	ip(port.src4, "192.0.2.1");
	ip(port.src6, "2001:db8:1::1");

	memset(&peer4, 0, sizeof(peer4));
	ip(peer4.addr, "198.51.100.7");
	memcpy(peer4.mac.addr_bytes, peer4_mac, 6);
	memset(&peer6, 0, sizeof(peer6));
	peer6.v6 = 1;
	ip(peer6.addr, "2001:db8:2::7");
	memcpy(peer6.mac.addr_bytes, peer6_mac, 6);
	memset(&hop4, 0, sizeof(hop4));
	ip(hop4.addr, "192.0.2.254");
	memcpy(hop4.mac.addr_bytes, hop_mac, 6);
	hop6 = hop4;
	hop6.v6 = 1;
	ip(hop6.addr, "2001:db8:1::fe");
}

static int reset_port(void **state)
{
	(void)state;
	init_port_and_peers();
	return 0;
}

/* ---- independent ones' complement arithmetic ---- */

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return acc;
}

static uint16_t fold16(uint32_t acc)
{
	while (acc > 0xffff)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* An IPv4 header whose words sum to -0 is valid. */
static int ip4_cksum_ok(const uint8_t *h)
{
	return fold16(sum16(0, h, 20)) == 0xffff;
}

/* The checksum computed from scratch (checksum field as zero). */
static uint16_t ip4_cksum_fresh(const uint8_t *h)
{
	uint8_t c[20];
	memcpy(c, h, 20);
	c[10] = c[11] = 0;
	return (uint16_t)~fold16(sum16(0, c, 20));
}

static void ip4_set_cksum(uint8_t *h)
{
	uint16_t c = ip4_cksum_fresh(h);
	h[10] = (uint8_t)(c >> 8);
	h[11] = (uint8_t)c;
}

/* UDP over IPv6 checksum (RFC 8200 §8.1) from scratch; 0 becomes 0xffff. */
static uint16_t udp6_cksum_fresh(const uint8_t *ip6, const uint8_t *udp,
				 uint32_t l4len)
{
	uint8_t ph[8] = { 0 };
	uint8_t uh[8];
	uint32_t acc;
	uint16_t c;
	ph[0] = (uint8_t)(l4len >> 24);
	ph[1] = (uint8_t)(l4len >> 16);
	ph[2] = (uint8_t)(l4len >> 8);
	ph[3] = (uint8_t)l4len;
	ph[7] = 17;
	memcpy(uh, udp, 8);
	uh[6] = uh[7] = 0;
	acc = sum16(0, ip6 + 8, 32);        /* source and destination */
	acc = sum16(acc, ph, 8);
	acc = sum16(acc, uh, 8);
	acc = sum16(acc, udp + 8, l4len - 8);
	c = (uint16_t)~fold16(acc);
	return c ? c : 0xffff;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* ---- mbufs ---- */

static struct rte_mbuf *mbuf_with(const uint8_t *data, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;
	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	assert_true(len == 0 || p != NULL);
	if (len)
		memcpy(p, data, len);
	return m;
}

static void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static uint8_t *mdata(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *);
}

/* ---- GTP-U ---- */

static void encap__push_gtpu_writes_dl_container(void **state)
{
	(void)state;
	uint8_t pl[100];
	struct rte_mbuf *m;
	struct es_gtpu g;
	uint8_t *h;
	pattern(pl, sizeof(pl), 1);
	m = mbuf_with(pl, sizeof(pl));
	assert_int_equal(es_push_gtpu(m, ES_GTP_GPDU, 0x12345678, true, 9),
			 ES_CNT_NONE);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 116);
	assert_int_equal(rte_pktmbuf_data_len(m), 116);
	h = mdata(m);
	assert_int_equal(h[0], 0x34);                /* v1, PT, E */
	assert_int_equal(h[1], 0xff);
	assert_int_equal(be16(h + 2), 100 + 8);      /* seq, N-PDU, next, container */
	assert_int_equal(h[4], 0x12);
	assert_int_equal(h[5], 0x34);
	assert_int_equal(h[6], 0x56);
	assert_int_equal(h[7], 0x78);
	assert_int_equal(h[8], 0);
	assert_int_equal(h[9], 0);
	assert_int_equal(h[10], 0);
	assert_int_equal(h[11], 0x85);
	assert_int_equal(h[12], 1);                  /* one 4-octet unit */
	assert_int_equal(h[13] >> 4, ES_PSC_DL);
	assert_int_equal(h[13], 0x00);
	assert_int_equal(h[14], 9);                  /* PPP 0, RQI 0, QFI */
	assert_int_equal(h[15], 0);                  /* no further extension */
	assert_memory_equal(h + 16, pl, sizeof(pl));

	assert_int_equal(es_parse_gtpu(h, 116, &g), ES_CNT_NONE);
	assert_int_equal(g.type, ES_GTP_GPDU);
	assert_int_equal(g.teid, 0x12345678);
	assert_int_equal(g.hdr_len, ES_GTPU_HLEN_PSC);
	assert_int_equal(g.payload_len, 100);
	assert_int_equal(g.has_psc, 1);
	assert_int_equal(g.psc_type, ES_PSC_DL);
	assert_int_equal(g.qfi, 9);
	assert_int_equal(g.n_ext, 1);
	rte_pktmbuf_free(m);
}

static void encap__push_gtpu_keeps_qfi_to_six_bits(void **state)
{
	(void)state;
	static const uint8_t qfis[] = { 0, 1, 63, 0x40 | 5, 0xff };
	for (size_t i = 0; i < sizeof(qfis); i++) {
		uint8_t pl[8] = { 0x45 };
		struct rte_mbuf *m = mbuf_with(pl, sizeof(pl));
		struct es_gtpu g;
		assert_int_equal(es_push_gtpu(m, ES_GTP_GPDU, 1, true, qfis[i]),
				 ES_CNT_NONE);
		/* PPP and RQI stay clear */
		assert_int_equal(mdata(m)[14], qfis[i] & 0x3f);
		assert_int_equal(es_parse_gtpu(mdata(m), rte_pktmbuf_pkt_len(m), &g),
				 ES_CNT_NONE);
		assert_int_equal(g.qfi, qfis[i] & 0x3f);
		rte_pktmbuf_free(m);
	}
}

static void encap__push_gtpu_without_psc_writes_8_byte_header(void **state)
{
	(void)state;
	uint8_t pl[100];
	struct rte_mbuf *m;
	struct es_gtpu g;
	uint8_t *h;
	pattern(pl, sizeof(pl), 2);
	m = mbuf_with(pl, sizeof(pl));
	assert_int_equal(es_push_gtpu(m, ES_GTP_GPDU, 0xfedcba98, false, 9),
			 ES_CNT_NONE);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 108);
	h = mdata(m);
	assert_int_equal(h[0], 0x30);
	assert_int_equal(h[1], 0xff);
	assert_int_equal(be16(h + 2), 100);
	assert_int_equal(be32(h + 4), 0xfedcba98);
	assert_memory_equal(h + 8, pl, sizeof(pl));
	assert_int_equal(es_parse_gtpu(h, 108, &g), ES_CNT_NONE);
	assert_int_equal(g.teid, 0xfedcba98);
	assert_int_equal(g.hdr_len, 8);
	assert_int_equal(g.payload_len, 100);
	assert_int_equal(g.has_psc, 0);
	assert_int_equal(g.qfi, 0);
	rte_pktmbuf_free(m);

	/* an End Marker: no payload, length 0 */
	m = mbuf_with(NULL, 0);
	assert_int_equal(es_push_gtpu(m, ES_GTP_END_MARKER, 7, false, 0),
			 ES_CNT_NONE);
	h = mdata(m);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 8);
	assert_int_equal(h[1], ES_GTP_END_MARKER);
	assert_int_equal(be16(h + 2), 0);
	assert_int_equal(es_parse_gtpu(h, 8, &g), ES_CNT_NONE);
	assert_int_equal(g.payload_len, 0);
	rte_pktmbuf_free(m);
}

/* ---- outer headers ---- */

/* A G-PDU of plen payload bytes (DL container, QFI 3, TEID 0xabcdef01). */
static struct rte_mbuf *gpdu(uint16_t plen, unsigned int seed)
{
	static uint8_t pl[2048];
	struct rte_mbuf *m;
	pattern(pl, plen, seed);
	m = mbuf_with(pl, plen);
	assert_int_equal(es_push_gtpu(m, ES_GTP_GPDU, 0xabcdef01, true, 3),
			 ES_CNT_NONE);
	return m;
}

static void check_outer4(struct rte_mbuf *m, uint32_t gtp_len,
			 const uint8_t *want_src, uint16_t sport, uint16_t dport)
{
	const uint8_t *f = mdata(m), *h = f + 14, *u = f + 34;
	struct es_outer o;
	struct es_gtpu g;
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 20 + 8 + gtp_len);
	assert_int_equal(rte_pktmbuf_data_len(m), rte_pktmbuf_pkt_len(m));
	assert_memory_equal(f, peer4_mac, 6);
	assert_memory_equal(f + 6, port_mac, 6);
	assert_int_equal(be16(f + 12), 0x0800);
	assert_int_equal(h[0], 0x45);
	assert_int_equal(be16(h + 2), 20 + 8 + gtp_len);
	assert_int_equal(be16(h + 6) & 0x3fff, 0);     /* not a fragment */
	assert_int_equal(h[8], 64);
	assert_int_equal(h[9], 17);
	assert_true(ip4_cksum_ok(h));
	assert_int_equal(be16(h + 10), ip4_cksum_fresh(h));
	assert_int_equal(es_ip4_hdr_cksum(h, 20), 0);
	assert_memory_equal(h + 12, want_src, 4);
	assert_memory_equal(h + 16, peer4.addr, 4);
	assert_int_equal(be16(u), sport);
	assert_int_equal(be16(u + 2), dport);
	assert_int_equal(be16(u + 4), 8 + gtp_len);
	assert_int_equal(be16(u + 6), 0);
	assert_int_equal(m->l2_len, 14);
	assert_int_equal(m->l3_len, 20);

	assert_int_equal(es_parse_outer(f, rte_pktmbuf_pkt_len(m), true, &o),
			 ES_CNT_NONE);
	assert_int_equal(o.kind, dport == ES_GTPU_PORT ? ES_K_GTPU : ES_K_IP);
	assert_int_equal(o.v6, 0);
	assert_int_equal(o.l2_len, 14);
	assert_int_equal(o.l4_off, 34);
	assert_int_equal(o.ip_end, rte_pktmbuf_pkt_len(m));
	assert_int_equal(o.udp_sport, sport);
	assert_int_equal(o.udp_dport, dport);
	assert_int_equal(es_parse_gtpu(f + 42, gtp_len, &g), ES_CNT_NONE);
	assert_int_equal(g.teid, 0xabcdef01);
	assert_int_equal(g.qfi, 3);
	assert_int_equal(g.payload_len, gtp_len - ES_GTPU_HLEN_PSC);
}

static void encap__push_outer_ipv4_builds_valid_headers(void **state)
{
	(void)state;
	static const uint16_t lens[] = { 0, 1, 100, 101, 1000, 1455 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct rte_mbuf *m = gpdu(lens[i], (unsigned int)i);
		uint32_t gl = rte_pktmbuf_pkt_len(m);
		assert_int_equal(es_push_outer(m, &port, NULL, &peer4, 2152, 2152),
				 ES_CNT_NONE);
		check_outer4(m, gl, port.src4, 2152, 2152);
		rte_pktmbuf_free(m);
	}
}

static void encap__push_outer_ipv4_uses_explicit_source_and_ports(void **state)
{
	(void)state;
	uint8_t src[4];
	struct rte_mbuf *m = gpdu(64, 9);
	uint32_t gl = rte_pktmbuf_pkt_len(m);
	ip(src, "203.0.113.9");
	assert_int_equal(es_push_outer(m, &port, src, &peer4, 40000, 2152),
			 ES_CNT_NONE);
	check_outer4(m, gl, src, 40000, 2152);
	rte_pktmbuf_free(m);

	/* not to 2152: an IP frame, not GTP-U */
	m = gpdu(64, 9);
	assert_int_equal(es_push_outer(m, &port, NULL, &peer4, 2152, 2153),
			 ES_CNT_NONE);
	check_outer4(m, gl, port.src4, 2152, 2153);
	rte_pktmbuf_free(m);
}

static void check_outer6(struct rte_mbuf *m, uint32_t gtp_len,
			 const uint8_t *want_src, uint16_t sport)
{
	const uint8_t *f = mdata(m), *h = f + 14, *u = f + 54;
	uint32_t l4 = 8 + gtp_len;
	struct es_outer o;
	struct es_gtpu g;
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 40 + l4);
	assert_memory_equal(f, peer6_mac, 6);
	assert_memory_equal(f + 6, port_mac, 6);
	assert_int_equal(be16(f + 12), 0x86dd);
	assert_int_equal(be32(h), 0x60000000);
	assert_int_equal(be16(h + 4), l4);
	assert_int_equal(h[6], 17);
	assert_int_equal(h[7], 64);
	assert_memory_equal(h + 8, want_src, 16);
	assert_memory_equal(h + 24, peer6.addr, 16);
	assert_int_equal(be16(u), sport);
	assert_int_equal(be16(u + 2), 2152);
	assert_int_equal(be16(u + 4), l4);
	/* mandatory over IPv6, never 0, and right */
	assert_int_not_equal(be16(u + 6), 0);
	assert_int_equal(be16(u + 6), udp6_cksum_fresh(h, u, l4));
	{
		uint8_t ph[8] = { 0, 0, (uint8_t)(l4 >> 8), (uint8_t)l4, 0, 0, 0, 17 };
		uint32_t acc = sum16(sum16(0, h + 8, 32), ph, 8);
		assert_int_equal(fold16(sum16(acc, u, l4)), 0xffff);
	}
	assert_int_equal(m->l2_len, 14);
	assert_int_equal(m->l3_len, 40);

	assert_int_equal(es_parse_outer(f, rte_pktmbuf_pkt_len(m), true, &o),
			 ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_GTPU);
	assert_int_equal(o.v6, 1);
	assert_int_equal(o.l4_off, 54);
	assert_int_equal(o.udp_dport, 2152);
	assert_int_equal(es_parse_gtpu(f + 62, gtp_len, &g), ES_CNT_NONE);
	assert_int_equal(g.teid, 0xabcdef01);
	assert_int_equal(g.payload_len, gtp_len - ES_GTPU_HLEN_PSC);
}

static void encap__push_outer_ipv6_checksums_udp(void **state)
{
	(void)state;
	static const uint16_t lens[] = { 0, 1, 100, 101, 777, 1435 };
	uint8_t src[16];
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct rte_mbuf *m = gpdu(lens[i], (unsigned int)(i + 40));
		uint32_t gl = rte_pktmbuf_pkt_len(m);
		assert_int_equal(es_push_outer(m, &port, NULL, &peer6, 2152, 2152),
				 ES_CNT_NONE);
		check_outer6(m, gl, port.src6, 2152);
		rte_pktmbuf_free(m);
	}
	ip(src, "2001:db8:1::99");
	for (unsigned int seed = 0; seed < 64; seed++) {
		struct rte_mbuf *m = gpdu((uint16_t)(seed * 13 % 300), seed);
		uint32_t gl = rte_pktmbuf_pkt_len(m);
		assert_int_equal(es_push_outer(m, &port, src, &peer6,
					       (uint16_t)(49152 + seed), 2152),
				 ES_CNT_NONE);
		check_outer6(m, gl, src, (uint16_t)(49152 + seed));
		rte_pktmbuf_free(m);
	}
}

static void encap__push_outer_refuses_ip_length_above_mtu(void **state)
{
	(void)state;
	static const uint16_t mtus[] = { 1500, 1280, 9000 - 7000 };
	for (size_t i = 0; i < sizeof(mtus) / sizeof(mtus[0]); i++) {
		for (int v6 = 0; v6 <= 1; v6++) {
			uint16_t over = (uint16_t)(v6 ? 48 : 28);  /* IP + UDP */
			uint16_t fit = (uint16_t)(mtus[i] - over);
			uint8_t pl[2048];
			struct rte_mbuf *m;
			uint16_t off;
			port.mtu = mtus[i];
			pattern(pl, sizeof(pl), 3);
			/* IP length mtu + 1: refused, mbuf untouched */
			m = mbuf_with(pl, (uint16_t)(fit + 1));
			off = m->data_off;
			assert_int_equal(es_push_outer(m, &port, NULL,
						       v6 ? &peer6 : &peer4, 2152, 2152),
					 ES_CNT_MTU);
			assert_int_equal(rte_pktmbuf_pkt_len(m), fit + 1);
			assert_int_equal(m->data_off, off);
			rte_pktmbuf_free(m);
			/* IP length exactly mtu: sent */
			m = mbuf_with(pl, fit);
			assert_int_equal(es_push_outer(m, &port, NULL,
						       v6 ? &peer6 : &peer4, 2152, 2152),
					 ES_CNT_NONE);
			assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + mtus[i]);
			if (v6)
				assert_int_equal(be16(mdata(m) + 14 + 4) + 40, mtus[i]);
			else
				assert_int_equal(be16(mdata(m) + 14 + 2), mtus[i]);
			rte_pktmbuf_free(m);
		}
	}
}

/* An mbuf of len bytes with only room bytes of headroom left. */
/* The template path writes exactly what the generic path writes. */
static void encap__push_tpl_gives_the_generic_bytes(void **state)
{
	static const uint16_t sizes[] = { 0, 1, 7, 100, 1000, 1400 };
	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		const struct es_peer *pe = v6 ? &peer6 : &peer4;
		struct es_tpl tpl;
		es_tpl_build(&tpl, &port, pe);
		assert_int_equal(tpl.len, v6 ? 62 : 42);
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			struct rte_mbuf *a = gpdu(sizes[k], (unsigned int)k);
			struct rte_mbuf *b = gpdu(sizes[k], (unsigned int)k);
			int ra = es_push_outer(a, &port, NULL, pe, ES_GTPU_PORT, ES_GTPU_PORT);
			int rb = es_push_tpl(b, &port, &tpl);
			assert_int_equal(ra, rb);
			if (ra == ES_CNT_NONE) {
				assert_int_equal(rte_pktmbuf_pkt_len(a), rte_pktmbuf_pkt_len(b));
				assert_memory_equal(mdata(a), mdata(b), rte_pktmbuf_pkt_len(a));
				assert_int_equal(a->l2_len, b->l2_len);
				assert_int_equal(a->l3_len, b->l3_len);
			}
			rte_pktmbuf_free(a);
			rte_pktmbuf_free(b);
		}
	}
}

static struct rte_mbuf *squeezed(uint16_t len, uint16_t room)
{
	uint8_t pl[256];
	struct rte_mbuf *m;
	pattern(pl, sizeof(pl), 4);
	m = mbuf_with(pl, len);
	while (rte_pktmbuf_headroom(m) > room) {
		uint16_t step = (uint16_t)(rte_pktmbuf_headroom(m) - room);
		assert_non_null(rte_pktmbuf_prepend(m, step > 16 ? 16 : step));
	}
	assert_int_equal(rte_pktmbuf_headroom(m), room);
	return m;
}

/* es_push_gtpu_tpl against its two steps (es_push_gtpu, es_push_tpl):
 * the same return, bytes and mbuf fields for IPv4 and IPv6 peers, with
 * and without the container, at every headroom around the two limits
 * and at every MTU around the packet's size. */
static int two_steps(struct rte_mbuf *m, uint8_t type, bool psc,
		     const struct es_tpl *tpl)
{
	int rc = es_push_gtpu(m, type, 0x01020304, psc, 9);
	return rc ? rc : es_push_tpl(m, &port, tpl);
}

static void check_same(struct rte_mbuf *a, struct rte_mbuf *b, int ra, int rb)
{
	assert_int_equal(ra, rb);
	if (ra == ES_CNT_NONE) {
		assert_int_equal(rte_pktmbuf_pkt_len(a), rte_pktmbuf_pkt_len(b));
		assert_int_equal(rte_pktmbuf_data_len(a), rte_pktmbuf_data_len(b));
		assert_int_equal(rte_pktmbuf_headroom(a), rte_pktmbuf_headroom(b));
		assert_memory_equal(mdata(a), mdata(b), rte_pktmbuf_pkt_len(a));
		assert_int_equal(a->l2_len, b->l2_len);
		assert_int_equal(a->l3_len, b->l3_len);
	}
	rte_pktmbuf_free(a);
	rte_pktmbuf_free(b);
}

static void encap__push_gtpu_tpl_gives_the_two_steps_bytes(void **state)
{
	static const uint16_t sizes[] = { 0, 1, 7, 100, 1000, 1400 };
	static uint8_t pl[2048];
	(void)state;
	pattern(pl, sizeof(pl), 5);
	for (int v6 = 0; v6 < 2; v6++) {
		struct es_tpl tpl;
		es_tpl_build(&tpl, &port, v6 ? &peer6 : &peer4);
		for (int psc = 0; psc < 2; psc++) {
			uint8_t type = psc ? ES_GTP_GPDU : ES_GTP_END_MARKER;
			uint16_t glen = psc ? 16 : 8;
			uint16_t over = (uint16_t)(glen + 8 + (v6 ? 40 : 20));
			for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
				struct rte_mbuf *a = mbuf_with(pl, sizes[k]);
				struct rte_mbuf *b = mbuf_with(pl, sizes[k]);
				int ra = two_steps(a, type, psc, &tpl);
				int rb = es_push_gtpu_tpl(b, type, 0x01020304, psc, 9,
							  &port, &tpl);
				assert_int_equal(rb, sizes[k] + over > port.mtu ?
						 ES_CNT_MTU : ES_CNT_NONE);
				check_same(a, b, ra, rb);
				/* the MTU one below, at and one above the size */
				for (int d = -1; d <= 1; d++) {
					port.mtu = (uint16_t)(sizes[k] + over + d);
					a = mbuf_with(pl, sizes[k]);
					b = mbuf_with(pl, sizes[k]);
					ra = two_steps(a, type, psc, &tpl);
					rb = es_push_gtpu_tpl(b, type, 0x01020304,
							      psc, 9, &port, &tpl);
					assert_int_equal(rb, d < 0 ? ES_CNT_MTU
								   : ES_CNT_NONE);
					check_same(a, b, ra, rb);
				}
				port.mtu = 1500;
			}
			/* every headroom from none to enough for both */
			for (uint16_t room = 0; room <= glen + tpl.len + 1; room++) {
				struct rte_mbuf *a = squeezed(64, room);
				struct rte_mbuf *b = squeezed(64, room);
				int ra = two_steps(a, type, psc, &tpl);
				int rb = es_push_gtpu_tpl(b, type, 0x01020304,
							  psc, 9, &port, &tpl);
				assert_int_equal(rb, room < glen + tpl.len ?
						 ES_CNT_NO_HEADROOM : ES_CNT_NONE);
				/* too little room for the two and an MTU too
				 * small: the first step's answer wins */
				check_same(a, b, ra, rb);
				port.mtu = 64;
				a = squeezed(64, room);
				b = squeezed(64, room);
				ra = two_steps(a, type, psc, &tpl);
				rb = es_push_gtpu_tpl(b, type, 0x01020304, psc, 9,
						      &port, &tpl);
				assert_int_equal(rb, room < glen ? ES_CNT_NO_HEADROOM
								 : ES_CNT_MTU);
				check_same(a, b, ra, rb);
				port.mtu = 1500;
			}
		}
	}
}

static void encap__push_without_headroom_fails(void **state)
{
	(void)state;
	struct rte_mbuf *m;
	uint32_t len;

	/* GTP-U: 16 bytes with a container, 8 without */
	m = squeezed(64, 15);
	len = rte_pktmbuf_pkt_len(m);
	assert_int_equal(es_push_gtpu(m, ES_GTP_GPDU, 1, true, 1),
			 ES_CNT_NO_HEADROOM);
	assert_int_equal(rte_pktmbuf_pkt_len(m), len);
	assert_int_equal(es_push_gtpu(m, ES_GTP_GPDU, 1, false, 1), ES_CNT_NONE);
	rte_pktmbuf_free(m);
	m = squeezed(64, 16);
	assert_int_equal(es_push_gtpu(m, ES_GTP_GPDU, 1, true, 1), ES_CNT_NONE);
	rte_pktmbuf_free(m);
	m = squeezed(64, 7);
	assert_int_equal(es_push_gtpu(m, ES_GTP_GPDU, 1, false, 1),
			 ES_CNT_NO_HEADROOM);
	rte_pktmbuf_free(m);

	/* outer IPv4: 14 + 20 + 8 = 42 */
	m = squeezed(64, 41);
	len = rte_pktmbuf_pkt_len(m);
	assert_int_equal(es_push_outer(m, &port, NULL, &peer4, 2152, 2152),
			 ES_CNT_NO_HEADROOM);
	assert_int_equal(rte_pktmbuf_pkt_len(m), len);
	assert_int_equal(rte_pktmbuf_headroom(m), 41);
	rte_pktmbuf_free(m);
	m = squeezed(64, 42);
	assert_int_equal(es_push_outer(m, &port, NULL, &peer4, 2152, 2152),
			 ES_CNT_NONE);
	rte_pktmbuf_free(m);

	/* outer IPv6: 14 + 40 + 8 = 62 */
	m = squeezed(64, 61);
	assert_int_equal(es_push_outer(m, &port, NULL, &peer6, 2152, 2152),
			 ES_CNT_NO_HEADROOM);
	rte_pktmbuf_free(m);
	m = squeezed(64, 62);
	assert_int_equal(es_push_outer(m, &port, NULL, &peer6, 2152, 2152),
			 ES_CNT_NONE);
	rte_pktmbuf_free(m);

	/* routed frame: 14 */
	m = squeezed(0, 13);
	{
		/* the prepended bytes: an IP header, then padding to trim */
		uint8_t *h = mdata(m);
		assert_true(rte_pktmbuf_pkt_len(m) >= 20);
		memset(h, 0, 20);
		h[0] = 0x45;
		h[3] = 20;
		h[8] = 64;
		ip4_set_cksum(h);
	}
	assert_int_equal(es_route_ip(m, 20, false, &port, &hop4),
			 ES_CNT_NO_HEADROOM);
	rte_pktmbuf_free(m);
}

/* ---- TTL / hop limit ---- */

static void rand_ip4(uint8_t h[20])
{
	for (int i = 0; i < 20; i++)
		h[i] = (uint8_t)rand();
	h[0] = 0x45;
	h[6] &= 0x40;
	h[7] = 0;
}

/* Set the identification field so that the fresh checksum is want. */
static void ip4_force_cksum(uint8_t h[20], uint16_t want)
{
	uint32_t acc;
	uint16_t id;
	h[4] = h[5] = 0;
	acc = fold16(sum16(0, h, 20) - ((uint32_t)h[10] << 8 | h[11]));
	/* want = ~(acc + id)  =>  id = ~want - acc (ones' complement) */
	id = fold16((uint32_t)(uint16_t)~want + (uint16_t)~acc);
	h[4] = (uint8_t)(id >> 8);
	h[5] = (uint8_t)id;
	ip4_set_cksum(h);
	assert_int_equal(be16(h + 10), want);
}

static void check_dec4(uint8_t h[20])
{
	uint8_t before[20];
	memcpy(before, h, 20);
	assert_true(ip4_cksum_ok(h));
	assert_int_equal(es_ip_dec_ttl(h, false), ES_CNT_NONE);
	assert_int_equal(h[8], before[8] - 1);
	/* nothing else but the checksum moves */
	assert_memory_equal(h, before, 8);
	assert_memory_equal(h + 9, before + 9, 1);
	assert_memory_equal(h + 12, before + 12, 8);
	if (!ip4_cksum_ok(h))
		fail_msg("checksum %#06x invalid after TTL %u -> %u (was %#06x)",
			 be16(h + 10), before[8], h[8], be16(before + 10));
	if (be16(h + 10) != ip4_cksum_fresh(h))
		fail_msg("checksum %#06x, from scratch %#06x (was %#06x, TTL %u)",
			 be16(h + 10), ip4_cksum_fresh(h), be16(before + 10),
			 before[8]);
}

static void encap__dec_ttl_keeps_ipv4_checksum_valid(void **state)
{
	(void)state;
	/* checksums around the wrap, except 0xfeff (see the next test) */
	static const uint16_t edges[] = { 0x0000, 0x0001, 0x00fe, 0x00ff,
		0x0100, 0x0101, 0xfefe, 0xff00, 0xff01, 0xfffe };
	uint8_t h[20];
	srand(1624);
	for (int i = 0; i < 500; i++) {
		rand_ip4(h);
		h[8] = (uint8_t)(2 + rand() % 254);
		if (i % 5 == 0)
			h[8] = 2;
		ip4_set_cksum(h);
		if (be16(h + 10) == 0xfeff)
			continue;
		check_dec4(h);
	}
	for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
		for (int i = 0; i < 20; i++) {
			rand_ip4(h);
			h[8] = (uint8_t)(i == 0 ? 2 : i == 1 ? 255 : 2 + rand() % 254);
			ip4_force_cksum(h, edges[e]);
			check_dec4(h);
		}
	}
	/* a header carrying -0 (0xffff) where a fresh sum says +0: still
	 * valid, and valid after */
	for (int i = 0; i < 20; i++) {
		rand_ip4(h);
		h[8] = (uint8_t)(2 + i);
		ip4_force_cksum(h, 0x0000);
		h[10] = h[11] = 0xff;
		check_dec4(h);
	}
	/* a whole TTL run down to 1 */
	rand_ip4(h);
	h[8] = 255;
	ip4_set_cksum(h);
	while (h[8] > 1) {
		if (be16(h + 10) == 0xfeff)
			ip4_force_cksum(h, 0xfefe);
		check_dec4(h);
	}
	assert_int_equal(es_ip_dec_ttl(h, false), ES_CNT_TTL);
}

/* RFC 1624 §3: the incremental update must give the checksum a fresh
 * computation gives; HC + m + ~m' (RFC 1141) gives -0 (0xffff) instead
 * of +0 (0x0000) when the new checksum is zero, a value a from-scratch
 * computation never produces for an IP header. */
static void encap__dec_ttl_checksum_matches_full_recompute_at_zero(void **state)
{
	(void)state;
	uint8_t h[20];
	srand(1141);
	for (int i = 0; i < 10; i++) {
		rand_ip4(h);
		h[8] = (uint8_t)(2 + rand() % 254);
		/* 0xfeff + 0x0100 == 0xffff: the new fresh checksum is 0 */
		ip4_force_cksum(h, 0xfeff);
		check_dec4(h);
		assert_int_equal(be16(h + 10), 0x0000);
	}
}

static void encap__dec_ttl_refuses_ttl_1_and_0(void **state)
{
	(void)state;
	for (int ttl = 0; ttl <= 1; ttl++) {
		for (int i = 0; i < 10; i++) {
			uint8_t h[20], before[20];
			rand_ip4(h);
			h[8] = (uint8_t)ttl;
			ip4_set_cksum(h);
			memcpy(before, h, 20);
			assert_int_equal(es_ip_dec_ttl(h, false), ES_CNT_TTL);
			assert_memory_equal(h, before, 20);
		}
	}
}

static void encap__dec_hop_limit_on_ipv6(void **state)
{
	(void)state;
	static const uint8_t hops[] = { 255, 64, 3, 2, 1, 0 };
	for (size_t i = 0; i < sizeof(hops); i++) {
		uint8_t h[40], before[40];
		for (int b = 0; b < 40; b++)
			h[b] = (uint8_t)(b * 31 + i);
		h[0] = 0x60;
		h[7] = hops[i];
		memcpy(before, h, 40);
		if (hops[i] <= 1) {
			assert_int_equal(es_ip_dec_ttl(h, true), ES_CNT_TTL);
			assert_memory_equal(h, before, 40);
		} else {
			assert_int_equal(es_ip_dec_ttl(h, true), ES_CNT_NONE);
			assert_int_equal(h[7], hops[i] - 1);
			before[7] = h[7];
			assert_memory_equal(h, before, 40);
		}
	}
}

/* ---- routed frames ---- */

/* An IPv4 or IPv6 UDP packet of ip_len bytes at p. */
static void build_ip(uint8_t *p, uint16_t ip_len, int v6, uint8_t ttl)
{
	uint16_t hl = (uint16_t)(v6 ? 40 : 20);
	uint8_t *u = p + hl;
	memset(p, 0, hl);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((ip_len - 40) >> 8);
		p[5] = (uint8_t)(ip_len - 40);
		p[6] = 17;
		p[7] = ttl;
		ip(p + 8, "2001:db8:45::2");
		ip(p + 24, "2001:db8:99::1");
	} else {
		p[0] = 0x45;
		p[1] = 46 << 2;
		p[2] = (uint8_t)(ip_len >> 8);
		p[3] = (uint8_t)ip_len;
		p[4] = 0x12;
		p[5] = 0x34;
		p[6] = 0x40;
		p[8] = ttl;
		p[9] = 17;
		ip(p + 12, "10.45.0.2");
		ip(p + 16, "10.99.0.1");
		ip4_set_cksum(p);
	}
	u[0] = 0x13; u[1] = 0x88;   /* 5000 */
	u[2] = 0x00; u[3] = 0x35;   /* 53 */
	u[4] = (uint8_t)((ip_len - hl) >> 8);
	u[5] = (uint8_t)(ip_len - hl);
	u[6] = u[7] = 0;
	pattern(u + 8, (size_t)(ip_len - hl - 8), 5);
}

static void encap__route_ip_trims_padding_and_pushes_ethernet(void **state)
{
	(void)state;
	static const struct { uint16_t ip_len, pad; } cases[] = {
		{ 46, 14 }, { 28, 32 }, { 100, 0 }, { 1500, 0 }, { 60, 1 },
	};
	for (int v6 = 0; v6 <= 1; v6++) {
		const struct es_peer *hop = v6 ? &hop6 : &hop4;
		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			uint16_t il = cases[c].ip_len;
			uint8_t pkt[1600], want[1600];
			struct rte_mbuf *m;
			const uint8_t *f;
			if (v6 && il < 48)
				il = 48;
			build_ip(pkt, il, v6, 64);
			memset(pkt + il, 0xee, cases[c].pad);
			memcpy(want, pkt, il);
			m = mbuf_with(pkt, (uint16_t)(il + cases[c].pad));
			assert_int_equal(es_route_ip(m, il, v6, &port, hop), ES_CNT_NONE);
			assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + il);
			assert_int_equal(rte_pktmbuf_data_len(m), 14 + il);
			assert_int_equal(m->l2_len, 14);
			f = mdata(m);
			assert_memory_equal(f, hop_mac, 6);
			assert_memory_equal(f + 6, port_mac, 6);
			assert_int_equal(be16(f + 12), v6 ? 0x86dd : 0x0800);
			if (v6) {
				assert_int_equal(f[14 + 7], 63);
				want[7] = 63;
			} else {
				assert_int_equal(f[14 + 8], 63);
				assert_true(ip4_cksum_ok(f + 14));
				want[8] = 63;
				ip4_set_cksum(want);
			}
			assert_memory_equal(f + 14, want, il);
			rte_pktmbuf_free(m);
		}
	}
}

static void encap__route_ip_refuses_ip_length_above_mtu(void **state)
{
	(void)state;
	for (int v6 = 0; v6 <= 1; v6++) {
		uint8_t pkt[1600];
		struct rte_mbuf *m;
		build_ip(pkt, 1501, v6, 64);
		m = mbuf_with(pkt, 1501);
		assert_int_equal(es_route_ip(m, 1501, v6, &port, v6 ? &hop6 : &hop4),
				 ES_CNT_MTU);
		rte_pktmbuf_free(m);
		port.mtu = 1280;
		build_ip(pkt, 1281, v6, 64);
		m = mbuf_with(pkt, 1300);   /* padded: the IP length counts */
		assert_int_equal(es_route_ip(m, 1281, v6, &port, v6 ? &hop6 : &hop4),
				 ES_CNT_MTU);
		rte_pktmbuf_free(m);
		build_ip(pkt, 1280, v6, 64);
		m = mbuf_with(pkt, 1300);
		assert_int_equal(es_route_ip(m, 1280, v6, &port, v6 ? &hop6 : &hop4),
				 ES_CNT_NONE);
		assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 1280);
		rte_pktmbuf_free(m);
		port.mtu = 1500;
	}
}

static void encap__route_ip_drops_expiring_ttl(void **state)
{
	(void)state;
	for (int v6 = 0; v6 <= 1; v6++) {
		for (uint8_t ttl = 0; ttl <= 1; ttl++) {
			uint8_t pkt[100];
			struct rte_mbuf *m;
			build_ip(pkt, 100, v6, ttl);
			m = mbuf_with(pkt, 100);
			assert_int_equal(es_route_ip(m, 100, v6, &port,
						     v6 ? &hop6 : &hop4), ES_CNT_TTL);
			rte_pktmbuf_free(m);
		}
	}
}

/* RFC 1812 §5.2.1.2: the TTL is checked (step 7) before the packet meets
 * the link's MTU (step 9), so a packet too big whose TTL expires is a
 * TTL expiry (and gets its Time Exceeded), not an MTU drop. */
static void encap__route_ip_checks_the_ttl_before_the_mtu(void **state)
{
	(void)state;
	for (int v6 = 0; v6 <= 1; v6++) {
		uint8_t pkt[1600];
		struct rte_mbuf *m;
		build_ip(pkt, 1501, v6, 1);
		m = mbuf_with(pkt, 1501);
		assert_int_equal(es_route_ip(m, 1501, v6, &port, v6 ? &hop6 : &hop4),
				 ES_CNT_TTL);
		rte_pktmbuf_free(m);
	}
}

/* ---- decapsulate an uplink G-PDU, encapsulate it again ---- */

/* Ethernet / outer IP / UDP 2152 / GTP-U with a UL container (QFI 5) /
 * inner IP UDP. Returns the frame length; *inner_off and *inner_len
 * say where the inner packet lies. */
static uint16_t build_ul_frame(uint8_t *f, int outer_v6, int inner_v6,
			       uint16_t *inner_off, uint16_t *inner_len)
{
	uint16_t ohl = (uint16_t)(outer_v6 ? 40 : 20);
	uint16_t il = (uint16_t)(inner_v6 ? 40 + 8 + 33 : 20 + 8 + 33);
	uint16_t gl = (uint16_t)(16 + il), ul = (uint16_t)(8 + gl);
	uint8_t *h = f + 14, *u = h + ohl, *g = u + 8;
	memcpy(f, port_mac, 6);
	memcpy(f + 6, peer4_mac, 6);
	f[12] = outer_v6 ? 0x86 : 0x08;
	f[13] = outer_v6 ? 0xdd : 0x00;
	memset(h, 0, ohl);
	if (outer_v6) {
		h[0] = 0x60;
		h[4] = (uint8_t)(ul >> 8);
		h[5] = (uint8_t)ul;
		h[6] = 17;
		h[7] = 60;
		ip(h + 8, "2001:db8:2::7");
		ip(h + 24, "2001:db8:1::1");
	} else {
		h[0] = 0x45;
		h[2] = (uint8_t)((ul + 20) >> 8);
		h[3] = (uint8_t)(ul + 20);
		h[8] = 60;
		h[9] = 17;
		ip(h + 12, "198.51.100.7");
		ip(h + 16, "192.0.2.1");
		ip4_set_cksum(h);
	}
	u[0] = 0x08; u[1] = 0x68;   /* 2152 */
	u[2] = 0x08; u[3] = 0x68;
	u[4] = (uint8_t)(ul >> 8);
	u[5] = (uint8_t)ul;
	u[6] = u[7] = 0;
	g[0] = 0x34;
	g[1] = 0xff;
	g[2] = (uint8_t)((gl - 8) >> 8);
	g[3] = (uint8_t)(gl - 8);
	g[4] = 0x0a; g[5] = 0x0b; g[6] = 0x0c; g[7] = 0x0d;
	g[8] = g[9] = g[10] = 0;
	g[11] = 0x85;
	g[12] = 1;
	g[13] = ES_PSC_UL << 4;
	g[14] = 5;
	g[15] = 0;
	build_ip(g + 16, il, inner_v6, 64);
	if (outer_v6) {
		uint16_t c = udp6_cksum_fresh(h, u, ul);
		u[6] = (uint8_t)(c >> 8);
		u[7] = (uint8_t)c;
	}
	*inner_off = (uint16_t)(14 + ohl + 8 + 16);
	*inner_len = il;
	return (uint16_t)(14 + ohl + ul);
}

static void encap__decap_then_encap_keeps_inner_bytes(void **state)
{
	(void)state;
	for (int ov6 = 0; ov6 <= 1; ov6++) {
		for (int iv6 = 0; iv6 <= 1; iv6++) {
			uint8_t frame[256], inner[256];
			uint16_t ioff, ilen, flen;
			struct es_outer o;
			struct es_gtpu g;
			struct es_inner in;
			struct rte_mbuf *m;
			const uint8_t *f;
			uint32_t adj;

			flen = build_ul_frame(frame, ov6, iv6, &ioff, &ilen);
			memcpy(inner, frame + ioff, ilen);
			m = mbuf_with(frame, flen);
			f = mdata(m);

			/* decapsulate */
			assert_int_equal(es_parse_outer(f, flen, true, &o), ES_CNT_NONE);
			assert_int_equal(o.kind, ES_K_GTPU);
			assert_int_equal(o.v6, ov6);
			assert_int_equal(es_parse_gtpu(f + o.l4_off + 8,
						       (uint32_t)(o.ip_end - o.l4_off - 8), &g),
					 ES_CNT_NONE);
			assert_int_equal(g.teid, 0x0a0b0c0d);
			assert_int_equal(g.has_psc, 1);
			assert_int_equal(g.psc_type, ES_PSC_UL);
			assert_int_equal(g.qfi, 5);
			adj = (uint32_t)(o.l4_off + 8 + g.hdr_len);
			assert_int_equal(adj, ioff);
			assert_int_equal(g.payload_len, ilen);
			assert_int_equal(es_parse_inner(f + adj, g.payload_len, true, &in),
					 ES_CNT_NONE);
			assert_int_equal(in.v6, iv6);
			assert_int_equal(in.proto, 17);
			assert_int_equal(in.sport, 5000);
			assert_int_equal(in.dport, 53);
			assert_non_null(rte_pktmbuf_adj(m, (uint16_t)adj));
			assert_int_equal(rte_pktmbuf_pkt_len(m), ilen);
			assert_memory_equal(mdata(m), inner, ilen);

			/* encapsulate toward the peer */
			assert_int_equal(es_push_gtpu(m, ES_GTP_GPDU, 0x01020304, true,
						      g.qfi), ES_CNT_NONE);
			assert_int_equal(es_push_outer(m, &port, NULL,
						       ov6 ? &peer6 : &peer4, 2152, 2152),
					 ES_CNT_NONE);

			/* and parse again */
			f = mdata(m);
			flen = (uint16_t)rte_pktmbuf_pkt_len(m);
			assert_int_equal(es_parse_outer(f, flen, true, &o), ES_CNT_NONE);
			assert_int_equal(o.kind, ES_K_GTPU);
			assert_int_equal(o.v6, ov6);
			assert_int_equal(o.ip_end, flen);
			assert_int_equal(es_parse_gtpu(f + o.l4_off + 8,
						       (uint32_t)(o.ip_end - o.l4_off - 8), &g),
					 ES_CNT_NONE);
			assert_int_equal(g.teid, 0x01020304);
			assert_int_equal(g.has_psc, 1);
			assert_int_equal(g.psc_type, ES_PSC_DL);
			assert_int_equal(g.qfi, 5);
			assert_int_equal(g.payload_len, ilen);
			adj = (uint32_t)(o.l4_off + 8 + g.hdr_len);
			assert_memory_equal(f + adj, inner, ilen);
			assert_int_equal(es_parse_inner(f + adj, g.payload_len, true, &in),
					 ES_CNT_NONE);
			if (ov6) {
				const uint8_t *h = f + 14, *u = f + o.l4_off;
				assert_int_equal(be16(u + 6),
						 udp6_cksum_fresh(h, u, be16(u + 4)));
			} else {
				assert_true(ip4_cksum_ok(f + 14));
			}
			rte_pktmbuf_free(m);
		}
	}
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-shconf",
			"--no-pci", "--log-level=error", "-l", "0", NULL };
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, reset_port)
		T(encap__push_gtpu_writes_dl_container),
		T(encap__push_gtpu_keeps_qfi_to_six_bits),
		T(encap__push_gtpu_without_psc_writes_8_byte_header),
		T(encap__push_outer_ipv4_builds_valid_headers),
		T(encap__push_outer_ipv4_uses_explicit_source_and_ports),
		T(encap__push_outer_ipv6_checksums_udp),
		T(encap__push_tpl_gives_the_generic_bytes),
		T(encap__push_outer_refuses_ip_length_above_mtu),
		T(encap__push_without_headroom_fails),
		T(encap__push_gtpu_tpl_gives_the_two_steps_bytes),
		T(encap__dec_ttl_keeps_ipv4_checksum_valid),
		T(encap__dec_ttl_checksum_matches_full_recompute_at_zero),
		T(encap__dec_ttl_refuses_ttl_1_and_0),
		T(encap__dec_hop_limit_on_ipv6),
		T(encap__route_ip_trims_padding_and_pushes_ethernet),
		T(encap__route_ip_refuses_ip_length_above_mtu),
		T(encap__route_ip_drops_expiring_ttl),
		T(encap__route_ip_checks_the_ttl_before_the_mtu),
		T(encap__decap_then_encap_keeps_inner_bytes),
#undef T
	};
	(void)argc;
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("test_encap", 1023, 0, 0,
				       2048 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	init_port_and_peers();
	return cmocka_run_group_tests_name("encap", tests, NULL, NULL);
}
