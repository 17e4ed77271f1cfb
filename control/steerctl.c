/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * steerctl [-j] [-s SOCK] [-f FILE|-] [-t SECONDS] [OBJECT VERB ARGS...]
 * steerctl -h
 *
 * The control client of edgesteer: sends one command (the words after
 * the options, joined by single spaces) or one batch (-f: a whole file,
 * applied all or nothing by the daemon) over the control socket
 * (control/ctl_proto.h) and prints the answer. Plain C11 and libc: it
 * links nothing of the data plane.
 *
 * stdout carries only the daemon's body (with -j: its JSON document);
 * every diagnostic goes to stderr. Exit status: 0 done, 1 the daemon
 * refused (its reason on stderr), 2 usage, file, connection or protocol
 * error, or time-out.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include "ctl_proto.h"

#define EXIT_REFUSED   1
#define EXIT_TROUBLE   2
#define DEF_TIMEOUT_S  30.0
#define MAX_TIMEOUT_S  1e7            /* about 115 days: poll() ms stay in range */
#define MAX_RESP       (1u << 30)     /* response body, bytes */
#define HDR_LEN        sizeof(struct es_ctl_hdr)

_Static_assert(sizeof(struct es_ctl_hdr) == 12, "the wire header is 12 bytes");

struct opts {
	int json;
	const char *sock;
	const char *file;       /* -f: path, or "-" for stdin */
	double timeout_s;
};

static const char USAGE[] =
"usage: steerctl [-j] [-s SOCK] [-f FILE|-] [-t SECONDS] [OBJECT VERB ARGS...]\n"
"       steerctl -h\n"
"Send one command (the words, joined by spaces) or a batch file to the\n"
"edgesteer daemon's control socket and print its answer.\n"
"  -j          JSON output: stdout carries only the daemon's JSON\n"
"  -s SOCK     control socket (default: $ES_CTL_SOCK, else " ES_CTL_SOCK ")\n"
"  -f FILE     send FILE ('-': stdin) as one batch, applied all or nothing;\n"
"              takes no command words\n"
"  -t SECONDS  give up after SECONDS for connect and answer (default 30)\n"
"  -h          this help\n"
"commands: OBJECT VERB ARGS, e.g. 'rule show', 'app change xr state down',\n"
"          'counters show' (the grammar: docs/control.md)\n"
"exit: 0 done, 1 refused by the daemon, 2 usage, file, connection or\n"
"      protocol error, time-out\n";

/*
 * s for a message: every byte outside printable ASCII (0x20..0x7e) as
 * \xNN, the rest kept, so no control byte of a user's word, path or the
 * daemon's reason reaches the terminal. One of four static buffers, so a
 * message may quote up to four strings; a string too long ends in "...".
 */
static const char *esc(const char *s)
{
	static char bufs[4][4096];
	static unsigned int next;
	static const char hex[] = "0123456789abcdef";
	char *d = bufs[next++ % 4];
	size_t n = 0, max = sizeof(bufs[0]) - 4;   /* room for "..." */

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (n + 4 > max) {
			memcpy(d + n, "...", 3);
			n += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f) {
			d[n++] = (char)c;
		} else {
			d[n++] = '\\';
			d[n++] = 'x';
			d[n++] = hex[c >> 4];
			d[n++] = hex[c & 15];
		}
	}
	d[n] = '\0';
	return d;
}

static void usage_error(const char *fmt, const char *arg)
	__attribute__((format(printf, 1, 0), noreturn));

