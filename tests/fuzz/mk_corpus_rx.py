#!/usr/bin/python3
"""Write the seed corpus of the rx-path fuzzer (tests/fuzz/fuzz_rx.c) to
tests/fuzz/corpus_rx/: one file per input, each a list of frames
[port][length, 2 bytes big-endian][frame], port 0 n3 (access), 1 n9
(core), 2 lan (local), addressed to fuzz_rx.c's config so that the seeds
reach every path: uplink G-PDUs to an app, to the cloud, mirrored, to a
drop rule, with a TTL about to expire, to an unknown TEID; downlink from an
app and from the cloud; Echo Request, Error Indication, End Marker; ARP
and ICMP echo to a port; outer fragments of a G-PDU (IPv4 and IPv6);
VLAN tags; a full burst; and frames from ../shared/testdata (real
captures, addressed elsewhere: their structure is what is kept).

Usage: /usr/bin/python3 tests/fuzz/mk_corpus_rx.py  (rewrites the folder's
mk_*.bin files; reproducers committed there under other names stay).
"""
import glob
import os
import struct

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, IPv6, ICMPv6EchoRequest,
                       IPv6ExtHdrFragment, Dot1Q, Raw, fragment, fragment6,
                       rdpcap)
from scapy.contrib.gtp import (GTP_U_Header, GTPPDUSessionContainer,
                               GTPEchoRequest)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus_rx")
TESTDATA = os.path.join(HERE, "..", "..", "..", "shared", "testdata")

N3, N9, LAN = 0, 1, 2
MAC_N3, MAC_N9, MAC_LAN = "02:00:00:00:03:01", "02:00:00:00:09:01", "02:00:00:00:0a:01"
MAC_GNB, MAC_UPF, MAC_APP = "02:00:00:00:00:10", "02:00:00:00:00:07", "02:00:00:00:00:20"
GNB, GNB6, N3A, N3A6 = "192.0.2.10", "2001:db8:3::10", "192.0.2.1", "2001:db8:3::1"
UPF, N9A = "198.51.100.7", "198.51.100.1"


def rec(port, frame):
    b = bytes(frame)
    return struct.pack("!BH", port, len(b)) + b


def ul(inner, teid=0x100, qfi=9, v6=False, psc=True, ttl=64):
    g = GTP_U_Header(teid=teid)
    if psc:
        g = GTP_U_Header(teid=teid, E=1, next_ex=0x85) / \
            GTPPDUSessionContainer(type=1, QFI=qfi)
    ip = IPv6(src=GNB6, dst=N3A6, hlim=ttl) if v6 else IP(src=GNB, dst=N3A, ttl=ttl)
    return Ether(src=MAC_GNB, dst=MAC_N3) / ip / UDP(sport=2152, dport=2152) / g / inner


