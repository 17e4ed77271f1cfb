"""Bad configs stop start-up: a non-zero exit, nothing started, and
"FILE:LINE: reason" on stderr naming the offending line (dataplane/config.c,
control/cmd.c). The bad line is put in the middle of a good config, before
lines of every kind, so a line number taken from the wrong place (the last
line, the last line of a pass) shows up.
"""
import re
import shutil
import tempfile

import esharness as h
import test_paths as tp

GOOD = (h.BASE_CONFIG.strip("\n").split("\n") +
        tp.SESS.strip("\n").split("\n") + tp.RULES.strip("\n").split("\n"))
STARTED = "edgesteer: 3 ports"


def with_line(bad, at=5, base=GOOD, replace=False):
    """base with the bad line inserted (or replacing) at 0-based index at;
    returns the text and the 1-based line number of the bad line."""
    lines = list(base)
    if replace:
        lines[at] = bad
    else:
        lines.insert(at, bad)
    return "\n".join(lines) + "\n", at + 1


class ConfigErrors(h.TestCase):
    def assertConfigError(self, text, line, reason):
        res = h.run(text, expect_fail=True)
        self.assertNotEqual(res.rc, 0, res.stdout + res.stderr)
        self.assertNotIn(STARTED, res.stdout)
        errs = re.findall(r"^(\S*es\.conf):(\d+): (.*)$", res.stderr, re.M)
        self.assertEqual(len(errs), 1, res.stderr)
        path, got_line, got_reason = errs[0]
        self.assertTrue(path.endswith("/es.conf"), path)
        self.assertEqual(int(got_line), line, f"reason: {got_reason}")
        self.assertRegex(got_reason, reason)
        return got_reason

    def test_the_good_config_starts(self):
        # the control: the base of every case below loads and runs
        res = h.run("\n".join(GOOD) + "\n", expect_fail=True)
        self.assertEqual(res.rc, 0, res.stderr)
        self.assertIn(STARTED, res.stdout)
        self.assertIn("3 sessions, 4 rules, 3 apps", res.stdout)

    def test_unknown_object(self):
        text, n = with_line("route add 10.0.0.0/8 via 10.100.0.20", at=7)
        self.assertConfigError(text, n, r"unknown object 'route'")

    def test_unknown_keyword(self):
        text, n = with_line(f"neigh add 192.0.2.99 lladdr {h.MAC_GNB} port n3 colour blue", at=9)
        self.assertConfigError(text, n, r"unknown word 'colour' in neigh command")

    def test_unknown_keyword_in_a_session(self):
        text, n = with_line(tp.session(8, "10.45.8.8", 0x800).strip() + " priority 3", at=4)
        self.assertConfigError(text, n, r"unknown word 'priority' in session command")

    def test_bad_address(self):
        text, n = with_line(f"neigh add 192.0.2.300 lladdr {h.MAC_GNB} port n3", at=6)
        self.assertConfigError(text, n, r"bad address '192\.0\.2\.300' for 'neigh add'")

    def test_bad_prefix_with_host_bits(self):
        text, n = with_line("rule add 50 dst 10.200.0.1/16 action drop", at=3)
        self.assertConfigError(text, n, r"bad prefix '10\.200\.0\.1/16' for 'dst'")

    def test_session_gnb_without_a_neighbour_names_the_missing_neigh(self):
        # 192.0.2.50 is on n3's subnet but has no 'neigh add' line
        text, n = with_line(tp.session(7, "10.45.7.7", 0x700, gnb="192.0.2.50").strip(), at=4)
        reason = self.assertConfigError(text, n, r"^session 7: gnb: no neighbour for next hop 192\.0\.2\.50")
        self.assertIn("neigh add 192.0.2.50 lladdr MAC port n3", reason)

    def test_session_cloud_on_no_core_subnet(self):
        text, n = with_line(tp.session(7, "10.45.7.7", 0x700, cloud="203.0.113.9").strip(), at=2)
        self.assertConfigError(text, n, r"^session 7: cloud: 203\.0\.113\.9 is on no core port's subnet")

    def test_rule_with_an_ipv6_ue_longer_than_64(self):
        # a UE's IPv6 is its /64 and rules compare the /64: a /128 'ue'
        # would drop or steer the whole /64 (docs/config.md, 'ue P')
        text, n = with_line("rule add 51 ue 2001:db8:45:1::5/128 action drop", at=4)
        self.assertConfigError(text, n, r"^rule 51: an IPv6 'ue' prefix is at most /64")

    def test_rule_naming_an_unknown_app(self):
        text, n = with_line("rule add 77 dst 10.77.0.0/16 action local nosuch", at=3)
        self.assertConfigError(text, n, r"^rule 77: no app named 'nosuch'")

    def test_mirror_then_naming_an_unknown_app(self):
        text, n = with_line("rule add 78 dst 10.78.0.0/16 action mirror tap then local ghost",
                            at=len(GOOD))
        self.assertConfigError(text, n, r"^rule 78: no app named 'ghost'")

    def test_a_rule_may_name_an_app_defined_further_down(self):
        # docs/config.md and config.c's header: "Loading does not depend on
        # line order ... a rule may name an app defined further down"
        apps = [l for l in GOOD if l.startswith("app add ")]
        rest = [l for l in GOOD if not l.startswith("app add ")]
        self.assertEqual(len(apps), 3)
        res = h.run("\n".join(rest + apps) + "\n", expect_fail=True)
        self.assertEqual(res.rc, 0, res.stderr)
        self.assertIn("3 sessions, 4 rules, 3 apps", res.stdout)

    def test_duplicate_session_id(self):
        # the second line with id 1 is the error, wherever the first is
        text, n = with_line(tp.session(1, "10.45.9.1", 0x901).strip(), at=len(GOOD))
        self.assertConfigError(text, n, r"^session 1 already exists")

    def test_duplicate_ul_teid(self):
        text, n = with_line(tp.session(9, "10.45.9.2", 0x100).strip(), at=len(GOOD) - 1)
        self.assertConfigError(text, n, r"^session 9: ul-teid 256 already used")

    def test_duplicate_ue(self):
        text, n = with_line(tp.session(9, tp.UE2, 0x903).strip(), at=len(GOOD) - 2)
        self.assertConfigError(text, n, r"^session 9: ue address already used")

    def test_duplicate_n9_teid(self):
        text, n = with_line(tp.session(9, "10.45.9.4", 0x904, n9=0x401).strip(), at=len(GOOD))
        self.assertConfigError(text, n, r"^session 9: n9-teid 1025 already used")

    def test_port_naming_a_device_that_does_not_exist(self):
        text, n = with_line(f"port add n4 dev net_pcap7 role access addr 192.0.3.1/24", at=4)
        self.assertConfigError(text, n, r"^port 'n4': no DPDK device 'net_pcap7'")

    def test_two_ports_on_one_device(self):
        text, n = with_line("port add n4 dev net_pcap1 role access addr 192.0.3.1/24", at=12)
        self.assertConfigError(text, n, r"^port 'n4': device 'net_pcap1' already used by port 'n9'")

    def test_set_with_an_out_of_range_value(self):
        # 'set' lines apply first: the error still names its own line
        text, n = with_line("set mbufs 5", at=len(GOOD))
        self.assertConfigError(text, n, r"^set mbufs 5: out of range 1023\.\.16777216")

    def test_set_recovery_256(self):
        text, n = with_line("set recovery 256", at=8)
        self.assertConfigError(text, n, r"^set recovery 256: out of range 0\.\.255")

    def test_set_acl_simd_with_a_width_rte_acl_has_not(self):
        text, n = with_line("set acl-simd 64", at=8)
        self.assertConfigError(text, n, r"^set acl-simd 64: one of 0 \(scalar\), 128 \(SSE4\.1\), 256 \(AVX2\), 512 \(AVX-512\)$")

    def test_frag_mbufs_over_a_quarter_of_the_pool_names_both_settings(self):
        # the line comes after the mbufs line and before ports: either way
        # the error names the frag-mbufs line
        text, n = with_line("set frag-mbufs 1024", at=9)
        self.assertConfigError(text, n, r"^set frag-mbufs 1024: 1 worker x 1024 mbufs is more than "
                                         r"reassembly's share of the pool, a quarter of 'set mbufs 4095' "
                                         r"\(1023\): at most 1023 per worker, or raise mbufs$")

    def test_frag_mbufs_of_a_quarter_of_the_pool_starts(self):
        text, _ = with_line("set frag-mbufs 1023", at=9)
        res = h.run(text, expect_fail=True)
        self.assertEqual(res.rc, 0, res.stderr)
        self.assertIn(STARTED, res.stdout)

    def test_frag_mbufs_counts_every_worker(self):
        text, n = with_line("set frag-mbufs 600", at=2)
        res = h.run(text, expect_fail=True, workers=2)
        self.assertNotEqual(res.rc, 0)
        self.assertRegex(res.stderr, rf"es\.conf:{n}: set frag-mbufs 600: 2 workers x 600 mbufs is more "
                                     r"than reassembly's share of the pool, a quarter of 'set mbufs 4095' "
                                     r"\(1023\): at most 511 per worker, or raise mbufs\n")
        text, _ = with_line("set frag-mbufs 511", at=2)
        res = h.run(text, expect_fail=True, workers=2)
        self.assertEqual(res.rc, 0, res.stderr)

    def test_a_pool_too_small_for_reassembly_on_every_worker(self):
        # 1023 mbufs: a quarter is 255, 7 each over 36 workers
        base = [l.replace("set mbufs 4095", "set mbufs 1023") for l in GOOD]
        n = base.index("set mbufs 1023") + 1
        res = h.run("\n".join(base) + "\n", expect_fail=True, workers=36)
        self.assertNotEqual(res.rc, 0)
        self.assertRegex(res.stderr, rf"es\.conf:{n}: set mbufs 1023: reassembly's share of the pool, "
                                     r"a quarter \(255\), over 36 workers is 7 mbufs each, fewer than 8 "
                                     r"\(one packet of 8 fragments\): raise mbufs or use fewer workers\n")

    def test_frag_mbufs_below_one_packet_is_out_of_range(self):
        text, n = with_line("set frag-mbufs 7", at=8)
        self.assertConfigError(text, n, r"^set frag-mbufs 7: out of range 8\.\.16777216")

    def test_unknown_setting(self):
        text, n = with_line("set sessions_max 10", at=8)
        self.assertConfigError(text, n, r"^unknown setting 'sessions_max'")

    def test_sessions_over_sessions_max(self):
        base = [l.replace("set sessions-max 4096", "set sessions-max 2") for l in GOOD]
        self.assertEqual(sum("sessions-max 2" in l for l in base), 1)
        # the third session line (session 3) is the first over the limit
        n = next(i for i, l in enumerate(base) if l.startswith("session add 3 ")) + 1
        self.assertConfigError("\n".join(base) + "\n", n,
                               r"^session 3: table full \(2 sessions; raise 'set sessions-max'\)")

    def test_rules_over_rules_max(self):
        base = [l.replace("set rules-max 1024", "set rules-max 3") for l in GOOD]
        n = next(i for i, l in enumerate(base) if l.startswith("rule add 30 ")) + 1
        self.assertConfigError("\n".join(base) + "\n", n,
                               r"^rule 30: table full \(3 rules; raise 'set rules-max'\)")

    def test_comment_and_blank_lines_count(self):
        lines = ["# a comment", "", "   ", *GOOD[:3], "  # indented comment", "port add"]
        text, n = "\n".join(lines) + "\n", len(lines)
        self.assertConfigError(text, n, r"^'port add' needs a value$")

    def test_a_line_holds_1023_characters_exactly(self):
        # the limit of docs/control.md, the newline not counted: the
        # same as on the control socket
        def padded(n):
            line = "set recovery 3 #"
            return line + "x" * (n - len(line))
        text, _ = with_line(padded(1023), at=2)
        res = h.run(text, expect_fail=True)
        self.assertEqual(res.rc, 0, res.stderr)
        self.assertIn(STARTED, res.stdout)
        for n in (1024, 1300, 5000):
            with self.subTest(n=n):
                text, at = with_line(padded(n), at=2)
                self.assertConfigError(text, at, r"^line longer than 1023 characters$")

    def test_run_time_verbs_do_not_belong_in_a_config_file(self):
        # change, del and show parse (docs/control.md) but are steerctl's
        # verbs: the loader names the line and what belongs there
        cases = [
            ("rule del 10", "rule del"),
            ("rule change 10 dst 10.200.0.0/16 action drop", "rule change"),
            ("app change xr-render state down", "app change"),
            ("session del 1", "session del"),
            ("show rule 10", "rule show"),
            ("counters show", "counters show"),
            ("state show", "state show"),
        ]
        for i, (line, what) in enumerate(cases):
            with self.subTest(line=line):
                text, n = with_line(line, at=3 + i)
                self.assertConfigError(
                    text, n, "^" + re.escape(what) +
                    r": only 'add' and 'set' lines belong in a config file$")

    def test_empty_config_has_no_port(self):
        # nothing to point at: the message names the file, without a line.
        # Table sizes are lowered so the -m 256 of the harness holds them
        # (the port check comes after the tables are allocated)
        small = "set sessions-max 16\nset rules-max 16\n"
        for text in (small, "# only a comment\n\n" + small, small + "set recovery 3\n"):
            with self.subTest(text=text):
                res = h.run(text, expect_fail=True)
                self.assertNotEqual(res.rc, 0)
                self.assertNotIn(STARTED, res.stdout)
                self.assertRegex(res.stderr, r"(?m)^\S*es\.conf: no 'port add' line: nothing to do$")

    def test_empty_file_has_no_port(self):
        # an empty file gets the default table sizes: give EAL the memory
        res = h.run("", expect_fail=True, extra_eal=["-m", "2048"])
        self.assertNotEqual(res.rc, 0)
        self.assertNotIn("edgesteer: ", res.stdout)
        self.assertRegex(res.stderr, r"(?m)^\S*es\.conf: no 'port add' line: nothing to do$")


