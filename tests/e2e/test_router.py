"""What edgesteer does as a router for the packets it routes (uplink
decapsulated to an app, downlink from an app into a tunnel) and for its own
ICMP echo: docs/architecture.md, "What edgesteer does as a router".

Outputs are compared byte for byte with packets scapy builds independently
(checksums computed by scapy), and the named counters are checked.
"""
from scapy.all import (ICMP, IP, IPv6, TCP, UDP, Ether, Raw, ICMPv6EchoRequest,
                       ICMPv6EchoReply, ICMPv6TimeExceeded, ICMPv6ND_RS)
from scapy.contrib.gtp import GTP_U_Header

import esharness as h
import test_paths as tp
from esharness import (GNB_4, GNB_6, LAN_4, LAN_6, MAC_APP, MAC_GNB, MAC_LAN,
                       MAC_MIRROR, MAC_N3, MAC_N9, MAC_UPF, N3_4, N3_6, N9_4,
                       UPF_4, gtpu_ul, routed)
from test_paths import UE, UE6, cfg, inner4, inner6, outer4, relay_gtp

APP_SRC4, APP_SRC6 = "10.200.1.1", "2001:db8:200::9"


def ul6(inner, qfi=9):
    """An uplink G-PDU of the IPv6 session (ul-teid 0x102, gNB over IPv6)."""
    return gtpu_ul(inner, 0x102, outer_src=GNB_6, outer_dst=tp.N3_6, v6=True, qfi=qfi)


def from_app(inner):
    return Ether(src=MAC_APP, dst=MAC_LAN) / inner


def to_gnb4(teid, inner, qfi):
    """A downlink G-PDU to the IPv4 gNB, as the data plane writes one."""
    return (outer4(N3_4, GNB_4, MAC_N3, MAC_GNB) / UDP(sport=2152, dport=2152, chksum=0) /
            relay_gtp(teid, inner, 0, qfi))


def to_gnb6(teid, inner, qfi):
    return (Ether(src=MAC_N3, dst=MAC_GNB) / IPv6(src=N3_6, dst=GNB_6) /
            UDP(sport=2152, dport=2152) / relay_gtp(teid, inner, 0, qfi))


def time_exceeded4(src, dst, quoted):
    """RFC 792 Time Exceeded (TTL exceeded in transit) as edgesteer sends
    one: precedence 6 (RFC 1812 §4.3.2.5), TTL 64, id 0."""
    return IP(src=src, dst=dst, tos=0xc0, ttl=64, id=0, flags=0) / ICMP(type=11, code=0) / Raw(quoted)


def time_exceeded6(src, dst, quoted):
    return IPv6(src=src, dst=dst, hlim=64) / ICMPv6TimeExceeded(code=0) / Raw(quoted)


def bad_ip4_cksum(pkt):
    """pkt (IP, checksums computed) with its header checksum wrong."""
    b = bytearray(bytes(pkt))
    b[10] ^= 0x5a
    return b


