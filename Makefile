# edgesteer — see README.md. `make` builds, `make test` and `make demo`
# first install any missing Debian package (scripts/deps.sh).

BUILD   ?= build
Q       ?= @
CC      ?= gcc
PKGCONF ?= pkg-config

DPDK_CFLAGS := $(shell $(PKGCONF) --cflags libdpdk 2>/dev/null)
DPDK_LIBS   := $(shell $(PKGCONF) --libs libdpdk 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-address-of-packed-member \
           -Wno-format-truncation
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API $(WARN) -Iinclude -Idataplane -Icontrol -MMD -MP
# error messages are cut to ES_ERR_MAX on purpose (-Wno-format-truncation);
# DPDK headers trip some of our stricter warnings; include them as system headers
DPDK_CFLAGS := $(patsubst -I%,-isystem %,$(DPDK_CFLAGS))

# dataplane/: the packet path (docs/architecture.md, "Files"); control/: the
# daemon's control side, its entry (main.c) and the grammar
DP_SRC  := dataplane/port.c \
           dataplane/session.c dataplane/classify.c dataplane/worker.c dataplane/frag.c \
           dataplane/path.c dataplane/encap.c dataplane/parse.c \
           dataplane/counters.c dataplane/latency.c dataplane/tables.c dataplane/mem.c \
           control/main.c control/config.c control/entries.c control/ctl.c control/obuf.c control/state.c \
           control/rules.c control/rules_ovl.c control/telemetry.c \
           control/cmd.c control/hook.c dataplane/hook.c
DP_OBJ  := $(DP_SRC:%.c=$(BUILD)/%.o)

# objects without DPDK, for the pure unit tests
PURE_OBJ := $(BUILD)/dataplane/parse.o $(BUILD)/dataplane/counters.o \
            $(BUILD)/dataplane/latency.o $(BUILD)/control/cmd.o
# the daemon less main(), for the DPDK unit tests
LIB_OBJ := $(filter-out $(BUILD)/control/main.o,$(DP_OBJ))

UNIT_PURE := parse cmd latency
UNIT_DPDK := classify encap session rules rules_ovl mem frag worker hook
UNIT_BIN  := $(UNIT_PURE:%=$(BUILD)/tests/test_%) $(UNIT_DPDK:%=$(BUILD)/tests/test_%)
# the pure suites again under AddressSanitizer + UndefinedBehaviorSanitizer
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_BIN   := $(UNIT_PURE:%=$(BUILD)/tests-san/test_%)
# the DPDK suite that runs bursts through es_process_burst, again with the
# data plane's objects under UndefinedBehaviorSanitizer (no ASan: EAL maps
# its memory itself); its objects go to $(BUILD)/san/
UBSAN       := -fsanitize=undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_LIB_OBJ := $(LIB_OBJ:$(BUILD)/%=$(BUILD)/san/%)
SAN_BIN     += $(BUILD)/tests-san/test_worker
PURE_SRC  := dataplane/parse.c dataplane/counters.c dataplane/latency.c control/cmd.c
PROBES    := es-jitter es-memlat es-coreprobe

# `make` (all): the product and its tests. The benchmarks and the platform
# probes: make bench; the fuzzers: make fuzz (make test builds what its
# suites run: all, the grammar fuzzer and the rules/acl benches' smoke runs).
BENCH_BIN := $(BUILD)/rules-bench $(BUILD)/ovl-bench $(BUILD)/acl-bench $(PROBES:%=$(BUILD)/%)

.PHONY: all bench bench-test deps test demo perf perf-report perf-ctl soak restart-bench clean bpf
all: $(BUILD)/edgesteer $(BUILD)/es-loadgen $(BUILD)/steerctl $(UNIT_BIN) $(SAN_BIN) bpf
bench: $(BENCH_BIN)
.PHONY: fuzz fuzz-long

# eBPF programs (docs/ebpf.md): clang -O2 -target bpf, objects under
# $(BUILD)/bpf/. `make bpf` builds every BPF_OBJ; add objects with
# `BPF_OBJ +=` lines.
BPF_CC     ?= clang
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -I/usr/include/x86_64-linux-gnu -Iebpf
BPF_OBJ    += $(patsubst %.c,$(BUILD)/bpf/%.o,$(notdir $(wildcard ebpf/samples/*.c)))
BPF_OBJ    += $(patsubst tests/bpf/%.c,$(BUILD)/bpf/tests/%.o,$(wildcard tests/bpf/*.c))
BPF_TEST_OBJ := $(BUILD)/bpf/tests/hook_ok.o $(BUILD)/bpf/tests/hook_bad.o \
                $(patsubst %.c,$(BUILD)/bpf/%.o,$(notdir $(wildcard ebpf/samples/*.c)))

$(BUILD)/bpf/%.o: ebpf/samples/%.c ebpf/es_hook.h
	@mkdir -p $(dir $@)
	@echo "  BPF   $<"
	$(Q)$(BPF_CC) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/bpf/tests/%.o: tests/bpf/%.c ebpf/es_hook.h
	@mkdir -p $(dir $@)
	@echo "  BPF   $<"
	$(Q)$(BPF_CC) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) $(DPDK_CFLAGS) -c $< -o $@

$(BUILD)/edgesteer: $(DP_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) -lm

# the control client: plain C and libc, no DPDK and nothing of the data plane
$(BUILD)/steerctl: control/steerctl.c control/ctl_proto.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ control/steerctl.c

# the paced generator/sink of perf/: the data plane less its main, on ring ports
$(BUILD)/es-loadgen: $(BUILD)/perf/loadgen.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) -lrte_net_ring -lpcap -lm

# rule update benchmark (perf/rules_update.c): make bench; make test builds
# it for a smoke run in tests/run_all.sh
$(BUILD)/rules-bench: $(BUILD)/perf/rules_update.o $(BUILD)/perf/mec_rules.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) -lm

# rte_acl's cost per key group its rules use (perf/acl_steps.c): the
# measurement behind classify.c's layout; rte_acl alone, no data plane
$(BUILD)/acl-bench: $(BUILD)/perf/acl_steps.o
	$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) -lm

# The platform probes, plain C without DPDK (perf/plat.h), that make perf
# runs on the worker's CPU: es-jitter, the platform's interruptions of a
# spinning CPU (perf/jitter.c); es-memlat, a random cache line's cost by
# working-set size (perf/memlat.c); es-coreprobe, whether the core runs
# alone right now, ALU throughput against L1 latency (perf/coreprobe.c).
$(PROBES:%=$(BUILD)/%): $(BUILD)/es-%: perf/%.c perf/plat.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

# overlap index figures (perf/ovl_bench.c): build and query times against
# the linear scan at 100k MEC-like rules; not part of make test
$(BUILD)/ovl-bench: $(BUILD)/perf/ovl_bench.o $(BUILD)/perf/mec_rules.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) -lm

$(BUILD)/tests/test_parse: $(BUILD)/tests/unit/test_parse.o $(PURE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka -lm
$(BUILD)/tests/test_cmd: $(BUILD)/tests/unit/test_cmd.o $(PURE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka -lm
$(BUILD)/tests/test_latency: $(BUILD)/tests/unit/test_latency.o $(PURE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka -lm
# the classifier's test reference, shared by two suites
$(BUILD)/tests/test_classify $(BUILD)/tests/test_rules $(BUILD)/tests/test_rules_ovl: $(BUILD)/tests/unit/rule_ref.o
# the hook suite loads the BPF test objects
$(BUILD)/tests/unit/test_hook.o: CFLAGS += -DES_BPF_DIR='"$(abspath $(BUILD))/bpf"'
$(BUILD)/tests/test_hook: | $(BPF_TEST_OBJ)
# the worker suite makes ring ports (rte_eth_from_rings)
$(BUILD)/tests/test_worker: TEST_LIBS := -lrte_net_ring
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) $(TEST_LIBS) -lcmocka -lm

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CCUB  $<"
	$(Q)$(CC) $(CFLAGS) -O1 $(UBSAN) $(DPDK_CFLAGS) -c $< -o $@
$(BUILD)/tests-san/test_worker: $(BUILD)/san/tests/unit/test_worker.o $(SAN_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(UBSAN) -o $@ $^ $(DPDK_LIBS) -lrte_net_ring -lcmocka -lm

$(BUILD)/tests-san/test_%: tests/unit/test_%.c $(PURE_SRC)
	@mkdir -p $(dir $@)
	@echo "  CCSAN $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g $(SAN) -Iinclude -Idataplane -Icontrol -o $@ $^ -lcmocka -lm

# The command-grammar fuzzer (libFuzzer, clang): see docs/control.md "Fuzzing".
# make test runs it briefly (tests/run_all.sh); make fuzz-long for FUZZ_TIME s.
FUZZ_CC   ?= clang
FUZZ_BIN  := $(BUILD)/fuzz/fuzz_cmd
FUZZ_TIME ?= 600
$(FUZZ_BIN): tests/fuzz/fuzz_cmd.c control/cmd.c control/cmd.h include/es_types.h
	@mkdir -p $(dir $@)
	@echo "  FUZZ  $@"
	$(Q)$(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(filter-out -Wno-format-truncation,$(WARN)) \
		-O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Iinclude -Icontrol -o $@ tests/fuzz/fuzz_cmd.c control/cmd.c

fuzz: $(FUZZ_BIN)

fuzz-long: deps $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/artifacts
	$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -print_final_stats=1 -dict=tests/fuzz/cmd.dict \
		-artifact_prefix=$(BUILD)/fuzz/artifacts/ \
		$(BUILD)/fuzz/corpus tests/fuzz/corpus

deps:
	@scripts/deps.sh

# One summary line over every suite: "N passed, N failed". The platform
# probes are not among them (make bench-test).
test: deps
	@$(MAKE) --no-print-directory all $(FUZZ_BIN) $(BUILD)/rules-bench $(BUILD)/acl-bench
	@tests/run_all.sh $(BUILD)

# the platform probes' and the report's own checks (perf/test_probes.py)
bench-test: $(PROBES:%=$(BUILD)/%)
	@ES_BUILD=$(abspath $(BUILD)) /usr/bin/python3 perf/test_probes.py

# The benchmark suite: 6-9 minutes on a 2-vCPU VM (docs/perf.md, method).
# Writes its result file, report and plots under $(BUILD)/perf/ and changes
# no committed file. `perf/suite.py --quick` is the short run make test does.
PERF_OUT ?= $(BUILD)/perf
perf:
	@scripts/deps.sh perf
	@$(MAKE) --no-print-directory $(BUILD)/edgesteer
	@$(MAKE) --no-print-directory $(BUILD)/es-loadgen
	@$(MAKE) --no-print-directory $(PROBES:%=$(BUILD)/%)
	@ES_BUILD=$(abspath $(BUILD)) /usr/bin/python3 perf/suite.py --out $(abspath $(PERF_OUT))

# docs/perf.md's headline table of a run (RESULT=, default the newest
# under $(BUILD)/perf/), printed: to quote a run, paste it into docs/perf.md
# and copy its file to perf/baseline.json (the one result file in git).
RESULT ?= $(lastword $(sort $(wildcard $(PERF_OUT)/20*.json)))
perf-report:
	@test -n "$(RESULT)" || { echo "perf-report: no result under $(PERF_OUT)/ (make perf, or RESULT=FILE)"; exit 1; }
	@/usr/bin/python3 perf/report.py --headline $(RESULT)

# Rule updates through the control socket at 1k, 10k, 100k rules with traffic
# flowing: a few minutes; results under $(BUILD)/perf/ctl-*.json (docs/perf-notes.md).
perf-ctl: deps
	@$(MAKE) --no-print-directory $(BUILD)/edgesteer
	@ES_BUILD=$(abspath $(BUILD)) /usr/bin/python3 perf/ctl_bench.py --out $(abspath $(PERF_OUT))

# The soak (docs/reliability.md, "Soak"): SOAK_SECONDS (default an hour)
# under a realistic mix at SOAK_FRACTION (default 0.9) of the peak measured at
# its start, while rules, apps and sessions change; a sample every
# SOAK_INTERVAL s. Verdict printed; results and plots under perf/results/soak/.
SOAK_SECONDS  ?= 3600
SOAK_FRACTION ?= 0.9
SOAK_INTERVAL ?= 10
soak:
	@scripts/deps.sh perf
	@$(MAKE) --no-print-directory $(BUILD)/es-loadgen $(BUILD)/steerctl $(BUILD)/es-jitter
	@ES_BUILD=$(abspath $(BUILD)) /usr/bin/python3 perf/soak.py --seconds $(SOAK_SECONDS) \
		--fraction $(SOAK_FRACTION) --interval $(SOAK_INTERVAL)

# SIGKILL under traffic and restart with --state at 100k sessions and 10k
# rules (docs/reliability.md, "Restart timing"): 2-4 minutes, as root;
# results under perf/results/restart/.
restart-bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/edgesteer
	@ES_BUILD=$(abspath $(BUILD)) /usr/bin/python3 perf/restart.py

demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/edgesteer
	@/usr/bin/python3 scripts/demo.py --build $(BUILD)

clean:
	rm -rf $(BUILD)

# last, so that every 'BPF_OBJ +=' line above counts
bpf: $(BPF_OBJ)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