class SameMessage(h.TestCase):
    """A config line is a steerctl command (all but 'set' and 'port'): the
    same mistake gets the same message from the config file at start-up
    (FILE:LINE: message) and from steerctl at run time (steerctl:
    message), both from the one batch engine (dataplane/ctl.c)."""

    MISTAKES = [
        # a duplicate of a line GOOD already has, or a name it lacks
        f"app add xr via {h.APP_6}",
        "rule add 10 dst 10.0.0.0/8 action drop",
        tp.session(1, "10.45.9.1", 0x901).strip(),
        tp.session(9, "10.45.9.2", 0x100).strip(),
        "rule add 77 dst 10.0.0.0/8 action local nosuch",
        "app add far via 198.51.100.77",
        f"neigh add {h.GNB_4} lladdr {h.MAC_UPF} port n3",
    ]

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="es-conf-e2e-")
        cls.es = h.Daemon("\n".join(GOOD) + "\n", cls.d).start()

    @classmethod
    def tearDownClass(cls):
        cls.es.stop()
        shutil.rmtree(cls.d, ignore_errors=True)

    def test_the_config_and_steerctl_say_the_same(self):
        for i, line in enumerate(self.MISTAKES):
            with self.subTest(line=line):
                r = self.es.ctl(line)
                self.assertNotEqual(r.returncode, 0, r.stdout)
                m = re.fullmatch(r"steerctl: (.*)\n", r.stderr)
                self.assertIsNotNone(m, r.stderr)
                text, n = with_line(line, at=len(GOOD) - 1 - i)
                got = ConfigErrors.assertConfigError(self, text, n, ".")
                self.assertEqual(got, m.group(1))


if __name__ == "__main__":
    import unittest
    unittest.main()