class Echo(h.TestCase):
    def ping(self, icmp, v6=False):
        ip = IPv6(src=GNB_6, dst=N3_6) if v6 else IP(src=GNB_4, dst=N3_4)
        return Ether(src=MAC_GNB, dst=MAC_N3) / ip / icmp

    def test_all_zero_echo_is_answered_with_checksum_0xffff(self):
        """id 0, sequence 0, no data: the reply is all zeros but for its
        checksum, which is ~0 = 0xffff (an incremental update from the
        request's 0xf7ff gives 0x0000, which receivers reject)."""
        res = h.run(cfg(), {"n3": [self.ping(ICMP(id=0, seq=0))]})
        self.assertEqual(len(res.out["n3"]), 1)
        r = res.out["n3"][0]
        self.assertEqual((r[IP].src, r[IP].dst, r[ICMP].type, r[ICMP].id, r[ICMP].seq),
                         (N3_4, GNB_4, 0, 0, 0))
        self.assertEqual(r[ICMP].chksum, 0xffff)
        again = ICMP(bytes(r[ICMP]))
        del again.chksum
        self.assertEqual(ICMP(bytes(again)).chksum, 0xffff)
        self.assertEqual(res.counters["icmp_echo_reply"], 1)
        self.assertDrops(res, {})

    def test_replies_carry_a_freshly_computed_checksum(self):
        """Odd and even data lengths, IPv4 and IPv6."""
        pk = [self.ping(ICMP(id=0x1234, seq=n) / Raw(bytes(range(n)))) for n in (1, 7, 64)]
        pk += [self.ping(ICMPv6EchoRequest(id=9, seq=n, data=bytes(range(n))), v6=True) for n in (0, 3)]
        res = h.run(cfg(), {"n3": pk})
        self.assertEqual(len(res.out["n3"]), 5)
        for n, r in zip((1, 7, 64), res.out["n3"][:3]):
            want = IP(src=N3_4, dst=GNB_4, ttl=64, id=1) / ICMP(type=0, id=0x1234, seq=n) / Raw(bytes(range(n)))
            self.assertSameBytes(r[ICMP], IP(bytes(want))[ICMP])
        for n, r in zip((0, 3), res.out["n3"][3:]):
            want = IPv6(src=N3_6, dst=GNB_6, hlim=64) / ICMPv6EchoReply(id=9, seq=n, data=bytes(range(n)))
            self.assertSameBytes(r[IPv6], want)
        self.assertDrops(res, {})

    def test_echo_requests_with_a_bad_checksum_are_dropped_not_answered(self):
        good4 = self.ping(ICMP(id=7, seq=1) / Raw(b"abc"))
        good6 = self.ping(ICMPv6EchoRequest(id=3, data=b"q"), v6=True)
        bad4 = self.ping(ICMP(id=7, seq=1, chksum=(ICMP(bytes(good4[ICMP])).chksum ^ 1)) / Raw(b"abc"))
        bad6 = self.ping(ICMPv6EchoRequest(id=3, data=b"q", cksum=0x1234), v6=True)
        res = h.run(cfg(), {"n3": [bad4, bad6, good4]})
        self.assertEqual(len(res.out["n3"]), 1)
        self.assertEqual(res.out["n3"][0][ICMP].type, 0)
        self.assertDrops(res, {"drop_icmp_cksum": 2})
        self.assertEqual(res.counters["icmp_echo_reply"], 1)


class InnerChecksum(h.TestCase):
    def test_inner_ipv4_with_a_bad_header_checksum_is_not_routed_to_an_app(self):
        inner = bad_ip4_cksum(inner4("10.200.1.1"))
        res = h.run(cfg(), {"n3": [gtpu_ul(Raw(inner), 0x100)]})
        self.assertEqual(res.out["lan"] + res.out["n9"] + res.out["n3"], [])
        self.assertDrops(res, {"drop_inner_ip4_cksum": 1})

    def test_inner_ipv4_with_options_and_a_bad_checksum_is_not_routed(self):
        from scapy.all import IPOption_NOP
        good = IP(src=UE, dst="10.200.1.1", options=[IPOption_NOP()] * 4) / UDP(sport=1, dport=2)
        res = h.run(cfg(), {"n3": [gtpu_ul(Raw(bad_ip4_cksum(good)), 0x100), gtpu_ul(good, 0x100)]})
        self.assertEqual(len(res.out["lan"]), 1)
        self.assertSameBytes(res.out["lan"][0][IP], IP(routed(bytes(good))))
        self.assertDrops(res, {"drop_inner_ip4_cksum": 1})

    def test_relayed_uplink_is_not_routed_here_and_keeps_its_inner_packet(self):
        """The cloud UPF routes it; the relay leaves the T-PDU alone."""
        inner = bad_ip4_cksum(inner4("8.8.8.8"))
        res = h.run(cfg(), {"n3": [gtpu_ul(Raw(inner), 0x100)]})
        self.assertEqual(len(res.out["n9"]), 1)
        self.assertEqual(bytes(res.out["n9"][0][GTP_U_Header].payload)[4:], bytes(inner))
        self.assertDrops(res, {})

    def test_a_mirror_copy_is_not_made_of_a_bad_inner_header(self):
        """rule 30: mirror tap then cloud. The copy would be routed: not
        made; the packet itself is relayed."""
        inner = bad_ip4_cksum(inner4("10.201.0.5"))
        res = h.run(cfg(), {"n3": [gtpu_ul(Raw(inner), 0x100)]})
        self.assertEqual(res.out["lan"], [])
        self.assertEqual(len(res.out["n9"]), 1)
        self.assertEqual((res.counters["mirror"], res.counters["mirror_not_routed"]), (0, 1))
        self.assertDrops(res, {})

    def test_plain_ipv4_from_an_app_with_a_bad_header_checksum_is_dropped(self):
        """Checked by the outer parse already (it is the packet's only header)."""
        pkt = IP(src=APP_SRC4, dst=UE) / UDP(sport=1, dport=2)
        res = h.run(cfg(), {"lan": [Ether(src=MAC_APP, dst=MAC_LAN, type=0x0800) / Raw(bad_ip4_cksum(pkt))]})
        self.assertEqual(res.out["n3"], [])
        self.assertDrops(res, {"drop_ip4_cksum": 1})


