#!/usr/bin/python3
"""make soak: edgesteer's data plane for a long time under a realistic mix
at a fixed share of its peak, while rules, apps and sessions change through
the control socket; memory, latency and every counter sampled over time.
Method and pass criteria: docs/reliability.md, "Soak".

The data plane is es-loadgen's (perf/loadgen.c): the edgesteer objects less
main, one worker lcore on ring ports, a paced generator and sink on the main
lcore, the control socket served from a control thread (--ctl) with the
state journal on (--state). This script:

  1. writes the mix (three pcaps, one per input port: uplink on n3,
     downlink from the apps on lan, downlink from the cloud on n9; every
     frame of a known class, see MIX) and the config;
  2. finds the peak: es-loadgen offering as fast as the worker takes the
     mix (--rate 0) for --peak-seconds while the same changes as in the
     soak go in (--churn-rate); the maximum is the data plane's rx rate;
     then (--peak throughput, the default) the RFC 2544 throughput below
     it: a binary search of paced trials (--trial-seconds, the changes
     going in) for the highest rate at which no frame is refused;
  3. runs es-loadgen at --fraction of that throughput (or with --peak max
     of the maximum) for --seconds with
     --sample: every --interval s the generator stops offering, lets
     everything in flight end, and writes the counters, the mbufs out of the
     pool, the DPDK heap, the RSS and the interval's latency (perf/loadgen.c);
     meanwhile a churn thread sends --churn-rate changes a second through
     the control socket (rules added, changed, deleted; apps down and up,
     moved, added, deleted; sessions added, deleted, handed over to another
     gNB, given a new cloud TEID; batches), and 'steerctl -j state show'
     runs at every interval;
  4. checks every sample (the accounting identity, nothing lost, the mbufs
     out equal to the fragments held) and the memory over the run (flat
     after the warm-up), prints the verdict, writes a JSON and a CSV result
     and PNG plots under --out (perf/results/soak/, not in git); exit 1 on
     a failed criterion.

Usage: perf/soak.py [--seconds S] [--fraction F] [--interval S] [--quick]
                    [--sessions N] [--rules N] [--churn-rate R] [--out DIR]
                    [--rate PPS] [--peak-seconds S] [--peak throughput|max]
                    [--trial-seconds S] [--plots-to DIR]
  --quick  what make test runs: 60 s at a fixed 20 kpps (a peak measured on
           a loaded 2-vCPU machine is not a steady reference), small tables
"""
import argparse
import bisect
import datetime
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_bench  # noqa: E402  (Ctl: the control socket protocol)
import suite  # noqa: E402  (EAL options, the CPU model)

ROOT = suite.ROOT
BUILD = os.environ.get("ES_BUILD", os.path.join(ROOT, "build"))
OUT = os.path.join(ROOT, "perf", "results", "soak")

# ---- addresses (the test topology of tests/e2e) --------------------------
MAC_N3, MAC_N9, MAC_LAN = "02:00:00:00:03:01", "02:00:00:00:09:01", "02:00:00:00:0a:01"
MAC_GNB, MAC_GNB2, MAC_UPF, MAC_APP, MAC_APP2 = (
    "02:00:00:00:00:10", "02:00:00:00:00:11", "02:00:00:00:00:07", "02:00:00:00:00:20",
    "02:00:00:00:00:21")
N3, N9, LAN = "192.0.2.1", "198.51.100.1", "10.100.0.1"
GNB, GNB2, UPF, APP, APP2 = "192.0.2.10", "192.0.2.11", "198.51.100.7", "10.100.0.20", "10.100.0.21"
XR_DST, CACHE_DST, CLOUD_DST = "10.200.0.5", "10.201.0.9", "93.184.216.34"
N9_TEID0 = 0x100000          # session i's N9 TEID: N9_TEID0 + i
UNKNOWN_TEID0 = 0xdead0000   # no session ever has these
POOL_ID0 = 1000000           # sessions the churn adds and deletes: ids and TEIDs from here
FRAG_TIMEOUT_MS = 2000

# The drop counters the mix means to raise: each malformed kind raises
# exactly one (tests/e2e/test_malformed.py has them all)
MALFORMED_N3 = ["drop_ip4_cksum", "drop_gtpu_ext_len0", "drop_gtpu_version", "drop_udp_len",
                "drop_l2_truncated", "drop_l2_ethertype", "drop_gtp_in_gtp", "drop_ue_spoof"]
MALFORMED_LAN = ["drop_wrong_role", "drop_dl_no_session"]


def ue(i):
    return suite.ue(i)


# ---- the mix ---------------------------------------------------------------

def _gpdu(teid, inner, qfi=9, dl=False):
    from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
    return (GTP_U_Header(teid=teid, E=1, next_ex=0x85) /
            GTPPDUSessionContainer(type=0 if dl else 1, QFI=qfi) / inner)


def _ul(s, dst, dport, payload=b"x" * 36, teid=None, src=None):
    from scapy.all import IP, UDP, Ether, Raw
    inner = IP(src=src or ue(s), dst=dst, ttl=64) / UDP(sport=10000 + s % 50000, dport=dport) / Raw(payload)
    return (Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB, dst=N3) / UDP(sport=2152, dport=2152) /
            _gpdu(s + 1 if teid is None else teid, inner))


def malformed(kind, s):
    """A frame that raises exactly the drop counter kind (n3 or lan)."""
    from scapy.all import IP, UDP, Ether, Raw
    from scapy.contrib.gtp import GTP_U_Header
    base = _ul(s, CLOUD_DST, 443)
    if kind == "drop_ip4_cksum":
        p = Ether(bytes(base))
        p[IP].chksum ^= 0x5a5a
        return bytes(p)
    if kind == "drop_gtpu_ext_len0":
        b = bytearray(bytes(base))
        b[14 + 20 + 8 + 12] = 0            # the PSC's length octet
        return bytes(b)
    if kind == "drop_gtpu_version":
        b = bytearray(bytes(base))
        b[14 + 20 + 8] = 0x54               # version 2
        return bytes(b)
    if kind == "drop_udp_len":
        p = Ether(bytes(base))
        p[UDP].len -= 2
        p[UDP].chksum = 0
        return bytes(p)
    if kind == "drop_l2_truncated":
        return bytes(base)[:10]
    if kind == "drop_l2_ethertype":
        return bytes(Ether(src=MAC_GNB, dst=MAC_N3, type=0x88b5) / Raw(bytes(base[IP])))
    if kind == "drop_gtp_in_gtp":
        # to a local app (rule 20): only a packet to be decapsulated may
        # not carry GTP-U inside; one relayed to the cloud may
        inner = IP(src=ue(s), dst=CACHE_DST) / UDP(sport=2152, dport=2152) / GTP_U_Header(teid=7) / Raw(b"g" * 20)
        return bytes(Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB, dst=N3) / UDP(sport=2152, dport=2152) /
                     _gpdu(s + 1, inner))
    if kind == "drop_ue_spoof":
        return bytes(_ul(s, CLOUD_DST, 443, src="203.0.113.66"))
    if kind == "drop_wrong_role":
        return bytes(Ether(src=MAC_APP, dst=MAC_LAN) / IP(src=APP, dst=LAN) / UDP(sport=2152, dport=2152) /
                     Raw(bytes(base[UDP].payload)))
    if kind == "drop_dl_no_session":
        return bytes(Ether(src=MAC_APP, dst=MAC_LAN) / IP(src=XR_DST, dst="10.250.9.9") /
                     UDP(sport=4000, dport=1024) / Raw(b"n" * 36))
    raise ValueError(kind)


