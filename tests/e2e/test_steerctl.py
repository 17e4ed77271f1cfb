"""steerctl (control/steerctl.c) against a fake daemon that speaks the
control protocol (control/ctl_proto.h): a Unix stream socket, each message
a '<III' header {magic, flags, len} and len bytes of text.

Each test starts its own fake on a fresh socket path, runs the real
steerctl binary once, and asserts the exact bytes steerctl sent and what
it printed (stdout, stderr) and returned. Every wait is bounded: the fake
gives up after FAKE_WAIT_S, every steerctl run after RUN_TIMEOUT_S.
"""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import esharness as h

STEERCTL = os.path.join(h.BUILD, "steerctl")
MAGIC = 0x31435345
HDR = struct.Struct("<III")
OK, ERR, F_JSON = 0, 1, 0x1
MAX_REQ = 64 << 20
MAX_RESP = 1 << 30
FAKE_WAIT_S = 10
RUN_TIMEOUT_S = 20


def answer(status, body):
    body = body.encode() if isinstance(body, str) else body
    return HDR.pack(MAGIC, status, len(body)) + body


BUSY_TEXT = "all 16 control connections are in use (one idle for 60000 ms is closed); try again"
BUSY_REPLY = answer(ERR, "busy: " + BUSY_TEXT)


class Fake:
    """A one-connection control daemon. mode says what it does once it has
    read a whole request:
      'answer'  send reply (bytes: a whole response, header included)
      'chunks'  send reply one byte at a time, with pauses (partial reads)
      'close'   close without answering
      'hang'    answer nothing until the test ends
      'early'   (before reading the body) send reply, then close
    The first `busy` connections are answered BUSY_REPLY at once and
    closed, before any of their request is read (a daemon with every
    slot taken).
    """

    def __init__(self, reply=b"", mode="answer", busy=0):
        self.reply, self.mode, self.busy = reply, mode, busy
        self.dir = tempfile.mkdtemp(prefix="es-ctl-")
        self.path = os.path.join(self.dir, "ctl.sock")
        self.requests = []          # (magic, flags, text bytes)
        self.connections = 0
        self.error = None
        self.done = threading.Event()
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(4)
        self.srv.settimeout(0.2)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _recv(self, conn, n):
        buf = bytearray()
        while len(buf) < n:
            k = conn.recv(min(n - len(buf), 1 << 20))
            if not k:
                raise EOFError(f"client closed after {len(buf)} of {n} bytes")
            buf += k
        return bytes(buf)

    def _serve(self):
        deadline = time.monotonic() + FAKE_WAIT_S
        while not self.done.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            self.connections += 1
            conn.settimeout(FAKE_WAIT_S)
            if self.connections <= self.busy:
                conn.sendall(BUSY_REPLY)
                conn.close()
                continue
            try:
                self._one(conn)
            except Exception as e:  # reported by the test through self.error
                self.error = repr(e)
            finally:
                conn.close()

    def _one(self, conn):
        magic, flags, n = HDR.unpack(self._recv(conn, HDR.size))
        if self.mode == "early":
            self.requests.append((magic, flags, None))
            conn.sendall(self.reply)
            return
        self.requests.append((magic, flags, self._recv(conn, n)))
        if self.mode == "answer":
            conn.sendall(self.reply)
        elif self.mode == "chunks":
            for i in range(len(self.reply)):
                conn.sendall(self.reply[i:i + 1])
                if i < 16:
                    time.sleep(0.01)
        elif self.mode == "hang":
            self.done.wait(FAKE_WAIT_S)

    def stop(self):
        self.done.set()
        self.thread.join(FAKE_WAIT_S + 1)
        self.srv.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def steerctl(args, stdin=None, env=None):
    e = {k: v for k, v in os.environ.items() if k != "ES_CTL_SOCK"}
    e.update(env or {})
    t0 = time.monotonic()
    r = subprocess.run([STEERCTL] + list(args), input=stdin if stdin is not None else b"",
                       capture_output=True, timeout=RUN_TIMEOUT_S, env=e)
    r.elapsed = time.monotonic() - t0
    r.out, r.err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    return r


