/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /edgesteer/ telemetry commands (telemetry.h; docs/control.md).
 *
 * One table of {path, handler, help}; every path is registered with the
 * same dispatcher, which finds the handler, takes the module's mutex and
 * refuses once es_telemetry_stop() ran. Counters come from the
 * counters.def table by name, latency through es_lat_summarise and its
 * es_lat_fields table: the same pieces the --stats JSON is written from.
 *
 * Registered from main after es_dataplane_setup() rather than in a
 * constructor: a constructor would make the commands answerable while
 * main still loads the config and builds es_ports, es_workers and the
 * tables (a data race, or reads of NULL), and every handler would need a
 * "ready" check. Registered late, a command exists only once what it
 * reads does.
 *
 * Errors (unknown counter or port, a parameter where none is taken,
 * stopping) are a dict {"error": "reason"}, so a client learns why; the
 * library's own {"CMD": null} means out of memory.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>
#include <rte_telemetry.h>
#include "cmd.h"
#include "es.h"
#include "telemetry.h"
#include "worker.h"

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static int tel_stopped;             /* under tel_lock */
static uint64_t tel_start_tsc;      /* set before registration */

static int reply_error(struct rte_tel_data *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int reply_error(struct rte_tel_data *d, const char *fmt, ...)
{
	char msg[RTE_TEL_MAX_STRING_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

static bool no_params(const char *params)
{
	return params == NULL || *params == '\0';
}

/* A parameter is echoed in an error reply only if it is a plausible name
 * (the library writes strings into JSON as they are, unescaped). */
static bool plain_word(const char *s, const char *extra)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (n >= ES_NAME_MAX || !((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') ||
		    strchr(extra, s[n])))
			return false;
	return n > 0;
}

/*
 * Counters: the per-worker arrays are read without a lock. Each slot is
 * a 64-bit aligned uint64_t written by its worker only, and an aligned
 * 64-bit load is atomic on x86-64, so a value is never torn; a dump taken
 * while packets flow is a sum of per-worker values each a moment apart.
 */
static int cmd_counters(const char *params, struct rte_tel_data *d, bool nonzero)
{
	rte_tel_data_start_dict(d);
	if (!no_params(params)) {
		int id;
		if (nonzero)
			return reply_error(d, "takes no parameter");
		if (!plain_word(params, "_"))
			return reply_error(d, "bad counter name");
		id = es_cnt_by_name(params);
		if (id < 0)
			return reply_error(d, "unknown counter '%s'", params);
		rte_tel_data_add_dict_u64(d, es_cnt_desc[id].name,
					  es_counter_sum((enum es_cnt)id));
		return 0;
	}
	for (int i = 1; i < ES_CNT_MAX; i++) {
		uint64_t v = es_counter_sum((enum es_cnt)i);
		if (!nonzero || v)
			rte_tel_data_add_dict_u64(d, es_cnt_desc[i].name, v);
	}
	return 0;
}

static int cmd_counters_all(const char *params, struct rte_tel_data *d)
{
	return cmd_counters(params, d, false);
}

static int cmd_counters_nonzero(const char *params, struct rte_tel_data *d)
{
	return cmd_counters(params, d, true);
}

/* ns values, rounded to the nearest like printf's %.0f in --stats */
static uint64_t ns_u64(double ns)
{
	return ns > 0 ? (uint64_t)nearbyint(ns) : 0;
}

static int cmd_latency(const char *params, struct rte_tel_data *d)
{
	struct es_lat_hist h;
	struct es_lat_summary s;
	if (!no_params(params))
		return reply_error(d, "takes no parameter");
	es_lat_sum(&h);
	es_lat_summarise(&h, 1e9 / (double)rte_get_tsc_hz(), &s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "packets", s.packets);
	for (int i = 0; i < ES_LAT_NFIELDS; i++)
		rte_tel_data_add_dict_u64(d, es_lat_fields[i].key, ns_u64(s.ns[i]));
	return 0;
}

static int cmd_stages(const char *params, struct rte_tel_data *d)
{
	if (!no_params(params))
		return reply_error(d, "takes no parameter");
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "enabled", es_stage_cycles ? 1 : 0);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	rte_tel_data_add_dict_u64(d, "rx_packets", es_counter_sum(ES_CNT_RX));
	rte_tel_data_add_dict_u64(d, "stage_packets", es_stage_pkts_sum());
	for (int s = 0; s < ES_ST_MAX; s++)
		rte_tel_data_add_dict_u64(d, es_stage_names[s],
					  es_stage_sum((enum es_stage)s));
	return 0;
}

static void column_free(struct rte_tel_data *c)
{
	if (c != NULL)
		rte_tel_data_free(c);
}

/* A new array container of the given type, or NULL. */
static struct rte_tel_data *column(enum rte_tel_value_type type)
{
	struct rte_tel_data *c = rte_tel_data_alloc();
	if (c != NULL)
		rte_tel_data_start_array(c, type);
	return c;
}

static const char *role_name(uint8_t role)
{
	return role < RTE_DIM(es_role_names) ? es_role_names[role] : "?";
}

static int cmd_info(const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *names, *roles, *ids;
	const struct es_tables *t;
	uint32_t sessions, rules, apps;
	unsigned int rid = es_rcu_reader_id();

	if (!no_params(params))
		return reply_error(d, "takes no parameter");
	names = column(RTE_TEL_STRING_VAL);
	roles = column(RTE_TEL_STRING_VAL);
	ids = column(RTE_TEL_U64_VAL);
	if (names == NULL || roles == NULL || ids == NULL) {
		column_free(names);
		column_free(roles);
		column_free(ids);
		return -ENOMEM;
	}
	for (uint16_t p = 0; p < es_n_ports; p++) {
		rte_tel_data_add_array_string(names, es_ports[p].name);
		rte_tel_data_add_array_string(roles, role_name(es_ports[p].role));
		rte_tel_data_add_array_u64(ids, es_ports[p].port_id);
	}
	/* The control thread frees a replaced table set after an RCU grace
	 * period: read it as an RCU reader (the slot is ours: tel_lock). */
	rte_rcu_qsbr_thread_online(es_rcu, rid);
	t = __atomic_load_n(&es_tables_live, __ATOMIC_ACQUIRE);
	sessions = t->n_sessions;
	rules = t->n_rules;
	apps = es_apps_live(t);
	rte_rcu_qsbr_thread_offline(es_rcu, rid);

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_container(d, "ports", names, 0);
	rte_tel_data_add_dict_container(d, "port_roles", roles, 0);
	rte_tel_data_add_dict_container(d, "port_ids", ids, 0);
	rte_tel_data_add_dict_u64(d, "workers", es_n_workers);
	rte_tel_data_add_dict_u64(d, "sessions", sessions);
	rte_tel_data_add_dict_u64(d, "rules", rules);
	rte_tel_data_add_dict_u64(d, "apps", apps);
	rte_tel_data_add_dict_u64(d, "uptime_s",
		(rte_rdtsc() - tel_start_tsc) / rte_get_tsc_hz());
	return 0;
}

/* Port statistics, one {key, value} table for both reply shapes. */
enum { PS_RX, PS_TX, PS_RX_MISSED, PS_RX_ERRORS, PS_TX_ERRORS, PS_RX_NOMBUF, PS_MAX };
static const char *const ps_keys[PS_MAX] = {
	"rx", "tx", "rx_missed", "rx_errors", "tx_errors", "rx_nombuf",
};

static void port_stats(uint16_t p, uint64_t v[PS_MAX])
{
	struct rte_eth_stats st;
	memset(&st, 0, sizeof(st));
	rte_eth_stats_get(es_ports[p].port_id, &st);
	v[PS_RX] = st.ipackets;
	v[PS_TX] = st.opackets;
	v[PS_RX_MISSED] = st.imissed;
	v[PS_RX_ERRORS] = st.ierrors;
	v[PS_TX_ERRORS] = st.oerrors;
	v[PS_RX_NOMBUF] = st.rx_nombuf;
}

/* No parameter: one column (array) per field, a row per port, since a
 * telemetry dict cannot hold dicts. With a port name: that port's dict. */
static int cmd_ports(const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *names, *cols[PS_MAX];
	uint64_t v[PS_MAX];
	int k;

	if (!no_params(params)) {
		uint16_t p;
		if (!plain_word(params, "_-.:="))
			return reply_error(d, "bad port name");
		for (p = 0; p < es_n_ports; p++)
			if (strcmp(es_ports[p].name, params) == 0)
				break;
		if (p == es_n_ports)
			return reply_error(d, "unknown port '%s'", params);
		port_stats(p, v);
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "name", es_ports[p].name);
		rte_tel_data_add_dict_string(d, "role", role_name(es_ports[p].role));
		rte_tel_data_add_dict_u64(d, "port_id", es_ports[p].port_id);
		for (k = 0; k < PS_MAX; k++)
			rte_tel_data_add_dict_u64(d, ps_keys[k], v[k]);
		return 0;
	}
	names = column(RTE_TEL_STRING_VAL);
	for (k = 0; k < PS_MAX; k++)
		cols[k] = column(RTE_TEL_U64_VAL);
	for (k = 0; k < PS_MAX && cols[k] != NULL; k++)
		;
	if (names == NULL || k < PS_MAX) {
		column_free(names);
		for (k = 0; k < PS_MAX; k++)
			column_free(cols[k]);
		return -ENOMEM;
	}
	for (uint16_t p = 0; p < es_n_ports; p++) {
		port_stats(p, v);
		rte_tel_data_add_array_string(names, es_ports[p].name);
		for (k = 0; k < PS_MAX; k++)
			rte_tel_data_add_array_u64(cols[k], v[k]);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_container(d, "name", names, 0);
	for (k = 0; k < PS_MAX; k++)
		rte_tel_data_add_dict_container(d, ps_keys[k], cols[k], 0);
	return 0;
}

/* The mbuf pool and reassembly's part of it (worker.h es_pool_stats):
 * the same keys as the "pool" object of --stats and port show -j. */
static int cmd_pool(const char *params, struct rte_tel_data *d)
{
	struct es_pool_stats ps;
	if (!no_params(params))
		return reply_error(d, "takes no parameter");
	es_pool_stats_get(&ps);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "mbufs", ps.mbufs);
	rte_tel_data_add_dict_u64(d, "in_use", ps.in_use);
	rte_tel_data_add_dict_u64(d, "available", ps.available);
	rte_tel_data_add_dict_u64(d, "min_available", ps.min_available);
	rte_tel_data_add_dict_u64(d, "samples", ps.samples);
	rte_tel_data_add_dict_u64(d, "empty_samples", ps.empty_samples);
	rte_tel_data_add_dict_u64(d, "frag_held", ps.frag_held);
	rte_tel_data_add_dict_u64(d, "frag_mbufs", ps.frag_mbufs);
	rte_tel_data_add_dict_u64(d, "frag_source_mbufs", ps.frag_source_mbufs);
	return 0;
}

static const struct {
	const char *path;
	int (*fn)(const char *params, struct rte_tel_data *d);
	const char *help;
} tel_cmds[] = {
	{ "/edgesteer/counters", cmd_counters_all,
	  "Every counter of counters.def summed over workers. Parameter: a counter name, for that one only" },
	{ "/edgesteer/counters_nonzero", cmd_counters_nonzero,
	  "The counters that are not zero, summed over workers. Takes no parameters" },
	{ "/edgesteer/latency", cmd_latency,
	  "rx->tx latency over all workers: packets, p50/p90/p99/p999/max/mean/jitter in ns. Takes no parameters" },
	{ "/edgesteer/stages", cmd_stages,
	  "TSC cycles per pipeline stage summed over workers (counted with --stage-cycles only). Takes no parameters" },
	{ "/edgesteer/info", cmd_info,
	  "Ports (name, role, DPDK port id), workers, sessions, rules, apps and uptime. Takes no parameters" },
	{ "/edgesteer/ports", cmd_ports,
	  "Per port rx/tx/missed/error packet counts from the device. Parameter: a port name, for that one only" },
	{ "/edgesteer/pool", cmd_pool,
	  "The mbuf pool: size, in use, free, fewest free seen; what reassembly holds and may hold. Takes no parameters" },
};

static int dispatch(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int ret = -EINVAL;
	pthread_mutex_lock(&tel_lock);
	for (size_t i = 0; i < RTE_DIM(tel_cmds); i++) {
		if (strcmp(cmd, tel_cmds[i].path) != 0)
			continue;
		if (tel_stopped)
			ret = reply_error(d, "stopping");
		else
			ret = tel_cmds[i].fn(params, d);
		break;
	}
	pthread_mutex_unlock(&tel_lock);
	return ret;
}

int es_telemetry_register(void)
{
	int ret;
	if (rte_rcu_qsbr_thread_register(es_rcu, es_rcu_reader_id()) != 0)
		return -EINVAL;
	tel_start_tsc = rte_rdtsc();
	for (size_t i = 0; i < RTE_DIM(tel_cmds); i++) {
		ret = rte_telemetry_register_cmd(tel_cmds[i].path, dispatch,
						 tel_cmds[i].help);
		if (ret != 0)
			return ret;
	}
	return 0;
}

void es_telemetry_stop(void)
{
	pthread_mutex_lock(&tel_lock);
	tel_stopped = 1;
	pthread_mutex_unlock(&tel_lock);
}