class TimeExceeded(h.TestCase):
    def test_uplink_ttl_1_to_an_app_is_answered_through_the_ue_tunnel(self):
        """RFC 1812 §5.3.1: dropped, and an ICMP Time Exceeded from the N3
        address back to the UE: a G-PDU to its gNB with a DL container."""
        inner = inner4("10.200.1.1", ttl=1)
        res = h.run(cfg(), {"n3": [gtpu_ul(inner, 0x100)]})
        self.assertEqual(res.out["lan"] + res.out["n9"], [])
        self.assertEqual(len(res.out["n3"]), 1)
        self.assertSameBytes(res.out["n3"][0], to_gnb4(0x1100, time_exceeded4(N3_4, UE, bytes(inner)), 9))
        self.assertDrops(res, {"drop_ttl_expired": 1})
        self.assertEqual(res.counters["icmp_time_exceeded_tx"], 1)

    def test_uplink_ttl_0_is_answered_too(self):
        inner = inner4("10.200.1.1", ttl=0)
        res = h.run(cfg(), {"n3": [gtpu_ul(inner, 0x100)]})
        self.assertEqual(len(res.out["n3"]), 1)
        self.assertSameBytes(res.out["n3"][0], to_gnb4(0x1100, time_exceeded4(N3_4, UE, bytes(inner)), 9))

    def test_uplink_ipv6_hop_limit_1_gets_an_icmpv6_time_exceeded(self):
        """RFC 4443 §3.3, from the N3 IPv6 address, through the IPv6 gNB."""
        inner = IPv6(src=UE6 + "5", dst="2001:db8:200::9", hlim=1) / TCP(sport=1000, dport=80, flags="S")
        res = h.run(cfg(), {"n3": [ul6(inner)]})
        self.assertEqual(res.out["lan"], [])
        self.assertEqual(len(res.out["n3"]), 1)
        self.assertSameBytes(res.out["n3"][0], to_gnb6(0x1102, time_exceeded6(N3_6, UE6 + "5", bytes(inner)), 9))
        self.assertDrops(res, {"drop_ttl_expired": 1})
        self.assertEqual(res.counters["icmp_time_exceeded_tx"], 1)

    def test_the_quote_is_cut_to_576_bytes_of_icmp_datagram(self):
        """RFC 1812 §4.3.2.3: as much of the packet as fits in 576 bytes."""
        inner = inner4("10.200.1.1", ttl=1, payload=b"p" * 1000)
        res = h.run(cfg(), {"n3": [gtpu_ul(inner, 0x100)]})
        self.assertEqual(len(res.out["n3"]), 1)
        icmp_ip = res.out["n3"][0][IP:2]
        self.assertEqual(icmp_ip.len, 576)
        self.assertSameBytes(res.out["n3"][0], to_gnb4(0x1100, time_exceeded4(N3_4, UE, bytes(inner)[:548]), 9))

    def test_the_icmpv6_quote_is_cut_to_the_minimum_mtu(self):
        """RFC 4443 §2.4(c): the ICMPv6 packet fits in 1280 bytes."""
        inner = IPv6(src=UE6 + "5", dst="2001:db8:200::9", hlim=1) / UDP(sport=1, dport=2) / Raw(b"q" * 1300)
        res = h.run(cfg(), {"n3": [ul6(inner)]})
        self.assertEqual(len(res.out["n3"]), 1)
        self.assertSameBytes(res.out["n3"][0],
                             to_gnb6(0x1102, time_exceeded6(N3_6, UE6 + "5", bytes(inner)[:1232]), 9))
        self.assertEqual(len(res.out["n3"][0][IPv6:2]), 1280)

    def test_the_ttl_is_checked_before_the_app_link_mtu(self):
        """RFC 1812 §5.2.1.2: the TTL is decremented and checked (step 7)
        before the packet meets the outgoing link's MTU (step 9): a packet
        too big for the local port whose TTL expires gets a Time Exceeded,
        not a drop for its size."""
        inner = inner4("10.200.1.1", ttl=1, payload=b"m" * 1600)
        res = h.run(cfg(), {"n3": [gtpu_ul(inner, 0x100)]})
        self.assertEqual(res.out["lan"], [])
        self.assertEqual(len(res.out["n3"]), 1)
        self.assertSameBytes(res.out["n3"][0], to_gnb4(0x1100, time_exceeded4(N3_4, UE, bytes(inner)[:548]), 9))
        self.assertDrops(res, {"drop_ttl_expired": 1})
        self.assertEqual(res.counters["icmp_time_exceeded_tx"], 1)

    def test_the_quote_is_cut_to_fit_the_tunnel_to_the_gnb(self):
        """An N3 link of MTU 1280 cannot carry a 1280-byte ICMPv6 error in
        a tunnel (40 + 8 + 16 bytes more): the quote is cut so that the
        G-PDU fits, 1168 bytes of the packet in a 1216-byte ICMPv6 packet."""
        c = cfg().replace(f"addr {N3_6}/64 mac {MAC_N3}", f"addr {N3_6}/64 mtu 1280 mac {MAC_N3}")
        inner = IPv6(src=UE6 + "5", dst="2001:db8:200::9", hlim=1) / UDP(sport=1, dport=2) / Raw(b"q" * 1300)
        res = h.run(c, {"n3": [ul6(inner)]})
        self.assertEqual(len(res.out["n3"]), 1)
        self.assertSameBytes(res.out["n3"][0],
                             to_gnb6(0x1102, time_exceeded6(N3_6, UE6 + "5", bytes(inner)[:1168]), 9))
        self.assertEqual(len(res.out["n3"][0][IPv6]), 1280)
        self.assertDrops(res, {"drop_ttl_expired": 1})
        self.assertEqual(res.counters["icmp_time_exceeded_tx"], 1)

    def test_downlink_ttl_1_from_an_app_is_answered_on_the_local_port(self):
        inner = IP(src=APP_SRC4, dst=UE, ttl=1) / UDP(sport=2000, dport=1000) / Raw(b"y" * 10)
        res = h.run(cfg(), {"lan": [from_app(inner)]})
        self.assertEqual(res.out["n3"], [])
        self.assertEqual(len(res.out["lan"]), 1)
        self.assertSameBytes(res.out["lan"][0],
                             Ether(src=MAC_LAN, dst=MAC_APP) / time_exceeded4(LAN_4, APP_SRC4, bytes(inner)))
        self.assertDrops(res, {"drop_ttl_expired": 1})
        self.assertEqual(res.counters["icmp_time_exceeded_tx"], 1)

    def test_downlink_ipv6_hop_limit_1_from_an_app_is_answered(self):
        inner = IPv6(src=APP_SRC6, dst=UE6 + "5", hlim=1) / UDP(sport=2000, dport=1000)
        res = h.run(cfg(), {"lan": [from_app(inner)]})
        self.assertEqual(len(res.out["lan"]), 1)
        self.assertSameBytes(res.out["lan"][0],
                             Ether(src=MAC_LAN, dst=MAC_APP) / time_exceeded6(LAN_6, APP_SRC6, bytes(inner)))
        self.assertDrops(res, {"drop_ttl_expired": 1})

    def test_time_exceeded_is_rate_limited(self):
        pk = [gtpu_ul(inner4("10.200.1.1", ttl=1, sport=i), 0x100) for i in range(5)]
        res = h.run(cfg("set icmp-rate 2\n"), {"n3": pk})
        self.assertEqual(len(res.out["n3"]), 2)
        self.assertEqual((res.counters["icmp_time_exceeded_tx"], res.counters["icmp_err_limited"]), (2, 3))
        self.assertDrops(res, {"drop_ttl_expired": 5})

    def test_icmp_rate_0_sends_none(self):
        res = h.run(cfg("set icmp-rate 0\n"), {"n3": [gtpu_ul(inner4("10.200.1.1", ttl=1), 0x100)]})
        self.assertEqual(res.out["n3"], [])
        self.assertEqual(res.counters["icmp_time_exceeded_tx"] + res.counters["icmp_err_limited"], 0)
        self.assertDrops(res, {"drop_ttl_expired": 1})

    def test_no_error_about_an_error_or_a_non_initial_fragment(self):
        """RFC 1812 §4.3.2.7 / RFC 4443 §2.4(e): none about an ICMP error
        message or a non-initial fragment; an echo request (a query) gets
        one."""
        err = IP(src=UE, dst="10.200.1.1", ttl=1) / ICMP(type=3, code=1) / Raw(bytes(inner4("1.2.3.4")))
        frag = IP(src=UE, dst="10.200.1.1", ttl=1, frag=100, proto=17) / Raw(b"f" * 16)
        err6 = IPv6(src=UE6 + "5", dst="2001:db8:200::9", hlim=1) / ICMPv6TimeExceeded() / Raw(b"e" * 48)
        ping = IP(src=UE, dst="10.200.1.1", ttl=1) / ICMP(type=8)
        res = h.run(cfg(), {"n3": [gtpu_ul(err, 0x100), gtpu_ul(frag, 0x100), ul6(err6),
                                   gtpu_ul(ping, 0x100)]})
        self.assertEqual(len(res.out["n3"]), 1)
        self.assertSameBytes(res.out["n3"][0], to_gnb4(0x1100, time_exceeded4(N3_4, UE, bytes(ping)), 9))
        self.assertEqual((res.counters["icmp_err_suppressed"], res.counters["icmp_time_exceeded_tx"]), (3, 1))
        self.assertEqual(res.out["lan"], [])
        self.assertDrops(res, {"drop_ttl_expired": 4})

    def test_relays_leave_the_inner_ttl_alone(self):
        """N3 to N9 and N9 to N3 are tunnel relays: the inner packet is not
        routed here, so its TTL is neither checked nor decremented."""
        inner = inner4("8.8.8.8", ttl=1)
        down = IP(src="8.8.8.8", dst=UE, ttl=0) / ICMP()
        dl = (Ether(src=MAC_UPF, dst=MAC_N9) / IP(src=UPF_4, dst=N9_4) / UDP(sport=2152, dport=2152) /
              relay_gtp(0x400, down, 0, 4))
        res = h.run(cfg(), {"n3": [gtpu_ul(inner, 0x100)], "n9": [dl]})
        self.assertSameBytes(res.out["n9"][0][IP:2], inner)
        self.assertSameBytes(res.out["n3"][0], to_gnb4(0x1100, down, 4))
        self.assertDrops(res, {})

    def test_every_frame_is_accounted_for_with_time_exceeded(self):
        """rx + mirror + gtpu_errind_tx + icmp_time_exceeded_tx = tx + the
        DROP counters (docs/counters.md)."""
        kinds = {}
        for line in open(h.ROOT + "/dataplane/counters.def"):
            if line.startswith("ES_CNT("):
                parts = [x.strip() for x in line[7:].split(",")]
                kinds[parts[2].strip('"')] = parts[1]
        pk = [gtpu_ul(inner4("10.200.1.1", ttl=1), 0x100), gtpu_ul(inner4("10.201.0.5", ttl=1), 0x100),
              gtpu_ul(inner4("10.200.1.1"), 0x100), gtpu_ul(inner4("8.8.8.8"), 0xdead)]
        dl = [from_app(IP(src=APP_SRC4, dst=UE, ttl=1) / UDP()), from_app(IP(src=APP_SRC4, dst=UE) / UDP())]
        res = h.run(cfg(), {"n3": pk, "lan": dl})
        c = res.counters
        drops = sum(v for k, v in c.items() if kinds[k] == "DROP")
        self.assertEqual(c["icmp_time_exceeded_tx"], 2)
        self.assertEqual(c["mirror_not_routed"], 1)
        self.assertEqual(c["rx"] + c["mirror"] + c["gtpu_errind_tx"] + c["icmp_time_exceeded_tx"],
                         c["tx"] + drops)
        self.assertEqual(c["tx"], sum(len(v) for v in res.out.values()))


