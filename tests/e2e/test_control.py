"""The control path end to end (issue 4): the real edgesteer with its
control socket, driven by the real steerctl.

Live traffic: a network namespace made by the test, holding one veth pair
per port; edgesteer runs inside it with DPDK net_af_packet on one end of
each pair, and the test sends G-PDUs into the other end of n3 (and
downlink into lan/n9) at a steady bounded rate from a thread while a
second thread reads what comes out of every port. Each packet carries
'ESEQ', a flow number and a sequence number in its inner UDP payload.
While it flows the test runs steerctl commands and records, for each, the
last sequence number sent before the command returned (the sender holds a
lock around send + count, so every later number was sent after). Then:
every packet came out exactly once, or was dropped only where the rules
in force said drop (and counted so); every packet sent after a command
returned followed that command's rules or a later one's; the bytes out are
exactly the ones scapy builds for that outcome. Nothing else came out.

Without root or network namespaces the live tests are skipped (with the
reason); the others use net_pcap ports that receive nothing.
"""
import collections
import json
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from scapy.all import IP, UDP, Ether, Raw
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer

import esharness as h
from esharness import (APP_4, GNB_4, GNB2_4, MAC_APP, MAC_GNB, MAC_GNB2, MAC_LAN,
                       MAC_MIRROR, MAC_N3, MAC_N9, MAC_UPF, MIRROR_4, N3_4, N9_4,
                       UPF_4, gtpu_ul, routed, session)

UE, UL, GNB_TEID, CLOUD_TEID, N9_TEID, QFI = "10.45.0.2", 0x100, 0x1100, 0x2100, 0x400, 9
SESS = session(1, UE, UL, n9=N9_TEID, qfi=QFI)
MAGIC = b"ESEQ"
RATE_PPS = 2500          # packets per second, all flows together
SETTLE_S = 0.25          # traffic between two commands
DRAIN_S = 3.0            # at most this long for the last packets to come out
QUIET_S = 0.4            # ... or until nothing came for this long

NETNS_OK = h.netns_usable()
NETNS_WHY = "needs root and network namespaces (ip netns, veth) to feed live traffic"


def payload(flow, seq=0):
    return MAGIC + struct.pack(">BI", flow, seq) + b"p" * 15


def outer4(src, dst, smac, dmac):
    return Ether(src=smac, dst=dmac) / IP(src=src, dst=dst, id=0, flags=0, ttl=64)


def relay_gtp(teid, inner, pdu_type, qfi):
    return (GTP_U_Header(teid=teid, E=1, next_ex=0x85) /
            GTPPDUSessionContainer(type=pdu_type, QFI=qfi) / inner)


def zero_seq(b):
    """(flow, seq, bytes with the seq zeroed) of a packet with our payload."""
    i = b.find(MAGIC)
    if i < 0:
        return None, None, b
    flow, seq = struct.unpack_from(">BI", b, i + 4)
    return flow, seq, b[:i + 5] + b"\0\0\0\0" + b[i + 9:]


class Flows:
    """Uplink flows of session 1: the packet each sends, and the exact bytes
    each outcome puts on the wire (scapy-built, seq 0)."""

    def __init__(self, dsts):
        self.inner = [IP(src=UE, dst=dst, id=7) / UDP(sport=1000 + f, dport=dport, chksum=0) /
                      Raw(payload(f)) for f, (dst, dport) in enumerate(dsts)]
        self.send = [bytes(gtpu_ul(i, UL, qfi=QFI)) for i in self.inner]
        self.outcomes = {}
        for f, inner in enumerate(self.inner):
            raw = bytes(inner)
            for name, mac in (("xr", MAC_APP), ("tap", MAC_MIRROR)):
                self.outcomes[("lan", bytes(Ether(src=MAC_LAN, dst=mac) / IP(routed(raw))))] = (f, name)
            for name, teid in (("cloud", CLOUD_TEID), ("cloud2", 0x9999)):
                w = (outer4(N9_4, UPF_4, MAC_N9, MAC_UPF) / UDP(sport=2152, dport=2152, chksum=0) /
                     relay_gtp(teid, IP(raw), 1, QFI))
                self.outcomes[("n9", bytes(w))] = (f, name)

    def outcome(self, port, b):
        """(flow, seq, outcome name) of a packet out of port; name None when
        its bytes are none of the expected ones."""
        flow, seq, z = zero_seq(b)
        hit = self.outcomes.get((port, z))
        return flow, seq, hit[1] if hit and hit[0] == flow else None


