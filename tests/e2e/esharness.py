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
