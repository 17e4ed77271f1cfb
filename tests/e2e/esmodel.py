"""An independent model of what edgesteer does with one frame.

Written from the documentation (docs/config.md, docs/control.md,
docs/architecture.md, in particular "What edgesteer does as a router",
docs/counters.md, ../shared/BRIEF.md sections 4-5) and the protocol
specifications (RFC 791, RFC 792, RFC 1812, RFC 8200, RFC 4291, RFC 4443,
RFC 768, TS 29.281, TS 38.415), not from the C sources. Where the
documentation was silent the existing end-to-end tests (test_paths.py,
test_malformed.py, test_router.py) gave the intended behaviour, or the
binary's behaviour was checked and then documented; each such point is
listed below and in docs/reliability.md ("Differential test").

Given a configuration (settings, ports, neighbours, apps, sessions, rules)
and one frame received on one port, Model.predict() returns the frames sent
(port and exact bytes) and the counters raised. The headers of what is sent
are built here byte by byte, the way the specifications lay them out;
tests/e2e/test_differential.py checks a sample of them against scapy,
an encoder nobody here wrote.

The model covers the packet paths of BRIEF section 4 that carry traffic:
uplink G-PDUs (local, cloud, forward, drop, mirror, fallback), downlink
from apps, downlink and End Markers from the cloud, End Markers from a
gNB, unknown TEIDs, anti-spoofing (an IPv6 UE's link-local address
included), MTU, the GTP-U extension header chain (types skipped, required,
of a fixed length; 01xxxxxx removed on relay), GTP-U and T-PDU padding
('set gtpu-padding'), what edgesteer does as a router (inner IPv4 header
checksum, IPv6 link scope, GTP-U in GTP-U, TTL / hop limit and ICMP Time
Exceeded with 'icmp-rate' 0 or too large to bite), ICMP echo to a port
address, and the drop counters of the malformed outer, GTP-U and inner
headers it parses. ARP, GTP-U Echo, fragments of the outer packet, outer
IPv6 extension headers, Error Indications and an icmp-rate that limits are
outside it (Model.predict raises NotModelled): other suites cover them,
and the differential test runs with errind-rate 0.
"""
import ipaddress
import struct

# ---- points where the documentation was silent -----------------------------
# The model's choice at each, checked against the binary and now written in
# docs/config.md and docs/architecture.md; docs/reliability.md lists them.
# Only QFI_WITHOUT_CONTAINER is a value; the others are where the code
# below says so.
#  - a G-PDU without a PDU Session Container matches 'qfi 0'
#  - uplink without a container is relayed to the cloud without one
#  - an inner packet without ports (another protocol, a later fragment)
#    has ports 0
#  - a fallback to the cloud counts ul_fallback and ul_cloud
#  - downlink from the cloud is not checked against the session's UE
#  - an End Marker from the cloud for an unknown N9 TEID counts
#    drop_gtpu_teid_unknown
#  - a relayed G-PDU whose every extension header was removed keeps its
#    E flag, with Next Extension Header Type 0
#  - GTP-U padding and T-PDU padding in one message count gtpu_padding
#    twice
#  - an echo reply is written in place: VLAN tags, TOS / traffic class,
#    identification, flags, options and flow label as they came, TTL /
#    hop limit 64, Ethernet to the MAC the request came from; an echo
#    request with a code other than 0 is drop_host_other
#  - with icmp-rate 0 nothing about a Time Exceeded not sent is counted
#    (icmp_err_suppressed still is), as with errind-rate 0
# (A mirror copy to an app that is down is not made: docs/control.md, "App
# health".)
QFI_WITHOUT_CONTAINER = 0

GTPU_PORT = 2152
MSG_GPDU, MSG_END_MARKER = 255, 254
EXT_PSC = 0x85
ETH_IP4, ETH_IP6, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8
PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58, "sctp": 132}
IP6_EXT = (0, 43, 60)          # hop-by-hop, routing, destination options
IP6_FRAG = 44


class NotModelled(Exception):
    """A frame outside what the model covers."""


class Drop(Exception):
    def __init__(self, counter):
        super().__init__(counter)
        self.counter = counter


# ---- bytes ------------------------------------------------------------------

def csum(data, start=0):
    """The Internet checksum (RFC 1071) of data, folded, complemented."""
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def ether(dst, src, etype, vlans=()):
    """Ethernet header; vlans: (tpid, vid) tags outermost first."""
    h = mac_bytes(dst) + mac_bytes(src)
    for tpid, vid in vlans:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", etype)


def ip4_header(src, dst, proto, payload_len, ttl=64, tos=0, ident=0, frag=0,
               options=b""):
    """options: a multiple of 4 bytes (RFC 791 3.1)."""
    n = 20 + len(options)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | n // 4, tos, n + payload_len, ident, frag,
                    ttl, proto, 0, ipaddress.IPv4Address(src).packed,
                    ipaddress.IPv4Address(dst).packed) + options
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def ip6_header(src, dst, nh, payload_len, hlim=64, tc=0, flow=0):
    return struct.pack("!IHBB16s16s", (6 << 28) | (tc << 20) | flow, payload_len,
                       nh, hlim, ipaddress.IPv6Address(src).packed,
                       ipaddress.IPv6Address(dst).packed)


