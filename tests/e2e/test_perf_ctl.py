"""The rule-update benchmark (perf/ctl_bench.py) runs on a tiny load so that
it cannot rot, and what it reports holds together."""
import json
import os
import subprocess
import tempfile
import unittest

import esharness as h


class PerfCtlSmoke(unittest.TestCase):
    def test_ctl_bench_quick_measures_updates_with_traffic_and_no_loss(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["/usr/bin/python3", os.path.join(h.ROOT, "perf", "ctl_bench.py"), "--quick",
                                "--out", d],
                               capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
                               env=dict(os.environ, ES_BUILD=h.BUILD))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            files = os.listdir(d)
            self.assertEqual(len(files), 1)
            self.assertTrue(files[0].startswith("ctl-") and files[0].endswith("-quick.json"), files)
            res = json.load(open(os.path.join(d, files[0])))
            m = res["method"]
            self.assertEqual([x["rules"] for x in res["sizes"]], [16, 200])
            self.assertGreater(res["startup_1rule_s"], 0)
            self.assertEqual(len(res["loadavg_start"]), 3)
            for x in res["sizes"]:
                n = x["rules"]
                lat = x["latency"]
                self.assertEqual(set(lat), {"round trip (counters show rx)", "rule add", "rule change",
                                            "rule del"})
                for k, v in lat.items():
                    # the quick budget is far more than 10 small updates take
                    self.assertEqual(v["samples"], m["samples"], (n, k))
                    self.assertTrue(0 < v["median_ms"] <= v["p90_ms"] <= v["p99_ms"] <= v["max_ms"], (n, k, v))
                # traffic flowed the whole time and nothing was lost
                for t in [x["idle"], x["latency_traffic"]] + [w["traffic"] for w in x["sustained"]]:
                    self.assertGreater(t["rx"], 1000, (n, t))
                    self.assertEqual(t["drops"], {}, (n, t))
                    self.assertEqual(t["dropped"], 0)
                    # rx and tx are read a burst or two apart, never more
                    self.assertLess(abs(t["rx_minus_tx"]), 4096, (n, t))
                # rule 10, the rule the traffic hits, was moved between its
                # local app and the cloud: both paths carried packets
                self.assertGreater(x["latency_traffic"]["ul_local"], 0, n)
                self.assertGreater(x["latency_traffic"]["ul_cloud"], 0, n)
                self.assertEqual([w["per_request"] for w in x["sustained"]], [1, m["batch"]])
                for w in x["sustained"]:
                    self.assertEqual(w["updates"], w["requests"] * w["per_request"])
                    self.assertAlmostEqual(w["updates_per_s"], w["updates"] / w["seconds"], places=6)
                    self.assertGreater(w["seconds"], m["window_s"] - 1e-9)
            self.assertIn("mixed, 10 per request", r.stdout)
            self.assertIn("load average", r.stdout)
