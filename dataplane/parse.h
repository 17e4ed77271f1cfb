/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsers: outer Ethernet/VLAN/IPv4/IPv6/UDP, GTP-U v1 with its
 * extension header chain (TS 29.281), the PDU Session Container
 * (TS 38.415), and the inner IPv4/IPv6 packet with its L4 ports.
 *
 * Pure functions over (buf, len): no DPDK, no allocation, no global state,
 * safe on any lcore. They never read at or past buf + len. Each returns
 * ES_CNT_NONE (0) on success or the id of the drop counter that names
 * what is wrong (enum es_cnt), so a caller counts and drops in one place.
 *
 * Byte order: fields named *_be are big-endian (as on the wire); all
 * other integer fields are host order.
 */
#ifndef ES_PARSE_H
#define ES_PARSE_H

#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include "counters.h"

#define ES_GTPU_PORT        2152

/* GTP-U message types (TS 29.281 §6.1) */
#define ES_GTP_ECHO_REQ     1
#define ES_GTP_ECHO_RESP    2
#define ES_GTP_ERROR_IND    26
#define ES_GTP_SUPP_EXT     31
#define ES_GTP_END_MARKER   254
#define ES_GTP_GPDU         255

/* GTP-U flags octet */
#define ES_GTP_FLAG_PN      0x01
#define ES_GTP_FLAG_S       0x02
#define ES_GTP_FLAG_E       0x04
#define ES_GTP_FLAG_PT      0x10
#define ES_GTP_VERSION_MASK 0xe0
#define ES_GTP_V1           0x20

/* Extension header types (TS 29.281 §5.2.1, §5.2.2) */
#define ES_GTP_EXT_NONE     0x00
#define ES_GTP_EXT_MBMS     0x01
#define ES_GTP_EXT_MS_INFO  0x02
#define ES_GTP_EXT_LONG_PDCP0 0x03  /* Long PDCP PDU Number, bits 00 (Rel-16) */
#define ES_GTP_EXT_SCI      0x20
#define ES_GTP_EXT_UDP_PORT 0x40
#define ES_GTP_EXT_RAN      0x81
#define ES_GTP_EXT_LONG_PDCP 0x82
#define ES_GTP_EXT_XW_RAN   0x83
#define ES_GTP_EXT_NR_RAN   0x84
#define ES_GTP_EXT_PSC      0x85
#define ES_GTP_EXT_PDCP     0xc0

/* PDU Session Container PDU types (TS 38.415 §5.5.2) */
#define ES_PSC_DL           0
#define ES_PSC_UL           1

/* What the outer parse found. */
enum es_kind {
	ES_K_GTPU = 0,   /* UDP to port 2152 (any GTP-U message) */
	ES_K_ARP,        /* ARP */
	ES_K_IP,         /* other IP (to be routed or handled by the host path) */
	ES_K_FRAG,       /* outer IPv4/IPv6 fragment: reassemble first */
};

/* Outer headers of a frame. Offsets are from the start of the frame. */
struct es_outer {
	uint16_t l2_len;      /* Ethernet + VLAN tags */
	uint16_t l3_len;      /* IPv4 header with options / IPv6 with ext headers */
	uint16_t l4_off;      /* offset of the UDP (or other L4) header */
	uint16_t ip_end;      /* l2_len + IP total length: end of IP payload */
	uint8_t  kind;        /* enum es_kind */
	uint8_t  v6;          /* outer is IPv6 */
	uint8_t  l4_proto;    /* outer IP protocol / final next header */
	uint8_t  vlans;       /* number of VLAN tags */
	uint16_t udp_sport;   /* when l4_proto == UDP */
	uint16_t udp_dport;
};

/* A GTP-U header and its extension chain. */
struct es_gtpu {
	uint8_t  flags;
	uint8_t  type;
	uint16_t hdr_len;     /* 8, or 12 + extension headers */
	uint32_t teid;        /* host order */
	uint16_t seq;         /* valid when flags & S */
	uint16_t payload_len; /* bytes after hdr_len (the T-PDU for a G-PDU) */
	uint8_t  has_psc;     /* a PDU Session Container was found */
	uint8_t  psc_type;    /* ES_PSC_DL / ES_PSC_UL */
	uint8_t  qfi;         /* from the container, 0 when none */
	uint8_t  n_ext;       /* extension headers walked */
};

/* The inner (or plain) IP packet with its 5-tuple. */
struct es_inner {
	uint8_t  v6;
	uint8_t  proto;       /* final next header / protocol */
	uint8_t  dscp;        /* 6 bits */
	uint8_t  is_frag;     /* a non-first fragment: no ports */
	uint16_t l3_len;      /* IP header incl. v6 extension headers */
	uint16_t ip_len;      /* IP total length */
	uint16_t sport;       /* host order; 0 when no ports */
	uint16_t dport;
	union {
		struct { uint32_t src_be, dst_be; } v4;
		struct { uint8_t src[16], dst[16]; } v6a;
	} a;
};

/*
 * Parse Ethernet, up to two VLAN tags, outer IPv4 (with options) or
 * IPv6 (with hop-by-hop, routing, destination options, fragment headers)
 * and the UDP header when the packet is UDP.
 * verify_ip4_cksum: check the IPv4 header checksum in software (pass
 * false when the NIC has already said it is good).
 * UDP to port 2152 gives ES_K_GTPU; UDP length must equal the IP payload.
 */
