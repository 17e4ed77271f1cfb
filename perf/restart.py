#!/usr/bin/python3
"""make restart-bench: how long edgesteer takes to forward again, and to
have its whole state back, after a SIGKILL under traffic (RFC 6201 style:
reset time by timestamps and by frame loss). Method: docs/reliability.md,
"Restart timing".

edgesteer runs in a network namespace made here, on DPDK net_af_packet
ports on one end of three veth pairs (n3, n9, lan); this script sends a
steady stream into the other ends (n3: uplink; n9: downlink from the cloud)
at --rate packets a second and reads what comes out of all three, each
packet numbered. The state: --sessions sessions and --rules rules from the
config, saved by --state at the first start; then, through the control
socket (journaled), an app and a rule added, a session's cloud TEID
changed and another session handed over to a second gNB. The flows:

  A  uplink, session 1, hits rule 10            -> lan, app xr (config)
  B  uplink, the last session, hits the last rule (the highest priority
     number, below every other)                  -> lan, app xr2 (config)
  C  uplink, session N/2, hits the rule added at run time
                                                 -> lan, app xr3 (journal)
  D  uplink, session N-1, no rule                -> n9, the changed cloud
                                                    TEID (journal)
  E  downlink from the cloud to the last session -> n3, the new gNB and
                                                    its TEID (journal)

Each trial: traffic flows, 'state show' gives the digest; SIGKILL; the same
command starts again at once (--state restores the snapshot and replays the
journal). Measured from the kill and from the new exec: the first packet
forwarded, the first answer on the control socket (and whether the digest is
the one before the kill), the first packet of each flow forwarded the way
the full state says; and RFC 6201's two figures: the gap between the last
packet forwarded before the kill and the first after (timestamps), and the
packets lost divided by the offered rate (frame loss). Every packet after
the restart must follow the full state: one that does not fails the run.

Usage: perf/restart.py [--sessions N] [--rules N] [--trials K] [--rate PPS]
                       [--quick] [--out DIR]
  --quick  what make test runs: 1000 sessions, 100 rules, one trial
Needs root (a network namespace and veth pairs).
"""
import argparse
import datetime
import json
import os
import platform
import select
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_bench  # noqa: E402  (Ctl, the control socket protocol)
import suite  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from esharness import Netns  # noqa: E402

ROOT = suite.ROOT
BUILD = os.environ.get("ES_BUILD", os.path.join(ROOT, "build"))
OUT = os.path.join(ROOT, "perf", "results", "restart")

MAC_N3, MAC_N9, MAC_LAN = "02:00:00:00:03:01", "02:00:00:00:09:01", "02:00:00:00:0a:01"
MAC_GNB, MAC_GNB2, MAC_UPF = "02:00:00:00:00:10", "02:00:00:00:00:11", "02:00:00:00:00:07"
MAC_APP, MAC_APP2, MAC_APP3 = "02:00:00:00:00:20", "02:00:00:00:00:21", "02:00:00:00:00:22"
N3, N9, LAN = "192.0.2.1", "198.51.100.1", "10.100.0.1"
GNB, GNB2, UPF = "192.0.2.10", "192.0.2.11", "198.51.100.7"
APP, APP2, APP3 = "10.100.0.20", "10.100.0.21", "10.100.0.22"
N9_TEID0 = 0x100000
NEW_CLOUD_TEID, NEW_GNB_TEID = 0xabcde, 0x7777
MAGIC = b"ESRS"
PORTS = ("n3", "n9", "lan")


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ip4(s):
    return socket.inet_aton(s)


# ---- network namespace: the tests' own (tests/e2e/esharness.py Netns) ------

def ue(i):
    return suite.ue(i)


