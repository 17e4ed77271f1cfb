#!/usr/bin/python3
"""make perf: throughput, cycles per packet per stage, in-data-plane latency
and memory of edgesteer on one worker core, next to dpdk-testpmd on the same
virtual ports in the same run. Writes a JSON result file, docs/perf.md's
results section and plots.

Source: net_pcap with infinite_rx (a pcap synthesised here, loaded once into
mbufs and replayed from memory); sink: net_null with no-rx. Every edgesteer
run uses --stage-cycles. See docs/perf.md for the method.

Usage: perf/suite.py [--quick] [--seconds S] [--out DIR] [--no-report]
  --quick   a tiny load of every kind of run (what make test runs)
"""
import argparse
import datetime
import json
import os
import platform
import random
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("ES_BUILD", os.path.join(ROOT, "build"))
EAL = ["-l", "0,1", "--no-huge", "--no-shconf", "--no-pci", "--log-level=error"]

MAC_N3, MAC_GNB, MAC_APP = "02:00:00:00:03:01", "02:00:00:00:00:10", "02:00:00:00:00:20"
N3, GNB, UPF, N9, LAN, APP = "192.0.2.1", "192.0.2.10", "198.51.100.7", "198.51.100.1", "10.100.0.1", "10.100.0.20"
LOCAL_DST, CLOUD_DST = "10.200.0.5", "93.184.216.34"

MIXES = {
    "ul_local": "uplink G-PDU, steered to a local app (decap)",
    "ul_cloud": "uplink G-PDU, relayed to the central UPF",
    "dl_encap": "downlink from a local app, encapsulated to the gNB",
    "mix_80_20": "uplink, 80 % relayed to the cloud and 20 % to local apps",
}


def ue(i):
    return f"10.{64 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"


def ip4b(a):
    return bytes(int(x) for x in a.split("."))


def cksum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


# ---- frames -------------------------------------------------------------

def template(kind, inner_len):
    """One frame built with scapy; the generator patches copies of it."""
    from scapy.all import IP, UDP, Ether, Raw
    from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
    pad = b"x" * max(inner_len - 28, 0)
    if kind == "dl":
        inner = IP(src=LOCAL_DST, dst=ue(0), ttl=64) / UDP(sport=4000, dport=1024, chksum=0) / Raw(pad)
        return bytes(Ether(src=MAC_APP, dst="02:00:00:00:0a:01") / inner)
    dst, dport = (LOCAL_DST, 4000) if kind == "local" else (CLOUD_DST, 443)
    inner = IP(src=ue(0), dst=dst, ttl=64) / UDP(sport=1024, dport=dport, chksum=0) / Raw(pad)
    return bytes(Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB, dst=N3) / UDP(sport=2152, dport=2152) /
                 GTP_U_Header(teid=1, E=1, next_ex=0x85) / GTPPDUSessionContainer(type=1, QFI=9) / inner)


def frames(mix, inner_len, sessions, flows):
    """max(flows, 1024) frames; flow f belongs to session f % sessions and
    differs from the other flows of its session by its UE-side port."""
    n = max(flows, 1024)
    t = {k: bytearray(template(k, inner_len)) for k in ("local", "cloud", "dl")}
    out = []
    for i in range(n):
        f = i % flows
        s = f % sessions
        port = 1024 + (f // sessions) % 60000
        if mix == "dl_encap":
            b = bytearray(t["dl"])
            b[30:34] = ip4b(ue(s))
            b[36:38] = struct.pack("!H", port)
            ip = 14
        else:
            kind = "local" if mix == "ul_local" or (mix == "mix_80_20" and i % 5 == 0) else "cloud"
            b = bytearray(t[kind])
            b[46:50] = struct.pack("!I", s + 1)        # TEID
            b[70:74] = ip4b(ue(s))                     # inner source: the UE
            b[78:80] = struct.pack("!H", port)         # inner source port
            ip = 58
        b[ip + 10:ip + 12] = b"\0\0"
        b[ip + 10:ip + 12] = struct.pack("!H", cksum(bytes(b[ip:ip + 20])))
        out.append(bytes(b))
    return out


def write_pcap(path, frs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, b in enumerate(frs):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(b), len(b)))
            f.write(b)


# ---- configs ------------------------------------------------------------