def _spread(base, extra):
    """base frames with the extra ones spread evenly among them (each
    extra a list of frames kept together, in order)."""
    out, k = [], 0
    step = max(len(base) // max(len(extra), 1), 1)
    for i, fr in enumerate(base):
        out.append(fr)
        if k < len(extra) and i % step == step - 1:
            out += extra[k]
            k += 1
    for e in extra[k:]:
        out += e
    return out


def build_mix(sessions, n_ul):
    """The three input files as lists of (class, frame bytes). Classes:
    ul (a valid uplink G-PDU: steered to an app or relayed, by the rules in
    force), frag_c1 / frag_c2 (the two outer fragments of an uplink G-PDU),
    frag_i (the first fragment of a packet whose rest never comes), dl_app,
    dl_cloud, unknown_teid, echo, arp, icmp, and bad:COUNTER for a
    malformed frame that raises COUNTER."""
    from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, fragment
    from scapy.contrib.gtp import GTP_U_Header, GTPEchoRequest
    rnd = random.Random(11)
    ul = []
    for i in range(n_ul):
        s = i % sessions
        r = rnd.random()
        dst, dport = (XR_DST, 4000 + i % 1000) if r < 0.3 else (CACHE_DST, 8080) if r < 0.4 else (CLOUD_DST, 443)
        ul.append([("ul", bytes(_ul(s, dst, dport)))])
    base = [x[0] for x in ul]
    extra = []
    n = max(n_ul // 100, 8)          # ~1 % of each special kind
    for k in range(n):               # fragments that complete (2 each)
        p = _ul(k % sessions, XR_DST, 4000, payload=b"f" * 1000)
        p[IP].id = 1000 + k
        fr = fragment(p[IP], fragsize=600)
        assert len(fr) == 2
        extra.append([("frag_c1", bytes(Ether(src=MAC_GNB, dst=MAC_N3) / fr[0])),
                      ("frag_c2", bytes(Ether(src=MAC_GNB, dst=MAC_N3) / fr[1]))])
    n_inc = max(n // 8, 2)
    for k in range(n_inc):           # fragments whose packet never completes
        p = _ul(k % sessions, CLOUD_DST, 443, payload=b"i" * 1000)
        p[IP].id = 30000 + k
        extra.append([("frag_i", bytes(Ether(src=MAC_GNB, dst=MAC_N3) / fragment(p[IP], fragsize=600)[0]))])
    for k in range(n):
        extra.append([("unknown_teid", bytes(_ul(k % sessions, CLOUD_DST, 443, teid=UNKNOWN_TEID0 + k)))])
    for k in range(max(n // 2, 2)):
        extra.append([("echo", bytes(Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB, dst=N3) /
                                     UDP(sport=2152, dport=2152) / GTP_U_Header(gtp_type=1, teid=0, seq=k, S=1) /
                                     GTPEchoRequest()))])
    for k in range(max(n // 4, 2)):
        extra.append([("arp", bytes(Ether(src=MAC_GNB, dst="ff:ff:ff:ff:ff:ff") /
                                    ARP(op=1, hwsrc=MAC_GNB, psrc=GNB, pdst=N3)))])
        extra.append([("icmp", bytes(Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB, dst=N3) /
                                     ICMP(id=7, seq=k) / Raw(b"p" * 32)))])
    for kind in MALFORMED_N3:
        for k in range(max(n // 4, 2)):
            extra.append([("bad:" + kind, malformed(kind, k % sessions))])
    rnd.shuffle(extra)
    n3 = [tuple(x) for x in _spread(base, extra)]
    lan = []
    n_dl = max(n_ul // 4, 16)
    for i in range(n_dl):
        s = (i * 7) % sessions
        src = XR_DST if i % 3 else CACHE_DST
        lan.append(("dl_app", bytes(Ether(src=MAC_APP, dst=MAC_LAN) / IP(src=src, dst=ue(s), ttl=64) /
                                    UDP(sport=4000, dport=10000 + s % 50000) / Raw(b"d" * 36))))
    bad_lan = [[("bad:" + kind, malformed(kind, k % sessions))]
               for kind in MALFORMED_LAN for k in range(max(n // 4, 2))]
    lan = [tuple(x) for x in _spread(lan, bad_lan)]
    n9 = []
    for i in range(max(n_ul // 5, 16)):
        s = (i * 13) % sessions
        inner = IP(src=CLOUD_DST, dst=ue(s), ttl=60) / UDP(sport=443, dport=10000 + s % 50000) / Raw(b"c" * 36)
        n9.append(("dl_cloud", bytes(Ether(src=MAC_UPF, dst=MAC_N9) / IP(src=UPF, dst=N9) /
                                     UDP(sport=2152, dport=2152) / _gpdu(N9_TEID0 + s, inner, qfi=5, dl=True))))
    return {"n3": n3, "lan": lan, "n9": n9}, n_inc


def merged_classes(files):
    """The classes of es-loadgen's interleaved sequence (perf/loadgen.c,
    merge_frames): frame j of a file of n frames at (2j + 1) / (2n), ties
    to the file given first. files: [(port, [(class, bytes)])]."""
    nxt = [0] * len(files)
    out = []
    total = sum(len(f) for _, f in files)
    for _ in range(total):
        b = -1
        for i, (_, f) in enumerate(files):
            if nxt[i] == len(f):
                continue
            if b < 0 or (2 * nxt[i] + 1) * len(files[b][1]) < (2 * nxt[b] + 1) * len(f):
                b = i
        out.append(files[b][1][nxt[b]][0])
        nxt[b] += 1
    return out


class Prefix:
    """How many frames of each class the first E frames of the replayed
    sequence hold (the sequence loops)."""

    def __init__(self, classes):
        self.n = len(classes)
        self.kinds = sorted(set(classes))
        self.pos = {k: [i for i, c in enumerate(classes) if c == k] for k in self.kinds}

    def counts(self, e):
        loops, rest = divmod(e, self.n)
        return {k: loops * len(p) + bisect.bisect_left(p, rest) for k, p in self.pos.items()}


def write_pcap(path, frames):
    suite.write_pcap(path, [b for _, b in frames])


def config(sessions, rules, pool_sessions, pool_rules):
    lines = [f"set sessions-max {sessions + 2 * pool_sessions + 16}",
             f"set rules-max {rules + 3 * pool_rules + 64}",
             "set mbufs 131071", "set mbuf-size 2048", f"set frag-timeout-ms {FRAG_TIMEOUT_MS}",
             f"port add n3 dev net_ring_n3 role access addr {N3}/24 mac {MAC_N3}",
             f"port add n9 dev net_ring_n9 role core addr {N9}/24 mac {MAC_N9}",
             f"port add lan dev net_ring_lan role local addr {LAN}/24 mac {MAC_LAN}",
             f"neigh add {GNB} lladdr {MAC_GNB} port n3",
             f"neigh add {GNB2} lladdr {MAC_GNB2} port n3",
             f"neigh add {UPF} lladdr {MAC_UPF} port n9",
             f"neigh add {APP} lladdr {MAC_APP} port lan",
             f"neigh add {APP2} lladdr {MAC_APP2} port lan",
             f"app add xr via {APP}", f"app add cache via {APP2}"]
    for s in range(sessions):
        lines.append(f"session add {s + 1} ue {ue(s)} ul-teid {s + 1} gnb {GNB} gnb-teid {s + 1} "
                     f"cloud {UPF} cloud-teid {s + 1} n9-teid {N9_TEID0 + s} qfi 9")
    lines.append("rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action local xr")
    lines.append("rule add 20 dst 10.201.0.0/16 action local cache")
    # MEC-like filters elsewhere: in the classifier, never hit
    lines += suite.mec_filter_rules(rules - 2, rules)
    return "\n".join(lines) + "\n"


# ---- churn -------------------------------------------------------------------

class Churn(threading.Thread):
    """Changes through the control socket at a steady rate, in turn: rule
    add / change / del, an app down or up, an app moved, an app added or
    deleted, a session added or deleted, a handover (gnb and gnb-teid) of a
    session that carries traffic, a new cloud TEID, a batch. None may
    make the mix lose a packet: no rule the traffic reaches drops, an app
    that goes down falls back to the cloud, no session that traffic uses
    is deleted. Every request must be accepted."""

    KINDS = ["rule add", "rule change", "rule del", "app state", "app via", "app add/del",
             "session add/del", "session handover", "session cloud-teid", "batch"]

    def __init__(self, sock, rate, sessions, rules, pool_rules, pool_sessions, traffic_sessions):
        super().__init__(daemon=True)
        self.sock, self.rate = sock, rate
        self.sessions, self.rules = sessions, rules
        self.pool_rules, self.pool_sessions = pool_rules, pool_sessions
        self.traffic_sessions = traffic_sessions
        self.rnd = random.Random(5)
        self.stop = threading.Event()
        self.lat = {k: [] for k in self.KINDS}
        self.errors = []
        self.ops = 0
        self.rule_pool, self.next_prio = [], 5000000
        self.sess_pool, self.next_sess = [], POOL_ID0
        self.app_pool, self.next_app = [], 0
        self.xr_down = self.cache_moved = False
        self.hit_local = True
        self.handed = {}

    def _rule(self, verb, prio):
        r = self.rnd
        a = r.randrange(1 << 16)
        # 172.16-31.x.0/24: never a destination of the mix; never 'drop'
        return (f"rule {verb} {prio} dst 172.{16 + (a >> 12)}.{a & 255}.0/24 proto "
                f"{r.choice(['tcp', 'udp'])} dport {r.randrange(1, 30000)}-{r.randrange(30000, 65536)} "
                f"action {r.choice(['local xr', 'local cache', 'cloud'])}")

    def _add_rule(self):
        p = self.next_prio
        self.next_prio += 1
        self.rule_pool.append(p)
        return self._rule("add", p)

    def _session_add(self):
        i = self.next_sess
        self.next_sess += 1
        self.sess_pool.append(i)
        return (f"session add {i} ue 10.{200 + (i >> 16) % 40}.{(i >> 8) & 255}.{i & 255} ul-teid {i} "
                f"gnb {GNB} gnb-teid {i} cloud {UPF} cloud-teid {i} qfi 9")

    def request(self, k):
        """The text of the k-th request (kinds in turn)."""
        kind = self.KINDS[k % len(self.KINDS)]
        r = self.rnd
        if kind == "rule add" or (kind == "rule del" and len(self.rule_pool) < self.pool_rules // 2):
            return "rule add", self._add_rule()
        if kind == "rule change":
            c = (k // len(self.KINDS)) % 3
            if c == 0:      # the rule the traffic hits: its app or the cloud
                self.hit_local = not self.hit_local
                return kind, ("rule change 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action "
                              + ("local xr" if self.hit_local else "cloud"))
            if c == 1 and self.rules > 2:   # one of the rules of the config
                return kind, self._rule("change", 100 + r.randrange(self.rules - 2))
            if self.rule_pool:
                return kind, self._rule("change", r.choice(self.rule_pool))
            return "rule add", self._add_rule()
        if kind == "rule del":
            return kind, f"rule del {self.rule_pool.pop(0)}"
        if kind == "app state":
            self.xr_down = not self.xr_down
            return kind, f"app change xr state {'down' if self.xr_down else 'up'}"
        if kind == "app via":
            self.cache_moved = not self.cache_moved
            return kind, f"app change cache via {APP if self.cache_moved else APP2}"
        if kind == "app add/del":
            if len(self.app_pool) >= 4:
                return kind, f"app del {self.app_pool.pop(0)}"
            name = f"churn{self.next_app}"
            self.next_app += 1
            self.app_pool.append(name)
            return kind, f"app add {name} via {r.choice([APP, APP2])}"
        if kind == "session add/del":
            if len(self.sess_pool) >= self.pool_sessions:
                return kind, f"session del {self.sess_pool.pop(0)}"
            return kind, self._session_add()
        if kind == "session handover":
            s = r.randrange(self.traffic_sessions) + 1
            to2 = not self.handed.get(s, False)
            self.handed[s] = to2
            return kind, (f"session change {s} gnb {GNB2 if to2 else GNB} gnb-teid "
                          f"{(0x800000 + s) if to2 else s}")
        if kind == "session cloud-teid":
            s = r.randrange(self.sessions) + 1
            return kind, f"session change {s} cloud {UPF} cloud-teid {0x900000 + r.randrange(1 << 20)}"
        # a batch: rules in and out, a session in or out, all or nothing
        lines = [self._add_rule() for _ in range(4)]
        if len(self.rule_pool) > 8:
            lines += [f"rule del {self.rule_pool.pop(0)}" for _ in range(4)]
        if len(self.sess_pool) >= self.pool_sessions:
            lines.append(f"session del {self.sess_pool.pop(0)}")
        else:
            lines.append(self._session_add())
        return kind, "\n".join(lines) + "\n"

    def run(self):
        try:
            ctl = ctl_bench.Ctl(self.sock, 60)
        except OSError as e:
            self.errors.append(f"cannot connect to {self.sock}: {e}")
            return
        t0, k = time.monotonic(), 0
        try:
            while not self.stop.is_set():
                due = t0 + k / self.rate
                wait = due - time.monotonic()
                if wait > 0:
                    if self.stop.wait(wait):
                        break
                kind, text = self.request(k)
                k += 1
                try:
                    status, body, dt = ctl.request(text)
                except (OSError, ctl_bench.CtlError) as e:
                    self.errors.append(f"{kind}: {e}")
                    break
                self.ops += 1
                self.lat[kind].append(dt)
                if status != ctl_bench.OK:
                    self.errors.append(f"{kind}: '{text.splitlines()[0]}' refused: {body.strip()}")
        finally:
            ctl.close()

    def summary(self):
        out = {}
        for k, v in self.lat.items():
            if v:
                s = sorted(v)
                out[k] = {"requests": len(s), "median_ms": s[len(s) // 2] * 1e3,
                          "p99_ms": s[min(len(s) - 1, int(0.99 * len(s)))] * 1e3, "max_ms": s[-1] * 1e3}
        return out


class StateWatch(threading.Thread):
    """'steerctl -j state show' (the binary) every interval: the state's
    size, digest and rule engine over time."""

    def __init__(self, sock, interval):
        super().__init__(daemon=True)
        self.sock, self.interval = sock, interval
        self.stop = threading.Event()
        self.rows, self.errors = [], []

    def run(self):
        t0 = time.monotonic()
        while not self.stop.wait(self.interval):
            r = subprocess.run([os.path.join(BUILD, "steerctl"), "-s", self.sock, "-t", "30", "-j",
                                "state", "show"], capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                self.errors.append(r.stderr.strip())
                continue
            st = json.loads(r.stdout)["state"]
            self.rows.append({"t": time.monotonic() - t0, "apps": st["apps"], "sessions": st["sessions"],
                              "rules": st["rules"], "digest": st["digest"],
                              "rule_delta": st["rule_engine"]["delta"], "merges": st["rule_engine"]["merges"]})


# ---- the checks ----------------------------------------------------------------

def load_kinds():
    kinds = {}
    for line in open(os.path.join(ROOT, "dataplane", "counters.def")):
        if line.startswith("ES_CNT("):
            parts = [x.strip() for x in line[7:].split(",")]
            kinds[parts[2].strip('"')] = parts[1]
    return kinds


# What each check of a sample belongs to (the verdict's criteria)
CRITERIA = {
    "identity": "the accounting identity holds at every sample",
    "fates": "every frame offered to the data plane had its intended fate (nothing lost in it)",
    "input": "no frame refused by a full input ring (the worker kept up with the offered rate)",
    "mbufs": "mbufs out of the pool = fragments held + End Markers queued, at every sample",
}


def check_sample(x, pre, kinds, n_inc_keys, prev=None):
    """Every exact check of one sample (prev: the one before, for what
    happened in the interval); returns (figures, [(criterion, failure)])."""
    c = x["counters"]
    e = x["enqueued"]
    n = pre.counts(e)
    drops = sum(v for k, v in c.items() if kinds.get(k) == "DROP")
    # a fragment reassembly refuses or times out counts in one DROP counter
    frag_drops = (c["drop_frag_failed"] + c["drop_frag_timeout"] + c["drop_frag_pool_share"]
                  + c["drop_frag_source_share"])
    held = c["frag_rx"] - c["frag_merged"] - frag_drops
    lhs = (c["rx"] + c["mirror"] + c["gtpu_errind_tx"] + c["icmp_time_exceeded_tx"]
           + c["gtpu_end_marker_tx"] + c["frag_reassembled"])
    rhs = c["tx"] + drops + c["frag_merged"] + held
    held_c = n.get("frag_c1", 0) - n.get("frag_c2", 0)      # a pair cut by the sample
    held_i = held - held_c
    f = []

    def eq(crit, what, got, want):
        if got != want:
            f.append((crit, f"{what}: {got} != {want}"))
    if not x["quiescent"]:
        f.append(("identity", "the generator could not stop everything in flight within 5 s"))
    eq("identity", "rx + mirror + gtpu_errind_tx + icmp_time_exceeded_tx + gtpu_end_marker_tx + frag_reassembled "
       "= tx + drops + frag_merged + held", lhs, rhs)
    eq("fates", "data plane rx = frames offered", c["rx"], e)
    eq("fates", "sink received = data plane tx", x["received"], c["tx"])
    refused = x["input_ring_full"] - (prev["input_ring_full"] if prev else 0)
    if refused:
        f.append(("input", f"{refused} frames refused by a full input ring in the interval "
                           f"({x['input_ring_full']} in all)"))
    eq("mbufs", "mbufs out of the pool = fragments held + End Markers queued", x["mbufs_in_use"],
       held + x["ctl_tx_pending"])
    if not 0 <= held_i <= n_inc_keys:
        f.append(("fates", f"fragments held of packets that never complete: {held_i}, not within 0..{n_inc_keys}"))
    eq("fates", "ul_local + ul_cloud = valid uplink + reassembled", c["ul_local"] + c["ul_cloud"],
       n.get("ul", 0) + c["frag_reassembled"])
    eq("fates", "frag_rx", c["frag_rx"], n.get("frag_c1", 0) + n.get("frag_c2", 0) + n.get("frag_i", 0))
    eq("fates", "frag_reassembled = pairs offered", c["frag_reassembled"], n.get("frag_c2", 0))
    eq("fates", "frag_merged = 2 x frag_reassembled", c["frag_merged"], 2 * c["frag_reassembled"])
    eq("fates", "fragments dropped + held = incomplete fragments offered", frag_drops + held_i,
       n.get("frag_i", 0))
    eq("fates", "dl_encap", c["dl_encap"], n.get("dl_app", 0))
    eq("fates", "dl_relay", c["dl_relay"], n.get("dl_cloud", 0))
    eq("fates", "gtpu_echo_req", c["gtpu_echo_req"], n.get("echo", 0))
    eq("fates", "arp_reply", c["arp_reply"], n.get("arp", 0))
    eq("fates", "icmp_echo_reply", c["icmp_echo_reply"], n.get("icmp", 0))
    eq("fates", "drop_gtpu_teid_unknown", c["drop_gtpu_teid_unknown"], n.get("unknown_teid", 0))
    eq("fates", "gtpu_errind_tx + gtpu_errind_limited", c["gtpu_errind_tx"] + c["gtpu_errind_limited"],
       n.get("unknown_teid", 0))
    eq("fates", "mirror", c["mirror"], 0)
    intended = {"drop_gtpu_teid_unknown", "drop_frag_failed", "drop_frag_timeout"}
    for k in MALFORMED_N3 + MALFORMED_LAN:
        intended.add(k)
        eq("fates", k, c[k], n.get("bad:" + k, 0))
    for k, v in c.items():
        if kinds.get(k) == "DROP" and k not in intended and v:
            f.append(("fates", f"{k}: {v} (no frame of the mix means to raise it)"))
    fig = {"t": x["t"], "held": held, "drops": drops, "identity_lhs": lhs, "identity_rhs": rhs}
    return fig, f


def fit_slope(ts, ys):
    """Least-squares slope (units a second)."""
    if len(ts) < 2:
        return 0.0
    mt, my = statistics.fmean(ts), statistics.fmean(ys)
    den = sum((t - mt) ** 2 for t in ts)
    return sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / den if den else 0.0


# Memory is flat when, over the samples after the warm-up, neither the
# growth (the highest value of the last quarter of them less the highest
# of the first quarter) nor the trend (least-squares slope times their
# span) exceeds the bound. Warm-up: the first fifth of the run, at most 300 s.
MEM_BOUNDS = {"rss_bytes": 4 << 20, "heap_alloc_bytes": 2 << 20}


def memory_flat(samples, seconds):
    warm = min(300.0, 0.2 * seconds)
    post = [x for x in samples if x["t"] >= warm]
    res = {"warmup_s": warm, "samples_after_warmup": len(post)}
    ok = True
    for key, bound in MEM_BOUNDS.items():
        if len(post) < 4:
            res[key] = {"ok": False, "why": "fewer than 4 samples after the warm-up"}
            ok = False
            continue
        q = max(len(post) // 4, 1)
        first, last = post[:q], post[-q:]
        growth = max(x[key] for x in last) - max(x[key] for x in first)
        span = post[-1]["t"] - post[0]["t"]
        trend = fit_slope([x["t"] for x in post], [x[key] for x in post]) * span
        r = {"bound": bound, "growth": growth, "trend": trend, "first": post[0][key], "last": post[-1][key],
             "min": min(x[key] for x in post), "max": max(x[key] for x in post),
             "ok": growth <= bound and trend <= bound}
        ok &= r["ok"]
        res[key] = r
    res["ok"] = ok
    return res


# ---- running es-loadgen ------------------------------------------------------

def loadgen_cmd(cfg, pcaps, rate, seconds, out, extra=()):
    mem = 1536
    cmd = [os.path.join(BUILD, "es-loadgen")] + suite.EAL_NOHUGE + ["-m", str(mem), "--", "-c", cfg]
    for port, path in pcaps:
        cmd += ["--pcap", f"{port}={path}"]
    return cmd + ["--rate", str(int(rate)), "--seconds", "%g" % seconds, "--out", out] + list(extra)


def loadgen_trial(d, cfg, pcaps, rate, seconds, churn_args=None, tag="peak"):
    """One es-loadgen run on the mix at rate (0: as fast as the worker
    takes it) for seconds after a 2-s warm-up, with churn_args (Churn's
    arguments less the socket) the same changes as in the soak going in
    through its control socket. Returns es-loadgen's JSON with input_pps
    (the data plane's rx rate) and changes added."""
    out = os.path.join(d, f"{tag}.json")
    extra = ["--warmup", "2"]
    sock = os.path.join(d, f"{tag}.sock")
    if churn_args:
        extra += ["--ctl", sock, "--state", os.path.join(d, f"{tag}-state")]
    log = open(os.path.join(d, f"{tag}.log"), "w")
    pr = subprocess.Popen(loadgen_cmd(cfg, pcaps, rate, seconds, out, extra), stdout=log,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    churn = None
    try:
        if churn_args:
            deadline = time.monotonic() + 120
            while not os.path.exists(sock):
                if pr.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            if os.path.exists(sock):
                churn = Churn(sock, *churn_args)
                churn.start()
                # the changes stop a second before the measured window
                # ends (the socket opens as the warm-up starts), so that
                # no request is cut by es-loadgen's exit
                stop_at = time.monotonic() + 2 + seconds - 1
                while pr.poll() is None and time.monotonic() < stop_at:
                    time.sleep(0.05)
                churn.stop.set()
                churn.join(60)
        pr.wait(300 + seconds)
    finally:
        if churn:
            churn.stop.set()
            churn.join(60)
        if pr.poll() is None:
            pr.kill()
            pr.wait(30)
        log.close()
    if pr.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"es-loadgen ({tag}) failed ({pr.returncode}):\n" + open(log.name).read()[-3000:])
    if churn_args and (churn is None or churn.errors or churn.ops == 0):
        raise RuntimeError(f"the changes during the {tag} run failed: "
                           + (str(churn.errors[:3]) if churn else "no control socket"))
    r = json.load(open(out))
    r["input_pps"] = r["dataplane_rx"] / r["seconds"]
    r["changes"] = churn.ops if churn else 0
    return r


WORKER_CPU = 1  # EAL -l 0,1 (suite.EAL_NOHUGE): lcore 1, the worker, runs on CPU 1
WQ_MASK = "/sys/devices/virtual/workqueue/cpumask"


def isolate_cpu(cpu):
    """What a deployment does with isolcpus or `tuna --isolate`, at run
    time: every thread that may run on cpu and elsewhere too (this
    machine's own services, the kernel's unbound threads, whatever runs
    the test) is moved off cpu, and unbound workqueues with it, so that
    only the worker and the kernel's per-CPU work run there. Threads
    bound to cpu alone and those the kernel keeps are left. Returns what
    restore_cpu() puts back; needs root (else moves what it may)."""
    saved = {"threads": {}, "workqueue": None}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            t = int(tid)
            try:
                cur = os.sched_getaffinity(t)
                if cpu not in cur or len(cur) == 1:
                    continue
                os.sched_setaffinity(t, cur - {cpu})
                saved["threads"][t] = cur
            except OSError:
                pass
    try:
        old = open(WQ_MASK).read().strip()
        mask = int(old, 16) & ~(1 << cpu)
        if mask:
            with open(WQ_MASK, "w") as f:
                f.write("%x\n" % mask)
            saved["workqueue"] = old
    except (OSError, ValueError):
        pass
    return saved


def restore_cpu(saved):
    for t, cpus in saved["threads"].items():
        try:
            os.sched_setaffinity(t, cpus)
        except OSError:
            pass   # gone
    if saved["workqueue"]:
        try:
            with open(WQ_MASK, "w") as f:
                f.write(saved["workqueue"] + "\n")
        except OSError:
            pass


def measure_peak(d, cfg, pcaps, seconds, churn_args=None):
    """The worker's rate on the mix, offered as fast as it takes it, for
    seconds after a 2-s warm-up. With churn_args the changes run through
    the peak run too, as they will through the soak: the rule engine's
    delta costs the worker cycles a packet, and 90 % of a peak measured
    without it is a rate the worker cannot take while rules change."""
    return loadgen_trial(d, cfg, pcaps, 0, seconds, churn_args, "peak")


def measure_throughput(d, cfg, pcaps, peak_pps, trial_s, churn_args=None, resolution=0.05, max_trials=7):
    """RFC 2544 throughput (section 26.1): the highest offered rate at
    which the data plane refuses nothing, by a binary search between 0 and
    the peak, each trial paced for trial_s after a 2-s warm-up with the
    soak's changes going in. A trial fails on any frame refused by a full
    input ring. Stops when the bracket is narrower than resolution x the
    peak or after max_trials. Returns the passing rate and the trials."""
    lo, hi = 0.0, peak_pps
    trials = []
    rate = peak_pps / 2
    for i in range(max_trials):
        r = loadgen_trial(d, cfg, pcaps, rate, trial_s, churn_args, f"trial{i}")
        refused = r["input_ring_full"]
        trials.append({"asked_pps": rate, "offered_pps": (r["generated"] - r["input_ring_full"]) / r["seconds"],
                       "refused": refused, "changes": r["changes"], "seconds": r["seconds"]})
        print(f"soak: trial {i + 1}: {rate / 1e6:.3f} Mpps asked, {trials[-1]['offered_pps'] / 1e6:.3f} offered, "
              f"{refused:,} refused by a full input ring ({r['changes']} changes): "
              f"{'pass' if not refused else 'fail'}", flush=True)
        if refused:
            hi = rate
        else:
            lo = rate
        if hi - lo < resolution * peak_pps:
            break
        rate = (lo + hi) / 2
    return {"pps": lo, "trials": trials, "trial_s": trial_s, "resolution": resolution}


def read_samples(path):
    rows = []
    if os.path.exists(path):
        # one JSON object per sample; objects span lines
        text = open(path).read()
        dec = json.JSONDecoder()
        i = 0
        while True:
            while i < len(text) and text[i] in " \n":
                i += 1
            if i >= len(text):
                break
            try:
                obj, i = dec.raw_decode(text, i)
            except json.JSONDecodeError:
                break   # a line being written
            rows.append(obj)
    return rows


def plots(res, prefix):
    """PNG plots next to the result; none without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("soak: no matplotlib (scripts/deps.sh perf installs it): no plots", file=sys.stderr)
        return []
    s = res["samples"]
    if len(s) < 2:
        return []
    t = [x["t"] / 60 for x in s]
    files = []
    # memory
    fig, axs = plt.subplots(1, 3, figsize=(13, 3.4))
    axs[0].plot(t, [x["rss_bytes"] / 2 ** 20 for x in s], ".-")
    axs[0].set_ylabel("RSS (MiB)")
    axs[1].plot(t, [x["heap_alloc_bytes"] / 2 ** 20 for x in s], ".-")
    axs[1].set_ylabel("DPDK heap allocated (MiB)")
    axs[2].plot(t, [x["mbufs_in_use"] for x in s], ".-", label="mbufs out of the pool")
    axs[2].plot(t, [x["held"] for x in s], "x", label="fragments held")
    axs[2].set_ylabel("mbufs")
    axs[2].legend(fontsize=7)
    w = res["memory"]["warmup_s"] / 60
    for ax in axs:
        ax.axvline(w, color="grey", ls=":", lw=1)
        ax.set_xlabel("minutes")
        ax.grid(True, alpha=.3)
    fig.suptitle("edgesteer soak: memory (dotted: end of the warm-up)")
    fig.tight_layout()
    files.append(prefix + "-memory.png")
    fig.savefig(files[-1], dpi=64)
    plt.close(fig)
    # latency
    fig, axs = plt.subplots(1, 2, figsize=(13, 3.4), sharey=True)
    for ax, key, title in ((axs[0], "dataplane_latency", "in the data plane (rx burst to tx flush)"),
                           (axs[1], "e2e_latency", "end to end (generator to sink)")):
        iv = s[1:]
        ti = [x["t"] / 60 for x in iv]
        for q, lab in (("p50_ns", "p50"), ("p99_ns", "p99"), ("p999_ns", "p99.9"), ("max_ns", "max")):
            ax.plot(ti, [max(x[key][q], 1) / 1000 for x in iv], ".-" if q != "max_ns" else ":", label=lab)
        ax.set_yscale("log")
        ax.set_xlabel("minutes")
        ax.set_title(title, fontsize=9)
        ax.grid(True, alpha=.3)
    axs[0].set_ylabel("latency of the interval's packets (µs)")
    axs[0].legend(fontsize=7)
    fig.tight_layout()
    files.append(prefix + "-latency.png")
    fig.savefig(files[-1], dpi=64)
    plt.close(fig)
    # counters: every counter that moved, as a rate per interval; packet
    # events on the left, drops and the rest on the right
    kinds = load_kinds()
    fig, axs = plt.subplots(1, 2, figsize=(13, 4.6))
    names = [k for k in s[-1]["counters"] if s[-1]["counters"][k] != s[0]["counters"].get(k, 0)]
    styles = ["-", "--", ":", "-."]
    for ax, pick in ((axs[0], lambda k: kinds.get(k) == "PKT"), (axs[1], lambda k: kinds.get(k) != "PKT")):
        shown = [k for k in names if pick(k)]
        for i, k in enumerate(shown):
            ys = []
            for a, b in zip(s, s[1:]):
                dt = max(b["t"] - a["t"], 1e-9)
                v = (b["counters"][k] - a["counters"][k]) / dt
                ys.append(v if v > 0 else float("nan"))
            ax.plot([x["t"] / 60 for x in s[1:]], ys, styles[(i // 10) % 4], marker=".", label=k, lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("minutes")
        ax.grid(True, alpha=.3)
    # the generator's side: what it offered, and what a full input ring refused
    for ax, key, lab in ((axs[0], "enqueued", "offered (generator)"),
                         (axs[1], "input_ring_full", "refused by a full input ring")):
        ys = [(b[key] - a[key]) / max(b["t"] - a["t"], 1e-9) for a, b in zip(s, s[1:])]
        ax.plot([x["t"] / 60 for x in s[1:]], [y if y > 0 else float("nan") for y in ys], "k-",
                lw=2, alpha=.4, label=lab)
    for ax in axs:
        ax.legend(fontsize=6, ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    axs[0].set_ylabel("per second over the interval")
    fig.tight_layout()
    files.append(prefix + "-counters.png")
    fig.savefig(files[-1], dpi=64)
    plt.close(fig)
    return files


def markdown(res):
    """docs/reliability.md's results of one run, from its JSON."""
    s = res["samples"]
    last = s[-1]
    m, mt, tot = res["memory"], res["method"], res["totals"]
    dur = last["t"]
    crit = res["criteria"]
    names = dict(CRITERIA, memory="memory flat after the warm-up (RSS, DPDK heap)",
                 changes="every change accepted", duration="ran its whole length")
    noise = "; ".join(f"CPU {j['cpu']} {j['when']}: {j['lost_pct']:.0f} % of the time taken, longest gap "
                      f"{j['longest_us'] / 1000:.0f} ms" for j in res.get("platform_noise", []))
    pk = res.get("peak")
    out = [f"Run of {res['date'][:16].replace('T', ' ')} UTC, commit {res['commit']}, {res['machine']['cpus']} vCPUs "
           f"({res['machine']['cpu']}): {dur / 60:.0f} minutes, {mt['sessions']:,} sessions, {mt['rules']:,} rules, "
           f"{mt['churn_rate']:g} changes a second, a sample every {mt['interval_s']:g} s "
           f"(`perf/soak.py --seconds {mt['seconds']:g}`). Load average "
           f"{' / '.join(res['loadavg_start'])} at the start, {' / '.join(res['loadavg_end'])} at the end"
           + (f"; es-jitter: {noise}" if noise else "") + ".", "",
           "| criterion | |", "|---|---|"]
    for k, v in crit.items():
        out.append(f"| {names[k]} | {'**pass**' if v else '**FAIL**'} |")
    refused_iv = sum(1 for a, b in zip(s, s[1:]) if b["input_ring_full"] > a["input_ring_full"])
    iv = s[1:]

    def lat(key, q, div=1e3, unit=""):
        xs = sorted(x[key][q] for x in iv)
        return f"{xs[len(xs) // 2] / div:.1f}{' ' + unit if unit else ''} ({xs[-1] / div:.1f}{' ' + unit if unit else ''})"
    r, h = m.get("rss_bytes", {}), m.get("heap_alloc_bytes", {})
    ch = res["churn"]["latency"]
    allv = sorted(v["median_ms"] for v in ch.values())
    out += ["", "| figure | value |", "|---|---|",
            (f"| maximum forwarding rate at the start ({pk['seconds']:.0f} s, "
             + (f"{pk['changes']:,} changes" if pk.get("changes") else "no changes")
             + f") | {pk['input_pps'] / 1e6:.3f} Mpps into the data plane |"
             if pk else f"| offered rate asked | fixed {res['offered_pps'] / 1e3:.0f} kpps |"),
            *([f"| throughput (RFC 2544: nothing refused; {len(tp['trials'])} trials of {tp['trial_s']:g} s "
               f"with the changes) | {tp['pps'] / 1e6:.3f} Mpps; the soak offers {mt['fraction']:.0%} of it |"]
              if (tp := res.get("throughput")) else []),
            f"| offered | {tot['offered_pps_actual'] / 1e6:.3f} Mpps of the {res['offered_pps'] / 1e6:.3f} asked "
            f"({last['enqueued']:,} frames; {last['generator_late']:,} skipped while the generator's vCPU was taken) |",
            f"| sent / dropped as the mix means | {tot['tx']:,} / {sum(tot['drops'].values()):,} |",
            f"| refused by a full input ring | {last['input_ring_full']:,} frames, in {refused_iv} of {len(iv)} intervals |",
            f"| changes | {res['churn']['requests']:,} accepted, {len(res['churn']['errors'])} refused; medians by kind "
            f"{allv[0]:.2f}-{allv[-1]:.2f} ms, worst {max(v['max_ms'] for v in ch.values()):.0f} ms |",
            f"| RSS after the warm-up ({m['warmup_s']:.0f} s) | {r['min'] / 2 ** 20:.1f}-{r['max'] / 2 ** 20:.1f} MiB; growth "
            f"{r['growth'] / 2 ** 10:+.0f} KiB, trend {r['trend'] / 2 ** 10:+.0f} KiB (bound 4 MiB) |",
            f"| DPDK heap allocated after the warm-up | {h['min'] / 2 ** 20:.1f}-{h['max'] / 2 ** 20:.1f} MiB; growth "
            f"{h['growth'] / 2 ** 10:+.0f} KiB, trend {h['trend'] / 2 ** 10:+.0f} KiB (bound 2 MiB) |",
            f"| mbufs out of the pool | {min(x['mbufs_in_use'] for x in s)}-{max(x['mbufs_in_use'] for x in s)} "
            f"of {last['mbufs']:,}, each time the fragments held (+ End Markers queued) |",
            "| latency in the data plane, per interval: median (worst) µs | p50 " + lat("dataplane_latency", "p50_ns")
            + ", p99 " + lat("dataplane_latency", "p99_ns") + ", p99.9 " + lat("dataplane_latency", "p999_ns")
            + " |", "| longest time a packet spent in the data plane, per interval: median (worst) | "
            + lat("dataplane_latency", "max_ns", 1e6, "ms") + " (a stall of the worker's vCPU) |",
            "| latency end to end (generator to sink), per interval: median (worst) µs | p50 " + lat("e2e_latency", "p50_ns")
            + ", p99 " + lat("e2e_latency", "p99_ns") + ", p99.9 " + lat("e2e_latency", "p999_ns") + " |",
            "", "![memory](soak_memory.png)", "", "![latency](soak_latency.png)", "",
            "![counters](soak_counters.png)"]
    return "\n".join(out) + "\n"


def write_csv(res, path):
    s = res["samples"]
    names = list(s[-1]["counters"]) if s else []
    cols = ["t", "quiescent", "pause_s", "enqueued", "received", "input_ring_full", "generator_late",
            "rss_bytes", "heap_alloc_bytes", "heap_allocs", "mbufs_in_use", "held", "ctl_tx_pending"]
    lat = [(k, q) for k in ("dataplane_latency", "e2e_latency") for q in ("packets", "p50_ns", "p99_ns", "p999_ns", "max_ns")]
    with open(path, "w") as f:
        f.write(",".join(cols + [f"{k.split('_')[0]}_{q}" for k, q in lat] + names) + "\n")
        for x in s:
            row = [x[c] for c in cols] + [x[k][q] for k, q in lat] + [x["counters"][n] for n in names]
            f.write(",".join(str(v).lower() if isinstance(v, bool) else str(v) for v in row) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, help="length of the soak (default 3600; --quick 60)")
    ap.add_argument("--fraction", type=float, default=0.9, help="share of the peak offered (default 0.9)")
    ap.add_argument("--rate", type=float, help="offer this many packets a second instead (no peak run)")
    ap.add_argument("--interval", type=float, help="seconds between samples (default 10; --quick 2)")
    ap.add_argument("--sessions", type=int, help="sessions (default 10000; --quick 256)")
    ap.add_argument("--rules", type=int, help="rules (default 1000; --quick 64)")
    ap.add_argument("--churn-rate", type=float, default=20.0, help="changes a second (default 20; 0: none)")
    ap.add_argument("--peak-seconds", type=float, help="length of the peak run (default 10; --quick 1)")
    ap.add_argument("--peak", choices=("throughput", "max"), default="throughput",
                    help="what --fraction is a share of: 'throughput' (default), the RFC 2544 zero-loss "
                         "rate found by a binary search of paced trials below the maximum; 'max', the "
                         "maximum forwarding rate (offered as fast as the worker takes it)")
    ap.add_argument("--trial-seconds", type=float, default=30.0,
                    help="length of each throughput trial (default 30)")
    ap.add_argument("--isolate", action=argparse.BooleanOptionalAction, default=None,
                    help="move every other thread and unbound workqueues off the worker's CPU for "
                         "the run, as isolcpus would (default: as root, except --quick)")
    ap.add_argument("--quick", action="store_true", help="what make test runs")
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--plots-to", help="also write the plots to this directory as soak_*.png")
    ap.add_argument("--markdown", metavar="RESULT.json",
                    help="print docs/reliability.md's results table of a finished run (and with --plots-to, "
                         "its plots there); runs nothing")
    a = ap.parse_args()
    if a.markdown:
        res = json.load(open(a.markdown))
        if a.plots_to:
            import shutil
            for kind in ("memory", "latency", "counters"):
                src = a.markdown[:-5] + f"-{kind}.png"
                if os.path.exists(src):
                    shutil.copy(src, os.path.join(a.plots_to, f"soak_{kind}.png"))
        print(markdown(res), end="")
        return 0
    q = a.quick
    a.seconds = a.seconds or (60 if q else 3600)
    a.interval = a.interval or (2 if q else 10)
    a.sessions = a.sessions or (256 if q else 10000)
    a.rules = a.rules or (64 if q else 1000)
    a.peak_seconds = a.peak_seconds or (1 if q else 10)
    if q and a.rate is None:
        a.rate = 20000
    if a.seconds < 4 * a.interval or not 0 < a.fraction <= 1.0 or a.sessions < 16 or a.rules < 2:
        ap.error("--seconds must be at least 4 intervals, --fraction in (0, 1], --sessions >= 16, --rules >= 2")
    os.makedirs(a.out, exist_ok=True)
    # the driver, the churn and steerctl on the main lcore's CPU (as
    # edgesteer's control thread): the worker's CPU is the data plane's
    try:
        os.sched_setaffinity(0, {0})
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    now = datetime.datetime.utcnow()
    stamp = now.strftime("%Y-%m-%dT%H%M%SZ")
    prefix = os.path.join(a.out, f"soak-{stamp}-{commit}{'-quick' if q else ''}")
    kinds = load_kinds()
    res = {"commit": commit, "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "cpu": suite._cpu_model()},
           "method": {"seconds": a.seconds, "interval_s": a.interval, "fraction": a.fraction,
                      "fixed_rate": a.rate, "peak": None if a.rate else a.peak,
                      "trial_s": a.trial_seconds, "sessions": a.sessions, "rules": a.rules,
                      "churn_rate": a.churn_rate, "quick": q, "frag_timeout_ms": FRAG_TIMEOUT_MS,
                      "memory_bounds": MEM_BOUNDS},
           "loadavg_start": ctl_bench.loadavg()}
    t_start = time.time()
    res["platform_noise"] = []

    def noise(when):
        # the platform's own gaps on the worker's CPU (perf/jitter.c):
        # what a stall in the latency or a full input ring can come from
        # on both CPUs at once, both spinning as in the soak (the
        # generator and the control thread on CPU 0, the worker on 1)
        if q:
            return
        for j in suite.platform_noise_both(3):
            j["when"] = when
            res["platform_noise"].append(j)
            print(f"soak: platform noise, CPU {j['cpu']} ({when}): {j['gaps_per_s']:.0f} gaps a second, "
                  f"{j['lost_pct']:.2f} % of the time lost, longest {j['longest_us']:.0f} us", flush=True)
    if a.isolate is None:
        a.isolate = os.geteuid() == 0 and not q
    # a SIGTERM still puts the CPU's threads back (the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    iso = isolate_cpu(WORKER_CPU) if a.isolate else None
    if iso is not None:
        res["isolation"] = {"cpu": WORKER_CPU, "threads_moved": len(iso["threads"]),
                            "workqueue_mask_was": iso["workqueue"]}
        print(f"soak: CPU {WORKER_CPU} isolated for the worker: {len(iso['threads'])} threads moved off it"
              + (f", unbound workqueues too (mask was {iso['workqueue']})" if iso["workqueue"] else ""),
              flush=True)
    try:
        return run(a, q, res, prefix, kinds, t_start, noise)
    finally:
        if iso is not None:
            restore_cpu(iso)
            print(f"soak: CPU {WORKER_CPU}'s threads and workqueues put back", flush=True)


def run(a, q, res, prefix, kinds, t_start, noise):
    noise("before")
    with tempfile.TemporaryDirectory(prefix="es-soak-") as d:
        print(f"soak: building the mix ({a.sessions} sessions) ...", flush=True)
        n_ul = min(a.sessions, 1024 if q else 8192)
        files, n_inc = build_mix(a.sessions, n_ul)
        order = [("n3", files["n3"]), ("lan", files["lan"]), ("n9", files["n9"])]
        pcaps = []
        for port, frs in order:
            path = os.path.join(d, f"{port}.pcap")
            write_pcap(path, frs)
            pcaps.append((port, path))
        pre = Prefix(merged_classes(order))
        res["mix"] = {"frames": pre.n, "per_class": {k: len(v) for k, v in pre.pos.items()},
                      "per_port": {p: len(f) for p, f in order},
                      "bytes_mean": sum(len(b) for _, f in order for _, b in f) / pre.n}
        pool_rules, pool_sessions = 64, 64
        cfg = os.path.join(d, "soak.conf")
        with open(cfg, "w") as f:
            f.write(config(a.sessions, a.rules, pool_sessions, pool_rules))
        print(f"soak: mix of {pre.n} frames: " + ", ".join(f"{k} {v}" for k, v in res["mix"]["per_class"].items()),
              flush=True)
        if a.rate:
            rate = a.rate
            res["peak"] = None
            print(f"soak: offering a fixed {rate / 1e3:.0f} kpps", flush=True)
        else:
            pk = measure_peak(d, cfg, pcaps, a.peak_seconds,
                              (a.churn_rate, a.sessions, a.rules, pool_rules, pool_sessions, n_ul)
                              if a.churn_rate > 0 else None)
            res["peak"] = pk
            print(f"soak: maximum forwarding rate {pk['input_pps'] / 1e6:.3f} Mpps into the data plane "
                  f"({a.peak_seconds:g} s, {pk['changes']} changes)", flush=True)
            base = pk["input_pps"]
            if a.peak == "throughput":
                tp = measure_throughput(d, cfg, pcaps, pk["input_pps"], a.trial_seconds,
                                        (a.churn_rate, a.sessions, a.rules, pool_rules, pool_sessions, n_ul)
                                        if a.churn_rate > 0 else None)
                res["throughput"] = tp
                if tp["pps"] <= 0:
                    raise RuntimeError("no trial passed: the data plane refused frames at every rate tried "
                                       f"down to {min(t['asked_pps'] for t in tp['trials']) / 1e6:.3f} Mpps")
                base = tp["pps"]
                print(f"soak: throughput (zero loss, trials of {a.trial_seconds:g} s) {base / 1e6:.3f} Mpps",
                      flush=True)
            rate = a.fraction * base
            print(f"soak: offering {a.fraction:.0%} of the {a.peak}: {rate / 1e6:.3f} Mpps", flush=True)
        res["offered_pps"] = rate
        sock = os.path.join(d, "ctl.sock")
        samples_path = os.path.join(d, "samples.jsonl")
        out = os.path.join(d, "lg.json")
        drain = FRAG_TIMEOUT_MS / 1000 + 0.5
        cmd = loadgen_cmd(cfg, pcaps, rate, a.seconds, out,
                          ["--warmup", "0", "--ctl", sock, "--state", os.path.join(d, "state"),
                           "--sample", "%g" % a.interval, "--samples", samples_path, "--drain", "%g" % drain])
        log = open(os.path.join(d, "lg.log"), "w")
        pr = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        churn = watch = None
        try:
            deadline = time.monotonic() + 120 + a.sessions / 2000 + a.rules / 200
            while not read_samples(samples_path):
                if pr.poll() is not None:
                    raise RuntimeError(f"es-loadgen exited {pr.returncode}:\n" + open(log.name).read()[-3000:])
                if time.monotonic() > deadline:
                    raise RuntimeError("es-loadgen did not start in time:\n" + open(log.name).read()[-3000:])
                time.sleep(0.1)
            churn = Churn(sock, a.churn_rate, a.sessions, a.rules, pool_rules, pool_sessions, n_ul)
            watch = StateWatch(sock, a.interval)
            if a.churn_rate > 0:
                churn.start()
            watch.start()
            # the changes stop a second before the offered load does: the
            # last samples (and the drain) see a state at rest, and no
            # request is cut by es-loadgen's exit
            churn_end = time.monotonic() + a.seconds - 1
            print(f"soak: running {a.seconds:g} s, a sample every {a.interval:g} s, "
                  f"{a.churn_rate:g} changes a second", flush=True)
            last, shown = time.monotonic(), 0
            while pr.poll() is None:
                time.sleep(0.5)
                if time.monotonic() - last >= max(60.0, a.interval) or q:
                    rows = read_samples(samples_path)
                    if len(rows) > shown:
                        x = rows[-1]
                        print(f"soak: t {x['t']:7.0f} s  rx {x['counters']['rx']:>13}  RSS "
                              f"{x['rss_bytes'] / 2 ** 20:7.1f} MiB  heap {x['heap_alloc_bytes'] / 2 ** 20:7.1f} MiB  "
                              f"mbufs out {x['mbufs_in_use']:4}  dp p99 {x['dataplane_latency']['p99_ns'] / 1e3:6.1f} us  "
                              f"changes {churn.ops}", flush=True)
                        shown = len(rows)
                    last = time.monotonic()
                if churn.errors:
                    break
                if time.monotonic() >= churn_end and not churn.stop.is_set():
                    churn.stop.set()
                    watch.stop.set()
                # the churn stops before the generator's drain: the last
                # samples are taken with nothing changing
                if time.monotonic() - t_start > a.seconds + 600 + a.sessions / 1000:
                    raise RuntimeError("es-loadgen ran past its time")
        finally:
            for th in (churn, watch):
                if th:
                    th.stop.set()
            for th in (churn, watch):
                if th and th.ident:
                    th.join(60)
            if pr.poll() is None:
                pr.wait(a.interval + drain + 120)
            log.close()
        lg_log = open(log.name).read()
        if pr.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"es-loadgen failed ({pr.returncode}):\n{lg_log[-3000:]}")
        res["loadgen"] = json.load(open(out))
        samples = read_samples(samples_path)
    res["loadavg_end"] = ctl_bench.loadavg()
    noise("after")
    res["soak_seconds"] = time.time() - t_start
    # ---- verdict
    failures = []
    for i, x in enumerate(samples):
        fig, f = check_sample(x, pre, kinds, n_inc, samples[i - 1] if i else None)
        x["held"] = fig["held"]
        if f:
            failures.append({"t": x["t"], "failures": f})
    res["samples"] = samples
    res["churn"] = {"requests": churn.ops if churn else 0, "errors": churn.errors if churn else ["never started"],
                    "latency": churn.summary() if churn else {},
                    "state": watch.rows if watch else [], "state_errors": watch.errors if watch else []}
    res["memory"] = memory_flat(samples, a.seconds)
    last = samples[-1] if samples else None
    if last and last["held"] != 0:
        failures.append({"t": last["t"], "failures": [("fates", f"{last['held']} fragments still held after "
                                                       f"the drain ({drain:g} s, frag-timeout-ms {FRAG_TIMEOUT_MS})")]})
    dur = (last["t"] if last else 0)
    crit = {k: not any(c == k for fl in failures for c, _ in fl["failures"]) for k in CRITERIA}
    crit["memory"] = res["memory"]["ok"]
    crit["changes"] = bool(churn and (churn.ops > 0 or a.churn_rate == 0) and not churn.errors
                           and not watch.errors)
    crit["duration"] = bool(samples) and dur >= a.seconds * 0.99
    res["failures"] = [{"t": fl["t"], "failures": [f"{c}: {w}" for c, w in fl["failures"]]} for fl in failures[:50]]
    res["failed_samples"] = len(failures)
    res["criteria"] = crit
    res["pass"] = all(crit.values())
    # ---- figures
    iv = samples[1:]
    c1 = last["counters"]
    res["totals"] = {"packets_offered": last["enqueued"], "rx": c1["rx"], "tx": c1["tx"],
                     "received": last["received"],
                     "drops": {k: v for k, v in c1.items() if kinds.get(k) == "DROP" and v},
                     "offered_pps_actual": last["enqueued"] / dur if dur else 0,
                     "generator_late": last["generator_late"], "input_ring_full": last["input_ring_full"]}
    lat = {}
    for key in ("dataplane_latency", "e2e_latency"):
        lat[key] = {q: {"median": statistics.median(x[key][q] for x in iv) if iv else 0,
                        "worst": max((x[key][q] for x in iv), default=0)}
                    for q in ("p50_ns", "p99_ns", "p999_ns", "max_ns")}
    res["latency_over_intervals"] = lat
    path = prefix + ".json"
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    write_csv(res, prefix + ".csv")
    pngs = plots(res, prefix)
    if a.plots_to and pngs:
        import shutil
        for p in pngs:
            shutil.copy(p, os.path.join(a.plots_to, "soak_" + p.rsplit("-", 1)[1]))
    # ---- report
    m = res["memory"]
    print()
    print(f"soak: {dur:.0f} s, {len(samples)} samples, {last['enqueued']:,} packets offered "
          f"({res['totals']['offered_pps_actual'] / 1e6:.3f} Mpps), {c1['tx']:,} sent, "
          f"{sum(res['totals']['drops'].values()):,} dropped as the mix intends; "
          f"{res['churn']['requests']} changes")
    late = last["generator_late"]
    print(f"  offered {res['totals']['offered_pps_actual'] / 1e6:.3f} Mpps of the {rate / 1e6:.3f} asked "
          f"({late:,} packets skipped while the generator was descheduled); refused by a full input ring: "
          f"{last['input_ring_full']:,} in {sum(1 for fl in failures if any(c == 'input' for c, _ in fl['failures']))} "
          f"of {len(samples) - 1} intervals")
    for key in ("rss_bytes", "heap_alloc_bytes"):
        r = m.get(key, {})
        if "growth" in r:
            print(f"  {key:17} after the warm-up ({m['warmup_s']:.0f} s): {r['min'] / 2 ** 20:.1f}-{r['max'] / 2 ** 20:.1f} MiB, "
                  f"growth {r['growth'] / 2 ** 10:+.0f} KiB, trend {r['trend'] / 2 ** 10:+.0f} KiB "
                  f"(bound {r['bound'] / 2 ** 20:.0f} MiB): {'ok' if r['ok'] else 'NOT FLAT'}")
    print(f"  mbufs out of the pool: {min(x['mbufs_in_use'] for x in samples)}-{max(x['mbufs_in_use'] for x in samples)}, "
          f"equal to the fragments held (+ End Markers queued) at every sample: "
          f"{'yes' if crit['mbufs'] else 'NO'}")
    for key in ("dataplane_latency", "e2e_latency"):
        z = lat[key]
        print(f"  {key:17} per interval, median (worst) us: p50 {z['p50_ns']['median'] / 1e3:.1f} "
              f"({z['p50_ns']['worst'] / 1e3:.1f}), p99 {z['p99_ns']['median'] / 1e3:.1f} ({z['p99_ns']['worst'] / 1e3:.1f}), "
              f"p99.9 {z['p999_ns']['median'] / 1e3:.1f} ({z['p999_ns']['worst'] / 1e3:.1f}), "
              f"max {z['max_ns']['median'] / 1e3:.0f} ({z['max_ns']['worst'] / 1e3:.0f})")
    for k, v in res["churn"]["latency"].items():
        print(f"  change {k:20} {v['requests']:6} requests, median {v['median_ms']:.2f} ms, "
              f"p99 {v['p99_ms']:.2f}, max {v['max_ms']:.1f}")
    for fl in res["failures"][:5]:
        print(f"  at t={fl['t']:.0f} s: " + "; ".join(fl["failures"][:4]))
    for e in (res["churn"]["errors"] + res["churn"]["state_errors"])[:5]:
        print(f"  change FAILED: {e}")
    names = dict(CRITERIA, memory="memory flat after the warm-up (RSS, DPDK heap)",
                 changes="every change accepted", duration="ran its whole length")
    for k, v in crit.items():
        print(f"  {'PASS' if v else 'FAIL'}  {names[k]}")
    print(f"soak: {'PASS' if res['pass'] else 'FAIL'}; results: {path} (.csv, "
          f"{len(pngs)} plots)")
    return 0 if res["pass"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, ctl_bench.CtlError) as e:
        print(f"soak: {e}", file=sys.stderr)
        sys.exit(2)
