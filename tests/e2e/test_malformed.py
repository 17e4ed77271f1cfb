"""Malformed packets through the real binary.

Every case starts from a valid uplink G-PDU for the session with ul-teid
0x100 (test_paths.gtpu_ul(test_paths.inner4(...), 0x100)) and corrupts one
thing. Each case must be forwarded on no port and raise exactly one DROP
counter, the one that names the malformation (dataplane/counters.def,
dataplane/parse.c, dataplane/ingress.h).

Packets scapy cannot express are built from raw bytes; UDP checksums of
raw-built packets are 0 (allowed over IPv4: the data plane does not
verify UDP checksums anyway).
"""
import logging
import os
import random
import re
import struct
from collections import Counter

from scapy.all import IP, IPv6, TCP, UDP, Dot1AD, Dot1Q, Ether, Raw

import esharness as h
import test_paths as tp
from esharness import (GNB_4, GNB_6, LAN_4, MAC_APP, MAC_GNB, MAC_LAN, MAC_N3,
                       N3_4, N3_6, APP_4)

# Raw() frames make wrpcap warn about the link type; it writes Ethernet.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

TEID = 0x100
INNER = tp.inner4("8.8.8.8")          # unmatched by any rule: goes to the cloud
BASE = tp.gtpu_ul(INNER, TEID)        # the valid G-PDU every case starts from
GTP = bytes(BASE[UDP].payload)        # 16-byte header (with PSC) + inner
PSC_UL = GTP[12:16]                   # 01 10 09 00: one unit, UL, QFI 9, no next
INNER_B = GTP[16:]
assert GTP[0] == 0x34 and GTP[11] == 0x85 and INNER_B == bytes(INNER)


def gtp(flags=0x34, mtype=0xff, teid=TEID, opt=b"\0\0\0\x85", exts=PSC_UL,
        payload=INNER_B, length=None):
    """GTP-U bytes; length defaults to the real length after octet 8."""
    rest = opt + exts + payload
    if length is None:
        length = len(rest)
    return struct.pack("!BBHI", flags, mtype, length, teid) + rest


def udp4(payload, dst=N3_4, dport=2152, **ip_kw):
    """A frame from the gNB to our N3 address carrying payload over UDP."""
    return (Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB_4, dst=dst, **ip_kw) /
            UDP(sport=2152, dport=dport, chksum=0) / Raw(payload))


def with_byte(frame, off, value):
    b = bytearray(bytes(frame))
    b[off] = value
    return Raw(bytes(b))


def bad_ip4_cksum():
    p = udp4(GTP)
    good = IP(bytes(p[IP])).chksum
    return udp4(GTP, chksum=good ^ 0x5a5a)


def inner_v6_bad_plen():
    i6 = bytes(IPv6(src=tp.UE6 + "5", dst="2001:db8:999::1") / UDP(sport=1, dport=2) / Raw(b"q" * 8))
    bad = i6[:4] + struct.pack("!H", len(i6) - 40 + 4) + i6[6:]   # 4 beyond the T-PDU
    return udp4(gtp(payload=bad))


def outer6(payload, plen=None):
    ip6 = IPv6(src=GNB_6, dst=N3_6) if plen is None else IPv6(src=GNB_6, dst=N3_6, plen=plen)
    return Ether(src=MAC_GNB, dst=MAC_N3) / ip6 / UDP(sport=2152, dport=2152) / Raw(payload)


def two_pscs():
    first = bytes([1, 0x10, 9, 0x85])      # next: another PSC
    return udp4(gtp(exts=first + PSC_UL))


def inner_bytes_ip(**kw):
    """The base inner packet with IP fields overridden."""
    return bytes(IP(src=tp.UE, dst="8.8.8.8", **kw) / UDP(sport=1000, dport=2000) / Raw(b"x" * 24))


GTPU_ON_LAN = (Ether(src=MAC_APP, dst=MAC_LAN) / IP(src=APP_4, dst=LAN_4) /
               UDP(sport=2152, dport=2152) / Raw(GTP))