class GtpInGtp(h.TestCase):
    """drop_gtp_in_gtp where a packet would be decapsulated to an app, and
    nowhere else (BRIEF §4: never decapsulate twice)."""

    def gtp_inner(self, dst, src=UE):
        return (IP(src=src, dst=dst) / UDP(sport=2152, dport=2152) /
                GTP_U_Header(teid=0x100) / inner4("10.200.1.1"))

    def test_gtp_inside_an_uplink_to_an_app_is_dropped(self):
        res = h.run(cfg(), {"n3": [gtpu_ul(self.gtp_inner("10.200.1.1"), 0x100)]})
        self.assertEqual(res.out["lan"] + res.out["n9"], [])
        self.assertDrops(res, {"drop_gtp_in_gtp": 1})

    def test_gtp_inside_an_uplink_relayed_to_the_cloud_is_relayed(self):
        inner = self.gtp_inner("8.8.8.8")
        res = h.run(cfg(), {"n3": [gtpu_ul(inner, 0x100)]})
        self.assertEqual(len(res.out["n9"]), 1)
        self.assertSameBytes(res.out["n9"][0], outer4(N9_4, UPF_4, MAC_N9, MAC_UPF) /
                             UDP(sport=2152, dport=2152, chksum=0) / relay_gtp(0x2100, inner, 1, 9))
        self.assertDrops(res, {})

    def test_gtp_inside_a_mirrored_uplink_is_not_copied_and_relayed(self):
        inner = self.gtp_inner("10.201.0.5")
        res = h.run(cfg(), {"n3": [gtpu_ul(inner, 0x100)]})
        self.assertEqual(res.out["lan"], [])
        self.assertEqual(len(res.out["n9"]), 1)
        self.assertEqual(res.counters["mirror_not_routed"], 1)
        self.assertDrops(res, {})

    def test_cloud_downlink_carrying_gtp_is_relayed_to_the_gnb(self):
        inner = self.gtp_inner(UE, src="8.8.8.8")
        dl = (Ether(src=MAC_UPF, dst=MAC_N9) / IP(src=UPF_4, dst=N9_4) / UDP(sport=2152, dport=2152) /
              relay_gtp(0x400, inner, 0, 4))
        res = h.run(cfg(), {"n9": [dl]})
        self.assertEqual(len(res.out["n3"]), 1)
        self.assertSameBytes(res.out["n3"][0], to_gnb4(0x1100, inner, 4))
        self.assertDrops(res, {})

    def test_an_app_packet_to_udp_2152_of_a_ue_is_encapsulated(self):
        inner = IP(src=APP_SRC4, dst=UE) / UDP(sport=2152, dport=2152) / Raw(b"\x30\xff\0\0\0\0\0\0")
        res = h.run(cfg(), {"lan": [from_app(inner)]})
        self.assertEqual(len(res.out["n3"]), 1)
        self.assertSameBytes(res.out["n3"][0], to_gnb4(0x1100, IP(routed(bytes(inner))), 9))
        self.assertDrops(res, {})


