"""The XDP front end (ebpf/xdp/, docs/ebpf.md "XDP front end").

XdpTestRun: the program's decision per frame type, through BPF_PROG_TEST_RUN
(`es-xdp test`): with no AF_XDP socket in xsks_map a frame that is ours comes
back XDP_PASS and moves `nosock`, one that is not moves `pass` (or
`pass_short`, `pass_vlan`); frames are built with scapy.

XdpLive: edgesteer on net_af_xdp on one end of a veth pair, the program
attached, GTP-U from the peer steered by edgesteer while a TCP connection
from the peer to the same interface's kernel stack still succeeds.
"""
import json
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
            if w[4] != "same":
                raise AssertionError(f"the program changed frame {w[1]}")
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


# --- live: edgesteer on net_af_xdp with the program, the kernel beside it ---

HOST_4 = "192.0.2.100"      # the kernel's own address on the shared interface
TCP_PORT = 2222             # the host's "ssh": an echo server in its kernel stack
UL, N_GTPU = 0x100, 40
UE = "10.45.0.2"
# mbuf-size 2048: with --no-huge the umem chunk (one mbuf) must fit a 4 KiB
# page (docs/ebpf.md "XDP front end")
LIVE_CONFIG = f"""
set sessions-max 64
set rules-max 64
set mbufs 4095
set mbuf-size 2048
port add n3 dev net_af_xdp0 role access addr {h.N3_4}/24 mac {h.MAC_N3}
port add n9 dev net_pcap1 role core addr {h.N9_4}/24 mac {h.MAC_N9}
port add lan dev net_pcap2 role local addr {h.LAN_4}/24 mac {h.MAC_LAN}
neigh add {h.UPF_4} lladdr {h.MAC_UPF} port n9
neigh add {h.GNB_4} lladdr {h.MAC_GNB} port n3
""" + h.session(1, UE, UL)

ECHO_SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(60)
print("listening", flush=True)
c, _ = s.accept(); c.settimeout(30)
while True:
    b = c.recv(65536)
    if not b:
        break
    c.sendall(b)
c.close()
"""

# the peer (gNB side): a TCP exchange with the host's kernel while GTP-U goes
# to edgesteer through the peer's own stack (ARP for the N3 address included)
PEER = r"""
import json, socket, sys, threading, time
host, port, n3, n, payload = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), bytes.fromhex(sys.argv[5])
res = {}
def tcp():
    try:
        data = bytes(range(256)) * 512          # 128 KiB, many segments
        c = socket.create_connection((host, port), timeout=20)
        c.settimeout(20)
        got = bytearray()
        def rx():
            try:
                while len(got) < len(data):
                    b = c.recv(65536)
                    if not b:
                        break
                    got.extend(b)
            except OSError:
                pass
        t = threading.Thread(target=rx); t.start()
        for i in range(0, len(data), 4096):
            c.sendall(data[i:i + 4096]); time.sleep(0.002)
        t.join(30)
        c.close()
        res["tcp"] = "ok" if bytes(got) == data else f"echo differs: {len(got)} of {len(data)} bytes"
    except OSError as e:
        res["tcp"] = f"error: {e}"
t = threading.Thread(target=tcp); t.start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 2152))
for i in range(n):
    u.sendto(payload, (n3, 2152)); time.sleep(0.01)
