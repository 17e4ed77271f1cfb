"""Docs that are generated from code stay in step with it."""
import os
import subprocess
import unittest

import esharness as h


class Docs(unittest.TestCase):
    def test_counters_doc_matches_counters_def(self):
        r = subprocess.run(["/usr/bin/python3", os.path.join(h.ROOT, "scripts", "gen_counters_md.py"),
                            "--check"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_every_counter_in_the_binary_dump_is_documented(self):
        res = h.run(h.BASE_CONFIG, {})
        doc = open(os.path.join(h.ROOT, "docs", "counters.md")).read()
        self.assertGreater(len(res.counters), 50)
        for name in res.counters:
            self.assertIn(f"`{name}`", doc)
