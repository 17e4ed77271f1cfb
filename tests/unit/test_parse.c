/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pure packet parsers (dataplane/parse.c): outer L2/L3/UDP, GTP-U v1
 * with its extension header chain (TS 29.281 §5), the PDU Session
 * Container (TS 38.415 §5.5.2) and the inner IP packet with its ports.
 *
 * Every packet is assembled byte by byte here (with an IPv4 header
 * checksum computed by an implementation independent of parse.c), and
 * every parser call runs on a heap copy of exactly the bytes handed in,
 * so that AddressSanitizer sees any read at or past buf + len.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "parse.h"
#include "counters.h"

#define T(name) static void name(void **state_ __attribute__((unused)))

#define TEID      0x12345678u
#define BUFSZ     2048

/* ---- counters in failure messages ---- */

static const char *cnt_name(int c)
{
	if (c >= 0 && c < ES_CNT_MAX)
		return es_cnt_desc[c].name;
	return "?";
}

#define assert_cnt(expr, want) do {                                       \
	int got_ = (expr), want_ = (want);                                \
	if (got_ != want_)                                                \
		fail_msg("%s: got %d (%s), want %d (%s)", #expr, got_,    \
			 cnt_name(got_), want_, cnt_name(want_));         \
} while (0)

/* ---- byte helpers, independent of parse.h ---- */

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* memcpy that takes a NULL source with n == 0 */
static void cpy(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n)
		memcpy(dst, src, n);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

/* RFC 1071 checksum, written plainly: a 64-bit sum of big-endian 16-bit
 * words, folded at the end. */
static uint16_t ref_cksum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void fix_ip4_cksum(uint8_t *ip)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	ip[10] = ip[11] = 0;
	wr16(ip + 10, ref_cksum(ip, hl));
}

/* ---- header builders; each returns the bytes written ---- */

static const uint8_t OUT6_SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				      0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t OUT6_DST[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				      0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t IN6_SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xaa, 0, 0, 0x01,
				     0, 0, 0, 0, 0, 0, 0, 0x07 };
static const uint8_t IN6_DST[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xbb, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 0x09 };
#define OUT4_SRC 0xc0000201u    /* 192.0.2.1 */
#define OUT4_DST 0xc0000202u    /* 192.0.2.2 */
#define IN4_SRC  0x0a2d0007u    /* 10.45.0.7 */
#define IN4_DST  0xc6336409u    /* 198.51.100.9 */

static size_t put_ip4(uint8_t *p, uint8_t ihl, uint8_t tos, uint16_t frag,
		      uint8_t proto, uint32_t src, uint32_t dst, size_t payload)
{
	size_t hl = (size_t)ihl * 4;
	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | ihl);
	p[1] = tos;
	wr16(p + 2, (uint32_t)(hl + payload));
	wr16(p + 4, 0x1c46);
	wr16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	wr32(p + 12, src);
	wr32(p + 16, dst);
	for (size_t i = 20; i < hl; i++)
		p[i] = 1;                  /* NOP options */
	fix_ip4_cksum(p);
	return hl;
}

static size_t put_ip6(uint8_t *p, uint8_t tc, uint8_t nh, const uint8_t *src,
		      const uint8_t *dst, size_t payload)
{
	memset(p, 0, 40);
	p[0] = (uint8_t)(0x60 | (tc >> 4));
	p[1] = (uint8_t)(tc << 4);
	p[3] = 0x2a;                       /* flow label */
	wr16(p + 4, (uint32_t)payload);
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	return 40;
}

/* An L4 header (UDP, TCP, SCTP; ICMP/ICMPv6 with type = sport and code =
 * dport) followed by npay payload bytes. */
static size_t put_l4(uint8_t *p, uint8_t proto, uint16_t sport, uint16_t dport,
		     size_t npay)
{
	size_t h;
	switch (proto) {
	case 17:
		h = 8;
		memset(p, 0, h);
		wr16(p, sport);
		wr16(p + 2, dport);
		wr16(p + 4, (uint32_t)(8 + npay));
		break;
	case 6:
		h = 20;
		memset(p, 0, h);
		wr16(p, sport);
		wr16(p + 2, dport);
		wr32(p + 4, 0x01020304);
		p[12] = 0x50;
		p[13] = 0x18;
		wr16(p + 14, 0xffff);
		break;
	case 132:
		h = 12;
		memset(p, 0, h);
		wr16(p, sport);
		wr16(p + 2, dport);
		wr32(p + 4, 0xdeadbeef);
		break;
	case 1:
	case 58:
		h = 8;
		memset(p, 0, h);
		p[0] = (uint8_t)sport;
		p[1] = (uint8_t)dport;
		wr16(p + 4, 0x0042);
		wr16(p + 6, 0x0001);
		break;
	default:
		h = 0;
		break;
	}
	for (size_t i = 0; i < npay; i++)
		p[h + i] = (uint8_t)(i * 7 + 1);
	return h + npay;
}

struct in_spec {
	bool v6;
	uint8_t dscp;
	uint8_t proto;
	uint16_t sport, dport;
	uint16_t frag4;          /* IPv4 flags + fragment offset field */
	bool no_l4;              /* payload only (a non-first fragment) */
	const uint8_t *ext6;     /* IPv6 extension headers, chained by caller */
	size_t ext6_len;
	uint8_t nh6;             /* type of the first one */
	size_t npay;
};

static size_t put_inner(uint8_t *p, const struct in_spec *s)
{
	uint8_t l4[1600];
	size_t l4len = s->no_l4 ? put_l4(l4, 255, 0, 0, s->npay)
				: put_l4(l4, s->proto, s->sport, s->dport, s->npay);
	size_t h;
	if (s->v6) {
		h = put_ip6(p, (uint8_t)(s->dscp << 2),
			    s->ext6_len ? s->nh6 : s->proto, IN6_SRC, IN6_DST,
			    s->ext6_len + l4len);
		cpy(p + h, s->ext6, s->ext6_len);
		h += s->ext6_len;
	} else {
		h = put_ip4(p, 5, (uint8_t)(s->dscp << 2), s->frag4, s->proto,
			    IN4_SRC, IN4_DST, l4len);
	}
	memcpy(p + h, l4, l4len);
	return h + l4len;
}

struct gtp_spec {
	uint8_t flags;
	uint8_t type;
	uint32_t teid;
	uint16_t seq;
	uint8_t npdu;
	uint8_t next;            /* next extension header type octet */
	const uint8_t *ext;      /* the extension headers, chained by caller */
	size_t ext_len;
};

/* GTP-U header (length field = everything after the 8 mandatory octets),
 * the optional octets when E, S or PN is set, ext, then the T-PDU. */
static size_t put_gtpu(uint8_t *p, const struct gtp_spec *s,
		       const uint8_t *tpdu, size_t n)
{
	size_t h = 8;
	p[0] = s->flags;
	p[1] = s->type;
	wr32(p + 4, s->teid);
	if (s->flags & 0x07) {
		wr16(p + 8, s->seq);
		p[10] = s->npdu;
		p[11] = s->next;
		h = 12;
		cpy(p + h, s->ext, s->ext_len);
		h += s->ext_len;
	}
	cpy(p + h, tpdu, n);
	wr16(p + 2, (uint32_t)(h - 8 + n));
	return h + n;
}

struct out_spec {
	int n_vlan;
	uint16_t tpid[3];        /* 0: 0x8100 */
	bool v6;
	uint8_t ihl;             /* 0: 5 */
	uint16_t frag4;
	const uint8_t *ext6;
	size_t ext6_len;
	uint8_t nh6;
	uint8_t proto;           /* 0: UDP */
	uint16_t sport, dport;   /* 0: 2152 */
	size_t pad;              /* Ethernet padding after the IP packet */
	uint16_t ethertype;      /* 0: from v6 */
};

struct pkt {
	uint8_t b[BUFSZ];
	uint32_t len;
	uint32_t ip;             /* outer IP header */
	uint32_t l4;             /* outer UDP (or other L4) header */
	uint32_t gtp;            /* UDP payload: GTP-U header */
	uint32_t inner;          /* T-PDU */
};

static void put_frame(struct pkt *k, const struct out_spec *s,
		      const uint8_t *pay, size_t n)
{
	uint8_t *p = k->b;
	uint8_t proto = s->proto ? s->proto : 17;
	size_t off = 12, l4len = proto == 17 ? 8 + n : n;

	memset(k, 0, sizeof(*k));
	memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	for (int i = 0; i < s->n_vlan; i++) {
		wr16(p + off, s->tpid[i] ? s->tpid[i] : 0x8100);
		wr16(p + off + 2, (uint32_t)(100 + i));
		off += 4;
	}
	wr16(p + off, s->ethertype ? s->ethertype : s->v6 ? 0x86dd : 0x0800);
	off += 2;
	k->ip = (uint32_t)off;
	if (s->v6) {
		off += put_ip6(p + off, 0, s->ext6_len ? s->nh6 : proto,
			       OUT6_SRC, OUT6_DST, s->ext6_len + l4len);
		cpy(p + off, s->ext6, s->ext6_len);
		off += s->ext6_len;
	} else {
		off += put_ip4(p + off, s->ihl ? s->ihl : 5, 0, s->frag4, proto,
			       OUT4_SRC, OUT4_DST, l4len);
	}
	k->l4 = (uint32_t)off;
	if (proto == 17) {
		wr16(p + off, s->sport ? s->sport : ES_GTPU_PORT);
		wr16(p + off + 2, s->dport ? s->dport : ES_GTPU_PORT);
		wr16(p + off + 4, (uint32_t)(8 + n));
		wr16(p + off + 6, 0);
		off += 8;
	}
	k->gtp = (uint32_t)off;
	cpy(p + off, pay, n);
	off += n;
	memset(p + off, 0, s->pad);
	off += s->pad;
	k->len = (uint32_t)off;
}

static void mk_gpdu(struct pkt *k, const struct out_spec *os,
		    const struct gtp_spec *gs, const struct in_spec *is)
{
	uint8_t inner[1600], gtp[1800];
	size_t il = put_inner(inner, is);
	size_t gl = put_gtpu(gtp, gs, inner, il);
	put_frame(k, os, gtp, gl);
	k->inner = k->gtp + (uint32_t)(gl - il);
}

/* Extension headers (length octet, content, next type octet). */
static const uint8_t PSC_UL_QFI9[] = { 0x01, 0x10, 0x09, 0x00 };
static const uint8_t PSC_DL_QFI5_RQI[] = { 0x01, 0x00, 0x40 | 0x05, 0x00 };

#define GPDU   { .flags = 0x30, .type = ES_GTP_GPDU, .teid = TEID }
#define IN4UDP { .proto = 17, .dscp = 46, .sport = 40000, .dport = 443, \
		 .npay = 32 }
#define IN6TCP { .v6 = true, .proto = 6, .dscp = 10, .sport = 51000, \
		 .dport = 8080, .npay = 20 }

/* ---- parser calls on exact heap copies ---- */

static uint8_t *dup_exact(const uint8_t *b, uint32_t n)
{
	uint8_t *c = calloc(1, n);   /* n == 0: a zero-size block */
	if (n) {
		assert_non_null(c);
		memcpy(c, b, n);
	}
	return c;
}

static int outer_x(const uint8_t *b, uint32_t n, bool verify, struct es_outer *o)
{
	uint8_t *c = dup_exact(b, n);
	int rc = es_parse_outer(c, n, verify, o);
	free(c);
	return rc;
}

static int gtpu_x(const uint8_t *b, uint32_t n, struct es_gtpu *g)
{
	uint8_t *c = dup_exact(b, n);
	int rc = es_parse_gtpu(c, n, g);
	free(c);
	return rc;
}

