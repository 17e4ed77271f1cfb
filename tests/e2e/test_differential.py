"""Differential test: random packets under random rule and session sets
through the real binary and through an independent model of the rules
(esmodel.py, written from the documentation), compared packet by packet.

Each scenario (esdiffgen.py, from a seed) is a configuration on the
standard test topology and a few thousand packets on the n3, n9 and lan
net_pcap ports: uplink, downlink and End Markers, what edgesteer does as
a router (TTL / hop limit 0-2 and Time Exceeded, inner IPv4 checksums,
IPv6 link scope, GTP-U in GTP-U), GTP-U extension header chains and
padding, ICMP echo to the port addresses. For every packet the model predicts the frames sent (port
and exact bytes) or the drop; the outputs of the binary are matched to
their input by the tag in their inner payload and compared byte for byte
(the first differences are given field by field, decoded by scapy), and
every counter the model predicts is compared with the binary's total.
Scenarios of even seeds start from a saved state whose journal leads to
the configuration (rules classified by the update path), and those of
seeds 3 modulo 4 run three workers; the seed also picks 'gtpu-padding'
and whether 'icmp-rate' is 0 (esdiffgen.Gen.scenario).

Size: ES_DIFF_PACKETS (default 100000) packets in ES_DIFF_SCENARIOS
(default 4) scenarios; ES_DIFF_SEED (default 1) is the seed of the first
scenario, the next ones take the following seeds. docs/reliability.md,
"Differential test", has the longer runs.
"""
import collections
import glob
import json
import logging
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import esharness as h
import esmodel as m
import esdiffgen as g

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

PACKETS = int(os.environ.get("ES_DIFF_PACKETS", "100000"))
SCENARIOS = int(os.environ.get("ES_DIFF_SCENARIOS", "4"))
SEED = int(os.environ.get("ES_DIFF_SEED", "1"))
KEEP = os.environ.get("ES_DIFF_KEEP")        # a directory: keep every run's files there
PORTS = ("n3", "n9", "lan")
SHOW_FIRST = 5           # mismatching packets reported in full
SCAPY_SAMPLE = 300       # expected frames per scenario re-encoded by scapy

# every counter the model can raise, and every DROP counter: compared
# (icmp_err_limited must stay 0: the scenarios' icmp-rate is 0 or too large
# to limit)
PATH_COUNTERS = ("ul_local", "ul_cloud", "ul_fallback", "mirror", "dl_encap",
                 "dl_relay", "gtpu_end_marker_relay", "mirror_not_routed",
                 "icmp_time_exceeded_tx", "icmp_err_suppressed", "icmp_err_limited",
                 "icmp_echo_reply", "gtpu_ext_stripped", "gtpu_padding")


def drop_counters():
    names = []
    with open(os.path.join(h.ROOT, "dataplane", "counters.def")) as f:
        for line in f:
            if line.startswith("ES_CNT("):
                parts = [x.strip() for x in line[7:].split(",")]
                if parts[1] == "DROP":
                    names.append(parts[2].strip('"'))
    return names


# ---- pcap files, read and written here (fast; scapy decodes only what is reported)

def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        e = ">"
    else:
        raise AssertionError(f"{path}: not a pcap file (magic {magic:#x})")
    out, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        if incl != orig:
            raise AssertionError(f"{path}: frame cut to {incl} of {orig} bytes")
        out.append(data[off:off + incl])
        off += incl
    return out


IDLE_MS = 1000       # --idle-exit: the run ends this long after the last packet


def run_scenario(sc, d, timeout=240):
    """The binary on the scenario's packets in directory d: (outputs per
    port, counters, seconds it ran). A run that stopped before it had read
    every packet (--idle-exit while this shared machine held the worker
    back longer than IDLE_MS) is run again once, with four times the idle
    time; twice short, it fails saying so."""
    for idle in (IDLE_MS, 4 * IDLE_MS):
        out, counters, took = _run(sc, d, idle, timeout)
        if counters.get("rx") == len(sc.packets):
            return out, counters, took
    raise AssertionError(f"seed {sc.seed}: edgesteer read {counters.get('rx')} of "
                         f"{len(sc.packets)} packets before its idle exit, twice")


