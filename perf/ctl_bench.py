#!/usr/bin/python3
"""make perf-ctl: how fast rule updates reach the workers, through the
control socket, while traffic flows.

For each rule count N: edgesteer starts with N rules (perf/suite.py's
config generator) and 1000 sessions on a net_pcap port with infinite_rx
replaying uplink G-PDUs that hit rule 10 (dst 10.200.0.0/16 udp
4000-4999, local app); tx goes to net_null. The script holds one
connection to the control socket (control/ctl_proto.h) and measures:

  - start-up: from exec to the first answer on the socket;
  - the forwarding rate with no updates (rx counter over a few seconds);
  - latency of single updates, request sent to response read (the daemon
    answers after an RCU grace period, so the change is then live on every
    worker): 'rule add' (a new priority), 'rule change' (rule 10, the one
    the traffic hits, toggled between 'local xr' and 'cloud'), 'rule del'
    (the rules just added);
  - sustained updates/s over a window of back-to-back mixed updates (add,
    change, del), one per request and in batches of --batch per request;
    the forwarding rate during each window;
  - packets forwarded and dropped during every phase, from 'counters show'
    (JSON) before and after. No rule the traffic can reach drops, and no
    update makes one that drops: every drop_* delta must be 0.

Every phase is bounded in time (--budget per latency phase, --window per
throughput window): at large N a full rebuild can take seconds per update,
and the number of samples taken is reported with each figure.

Usage: perf/ctl_bench.py [--quick] [--rules N,N,...] [--samples K]
                         [--budget S] [--window S] [--idle S] [--batch B]
                         [--state] [--out DIR]
  --state   the daemon keeps its state file (--state): each accepted change
            is also appended to the journal, as in a deployment
  --quick   small rule counts and few updates (what make test runs)
"""
import argparse
import datetime
import json
import os
import platform
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402  (frames, write_pcap, config, EAL)

ROOT = suite.ROOT
BUILD = os.environ.get("ES_BUILD", os.path.join(ROOT, "build"))

MAGIC = 0x31435345          # ES_CTL_MAGIC
F_JSON = 0x1                # ES_CTL_F_JSON
OK = 0                      # ES_CTL_OK
HDR = struct.Struct("=III")

SESSIONS = 1000
FLOWS = 1000
HIT_RULE = "rule {verb} 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action {action}"
BENCH_PRIO = 10000000       # priorities of the rules the benchmark adds


class CtlError(RuntimeError):
    pass


class Ctl:
    """One persistent connection to the daemon's control socket."""

    def __init__(self, path, timeout):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)

    def close(self):
        self.s.close()

    def _read(self, n):
        b = bytearray()
        while len(b) < n:
            chunk = self.s.recv(min(n - len(b), 1 << 20))
            if not chunk:
                raise CtlError("the daemon closed the control connection")
            b += chunk
        return bytes(b)

    def request(self, text, json_out=False):
        """Send one request; returns (status, body, seconds from the send to
        the whole response read)."""
        data = text.encode()
        t0 = time.perf_counter()
        self.s.sendall(HDR.pack(MAGIC, F_JSON if json_out else 0, len(data)) + data)
        magic, status, n = HDR.unpack(self._read(HDR.size))
        if magic != MAGIC:
            raise CtlError("bad magic 0x%08x in the answer" % magic)
        body = self._read(n)
        return status, body.decode(errors="replace"), time.perf_counter() - t0

    def do(self, text, json_out=False):
        """A request that must succeed: returns (body, seconds)."""
        status, body, dt = self.request(text, json_out)
        if status != OK:
            first = text.splitlines()[0] if text else ""
            raise CtlError(f"the daemon refused '{first}'{' (batch)' if chr(10) in text.strip() else ''}: "
                           f"{body.strip()}")
        return body, dt

    def counters(self):
        body, _ = self.do("counters show", json_out=True)
        return json.loads(body)["counters"]

    def engine(self):
        """The rule engine's figures ('state show -j': generation, base,
        delta, merges, waits)."""
        body, _ = self.do("state show", json_out=True)
        return json.loads(body)["state"].get("rule_engine", {})