def config(sessions, rules):
    lines = [f"set sessions-max {sessions + 64}", f"set rules-max {rules + 64}", "set mbufs 16383",
             f"port add n3 dev net_af_packet0 role access addr {N3}/24 mac {MAC_N3}",
             f"port add n9 dev net_af_packet1 role core addr {N9}/24 mac {MAC_N9}",
             f"port add lan dev net_af_packet2 role local addr {LAN}/24 mac {MAC_LAN}",
             f"neigh add {GNB} lladdr {MAC_GNB} port n3",
             f"neigh add {GNB2} lladdr {MAC_GNB2} port n3",
             f"neigh add {UPF} lladdr {MAC_UPF} port n9",
             f"neigh add {APP} lladdr {MAC_APP} port lan",
             f"neigh add {APP2} lladdr {MAC_APP2} port lan",
             f"neigh add {APP3} lladdr {MAC_APP3} port lan",
             f"app add xr via {APP}", f"app add xr2 via {APP2}"]
    for s in range(sessions):
        lines.append(f"session add {s + 1} ue {ue(s)} ul-teid {s + 1} gnb {GNB} gnb-teid {s + 1} "
                     f"cloud {UPF} cloud-teid {s + 1} n9-teid {N9_TEID0 + s} qfi 9")
    lines.append("rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action local xr")
    lines += suite.mec_filter_rules(rules - 2, rules)
    # the last rule: the lowest precedence of all
    lines.append("rule add 9999999 dst 10.250.0.0/16 action local xr2")
    return "\n".join(lines) + "\n"


# changes made at run time, journaled by --state
def journal_changes(sessions):
    return [f"app add xr3 via {APP3}",
            "rule add 50 dst 10.251.0.0/16 action local xr3",
            f"session change {sessions - 1} cloud {UPF} cloud-teid {NEW_CLOUD_TEID}",
            f"session change {sessions} gnb {GNB2} gnb-teid {NEW_GNB_TEID}"]