static void usage_error(const char *fmt, const char *arg)
{
	fputs("steerctl: ", stderr);
	fprintf(stderr, fmt, esc(arg));
	fputs("; try 'steerctl -h'\n", stderr);
	exit(EXIT_TROUBLE);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("steerctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_TROUBLE);
}

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until fd is ready for events or the deadline passes.
 * Returns 0 when ready (or in error/hang-up: the next call says which),
 * -1 with errno ETIMEDOUT at the deadline, -1 with errno on poll failure.
 */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int n;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Connect a non-blocking stream socket to path before the deadline.
 * Returns the fd, or -1 with errno (ETIMEDOUT at the deadline).
 */
static int ctl_connect(const char *path, int64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	memcpy(sa.sun_path, path, strlen(path) + 1);   /* length checked by the caller */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* the listen backlog is full: try again shortly */
			struct timespec ts = { .tv_nsec = 10 * 1000000 };

			if (now_ms() >= deadline) {
				errno = ETIMEDOUT;
				break;
			}
			nanosleep(&ts, NULL);
			continue;
		}
		if (errno == EINPROGRESS || errno == EALREADY) {
			socklen_t len = sizeof(err);

			if (wait_fd(fd, POLLOUT, deadline) < 0)
				break;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				break;
			if (err == 0)
				return fd;
			errno = err;
		}
		break;
	}
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/*
 * Send all n bytes before the deadline. Returns 0 when all went, 1 when
 * the peer closed its end first (it may still have answered), -1 with
 * errno otherwise (ETIMEDOUT at the deadline).
 */
static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k > 0) {
			p += k;
			n -= (size_t)k;
		} else if (k < 0 && errno == EINTR) {
			continue;
		} else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) < 0)
				return -1;
		} else if (k < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			return 1;
		} else {
			return -1;
		}
	}
	return 0;
}

/*
 * Read up to n bytes before the deadline. Returns the bytes read: n, or
 * fewer when the peer closed first; -1 with errno on error or time-out.
 */
static ssize_t recv_all(int fd, char *p, size_t n, int64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = recv(fd, p + got, n - got, 0);

		if (k > 0) {
			got += (size_t)k;
		} else if (k == 0 || (k < 0 && errno == ECONNRESET)) {
			break;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLIN, deadline) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return (ssize_t)got;
}

/* Grow buf (with *cap bytes) to hold at least need bytes; dies when out of memory. */
static char *grow(char *buf, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 4096;

	while (c < need)
		c *= 2;
	if (c != *cap) {
		buf = realloc(buf, c);
		if (!buf)
			die("out of memory (%zu bytes)", c);
		*cap = c;
	}
	return buf;
}

/*
 * The request from the words: a header's room, then the words joined by
 * single spaces and a newline. Sets *len to the text's length.
 */
static char *request_from_words(char **words, int n, size_t *len)
{
	size_t text = 0, off = HDR_LEN;
	char *buf;
	int i;

	for (i = 0; i < n; i++) {
		if (strchr(words[i], '\n')) {
			fprintf(stderr, "steerctl: command word %d holds a newline; "
				"use -f FILE to send several commands\n", i + 1);
			exit(EXIT_TROUBLE);
		}
		text += strlen(words[i]) + 1;
		if (text > ES_CTL_MAX_REQ)
			die("request too large: more than %u bytes (the limit of one request)",
			    ES_CTL_MAX_REQ);
	}
	buf = malloc(HDR_LEN + text);
	if (!buf)
		die("out of memory (%zu bytes)", HDR_LEN + text);
	for (i = 0; i < n; i++) {
		size_t w = strlen(words[i]);

		memcpy(buf + off, words[i], w);
		off += w;
		buf[off++] = i + 1 < n ? ' ' : '\n';
	}
	*len = text;
	return buf;
}

/* The request from a file ("-": stdin): a header's room, then its bytes as they are. */
static char *request_from_file(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 0, off = HDR_LEN;
	char *buf = NULL;

	if (fd < 0)
		die("%s: %s", esc(path), strerror(errno));
	for (;;) {
		ssize_t k;

		buf = grow(buf, &cap, off + 65536);
		k = read(fd, buf + off, cap - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die("%s: %s", strcmp(path, "-") ? esc(path) : "<stdin>", strerror(errno));
		if (k == 0)
			break;
		off += (size_t)k;
		if (off - HDR_LEN > ES_CTL_MAX_REQ)
			die("%s: request too large: more than %u bytes (the limit of one request)",
			    strcmp(path, "-") ? esc(path) : "<stdin>", ES_CTL_MAX_REQ);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*len = off - HDR_LEN;
	return buf;
}

static double parse_timeout(const char *s)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(t) || t <= 0 || t > MAX_TIMEOUT_S)
		usage_error("-t needs a positive number of seconds, not '%s'", s);
	return t;
}

/* Write all of p to stdout; dies on failure. */
static void out(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(STDOUT_FILENO, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die("writing the answer to stdout: %s", strerror(errno));
		p += k;
		n -= (size_t)k;
	}
}