def stats(xs):
    """median, p90, p99, max in ms of a list of seconds (nearest rank)."""
    if not xs:
        return {"samples": 0}
    s = sorted(xs)

    def q(p):
        return s[min(len(s) - 1, max(0, int(round(p * len(s) + 0.5)) - 1))] * 1e3
    return {"samples": len(s), "median_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99),
            "max_ms": s[-1] * 1e3, "mean_ms": sum(s) / len(s) * 1e3}


def delta(c0, c1, seconds):
    """What the data plane did between two counter reads."""
    d = {k: c1[k] - c0.get(k, 0) for k in c1}
    drops = {k: v for k, v in d.items() if k.startswith("drop_") and v}
    return {"seconds": seconds, "rx": d["rx"], "tx": d["tx"],
            "ul_local": d.get("ul_local", 0), "ul_cloud": d.get("ul_cloud", 0),
            "rx_minus_tx": d["rx"] - d["tx"],
            "mpps": d["rx"] / seconds / 1e6 if seconds > 0 else 0.0,
            "drops": drops, "dropped": sum(drops.values())}


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return []


class Updates:
    """A stream of mixed updates (add, change, del, in turn) that keeps the
    rule count steady: adds take fresh priorities, dels take the oldest rule
    the stream added, changes take in turn rule 10 (the traffic's rule:
    'local xr' <-> 'cloud'), a rule of the pool, and one of the N rules the
    daemon started with (base_prios: a range), so that changes also hit
    rules of the classifier's base, whose old versions stay there until a
    merge. No request touches a rule twice, so a batch is valid for any
    implementation."""

    def __init__(self, rnd, next_prio, base_prios=None):
        self.rnd = rnd
        self.base_prios = base_prios
        self.next = next_prio
        self.pool = []            # priorities the stream added, oldest first
        self.hit_local = True     # rule 10's action now
        self.nchange = 0
        self.k = 0

    def rule(self, verb, prio):
        r = self.rnd
        a = r.randrange(1 << 16)
        # 172.16-31.x.0/24: never the traffic's destination (10.200.0.5);
        # never 'drop', so a mistake cannot show up as loss
        return (f"rule {verb} {prio} dst 172.{16 + (a >> 12)}.{a & 255}.0/24 proto "
                f"{r.choice(['tcp', 'udp'])} dport {r.randrange(1, 30000)}-{r.randrange(30000, 65536)} "
                f"action {r.choice(['local xr', 'cloud'])}")

    def add(self):
        p = self.next
        self.next += 1
        self.pool.append(p)
        return self.rule("add", p)

    def toggle_hit(self):
        self.hit_local = not self.hit_local
        return HIT_RULE.format(verb="change", action="local xr" if self.hit_local else "cloud")

    def request(self, n):
        """n mixed updates (the stream goes on across requests) as one
        request text; returns (text, n)."""
        lines, touched, hit = [], set(), False
        for _ in range(n):
            k = self.k % 3
            self.k += 1
            if k == 1:
                self.nchange += 1
                if not hit and self.nchange % 3 == 1:
                    lines.append(self.toggle_hit())
                    hit = True
                    continue
                if self.base_prios and self.nchange % 3 == 2:
                    lo, hi = self.base_prios
                    p = self.rnd.randrange(lo, hi)
                    if p not in touched:
                        lines.append(self.rule("change", p))
                        touched.add(p)
                        continue
                # a pool rule that this request neither adds nor deletes
                # (dels take pool[0..n), adds append); else an add
                done = False
                for _try in range(10):
                    if len(self.pool) <= 2 * n + 1:
                        break
                    p = self.pool[self.rnd.randrange(n, len(self.pool) - n)]
                    if p not in touched:
                        lines.append(self.rule("change", p))
                        touched.add(p)
                        done = True
                        break
                if done:
                    continue
            elif k == 2 and len(self.pool) > 2 * n + 1:
                p = self.pool.pop(0)
                lines.append(f"rule del {p}")
                touched.add(p)
                continue
            lines.append(self.add())
            touched.add(self.pool[-1])
        return "\n".join(lines) + "\n", len(lines)