static int inner_x(const uint8_t *b, uint32_t n, bool exact, struct es_inner *in)
{
	uint8_t *c = dup_exact(b, n);
	int rc = es_parse_inner(c, n, exact, in);
	free(c);
	return rc;
}

/* The GTP-U bytes of a built packet (UDP payload). */
static int gtpu_of(const struct pkt *k, struct es_gtpu *g)
{
	return gtpu_x(k->b + k->gtp, k->len - k->gtp, g);
}

/* The T-PDU of a built packet. */
static int inner_of(const struct pkt *k, bool exact, struct es_inner *in)
{
	return inner_x(k->b + k->inner, k->len - k->inner, exact, in);
}

/* Outer, GTP-U and inner in a row, as the worker does; ES_CNT_MAX when the
 * outer kind is not GTP-U. */
static int parse_all(const uint8_t *b, uint32_t len, bool verify,
		     struct es_outer *o, struct es_gtpu *g, struct es_inner *in)
{
	uint32_t goff;
	int rc = outer_x(b, len, verify, o);
	if (rc)
		return rc;
	if (o->kind != ES_K_GTPU)
		return ES_CNT_MAX;
	assert_true(o->l4_off + 8u <= o->ip_end);
	assert_true(o->ip_end <= len);
	goff = o->l4_off + 8u;
	rc = gtpu_x(b + goff, o->ip_end - goff, g);
	if (rc)
		return rc;
	assert_int_equal(g->hdr_len + g->payload_len, o->ip_end - goff);
	return inner_x(b + goff + g->hdr_len, g->payload_len, true, in);
}

static void assert_inner4_default(const struct es_inner *in)
{
	assert_int_equal(in->v6, 0);
	assert_int_equal(in->proto, 17);
	assert_int_equal(in->dscp, 46);
	assert_int_equal(in->is_frag, 0);
	assert_int_equal(in->l3_len, 20);
	assert_int_equal(in->ip_len, 20 + 8 + 32);
	assert_int_equal(in->sport, 40000);
	assert_int_equal(in->dport, 443);
	assert_int_equal(rd32((const uint8_t *)&in->a.v4.src_be), IN4_SRC);
	assert_int_equal(rd32((const uint8_t *)&in->a.v4.dst_be), IN4_DST);
}

/* ================= valid packets ================= */

T(parse__plain_gpdu_ipv4_in_ipv4_gives_teid_ports_addresses_and_dscp)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct out_spec os = { .sport = 40123 };
	struct es_outer o;
	struct es_gtpu g;
	struct es_inner in;

	mk_gpdu(&k, &os, &gs, &is);
	assert_cnt(parse_all(k.b, k.len, true, &o, &g, &in), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_GTPU);
	assert_int_equal(o.v6, 0);
	assert_int_equal(o.vlans, 0);
	assert_int_equal(o.l2_len, 14);
	assert_int_equal(o.l3_len, 20);
	assert_int_equal(o.l4_off, 34);
	assert_int_equal(o.ip_end, k.len);
	assert_int_equal(o.l4_proto, 17);
	assert_int_equal(o.udp_sport, 40123);
	assert_int_equal(o.udp_dport, ES_GTPU_PORT);

	assert_int_equal(g.flags, 0x30);
	assert_int_equal(g.type, ES_GTP_GPDU);
	assert_int_equal(g.teid, TEID);
	assert_int_equal(g.hdr_len, 8);
	assert_int_equal(g.payload_len, 60);
	assert_int_equal(g.has_psc, 0);
	assert_int_equal(g.qfi, 0);
	assert_int_equal(g.n_ext, 0);

	assert_inner4_default(&in);
}

T(parse_gtpu__s_flag_only_gives_12_byte_header_and_sequence)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct es_gtpu g;
	struct es_inner in;

	gs.flags = 0x32;
	gs.seq = 0xbeef;
	mk_gpdu(&k, &(struct out_spec){ 0 }, &gs, &is);
	assert_cnt(gtpu_of(&k, &g), ES_CNT_NONE);
	assert_int_equal(g.hdr_len, 12);
	assert_int_equal(g.seq, 0xbeef);
	assert_int_equal(g.teid, TEID);
	assert_int_equal(g.payload_len, 60);
	assert_int_equal(g.n_ext, 0);
	assert_cnt(inner_x(k.b + k.gtp + g.hdr_len, g.payload_len, true, &in),
		   ES_CNT_NONE);
	assert_inner4_default(&in);
}

T(parse_gtpu__pn_flag_only_gives_12_byte_header)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct es_gtpu g;

	gs.flags = 0x31;
	mk_gpdu(&k, &(struct out_spec){ 0 }, &gs, &is);
	assert_cnt(gtpu_of(&k, &g), ES_CNT_NONE);
	assert_int_equal(g.hdr_len, 12);
	assert_int_equal(g.payload_len, 60);
}

T(parse_gtpu__ignores_next_type_octet_when_e_flag_is_clear)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct es_gtpu g;

	gs.flags = 0x32;
	gs.next = 0x8f;           /* would be "comprehension required" */
	mk_gpdu(&k, &(struct out_spec){ 0 }, &gs, &is);
	assert_cnt(gtpu_of(&k, &g), ES_CNT_NONE);
	assert_int_equal(g.hdr_len, 12);
	assert_int_equal(g.n_ext, 0);
}

T(parse_gtpu__reads_ul_psc_type_1_qfi_9)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct es_outer o;
	struct es_gtpu g;
	struct es_inner in;

	gs.flags = 0x34;
	gs.next = ES_GTP_EXT_PSC;
	gs.ext = PSC_UL_QFI9;
	gs.ext_len = sizeof(PSC_UL_QFI9);
	mk_gpdu(&k, &(struct out_spec){ 0 }, &gs, &is);
	assert_cnt(parse_all(k.b, k.len, true, &o, &g, &in), ES_CNT_NONE);
	assert_int_equal(g.hdr_len, 16);
	assert_int_equal(g.payload_len, 60);
	assert_int_equal(g.has_psc, 1);
	assert_int_equal(g.psc_type, ES_PSC_UL);
	assert_int_equal(g.qfi, 9);
	assert_int_equal(g.n_ext, 1);
	assert_int_equal(g.teid, TEID);
	assert_inner4_default(&in);
}

T(parse_gtpu__reads_dl_psc_type_0_qfi_5)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct es_gtpu g;

	gs.flags = 0x34;
	gs.next = ES_GTP_EXT_PSC;
	gs.ext = PSC_DL_QFI5_RQI;            /* RQI bit set next to the QFI */
	gs.ext_len = sizeof(PSC_DL_QFI5_RQI);
	mk_gpdu(&k, &(struct out_spec){ 0 }, &gs, &is);
	assert_cnt(gtpu_of(&k, &g), ES_CNT_NONE);
	assert_int_equal(g.has_psc, 1);
	assert_int_equal(g.psc_type, ES_PSC_DL);
	assert_int_equal(g.qfi, 5);
	assert_int_equal(g.hdr_len, 16);
}

T(parse_gtpu__reads_psc_chained_after_udp_port_extension)
{
	static const uint8_t ext[] = {
		0x01, 0x08, 0x68, ES_GTP_EXT_PSC,   /* UDP port 2152 */
		0x02, 0x10, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, /* PSC, 8 B */
	};
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct es_gtpu g;
	struct es_inner in;

	gs.flags = 0x34;
	gs.next = ES_GTP_EXT_UDP_PORT;
	gs.ext = ext;
	gs.ext_len = sizeof(ext);
	mk_gpdu(&k, &(struct out_spec){ 0 }, &gs, &is);
	assert_cnt(gtpu_of(&k, &g), ES_CNT_NONE);
	assert_int_equal(g.n_ext, 2);
	assert_int_equal(g.hdr_len, 12 + 4 + 8);
	assert_int_equal(g.has_psc, 1);
	assert_int_equal(g.psc_type, ES_PSC_UL);
	assert_int_equal(g.qfi, 9);
	assert_int_equal(g.payload_len, 60);
	assert_cnt(inner_of(&k, true, &in), ES_CNT_NONE);
}

T(parse_gtpu__skips_unknown_extension_types_with_top_bits_00_and_01)
{
	static const uint8_t types[] = { 0x10, 0x45, 0x3f, 0x7e };
	for (size_t i = 0; i < sizeof(types); i++) {
		/* unknown type, 8 bytes, then the PSC */
		const uint8_t ext[] = {
			0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, ES_GTP_EXT_PSC,
			0x01, 0x10, 0x09, 0x00,
		};
		struct pkt k;
		struct gtp_spec gs = GPDU;
		struct in_spec is = IN4UDP;
		struct es_gtpu g;

		gs.flags = 0x34;
		gs.next = types[i];
		gs.ext = ext;
		gs.ext_len = sizeof(ext);
		mk_gpdu(&k, &(struct out_spec){ 0 }, &gs, &is);
		assert_cnt(gtpu_of(&k, &g), ES_CNT_NONE);
		assert_int_equal(g.n_ext, 2);
		assert_int_equal(g.hdr_len, 24);
		assert_int_equal(g.qfi, 9);
	}
}

T(parse_gtpu__skips_known_ran_container_of_any_length)
{
	static const uint8_t ext[] = {
		0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x00,  /* 0x81, 12 B */
	};
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct es_gtpu g;

	gs.flags = 0x34;
	gs.next = ES_GTP_EXT_RAN;
	gs.ext = ext;
	gs.ext_len = sizeof(ext);
	mk_gpdu(&k, &(struct out_spec){ 0 }, &gs, &is);
	assert_cnt(gtpu_of(&k, &g), ES_CNT_NONE);
	assert_int_equal(g.n_ext, 1);
	assert_int_equal(g.hdr_len, 24);
	assert_int_equal(g.has_psc, 0);
}

T(parse_gtpu__accepts_echo_request_without_payload)
{
	uint8_t b[16];
	struct gtp_spec gs = { .flags = 0x32, .type = ES_GTP_ECHO_REQ, .seq = 7 };
	struct es_gtpu g;
	size_t n = put_gtpu(b, &gs, NULL, 0);

	assert_int_equal(n, 12);
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_NONE);
	assert_int_equal(g.type, ES_GTP_ECHO_REQ);
	assert_int_equal(g.teid, 0);
	assert_int_equal(g.seq, 7);
	assert_int_equal(g.hdr_len, 12);
	assert_int_equal(g.payload_len, 0);
}

T(parse__ipv6_outer_with_ipv6_inner_tcp)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN6TCP;
	struct out_spec os = { .v6 = true };
	struct es_outer o;
	struct es_gtpu g;
	struct es_inner in;

	gs.flags = 0x34;
	gs.next = ES_GTP_EXT_PSC;
	gs.ext = PSC_UL_QFI9;
	gs.ext_len = sizeof(PSC_UL_QFI9);
	mk_gpdu(&k, &os, &gs, &is);
	assert_cnt(parse_all(k.b, k.len, true, &o, &g, &in), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_GTPU);
	assert_int_equal(o.v6, 1);
	assert_int_equal(o.l2_len, 14);
	assert_int_equal(o.l3_len, 40);
	assert_int_equal(o.l4_off, 54);
	assert_int_equal(o.ip_end, k.len);
	assert_int_equal(o.l4_proto, 17);
	assert_int_equal(g.teid, TEID);
	assert_int_equal(g.qfi, 9);
	assert_int_equal(g.payload_len, 40 + 20 + 20);
	assert_int_equal(in.v6, 1);
	assert_int_equal(in.proto, 6);
	assert_int_equal(in.dscp, 10);
	assert_int_equal(in.l3_len, 40);
	assert_int_equal(in.ip_len, 80);
	assert_int_equal(in.sport, 51000);
	assert_int_equal(in.dport, 8080);
	assert_int_equal(in.is_frag, 0);
	assert_memory_equal(in.a.v6a.src, IN6_SRC, 16);
	assert_memory_equal(in.a.v6a.dst, IN6_DST, 16);
}

