/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgesteer [EAL options] -- -c CONFIG [--ctl PATH | --no-ctl]
 *            [--ctl-idle-timeout MS] [--ctl-send-timeout MS]
 *            [--state FILE [--state-sync]] [--idle-exit MS] [--run-for S]
 *            [--stats FILE] [--stats-interval S] [--stage-cycles[=N]] [--no-thp]
 *
 * Start-up: EAL, transparent huge pages for --no-huge memory (mem.h),
 * config (fatal with FILE:LINE), mbuf pool, ports, workers (one per
 * worker lcore), RCU. The main lcore then only serves the control socket
 * (ctl.c) and watches: signals, periodic counter lines, --idle-exit,
 * --run-for. On
 * SIGINT or SIGTERM it stops the workers, closes the ports and prints the final
 * counters (and writes them as JSON with --stats). While it runs, DPDK
 * telemetry answers /edgesteer/ commands (telemetry.h).
 */
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include "config.h"
#include "entries.h"
#include "ctl_proto.h"
#include "classify.h"
#include "ctl.h"
#include "state.h"
#include "mem.h"
#include "es.h"
#include "port.h"
#include "rules.h"
#include "telemetry.h"
#include "worker.h"

static void on_signal(int sig)
{
	(void)sig;
	es_quit = 1;
}

static void usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- -c CONFIG [options]\n"
	       "  -c, --config FILE        config file (docs/config.md)\n"
	       "      --ctl PATH           control socket for steerctl (default " ES_CTL_SOCK ")\n"
	       "      --no-ctl             no control socket\n"
	       "      --ctl-idle-timeout MS\n"
	       "                           close a control client that sends nothing for MS ms\n"
	       "                           (default %u; %u..%u)\n"
	       "      --ctl-send-timeout MS\n"
	       "                           drop a control client that reads none of its answer\n"
	       "                           for MS ms (default %u; %u..%u)\n"
	       "      --state FILE         keep apps, sessions and rules changed at run time in\n"
	       "                           FILE (+ FILE.journal) and restore them on start\n"
	       "      --state-sync         fdatasync every state write (survives power loss)\n"
	       "      --idle-exit MS       stop after MS ms without a received packet\n"
	       "      --run-for S          stop S seconds after the workers start (benchmarks:\n"
	       "                           start-up, however long, is not counted)\n"
	       "      --stats FILE         write the final counters as JSON to FILE\n"
	       "      --stats-interval S   print the counters every S seconds\n"
	       "      --stage-cycles[=N]   time each pipeline stage (TSC) in one round of N\n"
	       "                           (default 1: every round; each timed round costs ~8 TSC reads)\n"
	       "      --no-thp             with --no-huge: keep DPDK memory on 4 KiB pages (no\n"
	       "                           transparent huge pages, see dataplane/mem.h)\n"
	       "  -h, --help               this text\n", prog,
	       ES_CTL_IDLE_MS_DEF, ES_CTL_TIMEOUT_MS_MIN, ES_CTL_TIMEOUT_MS_MAX,
	       ES_CTL_SEND_MS_DEF, ES_CTL_TIMEOUT_MS_MIN, ES_CTL_TIMEOUT_MS_MAX);
}

static void print_counters(FILE *f)
{
	fprintf(f, "%-28s %14s  %s\n", "counter", "value", "meaning");
	for (int i = 1; i < ES_CNT_MAX; i++) {
		uint64_t v = es_counter_sum(i);
		if (v == 0)
			continue;
		fprintf(f, "%-28s %14llu  %s\n", es_cnt_desc[i].name,
			(unsigned long long)v, es_cnt_desc[i].help);
	}
}

static double run_seconds;

static void write_latency(FILE *f)
{
	struct es_lat_hist h;
	es_lat_sum(&h);
	fprintf(f, "  \"latency\": ");
	es_lat_json(f, &h, 1e9 / (double)rte_get_tsc_hz(), true);
	fprintf(f, ",\n");
}

