"""The benchmark runs (on a tiny load) so that it cannot rot."""
import importlib
import json
import re
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
                # the undisturbed rounds: the same stages, a part of the rounds
                sd = x["stage_disturbed"]
                self.assertGreater(sd["rounds"], 0)
                self.assertLessEqual(sd["disturbed_rounds"], sd["rounds"])
                self.assertEqual(set(x["stage_cycles_per_pkt_undisturbed"]), set(x["stage_cycles_per_pkt"]))
                if sd["disturbed_rounds"] == 0:
                    self.assertEqual(x["stage_cycles_per_pkt_undisturbed"], x["stage_cycles_per_pkt"])
            # the platform's noise on the worker's CPU, before and after
            # (and, before the end-to-end series, both CPUs at once)
            self.assertEqual([(j["when"], j["cpu"]) for j in res["platform_noise"]],
                             [("start", 1), ("both CPUs spinning", 0), ("both CPUs spinning", 1), ("end", 1)])
            for j in res["platform_noise"]:
                self.assertGreaterEqual(j["seconds"], 0.3)
                self.assertEqual(sum(c["gaps"] for c in j["classes"]), j["gaps"])
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
            # es-coreprobe before the series and after it
            self.assertEqual(len(res["latency_at_load"][0]["core_alu"]), 2)
            # es-coreprobe next to each floor check
            for c in res["baseline_checks"]:
                self.assertEqual(c["core"]["cpu"], 1)
                for k in ("alu", "l1"):
                    v = c["core"][k]
                    self.assertTrue(0 < v["min"] <= v["median"] <= v["max"], c)
            # es-memlat on the worker's CPU: the quick sizes, an L1 line
            # cheaper than a 64 MiB one
            ml = res["platform_memory"]
            self.assertEqual(ml["cpu"], 1)
            self.assertEqual([z["kib"] for z in ml["sizes"]], [16, 512, 65536])
            self.assertGreater(ml["sizes"][2]["cycles"], ml["sizes"][0]["cycles"])
            # the report renders from it
            rep = perf_module("report")
            text = rep.section(res, os.path.join(d, files[0]))
            self.assertIn("| ul_local | 64 |", text)
            self.assertIn("- per session: **", text)
            self.assertIn("### Session order: the target point with the frames shuffled", text)
            self.assertIn("### Packet size (uplink steer-to-local, target point)", text)
            self.assertIn("testpmd io at 64 bytes, measured again through the run", text)
            self.assertIn("### Platform noise on the worker's CPU", text)
            self.assertIn("| start | %.0f |" % res["platform_noise"][0]["gaps_per_s"], text)
            self.assertIn("| both CPUs spinning, CPU 0 | %.0f |" % res["platform_noise"][1]["gaps_per_s"], text)
            self.assertIn("With a thread spinning on each CPU at once, as in the end-to-end runs", text)
            self.assertIn("CPU 1 lost %.2f %% of the time" % res["platform_noise"][2]["lost_pct"], text)
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
            self.assertIn("`build/es-coreprobe` on the worker's CPU right after each of those", text)
            c0 = res["baseline_checks"][0]
            self.assertIn(f"| start | {c0['mpps']:.2f} | {c0['core']['alu']['median']:.2f} | "
                          f"{c0['core']['l1']['median']:.2f} |", text)
            self.assertIn("### The target point on a core of its own", text)
            for x in res["mixes"]:
                self.assertEqual(len(x["core_alu"]), 2)
                self.assertTrue(all(a > 0 for a in x["core_alu"]))
            self.assertRegex(text, r"\| ul_local \| [01] of 1 \| ")
            ca = res["latency_at_load"][0]["core_alu"]
            self.assertIn(f"es-coreprobe's ALU figure before and after the series: {ca[0]:.2f} and {ca[1]:.2f}",
                          text)
            self.assertIn("### Memory latency on the worker's CPU", text)
            self.assertIn("| cycles a load | %.1f |" % ml["sizes"][0]["cycles"], text)
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