class Daemon:
    def __init__(self, workdir, pcap, npk, rules, extra_rules, state=False):
        self.d = workdir
        self.proc = None
        # --state: every accepted change is also appended to the journal
        self.state = ["--state", os.path.join(workdir, "state-%d" % rules)] if state else []
        self.sock = os.path.join(workdir, "ctl-%d.sock" % rules)
        mbufs = (1 << (npk + 8192).bit_length()) - 1
        cfg = suite.config("ul_local", SESSIONS, rules, mbufs)
        cfg = cfg.replace(f"set rules-max {max(rules, 8)}\n", f"set rules-max {rules + extra_rules}\n")
        self.cfg = os.path.join(workdir, "ctl-%d.conf" % rules)
        with open(self.cfg, "w") as f:
            f.write(cfg)
        # two rule sets live during a rebuild: room for both
        self.mem = 1024 + mbufs * 2304 // (1 << 20) + SESSIONS * 300 // (1 << 20) + rules // 20
        self.vdevs = ["--vdev", f"net_pcap0,rx_pcap={pcap},infinite_rx=1",
                      "--vdev", "net_null0,no-rx=1", "--vdev", "net_null1,no-rx=1"]
        self.log = os.path.join(workdir, "ctl-%d.log" % rules)

    def start(self, timeout):
        """Start it and wait for its first answer; returns (Ctl, seconds).
        The one connection may sit idle through a long --idle phase: the
        daemon's idle time-out is set to its maximum (a day)."""
        cmd = [os.path.join(BUILD, "edgesteer")] + suite.EAL + ["-m", str(self.mem)] + self.vdevs + \
            ["--", "-c", self.cfg, "--ctl", self.sock, "--ctl-idle-timeout", "86400000"] + self.state
        t0 = time.perf_counter()
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"edgesteer exited {self.proc.returncode} during start-up:\n"
                                   + open(self.log).read()[-3000:])
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"edgesteer did not answer on its control socket in {timeout:.0f} s:\n"
                                   + open(self.log).read()[-3000:])
            try:
                c = Ctl(self.sock, timeout)
            except OSError:
                time.sleep(0.02)
                continue
            # the socket listens before the main loop serves: the first
            # answer is the end of the start-up
            c.do("state show")
            return c, time.perf_counter() - t0

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self.logf.close()
        self.proc = None


def latency_phase(ctl, texts, samples, budget, min_samples):
    """Send texts (an iterator of request texts) one at a time until samples
    are taken, or budget seconds have passed and min_samples are taken."""
    lat = []
    t0 = time.perf_counter()
    for text in texts:
        lat.append(ctl.do(text)[1])
        if len(lat) >= samples or (time.perf_counter() - t0 > budget and len(lat) >= min_samples):
            break
    return lat


def window(ctl, gen, per_request, seconds):
    """Back-to-back requests of per_request mixed updates for about seconds
    (at least one request). Returns the figures and the request latencies."""
    e0 = ctl.engine()
    c0 = ctl.counters()
    t0 = time.perf_counter()
    ops = reqs = 0
    lat = []
    while True:
        text, n = gen.request(per_request)
        lat.append(ctl.do(text)[1])
        ops += n
        reqs += 1
        el = time.perf_counter() - t0
        if el >= seconds:
            break
    c1 = ctl.counters()
    el = time.perf_counter() - t0
    e1 = ctl.engine()
    eng = {k: e1.get(k, 0) - e0.get(k, 0) for k in ("merges", "merge_waits", "sync_rebuilds")}
    eng["delta_max"] = e1.get("delta", 0)
    eng["last_merge_ms"] = e1.get("last_merge_ms", 0)
    return {"per_request": per_request, "requests": reqs, "updates": ops, "seconds": el,
            "updates_per_s": ops / el, "requests_per_s": reqs / el,
            "request_latency": stats(lat), "traffic": delta(c0, c1, el), "engine": eng}