T(parse_outer__accepts_one_vlan_tag)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct out_spec os = { .n_vlan = 1 };
	struct es_outer o;
	struct es_gtpu g;
	struct es_inner in;

	mk_gpdu(&k, &os, &gs, &is);
	assert_cnt(parse_all(k.b, k.len, true, &o, &g, &in), ES_CNT_NONE);
	assert_int_equal(o.vlans, 1);
	assert_int_equal(o.l2_len, 18);
	assert_int_equal(o.l4_off, 38);
	assert_int_equal(o.kind, ES_K_GTPU);
	assert_int_equal(g.teid, TEID);
	assert_inner4_default(&in);
}

T(parse_outer__accepts_two_vlan_tags_88a8_then_8100)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN6TCP;
	struct out_spec os = { .n_vlan = 2, .tpid = { 0x88a8, 0x8100 },
			       .v6 = true };
	struct es_outer o;
	struct es_gtpu g;
	struct es_inner in;

	mk_gpdu(&k, &os, &gs, &is);
	assert_cnt(parse_all(k.b, k.len, true, &o, &g, &in), ES_CNT_NONE);
	assert_int_equal(o.vlans, 2);
	assert_int_equal(o.l2_len, 22);
	assert_int_equal(o.v6, 1);
	assert_int_equal(o.l4_off, 22 + 40);
	assert_int_equal(in.sport, 51000);
}

T(parse_outer__accepts_ipv4_options_ihl_6)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct out_spec os = { .ihl = 6 };
	struct es_outer o;
	struct es_gtpu g;
	struct es_inner in;

	mk_gpdu(&k, &os, &gs, &is);
	assert_cnt(parse_all(k.b, k.len, true, &o, &g, &in), ES_CNT_NONE);
	assert_int_equal(o.l3_len, 24);
	assert_int_equal(o.l4_off, 14 + 24);
	assert_int_equal(o.ip_end, k.len);
	assert_int_equal(o.kind, ES_K_GTPU);
	assert_inner4_default(&in);
}

T(parse_outer__ipv4_more_fragments_gives_frag)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct out_spec os = { .frag4 = 0x2000 };     /* MF, offset 0 */
	struct es_outer o;

	mk_gpdu(&k, &os, &gs, &is);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_FRAG);
	assert_int_equal(o.l4_proto, 17);
	assert_int_equal(o.l3_len, 20);
	assert_int_equal(o.ip_end, k.len);
}

T(parse_outer__ipv4_nonzero_fragment_offset_gives_frag)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct out_spec os = { .frag4 = 0x00b9 };     /* offset 1480, last */
	struct es_outer o;

	mk_gpdu(&k, &os, &gs, &is);
	/* the "UDP length" is not checked on a non-first fragment */
	wr16(k.b + k.l4 + 4, 0x1234);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_FRAG);
}

T(parse_outer__ipv4_df_alone_is_not_a_fragment)
{
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct out_spec os = { .frag4 = 0x4000 };
	struct es_outer o;

	mk_gpdu(&k, &os, &gs, &is);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_GTPU);
}

T(parse_outer__ipv6_fragment_header_gives_frag)
{
	static const uint8_t frag[] = { 17, 0, 0x00, 0x01, 0, 0, 0x12, 0x34 };
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct out_spec os = { .v6 = true, .ext6 = frag, .ext6_len = 8,
			       .nh6 = 44 };            /* offset 0, M = 1 */
	struct es_outer o;

	mk_gpdu(&k, &os, &gs, &is);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_FRAG);
	assert_int_equal(o.v6, 1);
	assert_int_equal(o.l3_len, 48);
	assert_int_equal(o.l4_off, 14 + 48);
	assert_int_equal(o.l4_proto, 17);
}

T(parse_outer__ipv6_atomic_fragment_header_is_not_a_fragment)
{
	static const uint8_t frag[] = { 17, 0, 0x00, 0x00, 0, 0, 0x12, 0x34 };
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct out_spec os = { .v6 = true, .ext6 = frag, .ext6_len = 8,
			       .nh6 = 44 };
	struct es_outer o;

	mk_gpdu(&k, &os, &gs, &is);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_GTPU);
	assert_int_equal(o.l4_off, 14 + 48);
}

T(parse_outer__ipv6_walks_hop_by_hop_and_destination_options)
{
	static const uint8_t ext[] = {
		60, 0, 1, 4, 0, 0, 0, 0,                        /* HBH, 8 B */
		17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* DST, 16 B */
	};
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	struct out_spec os = { .v6 = true, .ext6 = ext, .ext6_len = sizeof(ext),
			       .nh6 = 0 };
	struct es_outer o;
	struct es_gtpu g;
	struct es_inner in;

	mk_gpdu(&k, &os, &gs, &is);
	assert_cnt(parse_all(k.b, k.len, true, &o, &g, &in), ES_CNT_NONE);
	assert_int_equal(o.l3_len, 40 + 24);
	assert_int_equal(o.l4_proto, 17);
	assert_int_equal(o.kind, ES_K_GTPU);
	assert_inner4_default(&in);
}

T(parse_outer__arp_gives_arp)
{
	uint8_t arp[28] = { 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01 };
	struct pkt k;
	struct out_spec os = { 0 };
	struct es_outer o;

	/* Build an IPv4 frame, then make the frame ARP by its EtherType. */
	put_frame(&k, &os, arp, 0);
	memcpy(k.b + 14, arp, sizeof(arp));
	wr16(k.b + 12, 0x0806);
	k.len = 14 + sizeof(arp);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_ARP);
	assert_int_equal(o.l2_len, 14);

	/* behind a VLAN tag too */
	memmove(k.b + 16, k.b + 12, 2 + sizeof(arp));
	wr16(k.b + 12, 0x8100);
	wr16(k.b + 14, 7);
	k.len += 4;
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_ARP);
	assert_int_equal(o.vlans, 1);
	assert_int_equal(o.l2_len, 18);
}

T(parse_outer__udp_to_another_port_gives_ip)
{
	uint8_t pay[20] = { 0 };
	struct pkt k;
	struct out_spec os = { .sport = 2152, .dport = 53 };
	struct es_outer o;

	put_frame(&k, &os, pay, sizeof(pay));
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_IP);
	assert_int_equal(o.l4_proto, 17);
	assert_int_equal(o.udp_sport, 2152);
	assert_int_equal(o.udp_dport, 53);
}

T(parse_outer__non_udp_ip_gives_ip)
{
	uint8_t icmp[16];
	struct pkt k;
	struct out_spec os = { .proto = 1 };
	struct es_outer o;

	put_l4(icmp, 1, 8, 0, 8);
	put_frame(&k, &os, icmp, sizeof(icmp));
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_IP);
	assert_int_equal(o.l4_proto, 1);
	assert_int_equal(o.l4_off, 34);
	assert_int_equal(o.udp_sport, 0);
	assert_int_equal(o.udp_dport, 0);
}

T(parse_outer__accepts_ethernet_padding_after_ip_total_length)
{
	uint8_t pay[2] = { 0 };
	struct pkt k;
	struct out_spec os = { .dport = 9, .pad = 16 };
	struct es_outer o;

	put_frame(&k, &os, pay, sizeof(pay));
	assert_int_equal(k.len, 60);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.ip_end, 44);
	assert_int_equal(o.kind, ES_K_IP);
}

T(parse_inner__ipv6_hop_by_hop_then_udp_gives_ports)
{
	static const uint8_t hbh[] = { 17, 0, 1, 4, 0, 0, 0, 0 };
	uint8_t b[256];
	struct in_spec is = { .v6 = true, .proto = 17, .sport = 5000,
			      .dport = 6000, .npay = 10, .ext6 = hbh,
			      .ext6_len = sizeof(hbh), .nh6 = 0 };
	struct es_inner in;
	size_t n = put_inner(b, &is);

	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_NONE);
	assert_int_equal(in.v6, 1);
	assert_int_equal(in.proto, 17);
	assert_int_equal(in.l3_len, 48);
	assert_int_equal(in.ip_len, n);
	assert_int_equal(in.sport, 5000);
	assert_int_equal(in.dport, 6000);
}

T(parse_inner__ipv4_non_first_fragment_has_ports_0)
{
	uint8_t b[256];
	struct in_spec is = { .proto = 17, .frag4 = 0x00b9, .no_l4 = true,
			      .npay = 40 };
	struct es_inner in;
	size_t n = put_inner(b, &is);

	/* bytes that would read as ports if taken for a UDP header */
	b[20] = 0x13; b[21] = 0x88; b[22] = 0x17; b[23] = 0x70;
	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_NONE);
	assert_int_equal(in.is_frag, 1);
	assert_int_equal(in.proto, 17);
	assert_int_equal(in.sport, 0);
	assert_int_equal(in.dport, 0);
}

T(parse_inner__ipv4_first_fragment_keeps_ports)
{
	uint8_t b[256];
	struct in_spec is = { .proto = 6, .frag4 = 0x2000, .sport = 1234,
			      .dport = 80, .npay = 40 };
	struct es_inner in;
	size_t n = put_inner(b, &is);

	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_NONE);
	assert_int_equal(in.is_frag, 0);
	assert_int_equal(in.sport, 1234);
	assert_int_equal(in.dport, 80);
}

T(parse_inner__ipv6_non_first_fragment_has_ports_0)
{
	static const uint8_t frag[] = { 17, 0, 0x05, 0xc8, 0, 0, 0, 1 };
	uint8_t b[256];
	struct in_spec is = { .v6 = true, .proto = 17, .no_l4 = true,
			      .npay = 24, .ext6 = frag, .ext6_len = 8,
			      .nh6 = 44 };
	struct es_inner in;
	size_t n = put_inner(b, &is);

	b[48] = 0x13; b[49] = 0x88;
	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_NONE);
	assert_int_equal(in.is_frag, 1);
	assert_int_equal(in.proto, 17);
	assert_int_equal(in.l3_len, 48);
	assert_int_equal(in.sport, 0);
	assert_int_equal(in.dport, 0);
}

T(parse_inner__ipv6_first_fragment_keeps_ports)
{
	static const uint8_t frag[] = { 17, 0, 0x00, 0x01, 0, 0, 0, 1 };
	uint8_t b[256];
	struct in_spec is = { .v6 = true, .proto = 17, .sport = 7, .dport = 9,
			      .npay = 24, .ext6 = frag, .ext6_len = 8,
			      .nh6 = 44 };
	struct es_inner in;
	size_t n = put_inner(b, &is);

	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_NONE);
	assert_int_equal(in.is_frag, 0);
	assert_int_equal(in.sport, 7);
	assert_int_equal(in.dport, 9);
}

T(parse_inner__icmp_echo_reply_gives_ports_0)
{
	uint8_t b[256];
	struct in_spec is = { .proto = 1, .sport = 0, .dport = 0, .npay = 8 };
	struct es_inner in;
	size_t n = put_inner(b, &is);

	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_NONE);
	assert_int_equal(in.proto, 1);
	assert_int_equal(in.sport, 0);
	assert_int_equal(in.dport, 0);
}

