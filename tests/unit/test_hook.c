/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eBPF hooks: the loader (control/hook.c) on real objects built by clang
 * from the sources in tests/bpf/, the attached set as the workers see it
 * (es_hook_run, dataplane/hook.h), the helpers, show and trace. Every
 * refusal must carry the loader's reason and leave nothing attached.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>
#include <rte_eal.h>
#include <rte_bpf.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include "es.h"
#include "../../control/hook.h"

#ifndef ES_BPF_DIR
#error "ES_BPF_DIR: the directory of the BPF test objects (Makefile)"
#endif
#define OK_OBJ  ES_BPF_DIR "/tests/hook_ok.o"
#define BAD_OBJ ES_BPF_DIR "/tests/hook_bad.o"

static void ctx_init(struct es_hook_ctx *c, uint8_t dscp)
{
	memset(c, 0, sizeof(*c));
	c->abi = ES_HOOK_ABI_VERSION;
	c->dscp = dscp;
	c->qfi = 9;
	c->app = 7;
	c->pkt_len = 60;
	c->src[0] = 1; c->src[1] = 2; c->src[2] = 3; c->src[3] = 4;
}

static void assert_nothing_attached(void)
{
	unsigned int n;

	es_hook_list(&n);
	assert_int_equal(n, 0);
	assert_null(es_hook_live);
}

static void refused(const char *obj, const char *sec, const char *why)
{
	struct es_hook_loaded l;
	char err[ES_ERR_MAX] = "";

	assert_int_equal(es_hook_load(obj, sec, &l, err), -1);
	printf("  refused (%s): %s\n", sec ? sec : "-", err);
	if (strstr(err, why) == NULL)
		fail_msg("'%s' lacks '%s'", err, why);
	assert_null(l.bpf);
	err[0] = 0;
	assert_int_equal(es_hook_attach("x", ES_HOOK_AFTER_PARSE, ES_HOOK_UL, obj, sec, 0,
					NULL, err), -1);
	if (strstr(err, why) == NULL)
		fail_msg("attach: '%s' lacks '%s'", err, why);
	assert_nothing_attached();
}

static void hook__a_valid_program_loads_jits_and_returns_its_verdict(void **state)
{
	struct es_hook_loaded l;
	struct es_hook_ctx c;
	char err[ES_ERR_MAX] = "";
	uint64_t r;

	(void)state;
	assert_int_equal(es_hook_load(OK_OBJ, "hook", &l, err), 0);
	assert_non_null(l.bpf);
	assert_non_null(l.jit);          /* x86-64: DPDK's JIT */
	assert_int_equal(es_hook_jit_state(), 1);
	assert_true(l.nb_insns > 0);
	ctx_init(&c, 46);
	r = rte_bpf_exec(l.bpf, &c);
	assert_int_equal(ES_HOOK_RET_CODE(r), ES_HOOK_STEER_APP);
	assert_int_equal(ES_HOOK_RET_ARG(r), 7);
	assert_int_equal(l.jit(&c), r);
	ctx_init(&c, 10);
	assert_int_equal(rte_bpf_exec(l.bpf, &c), ES_HOOK_CONTINUE);
	assert_int_equal(l.jit(&c), ES_HOOK_CONTINUE);
	es_hook_unload(&l);
}

/* es_hook_use_jit(0) (perf/hook_bench.c's interpreter rows): a load
 * keeps the interpreter and attaches it, with the same verdict; 1 (the
 * default) gives the JIT back */
static void hook__the_interpreter_can_be_chosen_for_a_load(void **state)
{
	struct es_hook_loaded l;
	struct es_hook_ctx c;
	char err[ES_ERR_MAX] = "";

	(void)state;
	es_hook_use_jit(0);
	assert_int_equal(es_hook_load(OK_OBJ, "hook", &l, err), 0);
	assert_null(l.jit);
	assert_int_not_equal(es_hook_jit_state(), 0); /* not taken for a JIT failure */
	ctx_init(&c, 46);
	assert_int_equal(rte_bpf_exec(l.bpf, &c), ES_HOOK_RET(ES_HOOK_STEER_APP, 7));
	es_hook_unload(&l);
	assert_int_equal(es_hook_attach("interp", ES_HOOK_AFTER_PARSE, ES_HOOK_UL, OK_OBJ,
					"hook", 0, NULL, err), 0);
	assert_int_equal(es_hook_find("interp")->jit_size, 0);
	assert_null(es_hook_find("interp")->prog->jit);
	es_hook_use_jit(1);
	assert_int_equal(es_hook_attach("jit", ES_HOOK_AFTER_PARSE, ES_HOOK_UL, OK_OBJ,
					"hook", 1, NULL, err), 0);
	assert_non_null(es_hook_find("jit")->prog->jit);
	es_hook_del_all();
	assert_nothing_attached();
}

