"""The XDP front end (ebpf/xdp/, docs/ebpf.md "XDP front end").

XdpTestRun: the program's decision per frame type, through BPF_PROG_TEST_RUN
(`es-xdp test`): with no AF_XDP socket in xsks_map a frame that is ours comes
back XDP_PASS and moves `nosock`, one that is not moves `pass` (or
`pass_short`, `pass_vlan`); frames are built with scapy.

XdpLive: edgesteer on net_af_xdp on one end of a veth pair, the program
attached, GTP-U from the peer steered by edgesteer while a TCP connection
from the peer to the same interface's kernel stack still succeeds.
"""
import os
import subprocess
import unittest

from scapy.all import ARP, Dot1Q, Ether, ICMPv6ND_NA, ICMPv6ND_NS, IP, IPv6, TCP, UDP, raw

import esharness as h

ES_XDP = os.path.join(h.BUILD, "es-xdp")
OBJ = os.path.join(h.BUILD, "ebpf", "es_xdp.bpf.o")
OURS4, OURS6, OTHER4, OTHER6 = "192.0.2.1", "2001:db8:3::1", "192.0.2.9", "2001:db8:3::9"
LPORT = 5353
COUNTERS = ("rx", "redirect", "nosock", "pass", "pass_short", "pass_vlan",
            "why_gtpu", "why_arp", "why_nd", "why_lport", "why_icmp")


def eth(t=None):
    e = Ether(src="02:00:00:00:00:10", dst="02:00:00:00:03:01")
    if t is not None:
        e.type = t
    return e


def gtpu(dst, src=h.GNB_4):
    inner = IP(src="10.45.0.2", dst="10.100.0.20") / UDP(sport=1000, dport=2000)
    return eth() / IP(src=src, dst=dst) / UDP(sport=2152, dport=2152) / \
        h.GTP_U_Header(teid=0x100, gtp_type=255) / inner


def es_xdp_test(frames, addrs=(OURS4, OURS6), ports=(f"udp/{LPORT}",)):
    """Run the program on each frame; returns (verdicts, counters)."""
    argv = [ES_XDP, "test", "--obj", OBJ]
    for a in addrs:
        argv += ["--addr", a]
    for p in ports:
        argv += ["--port", p]
    argv += [raw(f).hex() if not isinstance(f, bytes) else f.hex() for f in frames]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"es-xdp test exited {r.returncode}: {r.stderr}")
    verdicts, cnt = [], {}
    for line in r.stdout.splitlines():
        w = line.split()
        if w[0] == "frame":
            verdicts.append(w[3])
        else:
            cnt[w[0]] = int(w[1])
    return verdicts, cnt


def bpf_usable():
    """Why the test-run cannot run here, or None."""
    if os.geteuid() != 0:
        return "BPF_PROG_TEST_RUN needs root (CAP_BPF)"
    for f in (ES_XDP, OBJ):
        if not os.path.exists(f):
            return f"{f} not built (make all bpf)"
    return None


