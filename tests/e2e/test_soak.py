"""The soak (perf/soak.py, make soak) and the restart timing
(perf/restart.py, make restart-bench), each in its short form, so that
they cannot rot: what they assert is exact accounting, never this
machine's speed. docs/reliability.md."""
import copy
import glob
import importlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

import esharness as h


def perf_module(name):
    d = os.path.join(h.ROOT, "perf")
    if d not in sys.path:
        sys.path.insert(0, d)
    os.environ.setdefault("ES_BUILD", h.BUILD)
    return importlib.import_module(name)


class Soak(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="es-soak-test-")
        d = cls.dir.name
        cls.run_ = subprocess.run(["/usr/bin/python3", os.path.join(h.ROOT, "perf", "soak.py"), "--quick",
                                   "--out", d], capture_output=True, text=True, timeout=600,
                                  stdin=subprocess.DEVNULL, env=dict(os.environ, ES_BUILD=h.BUILD))
        js = glob.glob(os.path.join(d, "soak-*-quick.json"))
        cls.res = json.load(open(js[0])) if len(js) == 1 else None

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_short_soak_passes_every_criterion(self):
        r = self.run_
        self.assertEqual(r.returncode, 0, r.stdout[-4000:] + r.stderr[-2000:])
        res = self.res
        self.assertIsNotNone(res, os.listdir(self.dir.name))
        self.assertTrue(res["pass"])
        self.assertEqual(set(res["criteria"]), {"identity", "fates", "input", "mbufs", "memory", "changes",
                                                "duration"})
        self.assertTrue(all(res["criteria"].values()), res["criteria"])
        self.assertEqual(res["failed_samples"], 0)
        self.assertIn("soak: PASS", r.stdout)
        # a CSV beside the JSON; plots only where matplotlib is
        self.assertTrue(os.path.exists(glob.glob(os.path.join(self.dir.name, "*.json"))[0][:-5] + ".csv"))
        try:
            import matplotlib  # noqa: F401
            self.assertEqual(len(glob.glob(os.path.join(self.dir.name, "*.png"))), 3)
        except ImportError:
            self.assertIn("no matplotlib", r.stderr)

    def test_short_soak_samples_every_interval_with_everything_at_rest(self):
        res = self.res
        self.assertIsNotNone(res)
        s = res["samples"]
        # one before the first packet, one every 2 s, one after the drain
        self.assertGreaterEqual(len(s), 30)
        self.assertEqual(s[0]["enqueued"], 0)
        for x in s:
            self.assertTrue(x["quiescent"], x["t"])
            for k in ("rss_bytes", "heap_alloc_bytes", "mbufs_in_use", "counters", "dataplane_latency",
                      "e2e_latency"):
                self.assertIn(k, x)
            self.assertGreater(x["rss_bytes"], 0)
            self.assertGreater(x["heap_alloc_bytes"], 0)
        self.assertEqual(s[-1]["held"], 0)          # every fragment completed or timed out
        c = s[-1]["counters"]
        # every kind of frame of the mix went through, and every kind of change
        for k in ("ul_local", "ul_cloud", "ul_fallback", "dl_encap", "dl_relay", "frag_reassembled",
                  "drop_frag_failed", "gtpu_echo_req", "arp_reply", "icmp_echo_reply", "gtpu_errind_tx",
                  "drop_gtpu_teid_unknown", "gtpu_end_marker_tx"):
            self.assertGreater(c[k], 0, k)
        soak = perf_module("soak")
        for k in soak.MALFORMED_N3 + soak.MALFORMED_LAN:
            self.assertGreater(c[k], 0, k)
        self.assertEqual(set(res["churn"]["latency"]), set(soak.Churn.KINDS))
        self.assertEqual(res["churn"]["errors"], [])
        self.assertGreater(len(res["churn"]["state"]), 10)
        # the changes show in the state: sessions and rules came and went
        self.assertGreater(len({x["digest"] for x in res["churn"]["state"]}), 5)

    def test_the_checks_catch_a_lost_packet_a_wrong_count_and_a_leaked_mbuf(self):
        """check_sample on doctored copies of a real sample: each fault
        fails its own criterion."""
        res = self.res
        self.assertIsNotNone(res)
        soak = perf_module("soak")
        kinds = soak.load_kinds()
        x = res["samples"][len(res["samples"]) // 2]
        # the mix again, as the run built it (the same seed)
        files, n_inc = soak.build_mix(res["method"]["sessions"], min(res["method"]["sessions"], 1024))
        pre = soak.Prefix(soak.merged_classes([("n3", files["n3"]), ("lan", files["lan"]), ("n9", files["n9"])]))
        self.assertEqual(pre.n, res["mix"]["frames"])
        self.assertEqual(soak.check_sample(x, pre, kinds, n_inc)[1], [])

        def crit(mutate):
            y = copy.deepcopy(x)
            mutate(y)
            return {c for c, _ in soak.check_sample(y, pre, kinds, n_inc)[1]}
        # a packet the worker sent that never reached the sink
        self.assertEqual(crit(lambda y: y.__setitem__("received", y["received"] - 1)), {"fates"})
        # a packet received and never accounted for
        self.assertEqual(crit(lambda y: y["counters"].__setitem__("rx", y["counters"]["rx"] + 1)),
                         {"identity", "fates"})
        # a valid uplink dropped under a counter of its own
        def drop_one(y):
            y["counters"]["ul_cloud"] -= 1
            y["counters"]["tx"] -= 1
            y["received"] -= 1
            y["counters"]["drop_no_cloud_fteid"] += 1
        self.assertEqual(crit(drop_one), {"fates"})
        # an mbuf out of the pool that nothing holds
        self.assertEqual(crit(lambda y: y.__setitem__("mbufs_in_use", y["mbufs_in_use"] + 1)), {"mbufs"})
        self.assertEqual(crit(lambda y: y.__setitem__("input_ring_full", 3)), {"input"})

    def test_markdown_of_a_run_gives_its_verdict_and_figures(self):
        self.assertIsNotNone(self.res)
        text = perf_module("soak").markdown(self.res)
        self.assertIn("| the accounting identity holds at every sample | **pass** |", text)
        self.assertIn("| offered rate asked | fixed 20 kpps |", text)
        self.assertIn("![memory](soak_memory.png)", text)
        self.assertNotIn("**FAIL**", text)

    def test_memory_flat_means_no_growth_and_no_trend(self):
        soak = perf_module("soak")
        flat = [{"t": t, "rss_bytes": 400 << 20, "heap_alloc_bytes": 300 << 20} for t in range(0, 100, 2)]
        self.assertTrue(soak.memory_flat(flat, 100)["ok"])
        # 1 KiB a second: 80 KiB over the samples after the warm-up, within
        # the bound; 100 KiB a second is not
        for rate, ok in ((1 << 10, True), (100 << 10, False)):
            grow = [dict(x, rss_bytes=x["rss_bytes"] + rate * x["t"]) for x in flat]
            self.assertEqual(soak.memory_flat(grow, 100)["ok"], ok, rate)
            self.assertEqual(soak.memory_flat(grow, 100)["rss_bytes"]["ok"], ok)


class LoadgenOptions(unittest.TestCase):
    def test_loadgen_refuses_bad_sample_and_drain_options(self):
        suite = perf_module("suite")
        for args, msg in ((["--sample", "0"], "--sample 0: seconds from 0.01 to 86400"),
                          (["--sample", "x"], "--sample x: seconds from 0.01 to 86400"),
                          (["--drain", "-1"], "--drain -1: seconds from 0 to 600"),
                          (["--sample", "1"], "--sample S and --samples FILE go together"),
                          (["--samples", "/tmp/x"], "--sample S and --samples FILE go together")):
            r = subprocess.run([os.path.join(h.BUILD, "es-loadgen")] + suite.EAL_NOHUGE + ["-m", "256", "--",
                               "-c", "/nonexistent.conf", "--pcap", "n3=/nonexistent.pcap"] + args,
                               capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(msg, r.stdout + r.stderr)


@unittest.skipUnless(h.netns_usable(), "needs root and network namespaces (ip netns, veth)")
class Restart(unittest.TestCase):
    def test_restart_after_sigkill_restores_the_whole_state_and_is_timed(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["/usr/bin/python3", os.path.join(h.ROOT, "perf", "restart.py"), "--quick",
                                "--out", d], capture_output=True, text=True, timeout=600,
                               stdin=subprocess.DEVNULL, env=dict(os.environ, ES_BUILD=h.BUILD))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            files = glob.glob(os.path.join(d, "restart-*-quick.json"))
            self.assertEqual(len(files), 1)
            res = json.load(open(files[0]))
        self.assertTrue(res["pass"])
        self.assertEqual(len(res["trials"]), 1)
        t = res["trials"][0]
        self.assertTrue(t["digest_same"])
        self.assertEqual((t["sessions"], t["rules"], t["apps"]), (1000, 101, 3))
        self.assertEqual(t["wrong_after_restart"], 0)
        self.assertGreater(t["forwarded_after"], 0)
        # the outage was seen: packets were lost while nothing forwarded
        self.assertGreater(t["lost"], 0)
        for k in ("exec_to_ctl_s", "exec_to_first_forwarded_s", "exec_to_full_state_s",
                  "rfc6201_timestamp_s", "rfc6201_frame_loss_s"):
            self.assertGreater(t[k], 0, k)
        self.assertLessEqual(t["exec_to_first_forwarded_s"], t["exec_to_full_state_s"])
        # the timestamp figure spans the kill, the reaping and the start
        self.assertGreaterEqual(t["rfc6201_timestamp_s"], t["exec_to_first_forwarded_s"])
        for f in "ABCDE":
            self.assertIsNotNone(t[f"exec_to_flow_{f}_s"], f)
        self.assertIn("restart: PASS", r.stdout)