def _run(sc, d, idle_ms, timeout):
    extra = []
    if sc.state is not None:
        state = os.path.join(d, "state")
        for path, text in ((state, sc.state[0]), (state + ".journal", sc.state[1])):
            with open(path, "w") as f:
                f.write(text)
        extra = ["--state", state]
    w = sc.workers
    cmd, stats = h.command(d, sc.cfg.text(), {}, idle_ms=idle_ms, extra_args=extra, workers=w)
    for p in PORTS:
        frames = [x.frame for x in sc.packets if x.port == p]
        for q in range(w):         # one rx queue per worker, dealt round-robin
            write_pcap(os.path.join(d, f"in_{p}_{q}.pcap"), frames[q::w])
    t0 = time.monotonic()
    pr = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                        stdin=subprocess.DEVNULL)
    took = time.monotonic() - t0
    if pr.returncode != 0:
        raise AssertionError(f"seed {sc.seed}: edgesteer exited {pr.returncode}\n"
                             f"{pr.stdout}\n{pr.stderr}")
    with open(stats) as f:
        st = json.load(f)
    out = {p: [fr for q in range(w) for fr in read_pcap(os.path.join(d, f"out_{p}_{q}.pcap"))]
           for p in PORTS}
    return out, st["counters"], took


# ---- comparing

def tag_of(frame):
    i = frame.find(g.TAG_MAGIC)
    if i < 0 or i + 8 > len(frame):
        return None
    return struct.unpack("!I", frame[i + 4:i + 8])[0]


def field_diff(want, got, limit=12):
    """The fields in which two frames differ, decoded by scapy, layer by
    layer; then the first differing byte."""
    from scapy.all import Ether
    from scapy.packet import NoPayload
    a, b = Ether(want), Ether(got)
    lines = []
    la, lb = a, b
    while not isinstance(la, NoPayload) and not isinstance(lb, NoPayload):
        if type(la) is not type(lb):
            lines.append(f"  layer: want {la.name}, got {lb.name}")
            break
        for f in la.fields_desc:
            va, vb = la.getfieldval(f.name), lb.getfieldval(f.name)
            if va != vb:
                lines.append(f"  {la.name}.{f.name}: want {f.i2repr(la, va)}, got {f.i2repr(lb, vb)}")
        la, lb = la.payload, lb.payload
    if len(want) != len(got):
        lines.append(f"  length: want {len(want)}, got {len(got)}")
    for k, (x, y) in enumerate(zip(want, got)):
        if x != y:
            lines.append(f"  first differing byte at offset {k}: want {x:#04x}, got {y:#04x}")
            break
    return lines[:limit] if len(lines) <= limit else lines[:limit] + [f"  ... {len(lines) - limit} more"]


def summary(frame):
    from scapy.all import Ether
    try:
        return Ether(frame).summary()
    except Exception as e:      # scapy gives up: show the bytes
        return f"(scapy: {e}) {frame.hex()}"


def describe(sc, pkt, want, got):
    lines = [f"seed {sc.seed} packet {pkt.idx} ({pkt.kind}) on {pkt.port}:",
             f"  input: {summary(pkt.frame)}",
             f"  input bytes: {pkt.frame.hex()}",
             f"  model: {_fates(want)}",
             f"  edgesteer: {_fates(got)}"]
    w = sorted(want.out)
    gg = sorted(got)
    for (pw, fw), (pg, fg) in zip(w, gg):
        if (pw, fw) != (pg, fg):
            lines.append(f"  want on {pw}: {summary(fw)}")
            lines.append(f"  got on {pg}: {summary(fg)}")
            if pw != pg:
                lines.append(f"  port: want {pw}, got {pg}")
            lines += field_diff(fw, fg)
    return "\n".join(lines)