class Traffic:
    """A sender thread (packets from a list of templates, round-robin, at
    rate pps, each with the next sequence number) and a reader thread
    (everything that comes out of the rx sockets, with its port)."""

    def __init__(self, templates, rx, rate=RATE_PPS):
        """templates: (socket, frame bytes) pairs, sent in turn; rx: port
        name -> socket."""
        self.tx = [t[0] for t in templates]
        self.templates = [t[1] for t in templates]
        self.rx, self.rate = rx, rate
        self.offs = [t.find(MAGIC) + 5 for t in self.templates]
        self.lock = threading.Lock()
        self.sent = 0
        self.got = []                       # (port, bytes), in arrival order
        self.stop_tx = threading.Event()
        self.stop_rx = threading.Event()
        self.error = None
        self.threads = [threading.Thread(target=self._send, daemon=True),
                        threading.Thread(target=self._read, daemon=True)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def flow_of(self, seq):
        return (seq - 1) % len(self.templates)

    def mark(self):
        """The last sequence number sent: every later one is sent after."""
        with self.lock:
            return self.sent

    def _send(self):
        try:
            t0, n = time.monotonic(), 0
            bufs = [bytearray(t) for t in self.templates]
            while not self.stop_tx.is_set():
                due = int((time.monotonic() - t0) * self.rate)
                while n < due and not self.stop_tx.is_set():
                    f = n % len(bufs)
                    struct.pack_into(">I", bufs[f], self.offs[f], n + 1)
                    with self.lock:
                        self.tx[f].send(bufs[f])
                        n += 1
                        self.sent = n
                time.sleep(0.001)
        except Exception as e:  # reported by wait()
            self.error = repr(e)

    def _read(self):
        import select
        names = {s.fileno(): p for p, s in self.rx.items()}
        socks = list(self.rx.values())
        try:
            while not self.stop_rx.is_set():
                r, _, _ = select.select(socks, [], [], 0.05)
                for s in r:
                    while True:
                        try:
                            b, a = s.recvfrom(65535, socket.MSG_DONTWAIT)
                        except BlockingIOError:
                            break
                        if a[2] != socket.PACKET_OUTGOING:
                            self.got.append((names[s.fileno()], b))
        except Exception as e:
            self.error = repr(e)

    def wait_for(self, n_out, timeout):
        deadline = time.monotonic() + timeout
        while len(self.got) < n_out and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.got) >= n_out

    def finish(self, expect_out=None):
        """Stop sending; read until expect_out packets are out, or nothing
        more came for QUIET_S (at most DRAIN_S), then a little more for
        strays; stop reading."""
        self.stop_tx.set()
        self.threads[0].join(5)
        deadline = time.monotonic() + DRAIN_S
        last, last_t = -1, time.monotonic()
        while time.monotonic() < deadline:
            n = len(self.got)
            if expect_out is not None and n >= expect_out:
                break
            if n != last:
                last, last_t = n, time.monotonic()
            elif time.monotonic() - last_t > QUIET_S:
                break
            time.sleep(0.02)
        time.sleep(0.1)
        self.stop_rx.set()
        self.threads[1].join(5)


