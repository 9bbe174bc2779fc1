#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "logs.h"

#define HEAD_MAX 16384
#define CONNECT_MS 5000

/* The container to read: the one asked for, or the pod's only one. */
static int pick_container(jv pod, const char *want, char *out, size_t n, st_err *e)
{
	char name[256], pname[256];
	jv names = jv_array();

	kx_jv_str(pod, "metadata.name", pname, sizeof pname, "");
	const char *lists[] = {"spec.initContainers", "spec.containers"};
	for (int l = 0; l < 2; l++) {
		jv cs = kx_jv_get(jv_copy(pod), lists[l]);
		if (jv_get_kind(cs) == JV_KIND_ARRAY)
			jv_array_foreach(cs, i, c)
			{
				if (kx_jv_str(c, "name", name, sizeof name, NULL) && l == 1)
					names = jv_array_append(names, jv_string(name));
				if (want && !strcmp(name, want)) {
					snprintf(out, n, "%s", want);
					jv_free(c);
					jv_free(cs);
					jv_free(names);
					return 0;
				}
				jv_free(c);
			}
		jv_free(cs);
	}
	if (want) {
		jv_free(names);
		return st_fail(e, 400, "BadRequest", "container %s is not valid for pod %s", want, pname);
	}
	if (jv_array_length(jv_copy(names)) == 1) {
		jv only = jv_array_get(names, 0);
		snprintf(out, n, "%s", jv_string_value(only));
		jv_free(only);
		return 0;
	}
	kx_buf list = KX_BUF_INIT;
	jv_array_foreach(names, i, s)
	{
		kx_buf_addf(&list, "%s%s", i ? " " : "", jv_string_value(s));
		jv_free(s);
	}
	jv_free(names);
	st_fail(e, 400, "BadRequest", "a container name must be specified for pod %s, choose one of: [%s]",
		pname, kx_buf_str(&list));
	kx_buf_free(&list);
	return -1;
}

/* The node's address: InternalIP, else Hostname, else loopback. */
static void node_address(jv node, char *out, size_t n)
{
	const char *prefer[] = {"InternalIP", "ExternalIP", "Hostname"};

	snprintf(out, n, "127.0.0.1");
	jv addrs = kx_jv_get(jv_copy(node), "status.addresses");
	for (int p = 0; p < 3 && jv_get_kind(addrs) == JV_KIND_ARRAY; p++) {
		int found = 0;
		jv_array_foreach(addrs, i, a)
		{
			char type[32], addr[256];
			if (!found && kx_jv_str(a, "type", type, sizeof type, NULL) && !strcmp(type, prefer[p]) &&
			    kx_jv_str(a, "address", addr, sizeof addr, NULL)) {
				snprintf(out, n, "%s", addr);
				found = 1;
			}
			jv_free(a);
		}
		if (found)
			break;
	}
	jv_free(addrs);
}

/* Connect to host:port within CONNECT_MS; a blocking socket, or -1. */
static int dial(const char *host, int port, const char *node, st_err *e)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char ps[16];
	int fd, rc, err = 0;

	snprintf(ps, sizeof ps, "%d", port);
	if ((rc = getaddrinfo(host, ps, &hints, &res)) != 0)
		return st_fail(e, 503, "ServiceUnavailable", "no node serves logs: node \"%s\" at %s: %s",
			       node, host, gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = errno;
	} else if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
		} else {
			struct pollfd p = {fd, POLLOUT, 0};
			socklen_t l = sizeof err;
			if (poll(&p, 1, CONNECT_MS) != 1)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
				err = errno;
		}
	}
	freeaddrinfo(res);
	if (!err && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		err = errno;
	if (err) {
		if (fd >= 0)
			close(fd);
		return st_fail(e, 503, "ServiceUnavailable",
			       "no node serves logs: cannot reach node \"%s\" at %s:%d: %s", node, host, port,
			       strerror(err));
	}
	return fd;
}

static int send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= w;
	}
	return 0;
}

struct stream {
	int fd;
	kx_buf pending; /* body bytes read together with the headers */
	size_t off;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	ssize_t n;

	if (st->off < st->pending.len) {
		n = st->pending.len - st->off < max ? st->pending.len - st->off : max;
		memcpy(buf, st->pending.p + st->off, n);
		st->off += n;
		return n;
	}
	do
		n = recv(st->fd, buf, max, 0);
	while (n < 0 && errno == EINTR);
	return n > 0 ? n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
	struct stream *st = cls;