/* parse.h: "(ICMP: type in sport, code in dport)". */
T(parse_inner__icmp_gives_type_in_sport_and_code_in_dport)
{
	uint8_t b[256];
	struct in_spec is4 = { .proto = 1, .sport = 3, .dport = 4, .npay = 28 };
	struct in_spec is6 = { .v6 = true, .proto = 58, .sport = 128,
			       .dport = 0, .npay = 8 };
	struct es_inner in;
	size_t n = put_inner(b, &is4);

	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_NONE);
	assert_int_equal(in.proto, 1);
	assert_int_equal(in.sport, 3);
	assert_int_equal(in.dport, 4);

	n = put_inner(b, &is6);
	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_NONE);
	assert_int_equal(in.proto, 58);
	assert_int_equal(in.sport, 128);
	assert_int_equal(in.dport, 0);
}

T(parse_inner__sctp_gives_ports)
{
	uint8_t b[256];
	struct in_spec is = { .proto = 132, .sport = 38412, .dport = 38412,
			      .npay = 16 };
	struct es_inner in;
	size_t n = put_inner(b, &is);

	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_NONE);
	assert_int_equal(in.proto, 132);
	assert_int_equal(in.sport, 38412);
	assert_int_equal(in.dport, 38412);
}

T(parse_inner__ipv6_dscp_comes_from_traffic_class)
{
	uint8_t b[256];
	struct in_spec is = { .v6 = true, .proto = 17, .dscp = 46, .npay = 4 };
	struct es_inner in;
	size_t n = put_inner(b, &is);

	/* TC 0xb8 straddles the first two octets */
	assert_int_equal(b[0], 0x6b);
	assert_int_equal(b[1] & 0xf0, 0x80);
	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_NONE);
	assert_int_equal(in.dscp, 46);
}

T(parse_inner__not_exact_accepts_padding_after_ip_length)
{
	uint8_t b[256];
	struct in_spec is = IN4UDP;
	struct es_inner in;
	size_t n = put_inner(b, &is);

	memset(b + n, 0, 6);
	assert_cnt(inner_x(b, (uint32_t)n + 6, false, &in), ES_CNT_NONE);
	assert_inner4_default(&in);
	assert_cnt(inner_x(b, (uint32_t)n + 6, true, &in), ES_CNT_INNER_LEN);
}

/* ================= malformed GTP-U ================= */

/* A G-PDU with E set and one UL PSC, in b; returns its length. */
static size_t gtpu_with_psc(uint8_t *b)
{
	uint8_t inner[128];
	struct in_spec is = IN4UDP;
	struct gtp_spec gs = GPDU;
	size_t il = put_inner(inner, &is);

	gs.flags = 0x34;
	gs.next = ES_GTP_EXT_PSC;
	gs.ext = PSC_UL_QFI9;
	gs.ext_len = sizeof(PSC_UL_QFI9);
	return put_gtpu(b, &gs, inner, il);
}

T(parse_gtpu__rejects_ext_len_zero)
{
	uint8_t b[256];
	struct es_gtpu g;
	size_t n = gtpu_with_psc(b);

	b[12] = 0;
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_LEN0);
}

T(parse_gtpu__rejects_ext_len_zero_later_in_the_chain)
{
	uint8_t b[256];
	struct es_gtpu g;
	size_t n = gtpu_with_psc(b);

	b[15] = 0x10;          /* PSC -> unknown 0x10 ... */
	b[16] = 0;             /* ... whose length octet (first T-PDU byte) */
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_LEN0);
}

T(parse_gtpu__rejects_ext_length_past_the_end)
{
	static const uint8_t ext[] = { 0x03, 0x10, 0x09, 0x00 };
	uint8_t b[256];
	struct gtp_spec gs = { .flags = 0x34, .type = ES_GTP_GPDU, .teid = TEID,
			       .next = ES_GTP_EXT_PSC, .ext = ext,
			       .ext_len = sizeof(ext) };
	struct es_gtpu g;
	size_t n = put_gtpu(b, &gs, NULL, 0);     /* says 12 B, has 4 */

	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_TRUNC);

	/* and with a T-PDU too short to hold the rest */
	n = gtpu_with_psc(b);
	b[12] = 0xff;                             /* 1020 bytes */
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_TRUNC);
}

T(parse_gtpu__rejects_next_type_pointing_past_the_end)
{
	/* the last extension names another one, but the packet ends */
	static const uint8_t ext[] = { 0x01, 0x10, 0x09, 0x81 };
	uint8_t b[64];
	struct gtp_spec gs = { .flags = 0x34, .type = ES_GTP_GPDU, .teid = TEID,
			       .next = ES_GTP_EXT_PSC, .ext = ext,
			       .ext_len = sizeof(ext) };
	struct es_gtpu g;
	size_t n = put_gtpu(b, &gs, NULL, 0);

	assert_int_equal(n, 16);
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_TRUNC);
}

T(parse_gtpu__rejects_e_flag_naming_an_extension_with_nothing_after)
{
	uint8_t b[64];
	struct gtp_spec gs = { .flags = 0x34, .type = ES_GTP_GPDU, .teid = TEID,
			       .next = ES_GTP_EXT_PSC };
	struct es_gtpu g;
	size_t n = put_gtpu(b, &gs, NULL, 0);

	assert_int_equal(n, 12);
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_TRUNC);
}

T(parse_gtpu__rejects_unknown_comprehension_required_types)
{
	static const uint8_t types[] = { 0x8f, 0xcf, 0x80, 0xbf, 0xff };
	for (size_t i = 0; i < sizeof(types); i++) {
		uint8_t b[256];
		struct es_gtpu g;
		size_t n = gtpu_with_psc(b);

		b[11] = types[i];
		assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_UNKNOWN);

		/* also when it follows a known extension */
		n = gtpu_with_psc(b);
		b[15] = types[i];
		b[16] = 0x01;   /* a plausible length octet in the T-PDU */
		assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_UNKNOWN);
	}
}

T(parse_gtpu__rejects_length_field_bigger_than_udp_payload)
{
	uint8_t b[256];
	struct es_gtpu g;
	size_t n = gtpu_with_psc(b);

	wr16(b + 2, (uint32_t)(n - 8 + 1));
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_LEN);
	wr16(b + 2, 0xffff);
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_LEN);
}

T(parse_gtpu__rejects_length_field_smaller_than_udp_payload)
{
	uint8_t b[256];
	struct es_gtpu g;
	size_t n = gtpu_with_psc(b);

	wr16(b + 2, (uint32_t)(n - 8 - 1));
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_LEN);
	wr16(b + 2, 0);
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_LEN);
}

T(parse_gtpu__rejects_header_shorter_than_8)
{
	uint8_t b[256];
	struct es_gtpu g;

	gtpu_with_psc(b);
	for (uint32_t n = 0; n < 8; n++)
		assert_cnt(gtpu_x(b, n, &g), ES_CNT_GTP_TRUNC);
}

T(parse_gtpu__rejects_optional_fields_with_length_below_4)
{
	static const uint8_t flags[] = { 0x31, 0x32, 0x34, 0x37 };
	for (size_t f = 0; f < sizeof(flags); f++) {
		for (uint32_t l = 0; l < 4; l++) {
			uint8_t b[16] = { 0 };
			struct es_gtpu g;

			b[0] = flags[f];
			b[1] = ES_GTP_GPDU;
			wr16(b + 2, l);
			wr32(b + 4, TEID);
			assert_cnt(gtpu_x(b, 8 + l, &g), ES_CNT_GTP_TRUNC);
		}
	}
}

T(parse_gtpu__rejects_version_other_than_1)
{
	static const uint8_t flags[] = { 0x10, 0x50, 0x70, 0xf0, 0x54 };
	for (size_t i = 0; i < sizeof(flags); i++) {
		uint8_t b[256];
		struct es_gtpu g;
		size_t n = gtpu_with_psc(b);

		b[0] = flags[i];
		assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_VERSION);
	}
}

T(parse_gtpu__rejects_pt_0_gtp_prime)
{
	uint8_t b[256];
	struct es_gtpu g;
	size_t n = gtpu_with_psc(b);

	b[0] = 0x24;
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_VERSION);
	b[0] = 0x20;
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_VERSION);
}

T(parse_gtpu__rejects_psc_pdu_type_2)
{
	for (uint8_t pt = 2; pt < 16; pt++) {
		uint8_t b[256];
		struct es_gtpu g;
		size_t n = gtpu_with_psc(b);

		b[13] = (uint8_t)(pt << 4);
		assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_BAD);
	}
}

T(parse_gtpu__rejects_two_pscs)
{
	static const uint8_t ext[] = {
		0x01, 0x10, 0x09, ES_GTP_EXT_PSC,
		0x01, 0x10, 0x05, 0x00,
	};
	uint8_t inner[128], b[256];
	struct in_spec is = IN4UDP;
	struct gtp_spec gs = { .flags = 0x34, .type = ES_GTP_GPDU, .teid = TEID,
			       .next = ES_GTP_EXT_PSC, .ext = ext,
			       .ext_len = sizeof(ext) };
	struct es_gtpu g;
	size_t il = put_inner(inner, &is);
	size_t n = put_gtpu(b, &gs, inner, il);

	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_BAD);
}

static void check_one_unit_ext(uint8_t type)
{
	static const uint8_t ext[] = {
		0x02, 0x08, 0x68, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	uint8_t inner[128], b[256];
	struct in_spec is = IN4UDP;
	struct gtp_spec gs = { .flags = 0x34, .type = ES_GTP_GPDU, .teid = TEID,
			       .next = type, .ext = ext,
			       .ext_len = sizeof(ext) };
	struct es_gtpu g;
	size_t il = put_inner(inner, &is);
	size_t n = put_gtpu(b, &gs, inner, il);

	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_GTP_EXT_BAD);

	/* with one unit it is fine */
	gs.ext_len = 4;
	n = put_gtpu(b, &gs, inner, il);
	b[12] = 0x01;
	b[15] = 0x00;
	assert_cnt(gtpu_x(b, (uint32_t)n, &g), ES_CNT_NONE);
	assert_int_equal(g.hdr_len, 16);
}

T(parse_gtpu__rejects_udp_port_ext_of_length_2)
{
	check_one_unit_ext(ES_GTP_EXT_UDP_PORT);
}

T(parse_gtpu__rejects_pdcp_number_ext_of_length_2)
{
	check_one_unit_ext(ES_GTP_EXT_PDCP);
}

/* Every extension header type with a fixed length in TS 29.281 §5.2.2
 * (units of 4 octets): a G-PDU whose chain has it first, then the PSC,
 * parses at exactly that length and is drop_gtpu_ext_bad at every other
 * length from 1 to 4 units; a variable-length container is not. */
