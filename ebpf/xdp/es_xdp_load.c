/* es-xdp: load, fill, attach, inspect and test the XDP front end
 * (es_xdp.bpf.c; docs/ebpf.md "XDP front end").
 *
 *   es-xdp attach IFACE [--obj FILE] [--skb|--native] [--addr A]... [--port P]...
 *   es-xdp fill   IFACE [--addr A]... [--port P]...
 *   es-xdp stats  IFACE
 *   es-xdp detach IFACE
 *   es-xdp test   [--obj FILE] [--addr A]... [--port P]... HEXFRAME...
 *
 * A is an IPv4 or IPv6 address; P is udp/N or tcp/N. "fill" finds the
 * program attached to IFACE (by es-xdp attach or by DPDK's net_af_xdp with
 * xdp_prog=) and adds to its maps by name. "test" runs the program on each
 * frame with BPF_PROG_TEST_RUN and prints "frame I verdict V same|changed"
 * (the frame that came back against the one sent), then the
 * counters; nothing is attached. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "es_xdp.h"

#define DEFAULT_OBJ "build/ebpf/es_xdp.bpf.o"
#define MAX_ARGS 64

static const char *const cnt_names[] = ES_XDP_CNT_NAMES;

struct opts {
	const char *obj;
	const char *addr[MAX_ARGS];
	int naddr;
	const char *port[MAX_ARGS];
	int nport;
	const char *frame[MAX_ARGS];
	int nframe;
	__u32 xdp_flags;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: es-xdp attach IFACE [--obj FILE] [--skb|--native] [--addr A]... [--port udp/N|tcp/N]...\n"
		"       es-xdp fill IFACE [--addr A]... [--port udp/N|tcp/N]...\n"
		"       es-xdp stats IFACE\n"
		"       es-xdp detach IFACE\n"
		"       es-xdp test [--obj FILE] [--addr A]... [--port P]... HEXFRAME...\n");
	return 2;
}

/* map fds by name, from a loaded object or from an attached program's ids */
struct maps {
	int addr4, addr6, ports, cnt;
};

