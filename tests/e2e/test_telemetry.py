"""DPDK telemetry /edgesteer/* on the running binary.

One daemon per class runs with a unique --file-prefix (so its socket is
RUNTIME_DIR/dpdk/PREFIX/dpdk_telemetry.v2, not shared with other EAL
processes) and a long --idle-exit; once it has worked through a known set
of packets it is queried over the socket, with a small client here and
with /usr/bin/dpdk-telemetry.py, then stopped with SIGINT, and the --stats
JSON it writes is compared with what telemetry said.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from scapy.all import IP, UDP, Raw

import esharness as h
from esharness import gtpu_ul, session

UE = "10.45.0.2"
CONFIG = (h.BASE_CONFIG + session(1, UE, 0x100) + session(2, "10.45.0.3", 0x101) +
          "rule add 10 dst 10.200.0.0/16 action local xr\n"
          "rule add 20 proto udp dport 5000-5010 action drop\n")
N_LOCAL, N_RULE_DROP, N_UNKNOWN = 5, 2, 1
N_RX = N_LOCAL + N_RULE_DROP + N_UNKNOWN
# sent: the decapsulated packets and one Error Indication for the unknown TEID
N_TX = N_LOCAL + N_UNKNOWN
TELEMETRY_PY = "/usr/bin/dpdk-telemetry.py"
WAIT_S = 20          # bound on every wait below


def packets():
    def inner(dst, dport):
        return IP(src=UE, dst=dst) / UDP(sport=1000, dport=dport) / Raw(b"x" * 20)
    return ([gtpu_ul(inner("10.200.1.1", 2000 + i), 0x100) for i in range(N_LOCAL)] +
            [gtpu_ul(inner("10.202.0.1", 5000 + i), 0x100) for i in range(N_RULE_DROP)] +
            [gtpu_ul(inner("10.200.1.1", 2000), 0x999)])


def runtime_dir(prefix):
    """EAL's rte_eal_get_runtime_dir() for a file prefix (the logic
    dpdk-telemetry.py repeats): $RUNTIME_DIRECTORY, else /var/run as root,
    else $XDG_RUNTIME_DIR or /tmp; then dpdk/PREFIX."""
    base = os.environ.get("RUNTIME_DIRECTORY")
    if not base:
        base = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", prefix)


class TelemetryClient:
    """The v2 telemetry protocol: on connect the server sends a JSON object
    (version, pid, max_output_len); then one command per message, one JSON
    reply {"COMMAND": value} per command."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.hello = json.loads(self.sock.recv(1024).decode())
        self.max_len = self.hello["max_output_len"]

    def query(self, cmd):
        self.sock.send(cmd.encode())
        data = self.sock.recv(self.max_len)
        if not data:
            raise ConnectionResetError("telemetry socket closed")
        reply = json.loads(data.decode())
        return reply[cmd.split(",")[0]]

    def close(self):
        self.sock.close()


class Daemon:
    """edgesteer on the test topology with a unique --file-prefix; start()
    returns once /edgesteer/ answers and the input packets are worked
    through (n_rx received, n_tx latency samples), stop() sends SIGINT and
    reads the --stats JSON. Every wait is bounded by WAIT_S."""

    def __init__(self, tag, inputs, n_rx, n_tx, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="es-e2e-tel-")
        self.prefix = f"es-e2e-tel-{tag}-{os.getpid()}"
        self.rundir = runtime_dir(self.prefix)
        self.sock = os.path.join(self.rundir, "dpdk_telemetry.v2")
        cmd, self.stats_path = h.command(self.dir, CONFIG, inputs, idle_ms=5000,
                                         file_prefix=self.prefix,
                                         extra_args=extra_args)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.n_rx, self.n_tx = n_rx, n_tx
        self.stats = None

    def connect(self):
        """A client once the packets are worked through."""
        deadline = time.monotonic() + WAIT_S
        client = None
        # the socket exists from EAL init on; /edgesteer/ commands from
        # the end of the data plane set-up
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"edgesteer exited {self.proc.returncode} early:\n"
                                     f"{self.proc.stderr.read()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no telemetry at {self.sock} within {WAIT_S} s")
            try:
                if client is None:
                    client = TelemetryClient(self.sock)
                done = client.query("/edgesteer/counters,rx")
                lat = client.query("/edgesteer/latency")
                if done and done.get("rx") == self.n_rx and lat["packets"] == self.n_tx:
                    return client
            except (OSError, KeyError, TypeError):
                pass
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.out, self.err = self.proc.communicate(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.out, self.err = self.proc.communicate()
        if self.proc.returncode == 0 and os.path.exists(self.stats_path):
            with open(self.stats_path) as f:
                self.stats = json.load(f)
        self.sock_left = os.path.exists(self.sock)

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.rundir, ignore_errors=True)


