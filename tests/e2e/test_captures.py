"""Real captures (../shared/testdata, see its README.md) replayed through the
real binary, with a config whose ports, addresses, sessions and MACs match
the capture. Every packet fed in has its fate asserted: the port it leaves
on (compared field by field, and with the capture's own copy of the
forwarded packet where the capture has one) or the counter that dropped it.

The 127.x addresses are only bytes in pcap files: no traffic goes on any
network.
"""
import logging
import os

from scapy.all import ICMP, IP, IPv6, UDP, Ether, Raw, rdpcap
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer

import esharness as h

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

ROAMING = os.path.join(h.TESTDATA, "derived_5g-roaming-hr_gtp_pfcp_eth.pcap")
CUPS = os.path.join(h.TESTDATA, "derived_testcups_gtp_pfcp_eth.pcap")
ZEEK = os.path.join(h.TESTDATA, "zeek_gtp10_echo_errind.pcap")

CAP_SRC_MAC, CAP_DST_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
MAC_N9_PORT = "02:00:00:00:09:02"
MAC_APP = h.MAC_APP
# the harness gives EAL -m 256: size the tables as esharness.BASE_CONFIG does
SIZES = "set sessions-max 4096\nset rules-max 1024\nset mbufs 4095\n"


def load(path):
    return list(rdpcap(path))


def gtp_payload(p):
    return bytes(p[UDP].payload)


def trimmed(p):
    """The frame cut to its GTP-U message: UDP payload = 8 + GTP length
    (lengths and the IPv4 checksum recomputed)."""
    g = gtp_payload(p)
    glen = int.from_bytes(g[2:4], "big")
    ip = p[IP].copy()
    ip.remove_payload()
    del ip.len, ip.chksum
    return (Ether(src=p[Ether].src, dst=p[Ether].dst) / ip /
            UDP(sport=p[UDP].sport, dport=p[UDP].dport, chksum=0) / Raw(g[:8 + glen]))


def is_gtpu(p):
    return UDP in p and p[UDP].dport == 2152


def host_fate(p, ours):
    """The fate of a frame that is not a GTP-U message to us: fixed by the
    data plane's rules (ingress.h es_ingress, act_path.c es_path_host)."""
    if p[IP].dst not in ours:
        return "drop_dst_not_local"
    if UDP in p and p[UDP].dport != 2152:
        return "drop_udp_port"          # PFCP (8805) to one of our addresses
    if p[IP].proto == 1:
        return "drop_host_other"        # an ICMP error to us: not an echo
    raise AssertionError(f"unexpected frame {p.summary()}")