static int fill(const struct maps *m, const struct opts *o)
{
	__u8 one = 1;

	for (int i = 0; i < o->naddr; i++) {
		struct in6_addr a6;
		struct in_addr a4;
		int r;

		if (inet_pton(AF_INET, o->addr[i], &a4) == 1)
			r = bpf_map_update_elem(m->addr4, &a4.s_addr, &one, BPF_ANY);
		else if (inet_pton(AF_INET6, o->addr[i], &a6) == 1)
			r = bpf_map_update_elem(m->addr6, &a6, &one, BPF_ANY);
		else {
			fprintf(stderr, "es-xdp: bad address '%s'\n", o->addr[i]);
			return -1;
		}
		if (r) {
			fprintf(stderr, "es-xdp: address %s: %s\n", o->addr[i], strerror(errno));
			return -1;
		}
	}
	for (int i = 0; i < o->nport; i++) {
		struct es_xdp_port k = { 0 };
		const char *p = o->port[i];
		char *e;
		long n;

		if (!strncmp(p, "udp/", 4))
			k.proto = IPPROTO_UDP;
		else if (!strncmp(p, "tcp/", 4))
			k.proto = IPPROTO_TCP;
		else {
			fprintf(stderr, "es-xdp: bad port '%s' (udp/N or tcp/N)\n", p);
			return -1;
		}
		n = strtol(p + 4, &e, 10);
		if (*e || e == p + 4 || n < 1 || n > 65535) {
			fprintf(stderr, "es-xdp: bad port '%s' (udp/N or tcp/N)\n", p);
			return -1;
		}
		k.port_be = htons((unsigned short)n);
		if (bpf_map_update_elem(m->ports, &k, &one, BPF_ANY)) {
			fprintf(stderr, "es-xdp: port %s: %s\n", p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int print_cnt(int fd)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v;

	if (ncpu <= 0)
		return -1;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -1;
	for (__u32 i = 0; i < ES_XDP_NCNT; i++) {
		__u64 sum = 0;

		if (bpf_map_lookup_elem(fd, &i, v)) {
			fprintf(stderr, "es-xdp: counters: %s\n", strerror(errno));
			free(v);
			return -1;
		}
		for (int c = 0; c < ncpu; c++)
			sum += v[c];
		printf("%-12s %llu\n", cnt_names[i], (unsigned long long)sum);
	}
	free(v);
	return 0;
}

static int obj_maps(struct bpf_object *obj, struct maps *m)
{
	m->addr4 = bpf_object__find_map_fd_by_name(obj, "es_addr4");
	m->addr6 = bpf_object__find_map_fd_by_name(obj, "es_addr6");
	m->ports = bpf_object__find_map_fd_by_name(obj, "es_ports");
	m->cnt = bpf_object__find_map_fd_by_name(obj, "es_cnt");
	if (m->addr4 < 0 || m->addr6 < 0 || m->ports < 0 || m->cnt < 0) {
		fprintf(stderr, "es-xdp: object lacks es_addr4/es_addr6/es_ports/es_cnt\n");
		return -1;
	}
	return 0;
}

static struct bpf_object *load(const char *path, struct bpf_program **prog)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	int err;

	if (!obj) {
		fprintf(stderr, "es-xdp: open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "es-xdp: load %s: %s\n", path, strerror(-err));
		bpf_object__close(obj);
		return NULL;
	}
	*prog = bpf_object__find_program_by_name(obj, "es_xdp");
	if (!*prog) {
		fprintf(stderr, "es-xdp: %s has no program es_xdp\n", path);
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

/* the maps of the XDP program attached to ifindex, by name */
static int attached_maps(int ifindex, struct maps *m)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), ids[16], n;
	__u32 id = 0;
	int pfd, err;

	m->addr4 = m->addr6 = m->ports = m->cnt = -1;
	err = bpf_xdp_query_id(ifindex, 0, &id);
	if (err || !id) {
		fprintf(stderr, "es-xdp: no XDP program attached to this interface\n");
		return -1;
	}
	pfd = bpf_prog_get_fd_by_id(id);
	if (pfd < 0)
		goto fail;
	if (bpf_obj_get_info_by_fd(pfd, &info, &len))
		goto fail;
	n = info.nr_map_ids < 16 ? info.nr_map_ids : 16;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = n;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(pfd, &info, &len))
		goto fail;
	close(pfd);
	for (__u32 i = 0; i < n; i++) {
		struct bpf_map_info mi = { 0 };
		__u32 ml = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &ml)) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (!strcmp(mi.name, "es_addr4"))
			m->addr4 = fd;
		else if (!strcmp(mi.name, "es_addr6"))
			m->addr6 = fd;
		else if (!strcmp(mi.name, "es_ports"))
			m->ports = fd;
		else if (!strcmp(mi.name, "es_cnt"))
			m->cnt = fd;
		else
			close(fd);
	}
	if (m->addr4 < 0 || m->addr6 < 0 || m->ports < 0 || m->cnt < 0) {
		fprintf(stderr, "es-xdp: the program attached (id %u) is not es_xdp\n", id);
		return -1;
	}
	return 0;
fail:
	fprintf(stderr, "es-xdp: program %u: %s\n", id, strerror(errno));
	return -1;
}

static int hexframe(const char *h, unsigned char *buf, size_t cap, size_t *len)
{
	size_t n = strlen(h);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(h + 2 * i, "%2x", &b) != 1)
			return -1;
		buf[i] = (unsigned char)b;
	}
	*len = n / 2;
	return 0;
}

static int cmd_test(const struct opts *o)
{
	static const char *const verdict[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };
	struct bpf_program *prog;
	struct bpf_object *obj = load(o->obj, &prog);
	struct maps m;
	int rc = 1;

	if (!obj)
		return 1;
	if (obj_maps(obj, &m) || fill(&m, o))
		goto out;
	for (int i = 0; i < o->nframe; i++) {
		unsigned char in[2048], out[2048 + 256];
		size_t len;
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		if (hexframe(o->frame[i], in, sizeof(in), &len)) {
			fprintf(stderr, "es-xdp: frame %d: not hex or too long\n", i);
			goto out;
		}
		t.data_size_in = (__u32)len;
		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &t)) {
			fprintf(stderr, "es-xdp: test run of frame %d: %s\n", i, strerror(errno));
			goto out;
		}
		/* the program only reads: the frame comes back byte for byte */
		printf("frame %d verdict %s %s\n", i,
		       t.retval < 5 ? verdict[t.retval] : "UNKNOWN",
		       t.data_size_out == len && !memcmp(in, out, len) ? "same" : "changed");
	}
	rc = print_cnt(m.cnt) ? 1 : 0;