	close(st->fd);
	kx_buf_free(&st->pending);
	free(st);
}

struct MHD_Response *logs_response(const char *pod_text, const char *node_text,
				   const char *container, const char *query, st_err *e)
{
	kx_err ke = KX_ERR_INIT;
	jv pod = kx_json_parse(pod_text, strlen(pod_text), &ke), node = jv_null();
	char ns[256], name[256], nodename[256], ctr[256], addr[256];
	struct stream *st = NULL;
	struct MHD_Response *r = NULL;
	kx_buf req = KX_BUF_INIT, head = KX_BUF_INIT;
	int fd = -1, status = 0;

	kx_jv_str(pod, "metadata.namespace", ns, sizeof ns, "");
	kx_jv_str(pod, "metadata.name", name, sizeof name, "");
	if (pick_container(pod, container, ctr, sizeof ctr, e) < 0)
		goto out;
	if (!kx_jv_str(pod, "spec.nodeName", nodename, sizeof nodename, NULL) || !*nodename) {
		st_fail(e, 400, "BadRequest",
			"no node serves logs for pod \"%s\": it is not bound to a node yet", name);
		goto out;
	}
	if (!node_text) {
		st_fail(e, 503, "ServiceUnavailable",
			"no node serves logs for pod \"%s\": node \"%s\" does not exist", name, nodename);
		goto out;
	}
	node = kx_json_parse(node_text, strlen(node_text), &ke);
	int port = (int)kx_jv_int(node, "status.daemonEndpoints.kubeletEndpoint.Port", 0);
	if (port <= 0 || port > 65535) {
		st_fail(e, 503, "ServiceUnavailable",
			"no node serves logs for pod \"%s\": node \"%s\" publishes no kubelet endpoint "
			"(status.daemonEndpoints.kubeletEndpoint.Port)", name, nodename);
		goto out;
	}
	node_address(node, addr, sizeof addr);
	if ((fd = dial(addr, port, nodename, e)) < 0)
		goto out;
	kx_buf_addf(&req, "GET /containerLogs/%s/%s/%s%s%s HTTP/1.0\r\nHost: %s:%d\r\n\r\n", ns, name,
		    ctr, *query ? "?" : "", query, addr, port);
	if (send_all(fd, req.p, req.len) < 0) {
		st_fail(e, 503, "ServiceUnavailable", "no node serves logs: node \"%s\" closed the connection",
			nodename);
		goto out;
	}
	/* read the status line and headers */
	char chunk[4096];
	char *end = NULL;
	while (!(end = head.p ? strstr(head.p, "\r\n\r\n") : NULL) && head.len < HEAD_MAX) {
		ssize_t n = recv(fd, chunk, sizeof chunk, 0);
		if (n <= 0)
			break;
		kx_buf_add(&head, chunk, n);
	}
	if (!end || sscanf(head.p, "HTTP/%*s %d", &status) != 1) {
		st_fail(e, 502, "BadGateway", "node \"%s\" did not answer the log request", nodename);
		goto out;
	}
	st = calloc(1, sizeof *st);
	kx_buf_add(&st->pending, end + 4, head.len - (end + 4 - head.p));
	if (status != 200) {
		/* the node's answer is the message */
		kx_buf_addc(&st->pending, 0);
		for (ssize_t n; st->pending.len < 4096 && (n = recv(fd, chunk, sizeof chunk, 0)) > 0;)
			kx_buf_add(&st->pending, chunk, n);
		size_t l = strlen(kx_buf_str(&st->pending));
		while (l && (st->pending.p[l - 1] == '\n' || st->pending.p[l - 1] == '\r'))
			st->pending.p[--l] = 0;
		st_fail(e, status == 404 ? 404 : 500, status == 404 ? "NotFound" : "InternalError", "%s",
			l ? st->pending.p : "the node refused the log request");
		kx_buf_free(&st->pending);
		free(st);
		st = NULL;
		goto out;
	}
	st->fd = fd;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, st, stream_free);
	if (!r) {
		st_fail(e, 500, "InternalError", "cannot stream the logs");
		st->fd = -1;
		kx_buf_free(&st->pending);
		free(st);
		goto out;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain");
	fd = -1; /* the stream owns it now */
out:
	if (fd >= 0)
		close(fd);
	kx_buf_free(&req);
	kx_buf_free(&head);
	jv_free(pod);
	jv_free(node);
	return r;
}
