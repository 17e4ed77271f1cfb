#!/usr/bin/python3
"""make perf: throughput, cycles per packet per stage, in-data-plane latency
and memory of edgesteer on one worker core, next to dpdk-testpmd on the same
virtual ports in the same run. Writes a JSON result file, its report
(RESULT.md) and plots under --out (build/perf/ by default); no committed
file changes (docs/perf.md's headline table: make perf-report).

Source: net_pcap with infinite_rx (a pcap synthesised here, loaded once into
mbufs and replayed from memory); sink: net_null with no-rx. Every edgesteer
run uses --stage-cycles=16 (one round in 16 timed). See docs/perf.md for the method.

Usage: perf/suite.py [--quick] [--seconds S] [--out DIR] [--no-report] [--no-probes]
                     [--mem auto|huge|thp|4k | --huge] [--only MIX[,MIX...]]
                     [--repeat N] [--rt] [--acl-simd BITS]
  --quick   a tiny load of every kind of run (what make test runs), no
            platform probes
  --out     where the result file, its report and plots go (build/perf/)
  --no-probes  no platform probes (es-jitter, es-memlat, es-coreprobe:
            make bench builds them; the suite skips one not built)
  --mem     DPDK memory of every run (docs/perf.md, method):
            huge  2 MiB hugetlbfs pages the suite reserves (root: it writes
                  /proc/sys/vm/nr_hugepages and restores it at the end)
                  and EAL --in-memory (no hugetlbfs mount, no files)
            thp   EAL --no-huge, edgesteer moves it to transparent huge pages
            4k    EAL --no-huge --no-thp: 4 KiB pages
            auto  (default) huge when the pages can be reserved, else thp;
                  with --quick always thp (make test never needs huge pages)
  --huge    the same as --mem huge
  --rt      put the worker thread (lcore 1) of edgesteer and testpmd under
            SCHED_FIFO (root), so that other work on the machine does not
            preempt it during the measured seconds; the kernel's RT
            throttling then stops it 50 ms every second (off in make perf)
  --only    only these mixes at the target point, 64-byte inner, next to
            testpmd io: no latency-at-load runs, no sweeps, no report
  --repeat N  runs of each mix at the target point with 64-byte inner, the
            mixes in turn; the median run (by cycles/pkt) is reported and
            every run kept in the result file (default 5; 1 with --quick
            or --only)
  --acl-simd BITS  'set acl-simd BITS' in every config (0, 128, 256, 512)
"""
import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (the report of a run: build/perf/RESULT.md)
from report import own  # noqa: E402  (own stages: one definition)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("ES_BUILD", os.path.join(ROOT, "build"))
EAL_NOHUGE = ["-l", "0,1", "--no-huge", "--no-shconf", "--no-pci", "--log-level=error"]
EAL = EAL_NOHUGE  # what the other perf tools run (ctl_bench.py, callgrind.py)
# hugetlbfs pages through memfd: no mount point and no files to clean up
EAL_HUGE = ["-l", "0,1", "--in-memory", "--no-pci", "--log-level=error"]
NR_HUGEPAGES = "/proc/sys/vm/nr_hugepages"
FREE_HUGEPAGES = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
MEM_MODES = {
    "huge": "2 MiB hugetlbfs pages (EAL --in-memory)",
    "thp": "EAL --no-huge, moved to transparent huge pages by edgesteer (dataplane/mem.h)",
    "4k": "EAL --no-huge --no-thp: 4 KiB pages",
}

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


def frames(mix, inner_len, sessions, flows, order="seq"):
    """max(flows, 1024) frames; flow f belongs to session f % sessions and
    differs from the other flows of its session by its UE-side port.
    order "seq": frame i is flow i, so consecutive packets go to
    consecutive sessions (a stream through the session array, which the
    CPU's prefetchers follow); "shuffled": the same frames in a fixed
    random order, each packet's session a random one, as when many UEs'
    traffic interleaves."""
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
    if order == "shuffled":
        random.Random(n).shuffle(out)
    return out


def write_pcap(path, frs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, b in enumerate(frs):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(b), len(b)))
            f.write(b)


# ---- configs ------------------------------------------------------------

# The data plane times one round in this many (--stage-cycles=N): a timed
# round takes ~8 TSC reads, which timing every round added to the very
# runs they measured (A/B on ul_local at the target point, three runs
# each: 220 cycles a packet timed every round, 213 untimed, 213 one in 16;
# docs/perf-notes.md). One in 16 leaves well under a cycle.
STAGE_EVERY = 16

ACL_SIMD = None   # --acl-simd: 'set acl-simd' in every config (None: the data plane's default)