def _fates(x):
    if isinstance(x, m.Outcome):
        ports = [p for p, _ in x.out]
        c = {k: v for k, v in x.counters.items() if k not in ("rx", "tx")}
        return f"sent on {ports or 'no port'}, counters {c}"
    return f"sent on {[p for p, _ in x] or 'no port'}"


def scapy_recheck(frames):
    """Frames the model built, decoded by scapy with every length and
    checksum of their headers left for scapy to compute again: the bytes
    must be the same. Returns the pairs (frame, scapy's) that differ. Only
    frames whose inner packet scapy decodes whole (TCP, UDP, ICMP echo and
    Time Exceeded; not a fragment)."""
    from scapy.all import ICMP, IP, TCP, UDP, Dot1Q, Ether, IPv6, Raw
    from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6TimeExceeded
    from scapy.contrib.gtp import GTP_U_Header
    bad = []
    for port, fr in frames:
        q = Ether(fr)
        ip = q.payload
        while isinstance(ip, Dot1Q):
            ip = ip.payload
        # GTP-U on N3 and N9; an echo reply there is plain ICMP
        hdrs = _headers(q, tunnelled=port != "lan" and isinstance(ip.payload, UDP))
        inner, l4 = hdrs[-2], hdrs[-1]
        if not isinstance(inner, (IP, IPv6)) or isinstance(inner, IP) and (inner.flags.MF or inner.frag):
            continue
        if not isinstance(l4, (TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6TimeExceeded)):
            continue
        if isinstance(l4, ICMP) and l4.type not in (0, 8, 11):
            continue
        if isinstance(inner, IP) and m.csum(bytes(inner)[:inner.ihl * 4]) != 0:
            continue        # relayed with the wrong header checksum it came with
        if isinstance(l4, (ICMPv6TimeExceeded, ICMP)) and l4.type in (3, 11):
            # an error's quote as bytes: scapy would decode it as a packet
            # and fill what the cut-off quote lacks when it encodes it again
            end = (len(fr) - inner.len + inner.ihl * 4) if isinstance(inner, IP) else len(fr) - inner.plen
            l4.remove_payload()
            l4.add_payload(Raw(fr[end + 8:]))
        for la in hdrs:
            for name in ("len", "chksum", "plen", "cksum", "length"):
                if name not in la.fields:
                    continue
                if isinstance(la, UDP) and name == "chksum" and la.chksum == 0:
                    continue        # no checksum over IPv4: stays 0
                if name == "length" and not isinstance(la, GTP_U_Header):
                    continue        # ICMP's RFC 4884 length: 0 as sent
                if isinstance(la, GTP_U_Header) and name != "length":
                    continue
                setattr(la, name, None)
        if bytes(q) != fr:
            bad.append((fr, bytes(q)))
    return bad


def _headers(p, tunnelled):
    """The header layers of a frame the model built, down to the inner
    packet's L4 header: Ether [IP UDP GTP-U (extensions)] IP L4. Past it,
    scapy decodes the payload by guessing (a UDP port may look like GTP-U
    or DNS): left alone."""
    from scapy.all import IP, IPv6
    from scapy.contrib.gtp import GTP_U_Header
    out, seen_gtp = [], False
    for la in _layers(p):
        out.append(la)
        seen_gtp = seen_gtp or isinstance(la, GTP_U_Header)
        if isinstance(la, (IP, IPv6)) and seen_gtp == tunnelled:
            nxt = la.payload
            while nxt.__class__.__name__.startswith("IPv6ExtHdr"):
                out.append(nxt)
                nxt = nxt.payload
            out.append(nxt)
            return out
    return out


def _layers(p):
    from scapy.packet import NoPayload
    while not isinstance(p, NoPayload):
        yield p
        p = p.payload


