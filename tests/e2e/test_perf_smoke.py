"""The benchmark runs (on a tiny load) so that it cannot rot."""
import importlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

import esharness as h


def perf_module(name):
    """perf/'s suite or report module, imported as the suite imports it;
    the suite's runs use this build."""
    d = os.path.join(h.ROOT, "perf")
    if d not in sys.path:
        sys.path.insert(0, d)
    m = importlib.import_module(name)
    if name == "suite":
        m.BUILD = h.BUILD
    return m


class PerfSmoke(unittest.TestCase):
    def test_suite_quick_run_measures_every_mix_and_sweep(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["/usr/bin/python3", os.path.join(h.ROOT, "perf", "suite.py"), "--quick",
                                "--no-report", "--out", d],
                               capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
                               env=dict(os.environ, ES_BUILD=h.BUILD))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            files = os.listdir(d)
            self.assertEqual(len(files), 1)
            res = json.load(open(os.path.join(d, files[0])))
            self.assertEqual({b["mode"] for b in res["baseline"]}, {"io", "macswap"})
            self.assertEqual({x["mix"] for x in res["mixes"]},
                             {"ul_local", "ul_cloud", "dl_encap", "mix_80_20"})
            self.assertEqual([(x["mix"], x["order"]) for x in res["mixes_shuffled"]],
                             [("ul_local", "shuffled")])
            # testpmd io again after each round of the mixes and after the
            # latency runs: how much the host moved the floor
            self.assertEqual([c["when"] for c in res["baseline_checks"]],
                             ["start", "after round 1 of the mixes", "after the latency runs"])
            self.assertTrue(all(c["mpps"] > 0.1 for c in res["baseline_checks"]))
            # the size sweep: ul_local at each size next to testpmd io at it
            self.assertEqual([z["inner_bytes"] for z in res["sizes"]], [64, 256])
            for z in res["sizes"]:
                self.assertGreater(z["testpmd_io_mpps"], 0.1)
                self.assertEqual(z["edgesteer"]["inner_bytes"], z["inner_bytes"])
                self.assertEqual(z["edgesteer"]["mix"], "ul_local")
            self.assertEqual(res["sizes"][1]["frame_bytes"] - res["sizes"][0]["frame_bytes"], 256 - 64)
            for x in res["mixes"] + res["mixes_shuffled"] + [z["edgesteer"] for z in res["sizes"]] + \
                    [y for v in res["scaling"].values() for y in v]:
                self.assertEqual(x["drops"], {}, x["mix"])
                self.assertGreater(x["mpps"], 0.1)
                self.assertEqual(x["sent"], x["packets"])  # every packet steered somewhere
                self.assertGreater(x["latency_ns"]["packets"], 0)
                self.assertEqual(set(x["stage_cycles_per_pkt"]),
                                 {"rx", "parse", "classify", "action", "tx"})
                # the method the start-up probe chose: its fastest
                self.assertEqual(x["acl_method"], min(x["acl_probe"], key=x["acl_probe"].get))
                # no hypervisor-noise bookkeeping in the data plane
                self.assertNotIn("stage_disturbed", x)
            # --quick runs no platform probe (make bench builds them; make
            # perf runs them): none of their figures
            self.assertEqual(res["platform_noise"], [])
            self.assertIsNone(res["platform_memory"])
            self.assertTrue(all("core" not in c for c in res["baseline_checks"]))
            # end to end: the peak, the loads, the peak again (whether the
            # host held its speed through the series)
            # (the top step twice: in bursts, then one packet at a time)
            self.assertEqual([(x["mix"], x["load"], x["burst"]) for x in res["latency_at_load"]],
                             [("ul_local", "peak", 32), ("ul_local", 0.5, 32), ("ul_local", 0.5, 1),
                              ("ul_local", "peak again", 32)])
            for x in res["latency_at_load"]:
                self.assertGreater(x["achieved_pps"], 0)
                self.assertGreater(x["e2e_latency"]["packets"], 0)
                # every offered packet is received, lost at the input
                # ring, or dropped by the data plane and counted
                self.assertEqual(x["generated"] - x["received"], x["lost"])
                self.assertLessEqual(x["lost"], x["input_ring_full"] + x["dataplane_drops"] + 64 * 3)
            self.assertTrue(all(x["ring"] == 65536 for x in res["latency_at_load"]))
            # the no-drop-rate search ran its trials (half the peak first)
            self.assertEqual([nd["mix"] for nd in res["ndr"]], ["ul_local"])
            nd = res["ndr"][0]
            self.assertEqual(nd["peak_pps"], res["latency_at_load"][0]["achieved_pps"])
            self.assertAlmostEqual(nd["trials"][0]["rate_pps"], nd["peak_pps"] / 2)
            self.assertLessEqual(len(nd["trials"]), 2)
            ok = [t["rate_pps"] for t in nd["trials"] if t["lost"] == 0]
            self.assertEqual(nd["ndr_pps"], max(ok) if ok else None)
            # the report renders from it
            rep = perf_module("report")
            text = rep.section(res, os.path.join(d, files[0]))
            self.assertIn("| ul_local | 64 |", text)
            self.assertIn("- per session: **", text)
            self.assertIn("### Session order: the target point with the frames shuffled", text)
            self.assertIn("### Packet size (uplink steer-to-local, target point)", text)
            self.assertIn("testpmd io at 64 bytes, measured again through the run", text)
            self.assertNotIn("### Platform noise on the worker's CPU", text)
            self.assertIn("| ul_local | peak again | max |", text)
            self.assertIn("| ul_local | 50 %, one at a time | ", text)
            self.assertIn("### No-drop rate (RFC 2544 throughput, end to end)", text)
            self.assertIn("| ul_local | %.2f | " % (nd["peak_pps"] / 1e6), text)
            pk = [x["achieved_pps"] / 1e6 for x in res["latency_at_load"] if isinstance(x["load"], str)]
            if pk[1] >= 0.9 * pk[0]:
                self.assertIn(f"ul_local: the peak held through the series ({pk[0]:.2f} Mpps first, "
                              f"{pk[1]:.2f} at the end).", text)
            else:
                self.assertIn(f"**The host slowed during ul_local's series**: its peak fell from {pk[0]:.2f} "
                              f"to {pk[1]:.2f} Mpps", text)
            self.assertNotIn("### The target point on a core of its own", text)
            self.assertNotIn("### Memory latency on the worker's CPU", text)
            # docs/perf.md's headline table (make perf-report): every 64-byte
            # mix, the same run's testpmd io, latency at 90 % where measured
            head = rep.headline(res, os.path.join(d, files[0]))
            io = [b for b in res["baseline"] if b["mode"] == "io" and b["inner_bytes"] == 64][0]
            for x in res["mixes"]:
                if x["inner_bytes"] == 64:
                    self.assertIn("| %s | %.2f | %.0f | %.0f | %.2f Mpps, " % (
                        x["mix"], x["mpps"], x["cycles_per_pkt"], rep.own(x), io["mpps"]), head)
            lat = [x["dataplane_latency"] for x in res["latency_at_load"] if x["load"] == 0.5 and x["burst"] == 32]
            self.assertEqual(len(lat), 1)   # --quick offers 50 %, not 90 %: no latency in the table
            self.assertIn("| ul_local |", head)
            self.assertEqual(head.count("not measured"), 4)
            # the report goes beside the result file, never into docs/
            rep.write(res, os.path.join(d, files[0]))
            stem = os.path.splitext(files[0])[0]
            self.assertIn(stem + ".md", os.listdir(d))
            self.assertIn("| ul_local | 64 |", open(os.path.join(d, stem + ".md")).read())
            # a run whose floor moved by more than BUSY_SPREAD says so
            busy = dict(res, baseline_checks=[{"when": "start", "mpps": 10.0}, {"when": "x", "mpps": 8.0}])
            self.assertIn("**The host was busy during this run**: the baseline moved by 20 %",
                          rep.section(busy, os.path.join(d, files[0])))
            calm = dict(res, baseline_checks=[{"when": "start", "mpps": 10.0}, {"when": "x", "mpps": 9.5}])
            self.assertNotIn("The host was busy", rep.section(calm, os.path.join(d, files[0])))
            self.assertIn("| 256 | %d |" % res["sizes"][1]["frame_bytes"], text)
            self.assertIn("rte_acl method %s, the fastest on the start-up probe" % res["mixes"][0]["acl_method"], text)

    def test_shuffled_frames_are_the_same_frames_in_another_order(self):
        suite = perf_module("suite")
        for mix in ("ul_local", "dl_encap"):
            seq = suite.frames(mix, 64, 100, 3000)
            shuf = suite.frames(mix, 64, 100, 3000, order="shuffled")
            self.assertEqual(sorted(seq), sorted(shuf))
            self.assertNotEqual(seq, shuf)
            self.assertEqual(shuf, suite.frames(mix, 64, 100, 3000, order="shuffled"))  # fixed order

    def _loadgen_refuses(self, option, bads, message):
        """es-loadgen exits non-zero on each of bads for option, saying
        message (with {} for the value)."""
        suite = perf_module("suite")
        for bad in bads:
            r = subprocess.run([os.path.join(h.BUILD, "es-loadgen")] + suite.EAL_NOHUGE + ["-m", "256", "--",
                               "-c", "/nonexistent.conf", "--pcap", "/nonexistent.pcap", option, bad],
                               capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(message.format(bad), r.stdout + r.stderr)

    def test_loadgen_refuses_a_ring_that_is_not_a_power_of_two(self):
        self._loadgen_refuses("--ring", ("1000", "128", "x"), "--ring {}: a power of two from 256 to 65536")

    def test_ndr_search_bisects_to_the_highest_lossless_rate(self):
        suite = perf_module("suite")

        class Fake:
            """A data plane that loses packets above limit_pps."""
            def __init__(self, limit_pps):
                self.limit, self.rates = limit_pps, []

            def loadgen(self, mix, inner, s, r, f, rate, seconds=None):
                self.rates.append(rate)
                lost = 1000 if rate > self.limit else 0
                return {"input_ring_full": lost, "dataplane_drops": 0, "generator_late": 7}

        for limit in (6.3e6, 9.99e6, 5.2e6):
            run = Fake(limit)
            nd = suite.ndr_search(run, "ul_local", 10e6, 1, 1, 1, 6, 1.0)
            self.assertEqual(len(run.rates), 6)
            self.assertEqual(run.rates[0], 5e6)
            # within 1/64 of the peak below the limit, never above it
            self.assertLessEqual(nd["ndr_pps"], limit)
            self.assertGreater(nd["ndr_pps"], limit - 10e6 / 64)
            self.assertEqual([t["lost"] == 0 for t in nd["trials"]], [r <= limit for r in run.rates])
        # half the peak already lost: one trial, no rate
        run = Fake(4e6)
        nd = suite.ndr_search(run, "dl_encap", 10e6, 1, 1, 1, 6, 1.0)
        self.assertIsNone(nd["ndr_pps"])
        self.assertEqual(run.rates, [5e6])
        # the report names it
        rep = perf_module("report")
        text = "\n".join(rep._ndr([nd, suite.ndr_search(Fake(6.3e6), "ul_local", 10e6, 1, 1, 1, 6, 1.0)]))
        self.assertIn("| dl_encap | 10.00 | below half the peak | — | 5.00: 1000 |", text)
        self.assertRegex(text, r"\| ul_local \| 10\.00 \| \*\*6\.\d\d\*\* \| 6\d % \| 5\.00: 0, 7\.50: 1000, ")

    def test_loadgen_refuses_a_burst_outside_1_to_32(self):
        self._loadgen_refuses("--burst", ("0", "33", "x", ""), "--burst {}: 1 to 32 packets")

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


class RunFor(unittest.TestCase):
    """--run-for S: the benchmarks' clock, from the workers' start."""

    def test_stops_by_itself_after_the_seconds_asked(self):
        suite = perf_module("suite")
        with tempfile.TemporaryDirectory() as d:
            run = suite.Runner(d, 1.5)
            # an infinite source: only --run-for (or the guard's SIGINT,
            # which would take minutes) can stop it
            x, _hz = run.edgesteer("ul_cloud", 64, 16, 16, 16)
            self.assertGreaterEqual(x["seconds"], 1.5)
            self.assertLess(x["seconds"], 2.0)
            self.assertLess(x["wall_s"], 60)
            self.assertGreater(x["packets"], 0)

    def test_refuses_a_bad_value_with_a_clear_message(self):
        for bad in ("abc", "0", "-1", "2s"):
            r = subprocess.run([h.BINARY, "--no-huge", "-m", "64", "--no-shconf", "--no-pci",
                                "--log-level=error", "--", "-c", "/nonexistent", "--run-for", bad],
                               capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(f"--run-for: '{bad}': seconds, more than 0 and at most 1000000",
                          r.stdout + r.stderr)
