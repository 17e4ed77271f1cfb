"""A flood of outer fragments to our N3 address, at the rate the worker
polls (net_pcap ports read as fast as they are polled: line rate for this
host), interleaved with valid traffic on every port.

Reassembly may hold only its share of the mbuf pool (set frag-mbufs,
default a quarter of 'set mbufs' over the workers), and one source only an
eighth of that: the flood is dropped under drop_frag_source_share and
drop_frag_pool_share, the pool never runs dry (every port's rx_nombuf
stays 0), every valid packet on n3, n9 and lan comes out byte for byte as
scapy builds it, and G-PDUs fragmented by other sources still reassemble
while the flood holds its share. Fragments never time out here
(frag-timeout-ms 60000), so every count is exact.

Also: refusals on three ports in one round (more than the library's death
row holds) are all counted, an explicit frag-mbufs is the limit, and
steerctl port show tells what reassembly holds while it holds it.
"""
import os
import re
import shutil
import tempfile
import time
from collections import Counter

from scapy.all import IP, IPv6, UDP, Ether, Raw, fragment, fragment6, wrpcap
from scapy.layers.inet6 import IPv6ExtHdrFragment

import esharness as h
from esharness import (APP_4, GNB2_4, GNB_4, GNB_6, MAC_APP, MAC_GNB, MAC_GNB2,
                       MAC_LAN, MAC_N3, MAC_N9, MAC_UPF, N3_4, N3_6, N9_4, UPF_4,
                       gtpu_ul, routed, session)
from test_paths import outer4, relay_gtp

UE, UE2, UE6 = "10.45.0.2", "10.45.0.3", "2001:db8:45:1::"
SESS = (session(1, UE, 0x100, n9=0x400) +
        session(2, UE2, 0x101, gnb=GNB2_4, n9=0x401, qfi=5) +
        session(3, None, 0x102, gnb=GNB_6, cloud=None, ue6=UE6 + "/64"))
RULES = ("rule add 10 dst 10.200.0.0/16 action local xr\n"
         "rule add 11 dst 2001:db8:200::/48 action local xr6\n")
CONFIG = h.BASE_CONFIG + SESS + RULES + "set frag-timeout-ms 60000\n"

MBUFS = 4095                      # BASE_CONFIG's 'set mbufs'
FRAG_MBUFS = MBUFS // 4           # the default share, one worker
SOURCE_MBUFS = FRAG_MBUFS // 8    # one source's share of it

FLOOD4_SRC, FLOOD6_SRC = "192.0.2.66", "2001:db8:3::66"
MANY_SRC = [f"198.18.0.{i}" for i in range(1, 13)]
FRAGS_PER_ID = 5                  # non-final fragments: never complete
VALID_EVERY = 10                  # one valid packet in ten on every port


def frag4(src, ident, k):
    """Non-final fragment k of IPv4 packet ident from src to our N3
    address: 64 bytes of payload at offset 64 * k, more fragments."""
    return (Ether(src=MAC_GNB, dst=MAC_N3) /
            IP(src=src, dst=N3_4, id=ident, proto=17, flags="MF", frag=8 * k) /
            Raw(bytes([k]) * 64))


def frag6(src, ident, k):
    return (Ether(src=MAC_GNB, dst=MAC_N3) / IPv6(src=src, dst=N3_6) /
            IPv6ExtHdrFragment(nh=17, id=ident, m=1, offset=8 * k) /
            Raw(bytes([k]) * 64))


def legit4(j):
    """An uplink G-PDU from the second gNB, too big for one frame: its
    fragments, and what the app must receive."""
    inner = IP(src=UE2, dst="10.200.2.2") / UDP(sport=3000 + j, dport=80) / Raw(b"L" * 1200)
    full = gtpu_ul(inner, 0x101, qfi=5, outer_src=GNB2_4, src_mac=MAC_GNB2)
    full[IP].id = 0x5000 + j
    frags = [Ether(src=MAC_GNB2, dst=MAC_N3) / f for f in fragment(full[IP], fragsize=512)]
    return frags, Ether(src=MAC_LAN, dst=MAC_APP) / IP(routed(bytes(inner)))


def legit6(j):
    inner = IPv6(src=UE6 + "5", dst="2001:db8:200::9") / UDP(sport=4000 + j, dport=80) / Raw(b"M" * 1200)
    full = gtpu_ul(inner, 0x102, outer_src=GNB_6, outer_dst=N3_6, v6=True)
    frags = fragment6(IPv6(src=GNB_6, dst=N3_6) / IPv6ExtHdrFragment(id=0x6000 + j) / full[UDP], 700)
    return ([Ether(src=MAC_GNB, dst=MAC_N3) / f for f in frags],
            Ether(src=MAC_LAN, dst=MAC_APP) / IPv6(routed(bytes(inner))))


