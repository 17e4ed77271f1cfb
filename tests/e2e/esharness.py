"""Run the real edgesteer binary on net_pcap ports and read what came out.

A test gives a config (text), and for each configured port the packets to
receive; it gets back, per port, the packets sent (scapy objects) and the
final counters (the JSON that --stats writes). No hugepages: EAL runs with
--no-huge --no-shconf --no-pci.
"""
import json
import os
import subprocess
import tempfile
import time
import unittest

from scapy.all import Ether, IP, IPv6, UDP, Raw, rdpcap, wrpcap  # noqa: F401
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer  # noqa: F401

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("ES_BUILD", os.path.join(ROOT, "build"))
BINARY = os.path.join(BUILD, "edgesteer")
TESTDATA = os.path.abspath(os.path.join(ROOT, "..", "shared", "testdata"))

# The standard test topology: MACs and addresses used by most tests.
MAC_N3, MAC_N9, MAC_LAN = "02:00:00:00:03:01", "02:00:00:00:09:01", "02:00:00:00:0a:01"
MAC_GNB, MAC_GNB2, MAC_UPF, MAC_APP, MAC_MIRROR = (
    "02:00:00:00:00:10", "02:00:00:00:00:11", "02:00:00:00:00:07",
    "02:00:00:00:00:20", "02:00:00:00:00:21")
N3_4, N3_6, N9_4, N9_6, LAN_4, LAN_6 = (
    "192.0.2.1", "2001:db8:3::1", "198.51.100.1", "2001:db8:9::1",
    "10.100.0.1", "2001:db8:a::1")
GNB_4, GNB_6, GNB2_4, UPF_4, UPF_6 = (
    "192.0.2.10", "2001:db8:3::10", "192.0.2.11", "198.51.100.7",
    "2001:db8:9::7")
APP_4, APP_6, MIRROR_4 = "10.100.0.20", "2001:db8:a::20", "10.100.0.21"

BASE_CONFIG = f"""
set sessions-max 4096
set rules-max 1024
set mbufs 4095
port add n3 dev net_pcap0 role access addr {N3_4}/24 addr {N3_6}/64 mac {MAC_N3}
port add n9 dev net_pcap1 role core addr {N9_4}/24 addr {N9_6}/64 mac {MAC_N9}
port add lan dev net_pcap2 role local addr {LAN_4}/24 addr {LAN_6}/64 mac {MAC_LAN}
neigh add {GNB_4} lladdr {MAC_GNB} port n3
neigh add {GNB2_4} lladdr {MAC_GNB2} port n3
neigh add {GNB_6} lladdr {MAC_GNB} port n3
neigh add {UPF_4} lladdr {MAC_UPF} port n9
neigh add {UPF_6} lladdr {MAC_UPF} port n9
neigh add {APP_4} lladdr {MAC_APP} port lan
neigh add {APP_6} lladdr {MAC_APP} port lan
neigh add {MIRROR_4} lladdr {MAC_MIRROR} port lan
app add xr via {APP_4}
app add xr6 via {APP_6}
app add tap via {MIRROR_4}
"""
PORTS = ("n3", "n9", "lan")


class Result:
    def __init__(self, out, counters, ports, stdout, stderr, rc):
        self.out = out              # port name -> list of scapy packets
        self.counters = counters    # counter name -> value
        self.ports = ports
        self.stdout = stdout
        self.stderr = stderr
        self.rc = rc
        self.stats = {}             # the whole --stats JSON

    def raised(self, kind_prefix="drop_"):
        """Counters with the prefix that are non-zero."""
        return {k: v for k, v in self.counters.items()
                if k.startswith(kind_prefix) and v}


