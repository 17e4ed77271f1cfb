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
           dataplane/session.c dataplane/classify.c dataplane/worker.c dataplane/lcore.c dataplane/pipeline.c \
           dataplane/stats.c dataplane/frag.c dataplane/act_path.c dataplane/encap.c dataplane/parse.c \
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
# the DPDK suites again, with the data plane's objects, under ASan + UBSan
# (EAL with --no-huge: its memory is one anonymous mapping, which ASan
# leaves alone, and it frees what it mallocs or keeps it reachable, so
# LeakSanitizer stays on); their objects go to $(BUILD)/san/. ASan sees
# the data plane's malloc memory, stack and globals, not what rte_malloc
# or a mempool hands out (Debian's EAL is not built with b_sanitize):
# docs/reliability.md "Fuzzing the rx path".
SAN_LIB_OBJ := $(LIB_OBJ:$(BUILD)/%=$(BUILD)/san/%)
SAN_BIN     += $(UNIT_DPDK:%=$(BUILD)/tests-san/test_%)
PURE_SRC  := dataplane/parse.c dataplane/counters.c dataplane/latency.c control/cmd.c
PROBES    := es-jitter es-memlat es-coreprobe

# `make` (all): the product and its tests. The benchmarks and the platform
# probes: make bench; the fuzzers: make fuzz (make test builds what its
# suites run: all, the fuzzers and the rules/acl/hook benches' smoke runs).
BENCH_BIN := $(BUILD)/rules-bench $(BUILD)/ovl-bench $(BUILD)/acl-bench $(BUILD)/hook-bench \
             $(PROBES:%=$(BUILD)/%)

.PHONY: all bench bench-test deps test demo perf perf-report perf-ctl soak restart-bench clean bpf
all: $(BUILD)/edgesteer $(BUILD)/es-loadgen $(BUILD)/steerctl $(BUILD)/es-xdp $(UNIT_BIN) $(SAN_BIN) bpf
bench: $(BENCH_BIN)
.PHONY: fuzz fuzz-long fuzz-cov

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