class Roaming5G(h.TestCase):
    """derived_5g-roaming-hr: edgesteer in the place of the visited UPF
    127.0.0.7 (N3 toward gNB 127.0.0.2, N9 toward the home UPF 127.0.1.7).

    Routing of the 56 frames: a frame whose outer source or destination is
    in 127.0.1.0/24 goes to the n9 port (core), every other frame to the
    n3 port (access). Both ports own 127.0.0.7 (n3 as 127.0.0.7/24, n9 as
    127.0.0.7/16 so that 127.0.1.7 is on-link), as in the capture.

    Session from the capture's TEIDs: UL TEID 0xc0bb (frame 27), relayed
    to the home UPF with TEID 0x9c40 (frame 28), DL from the home UPF with
    TEID 0x3edb (frame 29), to the gNB with TEID 1 (frame 33); QFI 1; UE
    10.46.0.2 and 2001:db8:babe:1::/64 (the Router Advertisement's
    prefix). A rule sends the UE's ICMPv6 echo to 2001:db8:cafe::1 (frame
    45) to a local app instead of the home UPF.

    Fates: frames 27, 35 -> n9 (identical to the capture's own relayed
    copies 28, 36); 29, 37, 43, 47 -> n3 (identical to 33, 38, 48; 43 has no
    PDU Session Container and gets a DL one with the session's QFI 1,
    the capture's 44 has none); 45 -> lan; 39 (a Router Solicitation from
    fe80::2, not the UE's /64) -> drop_ue_spoof; frames the capture's UPF
    itself sent, and those between other nodes -> drop_dst_not_local;
    PFCP to 127.0.0.7 -> drop_udp_port.
    """

    UE6_PREFIX = "2001:db8:babe:1::"
    CONFIG = SIZES + f"""
port add n3 dev net_pcap0 role access addr 127.0.0.7/24 mac {CAP_DST_MAC}
port add n9 dev net_pcap1 role core addr 127.0.0.7/16 mac {MAC_N9_PORT}
port add lan dev net_pcap2 role local addr 10.100.0.1/24 addr 2001:db8:a::1/64 mac {h.MAC_LAN}
neigh add 127.0.0.2 lladdr {CAP_SRC_MAC} port n3
neigh add 127.0.1.7 lladdr {CAP_SRC_MAC} port n9
neigh add 2001:db8:a::20 lladdr {MAC_APP} port lan
app add xr6 via 2001:db8:a::20
session add 1 ue 10.46.0.2 ue6 2001:db8:babe:1::/64 ul-teid 0xc0bb gnb 127.0.0.2 gnb-teid 1 cloud 127.0.1.7 cloud-teid 0x9c40 n9-teid 0x3edb qfi 1
rule add 10 proto icmp6 dst 2001:db8:cafe::/48 action local xr6
"""
    # frame number (1-based) -> fate of every GTP-U frame addressed to us
    # 39: a Router Solicitation from the UE's link-local fe80::2, relayed
    # to the home UPF as the capture's UPF did (frame 40)
    GTPU_TO_US = {27: "n9", 35: "n9", 39: "n9", 45: "lan",
                  29: "n3", 37: "n3", 43: "n3", 47: "n3"}

    @classmethod
    def setUpClass(cls):
        cls.pk = load(ROAMING)
        inputs = {"n3": [], "n9": []}
        for p in cls.pk:
            core = any(a.startswith("127.0.1.") for a in (p[IP].src, p[IP].dst))
            inputs["n9" if core else "n3"].append(p)
        cls.inputs = inputs
        cls.res = h.run(cls.CONFIG, inputs)

    def frame(self, n):
        return self.pk[n - 1]

    def test_the_capture_is_what_the_docstring_says(self):
        self.assertEqual(len(self.pk), 56)
        to_us = [i + 1 for i, p in enumerate(self.pk) if is_gtpu(p) and p[IP].dst == "127.0.0.7"]
        self.assertEqual(sorted(to_us), sorted(self.GTPU_TO_US))
        self.assertEqual(self.frame(27)[GTP_U_Header].teid, 0xc0bb)
        self.assertEqual(self.frame(28)[GTP_U_Header].teid, 0x9c40)
        self.assertEqual(self.frame(29)[GTP_U_Header].teid, 0x3edb)
        self.assertEqual(self.frame(33)[GTP_U_Header].teid, 1)

    def test_every_frame_is_accounted_for(self):
        res = self.res
        want = {}
        for i, p in enumerate(self.pk):
            if (i + 1) in self.GTPU_TO_US:
                fate = self.GTPU_TO_US[i + 1]
            else:
                fate = host_fate(p, {"127.0.0.7"})
            if fate.startswith("drop_"):
                want[fate] = want.get(fate, 0) + 1
        self.assertDrops(res, want)
        self.assertEqual(want["drop_udp_port"], 10)
        self.assertEqual(res.counters["rx"], 56)
        self.assertEqual((len(res.out["n9"]), len(res.out["n3"]), len(res.out["lan"])), (3, 4, 1))
        self.assertEqual(res.counters["ul_cloud"], 3)
        self.assertEqual(res.counters["dl_relay"], 4)
        self.assertEqual(res.counters["ul_local"], 1)
        self.assertEqual(res.counters["tx"], 8)

    def assertOuter(self, p, src_mac, dst_mac, src, dst):
        self.assertEqual((p[Ether].src, p[Ether].dst), (src_mac, dst_mac))
        self.assertEqual((p[IP].src, p[IP].dst, p[IP].ttl), (src, dst, 64))
        self.assertEqual((p[UDP].sport, p[UDP].dport), (2152, 2152))
        chk = IP(bytes(p[IP]))
        del chk.chksum
        self.assertEqual(IP(bytes(chk)).chksum, p[IP].chksum)

    def test_uplink_is_relayed_to_the_home_upf_as_the_capture_shows(self):
        self.assertEqual(len(self.res.out["n9"]), 3)
        for out, (rx, ref) in zip(self.res.out["n9"], ((27, 28), (35, 36), (39, 40))):
            with self.subTest(frame=rx):
                self.assertOuter(out, MAC_N9_PORT, CAP_SRC_MAC, "127.0.0.7", "127.0.1.7")
                g = out[GTP_U_Header]
                self.assertEqual(g.teid, 0x9c40)                       # rewritten
                self.assertEqual(out[GTPPDUSessionContainer].type, 1)  # UL kept
                self.assertEqual(out[GTPPDUSessionContainer].QFI, 1)   # QFI kept
                self.assertEqual(bytes(out[GTPPDUSessionContainer].payload),
                                 bytes(self.frame(rx)[GTPPDUSessionContainer].payload))
                # the whole GTP-U message equals the one the capture's UPF sent
                self.assertEqual(gtp_payload(out).hex(), gtp_payload(self.frame(ref)).hex())

    def test_downlink_is_relayed_to_the_gnb_as_the_capture_shows(self):
        out = self.res.out["n3"]
        self.assertEqual(len(out), 4)
        for o, (rx, ref) in zip(out, ((29, 33), (37, 38), (43, 44), (47, 48))):
            with self.subTest(frame=rx):
                self.assertOuter(o, CAP_DST_MAC, CAP_SRC_MAC, "127.0.0.7", "127.0.0.2")
                self.assertEqual(o[GTP_U_Header].teid, 1)
                self.assertEqual(o[GTPPDUSessionContainer].type, 0)
                self.assertEqual(o[GTPPDUSessionContainer].QFI, 1)
                inner = gtp_payload(o)[16:]
                self.assertEqual(inner, gtp_payload(self.frame(ref))[-len(inner):])
                self.assertEqual(inner, gtp_payload(self.frame(rx))[-len(inner):])
                if rx != 43:
                    self.assertEqual(gtp_payload(o).hex(), gtp_payload(self.frame(ref)).hex())
        # frame 43 (a Router Advertisement) came without a container
        self.assertNotIn(GTPPDUSessionContainer, self.frame(43))
        self.assertEqual(IPv6(gtp_payload(out[2])[16:]).src, "fe80::1")

    def test_icmpv6_echo_goes_to_the_local_app(self):
        out = self.res.out["lan"]
        self.assertEqual(len(out), 1)
        inner = bytes(self.frame(45)[GTPPDUSessionContainer].payload)
        self.assertEqual(IPv6(inner).dst, "2001:db8:cafe::1")
        self.assertSameBytes(out[0], Ether(src=h.MAC_LAN, dst=MAC_APP) / IPv6(h.routed(inner)))
        self.assertEqual(out[0][IPv6].hlim, 254)