def run(config, inputs=None, ports=PORTS, timeout=60, idle_ms=300,
        extra_eal=(), expect_fail=False, workers=1, extra_args=()):
    """Run edgesteer with config; inputs maps port name -> packets.

    workers > 1 maps that many worker lcores onto the second CPU (EAL
    --lcores), gives every port one rx/tx pcap per queue, deals each port's
    input round-robin over its queues and concatenates the outputs."""
    inputs = inputs or {}
    with tempfile.TemporaryDirectory(prefix="es-e2e-") as d:
        cmd, stats = command(d, config, inputs, ports=ports, idle_ms=idle_ms,
                             extra_eal=extra_eal, workers=workers,
                             extra_args=extra_args)
        pr = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
        if expect_fail:
            return Result({}, {}, {}, pr.stdout, pr.stderr, pr.returncode)
        if pr.returncode != 0:
            raise AssertionError(f"edgesteer exited {pr.returncode}\n{pr.stdout}\n{pr.stderr}")
        with open(stats) as f:
            st = json.load(f)
        out = {}
        for p in ports:
            out[p] = []
            for q in range(workers):
                o = os.path.join(d, f"out_{p}_{q}.pcap")
                if os.path.getsize(o) > 24:
                    out[p] += list(rdpcap(o))
        r = Result(out, st["counters"], st["ports"], pr.stdout, pr.stderr,
                   pr.returncode)
        r.stats = st
        return r


def command(d, config, inputs, ports=PORTS, idle_ms=300, extra_eal=(),
            workers=1, extra_args=(), file_prefix=None):
    """The edgesteer command line run() uses, its files in directory d:
    the config, one rx pcap per port and queue (inputs maps port name ->
    packets), tx pcaps out_PORT_Q.pcap, and the --stats file. Returns
    (argv, stats path). With file_prefix, EAL gets --file-prefix instead
    of --no-shconf (its runtime dir, telemetry socket included, is then
    /var/run/dpdk/PREFIX, which the caller removes)."""
    cfg = os.path.join(d, "es.conf")
    with open(cfg, "w") as f:
        f.write(config)
    if workers == 1:
        eal = ["-l", "0,1"]
    else:
        eal = ["--lcores", f"0@0,(1-{workers})@1"]
    shconf = ["--file-prefix", file_prefix] if file_prefix else ["--no-shconf"]
    eal += ["--no-huge", "-m", "256", "--no-pci", "--log-level=error"] + shconf
    for i, p in enumerate(ports):
        pkts = inputs.get(p, [])
        args = []
        for q in range(workers):
            rx = os.path.join(d, f"in_{p}_{q}.pcap")
            share = pkts[q::workers]
            if share:
                wrpcap(rx, share)
            else:
                _empty_pcap(rx)
            args.append(f"rx_pcap={rx}")
        for q in range(workers):
            args.append(f"tx_pcap={os.path.join(d, f'out_{p}_{q}.pcap')}")
        eal += ["--vdev", f"net_pcap{i}," + ",".join(args)]
    eal += list(extra_eal)
    stats = os.path.join(d, "stats.json")
    cmd = [BINARY] + eal + ["--", "-c", cfg, "--idle-exit", str(idle_ms),
                            "--stats", stats, "--ctl", os.path.join(d, "ctl.sock")] + list(extra_args)
    return cmd, stats


def _empty_pcap(path):
    # classic pcap global header, Ethernet link type, no packets
    import struct
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))


def session(sid, ue, ul, gnb=GNB_4, gnb_teid=None, cloud=UPF_4, cloud_teid=None,
            n9=None, qfi=9, ue6=None):
    s = f"session add {sid} ul-teid {ul} gnb {gnb} gnb-teid {gnb_teid or ul + 0x1000}"
    if ue:
        s += f" ue {ue}"
    if ue6:
        s += f" ue6 {ue6}"
    if cloud:
        s += f" cloud {cloud} cloud-teid {cloud_teid or ul + 0x2000}"
    if n9:
        s += f" n9-teid {n9}"
    return s + f" qfi {qfi}\n"


