/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The eBPF hook ABI: what an operator's program sees and may return.
 * Shared by the programs (clang -O2 -target bpf), the data plane and the
 * control side. Plain C with fixed-width types only, so that it compiles
 * for the host and for BPF alike.
 *
 * APPEND-ONLY. A field, a verdict, a helper once released keeps its
 * place, size and meaning; new ones go at the end (of the struct, of the
 * enum) and ES_HOOK_ABI_VERSION goes up by one. A program built against
 * version N runs on every version >= N: the context only grows, and the
 * data plane validates programs against the size of the context it has.
 *
 * The program:
 *
 *     #include "es_hook.h"
 *     ES_HOOK_SEC("hook") uint64_t prog(const struct es_hook_ctx *ctx)
 *     {
 *             if (ctx->dscp == 46)
 *                     return ES_HOOK_RET(ES_HOOK_STEER_APP, 3);
 *             return ES_HOOK_CONTINUE;
 *     }
 *
 * One argument, the context (read-only, see below); the return value is
 * a verdict (ES_HOOK_RET). No loops (DPDK's validator refuses any
 * backward jump), so a program's run is bounded by its length; no maps:
 * state a program keeps is its counter array (es_counter_add).
 *
 * How a program reaches the packet bytes, and why this way. DPDK 22.11's
 * validator (rte_bpf_load) knows the type and size of the program's
 * argument (RTE_BPF_ARG_PTR of a fixed size, or RTE_BPF_ARG_PTR_MBUF) and
 * checks every access through it against that size. It does not follow
 * a pointer loaded from memory: a pointer stored in the context is a
 * plain number to it, which it would refuse to dereference. With an mbuf
 * argument a program could reach the bytes, but only by redoing the
 * bounds arithmetic on buf_addr/data_off that the validator can follow,
 * which is easy to get wrong, and the program would see (and could
 * write) the whole mbuf. So the argument is this context, RTE_BPF_ARG_PTR
 * of sizeof(struct es_hook_ctx): every read of it is checked at load
 * time; and the packet bytes are read through a helper, es_pkt_load(off,
 * size), that checks off + size against the packet's length at run time
 * and returns ES_HOOK_OOB past it. A program can therefore read nothing
 * outside its context, its stack and the packet.
 *
 * Read-only: DPDK's validator lets a program store anywhere inside its
 * argument; edgesteer's loader adds its own pass (control/hook.c) that
 * refuses a program with a store through anything but its stack pointer
 * (r10 and copies of it), so the context and the packet cannot be
 * written. A program changes the packet only by its verdict.
 */
#ifndef ES_HOOK_H
#define ES_HOOK_H

#if defined(__bpf__) || defined(__BPF__)
/* the BPF target has no libc headers of its own: the compiler's types */
typedef __UINT8_TYPE__  uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
#else
#include <stdint.h>
#endif

#define ES_HOOK_ABI_VERSION 1

/* Hook points (ctx->point): where in the pipeline the program runs. */
enum es_hook_point {
	ES_HOOK_AFTER_PARSE    = 0, /* parsed and decapsulated view, before
				     * classification: no rule, no app yet */
	ES_HOOK_AFTER_CLASSIFY = 1, /* rule matched (or not), before its action */
	ES_HOOK_BEFORE_TX      = 2, /* the packet as it will leave, before tx */
	ES_HOOK_N_POINTS
};

/* Direction (ctx->dir). */
enum es_hook_dir {
	ES_HOOK_UL = 0,  /* uplink: from the gNB (N3) */
	ES_HOOK_DL = 1,  /* downlink: towards the gNB */
	ES_HOOK_N_DIRS
};

/* ctx->rule_action: the action of the matched rule (after-classify on). */
enum es_hook_action {
	ES_HOOK_ACT_NONE   = 0,  /* no rule matched / not classified yet */
	ES_HOOK_ACT_LOCAL  = 1,  /* steer to a local app (ctx->app) */
	ES_HOOK_ACT_RELAY  = 2,  /* relay to the cloud UPF (N9) */
	ES_HOOK_ACT_DROP   = 3,
	ES_HOOK_ACT_MIRROR = 4,
};

#define ES_HOOK_NONE32 0xffffffffu  /* an unknown or absent 32-bit field */
#define ES_HOOK_NONE8  0xffu        /* an unknown or absent 8-bit field */

/*
 * The context, read-only. Multi-byte numbers are in host order (little
 * endian on every platform edgesteer runs on) unless "network order" is
 * said. Absent values are ES_HOOK_NONE32 / ES_HOOK_NONE8 as noted.
 * 8-byte aligned, no implicit padding: the layout is the same for the
 * host compiler and for clang -target bpf.
 */