T(parse_gtpu__checks_the_fixed_length_of_every_known_type)
{
	static const struct { uint8_t type, units; } fixed[] = {
		{ ES_GTP_EXT_SCI, 1 },          /* §5.2.2.3 Service Class Indicator */
		{ ES_GTP_EXT_UDP_PORT, 1 },     /* §5.2.2.1 UDP Port */
		{ ES_GTP_EXT_PDCP, 1 },         /* §5.2.2.2 PDCP PDU Number */
		{ ES_GTP_EXT_LONG_PDCP, 2 },    /* §5.2.2.2A Long PDCP PDU Number */
		{ ES_GTP_EXT_LONG_PDCP0, 2 },   /* §5.2.2.2A, the type of bits 00 */
		{ ES_GTP_EXT_RAN, 0 },          /* §5.2.2.4: variable */
		{ ES_GTP_EXT_XW_RAN, 0 },       /* §5.2.2.5 */
		{ ES_GTP_EXT_NR_RAN, 0 },       /* §5.2.2.6 */
	};
	uint8_t inner[128], b[256], ext[4 * 4 + 4];
	struct in_spec is = IN4UDP;
	size_t il = put_inner(inner, &is);

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		for (uint8_t u = 1; u <= 4; u++) {
			struct gtp_spec gs = { .flags = 0x34, .type = ES_GTP_GPDU, .teid = TEID,
					       .next = fixed[i].type, .ext = ext,
					       .ext_len = (size_t)u * 4 + 4 };
			struct es_gtpu g;
			size_t n;
			int want = fixed[i].units == 0 || fixed[i].units == u ?
				   ES_CNT_NONE : ES_CNT_GTP_EXT_BAD;
			memset(ext, 0, sizeof(ext));
			ext[0] = u;
			ext[u * 4 - 1] = ES_GTP_EXT_PSC;
			memcpy(ext + u * 4, (const uint8_t[]){ 0x01, 0x10, 0x09, 0x00 }, 4);
			n = put_gtpu(b, &gs, inner, il);
			if (gtpu_x(b, (uint32_t)n, &g) != want)
				fail_msg("type 0x%02x, %u units: got %d, want %d (%s)", fixed[i].type, u,
					 gtpu_x(b, (uint32_t)n, &g), want,
					 want ? cnt_name(want) : "none");
			if (want == ES_CNT_NONE) {
				assert_int_equal(g.hdr_len, 12 + u * 4 + 4);
				assert_int_equal(g.n_ext, 2);
				assert_int_equal(g.qfi, 9);
			}
		}
	}
}

/* ================= malformed outer ================= */

static void std_frame(struct pkt *k, const struct out_spec *os)
{
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	mk_gpdu(k, os, &gs, &is);
}

T(parse_outer__rejects_frame_shorter_than_14)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ 0 });
	for (uint32_t n = 0; n < 14; n++)
		assert_cnt(outer_x(k.b, n, true, &o), ES_CNT_L2_TRUNC);
}

T(parse_outer__rejects_truncated_vlan_tag)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ .n_vlan = 1 });
	for (uint32_t n = 14; n < 18; n++)
		assert_cnt(outer_x(k.b, n, true, &o), ES_CNT_L2_TRUNC);
}

T(parse_outer__rejects_three_vlan_tags)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ .n_vlan = 3,
					  .tpid = { 0x88a8, 0x8100, 0x8100 } });
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_L2_VLAN_DEPTH);
	std_frame(&k, &(struct out_spec){ .n_vlan = 3,
					  .tpid = { 0x9100, 0x9100, 0x9100 } });
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_L2_VLAN_DEPTH);
}

T(parse_outer__rejects_unknown_ethertype)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ .ethertype = 0x88cc });
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_L2_ETHERTYPE);
	std_frame(&k, &(struct out_spec){ .n_vlan = 1, .ethertype = 0x8847 });
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_L2_ETHERTYPE);
}

T(parse_outer__rejects_ipv4_shorter_than_20)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ 0 });
	for (uint32_t n = 14; n < 34; n++)
		assert_cnt(outer_x(k.b, n, true, &o), ES_CNT_IP4_TRUNC);
}

T(parse_outer__rejects_ipv4_version_not_4)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ 0 });
	k.b[k.ip] = 0x65;
	fix_ip4_cksum(k.b + k.ip);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_IP4_VERSION);
}

T(parse_outer__rejects_ipv4_ihl_below_5)
{
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		struct pkt k;
		struct es_outer o;

		std_frame(&k, &(struct out_spec){ 0 });
		k.b[k.ip] = (uint8_t)(0x40 | ihl);
		assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_IP4_IHL);
		assert_cnt(outer_x(k.b, k.len, false, &o), ES_CNT_IP4_IHL);
	}
}

T(parse_outer__rejects_ipv4_ihl_beyond_frame)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ 0 });
	k.b[k.ip] = 0x4f;                  /* 60 bytes of header */
	assert_cnt(outer_x(k.b, k.ip + 40, false, &o), ES_CNT_IP4_IHL);
}

T(parse_outer__rejects_ipv4_total_length_beyond_frame)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ 0 });
	wr16(k.b + k.ip + 2, k.len - k.ip + 1);
	fix_ip4_cksum(k.b + k.ip);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_IP4_LEN);
	assert_cnt(outer_x(k.b, k.len, false, &o), ES_CNT_IP4_LEN);
}

T(parse_outer__rejects_ipv4_total_length_below_header)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ .ihl = 6 });
	wr16(k.b + k.ip + 2, 23);
	fix_ip4_cksum(k.b + k.ip);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_IP4_LEN);
}

T(parse_outer__rejects_bad_ipv4_checksum_when_verifying)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ 0 });
	k.b[k.ip + 11] ^= 0x01;
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_IP4_CKSUM);

	/* a changed TTL without a checksum update, with options too */
	std_frame(&k, &(struct out_spec){ .ihl = 7 });
	k.b[k.ip + 8]--;
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_IP4_CKSUM);
}

T(parse_outer__accepts_bad_ipv4_checksum_when_not_verifying)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ 0 });
	k.b[k.ip + 10] ^= 0x80;
	assert_cnt(outer_x(k.b, k.len, false, &o), ES_CNT_NONE);
	assert_int_equal(o.kind, ES_K_GTPU);
}

T(parse_outer__rejects_ipv6_payload_length_beyond_frame)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ .v6 = true });
	wr16(k.b + k.ip + 4, k.len - k.ip - 40 + 1);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_IP6_LEN);
}

T(parse_outer__rejects_ipv6_shorter_than_40)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ .v6 = true });
	assert_cnt(outer_x(k.b, 14 + 39, true, &o), ES_CNT_IP6_TRUNC);
	assert_cnt(outer_x(k.b, 14, true, &o), ES_CNT_IP6_TRUNC);
}

T(parse_outer__rejects_ipv6_version_not_6)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ .v6 = true });
	k.b[k.ip] = 0x40;
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_IP6_VERSION);
}

T(parse_outer__rejects_ipv6_ext_chain_longer_than_8)
{
	uint8_t ext[9 * 8];
	struct pkt k;
	struct es_outer o;

	memset(ext, 0, sizeof(ext));
	for (int i = 0; i < 9; i++)
		ext[i * 8] = i == 8 ? 17 : 60;      /* DST opts, then UDP */
	std_frame(&k, &(struct out_spec){ .v6 = true, .ext6 = ext,
					  .ext6_len = sizeof(ext), .nh6 = 60 });
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_IP6_EXT);

	/* eight is the limit, and fine */
	std_frame(&k, &(struct out_spec){ .v6 = true, .ext6 = ext + 8,
					  .ext6_len = sizeof(ext) - 8,
					  .nh6 = 60 });
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_NONE);
	assert_int_equal(o.l3_len, 40 + 64);
	assert_int_equal(o.kind, ES_K_GTPU);
}

T(parse_outer__rejects_ipv6_ext_header_past_payload)
{
	static const uint8_t ext[] = { 17, 0, 0, 0, 0, 0, 0, 0 };
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ .v6 = true, .ext6 = ext,
					  .ext6_len = sizeof(ext), .nh6 = 60 });
	k.b[k.ip + 40 + 1] = 200;          /* 1608 bytes */
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_IP6_EXT);
}

T(parse_outer__rejects_ipv6_ext_header_shorter_than_8)
{
	for (uint32_t plen = 1; plen < 8; plen++) {
		struct pkt k;
		struct es_outer o;
		uint8_t *ip;

		std_frame(&k, &(struct out_spec){ .v6 = true });
		ip = k.b + k.ip;
		for (int nh = 0; nh < 4; nh++) {
			static const uint8_t types[] = { 0, 43, 44, 60 };
			ip[6] = types[nh];
			wr16(ip + 4, plen);
			/* fragment header bytes: offset set, M set */
			memset(ip + 40, 0xff, plen);
			ip[40] = 17;
			assert_cnt(outer_x(k.b, k.ip + 40 + plen, true, &o),
				   ES_CNT_IP6_EXT);
		}
	}
}

T(parse_inner__rejects_ipv6_ext_header_shorter_than_8)
{
	for (uint32_t plen = 1; plen < 8; plen++) {
		uint8_t b[256];
		struct in_spec is = IN6TCP;
		struct es_inner in;

		put_inner(b, &is);
		b[6] = 44;
		wr16(b + 4, plen);
		memset(b + 40, 0xff, plen);
		b[40] = 17;
		assert_cnt(inner_x(b, 40 + plen, true, &in), ES_CNT_INNER_EXT);
	}
}

T(parse_outer__rejects_udp_length_mismatch)
{
	struct pkt k;
	struct es_outer o;

	std_frame(&k, &(struct out_spec){ 0 });
	wr16(k.b + k.l4 + 4, k.len - k.l4 + 1);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_UDP_LEN);
	wr16(k.b + k.l4 + 4, k.len - k.l4 - 1);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_UDP_LEN);

	std_frame(&k, &(struct out_spec){ .v6 = true });
	wr16(k.b + k.l4 + 4, 8);
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_UDP_LEN);
}

T(parse_outer__rejects_udp_header_past_ip_end)
{
	uint8_t pay[4] = { 0 };
	struct pkt k;
	struct out_spec os = { .proto = 17 };
	struct es_outer o;

	/* IPv4 says 24 bytes: a 4-byte "UDP header" */
	put_frame(&k, &os, pay, 0);
	wr16(k.b + k.ip + 2, 24);
	fix_ip4_cksum(k.b + k.ip);
	memcpy(k.b + k.l4, pay, 4);
	k.len = k.l4 + 4;
	assert_cnt(outer_x(k.b, k.len, true, &o), ES_CNT_UDP_TRUNC);
}

/* ================= malformed inner ================= */

T(parse_inner__rejects_empty)
{
	struct es_inner in;
	assert_cnt(inner_x(NULL, 0, true, &in), ES_CNT_INNER_NOT_IP);
	assert_cnt(inner_x(NULL, 0, false, &in), ES_CNT_INNER_NOT_IP);
}

T(parse_inner__rejects_version_5)
{
	uint8_t b[256];
	struct in_spec is = IN4UDP;
	struct es_inner in;
	size_t n = put_inner(b, &is);

	for (int v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		b[0] = (uint8_t)((v << 4) | 5);
		assert_cnt(inner_x(b, (uint32_t)n, true, &in),
			   ES_CNT_INNER_NOT_IP);
	}
	b[0] = 0x55;
	assert_cnt(inner_x(b, 1, true, &in), ES_CNT_INNER_NOT_IP);
}

T(parse_inner__rejects_ipv4_ihl_below_5)
{
	uint8_t b[256];
	struct in_spec is = IN4UDP;
	struct es_inner in;
	size_t n = put_inner(b, &is);

	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		b[0] = (uint8_t)(0x40 | ihl);
		assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_INNER_IHL);
	}
}

T(parse_inner__rejects_ipv4_ihl_beyond_packet)
{
	uint8_t b[256];
	struct in_spec is = { .proto = 17, .npay = 0 };
	struct es_inner in;
	size_t n = put_inner(b, &is);      /* 28 bytes */

	b[0] = 0x48;                        /* 32-byte header */
	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_INNER_TRUNC);
}

T(parse_inner__rejects_ipv4_length_other_than_tpdu_when_exact)
{
	uint8_t b[256];
	struct in_spec is = IN4UDP;
	struct es_inner in;
	size_t n = put_inner(b, &is);

	wr16(b + 2, (uint32_t)n - 1);
	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_INNER_LEN);
	wr16(b + 2, (uint32_t)n + 1);
	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_INNER_LEN);
}