class PlatformNoise(unittest.TestCase):
    """The platform probes (perf/jitter.c, memlat.c, coreprobe.c), what the
    report reads from them, and the data plane's disturbed rounds."""

    def probe(self, tool, args, timeout=60):
        """Run one of perf/'s probes with --json: its process and its JSON."""
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "p.json")
            r = subprocess.run([os.path.join(h.BUILD, tool)] + args + ["--json", out],
                               capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(out) as f:
                return r, json.load(f)

    def refuses(self, tool, cases):
        """Each (args, message): exit status 2 and the message."""
        for args, msg in cases:
            r = subprocess.run([os.path.join(h.BUILD, tool)] + args,
                               capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(msg, r.stderr)

    def test_jitter_finds_the_gaps_it_was_given(self):
        r, j = self.probe("es-jitter", ["--seconds", "0.6", "--inject", "10:400"])
        self.assertIn("gaps a second over 1.00 us", r.stdout)
        self.assertEqual(j["injected"], 10)
        # ten sleeps of 400 us: ten gaps of at least that (the platform
        # may add its own), and their time in the share lost
        self.assertGreaterEqual(sum(c["gaps"] for c in j["classes"] if c["from_us"] >= 256), 10)
        self.assertGreaterEqual(j["longest_us"], 400)
        self.assertGreaterEqual(j["lost_pct"], 100 * 10 * 400e-6 / j["seconds"])
        self.assertLess(j["lost_pct"], 100)
        self.assertEqual(sum(c["gaps"] for c in j["classes"]), j["gaps"])

    def test_jitter_refuses_bad_values(self):
        self.refuses("es-jitter", ((["--seconds", "x"], "--seconds x: a number from 0.01 to 3600"),
                                   (["--cpu", "-1"], "--cpu -1: a number from 0"),
                                   (["--inject", "3"], "usage: es-jitter")))
        # a result file it cannot write: a message and exit status 1
        r = subprocess.run([os.path.join(h.BUILD, "es-jitter"), "--seconds", "0.05", "--json",
                            "/nonexistent/j.json"], capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1)
        self.assertIn("es-jitter: /nonexistent/j.json: No such file or directory", r.stderr)

    def test_memlat_finds_a_dram_line_dearer_than_an_l1_line(self):
        r, j = self.probe("es-memlat", ["--sizes", "16,131072", "--loads", "200000"], timeout=120)
        self.assertIn("one random dependent load at a time", r.stdout)
        self.assertEqual([z["kib"] for z in j["sizes"]], [16, 131072])
        self.assertEqual((j["pages"], j["loads"]), ("thp", 200000))
        l1, dram = (z["cycles"] for z in j["sizes"])
        # a chase that really waits on each line: 16 KiB from L1 (a few
        # cycles), 128 MiB from DRAM (hundreds); a sequential or
        # prefetchable walk would make the two close
        self.assertGreater(l1, 0.5)
        self.assertGreater(dram, 5 * l1, j)
        for z in j["sizes"]:
            self.assertAlmostEqual(z["ns"], z["cycles"] / j["tsc_hz"] * 1e9, delta=0.01)
        m = re.search(r"\n +16 KiB: +([0-9.]+) cycles", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.assertAlmostEqual(float(m.group(1)), l1, delta=0.06)

    def test_memlat_refuses_bad_values(self):
        self.refuses("es-memlat", ((["--sizes", "2"], "--sizes 2: a number from 4 to"),
                                   (["--sizes", "16,x"], "--sizes x: a number from 4 to"),
                                   (["--pages", "1g"], "--pages 1g: thp or 4k"),
                                   (["--loads", "5"], "--loads 5: a number from 1000"),
                                   (["--cpu"], "usage: es-memlat")))

    def test_coreprobe_measures_both_loops(self):
        r, j = self.probe("es-coreprobe", ["--cpu", "0", "--samples", "5"])
        self.assertEqual((j["cpu"], j["samples"]), (0, 5))
        for k in ("alu", "l1"):
            self.assertTrue(0 < j[k]["min"] <= j[k]["median"] <= j[k]["max"], j)
        # an L1 hit waits 4-5 core cycles: over one TSC cycle on any core
        # under 4 GHz per GHz of TSC; eight independent adds take at least
        # one core cycle
        self.assertGreater(j["l1"]["median"], 1.0, j)
        self.assertGreater(j["alu"]["median"], 0.2, j)
        # the line prints what the file holds (to its rounding)
        m = re.search(r"ALU ([0-9.]+) TSC cycles per 8 independent adds .*, L1 ([0-9.]+) a dependent load",
                      r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.assertAlmostEqual(float(m.group(1)), j["alu"]["median"], delta=0.006)
        self.assertAlmostEqual(float(m.group(2)), j["l1"]["median"], delta=0.006)
        self.refuses("es-coreprobe", ((["--samples", "0"], "--samples 0: a number from 1 to 1000"),
                                      (["--cpu", "x"], "--cpu x: a number from 0"),
                                      (["--bogus"], "usage: es-coreprobe")))

    def test_report_reads_core_sharing_from_the_probes(self):
        rep = perf_module("report")

        def checks(alu, l1):
            return [{"when": w, "mpps": 20.0 + i, "core": {"alu": {"median": a}, "l1": {"median": b}}}
                    for i, (w, a, b) in enumerate(zip(("start", "middle", "end"), alu, l1))]
        shared = "\n".join(rep._core_sharing(checks((1.3, 2.1, 1.4), (2.6, 2.7, 2.6))))
        self.assertIn("| middle | 21.00 | 2.10 | 2.70 |", shared)
        self.assertIn("The ALU figure moved by 62 % and the L1 figure by 4 %: the core's issue slots were shared",
                      shared)
        clock = "\n".join(rep._core_sharing(checks((1.3, 2.0, 1.3), (2.6, 4.0, 2.6))))
        self.assertIn("the core's clock moved", clock)
        alike = "\n".join(rep._core_sharing(checks((1.3, 1.4, 1.3), (2.6, 2.6, 2.7))))
        self.assertIn("The ALU figure moved by 8 % (L1 4 %): the core ran alike at every check.", alike)
        # one check, or none with the probe: nothing to compare
        self.assertEqual(rep._core_sharing(checks((1.3,), (2.6,))), [])

        # the target-point runs whose core ran alone, by the probe before
        # and after each: within 1.10 times the lowest figure of the run
        def run(alu, parse):
            st = {"rx": 50, "parse": parse, "classify": 40, "action": 15, "tx": 10}
            return {"core_alu": alu, "stage_cycles_per_pkt": st,
                    "stage_cycles_per_pkt_undisturbed": dict(st, parse=parse - 5)}
        res = {"mixes": [dict(run([1.12, 1.12], 45), mix="ul_local", inner_bytes=64,
                              repeats=[run([1.12, 1.13], 43), run([1.5, 1.2], 80), run([1.15, 1.18], 44),
                                       run([1.11, 1.30], 47)]),
                         dict(run([1.4, 1.5], 20), mix="ul_cloud", inner_bytes=64)]}
        text = "\n".join(rep._alone(res))
        self.assertIn("within 1.10 times the suite's lowest (1.11 TSC cycles per 8 adds)", text)
        # a floor check's lower figure is the reference too
        low = dict(res, baseline_checks=[{"when": "start", "mpps": 20, "core": {"alu": {"median": 1.0},
                                                                                "l1": {"median": 2.6}}}])
        self.assertIn("| ul_local | 0 of 4 |", "\n".join(rep._alone(low)))
        # alone: 1.12/1.13 and 1.15/1.18 (both under 1.11 x 1.10); not:
        # 1.5/1.2 and 1.11/1.30 (one figure over)
        self.assertIn("| ul_local | 2 of 4 | 98.5 (98.0–99.0) | 93.5 (93.0–94.0) | ≤ 100 |", text)
        self.assertIn("| ul_cloud | 0 of 1 | — | — | ≤ 80 |", text)
        self.assertEqual(rep._alone({"mixes": [dict(run([1.1], 40), mix="ul_local", inner_bytes=64,
                                                    core_alu=None)]}), [])

    def test_rounds_are_counted_disturbed_when_the_cpu_is_taken_away(self):
        suite = perf_module("suite")
        # a second thread on the worker's CPU: the scheduler takes the
        # CPU from the worker for milliseconds at a time
        hog = subprocess.Popen(["/usr/bin/python3", "-c",
                                "import os, time\n"
                                "os.sched_setaffinity(0, {%d})\n"
                                "end = time.time() + 60\n"
                                "while time.time() < end:\n"
                                "    pass\n" % suite.WORKER_CPU])
        try:
            with tempfile.TemporaryDirectory() as d:
                x, _hz = suite.Runner(d, 2).edgesteer("ul_cloud", 64, 16, 16, 16)
        finally:
            hog.kill()
            hog.wait()
        sd = x["stage_disturbed"]
        self.assertGreater(sd["disturbed_rounds"], 0)
        # the rounds the hog took time from hold much of the timed cycles
        self.assertGreater(sd["cycles_pct"], 20, sd)
        self.assertLess(suite.own(x, True), suite.own(x))


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
