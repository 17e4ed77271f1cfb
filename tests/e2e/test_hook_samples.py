"""The sample hook programs (ebpf/samples/, built by make bpf) on real
packets through the real edgesteer: each attached with steerctl as its
file says, packets in, packets out compared field by field with scapy,
and the counter that moved.

A program is attached on a running daemon with --state, which journals
it; the daemon is then started again on the same state with the test's
packets in its rx pcap, so every packet meets the restored program (the
restore happens before the workers start).
"""
import os
import shutil
import tempfile
import time

from scapy.all import IP, IPv6, TCP, UDP, Ether, Raw, wrpcap
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer

import esharness as h
from esharness import (GNB_4, MAC_MIRROR, MAC_LAN, MAC_N9, MAC_UPF, N9_4,
                       UPF_4, gtpu_ul, routed, session)

SAMPLES = os.path.join(h.BUILD, "bpf")
UE, UE_OUT = "10.45.0.2", "10.46.0.2"      # in and out of drop_ports' /24
SESS = session(1, UE, 0x100) + session(2, UE_OUT, 0x101)
CONFIG = h.BASE_CONFIG + SESS
WAIT_S = 30


def inner4(dst="8.8.8.8", src=UE, dport=2000, tos=0, proto="udp", payload=b"x" * 24):
    l4 = UDP(sport=1000, dport=dport) if proto == "udp" else TCP(sport=1000, dport=dport, flags="S")
    return IP(src=src, dst=dst, tos=tos, ttl=64, id=7) / l4 / Raw(payload)


class HookRun(h.TestCase):
    def hooked(self, attaches, inputs, config=CONFIG):
        """Attach (steerctl words, one string each) on a daemon with a
        state journal, restart it on that state with inputs (port ->
        packets) in its rx pcaps; once every packet has its fate, return
        (outputs per port, counters, hook show JSON)."""
        d = tempfile.mkdtemp(prefix="es-hooksample-")
        self.addCleanup(shutil.rmtree, d, True)
        state = os.path.join(d, "state")
        es = h.Daemon(config, d, state=state)
        self.addCleanup(es.kill)
        es.start()
        for a in attaches:
            es.ok(a)
        self.assertEqual(es.stop(), 0)
        for p, pkts in inputs.items():
            wrpcap(os.path.join(d, f"in_{p}.pcap"), pkts)
        n = sum(len(v) for v in inputs.values())
        es = h.Daemon(config, d, state=state)
        self.addCleanup(es.kill)
        es.start()
        deadline = time.monotonic() + WAIT_S
        while True:
            c = es.counters()
            drops = sum(v for k, v in c.items() if k.startswith("drop_"))
            if c["rx"] >= n and c["tx"] + drops >= n:
                break
            self.assertLess(time.monotonic(), deadline, f"packets not all handled: {c}")
            time.sleep(0.05)
        hooks = es.ok("hook show", json_out=True)
        # the apps by the index a program's STEER_APP names
        self.apps = es.ok("app show", json_out=True)["apps"]
        self.assertEqual(es.stop(), 0)
        out = {p: es.outputs(p) for p in h.PORTS}
        # the accounting identity: every packet sent or dropped once
        self.assertEqual(c["rx"], c["tx"] + drops, c)
        return out, c, hooks