static void hook__a_bounded_loop_unrolled_by_clang_is_accepted(void **state)
{
	struct es_hook_loaded l;
	struct es_hook_ctx c;
	char err[ES_ERR_MAX] = "";
	uint64_t r;

	(void)state;
	assert_int_equal(es_hook_load(OK_OBJ, "unrolled", &l, err), 0);
	ctx_init(&c, 0);
	r = l.jit ? l.jit(&c) : rte_bpf_exec(l.bpf, &c);
	assert_int_equal(ES_HOOK_RET_CODE(r), ES_HOOK_SET_MARK);
	assert_int_equal(ES_HOOK_RET_ARG(r), 1 + 2 + 3 + 4);
	es_hook_unload(&l);
}

static void hook__stores_to_the_stack_are_accepted(void **state)
{
	struct es_hook_loaded l;
	struct es_hook_ctx c;
	char err[ES_ERR_MAX] = "";
	uint64_t r;

	(void)state;
	if (es_hook_load(OK_OBJ, "stack", &l, err) != 0)
		fail_msg("%s", err);
	ctx_init(&c, 0);
	r = l.jit ? l.jit(&c) : rte_bpf_exec(l.bpf, &c);
	assert_int_equal(r, ES_HOOK_RET(ES_HOOK_SET_MARK, 1 + 2 + 3 + 4 + 8));
	es_hook_unload(&l);
}

static void hook__random_bytes_are_refused(void **state)
{
	char path[] = "/tmp/es_hook_junkXXXXXX";
	int fd = mkstemp(path);
	uint8_t junk[512];

	(void)state;
	assert_true(fd >= 0);
	srand(18);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	refused(path, "hook", "is not an ELF object");
	unlink(path);
	refused("/nonexistent/prog.o", "hook", "cannot open");
}

static void hook__a_missing_section_is_refused_with_the_sections_there(void **state)
{
	(void)state;
	refused(OK_OBJ, "nosuch", "no code section 'nosuch' (code sections: hook");
}

static void hook__an_unknown_helper_is_refused(void **state)
{
	(void)state;
	refused(BAD_OBJ, "unknown_helper", "unknown helper: resolve_xsym(es_no_such_helper");
}

static void hook__a_loop_is_refused(void **state)
{
	(void)state;
	refused(BAD_OBJ, "loop", "loops detected");
}

static void hook__a_read_outside_the_context_is_refused(void **state)
{
	(void)state;
	refused(BAD_OBJ, "oob", "memory boundary violation");
}

static void hook__a_write_to_the_context_is_refused(void **state)
{
	(void)state;
	refused(BAD_OBJ, "write_ctx", "read-only");
}

