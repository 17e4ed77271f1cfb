/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket protocol between steerctl (or any client) and the
 * edgesteer daemon. Unix domain stream socket, mode 0600; the daemon
 * accepts only peers whose uid is 0 or its own (SO_PEERCRED).
 *
 * A client sends requests and reads one response per request, in order,
 * on one connection (it may close after the first). Every message is a
 * header followed by len bytes of text; all integers are host order
 * (both ends are on one machine).
 *
 *   request:  hdr{magic, flags = ES_CTL_F_*, len} + command lines
 *   response: hdr{magic, flags = status (ES_CTL_OK / ES_CTL_ERR), len} + body
 *
 * The request text is one command or a batch of commands, one per line,
 * in the config grammar (control/cmd.h). A batch is applied all or
 * nothing. On ES_CTL_OK the body is the output (human text, or one JSON
 * document with ES_CTL_F_JSON). On ES_CTL_ERR the body is one line: the
 * reason, prefixed "line N: " when the request had several lines.
 *
 * A request of more than ES_CTL_MAX_REQ bytes of text, or with a bad
 * magic, is refused (ES_CTL_ERR, one line) and the connection closed.
 * A connection the daemon has no free slot for is answered ES_CTL_ERR
 * with a text that starts with ES_CTL_BUSY and closed before any of its
 * request is read: nothing was applied, and the client may try again.
 */
#ifndef ES_CTL_PROTO_H
#define ES_CTL_PROTO_H

#include <stdint.h>

#define ES_CTL_MAGIC      0x31435345u       /* "ESC1" little-endian */
#define ES_CTL_SOCK       "/run/edgesteer/ctl.sock"
#define ES_CTL_MAX_REQ    (64u << 20)        /* request text, bytes */

#define ES_CTL_BUSY       "busy: "           /* refusal: no free slot */

#define ES_CTL_F_JSON     0x1u               /* request: JSON output */

#define ES_CTL_OK         0u                 /* response status */
#define ES_CTL_ERR        1u

struct es_ctl_hdr {
	uint32_t magic;
	uint32_t flags;      /* request: ES_CTL_F_*; response: status */
	uint32_t len;        /* bytes of text that follow */
};

#endif