class Samples(HookRun):
    def test_dscp_steer_sends_ef_uplink_to_the_app_decapsulated(self):
        ef = inner4(tos=46 << 2 | 1)            # EF, ECN bits kept
        be = inner4(dport=2001)
        out, c, hooks = self.hooked(
            [f"hook attach ef-steer at after-classify dir ul obj {SAMPLES}/dscp_steer.o"],
            {"n3": [gtpu_ul(ef, 0x100, qfi=1), gtpu_ul(be, 0x100, qfi=1)]})
        # EF: to app 0 (the sample's APP; after a restart on --state the
        # apps have their indexes in name order: tap) decapsulated and
        # routed, as a local rule to it does
        self.assertEqual(len(out["lan"]), 1)
        self.assertEqual([a["name"] for a in self.apps if a["index"] == 0], ["tap"])
        got = out["lan"][0]
        self.assertEqual((got[Ether].src, got[Ether].dst), (MAC_LAN, MAC_MIRROR))
        self.assertEqual(got[IP].tos, 46 << 2 | 1)
        self.assertEqual(got[IP].ttl, 63)
        self.assertEqual((got[IP].src, got[IP].dst, got[UDP].dport), (UE, "8.8.8.8", 2000))
        self.assertSameBytes(got, Ether(src=MAC_LAN, dst=MAC_MIRROR) / IP(routed(bytes(ef))))
        # best effort: no rule, relayed to the cloud as ever
        self.assertEqual(len(out["n9"]), 1)
        self.assertEqual(out["n9"][0][IP].dst, UPF_4)
        self.assertEqual(out["n9"][0][GTP_U_Header].teid, 0x100 + 0x2000)
        self.assertEqual(bytes(out["n9"][0][GTP_U_Header].payload)[-len(bytes(be)):], bytes(be))
        self.assertEqual((c["ul_local"], c["ul_cloud"]), (1, 1))
        self.assertEqual(c["drop_hook"], 0)
        hk = hooks["hooks"][0]
        self.assertEqual((hk["name"], hk["runs"]), ("ef-steer", 2))

    def test_drop_ports_drops_the_range_for_the_prefix_only(self):
        blocked = [inner4(dport=6881), inner4(dport=6889, proto="tcp")]
        passed = [inner4(dport=6880), inner4(dport=6890), inner4(src=UE_OUT, dport=6885)]
        pkts = ([gtpu_ul(i, 0x100) for i in blocked + passed[:2]] +
                [gtpu_ul(passed[2], 0x101)])
        out, c, hooks = self.hooked(
            [f"hook attach p2p-block at after-parse dir ul obj {SAMPLES}/drop_ports.o"],
            {"n3": pkts})
        self.assertEqual(c["drop_hook"], 2)
        self.assertDrops(h.Result({}, c, {}, "", "", 0), {"drop_hook": 2})
        self.assertEqual(c["ul_cloud"], 3)
        got = sorted(bytes(p[GTP_U_Header].payload)[-len(bytes(passed[0])):] for p in out["n9"])
        self.assertEqual(got, sorted(bytes(i) for i in passed))
        hk = hooks["hooks"][0]
        self.assertEqual((hk["runs"], hk["drops"]), (5, 2))
        # its counter 0: the bytes it dropped, frames as received
        self.assertEqual(hk["counters"][0], sum(len(bytes(p)) for p in pkts[:2]))

    def test_qfi_bytes_counts_the_bytes_of_each_qfi(self):
        sizes = {1: [10, 200, 700], 5: [40], 9: [1, 300]}
        pkts = [gtpu_ul(inner4(payload=b"q" * n), 0x100, qfi=q)
                for q, ns in sizes.items() for n in ns]
        pkts.append(gtpu_ul(inner4(), 0x100, psc=False))      # no container: NONE8 -> 15
        out, c, hooks = self.hooked(
            [f"hook attach qfi-bytes at after-parse dir ul obj {SAMPLES}/qfi_bytes.o"],
            {"n3": pkts})
        want = [0] * 16
        for p in pkts:
            q = p[GTPPDUSessionContainer].QFI if GTPPDUSessionContainer in p else 15
            want[q] += len(bytes(p))
        self.assertEqual(hooks["hooks"][0]["counters"], want)
        self.assertEqual(c["ul_cloud"], len(pkts))
        self.assertEqual(len(out["n9"]), len(pkts))

    def test_qfi_dscp_marks_the_relay_by_qfi_with_the_checksum_right(self):
        rule = "rule add 40 dst 8.8.0.0/16 action cloud\n"
        sent = {1: inner4(tos=1), 2: inner4(dport=2001), 5: inner4(dport=2002), 9: inner4(dport=2003, tos=8 << 2)}
        out, c, hooks = self.hooked(
            [f"hook attach qfi-dscp at after-classify dir ul obj {SAMPLES}/qfi_dscp.o"],
            {"n3": [gtpu_ul(i, 0x100, qfi=q) for q, i in sent.items()]}, config=CONFIG + rule)
        self.assertEqual(len(out["n9"]), 4)
        want_dscp = {1: 46, 2: 34, 5: 26, 9: 8}
        for p in out["n9"]:
            self.assertEqual((p[Ether].src, p[Ether].dst, p[IP].src, p[IP].dst),
                             (MAC_N9, MAC_UPF, N9_4, UPF_4))
            q = p[GTPPDUSessionContainer].QFI
            inner = IP(bytes(p[GTPPDUSessionContainer].payload))
            self.assertEqual(inner.tos >> 2, want_dscp[q], q)
            self.assertEqual(inner.tos & 3, sent[q].tos & 3, q)
            # the header checksum as scapy computes it for the new tos
            ref = IP(bytes(sent[q]))
            ref.tos = inner.tos
            del ref.chksum
            self.assertSameBytes(inner, IP(bytes(ref)))
        self.assertEqual(c["ul_cloud"], 4)
        self.assertEqual(hooks["hooks"][0]["runs"], 4)