@unittest.skipUnless(NETNS_OK, NETNS_WHY)
class Live(h.TestCase):
    """A namespace with n3/n9/lan veth pairs and edgesteer on net_af_packet."""

    RULES = ""

    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="es-ctl-e2e-")
        self.addCleanup(shutil.rmtree, self.d, True)
        self.ns = h.Netns(f"esc{os.getpid()}{id(self) % 10000}")
        self.addCleanup(self.ns.close)
        for p in h.PORTS:
            self.ns.veth(p + "d", p + "t")
        cfg = h.BASE_CONFIG
        for i in range(len(h.PORTS)):
            cfg = cfg.replace(f"dev net_pcap{i} ", f"dev net_af_packet{i} ")
        cfg += SESS + self.RULES
        devs = [f"net_af_packet{i},iface={p}d" for i, p in enumerate(h.PORTS)]
        self.es = h.Daemon(cfg, self.d, devs=devs, netns=self.ns.name)
        self.addCleanup(self.es.kill)
        self.es.start()
        self.sock = {p: self.ns.packet_socket(p + "t") for p in h.PORTS}
        for s in self.sock.values():
            self.addCleanup(s.close)
        self.before = self.es.counters()

    def delta(self):
        now = self.es.counters()
        return {k: v - self.before.get(k, 0) for k, v in now.items() if v != self.before.get(k, 0)}

    def run_live(self, flows, steps, initial):
        """Send flows' packets while running steps: a list of (what, fn,
        expected) where fn() runs one steerctl and expected maps flow ->
        outcome once it returned. initial: the outcomes before the first.
        Returns (per-seq outcome, traffic, epochs)."""
        tr = Traffic([(self.sock["n3"], b) for b in flows.send], dict(self.sock))
        tr.start()
        self.addCleanup(tr.stop_rx.set)
        self.addCleanup(tr.stop_tx.set)
        self.assertTrue(tr.wait_for(20, 10), "no packet came out in 10 s")
        time.sleep(SETTLE_S)
        epochs = [("start", 0, 0, initial)]  # (what, mark before, mark after, expected)
        for what, fn, expected in steps:
            before = tr.mark()
            r = fn()
            after = tr.mark()
            self.assertEqual(r.returncode, 0, f"{what}: {r.stderr}")
            epochs.append((what, before, after, expected))
            time.sleep(SETTLE_S)
        drops = any(o == "drop" for e in epochs for o in e[3].values())
        tr.finish(None if drops else tr.sent)
        self.assertIsNone(tr.error)
        return self.judge(flows, tr, epochs), tr, epochs

    def judge(self, flows, tr, epochs):
        sent = tr.sent
        seen = {}
        strays, garbled, dups = [], [], []
        for port, b in tr.got:
            flow, seq, name = flows.outcome(port, b)
            if seq is None:
                strays.append((port, Ether(b).summary()))
            elif name is None or not 1 <= seq <= sent or flow != tr.flow_of(seq):
                garbled.append((port, seq, b.hex()))
            elif seq in seen:
                dups.append(seq)
            else:
                seen[seq] = name
        self.assertEqual(strays, [], "packets that are not ours came out")
        if garbled:
            self.fail(f"{len(garbled)} packets with bytes no rule gives, e.g. {garbled[0][:2]}:\n"
                      + Ether(bytes.fromhex(garbled[0][2])).show(dump=True))
        self.assertEqual(dups, [], "packets that came out twice")
        bad = []
        exact = collections.Counter()
        for seq in range(1, sent + 1):
            flow = tr.flow_of(seq)
            got = seen.get(seq, "drop")
            # the last command that had returned when seq was sent
            k = max(i for i, e in enumerate(epochs) if e[2] < seq)
            allowed = {e[3][flow] for e in epochs[k:]}
            if got not in allowed:
                bad.append((seq, flow, got, epochs[k][0], sorted(allowed)))
            nxt = epochs[k + 1][1] if k + 1 < len(epochs) else sent
            if seq <= nxt and got == epochs[k][3][flow]:
                exact[(k, flow)] += 1
        self.assertEqual(bad[:20], [], f"{len(bad)} of {sent} packets did not follow the rules "
                                       "in force when they were sent (seq, flow, outcome, after, allowed)")
        for k, e in enumerate(epochs):
            for flow in e[3]:
                self.assertGreater(exact[(k, flow)], 0, f"no packet of flow {flow} seen after '{e[0]}'")
        return seen