def pseudo_sum(src, dst, proto, length):
    """Partial sum of the pseudo header (RFC 768 / RFC 8200 8.1)."""
    a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if a.version == 4:
        ph = a.packed + b.packed + struct.pack("!BBH", 0, proto, length)
    else:
        ph = a.packed + b.packed + struct.pack("!IxxxB", length, proto)
    return sum(struct.unpack("!%dH" % (len(ph) // 2), ph))


def udp(src, dst, sport, dport, payload, zero_csum=False):
    """A UDP datagram; over IPv4 zero_csum leaves the checksum 0."""
    n = 8 + len(payload)
    h = struct.pack("!HHHH", sport, dport, n, 0)
    if zero_csum:
        return h + payload
    c = csum(h + payload, pseudo_sum(src, dst, 17, n)) or 0xFFFF
    return h[:6] + struct.pack("!H", c) + payload


def ip_packet(src, dst, proto, payload, **kw):
    """An IPv4 or IPv6 header (by the family of src) and payload."""
    if ipaddress.ip_address(src).version == 4:
        return ip4_header(src, dst, proto, len(payload), **kw) + payload
    return ip6_header(src, dst, proto, len(payload), **kw) + payload


def gtpu_gpdu(teid, tpdu, qfi=None, pdu_type=0, msg=MSG_GPDU):
    """A GTP-U message; with qfi, one PDU Session Container (TS 38.415:
    type 0 DL or 1 UL, the QFI, no further extension)."""
    if qfi is None:
        return struct.pack("!BBHI", 0x30, msg, len(tpdu), teid) + tpdu
    body = struct.pack("!HBB", 0, 0, EXT_PSC) + bytes([1, pdu_type << 4, qfi, 0]) + tpdu
    return struct.pack("!BBHI", 0x34, msg, len(body), teid) + body


# ---- configuration ----------------------------------------------------------

def net(text):
    return ipaddress.ip_network(text, strict=True)


class Port:
    def __init__(self, name, dev, role, addrs, mac, mtu=1500, gw=None, gw6=None):
        self.name, self.dev, self.role, self.mac, self.mtu = name, dev, role, mac, mtu
        self.ifaces = [ipaddress.ip_interface(a) for a in addrs]
        self.gw = {4: ipaddress.ip_address(gw) if gw else None,
                   6: ipaddress.ip_address(gw6) if gw6 else None}

    def owns(self, addr):
        return any(i.ip == addr for i in self.ifaces)

    def on_link(self, addr):
        return any(addr.version == i.version and addr in i.network for i in self.ifaces)

    def source(self, version):
        """The first address of the family: the source of what it sends."""
        for i in self.ifaces:
            if i.version == version:
                return i.ip
        return None

    def line(self):
        addrs = " ".join(f"addr {i}" for i in self.ifaces)
        gw = "".join(f" {w} {self.gw[v]}" for v, w in ((4, "gw"), (6, "gw6")) if self.gw[v])
        mtu = f" mtu {self.mtu}" if self.mtu != 1500 else ""
        return f"port add {self.name} dev {self.dev} role {self.role} {addrs}{gw}{mtu} mac {self.mac}"


class App:
    def __init__(self, name, via, up=True):
        self.name, self.via, self.up = name, ipaddress.ip_address(via), up

    def line(self):
        return f"app add {self.name} via {self.via} state {'up' if self.up else 'down'}"


class Session:
    def __init__(self, sid, ul_teid, gnb, gnb_teid, ue=None, ue6=None,
                 cloud=None, cloud_teid=None, n9_teid=None, qfi=0):
        self.sid, self.ul_teid, self.gnb_teid = sid, ul_teid, gnb_teid
        self.gnb = ipaddress.ip_address(gnb)
        self.ue = ipaddress.IPv4Address(ue) if ue else None
        self.ue6 = net(ue6) if ue6 else None
        self.cloud = ipaddress.ip_address(cloud) if cloud else None
        self.cloud_teid, self.n9_teid, self.qfi = cloud_teid, n9_teid, qfi

    def owns_src(self, addr):
        """Whether an uplink inner source is this UE's (anti-spoofing)."""
        if addr.version == 4:
            return self.ue is not None and addr == self.ue
        if self.ue6 is None:
            return False
        # its link-local address, fe80::/64 (RFC 4291 2.5.6; docs/
        # architecture.md "An IPv6 UE's link-local address")
        return addr in self.ue6 or addr in UE_LINK_LOCAL6

    def line(self):
        s = f"session add {self.sid}"
        if self.ue:
            s += f" ue {self.ue}"
        if self.ue6:
            s += f" ue6 {self.ue6}"
        s += f" ul-teid {self.ul_teid} gnb {self.gnb} gnb-teid {self.gnb_teid}"
        if self.cloud:
            s += f" cloud {self.cloud} cloud-teid {self.cloud_teid}"
        if self.n9_teid:
            s += f" n9-teid {self.n9_teid}"
        return s + f" qfi {self.qfi}"


LINK_LOCAL6 = net("fe80::/10")          # link scope (RFC 4291 2.5.6)
UE_LINK_LOCAL6 = net("fe80::/64")       # the link-local addresses of the format


def link_scope6(src, dst):
    """An IPv6 packet that must stay on its link: from or to fe80::/10,
    or to a multicast group of interface- or link-local scope (RFC 4291
    2.7: the scope is the low four bits of the second octet, whatever
    the flags)."""
    if src in LINK_LOCAL6 or dst in LINK_LOCAL6:
        return True
    p = dst.packed
    return p[0] == 0xFF and p[1] & 0x0F <= 2


def no_error_about(inner):
    """RFC 1812 4.3.2.7, RFC 4443 2.4(e): no ICMP error about an ICMP
    error message, a non-initial fragment, a packet from a source that is
    no single host or to a multicast or broadcast destination (docs/
    architecture.md "What edgesteer does as a router")."""
    if inner.later_frag:
        return True
    if inner.version == 4:
        s, d = inner.src.packed[0], inner.dst.packed[0]
        # 0/8, 127/8, multicast, class E and the limited broadcast as a
        # source; multicast, class E and broadcast (224/3) as a destination
        if s == 0 or s == 127 or s >= 224 or d >= 224:
            return True
        return inner.l4 is not None and inner.proto == 1 and inner.sport in (3, 4, 5, 11, 12)
    if int(inner.src) == 0 or inner.src.packed[0] == 0xFF or inner.dst.packed[0] == 0xFF:
        return True
    return inner.l4 is not None and inner.proto == 58 and inner.sport < 128


class Rule:
    """A rule as docs/config.md describes it. Prefix fields are networks or
    None; port ranges (lo, hi); action one of local, cloud, forward, drop,
    mirror; then (action, app) after a mirror."""

    def __init__(self, prio, action, app=None, then=None, then_app=None,
                 fallback="cloud", dir="ul", ue=None, src=None, dst=None,
                 proto=None, sport=(0, 65535), dport=(0, 65535), qfi=None,
                 dscp=None, teid=None):
        self.prio, self.action, self.app = prio, action, app
        self.then, self.then_app, self.fallback = then, then_app, fallback
        self.dir = dir
        self.ue = net(ue) if isinstance(ue, str) else ue
        self.src = net(src) if isinstance(src, str) else src
        self.dst = net(dst) if isinstance(dst, str) else dst
        self.proto, self.sport, self.dport = proto, sport, dport
        self.qfi, self.dscp, self.teid = qfi, dscp, teid
        fams = {p.version for p in (self.ue, self.src, self.dst) if p is not None}
        assert len(fams) <= 1, "one family per rule"
        self.family = fams.pop() if fams else None

    def matches(self, k):
        """k: the key of one packet (Key)."""
        if self.dir != k.dir:
            return False
        if self.family is not None and self.family != k.version:
            return False
        if self.ue is not None and k.ue not in self.ue:
            return False
        if self.src is not None and k.src not in self.src:
            return False
        if self.dst is not None and k.dst not in self.dst:
            return False
        if self.proto is not None and self.proto != k.proto:
            return False
        if not (self.sport[0] <= k.sport <= self.sport[1]):
            return False
        if not (self.dport[0] <= k.dport <= self.dport[1]):
            return False
        if self.qfi is not None and self.qfi != k.qfi:
            return False
        if self.dscp is not None and self.dscp != k.dscp:
            return False
        if self.teid is not None and self.teid != k.teid:
            return False
        return True

    def line(self):
        w = [f"rule add {self.prio}"]
        if self.dir != "ul":
            w.append(f"dir {self.dir}")
        for name in ("ue", "src", "dst"):
            v = getattr(self, name)
            if v is not None:
                w.append(f"{name} {v}")
        if self.proto is not None:
            names = {v: k for k, v in PROTO.items()}
            w.append(f"proto {names.get(self.proto, self.proto)}")
        for name in ("sport", "dport"):
            lo, hi = getattr(self, name)
            if (lo, hi) != (0, 65535):
                w.append(f"{name} {lo}" if lo == hi else f"{name} {lo}-{hi}")
        for name in ("qfi", "dscp", "teid"):
            v = getattr(self, name)
            if v is not None:
                w.append(f"{name} {v}")
        w.append(f"action {self.action}")
        if self.app:
            w.append(self.app)
        if self.then:
            w.append(f"then {self.then}")
            if self.then_app:
                w.append(self.then_app)
        if self.fallback != "cloud":
            w.append(f"fallback {self.fallback}")
        return " ".join(w)


class Key:
    """What a rule is matched against (docs/config.md, match words)."""
    __slots__ = ("dir", "version", "ue", "src", "dst", "proto", "sport",
                 "dport", "qfi", "dscp", "teid")


class Config:
    def __init__(self, ports, neighs, apps, sessions, rules, settings=()):
        self.ports = ports                  # list of Port
        self.neighs = neighs                # list of (addr, mac, port name)
        self.apps = {a.name: a for a in apps}
        self.sessions = sessions
        self.rules = sorted(rules, key=lambda r: r.prio)
        self.settings = list(settings)      # (key, value)

    def setting(self, key, default):
        """The value of 'set KEY' (the last one), or default."""
        v = default
        for k, x in self.settings:
            if k == key:
                v = x
        return int(v)

    def text(self):
        lines = [f"set {k} {v}" for k, v in self.settings]
        lines += [p.line() for p in self.ports]
        lines += [f"neigh add {a} lladdr {m} port {p}" for a, m, p in self.neighs]
        lines += [a.line() for a in self.apps.values()]
        lines += [s.line() for s in self.sessions]
        lines += [r.line() for r in self.rules]
        return "\n".join(lines) + "\n"


# ---- the model --------------------------------------------------------------

class Outcome:
    """What one frame leads to: frames sent [(port, bytes)] and counters."""

    def __init__(self):
        self.out = []
        self.counters = {}
        self.rule = None            # the rule that decided, if one did

    def count(self, name, n=1):
        self.counters[name] = self.counters.get(name, 0) + n

    def send(self, port, frame):
        self.out.append((port, frame))


class Inner:
    """The inner IP packet of a G-PDU or of a frame from an app."""
    __slots__ = ("raw", "version", "src", "dst", "proto", "sport", "dport",
                 "dscp", "ttl", "is_gtpu", "cksum_ok", "later_frag", "l4")


class Gtpu:
    """A parsed GTP-U message: its flags and type, TEID, the optional
    octets (sequence number, N-PDU number, next type) or None, the
    extension headers [(type, bytes)], the container's QFI or None, and
    the T-PDU."""
    __slots__ = ("flags", "mtype", "teid", "opt", "exts", "qfi", "tpdu")


# TS 29.281 5.2.2: the extension header types of a fixed length (in
# 4-octet units); the containers (RAN 0x81, Xw RAN 0x83, NR RAN 0x84, PDU
# Session 0x85) vary; 0x01 and 0x02 (TS 29.060) are skipped by their length
# (docs/architecture.md, "Unknown extension headers")
EXT_FIXED = {0x40: 1, 0x20: 1, 0xC0: 1, 0x82: 2, 0x03: 2}
EXT_KNOWN = set(EXT_FIXED) | {0x81, 0x83, 0x84, EXT_PSC, 0x01, 0x02}

# an 'icmp-rate' at least this large never limits a scenario (a token
# bucket per worker that starts with as many tokens as its rate)
ICMP_RATE_UNLIMITED = 1000000


def time_exceeded(src, dst, quoted, limit):
    """An ICMP Time Exceeded (RFC 792, type 11 code 0) or ICMPv6 Time
    Exceeded (RFC 4443 3.3, type 3 code 0) from src to dst quoting as much
    of quoted as fits in limit bytes of IP packet; precedence 6 (TOS 0xc0,
    RFC 1812 4.3.2.5), TTL / hop limit 64, identification 0."""
    if ipaddress.ip_address(src).version == 4:
        q = quoted[:limit - 28]
        icmp = bytes([11, 0, 0, 0, 0, 0, 0, 0]) + q
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        return ip4_header(src, dst, 1, len(icmp), ttl=64, tos=0xC0) + icmp
    q = quoted[:limit - 48]
    icmp = bytes([3, 0, 0, 0, 0, 0, 0, 0]) + q
    icmp = icmp[:2] + struct.pack("!H", csum(icmp, pseudo_sum(src, dst, 58, len(icmp)))) + icmp[4:]
    return ip6_header(src, dst, 58, len(icmp), hlim=64) + icmp


class Model:
    def __init__(self, cfg):
        self.cfg = cfg
        self.ports = {p.name: p for p in cfg.ports}
        self.neigh = {}                     # (port, addr) -> mac
        for a, m, p in cfg.neighs:
            self.neigh[(p, ipaddress.ip_address(a))] = m
        self.by_ul = {s.ul_teid: s for s in cfg.sessions}
        self.by_n9 = {s.n9_teid: s for s in cfg.sessions if s.n9_teid}
        self.by_ue4 = {s.ue: s for s in cfg.sessions if s.ue}
        self.by_ue6 = {s.ue6: s for s in cfg.sessions if s.ue6}
        self.rules = {"ul": [r for r in cfg.rules if r.dir == "ul"],
                      "dl": [r for r in cfg.rules if r.dir == "dl"]}
        self.padding = cfg.setting("gtpu-padding", 0) == 1
        self.icmp_rate = cfg.setting("icmp-rate", 100)

    # -- peers: the port a peer is on and its MAC (docs/config.md port, neigh)
    def peer(self, addr, role):
        """The port a peer is reached on and the MAC of its next hop: the
        peer itself on a port's subnet, else the port's gateway of the
        family (docs/config.md, 'gw' / 'gw6')."""
        ports = [p for p in self.cfg.ports if p.role == role]
        hop = None
        for p in ports:
            if p.on_link(addr):
                hop = p, addr
                break
        else:
            for p in ports:
                if p.gw[addr.version] is not None:
                    hop = p, p.gw[addr.version]
                    break
        if hop is None:
            raise NotModelled(f"{addr} on no {role} port")
        mac = self.neigh.get((hop[0].name, hop[1]))
        if mac is None:
            raise NotModelled(f"no neighbour {hop[1]} on {hop[0].name}")
        return hop[0], mac

    # -- the entry point
    def predict(self, port, frame):
        o = Outcome()
        o.count("rx")
        try:
            self._frame(o, self.ports[port], frame)
        except Drop as d:
            o.count(d.counter)
        o.count("tx", len(o.out))
        return o

    def _frame(self, o, port, f):
        etype, off, vlans = self._ethernet(f)
        if etype not in (ETH_IP4, ETH_IP6):
            raise NotModelled(f"ethertype {etype:#x}")
        if port.role == "local":
            self._from_app(o, port, f, off, vlans)
            return
        ip = f[off:]
        if etype == ETH_IP4:
            src, dst, proto, payload = self._outer4(ip)
        else:
            src, dst, proto, payload = self._outer6(ip)
        if not port.owns(dst):
            raise Drop("drop_dst_not_local")
        if proto == (1 if etype == ETH_IP4 else 58):
            self._host_icmp(o, port, f, off, vlans)
            return
        if proto != 17:
            raise Drop("drop_not_udp")
        if len(payload) < 8:
            raise Drop("drop_udp_truncated")
        _, dport, ulen, _ = struct.unpack("!HHHH", payload[:8])
        if ulen != len(payload):
            raise Drop("drop_udp_len")
        if dport != GTPU_PORT:
            raise Drop("drop_udp_port")
        self._gtpu(o, port, payload[8:])

    @staticmethod
    def _ethernet(f):
        """(EtherType, offset of the L3 header, VLAN tags [(TPID, TCI)])."""
        if len(f) < 14:
            raise Drop("drop_l2_truncated")
        etype, off, vlans = struct.unpack("!H", f[12:14])[0], 14, []
        while etype in (ETH_VLAN, ETH_QINQ):
            if len(vlans) == 2:
                raise Drop("drop_l2_vlan_depth")
            if len(f) < off + 4:
                raise Drop("drop_l2_truncated")
            vlans.append((etype, struct.unpack("!H", f[off:off + 2])[0]))
            etype = struct.unpack("!H", f[off + 2:off + 4])[0]
            off += 4
        return etype, off, vlans

    @staticmethod
    def _outer4(ip):
        if len(ip) < 20:
            raise Drop("drop_ip4_truncated")
        if ip[0] >> 4 != 4:
            raise Drop("drop_ip4_version")
        ihl = (ip[0] & 15) * 4
        if ihl < 20 or ihl > len(ip):
            raise Drop("drop_ip4_ihl")
        tot = struct.unpack("!H", ip[2:4])[0]
        if tot > len(ip) or tot < ihl:
            raise Drop("drop_ip4_len")
        if csum(ip[:ihl]) != 0:
            raise Drop("drop_ip4_cksum")
        if struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
            raise NotModelled("outer fragment")
        return (ipaddress.IPv4Address(ip[12:16]), ipaddress.IPv4Address(ip[16:20]),
                ip[9], ip[ihl:tot])

    @staticmethod
    def _outer6(ip):
        if len(ip) < 40:
            raise Drop("drop_ip6_truncated")
        if ip[0] >> 4 != 6:
            raise Drop("drop_ip6_version")
        plen = struct.unpack("!H", ip[4:6])[0]
        if 40 + plen > len(ip):
            raise Drop("drop_ip6_len")
        if ip[6] in IP6_EXT or ip[6] == IP6_FRAG:
            raise NotModelled("outer IPv6 extension header")
        return (ipaddress.IPv6Address(ip[8:24]), ipaddress.IPv6Address(ip[24:40]),
                ip[6], ip[40:40 + plen])

    # -- ICMP echo to a port address (RFC 792, RFC 4443 4.1; docs/
    # architecture.md "What edgesteer does as a router")
    def _host_icmp(self, o, port, f, off, vlans):
        ip = f[off:]
        if ip[0] >> 4 == 4:
            ihl, tot = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0]
            hdr, icmp = bytearray(ip[:ihl]), ip[ihl:tot]
            src, dst = ip[12:16], ip[16:20]
            request, reply, start = 8, 0, 0
        else:
            plen = struct.unpack("!H", ip[4:6])[0]
            hdr, icmp = bytearray(ip[:40]), ip[40:40 + plen]
            src, dst = ip[8:24], ip[24:40]
            request, reply = 128, 129
            start = pseudo_sum(ipaddress.ip_address(src), ipaddress.ip_address(dst), 58, len(icmp))
        if len(icmp) < 8:
            raise NotModelled("a short ICMP message to a port address")
        if icmp[0] != request or icmp[1] != 0:
            raise Drop("drop_host_other")
        if csum(icmp, start) != 0:
            raise Drop("drop_icmp_cksum")
        # the reply, in place: the addresses swapped, TTL / hop limit 64,
        # the rest of the header as it came; the checksum computed over
        # the whole message (so all zeros but the type give 0xffff)
        msg = bytes([reply, 0, 0, 0]) + icmp[4:]
        if ip[0] >> 4 == 4:
            c = csum(msg)
            hdr[8] = 64
            hdr[12:16], hdr[16:20] = dst, src
            hdr[10:12] = b"\0\0"
            hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
            et = ETH_IP4
        else:
            c = csum(msg, start)
            hdr[7] = 64
            hdr[8:24], hdr[24:40] = dst, src
            et = ETH_IP6
        msg = msg[:2] + struct.pack("!H", c) + msg[4:]
        smac = ":".join(f"{x:02x}" for x in f[6:12])
        o.send(port.name, ether(smac, port.mac, et, vlans) + bytes(hdr) + msg)
        o.count("icmp_echo_reply")

    # -- GTP-U (TS 29.281 section 5)
    def _gtpu(self, o, port, g):
        if len(g) < 8:
            raise Drop("drop_gtpu_truncated")
        flags, mtype, glen, teid = struct.unpack("!BBHI", g[:8])
        if flags >> 5 != 1 or not flags & 0x10:
            raise Drop("drop_gtpu_version")
        if glen > len(g) - 8:
            raise Drop("drop_gtpu_len")
        if glen < len(g) - 8:
            # bytes after the message: padding with 'set gtpu-padding 1'
            if not self.padding:
                raise Drop("drop_gtpu_len")
            o.count("gtpu_padding")
            g = g[:8 + glen]
        m = Gtpu()
        m.flags, m.mtype, m.teid, m.opt, m.exts, m.qfi = flags, mtype, teid, None, [], None
        off = 8
        if flags & 0x07:
            if len(g) < 12:
                raise Drop("drop_gtpu_truncated")
            m.opt = g[8:12]
            nxt, off = g[11] if flags & 0x04 else 0, 12
            while nxt:
                if off >= len(g):
                    raise Drop("drop_gtpu_ext_trunc")
                units = g[off]
                if units == 0:
                    raise Drop("drop_gtpu_ext_len0")
                end = off + 4 * units
                if end > len(g):
                    raise Drop("drop_gtpu_ext_trunc")
                if nxt == EXT_PSC:
                    if m.qfi is not None:
                        raise Drop("drop_gtpu_ext_bad")
                    if g[off + 1] >> 4 > 1:
                        raise Drop("drop_gtpu_ext_bad")
                    m.qfi = g[off + 2] & 0x3F
                elif nxt in EXT_FIXED:
                    if units != EXT_FIXED[nxt]:
                        raise Drop("drop_gtpu_ext_bad")
                elif nxt not in EXT_KNOWN and nxt & 0x80:
                    # an unknown type whose top bit says comprehension
                    # required (1x); 0x types are skipped
                    raise Drop("drop_gtpu_ext_required")
                m.exts.append((nxt, g[off:end]))
                nxt, off = g[end - 1], end
        if mtype == MSG_END_MARKER:
            self._end_marker(o, port, teid)
            return
        if mtype != MSG_GPDU:
            raise NotModelled(f"GTP-U message type {mtype}")
        m.tpdu = g[off:]
        if not m.tpdu:
            raise Drop("drop_gtpu_empty")
        inner = self._inner(o, m.tpdu, exact=True)
        if port.role == "access":
            s = self.by_ul.get(teid)
            if s is None:
                raise Drop("drop_gtpu_teid_unknown")
            self._uplink(o, port, s, m, inner)
        elif port.role == "core":
            s = self.by_n9.get(teid)
            if s is None:
                raise Drop("drop_gtpu_teid_unknown")
            self._dl_cloud(o, s, m.qfi, inner)

    def _end_marker(self, o, port, teid):
        if port.role == "access":
            raise Drop("gtpu_end_marker_rx")
        s = self.by_n9.get(teid)
        if s is None:
            raise Drop("drop_gtpu_teid_unknown")
        gtp = struct.pack("!BBHI", 0x30, MSG_END_MARKER, 0, s.gnb_teid)
        self._send_gtp(o, s.gnb, "access", gtp)
        o.count("gtpu_end_marker_relay")

    # -- the inner packet (the T-PDU, or the IP packet of a frame from an app)
    def _inner(self, o, b, exact):
        """exact: the packet must fill b (a T-PDU; with 'set gtpu-padding
        1' a longer T-PDU is padding); else b may be longer (Ethernet
        padding after a packet from an app)."""
        v = b[0] >> 4
        i = Inner()
        i.version, i.sport, i.dport, i.is_gtpu = v, 0, 0, False
        i.cksum_ok, i.later_frag = True, False
        if v == 4:
            if len(b) < 20:
                raise Drop("drop_inner_truncated")
            ihl = (b[0] & 15) * 4
            if ihl < 20:
                raise Drop("drop_inner_ihl")
            tot = struct.unpack("!H", b[2:4])[0]
            if tot < ihl or tot > len(b):
                raise Drop("drop_inner_len")
            if exact and tot != len(b):
                self._tpdu_padding(o)
            b = b[:tot]
            i.src = ipaddress.IPv4Address(b[12:16])
            i.dst = ipaddress.IPv4Address(b[16:20])
            i.proto, i.ttl, i.dscp = b[9], b[8], b[1] >> 2
            i.cksum_ok = csum(b[:ihl]) == 0
            frag = struct.unpack("!H", b[6:8])[0]
            i.later_frag = frag & 0x1FFF != 0
            l4 = b[ihl:] if not i.later_frag else None
        elif v == 6:
            if len(b) < 40:
                raise Drop("drop_inner_truncated")
            plen = struct.unpack("!H", b[4:6])[0]
            if 40 + plen > len(b):
                raise Drop("drop_inner_len")
            if exact and 40 + plen != len(b):
                self._tpdu_padding(o)
            b = b[:40 + plen]
            i.src = ipaddress.IPv6Address(b[8:24])
            i.dst = ipaddress.IPv6Address(b[24:40])
            i.ttl = b[7]
            i.dscp = (struct.unpack("!I", b[0:4])[0] >> 22) & 0x3F
            nh, off, l4 = b[6], 40, None
            first = True
            while True:
                if nh in IP6_EXT:
                    if off + 8 > len(b):
                        raise Drop("drop_inner_ip6_ext")
                    nh, off = b[off], off + 8 * (b[off + 1] + 1)
                    if off > len(b):
                        raise Drop("drop_inner_ip6_ext")
                elif nh == IP6_FRAG:
                    if off + 8 > len(b):
                        raise Drop("drop_inner_ip6_ext")
                    first = struct.unpack("!H", b[off + 2:off + 4])[0] >> 3 == 0
                    nh, off = b[off], off + 8
                else:
                    break
            i.proto = nh
            i.later_frag = not first
            l4 = b[off:] if first else None
        else:
            raise Drop("drop_inner_not_ip")
        i.raw, i.l4 = b, l4
        if l4 is not None:
            need = {6: 20, 17: 8, 132: 12, 1: 8, 58: 8}.get(i.proto)
            if need is not None:
                if len(l4) < need:
                    raise Drop("drop_inner_l4_trunc")
                if i.proto in (1, 58):
                    i.sport, i.dport = l4[0], l4[1]
                else:
                    i.sport, i.dport = struct.unpack("!HH", l4[:4])
                i.is_gtpu = i.proto == 17 and i.dport == GTPU_PORT
        return i

    def _tpdu_padding(self, o):
        """A T-PDU longer than its inner packet: padding with 'set
        gtpu-padding 1' (not forwarded), else drop_inner_len."""
        if not self.padding:
            raise Drop("drop_inner_len")
        o.count("gtpu_padding")

    # -- classification (docs/config.md "rule add")
    def _classify(self, direction, inner, qfi=None, teid=None):
        k = Key()
        k.dir, k.version = direction, inner.version
        k.src, k.dst = inner.src, inner.dst
        k.ue = inner.src if direction == "ul" else inner.dst
        k.proto, k.sport, k.dport = inner.proto, inner.sport, inner.dport
        if qfi is None and direction == "ul":
            qfi = QFI_WITHOUT_CONTAINER
        k.qfi, k.dscp, k.teid = qfi, inner.dscp, teid
        for r in self.rules[direction]:
            if r.matches(k):
                return r
        return None

    # -- uplink (BRIEF 4, docs/config.md actions)
    def _uplink(self, o, port, s, gtp, inner):
        if not s.owns_src(inner.src):
            raise Drop("drop_ue_spoof")
        r = self._classify("ul", inner, qfi=gtp.qfi, teid=s.ul_teid)
        o.rule = r
        if r is None:
            self._ul_cloud(o, s, gtp, inner)
            return
        action, app = r.action, r.app
        if action == "mirror":
            m = self.cfg.apps[r.app]
            if m.up:
                self._mirror_copy(o, m, inner)
            action, app = r.then or "forward", r.then_app
        if action == "local":
            a = self.cfg.apps[app]
            if a.up:
                self._to_app(o, port, s, a, inner)
            elif r.fallback == "drop":
                o.count("ul_fallback")
                raise Drop("drop_app_down")
            else:
                o.count("ul_fallback")
                self._ul_cloud(o, s, gtp, inner)
        elif action in ("cloud", "forward"):
            self._ul_cloud(o, s, gtp, inner)
        elif action == "drop":
            raise Drop("drop_rule")
        else:
            raise AssertionError(action)

    @staticmethod
    def _not_routable(inner):
        """Why an uplink inner packet may not be routed to an app, or None
        (docs/architecture.md, "What edgesteer does as a router"): a bad
        IPv4 header checksum (RFC 1812 5.2.2), IPv6 link scope (RFC 4291
        2.5.6, 2.7), GTP-U inside (BRIEF 4: never decapsulated twice)."""
        if inner.version == 4 and not inner.cksum_ok:
            return "drop_inner_ip4_cksum"
        if inner.version == 6 and link_scope6(inner.src, inner.dst):
            return "drop_ip6_link_scope"
        if inner.is_gtpu:
            return "drop_gtp_in_gtp"
        return None

    def _to_app(self, o, port, s, app, inner):
        """The inner packet routed to an app (RFC 1812 5.2.1.2: the TTL is
        decremented and checked before the packet meets the link's MTU):
        TTL / hop limit - 1, Ethernet from the local port to the app's next
        hop; a TTL that expires sends a Time Exceeded back to the UE."""
        why = self._not_routable(inner)
        if why:
            raise Drop(why)
        lport, mac = self.peer(app.via, "local")
        if inner.ttl <= 1:
            self._time_exceeded_ul(o, port, s, inner, lport)
            raise Drop("drop_ttl_expired")
        if len(inner.raw) > lport.mtu:
            raise Drop("drop_mtu")
        et = ETH_IP4 if inner.version == 4 else ETH_IP6
        o.send(lport.name, ether(mac, lport.mac, et) + routed(inner.raw))
        o.count("ul_local")

    def _mirror_copy(self, o, app, inner):
        """A mirror copy is routed like a local packet; one that could not
        be is not made (mirror_not_routed, no ICMP error for a copy)."""
        lport, mac = self.peer(app.via, "local")
        if self._not_routable(inner) or inner.ttl <= 1 or len(inner.raw) > lport.mtu:
            o.count("mirror_not_routed")
            return
        et = ETH_IP4 if inner.version == 4 else ETH_IP6
        o.send(lport.name, ether(mac, lport.mac, et) + routed(inner.raw))
        o.count("mirror")

    def _icmp_error_allowed(self, o, inner, src):
        """Whether a Time Exceeded about inner may be sent (counting why
        not): not about what RFC 1812 4.3.2.7 / RFC 4443 2.4(e) exclude,
        nor without a source address; 'icmp-rate 0' sends none."""
        if src is None or no_error_about(inner):
            o.count("icmp_err_suppressed")
            return False
        if self.icmp_rate == 0:
            return False
        if self.icmp_rate < ICMP_RATE_UNLIMITED:
            raise NotModelled("an icmp-rate that may limit")
        return True

    def _time_exceeded_ul(self, o, port, s, inner, lport):
        """Back to the UE through its gNB tunnel (a G-PDU with a DL PDU
        Session Container and the session's QFI), from the N3 port's
        address of the family (the app port's when it has none), quoting
        as much of the packet as received as fits in 576 / 1280 bytes and,
        tunnelled, in the N3 port's MTU."""
        src = port.source(inner.version) or lport.source(inner.version)
        if not self._icmp_error_allowed(o, inner, src):
            return
        gport, _ = self.peer(s.gnb, "access")
        room = gport.mtu - (20 if s.gnb.version == 4 else 40) - 8 - 16
        limit = min(576 if inner.version == 4 else 1280, room)
        msg = time_exceeded(src, inner.src, inner.raw, limit)
        self._send_gtp(o, s.gnb, "access", gtpu_gpdu(s.gnb_teid, msg, qfi=s.qfi, pdu_type=0))
        o.count("icmp_time_exceeded_tx")

    def _ul_cloud(self, o, s, gtp, inner):
        """The G-PDU relayed to the session's cloud F-TEID: the message as
        it came (flags, optional fields, extension headers, T-PDU) with the
        cloud TEID, under a new outer header to the central UPF; extension
        headers of type 01xxxxxx removed (TS 29.281 5.2.1), T-PDU padding
        not forwarded, the Length set to what remains."""
        if s.cloud is None:
            raise Drop("drop_no_cloud_fteid")
        kept = [e for e in gtp.exts if e[0] & 0xC0 != 0x40]
        if len(kept) < len(gtp.exts):
            o.count("gtpu_ext_stripped", len(gtp.exts) - len(kept))
        body = b""
        if gtp.opt is not None:
            first = (kept[0][0] if kept else 0) if gtp.flags & 0x04 else gtp.opt[3]
            body = gtp.opt[:3] + bytes([first])
            for k, (_, e) in enumerate(kept):
                body += e[:-1] + bytes([kept[k + 1][0] if k + 1 < len(kept) else 0])
        body += inner.raw
        msg = struct.pack("!BBHI", gtp.flags, gtp.mtype, len(body), s.cloud_teid) + body
        self._send_gtp(o, s.cloud, "core", msg)
        o.count("ul_cloud")

    # -- downlink
    def _from_app(self, o, port, f, off, vlans):
        ip = f[off:]
        if not ip:
            raise Drop("drop_inner_truncated")
        v = ip[0] >> 4
        if v == 4 and len(ip) >= 20:
            # the packet's only IPv4 header: checked by the outer parse
            ihl = (ip[0] & 15) * 4
            if ihl >= 20 and len(ip) >= ihl and csum(ip[:ihl]) != 0:
                raise Drop("drop_ip4_cksum")
        to_us = ((v == 4 and len(ip) >= 20 and port.owns(ipaddress.IPv4Address(ip[16:20]))) or
                 (v == 6 and len(ip) >= 40 and port.owns(ipaddress.IPv6Address(ip[24:40]))))
        if to_us:
            if (v == 4 and ip[9] == 1) or (v == 6 and ip[6] == 58):
                self._host_icmp(o, port, f, off, vlans)
                return
            raise NotModelled("host traffic on a local port")
        inner = self._inner(o, ip, exact=False)
        s = self._session_of_ue(inner.dst)
        if s is None:
            raise Drop("drop_dl_no_session")
        r = self._classify("dl", inner)
        o.rule = r
        if r is not None and r.action == "drop":
            raise Drop("drop_rule")
        if inner.version == 6 and inner.src in LINK_LOCAL6:
            # routed off its link (RFC 4291 2.5.6)
            raise Drop("drop_ip6_link_scope")
        if inner.ttl <= 1:
            self._time_exceeded_dl(o, port, f, inner)
            raise Drop("drop_ttl_expired")
        tpdu = routed(inner.raw)
        self._send_gtp(o, s.gnb, "access", gtpu_gpdu(s.gnb_teid, tpdu, qfi=s.qfi, pdu_type=0))
        o.count("dl_encap")

    def _time_exceeded_dl(self, o, port, f, inner):
        """Back to the app that sent it: on the local port it came from, to
        the MAC it came from, from that port's address of the family."""
        src = port.source(inner.version)
        if not self._icmp_error_allowed(o, inner, src):
            return
        msg = time_exceeded(src, inner.src, inner.raw, 576 if inner.version == 4 else 1280)
        smac = ":".join(f"{x:02x}" for x in f[6:12])
        et = ETH_IP4 if inner.version == 4 else ETH_IP6
        o.send(port.name, ether(smac, port.mac, et) + msg)
        o.count("icmp_time_exceeded_tx")

    def _session_of_ue(self, dst):
        if dst.version == 4:
            return self.by_ue4.get(dst)
        return self.by_ue6.get(ipaddress.IPv6Network((int(dst) >> 64 << 64, 64)))

    def _dl_cloud(self, o, s, qfi, inner):
        """A GTP-U relay, not a routed hop: the inner packet goes on as it
        came (its TTL and header unchecked), T-PDU padding excepted."""
        r = self._classify("dl", inner)
        o.rule = r
        if r is not None and r.action == "drop":
            raise Drop("drop_rule")
        q = s.qfi if qfi is None else qfi
        self._send_gtp(o, s.gnb, "access", gtpu_gpdu(s.gnb_teid, inner.raw, qfi=q, pdu_type=0))
        o.count("dl_relay")

    # -- outer headers
    def _outer_to(self, peer, role, msg):
        port, mac = self.peer(peer, role)
        src = port.source(peer.version)
        if peer.version == 4:
            u = udp(src, peer, GTPU_PORT, GTPU_PORT, msg, zero_csum=True)
            ip = ip4_header(src, peer, 17, len(u)) + u
            et = ETH_IP4
        else:
            u = udp(src, peer, GTPU_PORT, GTPU_PORT, msg)
            ip = ip6_header(src, peer, 17, len(u)) + u
            et = ETH_IP6
        return port.name, ether(mac, port.mac, et) + ip, len(ip), port.mtu

    def _send_gtp(self, o, peer, role, msg):
        name, frame, iplen, mtu = self._outer_to(peer, role, msg)
        if iplen > mtu:
            raise Drop("drop_mtu")
        o.send(name, frame)


def routed(pkt):
    """An IP packet as a router forwards it: TTL / hop limit - 1 (and the
    IPv4 header checksum recomputed)."""
    b = bytearray(pkt)
    if b[0] >> 4 == 4:
        ihl = (b[0] & 15) * 4
        b[8] -= 1
        b[10:12] = b"\0\0"
        b[10:12] = struct.pack("!H", csum(bytes(b[:ihl])))
    else:
        b[7] -= 1
    return bytes(b)