VERDICTS = os.path.join(h.BUILD, "bpf", "tests", "hook_verdicts.o")
RULES = ("rule add 10 dst 10.200.0.0/16 action local xr\n"
         "rule add 20 dst 8.8.0.0/16 action drop\n")


def from_app(dport, tos=0):
    """A downlink packet from an app to the UE."""
    return (Ether(src=h.MAC_APP, dst=h.MAC_LAN) /
            IP(src="10.100.0.20", dst=UE, tos=tos, ttl=64, id=9) / UDP(sport=80, dport=dport) / Raw(b"d" * 20))


def with_tos(pkt_ip, tos, ttl_less=0):
    """pkt_ip (an inner IP packet) with tos, TTL lowered, checksum as
    scapy computes it."""
    p = IP(bytes(pkt_ip))
    p.tos = tos
    p.ttl -= ttl_less
    del p.chksum
    return IP(bytes(p))


class Verdicts(HookRun):
    """Each verdict at each point (tests/bpf/hook_verdicts.c), uplink and
    downlink, and the context a program sees at each point."""

    def test_uplink_verdicts_after_parse_override_the_rules(self):
        a = inner4(dport=7001)                      # rule 20 drops; steered to app 1
        b = inner4(dport=7099)                      # app 99: none
        c = inner4(dst="10.200.1.1", dport=7100)    # rule 10 local; to the cloud
        d = inner4(dst="10.200.1.1", dport=7300, tos=2)   # DSCP 10, ECN kept, then rule 10
        e = inner4(dst="10.200.1.1", dport=7200)    # dropped
        out, c_, hooks = self.hooked(
            [f"hook attach v at after-parse dir ul obj {VERDICTS} sec by_port"],
            {"n3": [gtpu_ul(x, 0x100) for x in (a, b, c, d, e)]}, config=CONFIG + RULES)
        idx = {x["name"]: x["index"] for x in self.apps}
        self.assertEqual(idx["xr"], 1)
        self.assertDrops(h.Result({}, c_, {}, "", "", 0), {"drop_hook": 2})
        self.assertEqual((c_["ul_local"], c_["ul_cloud"]), (2, 1))
        self.assertEqual(len(out["lan"]), 2)
        lan = {p[UDP].dport: p for p in out["lan"]}
        self.assertSameBytes(lan[7001], Ether(src=MAC_LAN, dst=h.MAC_APP) / IP(routed(bytes(a))))
        self.assertSameBytes(lan[7300], Ether(src=MAC_LAN, dst=h.MAC_APP) / with_tos(d, 10 << 2 | 2, 1))
        self.assertEqual(len(out["n9"]), 1)
        self.assertEqual(bytes(out["n9"][0][GTPPDUSessionContainer].payload), bytes(c))
        self.assertEqual(out["n9"][0][GTP_U_Header].teid, 0x2100)
        v = hooks["hooks"][0]["verdicts"]
        self.assertEqual((v["steer-app"], v["to-cloud"], v["drop"], v["set-dscp"]), (2, 1, 1, 1), v)

    def test_before_tx_drops_and_marks_the_packet_as_it_leaves(self):
        local = inner4(dst="10.200.1.1", dport=7300)
        relay = inner4(dst="9.9.9.9", dport=7300, tos=1)
        gone = inner4(dst="10.200.1.1", dport=7200)
        out, c, hooks = self.hooked(
            [f"hook attach v at before-tx dir ul obj {VERDICTS} sec by_port"],
            {"n3": [gtpu_ul(x, 0x100) for x in (local, relay, gone)]}, config=CONFIG + RULES)
        self.assertDrops(h.Result({}, c, {}, "", "", 0), {"drop_hook": 1})
        # the action was done before the hook dropped it
        self.assertEqual((c["ul_local"], c["ul_cloud"], c["tx"]), (2, 1, 2))
        self.assertEqual(len(out["lan"]), 1)
        self.assertSameBytes(out["lan"][0], Ether(src=MAC_LAN, dst=h.MAC_APP) / with_tos(local, 10 << 2, 1))
        self.assertEqual(len(out["n9"]), 1)
        self.assertSameBytes(out["n9"][0][GTPPDUSessionContainer].payload, with_tos(relay, 10 << 2 | 1))

    def test_downlink_verdicts(self):
        out, c, hooks = self.hooked(
            [f"hook attach v at after-classify dir dl obj {VERDICTS} sec by_port"],
            {"lan": [from_app(7300, tos=3), from_app(7200), from_app(7001), from_app(7100)]})
        self.assertDrops(h.Result({}, c, {}, "", "", 0), {"drop_hook": 1})
        # STEER_APP and TO_CLOUD change nothing on the downlink
        self.assertEqual(c["dl_encap"], 3)
        self.assertEqual(len(out["n3"]), 3)
        n3 = {IP(bytes(p[GTPPDUSessionContainer].payload))[UDP].dport: p for p in out["n3"]}
        self.assertEqual(sorted(n3), [7001, 7100, 7300])
        for p in out["n3"]:
            self.assertEqual((p[IP].dst, p[GTP_U_Header].teid), (GNB_4, 0x1100))
        got = IP(bytes(n3[7300][GTPPDUSessionContainer].payload))
        self.assertSameBytes(got, with_tos(from_app(7300, tos=3)[IP], 10 << 2 | 3, 1))
        self.assertEqual(hooks["hooks"][0]["runs"], 4)

    def test_set_dscp_on_an_ipv6_inner_packet_keeps_the_ecn_bits(self):
        ue6 = "2001:db8:45:1::"
        inner = (IPv6(src=ue6 + "5", dst="2001:db8:99::1", tc=2, fl=0x12345) /
                 UDP(sport=1000, dport=7300) / Raw(b"6" * 20))
        out, c, hooks = self.hooked(
            [f"hook attach v at after-parse dir ul obj {VERDICTS} sec by_port"],
            {"n3": [gtpu_ul(inner, 0x102)]},
            config=CONFIG + session(3, None, 0x102, ue6=ue6 + "/64"))
        self.assertEqual(c["ul_cloud"], 1)
        got = IPv6(bytes(out["n9"][0][GTPPDUSessionContainer].payload))
        want = IPv6(bytes(inner))
        want.tc = 10 << 2 | 2
        self.assertSameBytes(got, IPv6(bytes(want)))
        self.assertEqual(got.fl, 0x12345)

    def test_the_context_at_each_point(self):
        inner = inner4(dst="10.200.1.1", tos=4 << 2)
        frame = gtpu_ul(inner, 0x100, qfi=1)
        out, c, hooks = self.hooked(
            [f"hook attach p{pt} at {w} dir ul obj {VERDICTS} sec ctx"
             for pt, w in enumerate(("after-parse", "after-classify", "before-tx"))],
            {"n3": [frame]}, config=CONFIG + RULES)
        got = {x["name"]: x["counters"] for x in hooks["hooks"]}
        ue = int.from_bytes(bytes(map(int, UE.split("."))), "little")
        n32 = 0xffffffff
        idx = {x["name"]: x["index"] for x in self.apps}
        inner_off = 14 + 20 + 8 + 16
        #        point dir in out  teid   sess qfi dscp ue  dport prio action app       off        wire          byte0
        want = {
            "p0": [0, 0, 0, 255, 0x100, n32, 1, 4, ue, 2000, n32, 0, n32, inner_off, len(frame), 0x45],
            "p1": [1, 0, 0, 255, 0x100, 1, 1, 4, ue, 2000, 10, 1, idx["xr"], inner_off, len(frame), 0x45],
            "p2": [2, 0, 0, 2, 0x100, 1, 1, 4, ue, 2000, 10, 1, idx["xr"], 14, 14 + len(inner), 0x45],
        }
        self.assertEqual(got, want)
        self.assertEqual(len(out["lan"]), 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