@unittest.skipIf(bpf_usable(), bpf_usable())
class XdpTestRun(unittest.TestCase):
    def decide(self, frame, **kw):
        v, c = es_xdp_test([frame], **kw)
        return v[0], {k: n for k, n in c.items() if n}

    def assertOurs(self, frame, why, **kw):
        v, c = self.decide(frame, **kw)
        self.assertEqual(v, "PASS")  # no socket in xsks_map under test-run
        self.assertEqual(c, {"rx": 1, "nosock": 1, why: 1})

    def assertKernel(self, frame, counter="pass", **kw):
        v, c = self.decide(frame, **kw)
        self.assertEqual(v, "PASS")
        self.assertEqual(c, {"rx": 1, counter: 1})

    def test_counters_are_the_documented_ones(self):
        _, c = es_xdp_test([])
        self.assertEqual(tuple(c), COUNTERS)
        with open(os.path.join(h.ROOT, "docs", "ebpf.md")) as f:
            doc = f.read()
        for n in COUNTERS:
            self.assertIn(f"`{n}`", doc)

    def test_gtpu_to_our_address(self):
        self.assertOurs(gtpu(OURS4), "why_gtpu")
        six = eth() / IPv6(src=h.GNB_6, dst=OURS6) / UDP(sport=2152, dport=2152) / \
            h.GTP_U_Header(teid=1, gtp_type=255)
        self.assertOurs(six, "why_gtpu")

    def test_gtpu_to_another_address(self):
        self.assertKernel(gtpu(OTHER4))
        six = eth() / IPv6(src=h.GNB_6, dst=OTHER6) / UDP(sport=2152, dport=2152)
        self.assertKernel(six)

    def test_gtpu_fragment_to_our_address(self):
        whole = gtpu(OURS4) / (b"z" * 400)
        whole[IP].flags = 0
        frags = [eth() / f for f in __import__("scapy.all", fromlist=["fragment"]).fragment(whole[IP], 200)]
        self.assertGreater(len(frags), 1)
        for f in frags:
            self.assertOurs(f, "why_gtpu")

    def test_arp(self):
        self.assertOurs(eth() / ARP(op=1, psrc=h.GNB_4, pdst=OURS4), "why_arp")
        self.assertOurs(eth() / ARP(op=2, psrc=h.GNB_4, pdst=OURS4), "why_arp")
        self.assertKernel(eth() / ARP(op=1, psrc=h.GNB_4, pdst=OTHER4))

    def test_nd(self):
        ns = eth() / IPv6(src=h.GNB_6, dst="ff02::1:ff00:1") / ICMPv6ND_NS(tgt=OURS6)
        self.assertOurs(ns, "why_nd")
        na = eth() / IPv6(src=h.GNB_6, dst=OURS6) / ICMPv6ND_NA(tgt=OURS6)
        self.assertOurs(na, "why_nd")
        self.assertKernel(eth() / IPv6(src=h.GNB_6, dst="ff02::1:ff00:9") / ICMPv6ND_NS(tgt=OTHER6))

    def test_local_ports(self):
        self.assertOurs(eth() / IP(src=h.GNB_4, dst=OURS4) / UDP(sport=9, dport=LPORT), "why_lport")
        self.assertOurs(eth() / IP(src=h.GNB_4, dst=OURS4) / TCP(sport=9, dport=8080), "why_lport",
                        ports=("tcp/8080",))
        self.assertOurs(eth() / IPv6(src=h.GNB_6, dst=OURS6) / UDP(sport=9, dport=LPORT), "why_lport")
        # not listed, or listed for the other protocol, or not to our address
        self.assertKernel(eth() / IP(src=h.GNB_4, dst=OURS4) / TCP(sport=40000, dport=22))
        self.assertKernel(eth() / IP(src=h.GNB_4, dst=OURS4) / TCP(sport=9, dport=LPORT))
        self.assertKernel(eth() / IP(src=h.GNB_4, dst=OTHER4) / UDP(sport=9, dport=LPORT))

    def test_short_icmpv6_that_is_not_nd_is_plain_pass(self):
        # a router solicitation (8 bytes) is shorter than an NS, but whole
        from scapy.all import ICMPv6ND_RS
        self.assertKernel(eth() / IPv6(src=h.GNB_6, dst="ff02::2") / ICMPv6ND_RS())

    def test_icmp_to_our_address(self):
        from scapy.all import ICMP, ICMPv6EchoRequest
        self.assertOurs(eth() / IP(src=h.GNB_4, dst=OURS4) / ICMP(), "why_icmp")
        self.assertOurs(eth() / IPv6(src=h.GNB_6, dst=OURS6) / ICMPv6EchoRequest(), "why_icmp")
        self.assertKernel(eth() / IP(src=h.GNB_4, dst=OTHER4) / ICMP())
        self.assertKernel(eth() / IPv6(src=h.GNB_6, dst=OTHER6) / ICMPv6EchoRequest())

    def test_other_traffic_to_kernel(self):
        self.assertKernel(eth() / IP(src=h.GNB_4, dst=OURS4, proto=47) / (b"\0" * 30))
        self.assertKernel(eth(0x88cc) / (b"\0" * 46))

    def test_vlan_tagged_passed(self):
        self.assertKernel(Ether() / Dot1Q(vlan=5) / gtpu(OURS4)[IP], "pass_vlan")
        self.assertKernel(Ether(type=0x88a8) / Dot1Q(vlan=5) / gtpu(OURS4)[IP], "pass_vlan")

    def test_truncated_frames_passed(self):
        """Every cut of each kind of frame: XDP_PASS, counted, no crash."""
        kinds = [gtpu(OURS4), eth() / ARP(pdst=OURS4),
                 eth() / IPv6(src=h.GNB_6, dst="ff02::1") / ICMPv6ND_NS(tgt=OURS6),
                 eth() / IPv6(src=h.GNB_6, dst=OURS6) / TCP(dport=22),
                 eth() / IP(src=h.GNB_4, dst=OURS4) / TCP(dport=22)]
        for k in kinds:
            whole = raw(k)
            # every cut through the headers the program reads; the kernel's
            # test-run refuses frames under 14 bytes (EINVAL), a NIC gives none
            cuts = [14 + i for i in range(0, 62, 3)]
            frames = [whole[:n] for n in cuts if n < len(whole)]
            v, c = es_xdp_test(frames, ports=("tcp/22",))
            self.assertEqual(v, ["PASS"] * len(frames))
            self.assertEqual(c["rx"], len(frames))
            self.assertEqual(c["redirect"], 0)
            # each frame is counted once, under one verdict
            self.assertEqual(c["nosock"] + c["pass"] + c["pass_short"] + c["pass_vlan"], len(frames))
            self.assertGreater(c["pass_short"], 0, k.summary())

    def test_one_verdict_counter_per_frame(self):
        frames = [gtpu(OURS4), gtpu(OTHER4), eth() / ARP(pdst=OURS4), eth() / ARP(pdst=OTHER4),
                  eth() / IPv6(src=h.GNB_6, dst="ff02::1") / ICMPv6ND_NS(tgt=OURS6),
                  eth() / IP(src=h.GNB_4, dst=OURS4) / TCP(dport=22),
                  eth() / IP(src=h.GNB_4, dst=OURS4) / UDP(dport=LPORT), raw(eth(0x0800))[:14] + b"\x45" * 5,
                  Ether() / Dot1Q(vlan=5) / gtpu(OURS4)[IP]]
        v, c = es_xdp_test(frames)
        self.assertEqual(v, ["PASS"] * len(frames))
        self.assertEqual(c, {"rx": 9, "redirect": 0, "nosock": 4, "pass": 3, "pass_short": 1,
                             "pass_vlan": 1, "why_gtpu": 1, "why_arp": 1, "why_nd": 1,
                             "why_lport": 1, "why_icmp": 0})

    def test_bad_arguments_refused(self):
        for bad in (["--addr", "300.1.1.1"], ["--port", "sctp/5"], ["--port", "udp/0"],
                    ["--port", "udp/70000"], ["zz"]):
            r = subprocess.run([ES_XDP, "test", "--obj", OBJ] + bad, capture_output=True,
                               text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn("es-xdp", r.stderr)


if __name__ == "__main__":
    unittest.main()