def uplink(i):
    """A valid uplink G-PDU on n3 (local breakout for even i, relayed to
    the cloud for odd i) and the frame it must become, on its port."""
    if i % 2 == 0:
        inner = IP(src=UE, dst="10.200.1.1", ttl=64) / UDP(sport=i, dport=2000) / Raw(b"u" * 24)
        return gtpu_ul(inner, 0x100), "lan", Ether(src=MAC_LAN, dst=MAC_APP) / IP(routed(bytes(inner)))
    inner = IP(src=UE, dst="8.8.8.8", ttl=64) / UDP(sport=i, dport=2000) / Raw(b"c" * 24)
    want = (outer4(h.N9_4, UPF_4, MAC_N9, MAC_UPF) / UDP(sport=2152, dport=2152, chksum=0) /
            relay_gtp(0x2100, inner, 1, 9))
    return gtpu_ul(inner, 0x100), "n9", want


def downlink_n9(i):
    """Downlink from the cloud on n9, relayed to the gNB on n3."""
    inner = IP(src="8.8.8.8", dst=UE) / UDP(sport=i, dport=1000) / Raw(b"d" * 24)
    pkt = (Ether(src=MAC_UPF, dst=MAC_N9) / IP(src=UPF_4, dst=N9_4) /
           UDP(sport=2152, dport=2152) / relay_gtp(0x400, inner, 0, 4))
    want = (outer4(N3_4, GNB_4, MAC_N3, MAC_GNB) / UDP(sport=2152, dport=2152, chksum=0) /
            relay_gtp(0x1100, inner, 0, 4))
    return pkt, want


def downlink_lan(i):
    """Downlink from an app on lan, encapsulated to the gNB on n3."""
    inner = IP(src="10.200.1.1", dst=UE, ttl=64) / UDP(sport=i, dport=1001) / Raw(b"a" * 24)
    want = (outer4(N3_4, GNB_4, MAC_N3, MAC_GNB) / UDP(sport=2152, dport=2152, chksum=0) /
            relay_gtp(0x1100, IP(routed(bytes(inner))), 0, 9))
    return Ether(src=MAC_APP, dst=MAC_LAN) / inner, want


# what fills the other nine slots in ten on n9 and lan, so that their valid
# packets arrive all through the flood (the worker polls each port for a
# burst in turn): a frame to an address not ours, dropped at once
FILL_N9 = Ether(src=MAC_UPF, dst=MAC_N9) / IP(src=UPF_4, dst="198.51.100.99") / UDP(sport=9, dport=9)
FILL_LAN = Ether(src=MAC_APP, dst=MAC_LAN) / IP(src=APP_4, dst="10.45.99.99") / UDP(sport=9, dport=9)


def counter_kinds():
    kinds = {}
    for line in open(h.ROOT + "/dataplane/counters.def"):
        if line.startswith("ES_CNT("):
            parts = [x.strip() for x in line[7:].split(",")]
            kinds[parts[2].strip('"')] = parts[1]
    return kinds


