"""eBPF hooks attached, replaced and detached under live traffic: the real
edgesteer in a network namespace on net_af_packet ports (the harness of
test_control.py, Live), G-PDUs sent at a steady rate while steerctl
changes the hooks. Every packet comes out exactly once, with the bytes of
the outcome the hooks in force gave it, or is dropped where a hook said
drop and counted drop_hook: count in == out + the intended drops, none
lost across a swap.

The programs: tests/bpf/hook_verdicts.c, section by_port (dport 7000:
steer to app 0; 7200: drop) and section ctx (always continue).
"""
import os
import unittest

import esharness as h
import test_control as tc

OBJ = os.path.join(h.BUILD, "bpf", "tests", "hook_verdicts.o")


@unittest.skipUnless(tc.NETNS_OK, tc.NETNS_WHY)
class LiveHooks(tc.Live):
    RULES = "rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action local xr\n"

    def test_attach_replace_detach_under_traffic_loses_nothing(self):
        es = self.es
        flows = tc.Flows([("10.200.0.5", 4000), ("203.0.113.5", 6000),
                          ("198.18.0.5", 7200), ("198.18.0.6", 7000)])
        none = {0: "xr", 1: "cloud", 2: "cloud", 3: "cloud"}
        hooked = {0: "xr", 1: "cloud", 2: "drop", 3: "xr"}
        steps = [
            ("attach v", lambda: es.ctl(f"hook attach v at after-parse dir ul obj {OBJ} sec by_port"),
             hooked),
            ("replace v", lambda: es.ctl(f"hook attach v at after-parse dir ul obj {OBJ} sec ctx"),
             none),
            ("attach w", lambda: es.ctl(f"hook attach w at after-classify dir ul obj {OBJ} sec by_port"),
             hooked),
            ("replace w", lambda: es.ctl(f"hook attach w at after-classify dir ul obj {OBJ} sec by_port"),
             hooked),
            ("del w", lambda: es.ctl("hook del w"), none),
            ("del v", lambda: es.ctl("hook del v"), none),
        ]
        seen, tr, epochs = self.run_live(flows, steps, none)
        d = self.delta()
        dropped = tr.sent - len(seen)
        self.assertGreater(dropped, 0)
        # every missing packet is flow 2's, dropped by a hook and counted
        self.assertEqual({k: v for k, v in d.items() if k.startswith("drop_")}, {"drop_hook": dropped})
        self.assertEqual(d["rx"], tr.sent)
        self.assertEqual(d["rx"], d["tx"] + d["drop_hook"], "in == out + the intended drops")
        self.assertEqual(es.ok("hook show"), "")
        # flow 3 was steered to app 0: xr, the config's first app
        self.assertEqual([a["name"] for a in es.ok("app show", json_out=True)["apps"]
                          if a["index"] == 0], ["xr"])


if __name__ == "__main__":
    unittest.main()
