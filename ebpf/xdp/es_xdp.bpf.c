// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* es_xdp.bpf.c: the XDP front end that lets edgesteer share a NIC with the
 * host kernel (docs/ebpf.md "XDP front end").
 *
 * Frames edgesteer must see go to the AF_XDP socket bound to the frame's rx
 * queue (xsks_map, filled by DPDK's net_af_xdp PMD); everything else goes
 * on to the kernel (XDP_PASS):
 *   - IPv4/IPv6 UDP to port 2152 (GTP-U) whose destination is ours (es_addr4,
 *     es_addr6), and IPv4 UDP fragments to our addresses (edgesteer
 *     reassembles GTP-U);
 *   - ARP whose target protocol address is one of our IPv4 addresses;
 *   - ICMPv6 neighbour solicitation/advertisement (135/136) whose target is
 *     one of our IPv6 addresses;
 *   - UDP/TCP to one of our addresses and a port listed in es_ports;
 *   - ICMP, and ICMPv6 other than NS/NA, to one of our addresses (edgesteer
 *     answers echo requests for them; the kernel does not own them).
 * VLAN-tagged frames (802.1Q, 802.1ad) are passed to the kernel.
 * A frame that is ours but whose queue has no socket is passed as well
 * (bpf_redirect_map's fallback XDP_PASS) and counted NOSOCK, so a test run
 * (BPF_PROG_TEST_RUN, no socket) still shows each decision in es_cnt.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "es_xdp.h"

#define GTPU_PORT 2152
#define ETH_P_ARP_ 0x0806

/* name fixed by DPDK's net_af_xdp (xdp_prog= devarg): it fills it itself */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, ES_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_XDP_MAX_ADDRS);
	__type(key, __u32);		/* IPv4 address, network order */
	__type(value, __u8);
} es_addr4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_XDP_MAX_ADDRS);
	__type(key, struct in6_addr);
	__type(value, __u8);
} es_addr6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_XDP_MAX_PORTS);
	__type(key, struct es_xdp_port);
	__type(value, __u8);
} es_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_XDP_NCNT);
	__type(key, __u32);
	__type(value, __u64);
} es_cnt SEC(".maps");

/* ARP for Ethernet/IPv4, after the 8-byte fixed header */
struct arp_ipv4 {
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

struct arp_fixed {
	__be16 htype, ptype;
	__u8 hlen, plen;
	__be16 op;
};

static __always_inline void cnt(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&es_cnt, &i);

	if (v)
		*v += 1;
}

/* The classifiers below return one es_xdp_cnt code: a PASS_* code (or
 * ES_XDP_PASS) for the kernel, a WHY_* code for edgesteer; es_xdp() counts
 * it and acts on it at its one exit. */
#define pass(code) (code)
#define ours(code) (code)

static __always_inline int port_listed(__u16 proto, __be16 port)
{
	struct es_xdp_port k = { .proto = proto, .port_be = port };

	return bpf_map_lookup_elem(&es_ports, &k) != NULL;
}

/* UDP/TCP at l4 to one of our addresses: GTP-U or a listed port, else pass */
static __always_inline __u32 l4(void *l4p, void *end, __u8 proto)
{
	if (proto == IPPROTO_UDP) {
		struct udphdr *u = l4p;

		if ((void *)(u + 1) > end)
			return pass(ES_XDP_PASS_SHORT);
		if (u->dest == bpf_htons(GTPU_PORT))
			return ours(ES_XDP_WHY_GTPU);
		if (port_listed(IPPROTO_UDP, u->dest))
			return ours(ES_XDP_WHY_LPORT);
		return pass(ES_XDP_PASS);
	}
	if (proto == IPPROTO_ICMP)
		return ours(ES_XDP_WHY_ICMP);
	if (proto == IPPROTO_TCP) {
		struct tcphdr *t = l4p;

		if ((void *)(t + 1) > end)
			return pass(ES_XDP_PASS_SHORT);
		if (port_listed(IPPROTO_TCP, t->dest))
			return ours(ES_XDP_WHY_LPORT);
	}
	return pass(ES_XDP_PASS);
}