def bench_size(workdir, pcap, npk, n, a, rnd):
    samples = a.samples
    res = {"rules": n, "sessions": SESSIONS, "flows": FLOWS, "loadavg_before": loadavg()}
    extra = 2 * samples + 4 * a.batch + 2000
    dmn = Daemon(workdir, pcap, npk, n, extra, a.state)
    ctl = None
    try:
        ctl, res["startup_s"] = dmn.start(timeout=60 + n / 500)
        print(f"N={n}: started in {res['startup_s']:.2f} s", flush=True)
        # let the source fill its ring and the worker settle
        time.sleep(0.5)
        c0, t0 = ctl.counters(), time.perf_counter()
        time.sleep(a.idle)
        res["idle"] = delta(c0, ctl.counters(), time.perf_counter() - t0)
        print(f"N={n}: no updates: {res['idle']['mpps']:.2f} Mpps, dropped {res['idle']['dropped']}", flush=True)

        gen = Updates(rnd, BENCH_PRIO, (100, 100 + n - 1) if n > 1 else None)
        c0, t0 = ctl.counters(), time.perf_counter()
        added = []

        # the three kinds, one request each
        ops = {}

        def add_iter():
            while True:
                p = gen.next
                gen.next += 1
                added.append(p)
                yield gen.rule("add", p)

        def change_iter():
            while True:
                yield gen.toggle_hit()

        def del_iter():
            for p in list(added):
                yield f"rule del {p}"
        mn = min(3, samples)
        # the floor: a request that changes nothing (no build, no grace period)
        ops["round trip (counters show rx)"] = stats(
            latency_phase(ctl, iter(lambda: "counters show rx", None), samples, a.budget, mn))
        ops["rule add"] = stats(latency_phase(ctl, add_iter(), samples, a.budget, mn))
        ops["rule change"] = stats(latency_phase(ctl, change_iter(), samples, a.budget, mn))
        ops["rule del"] = stats(latency_phase(ctl, del_iter(), len(added), 1e9, 0))
        if not gen.hit_local:
            ctl.do(gen.toggle_hit())
        res["latency"] = ops
        res["latency_traffic"] = delta(c0, ctl.counters(), time.perf_counter() - t0)
        for k, v in ops.items():
            print(f"N={n}: {k:30}: {v['samples']:4} samples  median {v['median_ms']:9.2f} ms  "
                  f"p90 {v['p90_ms']:9.2f}  p99 {v['p99_ms']:9.2f}  max {v['max_ms']:9.2f} ms", flush=True)

        # a pool of rules for the mixed stream to change and delete
        pool = [gen.add() for _ in range(4 * a.batch + 10)]
        _, res["pool_batch_s"] = ctl.do("\n".join(pool) + "\n")
        res["pool_batch_rules"] = len(pool)
        res["sustained"] = []
        for per in (1, a.batch):
            w = window(ctl, gen, per, a.window)
            res["sustained"].append(w)
            t = w["traffic"]
            print(f"N={n}: sustained, {per:3} per request: {rate(w['updates_per_s']):>9} updates/s "
                  f"({w['updates']} in {w['seconds']:.1f} s)  traffic {t['mpps']:.2f} Mpps, "
                  f"dropped {t['dropped']}; merges {w['engine']['merges']}, waits "
                  f"{w['engine']['merge_waits']}, delta at end {w['engine']['delta_max']}", flush=True)
        res["loadavg_after"] = loadavg()
    finally:
        if ctl:
            ctl.close()
        dmn.stop()
    return res


def rate(x):
    """Three significant figures, never '0.0' for a slow but real rate."""
    return "%.3g" % x if x < 1000 else "%.0f" % x