class Telemetry(h.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("main", {"n3": packets()}, N_RX, N_TX)
        cls.r = {}
        try:
            cls._query_while_running()
        finally:
            cls.d.stop()
        cls.proc, cls.stats, cls.err = cls.d.proc, cls.d.stats, cls.d.err
        cls.sock_left = cls.d.sock_left

    @classmethod
    def _query_while_running(cls):
        client = cls.d.connect()
        try:
            cls.r["hello"] = client.hello
            for c in ("/edgesteer/counters", "/edgesteer/counters_nonzero",
                      "/edgesteer/counters,ul_local", "/edgesteer/counters,no_such_counter",
                      "/edgesteer/counters,bad\"name", "/edgesteer/latency",
                      "/edgesteer/latency,x", "/edgesteer/stages", "/edgesteer/info",
                      "/edgesteer/ports", "/edgesteer/ports,lan", "/edgesteer/ports,zz",
                      "/edgesteer/pool", "/edgesteer/pool,x",
                      "/help,/edgesteer/counters", "/"):
                cls.r[c] = client.query(c)
        finally:
            client.close()
        if os.path.exists(TELEMETRY_PY):
            # not a tty: no prompt, no banner; one JSON line per command
            pr = subprocess.run([sys.executable, TELEMETRY_PY, "-f", cls.d.prefix],
                                input="/edgesteer/counters_nonzero\n/edgesteer/info\nquit\n",
                                capture_output=True, text=True, timeout=WAIT_S)
            cls.r["script"] = (pr.returncode, pr.stdout, pr.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_hello_is_the_v2_protocol_of_this_process(self):
        self.assertEqual(self.r["hello"]["pid"], self.proc.pid)
        self.assertGreater(self.r["hello"]["max_output_len"], 1024)

    def test_every_command_is_listed_with_help(self):
        for c in ("counters", "counters_nonzero", "latency", "stages", "info", "ports", "pool"):
            self.assertIn("/edgesteer/" + c, self.r["/"])
        self.assertIn("counter name", self.r["/help,/edgesteer/counters"]["/edgesteer/counters"])

    def test_every_command_is_documented(self):
        with open(os.path.join(h.ROOT, "docs", "control.md")) as f:
            doc = f.read()
        cmds = [c for c in self.r["/"] if c.startswith("/edgesteer/")]
        self.assertEqual(len(cmds), 7)
        for c in cmds:
            self.assertIn(f"| `{c}` |", doc)

    def test_counters_name_every_counter_and_count_the_packets(self):
        c = self.r["/edgesteer/counters"]
        from_def = []
        with open(os.path.join(h.ROOT, "dataplane", "counters.def")) as f:
            for line in f:
                if line.startswith("ES_CNT("):
                    from_def.append(line.split('"')[1])
        self.assertEqual(list(c), from_def)
        self.assertEqual(c["rx"], N_RX)
        self.assertEqual(c["tx"], N_TX)
        self.assertEqual(c["ul_local"], N_LOCAL)
        self.assertEqual(c["drop_rule"], N_RULE_DROP)
        self.assertEqual(c["drop_gtpu_teid_unknown"], N_UNKNOWN)
        self.assertEqual(c["ul_cloud"], 0)

    def test_nonzero_lists_exactly_the_counters_that_moved(self):
        self.assertEqual(self.r["/edgesteer/counters_nonzero"],
                         {"rx": N_RX, "tx": N_TX, "drop_rule": N_RULE_DROP,
                          "drop_gtpu_teid_unknown": N_UNKNOWN, "ul_local": N_LOCAL,
                          "gtpu_errind_tx": N_UNKNOWN})

    def test_one_counter_by_name_and_errors_for_bad_names(self):
        self.assertEqual(self.r["/edgesteer/counters,ul_local"], {"ul_local": N_LOCAL})
        self.assertEqual(self.r["/edgesteer/counters,no_such_counter"],
                         {"error": "unknown counter 'no_such_counter'"})
        self.assertEqual(self.r["/edgesteer/counters,bad\"name"],
                         {"error": "bad counter name"})
        self.assertEqual(self.r["/edgesteer/latency,x"], {"error": "takes no parameter"})

    def test_latency_counts_every_packet_sent(self):
        lat = self.r["/edgesteer/latency"]
        self.assertEqual(list(lat), ["packets", "p50_ns", "p90_ns", "p99_ns", "p999_ns",
                                     "max_ns", "mean_ns", "jitter_ns"])
        self.assertEqual(lat["packets"], N_TX)
        self.assertGreater(lat["max_ns"], 0)
        self.assertLessEqual(lat["p50_ns"], lat["p99_ns"])
        self.assertLessEqual(lat["p99_ns"], lat["max_ns"])

    def test_stages_are_zero_without_stage_cycles(self):
        st = self.r["/edgesteer/stages"]
        self.assertEqual(st["enabled"], 0)
        self.assertEqual(st["rx_packets"], N_RX)
        self.assertEqual([st[k] for k in ("rx", "parse", "classify", "action", "tx")],
                         [0] * 5)

    def test_info_lists_the_three_ports_and_the_tables(self):
        info = self.r["/edgesteer/info"]
        self.assertEqual(info["ports"], ["n3", "n9", "lan"])
        self.assertEqual(info["port_roles"], ["access", "core", "local"])
        self.assertEqual(info["port_ids"], [0, 1, 2])
        self.assertEqual((info["workers"], info["sessions"], info["rules"], info["apps"]),
                         (1, 2, 2, 3))
        self.assertGreaterEqual(info["uptime_s"], 0)

    def test_ports_report_device_counts(self):
        p = self.r["/edgesteer/ports"]
        self.assertEqual(p["name"], ["n3", "n9", "lan"])
        self.assertEqual(p["rx"], [N_RX, 0, 0])
        self.assertEqual(p["tx"], [N_UNKNOWN, 0, N_LOCAL])
        self.assertEqual(p["rx_missed"], [0, 0, 0])
        lan = self.r["/edgesteer/ports,lan"]
        self.assertEqual((lan["name"], lan["role"], lan["port_id"], lan["rx"], lan["tx"]),
                         ("lan", "local", 2, 0, N_LOCAL))
        self.assertEqual(self.r["/edgesteer/ports,zz"], {"error": "unknown port 'zz'"})

    def test_pool_reports_the_pool_and_reassembly_as_stats_does(self):
        p = self.r["/edgesteer/pool"]
        self.assertEqual(set(p), {"mbufs", "in_use", "available", "min_available", "samples",
                                  "empty_samples", "frag_held", "frag_mbufs", "frag_source_mbufs"})
        self.assertEqual(p["mbufs"], 4095)           # BASE_CONFIG's 'set mbufs'
        self.assertEqual(p["in_use"] + p["available"], p["mbufs"])
        self.assertLessEqual(p["min_available"], p["mbufs"])
        self.assertEqual((p["frag_held"], p["frag_mbufs"], p["frag_source_mbufs"]), (0, 1023, 127))
        self.assertEqual(p["empty_samples"], 0)
        self.assertEqual(self.r["/edgesteer/pool,x"], {"error": "takes no parameter"})
        st = self.stats["pool"]
        for k in ("mbufs", "frag_held", "frag_mbufs", "frag_source_mbufs", "empty_samples"):
            self.assertEqual(st[k], p[k], k)
        self.assertGreaterEqual(st["samples"], p["samples"])

    def test_dpdk_telemetry_py_reads_it_by_file_prefix(self):
        if "script" not in self.r:
            self.skipTest(f"{TELEMETRY_PY} not installed (Debian package dpdk-dev)")
        rc, out, err = self.r["script"]
        self.assertEqual(rc, 0, err)
        lines = [json.loads(l) for l in out.splitlines() if l.strip()]
        self.assertEqual(len(lines), 2, out)
        self.assertEqual(lines[0], {"/edgesteer/counters_nonzero":
                                    self.r["/edgesteer/counters_nonzero"]})
        self.assertEqual(lines[1]["/edgesteer/info"]["ports"], ["n3", "n9", "lan"])

    def test_stats_json_agrees_with_telemetry(self):
        self.assertEqual(self.proc.returncode, 0, self.err)
        self.assertIsNotNone(self.stats)
        self.assertEqual(self.stats["counters"], self.r["/edgesteer/counters"])
        lat, tel = self.stats["latency"], self.r["/edgesteer/latency"]
        for k in ("packets", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"):
            self.assertEqual(lat[k], tel[k], k)
        for k in ("mean_ns", "jitter_ns"):
            self.assertAlmostEqual(lat[k], tel[k], delta=0.6, msg=k)
        ports = self.r["/edgesteer/ports"]
        for i, name in enumerate(ports["name"]):
            self.assertEqual(self.stats["ports"][name]["rx"], ports["rx"][i])
            self.assertEqual(self.stats["ports"][name]["tx"], ports["tx"][i])

    def test_socket_is_removed_on_exit(self):
        self.assertFalse(self.sock_left)


class DeletedApps(h.TestCase):
    def test_a_deleted_app_is_counted_nowhere(self):
        """'app del' leaves the app's slot empty: the start-up line,
        /edgesteer/info and 'state show' count the live apps alike, after
        a restore whose journal deletes an app and after an 'app add' and
        'app del' at run time."""
        sd = tempfile.mkdtemp(prefix="es-e2e-tel-state-")
        state = os.path.join(sd, "state")
        lines = [l for l in CONFIG.splitlines() if l.startswith(("app ", "session ", "rule "))]
        with open(state, "w") as f:
            f.write("# edgesteer state generation 1: neighbours added at run time, apps, sessions, rules\n")
            f.write("\n".join(lines + [f"app add gone via {h.APP_4}"]) + "\n")
        with open(state + ".journal", "w") as f:
            f.write("# generation 1\napp del gone\n#commit\n")
        d = Daemon("apps", {"n3": packets()}, N_RX, N_TX, extra_args=["--state", state])
        sock = os.path.join(d.dir, "ctl.sock")
        try:
            client = d.connect()
            after_restore = client.query("/edgesteer/info")["apps"]
            for cmd in (f"app add more via {h.MIRROR_4}", "app del more"):
                r = h.steerctl(sock, cmd)
                self.assertEqual(r.returncode, 0, r.stderr)
            after_del = client.query("/edgesteer/info")["apps"]
            shown = h.steerctl(sock, "state show", json_out=True).json["state"]["apps"]
            client.close()
            d.stop()
        finally:
            d.cleanup()
            shutil.rmtree(sd, ignore_errors=True)
        self.assertEqual(d.proc.returncode, 0, d.err)
        started = re.findall(r" ports, .* (\d+) apps", d.out)
        self.assertEqual(len(started), 1, d.out)
        self.assertEqual({"start-up line": int(started[0]), "info after the restore": after_restore,
                          "info after app del": after_del, "state show": shown},
                         {"start-up line": 3, "info after the restore": 3,
                          "info after app del": 3, "state show": 3})


class StageCycles(h.TestCase):
    def test_stages_count_cycles_with_stage_cycles(self):
        d = Daemon("stages", {"n3": packets()}, N_RX, N_TX, extra_args=["--stage-cycles"])
        try:
            client = d.connect()
            st = client.query("/edgesteer/stages")
            client.close()
            d.stop()
        finally:
            d.cleanup()
        self.assertEqual(st["enabled"], 1)
        for k in ("parse", "classify", "action", "tx"):
            self.assertGreater(st[k], 0, k)
        self.assertEqual(d.proc.returncode, 0, d.err)
        for k, v in d.stats["stage_cycles"].items():
            self.assertGreaterEqual(v, st[k], k)   # still counted while idle


class StopWhileQueried(h.TestCase):
    def test_clients_querying_through_shutdown_get_answers_or_stopping(self):
        """Four clients ask for everything in a loop while the daemon is
        stopped: every reply is whole (a full answer or {"error":
        "stopping"}) and the daemon exits cleanly, its socket gone."""
        d = Daemon("stop", {"n3": packets()}, N_RX, N_TX)
        replies, errors = [], []

        def hammer(client):
            cmds = ["/edgesteer/info", "/edgesteer/ports", "/edgesteer/counters",
                    "/edgesteer/latency"]
            deadline = time.monotonic() + WAIT_S
            i = 0
            try:
                while time.monotonic() < deadline:
                    replies.append(client.query(cmds[i % len(cmds)]))
                    i += 1
            except OSError as e:   # the daemon went away
                errors.append(e)
            finally:
                client.close()

        try:
            clients = [d.connect() for _ in range(4)]
            threads = [threading.Thread(target=hammer, args=(c,)) for c in clients]
            for t in threads:
                t.start()
            time.sleep(0.3)
            d.stop()
            for t in threads:
                t.join(WAIT_S)
            self.assertFalse(any(t.is_alive() for t in threads))
        finally:
            d.cleanup()
        self.assertEqual(d.proc.returncode, 0, d.err)
        self.assertFalse(d.sock_left)
        self.assertGreater(len(replies), 40)
        for r in replies:
            self.assertIsInstance(r, dict)
            self.assertTrue(r == {"error": "stopping"} or "error" not in r, r)