def frames():
    ue, ue6 = "10.45.0.2", "2001:db8:45:4::5"
    out = {}
    # uplink: to an app (rule 10), to the cloud (no rule), mirrored then
    # cloud (30), mirrored then local (40), dropped (50), session 2 has no
    # cloud F-TEID, unknown TEID, UE spoofed, TTL 1, IPv6 to an app (20)
    out["ul_local"] = [rec(N3, ul(IP(src=ue, dst="10.200.1.1") / UDP(sport=5000, dport=4100) / Raw(b"x" * 20)))]
    out["ul_cloud"] = [rec(N3, ul(IP(src=ue, dst="8.8.8.8") / TCP(sport=5000, dport=443)))]
    out["ul_mirror_cloud"] = [rec(N3, ul(IP(src=ue, dst="203.0.113.9") / UDP(sport=1, dport=2) / Raw(b"m" * 8)))]
    out["ul_mirror_local"] = [rec(N3, ul(IP(src=ue, dst="10.201.0.5") / ICMP() / Raw(b"p" * 8)))]
    out["ul_drop_rule"] = [rec(N3, ul(IP(src=ue, dst="10.9.9.9") / TCP(sport=5000, dport=23)))]
    out["ul_no_cloud"] = [rec(N3, ul(IP(src="10.45.0.3", dst="8.8.8.8") / UDP(sport=7, dport=7), teid=0x101, qfi=5))]
    out["ul_unknown_teid"] = [rec(N3, ul(IP(src=ue, dst="8.8.8.8") / UDP(), teid=0x999))]
    out["ul_spoof"] = [rec(N3, ul(IP(src="10.45.9.9", dst="10.200.1.1") / UDP(dport=4100)))]
    out["ul_ttl1"] = [rec(N3, ul(IP(src=ue, dst="10.200.1.1", ttl=1) / UDP(sport=5000, dport=4100)))]
    out["ul_nopsc"] = [rec(N3, ul(IP(src=ue, dst="10.200.1.1") / UDP(dport=4100), psc=False))]
    out["ul6_local"] = [rec(N3, ul(IPv6(src=ue6, dst="2001:db8:200::1") / UDP(sport=9, dport=9) / Raw(b"6" * 16),
                                   teid=0x103, v6=True))]
    out["ul6_hop1"] = [rec(N3, ul(IPv6(src=ue6, dst="2001:db8:200::1", hlim=1) / UDP(), teid=0x103))]
    out["ul_gtp_in_gtp"] = [rec(N3, ul(IP(src=ue, dst="10.200.1.1") / UDP(sport=2152, dport=2152) /
                                       GTP_U_Header(teid=5) / IP() / UDP()))]
    out["ul_vlan"] = [rec(N3, Ether(src=MAC_GNB, dst=MAC_N3) / Dot1Q(vlan=5) / Dot1Q(vlan=6) /
                          IP(src=GNB, dst=N3A) / UDP(sport=2152, dport=2152) /
                          GTP_U_Header(teid=0x100) / IP(src=ue, dst="8.8.8.8") / UDP())]
    # downlink: from an app to a UE (IPv4, IPv6), from the cloud, to no UE
    out["dl_app"] = [rec(LAN, Ether(src=MAC_APP, dst=MAC_LAN) / IP(src="10.200.1.1", dst=ue) /
                         UDP(sport=4100, dport=5000) / Raw(b"d" * 30))]
    out["dl_app6"] = [rec(LAN, Ether(src=MAC_APP, dst=MAC_LAN) / IPv6(src="2001:db8:200::1", dst=ue6) /
                          UDP(sport=9, dport=9))]
    out["dl_no_session"] = [rec(LAN, Ether(src=MAC_APP, dst=MAC_LAN) / IP(src="10.200.1.1", dst="10.45.7.7") / UDP())]
    out["dl_cloud"] = [rec(N9, Ether(src=MAC_UPF, dst=MAC_N9) / IP(src=UPF, dst=N9A) /
                           UDP(sport=2152, dport=2152) / GTP_U_Header(teid=0x3001) /
                           IP(src="8.8.8.8", dst=ue) / UDP(sport=53, dport=5000))]
    out["dl_cloud_end_marker"] = [rec(N9, Ether(src=MAC_UPF, dst=MAC_N9) / IP(src=UPF, dst=N9A) /
                                      UDP(sport=2152, dport=2152) / GTP_U_Header(teid=0x3001, gtp_type=254))]
    # path management and host traffic
    out["echo_req"] = [rec(N3, Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB, dst=N3A) /
                           UDP(sport=2152, dport=2152) / GTP_U_Header(gtp_type=1, S=1, seq=7) /
                           GTPEchoRequest())]
    out["errind"] = [rec(N3, Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB, dst=N3A) /
                         UDP(sport=2152, dport=2152) / GTP_U_Header(gtp_type=26) /
                         Raw(bytes.fromhex("100000abcd850004c0000201")))]
    out["arp"] = [rec(N3, Ether(src=MAC_GNB, dst="ff:ff:ff:ff:ff:ff") /
                      ARP(op=1, hwsrc=MAC_GNB, psrc=GNB, pdst=N3A))]
    out["icmp_echo"] = [rec(LAN, Ether(src=MAC_APP, dst=MAC_LAN) / IP(src="10.100.0.20", dst="10.100.0.1") /
                            ICMP() / Raw(b"ping"))]
    out["icmp6_echo"] = [rec(N3, Ether(src=MAC_GNB, dst=MAC_N3) / IPv6(src=GNB6, dst=N3A6) /
                             ICMPv6EchoRequest(data=b"ping"))]
    # outer fragments of a G-PDU, IPv4 and IPv6, in one input each
    big = ul(IP(src=ue, dst="10.200.1.1") / UDP(sport=5000, dport=4100) / Raw(b"f" * 300))
    out["frag4"] = [rec(N3, Ether(src=MAC_GNB, dst=MAC_N3) / f)
                    for f in fragment(big[IP], fragsize=128)]
    big6 = (IPv6(src=GNB6, dst=N3A6) / IPv6ExtHdrFragment(id=0x1234) / UDP(sport=2152, dport=2152) /
            GTP_U_Header(teid=0x103, E=1, next_ex=0x85) / GTPPDUSessionContainer(type=1, QFI=9) /
            IPv6(src=ue6, dst="2001:db8:200::1") / UDP() / Raw(b"g" * 300))
    out["frag6"] = [rec(N3, Ether(src=MAC_GNB, dst=MAC_N3) / f) for f in fragment6(big6, 200)]
    # what random mutation reaches late: a relay to the cloud whose chain
    # holds a type 01xxxxxx header (stripped) before the container; a
    # mirror whose copy cannot be routed (TTL 1); a bad inner IPv4
    # checksum and an IPv6 link-local destination toward an app; Echo
    # Response, Supported Extension Headers, an End Marker on N3, a
    # G-PDU without T-PDU; a frame longer than one mbuf (a chain)
    udp_ext = bytes([1, 0x08, 0x68, 0x85])       # UDP Port ext, next = PSC
    psc_ul = bytes([1, 0x10, 0x09, 0x00])        # PSC UL QFI 9, next = none
    inner = bytes(IP(src=ue, dst="8.8.8.8") / UDP(sport=1, dport=2) / Raw(b"e" * 8))
    gext = struct.pack("!BBHIHBB", 0x34, 255, 4 + 8 + len(inner), 0x100, 0, 0, 0x40) + udp_ext + psc_ul + inner
    out["ul_cloud_ext_stripped"] = [rec(N3, Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB, dst=N3A) /
                                        UDP(sport=2152, dport=2152) / Raw(gext))]
    out["ul_mirror_ttl1"] = [rec(N3, ul(IP(src=ue, dst="203.0.113.9", ttl=1) / UDP(sport=1, dport=2)))]
    bad = IP(bytes(IP(src=ue, dst="10.200.1.1") / UDP(sport=5000, dport=4100)))
    bad.chksum ^= 0x1234
    out["ul_inner_cksum"] = [rec(N3, ul(bad))]
    out["ul6_link_scope"] = [rec(N3, ul(IPv6(src="fe80::1", dst="2001:db8:200::1") / UDP(), teid=0x103))]
    gtp_hdr = Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB, dst=N3A) / UDP(sport=2152, dport=2152)
    out["echo_resp"] = [rec(N3, gtp_hdr / GTP_U_Header(gtp_type=2, S=1, seq=7) / Raw(b"\x0e\x00"))]
    out["supp_ext"] = [rec(N3, gtp_hdr / GTP_U_Header(gtp_type=31) / Raw(b"\x8d\x01\x85"))]
    out["end_marker_n3"] = [rec(N3, gtp_hdr / GTP_U_Header(gtp_type=254, teid=0x100))]
    out["gpdu_empty"] = [rec(N3, gtp_hdr / GTP_U_Header(teid=0x100))]
    out["ul_multiseg"] = [rec(N3, ul(IP(src=ue, dst="10.200.1.1") / UDP(sport=5000, dport=4100) /
                                      Raw(b"j" * 2400)))]
    # with 'set gtpu-padding 1' (bit 7 of the first port byte): a GTP-U
    # message shorter than its UDP payload, and a T-PDU shorter than the
    # G-PDU, both relayed to the cloud
    tpdu = bytes(IP(src=ue, dst="8.8.8.8") / UDP(sport=3, dport=4))
    g = struct.pack("!BBHI", 0x30, 255, len(tpdu), 0x100) + tpdu
    out["pad_gtpu"] = [rec(N3 | 0x80, gtp_hdr / Raw(g + b"\0" * 6))]
    g = struct.pack("!BBHI", 0x30, 255, len(tpdu) + 6, 0x100) + tpdu + b"\0" * 6
    out["pad_tpdu"] = [rec(N3 | 0x80, gtp_hdr / Raw(g))]
    # a mixed burst of more than ES_BURST frames over every port
    mixed = []
    for k in ("ul_local", "ul_cloud", "dl_app", "ul_mirror_cloud", "dl_cloud", "arp",
              "ul_unknown_teid", "echo_req", "dl_app6", "ul_drop_rule"):
        mixed += out[k] * 4
    out["mixed_burst"] = mixed
    return out


def captures():
    out = {}
    for path in sorted(glob.glob(os.path.join(TESTDATA, "*.pcap"))):
        name = os.path.splitext(os.path.basename(path))[0]
        seen = set()
        for i, p in enumerate(rdpcap(path)):
            b = bytes(p)
            # GTP-U only (PFCP is not the data plane's), one per shape
            if UDP not in p or 2152 not in (p[UDP].sport, p[UDP].dport):
                continue
            key = (len(b) // 16, b[42:44])
            if key in seen:
                continue
            seen.add(key)
            out["%s_%d" % (name, i)] = [rec(N3 if i % 2 == 0 else N9, b)]
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in glob.glob(os.path.join(OUT, "mk_*.bin")):
        os.unlink(f)
    allf = frames()
    allf.update(captures())
    total = 0
    for name, recs in sorted(allf.items()):
        data = b"".join(recs)
        total += len(data)
        with open(os.path.join(OUT, "mk_%s.bin" % name), "wb") as fh:
            fh.write(data)
    print("%d inputs, %d bytes in %s" % (len(allf), total, OUT))


if __name__ == "__main__":
    main()
