"""An independent model of what edgesteer does with one frame.

Written from the documentation (docs/config.md, docs/control.md,
docs/architecture.md, docs/counters.md, ../shared/BRIEF.md sections 4-5)
and the protocol specifications (RFC 791, RFC 8200, RFC 768, TS 29.281,
TS 38.415), not from the C sources. Where the documentation was silent
the existing end-to-end tests (test_paths.py, test_malformed.py) gave the
intended behaviour, or the binary's behaviour was checked and then
documented; each such point is listed below and in docs/reliability.md
("Differential test").

Given a configuration (ports, neighbours, apps, sessions, rules) and one
frame received on one port, Model.predict() returns the frames sent (port
and exact bytes) and the counters raised. The headers of what is sent are
built here byte by byte, the way the specifications lay them out;
tests/e2e/test_differential.py checks a sample of them against scapy,
an encoder nobody here wrote.

The model covers the packet paths of BRIEF section 4 that carry traffic:
uplink G-PDUs (local, cloud, forward, drop, mirror, fallback), downlink
from apps, downlink and End Markers from the cloud, End Markers from a
gNB, unknown TEIDs, anti-spoofing, MTU, and the drop counters of the
malformed outer, GTP-U and inner headers it parses. Host traffic (ARP,
ICMP echo to a port, GTP-U echo), fragments of the outer packet, outer
IPv6 extension headers, extension headers whose type is not 00xxxxxx
(other than the container), inner TTL expiry and Error Indications are
outside it (Model.predict raises NotModelled): other suites cover them,
and the differential test runs with errind-rate 0.
"""
import ipaddress
import struct

# ---- behaviours of edgesteer that changed or are changing -----------------
# The generator avoids the cases below unless the switch is on; the model
# follows the documented new behaviour when it is on. Turn a switch on (set
# it here, or ES_DIFF_NEW=name,name in the environment of the test) once the
# change is merged.
NEW = {
    # drop_gtp_in_gtp only where the inner packet would be decapsulated
    # (local, mirror copies); relayed GTP-in-GTP goes on as any payload
    "gtp_in_gtp_only_decap": False,
    # an uplink inner IPv6 source in fe80::/10 is accepted as the UE's
    "ue6_link_local": False,
}

# ---- points where the documentation was silent -----------------------------
# The model's choice at each, checked against the binary and now written in
# docs/config.md (rule match words, "What the paths do with the GTP-U
# message"); docs/reliability.md lists them. Only QFI_WITHOUT_CONTAINER is
# a value; the others are where the code below says so.
#  - a G-PDU without a PDU Session Container matches 'qfi 0'
#  - uplink without a container is relayed to the cloud without one
#  - an inner packet without ports (another protocol, a later fragment)
#    has ports 0
#  - a fallback to the cloud counts ul_fallback and ul_cloud
#  - downlink from the cloud is not checked against the session's UE
#  - an End Marker from the cloud for an unknown N9 TEID counts
#    drop_gtpu_teid_unknown
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
        if NEW["ue6_link_local"] and addr in LINK_LOCAL6:
            return True
        return addr in self.ue6

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