class FragmentFlood(h.TestCase):
    def build(self):
        """The three ports' input and the expected output per port."""
        # phase 1: one IPv4 and one IPv6 source, each far over its share,
        # with G-PDUs fragmented by two other sources among them
        phase1 = []
        for ident in range(400):
            phase1 += [frag4(FLOOD4_SRC, ident, k) for k in range(FRAGS_PER_ID)]
            if ident < 200:
                phase1 += [frag6(FLOOD6_SRC, ident, k) for k in range(FRAGS_PER_ID)]
        legit, legit_want = [], []
        for j in range(8):
            f4, w4 = legit4(j)
            f6, w6 = legit6(j)
            legit.append(f4 + f6)
            legit_want += [w4, w6]
        # each legitimate packet's fragments together, spread over the
        # second half of phase 1 (its sources' shares are untouched)
        step = len(phase1) // 2 // len(legit)
        for j, fr in reversed(list(enumerate(legit))):
            at = len(phase1) // 2 + j * step
            phase1[at:at] = fr
        # phase 2: twelve sources in turn, each under its own share, that
        # together fill reassembly's share of the pool
        phase2 = [frag4(src, ident, k) for ident in range(30) for k in range(FRAGS_PER_ID)
                  for src in MANY_SRC]
        flood = phase1 + phase2
        n_flood = 400 * FRAGS_PER_ID + 200 * FRAGS_PER_ID + 30 * FRAGS_PER_ID * len(MANY_SRC)
        n_legit_frags = sum(len(fr) for fr in legit)
        self.assertEqual(len(flood), n_flood + n_legit_frags)

        want = {"n3": [], "n9": [], "lan": list(legit_want)}
        n3, n9, lan = [], [], []
        i = 0
        for k, f in enumerate(flood):
            n3.append(f)
            if k % (VALID_EVERY - 1) == 0:
                up, port, w = uplink(i)
                n3.append(up)
                want[port].append(w)
                d9, w9 = downlink_n9(i)
                dl, wl = downlink_lan(i)
                want["n3"] += [w9, wl]
                i += 1
            else:
                d9, dl = FILL_N9, FILL_LAN
            n9.append(d9)
            lan.append(dl)
        self.valid = i
        self.n_flood, self.n_legit_frags, self.n_legit = n_flood, n_legit_frags, len(legit_want)
        return {"n3": n3, "n9": n9, "lan": lan}, want

    def test_a_fragment_flood_leaves_every_port_flowing(self):
        inputs, want = self.build()
        res = h.run(CONFIG, inputs, timeout=180, idle_ms=1500)
        c = res.counters

        # every valid packet came out on its port, byte for byte
        for p in h.PORTS:
            got = Counter(bytes(x).hex() for x in res.out[p])
            exp = Counter(bytes(x).hex() for x in want[p])
            self.assertEqual(sum((exp - got).values()), 0,
                             f"{p}: {sum((exp - got).values())} of {len(want[p])} valid packets missing")
            self.assertEqual(got, exp, p)
        self.assertGreater(self.valid, 500)

        # every packet was received: the pool never ran dry
        for p in h.PORTS:
            self.assertEqual(res.ports[p]["rx"], len(inputs[p]), p)
            self.assertEqual(res.ports[p]["rx_nombuf"], 0, p)
        self.assertEqual(c["rx"], sum(len(v) for v in inputs.values()))


        # the flood went under the new counters, by the documented shares
        self.assertEqual(c["frag_rx"], self.n_flood + self.n_legit_frags)
        self.assertEqual(c["drop_frag_source_share"],
                         (400 * FRAGS_PER_ID - SOURCE_MBUFS) + (200 * FRAGS_PER_ID - SOURCE_MBUFS))
        phase2 = 30 * FRAGS_PER_ID * len(MANY_SRC)
        self.assertEqual(c["drop_frag_pool_share"], phase2 - (FRAG_MBUFS - 2 * SOURCE_MBUFS))
        self.assertEqual(c["frag_reassembled"], self.n_legit)
        self.assertEqual(c["frag_merged"], self.n_legit_frags)
        pool = res.stats["pool"]
        self.assertEqual(pool["frag_held"], FRAG_MBUFS)
        self.assertEqual(pool["frag_mbufs"], FRAG_MBUFS)
        self.assertEqual(pool["frag_source_mbufs"], SOURCE_MBUFS)
        self.assertEqual(pool["mbufs"], MBUFS)
        self.assertGreaterEqual(pool["in_use"], FRAG_MBUFS)
        self.assertEqual(pool["empty_samples"], 0)

        # every frame in is sent, dropped under one counter, or held
        kinds = counter_kinds()
        drops = sum(v for k, v in c.items() if kinds[k] == "DROP")
        self.assertEqual(c["rx"] + c["frag_reassembled"] + c["mirror"] + c["gtpu_errind_tx"],
                         c["tx"] + drops + c["frag_merged"] + pool["frag_held"])
        self.assertEqual(c["tx"], sum(len(v) for v in res.out.values()))
        fill = len(inputs["n9"]) - self.valid
        self.assertDrops(res, {"drop_frag_source_share": c["drop_frag_source_share"],
                               "drop_frag_pool_share": c["drop_frag_pool_share"],
                               "drop_dst_not_local": fill, "drop_dl_no_session": fill})


class DeathRow(h.TestCase):
    def test_refusals_on_three_ports_in_one_round_are_all_counted(self):
        """The library puts what it refuses on a death row of 288 slots
        (32 x (8 + 1)) and writes it without a bounds check. Here each
        port gets 32 packets of 6 fragments, then a second first fragment
        of each: the 96 entries (7 mbufs each with the duplicate) are
        refused in one round over the three ports, 672 mbufs, freed and
        counted one fragment at a time."""
        inputs = {}
        for pi, (p, dst, dmac) in enumerate((("n3", N3_4, MAC_N3), ("n9", N9_4, MAC_N9),
                                              ("lan", h.LAN_4, MAC_LAN))):
            setup, dups = [], []
            for e in range(32):
                src = f"198.19.{pi}.{e % 8 + 1}"
                mk = (lambda k, src=src, e=e:
                      Ether(src="02:00:00:00:00:99", dst=dmac) /
                      IP(src=src, dst=dst, id=e, proto=17, flags="MF", frag=8 * k) / Raw(bytes([k]) * 64))
                setup += [mk(k) for k in range(6)]
                dups.append(mk(0))
            inputs[p] = setup + dups   # 192 + 32: the duplicates in the 7th round
        res = h.run(CONFIG, inputs)
        self.assertDrops(res, {"drop_frag_failed": 3 * 32 * 7})
        self.assertEqual(res.counters["frag_rx"], 3 * 32 * 7)
        self.assertEqual(res.stats["pool"]["frag_held"], 0)
        self.assertEqual(res.stats["pool"]["in_use"], 0)


