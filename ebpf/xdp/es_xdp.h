/* es_xdp.h: what the XDP front end (es_xdp.bpf.c) and its loader (es-xdp)
 * share: map names, keys and counter indices. Append-only. */
#ifndef ES_XDP_H
#define ES_XDP_H

#include <linux/types.h>

#define ES_XDP_ABI_VERSION 1   /* bumped on any change below but an append */

#define ES_XDP_MAX_QUEUES 64   /* xsks_map entries: one per rx queue */
#define ES_XDP_MAX_ADDRS  64   /* es_addr4 / es_addr6 entries */
#define ES_XDP_MAX_PORTS  64   /* es_ports entries */

/* es_ports key: protocol (IPPROTO_UDP / IPPROTO_TCP) and port, network order */
struct es_xdp_port {
	__u16 proto;
	__u16 port_be;
};                             /* 4 bytes, no padding */

/* es_cnt indices (per-CPU array of __u64). A frame moves RX and exactly one
 * of the verdict counters (REDIRECT, NOSOCK, PASS_*); the "why" counters
 * (GTPU..LPORT) say why a redirected or NOSOCK frame was ours. */
enum es_xdp_cnt {
	ES_XDP_RX = 0,         /* frames seen */
	ES_XDP_REDIRECT,       /* ours, handed to the AF_XDP socket of its queue */
	ES_XDP_NOSOCK,         /* ours, but no socket on its queue: XDP_PASS */
	ES_XDP_PASS,           /* not ours: XDP_PASS */
	ES_XDP_PASS_SHORT,     /* truncated header: XDP_PASS */
	ES_XDP_PASS_VLAN,      /* VLAN-tagged (802.1Q/802.1ad): XDP_PASS */
	ES_XDP_WHY_GTPU,       /* UDP 2152 to one of our addresses */
	ES_XDP_WHY_ARP,        /* ARP whose target is one of our IPv4 addresses */
	ES_XDP_WHY_ND,         /* ICMPv6 NS/NA whose target is one of our IPv6 */
	ES_XDP_WHY_LPORT,      /* UDP/TCP to a configured local port, our address */
	ES_XDP_WHY_ICMP,       /* ICMP, or ICMPv6 other than NS/NA, to our address */
	/* es_xdp() redirects every code from ES_XDP_WHY_GTPU on: append WHY_*
	 * codes only, or change its test */
	ES_XDP_NCNT
};

#define ES_XDP_CNT_NAMES { "rx", "redirect", "nosock", "pass", "pass_short", \
	"pass_vlan", "why_gtpu", "why_arp", "why_nd", "why_lport", "why_icmp" }

#endif