# (name, expected drop counter, port, packet)
CASES = [
    # GTP-U header and extension headers
    ("ext_len0", "drop_gtpu_ext_len0", "n3", udp4(gtp(exts=b"\x00" + PSC_UL[1:]))),
    ("ext_chain_past_end", "drop_gtpu_ext_trunc", "n3", udp4(gtp(exts=b"\xff" + PSC_UL[1:]))),
    ("ext_unknown_required_0x8f", "drop_gtpu_ext_required", "n3", udp4(gtp(opt=b"\0\0\0\x8f"))),
    ("gtp_len_bigger", "drop_gtpu_len", "n3", udp4(gtp(length=len(GTP) - 8 + 1))),
    ("gtp_len_smaller", "drop_gtpu_len", "n3", udp4(gtp(length=len(GTP) - 8 - 1))),
    ("gtp_header_6_bytes", "drop_gtpu_truncated", "n3", udp4(GTP[:6])),
    ("e_flag_gtp_len_2", "drop_gtpu_truncated", "n3",
     udp4(gtp(opt=b"\0\0", exts=b"", payload=b""))),
    ("gtp_version_2", "drop_gtpu_version", "n3", udp4(gtp(flags=0x54))),
    ("gtp_pt_0", "drop_gtpu_version", "n3", udp4(gtp(flags=0x24))),
    ("psc_pdu_type_5", "drop_gtpu_ext_bad", "n3", udp4(gtp(exts=bytes([1, 0x50, 9, 0])))),
    ("two_pscs", "drop_gtpu_ext_bad", "n3", two_pscs()),
    # TS 29.281 §5.2.2.3, §5.2.2.2A: fixed lengths (one unit, two units)
    ("sci_ext_of_2_units", "drop_gtpu_ext_bad", "n3",
     udp4(gtp(opt=b"\0\0\0\x20", exts=bytes([2, 0x11, 0, 0, 0, 0, 0, 0x85]) + PSC_UL))),
    ("long_pdcp_ext_of_1_unit", "drop_gtpu_ext_bad", "n3",
     udp4(gtp(opt=b"\0\0\0\x82", exts=bytes([1, 0, 7, 0x85]) + PSC_UL))),
    ("gtp_msg_type_50", "drop_gtpu_msg_type", "n3", udp4(gtp(mtype=50))),
    # outer L2/L3/L4
    ("outer_ihl_4", "drop_ip4_ihl", "n3", with_byte(udp4(GTP), 14, 0x44)),
    ("outer_total_len_beyond_frame", "drop_ip4_len", "n3", udp4(GTP, len=20 + 8 + len(GTP) + 10)),
    ("outer_ip4_bad_checksum", "drop_ip4_cksum", "n3", bad_ip4_cksum()),
    ("outer_ip6_plen_beyond_frame", "drop_ip6_len", "n3", outer6(GTP, plen=8 + len(GTP) + 10)),
    ("udp_len_mismatch", "drop_udp_len", "n3",
     Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB_4, dst=N3_4) /
     UDP(sport=2152, dport=2152, len=8 + len(GTP) - 2, chksum=0) / Raw(GTP)),
    ("ethernet_10_bytes", "drop_l2_truncated", "n3", Raw(bytes(BASE)[:10])),
    ("three_vlan_tags", "drop_l2_vlan_depth", "n3",
     Ether(src=MAC_GNB, dst=MAC_N3) / Dot1AD(vlan=10) / Dot1Q(vlan=20) / Dot1Q(vlan=30) / BASE[IP]),
    ("unknown_ethertype", "drop_l2_ethertype", "n3",
     Ether(src=MAC_GNB, dst=MAC_N3, type=0x88b5) / Raw(bytes(BASE[IP]))),
    ("udp_to_port_9999", "drop_udp_port", "n3", udp4(GTP, dport=9999)),
    ("gtpu_on_local_port", "drop_wrong_role", "lan", GTPU_ON_LAN),
    # the inner packet (T-PDU)
    ("inner_version_5", "drop_inner_not_ip", "n3", udp4(gtp(payload=bytes([0x55]) + INNER_B[1:]))),
    ("empty_tpdu", "drop_gtpu_empty", "n3", udp4(gtp(payload=b""))),
    ("inner_ihl_4", "drop_inner_ihl", "n3", udp4(gtp(payload=inner_bytes_ip(ihl=4)))),
    ("inner_len_shorter_than_tpdu", "drop_inner_len", "n3",
     udp4(gtp(payload=inner_bytes_ip(len=len(INNER_B) - 4)))),
    ("inner_ip6_plen_beyond", "drop_inner_len", "n3", inner_v6_bad_plen()),
    ("inner_tcp_header_truncated", "drop_inner_l4_trunc", "n3",
     udp4(gtp(payload=bytes(IP(src=tp.UE, dst="8.8.8.8", proto=6) / Raw(b"\0" * 10))))),
    ("inner_ip4_12_bytes", "drop_inner_truncated", "n3", udp4(gtp(payload=INNER_B[:12]))),
]