def table(results):
    """The human table: one line per rule count and kind of update."""
    out = []
    out.append("%-7s %-30s %7s %10s %10s %10s %10s" % ("rules", "request", "samples", "median ms",
                                                        "p90 ms", "p99 ms", "max ms"))
    for r in results["sizes"]:
        for k, v in r["latency"].items():
            out.append("%-7d %-30s %7d %10.2f %10.2f %10.2f %10.2f" % (
                r["rules"], k, v["samples"], v["median_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"]))
    out.append("")
    out.append("%-7s %-22s %10s %9s %9s %12s %8s %10s %7s %6s %8s" % (
        "rules", "sustained", "updates/s", "requests", "Mpps", "forwarded", "dropped", "seconds",
        "merges", "waits", "delta"))
    for r in results["sizes"]:
        i = r["idle"]
        out.append("%-7d %-22s %10s %9s %9.2f %12d %8d %10.1f" % (
            r["rules"], "no updates", "-", "-", i["mpps"], i["tx"], i["dropped"], i["seconds"]))
        for w in r["sustained"]:
            t = w["traffic"]
            e = w.get("engine", {})
            out.append("%-7d %-22s %10s %9d %9.2f %12d %8d %10.1f %7s %6s %8s" % (
                r["rules"], "mixed, %d per request" % w["per_request"], rate(w["updates_per_s"]),
                w["requests"], t["mpps"], t["tx"], t["dropped"], w["seconds"],
                e.get("merges", "-"), e.get("merge_waits", "-"), e.get("delta_max", "-")))
    out.append("")
    out.append("%-7s %10s %14s %16s" % ("rules", "start-up s", "build N rules s", "batch of adds s"))
    for r in results["sizes"]:
        b = r.get("build_s")
        out.append("%-7d %10.2f %14s %16s" % (r["rules"], r["startup_s"],
                                              "%.2f" % b if b is not None else "-",
                                              "%.3f (%d)" % (r["pool_batch_s"], r["pool_batch_rules"])))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small rule counts, few updates")
    ap.add_argument("--rules", help="rule counts, comma-separated (default 1000,10000,100000)")
    ap.add_argument("--samples", type=int, help="samples per kind of single update (default 200)")
    ap.add_argument("--budget", type=float, help="seconds per latency phase before it stops early (default 20)")
    ap.add_argument("--window", type=float, help="seconds of each sustained window (default 5)")
    ap.add_argument("--idle", type=float, help="seconds of traffic without updates (default 3)")
    ap.add_argument("--batch", type=int, default=100, help="updates per request in the batch window")
    ap.add_argument("--state", action="store_true",
                    help="run the daemon with --state (each change also written to the journal)")
    ap.add_argument("--out", default=os.path.join(BUILD, "perf"))
    a = ap.parse_args()
    q = a.quick
    sizes = [int(x) for x in a.rules.split(",")] if a.rules else ([16, 200] if q else [1000, 10000, 100000])
    a.samples = a.samples or (10 if q else 200)
    a.budget = a.budget or (30 if q else 20)
    a.window = a.window or (0.5 if q else 5)
    a.idle = a.idle or (0.5 if q else 3)
    if q and a.batch == 100:
        a.batch = 10
    if min(sizes) < 1 or a.samples < 1 or a.batch < 3:
        ap.error("rule counts and --samples must be >= 1, --batch >= 3")
    os.makedirs(a.out, exist_ok=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    now = datetime.datetime.utcnow()
    results = {"commit": commit, "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                           "cpu": suite._cpu_model()},
               "method": {"samples": a.samples, "budget_s": a.budget, "window_s": a.window,
                          "idle_s": a.idle, "batch": a.batch, "state": a.state, "sessions": SESSIONS, "flows": FLOWS,
                          "quick": q},
               "loadavg_start": loadavg(), "sizes": []}
    t_start = time.time()
    rnd = random.Random(4)
    with tempfile.TemporaryDirectory(prefix="es-ctl-") as d:
        frs = suite.frames("ul_local", 64, SESSIONS, FLOWS)
        pcap = os.path.join(d, "in.pcap")
        suite.write_pcap(pcap, frs)
        # the start-up of the same daemon with one rule: what start-up at N
        # rules costs more is (about) building the N rules
        base = Daemon(d, pcap, len(frs), 1, 16)
        try:
            c, results["startup_1rule_s"] = base.start(timeout=60)
            c.close()
        finally:
            base.stop()
        for n in sizes:
            r = bench_size(d, pcap, len(frs), n, a, rnd)
            r["build_s"] = max(r["startup_s"] - results["startup_1rule_s"], 0.0)
            results["sizes"].append(r)
    results["loadavg_end"] = loadavg()
    results["bench_seconds"] = time.time() - t_start
    print()
    print(table(results))
    print(f"\nload average (1, 5, 15 min) at start {' '.join(results['loadavg_start'])}, "
          f"at end {' '.join(results['loadavg_end'])}; {os.cpu_count()} CPUs")
    name = f"ctl-{now.strftime('%Y-%m-%dT%H%M%SZ')}-{commit}{'-quick' if q else ''}.json"
    path = os.path.join(a.out, name)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    print(f"results: {path} ({results['bench_seconds']:.0f} s)")


if __name__ == "__main__":
    try:
        main()
    except (CtlError, RuntimeError, OSError) as e:
        print(f"ctl_bench: {e}", file=sys.stderr)
        sys.exit(1)