class Steerctl(unittest.TestCase):
    maxDiff = None

    def fake(self, reply=b"", mode="answer", busy=0):
        f = Fake(reply, mode, busy)
        self.addCleanup(f.stop)
        return f

    def run_against(self, fake, args, **kw):
        return steerctl(["-s", fake.path] + list(args), **kw)

    def assertSent(self, fake, flags, text):
        """Exactly one request came, with this flags word and text."""
        fake.stop()
        self.assertIsNone(fake.error)
        self.assertEqual(fake.connections, 1)
        self.assertEqual(fake.requests, [(MAGIC, flags, text)])

    def assertFails(self, r, rc, stderr_regex):
        self.assertEqual(r.returncode, rc, r.err)
        self.assertEqual(r.out, "")
        self.assertEqual(len(r.err.splitlines()), 1, r.err)
        self.assertRegex(r.err, stderr_regex)

    # --- what it sends -------------------------------------------------------

    def test_words_are_joined_by_single_spaces_into_one_line(self):
        f = self.fake(answer(OK, ""))
        r = self.run_against(f, "rule add 10 dst 10.0.0.0/8 action drop".split())
        self.assertEqual((r.returncode, r.out, r.err), (0, "", ""))
        self.assertSent(f, 0, b"rule add 10 dst 10.0.0.0/8 action drop\n")

    def test_words_are_sent_as_given_without_quoting(self):
        f = self.fake(answer(OK, ""))
        r = self.run_against(f, ["app", "add", "x y", "via", "'10.0.0.1'", "\t"])
        self.assertEqual(r.returncode, 0, r.err)
        self.assertSent(f, 0, b"app add x y via '10.0.0.1' \t\n")

    def test_words_that_look_like_options_after_the_command_are_sent(self):
        f = self.fake(answer(OK, ""))
        r = self.run_against(f, ["counters", "show", "-j"])
        self.assertEqual(r.returncode, 0, r.err)
        self.assertSent(f, 0, b"counters show -j\n")

    def test_json_sets_the_json_flag(self):
        f = self.fake(answer(OK, '{"rules": []}'))
        r = self.run_against(f, ["-j", "rule", "show"])
        self.assertEqual(r.returncode, 0, r.err)
        self.assertSent(f, F_JSON, b"rule show\n")

    def test_a_batch_file_is_sent_whole_and_as_is(self):
        text = b"# changes\napp change xr state down\n\nrule del 10\n  rule add 20 dst 10.0.0.0/8 action drop"
        with tempfile.NamedTemporaryFile(suffix=".conf") as t:
            t.write(text)
            t.flush()
            f = self.fake(answer(OK, ""))
            r = self.run_against(f, ["-f", t.name])
            self.assertEqual((r.returncode, r.out, r.err), (0, "", ""))
            self.assertSent(f, 0, text)

    def test_a_batch_from_stdin_with_json(self):
        text = b"rule del 10\nrule del 20\n"
        f = self.fake(answer(OK, "{}"))
        r = self.run_against(f, ["-j", "-f", "-"], stdin=text)
        self.assertEqual((r.returncode, r.out), (0, "{}\n"), r.err)
        self.assertSent(f, F_JSON, text)

    def test_an_empty_batch_is_sent_as_an_empty_request(self):
        f = self.fake(answer(OK, ""))
        r = self.run_against(f, ["-f", "-"], stdin=b"")
        self.assertEqual(r.returncode, 0, r.err)
        self.assertSent(f, 0, b"")

    def test_a_batch_of_exactly_the_request_limit_is_sent(self):
        line = b"rule del 1\n"
        text = line * (MAX_REQ // len(line))
        text += b"#" * (MAX_REQ - len(text) - 1) + b"\n"
        self.assertEqual(len(text), MAX_REQ)
        f = self.fake(answer(OK, ""))
        r = self.run_against(f, ["-f", "-"], stdin=text)
        self.assertEqual(r.returncode, 0, r.err)
        f.stop()
        self.assertIsNone(f.error)
        self.assertEqual(len(f.requests), 1)
        self.assertEqual(f.requests[0][:2], (MAGIC, 0))
        self.assertTrue(f.requests[0][2] == text)

    # --- what it prints ------------------------------------------------------

    def test_the_answer_is_printed_as_is(self):
        body = "rule add 10 dst 10.0.0.0/8 action drop\nrule add 20 action cloud\n"
        f = self.fake(answer(OK, body))
        r = self.run_against(f, ["rule", "show"])
        self.assertEqual((r.returncode, r.out, r.err), (0, body, ""))

    def test_a_final_newline_is_added_only_when_missing(self):
        for body, want in (("x", "x\n"), ("a\nb", "a\nb\n"), ("a\n\n", "a\n\n"), ("", "")):
            with self.subTest(body=body):
                f = self.fake(answer(OK, body))
                r = self.run_against(f, ["state", "show"])
                self.assertEqual((r.returncode, r.out, r.err), (0, want, ""))

    def test_json_output_is_only_the_daemons_document(self):
        doc = {"counters": {"rx_packets": 12, "drop_no_session": 0}}
        f = self.fake(answer(OK, json.dumps(doc)))
        r = self.run_against(f, ["-j", "counters", "show"])
        self.assertEqual((r.returncode, r.err), (0, ""))
        self.assertEqual(json.loads(r.out), doc)
        self.assertEqual(r.out, json.dumps(doc) + "\n")

    def test_an_answer_in_small_pieces_is_put_together(self):
        body = "app xr via 10.100.0.20 state up\n" * 100
        f = self.fake(answer(OK, body), mode="chunks")
        r = self.run_against(f, ["app", "show"])
        self.assertEqual((r.returncode, r.out, r.err), (0, body, ""))

    # --- refusals ------------------------------------------------------------

    def test_a_refusal_prints_the_reason_and_exits_1(self):
        f = self.fake(answer(ERR, "unknown object 'route'\n"))
        r = self.run_against(f, ["route", "add", "x"])
        self.assertEqual((r.returncode, r.out, r.err), (1, "", "steerctl: unknown object 'route'\n"))

    def test_a_refusal_with_json_keeps_stdout_empty(self):
        f = self.fake(answer(ERR, "no rule 99"))
        r = self.run_against(f, ["-j", "rule", "del", "99"])
        self.assertEqual((r.returncode, r.out, r.err), (1, "", "steerctl: no rule 99\n"))

    def test_a_batch_refusal_names_the_file_and_line(self):
        with tempfile.NamedTemporaryFile(suffix=".conf") as t:
            t.write(b"rule del 10\napp del xr\nrule add 5 action local nope\n")
            t.flush()
            f = self.fake(answer(ERR, "line 3: unknown app 'nope'\n"))
            r = self.run_against(f, ["-f", t.name])
            self.assertEqual((r.returncode, r.out, r.err), (1, "", f"{t.name}:3: unknown app 'nope'\n"))

    def test_a_batch_refusal_from_stdin(self):
        f = self.fake(answer(ERR, "line 12: rule 7 exists"))
        r = self.run_against(f, ["-f", "-"], stdin=b"rule add 7 action drop\n" * 12)
        self.assertEqual((r.returncode, r.err), (1, "<stdin>:12: rule 7 exists\n"))

    def test_a_batch_refusal_without_a_line_names_the_file(self):
        f = self.fake(answer(ERR, "line: not a number"))
        r = self.run_against(f, ["-f", "-"], stdin=b"rule del 1\n")
        self.assertEqual((r.returncode, r.err), (1, "steerctl: <stdin>: line: not a number\n"))

    def test_a_refusal_without_a_reason(self):
        f = self.fake(answer(ERR, ""))
        r = self.run_against(f, ["rule", "del", "1"])
        self.assertFails(r, 1, r"^steerctl: refused by the daemon \(no reason given\)$")

    # --- protocol errors -----------------------------------------------------

    def test_bad_magic(self):
        f = self.fake(HDR.pack(0x31435346, OK, 2) + b"ok")
        r = self.run_against(f, ["rule", "show"])
        self.assertFails(r, 2, r"protocol error: bad magic 0x31435346 .*expected 0x31435345")

    def test_unknown_status(self):
        f = self.fake(HDR.pack(MAGIC, 7, 2) + b"ok")
        r = self.run_against(f, ["rule", "show"])
        self.assertFails(r, 2, r"protocol error: unknown status 7")

    def test_the_daemon_closing_without_an_answer(self):
        f = self.fake(mode="close")
        r = self.run_against(f, ["rule", "show"])
        self.assertFails(r, 2, r"^steerctl: .*ctl\.sock: connection closed before an answer \(0 of 12 header bytes\)$")

    def test_the_daemon_closing_in_the_header(self):
        f = self.fake(HDR.pack(MAGIC, OK, 5)[:7])
        r = self.run_against(f, ["rule", "show"])
        self.assertFails(r, 2, r"connection closed before an answer \(7 of 12 header bytes\)")

    def test_the_daemon_closing_in_the_body_prints_nothing_of_it(self):
        f = self.fake(HDR.pack(MAGIC, OK, 100) + b"rule add 1 " * 1)
        r = self.run_against(f, ["rule", "show"])
        self.assertFails(r, 2, r"connection closed in the answer \(11 of 100 bytes\)")

    def test_an_oversized_answer_is_refused_before_reading_it(self):
        f = self.fake(HDR.pack(MAGIC, OK, MAX_RESP + 1) + b"x" * 100)
        r = self.run_against(f, ["rule", "show"])
        self.assertFails(r, 2, rf"protocol error: answer of {MAX_RESP + 1} bytes is over the limit of {MAX_RESP}")

    def test_a_daemon_that_answers_before_reading_the_whole_request(self):
        # it may refuse early and close; the answer still counts
        f = self.fake(answer(ERR, "request too large for this daemon"), mode="early")
        r = self.run_against(f, ["-f", "-"], stdin=b"#" * (8 << 20))
        self.assertEqual((r.returncode, r.out, r.err),
                         (1, "", "steerctl: <stdin>: request too large for this daemon\n"))

    # --- connection and time-outs --------------------------------------------

    def test_no_daemon(self):
        d = tempfile.mkdtemp(prefix="es-ctl-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "ctl.sock")
        r = steerctl(["-s", path, "rule", "show"])
        self.assertEqual((r.returncode, r.out), (2, ""))
        self.assertEqual(r.err, f"steerctl: cannot connect to {path}: No such file or directory "
                                f"(is edgesteer running with --ctl {path}?)\n")

    def test_a_socket_nobody_listens_on(self):
        d = tempfile.mkdtemp(prefix="es-ctl-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "ctl.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.close()
        r = steerctl(["-s", path, "rule", "show"])
        self.assertFails(r, 2, rf"^steerctl: cannot connect to {path}: Connection refused "
                               rf"\(is edgesteer running with --ctl {path}\?\)$")

    def test_a_daemon_that_never_answers_times_out(self):
        f = self.fake(mode="hang")
        r = self.run_against(f, ["-t", "1", "rule", "show"])
        self.assertFails(r, 2, r"timed out after 1 s waiting for the answer")
        self.assertGreater(r.elapsed, 0.9)
        self.assertLess(r.elapsed, 5)

    def test_fractional_timeouts(self):
        f = self.fake(mode="hang")
        r = self.run_against(f, ["-t", "0.3", "rule", "show"])
        self.assertFails(r, 2, r"timed out after 0\.3 s")
        self.assertLess(r.elapsed, 3)

    def test_the_socket_comes_from_the_environment_unless_given(self):
        f = self.fake(answer(OK, "from env"))
        r = steerctl(["state", "show"], env={"ES_CTL_SOCK": f.path})
        self.assertEqual((r.returncode, r.out), (0, "from env\n"), r.err)
        r = steerctl(["-s", "/nonexistent/ctl.sock", "state", "show"], env={"ES_CTL_SOCK": f.path})
        self.assertFails(r, 2, r"cannot connect to /nonexistent/ctl\.sock")
        self.assertSent(f, 0, b"state show\n")

    @unittest.skipIf(os.path.exists("/run/edgesteer/ctl.sock"), "a daemon listens on the default socket")
    def test_the_default_socket(self):
        r = steerctl(["state", "show"], env={"ES_CTL_SOCK": ""})
        self.assertFails(r, 2, r"^steerctl: cannot connect to /run/edgesteer/ctl\.sock: ")

    # --- usage: refused locally, nothing connects -----------------------------

    def test_usage_errors_exit_2_and_connect_nowhere(self):
        f = self.fake(answer(OK, ""))
        cases = [
            ([], r"^usage: steerctl "),
            (["-x", "rule", "show"], r"^steerctl: unknown option -x; try 'steerctl -h'$"),
            (["-t"], r"option -t needs an argument"),
            (["-f"], r"option -f needs an argument"),
            (["-t", "0", "rule", "show"], r"-t needs a positive number of seconds, not '0'"),
            (["-t", "-1", "rule", "show"], r"not '-1'"),
            (["-t", "abc", "rule", "show"], r"not 'abc'"),
            (["-t", "1s", "rule", "show"], r"not '1s'"),
            (["-t", "nan", "rule", "show"], r"not 'nan'"),
            (["-t", "inf", "rule", "show"], r"not 'inf'"),
            (["-f", "-", "rule", "show"], r"^steerctl: -f takes no command words \(got 'rule'\)"),
            (["-f", "", ], r"-f needs a file name"),
            (["-j"], r"^usage: steerctl "),
            (["rule", "add\n10", "action", "drop"], r"^steerctl: command word 2 holds a newline; use -f"),
            (["-f", "/nonexistent/changes.conf"], r"^steerctl: /nonexistent/changes\.conf: No such file or directory$"),
            (["-f", "/"], r"^steerctl: /: Is a directory$"),
        ]
        for args, want in cases:
            with self.subTest(args=args):
                r = self.run_against(f, args)
                self.assertEqual((r.returncode, r.out), (2, ""), r.err)
                self.assertRegex(r.err, want)
        r = steerctl(["-s", "", "rule", "show"])
        self.assertFails(r, 2, r"-s needs a socket path")
        r = steerctl(["-s", "/tmp/" + "x" * 200, "rule", "show"])
        self.assertFails(r, 2, r"socket path too long")
        f.stop()
        self.assertEqual(f.connections, 0)

    def test_help_goes_to_stdout(self):
        r = steerctl(["-h"])
        self.assertEqual((r.returncode, r.err), (0, ""))
        self.assertTrue(r.out.startswith("usage: steerctl [-j] [-s SOCK] [-f FILE|-] [-t SECONDS] "
                                         "[OBJECT VERB ARGS...]\n"), r.out)
        for opt in ("-j", "-s SOCK", "-f FILE", "-t SECONDS", "-h"):
            self.assertIn(f"\n  {opt} ", r.out)
        self.assertEqual(steerctl([]).err, r.out)   # no command: the same text on stderr

    def test_an_oversized_request_is_refused_locally(self):
        f = self.fake(answer(OK, ""))
        r = self.run_against(f, ["-f", "-"], stdin=b"#" * (MAX_REQ + 1))
        self.assertFails(r, 2, rf"^steerctl: <stdin>: request too large: more than {MAX_REQ} bytes")
        f.stop()
        self.assertEqual(f.connections, 0)

    # --- a daemon with every connection taken ----------------------------------

    def test_a_busy_daemon_is_tried_again_until_a_slot_frees(self):
        f = self.fake(answer(OK, "rule add 1 action drop\n"), busy=3)
        r = self.run_against(f, ["rule", "show"])
        self.assertEqual((r.returncode, r.out, r.err), (0, "rule add 1 action drop\n", ""))
        f.stop()
        self.assertIsNone(f.error)
        self.assertEqual(f.connections, 4)
        self.assertEqual(f.requests, [(MAGIC, 0, b"rule show\n")], "sent whole once a slot was free")

    def test_a_daemon_busy_until_the_deadline(self):
        f = self.fake(busy=10000)
        r = self.run_against(f, ["-t", "0.5", "rule", "show"])
        self.assertFails(r, 2, "^" + re.escape(f"steerctl: {f.path}: no free connection within 0.5 s: {BUSY_TEXT}") + "$")
        self.assertGreater(r.elapsed, 0.2)
        self.assertLess(r.elapsed, 5)
        f.stop()
        self.assertGreater(f.connections, 1, "tried again before giving up")

    def test_a_refusal_that_only_looks_busy_later_is_not_tried_again(self):
        f = self.fake(answer(ERR, "line 2: busy: not a prefix"))
        r = self.run_against(f, ["-f", "-"], stdin=b"rule del 1\nrule del 2\n")
        self.assertEqual((r.returncode, r.err), (1, "<stdin>:2: busy: not a prefix\n"))
        f.stop()
        self.assertEqual(f.connections, 1)

    # --- control bytes are escaped in every message ------------------------------

    def test_control_bytes_in_the_daemons_reason_are_escaped(self):
        f = self.fake(answer(ERR, b"unknown word '\x1b[2J\x07\xff' here\r\n"))
        r = self.run_against(f, ["rule", "show"])
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, b"", b"steerctl: unknown word '\\x1b[2J\\x07\\xff' here\n"))
        f = self.fake(answer(ERR, b"line 3: bad \x01 thing"))
        r = self.run_against(f, ["-f", "-"], stdin=b"x\n")
        self.assertEqual(r.stderr, b"<stdin>:3: bad \\x01 thing\n")

    def test_control_bytes_in_words_and_paths_are_escaped(self):
        d = tempfile.mkdtemp(prefix="es-ctl-")
        self.addCleanup(shutil.rmtree, d, True)
        bad = os.path.join(d, "a\x1b[31mb").encode()
        cases = [
            ([b"-t", b"1\x07"], b"steerctl: -t needs a positive number of seconds, not '1\\x07'; try 'steerctl -h'\n"),
            ([b"-\x01"], b"steerctl: unknown option -\\x01; try 'steerctl -h'\n"),
            ([b"-s", bad, b"rule", b"show"],
             b"steerctl: cannot connect to " + bad.replace(b"\x1b", b"\\x1b") + b": No such file or directory "
             b"(is edgesteer running with --ctl " + bad.replace(b"\x1b", b"\\x1b") + b"?)\n"),
            ([b"-s", b"/nonexistent", b"-f", bad],
             b"steerctl: " + bad.replace(b"\x1b", b"\\x1b") + b": No such file or directory\n"),
            ([b"-s", b"/nonexistent", b"-f", b"-", b"x\x02"],
             b"steerctl: -f takes no command words (got 'x\\x02'); try 'steerctl -h'\n"),
        ]
        for args, want in cases:
            with self.subTest(args=args):
                r = subprocess.run([STEERCTL.encode()] + args, capture_output=True, timeout=RUN_TIMEOUT_S)
                self.assertEqual((r.returncode, r.stdout, r.stderr), (2, b"", want))

    # --- the docs ------------------------------------------------------------

    def test_the_protocol_example_in_the_docs_works(self):
        doc = open(os.path.join(h.ROOT, "docs", "control.md")).read()
        code = doc.split("### Protocol", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
        self.assertIn('"/run/edgesteer/ctl.sock"', code)
        f = self.fake(answer(OK, "rule add 10 action drop\n"), mode="chunks")
        r = subprocess.run(["/usr/bin/python3", "-c", code.replace("/run/edgesteer/ctl.sock", f.path)],
                           capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        self.assertEqual((r.returncode, r.stdout), (0, "ok rule add 10 action drop\n\n"), r.stderr)
        self.assertSent(f, 0, b"rule show\n")

    def test_the_docs_list_every_option_of_the_usage(self):
        doc = open(os.path.join(h.ROOT, "docs", "control.md")).read().split("## steerctl", 1)[1]
        usage = steerctl(["-h"]).out
        for line in usage.splitlines():
            if line.startswith("  -"):
                self.assertIn(f"| `{line.split('  ')[1].strip()}` |", doc)

    # --- the binary ----------------------------------------------------------

    @unittest.skipIf(shutil.which("readelf") is None, "no readelf")
    def test_steerctl_links_only_libc(self):
        d = subprocess.run(["readelf", "-d", STEERCTL], capture_output=True, text=True, timeout=30)
        needed = [l.split("[")[1].rstrip("]") for l in d.stdout.splitlines() if "(NEEDED)" in l]
        self.assertEqual(needed, ["libc.so.6"])


if __name__ == "__main__":
    unittest.main()
