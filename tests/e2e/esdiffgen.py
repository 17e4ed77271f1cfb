"""Random, reproducible scenarios for the differential test
(test_differential.py): a configuration (sessions, rules, apps up and down)
on the standard test topology of esharness.py, and packets biased to hit
the rules and their edges. Everything comes from random.Random(seed): the
same seed gives the same bytes.

Every packet that carries an inner IP packet has a tag at the start of its
L4 payload (TAG_MAGIC + the packet's index): it survives decapsulation,
relay and encapsulation, and the quote of an ICMP error, so an output
frame names its input. So does an echo request's data (but for the
empty echo of id 0 and sequence 0, whose reply is compared as End
Markers are, by its bytes).
"""
import ipaddress
import random
import struct

import esmodel as m
from esharness import (APP_4, APP_6, GNB2_4, GNB_4, GNB_6, LAN_4, LAN_6,
                       MAC_APP, MAC_GNB, MAC_GNB2, MAC_LAN, MAC_MIRROR,
                       MAC_N3, MAC_N9, MAC_UPF, MIRROR_4, N3_4, N3_6, N9_4,
                       N9_6, UPF_4, UPF_6)

TAG_MAGIC = b"\xd1\xffES"

# more peers than esharness.BASE_CONFIG: a second IPv6 gNB, a second UPF,
# two more app hosts; and peers off the ports' subnets, reached through a
# gateway (a gNB, an IPv6 UPF, an app host)
GNB2_6, UPF2_4, APP2_4, APP2_6 = "2001:db8:3::11", "198.51.100.8", "10.100.0.22", "2001:db8:a::21"
GNB3_4, UPF3_6, APP3_4 = "203.0.113.77", "2001:db8:99::7", "10.99.0.5"
GW3_4, GW9_6, GWLAN_4 = "192.0.2.254", "2001:db8:9::fe", "10.100.0.254"
MAC_UPF2, MAC_APP2 = "02:00:00:00:00:08", "02:00:00:00:00:22"
MAC_GW3, MAC_GW9, MAC_GWLAN = "02:00:00:00:03:fe", "02:00:00:00:09:fe", "02:00:00:00:0a:fe"
GNB_MAC = {GNB_4: MAC_GNB, GNB2_4: MAC_GNB2, GNB_6: MAC_GNB, GNB2_6: MAC_GNB2, GNB3_4: MAC_GW3}
APP_HOSTS = {APP_4: MAC_APP, APP_6: MAC_APP, MIRROR_4: MAC_MIRROR,
             APP2_4: MAC_APP2, APP2_6: MAC_MIRROR, APP3_4: MAC_GWLAN}
NEIGHS = ([(a, mac, "n3") for a, mac in GNB_MAC.items() if a != GNB3_4] +
          [(GW3_4, MAC_GW3, "n3")] +
          [(UPF_4, MAC_UPF, "n9"), (UPF_6, MAC_UPF, "n9"), (UPF2_4, MAC_UPF2, "n9"),
           (GW9_6, MAC_GW9, "n9")] +
          [(a, mac, "lan") for a, mac in APP_HOSTS.items() if a != APP3_4] +
          [(GWLAN_4, MAC_GWLAN, "lan")])

REMOTE4 = ["10.200.0.0/16", "10.200.7.0/24", "10.200.7.128/25", "10.200.7.5/32",
           "10.201.0.0/16", "10.0.0.0/8", "203.0.113.0/24", "8.8.8.0/24",
           "0.0.0.0/0", "10.192.0.0/12", "10.200.0.0/15", "198.18.0.0/15"]
REMOTE6 = ["2001:db8:200::/48", "2001:db8:200:7::/64", "2001:db8:200:7::5/128",
           "2001:db8::/32", "2001:db8:200::/40", "::/0", "2001:db9::/32",
           "2001:db8:201::/48", "64:ff9b::/96", "ff00::/8", "fe80::/10"]
# IPv6 destinations of link scope (RFC 4291 2.5.6, 2.7: the scope is the
# low four bits of the second octet, whatever the flags) and just beyond it
LINK_SCOPE6 = ["fe80::1", "fe80::5:4:3:2", "febf:ffff::1", "ff02::1", "ff02::1:ff00:5",
               "ff01::2", "ff00::9", "ff12::1:3", "ff32::8", "ff05::1:3", "ff0e::101",
               "ff13::1", "fec0::1"]
UE4_NETS = ["10.45.0.0/16", "10.45.1.0/24", "10.46.0.0/16", "10.0.0.0/8"]
UE6_NETS = ["2001:db8:45::/48", "2001:db8::/32", "2001:db8:46::/48"]
PORT_EDGES = [0, 1, 53, 80, 443, 1000, 1023, 1024, 2000, 4000, 4999, 5000,
              5010, 8080, 32768, 65534, 65535]
ICMP_TYPES4, ICMP_TYPES6, ICMP_CODES = [0, 3, 8, 11, 13], [1, 128, 129, 135, 143], [0, 1, 3, 4]
DSCPS = [0, 10, 18, 34, 46, 63]
OTHER_PROTOS = [47, 50, 89, 103, 255]


def _rand_in(r, n):
    """A random address in network n (its edges more often)."""
    size = n.num_addresses
    x = r.random()
    if x < 0.15:
        off = 0
    elif x < 0.3:
        off = size - 1
    else:
        off = r.randrange(size)
    return n.network_address + off


def _outside(n):
    """An address just outside n (or None for /0)."""
    if n.prefixlen == 0:
        return None
    lo, hi = int(n.network_address), int(n.broadcast_address)
    top = (1 << n.max_prefixlen) - 1
    a = lo - 1 if lo > 0 else hi + 1
    if a > top:
        return None
    return ipaddress.ip_address(a) if n.version == 4 else ipaddress.IPv6Address(a)


def _narrowest(nets):
    """The narrowest of nested networks, or None when two are disjoint."""
    best = None
    for n in nets:
        if n is None:
            continue
        if best is None:
            best = n
        elif n.subnet_of(best):
            best = n
        elif not best.subnet_of(n):
            return None
    return best


class Packet:
    __slots__ = ("idx", "port", "frame", "kind")

    def __init__(self, idx, port, frame, kind):
        self.idx, self.port, self.frame, self.kind = idx, port, frame, kind


class Scenario:
    def __init__(self, seed, cfg, packets):
        self.seed, self.cfg, self.packets = seed, cfg, packets
        self.model = m.Model(cfg)
        self.state = None
        self.workers = 1


def scenario(seed, n_packets, replay=False):
    """One scenario: configuration and n_packets packets. With replay, its
    apps, sessions and rules come from a saved state (scenario.state:
    snapshot and journal texts) that reaches them through run-time
    changes; the config's own are then not applied."""
    return Gen(seed).scenario(n_packets, replay)