def em_receiver_config():
    """edgesteer in the place of the testcups End Markers' receivers: both
    ports own 127.0.0.5 and 127.0.0.4; the capture's UPF 127.0.0.7 is the
    core peer, an (invented) gNB 127.0.0.10 sits behind the access port;
    sessions from the End Markers' TEIDs 1 and 2."""
    return f"""
port add n3 dev net_pcap0 role access addr 127.0.0.5/24 addr 127.0.0.4/24 mac {CAP_DST_MAC}
port add n9 dev net_pcap1 role core addr 127.0.0.5/24 addr 127.0.0.4/24 mac {MAC_N9_PORT}
port add lan dev net_pcap2 role local addr 10.100.0.1/24 mac {h.MAC_LAN}
neigh add 127.0.0.10 lladdr {h.MAC_GNB} port n3
neigh add 127.0.0.7 lladdr {CAP_SRC_MAC} port n9
session add 1 ue 10.45.0.2 ue6 cafe::/64 ul-teid 0x10 gnb 127.0.0.10 gnb-teid 0x501 cloud 127.0.0.7 cloud-teid 1 n9-teid 1 qfi 9
session add 2 ue 10.45.0.3 ul-teid 0x11 gnb 127.0.0.10 gnb-teid 0x502 cloud 127.0.0.7 cloud-teid 2 n9-teid 2 qfi 9
"""