/*
 * Print the daemon's refusal: "FILE:N: reason" when a batch file named
 * line N ("line N: reason"), "steerctl: FILE: reason" for another refusal
 * of a batch file, else "steerctl: reason". Control bytes in the reason
 * are escaped (esc).
 */
static void print_refusal(const struct opts *o, char *body, size_t len)
{
	const char *file = o->file && strcmp(o->file, "-") ? esc(o->file) : "<stdin>";
	unsigned long line;
	char *end;

	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r'))
		len--;
	body[len] = '\0';
	if (len == 0) {
		fputs("steerctl: refused by the daemon (no reason given)\n", stderr);
		return;
	}
	if (o->file && strncmp(body, "line ", 5) == 0 && body[5] >= '0' && body[5] <= '9') {
		errno = 0;
		line = strtoul(body + 5, &end, 10);
		if (!errno && end[0] == ':' && end[1] == ' ') {
			fprintf(stderr, "%s:%lu: %s\n", file, line, esc(end + 2));
			return;
		}
	}
	if (o->file)
		fprintf(stderr, "steerctl: %s: %s\n", file, esc(body));
	else
		fprintf(stderr, "steerctl: %s\n", esc(body));
}

/* The daemon's last busy refusal (its text after ES_CTL_BUSY), when the
 * try before this one was turned away: a time-out then reports that. */
static char busy_reason[1024];

/* The deadline passed during an exchange: say why, the busy daemon's
 * reason first when a try was turned away busy. */
static void timed_out(const struct opts *o, const char *sockq, const char *what)
	__attribute__((noreturn));

static void timed_out(const struct opts *o, const char *sockq, const char *what)
{
	if (busy_reason[0])
		die("%s: no free connection within %g s: %s", sockq, o->timeout_s,
		    esc(busy_reason));
	die("%s: timed out after %g s %s", sockq, o->timeout_s, what);
}

/*
 * One exchange: connect, send the request (req: header and len bytes of
 * text), read the answer. Fills *h and returns the body (h->len bytes,
 * one more allocated); dies on any failure. sock is the path, sockq the
 * same for messages.
 */
static char *exchange(const struct opts *o, const char *sockq, const char *req,
		      size_t len, int64_t deadline, struct es_ctl_hdr *h)
{
	char *body;
	ssize_t got;
	int fd, rc;

	fd = ctl_connect(o->sock, deadline);
	if (fd < 0) {
		if (errno == ETIMEDOUT && busy_reason[0])
			timed_out(o, sockq, "");
		if (errno == ETIMEDOUT)
			die("cannot connect to %s: no answer within %g s", sockq, o->timeout_s);
		if (errno == ENOENT || errno == ECONNREFUSED)
			die("cannot connect to %s: %s (is edgesteer running with --ctl %s?)",
			    sockq, strerror(errno), sockq);
		die("cannot connect to %s: %s", sockq, strerror(errno));
	}

	/* a peer that closed early may still have answered: read on */
	rc = send_all(fd, req, HDR_LEN + len, deadline);
	if (rc < 0 && errno == ETIMEDOUT)
		timed_out(o, sockq, "sending the request");
	if (rc < 0)
		die("%s: sending the request: %s", sockq, strerror(errno));

	got = recv_all(fd, (char *)h, HDR_LEN, deadline);
	if (got < 0 && errno == ETIMEDOUT)
		timed_out(o, sockq, "waiting for the answer");
	if (got < 0)
		die("%s: reading the answer: %s", sockq, strerror(errno));
	if ((size_t)got < HDR_LEN)
		die("%s: connection closed before an answer (%zd of %zu header bytes)",
		    sockq, got, HDR_LEN);
	if (h->magic != ES_CTL_MAGIC)
		die("%s: protocol error: bad magic 0x%08x in the answer (expected 0x%08x)",
		    sockq, h->magic, ES_CTL_MAGIC);
	if (h->flags != ES_CTL_OK && h->flags != ES_CTL_ERR)
		die("%s: protocol error: unknown status %u in the answer", sockq, h->flags);
	if (h->len > MAX_RESP)
		die("%s: protocol error: answer of %u bytes is over the limit of %u",
		    sockq, h->len, MAX_RESP);

	body = malloc((size_t)h->len + 1);
	if (!body)
		die("out of memory (%zu bytes)", (size_t)h->len + 1);
	got = recv_all(fd, body, h->len, deadline);
	if (got < 0 && errno == ETIMEDOUT)
		timed_out(o, sockq, "reading the answer");
	if (got < 0)
		die("%s: reading the answer: %s", sockq, strerror(errno));
	if ((size_t)got < h->len)
		die("%s: connection closed in the answer (%zd of %u bytes)", sockq, got, h->len);
	close(fd);
	body[h->len] = '\0';
	return body;
}