out:
	bpf_object__close(obj);
	return rc;
}

static int cmd_attach(int ifindex, const struct opts *o)
{
	struct bpf_program *prog;
	struct bpf_object *obj = load(o->obj, &prog);
	struct maps m;
	int err;

	if (!obj)
		return 1;
	if (obj_maps(obj, &m) || fill(&m, o)) {
		bpf_object__close(obj);
		return 1;
	}
	err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), o->xdp_flags, NULL);
	if (err) {
		fprintf(stderr, "es-xdp: attach: %s%s\n", strerror(-err),
			err == -EEXIST || err == -EBUSY ?
			" (a program is attached already: es-xdp detach)" : "");
		bpf_object__close(obj);
		return 1;
	}
	/* the attached program keeps itself and its maps alive */
	bpf_object__close(obj);
	printf("attached %s (%s)\n", o->obj,
	       o->xdp_flags & XDP_FLAGS_SKB_MODE ? "skb" :
	       o->xdp_flags & XDP_FLAGS_DRV_MODE ? "native" : "default");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .obj = DEFAULT_OBJ, .xdp_flags = XDP_FLAGS_UPDATE_IF_NOEXIST };
	const char *cmd, *ifname = NULL;
	int ifindex = 0, i = 2;
	struct maps m;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	if (strcmp(cmd, "test")) {
		if (argc < 3)
			return usage();
		ifname = argv[2];
		i = 3;
		ifindex = (int)if_nametoindex(ifname);
		if (!ifindex) {
			fprintf(stderr, "es-xdp: no interface '%s'\n", ifname);
			return 1;
		}
	}
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--skb"))
			o.xdp_flags |= XDP_FLAGS_SKB_MODE;
		else if (!strcmp(a, "--native"))
			o.xdp_flags |= XDP_FLAGS_DRV_MODE;
		else if (!strcmp(a, "--obj") && i + 1 < argc)
			o.obj = argv[++i];
		else if (!strcmp(a, "--addr") && i + 1 < argc && o.naddr < MAX_ARGS)
			o.addr[o.naddr++] = argv[++i];
		else if (!strcmp(a, "--port") && i + 1 < argc && o.nport < MAX_ARGS)
			o.port[o.nport++] = argv[++i];
		else if (a[0] != '-' && !strcmp(cmd, "test") && o.nframe < MAX_ARGS)
			o.frame[o.nframe++] = a;
		else
			return usage();
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!strcmp(cmd, "test"))
		return cmd_test(&o);
	if (!strcmp(cmd, "attach"))
		return cmd_attach(ifindex, &o);
	if (!strcmp(cmd, "detach")) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		__u32 mode = 0;
		int err = bpf_xdp_query(ifindex, 0, &q);

		/* detach in the mode it was attached in (flags 0 would mean
		 * native on a driver that has it, leaving a generic one) */
		if (!err && q.attach_mode == XDP_ATTACHED_SKB)
			mode = XDP_FLAGS_SKB_MODE;
		else if (!err && q.attach_mode == XDP_ATTACHED_DRV)
			mode = XDP_FLAGS_DRV_MODE;
		else if (!err && q.attach_mode == XDP_ATTACHED_HW)
			mode = XDP_FLAGS_HW_MODE;
		if (!err)
			err = bpf_xdp_detach(ifindex, mode, NULL);
		if (err) {
			fprintf(stderr, "es-xdp: detach: %s\n", strerror(-err));
			return 1;
		}
		return 0;
	}
	if (!strcmp(cmd, "fill") || !strcmp(cmd, "stats")) {
		if (attached_maps(ifindex, &m))
			return 1;
		if (!strcmp(cmd, "fill"))
			return fill(&m, &o) ? 1 : 0;
		return print_cnt(m.cnt) ? 1 : 0;
	}
	return usage();
}