class TestCups(h.TestCase):
    """derived_testcups: an EPC with CUPS; eNB 127.0.0.5 and UPF 127.0.0.7
    exchange G-PDUs with TEID 1 (no extension headers) and the UPF sends
    End Markers (TEID 1 and 2) to 127.0.0.5 and 127.0.0.4.

    What the capture holds that the data plane refuses, by TS 29.281 §5.1
    (the GTP-U Length is the rest of the packet after the mandatory part):
    the eNB's G-PDUs 23 and 25 say Length 28/48 in a 200-byte UDP payload
    (drop_gtpu_len); the UPF's 24 and 26 carry a 192-byte T-PDU holding a
    28/48-byte inner packet and zero padding (drop_inner_len); every End
    Marker says Length 0 in a 100-byte UDP payload (drop_gtpu_len). The
    same messages cut to their GTP-U Length ("trimmed") are conformant and
    are steered.
    """

    def test_as_the_upf_127_0_0_7_every_frame_is_accounted_for(self):
        """All 232 frames go to the n3 port (access, 127.0.0.7/24; there is
        no N9 in an EPC), then trimmed copies of 23 and 25. Session: UL
        TEID 1 from eNB 127.0.0.5, UE 10.45.0.2 and cafe::/64 (the inner
        addresses); a rule sends the ICMP echo to 10.45.0.1 to a local app,
        the ICMPv6 echo goes to an (invented) cloud UPF 127.0.1.7.
        Fates: 21 (Router Solicitation from the UE's link-local fe80::2)
        -> n9, relayed to the cloud UPF (docs/architecture.md);
        23, 25 -> drop_gtpu_len; trimmed 23 -> lan, trimmed 25 -> n9; the
        UPF's own frames (22, 24, 26, End Markers) -> drop_dst_not_local;
        PFCP to 127.0.0.7 -> drop_udp_port; frame 4, an ICMP port
        unreachable to 127.0.0.7 -> drop_host_other."""
        pk = load(CUPS)
        self.assertEqual(len(pk), 232)
        cfg = SIZES + f"""
port add n3 dev net_pcap0 role access addr 127.0.0.7/24 mac {CAP_DST_MAC}
port add n9 dev net_pcap1 role core addr 127.0.1.1/24 mac {MAC_N9_PORT}
port add lan dev net_pcap2 role local addr 10.100.0.1/24 mac {h.MAC_LAN}
neigh add 127.0.0.5 lladdr {CAP_SRC_MAC} port n3
neigh add 127.0.1.7 lladdr {h.MAC_UPF} port n9
neigh add 10.100.0.20 lladdr {MAC_APP} port lan
app add xr via 10.100.0.20
session add 1 ue 10.45.0.2 ue6 cafe::/64 ul-teid 1 gnb 127.0.0.5 gnb-teid 1 cloud 127.0.1.7 cloud-teid 0x4242 qfi 5
rule add 10 proto icmp dst 10.45.0.1/32 action local xr
"""
        gtpu_to_us = {21: "n9", 23: "drop_gtpu_len", 25: "drop_gtpu_len"}
        fixed = [trimmed(pk[22]), trimmed(pk[24])]
        res = h.run(cfg, {"n3": pk + fixed})
        want = {}
        for i, p in enumerate(pk):
            if is_gtpu(p) and p[IP].dst == "127.0.0.7":
                fate = gtpu_to_us.pop(i + 1)
            else:
                fate = host_fate(p, {"127.0.0.7"})
            if fate.startswith("drop_"):
                want[fate] = want.get(fate, 0) + 1
        self.assertEqual(gtpu_to_us, {})
        self.assertEqual(want["drop_host_other"], 1)
        self.assertDrops(res, want)
        self.assertEqual(res.counters["rx"], 234)
        # trimmed 23: the ICMP echo, decapsulated and routed to the app
        inner23 = gtp_payload(pk[22])[8:8 + 28]
        self.assertEqual(IP(inner23)[ICMP].type, 8)
        self.assertEqual(len(res.out["lan"]), 1)
        self.assertSameBytes(res.out["lan"][0], Ether(src=h.MAC_LAN, dst=MAC_APP) / IP(h.routed(inner23)))
        # 21: the Router Solicitation, relayed as it came, TEID rewritten
        self.assertEqual(len(res.out["n9"]), 2)
        want_gtp = bytearray(gtp_payload(pk[20]))
        want_gtp[4:8] = (0x4242).to_bytes(4, "big")
        self.assertEqual(gtp_payload(res.out["n9"][0]).hex(), bytes(want_gtp).hex())
        # trimmed 25: relayed, GTP-U header kept (no extension), TEID rewritten
        o = res.out["n9"][1]
        self.assertEqual((o[IP].src, o[IP].dst, o[Ether].dst), ("127.0.1.1", "127.0.1.7", h.MAC_UPF))
        want_gtp = bytearray(gtp_payload(trimmed(pk[24])))
        want_gtp[4:8] = (0x4242).to_bytes(4, "big")
        self.assertEqual(gtp_payload(o).hex(), bytes(want_gtp).hex())
        self.assertEqual(res.out["n3"], [])

    def test_end_markers_are_relayed_from_the_core_and_consumed_on_the_access_side(self):
        """edgesteer in the place of the End Markers' receivers: both ports
        own 127.0.0.5 and 127.0.0.4; the capture's UPF 127.0.0.7 is the core
        peer and a gNB 127.0.0.10 (invented) sits behind the access port.
        Sessions from the End Markers' TEIDs: n9-teid 1 -> gnb-teid 0x501,
        n9-teid 2 -> gnb-teid 0x502.
        n9 gets the UPF's DL G-PDUs 22, 24, 26, the 8 End Markers as
        captured, then the 8 trimmed; n3 gets the 8 as captured, then the 8
        trimmed. Fates: 22 -> n3 (TEID 0x501, DL container, QFI 9);
        24, 26 -> drop_inner_len; captured End Markers -> drop_gtpu_len
        (16); trimmed on n9 -> relayed to the gNB in order (8,
        gtpu_end_marker_relay); trimmed on n3 -> consumed (8,
        gtpu_end_marker_rx)."""
        pk = load(CUPS)
        ems = [p for p in pk if is_gtpu(p) and p[GTP_U_Header].gtp_type == 0xfe]
        self.assertEqual(len(ems), 8)
        self.assertEqual({(p[IP].src, p[IP].dst) for p in ems},
                         {("127.0.0.7", "127.0.0.5"), ("127.0.0.7", "127.0.0.4")})
        self.assertTrue(all(p[UDP].len == 108 and p[GTP_U_Header].length == 0 for p in ems))
        fixed = [trimmed(p) for p in ems]
        self.assertTrue(all(len(bytes(p[UDP].payload)) == 8 for p in fixed))
        dl = [pk[21], pk[23], pk[25]]
        cfg = SIZES + em_receiver_config()
        res = h.run(cfg, {"n9": dl + ems + fixed, "n3": ems + fixed})
        self.assertEqual(res.counters["rx"], 35)
        self.assertDrops(res, {"drop_gtpu_len": 16, "drop_inner_len": 2})
        self.assertEqual(res.counters["gtpu_end_marker_relay"], 8)
        self.assertEqual(res.counters["gtpu_end_marker_rx"], 8)
        self.assertEqual(res.counters["dl_relay"], 1)
        out = res.out["n3"]
        self.assertEqual(len(out), 9)
        self.assertEqual(res.out["n9"] + res.out["lan"], [])
        # 22: relayed with a DL container and the session's QFI
        o = out[0]
        self.assertEqual((o[IP].src, o[IP].dst, o[Ether].dst), ("127.0.0.5", "127.0.0.10", h.MAC_GNB))
        self.assertEqual((o[GTP_U_Header].teid, o[GTPPDUSessionContainer].type,
                          o[GTPPDUSessionContainer].QFI), (0x501, 0, 9))
        self.assertEqual(gtp_payload(o)[16:], gtp_payload(pk[21])[8:])
        # the End Markers, in order, each to its session's gNB TEID
        for o, em in zip(out[1:], ems):
            with self.subTest(teid=em[GTP_U_Header].teid, dst=em[IP].dst):
                self.assertEqual(gtp_payload(o).hex(),
                                 bytes([0x30, 0xfe, 0, 0]).hex() +
                                 (0x500 + em[GTP_U_Header].teid).to_bytes(4, "big").hex())
                self.assertEqual((o[IP].src, o[IP].dst, o[UDP].sport, o[UDP].dport),
                                 ("127.0.0.5", "127.0.0.10", 2152, 2152))


    def test_with_gtpu_padding_the_padded_open5gs_messages_are_steered(self):
        """The same End Markers and DL G-PDUs as captured (padded), with
        'set gtpu-padding 1': End Markers on n9 are relayed (8), on n3
        consumed (8); G-PDUs 22, 24 and 26 are relayed with the inner packet
        only (24 and 26 are padded: the padding goes no further); every padded message counts in
        gtpu_padding; nothing is dropped."""
        pk = load(CUPS)
        ems = [p for p in pk if is_gtpu(p) and p[GTP_U_Header].gtp_type == 0xfe]
        dl = [pk[21], pk[23], pk[25]]
        cfg = "set gtpu-padding 1\n" + SIZES + em_receiver_config()
        res = h.run(cfg, {"n9": dl + ems, "n3": ems})
        self.assertDrops(res, {})
        self.assertEqual(res.counters["gtpu_end_marker_relay"], 8)
        self.assertEqual(res.counters["gtpu_end_marker_rx"], 8)
        self.assertEqual(res.counters["dl_relay"], 3)
        self.assertEqual(res.counters["gtpu_padding"], 16 + 2)
        out = res.out["n3"]
        self.assertEqual(len(out), 11)
        for o, src in zip(out[:3], dl):
            tpdu = gtp_payload(src)[8:]
            ilen = int.from_bytes(tpdu[2:4], "big") if tpdu[0] >> 4 == 4 else \
                40 + int.from_bytes(tpdu[4:6], "big")
            self.assertLessEqual(ilen, len(tpdu))
            self.assertEqual(gtp_payload(o)[16:].hex(), tpdu[:ilen].hex())
            self.assertEqual(o[UDP].len, 8 + 16 + ilen)
        for o in out[3:]:
            self.assertEqual(len(gtp_payload(o)), 8)