static void hook__attached_programs_run_in_order_and_count(void **state)
{
	struct es_hook_ctx c;
	struct es_hook_res res;
	const struct es_hook_ent *e;
	struct es_hook_sum s;
	uint8_t pkt[60] = { 0x45 };
	char err[ES_ERR_MAX] = "", buf[4096];
	struct es_hook_set *before;
	uint32_t v;

	(void)state;
	/* nothing attached: CONTINUE, res untouched */
	res.dscp = 99;
	ctx_init(&c, 46);
	assert_int_equal(es_hook_run(0, ES_HOOK_AFTER_PARSE, ES_HOOK_UL, &c, pkt,
				     sizeof(pkt), &res), ES_HOOK_CONTINUE);
	assert_int_equal(res.dscp, 99);

	assert_int_equal(es_hook_attach("mark", ES_HOOK_AFTER_PARSE, ES_HOOK_UL, OK_OBJ,
					"unrolled", 1, NULL, err), 0);
	assert_int_equal(es_hook_attach("steer", ES_HOOK_AFTER_PARSE, ES_HOOK_UL, OK_OBJ,
					NULL, 2, NULL, err), 0);
	assert_non_null(es_hook_live);
	assert_int_equal(es_hook_live->n[ES_HOOK_AFTER_PARSE][ES_HOOK_UL], 2);
	assert_int_equal(es_hook_live->n[ES_HOOK_AFTER_PARSE][ES_HOOK_DL], 0);

	v = es_hook_run(3, ES_HOOK_AFTER_PARSE, ES_HOOK_UL, &c, pkt, sizeof(pkt), &res);
	assert_int_equal(v, ES_HOOK_STEER_APP);
	assert_int_equal(res.app, 7);
	assert_int_equal(res.has_mark, 1);      /* the first program's mark */
	assert_int_equal(res.mark, 10);
	/* the other direction has none */
	assert_int_equal(es_hook_run(3, ES_HOOK_AFTER_PARSE, ES_HOOK_DL, &c, pkt,
				     sizeof(pkt), &res), ES_HOOK_CONTINUE);
	ctx_init(&c, 0);
	assert_int_equal(es_hook_run(3, ES_HOOK_AFTER_PARSE, ES_HOOK_UL, &c, pkt,
				     sizeof(pkt), &res), ES_HOOK_CONTINUE);

	e = es_hook_find("steer");
	assert_non_null(e);
	es_hook_stats(e, &s);
	assert_int_equal(s.runs, 2);
	assert_int_equal(s.verdict[ES_HOOK_STEER_APP], 1);
	assert_int_equal(s.verdict[ES_HOOK_CONTINUE], 1);
	assert_int_equal(s.cnt[0], 120);        /* pkt_len twice */
	assert_int_equal(s.cnt[1], 2 * 0x45);   /* es_pkt_load(0, 1) */
	assert_true(s.timed_runs >= 1);

	assert_true(es_hook_show(buf, sizeof(buf), "steer", 1) > 0);
	printf("  %s", buf);
	assert_non_null(strstr(buf, "\"name\":\"steer\""));
	assert_non_null(strstr(buf, "\"runs\":2"));
	assert_non_null(strstr(buf, "\"steer-app\":1"));
	assert_non_null(strstr(buf, "\"counters\":[120,138,"));
	assert_int_equal(es_hook_show(buf, sizeof(buf), "nosuch", 0), -1);
	assert_true(es_hook_show(buf, sizeof(buf), NULL, 0) > 0);
	printf("%s", buf);
	assert_non_null(strstr(buf, "hook mark at after-parse dir ul order 1"));

	assert_true(es_hook_trace_show(buf, sizeof(buf), "steer") > 0);
	printf("%s", buf);
	assert_non_null(strstr(buf, "worker 3 steer after-parse ul a 46 b 9"));
	assert_non_null(strstr(buf, "worker 3 steer after-parse ul a 0 b 9"));
	/* read once */
	assert_int_equal(es_hook_trace_show(buf, sizeof(buf), NULL), 0);

	/* a refused replace changes nothing */
	before = es_hook_live;
	assert_int_equal(es_hook_attach("steer", ES_HOOK_AFTER_PARSE, ES_HOOK_UL, BAD_OBJ,
					"loop", 2, NULL, err), -1);
	assert_ptr_equal(es_hook_live, before);
	assert_non_null(es_hook_find("steer"));

	/* order: steer before mark now, so the mark is never reached on 46 */
	assert_int_equal(es_hook_attach("steer", ES_HOOK_AFTER_PARSE, ES_HOOK_UL, OK_OBJ,
					"hook", 0, NULL, err), 0);
	ctx_init(&c, 46);
	res.has_mark = 0;
	assert_int_equal(es_hook_run(0, ES_HOOK_AFTER_PARSE, ES_HOOK_UL, &c, pkt,
				     sizeof(pkt), &res), ES_HOOK_STEER_APP);
	assert_int_equal(res.has_mark, 0);

	assert_int_equal(es_hook_del("steer", err), 0);
	assert_int_equal(es_hook_del("steer", err), -1);
	assert_non_null(strstr(err, "no hook steer"));
	assert_int_equal(es_hook_del("mark", err), 0);
	assert_nothing_attached();
}

static void hook__a_read_past_the_packet_gets_oob_not_a_crash(void **state)
{
	struct es_hook_ctx c;
	struct es_hook_res res;
	uint8_t pkt[8] = { 0 };
	char err[ES_ERR_MAX] = "";

	(void)state;
	assert_int_equal(es_hook_attach("end", ES_HOOK_BEFORE_TX, ES_HOOK_DL, OK_OBJ,
					"past_end", 0, NULL, err), 0);
	ctx_init(&c, 0);
	c.pkt_len = sizeof(pkt);
	assert_int_equal(es_hook_run(0, ES_HOOK_BEFORE_TX, ES_HOOK_DL, &c, pkt, sizeof(pkt),
				     &res), ES_HOOK_DROP);
	/* a context lying about the length changes nothing: the helper checks
	 * the length es_hook_run was given */
	c.pkt_len = 4096;
	assert_int_equal(es_hook_run(0, ES_HOOK_BEFORE_TX, ES_HOOK_DL, &c, pkt, sizeof(pkt),
				     &res), ES_HOOK_DROP);
	es_hook_del_all();
	assert_nothing_attached();
}

