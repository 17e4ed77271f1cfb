/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsers; see parse.h. Every read is preceded by a bounds check
 * against the length handed in, and pointers are re-derived from offsets
 * after each step.
 */
#include <string.h>
#include "parse.h"

#define ETH_HLEN        14
#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_IPV6  0x86dd
#define ETHERTYPE_ARP   0x0806
#define ETHERTYPE_VLAN  0x8100
#define ETHERTYPE_QINQ  0x88a8
#define ETHERTYPE_QINQ1 0x9100

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_    1
#define IPPROTO_TCP_     6
#define IPPROTO_UDP_     17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAG_    44
#define IPPROTO_AH_      51
#define IPPROTO_ICMPV6_  58
#define IPPROTO_NONE_    59
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_SCTP_    132

uint32_t es_cksum_add(uint32_t sum, const void *data, uint32_t len)
{
	const uint8_t *p = data;
	while (len > 1) {
		sum += (uint32_t)((p[0] << 8) | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

uint16_t es_cksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t es_ip4_hdr_cksum(const uint8_t *ip, uint32_t hlen)
{
	/* RFC 1071 §2: the ones' complement sum can be taken over 32-bit
	 * words in any byte order and folded; swap once at the end. hlen is
	 * a multiple of 4 (IHL * 4). */
	uint64_t sum = 0;
	uint16_t r;
	if (hlen == 20) {
		/* the common header, without options: five words, no loop */
		sum = es_ip4_sum20(ip);
	} else {
		for (uint32_t i = 0; i + 4 <= hlen; i += 4) {
			uint32_t w;
			memcpy(&w, ip + i, 4);
			sum += w;
		}
	}
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	r = (uint16_t)~sum;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	r = __builtin_bswap16(r);
#endif
	return r;
}

/*
 * Walk IPv6 extension headers starting after the fixed header.
 * *nh: next header of the fixed header in, final protocol out.
 * *off: offset of the first extension header in, of the L4 header out.
 * *frag: set to 1 if a fragment header says this is a fragment (offset or
 * M flag), *first_frag to 1 if it is the first one (offset 0).
 * Returns 0 or bad (the caller's counter for a malformed chain).
 */
static int ip6_walk_ext(const uint8_t *buf, uint32_t end, uint8_t *nh,
			uint32_t *off, uint8_t *frag, uint8_t *first_frag,
			int bad)
{
	uint32_t o = *off;
	uint8_t n = *nh;
	*frag = 0;
	*first_frag = 0;
	for (int i = 0; ; i++) {
		uint32_t elen;
		if (n != IPPROTO_HOPOPTS_ && n != IPPROTO_ROUTING_ &&
		    n != IPPROTO_FRAG_ && n != IPPROTO_DSTOPTS_ &&
		    n != IPPROTO_AH_)
			break;
		if (i >= ES_IP6_MAX_EXT)
			return bad;
		if (o + 8 > end)    /* every extension header is >= 8 bytes */
			return bad;
		if (n == IPPROTO_FRAG_) {
			uint16_t fo = es_be16(buf + o + 2);
			if ((fo & 0xfff9) != 0) {   /* offset or M flag */
				*frag = 1;
				*first_frag = (fo & 0xfff8) == 0;
			}
			elen = 8;
		} else if (n == IPPROTO_AH_) {
			elen = ((uint32_t)buf[o + 1] + 2) * 4;
		} else {
			elen = ((uint32_t)buf[o + 1] + 1) * 8;
		}
		if (o + elen > end)
			return bad;
		n = buf[o];
		o += elen;
	}
	*nh = n;
	*off = o;
	return ES_CNT_NONE;
}

int es_parse_outer(const uint8_t *buf, uint32_t len, bool verify_ip4_cksum,
		   struct es_outer *o)
{
	uint32_t off = ETH_HLEN;
	uint16_t et;

	memset(o, 0, sizeof(*o));
	if (len < ETH_HLEN)
		return ES_CNT_L2_TRUNC;
	et = es_be16(buf + 12);
	while (et == ETHERTYPE_VLAN || et == ETHERTYPE_QINQ ||
	       et == ETHERTYPE_QINQ1) {
		if (o->vlans == 2)
			return ES_CNT_L2_VLAN_DEPTH;
		if (off + 4 > len)
			return ES_CNT_L2_TRUNC;
		et = es_be16(buf + off + 2);
		off += 4;
		o->vlans++;
	}
	o->l2_len = (uint16_t)off;

	if (et == ETHERTYPE_ARP) {
		o->kind = ES_K_ARP;
		return ES_CNT_NONE;
	}
	if (et == ETHERTYPE_IPV4) {
		const uint8_t *ip = buf + off;
		uint32_t ihl, tot;
		if (off + 20 > len)
			return ES_CNT_IP4_TRUNC;
		if ((ip[0] >> 4) != 4)
			return ES_CNT_IP4_VERSION;
		ihl = (uint32_t)(ip[0] & 0x0f) * 4;
		if (ihl < 20 || off + ihl > len)
			return ES_CNT_IP4_IHL;
		tot = es_be16(ip + 2);
		if (tot < ihl || off + tot > len)
			return ES_CNT_IP4_LEN;
		if (verify_ip4_cksum && es_ip4_hdr_cksum(ip, ihl) != 0)
			return ES_CNT_IP4_CKSUM;
		o->l3_len = (uint16_t)ihl;
		o->ip_end = (uint16_t)(off + tot);
		o->l4_proto = ip[9];
		o->l4_off = (uint16_t)(off + ihl);
		if ((es_be16(ip + 6) & 0x3fff) != 0) { /* MF or offset */
			o->kind = ES_K_FRAG;
			return ES_CNT_NONE;
		}
	} else if (et == ETHERTYPE_IPV6) {
		const uint8_t *ip = buf + off;
		uint32_t end, l4;
		uint8_t nh, frag, first;
		int rc;
		if (off + 40 > len)
			return ES_CNT_IP6_TRUNC;
		if ((ip[0] >> 4) != 6)
			return ES_CNT_IP6_VERSION;
		end = off + 40 + es_be16(ip + 4);
		if (end > len)
			return ES_CNT_IP6_LEN;
		o->v6 = 1;
		o->ip_end = (uint16_t)end;
		nh = ip[6];
		l4 = off + 40;
		rc = ip6_walk_ext(buf, end, &nh, &l4, &frag, &first,
				  ES_CNT_IP6_EXT);
		if (rc)
			return rc;
		o->l3_len = (uint16_t)(l4 - off);
		o->l4_off = (uint16_t)l4;
		o->l4_proto = nh;
		if (frag) {
			o->kind = ES_K_FRAG;
			return ES_CNT_NONE;
		}
	} else {
		return ES_CNT_L2_ETHERTYPE;
	}

	o->kind = ES_K_IP;
	if (o->l4_proto == IPPROTO_UDP_) {
		const uint8_t *udp = buf + o->l4_off;
		if ((uint32_t)o->l4_off + 8 > o->ip_end)
			return ES_CNT_UDP_TRUNC;
		if (es_be16(udp + 4) != o->ip_end - o->l4_off)
			return ES_CNT_UDP_LEN;
		o->udp_sport = es_be16(udp);
		o->udp_dport = es_be16(udp + 2);
		if (o->udp_dport == ES_GTPU_PORT)
			o->kind = ES_K_GTPU;
	}
	return ES_CNT_NONE;
}

/* Extension header types this data plane knows (and so may skip). */
static bool gtp_ext_known(uint8_t t)
{
	switch (t) {
	case ES_GTP_EXT_MBMS: case ES_GTP_EXT_MS_INFO: case ES_GTP_EXT_SCI:
	case ES_GTP_EXT_LONG_PDCP0:
	case ES_GTP_EXT_UDP_PORT: case ES_GTP_EXT_RAN:
	case ES_GTP_EXT_LONG_PDCP: case ES_GTP_EXT_XW_RAN:
	case ES_GTP_EXT_NR_RAN: case ES_GTP_EXT_PSC: case ES_GTP_EXT_PDCP:
		return true;
	default:
		return false;
	}
}

/* The length, in 4-octet units, of the types TS 29.281 §5.2.2 gives a
 * fixed one; 0 for the containers, whose length varies (RAN §5.2.2.4, Xw
 * RAN §5.2.2.5, NR RAN §5.2.2.6, PDU Session §5.2.2.7 / TS 38.415), and
 * for MBMS support indication and MS Info Change Reporting support
 * indication (TS 29.060 types, reserved for the control plane in
 * TS 29.281 Figure 5.2.1-3: skipped by their length). */
static uint32_t gtp_ext_units(uint8_t t)
{
	switch (t) {
	case ES_GTP_EXT_UDP_PORT:   /* §5.2.2.1: UDP port, 2 octets */
	case ES_GTP_EXT_PDCP:       /* §5.2.2.2: PDCP PDU number, 2 octets */
	case ES_GTP_EXT_SCI:        /* §5.2.2.3: SCI, spare */
		return 1;
	case ES_GTP_EXT_LONG_PDCP:  /* §5.2.2.2A: 18-bit number, 3 spare */
	case ES_GTP_EXT_LONG_PDCP0: /* the same header, type bits 00 */
		return 2;
	default:
		return 0;
	}
}

int es_parse_gtpu(const uint8_t *buf, uint32_t len, struct es_gtpu *g)
{
	uint32_t off = 8;
	uint8_t next = ES_GTP_EXT_NONE;

	memset(g, 0, sizeof(*g));
	/* TS 29.281 §5.1: 8 mandatory octets. */
	if (len < 8)
		return ES_CNT_GTP_TRUNC;
	g->flags = buf[0];
	/* §5.1: version 1 (bits 8-6), PT 1 for GTP (0 is GTP'). */
	if ((g->flags & ES_GTP_VERSION_MASK) != ES_GTP_V1 ||
	    !(g->flags & ES_GTP_FLAG_PT))
		return ES_CNT_GTP_VERSION;
	g->type = buf[1];
	g->teid = es_be32(buf + 4);
	/* §5.1: Length is the payload after the mandatory part, optional
	 * fields and extension headers included. */
	if (es_be16(buf + 2) != len - 8)
		return ES_CNT_GTP_LEN;
	/* §5.1: any of E, S, PN means the 4 optional octets are present. */
	if (g->flags & (ES_GTP_FLAG_E | ES_GTP_FLAG_S | ES_GTP_FLAG_PN)) {
		if (len < 12)
			return ES_CNT_GTP_TRUNC;
		g->seq = es_be16(buf + 8);
		if (g->flags & ES_GTP_FLAG_E)
			next = buf[11];
		off = 12;
	}
	/* §5.2: each extension header is a length octet in units of 4
	 * octets (content included), its content and a next-type octet.
	 * Length 0 is malformed; every step advances >= 4 octets. */
	while (next != ES_GTP_EXT_NONE) {
		uint32_t elen;
		if (off + 1 > len)
			return ES_CNT_GTP_EXT_TRUNC;
		elen = (uint32_t)buf[off] * 4;
		if (elen == 0)
			return ES_CNT_GTP_EXT_LEN0;
		if (off + elen > len)
			return ES_CNT_GTP_EXT_TRUNC;
		if (!gtp_ext_known(next)) {
			/* §5.2.1: the two top bits of the type: 1x means a
			 * receiving endpoint must comprehend it. */
			if (next & 0x80)
				return ES_CNT_GTP_EXT_UNKNOWN;
		} else if (next == ES_GTP_EXT_PSC) {
			/* TS 38.415 §5.5.2: PDU type in the top 4 bits of
			 * the first content octet, QFI in the low 6 bits of
			 * the second; only DL (0) and UL (1) are defined. */
			uint8_t pt = buf[off + 1] >> 4;
			if (g->has_psc || pt > ES_PSC_UL)
				return ES_CNT_GTP_EXT_BAD;
			g->has_psc = 1;
			g->psc_type = pt;
			g->qfi = buf[off + 2] & 0x3f;
		} else if (gtp_ext_units(next) != 0 &&
			   elen != 4 * gtp_ext_units(next)) {
			/* §5.2.2: a type of fixed length at another one */
			return ES_CNT_GTP_EXT_BAD;
		}
		next = buf[off + elen - 1];
		off += elen;
		g->n_ext++;
	}
	g->hdr_len = (uint16_t)off;
	g->payload_len = (uint16_t)(len - off);
	return ES_CNT_NONE;
}

static inline int parse_l4(const uint8_t *buf, uint32_t off, uint32_t end,
		    struct es_inner *in)
{
	uint32_t need;
	if (in->is_frag)
		return ES_CNT_NONE;
	switch (in->proto) {
	case IPPROTO_TCP_:  need = 20; break;
	case IPPROTO_UDP_:  need = 8;  break;
	case IPPROTO_SCTP_: need = 12; break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		/* type and code stand in for the ports */
		if (off + 4 > end)
			return ES_CNT_INNER_L4_TRUNC;
		in->sport = buf[off];
		in->dport = buf[off + 1];
		return ES_CNT_NONE;
	default:
		return ES_CNT_NONE;
	}
	if (off + need > end)
		return ES_CNT_INNER_L4_TRUNC;
	in->sport = es_be16(buf + off);
	in->dport = es_be16(buf + off + 2);
	return ES_CNT_NONE;
}

int es_parse_inner(const uint8_t *buf, uint32_t len, bool exact,
		   struct es_inner *in)
{
	memset(in, 0, sizeof(*in));
	if (len < 1)
		return ES_CNT_INNER_NOT_IP;
	switch (buf[0] >> 4) {
	case 4: {
		uint32_t ihl, tot;
		if (len < 20)
			return ES_CNT_INNER_TRUNC;
		ihl = (uint32_t)(buf[0] & 0x0f) * 4;
		if (ihl < 20)
			return ES_CNT_INNER_IHL;
		if (ihl > len)
			return ES_CNT_INNER_TRUNC;
		tot = es_be16(buf + 2);
		if (tot < ihl || tot > len || (exact && tot != len))
			return ES_CNT_INNER_LEN;
		in->dscp = buf[1] >> 2;
		in->proto = buf[9];
		in->is_frag = (es_be16(buf + 6) & 0x1fff) != 0;
		memcpy(&in->a.v4.src_be, buf + 12, 4);
		memcpy(&in->a.v4.dst_be, buf + 16, 4);
		in->l3_len = (uint16_t)ihl;
		in->ip_len = (uint16_t)tot;
		return parse_l4(buf, ihl, tot, in);
	}
	case 6: {
		uint32_t tot, l4 = 40;
		uint8_t nh, frag, first;
		int rc;
		if (len < 40)
			return ES_CNT_INNER_TRUNC;
		tot = 40 + (uint32_t)es_be16(buf + 4);
		if (tot > len || (exact && tot != len))
			return ES_CNT_INNER_LEN;
		in->v6 = 1;
		in->dscp = (uint8_t)((((buf[0] & 0x0f) << 4) | (buf[1] >> 4)) >> 2);
		memcpy(in->a.v6a.src, buf + 8, 16);
		memcpy(in->a.v6a.dst, buf + 24, 16);
		nh = buf[6];
		rc = ip6_walk_ext(buf, tot, &nh, &l4, &frag, &first,
				  ES_CNT_INNER_EXT);
		if (rc)
			return rc;
		in->proto = nh;
		in->is_frag = frag && !first;
		in->l3_len = (uint16_t)l4;
		in->ip_len = (uint16_t)tot;
		return parse_l4(buf, l4, tot, in);
	}
	default:
		return ES_CNT_INNER_NOT_IP;
	}
}

/* The T-PDU or plain packet of the fast track: an IPv4 header of 20
 * bytes, not a fragment, tot bytes in all (checked by the caller). */
static inline int fast_inner4(const uint8_t *ip, uint32_t tot,
			      struct es_inner *in)
{
	/* every byte written, as es_parse_inner's memset leaves them, with
	 * stores the compiler can merge (no rep stos) */
	in->v6 = 0;
	in->proto = ip[9];
	in->dscp = ip[1] >> 2;
	in->is_frag = 0;
	in->l3_len = 20;
	in->ip_len = (uint16_t)tot;
	in->sport = 0;
	in->dport = 0;
	memcpy(&in->a.v4.src_be, ip + 12, 4);
	memcpy(&in->a.v4.dst_be, ip + 16, 4);
	{
		/* the rest of the address union: three word stores (a
		 * memset of 24 bytes here becomes a byte loop) */
		const uint64_t z = 0;
		memcpy(in->a.v6a.src + 8, &z, 8);
		memcpy(in->a.v6a.dst, &z, 8);
		memcpy(in->a.v6a.dst + 8, &z, 8);
	}
	_Static_assert(sizeof(((struct es_inner *)0)->a) == 32,
		       "es_inner address union: 8 bytes of IPv4, 24 cleared");
	return parse_l4(ip, 20, tot, in);
}

int es_parse_fast(const uint8_t *buf, uint32_t len, bool verify_ip4_cksum,
		  struct es_outer *o, struct es_gtpu *g, struct es_inner *in)
{
	const uint8_t *ip = buf + ETH_HLEN, *udp = ip + 20, *gh = udp + 8, *t;
	uint32_t tot, glen, hlen, plen;
	uint8_t f;

	/* Ethernet, IPv4 of 20 bytes, whole, not a fragment */
	if (len < ETH_HLEN + 20 || es_be16(buf + 12) != ETHERTYPE_IPV4 ||
	    ip[0] != 0x45)
		return ES_FAST_NONE;
	tot = es_be16(ip + 2);
	if (tot < 20 || ETH_HLEN + tot > len ||
	    (es_be16(ip + 6) & 0x3fff) != 0 ||
	    (verify_ip4_cksum && !es_ip4_hdr_ok(ip, 20)))
		return ES_FAST_NONE;
	memset(o, 0, sizeof(*o));
	o->l2_len = ETH_HLEN;
	o->l3_len = 20;
	o->l4_off = ETH_HLEN + 20;
	o->ip_end = (uint16_t)(ETH_HLEN + tot);
	o->kind = ES_K_IP;
	o->l4_proto = ip[9];
	if (o->l4_proto == IPPROTO_UDP_) {
		if (tot < 28 || es_be16(udp + 4) != tot - 20)
			return ES_FAST_NONE;
		o->udp_sport = es_be16(udp);
		o->udp_dport = es_be16(udp + 2);
		if (o->udp_dport == ES_GTPU_PORT)
			goto gtpu;
	}
	/* a plain IPv4 packet: its own inner packet */
	memset(g, 0, sizeof(*g));
	return fast_inner4(ip, tot, in) ? ES_FAST_NONE : ES_FAST_IP4;

gtpu:
	/* TS 29.281 §5.1: v1, PT 1, a G-PDU whose Length is the rest */
	o->kind = ES_K_GTPU;
	glen = tot - 28;
	if (glen < 8)
		return ES_FAST_NONE;
	f = gh[0];
	if ((f & 0xf8) != (ES_GTP_V1 | ES_GTP_FLAG_PT) ||
	    gh[1] != ES_GTP_GPDU || es_be16(gh + 2) != glen - 8)
		return ES_FAST_NONE;
	memset(g, 0, sizeof(*g));
	g->flags = f;
	g->type = ES_GTP_GPDU;
	g->teid = es_be32(gh + 4);
	hlen = 8;
	if (f & (ES_GTP_FLAG_E | ES_GTP_FLAG_S | ES_GTP_FLAG_PN)) {
		if (glen < 12)
			return ES_FAST_NONE;
		g->seq = es_be16(gh + 8);
		hlen = 12;
		if ((f & ES_GTP_FLAG_E) && gh[11] != ES_GTP_EXT_NONE) {
			/* one PDU Session Container (TS 38.415 §5.5.2),
			 * one 4-octet unit, DL or UL, last in the chain */
			if (gh[11] != ES_GTP_EXT_PSC || glen < 16 ||
			    gh[12] != 1 || (gh[13] >> 4) > ES_PSC_UL ||
			    gh[15] != ES_GTP_EXT_NONE)
				return ES_FAST_NONE;
			g->has_psc = 1;
			g->psc_type = gh[13] >> 4;
			g->qfi = gh[14] & 0x3f;
			g->n_ext = 1;
			hlen = 16;
		}
	}
	plen = glen - hlen;
	g->hdr_len = (uint16_t)hlen;
	g->payload_len = (uint16_t)plen;
	/* the T-PDU: IPv4 of 20 bytes, exactly the payload, not a fragment */
	t = gh + hlen;
	if (plen < 20 || t[0] != 0x45 || es_be16(t + 2) != plen ||
	    (es_be16(t + 6) & 0x1fff) != 0)
		return ES_FAST_NONE;
	return fast_inner4(t, plen, in) ? ES_FAST_NONE : ES_FAST_GPDU;
}