class Budget(h.TestCase):
    def test_an_explicit_budget_is_the_limit_and_shows(self):
        """set frag-mbufs 40: a source holds 8 (an eighth, at least one
        whole packet), the worker 40; the pool figures say so."""
        flood = [frag4(f"198.18.1.{s}", ident, 0) for ident in range(12) for s in range(1, 7)]
        res = h.run(CONFIG + "set frag-mbufs 40\n", {"n3": flood})
        c = res.counters
        # six sources of twelve fragments, one at a time in turn: each
        # holds 6 when the 40 are full at the 40th; the rest are refused
        self.assertEqual(res.stats["pool"]["frag_mbufs"], 40)
        self.assertEqual(res.stats["pool"]["frag_source_mbufs"], 8)
        self.assertEqual(res.stats["pool"]["frag_held"], 40)
        self.assertDrops(res, {"drop_frag_pool_share": 72 - 40})
        self.assertEqual(c["frag_rx"], 72)
        # one source alone stops at its eighth
        res = h.run(CONFIG + "set frag-mbufs 40\n",
                    {"n3": [frag4(FLOOD4_SRC, ident, 0) for ident in range(12)]})
        self.assertEqual(res.stats["pool"]["frag_held"], 8)
        self.assertDrops(res, {"drop_frag_source_share": 4})


class LiveView(h.TestCase):
    """The pool line of steerctl port show while the flood is held."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="es-frag-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_port_show_tells_what_reassembly_holds(self):
        flood = ([frag4(FLOOD4_SRC, ident, k) for ident in range(60) for k in range(FRAGS_PER_ID)] +
                 [frag6(FLOOD6_SRC, ident, k) for ident in range(60) for k in range(FRAGS_PER_ID)])
        wrpcap(os.path.join(self.dir, "in_n3.pcap"), flood)
        es = h.Daemon(CONFIG, self.dir)
        self.addCleanup(es.kill)
        es.start()
        deadline = time.monotonic() + 30
        while es.counters()["frag_rx"] < len(flood) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(es.counters()["frag_rx"], len(flood))
        j = es.ok("port show", json_out=True)
        pool = j["pool"]
        self.assertEqual([p["name"] for p in j["ports"]], list(h.PORTS))
        for p in j["ports"]:
            self.assertEqual(p["rx_nombuf"], 0, p["name"])
            self.assertEqual(p["rx_errors"], 0, p["name"])
        self.assertEqual(pool["frag_held"], 2 * SOURCE_MBUFS)
        self.assertEqual(pool["frag_mbufs"], FRAG_MBUFS)
        self.assertEqual(pool["frag_source_mbufs"], SOURCE_MBUFS)
        self.assertEqual(pool["mbufs"], MBUFS)
        self.assertEqual(pool["in_use"] + pool["available"], MBUFS)
        self.assertGreaterEqual(pool["in_use"], 2 * SOURCE_MBUFS)
        self.assertLessEqual(pool["min_available"], MBUFS - 2 * SOURCE_MBUFS)
        self.assertEqual(pool["empty_samples"], 0)
        text = es.ok("port show")
        lines = text.strip().split("\n")
        self.assertEqual(len(lines), 4, text)
        self.assertRegex(lines[0], r"^port add n3 .*  # rx 600 tx 0 rx_missed 0 tx_errors 0 "
                                   r"rx_errors 0 rx_nombuf 0$")
        m = re.fullmatch(r"# pool mbufs (\d+) in_use (\d+) available (\d+) min_available (\d+) "
                         r"empty_samples (\d+) frag_held (\d+) frag_mbufs (\d+) frag_source_mbufs (\d+)",
                         lines[3])
        self.assertIsNotNone(m, lines[3])
        self.assertEqual([int(x) for x in m.group(1, 6, 7, 8)],
                         [MBUFS, 2 * SOURCE_MBUFS, FRAG_MBUFS, SOURCE_MBUFS])
        # one port: its line and the pool line
        one = es.ok("port show lan").strip().split("\n")
        self.assertEqual(len(one), 2)
        self.assertTrue(one[1].startswith("# pool mbufs 4095 "), one[1])
        self.assertEqual(es.stop(), 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