# The XDP front end's objects under $(BUILD)/ebpf/ (docs/ebpf.md, "XDP
# front end"), with the hooks' BPF_CC and BPF_CFLAGS above.
BPF_OBJ    += $(patsubst ebpf/xdp/%.bpf.c,$(BUILD)/ebpf/%.bpf.o,$(wildcard ebpf/xdp/*.bpf.c))
$(BUILD)/ebpf/%.bpf.o: ebpf/xdp/%.bpf.c ebpf/xdp/es_xdp.h
	@mkdir -p $(dir $@)
	@echo "  BPF   $<"
	$(Q)$(BPF_CC) $(BPF_CFLAGS) -Iebpf/xdp -c $< -o $@

# es-xdp: loads, fills, attaches and test-runs the XDP front end (libbpf)
$(BUILD)/es-xdp: ebpf/xdp/es_xdp_load.c ebpf/xdp/es_xdp.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iebpf/xdp -o $@ $< -lbpf

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

# the eBPF hooks' cost per packet (perf/hook_bench.c, docs/ebpf.md "Cost"):
# es_hook_run with nothing, an empty program, each sample attached, JIT
# against interpreter; it loads the objects of make bpf from $(BUILD)/bpf
HOOK_BENCH_OBJ := $(BUILD)/bpf/tests/hook_bench.o \
                  $(patsubst %.c,$(BUILD)/bpf/%.o,$(notdir $(wildcard ebpf/samples/*.c)))
$(BUILD)/perf/hook_bench.o: CFLAGS += -DES_BPF_DIR='"$(abspath $(BUILD))/bpf"'
$(BUILD)/hook-bench: $(BUILD)/perf/hook_bench.o $(LIB_OBJ) | $(HOOK_BENCH_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) -lrte_net_ring -lm

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
$(BUILD)/san/tests/unit/test_hook.o: CFLAGS += -DES_BPF_DIR='"$(abspath $(BUILD))/bpf"'
$(BUILD)/tests-san/test_hook: | $(BPF_TEST_OBJ)
# the worker suite makes ring ports (rte_eth_from_rings)
$(BUILD)/tests/test_worker: TEST_LIBS := -lrte_net_ring
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) $(TEST_LIBS) -lcmocka -lm

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CCSAN $<"
	$(Q)$(CC) $(CFLAGS) -O1 $(SAN) $(DPDK_CFLAGS) -c $< -o $@
$(BUILD)/tests-san/test_classify $(BUILD)/tests-san/test_rules $(BUILD)/tests-san/test_rules_ovl: $(BUILD)/san/tests/unit/rule_ref.o
$(BUILD)/tests-san/test_worker: TEST_LIBS := -lrte_net_ring
$(UNIT_DPDK:%=$(BUILD)/tests-san/test_%): $(BUILD)/tests-san/test_%: $(BUILD)/san/tests/unit/test_%.o $(SAN_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(DPDK_LIBS) $(TEST_LIBS) -lcmocka -lm

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

# The rx-path fuzzer (docs/reliability.md "Fuzzing the rx path"): the
# parsers and es_process_burst on ring ports, the data plane's objects
# built again by clang with -fsanitize=fuzzer-no-link,address,undefined
# under $(BUILD)/fuzzobj/; EAL runs inside (--no-huge).
FUZZ_RX     := $(BUILD)/fuzz/fuzz_rx
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_OBJ    := $(LIB_OBJ:$(BUILD)/%=$(BUILD)/fuzzobj/%)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API \
	$(filter-out -Wno-format-truncation,$(WARN)) -Iinclude -Idataplane -Icontrol -O1 -g -MMD -MP
$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CCFZ  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(DPDK_CFLAGS) -c $< -o $@
$(FUZZ_RX): $(BUILD)/fuzzobj/tests/fuzz/fuzz_rx.o $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	@echo "  FUZZ  $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(DPDK_LIBS) -lrte_net_ring -lm

# Line coverage of the rx path by a corpus (clang source coverage, no
# sanitizer): make fuzz-cov [CORPUS="dir ..."]; report on stdout and
# $(BUILD)/fuzzcov/report.txt
CORPUS       ?= tests/fuzz/corpus_rx
FUZZ_COV_OBJ := $(LIB_OBJ:$(BUILD)/%=$(BUILD)/fuzzcov/%)
RX_PATH_SRC  := dataplane/parse.c dataplane/worker.c dataplane/path.c dataplane/encap.c \
	dataplane/frag.c dataplane/session.c dataplane/classify.c
$(BUILD)/fuzzcov/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CCCOV $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -fprofile-instr-generate \
		-fcoverage-mapping $(DPDK_CFLAGS) -c $< -o $@
$(BUILD)/fuzzcov/fuzz_rx: $(BUILD)/fuzzcov/tests/fuzz/fuzz_rx.o $(FUZZ_COV_OBJ)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer -fprofile-instr-generate -o $@ $^ $(DPDK_LIBS) -lrte_net_ring -lm
fuzz-cov: $(BUILD)/fuzzcov/fuzz_rx
	@rm -f $(BUILD)/fuzzcov/*.profraw
	LLVM_PROFILE_FILE=$(BUILD)/fuzzcov/rx.profraw $(BUILD)/fuzzcov/fuzz_rx -runs=0 $(CORPUS) \
		> $(BUILD)/fuzzcov/run.log 2>&1
	llvm-profdata merge -o $(BUILD)/fuzzcov/rx.profdata $(BUILD)/fuzzcov/rx.profraw
	llvm-cov report $(BUILD)/fuzzcov/fuzz_rx -instr-profile=$(BUILD)/fuzzcov/rx.profdata \
		$(RX_PATH_SRC) | tee $(BUILD)/fuzzcov/report.txt

fuzz: $(FUZZ_BIN) $(FUZZ_RX)

fuzz-long: deps $(FUZZ_BIN) $(FUZZ_RX)
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/artifacts
	$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -print_final_stats=1 -dict=tests/fuzz/cmd.dict \
		-artifact_prefix=$(BUILD)/fuzz/artifacts/ \
		$(BUILD)/fuzz/corpus tests/fuzz/corpus
	@mkdir -p $(BUILD)/fuzz/corpus_rx
	$(FUZZ_RX) -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/artifacts/ \
		$(BUILD)/fuzz/corpus_rx tests/fuzz/corpus_rx

deps:
	@scripts/deps.sh

# One summary line over every suite: "N passed, N failed". The platform
# probes are not among them (make bench-test).
test: deps
	@$(MAKE) --no-print-directory all bpf fuzz $(BUILD)/rules-bench $(BUILD)/acl-bench \
		$(BUILD)/hook-bench
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