int main(int argc, char **argv)
{
	struct opts o = { .timeout_s = DEF_TIMEOUT_S };
	struct es_ctl_hdr h;
	char sockq[4096];
	size_t len;
	int64_t deadline;
	char *req, *body;
	int c;

	opterr = 0;
	while ((c = getopt(argc, argv, "+hjs:f:t:")) != -1) {
		switch (c) {
		case 'h':
			fputs(USAGE, stdout);
			return fflush(stdout) == 0 ? 0 : EXIT_TROUBLE;
		case 'j':
			o.json = 1;
			break;
		case 's':
			o.sock = optarg;
			break;
		case 'f':
			o.file = optarg;
			break;
		case 't':
			o.timeout_s = parse_timeout(optarg);
			break;
		default: {
			char opt[2] = { (char)optopt, '\0' };

			if (optopt == 's' || optopt == 'f' || optopt == 't')
				usage_error("option -%s needs an argument", opt);
			usage_error("unknown option -%s", opt);
		}
		}
	}
	if (!o.sock) {
		o.sock = getenv("ES_CTL_SOCK");
		if (!o.sock || !*o.sock)
			o.sock = ES_CTL_SOCK;
	}
	if (!*o.sock)
		usage_error("-s needs a socket path%s", "");
	if (strlen(o.sock) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		usage_error("socket path too long: '%s'", o.sock);
	if (o.file && optind < argc)
		usage_error("-f takes no command words (got '%s')", argv[optind]);
	if (!o.file && optind == argc) {
		fputs(USAGE, stderr);
		return EXIT_TROUBLE;
	}
	if (o.file && !*o.file)
		usage_error("-f needs a file name or '-'%s", "");
	snprintf(sockq, sizeof(sockq), "%s", esc(o.sock));

	req = o.file ? request_from_file(o.file, &len)
		     : request_from_words(argv + optind, argc - optind, &len);
	h.magic = ES_CTL_MAGIC;
	h.flags = o.json ? ES_CTL_F_JSON : 0;
	h.len = (uint32_t)len;
	memcpy(req, &h, HDR_LEN);

	deadline = now_ms() + (int64_t)(o.timeout_s * 1000.0 + 0.5);
	/* every connection taken: the daemon said so before reading any of
	 * the request, so nothing was applied; try again while the deadline
	 * leaves time, 10 ms after the first refusal, doubling up to 250 ms */
	for (int64_t pause = 10;; pause = pause < 125 ? pause * 2 : 250) {
		int64_t left;

		body = exchange(&o, sockq, req, len, deadline, &h);
		if (h.flags != ES_CTL_ERR || h.len < sizeof(ES_CTL_BUSY) - 1 ||
		    memcmp(body, ES_CTL_BUSY, sizeof(ES_CTL_BUSY) - 1) != 0)
			break;
		while (h.len > 0 && (body[h.len - 1] == '\n' || body[h.len - 1] == '\r'))
			body[--h.len] = '\0';
		snprintf(busy_reason, sizeof(busy_reason), "%s", body + sizeof(ES_CTL_BUSY) - 1);
		free(body);
		left = deadline - now_ms();
		if (left <= pause)      /* no time for another try */
			timed_out(&o, sockq, "");
		{
			struct timespec ts = { .tv_sec = pause / 1000, .tv_nsec = (pause % 1000) * 1000000 };

			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
	}
	free(req);

	if (h.flags == ES_CTL_ERR) {
		print_refusal(&o, body, h.len);
		free(body);
		return EXIT_REFUSED;
	}
	out(body, h.len);
	if (h.len > 0 && body[h.len - 1] != '\n')
		out("\n", 1);
	free(body);
	return 0;
}