def batches(cases):
    """Split cases into runs in which every expected counter is distinct."""
    out = []
    for case in cases:
        for b in out:
            if all(c[1] != case[1] for c in b):
                b.append(case)
                break
        else:
            out.append([case])
    return out


class Malformed(h.TestCase):
    def assertNothingOut(self, res, what):
        for port in h.PORTS:
            self.assertEqual(res.out[port], [], f"{what}: sent on {port}")

    def test_the_unmodified_base_packet_is_relayed(self):
        # the control: without the corruption the packet is forwarded
        res = h.run(tp.cfg(), {"n3": [BASE, udp4(GTP)]})
        self.assertEqual(len(res.out["n9"]), 2)
        self.assertDrops(res, {})

    def test_cases_in_batches_raise_one_distinct_counter_each(self):
        bs = batches(CASES)
        self.assertLessEqual(len(bs), 4)
        for b in bs:
            inputs = {}
            for _, _, port, pkt in b:
                inputs.setdefault(port, []).append(pkt)
            res = h.run(tp.cfg(), inputs)
            names = [c[0] for c in b]
            self.assertEqual(res.counters["rx"], len(b), names)
            self.assertNothingOut(res, names)
            self.assertEqual(res.counters["tx"], 0, names)
            self.assertDrops(res, {c[1]: 1 for c in b})

    def test_each_case_alone_raises_exactly_its_counter(self):
        for name, counter, port, pkt in CASES:
            with self.subTest(name):
                res = h.run(tp.cfg(), {port: [pkt]}, idle_ms=150)
                self.assertEqual(res.counters["rx"], 1)
                self.assertNothingOut(res, name)
                self.assertDrops(res, {counter: 1})
                self.assertEqual(res.counters["ul_cloud"] + res.counters["ul_local"], 0)


def drop_counter_names():
    """Names of every counter of kind DROP, read from counters.def."""
    path = os.path.join(h.ROOT, "dataplane", "counters.def")
    with open(path) as f:
        text = f.read()
    names = re.findall(r'^ES_CNT\(\s*\w+\s*,\s*DROP\s*,\s*"([^"]+)"', text, re.M)
    assert len(names) > 40, names
    return names


def fuzz_cases(n=300, seed=20240611):
    """n mutations of the base G-PDU: byte flips, truncations, extensions,
    extension headers inserted; half of them with the length fields (and
    the outer IPv4 checksum) fixed up so the parse goes deeper. The outer
    IPv4 flags/fragment-offset bytes are never touched: no fragments."""
    rnd = random.Random(seed)
    base = bytes(udp4(GTP))           # Ether 14 + IPv4 20 + UDP 8 + GTP-U
    frag_bytes = (14 + 6, 14 + 7)
    gtp_off = 14 + 20 + 8
    out = []
    for _ in range(n):
        b = bytearray(base)
        kind = rnd.choice(("flip", "flip_gtp", "truncate", "extend", "ext_hdr", "flip_inner"))
        if kind in ("flip", "flip_gtp", "flip_inner"):
            lo = {"flip": 0, "flip_gtp": gtp_off, "flip_inner": gtp_off + 16}[kind]
            for _ in range(rnd.randint(1, 4)):
                i = rnd.randrange(lo, len(b))
                if i in frag_bytes:
                    continue
                b[i] ^= 1 << rnd.randrange(8) if rnd.random() < 0.5 else rnd.randrange(1, 256)
        elif kind == "truncate":
            b = b[:rnd.randrange(0, len(b))]
        elif kind == "extend":
            b += bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 64)))
        else:
            # one or more random extension headers in front of the PSC
            g = bytearray(GTP)
            hdrs = b""
            first = g[11]
            for _ in range(rnd.randint(1, 3)):
                t = rnd.choice((0x01, 0x02, 0x20, 0x40, 0x81, 0x82, 0x83, 0x84,
                                0x85, 0xc0, 0x8f, 0x0f, 0x4f, rnd.randrange(256)))
                units = rnd.choice((0, 1, 1, 2, 3))
                body = bytes(rnd.randrange(256) for _ in range(max(units * 4 - 2, 0)))
                hdrs = bytes([units]) + body + bytes([first]) + hdrs if units else bytes([0]) + hdrs
                first = t
            g[11] = first
            g = g[:12] + hdrs + g[12:]
            struct.pack_into("!H", g, 2, len(g) - 8)
            b = bytearray(base[:gtp_off]) + g
        if len(b) >= 14 + 20 + 8 and rnd.random() < 0.5 and b[12:14] == b"\x08\x00" and b[14] == 0x45:
            # fix up the lengths and the header checksum
            struct.pack_into("!H", b, 14 + 2, len(b) - 14)
            struct.pack_into("!H", b, 14 + 10, 0)
            struct.pack_into("!H", b, 14 + 10, _ip_cksum(bytes(b[14:34])))
            struct.pack_into("!H", b, 34 + 4, len(b) - 34)
            if len(b) >= gtp_off + 8:
                struct.pack_into("!H", b, gtp_off + 2, len(b) - gtp_off - 8)
        out.append(bytes(b))
    return out