class Gen:
    def __init__(self, seed):
        self.seed = seed
        self.r = random.Random(seed)

    # ---- configuration ------------------------------------------------------
    def scenario(self, n_packets, replay=False):
        r = self.r
        mtu3 = r.choice([1500, 1500, 1500, 1400, 1280, 9000])
        mtu9 = r.choice([1500, 1500, 1500, 1400, 9000])
        mtul = r.choice([1500, 1500, 1400, 1280, 9000])
        ports = [m.Port("n3", "net_pcap0", "access", [f"{N3_4}/24", f"{N3_6}/64"], MAC_N3, mtu3,
                        gw=GW3_4),
                 m.Port("n9", "net_pcap1", "core", [f"{N9_4}/24", f"{N9_6}/64"], MAC_N9, mtu9,
                        gw6=GW9_6),
                 m.Port("lan", "net_pcap2", "local", [f"{LAN_4}/24", f"{LAN_6}/64"], MAC_LAN,
                        mtul, gw=GWLAN_4)]
        self.apps = [m.App(f"app{i}", r.choice(list(APP_HOSTS)), up=r.random() < 0.7)
                     for i in range(r.randint(3, 7))]
        self.apps[0].up = True
        self.sessions = self._sessions(r.randint(24, 160))
        self.rules = self._rules(r.randint(12, 160))
        # icmp-rate 0 (none sent) or too large to limit; gtpu-padding 1
        # or not: by the seed, so that seeds 1-4 (make test) have both
        # (padding: 1, 3, 4; icmp-rate 0: 2) and longer runs meet every
        # combination with replay and three workers
        mix = self.seed + self.seed // 4
        self.padding = mix % 2 == 1
        settings = [("sessions-max", 4096), ("rules-max", 1024), ("mbufs", 4095),
                    ("errind-rate", 0),
                    ("icmp-rate", 0 if mix % 4 == 2 else m.ICMP_RATE_UNLIMITED)]
        if self.padding:
            settings.append(("gtpu-padding", 1))
        cfg = m.Config(ports, NEIGHS, self.apps, self.sessions, self.rules, settings)
        self.model = m.Model(cfg)
        self.ul_rules = [x for x in self.rules if x.dir == "ul"]
        self.dl_rules = [x for x in self.rules if x.dir == "dl"]
        pk = [self._packet(i) for i in range(n_packets)]
        sc = Scenario(self.seed, cfg, pk)
        sc.model = self.model
        if replay:
            sc.state = self._journal()
        return sc

    def _teid(self, used):
        r = self.r
        while True:
            x = r.random()
            if x < 0.1:
                t = r.choice([1, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0x100, 0xFFFF, 0x10000])
            elif x < 0.5:
                t = 0x100 + r.randrange(4096)
            else:
                t = r.randrange(1, 1 << 32)
            if t not in used:
                used.add(t)
                return t

    def _sessions(self, n):
        r = self.r
        ul, n9, ue4, ue6, out = set(), set(), set(), set(), []
        for sid in range(n):
            kind = r.choices(["v4", "v6", "both"], [5, 3, 2])[0]
            ue = u6 = None
            if kind in ("v4", "both"):
                while True:
                    ue = ipaddress.IPv4Address(r.choice([
                        f"10.45.{r.randrange(4)}.{r.randrange(1, 255)}",
                        f"10.46.0.{r.randrange(1, 255)}"]))
                    if ue not in ue4:
                        ue4.add(ue)
                        break
            if kind in ("v6", "both"):
                while True:
                    u6 = ipaddress.IPv6Network((int(ipaddress.IPv6Address(
                        r.choice(["2001:db8:45::", "2001:db8:46::"]))) | (r.randrange(1 << 16) << 64), 64))
                    if u6 not in ue6:
                        ue6.add(u6)
                        break
            t = self._teid(ul)
            n9t = None
            if r.random() < 0.75:
                if out and r.random() < 0.25:
                    # the same value as another session's uplink TEID: the
                    # two namespaces are apart (port roles)
                    cand = r.choice(out).ul_teid
                    if cand not in n9:
                        n9t = cand
                        n9.add(cand)
                if n9t is None:
                    n9t = self._teid(n9)
            cloud = r.choices([UPF_4, UPF2_4, UPF_6, UPF3_6, None], [5, 2, 2, 1, 1])[0]
            s = m.Session(sid * r.choice([1, 7, 1000003]) + r.choice([0, 0, 1 << 31]),
                          t, r.choice(list(GNB_MAC)), self._teid(set()),
                          ue=str(ue) if ue else None, ue6=str(u6) if u6 else None,
                          cloud=cloud, cloud_teid=self._teid(set()) if cloud else None,
                          n9_teid=n9t, qfi=r.randrange(64))
            out.append(s)
        ids = set()
        for s in out:           # ids unique
            while s.sid in ids or s.sid > 0xFFFFFFFF:
                s.sid = r.randrange(1 << 32)
            ids.add(s.sid)
        return out

    def _ue_prefix(self, version):
        r = self.r
        ss = [s for s in self.sessions if (s.ue if version == 4 else s.ue6)]
        if version == 4:
            if ss and r.random() < 0.6:
                ue = r.choice(ss).ue
                plen = r.choice([32, 32, 30, 24, 16])
                return ipaddress.IPv4Network((int(ue) >> (32 - plen) << (32 - plen), plen))
            return m.net(r.choice(UE4_NETS))
        if ss and r.random() < 0.6:
            # an IPv6 'ue' is at most /64 (a longer one is refused:
            # docs/config.md)
            p = r.choice(ss).ue6
            plen = r.choice([64, 64, 56, 48])
            return ipaddress.IPv6Network((int(p.network_address) >> (128 - plen) << (128 - plen), plen))
        return m.net(r.choice(UE6_NETS))

    def _range(self, proto):
        r = self.r
        if proto in (1, 58):
            vals = (ICMP_TYPES4 if proto == 1 else ICMP_TYPES6) + ICMP_CODES
        else:
            vals = PORT_EDGES
        a, b = r.choice(vals), r.choice(vals)
        if r.random() < 0.4:
            return (a, a)
        return (min(a, b), max(a, b))

    def _prios(self, n, avoid=()):
        r = self.r
        prios = set()
        while len(prios) < n:
            x = r.random()
            p = (r.randrange(200) if x < 0.6 else
                 r.choice([0, 536870910]) if x < 0.65 else r.randrange(536870911))
            if p not in avoid:
                prios.add(p)
        return sorted(prios)

    def _rules(self, n):
        r = self.r
        prios = self._prios(n)
        out = [self._one_rule(prio) for prio in prios]
        # the narrower rules first, mostly: a broad rule in front of
        # everything would decide nearly every packet (and leave the rules
        # behind it untested); some broad ones still go early
        keyed = sorted(out, key=lambda x: -_narrowness(x) + r.gauss(0, 6))
        for x, prio in zip(keyed, prios):
            x.prio = prio
        return sorted(keyed, key=lambda x: x.prio)

    def _one_rule(self, prio):
        r = self.r
        app_names = [a.name for a in self.apps]
        d = "dl" if r.random() < 0.25 else "ul"
        fam = r.choices([None, 4, 6], [3, 5, 3])[0]
        kw = {"dir": d}
        if fam:
            remote = REMOTE4 if fam == 4 else REMOTE6
            if r.random() < 0.35:
                kw["ue"] = self._ue_prefix(fam)
            ue_side, far_side = ("src", "dst") if d == "ul" else ("dst", "src")
            if r.random() < 0.2:
                ue_side, far_side = far_side, ue_side
            if r.random() < 0.7:
                kw[far_side] = m.net(r.choice(remote))
            if r.random() < 0.2:
                kw[ue_side] = self._ue_prefix(fam)
            if not any(k in kw for k in ("ue", "src", "dst")):
                kw["dst" if d == "ul" else "src"] = m.net(r.choice(remote))
        if r.random() < 0.6:
            choices = [6, 17, 132, 47]
            choices += [1] if fam != 6 else []
            choices += [58] if fam != 4 else []
            kw["proto"] = r.choice(choices)
        proto = kw.get("proto")
        if proto not in (47,) and r.random() < (0.6 if proto else 0.3):
            if r.random() < 0.7:
                kw["dport"] = self._range(proto)
            if r.random() < 0.3:
                kw["sport"] = self._range(proto)
            if proto is None and r.random() < 0.4:
                # from 0: packets without ports (0) match it too
                k = "dport" if "dport" in kw else "sport"
                kw[k] = (0, kw.get(k, (0, 1000))[1])
        if d == "ul":
            if r.random() < 0.15:
                qs = [s.qfi for s in self.sessions]
                kw["qfi"] = r.choice(qs + [0, 1, 5, 9, 63])
            if r.random() < 0.12:
                kw["teid"] = r.choice(self.sessions).ul_teid
        if r.random() < 0.12:
            kw["dscp"] = r.choice(DSCPS)
        if d == "dl":
            kw["action"] = r.choice(["forward", "drop", "drop"])
        else:
            act = r.choices(["local", "cloud", "forward", "drop", "mirror"], [5, 2, 1, 3, 4])[0]
            kw["action"] = act
            if act in ("local", "mirror"):
                kw["app"] = r.choice(app_names)
            if act == "mirror":
                th = r.choice([None, None, "local", "cloud", "drop", "forward"])
                kw["then"] = th
                if th == "local":
                    kw["then_app"] = r.choice(app_names)
            if r.random() < 0.35:
                kw["fallback"] = "drop"
        return m.Rule(prio, **kw)

    # ---- a state to replay: the same final configuration reached through
    # run-time changes (docs/control.md "Persistence"), so that packets are
    # classified by rules changed since the last classifier build
    def _journal(self):
        """(snapshot text, journal text) that lead to self.apps,
        self.sessions, self.rules."""
        r = self.r
        snap, early, late = [], [], []      # late: after every 'early' batch
        for a in self.apps:
            up, via = a.up, a.via
            words = []
            if r.random() < 0.3:
                up = not up
                words.append(f"state {'up' if a.up else 'down'}")
            if r.random() < 0.2:
                via = ipaddress.ip_address(r.choice(list(APP_HOSTS)))
                words.insert(0, f"via {a.via}")
            snap.append(m.App(a.name, str(via), up).line())
            if words:
                early.append(f"app change {a.name} " + " ".join(words))
        snap.append(f"app add gone via {APP_4} state up")
        early.append("app del gone")
        used_ul = {s.ul_teid for s in self.sessions}
        used_n9 = {s.n9_teid for s in self.sessions if s.n9_teid}
        used_ids = {s.sid for s in self.sessions}
        for s in self.sessions:
            x = r.random()
            if x < 0.2:
                early.append(s.line())
            elif x < 0.45:
                old = m.Session(s.sid, s.ul_teid, str(s.gnb), s.gnb_teid,
                                ue=str(s.ue) if s.ue else None,
                                ue6=str(s.ue6) if s.ue6 else None,
                                cloud=str(s.cloud) if s.cloud else None,
                                cloud_teid=s.cloud_teid, n9_teid=s.n9_teid, qfi=s.qfi)
                words = []
                if r.random() < 0.5:
                    old.gnb, old.gnb_teid = ipaddress.ip_address(r.choice(list(GNB_MAC))), r.randrange(1, 1 << 32)
                    words.append(f"gnb {s.gnb} gnb-teid {s.gnb_teid}")
                if s.cloud and r.random() < 0.5:
                    old.cloud = ipaddress.ip_address(r.choice([UPF_4, UPF2_4, UPF_6]))
                    old.cloud_teid = r.randrange(1, 1 << 32)
                    words.append(f"cloud {s.cloud} cloud-teid {s.cloud_teid}")
                if not words or r.random() < 0.4:
                    old.qfi = (s.qfi + 1 + r.randrange(62)) % 64
                    words.append(f"qfi {s.qfi}")
                snap.append(old.line())
                early.append(f"session change {s.sid} " + " ".join(words))
            else:
                snap.append(s.line())
        for k in range(r.randint(2, 12)):
            # a session deleted: its TEIDs and UE are no final session's
            sid = r.randrange(1 << 32)
            while sid in used_ids:
                sid = r.randrange(1 << 32)
            used_ids.add(sid)
            ul, n9 = self._teid(set(used_ul)), self._teid(set(used_n9))
            used_ul.add(ul)
            used_n9.add(n9)
            snap.append(m.Session(sid, ul, GNB_4, 5, ue=f"10.47.0.{k + 1}",
                                  cloud=UPF_4, cloud_teid=6, n9_teid=n9).line())
            early.append(f"session del {sid}")
        final = {x.prio for x in self.rules}
        for x in self.rules:
            y = r.random()
            if y < 0.25:
                early.append(x.line())
            elif y < 0.4:
                snap.append(self._one_rule(x.prio).line())
                early.append(x.line().replace("rule add", "rule change", 1))
            elif y < 0.5:
                # deleted, then added again
                snap.append(x.line())
                early.append(f"rule del {x.prio}")
                late.append(x.line())
            else:
                snap.append(x.line())
        for prio in self._prios(r.randint(4, 40), avoid=final):
            snap.append(self._one_rule(prio).line())
            early.append(f"rule del {prio}")
        r.shuffle(early)
        r.shuffle(late)
        journal = ["# generation 1"]
        for ops in (early, late):
            while ops:
                n = r.randint(1, 24)
                journal += ops[:n] + ["#commit"]
                ops = ops[n:]
        head = "# edgesteer state generation 1: neighbours added at run time, apps, sessions, rules"
        return "\n".join([head] + snap) + "\n", "\n".join(journal) + "\n"

    # ---- packets ------------------------------------------------------------
    KINDS = [("ul_rule", 36), ("ul_random", 12), ("ul_spoof", 3), ("ul_unknown_teid", 2),
             ("ul_on_core", 1), ("ul_mtu_edge", 2),
             ("dl_app_rule", 14), ("dl_app_random", 8), ("dl_app_mtu_edge", 2),
             ("dl_cloud", 12), ("dl_cloud_mtu_edge", 1), ("dl_cloud_unknown", 1),
             ("dl_on_access", 1),
             ("end_marker", 2), ("host_echo", 3), ("ul_local_mtu_edge", 1)]

    def _packet(self, i):
        r = self.r
        kind = r.choices([k for k, _ in self.KINDS], [w for _, w in self.KINDS])[0]
        return getattr(self, "_" + kind)(i, kind)

    # inner packets
    def _inner(self, idx, version, src, dst, proto=None, sport=None, dport=None,
               dscp=None, payload=None, ttl=None, frag=None, v6ext=None):
        """Inner IP packet bytes with the tag at the start of its L4 payload.
        Now and then a TTL / hop limit of 0 or 1, UDP to port 2152 (GTP-U
        in GTP-U) and an IPv4 header checksum that is wrong, on every
        path."""
        r = self.r
        if proto is None:
            proto = r.choices([17, 6, 1 if version == 4 else 58, 132,
                               r.choice(OTHER_PROTOS)], [6, 5, 2, 1, 1])[0]
        if dscp is None:
            dscp = r.choice(DSCPS) if r.random() < 0.3 else 0
        if ttl is None:
            ttl = r.choices([64, 255, 2, 128, 63, 1, 0], [10, 4, 3, 4, 4, 3, 1])[0]
        if payload is None:
            payload = r.choice([0, 0, 4, 16, 100, r.randrange(400)])
        if frag is None:
            frag = r.choices([None, "first", "later"], [40, 1, 1])[0]
        tag = TAG_MAGIC + struct.pack("!I", idx)
        data = tag + bytes(r.randrange(256) for _ in range(min(payload, 24))) + b"\xa5" * max(0, payload - 24)
        if sport is None:
            sport = self._port(proto)
        if dport is None:
            dport = self._port(proto)
        if proto == 17 and dport == m.GTPU_PORT:
            dport += 1
        if proto == 17 and r.random() < 0.03:
            dport = m.GTPU_PORT
        if proto in (1, 58):
            # type and code are bytes: a port edge of another protocol's
            # range gives way to an ICMP value
            sport = sport if sport < 256 else self._port(proto)
            dport = dport if dport < 256 else self._port(proto)
        s, d = str(src), str(dst)
        if frag == "later":
            l4 = data
        elif proto == 17:
            l4 = m.udp(s, d, sport, dport, data)
        elif proto == 6:
            h = struct.pack("!HHIIBBHHH", sport, dport, r.randrange(1 << 32), 0, 5 << 4,
                            r.choice([0x02, 0x10, 0x18, 0x11]), 65535, 0, 0)
            c = m.csum(h + data, m.pseudo_sum(s, d, 6, len(h) + len(data)))
            l4 = h[:16] + struct.pack("!H", c) + h[18:] + data
        elif proto in (1, 58):
            h = struct.pack("!BBHHH", sport, dport, 0, r.randrange(65536), r.randrange(65536))
            start = m.pseudo_sum(s, d, 58, len(h) + len(data)) if proto == 58 else 0
            c = m.csum(h + data, start)
            l4 = h[:2] + struct.pack("!H", c) + h[4:] + data
        elif proto == 132:
            h = struct.pack("!HHII", sport, dport, r.randrange(1 << 32), 0)
            l4 = h[:8] + struct.pack("<I", _crc32c(h + data)) + data
        else:
            l4 = data
        if version == 4:
            fr = 0
            if frag == "first":
                fr = 0x2000
            elif frag == "later":
                fr = r.choice([0x2000, 0]) | r.randrange(1, 200)
            elif r.random() < 0.3:
                fr = 0x4000
            pkt = m.ip4_header(s, d, proto, len(l4), ttl=ttl, tos=dscp << 2 | r.choice([0, 0, 1, 2]),
                               ident=r.randrange(65536), frag=fr, options=self._ip4_options()) + l4
            if r.random() < 0.02:
                # a header checksum that is wrong (RFC 1812 5.2.2)
                pkt = pkt[:10] + bytes([pkt[10] ^ r.randrange(1, 256)]) + pkt[11:]
            return pkt
        if v6ext is None:
            v6ext = [] if r.random() < 0.85 else r.sample([0, 60, 43], r.randint(1, 2))
            if v6ext and v6ext[0] != 0 and 0 in v6ext:
                v6ext.remove(0)
                v6ext.insert(0, 0)       # hop-by-hop only first
        hdrs = v6ext + ([m.IP6_FRAG] if frag else [])
        ext = b""
        for k, h in enumerate(hdrs):
            nxt = hdrs[k + 1] if k + 1 < len(hdrs) else proto
            if h == m.IP6_FRAG:
                off = 0 if frag == "first" else r.randrange(1, 200)
                ext += struct.pack("!BBHI", nxt, 0, off << 3 | 1, r.randrange(1 << 32))
            elif h == 43:
                ext += bytes([nxt, 0, 4, 0, 0, 0, 0, 0])
            else:
                ext += bytes([nxt, 0, 1, 4, 0, 0, 0, 0])
        nh = hdrs[0] if hdrs else proto
        return m.ip6_header(s, d, nh, len(ext) + len(l4), hlim=ttl, tc=dscp << 2,
                            flow=r.choice([0, r.randrange(1 << 20)])) + ext + l4

    def _ip4_options(self):
        """IPv4 options, now and then: Router Alert (RFC 2113), NOPs, an
        End of Options list."""
        r = self.r
        if r.random() > 0.04:
            return b""
        return r.choice([b"\x94\x04\x00\x00", b"\x01\x01\x01\x00",
                         b"\x94\x04\x00\x00\x01\x01\x01\x01" + b"\x00" * 4])

    def _port(self, proto):
        r = self.r
        if proto == 1:
            return r.choice(ICMP_TYPES4 + ICMP_CODES)
        if proto == 58:
            return r.choice(ICMP_TYPES6 + ICMP_CODES)
        return r.choice(PORT_EDGES) if r.random() < 0.5 else r.randrange(65536)

    def _edge(self, rng, proto):
        """A value at or just beyond the edges of an inclusive range."""
        r = self.r
        lo, hi = rng
        top = 255 if proto in (1, 58) else 65535
        c = r.choice([lo, hi, lo, hi, lo - 1, hi + 1, r.randint(lo, hi)])
        return min(max(c, 0), top)

    def _fields_for(self, rule, version, dir):
        """Inner fields satisfying rule (mostly), or near misses."""
        r = self.r
        kw = {}
        if rule is None:
            return kw
        proto = rule.proto
        if proto is None or (proto == 1 and version == 6) or (proto == 58 and version == 4):
            proto = None
        if r.random() < 0.1:
            proto = r.choice([6, 17, 132, 47])
        if proto is None and (rule.sport != (0, 65535) or rule.dport != (0, 65535)):
            # a port range without a protocol: which protocols have ports
            # (ICMP: type and code), and which have none (0)
            proto = r.choice([6, 17, 132, 1 if version == 4 else 58, r.choice(OTHER_PROTOS)])
        kw["proto"] = proto
        p = proto if proto is not None else 17
        if (rule.sport != (0, 65535)):
            kw["sport"] = self._edge(rule.sport, p)
        if (rule.dport != (0, 65535)):
            kw["dport"] = self._edge(rule.dport, p)
        if rule.dscp is not None:
            kw["dscp"] = rule.dscp if r.random() < 0.85 else r.choice(DSCPS)
        return kw

    def _far(self, rule_net, version):
        """The address on the far side (not the UE): in rule_net, just
        outside it, or random."""
        r = self.r
        if rule_net is not None and rule_net.version == version:
            if r.random() < 0.85:
                return _rand_in(r, rule_net)
            o = _outside(rule_net)
            if o is not None:
                return o
        pool = REMOTE4 if version == 4 else REMOTE6
        return _rand_in(r, m.net(r.choice(pool)))

    def _ue_addr(self, s, version, within=()):
        """An address of session s in the family (v6: in its /64, and in
        the prefixes of within if they meet)."""
        r = self.r
        if version == 4:
            return s.ue
        n = _narrowest([s.ue6] + [w for w in within if w is not None and w.version == 6])
        return _rand_in(r, n if n is not None else s.ue6)

    def _session_for(self, rule, version):
        """A session that can carry a packet of rule in the family."""
        r = self.r
        cands = [s for s in self.sessions if (s.ue if version == 4 else s.ue6)]
        if rule is not None:
            if rule.teid is not None:
                c = [s for s in cands if s.ul_teid == rule.teid]
                if c:
                    return r.choice(c)
            ue_nets = [n for n in (rule.ue, rule.src if rule.dir == "ul" else rule.dst)
                       if n is not None and n.version == version]
            if ue_nets:
                c = [s for s in cands if all(
                    (s.ue in n) if version == 4 else (s.ue6.overlaps(n)) for n in ue_nets)]
                if c and r.random() < 0.9:
                    return r.choice(c)
        return r.choice(cands) if cands else None

    def _version_for(self, rule):
        r = self.r
        if rule is not None and rule.family is not None:
            return rule.family
        return r.choice([4, 4, 6])

    # outer frames
    def _gtp_ul(self, teid, tpdu, qfi):
        """An uplink GTP-U message in one of the forms gNBs send."""
        r = self.r
        form = r.choices(["psc", "plain", "seq", "seq_psc", "pn", "ext_psc", "chain"],
                         [70, 12, 5, 6, 3, 4, 6])[0]
        if form == "chain":
            return self._gtp_chain(teid, tpdu, qfi, 1)
        psc = bytes([1, 0x10, qfi, 0])
        if form == "psc":
            body = struct.pack("!HBB", 0, 0, m.EXT_PSC) + psc
            flags = 0x34
        elif form == "plain":
            return struct.pack("!BBHI", 0x30, 255, len(tpdu), teid) + tpdu
        elif form == "seq":
            body, flags = struct.pack("!HBB", r.randrange(65536), 0, 0), 0x32
        elif form == "seq_psc":
            body, flags = struct.pack("!HBB", r.randrange(65536), 0, m.EXT_PSC) + psc, 0x36
        elif form == "pn":
            body, flags = struct.pack("!HBB", 0, r.randrange(256), 0), 0x31
        else:
            # an unknown extension header whose type says comprehension not
            # required (00xxxxxx), then the container
            t = r.choice([0x0F, 0x1E, 0x3F])
            body = (struct.pack("!HBB", 0, 0, t) + bytes([1, r.randrange(256), r.randrange(256), m.EXT_PSC]) + psc)
            flags = 0x34
        body += tpdu
        return struct.pack("!BBHI", flags, 255, len(body), teid) + body

    def _gtp_chain(self, teid, tpdu, qfi, pdu_type):
        """A G-PDU with a chain of 1-4 extension headers: the container
        (mostly), the known types of TS 29.281 5.2 (now and then of a
        wrong length), unknown types of every kind (00 and 01 skipped, 01
        removed on relay, 10 and 11 comprehension required)."""
        r = self.r
        hdrs = [self._one_ext() for _ in range(r.choice([1, 1, 2, 3]))]
        if r.random() < 0.85:
            hdrs.insert(r.randrange(len(hdrs) + 1),
                        (m.EXT_PSC, bytes([pdu_type << 4, qfi])))
        types = [t for t, _ in hdrs] + [0]
        flags = r.choice([0x34, 0x34, 0x36, 0x35, 0x37])
        body = struct.pack("!HBB", r.randrange(65536) if flags & 2 else 0,
                           r.randrange(256) if flags & 1 else 0, types[0])
        for k, (t, content) in enumerate(hdrs):
            body += bytes([(len(content) + 2) // 4]) + content + bytes([types[k + 1]])
        body += tpdu
        return struct.pack("!BBHI", flags, 255, len(body), teid) + body

    def _one_ext(self):
        """(type, content): an extension header without its length and
        next-type octets (content is 4 * units - 2 bytes)."""
        r = self.r
        x = r.random()
        if x < 0.35:
            # a known type of a fixed length: UDP Port, Service Class
            # Indicator, PDCP PDU Number (1 unit), Long PDCP PDU Number
            # (2 units, types 0x82 and 0x03); now and then wrong
            t = r.choice([0x40, 0x40, 0x20, 0xC0, 0x82, 0x03])
            units = m.EXT_FIXED[t]
            if r.random() < 0.1:
                units = r.choice([u for u in (1, 2, 3) if u != units])
        elif x < 0.5:
            # RAN, Xw RAN, NR RAN containers (of any length); TS 29.060's
            # 0x01 and 0x02
            t, units = r.choice([0x81, 0x83, 0x84, 0x01, 0x02]), r.randint(1, 3)
        elif x < 0.72:
            t, units = r.choice([0x0F, 0x1E, 0x3F, 0x10, 0x2A]), r.randint(1, 2)    # 00: skipped
        elif x < 0.96:
            t, units = r.choice([0x41, 0x4F, 0x55, 0x7F]), r.randint(1, 2)          # 01: removed on relay
        else:
            t, units = r.choice([0x86, 0x9F, 0xBF, 0xC1, 0xFE, 0xFF]), 1            # 1x: required
        return t, bytes(r.randrange(256) for _ in range(4 * units - 2))

    def _padded(self, gtp):
        """gtp with padding, now and then (more often where 'set
        gtpu-padding 1'): after the T-PDU's inner packet (the GTP-U Length
        counting it), after the GTP-U message (the UDP payload longer than
        it), or both."""
        r = self.r
        if r.random() >= (0.06 if self.padding else 0.01):
            return gtp
        fill = bytes(r.choice([0, 0, r.randrange(256)]) for _ in range(r.randint(1, 30)))
        x = r.random()
        if x < 0.6 or x >= 0.85:
            gtp = gtp[:2] + struct.pack("!H", len(gtp) - 8 + len(fill)) + gtp[4:] + fill
        if x >= 0.6:
            gtp += bytes(r.randint(1, 12))
        return gtp

    def _outer_frame(self, version, src, dst, smac, dmac, gtp, vlans=None):
        r = self.r
        if vlans is None:
            x = r.random()
            vlans = () if x < 0.9 else ((0x8100, r.randrange(1, 4095)),) if x < 0.97 else (
                (0x88A8, r.randrange(1, 4095)), (0x8100, r.randrange(1, 4095)))
        sport = 2152 if r.random() < 0.5 else r.randrange(1024, 65536)
        if version == 4:
            u = m.udp(src, dst, sport, 2152, gtp, zero_csum=r.random() < 0.5)
            ip = m.ip4_header(src, dst, 17, len(u), ttl=r.choice([64, 255, 30]),
                              ident=r.randrange(65536), frag=r.choice([0, 0x4000]),
                              tos=r.choice([0, 0, 0xb8]), options=self._ip4_options()) + u
            et = m.ETH_IP4
        else:
            u = m.udp(src, dst, sport, 2152, gtp)
            ip = m.ip6_header(src, dst, 17, len(u), hlim=r.choice([64, 255])) + u
            et = m.ETH_IP6
        return m.ether(dmac, smac, et, vlans) + ip

    def _n3_frame(self, s, gtp):
        r = self.r
        v = r.choice([4, 4, 6])
        if s is not None and s.gnb.version == v and r.random() < 0.9:
            g = str(s.gnb)
        else:
            g = r.choice([GNB_4, GNB2_4] if v == 4 else [GNB_6, GNB2_6])
        return self._outer_frame(v, g, N3_4 if v == 4 else N3_6, GNB_MAC[g], MAC_N3, gtp)

    def _n9_frame(self, gtp):
        v = self.r.choice([4, 4, 6])
        if v == 4:
            return self._outer_frame(4, self.r.choice([UPF_4, UPF2_4]), N9_4, MAC_UPF, MAC_N9, gtp)
        if self.r.random() < 0.2:
            return self._outer_frame(6, UPF3_6, N9_6, MAC_GW9, MAC_N9, gtp)
        return self._outer_frame(6, UPF_6, N9_6, MAC_UPF, MAC_N9, gtp)

    def _qfi(self, rule=None):
        r = self.r
        if rule is not None and rule.qfi is not None and r.random() < 0.8:
            return rule.qfi
        return r.choice([0, 1, 5, 9, 63, r.randrange(64)])

    # -- uplink kinds
    def _ul(self, i, kind, rule, spoof=False, payload=None, pad=True):
        r = self.r
        v = self._version_for(rule)
        s = self._session_for(rule, v)
        if s is None:
            v = 10 - v
            s = self._session_for(None, v)
        if spoof and r.random() < 0.3 and not (s.ue and s.ue6):
            # the family the session has no address of
            v = 10 - v
            src = ipaddress.ip_address("10.45.0.9") if v == 4 else s.ue6.network_address + 9 \
                if s.ue6 else ipaddress.ip_address("2001:db8:45::9")
        elif spoof:
            src = r.choice([ipaddress.ip_address("10.45.250.1"), ipaddress.ip_address("10.47.0.1")]) \
                if v == 4 else _outside(s.ue6)
            if v == 6 and r.random() < 0.2:
                # link-local, but not of the fe80::/64 format
                src = ipaddress.IPv6Address(r.choice(["fe80:0:0:1::5", "febf::5", "fe80:1::9"]))
            if v == 4 and r.random() < 0.5:
                others = [x.ue for x in self.sessions if x.ue and x.ue != s.ue]
                if others:
                    src = r.choice(others)
        else:
            within = [rule.ue, rule.src] if rule is not None else []
            src = self._ue_addr(s, v, within)
            if v == 6 and r.random() < 0.04:
                # the UE's link-local address (fe80::/64)
                src = ipaddress.IPv6Address("fe80::") + r.choice([1, 2, r.randrange(1, 1 << 64)])
        dst = self._far(rule.dst if rule is not None else None, v)
        if v == 6 and r.random() < 0.03:
            dst = ipaddress.IPv6Address(r.choice(LINK_SCOPE6))
        f = self._fields_for(rule, v, "ul")
        inner = self._inner(i, v, src, dst, payload=payload, **f)
        gtp = self._gtp_ul(s.ul_teid, inner, self._qfi(rule))
        return s, self._padded(gtp) if pad else gtp

    def _ul_rule(self, i, kind):
        rule = self.r.choice(self.ul_rules) if self.ul_rules else None
        s, gtp = self._ul(i, kind, rule)
        return Packet(i, "n3", self._n3_frame(s, gtp), kind)

    def _ul_random(self, i, kind):
        s, gtp = self._ul(i, kind, None)
        return Packet(i, "n3", self._n3_frame(s, gtp), kind)

    def _ul_spoof(self, i, kind):
        s, gtp = self._ul(i, kind, None, spoof=True)
        return Packet(i, "n3", self._n3_frame(s, gtp), kind)

    def _ul_unknown_teid(self, i, kind):
        s, gtp = self._ul(i, kind, None)
        t = self.r.randrange(1, 1 << 32)
        while t in self.model.by_ul:
            t = self.r.randrange(1, 1 << 32)
        gtp = gtp[:4] + struct.pack("!I", t) + gtp[8:]
        return Packet(i, "n3", self._n3_frame(s, gtp), kind)

    def _ul_on_core(self, i, kind):
        # an uplink G-PDU arriving on the core port: looked up among the N9
        # TEIDs (a session's N9 TEID may equal another's uplink TEID)
        s, gtp = self._ul(i, kind, None)
        return Packet(i, "n9", self._n9_frame(gtp), kind)

    def _ul_mtu_edge(self, i, kind):
        """Uplink whose relayed packet is the core port's MTU, or 1 more."""
        r = self.r
        s, gtp = self._ul(i, kind, None, payload=0, pad=False)
        frame = self._n3_frame(s, gtp)
        if s.cloud is None:
            return Packet(i, "n3", frame, kind)
        mtu = self.model.ports["n9"].mtu
        relayed = (20 if s.cloud.version == 4 else 40) + 8 + len(gtp)
        extra = mtu - relayed + r.choice([0, 1])
        if extra < 0 or extra > 8000:
            return Packet(i, "n3", frame, kind)
        # rebuild with the inner payload grown by extra bytes
        s2, gtp2 = self._regrow(i, kind, s, gtp, extra)
        return Packet(i, "n3", self._n3_frame(s2, gtp2), kind)

    def _ul_local_mtu_edge(self, i, kind):
        """Uplink for a rule that routes to an app, its inner packet of
        exactly the local port's MTU, or 1 more."""
        r = self.r
        rules = [x for x in self.ul_rules if x.action in ("local", "mirror")]
        rule = r.choice(rules) if rules else None
        s, gtp = self._ul(i, kind, rule, payload=0, pad=False)
        mtu = self.model.ports["lan"].mtu
        off = 12 if gtp[0] & 7 else 8
        nxt = gtp[11] if gtp[0] & 4 else 0
        while nxt:
            nxt, off = gtp[off + 4 * gtp[off] - 1], off + 4 * gtp[off]
        extra = mtu - (len(gtp) - off) + r.choice([0, 1])
        if 0 <= extra <= 8000:
            s, gtp = self._regrow(i, kind, s, gtp, extra)
        return Packet(i, "n3", self._n3_frame(s, gtp), kind)

    def _regrow(self, i, kind, s, gtp, extra):
        """gtp with extra bytes appended to its T-PDU's L4 payload (lengths
        and checksums made right again by re-parsing and rebuilding)."""
        mdl = self.model
        off = 12 if gtp[0] & 7 else 8
        nxt = gtp[11] if gtp[0] & 4 else 0
        while nxt:
            units = gtp[off]
            nxt, off = gtp[off + 4 * units - 1], off + 4 * units
        tpdu = gtp[off:]
        inner = mdl._inner(m.Outcome(), tpdu, exact=True)
        grown = _grow(tpdu, inner, extra)
        body = gtp[8:off] + grown
        return s, gtp[:2] + struct.pack("!H", len(body)) + gtp[4:8] + body

    # -- downlink kinds
    def _app_frame(self, inner):
        r = self.r
        x = r.random()
        vlans = () if x < 0.95 else ((0x8100, r.randrange(1, 4095)),)
        et = m.ETH_IP4 if inner[0] >> 4 == 4 else m.ETH_IP6
        f = m.ether(MAC_LAN, r.choice([MAC_APP, MAC_MIRROR, MAC_APP2]), et, vlans) + inner
        if len(f) < 60:
            f += b"\0" * (60 - len(f))          # Ethernet padding
        return f

    def _dl_inner(self, i, rule, to_ue=True, payload=None, pool=None):
        r = self.r
        pool = self.sessions if pool is None else pool
        v = self._version_for(rule)
        cands = [s for s in pool if (s.ue if v == 4 else s.ue6)]
        if not cands and (rule is None or rule.family is None):
            v = 10 - v
            cands = [s for s in pool if (s.ue if v == 4 else s.ue6)]
        s = None
        if rule is not None:
            nets = [n for n in (rule.ue, rule.dst) if n is not None and n.version == v]
            c = [x for x in cands if all((x.ue in n) if v == 4 else x.ue6.overlaps(n) for n in nets)]
            if c and r.random() < 0.9:
                s = r.choice(c)
        if s is None and cands:
            s = r.choice(cands)
        if s is None or not to_ue:
            if v == 4:
                dst = r.choice([ipaddress.ip_address(f"10.45.{r.randrange(4)}.{r.randrange(1, 255)}"),
                                _rand_in(r, m.net(r.choice(REMOTE4)))])
            else:
                dst = r.choice([ipaddress.IPv6Address(f"2001:db8:45:{r.randrange(65536):x}::1"),
                                _rand_in(r, m.net(r.choice(REMOTE6)))])
        else:
            dst = self._ue_addr(s, v, [rule.ue, rule.dst] if rule else [])
        src = self._far(rule.src if rule is not None else None, v)
        f = self._fields_for(rule, v, "dl")
        return s, self._inner(i, v, src, dst, payload=payload, **f)

    def _dl_app_rule(self, i, kind):
        rule = self.r.choice(self.dl_rules) if self.dl_rules else None
        _, inner = self._dl_inner(i, rule)
        return Packet(i, "lan", self._app_frame(inner), kind)

    def _dl_app_random(self, i, kind):
        _, inner = self._dl_inner(i, None, to_ue=self.r.random() < 0.6)
        return Packet(i, "lan", self._app_frame(inner), kind)

    def _dl_app_mtu_edge(self, i, kind):
        r = self.r
        s, inner = self._dl_inner(i, None, payload=0)
        if s is None:
            return Packet(i, "lan", self._app_frame(inner), kind)
        mtu = self.model.ports["n3"].mtu
        total = (20 if s.gnb.version == 4 else 40) + 8 + 16 + len(inner)
        extra = mtu - total + r.choice([0, 1])
        if 0 <= extra <= 8000:
            inner = _grow(inner, self.model._inner(m.Outcome(), inner, exact=True), extra)
        return Packet(i, "lan", self._app_frame(inner), kind)

    def _dl_cloud(self, i, kind, edge=False):
        r = self.r
        with_n9 = [s for s in self.sessions if s.n9_teid]
        rule = r.choice(self.dl_rules) if self.dl_rules and r.random() < 0.6 else None
        s, inner = self._dl_inner(i, rule, to_ue=r.random() < 0.9, pool=with_n9,
                                  payload=0 if edge else None)
        if s is None:
            s = r.choice(with_n9) if with_n9 else None
        teid = s.n9_teid if s else 77
        if edge and s is not None:
            # relayed to the gNB: exactly the access port's MTU, or 1 more
            total = (20 if s.gnb.version == 4 else 40) + 8 + 16 + len(inner)
            extra = self.model.ports["n3"].mtu - total + r.choice([0, 1])
            if 0 <= extra <= 8000:
                inner = _grow(inner, self.model._inner(m.Outcome(), inner, exact=True), extra)
        form = r.choices(["psc", "plain", "seq", "chain"], [70, 20, 10, 6])[0]
        if form == "psc":
            gtp = m.gtpu_gpdu(teid, inner, qfi=self._qfi(), pdu_type=0)
        elif form == "plain":
            gtp = m.gtpu_gpdu(teid, inner)
        elif form == "seq":
            body = struct.pack("!HBB", r.randrange(65536), 0, 0) + inner
            gtp = struct.pack("!BBHI", 0x32, 255, len(body), teid) + body
        else:
            # nothing of the chain goes on: a new header to the gNB
            gtp = self._gtp_chain(teid, inner, self._qfi(), 0)
        if not edge:
            gtp = self._padded(gtp)
        return Packet(i, "n9", self._n9_frame(gtp), kind)

    def _dl_cloud_mtu_edge(self, i, kind):
        return self._dl_cloud(i, kind, edge=True)

    def _dl_cloud_unknown(self, i, kind):
        r = self.r
        _, inner = self._dl_inner(i, None)
        t = r.randrange(1, 1 << 32)
        while t in self.model.by_n9:
            t = r.randrange(1, 1 << 32)
        return Packet(i, "n9", self._n9_frame(m.gtpu_gpdu(t, inner, qfi=self._qfi(), pdu_type=0)), kind)

    def _dl_on_access(self, i, kind):
        # a downlink G-PDU on the access port for an N9 TEID: looked up
        # among the uplink TEIDs
        r = self.r
        with_n9 = [s for s in self.sessions if s.n9_teid]
        s, inner = self._dl_inner(i, None)
        t = r.choice(with_n9).n9_teid if with_n9 else 5
        return Packet(i, "n3", self._n3_frame(None, m.gtpu_gpdu(t, inner, qfi=self._qfi(), pdu_type=0)), kind)

    def _host_echo(self, i, kind):
        """An ICMP / ICMPv6 echo request to a port address (RFC 792, RFC
        4443 4.1), its checksum right or wrong, id 0, sequence 0 and no
        data now and then (the reply's checksum is then 0xffff); other
        ICMP messages to a port address; an echo to another port's
        address."""
        r = self.r
        pname = r.choice(["n3", "n3", "n9", "lan"])
        v = r.choice([4, 4, 6])
        own = {"n3": (N3_4, N3_6), "n9": (N9_4, N9_6), "lan": (LAN_4, LAN_6)}
        peers = {"n3": [(GNB_4, GNB_6, MAC_GNB), (GNB2_4, GNB2_6, MAC_GNB2),
                        (GNB3_4, GNB_6, MAC_GW3)],
                 "n9": [(UPF_4, UPF_6, MAC_UPF), (UPF2_4, UPF3_6, MAC_GW9)],
                 "lan": [(APP_4, APP_6, MAC_APP), (APP2_4, APP2_6, MAC_APP2),
                         (APP3_4, APP_6, MAC_GWLAN)]}
        p4, p6, smac = r.choice(peers[pname])
        src = p4 if v == 4 else p6
        dst = own[pname][0 if v == 4 else 1]
        if r.random() < 0.05:
            dst = own[r.choice([x for x in own if x != pname])][0 if v == 4 else 1]
        request = 8 if v == 4 else 128
        typ, code = request, 0
        x = r.random()
        if x < 0.04:
            code = r.randint(1, 255)
        elif x < 0.1:
            typ = r.choice([0, 3, 11, 13] if v == 4 else [129, 1, 3, 135, 136])
        if r.random() < 0.12:
            ident, seq, data = 0, 0, b""
        else:
            ident, seq = r.randrange(65536), r.randrange(65536)
            data = TAG_MAGIC + struct.pack("!I", i) + bytes(r.randrange(256) for _ in range(r.choice([0, 1, 7, 56, 200])))
        icmp = struct.pack("!BBHHH", typ, code, 0, ident, seq) + data
        start = m.pseudo_sum(src, dst, 58, len(icmp)) if v == 6 else 0
        c = m.csum(icmp, start)
        if typ == request and code == 0 and r.random() < 0.2:
            c = r.choice([0, 0xFFFF, c ^ r.randrange(1, 65536)])
            if c == m.csum(icmp, start):
                c ^= 1
        icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
        if v == 4:
            ip = m.ip4_header(src, dst, 1, len(icmp), ttl=r.choice([64, 255, 1, 0, 30]),
                              tos=r.choice([0, 0, 0x28, 0xb8]), ident=r.randrange(65536),
                              frag=r.choice([0, 0x4000]), options=self._ip4_options()) + icmp
            et = m.ETH_IP4
        else:
            ip = m.ip6_header(src, dst, 58, len(icmp), hlim=r.choice([64, 255, 1, 0]),
                              tc=r.choice([0, 0, 0x28]), flow=r.choice([0, r.randrange(1 << 20)])) + icmp
            et = m.ETH_IP6
        x = r.random()
        vlans = () if x < 0.9 else ((0x8100, r.randrange(1, 4095)),) if x < 0.97 else (
            (0x88A8, r.randrange(1, 4095)), (0x8100, r.randrange(1, 4095)))
        mine = {"n3": MAC_N3, "n9": MAC_N9, "lan": MAC_LAN}[pname]
        f = m.ether(mine, smac, et, vlans) + ip
        if len(f) < 60:
            f += b"\0" * (60 - len(f))          # Ethernet padding
        return Packet(i, pname, f, kind)

    def _end_marker(self, i, kind):
        r = self.r
        if r.random() < 0.5:
            with_n9 = [s for s in self.sessions if s.n9_teid]
            if with_n9:
                s = r.choice(with_n9)
                em = struct.pack("!BBHI", 0x30, m.MSG_END_MARKER, 0, s.n9_teid)
                if r.random() < (0.2 if self.padding else 0.03):
                    em += bytes(r.randint(1, 20))      # padded (open5gs)
                return Packet(i, "n9", self._n9_frame(em), kind)
        if r.random() < 0.1:
            # for an N9 TEID no session has
            t = r.randrange(1, 1 << 32)
            while t in self.model.by_n9:
                t = r.randrange(1, 1 << 32)
            em = struct.pack("!BBHI", 0x30, m.MSG_END_MARKER, 0, t)
            return Packet(i, "n9", self._n9_frame(em), kind)
        s = r.choice(self.sessions)
        em = struct.pack("!BBHI", 0x30, m.MSG_END_MARKER, 0, s.ul_teid)
        return Packet(i, "n3", self._n3_frame(s, em), kind)


def _narrowness(rule):
    """Roughly, how many bits of the key a rule pins down."""
    n = 0
    for p in (rule.ue, rule.src, rule.dst):
        if p is not None:
            n += p.prefixlen * (32 / p.max_prefixlen)
    if rule.proto is not None:
        n += 3
    for lo, hi in (rule.sport, rule.dport):
        n += 16 - (hi - lo + 1).bit_length() + 1
    n += 4 * ((rule.qfi is not None) + (rule.dscp is not None)) + 12 * (rule.teid is not None)
    return n


def _grow(pkt, inner, extra):
    """pkt (an IP packet whose parse is inner) with extra filler bytes at
    its end, the IP length and the L4 length and checksum fixed up."""
    b = bytearray(pkt + b"\x5a" * extra)
    if inner.version == 4:
        ihl = (b[0] & 15) * 4
        struct.pack_into("!H", b, 2, len(b))
        struct.pack_into("!H", b, 10, 0)
        struct.pack_into("!H", b, 10, m.csum(bytes(b[:ihl])))
        l4off, later = ihl, struct.unpack("!H", pkt[6:8])[0] & 0x1FFF != 0
    else:
        struct.pack_into("!H", b, 4, len(b) - 40)
        l4off, later = _l4_off6(pkt)
    if later:
        return bytes(b)
    return _fix_l4(b, inner, l4off)


def _l4_off6(b):
    """(offset of the L4 header, whether b is a later fragment) of an IPv6
    packet."""
    nh, off = b[6], 40
    while nh in m.IP6_EXT or nh == m.IP6_FRAG:
        if nh == m.IP6_FRAG:
            if struct.unpack("!H", b[off + 2:off + 4])[0] >> 3:
                return off + 8, True
            nh, off = b[off], off + 8
        else:
            nh, off = b[off], off + 8 * (b[off + 1] + 1)
    return off, False


def _fix_l4(b, inner, off):
    src, dst = str(inner.src), str(inner.dst)
    l4 = bytes(b[off:])
    p = inner.proto
    if p == 17:
        struct.pack_into("!HH", b, off + 4, len(l4), 0)
        c = m.csum(bytes(b[off:]), m.pseudo_sum(src, dst, 17, len(l4))) or 0xFFFF
        struct.pack_into("!H", b, off + 6, c)
    elif p == 6:
        struct.pack_into("!H", b, off + 16, 0)
        struct.pack_into("!H", b, off + 16, m.csum(bytes(b[off:]), m.pseudo_sum(src, dst, 6, len(l4))))
    elif p in (1, 58):
        struct.pack_into("!H", b, off + 2, 0)
        start = m.pseudo_sum(src, dst, 58, len(l4)) if p == 58 else 0
        struct.pack_into("!H", b, off + 2, m.csum(bytes(b[off:]), start))
    elif p == 132:
        struct.pack_into("!I", b, off + 8, 0)
        struct.pack_into("<I", b, off + 8, _crc32c(bytes(b[off:])))
    return bytes(b)


_CRC32C = []


def _crc32c(data):
    """CRC-32C (Castagnoli), the SCTP checksum (RFC 9260 appendix A)."""
    if not _CRC32C:
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _CRC32C.append(c)
    c = 0xFFFFFFFF
    for x in data:
        c = _CRC32C[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