def gtpu_ul(inner, teid, qfi=9, outer_src=GNB_4, outer_dst=N3_4, psc=True,
            v6=False, src_mac=MAC_GNB, sport=2152):
    """An uplink G-PDU as a gNB sends it."""
    ip = IPv6(src=outer_src, dst=outer_dst) if v6 else IP(src=outer_src, dst=outer_dst)
    g = GTP_U_Header(teid=teid)
    if psc:
        g = GTP_U_Header(teid=teid, E=1, next_ex=0x85) / GTPPDUSessionContainer(type=1, QFI=qfi)
    return Ether(src=src_mac, dst=MAC_N3) / ip / UDP(sport=sport, dport=2152) / g / inner


def routed(inner_bytes):
    """The inner packet as a router forwards it: TTL/hop limit - 1."""
    p = IP(inner_bytes) if inner_bytes[0] >> 4 == 4 else IPv6(inner_bytes)
    if isinstance(p, IP):
        p.ttl -= 1
        del p.chksum
    else:
        p.hlim -= 1
    return bytes(p.__class__(bytes(p)))


class TestCase(unittest.TestCase):
    maxDiff = None

    def assertDrops(self, res, expected):
        """Exactly these drop counters moved, by exactly these amounts."""
        self.assertEqual(res.raised("drop_"), expected,
                         f"stdout:\n{res.stdout}")

    def assertSameBytes(self, got, want):
        self.assertEqual(bytes(got).hex(), bytes(want).hex())


# ---- a daemon that runs while a test talks to it ---------------------------

STEERCTL = os.path.join(BUILD, "steerctl")
CTL_TIMEOUT_S = 20      # every steerctl run
START_TIMEOUT_S = 30    # edgesteer up and answering on its socket


def steerctl(sock, *words, json_out=False, batch=None, timeout=CTL_TIMEOUT_S):
    """Run steerctl once against sock. words: the command (one string is
    split on spaces); batch: text sent with -f - . Returns the
    CompletedProcess (text) with .json set when json_out and it worked."""
    if len(words) == 1 and " " in words[0]:
        words = tuple(words[0].split())
    args = [STEERCTL, "-s", sock, "-t", str(timeout)]
    if json_out:
        args.append("-j")
    if batch is not None:
        args += ["-f", "-"]
    r = subprocess.run(args + list(words), input=batch or "", capture_output=True,
                       text=True, timeout=timeout + 5)
    r.json = json.loads(r.stdout) if json_out and r.returncode == 0 else None
    return r