class Differential(h.TestCase):
    def test_random_packets_agree_with_the_model(self):
        per = max(1, PACKETS // SCENARIOS)
        drops = drop_counters()
        report, t_all = [], time.monotonic()
        for k in range(SCENARIOS):
            seed = SEED + k
            with self.subTest(seed=seed):
                self._one(seed, per if k < SCENARIOS - 1 else PACKETS - per * (SCENARIOS - 1),
                          drops, report)
        print(f"\ndifferential: {PACKETS} packets in {SCENARIOS} scenarios from seed {SEED}, "
              f"{time.monotonic() - t_all:.1f} s", file=sys.stderr)
        for line in report:
            print("  " + line, file=sys.stderr)

    def _one(self, seed, n, drops, report):
        t0 = time.monotonic()
        sc = g.scenario(seed, n, replay=seed % 2 == 0)
        sc.workers = 3 if seed % 4 == 3 else 1
        t_gen = time.monotonic() - t0
        t0 = time.monotonic()
        want = [sc.model.predict(p.port, p.frame) for p in sc.packets]
        t_model = time.monotonic() - t0
        d = tempfile.mkdtemp(prefix=f"es-diff-{seed}-")
        try:
            out, counters, t_run = run_scenario(sc, d)
            t0 = time.monotonic()
            problems = self._compare(sc, want, out, counters, drops)
            t_cmp = time.monotonic() - t0
            bad = scapy_recheck(self._sample(sc, want))
            for fr, again in bad[:3]:
                problems.append("a frame the model built differs from scapy's encoding of it:\n"
                                + "\n".join(field_diff(again, fr)))
            kinds = collections.Counter(p.kind for p in sc.packets)
            fates = collections.Counter()
            for o in want:
                for c in o.counters:
                    if c not in ("rx", "tx"):
                        fates[c] += o.counters[c]
            decided = collections.Counter(o.rule.prio for o in want if o.rule is not None)
            how = (" (state replayed)" if sc.state else "") + (f" ({sc.workers} workers)" if sc.workers > 1 else "")
            report.append(f"seed {seed}{how}: {n} packets, "
                          f"{len(sc.cfg.sessions)} sessions, "
                          f"{len(sc.cfg.rules)} rules ({len(decided)} decided a packet, "
                          f"the most {max(decided.values(), default=0)}), {sum(a.up for a in sc.cfg.apps.values())}/"
                          f"{len(sc.cfg.apps)} apps up; generate {t_gen:.1f} s, model {t_model:.1f} s, "
                          f"edgesteer {t_run:.1f} s, compare {t_cmp:.1f} s; fates {dict(sorted(fates.items()))}")
            if problems:
                keep = KEEP or tempfile.mkdtemp(prefix=f"es-diff-fail-{seed}-")
                self._keep(d, keep, seed)
                self.fail(f"seed {seed} (rerun: ES_DIFF_SEED={seed} ES_DIFF_SCENARIOS=1 "
                          f"ES_DIFF_PACKETS={n}); files in {keep}\n" + "\n\n".join(problems)
                          + f"\nkinds: {dict(kinds)}")
            if KEEP:
                self._keep(d, KEEP, seed)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    @staticmethod
    def _keep(d, dest, seed):
        os.makedirs(dest, exist_ok=True)
        for f in glob.glob(os.path.join(d, "*")):
            if not f.endswith(".sock"):
                shutil.copy(f, os.path.join(dest, f"{seed}-{os.path.basename(f)}"))

    @staticmethod
    def _sample(sc, want):
        frames = [x for o in want for x in o.out]
        step = max(1, len(frames) // SCAPY_SAMPLE)
        return frames[::step][:SCAPY_SAMPLE]

    def _compare(self, sc, want, out, counters, drops):
        problems = []
        got = collections.defaultdict(list)
        untagged = []
        for p in PORTS:
            for fr in out[p]:
                t = tag_of(fr)
                if t is None or t >= len(sc.packets):
                    untagged.append((p, fr))
                else:
                    got[t].append((p, fr))
        wrong = []
        want_untagged = []
        for pkt, o in zip(sc.packets, want):
            tagged = [x for x in o.out if tag_of(x[1]) == pkt.idx]
            want_untagged += [x for x in o.out if tag_of(x[1]) != pkt.idx]
            if sorted(tagged) != sorted(got.get(pkt.idx, [])):
                wrong.append(pkt.idx)
        if wrong:
            problems.append(f"{len(wrong)} of {len(sc.packets)} packets differ; the first:")
            for i in wrong[:SHOW_FIRST]:
                problems.append(describe(sc, sc.packets[i], want[i], got.get(i, [])))
            byk = collections.Counter(sc.packets[i].kind for i in wrong)
            problems.append(f"differing packets by kind: {dict(byk)}")
        if sorted(want_untagged) != sorted(untagged):
            extra = collections.Counter(untagged) - collections.Counter(want_untagged)
            missing = collections.Counter(want_untagged) - collections.Counter(untagged)
            lines = [f"frames without a tag (End Markers, replies to empty echo requests): "
                     f"{len(want_untagged)} predicted, "
                     f"{len(untagged)} sent"]
            for (p, fr), c in list(extra.items())[:SHOW_FIRST]:
                lines.append(f"  sent, not predicted ({c}x) on {p}: {summary(fr)} {fr.hex()}")
            for (p, fr), c in list(missing.items())[:SHOW_FIRST]:
                lines.append(f"  predicted, not sent ({c}x) on {p}: {summary(fr)} {fr.hex()}")
            problems.append("\n".join(lines))
        total = collections.Counter()
        for o in want:
            total.update(o.counters)
        names = sorted(set(drops) | set(PATH_COUNTERS) | {"rx", "tx"} | set(total))
        diffs = [(n, total.get(n, 0), counters.get(n)) for n in names
                 if total.get(n, 0) != counters.get(n)]
        if diffs:
            lines = ["counters differ (name: model, edgesteer):"]
            for n, a, b in diffs:
                who = [p.idx for p, o in zip(sc.packets, want) if o.counters.get(n)][:8]
                lines.append(f"  {n}: {a}, {b}" + (f" (the model's packets: {who})" if who else ""))
            if not wrong:
                lines.append(first_counter_difference(sc, want, names))
            problems.append("\n".join(lines))
        return problems


def first_counter_difference(sc, want, names):
    """The first packet whose counters differ from the model's, found by
    bisecting on prefixes of the packet list (packets are independent: the
    counters of a prefix are its packets' sums); about log2(n) runs."""
    def differs(n):
        sub = g.Scenario(sc.seed, sc.cfg, sc.packets[:n])
        sub.model, sub.state, sub.workers = sc.model, sc.state, sc.workers
        d = tempfile.mkdtemp(prefix="es-diff-bisect-")
        try:
            _, c, _ = run_scenario(sub, d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        total = collections.Counter()
        for o in want[:n]:
            total.update(o.counters)
        return any(total.get(k, 0) != c.get(k, 0) for k in names), c
    lo, hi = 0, len(sc.packets)        # prefix lo agrees, prefix hi differs
    if not differs(hi)[0]:
        return "  (the counters agree when the run is repeated)"
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if differs(mid)[0]:
            hi = mid
        else:
            lo = mid
    pkt, o = sc.packets[hi - 1], want[hi - 1]
    _, one = differs(hi)
    _, before = differs(hi - 1)
    got = {k: one.get(k, 0) - before.get(k, 0) for k in names}
    return (f"  the first packet whose counters differ: {pkt.idx} ({pkt.kind}) on {pkt.port}: "
            f"{summary(pkt.frame)}\n  input bytes: {pkt.frame.hex()}\n"
            f"  model: {_fates(o)}\n"
            f"  edgesteer: {({k: v for k, v in got.items() if v and k not in ('rx', 'tx')})}")


if __name__ == "__main__":
    import unittest
    unittest.main()