T(parse_inner__accepts_shorter_ipv4_length_when_not_exact)
{
	uint8_t b[256];
	struct in_spec is = IN4UDP;
	struct es_inner in;
	size_t n = put_inner(b, &is);

	wr16(b + 2, (uint32_t)n - 4);
	assert_cnt(inner_x(b, (uint32_t)n, false, &in), ES_CNT_NONE);
	assert_int_equal(in.ip_len, n - 4);
	wr16(b + 2, (uint32_t)n + 1);
	assert_cnt(inner_x(b, (uint32_t)n, false, &in), ES_CNT_INNER_LEN);
}

T(parse_inner__rejects_ipv4_total_length_below_ihl)
{
	uint8_t b[256];
	struct in_spec is = IN4UDP;
	struct es_inner in;
	size_t n = put_inner(b, &is);

	wr16(b + 2, 19);
	assert_cnt(inner_x(b, (uint32_t)n, false, &in), ES_CNT_INNER_LEN);
}

T(parse_inner__rejects_ipv6_payload_length_wrong)
{
	uint8_t b[256];
	struct in_spec is = IN6TCP;
	struct es_inner in;
	size_t n = put_inner(b, &is);

	wr16(b + 4, (uint32_t)n - 40 + 1);
	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_INNER_LEN);
	assert_cnt(inner_x(b, (uint32_t)n, false, &in), ES_CNT_INNER_LEN);
	wr16(b + 4, (uint32_t)n - 40 - 1);
	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_INNER_LEN);
}

T(parse_inner__rejects_truncated_tcp)
{
	uint8_t b[256];
	struct in_spec is = { .proto = 6, .sport = 1, .dport = 2 };
	struct es_inner in;
	size_t n = put_inner(b, &is);       /* 20 + 20 */

	wr16(b + 2, 20 + 19);
	fix_ip4_cksum(b);
	assert_cnt(inner_x(b, (uint32_t)n - 1, true, &in),
		   ES_CNT_INNER_L4_TRUNC);

	is = (struct in_spec)IN6TCP;
	is.npay = 0;
	put_inner(b, &is);                  /* 40 + 20 */
	wr16(b + 4, 10);
	assert_cnt(inner_x(b, 50, true, &in), ES_CNT_INNER_L4_TRUNC);
}

T(parse_inner__rejects_truncated_udp_and_icmp)
{
	uint8_t b[256];
	struct in_spec is = { .proto = 17 };
	struct es_inner in;

	put_inner(b, &is);
	wr16(b + 2, 27);
	assert_cnt(inner_x(b, 27, true, &in), ES_CNT_INNER_L4_TRUNC);

	is.proto = 1;
	put_inner(b, &is);
	wr16(b + 2, 23);
	assert_cnt(inner_x(b, 23, true, &in), ES_CNT_INNER_L4_TRUNC);

	is.proto = 132;
	put_inner(b, &is);
	wr16(b + 2, 31);
	assert_cnt(inner_x(b, 31, true, &in), ES_CNT_INNER_L4_TRUNC);
}

T(parse_inner__rejects_ipv4_shorter_than_20)
{
	uint8_t b[256];
	struct in_spec is = IN4UDP;
	struct es_inner in;

	put_inner(b, &is);
	for (uint32_t n = 1; n < 20; n++) {
		assert_cnt(inner_x(b, n, false, &in), ES_CNT_INNER_TRUNC);
		assert_cnt(inner_x(b, n, true, &in), ES_CNT_INNER_TRUNC);
	}
}

T(parse_inner__rejects_ipv6_shorter_than_40)
{
	uint8_t b[256];
	struct in_spec is = IN6TCP;
	struct es_inner in;

	put_inner(b, &is);
	for (uint32_t n = 1; n < 40; n++)
		assert_cnt(inner_x(b, n, false, &in), ES_CNT_INNER_TRUNC);
}

T(parse_inner__rejects_ipv6_ext_chain_longer_than_8)
{
	uint8_t ext[9 * 8], b[256];
	struct in_spec is = { .v6 = true, .proto = 17, .ext6 = ext,
			      .ext6_len = sizeof(ext), .nh6 = 60 };
	struct es_inner in;
	size_t n;

	memset(ext, 0, sizeof(ext));
	for (int i = 0; i < 9; i++)
		ext[i * 8] = i == 8 ? 17 : 60;
	n = put_inner(b, &is);
	assert_cnt(inner_x(b, (uint32_t)n, true, &in), ES_CNT_INNER_EXT);
}

/* ================= robustness ================= */

static void check_every_prefix(const struct pkt *k, const char *what)
{
	struct es_outer o;
	struct es_gtpu g;
	struct es_inner in;
	uint32_t glen = k->len - k->gtp, ilen = k->len - k->inner;
	uint8_t *c;

	/* the whole thing parses */
	assert_cnt(parse_all(k->b, k->len, true, &o, &g, &in), ES_CNT_NONE);

	for (uint32_t n = 0; n <= k->len; n++) {
		int rc = outer_x(k->b, n, true, &o);
		if (n < k->len && rc == ES_CNT_NONE)
			fail_msg("%s: outer prefix %u of %u accepted", what, n,
				 k->len);
		if (rc == ES_CNT_NONE) {
			assert_true(o.ip_end <= n);
			assert_true(o.l4_off + 8u <= o.ip_end);
		}
	}
	for (uint32_t n = 0; n <= glen; n++) {
		int rc = gtpu_x(k->b + k->gtp, n, &g);
		if (n < glen && rc == ES_CNT_NONE)
			fail_msg("%s: GTP-U prefix %u of %u accepted", what, n,
				 glen);
		/* again with a length field that agrees with the prefix,
		 * which sends the extension walk to the cut */
		c = dup_exact(k->b + k->gtp, n);
		if (n >= 8)
			wr16(c + 2, n - 8);
		rc = es_parse_gtpu(c, n, &g);
		free(c);
		if (rc == ES_CNT_NONE) {
			assert_true(g.hdr_len <= n);
			assert_int_equal(g.hdr_len + g.payload_len, n);
		}
	}
	for (uint32_t n = 0; n <= ilen; n++) {
		int rc1 = inner_x(k->b + k->inner, n, true, &in);
		int rc2 = inner_x(k->b + k->inner, n, false, &in);
		if (n < ilen && (rc1 == ES_CNT_NONE || rc2 == ES_CNT_NONE))
			fail_msg("%s: inner prefix %u of %u accepted", what, n,
				 ilen);
		/* again with an IP length that agrees with the prefix */
		c = dup_exact(k->b + k->inner, n);
		if (n >= 6) {
			if ((c[0] >> 4) == 4)
				wr16(c + 2, n);
			else if (n >= 40)
				wr16(c + 4, n - 40);
		}
		rc1 = es_parse_inner(c, n, true, &in);
		free(c);
		if (rc1 == ES_CNT_NONE) {
			assert_true(in.l3_len <= n);
			assert_true(in.ip_len <= n);
		}
	}
}

T(parse__never_reads_past_any_prefix_of_a_valid_packet)
{
	static const uint8_t ext[] = {
		0x01, 0x08, 0x68, 0x10,                 /* UDP port -> 0x10 */
		0x02, 1, 2, 3, 4, 5, 6, ES_GTP_EXT_PSC, /* unknown, 8 B */
		0x01, 0x10, 0x09, 0x00,                 /* PSC */
	};
	static const uint8_t oext[] = {
		60, 0, 1, 4, 0, 0, 0, 0,
		17, 0, 1, 4, 0, 0, 0, 0,
	};
	static const uint8_t iext[] = { 6, 0, 1, 4, 0, 0, 0, 0 };
	struct pkt k;
	struct gtp_spec gs = GPDU;
	struct in_spec is4 = IN4UDP;
	struct in_spec is6 = IN6TCP;

	gs.flags = 0x36;
	gs.next = ES_GTP_EXT_UDP_PORT;
	gs.ext = ext;
	gs.ext_len = sizeof(ext);
	mk_gpdu(&k, &(struct out_spec){ .n_vlan = 2, .ihl = 7 }, &gs, &is4);
	check_every_prefix(&k, "v4/v4 qinq");

	is6.ext6 = iext;
	is6.ext6_len = sizeof(iext);
	is6.nh6 = 0;
	mk_gpdu(&k, &(struct out_spec){ .n_vlan = 1, .v6 = true, .ext6 = oext,
					.ext6_len = sizeof(oext), .nh6 = 0 },
		&gs, &is6);
	check_every_prefix(&k, "v6/v6 ext");

	gs = (struct gtp_spec)GPDU;
	mk_gpdu(&k, &(struct out_spec){ 0 }, &gs, &is6);
	check_every_prefix(&k, "plain");
}

T(parse_gtpu__returns_for_every_flags_byte)
{
	uint8_t b[256];
	size_t n = gtpu_with_psc(b);

	for (int f = 0; f < 256; f++) {
		struct es_gtpu g;
		int rc;

		b[0] = (uint8_t)f;
		rc = gtpu_x(b, (uint32_t)n, &g);
		if ((f & 0xf0) == 0x30) {
			/* version 1, PT 1: every E/S/PN combination reads */
			if (rc != ES_CNT_NONE)
				fail_msg("flags 0x%02x: %s", f, cnt_name(rc));
			assert_int_equal(g.hdr_len, (f & 0x07) ? ((f & 0x04) ? 16 : 12) : 8);
		} else {
			assert_cnt(rc, ES_CNT_GTP_VERSION);
		}
		if (rc == ES_CNT_NONE) {
			assert_true(g.hdr_len <= n);
			assert_int_equal(g.hdr_len + g.payload_len, n);
		}
	}
}

T(parse_gtpu__returns_for_every_first_ext_length_byte)
{
	uint8_t b[256];
	size_t n = gtpu_with_psc(b);

	for (int v = 0; v < 256; v++) {
		struct es_gtpu g;
		int rc;

		b[12] = (uint8_t)v;
		rc = gtpu_x(b, (uint32_t)n, &g);
		if (v == 0)
			assert_cnt(rc, ES_CNT_GTP_EXT_LEN0);
		else if (v == 1)
			assert_cnt(rc, ES_CNT_NONE);
		else if (12 + 4u * (uint32_t)v > n)
			assert_cnt(rc, ES_CNT_GTP_EXT_TRUNC);
		assert_true(rc == ES_CNT_NONE || rc == ES_CNT_GTP_EXT_LEN0 ||
			    rc == ES_CNT_GTP_EXT_TRUNC ||
			    rc == ES_CNT_GTP_EXT_UNKNOWN ||
			    rc == ES_CNT_GTP_EXT_BAD);
		if (rc == ES_CNT_NONE) {
			assert_true(g.hdr_len <= n);
			assert_int_equal(g.hdr_len + g.payload_len, n);
		}
	}
}

/* ================= fast track ================= */

/* The fast track (es_parse_fast) against the full parsers, the way the
 * worker calls them, on an exact heap copy. Returns what the fast track
 * said; when it recognised the packet, the full parsers must accept it
 * with byte-for-byte the same results. */