struct es_hook_ctx {
	uint32_t abi;          /*  0 ES_HOOK_ABI_VERSION of the data plane */
	uint8_t  point;        /*  4 enum es_hook_point */
	uint8_t  dir;          /*  5 enum es_hook_dir */
	uint8_t  in_port;      /*  6 edgesteer port index received on */
	uint8_t  out_port;     /*  7 port index it will leave by; NONE8 until known */
	uint32_t teid;         /*  8 GTP-U TEID received (UL: ours; DL: NONE32) */
	uint32_t session_id;   /* 12 session id; NONE32 if no session matched */
	uint8_t  qfi;          /* 16 QFI of the PDU session container; NONE8 if none */
	uint8_t  dscp;         /* 17 DSCP of the inner IP header (0..63) */
	uint8_t  ip_ver;       /* 18 inner IP version: 4 or 6 */
	uint8_t  proto;        /* 19 inner L4 protocol (6 TCP, 17 UDP, ...) */
	uint32_t ue_v4;        /* 20 the UE's IPv4 address, network order; 0 if none */
	uint8_t  ue_v6[16];    /* 24 the UE's IPv6 prefix/address; zeros if none */
	uint8_t  src[16];      /* 40 inner source address (v4: first 4 bytes) */
	uint8_t  dst[16];      /* 56 inner destination address (v4: first 4 bytes) */
	uint16_t sport;        /* 72 inner L4 source port (0 if none) */
	uint16_t dport;        /* 74 inner L4 destination port (0 if none) */
	uint32_t rule_prio;    /* 76 matched rule's priority; NONE32 if none */
	uint8_t  rule_action;  /* 80 enum es_hook_action of the matched rule */
	uint8_t  frag;         /* 81 1: the inner packet is a fragment */
	uint16_t inner_off;    /* 82 offset of the inner IP header in the packet bytes */
	uint32_t app;          /* 84 matched app's index; NONE32 if none */
	uint32_t pkt_len;      /* 88 bytes es_pkt_load can reach (from offset 0,
				*    the Ethernet header as received) */
	uint32_t wire_len;     /* 92 the whole frame's length */
	uint64_t reserved;     /* 96 zero */
	/* 104: new fields go here, and ES_HOOK_ABI_VERSION goes up */
};

/* Verdicts: a program returns ES_HOOK_RET(code, arg). The low 8 bits are
 * the code, bits 8..39 its argument. Terminal codes end the point's run
 * (the later programs at the point do not run); the others are recorded
 * and the next program runs. An unknown code counts as CONTINUE under
 * the program's "bad verdict" count. */
enum es_hook_verdict {
	ES_HOOK_CONTINUE  = 0, /* go on (next program, then the pipeline) */
	ES_HOOK_DROP      = 1, /* terminal: drop (counted drop_hook) */
	ES_HOOK_STEER_APP = 2, /* terminal: steer to the app of index arg */
	ES_HOOK_TO_CLOUD  = 3, /* terminal: relay to the cloud UPF (N9) */
	ES_HOOK_SET_DSCP  = 4, /* set the inner DSCP to arg (0..63), go on */
	ES_HOOK_SET_MARK  = 5, /* set the packet's mark (mbuf hash.fdir.hi) to arg, go on */
	ES_HOOK_N_VERDICTS
};

#define ES_HOOK_RET(code, arg) \
	((uint64_t)(code) | ((uint64_t)(uint32_t)(arg) << 8))
#define ES_HOOK_RET_CODE(r) ((uint32_t)((r) & 0xff))
#define ES_HOOK_RET_ARG(r)  ((uint32_t)((r) >> 8))

/* Counters a program owns (es_counter_add): per worker, summed by
 * `steerctl -j hook show`. */
#define ES_HOOK_N_COUNTERS 16

/* es_pkt_load's answer past the packet's end (or a bad size). Values it
 * returns otherwise fit in 32 bits. */
#define ES_HOOK_OOB 0xffffffffffffffffull

/*
 * Helpers. DPDK resolves a program's call to an external function by its
 * name (rte_bpf_xsym), so a helper's name is its identity; the ids are
 * for the documentation and for the counters of the loader. A call to
 * any other name is refused at load ("unknown helper").
 *
 *  1 es_pkt_load(off, size): the packet's bytes [off, off + size),
 *    size 1, 2 or 4, as a big-endian number (network order read as
 *    such); ES_HOOK_OOB past pkt_len or for another size.
 *  2 es_counter_add(idx, v): add v to the program's counter idx
 *    (< ES_HOOK_N_COUNTERS); 0, or ES_HOOK_OOB for a bad idx.
 *  3 es_time_ns(): the time in nanoseconds from the TSC (monotonic, not
 *    the wall clock).
 *  4 es_trace(a, b): append a record (time, program, point, dir, a, b)
 *    to the worker's trace ring, that `steerctl hook trace` shows; old
 *    records are overwritten when the ring is full. Returns 0.
 */
enum es_hook_helper_id {
	ES_HOOK_H_PKT_LOAD    = 1,
	ES_HOOK_H_COUNTER_ADD = 2,
	ES_HOOK_H_TIME_NS     = 3,
	ES_HOOK_H_TRACE       = 4,
};

#if defined(__bpf__) || defined(__BPF__)
/* for programs: the prototypes and the section macro */
extern uint64_t es_pkt_load(uint32_t off, uint32_t size);
extern uint64_t es_counter_add(uint32_t idx, uint64_t v);
extern uint64_t es_time_ns(void);
extern uint64_t es_trace(uint64_t a, uint64_t b);
#define ES_HOOK_SEC(name) __attribute__((section(name), used))
#endif

#endif