LINK_LOCAL6 = net("fe80::/10")


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
                 "dscp", "ttl", "is_gtpu")


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
        etype, off = self._ethernet(f)
        if etype not in (ETH_IP4, ETH_IP6):
            raise NotModelled(f"ethertype {etype:#x}")
        if port.role == "local":
            self._from_app(o, port, f, off)
            return
        ip = f[off:]
        if etype == ETH_IP4:
            src, dst, proto, payload = self._outer4(ip)
        else:
            src, dst, proto, payload = self._outer6(ip)
        if not port.owns(dst):
            raise Drop("drop_dst_not_local")
        if proto != 17:
            raise NotModelled("host traffic")
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
        if len(f) < 14:
            raise Drop("drop_l2_truncated")
        etype, off, tags = struct.unpack("!H", f[12:14])[0], 14, 0
        while etype in (ETH_VLAN, ETH_QINQ):
            tags += 1
            if tags > 2:
                raise Drop("drop_l2_vlan_depth")
            if len(f) < off + 4:
                raise Drop("drop_l2_truncated")
            etype = struct.unpack("!H", f[off + 2:off + 4])[0]
            off += 4
        return etype, off

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
        if ip[6] != 17:
            raise NotModelled("outer IPv6 extension header")
        return (ipaddress.IPv6Address(ip[8:24]), ipaddress.IPv6Address(ip[24:40]),
                17, ip[40:40 + plen])

    # -- GTP-U (TS 29.281 section 5)
    def _gtpu(self, o, port, g):
        if len(g) < 8:
            raise Drop("drop_gtpu_truncated")
        flags, mtype, glen, teid = struct.unpack("!BBHI", g[:8])
        if flags >> 5 != 1 or not flags & 0x10:
            raise Drop("drop_gtpu_version")
        if glen != len(g) - 8:
            raise Drop("drop_gtpu_len")
        off, qfi, pdu_type = 8, None, None
        if flags & 0x07:
            if len(g) < 12:
                raise Drop("drop_gtpu_truncated")
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
                    if qfi is not None:
                        raise Drop("drop_gtpu_ext_bad")
                    pdu_type = g[off + 1] >> 4
                    if pdu_type > 1:
                        raise Drop("drop_gtpu_ext_bad")
                    qfi = g[off + 2] & 0x3F
                elif nxt & 0xC0 == 0x80 or nxt & 0xC0 == 0xC0:
                    raise NotModelled(f"extension header {nxt:#x}")
                elif nxt & 0xC0 == 0x40:
                    raise NotModelled(f"extension header {nxt:#x} (01: changing)")
                nxt, off = g[end - 1], end
        if mtype == MSG_END_MARKER:
            self._end_marker(o, port, teid)
            return
        if mtype != MSG_GPDU:
            raise NotModelled(f"GTP-U message type {mtype}")
        tpdu = g[off:]
        if not tpdu:
            raise Drop("drop_gtpu_empty")
        inner = self._inner(tpdu, exact=True)
        if port.role == "access":
            s = self.by_ul.get(teid)
            if s is None:
                raise Drop("drop_gtpu_teid_unknown")
            self._uplink(o, s, g, qfi, inner)
        elif port.role == "core":
            s = self.by_n9.get(teid)
            if s is None:
                raise Drop("drop_gtpu_teid_unknown")
            self._dl_cloud(o, s, qfi, inner)

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
    def _inner(self, b, exact):
        """exact: the packet must fill b (a T-PDU); else b may be longer
        (Ethernet padding after a packet from an app)."""
        v = b[0] >> 4
        i = Inner()
        i.version, i.sport, i.dport, i.is_gtpu = v, 0, 0, False
        if v == 4:
            if len(b) < 20:
                raise Drop("drop_inner_truncated")
            ihl = (b[0] & 15) * 4
            if ihl < 20:
                raise Drop("drop_inner_ihl")
            tot = struct.unpack("!H", b[2:4])[0]
            if tot < ihl or tot > len(b) or (exact and tot != len(b)):
                raise Drop("drop_inner_len")
            b = b[:tot]
            i.src = ipaddress.IPv4Address(b[12:16])
            i.dst = ipaddress.IPv4Address(b[16:20])
            i.proto, i.ttl, i.dscp = b[9], b[8], b[1] >> 2
            frag = struct.unpack("!H", b[6:8])[0]
            l4 = b[ihl:] if frag & 0x1FFF == 0 else None
        elif v == 6:
            if len(b) < 40:
                raise Drop("drop_inner_truncated")
            plen = struct.unpack("!H", b[4:6])[0]
            if 40 + plen > len(b) or (exact and 40 + plen != len(b)):
                raise Drop("drop_inner_len")
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
            l4 = b[off:] if first else None
        else:
            raise Drop("drop_inner_not_ip")
        i.raw = b
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
    def _uplink(self, o, s, gtp, qfi, inner):
        if not s.owns_src(inner.src):
            raise Drop("drop_ue_spoof")
        if inner.is_gtpu and not NEW["gtp_in_gtp_only_decap"]:
            raise Drop("drop_gtp_in_gtp")
        r = self._classify("ul", inner, qfi=qfi, teid=s.ul_teid)
        o.rule = r
        if r is None:
            self._ul_cloud(o, s, gtp)
            return
        action, app = r.action, r.app
        if action == "mirror":
            m = self.cfg.apps[r.app]
            if m.up:
                self._decap_to(o, m, inner, counter="mirror")
            action, app = r.then or "forward", r.then_app
        if action == "local":
            a = self.cfg.apps[app]
            if a.up:
                self._decap_to(o, a, inner, counter="ul_local")
            elif r.fallback == "drop":
                o.count("ul_fallback")
                raise Drop("drop_app_down")
            else:
                o.count("ul_fallback")
                self._ul_cloud(o, s, gtp)
        elif action in ("cloud", "forward"):
            self._ul_cloud(o, s, gtp)
        elif action == "drop":
            raise Drop("drop_rule")
        else:
            raise AssertionError(action)

    def _decap_to(self, o, app, inner, counter):
        """The inner packet routed to an app: TTL/hop limit - 1, Ethernet
        from the local port to the app's next hop."""
        if inner.is_gtpu:
            raise Drop("drop_gtp_in_gtp")
        if inner.ttl <= 1:
            raise NotModelled("inner TTL expiry (changing)")
        port, mac = self.peer(app.via, "local")
        pkt = routed(inner.raw)
        et = ETH_IP4 if inner.version == 4 else ETH_IP6
        o.send(port.name, ether(mac, port.mac, et) + pkt)
        o.count(counter)

    def _ul_cloud(self, o, s, gtp):
        """The G-PDU relayed to the session's cloud F-TEID: the message as
        it came (flags, optional fields, extension headers, T-PDU) with the
        cloud TEID, under a new outer header to the central UPF."""
        if s.cloud is None:
            raise Drop("drop_no_cloud_fteid")
        msg = gtp[:4] + struct.pack("!I", s.cloud_teid) + gtp[8:]
        self._send_gtp(o, s.cloud, "core", msg)
        o.count("ul_cloud")

    # -- downlink
    def _from_app(self, o, port, f, off):
        ip = f[off:]
        if not ip:
            raise Drop("drop_inner_truncated")
        v = ip[0] >> 4
        if v == 4 and len(ip) >= 20 and port.owns(ipaddress.IPv4Address(ip[16:20])):
            raise NotModelled("host traffic on a local port")
        if v == 6 and len(ip) >= 40 and port.owns(ipaddress.IPv6Address(ip[24:40])):
            raise NotModelled("host traffic on a local port")
        inner = self._inner(ip, exact=False)
        s = self._session_of_ue(inner.dst)
        if s is None:
            raise Drop("drop_dl_no_session")
        r = self._classify("dl", inner)
        o.rule = r
        if r is not None and r.action == "drop":
            raise Drop("drop_rule")
        if inner.ttl <= 1:
            raise NotModelled("inner TTL expiry (changing)")
        tpdu = routed(inner.raw)
        self._send_gtp(o, s.gnb, "access", gtpu_gpdu(s.gnb_teid, tpdu, qfi=s.qfi, pdu_type=0))
        o.count("dl_encap")

    def _session_of_ue(self, dst):
        if dst.version == 4:
            return self.by_ue4.get(dst)
        return self.by_ue6.get(ipaddress.IPv6Network((int(dst) >> 64 << 64, 64)))

    def _dl_cloud(self, o, s, qfi, inner):
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