static int check_fast(const uint8_t *b, uint32_t len, bool verify)
{
	struct es_outer o, o2;
	struct es_gtpu g, g2;
	struct es_inner in, in2, in3;
	uint8_t *c = dup_exact(b, len);
	int fast;

	memset(&o, 0xa5, sizeof(o));
	memset(&g, 0xa5, sizeof(g));
	memset(&in, 0xa5, sizeof(in));
	fast = es_parse_fast(c, len, verify, &o, &g, &in);
	free(c);
	if (fast == ES_FAST_NONE)
		return fast;
	assert_cnt(outer_x(b, len, verify, &o2), ES_CNT_NONE);
	assert_memory_equal(&o, &o2, sizeof(o));
	if (fast == ES_FAST_GPDU) {
		uint32_t goff = o2.l4_off + 8u;
		assert_int_equal(o2.kind, ES_K_GTPU);
		assert_cnt(gtpu_x(b + goff, o2.ip_end - goff, &g2), ES_CNT_NONE);
		assert_int_equal(g2.type, ES_GTP_GPDU);
		assert_true(g2.payload_len > 0);
		assert_memory_equal(&g, &g2, sizeof(g));
		/* with 'set gtpu-padding' the worker parses the T-PDU with
		 * exact off: the same answer */
		assert_cnt(inner_x(b + goff + g2.hdr_len, g2.payload_len, true,
				   &in2), ES_CNT_NONE);
		assert_cnt(inner_x(b + goff + g2.hdr_len, g2.payload_len, false,
				   &in3), ES_CNT_NONE);
		assert_memory_equal(&in, &in2, sizeof(in));
		assert_memory_equal(&in, &in3, sizeof(in));
	} else {
		static const struct es_gtpu zero;
		assert_int_equal(fast, ES_FAST_IP4);
		assert_int_equal(o2.kind, ES_K_IP);
		/* the worker's plain-IP parse: from L3 to the IP end (it has
		 * trimmed the Ethernet trailer) */
		assert_cnt(inner_x(b + o2.l2_len, o2.ip_end - o2.l2_len, false,
				   &in2), ES_CNT_NONE);
		assert_memory_equal(&in, &in2, sizeof(in));
		assert_memory_equal(&g, &zero, sizeof(g));
	}
	return fast;
}

/* The packets the fast track is for, and some next to them. */
static int fast_corpus(struct pkt *ks, int max)
{
	static const uint8_t psc_then_unknown[] = { 0x01, 0x10, 0x09, 0x02,
						    0x01, 0x00, 0x00, 0x00 };
	struct gtp_spec gs = GPDU;
	struct in_spec is = IN4UDP;
	uint8_t l4[256];
	size_t n;
	int k = 0;

	/* G-PDUs: no options; E with a UL and a DL container; S; E with
	 * next type 0; PN; TCP, ICMP, SCTP, GRE (no ports) inside */
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	gs.flags = 0x34; gs.next = ES_GTP_EXT_PSC;
	gs.ext = PSC_UL_QFI9; gs.ext_len = sizeof(PSC_UL_QFI9);
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	gs.ext = PSC_DL_QFI5_RQI;
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	is.proto = 6;
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	is.proto = 1; is.sport = 8; is.dport = 0;
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	is.proto = 132; is.sport = 5000; is.dport = 6000;
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	is.proto = 47; is.npay = 24;
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	is = (struct in_spec)IN4UDP;
	gs = (struct gtp_spec)GPDU;
	gs.flags = 0x32; gs.seq = 77;
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	gs.flags = 0x34; gs.next = 0;
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	gs.flags = 0x31; gs.npdu = 3;
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	/* next to them, for the full parsers: a container then another
	 * extension, a VLAN tag, outer options, IPv6 inside and outside,
	 * inner options, an inner first fragment, Ethernet padding */
	gs = (struct gtp_spec)GPDU;
	gs.flags = 0x34; gs.next = ES_GTP_EXT_PSC;
	gs.ext = psc_then_unknown; gs.ext_len = sizeof(psc_then_unknown);
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	gs.ext = PSC_UL_QFI9; gs.ext_len = sizeof(PSC_UL_QFI9);
	mk_gpdu(&ks[k++], &(struct out_spec){ .n_vlan = 1 }, &gs, &is);
	mk_gpdu(&ks[k++], &(struct out_spec){ .ihl = 6 }, &gs, &is);
	mk_gpdu(&ks[k++], &(struct out_spec){ .v6 = true }, &gs, &is);
	mk_gpdu(&ks[k++], &(struct out_spec){ .pad = 6 }, &gs, &is);
	is.frag4 = 0x2000;  /* MF, offset 0 */
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	is = (struct in_spec)IN6TCP;
	mk_gpdu(&ks[k++], &(struct out_spec){ 0 }, &gs, &is);
	/* plain IPv4 (downlink from an app): UDP, TCP, ICMP echo, GRE,
	 * UDP with padding after it; UDP to 2152 is GTP-U, not plain */
	n = put_l4(l4, 17, 4000, 5000, 18) - 8;
	put_frame(&ks[k++], &(struct out_spec){ .sport = 4000, .dport = 5000 },
		  l4 + 8, n);
	put_frame(&ks[k++], &(struct out_spec){ .sport = 4000, .dport = 5000,
						.pad = 10 }, l4 + 8, n);
	n = put_l4(l4, 6, 443, 51000, 10);
	put_frame(&ks[k++], &(struct out_spec){ .proto = 6 }, l4, n);
	n = put_l4(l4, 1, 8, 0, 10);
	put_frame(&ks[k++], &(struct out_spec){ .proto = 1 }, l4, n);
	n = put_l4(l4, 47, 0, 0, 16);
	put_frame(&ks[k++], &(struct out_spec){ .proto = 47 }, l4, n);
	put_frame(&ks[k++], &(struct out_spec){ .sport = 4000 }, l4, 20);
	assert_true(k <= max);
	return k;
}

T(parse_fast__takes_the_common_packets_and_agrees_with_the_full_parsers)
{
	static const int want[] = {
		ES_FAST_GPDU, ES_FAST_GPDU, ES_FAST_GPDU, ES_FAST_GPDU,
		ES_FAST_GPDU, ES_FAST_GPDU, ES_FAST_GPDU, ES_FAST_GPDU,
		ES_FAST_GPDU, ES_FAST_GPDU,
		ES_FAST_NONE, ES_FAST_NONE, ES_FAST_NONE, ES_FAST_NONE,
		ES_FAST_GPDU, /* padding: the worker trims it */
		ES_FAST_GPDU, /* a first fragment has its ports */
		ES_FAST_NONE,
		ES_FAST_IP4, ES_FAST_IP4, ES_FAST_IP4, ES_FAST_IP4,
		ES_FAST_IP4, ES_FAST_NONE,
	};
	static struct pkt ks[32];
	int n = fast_corpus(ks, 32);

	assert_int_equal(n, (int)(sizeof(want) / sizeof(want[0])));
	for (int i = 0; i < n; i++) {
		int f = check_fast(ks[i].b, ks[i].len, true);
		if (f != want[i])
			fail_msg("packet %d: fast track says %d, want %d", i, f,
				 want[i]);
		assert_int_equal(check_fast(ks[i].b, ks[i].len, false), f);
		if (f == ES_FAST_NONE)
			/* the full parsers take what the fast track leaves */
			assert_true(outer_x(ks[i].b, ks[i].len, true,
					    &(struct es_outer){ 0 }) == 0);
	}
}

T(parse_fast__agrees_with_the_full_parsers_on_every_prefix_and_byte_change)
{
	static struct pkt ks[32];
	static uint8_t b[BUFSZ];
	int n = fast_corpus(ks, 32);
	long taken = 0;

	for (int i = 0; i < n; i++) {
		const struct pkt *k = &ks[i];
		for (uint32_t len = 0; len <= k->len; len++)
			for (int v = 0; v < 2; v++)
				taken += check_fast(k->b, len, v) != ES_FAST_NONE;
		/* every value of every byte, the checksum fixed up and not */
		for (uint32_t at = 0; at < k->len; at++) {
			for (int x = 0; x < 256; x++) {
				memcpy(b, k->b, k->len);
				b[at] = (uint8_t)x;
				taken += check_fast(b, k->len, false) != ES_FAST_NONE;
				taken += check_fast(b, k->len, true) != ES_FAST_NONE;
				if (at >= k->ip && at < k->ip + 20 &&
				    (b[k->ip] >> 4) == 4) {
					fix_ip4_cksum(b + k->ip);
					taken += check_fast(b, k->len, true) !=
						 ES_FAST_NONE;
				}
			}
		}
	}
	/* the fast track took a good share, so the comparison meant something */
	assert_true(taken > 100000);
}

/* ================= checksum helpers ================= */

T(cksum__ip4_hdr_cksum_of_textbook_header_is_b861)
{
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
			  0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
			  0xc0, 0xa8, 0x00, 0xc7 };

	assert_int_equal(es_ip4_hdr_cksum(h, 20), 0);
	h[10] = h[11] = 0;
	assert_int_equal(es_ip4_hdr_cksum(h, 20), 0xb861);
	assert_int_equal(ref_cksum(h, 20), 0xb861);
}

T(cksum__ip4_hdr_cksum_matches_reference_on_generated_headers)
{
	uint32_t x = 0x12345678;
	for (int i = 0; i < 2000; i++) {
		uint8_t h[60];
		uint8_t ihl = (uint8_t)(5 + i % 11);
		for (size_t j = 0; j < sizeof(h); j++) {
			x = x * 1103515245u + 12345u;
			h[j] = (uint8_t)(x >> 16);
		}
		if (i % 7 == 0)
			memset(h, 0xff, sizeof(h));
		h[0] = (uint8_t)(0x40 | ihl);
		h[10] = h[11] = 0;
		assert_int_equal(es_ip4_hdr_cksum(h, ihl * 4u),
				 ref_cksum(h, ihl * 4u));
		fix_ip4_cksum(h);
		assert_int_equal(es_ip4_hdr_cksum(h, ihl * 4u), 0);
	}
}

/* es_ip4_hdr_ok (the hot path's verify, a sum modulo 0xffff without
 * folding) against the plain RFC 1071 sum: on random version-4 headers of
 * every length, with the checksum right (also as its other zero, 0xffff
 * for 0x0000), wrong by one bit anywhere, or random; and on the headers
 * whose sums carry out of 64 bits (all ones). */
T(cksum__ip4_hdr_ok_agrees_with_the_full_sum)
{
	uint32_t x = 0x9e3779b9;
	int n_ok = 0, n_bad = 0;
	for (int i = 0; i < 20000; i++) {
		uint8_t h[60];
		uint8_t ihl = (uint8_t)(i % 3 ? 5 : 5 + i % 11);
		uint32_t hl = ihl * 4u;
		for (size_t j = 0; j < sizeof(h); j++) {
			x = x * 1103515245u + 12345u;
			h[j] = (uint8_t)(x >> 16);
		}
		if (i % 13 == 0)
			memset(h, 0xff, sizeof(h));
		h[0] = (uint8_t)(0x40 | ihl);
		switch (i % 4) {
		case 0:     /* right */
			fix_ip4_cksum(h);
			break;
		case 1:     /* right, then one bit flipped */
			fix_ip4_cksum(h);
			h[(x >> 8) % hl] ^= (uint8_t)(1u << (x % 8));
			h[0] = (uint8_t)(0x40 | ihl);
			break;
		case 2:     /* right, 0x0000 written as 0xffff where it occurs */
			fix_ip4_cksum(h);
			if (h[10] == 0 && h[11] == 0)
				h[10] = h[11] = 0xff;
			break;
		default:    /* as it comes */
			break;
		}
		{
			bool want = ref_cksum(h, hl) == 0;
			if (es_ip4_hdr_ok(h, hl) != want)
				fail_msg("header %d (%u bytes): es_ip4_hdr_ok %d, full sum %d",
					 i, hl, !want, want);
			if (want)
				n_ok++;
			else
				n_bad++;
		}
	}
	/* both answers were exercised, many times */
	assert_true(n_ok > 5000 && n_bad > 5000);
}