def config(mix, sessions, rules, mbufs, rings=False):
    src = "net_pcap0"
    if rings:  # es-loadgen's ring ports
        devs = {"n3": "net_ring_n3", "n9": "net_ring_n9", "lan": "net_ring_lan"}
    elif mix == "dl_encap":
        devs = {"n3": "net_null0", "n9": "net_null1", "lan": src}
    else:
        devs = {"n3": src, "n9": "net_null0", "lan": "net_null1"}
    lines = [f"set sessions-max {max(sessions, 8)}", f"set rules-max {max(rules, 8)}",
             f"set mbufs {mbufs}", "set mbuf-size 2048",
             f"port add n3 dev {devs['n3']} role access addr {N3}/24 mac {MAC_N3}",
             f"port add n9 dev {devs['n9']} role core addr {N9}/24",
             f"port add lan dev {devs['lan']} role local addr {LAN}/24 mac 02:00:00:00:0a:01",
             f"neigh add {GNB} lladdr {MAC_GNB} port n3",
             f"neigh add {UPF} lladdr 02:00:00:00:00:07 port n9",
             f"neigh add {APP} lladdr {MAC_APP} port lan",
             f"app add xr via {APP}"]
    for s in range(sessions):
        lines.append(f"session add {s + 1} ue {ue(s)} ul-teid {s + 1} gnb {GNB} gnb-teid {s + 1} "
                     f"cloud {UPF} cloud-teid {s + 1} qfi 9")
    lines.append("rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action local xr")
    rnd = random.Random(rules)
    for k in range(rules - 1):
        # MEC-like filters elsewhere in the address space: never hit here,
        # but every one is in the classifier the packets go through
        a = rnd.randrange(1 << 24)
        first = rnd.choice([100 + (a % 90), 172, 198])
        lines.append(f"rule add {k + 100} dst {first}.{(a >> 8) & 255}.{a & 255}.0/24 "
                     f"proto {rnd.choice(['tcp', 'udp'])} dport {rnd.randrange(1, 30000)}-{rnd.randrange(30000, 65536)} "
                     f"action {rnd.choice(['local xr', 'drop', 'cloud'])}")
    return "\n".join(lines) + "\n"


# ---- runs ---------------------------------------------------------------

