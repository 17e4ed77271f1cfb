"""eBPF hooks through the control path: the real edgesteer and steerctl.

hook attach / show / del / trace, refusals with the loader's reason and
nothing attached, a batch that fails undoing its hook, and the state
journal: a restart restores the attached programs, and refuses to start
when an object changed since it was attached. The BPF objects are built
by make (build/bpf/tests/). No packet runs here: the counters stay at
zero (packets through hooks: test_hook_samples.py, test_hook_live.py).
"""
import os
import shutil
import tempfile

import esharness as h

OBJ_DIR = os.path.join(h.BUILD, "bpf", "tests")
CONFIG = h.BASE_CONFIG


class Hooks(h.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="es-hook-e2e-")
        self.addCleanup(shutil.rmtree, self.d, True)
        # the test's own copies: it changes one
        self.ok_obj = os.path.join(self.d, "ok.o")
        self.bad_obj = os.path.join(self.d, "bad.o")
        shutil.copy(os.path.join(OBJ_DIR, "hook_ok.o"), self.ok_obj)
        shutil.copy(os.path.join(OBJ_DIR, "hook_bad.o"), self.bad_obj)
        self.state = os.path.join(self.d, "state")

    def daemon(self):
        es = h.Daemon(CONFIG, self.d, state=self.state)
        self.addCleanup(es.kill)
        return es.start()

    def test_attach_show_refuse_and_restore(self):
        es = self.daemon()
        self.assertEqual(es.ok("hook show"), "")
        es.ok(f"hook attach steer at after-classify obj {self.ok_obj} order 5")
        es.ok(f"hook attach mark at after-parse dir dl obj {self.ok_obj} sec unrolled")
        j = es.ok("hook show", json_out=True)
        self.assertEqual(j["jit"], 1)
        names = [(x["name"], x["point"], x["dir"], x["order"], x["sec"], x["jit"], x["runs"])
                 for x in j["hooks"]]
        self.assertEqual(names, [("mark", "after-parse", "dl", 0, "unrolled", True, 0),
                                 ("steer", "after-classify", "ul", 5, "hook", True, 0)])
        self.assertEqual(j["hooks"][1]["counters"], [0] * 16)
        self.assertRegex(es.ok("hook show steer"),
                         r"^hook steer at after-classify dir ul order 5 obj \S+ok\.o sec hook "
                         r"hash [0-9a-f]{16} jit insns \d+\n  runs 0 drops 0")
        self.assertEqual(es.ok("hook trace"), "")
        digest = es.digest()

        # refusals: the loader's reason, nothing changes
        for words, why in [
            (f"hook attach x at after-parse obj {self.bad_obj} sec loop", "loops detected"),
            (f"hook attach x at after-parse obj {self.bad_obj} sec oob", "memory boundary violation"),
            (f"hook attach x at after-parse obj {self.bad_obj} sec unknown_helper",
             "unknown helper: resolve_xsym(es_no_such_helper"),
            (f"hook attach x at after-parse obj {self.bad_obj} sec write_ctx", "read-only"),
            (f"hook attach x at after-parse obj {self.ok_obj} sec nope", "no code section 'nope'"),
            (f"hook attach x at after-parse obj {self.d}/missing.o", "cannot open"),
            (f"hook attach steer at after-parse obj {self.bad_obj} sec loop", "loops detected"),
            ("hook attach x at before-rx obj /x.o", "bad hook point 'before-rx'"),
            ("hook del nosuch", "no hook nosuch"),
        ]:
            r = es.ctl(words)
            self.assertEqual(r.returncode, 1, words)
            self.assertIn(why, r.stderr, words)
        self.assertEqual(es.digest(), digest)
        self.assertEqual([x["name"] for x in es.ok("hook show", json_out=True)["hooks"]],
                         ["mark", "steer"])
        # a batch whose other line fails: the hook it attached is gone again
        r = es.ctl(batch=f"hook attach extra at before-tx obj {self.ok_obj}\nrule del 4242\n")
        self.assertEqual(r.returncode, 1)
        r = es.ctl(batch=f"rule add 4243 dst 10.9.0.0/16 action drop\n"
                         f"hook attach extra at before-tx obj {self.bad_obj} sec oob\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("memory boundary violation", r.stderr)
        self.assertEqual(es.digest(), digest)
        self.assertEqual(es.ctl("rule show 4243").returncode, 1)
        # show and trace are not changes
        r = es.ctl(batch="hook trace\nhook del mark\n")
        self.assertEqual(r.returncode, 1)

        # restart: restored from the journal, hash and all
        before = es.ok("hook show")
        self.assertEqual(es.stop(), 0)
        es = self.daemon()
        self.assertEqual(es.ok("hook show"), before)
        es.ok("hook del mark")
        # rebuilt in place and attached again; another attached, then
        # deleted, then its file changed: the journal's history replays
        re_obj, gone_obj = os.path.join(self.d, "re.o"), os.path.join(self.d, "gone.o")
        shutil.copy(self.ok_obj, re_obj)
        shutil.copy(self.ok_obj, gone_obj)
        es.ok(f"hook attach re at before-tx obj {re_obj}")
        es.ok(f"hook attach gone at before-tx obj {gone_obj}")
        h1 = es.ok("hook show re", json_out=True)["hooks"][0]["hash"]
        with open(re_obj, "ab") as f:
            f.write(b"rebuilt")
        es.ok(f"hook attach re at before-tx obj {re_obj}")
        h2 = es.ok("hook show re", json_out=True)["hooks"][0]["hash"]
        self.assertNotEqual(h1, h2)
        es.ok("hook del gone")
        with open(gone_obj, "ab") as f:
            f.write(b"changed")
        # a batch that replaces re and then fails puts the running one back,
        # though its file no longer holds the section it was loaded from
        with open(re_obj, "wb") as f:
            f.write(open(self.bad_obj, "rb").read())
        r = es.ctl(batch=f"hook attach re at before-tx obj {self.ok_obj} sec unrolled\n"
                         f"hook attach zz at before-tx obj {self.bad_obj} sec oob\n")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(es.ok("hook show re", json_out=True)["hooks"][0]["hash"], h2)
        self.assertEqual(es.ok("hook show re", json_out=True)["hooks"][0]["sec"], "hook")
        es.ok("hook del re")
        es.kill()
        es = self.daemon()
        self.assertEqual([x["name"] for x in es.ok("hook show", json_out=True)["hooks"]], ["steer"])
        self.assertEqual(es.stop(), 0)

        # the object changed: the restore refuses it, with the reason
        with open(self.ok_obj, "ab") as f:
            f.write(b"\0")
        es = h.Daemon(CONFIG, self.d, state=self.state)
        self.addCleanup(es.kill)
        with self.assertRaises(AssertionError) as cm:
            es.start()
        self.assertIn("hook steer: object", str(cm.exception))
        self.assertIn("changed since it was attached", str(cm.exception))


if __name__ == "__main__":
    import unittest
    unittest.main()
