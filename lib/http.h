/* http.h: the client side of the store's HTTP API, on libcurl.
 *
 * One kx_client per thread: it keeps one connection alive between requests.
 * The server is --server, else $KX_SERVER, else http://127.0.0.1:8080.
 * Failures to reach the store fill kx_err with KX_EUNREACH (exit 3); an
 * HTTP error status fills it with KX_EREFUSED (exit 4), e->http, e->reason
 * and the message of the Kubernetes Status object the store sent. */
#ifndef KX_HTTP_H
#define KX_HTTP_H

#include <stddef.h>
#include <jv.h>

#include "buf.h"

struct kx_err;

#define KX_DEFAULT_SERVER "http://127.0.0.1:8080"
#define KX_MAX_RESPONSE (256u << 20) /* refuse larger response bodies */

typedef struct kx_client kx_client;

typedef struct kx_response {
	long status;       /* HTTP status */
	kx_buf body;       /* response body (NUL-terminated) */
	char ctype[128];   /* Content-Type */
} kx_response;

/* The server to use: opt if given, else $KX_SERVER, else the default. */
const char *kx_server_url(const char *opt);

kx_client *kx_client_new(const char *server, struct kx_err *e);
void kx_client_free(kx_client *c);
const char *kx_client_server(const kx_client *c);
/* Per-request timeout in milliseconds (0: none; default 30 s, not for streams). */
void kx_client_set_timeout(kx_client *c, long ms);

/* One request. body may be NULL. Returns 0 when the server answered (any
 * status: look at r->status), -1 when it could not be reached. The caller
 * frees r->body with kx_buf_free. */
int kx_client_request(kx_client *c, const char *method, const char *path, const char *ctype,
		      const char *body, size_t len, kx_response *r, struct kx_err *e);

/* JSON request: body is consumed (pass jv_null() for none) and sent as
 * application/json (or ctype when given). Returns the parsed answer on 2xx;
 * else jv_invalid() with e filled (KX_EREFUSED with the Status message, or
 * KX_EUNREACH). */
jv kx_client_json(kx_client *c, const char *method, const char *path, jv body,
		  const char *ctype, struct kx_err *e);

/* Convenience wrappers around kx_client_json. */
jv kx_client_get(kx_client *c, const char *path, struct kx_err *e);

/* Stream a long response (a watch) line by line: fn is called with each
 * complete line (without the newline); when it returns non-zero the stream
 * is closed. Returns 0 when the server closed the stream or fn stopped it,
 * -1 on error (e filled; an HTTP error status is KX_EREFUSED). */
typedef int (*kx_line_fn)(void *arg, const char *line, size_t len);
int kx_client_stream(kx_client *c, const char *path, kx_line_fn fn, void *arg,
		     struct kx_err *e);

/* Fill e from an error response (a Kubernetes Status body, or plain text). */
int kx_err_from_response(struct kx_err *e, long status, const char *body, size_t len);

/* Percent-encode s for a query string into b. */
int kx_url_escape(kx_buf *b, const char *s);

#endif
