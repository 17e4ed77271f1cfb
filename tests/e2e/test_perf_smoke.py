"""The benchmark runs (on a tiny load) so that it cannot rot."""
import json
import os
import subprocess
import tempfile
import unittest

import esharness as h


class PerfSmoke(unittest.TestCase):
    def test_ul_local_vs_testpmd_prints_both_figures(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r.json")
            r = subprocess.run(["/usr/bin/python3", os.path.join(h.ROOT, "perf", "ul_local_vs_testpmd.py"),
                                "--seconds", "5", "--sessions", "16", "--rules", "3",
                                "--build", h.BUILD, "--json", out],
                               capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("testpmd io (baseline)", r.stdout)
            res = json.load(open(out))
            self.assertGreater(res["edgesteer_ul_local_mpps"], 0.1)
            self.assertGreater(res["testpmd_io_mpps"], 0.1)
            self.assertAlmostEqual(res["ratio_edgesteer_to_testpmd"],
                                   res["edgesteer_ul_local_mpps"] / res["testpmd_io_mpps"], places=6)