def _ip_cksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Fuzz(h.TestCase):
    def test_random_mutations_are_each_accounted_for_exactly_once(self):
        frames = fuzz_cases()
        self.assertEqual(len(frames), 300)
        # every frame is its own: no two runs of the mutation give the same set
        self.assertGreater(len(set(frames)), 250)
        # errind-rate 0: with Error Indications on, a G-PDU for an unknown
        # TEID (a flipped TEID byte) raises drop_gtpu_teid_unknown AND its
        # mbuf is reused for the Error Indication (tx): counted twice. Off,
        # each received packet is either sent or dropped. icmp-rate 0 for
        # the same reason: a mutated TTL of 0 or 1 on a packet routed to an
        # app would be drop_ttl_expired and carry a Time Exceeded.
        res = h.run(tp.cfg("set errind-rate 0\nset icmp-rate 0\n"), {"n3": [Raw(f) for f in frames]},
                    idle_ms=400)
        # even frames shorter than 14 bytes are delivered by net_pcap
        self.assertEqual(res.counters["rx"], len(frames))
        self.assertEqual(res.ports["n3"]["rx"], len(frames))
        drops = sum(res.counters[n] for n in drop_counter_names())
        self.assertEqual(res.counters["rx"], res.counters["tx"] + drops,
                         {k: v for k, v in res.counters.items() if v})
        sent = sum(len(res.out[p]) for p in h.PORTS)
        self.assertEqual(sent, res.counters["tx"])
        self.assertEqual(res.counters["frag_rx"], 0)
        # the mutations reach deep: many different drop reasons, and some
        # packets still good enough to be forwarded
        self.assertGreaterEqual(len(res.raised("drop_")), 10, res.raised("drop_"))
        self.assertGreater(res.counters["tx"], 0)
        # what went to the cloud has consistent outer lengths (the GTP-U
        # length is checked by Trailer below, which isolates its failure)
        for p in res.out["n9"]:
            self.assertEqual(p[IP].len, len(bytes(p[IP])))
            self.assertEqual(p[UDP].len, len(bytes(p[UDP])))


class Trailer(h.TestCase):
    """Bytes after the outer IP total length (an Ethernet trailer or
    padding) are not part of the packet: parse.c accepts them (it measures
    UDP against the IP length), so the relayed packet must not carry them."""

    def test_ethernet_trailer_is_not_relayed_to_the_cloud(self):
        frame = Raw(bytes(BASE) + b"\0" * 6 + b"TRAILR")
        res = h.run(tp.cfg(), {"n3": [frame, BASE]})
        self.assertDrops(res, {})
        self.assertEqual(len(res.out["n9"]), 2)
        with_trailer, plain = res.out["n9"]
        self.assertSameBytes(with_trailer, plain)
        g = bytes(with_trailer[UDP].payload)
        self.assertEqual(struct.unpack("!H", g[2:4])[0], len(g) - 8)
        self.assertEqual(g[16:], INNER_B)

    def test_ethernet_trailer_is_not_routed_to_an_app(self):
        inner = tp.inner4("10.200.1.1")
        frame = Raw(bytes(tp.gtpu_ul(inner, TEID)) + b"TRAILR")
        res = h.run(tp.cfg(), {"n3": [frame]})
        self.assertEqual(len(res.out["lan"]), 1)
        self.assertSameBytes(res.out["lan"][0][IP], IP(h.routed(bytes(inner))))


if __name__ == "__main__":
    import unittest
    unittest.main()
