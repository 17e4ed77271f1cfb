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
BURST_MAX = 16           # packets sent back to back at most

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
        # a source port per flow: the kernel spreads flows over the
        # queues (PACKET_FANOUT hash) when there are several workers
        self.send = [bytes(gtpu_ul(i, UL, qfi=QFI, sport=40000 + f)) for f, i in enumerate(self.inner)]
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
                if due > n + BURST_MAX:
                    # behind (a busy host): never catch up in one burst
                    # that could overflow a receive ring
                    t0 += (due - n - BURST_MAX) / self.rate
                    due = n + BURST_MAX
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
    WORKERS = 1

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
        devs = [f"net_af_packet{i},iface={p}d,framecnt=4096,qpairs={self.WORKERS}"
                for i, p in enumerate(h.PORTS)]
        self.es = h.Daemon(cfg, self.d, devs=devs, netns=self.ns.name, workers=self.WORKERS)
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
        if bad:
            ports = json.dumps(self.es.ok("port show", json_out=True))
            self.fail(f"{len(bad)} of {sent} packets did not follow the rules in force when they were "
                      f"sent (seq, flow, outcome, after, allowed): {bad[:10]}; ports: {ports}")
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
        # a big batch that matches none of the flows: nothing may be lost
        # or mis-steered while it goes in and out
        many = "".join(f"rule add {1000 + i} dst 172.16.{i // 250}.{i % 250}/32 proto tcp action drop\n"
                       for i in range(500))
        many_del = "".join(f"rule del {1000 + i}\n" for i in range(500))
        steps = [
            ("rule add 20", lambda: es.ctl("rule add 20 dst 10.201.0.0/16 action local tap"),
             {0: "xr", 1: "tap", 2: "cloud"}),
            ("rule change 10", lambda: es.ctl("rule change 10 dst 10.200.0.0/16 action local tap"),
             {0: "tap", 1: "tap", 2: "cloud"}),
            ("rule del 20", lambda: es.ctl("rule del 20"),
             {0: "tap", 1: "cloud", 2: "cloud"}),
            ("500 rules", lambda: es.ctl(batch=many), {0: "tap", 1: "cloud", 2: "cloud"}),
            ("500 rules gone", lambda: es.ctl(batch=many_del), {0: "tap", 1: "cloud", 2: "cloud"}),
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
        d = self.delta()
        self.assertEqual({k: v for k, v in d.items() if k.startswith("drop_")}, {})
        self.assertEqual(d["rx"], tr.sent)
        self.assertEqual(len(seen), tr.sent, "zero loss")
        # after the batch every flow matches a rule for xr: 'cloud' (the
        # session's first cloud TEID) is then only ever xr's fallback
        k = [e[0] for e in epochs].index("batch -f")
        self.assertEqual(d.get("ul_fallback", 0),
                         sum(1 for s, o in seen.items() if o == "cloud" and s > epochs[k][2]))
        self.assertGreater(d.get("ul_fallback", 0), 0)


class LiveRulesTwoWorkers(LiveRules):
    """The same with two workers: a command returns only when neither
    uses the old rules."""
    WORKERS = 2


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


# ---- without traffic: net_pcap ports that receive nothing -----------------

RULES = ("rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action local xr\n"
         "rule add 20 dst 10.201.0.0/16 action mirror tap then cloud\n")
CONFIG = h.BASE_CONFIG + SESS + session(2, "10.45.0.3", 0x101, n9=0x401, qfi=5) + RULES


class Quiet(h.TestCase):
    def daemon(self, config=CONFIG, d=None, **kw):
        if d is None:
            d = tempfile.mkdtemp(prefix="es-ctl-e2e-")
            self.addCleanup(shutil.rmtree, d, True)
        es = h.Daemon(config, d, **kw)
        self.addCleanup(es.kill)
        return es.start()

    def shows(self, es):
        return {o: es.ok(o, "show") for o in ("rule", "session", "app", "neigh", "state")}


class Persistence(Quiet):
    def test_restart_and_sigkill_keep_every_change(self):
        d = tempfile.mkdtemp(prefix="es-ctl-e2e-")
        self.addCleanup(shutil.rmtree, d, True)
        state = os.path.join(d, "state")
        es = self.daemon(d=d, state=state)
        first = es.digest()
        changes = [
            "neigh add 10.100.0.30 lladdr 02:00:00:00:00:30 port lan",
            "app add xr2 via 10.100.0.30",
            "app change tap state down",
            "rule del 10",
            "rule add 5 dst 10.202.0.0/16 proto tcp action local xr2 fallback drop",
            "rule change 20 dst 10.201.0.0/16 action local tap",
            "session add 3 ue 10.45.0.4 ul-teid 0x102 gnb 192.0.2.11 gnb-teid 0x55 qfi 3",
            f"session change 1 gnb {GNB2_4} gnb-teid 0x1234",
            "session del 2",
        ]
        for c in changes:
            es.ok(c)
        es.ok(batch="app add xr3 via 10.100.0.30\nrule add 7 dst 10.203.0.0/16 action local xr3\n")
        before = self.shows(es)
        self.assertNotEqual(es.digest(), first)
        self.assertRegex(before["state"], r"^apps 5 sessions 2 rules 3 neighbours 9 digest [0-9a-f]{16} saved yes\n$")

        # planned restart
        self.assertEqual(es.stop(), 0)
        self.assertFalse(os.path.exists(es.sock), "the socket is removed on a clean stop")
        es = self.daemon(d=d, state=state)
        self.assertEqual(self.shows(es), before)
        # replaying 'session change 1 gnb ...' is no new handover
        self.assertEqual(es.counters()["gtpu_end_marker_tx"], 0)
        # the config's rule 10 and session 2 stay deleted
        self.assertEqual(es.ctl("rule show 10").returncode, 1)
        self.assertEqual(es.ctl("session show 2").returncode, 1)

        # more changes, then SIGKILL
        es.ok("rule del 7")
        es.ok("app change xr state down")
        es.ok("session change 3 qfi 4")
        before = self.shows(es)
        es.kill()
        es = self.daemon(d=d, state=state)
        self.assertEqual(self.shows(es), before)

        # a batch whose journal write was cut short: as if never made
        good = self.shows(es)
        es.ok(batch="rule add 8 dst 10.204.0.0/16 action drop\nrule add 9 dst 10.205.0.0/16 action drop\n"
                    "app change xr state up\n")
        self.assertNotEqual(self.shows(es), good)
        es.kill()
        with open(state + ".journal", "rb+") as f:
            j = f.read()
            self.assertTrue(j.endswith(b"app change xr state up\n#commit\n"), j[-200:])
            f.truncate(len(j) - 10)  # '#commit' and the line's end gone
        es = self.daemon(d=d, state=state)
        self.assertEqual(self.shows(es), good)
        es.stop()
        self.assertIn("has no #commit: a write cut short, ignored", es.stderr)
        self.assertIn(f"restoring apps, sessions and rules from {state} (the config's are not used)", es.stdout)

    def test_a_neighbour_added_at_run_time_then_put_in_the_config(self):
        d = tempfile.mkdtemp(prefix="es-ctl-e2e-")
        self.addCleanup(shutil.rmtree, d, True)
        state = os.path.join(d, "state")
        es = self.daemon(d=d, state=state)
        line = "neigh add 10.100.0.30 lladdr 02:00:00:00:00:30 port lan"
        es.ok(line)
        d1 = es.digest()
        es.ok(line)                       # the same again: nothing to do
        self.assertEqual(es.digest(), d1)
        self.assertEqual(es.ok("neigh show").count(line), 1)
        self.assertEqual(es.stop(), 0)
        # the operator moves it into the config; the state still has it
        es = self.daemon(config=CONFIG + line + "\n", d=d, state=state)
        self.assertEqual(es.ok("neigh show").count(line), 1)
        es.ok("app add xr2 via 10.100.0.30")

    def test_state_show_json_reports_the_rule_engine(self):
        es = self.daemon()
        e0 = es.ok("state show", json_out=True)["state"]["rule_engine"]
        # no 'set acl-simd': every rte_acl method this CPU runs was timed
        # on a probe rule set, and the fastest is in use
        flags = open("/proc/cpuinfo").read().split("\nflags", 1)[1].split("\n", 1)[0].split()
        runs = {"scalar", "sse"} | ({"avx2"} if "avx2" in flags else set()) | (
            {"avx512x32"} if {"avx512f", "avx512bw", "avx512vl", "avx512cd"} <= set(flags) else set())
        probe = e0["acl_probe"]
        self.assertEqual(set(probe), runs)
        self.assertTrue(all(c > 0 for c in probe.values()), probe)
        self.assertEqual(e0["acl_method"], min(probe, key=probe.get))
        es.ok("rule add 500 dst 10.250.0.0/16 action cloud")
        es.ok(batch="rule add 501 dst 10.251.0.0/16 proto udp dport 53 action cloud\nrule del 500\n")
        e1 = es.ok("state show", json_out=True)["state"]["rule_engine"]
        # one generation per accepted request, a batch included
        self.assertEqual(e1["generation"], e0["generation"] + 2)
        self.assertEqual(e1["updates"], e0["updates"] + 2)
        self.assertEqual(e1["base"] + e1["delta"] - e1["dead"] >= 1, True)
        # a refused request publishes nothing
        self.assertEqual(es.ctl("rule add 501 dst 10.252.0.0/16 action cloud").returncode, 1)
        e2 = es.ok("state show", json_out=True)["state"]["rule_engine"]
        self.assertEqual(e2["generation"], e1["generation"])
        # once quiet, a background merge folds the delta into the base
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            e3 = es.ok("state show", json_out=True)["state"]["rule_engine"]
            if e3["merges"] > e0["merges"] and e3["delta"] == 0 and e3["dead"] == 0:
                break
            time.sleep(0.05)
        self.assertGreater(e3["merges"], e0["merges"])
        self.assertEqual((e3["delta"], e3["dead"], e3["tuples"]), (0, 0, 0))
        self.assertEqual(e3["base"], len(es.ok("rule show").splitlines()))

    def test_without_state_nothing_is_saved_and_the_config_comes_back(self):
        es = self.daemon()
        first = self.shows(es)
        self.assertTrue(first["state"].endswith(" saved no\n"))
        es.ok("rule del 10")
        self.assertEqual(es.stop(), 0)
        es = self.daemon(d=es.dir)
        self.assertEqual(self.shows(es), first)

    def test_a_state_file_that_is_not_ours_stops_the_start(self):
        d = tempfile.mkdtemp(prefix="es-ctl-e2e-")
        self.addCleanup(shutil.rmtree, d, True)
        state = os.path.join(d, "state")
        with open(state, "w") as f:
            f.write("hello\n")
        es = h.Daemon(CONFIG, d, state=state)
        self.addCleanup(es.kill)
        es.start(wait=False)
        es.proc.wait(30)
        es.stop()
        self.assertNotEqual(es.proc.returncode, 0)
        self.assertIn(f"state not restored: {state}: not an edgesteer state file", es.stderr)


class BadCommands(Quiet):
    """Each refused command: exit 1, one line on stderr, nothing on stdout,
    the state digest and the journal unchanged."""

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="es-ctl-e2e-")
        cfg = (CONFIG.replace("set sessions-max 4096", "set sessions-max 3")
               .replace("set rules-max 1024", "set rules-max 3"))
        cls.es = h.Daemon(cfg, cls.d, state=os.path.join(cls.d, "state"))
        try:
            cls.es.start()
        except BaseException:
            shutil.rmtree(cls.d, True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.es.stop()
        shutil.rmtree(cls.d, True)

    def journal(self):
        with open(os.path.join(self.d, "state.journal"), "rb") as f:
            return f.read()

    def refused(self, words=None, regex="", batch=None, file=None):
        es = self.es
        d0, j0 = es.digest(), self.journal()
        if file is not None:
            r = h.subprocess.run([h.STEERCTL, "-s", es.sock, "-f", file], capture_output=True,
                                 text=True, timeout=h.CTL_TIMEOUT_S)
        else:
            r = es.ctl(*([words] if words else []), batch=batch)
        self.assertEqual((r.returncode, r.stdout), (1, ""), r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertRegex(r.stderr.rstrip("\n"), regex)
        self.assertEqual(es.digest(), d0, "a refused command changed the state")
        self.assertEqual(self.journal(), j0, "a refused command was journaled")
        return r

    def test_every_class_of_bad_command(self):
        cases = [
            ("route add x", r"^steerctl: unknown object 'route' \("),
            ("rule frob 10", r"^steerctl: unknown verb 'frob' for 'rule' \(add, change, del, show\)$"),
            ("neigh del 10.100.0.20", r"^steerctl: unknown verb 'del' for 'neigh'"),
            ("rule add 11 dst 10.0.0.0/8 colour red action drop", r"^steerctl: unknown word 'colour' in rule command"),
            ("rule add 11 dst 10.0.0.0/8", r"^steerctl: rule 11 needs 'action \.\.\.'$"),
            ("session add 9 ue 10.45.0.9", r"^steerctl: session 9 needs a non-zero 'ul-teid N'$"),
            ("session change 1 gnb 192.0.2.11", r"^steerctl: session 1: 'gnb' and 'gnb-teid' go together$"),
            ("app change xr", r"^steerctl: 'app change xr' changes nothing"),
            ("app add y via 10.0.0.300", r"^steerctl: bad address '10\.0\.0\.300' for 'via'$"),
            ("rule add 11 dst 10.0.0.0/33 action drop", r"^steerctl: bad prefix '10\.0\.0\.0/33' for 'dst'$"),
            ("neigh add 10.100.0.50 lladdr 02:00:00:00:00 port lan", r"^steerctl: bad .*02:00:00:00:00"),
            ("rule add 99999999999 action drop", r"^steerctl: bad value '99999999999' for 'rule add'"),
            ("session add 9 ue 10.45.0.9 ul-teid 0xZZ gnb 192.0.2.10 gnb-teid 1",
             r"^steerctl: bad value '0xZZ' for 'ul-teid'"),
            ("rule add 11 dst 10.9.0.0/16 action local nope", r"^steerctl: rule 11: no app named 'nope'$"),
            ("rule change 10 action local nope", r"no app named 'nope'$"),
            ("app del xr", r"^steerctl: app 'xr' is named by a rule \(change or delete the rule first\)$"),
            ("app del tap", r"^steerctl: app 'tap' is named by a rule"),   # as a mirror
            ("app del nope", r"^steerctl: no app named 'nope'$"),
            ("app add xr via 10.100.0.21", r"^steerctl: app 'xr' already exists$"),
            ("app add z via 10.100.0.99", r"^steerctl: no neighbour for next hop 10\.100\.0\.99"),
            ("rule del 77", r"^steerctl: rule 77 does not exist$"),
            ("rule change 77 action drop", r"^steerctl: rule 77 does not exist$"),
            ("session del 77", r"^steerctl: session 77 does not exist$"),
            ("session change 77 qfi 5", r"^steerctl: session 77 does not exist$"),
            ("rule add 10 dst 10.0.0.0/8 action drop", r"^steerctl: rule 10 already exists$"),
            ("session add 1 ue 10.45.0.9 ul-teid 0x300 gnb 192.0.2.10 gnb-teid 1",
             r"^steerctl: session 1 already exists$"),
            ("session add 5 ue 10.45.0.9 ul-teid 0x100 gnb 192.0.2.10 gnb-teid 1",
             r"^steerctl: session 5: ul-teid 256 already used$"),
            ("session add 8 ue 10.45.0.12 ul-teid 0x104 gnb 198.51.100.7 gnb-teid 1",
             r"^steerctl: session 8: gnb: 198\.51\.100\.7 is on no access port"),
            ("neigh add 10.100.0.50 lladdr 02:00:00:00:00:50 port nope", r"^steerctl: neigh: no port named 'nope'$"),
            ("neigh add 10.100.0.20 lladdr 02:00:00:00:00:99 port lan",
             r"^steerctl: neigh 10\.100\.0\.20 on port lan is already lladdr 02:00:00:00:00:20 "
             r"\(a neighbour is not changed at run time\)$"),
            ("neigh add 2001:db8:a::20 lladdr 02:00:00:00:00:99 port lan",
             r"^steerctl: neigh 2001:db8:a::20 on port lan is already lladdr 02:00:00:00:00:20 "),
            ("set rules-max 10", r"^steerctl: set rules-max: settings are read at start-up"),
            ("port add x dev net_pcap9 role local addr 10.9.9.1/24", r"^steerctl: port x: ports are set at start-up"),
            ("rule show 77", r"^steerctl: rule 77 does not exist$"),
            ("session show 77", r"^steerctl: session 77 does not exist$"),
            ("app show nope", r"^steerctl: no app named 'nope'$"),
            ("port show nope", r"^steerctl: no port named 'nope'$"),
            ("counters show nope", r"^steerctl: no counter named 'nope'"),
        ]
        for words, regex in cases:
            with self.subTest(cmd=words):
                self.refused(words, regex)

    def test_over_capacity(self):
        es = self.es
        # 2 rules and 2 sessions from the config; one more of each fits
        es.ok("rule add 30 dst 10.1.0.0/16 action drop")
        es.ok("session add 3 ue 10.45.0.4 ul-teid 0x102 gnb 192.0.2.10 gnb-teid 1")
        self.addCleanup(es.ok, batch="rule del 30\nsession del 3\n")
        self.refused("rule add 31 dst 10.2.0.0/16 action drop",
                     r"^steerctl: rule 31: table full \(3 rules; raise 'set rules-max'\)$")
        self.refused("session add 4 ue 10.45.0.5 ul-teid 0x103 gnb 192.0.2.10 gnb-teid 1",
                     r"^steerctl: session 4: table full \(3 sessions; raise 'set sessions-max'\)$")
        # a batch that frees one first fits
        es.ok(batch="rule del 30\nrule add 31 dst 10.2.0.0/16 action drop\n")
        es.ok(batch="rule del 31\nrule add 30 dst 10.1.0.0/16 action drop\n")

    def test_a_batch_with_only_its_last_line_bad_applies_nothing(self):
        path = os.path.join(self.d, "changes.conf")
        with open(path, "w") as f:
            f.write("# three good, one bad\n"
                    "app add xr2 via 10.100.0.21\n"
                    "rule del 10\n"
                    "session change 1 gnb 192.0.2.11 gnb-teid 9\n"
                    "\n"
                    "rule add 12 dst 10.9.0.0/16 action local nope\n")
        self.refused(file=path, regex=rf"^{re.escape(path)}:6: rule 12: no app named 'nope'$")
        # a bad word on the last line: the parser's refusal also names it
        with open(path, "w") as f:
            f.write("rule del 10\napp del xr\nrule add 5 colour red action drop\n")
        self.refused(file=path, regex=rf"^{re.escape(path)}:3: unknown word 'colour'")
        # stages run in a fixed order; the failing line is still named
        self.refused(batch="rule del 10\nsession add 1 ue 10.45.0.9 ul-teid 0x300 gnb 192.0.2.10 gnb-teid 1\n",
                     regex=r"^<stdin>:2: session 1 already exists$")
        self.refused(batch="app change xr state down\nrule del 10\nrule del 10\n",
                     regex=r"^<stdin>:3: ")
        # refused in the last stage (app deletions, after the rules): the
        # new app, the rule naming it and the deleted rule are all undone
        self.refused(batch="app add q via 10.100.0.21\nrule add 5 dst 10.9.0.0/16 action local q\n"
                           "rule del 20\napp del xr\n",
                     regex=r"^<stdin>:4: app 'xr' is named by a rule")
        self.assertEqual(self.es.ctl("app show q").returncode, 1)
        # a handover in a refused batch never happened: no End Marker
        em = self.es.counters()["gtpu_end_marker_tx"]
        self.refused(batch=f"session change 1 gnb {GNB2_4} gnb-teid 5\nrule del 77\n",
                     regex=r"^<stdin>:2: rule 77 does not exist$")
        time.sleep(0.1)
        self.assertEqual(self.es.counters()["gtpu_end_marker_tx"], em)

    def test_show_in_a_batch_is_refused(self):
        for line in ("rule show", "state show", "counters show", "show rule 10"):
            with self.subTest(line=line):
                self.refused(batch=f"rule del 10\n{line}\n",
                             regex=r"^<stdin>:2: 'show' cannot be part of a batch of changes$")


class Show(Quiet):
    def test_every_show_parses_as_json(self):
        es = self.daemon()
        es.ok("neigh add 10.100.0.30 lladdr 02:00:00:00:00:30 port lan")
        cases = {"rule": ("rules", 2), "app": ("apps", 3), "session": ("sessions", 2),
                 "port": ("ports", 3), "neigh": ("neighbours", 9)}
        for obj, (key, n) in cases.items():
            for words in ((obj, "show"), ("show", obj)):
                with self.subTest(words=words):
                    doc = es.ok(*words, json_out=True)
                    # port show ends with the pool the ports receive into
                    self.assertEqual(list(doc), [key, "pool"] if obj == "port" else [key])
                    self.assertEqual(len(doc[key]), n)
        for words in (("rule", "show", "10"), ("app", "show", "xr"), ("session", "show", "1"),
                      ("port", "show", "n3")):
            with self.subTest(words=words):
                doc = es.ok(*words, json_out=True)
                self.assertEqual(len(list(doc.values())[0]), 1)
        self.assertEqual(es.ok("rule show 10", json_out=True),
                         {"rules": [{"prio": 10, "dst": "10.200.0.0/16", "proto": "udp",
                                     "dport": "4000-4999", "action": "local", "app": "xr"}]})
        self.assertEqual(es.ok("session show 1", json_out=True),
                         {"sessions": [{"id": 1, "ue": UE, "ul-teid": UL, "gnb": GNB_4, "gnb-teid": GNB_TEID,
                                        "cloud": UPF_4, "cloud-teid": CLOUD_TEID, "n9-teid": N9_TEID,
                                        "qfi": QFI}]})
        self.assertEqual(es.ok("app show xr", json_out=True),
                         {"apps": [{"name": "xr", "via": APP_4, "state": "up", "port": "lan",
                                    "lladdr": MAC_APP, "rules": True, "index": 0}]})
        self.assertEqual(es.ok("port show n3", json_out=True)["ports"][0]["addr"],
                         ["192.0.2.1/24", "2001:db8:3::1/64"])
        c = es.ok("counters show", json_out=True)["counters"]
        self.assertEqual(c["rx"], 0)
        self.assertGreater(len(c), 50)
        self.assertEqual(es.ok("counters show ul_local", json_out=True), {"counters": {"ul_local": 0}})
        st = es.ok("state show", json_out=True)["state"]
        self.assertEqual((st["apps"], st["sessions"], st["rules"], st["neighbours"], st["saved"]),
                         (3, 2, 2, 9, False))
        self.assertRegex(st["digest"], r"^[0-9a-f]{16}$")
        lat = es.ok("latency show", json_out=True)
        self.assertEqual(list(lat), ["latency"])
        # an empty table is an empty list
        es.ok(batch="rule del 10\nrule del 20\n")
        self.assertEqual(es.ok("rule show", json_out=True), {"rules": []})
        self.assertEqual(es.ok("rule show"), "")

    def test_show_lines_paste_back(self):
        es = self.daemon()
        es.ok("app change tap state down")
        es.ok("rule add 30 dst 2001:db8:200::/48 proto tcp dport 80 qfi 5 action local xr6 fallback drop")
        es.ok("rule add 40 src 10.45.0.0/16 teid 0x101 dscp 46 action mirror tap then local xr")
        es.ok("session add 3 ue 10.45.0.4 ue6 2001:db8:45:4::/64 ul-teid 0x102 gnb 192.0.2.11 gnb-teid 0x55 qfi 3")
        d0 = es.digest()
        for obj, key_of in (("rule", lambda l: l.split()[2]), ("session", lambda l: l.split()[2]),
                            ("app", lambda l: l.split()[2])):
            for line in es.ok(obj, "show").splitlines():
                key = key_of(line)
                if obj == "app" and key != "xr2":
                    continue  # apps named by rules cannot go
                with self.subTest(line=line):
                    es.ok(obj, "del", key)
                    self.assertNotEqual(es.digest(), d0)
                    es.ok(line)
                    self.assertEqual(es.digest(), d0)
        es.ok("app add xr2 via 10.100.0.21 state down")
        d0 = es.digest()
        line = es.ok("app show xr2")
        self.assertEqual(line, "app add xr2 via 10.100.0.21 state down\n")
        es.ok("app del xr2")
        es.ok(line.strip())
        self.assertEqual(es.digest(), d0)
        # the whole state, pasted back as one batch, into a daemon started
        # without any of it, gives the same digest
        text = "".join(es.ok(o, "show") for o in ("app", "session", "rule"))
        es2 = self.daemon(config=h.BASE_CONFIG.replace("app add xr via", "# ").replace(
            "app add xr6 via", "# ").replace("app add tap via", "# "))
        es2.ok(batch=text)
        self.assertEqual(es2.digest(), d0)


class Socket(Quiet):
    def test_the_socket_is_0600(self):
        es = self.daemon()
        st = os.stat(es.sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)

    def test_a_second_daemon_on_the_same_socket_is_refused(self):
        es = self.daemon()
        d2 = tempfile.mkdtemp(prefix="es-ctl-e2e-")
        self.addCleanup(shutil.rmtree, d2, True)
        two = h.Daemon(CONFIG, d2, ctl=es.sock)
        self.addCleanup(two.kill)
        two.start(wait=False)
        two.proc.wait(30)
        two.stop()
        self.assertNotEqual(two.proc.returncode, 0)
        self.assertIn(f"control socket {es.sock} is in use by another edgesteer (give --ctl PATH)", two.stderr)
        es.ok("state show")   # the first one still answers on it

    def test_a_stale_socket_is_replaced(self):
        es = self.daemon()
        es.kill()
        self.assertTrue(os.path.exists(es.sock), "SIGKILL leaves the socket file")
        es2 = self.daemon(d=es.dir)
        self.assertEqual(es2.sock, es.sock)
        self.assertIn("digest", es2.ok("state show"))

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
    def test_another_user_is_refused_even_through_an_open_socket(self):
        es = self.daemon()
        os.chmod(es.dir, 0o755)
        os.chmod(es.sock, 0o666)
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            h.STEERCTL, "-s", es.sock, "rule", "show"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual((r.returncode, r.stdout), (1, ""), r.stderr)
        self.assertEqual(r.stderr, "steerctl: permission denied: uid 65534 may not use this socket\n")


class Protocol(Quiet):
    """The socket protocol against the real daemon (docs/control.md)."""

    HDR = struct.Struct("=III")
    MAGIC = 0x31435345

    def request(self, text, flags=0):
        return self.HDR.pack(self.MAGIC, flags, len(text)) + text

    def answers(self, s, n):
        f = s.makefile("rb")
        out = []
        for _ in range(n):
            magic, status, ln = self.HDR.unpack(f.read(12))
            self.assertEqual(magic, self.MAGIC)
            out.append((status, f.read(ln).decode()))
        return out, f

    def connect(self, es):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(es.sock)
        self.addCleanup(s.close)
        return s

    def test_several_requests_on_one_connection_in_pieces(self):
        es = self.daemon()
        s = self.connect(es)
        data = (self.request(b"rule add 5 action drop\n") + self.request(b"rule show 5\n") +
                self.request(b"rule del 5\n", flags=1) + self.request(b"rule show 5\n"))
        for i in range(0, len(data), 7):      # partial headers and bodies
            s.sendall(data[i:i + 7])
            time.sleep(0.002)
        got, _ = self.answers(s, 4)
        self.assertEqual(got, [(0, ""), (0, "rule add 5 action drop\n"), (0, "{}\n"),
                               (1, "rule 5 does not exist")])

    def test_a_bad_header_is_answered_and_closed_and_the_daemon_goes_on(self):
        es = self.daemon()
        s = self.connect(es)
        s.sendall(self.HDR.pack(0x12345678, 0, 5) + b"hello")
        got, f = self.answers(s, 1)
        self.assertEqual(got, [(1, "bad request header: magic 0x12345678 is not 0x31435345 (not a steerctl request)")])
        self.assertEqual(f.read(), b"", "closed after the refusal")
        s2 = self.connect(es)
        s2.sendall(self.HDR.pack(self.MAGIC, 0, (64 << 20) + 1))
        self.assertEqual(self.answers(s2, 1)[0][0][0], 1)
        # a client gone in the middle of a request changes nothing
        d0 = es.digest()
        s3 = self.connect(es)
        s3.sendall(self.request(b"rule del 10\n")[:15])
        s3.close()
        self.assertEqual(es.digest(), d0)
        es.ok("state show")

    def test_json_answers_always_parse(self):
        es = self.daemon()
        for args, text in ((["-j", "rule", "add", "5", "action", "drop"], ""),
                           (["-j", "-f", "-"], "# an empty batch\n"),
                           (["-j", "-f", "-"], "rule del 5\n")):
            with self.subTest(args=args):
                r = subprocess.run([h.STEERCTL, "-s", es.sock] + args, input=text, capture_output=True,
                                   text=True, timeout=h.CTL_TIMEOUT_S)
                self.assertEqual((r.returncode, r.stderr), (0, ""))
                self.assertEqual(json.loads(r.stdout), {})
        self.assertEqual(es.ok("rule add 5 action drop"), "", "no output without -j")

    def test_clients_at_once(self):
        es = self.daemon()
        d0 = es.digest()
        procs = []
        for c in range(8):
            text = "".join(f"rule add {100 + c * 10 + i} dst 10.{c}.{i}.0/24 action drop\n" for i in range(10))
            path = os.path.join(es.dir, f"c{c}.conf")
            with open(path, "w") as f:
                f.write(text)
            for i in range(10):   # one command each, and the same as a batch after deleting
                procs.append(subprocess.Popen([h.STEERCTL, "-s", es.sock, "rule", "add", str(100 + c * 10 + i),
                                               "dst", f"10.{c}.{i}.0/24", "action", "drop"],
                                              stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        for p in procs:
            out, err = p.communicate(timeout=h.CTL_TIMEOUT_S)
            self.assertEqual((p.returncode, out, err), (0, b"", b""))
        self.assertEqual(len(es.ok("rule show").splitlines()), 82)
        d1 = es.digest()
        es.ok(batch="".join(f"rule del {r}\n" for r in range(100, 180)))
        self.assertEqual(es.digest(), d0)
        for c in range(8):
            r = subprocess.run([h.STEERCTL, "-s", es.sock, "-f", os.path.join(es.dir, f"c{c}.conf")],
                               capture_output=True, timeout=h.CTL_TIMEOUT_S)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(es.digest(), d1, "the digest does not depend on the order of changes")


HDR = struct.Struct("=III")
MAX_REQ = 64 << 20             # ES_CTL_MAX_REQ, docs/control.md
SLOTS = 16                     # clients served at once, docs/control.md


def ctl_request(text, flags=0):
    return HDR.pack(Protocol.MAGIC, flags, len(text)) + text


def read_exact(s, n):
    """n bytes from socket s, or fewer when it closes first."""
    buf = bytearray()
    while len(buf) < n:
        k = s.recv(min(n - len(buf), 1 << 20))
        if not k:
            break
        buf += k
    return bytes(buf)


def read_answer(s):
    """(status, text) of one answer on s; raises when the connection closes
    before a whole answer."""
    hdr = read_exact(s, HDR.size)
    if len(hdr) < HDR.size:
        raise EOFError(f"closed after {len(hdr)} header bytes")
    magic, status, n = HDR.unpack(hdr)
    body = read_exact(s, n)
    if magic != Protocol.MAGIC or len(body) < n:
        raise EOFError(f"magic {magic:#x}, {len(body)} of {n} bytes")
    return status, body


def read_to_eof(s, limit=64 << 20):
    """Everything until the daemon closes (bounded by the socket's time-out)."""
    got = bytearray()
    while len(got) < limit:
        try:
            k = s.recv(1 << 20)
        except ConnectionResetError:
            break
        if not k:
            break
        got += k
    return bytes(got)


class ControlLimits(Quiet):
    """The control socket under clients that misbehave, and its exact
    limits (docs/control.md "The control socket"): non-blocking per-client
    answers, time-outs, a refusal when full, the request and line limits,
    a --ctl path that is not a socket, escaped refusals."""

    def connect(self, es, timeout=10):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(es.sock)
        self.addCleanup(s.close)
        return s

    def control(self, es):
        return es.ok("state show", json_out=True)["state"]["control"]

    def take_slots(self, es, n):
        """n connections that each hold a slot (each answered a request;
        one turned away busy is closed and opened again)."""
        held = []
        deadline = time.monotonic() + 30
        while len(held) < n and time.monotonic() < deadline:
            s = self.connect(es)
            s.sendall(ctl_request(b"state show\n"))
            status, body = read_answer(s)
            if status == 1 and body.startswith(b"busy: "):
                s.close()          # a steerctl's slot not yet freed
                time.sleep(0.05)
                continue
            self.assertEqual(status, 0, body)
            held.append(s)
        self.assertEqual(len(held), n)
        return held

    def test_a_client_that_never_reads_delays_no_other_client(self):
        es = self.daemon()   # the default --ctl-send-timeout, 10 s
        # answers of ~160 KB each: a few fill any socket buffer
        es.ok(batch="".join(f"rule add {1000 + i} ue 10.45.0.0/16 src 10.0.0.0/8 dst 10.{i >> 8}.{i & 255}.0/24 "
                            f"proto udp sport 1000-2000 dport 3000-4000 qfi 9 dscp 10 action mirror tap "
                            f"then cloud fallback drop\n" for i in range(1000)))
        one = len(es.ok("rule show").encode())
        self.assertGreater(one, 150000)
        slow = self.connect(es)
        slow.sendall(ctl_request(b"rule show\n") * 8)    # and never reads
        time.sleep(0.5)      # the daemon has read them and answers what the socket takes
        for i in range(5):
            t0 = time.monotonic()
            r = h.steerctl(es.sock, "state show", timeout=10)
            took = time.monotonic() - t0
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            self.assertLess(took, 2.0, f"command {i} waited {took:.1f} s behind a client that does not read")
        # the client that does not read is dropped after --ctl-send-timeout
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and self.control(es)["dropped_slow"] == 0:
            time.sleep(0.1)
        c = self.control(es)
        self.assertEqual((c["dropped_slow"], c["send_timeout_ms"]), (1, 10000))
        got = read_to_eof(slow)
        self.assertLess(len(got), 8 * (one + 12), "dropped before all its answers were sent")
        self.assertEqual(HDR.unpack(got[:12]), (Protocol.MAGIC, 0, one), "what it got began with an answer")

    def test_when_every_slot_is_taken_a_new_client_is_told_at_once(self):
        es = self.daemon()
        held = self.take_slots(es, SLOTS)
        busy = (1, b"busy: all 16 control connections are in use (one idle for 60000 ms is closed); try again")
        s = self.connect(es)
        self.assertEqual(read_answer(s), busy)
        self.assertEqual(read_to_eof(s), b"", "closed after the refusal")
        # steerctl tries again until its -t, then says why
        r = h.steerctl(es.sock, "state show", timeout=0.5)
        self.assertEqual((r.returncode, r.stdout), (2, ""), r.stderr)
        self.assertEqual(r.stderr, f"steerctl: {es.sock}: no free connection within 0.5 s: "
                                   f"{busy[1][6:].decode()}\n")
        # a slot freed: steerctl gets it
        held.pop().close()
        c = self.control(es)
        self.assertGreaterEqual(c["refused_full"], 2)
        self.assertEqual((c["clients"], c["slots"], c["closed_idle"]), (SLOTS, SLOTS, 0))
        for s in held:      # they still hold their slots, and are served
            s.sendall(ctl_request(b"counters show rx\n"))
            self.assertEqual(read_answer(s)[0], 0)

    def test_idle_clients_are_closed_after_the_idle_timeout(self):
        es = self.daemon(extra_args=["--ctl-idle-timeout", "1000"])
        held = self.take_slots(es, SLOTS)
        # every slot is idle: steerctl (retrying while busy) gets one
        # once they are closed
        r = h.steerctl(es.sock, "state show", timeout=20)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        for s in held:
            self.assertEqual(read_to_eof(s), b"", "closed by the daemon")
        c = self.control(es)
        self.assertEqual((c["closed_idle"], c["idle_timeout_ms"]), (SLOTS, 1000))
        # a partial request is not progress for ever either
        s = self.connect(es)
        s.sendall(ctl_request(b"state show\n")[:7])
        self.assertEqual(read_to_eof(s), b"")
        self.assertEqual(self.control(es)["closed_idle"], SLOTS + 1)

    def test_the_timeouts_are_checked_at_start(self):
        for opt, bad in (("--ctl-idle-timeout", "99"), ("--ctl-send-timeout", "86400001"),
                         ("--ctl-idle-timeout", "1s"), ("--ctl-send-timeout", "-5")):
            with self.subTest(opt=opt, bad=bad):
                d = tempfile.mkdtemp(prefix="es-ctl-e2e-")
                self.addCleanup(shutil.rmtree, d, True)
                es = h.Daemon(CONFIG, d, extra_args=[opt, bad])
                self.addCleanup(es.kill)
                es.start(wait=False)
                es.proc.wait(30)
                es.stop()
                self.assertNotEqual(es.proc.returncode, 0)
                self.assertIn(f"{opt[2:]}: '{bad}': milliseconds, 100..86400000", es.stderr)

    def test_a_request_of_exactly_the_limit_is_answered_one_byte_more_refused(self):
        es = self.daemon()
        head = b"state show\n"
        pad = b"#" + b"x" * 1022 + b"\n"              # a comment line of 1023 characters
        n, rest = divmod(MAX_REQ - len(head), len(pad))
        text = head + pad * n + b"#" + b"y" * (rest - 2) + b"\n"
        self.assertEqual(len(text), MAX_REQ)
        path = os.path.join(es.dir, "max.conf")
        with open(path, "wb") as f:
            f.write(text)
        r = subprocess.run([h.STEERCTL, "-s", es.sock, "-t", "60", "-f", path],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertRegex(r.stdout, r"^apps \d+ sessions 2 rules 2 neighbours \d+ digest [0-9a-f]{16} saved no\n$")
        # one byte over: a clear refusal, then the daemon closes
        s = self.connect(es)
        s.sendall(HDR.pack(Protocol.MAGIC, 0, MAX_REQ + 1))
        self.assertEqual(read_answer(s), (1, b"request too large: 67108865 bytes, over the limit "
                                             b"of 67108864 bytes (64 MiB)"))
        self.assertEqual(read_to_eof(s), b"")
        self.assertEqual(self.control(es)["too_large"], 1)
        es.ok("state show")

    def test_the_line_limit_is_1023_characters_exactly(self):
        es = self.daemon()

        def padded(cmd, n):
            line = cmd + " #" + "x" * (n - len(cmd) - 2)
            self.assertEqual(len(line), n)
            return line + "\n"

        too_long = "line longer than 1023 characters"
        r = es.ctl(batch=padded("state show", 1023))
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertIn("digest", r.stdout)
        es.ok(batch="rule add 30 action drop\n" + padded("rule del 20", 1023))
        self.assertNotIn("rule add 20 ", es.ok("rule show"), "the 1023-character line was applied")
        for n in (1024, 5000):
            with self.subTest(n=n):
                r = es.ctl(batch=padded("state show", n))
                self.assertEqual((r.returncode, r.stdout, r.stderr), (1, "", f"steerctl: <stdin>: {too_long}\n"))
                r = es.ctl(batch="rule del 30\n" + padded("rule del 10", n))
                self.assertEqual((r.returncode, r.stderr), (1, f"<stdin>:2: {too_long}\n"))
        self.assertIn("rule add 30 ", es.ok("rule show"), "nothing of a refused batch applied")

    def test_refusals_quote_control_bytes_escaped(self):
        es = self.daemon()
        cases = [
            ([b"rule", b"add", b"5", b"act\x1b[31mion", b"drop"],
             "steerctl: unknown word 'act\\x1b[31mion' in rule command (see docs/config.md)\n"),
            ([b"app", b"add", b"x\x01y", b"via", b"10.0.0.1"],
             "steerctl: bad character '\\x01' in 'x\\x01y'\n"),
            ([b"rlue\x7f\xc3\xa9", b"add"],
             "steerctl: unknown object 'rlue\\x7f\\xc3\\xa9' (set, port, neigh, app, session, rule, "
             "counters, state, latency, hook, show)\n"),
        ]
        for words, want in cases:
            with self.subTest(words=words):
                r = subprocess.run([h.STEERCTL.encode(), b"-s", es.sock.encode()] + words,
                                   capture_output=True, timeout=h.CTL_TIMEOUT_S)
                self.assertEqual((r.returncode, r.stdout, r.stderr.decode()), (1, b"", want))
        # on the wire too: the daemon's reason holds no control byte
        s = self.connect(es)
        s.sendall(ctl_request(b"rule del \x07\x1b]0;pwned\x07\n"))
        status, body = read_answer(s)
        self.assertEqual((status, body), (1, b"bad value '\\x07\\x1b]0;pwned\\x07' for 'rule del' "
                                             b"(a number 0..536870910)"))

    def test_a_ctl_path_that_is_not_a_socket_is_refused_and_kept(self):
        d = tempfile.mkdtemp(prefix="es-ctl-e2e-")
        self.addCleanup(shutil.rmtree, d, True)
        precious = os.path.join(d, "precious.txt")
        with open(precious, "w") as f:
            f.write("do not delete\n")
        os.mkdir(os.path.join(d, "adir"))
        os.symlink(precious, os.path.join(d, "alink"))
        for name, what in (("precious.txt", "a regular file"), ("adir", "a directory"),
                           ("alink", "a symbolic link")):
            with self.subTest(path=name):
                path = os.path.join(d, name)
                es = h.Daemon(CONFIG, d, ctl=path)
                self.addCleanup(es.kill)
                es.start(wait=False)
                es.proc.wait(30)
                es.stop()
                self.assertNotEqual(es.proc.returncode, 0)
                self.assertIn(f"control socket {path}: the path exists and is not a socket ({what}); "
                              f"not removed (give --ctl PATH)", es.stderr)
        with open(precious) as f:
            self.assertEqual(f.read(), "do not delete\n")
        self.assertTrue(os.path.isdir(os.path.join(d, "adir")))
        self.assertTrue(os.path.islink(os.path.join(d, "alink")))


def first_line(path):
    with open(path) as f:
        return f.readline()


class EndMarkers(Quiet):
    def test_one_end_marker_per_session_and_batch_for_the_tunnel_it_left(self):
        es = self.daemon()
        # there and back in one batch: the tunnel never closed
        es.ok(batch=f"session change 1 gnb {GNB2_4} gnb-teid 5\nsession change 1 gnb {GNB_4} gnb-teid {GNB_TEID}\n")
        # two moves in one batch: only the tunnel in use before it closes
        es.ok(batch=f"session change 1 gnb {GNB2_4} gnb-teid 5\nsession change 1 gnb {GNB2_4} gnb-teid 6\n")
        # a session whose cloud or QFI changes keeps its tunnel
        es.ok(f"session change 1 cloud {UPF_4} cloud-teid 7 qfi 3")
        time.sleep(0.2)
        self.assertEqual(es.counters()["gtpu_end_marker_tx"], 1)
        self.assertEqual(es.stop(), 0)
        want = (outer4(N3_4, GNB_4, MAC_N3, MAC_GNB) / UDP(sport=2152, dport=2152, chksum=0) /
                GTP_U_Header(teid=GNB_TEID, gtp_type=254))
        out = es.outputs("n3")
        self.assertEqual([bytes(p).hex() for p in out], [bytes(want).hex()])


class Compaction(Quiet):
    def test_a_long_journal_becomes_a_snapshot_and_restores(self):
        d = tempfile.mkdtemp(prefix="es-ctl-e2e-")
        self.addCleanup(shutil.rmtree, d, True)
        state = os.path.join(d, "state")
        es = self.daemon(d=d, state=state, extra_args=["--state-sync"])
        for f in (state, state + ".journal"):
            self.assertEqual(stat.S_IMODE(os.stat(f).st_mode), 0o600, f)
        gen = first_line(state)
        # over 200000 journal lines (the compaction threshold) in one batch
        flips = "app change xr state down\napp change xr state up\n" * 100001
        es.ok(batch=flips + "rule del 10\n")
        self.assertNotEqual(first_line(state), gen, "a new snapshot generation")
        self.assertLess(os.path.getsize(state + ".journal"), 100, "the journal starts again")
        es.ok("app change tap state down")
        want = self.shows(es)
        es.kill()
        es = self.daemon(d=d, state=state)
        self.assertEqual(self.shows(es), want)