def mec_filter_rules(n, seed):
    """n 'rule add' lines (priorities from 100) of MEC-like filters: a /24
    destination in 100-189.x.x, 172.x.x or 198.x.x, TCP or UDP, a port
    range, action local xr, drop or cloud; the same lines for the same
    seed. make perf, make soak and make restart-bench put them in the
    classifier beside the rules their traffic hits."""
    rnd = random.Random(seed)
    out = []
    for k in range(max(n, 0)):
        a = rnd.randrange(1 << 24)
        first = rnd.choice([100 + (a % 90), 172, 198])
        out.append(f"rule add {k + 100} dst {first}.{(a >> 8) & 255}.{a & 255}.0/24 "
                   f"proto {rnd.choice(['tcp', 'udp'])} dport {rnd.randrange(1, 30000)}-{rnd.randrange(30000, 65536)} "
                   f"action {rnd.choice(['local xr', 'drop', 'cloud'])}")
    return out


def config(mix, sessions, rules, mbufs, rings=False):
    src = "net_pcap0"
    if rings:  # es-loadgen's ring ports
        devs = {"n3": "net_ring_n3", "n9": "net_ring_n9", "lan": "net_ring_lan"}
    elif mix == "dl_encap":
        devs = {"n3": "net_null0", "n9": "net_null1", "lan": src}
    else:
        devs = {"n3": src, "n9": "net_null0", "lan": "net_null1"}
    lines = [f"set acl-simd {ACL_SIMD}"] if ACL_SIMD is not None else []
    lines += [f"set sessions-max {max(sessions, 8)}", f"set rules-max {max(rules, 8)}",
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
    # MEC-like filters elsewhere in the address space: never hit here,
    # but every one is in the classifier the packets go through
    lines += mec_filter_rules(rules - 1, rules)
    return "\n".join(lines) + "\n"


# ---- runs ---------------------------------------------------------------

def pool_size(npk):
    """mbufs for a run replaying npk frames: the replayed copies and 8k to
    spare; a power of two minus one (the mempool's best size) up to 128k
    frames, no more than needed past that (1M flows: 2.4 GB, not 4.8)."""
    if npk <= 131072:
        return (1 << (npk + 8192).bit_length()) - 1
    return npk + 16383


# Flow counts past this replay more frames than the huge-page reservation
# of make perf is sized for: those runs use transparent huge pages.
HUGE_MAX_FLOWS = 100000


def mem_mb(sessions, rules, mbufs):
    """DPDK memory (MiB) an edgesteer run is given with --no-huge."""
    return 1024 + mbufs * 2304 // (1 << 20) + sessions * 300 // (1 << 20) + rules // 50


def eal(mem, mb):
    """EAL options for memory mode 'mem' and a run of mb MiB: with huge
    pages EAL takes them as it needs them (no -m), so that a reservation
    of the largest run's size serves every run."""
    if mem == "huge":
        return list(EAL_HUGE)
    return EAL_NOHUGE + ["-m", str(mb)]


class HugePages:
    """Reserves 2 MiB pages on top of those already there for the runs and
    gives the old count back on leaving, on error, Ctrl-C or SIGTERM."""

    def __init__(self, pages):
        self.pages = pages
        self.prev = None

    def __enter__(self):
        with open(NR_HUGEPAGES) as f:
            self.prev = int(f.read())
        with open(FREE_HUGEPAGES) as f:
            free0 = int(f.read())
        self.old_term = signal.signal(signal.SIGTERM, self._term)
        try:
            with open(NR_HUGEPAGES, "w") as f:
                f.write(str(self.prev + self.pages))
            with open(FREE_HUGEPAGES) as f:
                free = int(f.read())
            if free - free0 < self.pages:
                raise OSError(f"asked for {self.pages} more 2 MiB pages, the kernel gave {free - free0}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    @staticmethod
    def _term(sig, frame):
        raise SystemExit(128 + sig)

    def __exit__(self, *exc):
        if self.prev is not None:
            try:
                with open(NR_HUGEPAGES, "w") as f:
                    f.write(str(self.prev))
            except OSError as e:
                print(f"could not give the huge pages back ({NR_HUGEPAGES} to {self.prev}): {e}",
                      file=sys.stderr)
            self.prev = None
            signal.signal(signal.SIGTERM, self.old_term)
        return False


WORKER_CPU = 1  # EAL -l 0,1: lcore 1, the worker, runs on CPU 1
WORKER_THREADS = ("rte-worker-1", "lcore-worker-1")  # lcore 1 in DPDK 22.11 builds


def _fifo_worker(pid, stop):
    """Puts the lcore-1 thread of process pid or of one of its children
    under SCHED_FIFO as soon as it exists (EAL creates it long before the
    data plane launches the loop). Returns quietly if it never shows."""
    deadline = time.time() + 60
    while time.time() < deadline and not stop.is_set():
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                pids = [pid] + [int(x) for x in f.read().split()]
        except OSError:
            return
        for p in pids:
            try:
                for tid in os.listdir(f"/proc/{p}/task"):
                    with open(f"/proc/{p}/task/{tid}/comm") as f:
                        if f.read().strip() in WORKER_THREADS:
                            os.sched_setscheduler(int(tid), os.SCHED_FIFO, os.sched_param(1))
                            return
            except PermissionError:
                print("--rt: not allowed to use SCHED_FIFO (not root?); the worker runs as usual",
                      file=sys.stderr)
                return
            except OSError:
                pass
        time.sleep(0.02)


def run_cmd(cmd, rt=False):
    """subprocess.run(cmd) capturing text output; with rt, the DPDK
    worker thread it starts runs under SCHED_FIFO."""
    pr = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          stdin=subprocess.DEVNULL)
    stop = threading.Event()
    th = None
    if rt:
        th = threading.Thread(target=_fifo_worker, args=(pr.pid, stop), daemon=True)
        th.start()
    try:
        out, err = pr.communicate()
    except BaseException:
        # SIGTERM, not SIGKILL: 'timeout' passes it on to the DPDK process,
        # which then gives its memory back (and its huge pages)
        pr.terminate()
        try:
            pr.wait(20)
        except subprocess.TimeoutExpired:
            pr.kill()
            pr.wait()
        raise
    finally:
        stop.set()
        if th:
            th.join()
    return subprocess.CompletedProcess(cmd, pr.returncode, out, err)


# the platform probes run (make perf); not with --quick or --no-probes
PROBES = True


def _probes(tool, arg_lists, timeout):
    """Run a platform probe of perf/ (es-jitter, es-memlat, es-coreprobe)
    once per argument list, all at the same time, each with --json, and
    return what each wrote (in order); None when the tool is not built
    or the probes are off (PROBES)."""
    if not PROBES:
        return None
    exe = os.path.join(BUILD, tool)
    if not os.path.exists(exe):
        print(f"{tool}: {exe} not built (make bench); skipped", flush=True)
        return None
    with tempfile.TemporaryDirectory(prefix=tool + "-") as d:
        outs = [os.path.join(d, f"p{i}.json") for i in range(len(arg_lists))]
        prs = [subprocess.Popen([exe] + args + ["--json", o], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
               for args, o in zip(arg_lists, outs)]
        res = []
        try:
            for pr, o in zip(prs, outs):
                _, err = pr.communicate(timeout=timeout)
                if pr.returncode != 0 or not os.path.exists(o):
                    raise RuntimeError(f"{tool} failed ({pr.returncode}): {err}")
                with open(o) as f:
                    res.append(json.load(f))
        finally:
            for pr in prs:   # a timeout or a failure: none left running
                if pr.poll() is None:
                    pr.kill()
                    pr.wait()
        return res


def _probe(tool, args, timeout):
    """One run of a platform probe (_probes): what it wrote, or None."""
    r = _probes(tool, [args], timeout)
    return r[0] if r else None


def platform_noise(cpu, seconds):
    """es-jitter on the worker's CPU (perf/jitter.c): the gaps the platform
    makes in a spinning thread. None when the tool is not built."""
    return _probe("es-jitter", ["--cpu", str(cpu), "--seconds", "%g" % seconds], seconds + 60)


def platform_noise_both(seconds):
    """es-jitter on both CPUs at once: a thread spinning on each, as in the
    end-to-end runs (the generator and sink on CPU 0, the worker on 1).
    A list of two results (CPU 0, CPU 1), or [] when the tool is not
    built."""
    return _probes("es-jitter", [["--cpu", str(c), "--seconds", "%g" % seconds] for c in (0, WORKER_CPU)],
                   seconds + 60) or []


# es-memlat's sizes in a quick run (make test): an L1, an L2 and a DRAM figure
MEMLAT_QUICK = ["--sizes", "16,512,65536", "--loads", "100000"]


def platform_memory(cpu, quick):
    """es-memlat on the worker's CPU (perf/memlat.c): a random line's cost
    by working-set size. None when the tool is not built."""
    return _probe("es-memlat", ["--cpu", str(cpu)] + (MEMLAT_QUICK if quick else []), 120)


def core_probe(cpu):
    """es-coreprobe on the worker's CPU (perf/coreprobe.c): ALU throughput
    and L1 latency, TSC cycles; None when the tool is not built."""
    return _probe("es-coreprobe", ["--cpu", str(cpu)], 60)


def core_alu_around(work):
    """work() with es-coreprobe on the worker's CPU right before and after
    it: (its result, [ALU before, ALU after]), the pair None when the tool
    is not built."""
    c0 = core_probe(WORKER_CPU)
    r = work()
    c1 = core_probe(WORKER_CPU) if c0 else None
    return r, ([c0["alu"]["median"], c1["alu"]["median"]] if c0 and c1 else None)


def testpmd_pps(pcap, mode, seconds, mbufs, mem_mb, mem="4k", rt=False):
    """dpdk-testpmd in forward mode 'mode' from net_pcap (infinite_rx) to
    net_null on one core: the median of its per-second Rx-pps on port 0,
    the first (partial) second left out when there are three or more."""
    out = ""
    for extra in (4, 12):
        # testpmd prints a rate once a second after its start-up (2-3 s,
        # longer on a loaded machine): one retry with a longer window
        cmd = ["timeout", "-s", "INT", "%.1f" % (seconds + extra), "dpdk-testpmd"] + eal(mem, mem_mb) + [
               "--vdev", f"net_pcap0,rx_pcap={pcap},infinite_rx=1",
               "--vdev", "net_null0,no-rx=1", "--", f"--forward-mode={mode}", "--stats-period=1",
               "--nb-cores=1", "--total-num-mbufs=%d" % mbufs]
        out = run_cmd(cmd, rt).stdout
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
    def __init__(self, workdir, seconds, mem="thp", rt=False):
        self.rt = rt
        self.d = workdir
        self.seconds = seconds
        self.mem = mem
        self.thp = [] if mem == "thp" else ["--no-thp"]
        self.pcaps = {}

    def pcap(self, mix, inner, sessions, flows, order="seq"):
        key = (mix, inner, sessions, flows, order)
        if key not in self.pcaps:
            path = os.path.join(self.d, "in_%s_%d_%d_%d_%s.pcap" % key)
            frs = frames(mix, inner, sessions, flows, order)
            write_pcap(path, frs)
            self.pcaps[key] = (path, len(frs), len(frs[0]))
        return self.pcaps[key]

    def edgesteer(self, mix, inner, sessions, rules, flows, order="seq"):
        path, npk, frame = self.pcap(mix, inner, sessions, flows, order)
        mbufs = pool_size(npk)
        cfg = os.path.join(self.d, "es.conf")
        with open(cfg, "w") as f:
            f.write(config(mix, sessions, rules, mbufs))
        stats = os.path.join(self.d, "es.json")
        if os.path.exists(stats):
            os.remove(stats)
        mem = mem_mb(sessions, rules, mbufs)
        vdevs = ["--vdev", f"net_pcap0,rx_pcap={path},infinite_rx=1",
                 "--vdev", "net_null0,no-rx=1", "--vdev", "net_null1,no-rx=1"]
        # the data plane stops itself self.seconds after its workers start
        # (--run-for), however long start-up (config, tables, the pcap into
        # mbufs) takes on this machine; the outer timeout only guards a hang
        guard = self.seconds + 120 + sessions / 25000 + rules / 800 + npk / 5000
        t0 = time.time()
        cmd = ["timeout", "-s", "INT", "%.1f" % guard, os.path.join(BUILD, "edgesteer")] + \
            eal(self.mem, mem) + vdevs + ["--", "-c", cfg, "--stats", stats,
                                          "--run-for", "%g" % self.seconds,
                                          f"--stage-cycles={STAGE_EVERY}"] + self.thp
        pr = run_cmd(cmd, self.rt)
        if pr.returncode != 0 or not os.path.exists(stats):
            raise RuntimeError(f"edgesteer failed ({pr.returncode}):\n{pr.stdout}\n{pr.stderr}")
        with open(stats) as f:
            st = json.load(f)
        c, hz, el = st["counters"], st["tsc_hz"], st["elapsed_s"]
        rx = c["rx"]
        drops = {k: v for k, v in c.items() if k.startswith("drop_") and v}
        res = {"mix": mix, "inner_bytes": inner, "frame_bytes": frame, "sessions": sessions,
               "rules": rules, "flows": flows, "order": order, "seconds": el, "packets": rx,
               "mpps": rx / el / 1e6, "cycles_per_pkt": hz * el / rx if rx else None,
               # stages: the timed rounds only (one in STAGE_EVERY)
               "stage_cycles_per_pkt": {k: v / st["stage_packets"] for k, v in st["stage_cycles"].items()}
               if st.get("stage_packets") else {},
               "stage_packets": st.get("stage_packets", 0), "stage_every": STAGE_EVERY,
               "latency_ns": {k: v for k, v in st["latency"].items() if k != "buckets"},
               "latency_buckets": st["latency"]["buckets"],
               "memory": st["memory"], "drops": drops, "wall_s": time.time() - t0}
        res["sent"] = c["tx"]
        m = re.search(r"rte_acl, method (\w+)(?:, the fastest here \(cycles a packet on a probe rule set: ([^)]*)\))?",
                      pr.stdout)
        if m:
            res["acl_method"] = m.group(1)
            res["acl_probe"] = {k: float(v) for k, v in
                                (x.split() for x in m.group(2).split(", "))} if m.group(2) else {}
        m = re.search(r"(\d+) MiB on transparent huge pages", pr.stdout)
        res["thp_mib"] = int(m.group(1)) if m else 0
        return res, hz

    def loadgen(self, mix, inner, sessions, rules, flows, rate, ring=None, burst=None, seconds=None):
        """End-to-end latency and loss at an offered rate (0: as fast as
        the input ring takes packets, to find the peak)."""
        path, npk, frame = self.pcap(mix, inner, sessions, flows)
        cfg = os.path.join(self.d, "lg.conf")
        with open(cfg, "w") as f:
            f.write(config(mix, sessions, rules, 131071, rings=True))  # rings of 64k
        out = os.path.join(self.d, "lg.json")
        if os.path.exists(out):
            os.remove(out)
        mem = 1536 + sessions * 300 // (1 << 20) + rules // 50
        cmd = [os.path.join(BUILD, "es-loadgen")] + eal(self.mem, mem) + ["--", "-c", cfg,
               "--pcap", path, "--in", "lan" if mix == "dl_encap" else "n3",
               "--rate", str(int(rate)), "--seconds", str(seconds or self.seconds), "--out", out] + self.thp \
            + (["--ring", str(ring)] if ring else []) + (["--burst", str(burst)] if burst else [])
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
        mbufs = pool_size(npk)
        pps = testpmd_pps(path, mode, max(self.seconds, 3) + flows / 50000, mbufs,
                          256 + mbufs * 2304 // (1 << 20), "huge" if self.mem == "huge" else "4k", self.rt)
        return {"mode": mode, "inner_bytes": inner, "frame_bytes": frame, "mpps": pps / 1e6}


def ndr_search(run, mix, peak_pps, S, R, F, steps, seconds):
    """The no-drop rate (RFC 2544 throughput): the highest rate, offered in
    bursts of 32, at which a trial of `seconds` lost nothing (neither at
    the input ring nor in the data plane), by bisection between half the
    peak and the peak in `steps` trials. Returns {ndr_pps (None: every
    trial lost), trials: [{rate_pps, lost, ring_full, dropped, late}]}."""
    lo, hi, best, trials = 0.5 * peak_pps, peak_pps, None, []
    for _ in range(steps):
        rate = lo if not trials else (lo + hi) / 2
        x = run.loadgen(mix, 64, S, R, F, rate, seconds=seconds)
        lost = x["input_ring_full"] + x["dataplane_drops"]
        trials.append({"rate_pps": rate, "lost": lost, "ring_full": x["input_ring_full"],
                       "dropped": x["dataplane_drops"], "late": x["generator_late"]})
        if lost == 0:
            best = lo = rate
        elif len(trials) == 1:
            break   # half the peak already lost: nothing to bisect
        else:
            hi = rate
    return {"mix": mix, "peak_pps": peak_pps, "ndr_pps": best, "trial_s": seconds, "trials": trials}


def plan(quick, only=None):
    if only:
        return dict(sizes=[64], target=(100000, 10000, 100000), rules=[], sessions=[], flows=[],
                    mixes=only, latency_mixes=[], loads=[], baseline=["io"], shuffled=[], size_sweep=[])
    if quick:
        return dict(sizes=[64], target=(64, 64, 64), rules=[16], sessions=[1], flows=[1],
                    mixes=list(MIXES), latency_mixes=["ul_local"], loads=[0.5], shuffled=["ul_local"],
                    size_sweep=[64, 256], ndr_steps=2, ndr_s=0.3)
    return dict(sizes=[64, 1400], target=(100000, 10000, 100000),
                rules=[1, 100, 1000, 10000, 100000], sessions=[1, 1000, 100000, 1000000],
                flows=[1, 1000, 100000, 1000000], mixes=list(MIXES),
                latency_mixes=["ul_local", "dl_encap"], loads=[0.1, 0.5, 0.9],
                shuffled=list(MIXES), size_sweep=[64, 256, 512, 1024, 1400],
                # the no-drop rate: half the peak, then five halvings of
                # the interval (to 1/64 of the peak), 1-s trials
                ndr_steps=6, ndr_s=1.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--out", default=os.path.join(BUILD, "perf"))
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--no-probes", action="store_true",
                    help="no platform probes (es-jitter, es-memlat, es-coreprobe); always so with --quick")
    ap.add_argument("--reuse", help="take everything but the latency-at-load runs from this result file")
    ap.add_argument("--mem", choices=["auto"] + list(MEM_MODES), default="auto")
    ap.add_argument("--huge", action="store_true", help="the same as --mem huge")
    ap.add_argument("--only", help="comma-separated mixes at the target point only")
    ap.add_argument("--rt", action="store_true", help="the worker thread under SCHED_FIFO")
    ap.add_argument("--acl-simd", type=int, choices=[0, 128, 256, 512],
                    help="rte_acl SIMD width (set acl-simd); default: the fastest here, measured at start-up")
    ap.add_argument("--repeat", type=int, default=None,
                    help="runs of each mix at the target point, 64-byte inner (the median is "
                         "reported; default 5 for the full suite, 1 with --quick or --only)")
    a = ap.parse_args()
    global ACL_SIMD, PROBES
    ACL_SIMD = a.acl_simd
    PROBES = not (a.no_probes or a.quick)
    if a.huge:
        a.mem = "huge"
    only = a.only.split(",") if a.only else None
    for m in only or []:
        if m not in MIXES:
            ap.error(f"--only: unknown mix '{m}' (known: {', '.join(MIXES)})")
    if only:
        a.no_report = True
    p = plan(a.quick, only)
    mem = a.mem
    if mem == "auto" and a.quick:
        mem = "thp"
    # the largest run of the plan sizes the reservation of huge pages
    npk = max([1024, p["target"][2]] + [f for f in p["flows"] if f <= HUGE_MAX_FLOWS])
    need_mb = max(mem_mb(max([p["target"][0]] + p["sessions"]), max([p["target"][1]] + p["rules"]),
                         pool_size(npk)),
                  1536 + p["target"][0] * 300 // (1 << 20) + p["target"][1] // 50)
    pages = (need_mb + 1) // 2
    stack = contextlib.ExitStack()
    if mem in ("auto", "huge"):
        try:
            stack.enter_context(HugePages(pages))
            mem = "huge"
            print(f"memory: {pages} 2 MiB huge pages reserved for the runs ({NR_HUGEPAGES}; "
                  f"given back at the end)", flush=True)
        except OSError as e:
            if mem == "huge":
                sys.exit(f"suite: --mem huge: cannot reserve {pages} 2 MiB pages: {e}")
            mem = "thp"
            print(f"memory: cannot reserve {pages} 2 MiB huge pages ({e}); falling back to --mem thp "
                  f"({MEM_MODES['thp']})", flush=True)
    with stack:
        _run(a, p, mem, pages if mem == "huge" else 0)


def _run(a, p, mem, pages):
    seconds = a.seconds or (1 if a.quick else 4)
    repeat = a.repeat or (1 if a.quick or a.only else 5)
    if repeat < 1:
        sys.exit("suite: --repeat takes a positive number")
    os.makedirs(a.out, exist_ok=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    S, R, F = p["target"]
    results = {"commit": commit, "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                           "cpu": _cpu_model()},
               "target_point": {"sessions": S, "rules": R, "flows": F},
               "memory_mode": {"mode": mem, "text": MEM_MODES[mem], "hugepages_reserved": pages,
                               "testpmd": "huge" if mem == "huge" else "4k"},
               "worker_sched": "SCHED_FIFO" if a.rt else "SCHED_OTHER",
               "baseline": [], "mixes": [], "mixes_shuffled": [],
               "scaling": {"rules": [], "sessions": [], "flows": []}}
    t_start = time.time()
    reuse = json.load(open(a.reuse)) if a.reuse else None
    # the platform's own gaps on the worker's CPU (lcore 1 = CPU 1), before
    # and after the runs: what the cycle and latency figures include
    results["platform_noise"] = []
    noise_s = 0.3 if a.quick else 3

    def noise(when):
        j = platform_noise(WORKER_CPU, noise_s)
        if j is not None:
            j["when"] = when
            results["platform_noise"].append(j)
            print(f"platform noise, CPU {WORKER_CPU} ({when}): {j['gaps_per_s']:.0f} gaps a second over "
                  f"{j['threshold_us']:g} us, {j['lost_pct']:.2f} % of the time lost, longest "
                  f"{j['longest_us']:.0f} us", flush=True)
    noise("start")
    if p["latency_mixes"]:
        # both vCPUs busy, as in the end-to-end runs: the stalls that set
        # their tails and any loss at the input ring
        for j in platform_noise_both(noise_s):
            j["when"] = "both CPUs spinning"
            results["platform_noise"].append(j)
            print(f"platform noise, CPU {j['cpu']} (both CPUs spinning): {j['gaps_per_s']:.0f} gaps a second, "
                  f"{j['lost_pct']:.2f} % of the time lost, longest {j['longest_us']:.0f} us", flush=True)
    # where the caches the worker's CPU gets end (the session tables'
    # working set against them: docs/perf-notes.md, "Memory latency")
    results["platform_memory"] = platform_memory(WORKER_CPU, a.quick)
    if results["platform_memory"]:
        print("memory latency, CPU %d: " % WORKER_CPU + ", ".join(
            f"{z['kib']} KiB {z['cycles']:.0f}" for z in results["platform_memory"]["sizes"])
            + " cycles a load", flush=True)
    with tempfile.TemporaryDirectory(prefix="es-perf-") as d:
        run = Runner(d, seconds, mem, a.rt)
        print(f"memory mode: {mem}: {MEM_MODES[mem]}", flush=True)
        for inner in ([] if reuse else p["sizes"]):
            for mode in p.get("baseline", ("io", "macswap")):
                b = run.testpmd(mode, inner, S, F)
                results["baseline"].append(b)
                print(f"testpmd {mode:8} inner {inner:5}B: {b['mpps']:6.2f} Mpps", flush=True)
        hz = None
        cache = {}
        def io_at(inner):
            """testpmd io's baseline at inner bytes from the start of the run, or None."""
            return next((b for b in results["baseline"] if b["mode"] == "io" and b["inner_bytes"] == inner), None)

        # testpmd io at 64 bytes again through the run: how much the
        # host's load moved the floor while the figures were taken
        results["baseline_checks"] = [{"when": "start", "mpps": io_at(64)["mpps"]}] if io_at(64) else []

        def core(check):
            """The worker's core next to a floor check: shared or alone."""
            c = core_probe(WORKER_CPU)
            if c is not None:
                check["core"] = c
                print(f"core of CPU {WORKER_CPU} ({check['when']}): ALU {c['alu']['median']:.2f}, "
                      f"L1 {c['l1']['median']:.2f} TSC cycles", flush=True)
        for c in results["baseline_checks"]:
            core(c)

        def io_check(when):
            if reuse or not results["baseline_checks"]:
                return
            b = run.testpmd("io", 64, S, F)
            results["baseline_checks"].append({"when": when, "mpps": b["mpps"]})
            print(f"testpmd io       inner    64B: {b['mpps']:6.2f} Mpps  ({when})", flush=True)
            core(results["baseline_checks"][-1])

        def es(mix, inner, s, r, f, fresh=False, runner=None, order="seq"):
            """One edgesteer run (cached by its point unless fresh), on
            runner when given (another memory mode: marked in the result
            and the line), with the frames in order (frames())."""
            key = (mix, inner, s, r, f, order)
            if fresh or key not in cache:
                x, _hz = (runner or run).edgesteer(mix, inner, s, r, f, order)
                other = runner is not None and runner.mem != run.mem
                if other:
                    x["memory_mode"] = runner.mem
                cache[key] = x
                st = x["stage_cycles_per_pkt"]
                print(f"{mix:9} inner {inner:5}B s={s:<7} r={r:<6} f={f:<6}: {x['mpps']:6.2f} Mpps "
                      f"{x['cycles_per_pkt']:6.1f} cyc/pkt  (rx {st.get('rx', 0):.0f} parse {st.get('parse', 0):.0f} "
                      f"classify {st.get('classify', 0):.0f} action {st.get('action', 0):.0f} tx {st.get('tx', 0):.0f})"
                      f"  p50 {x['latency_ns']['p50_ns'] / 1000:.1f} us p99 {x['latency_ns']['p99_ns'] / 1000:.1f} us"
                      + (f"  own {own(x):.0f}" if x.get("stage_cycles_per_pkt") else "")
                      + (f"  [{runner.mem.upper()}]" if other else "")
                      + ("  [shuffled]" if order != "seq" else "")
                      + (f"  DROPS {x['drops']}" if x["drops"] else ""), flush=True)
                cache["hz"] = _hz
            return cache[key]
        for inner in ([] if reuse else p["sizes"]):
            # --repeat N at 64 bytes: the mixes in turn, N times (slow
            # swings of a shared machine fall on all of them), and each
            # mix's median run (by cycles/pkt) kept whole
            reps = repeat if inner == 64 else 1
            runs = {mix: [] for mix in p["mixes"]}
            for rnd in range(reps):
                for mix in p["mixes"]:
                    # the core's share right before and after the run
                    # (es-coreprobe's ALU figure): which runs had it alone
                    if inner == 64:
                        x, alu = core_alu_around(lambda: es(mix, inner, S, R, F, fresh=True))
                        if alu:
                            x["core_alu"] = alu
                    else:
                        x = es(mix, inner, S, R, F, fresh=True)
                    runs[mix].append(x)
                if inner == 64:
                    io_check(f"after round {rnd + 1} of the mixes")
            for mix in p["mixes"]:
                xs = sorted(runs[mix], key=lambda x: x["cycles_per_pkt"])
                x = dict(xs[len(xs) // 2])
                if reps > 1:
                    x["repeats"] = [{k: y[k] for k in ("mpps", "cycles_per_pkt", "stage_cycles_per_pkt",
                                                       "core_alu")
                                     if k in y}
                                    for y in runs[mix]]
                cache[(mix, inner, S, R, F, "seq")] = x   # the sweeps' target point
                results["mixes"].append(x)
        # ul_local across packet sizes, each next to testpmd io at that
        # size (64 and 1,400 bytes: the runs above)
        results["sizes"] = []
        for inner in ([] if reuse else p.get("size_sweep", [])):
            b = io_at(inner)
            if b is None:
                b = run.testpmd("io", inner, S, F)
                print(f"testpmd io       inner {inner:5}B: {b['mpps']:6.2f} Mpps", flush=True)
            x = es("ul_local", inner, S, R, F)
            results["sizes"].append({"inner_bytes": inner, "frame_bytes": x["frame_bytes"],
                                     "testpmd_io_mpps": b["mpps"], "edgesteer": x})
        # the target point again with the frames shuffled: each packet's
        # session a random one, not the next in the array (frames())
        for mix in ([] if reuse else p.get("shuffled", [])):
            results["mixes_shuffled"].append(es(mix, 64, S, R, F, order="shuffled"))
        results["latency_at_load"] = []
        results["ndr"] = []
        def series(mix):
            """The peak, the load steps, and the peak again at the end:
            this host's speed moves by a third within minutes, and a load
            step is a fraction of the first peak (the report flags a
            series whose peak fell)."""
            peak = run.loadgen(mix, 64, S, R, F, 0)
            peak["load"] = "peak"
            xs = [peak]
            for frac in p["loads"]:
                x = run.loadgen(mix, 64, S, R, F, peak["achieved_pps"] * frac)
                x["load"] = frac
                xs.append(x)
            # the top step again with every packet offered alone: the
            # smoothest arrival, and the costliest for the worker (a
            # round, its ring accesses and cache misses per packet)
            top = max(p["loads"], default=None)
            if top is not None:
                x = run.loadgen(mix, 64, S, R, F, peak["achieved_pps"] * top, burst=1)
                x["load"] = top
                xs.append(x)
            if p.get("ndr_steps"):
                nd = ndr_search(run, mix, peak["achieved_pps"], S, R, F, p["ndr_steps"], p["ndr_s"])
                results["ndr"].append(nd)
                print(f"no-drop rate {mix:9} " + (f"{nd['ndr_pps'] / 1e6:6.2f} Mpps" if nd["ndr_pps"] else "none")
                      + " (trials: " + ", ".join(f"{t['rate_pps'] / 1e6:.2f} lost {t['lost']}" for t in nd["trials"])
                      + ")", flush=True)
            again = run.loadgen(mix, 64, S, R, F, 0)
            again["load"] = "peak again"
            return xs + [again]
        for mix in p["latency_mixes"]:
            # the worker's core around the series: the end-to-end set-up
            # (two threads, packets crossing between two cores) moves with
            # its share of the host more than anything here
            xs, alu = core_alu_around(lambda: series(mix))
            if alu:
                xs[0]["core_alu"] = alu
            results["latency_at_load"] += xs
            for x in xs:
                e = x["e2e_latency"]
                print(f"latency {mix:9} load {str(x['load']):5} burst {x.get('burst', '-'):<2} offered {x['offered_pps'] / 1e6:6.2f} Mpps "
                      f"got {x['achieved_pps'] / 1e6:6.2f} lost {x['lost']:<8} e2e p50 {e['p50_ns'] / 1000:.1f} "
                      f"p99 {e['p99_ns'] / 1000:.1f} p99.9 {e['p999_ns'] / 1000:.1f} max {e['max_ns'] / 1000:.0f} us",
                      flush=True)
        if p["latency_mixes"]:
            io_check("after the latency runs")
        if reuse:
            for k in ("baseline", "baseline_checks", "mixes", "mixes_shuffled", "sizes", "scaling", "tsc_hz"):
                results[k] = reuse.get(k, [])
            results["reused_from"] = os.path.basename(a.reuse)
            cache["hz"] = reuse["tsc_hz"]
        else:
            for r in p["rules"]:
                results["scaling"]["rules"].append(es("ul_local", 64, S, r, F))
            for s in p["sessions"]:
                results["scaling"]["sessions"].append(es("ul_local", 64, s, R, F))
            for f in p["flows"]:
                # past the reservation: a run of its own on THP
                # (docs/perf-notes.md: within noise of huge pages)
                big = f > HUGE_MAX_FLOWS and mem == "huge"
                results["scaling"]["flows"].append(
                    es("ul_local", 64, S, R, f, runner=Runner(d, seconds, "thp", a.rt) if big else None))
        hz = cache.get("hz")
    noise("end")
    results["tsc_hz"] = results.get("tsc_hz") or hz
    results["suite_seconds"] = time.time() - t_start
    tag = '-quick' if a.quick else (f'-only-{mem}' if a.only else '')
    name = f"{results['date'].replace(':', '')}-{commit}{tag}.json"
    path = os.path.join(a.out, name)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    print(f"results: {path} ({results['suite_seconds']:.0f} s)")
    if not a.no_report:
        report.write(results, path)


def _cpu_model():
    """'model name' of the first CPU, with its family/model and the widest
    SIMD it has: 'AMD EPYC (family 23, model 1; AVX2)'."""
    f = {}
    try:
        for line in open("/proc/cpuinfo"):
            if ":" in line:
                k, v = (x.strip() for x in line.split(":", 1))
                f.setdefault(k, v)
            elif f:
                break
    except OSError:
        return "unknown"
    flags = set(f.get("flags", "").split())
    simd = ("AVX-512" if {"avx512f", "avx512bw", "avx512vl", "avx512cd"} <= flags
            else "AVX2" if "avx2" in flags else "SSE4.2" if "sse4_2" in flags else "SSE")
    return "%s (family %s, model %s; %s)" % (f.get("model name", "unknown"), f.get("cpu family", "?"),
                                             f.get("model", "?"), simd)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
