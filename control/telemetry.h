/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's counters, latency, stage cycles, ports and table sizes
 * as DPDK telemetry commands under /edgesteer/ (docs/control.md
 * "Telemetry"). Query with /usr/bin/dpdk-telemetry.py -f FILE_PREFIX.
 *
 * The callbacks run on DPDK's telemetry threads (one per connected
 * client), never on a worker. They read counters without locks (see
 * es_counter_sum), the table set under an RCU reader slot, and take one
 * mutex of their own among themselves.
 */
#ifndef ES_TELEMETRY_H
#define ES_TELEMETRY_H

/* Register the /edgesteer/ commands. Call once, from the main thread,
 * after es_dataplane_setup() (the callbacks read es_workers, es_ports,
 * es_tables_live and es_rcu, which exist only from then on) and before
 * es_workers_launch() (uptime counts from here). Also registers the
 * telemetry reader's RCU slot (es_rcu_reader_id()).
 * Returns 0, or a negative errno from rte_telemetry_register_cmd. The
 * commands exist even when EAL runs with --no-telemetry, unanswered. */
int es_telemetry_register(void);

/* Stop answering: once this returns no callback reads data-plane state
 * any more (they reply {"error": "stopping"}). Call from the main thread
 * before the ports are closed and EAL is cleaned up. Idempotent. */
void es_telemetry_stop(void);

#endif