class LinkLocal(h.TestCase):
    """An IPv6 UE uses its link-local address on its PDU session (Router
    Solicitation, TS 23.501 §5.8.2.2): accepted by anti-spoofing, relayed
    to the cloud (where the PDU session's anchor answers), never routed to
    an app (RFC 4291 §2.5.6)."""

    def test_router_solicitation_from_fe80_is_relayed_to_the_cloud(self):
        rs = IPv6(src="fe80::5", dst="ff02::2", hlim=255) / ICMPv6ND_RS()
        res = h.run(cfg(), {"n3": [ul6(rs)]})
        self.assertEqual(len(res.out["n9"]), 1)
        want = (Ether(src=MAC_N9, dst=MAC_UPF) / IPv6(src=tp.N9_6, dst=tp.UPF_6) /
                UDP(sport=2152, dport=2152) / relay_gtp(0x2102, rs, 1, 9))
        self.assertSameBytes(res.out["n9"][0], want)
        self.assertEqual(res.out["lan"], [])
        self.assertDrops(res, {})

    def test_a_link_local_source_is_not_routed_to_an_app(self):
        inner = IPv6(src="fe80::5", dst="2001:db8:200::9") / UDP(sport=1, dport=2)
        res = h.run(cfg(), {"n3": [ul6(inner)]})
        self.assertEqual(res.out["lan"] + res.out["n9"], [])
        self.assertDrops(res, {"drop_ip6_link_scope": 1})

    def test_a_link_scope_destination_is_not_routed_to_an_app(self):
        extra = "rule add 12 dst ff02::/16 action local xr6\n"
        inner = IPv6(src=UE6 + "5", dst="ff02::1") / UDP(sport=1, dport=2)
        res = h.run(cfg(extra), {"n3": [ul6(inner)]})
        self.assertEqual(res.out["lan"] + res.out["n9"], [])
        self.assertDrops(res, {"drop_ip6_link_scope": 1})

    def test_an_app_packet_from_a_link_local_source_is_not_routed_into_a_tunnel(self):
        """RFC 4291 §2.5.6: a router does not forward a packet with a
        link-local source to another link; from an app into a UE's
        tunnel is another link. Checked before the hop limit: no Time
        Exceeded either."""
        pk = [from_app(IPv6(src="fe80::20", dst=UE6 + "5", hlim=hl) / UDP(sport=1, dport=2))
              for hl in (64, 1)]
        res = h.run(cfg(), {"lan": pk})
        self.assertEqual(res.out["n3"] + res.out["lan"], [])
        self.assertDrops(res, {"drop_ip6_link_scope": 2})
        self.assertEqual(res.counters["icmp_time_exceeded_tx"], 0)

    def test_fe80_not_of_the_64_format_and_other_sessions_stay_spoofed(self):
        """fe80:0:0:1::/64 is link-local but not the /64 RFC 4291 §2.5.6
        gives it; an IPv4-only session has no link-local address."""
        a = IPv6(src="fe80:0:0:1::5", dst="ff02::2") / ICMPv6ND_RS()
        b = IPv6(src="fe80::5", dst="ff02::2") / ICMPv6ND_RS()
        res = h.run(cfg(), {"n3": [ul6(a), gtpu_ul(b, 0x100)]})
        self.assertEqual(res.out["n9"], [])
        self.assertDrops(res, {"drop_ue_spoof": 2})


if __name__ == "__main__":
    import unittest
    unittest.main()