class LiveRules(Live):
    RULES = "rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action local xr\n"

    def test_rules_added_changed_and_deleted_under_traffic(self):
        flows = Flows([("10.200.0.5", 4000), ("10.201.0.5", 5000), ("203.0.113.5", 6000)])
        es = self.es
        batch = os.path.join(self.d, "b1.conf")
        with open(batch, "w") as f:
            f.write("# everything to xr\n"
                    "rule add 5 dst 203.0.113.0/24 action local xr\n"
                    "rule change 10 dst 10.200.0.0/16 action local xr\n"
                    "\n"
                    "rule add 30 dst 10.201.0.0/16 proto udp action local xr\n")
        steps = [
            ("rule add 20", lambda: es.ctl("rule add 20 dst 10.201.0.0/16 action local tap"),
             {0: "xr", 1: "tap", 2: "cloud"}),
            ("rule change 10", lambda: es.ctl("rule change 10 dst 10.200.0.0/16 action local tap"),
             {0: "tap", 1: "tap", 2: "cloud"}),
            ("rule del 20", lambda: es.ctl("rule del 20"),
             {0: "tap", 1: "cloud", 2: "cloud"}),
            ("batch -f", lambda: h.subprocess.run([h.STEERCTL, "-s", es.sock, "-f", batch],
                                                 capture_output=True, text=True, timeout=20),
             {0: "xr", 1: "xr", 2: "xr"}),
            ("app down", lambda: es.ctl("app change xr state down"),
             {0: "cloud", 1: "cloud", 2: "cloud"}),
            ("app up", lambda: es.ctl("app change xr state up"),
             {0: "xr", 1: "xr", 2: "xr"}),
            ("app via", lambda: es.ctl(f"app change xr via {MIRROR_4}"),
             {0: "tap", 1: "tap", 2: "tap"}),
            ("session cloud", lambda: es.ctl(f"session change 1 cloud {UPF_4} cloud-teid 0x9999"),
             {0: "tap", 1: "tap", 2: "tap"}),
            ("batch del", lambda: es.ctl(batch="rule del 5\nrule del 30\n"),
             {0: "tap", 1: "cloud2", 2: "cloud2"}),
        ]
        seen, tr, epochs = self.run_live(flows, steps, {0: "xr", 1: "cloud", 2: "cloud"})
        self.assertEqual(len(seen), tr.sent, "zero loss")
        d = self.delta()
        self.assertEqual({k: v for k, v in d.items() if k.startswith("drop_")}, {})
        self.assertEqual(d["rx"], tr.sent)
        # after the batch every flow matches a rule for xr: 'cloud' (the
        # session's first cloud TEID) is then only ever xr's fallback
        self.assertEqual(d.get("ul_fallback", 0),
                         sum(1 for s, o in seen.items() if o == "cloud" and s > epochs[4][2]))
        self.assertGreater(d.get("ul_fallback", 0), 0)


class LiveApps(Live):
    RULES = ("rule add 10 dst 10.200.0.0/16 action local xr\n"
             "rule add 20 dst 10.201.0.0/16 action local tap fallback drop\n")

    def test_app_down_takes_the_fallback_at_once_and_up_returns(self):
        flows = Flows([("10.200.0.5", 4000), ("10.201.0.5", 5000), ("8.8.8.8", 53)])
        es = self.es
        steps = [
            ("xr down", lambda: es.ctl("app change xr state down"), {0: "cloud", 1: "tap", 2: "cloud"}),
            ("tap down", lambda: es.ctl("app change tap state down"), {0: "cloud", 1: "drop", 2: "cloud"}),
            ("both up", lambda: es.ctl(batch="app change xr state up\napp change tap state up\n"),
             {0: "xr", 1: "tap", 2: "cloud"}),
        ]
        seen, tr, epochs = self.run_live(flows, steps, {0: "xr", 1: "tap", 2: "cloud"})
        d = self.delta()
        dropped = tr.sent - len(seen)
        self.assertGreater(dropped, 0)
        self.assertEqual(d.get("drop_app_down", 0), dropped, "every missing packet counted drop_app_down")
        self.assertEqual({k: v for k, v in d.items() if k.startswith("drop_") and k != "drop_app_down"}, {})
        # ul_fallback counts both kinds: to the cloud and dropped
        fallback = sum(1 for s, o in seen.items() if o == "cloud" and tr.flow_of(s) == 0)
        self.assertGreater(fallback, 0)
        self.assertEqual(d.get("ul_fallback", 0), fallback + dropped)
        self.assertEqual(es.ok("app show tap"), f"app add tap via {MIRROR_4} state up\n")