static void hook__a_changed_object_is_refused_at_restore(void **state)
{
	uint64_t h, wrong;
	char err[ES_ERR_MAX] = "";

	(void)state;
	assert_int_equal(es_hook_file_hash(OK_OBJ, &h, err), 0);
	assert_int_equal(es_hook_attach("r", ES_HOOK_AFTER_CLASSIFY, ES_HOOK_UL, OK_OBJ,
					NULL, 0, &h, err), 0);
	assert_int_equal(es_hook_find("r")->hash, h);
	es_hook_del_all();
	wrong = h ^ 1;
	assert_int_equal(es_hook_attach("r", ES_HOOK_AFTER_CLASSIFY, ES_HOOK_UL, OK_OBJ,
					NULL, 0, &wrong, err), ES_HOOK_E_CHANGED);
	printf("  refused: %s\n", err);
	assert_non_null(strstr(err, "changed since it was attached"));
	assert_nothing_attached();
}

/* A worker running the hook point while control attaches, replaces and
 * detaches: every verdict is one a program of the moment gives, and no
 * program is freed under the reader (its JIT code is unmapped: a grace
 * period missed would crash, not just miscount). */
static int rd_stop;
static unsigned long rd_rounds, rd_bad, rd_steer, rd_drop;

static void *reader_main(void *arg)
{
	struct es_hook_ctx c;
	uint8_t pkt[60] = { 0x45 };

	(void)arg;
	ctx_init(&c, 46);
	rte_rcu_qsbr_thread_register(es_rcu, 0);
	rte_rcu_qsbr_thread_online(es_rcu, 0);
	while (!__atomic_load_n(&rd_stop, __ATOMIC_ACQUIRE)) {
		struct es_hook_res res = { .dscp = -1 };
		uint32_t v = es_hook_run(1, ES_HOOK_AFTER_PARSE, ES_HOOK_UL, &c, pkt,
					 sizeof(pkt), &res);

		if (v == ES_HOOK_STEER_APP && res.app == 7)
			rd_steer++;
		else if (v == ES_HOOK_DROP)
			rd_drop++;
		else if (v != ES_HOOK_CONTINUE)
			rd_bad++;
		rd_rounds++;
		rte_rcu_qsbr_quiescent(es_rcu, 0);
	}
	rte_rcu_qsbr_thread_offline(es_rcu, 0);
	rte_rcu_qsbr_thread_unregister(es_rcu, 0);
	return NULL;
}