static void write_stages(FILE *f)
{
	fprintf(f, "  \"stage_cycles\": {");
	for (int s = 0; s < ES_ST_MAX; s++)
		fprintf(f, "%s\"%s\": %llu", s ? ", " : "", es_stage_names[s],
			(unsigned long long)es_stage_sum(s));
	fprintf(f, "},\n  \"stage_packets\": %llu,\n",
		(unsigned long long)es_stage_pkts_sum());
}

static int write_stats(const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	fprintf(f, "{\n  \"elapsed_s\": %.6f,\n  \"tsc_hz\": %llu,\n  \"workers\": %u,\n  \"counters\": {",
		run_seconds, (unsigned long long)rte_get_tsc_hz(), es_n_workers);
	for (int i = 1; i < ES_CNT_MAX; i++)
		fprintf(f, "%s\n    \"%s\": %llu", i > 1 ? "," : "",
			es_cnt_desc[i].name,
			(unsigned long long)es_counter_sum(i));
	fprintf(f, "\n  },\n");
	write_latency(f);
	write_stages(f);
	{
		const struct es_tables *t = es_tables_live;
		fprintf(f, "  \"memory\": {\"sessions_max\": %u, \"session_tables_bytes\": %llu, \"bytes_per_session\": %.1f, \"session_struct_bytes\": %zu, \"rules\": %u, \"rule_tables_bytes\": %llu, \"flow_state_bytes\": 0},\n",
			t->max_sessions, (unsigned long long)t->mem_sessions,
			t->max_sessions ? (double)t->mem_sessions / t->max_sessions : 0.0,
			sizeof(struct es_session), t->n_rules,
			(unsigned long long)t->mem_rules);
	}
	{
		struct es_pool_stats ps;
		es_pool_stats_get(&ps);
		fprintf(f, "  \"pool\": {\"mbufs\": %u, \"in_use\": %u, \"available\": %u, \"min_available\": %u, "
			"\"samples\": %llu, \"empty_samples\": %llu, \"frag_held\": %llu, \"frag_mbufs\": %u, "
			"\"frag_source_mbufs\": %u},\n",
			ps.mbufs, ps.in_use, ps.available, ps.min_available,
			(unsigned long long)ps.samples, (unsigned long long)ps.empty_samples,
			(unsigned long long)ps.frag_held, ps.frag_mbufs, ps.frag_source_mbufs);
	}
	fprintf(f, "  \"ports\": {");
	for (uint16_t p = 0; p < es_n_ports; p++) {
		struct rte_eth_stats st;
		memset(&st, 0, sizeof(st));
		rte_eth_stats_get(es_ports[p].port_id, &st);
		fprintf(f, "%s\n    \"%s\": {\"rx\": %llu, \"tx\": %llu, \"rx_missed\": %llu, \"rx_errors\": %llu, \"rx_nombuf\": %llu, \"tx_errors\": %llu}",
			p ? "," : "", es_ports[p].name,
			(unsigned long long)st.ipackets,
			(unsigned long long)st.opackets,
			(unsigned long long)st.imissed,
			(unsigned long long)st.ierrors,
			(unsigned long long)st.rx_nombuf,
			(unsigned long long)st.oerrors);
	}
	fprintf(f, "\n  }\n}\n");
	return fclose(f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "idle-exit", required_argument, NULL, 'i' },
		{ "run-for", required_argument, NULL, 'R' },
		{ "stats", required_argument, NULL, 's' },
		{ "stats-interval", required_argument, NULL, 'I' },
		{ "stage-cycles", optional_argument, NULL, 'S' },
		{ "no-thp", no_argument, NULL, 'H' },
		{ "ctl", required_argument, NULL, 'C' },
		{ "no-ctl", no_argument, NULL, 'N' },
		{ "ctl-idle-timeout", required_argument, NULL, 'D' },
		{ "ctl-send-timeout", required_argument, NULL, 'W' },
		{ "state", required_argument, NULL, 'T' },
		{ "state-sync", no_argument, NULL, 'Y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *stats = NULL, *ctl = ES_CTL_SOCK, *state = NULL;
	bool state_sync = false, ctl_given = false, thp = true;
	size_t thp_moved = 0;
	char thp_msg[160] = "";
	char err[ES_ERR_MAX];
	uint64_t idle_ms = 0, interval_s = 0;
	uint32_t ctl_idle_ms = ES_CTL_IDLE_MS_DEF, ctl_send_ms = ES_CTL_SEND_MS_DEF;
	double run_for = 0;
	struct es_tables *t = NULL;
	uint64_t start_tsc;
	int opt, ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed: %s\n", rte_strerror(rte_errno));
	argc -= ret;
	argv += ret;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'i':
			idle_ms = strtoull(optarg, &end, 10);
			if (*end || end == optarg)
				rte_exit(EXIT_FAILURE, "--idle-exit: bad number '%s'\n", optarg);
			break;
		case 'R':
			run_for = strtod(optarg, &end);
			if (*end || end == optarg || !(run_for > 0 && run_for <= 1e6))
				rte_exit(EXIT_FAILURE, "--run-for: '%s': seconds, more than 0 and at most 1000000\n",
					 optarg);
			break;
		case 's':
			stats = optarg;
			break;
		case 'I':
			interval_s = strtoull(optarg, &end, 10);
			if (*end || end == optarg)
				rte_exit(EXIT_FAILURE, "--stats-interval: bad number '%s'\n", optarg);
			break;
		case 'S':
			es_stage_cycles = 1;
			if (optarg) {
				unsigned long long v = strtoull(optarg, &end, 10);
				if (*end || end == optarg || v < 1 || v > 1000000)
					rte_exit(EXIT_FAILURE,
						 "--stage-cycles=%s: time one round in N, N from 1 to 1000000\n",
						 optarg);
				es_stage_every = (unsigned int)v;
			}
			break;
		case 'H':
			thp = false;
			break;
		case 'C':
			ctl = optarg;
			ctl_given = true;
			break;
		case 'N':
			ctl = NULL;
			break;
		case 'D':
		case 'W': {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || end == optarg || !isdigit((unsigned char)optarg[0]) ||
			    v < ES_CTL_TIMEOUT_MS_MIN || v > ES_CTL_TIMEOUT_MS_MAX)
				rte_exit(EXIT_FAILURE, "--%s: '%s': milliseconds, %u..%u\n",
					 opt == 'D' ? "ctl-idle-timeout" : "ctl-send-timeout",
					 optarg, ES_CTL_TIMEOUT_MS_MIN, ES_CTL_TIMEOUT_MS_MAX);
			*(opt == 'D' ? &ctl_idle_ms : &ctl_send_ms) = (uint32_t)v;
			break;
		}
		case 'T':
			state = optarg;
			break;
		case 'Y':
			state_sync = true;
			break;
		case 'h':
			usage(argv[0]);
			rte_eal_cleanup();
			return 0;
		default:
			usage(argv[0]);
			rte_exit(EXIT_FAILURE, "bad option\n");
		}
	}
	if (config == NULL) {
		usage(argv[0]);
		rte_exit(EXIT_FAILURE, "no config file (-c FILE)\n");
	}
	/* before any pool or table takes DPDK memory */
	if (thp)
		thp_moved = es_mem_thp(thp_msg, sizeof(thp_msg));
	es_n_workers = rte_lcore_count() - 1;
	if (es_n_workers == 0)
		rte_exit(EXIT_FAILURE,
			 "no worker lcore: give at least two lcores (e.g. -l 0,1); the first one only watches\n");
	if (state) {
		if (es_state_init(state, state_sync) != 0)
			rte_exit(EXIT_FAILURE, "--state: path too long\n");
		es_config_skip_state = es_state_exists();
	}
	if (es_config_load(config, &t) != 0)
		rte_exit(EXIT_FAILURE, "config not loaded: nothing started\n");
	es_neigh_config = es_neigh_count();
	es_tables_live = t;

	es_dataplane_setup();
	if (thp_moved)
		printf("edgesteer: %s; %zu MiB on transparent huge pages after set-up\n",
		       thp_msg, es_mem_thp_bytes() >> 20);
	else if (thp_msg[0])
		printf("edgesteer: %s\n", thp_msg);
	if (state) {
		if (es_config_skip_state)
			printf("edgesteer: restoring apps, sessions and rules from %s (the config's are not used)\n",
			       state);
		if (es_state_restore(es_ctl_replay, err) != 0)
			rte_exit(EXIT_FAILURE, "state not restored: %s\n", err);
		t = es_tables_live;
	}
	if (ctl && es_ctl_open(ctl, ctl_idle_ms, ctl_send_ms, err) != 0) {
		/* asked for by name: fatal; the default: run without it */
		if (ctl_given)
			rte_exit(EXIT_FAILURE, "%s\n", err);
		fprintf(stderr, "edgesteer: no control socket: %s\n", err);
		ctl = NULL;
	}
	ret = es_telemetry_register();
	if (ret != 0)
		rte_exit(EXIT_FAILURE, "cannot register the /edgesteer/ telemetry commands: %s\n",
			 rte_strerror(-ret));

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	{
		char probe[128];
		if (es_acl_probe(probe, sizeof(probe), 0))
			printf("edgesteer: rules classified by rte_acl, method %s, the fastest here (cycles a packet on a probe rule set: %s)\n",
			       es_acl_method(), probe);
		else
			printf("edgesteer: rules classified by rte_acl, method %s (set acl-simd)\n",
			       es_acl_method());
	}
	printf("edgesteer: %u ports, %u workers, %u sessions, %u rules, %u apps%s%s\n",
	       es_n_ports, es_n_workers, t->n_sessions, es_rules_count(), es_apps_live(t),
	       ctl ? "; control socket " : "", ctl ? ctl : "");
	fflush(stdout);

	start_tsc = rte_rdtsc();
	es_workers_launch();

	{
		uint64_t hz = rte_get_tsc_hz(), next_print = rte_rdtsc() + interval_s * hz;
		uint64_t stop_at = run_for > 0 ? start_tsc + (uint64_t)(run_for * (double)hz) : 0;
		while (!es_quit) {
			uint64_t now, last = 0;
			es_ctl_poll(10);  /* sleeps 10 ms without a client */
			es_rules_poll();
			es_pool_sample();
			now = rte_rdtsc();
			for (unsigned int i = 0; i < es_n_workers; i++)
				last = RTE_MAX(last, es_workers[i].last_rx_tsc);
			if (idle_ms && now > last && (now - last) / (hz / 1000) >= idle_ms)
				es_quit = 1;
			if (stop_at && now >= stop_at)
				es_quit = 1;
			if (interval_s && now >= next_print) {
				print_counters(stdout);
				fflush(stdout);
				next_print = now + interval_s * hz;
			}
		}
	}
	rte_eal_mp_wait_lcore();
	es_ctl_close();
	run_seconds = (double)(rte_rdtsc() - start_tsc) / (double)rte_get_tsc_hz();
	printf("edgesteer: stopped; final counters:\n");
	print_counters(stdout);
	fflush(stdout);
	ret = 0;
	if (stats && write_stats(stats))
		ret = 1;
	es_telemetry_stop();
	es_rules_fini();   /* joins a background rule build */
	for (uint16_t p = 0; p < es_n_ports; p++)
		es_port_close(&es_ports[p]);
	rte_eal_cleanup();
	return ret;
}