@unittest.skipUnless(NETNS_OK, NETNS_WHY)
class LiveHandover(Live):
    RULES = ""

    def test_session_change_moves_downlink_and_sends_an_end_marker(self):
        new_teid = 0x7777
        inner = [IP(src="10.200.0.1", dst=UE, id=3) / UDP(sport=4000, dport=1000, chksum=0) / Raw(payload(0)),
                 IP(src="8.8.8.8", dst=UE, id=3) / UDP(sport=53, dport=1000, chksum=0) / Raw(payload(1))]
        from_app = bytes(Ether(src=MAC_APP, dst=MAC_LAN) / inner[0])
        from_cloud = bytes(outer4(UPF_4, N9_4, MAC_UPF, MAC_N9) / UDP(sport=2152, dport=2152, chksum=0) /
                           relay_gtp(N9_TEID, inner[1], 0, 5))
        # what reaches the gNB: app replies encapsulated (dl_encap, the
        # session's QFI), cloud downlink relayed keeping its QFI
        def to_gnb(gnb, mac, teid):
            return [bytes(outer4(N3_4, gnb, MAC_N3, mac) / UDP(sport=2152, dport=2152, chksum=0) /
                          relay_gtp(teid, IP(routed(bytes(inner[0]))), 0, QFI)),
                    bytes(outer4(N3_4, gnb, MAC_N3, mac) / UDP(sport=2152, dport=2152, chksum=0) /
                          relay_gtp(teid, inner[1], 0, 5))]
        old, new = to_gnb(GNB_4, MAC_GNB, GNB_TEID), to_gnb(GNB2_4, MAC_GNB2, new_teid)
        end_marker = bytes(outer4(N3_4, GNB_4, MAC_N3, MAC_GNB) / UDP(sport=2152, dport=2152, chksum=0) /
                           GTP_U_Header(teid=GNB_TEID, gtp_type=254))
        tr = Traffic([(self.sock["lan"], from_app), (self.sock["n9"], from_cloud)],
                     {"n3": self.sock["n3"]})
        tr.start()
        self.addCleanup(tr.stop_tx.set)
        self.addCleanup(tr.stop_rx.set)
        self.assertTrue(tr.wait_for(20, 10), "no downlink came out in 10 s")
        time.sleep(SETTLE_S)
        r = self.es.ctl(f"session change 1 gnb {GNB2_4} gnb-teid {new_teid:#x}")
        mark = tr.mark()
        self.assertEqual(r.returncode, 0, r.stderr)
        time.sleep(SETTLE_S)
        tr.finish(tr.sent + 1)
        self.assertIsNone(tr.error)
        seen, ems, strays = {}, [], []
        for i, (port, b) in enumerate(tr.got):
            flow, seq, z = zero_seq(b)
            if seq is None:
                (ems if b == end_marker else strays).append((i, Ether(b).summary()))
                continue
            self.assertNotIn(seq, seen, "a packet came out twice")
            where = "old" if z == old[flow] else "new" if z == new[flow] else None
            self.assertIsNotNone(where, Ether(b).show(dump=True))
            seen[seq] = (where, i)
        self.assertEqual(strays, [])
        self.assertEqual(len(ems), 1, "one End Marker to the old gNB tunnel")
        self.assertEqual(len(seen), tr.sent, "zero loss")
        after = [s for s in seen if s > mark]
        self.assertTrue(after)
        self.assertEqual([s for s in after if seen[s][0] != "new"], [], "downlink after the command to the new F-TEID")
        # the End Marker closes the old tunnel: nothing on it after the marker
        self.assertEqual([s for s, (w, i) in seen.items() if w == "old" and i > ems[0][0]], [])
        d = self.delta()
        self.assertEqual(d.get("gtpu_end_marker_tx"), 1)
        self.assertEqual({k: v for k, v in d.items() if k.startswith("drop_")}, {})
        self.assertEqual(self.es.ok("session show 1"),
                         f"session add 1 ue {UE} ul-teid {UL} gnb {GNB2_4} gnb-teid {new_teid} cloud {UPF_4} "
                         f"cloud-teid {CLOUD_TEID} n9-teid {N9_TEID} qfi {QFI}\n")
        # no gNB change, no End Marker
        self.es.ok("session change 1 qfi 5")
        self.assertEqual(self.delta().get("gtpu_end_marker_tx"), 1)