def flows(sessions):
    """[(name, port it enters on, frame bytes, offset of the sequence
    number, what the full state makes of it)]: the outcome is (port it
    leaves on, destination MAC, outer destination or None, TEID or None)."""
    from scapy.all import IP, UDP, Ether, Raw
    from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer

    def pl(k):
        return Raw(MAGIC + bytes([k]) + b"\0" * 4 + b"p" * 27)

    def ul(k, s, dst, dport):
        inner = IP(src=ue(s), dst=dst, ttl=64) / UDP(sport=5000, dport=dport, chksum=0) / pl(k)
        return bytes(Ether(src=MAC_GNB, dst=MAC_N3) / IP(src=GNB, dst=N3) / UDP(sport=2152, dport=2152, chksum=0) /
                     GTP_U_Header(teid=s + 1, E=1, next_ex=0x85) / GTPPDUSessionContainer(type=1, QFI=9) / inner)
    last = sessions - 1
    inner = IP(src="93.184.216.34", dst=ue(last), ttl=60) / UDP(sport=443, dport=5000, chksum=0) / pl(4)
    dl = bytes(Ether(src=MAC_UPF, dst=MAC_N9) / IP(src=UPF, dst=N9) / UDP(sport=2152, dport=2152, chksum=0) /
               GTP_U_Header(teid=N9_TEID0 + last, E=1, next_ex=0x85) / GTPPDUSessionContainer(type=0, QFI=5) / inner)
    out = [("A", "n3", ul(0, 0, "10.200.0.5", 4000), ("lan", MAC_APP, None, None)),
           ("B", "n3", ul(1, last, "10.250.0.9", 7000), ("lan", MAC_APP2, None, None)),
           ("C", "n3", ul(2, sessions // 2, "10.251.0.7", 7000), ("lan", MAC_APP3, None, None)),
           ("D", "n3", ul(3, sessions - 2, "93.184.216.34", 443), ("n9", MAC_UPF, UPF, NEW_CLOUD_TEID)),
           ("E", "n9", dl, ("n3", MAC_GNB2, GNB2, NEW_GNB_TEID))]
    return [(n, p, b, b.index(MAGIC) + 5, o) for n, p, b, o in out]


# ---- traffic --------------------------------------------------------------------------

class Traffic:
    """A sender (the flows in turn, each packet numbered, at rate pps) and
    a reader (every packet out of every port, with its arrival time and
    whether it is what the full state makes of it)."""

    def __init__(self, socks, fl, rate):
        self.socks, self.fl, self.rate = socks, fl, rate
        self.sent = []              # (t, seq) every 256th packet, for the loss window
        self.n = 0
        self.got = []               # (t, port, flow, seq, ok)
        self.stop = threading.Event()
        self.err = None
        self.th = [threading.Thread(target=self._send, daemon=True),
                   threading.Thread(target=self._read, daemon=True)]

    def start(self):
        for t in self.th:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.th:
            t.join(10)

    def _send(self):
        try:
            bufs = [(self.socks[p], bytearray(b), off) for _, p, b, off, _ in self.fl]
            t0, n = time.monotonic(), 0
            while not self.stop.is_set():
                now = time.monotonic()
                due = int((now - t0) * self.rate)
                if due > n + 200:          # descheduled: do not burst to catch up
                    t0 += (due - n - 200) / self.rate
                    due = n + 200
                while n < due:
                    s, b, off = bufs[n % len(bufs)]
                    struct.pack_into(">I", b, off, n)
                    try:
                        s.send(b)
                    except OSError:
                        pass
                    if n % 256 == 0:
                        self.sent.append((now, n))
                    n += 1
                    self.n = n
                time.sleep(0.0005)
        except Exception as e:
            self.err = repr(e)

    def _check(self, port, b):
        i = b.find(MAGIC)
        if i < 0:
            return None
        k, seq = b[i + 4], struct.unpack_from(">I", b, i + 5)[0]
        if k >= len(self.fl):
            return None
        want = self.fl[k][4]
        ok = (port == want[0] and b[0:6] == mac(want[1]))
        if ok and want[2] is not None:
            ok = b[30:34] == ip4(want[2]) and struct.unpack_from(">I", b, 46)[0] == want[3]
        return k, seq, ok

    def _read(self):
        names = {s.fileno(): p for p, s in self.socks.items()}
        socks = list(self.socks.values())
        try:
            while not self.stop.is_set():
                r, _, _ = select.select(socks, [], [], 0.01)
                for s in r:
                    while True:
                        try:
                            b, a = s.recvfrom(65535, socket.MSG_DONTWAIT)
                        except BlockingIOError:
                            break
                        if a[2] == socket.PACKET_OUTGOING:
                            continue
                        t = time.monotonic()
                        c = self._check(names[s.fileno()], b)
                        if c:
                            self.got.append((t, names[s.fileno()], c[0], c[1], c[2]))
        except Exception as e:
            self.err = repr(e)


# ---- the daemon ---------------------------------------------------------------------------

class Daemon:
    def __init__(self, d, ns, cfg, state, mem):
        self.d, self.ns = d, ns
        self.sock = os.path.join(d, "ctl.sock")
        devs = []
        for i, p in enumerate(PORTS):
            devs += ["--vdev", f"net_af_packet{i},iface={p}d,framecnt=4096"]
        self.argv = (["ip", "netns", "exec", ns.name, "stdbuf", "-oL", os.path.join(BUILD, "edgesteer"),
                      "-l", "0,1", "--no-huge", "-m", str(mem), "--no-shconf", "--no-pci", "--log-level=error"]
                     + devs + ["--", "-c", cfg, "--ctl", self.sock, "--state", state])
        self.proc = None
        self.lines = []            # (t, line) of its stdout

    def start(self):
        self.lines = []
        t = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._out, args=(self.proc,), daemon=True).start()
        return t

    def _out(self, proc):
        for line in proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip()))

    def kill(self):
        """SIGKILL (ip netns exec and stdbuf exec it: the pid is edgesteer's)."""
        t = time.monotonic()
        self.proc.kill()
        self.proc.wait(30)
        return t

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def wait_ctl(self, timeout):
        """The first answer to 'state show' -j: (time, state)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"edgesteer exited {self.proc.returncode}:\n"
                                   + "\n".join(x for _, x in self.lines[-30:]))
            try:
                c = ctl_bench.Ctl(self.sock, 30)
            except OSError:
                time.sleep(0.002)
                continue
            try:
                body, _ = c.do("state show", json_out=True)
                return time.monotonic(), json.loads(body)["state"]
            except (OSError, ctl_bench.CtlError):
                time.sleep(0.002)
            finally:
                c.close()
        raise RuntimeError(f"edgesteer did not answer on its control socket in {timeout:.0f} s")

    def line_time(self, text, after):
        for t, x in self.lines:
            if t >= after and text in x:
                return t
        return None


def first(got, after, pred=lambda g: True):
    for g in got:
        if g[0] >= after and pred(g):
            return g
    return None


def trial(tr, es, rate, k, sessions, timeout):
    """One SIGKILL and restart under traffic; returns its figures."""
    d0 = es.wait_ctl(10)[1]
    time.sleep(1.0)
    n_before = len(tr.got)
    t_kill = es.kill()
    t_exec = es.start()
    t_ctl, st = es.wait_ctl(timeout)
    # every flow back in its full-state form, or the time is up
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = all(first(tr.got, t_exec, lambda g, f=f: g[2] == f and g[4]) for f in range(len(tr.fl)))
        if done:
            break
        time.sleep(0.05)
    time.sleep(1.0)
    got = list(tr.got)
    before = [g for g in got[:n_before] if g[0] < t_kill]
    after = [g for g in got if g[0] >= t_exec]
    last_before = before[-1] if before else None
    f_after = after[0] if after else None
    wrong = [g for g in after if not g[4]]
    seqs_out = {g[3] for g in got}
    # the packets sent between the last one forwarded before the kill and
    # the first forwarded after: the ones of them never forwarded are lost
    lo = last_before[3] if last_before else 0
    hi = f_after[3] if f_after else tr.n
    lost = sum(1 for s in range(lo + 1, hi) if s not in seqs_out)
    res = {"trial": k, "digest_before": d0["digest"], "digest_after": st["digest"],
           "digest_same": d0["digest"] == st["digest"],
           "sessions": st["sessions"], "rules": st["rules"], "apps": st["apps"],
           "kill_to_exec_s": t_exec - t_kill,
           "exec_to_ctl_s": t_ctl - t_exec,
           "exec_to_first_forwarded_s": (f_after[0] - t_exec) if f_after else None,
           "rfc6201_timestamp_s": (f_after[0] - last_before[0]) if f_after and last_before else None,
           "lost": lost, "rfc6201_frame_loss_s": lost / rate,
           "wrong_after_restart": len(wrong), "forwarded_after": len(after)}
    for i, f in enumerate(tr.fl):
        g = first(got, t_exec, lambda g, i=i: g[2] == i and g[4])
        res[f"exec_to_flow_{f[0]}_s"] = (g[0] - t_exec) if g else None
    fw = [res[f"exec_to_flow_{f[0]}_s"] for f in tr.fl]
    res["exec_to_full_state_s"] = max(fw) if all(x is not None for x in fw) else None
    for what, text in (("restore", "restoring apps, sessions and rules"),
                       ("workers", " workers, ")):
        t = es.line_time(text, t_exec)
        res[f"exec_to_{what}_line_s"] = (t - t_exec) if t else None
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, help="sessions (default 100000; --quick 1000)")
    ap.add_argument("--rules", type=int, help="rules (default 10000; --quick 100)")
    ap.add_argument("--trials", type=int, help="SIGKILL and restart this many times (default 3; --quick 1)")
    ap.add_argument("--rate", type=float, default=5000, help="packets a second offered (default 5000)")
    ap.add_argument("--quick", action="store_true", help="what make test runs")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    q = a.quick
    a.sessions = a.sessions or (1000 if q else 100000)
    a.rules = a.rules or (100 if q else 10000)
    a.trials = a.trials or (1 if q else 3)
    if a.sessions < 4 or a.rules < 3 or a.trials < 1 or not 100 <= a.rate <= 100000:
        ap.error("--sessions >= 4, --rules >= 3, --trials >= 1, --rate from 100 to 100000")
    if os.geteuid() != 0:
        sys.exit("restart: needs root (a network namespace and veth pairs)")
    os.makedirs(a.out, exist_ok=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    now = datetime.datetime.utcnow()
    res = {"commit": commit, "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "cpu": suite._cpu_model()},
           "method": {"sessions": a.sessions, "rules": a.rules, "trials": a.trials, "rate_pps": a.rate,
                      "ports": "net_af_packet on veth pairs", "quick": q},
           "loadavg_start": ctl_bench.loadavg(), "trials": []}
    timeout = 120 + a.sessions / 500 + a.rules / 50
    mem = 768 + a.sessions * 600 // (1 << 20) + a.rules // 20
    d = tempfile.mkdtemp(prefix="es-restart-")
    ns = Netns(f"esrst{os.getpid()}")
    es = tr = None
    try:
        for p in PORTS:
            ns.veth(p + "d", p + "t")
        socks = {p: ns.packet_socket(p + "t") for p in PORTS}
        cfg = os.path.join(d, "restart.conf")
        with open(cfg, "w") as f:
            f.write(config(a.sessions, a.rules))
        state = os.path.join(d, "state")
        es = Daemon(d, ns, cfg, state, mem)
        fl = flows(a.sessions)
        tr = Traffic(socks, fl, a.rate)
        tr.start()
        # the first start: from the config, which --state saves
        t0 = es.start()
        t_ctl, st = es.wait_ctl(timeout)
        g = None
        while g is None and time.monotonic() - t_ctl < 30:
            g = first(tr.got, t0, lambda g: g[4] or g[2] in (0, 1))
            time.sleep(0.01)
        res["cold_start"] = {"exec_to_ctl_s": t_ctl - t0, "exec_to_first_forwarded_s": (g[0] - t0) if g else None,
                             "sessions": st["sessions"], "rules": st["rules"]}
        print(f"restart: cold start from the config ({st['sessions']} sessions, {st['rules']} rules): "
              f"control socket after {t_ctl - t0:.2f} s, first packet forwarded after "
              f"{(g[0] - t0) if g else float('nan'):.2f} s", flush=True)
        c = ctl_bench.Ctl(es.sock, 60)
        for line in journal_changes(a.sessions):
            c.do(line)
        c.close()
        res["state_bytes"] = os.path.getsize(state)
        res["journal_bytes"] = os.path.getsize(state + ".journal") if os.path.exists(state + ".journal") else 0
        # every flow in its full-state form before the first kill
        deadline = time.monotonic() + 30
        t_chg = time.monotonic()
        while time.monotonic() < deadline:
            if all(first(tr.got, t_chg, lambda g, i=i: g[2] == i and g[4]) for i in range(len(fl))):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("not every flow is forwarded as the state says before the first kill: "
                               + str([(f[0], bool(first(tr.got, t_chg, lambda g, i=i: g[2] == i and g[4])))
                                      for i, f in enumerate(fl)]))
        for k in range(a.trials):
            r = trial(tr, es, a.rate, k + 1, a.sessions, timeout)
            res["trials"].append(r)

            def s(x):
                return "-" if x is None else f"{x:.3f}"
            print(f"restart: trial {k + 1}: control socket {s(r['exec_to_ctl_s'])} s after the exec "
                  f"(digest {'the same' if r['digest_same'] else 'DIFFERENT'}), first packet forwarded "
                  f"{s(r['exec_to_first_forwarded_s'])} s, every flow as the full state says "
                  f"{s(r['exec_to_full_state_s'])} s; RFC 6201: {s(r['rfc6201_timestamp_s'])} s by timestamps, "
                  f"{r['lost']} lost = {r['rfc6201_frame_loss_s']:.3f} s by frame loss; "
                  f"{r['wrong_after_restart']} forwarded otherwise", flush=True)
    finally:
        if tr:
            tr.finish()
        if es:
            es.stop()
        ns.close()
        shutil.rmtree(d, True)
    res["loadavg_end"] = ctl_bench.loadavg()
    res["sender_error"] = tr.err if tr else None
    ok = all(r["digest_same"] and r["wrong_after_restart"] == 0 and r["exec_to_full_state_s"] is not None
             for r in res["trials"]) and not res["sender_error"]
    res["pass"] = ok
    keys = ["exec_to_ctl_s", "exec_to_first_forwarded_s", "exec_to_full_state_s", "rfc6201_timestamp_s",
            "rfc6201_frame_loss_s", "exec_to_restore_line_s", "exec_to_workers_line_s"]
    res["median"] = {k: statistics.median([r[k] for r in res["trials"] if r[k] is not None] or [0]) for k in keys}
    name = f"restart-{now.strftime('%Y-%m-%dT%H%M%SZ')}-{commit}{'-quick' if q else ''}.json"
    path = os.path.join(a.out, name)
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    m = res["median"]
    print(f"restart: {a.sessions} sessions, {a.rules} rules, {a.trials} trials, median: control socket "
          f"{m['exec_to_ctl_s']:.3f} s, first packet forwarded {m['exec_to_first_forwarded_s']:.3f} s, "
          f"full state {m['exec_to_full_state_s']:.3f} s after the exec; RFC 6201 reset time "
          f"{m['rfc6201_timestamp_s']:.3f} s (timestamps), {m['rfc6201_frame_loss_s']:.3f} s (frame loss)")
    print(f"restart: {'PASS' if ok else 'FAIL'}; results: {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, ctl_bench.CtlError) as e:
        print(f"restart: {e}", file=sys.stderr)
        sys.exit(2)