def testpmd_pps(pcap, mode, seconds, mbufs, mem_mb):
    """dpdk-testpmd in forward mode 'mode' from net_pcap (infinite_rx) to
    net_null on one core: the median of its per-second Rx-pps on port 0,
    the first (partial) second left out when there are three or more."""
    import re
    out = ""
    for extra in (4, 12):
        # testpmd prints a rate once a second after its start-up (2-3 s,
        # longer on a loaded machine): one retry with a longer window
        cmd = ["timeout", "-s", "INT", "%.1f" % (seconds + extra), "dpdk-testpmd"] + EAL + [
               "-m", str(mem_mb), "--vdev", f"net_pcap0,rx_pcap={pcap},infinite_rx=1",
               "--vdev", "net_null0,no-rx=1", "--", f"--forward-mode={mode}", "--stats-period=1",
               "--nb-cores=1", "--total-num-mbufs=%d" % mbufs]
        out = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL).stdout
        pps = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", out)[0::2] if int(x) > 0]
        if pps:
            break
    if len(pps) >= 3:
        pps = pps[1:]
    if not pps:
        raise RuntimeError("testpmd gave no sample:\n" + out[-2000:])
    pps.sort()
    return pps[len(pps) // 2]


class Runner:
    def __init__(self, workdir, seconds):
        self.d = workdir
        self.seconds = seconds
        self.pcaps = {}

    def pcap(self, mix, inner, sessions, flows):
        key = (mix, inner, sessions, flows)
        if key not in self.pcaps:
            path = os.path.join(self.d, "in_%s_%d_%d_%d.pcap" % key)
            frs = frames(mix, inner, sessions, flows)
            write_pcap(path, frs)
            self.pcaps[key] = (path, len(frs), len(frs[0]))
        return self.pcaps[key]

    def edgesteer(self, mix, inner, sessions, rules, flows):
        path, npk, frame = self.pcap(mix, inner, sessions, flows)
        mbufs = (1 << (npk + 8192).bit_length()) - 1
        cfg = os.path.join(self.d, "es.conf")
        with open(cfg, "w") as f:
            f.write(config(mix, sessions, rules, mbufs))
        stats = os.path.join(self.d, "es.json")
        if os.path.exists(stats):
            os.remove(stats)
        mem = 1024 + mbufs * 2304 // (1 << 20) + sessions * 300 // (1 << 20) + rules // 50
        vdevs = ["--vdev", f"net_pcap0,rx_pcap={path},infinite_rx=1",
                 "--vdev", "net_null0,no-rx=1", "--vdev", "net_null1,no-rx=1"]
        # start-up (config, tables, the pcap into mbufs) is not timed by the
        # data plane; give it time before the measured seconds
        budget = self.seconds + 3 + sessions / 250000 + rules / 8000 + npk / 50000
        t0 = time.time()
        for extra in (0, 10):
            # a SIGINT that lands before start-up is over leaves no stats
            # (a loaded machine starts slowly): one retry, longer
            cmd = ["timeout", "-s", "INT", "%.1f" % (budget + extra), os.path.join(BUILD, "edgesteer")] + \
                EAL + ["-m", str(mem)] + vdevs + ["--", "-c", cfg, "--stats", stats, "--stage-cycles"]
            pr = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if os.path.exists(stats):
                break
        if not os.path.exists(stats):
            raise RuntimeError(f"edgesteer failed ({pr.returncode}):\n{pr.stdout}\n{pr.stderr}")
        with open(stats) as f:
            st = json.load(f)
        c, hz, el = st["counters"], st["tsc_hz"], st["elapsed_s"]
        rx = c["rx"]
        drops = {k: v for k, v in c.items() if k.startswith("drop_") and v}
        res = {"mix": mix, "inner_bytes": inner, "frame_bytes": frame, "sessions": sessions,
               "rules": rules, "flows": flows, "seconds": el, "packets": rx,
               "mpps": rx / el / 1e6, "cycles_per_pkt": hz * el / rx if rx else None,
               "stage_cycles_per_pkt": {k: v / rx for k, v in st["stage_cycles"].items()} if rx else {},
               "latency_ns": {k: v for k, v in st["latency"].items() if k != "buckets"},
               "latency_buckets": st["latency"]["buckets"],
               "memory": st["memory"], "drops": drops, "wall_s": time.time() - t0}
        res["sent"] = c["tx"]
        return res, hz

    def loadgen(self, mix, inner, sessions, rules, flows, rate):
        """End-to-end latency and loss at an offered rate (0: as fast as
        the input ring takes packets, to find the peak)."""
        path, npk, frame = self.pcap(mix, inner, sessions, flows)
        cfg = os.path.join(self.d, "lg.conf")
        with open(cfg, "w") as f:
            f.write(config(mix, sessions, rules, 65535, rings=True))  # rings of 16k
        out = os.path.join(self.d, "lg.json")
        if os.path.exists(out):
            os.remove(out)
        mem = 1536 + sessions * 300 // (1 << 20) + rules // 50
        cmd = [os.path.join(BUILD, "es-loadgen")] + EAL + ["-m", str(mem), "--", "-c", cfg,
               "--pcap", path, "--in", "lan" if mix == "dl_encap" else "n3",
               "--rate", str(int(rate)), "--seconds", str(self.seconds), "--out", out]
        pr = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=120 + self.seconds)
        if not os.path.exists(out):
            raise RuntimeError(f"es-loadgen failed ({pr.returncode}):\n{pr.stdout}\n{pr.stderr}")
        with open(out) as f:
            r = json.load(f)
        r.update({"mix": mix, "inner_bytes": inner, "frame_bytes": frame, "sessions": sessions,
                  "rules": rules, "flows": flows})
        return r

    def testpmd(self, mode, inner, sessions, flows):
        # the same pcap as the mixes at the target point: replaying many
        # distinct mbufs costs the source more, and the floor must include it
        path, npk, frame = self.pcap("ul_local", inner, sessions, flows)
        mbufs = (1 << (npk + 8192).bit_length()) - 1
        pps = testpmd_pps(path, mode, max(self.seconds, 3) + flows / 50000, mbufs,
                          256 + mbufs * 2304 // (1 << 20))
        return {"mode": mode, "inner_bytes": inner, "frame_bytes": frame, "mpps": pps / 1e6}


def plan(quick):
    if quick:
        return dict(sizes=[64], target=(64, 64, 64), rules=[16], sessions=[1], flows=[1],
                    mixes=list(MIXES), latency_mixes=["ul_local"], loads=[0.5])
    return dict(sizes=[64, 1400], target=(100000, 10000, 100000),
                rules=[1, 100, 1000, 10000, 100000], sessions=[1, 1000, 100000, 1000000],
                flows=[1, 1000, 100000], mixes=list(MIXES),
                latency_mixes=["ul_local", "dl_encap"], loads=[0.1, 0.5, 0.9])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--out", default=os.path.join(ROOT, "perf", "results"))
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--reuse", help="take everything but the latency-at-load runs from this result file")
    a = ap.parse_args()
    p = plan(a.quick)
    seconds = a.seconds or (1 if a.quick else 4)
    os.makedirs(a.out, exist_ok=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    S, R, F = p["target"]
    results = {"commit": commit, "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                           "cpu": _cpu_model()},
               "target_point": {"sessions": S, "rules": R, "flows": F},
               "baseline": [], "mixes": [], "scaling": {"rules": [], "sessions": [], "flows": []}}
    t_start = time.time()
    reuse = json.load(open(a.reuse)) if a.reuse else None
    with tempfile.TemporaryDirectory(prefix="es-perf-") as d:
        run = Runner(d, seconds)
        for inner in ([] if reuse else p["sizes"]):
            for mode in ("io", "macswap"):
                b = run.testpmd(mode, inner, S, F)
                results["baseline"].append(b)
                print(f"testpmd {mode:8} inner {inner:5}B: {b['mpps']:6.2f} Mpps", flush=True)
        hz = None
        cache = {}

        def es(mix, inner, s, r, f):
            key = (mix, inner, s, r, f)
            if key not in cache:
                cache[key], _hz = run.edgesteer(mix, inner, s, r, f)
                x = cache[key]
                st = x["stage_cycles_per_pkt"]
                print(f"{mix:9} inner {inner:5}B s={s:<7} r={r:<6} f={f:<6}: {x['mpps']:6.2f} Mpps "
                      f"{x['cycles_per_pkt']:6.1f} cyc/pkt  (rx {st.get('rx', 0):.0f} parse {st.get('parse', 0):.0f} "
                      f"classify {st.get('classify', 0):.0f} action {st.get('action', 0):.0f} tx {st.get('tx', 0):.0f})"
                      f"  p50 {x['latency_ns']['p50_ns'] / 1000:.1f} us p99 {x['latency_ns']['p99_ns'] / 1000:.1f} us"
                      + (f"  DROPS {x['drops']}" if x["drops"] else ""), flush=True)
                cache["hz"] = _hz
            return cache[key]
        for inner in ([] if reuse else p["sizes"]):
            for mix in p["mixes"]:
                results["mixes"].append(es(mix, inner, S, R, F))
        results["latency_at_load"] = []
        for mix in p["latency_mixes"]:
            peak = run.loadgen(mix, 64, S, R, F, 0)
            peak["load"] = "peak"
            results["latency_at_load"].append(peak)
            for frac in p["loads"]:
                x = run.loadgen(mix, 64, S, R, F, peak["achieved_pps"] * frac)
                x["load"] = frac
                results["latency_at_load"].append(x)
            for x in results["latency_at_load"][-1 - len(p["loads"]):]:
                e = x["e2e_latency"]
                print(f"latency {mix:9} load {str(x['load']):5} offered {x['offered_pps'] / 1e6:6.2f} Mpps "
                      f"got {x['achieved_pps'] / 1e6:6.2f} lost {x['lost']:<8} e2e p50 {e['p50_ns'] / 1000:.1f} "
                      f"p99 {e['p99_ns'] / 1000:.1f} p99.9 {e['p999_ns'] / 1000:.1f} max {e['max_ns'] / 1000:.0f} us",
                      flush=True)
        if reuse:
            for k in ("baseline", "mixes", "scaling", "tsc_hz"):
                results[k] = reuse[k]
            results["reused_from"] = os.path.basename(a.reuse)
            cache["hz"] = reuse["tsc_hz"]
        else:
            for r in p["rules"]:
                results["scaling"]["rules"].append(es("ul_local", 64, S, r, F))
            for s in p["sessions"]:
                results["scaling"]["sessions"].append(es("ul_local", 64, s, R, F))
            for f in p["flows"]:
                results["scaling"]["flows"].append(es("ul_local", 64, S, R, f))
        hz = cache.get("hz")
    results["tsc_hz"] = results.get("tsc_hz") or hz
    results["suite_seconds"] = time.time() - t_start
    name = f"{results['date'].replace(':', '')}-{commit}{'-quick' if a.quick else ''}.json"
    path = os.path.join(a.out, name)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    print(f"results: {path} ({results['suite_seconds']:.0f} s)")
    if not a.no_report:
        import report
        report.write(results, path)


def _cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