int es_parse_outer(const uint8_t *buf, uint32_t len, bool verify_ip4_cksum,
		   struct es_outer *o);

/*
 * Parse a GTP-U header at buf (its UDP payload, len bytes) and walk its
 * extension header chain; every step moves forward at least 4 bytes, so
 * the walk ends. Checks version 1 and PT = 1, the length field
 * against len, extension lengths (0 is malformed, past the end is
 * malformed), unknown types whose two top bits ask for comprehension, and
 * the PDU Session Container type and length.
 */
int es_parse_gtpu(const uint8_t *buf, uint32_t len, struct es_gtpu *g);

/*
 * Parse an IP packet at buf (len bytes). With exact, the IP length must
 * equal len (a T-PDU); without it, it may be shorter (Ethernet padding).
 * Fills the addresses, protocol, DSCP and the TCP/UDP/SCTP ports (ICMP:
 * type in sport, code in dport). IPv6 extension headers are walked (at
 * most ES_IP6_MAX_EXT).
 */
int es_parse_inner(const uint8_t *buf, uint32_t len, bool exact,
		   struct es_inner *in);

#define ES_IP6_MAX_EXT 8

/* What the fast track recognised (es_parse_fast). */
enum es_fast {
	ES_FAST_NONE = 0,  /* not the common packet: use the full parsers */
	ES_FAST_GPDU,      /* a G-PDU over IPv4 with an IPv4 T-PDU */
	ES_FAST_IP4,       /* a plain IPv4 packet (not GTP-U) */
};

/*
 * The fast track for the common packet, in one pass with one predicate
 * per header (STYLE.md §2): Ethernet without VLAN tags; IPv4 without
 * options, not a fragment, header checksum good when verify_ip4_cksum;
 * and then either
 *  - ES_FAST_GPDU: UDP to 2152 with UDP length = IP payload; GTP-U v1,
 *    PT 1, reserved bit 0, type G-PDU, Length field = UDP payload - 8,
 *    at most one extension header and that a 4-octet PDU Session
 *    Container of type DL or UL ending the chain; a T-PDU that is IPv4
 *    without options, not a fragment, of exactly the G-PDU's payload
 *    length, its L4 header whole. o, g and in are then byte for byte
 *    what es_parse_outer, es_parse_gtpu (on the UDP payload) and
 *    es_parse_inner (on the T-PDU, exact or not) give.
 *  - ES_FAST_IP4: not UDP to 2152 (UDP: length = IP payload), the L4
 *    header whole. o is what es_parse_outer gives (kind ES_K_IP), in
 *    what es_parse_inner(buf + 14, IP total length, false) gives, g all
 *    zero.
 * ES_FAST_NONE for anything else, malformed or just less common (o, g,
 * in then hold anything): the full parsers decide and name the reason.
 * Never reads at or past buf + len. Pure; safe on any lcore.
 */
int es_parse_fast(const uint8_t *buf, uint32_t len, bool verify_ip4_cksum,
		  struct es_outer *o, struct es_gtpu *g, struct es_inner *in);

/* Internet checksum helpers (RFC 1071), shared with the encapsulation. */
uint16_t es_cksum_fold(uint32_t sum);
uint32_t es_cksum_add(uint32_t sum, const void *data, uint32_t len);
/* Header checksum of an IPv4 header (checksum field taken as is). */
uint16_t es_ip4_hdr_cksum(const uint8_t *ip, uint32_t hlen);

/* The ones' complement sum of a 20-byte IPv4 header, folded to 16 bits
 * in memory byte order: 0xffff when the header checksum is good. Five
 * 32-bit loads and adds: cheap enough for the hot path. */
static inline uint32_t es_ip4_sum20(const uint8_t *ip)
{
	uint32_t w[5];
	uint64_t sum;
	memcpy(w, ip, sizeof(w));
	sum = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

/*
 * Whether the IPv4 header at ip, hlen bytes (IHL * 4, at least 20), of a
 * packet whose version field is 4, has a right header checksum (RFC 1071:
 * its ones' complement sum is all ones). For 20 bytes, the hot path's,
 * without folding: 2^16 = 1 modulo 0xffff, so any grouping of the bytes
 * into 16-, 32- or 64-bit words in memory order (a byte swap multiplies
 * by 2^8, which 0xffff is prime to; 2^64 = 1, so a carry out of 64 bits
 * adds back as 1) sums to 0 modulo 0xffff exactly when the ones'
 * complement sum is 0xffff or 0x0000, and 0x0000 needs an all-zero
 * header, which version 4 rules out. Two 8-byte and one 4-byte load, two
 * adds with end-around carry, and a modulo by a constant (a multiply).
 */
static inline bool es_ip4_hdr_ok(const uint8_t *ip, uint32_t hlen)
{
	if (hlen == 20) {
		uint64_t a, b, s;
		uint32_t c;
		memcpy(&a, ip, 8);
		memcpy(&b, ip + 8, 8);
		memcpy(&c, ip + 16, 4);
		s = a + b;
		s += s < a;
		s += c;
		s += s < c;
		return s % 0xffff == 0;
	}
	return es_ip4_hdr_cksum(ip, hlen) == 0;
}

static inline uint16_t es_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t es_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}
static inline void es_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void es_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