static void hook__swaps_under_a_running_worker_are_safe(void **state)
{
	static const char *const secs[] = { "hook", "unrolled", "past_end" };
	char err[ES_ERR_MAX] = "";
	pthread_t th;

	(void)state;
	es_rcu = rte_zmalloc("rcu", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	assert_non_null(es_rcu);
	assert_int_equal(rte_rcu_qsbr_init(es_rcu, 1), 0);
	rd_stop = 0;
	assert_int_equal(pthread_create(&th, NULL, reader_main, NULL), 0);
	for (unsigned int i = 0; i < 60; i++) {
		const char *sec = secs[i % 3];

		/* attach or replace a, b; every third round detach one */
		if (es_hook_attach(i % 2 ? "a" : "b", ES_HOOK_AFTER_PARSE, ES_HOOK_UL, OK_OBJ,
				   sec, i % 5, NULL, err) != 0)
			fail_msg("%s", err);
		if (i % 3 == 2 && es_hook_del(i % 2 ? "b" : "a", err) != 0 &&
		    strstr(err, "no hook") == NULL)
			fail_msg("%s", err);
	}
	es_hook_del_all();
	__atomic_store_n(&rd_stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	rte_free(es_rcu);
	es_rcu = NULL;
	printf("  reader: %lu rounds, %lu steered, %lu dropped, %lu bad\n",
	       rd_rounds, rd_steer, rd_drop, rd_bad);
	assert_int_equal(rd_bad, 0);
	/* each swap waited for the reader's quiescent state */
	assert_true(rd_rounds >= 60);
	assert_nothing_attached();
}

/* the samples of ebpf/samples/ load, validate, JIT and decide on a
 * context; their effect on real packets is tested once the pipeline
 * calls the hooks */
static uint64_t run_sample(const char *name, const struct es_hook_ctx *c,
			   struct es_hook_pstats *st)
{
	char path[512], err[ES_ERR_MAX] = "";
	struct es_hook_loaded l;
	struct es_hook_cur *cur = &RTE_PER_LCORE(es_hook_cur);
	uint64_t r;

	snprintf(path, sizeof(path), "%s/%s.o", ES_BPF_DIR, name);
	if (es_hook_load(path, NULL, &l, err) != 0)
		fail_msg("%s: %s", name, err);
	assert_non_null(l.jit);
	memset(cur, 0, sizeof(*cur));
	cur->st = st;
	r = l.jit((void *)(uintptr_t)c);
	assert_int_equal(rte_bpf_exec(l.bpf, (void *)(uintptr_t)c), r);
	es_hook_unload(&l);
	return r;
}

static void hook__the_samples_load_and_decide(void **state)
{
	struct es_hook_pstats st;
	struct es_hook_ctx c;

	(void)state;
	memset(&st, 0, sizeof(st));
	ctx_init(&c, 46);
	c.dir = ES_HOOK_UL;
	assert_int_equal(run_sample("dscp_steer", &c, &st), ES_HOOK_RET(ES_HOOK_STEER_APP, 0));
	c.dscp = 0;
	assert_int_equal(run_sample("dscp_steer", &c, &st), ES_HOOK_CONTINUE);

	ctx_init(&c, 0);
	c.ip_ver = 4;
	c.proto = 17;
	c.dport = 6885;
	c.wire_len = 100;
	memcpy(&c.ue_v4, (const uint8_t[]){ 10, 45, 0, 9 }, 4);
	assert_int_equal(run_sample("drop_ports", &c, &st), ES_HOOK_DROP);
	assert_int_equal(st.cnt[0], 2 * 100);     /* JIT and interpreter: two runs */
	c.dport = 6890;
	assert_int_equal(run_sample("drop_ports", &c, &st), ES_HOOK_CONTINUE);
	c.dport = 6881;
	memcpy(&c.ue_v4, (const uint8_t[]){ 10, 45, 1, 9 }, 4);
	assert_int_equal(run_sample("drop_ports", &c, &st), ES_HOOK_CONTINUE);

	memset(&st, 0, sizeof(st));
	ctx_init(&c, 0);
	c.wire_len = 70;
	c.qfi = 9;
	assert_int_equal(run_sample("qfi_bytes", &c, &st), ES_HOOK_CONTINUE);
	c.qfi = ES_HOOK_NONE8;
	assert_int_equal(run_sample("qfi_bytes", &c, &st), ES_HOOK_CONTINUE);
	assert_int_equal(st.cnt[9], 2 * 70);
	assert_int_equal(st.cnt[15], 2 * 70);

	ctx_init(&c, 0);
	c.rule_action = ES_HOOK_ACT_RELAY;
	c.qfi = 1;
	assert_int_equal(run_sample("qfi_dscp", &c, &st), ES_HOOK_RET(ES_HOOK_SET_DSCP, 46));
	c.qfi = 5;
	assert_int_equal(run_sample("qfi_dscp", &c, &st), ES_HOOK_RET(ES_HOOK_SET_DSCP, 26));
	c.qfi = 3;
	assert_int_equal(run_sample("qfi_dscp", &c, &st), ES_HOOK_CONTINUE);
	c.qfi = 1;
	c.rule_action = ES_HOOK_ACT_LOCAL;
	assert_int_equal(run_sample("qfi_dscp", &c, &st), ES_HOOK_CONTINUE);
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-shconf",
			"--no-pci", "--log-level=error", "-l", "0", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hook__a_valid_program_loads_jits_and_returns_its_verdict),
		cmocka_unit_test(hook__the_interpreter_can_be_chosen_for_a_load),
		cmocka_unit_test(hook__a_bounded_loop_unrolled_by_clang_is_accepted),
		cmocka_unit_test(hook__stores_to_the_stack_are_accepted),
		cmocka_unit_test(hook__random_bytes_are_refused),
		cmocka_unit_test(hook__a_missing_section_is_refused_with_the_sections_there),
		cmocka_unit_test(hook__an_unknown_helper_is_refused),
		cmocka_unit_test(hook__a_loop_is_refused),
		cmocka_unit_test(hook__a_read_outside_the_context_is_refused),
		cmocka_unit_test(hook__a_write_to_the_context_is_refused),
		cmocka_unit_test(hook__attached_programs_run_in_order_and_count),
		cmocka_unit_test(hook__a_read_past_the_packet_gets_oob_not_a_crash),
		cmocka_unit_test(hook__a_changed_object_is_refused_at_restore),
		cmocka_unit_test(hook__the_samples_load_and_decide),
		cmocka_unit_test(hook__swaps_under_a_running_worker_are_safe),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests_name("hook", tests, NULL, NULL);
}