static __always_inline __u32 ipv4(void *p, void *end)
{
	struct iphdr *ip = p;
	__u32 hl;

	if ((void *)(ip + 1) > end)
		return pass(ES_XDP_PASS_SHORT);
	if (ip->version != 4 || ip->ihl < 5)
		return pass(ES_XDP_PASS);
	if (!bpf_map_lookup_elem(&es_addr4, &ip->daddr))
		return pass(ES_XDP_PASS);
	/* a fragment (MF set or offset non-zero) of UDP to us: edgesteer
	 * reassembles GTP-U, and a later fragment has no port to look at */
	if (ip->frag_off & bpf_htons(0x3fff))
		return ip->protocol == IPPROTO_UDP ? ours(ES_XDP_WHY_GTPU)
						   : pass(ES_XDP_PASS);
	hl = ip->ihl * 4;
	if (hl > 60)
		return pass(ES_XDP_PASS);
	return l4(p + hl, end, ip->protocol);
}

static __always_inline __u32 ipv6(void *p, void *end)
{
	struct ipv6hdr *ip = p;

	if ((void *)(ip + 1) > end)
		return pass(ES_XDP_PASS_SHORT);
	if (ip->nexthdr == IPPROTO_ICMPV6) {
		/* NS/NA: type, code, checksum, 4 bytes, then the target */
		__u8 *ic = (void *)(ip + 1);
		struct in6_addr *target = (void *)(ic + 8);

		if ((void *)(ic + 1) > end)
			return pass(ES_XDP_PASS_SHORT);
		if (ic[0] != 135 && ic[0] != 136)
			return bpf_map_lookup_elem(&es_addr6, &ip->daddr) ?
				ours(ES_XDP_WHY_ICMP) : pass(ES_XDP_PASS);
		if ((void *)(target + 1) > end)
			return pass(ES_XDP_PASS_SHORT);
		if (bpf_map_lookup_elem(&es_addr6, target))
			return ours(ES_XDP_WHY_ND);
		return pass(ES_XDP_PASS);
	}
	if (!bpf_map_lookup_elem(&es_addr6, &ip->daddr))
		return pass(ES_XDP_PASS);
	return l4(ip + 1, end, ip->nexthdr);
}

static __always_inline __u32 arp(void *p, void *end)
{
	struct arp_fixed *a = p;
	struct arp_ipv4 *b = (void *)(a + 1);

	if ((void *)(b + 1) > end)
		return pass(ES_XDP_PASS_SHORT);
	if (a->htype != bpf_htons(1) || a->ptype != bpf_htons(ETH_P_IP) ||
	    a->hlen != 6 || a->plen != 4)
		return pass(ES_XDP_PASS);
	if (bpf_map_lookup_elem(&es_addr4, b->tpa))
		return ours(ES_XDP_WHY_ARP);
	return pass(ES_XDP_PASS);
}

static __always_inline __u32 classify(void *data, void *end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return pass(ES_XDP_PASS_SHORT);
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		return ipv4(eth + 1, end);
	case bpf_htons(ETH_P_IPV6):
		return ipv6(eth + 1, end);
	case bpf_htons(ETH_P_ARP_):
		return arp(eth + 1, end);
	case bpf_htons(ETH_P_8021Q):
	case bpf_htons(ETH_P_8021AD):
		return pass(ES_XDP_PASS_VLAN);
	}
	return pass(ES_XDP_PASS);
}

SEC("xdp")
int es_xdp(struct xdp_md *ctx)
{
	__u32 code = classify((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	int verdict = XDP_PASS;

	cnt(ES_XDP_RX);
	cnt(code);
	if (code >= ES_XDP_WHY_GTPU) {
		verdict = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
		cnt(verdict == XDP_REDIRECT ? ES_XDP_REDIRECT : ES_XDP_NOSOCK);
	}
	return verdict;
}

char _license[] SEC("license") = "Dual BSD/GPL";