t.join(60)
res["sent"] = n
print(json.dumps(res), flush=True)
"""


def live_why_not():
    why = bpf_usable()
    if why:
        return why
    if not h.netns_usable():
        return "needs root and network namespaces (ip netns, veth)"
    if not os.path.exists(h.BINARY):
        return f"{h.BINARY} not built"
    return None


def ns_run(ns, *argv, timeout=30, check=True):
    r = subprocess.run(["ip", "netns", "exec", ns] + list(argv), capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} in {ns}: exit {r.returncode}: {r.stderr}")
    return r


def xdp_stats(ns, iface):
    r = ns_run(ns, ES_XDP, "stats", iface)
    return {w[0]: int(w[1]) for w in (line.split() for line in r.stdout.splitlines())}


@unittest.skipIf(live_why_not(), live_why_not())
class XdpLive(h.TestCase):
    """edgesteer on net_af_xdp,xdp_prog=es_xdp.bpf.o on n3d (namespace A,
    where the kernel also has HOST_4); the gNB on the peer n3t in B."""

    def setUp(self):
        import shutil
        import tempfile
        self.d = tempfile.mkdtemp(prefix="es-xdp-e2e-")
        self.addCleanup(shutil.rmtree, self.d, True)
        tag = f"{os.getpid()}{id(self) % 10000}"
        self.a, self.b = h.Netns(f"esxa{tag}"), h.Netns(f"esxb{tag}")
        self.addCleanup(self.a.close)
        self.addCleanup(self.b.close)
        A, B = self.a.name, self.b.name
        self.a.exec("ip", "link", "add", "n3d", "type", "veth", "peer", "name", "n3t")
        self.a.exec("ip", "link", "set", "n3t", "netns", B)
        self.a.exec("ip", "link", "set", "n3d", "address", h.MAC_N3)
        self.a.exec("ip", "addr", "add", f"{HOST_4}/24", "dev", "n3d")
        for ns, dev in ((self.a, "n3d"), (self.b, "n3t")):
            ns.exec("ip", "link", "set", dev, "up")
            ns.exec("ip", "link", "set", "lo", "up")
        self.b.exec("ip", "link", "set", "n3t", "address", h.MAC_GNB)
        self.b.exec("ip", "addr", "add", f"{h.GNB_4}/24", "dev", "n3t")
        self.A, self.B = A, B

    def start_es(self):
        devs = [f"net_af_xdp0,iface=n3d,start_queue=0,queue_count=1,xdp_prog={OBJ}"]
        for i, p in ((1, "n9"), (2, "lan")):
            rx = os.path.join(self.d, f"in_{p}.pcap")
            h._empty_pcap(rx)
            devs.append(f"net_pcap{i},rx_pcap={rx},tx_pcap={os.path.join(self.d, f'out_{p}.pcap')}")
        es = h.Daemon(LIVE_CONFIG, self.d, devs=devs, netns=self.A)
        self.addCleanup(es.kill)
        es.start()
        return es

    def test_gtpu_to_edgesteer_tcp_to_kernel(self):
        server = subprocess.Popen(["ip", "netns", "exec", self.A, "/usr/bin/python3", "-c", ECHO_SERVER,
                                   HOST_4, str(TCP_PORT)], stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (server.kill(), server.wait(10)))
        self.assertEqual(server.stdout.readline().strip(), "listening")
        es = self.start_es()
        link = ns_run(self.A, "ip", "link", "show", "n3d").stdout
        self.assertIn("prog/xdp", link)
        ns_run(self.A, ES_XDP, "fill", "n3d", "--addr", h.N3_4)
        before = es.counters()

        inner = IP(src=UE, dst=h.APP_4, ttl=64) / UDP(sport=4000, dport=5000) / (b"q" * 64)
        gpdu = raw(h.GTP_U_Header(teid=UL, E=1, next_ex=0x85) /
                   h.GTPPDUSessionContainer(type=1, QFI=9) / inner)
        r = ns_run(self.B, "/usr/bin/python3", "-c", PEER, HOST_4, str(TCP_PORT), h.N3_4,
                   str(N_GTPU), gpdu.hex(), timeout=120)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        # the kernel kept its own traffic on the shared interface
        self.assertEqual(res["tcp"], "ok")
        # edgesteer answered the peer's ARP for the N3 address
        neigh = ns_run(self.B, "ip", "neigh", "show", h.N3_4, "dev", "n3t").stdout
        self.assertIn(h.MAC_N3, neigh.lower())

        st = xdp_stats(self.A, "n3d")
        self.assertGreaterEqual(st["why_arp"], 1, st)
        self.assertEqual(st["why_gtpu"], N_GTPU, st)
        self.assertEqual(st["nosock"], 0, st)
        self.assertEqual(st["redirect"], st["why_gtpu"] + st["why_arp"] + st["why_nd"]
                         + st["why_lport"] + st["why_icmp"], st)
        self.assertGreater(st["pass"], 20, st)   # the TCP segments, to the kernel
        after = es.counters()
        self.assertEqual(after["rx"] - before["rx"], N_GTPU + st["why_arp"])
        rc = es.stop()
        self.assertEqual(rc, 0, es.stderr)
        # the PMD detached the program when edgesteer stopped
        self.assertNotIn("prog/xdp", ns_run(self.A, "ip", "link", "show", "n3d").stdout)

        # relayed to the cloud UPF on N9: the inner packet unchanged
        out = es.outputs("n9")
        self.assertEqual(len(out), N_GTPU)
        for p in out:
            self.assertEqual((p[IP].src, p[IP].dst, p[UDP].dport), (h.N9_4, h.UPF_4, 2152))
            self.assertEqual(p[h.GTP_U_Header].teid, UL + 0x2000)
            self.assertEqual(raw(p[h.GTP_U_Header])[-len(raw(inner)):], raw(inner))


@unittest.skipIf(live_why_not(), live_why_not())
class XdpTool(unittest.TestCase):
    """es-xdp attach / fill / stats / detach on a veth, native and skb mode."""

    def setUp(self):
        self.ns = h.Netns(f"esxt{os.getpid()}{id(self) % 10000}")
        self.addCleanup(self.ns.close)
        self.ns.veth("xa", "xb")

    def link(self):
        return ns_run(self.ns.name, "ip", "link", "show", "xa").stdout

    def test_attach_fill_stats_detach(self):
        for mode, shown in (("--native", " xdp "), ("--skb", " xdpgeneric ")):
            with self.subTest(mode=mode):
                ns_run(self.ns.name, ES_XDP, "attach", "xa", "--obj", OBJ, mode, "--addr", OURS4)
                self.assertIn(shown, self.link().splitlines()[0])
                self.assertIn("prog/xdp id", self.link())
                # a second attach is refused, the first stays
                r = ns_run(self.ns.name, ES_XDP, "attach", "xa", "--obj", OBJ, mode, check=False)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("attached already", r.stderr)
                ns_run(self.ns.name, ES_XDP, "fill", "xa", "--addr", OURS6, "--port", "tcp/8080")
                r = ns_run(self.ns.name, ES_XDP, "fill", "xa", "--port", "udp/99999", check=False)
                self.assertNotEqual(r.returncode, 0)
                st = xdp_stats(self.ns.name, "xa")
                self.assertEqual(tuple(st), COUNTERS)
                ns_run(self.ns.name, ES_XDP, "detach", "xa")
                self.assertNotIn("prog/xdp", self.link())
                r = ns_run(self.ns.name, ES_XDP, "stats", "xa", check=False)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("no XDP program", r.stderr)

    def test_fill_refuses_a_program_that_is_not_ours(self):
        # a program without es_addr4 and friends: DPDK's default, or another
        # tool's; es_cnt alone is not enough
        r = ns_run(self.ns.name, ES_XDP, "fill", "xa", "--addr", OURS4, check=False)
        self.assertIn("no XDP program", r.stderr)

    def test_unknown_interface(self):
        r = subprocess.run([ES_XDP, "stats", "nosuchif0"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no interface 'nosuchif0'", r.stderr)