class Daemon:
    """edgesteer in the background until stop() (SIGTERM) or kill() (SIGKILL).

    devs: one DPDK --vdev argument per port, in the order of the config's
    ports (default: net_pcap ports that receive nothing and write what they
    send to DIR/out_PORT.pcap). netns: run inside that network namespace.
    The control socket is DIR/ctl.sock unless ctl is given."""

    def __init__(self, config, d, devs=None, netns=None, state=None, ctl=None,
                 extra_args=(), ports=PORTS, workers=1):
        self.dir, self.netns, self.ports = d, netns, ports
        self.cfg = os.path.join(d, "es.conf")
        with open(self.cfg, "w") as f:
            f.write(config)
        if devs is None:
            devs = []
            for i, p in enumerate(ports):
                rx = os.path.join(d, f"in_{p}.pcap")
                if not os.path.exists(rx):
                    _empty_pcap(rx)
                devs.append(f"net_pcap{i},rx_pcap={rx},tx_pcap={os.path.join(d, f'out_{p}.pcap')}")
        self.devs = devs
        self.sock = ctl or os.path.join(d, "ctl.sock")
        self.state = state
        self.extra_args = list(extra_args)
        self.workers = workers
        self.proc = None
        self.stdout = self.stderr = ""

    def argv(self):
        # workers > 1: that many worker lcores share the second CPU
        eal = ["-l", "0,1"] if self.workers == 1 else ["--lcores", f"0@0,(1-{self.workers})@1"]
        eal += ["--no-huge", "-m", "256", "--no-shconf", "--no-pci", "--log-level=error"]
        for v in self.devs:
            eal += ["--vdev", v]
        a = [BINARY] + eal + ["--", "-c", self.cfg, "--ctl", self.sock]
        if self.state:
            a += ["--state", self.state]
        a += self.extra_args
        if self.netns:
            a = ["ip", "netns", "exec", self.netns] + a
        return a

    def start(self, wait=True):
        """Start it; with wait, return once 'state show' is answered (or
        raise with what it printed)."""
        self._out = tempfile.TemporaryFile(mode="w+")
        self._err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)
        if not wait:
            return self
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._collect()
                raise AssertionError(f"edgesteer exited {self.proc.returncode} at start\n"
                                     f"{self.stdout}\n{self.stderr}")
            if os.path.exists(self.sock) and steerctl(self.sock, "state", "show", timeout=2).returncode == 0:
                return self
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"edgesteer not answering after {START_TIMEOUT_S} s\n{self.stdout}\n{self.stderr}")

    def ctl(self, *words, **kw):
        return steerctl(self.sock, *words, **kw)

    def ok(self, *words, **kw):
        """steerctl that must succeed; returns its stdout (or JSON)."""
        r = self.ctl(*words, **kw)
        if r.returncode != 0:
            raise AssertionError(f"steerctl {' '.join(words)} exited {r.returncode}: {r.stderr}")
        return r.json if kw.get("json_out") else r.stdout

    def counters(self):
        return self.ok("counters", "show", json_out=True)["counters"]

    def digest(self):
        return self.ok("state", "show", json_out=True)["state"]["digest"]

    def _collect(self):
        for name in ("_out", "_err"):
            f = getattr(self, name, None)
            if f:
                f.seek(0)
                setattr(self, "stdout" if name == "_out" else "stderr", f.read())
                f.close()
                setattr(self, name, None)

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit status."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._collect()
        return self.proc.returncode if self.proc else None

    def kill(self):
        """SIGKILL (the process itself, not ip netns exec) and wait."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._collect()
        return self.proc.returncode if self.proc else None

    def outputs(self, port):
        """What a net_pcap port sent (after stop)."""
        o = os.path.join(self.dir, f"out_{port}.pcap")
        return list(rdpcap(o)) if os.path.exists(o) and os.path.getsize(o) > 24 else []


class Netns:
    """A network namespace for one test, with veth pairs inside it; close()
    (also on failure, through addCleanup) deletes it and all in it."""

    CLONE_NEWNET = 0x40000000

    def __init__(self, name):
        self.name = name
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
        self._ip("netns", "add", name)
        self.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                  "net.ipv6.conf.default.disable_ipv6=1")

    @staticmethod
    def _ip(*args):
        r = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise OSError(f"ip {' '.join(args)}: {r.stderr.strip()}")

    def exec(self, *args):
        self._ip("netns", "exec", self.name, *args)

    def veth(self, a, b):
        self.exec("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        for x in (a, b):
            self.exec("ip", "link", "set", x, "up")

    def packet_socket(self, iface):
        """An AF_PACKET socket bound to iface inside the namespace (made by
        a thread that entered it; the socket stays there)."""
        import ctypes
        import socket
        import threading
        box = {}

        def make():
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                with open(f"/run/netns/{self.name}") as f:
                    if libc.setns(f.fileno(), self.CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns")
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
                s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)   # SO_RCVBUFFORCE
                s.bind((iface, 0))
                box["s"] = s
            except Exception as e:  # handed to the caller
                box["e"] = e
        t = threading.Thread(target=make)
        t.start()
        t.join(10)
        if "e" in box:
            raise box["e"]
        return box["s"]

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)


def netns_usable():
    """Whether this host lets a test make a namespace with veth pairs."""
    if os.geteuid() != 0 or not os.path.isdir("/proc/self/ns"):
        return False
    name = f"esprobe{os.getpid()}"
    try:
        n = Netns(name)
        try:
            n.veth("esp0", "esp1")
        finally:
            n.close()
        return True
    except (OSError, subprocess.SubprocessError):
        return False