class ZeekPathManagement(h.TestCase):
    """zeek_gtp10_echo_errind: an Error Indication 247.56.43.90 ->
    247.56.43.248, an Echo Request 247.56.43.214 -> 237.56.101.238 (S flag,
    sequence 0xfe69, 6 bytes of Ethernet padding) and its Echo Response
    back (Recovery IE).

    Routing: the Echo Request goes to n3 (access), which owns
    237.56.101.238; the Echo Response and the Error Indication go to n9
    (core), which owns 247.56.43.214 and 247.56.43.248. Port MACs are the
    capture's destination MACs. Fates: the request is answered on n3; the
    response is consumed (gtpu_echo_resp); the Error Indication is
    consumed (gtpu_errind_rx)."""

    def test_echo_answered_response_and_error_indication_consumed(self):
        pk = load(ZEEK)
        self.assertEqual([p[GTP_U_Header].gtp_type for p in pk], [26, 1, 2])
        errind, req, resp = pk
        cfg = SIZES + f"""
set recovery 42
port add n3 dev net_pcap0 role access addr 237.56.101.238/24 mac {req[Ether].dst}
port add n9 dev net_pcap1 role core addr 247.56.43.214/24 addr 247.56.43.248/24 mac {resp[Ether].dst}
port add lan dev net_pcap2 role local addr 10.100.0.1/24 mac {h.MAC_LAN}
"""
        res = h.run(cfg, {"n3": [req], "n9": [resp, errind]})
        self.assertEqual(res.counters["rx"], 3)
        self.assertDrops(res, {})
        self.assertEqual(res.counters["gtpu_echo_req"], 1)
        self.assertEqual(res.counters["gtpu_echo_resp"], 1)
        self.assertEqual(res.counters["gtpu_errind_rx"], 1)
        self.assertEqual(res.counters["gtpu_errind_tx"], 0)
        self.assertEqual(res.out["n9"] + res.out["lan"], [])
        self.assertEqual(len(res.out["n3"]), 1)
        r = res.out["n3"][0]
        self.assertEqual((r[Ether].src, r[Ether].dst), (req[Ether].dst, req[Ether].src))
        self.assertEqual((r[IP].src, r[IP].dst), (req[IP].dst, req[IP].src))
        self.assertEqual((r[UDP].sport, r[UDP].dport), (2152, req[UDP].sport))
        self.assertEqual(r[UDP].len, len(bytes(r[UDP])))
        g = gtp_payload(r)
        self.assertEqual(req[GTP_U_Header].seq, 0xfe69)
        # flags: version 1, PT, S; type 2; length 6; TEID 0; the request's
        # sequence number; Recovery IE (14) with 'set recovery'
        self.assertEqual(g.hex(), bytes([0x32, 2, 0, 6, 0, 0, 0, 0, 0xfe, 0x69, 0, 0, 14, 42]).hex())
        chk = IP(bytes(r[IP]))
        del chk.chksum
        self.assertEqual(IP(bytes(chk)).chksum, r[IP].chksum)


if __name__ == "__main__":
    import unittest
    unittest.main()