T(cksum__add_and_fold_handle_odd_length_and_carries)
{
	static const uint8_t d[] = { 0xff, 0xff, 0xff, 0xff, 0x01 };
	/* 0xffff + 0xffff + 0x0100 = 0x200fe -> 0x0100 ... folded */
	assert_int_equal(es_cksum_add(0, d, 5), 0x200feu);
	assert_int_equal(es_cksum_fold(0x200feu), 0x0100);
	assert_int_equal(es_cksum_fold(0x1ffffu), 0x0001);
	assert_int_equal(es_cksum_fold(0xffffffffu), 0xffff);
	assert_int_equal(es_cksum_fold(0), 0);
	/* a running sum continues where it left off */
	assert_int_equal(es_cksum_add(es_cksum_add(0, d, 4), d + 4, 1),
			 es_cksum_add(0, d, 5));
	assert_int_equal((uint16_t)~es_cksum_fold(es_cksum_add(0, d, 5)),
			 ref_cksum(d, 5));
}

/* ================= counters ================= */

T(counters__parser_ids_are_named_drop_counters)
{
	static const int ids[] = {
		ES_CNT_L2_TRUNC, ES_CNT_L2_ETHERTYPE, ES_CNT_L2_VLAN_DEPTH,
		ES_CNT_IP4_TRUNC, ES_CNT_IP4_VERSION, ES_CNT_IP4_IHL,
		ES_CNT_IP4_LEN, ES_CNT_IP4_CKSUM, ES_CNT_IP6_TRUNC,
		ES_CNT_IP6_VERSION, ES_CNT_IP6_LEN, ES_CNT_IP6_EXT,
		ES_CNT_UDP_TRUNC, ES_CNT_UDP_LEN, ES_CNT_GTP_TRUNC,
		ES_CNT_GTP_VERSION, ES_CNT_GTP_LEN, ES_CNT_GTP_EXT_LEN0,
		ES_CNT_GTP_EXT_TRUNC, ES_CNT_GTP_EXT_UNKNOWN,
		ES_CNT_GTP_EXT_BAD, ES_CNT_INNER_NOT_IP, ES_CNT_INNER_TRUNC,
		ES_CNT_INNER_IHL, ES_CNT_INNER_LEN, ES_CNT_INNER_EXT,
		ES_CNT_INNER_L4_TRUNC,
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_true(ids[i] > ES_CNT_NONE && ids[i] < ES_CNT_MAX);
		assert_int_equal(es_cnt_desc[ids[i]].kind, ES_KIND_DROP);
		assert_int_equal(es_cnt_by_name(es_cnt_desc[ids[i]].name),
				 ids[i]);
	}
	assert_int_equal(es_cnt_by_name("drop_gtpu_ext_len0"),
			 ES_CNT_GTP_EXT_LEN0);
	assert_int_equal(es_cnt_by_name("no_such_counter"), -1);
	assert_int_equal(es_cnt_by_name("none"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* valid */
		cmocka_unit_test(parse__plain_gpdu_ipv4_in_ipv4_gives_teid_ports_addresses_and_dscp),
		cmocka_unit_test(parse_gtpu__s_flag_only_gives_12_byte_header_and_sequence),
		cmocka_unit_test(parse_gtpu__pn_flag_only_gives_12_byte_header),
		cmocka_unit_test(parse_gtpu__ignores_next_type_octet_when_e_flag_is_clear),
		cmocka_unit_test(parse_gtpu__reads_ul_psc_type_1_qfi_9),
		cmocka_unit_test(parse_gtpu__reads_dl_psc_type_0_qfi_5),
		cmocka_unit_test(parse_gtpu__reads_psc_chained_after_udp_port_extension),
		cmocka_unit_test(parse_gtpu__skips_unknown_extension_types_with_top_bits_00_and_01),
		cmocka_unit_test(parse_gtpu__skips_known_ran_container_of_any_length),
		cmocka_unit_test(parse_gtpu__accepts_echo_request_without_payload),
		cmocka_unit_test(parse__ipv6_outer_with_ipv6_inner_tcp),
		cmocka_unit_test(parse_outer__accepts_one_vlan_tag),
		cmocka_unit_test(parse_outer__accepts_two_vlan_tags_88a8_then_8100),
		cmocka_unit_test(parse_outer__accepts_ipv4_options_ihl_6),
		cmocka_unit_test(parse_outer__ipv4_more_fragments_gives_frag),
		cmocka_unit_test(parse_outer__ipv4_nonzero_fragment_offset_gives_frag),
		cmocka_unit_test(parse_outer__ipv4_df_alone_is_not_a_fragment),
		cmocka_unit_test(parse_outer__ipv6_fragment_header_gives_frag),
		cmocka_unit_test(parse_outer__ipv6_atomic_fragment_header_is_not_a_fragment),
		cmocka_unit_test(parse_outer__ipv6_walks_hop_by_hop_and_destination_options),
		cmocka_unit_test(parse_outer__arp_gives_arp),
		cmocka_unit_test(parse_outer__udp_to_another_port_gives_ip),
		cmocka_unit_test(parse_outer__non_udp_ip_gives_ip),
		cmocka_unit_test(parse_outer__accepts_ethernet_padding_after_ip_total_length),
		cmocka_unit_test(parse_inner__ipv6_hop_by_hop_then_udp_gives_ports),
		cmocka_unit_test(parse_inner__ipv4_non_first_fragment_has_ports_0),
		cmocka_unit_test(parse_inner__ipv4_first_fragment_keeps_ports),
		cmocka_unit_test(parse_inner__ipv6_non_first_fragment_has_ports_0),
		cmocka_unit_test(parse_inner__ipv6_first_fragment_keeps_ports),
		cmocka_unit_test(parse_inner__icmp_echo_reply_gives_ports_0),
		cmocka_unit_test(parse_inner__icmp_gives_type_in_sport_and_code_in_dport),
		cmocka_unit_test(parse_inner__sctp_gives_ports),
		cmocka_unit_test(parse_inner__ipv6_dscp_comes_from_traffic_class),
		cmocka_unit_test(parse_inner__not_exact_accepts_padding_after_ip_length),
		cmocka_unit_test(parse_fast__takes_the_common_packets_and_agrees_with_the_full_parsers),
		cmocka_unit_test(parse_fast__agrees_with_the_full_parsers_on_every_prefix_and_byte_change),
		/* malformed GTP-U */
		cmocka_unit_test(parse_gtpu__rejects_ext_len_zero),
		cmocka_unit_test(parse_gtpu__rejects_ext_len_zero_later_in_the_chain),
		cmocka_unit_test(parse_gtpu__rejects_ext_length_past_the_end),
		cmocka_unit_test(parse_gtpu__rejects_next_type_pointing_past_the_end),
		cmocka_unit_test(parse_gtpu__rejects_e_flag_naming_an_extension_with_nothing_after),
		cmocka_unit_test(parse_gtpu__rejects_unknown_comprehension_required_types),
		cmocka_unit_test(parse_gtpu__rejects_length_field_bigger_than_udp_payload),
		cmocka_unit_test(parse_gtpu__rejects_length_field_smaller_than_udp_payload),
		cmocka_unit_test(parse_gtpu__rejects_header_shorter_than_8),
		cmocka_unit_test(parse_gtpu__rejects_optional_fields_with_length_below_4),
		cmocka_unit_test(parse_gtpu__rejects_version_other_than_1),
		cmocka_unit_test(parse_gtpu__rejects_pt_0_gtp_prime),
		cmocka_unit_test(parse_gtpu__rejects_psc_pdu_type_2),
		cmocka_unit_test(parse_gtpu__rejects_two_pscs),
		cmocka_unit_test(parse_gtpu__rejects_udp_port_ext_of_length_2),
		cmocka_unit_test(parse_gtpu__rejects_pdcp_number_ext_of_length_2),
		cmocka_unit_test(parse_gtpu__checks_the_fixed_length_of_every_known_type),
		cmocka_unit_test(cksum__ip4_hdr_ok_agrees_with_the_full_sum),
		/* malformed outer */
		cmocka_unit_test(parse_outer__rejects_frame_shorter_than_14),
		cmocka_unit_test(parse_outer__rejects_truncated_vlan_tag),
		cmocka_unit_test(parse_outer__rejects_three_vlan_tags),
		cmocka_unit_test(parse_outer__rejects_unknown_ethertype),
		cmocka_unit_test(parse_outer__rejects_ipv4_shorter_than_20),
		cmocka_unit_test(parse_outer__rejects_ipv4_version_not_4),
		cmocka_unit_test(parse_outer__rejects_ipv4_ihl_below_5),
		cmocka_unit_test(parse_outer__rejects_ipv4_ihl_beyond_frame),
		cmocka_unit_test(parse_outer__rejects_ipv4_total_length_beyond_frame),
		cmocka_unit_test(parse_outer__rejects_ipv4_total_length_below_header),
		cmocka_unit_test(parse_outer__rejects_bad_ipv4_checksum_when_verifying),
		cmocka_unit_test(parse_outer__accepts_bad_ipv4_checksum_when_not_verifying),
		cmocka_unit_test(parse_outer__rejects_ipv6_payload_length_beyond_frame),
		cmocka_unit_test(parse_outer__rejects_ipv6_shorter_than_40),
		cmocka_unit_test(parse_outer__rejects_ipv6_version_not_6),
		cmocka_unit_test(parse_outer__rejects_ipv6_ext_chain_longer_than_8),
		cmocka_unit_test(parse_outer__rejects_ipv6_ext_header_past_payload),
		cmocka_unit_test(parse_outer__rejects_ipv6_ext_header_shorter_than_8),
		cmocka_unit_test(parse_outer__rejects_udp_length_mismatch),
		cmocka_unit_test(parse_outer__rejects_udp_header_past_ip_end),
		/* malformed inner */
		cmocka_unit_test(parse_inner__rejects_empty),
		cmocka_unit_test(parse_inner__rejects_version_5),
		cmocka_unit_test(parse_inner__rejects_ipv4_ihl_below_5),
		cmocka_unit_test(parse_inner__rejects_ipv4_ihl_beyond_packet),
		cmocka_unit_test(parse_inner__rejects_ipv4_length_other_than_tpdu_when_exact),
		cmocka_unit_test(parse_inner__accepts_shorter_ipv4_length_when_not_exact),
		cmocka_unit_test(parse_inner__rejects_ipv4_total_length_below_ihl),
		cmocka_unit_test(parse_inner__rejects_ipv6_payload_length_wrong),
		cmocka_unit_test(parse_inner__rejects_truncated_tcp),
		cmocka_unit_test(parse_inner__rejects_truncated_udp_and_icmp),
		cmocka_unit_test(parse_inner__rejects_ipv4_shorter_than_20),
		cmocka_unit_test(parse_inner__rejects_ipv6_shorter_than_40),
		cmocka_unit_test(parse_inner__rejects_ipv6_ext_chain_longer_than_8),
		cmocka_unit_test(parse_inner__rejects_ipv6_ext_header_shorter_than_8),
		/* robustness */
		cmocka_unit_test(parse__never_reads_past_any_prefix_of_a_valid_packet),
		cmocka_unit_test(parse_gtpu__returns_for_every_flags_byte),
		cmocka_unit_test(parse_gtpu__returns_for_every_first_ext_length_byte),
		/* checksum, counters */
		cmocka_unit_test(cksum__ip4_hdr_cksum_of_textbook_header_is_b861),
		cmocka_unit_test(cksum__ip4_hdr_cksum_matches_reference_on_generated_headers),
		cmocka_unit_test(cksum__add_and_fold_handle_odd_length_and_carries),
		cmocka_unit_test(counters__parser_ids_are_named_drop_counters),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
