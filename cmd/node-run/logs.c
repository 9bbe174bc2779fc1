/* logs.c: containers' logs, as the copier (copier.c) writes them in the
 * CRI log format; the server answers the kubelet's
 *   GET /containerLogs/NS/POD/CONTAINER?tailLines=&follow=&previous=&timestamps=&limitBytes=
 * which kx-store forwards pods/{name}/log to. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "noderun.h"

/* ---- reading CRI logs (pure) -------------------------------------------- */

/* Turn CRI lines into what `kubectl logs` shows: the content, joined across
 * partial lines, with the timestamp in front when timestamps. The last
 * tail lines only (tail < 0: all). Appends to out. */
void nr_cri_render(const char *text, size_t n, long tail, int timestamps, kx_buf *out)
{
	const char *p = text, *end = text + n;
	long total = 0, skip;
	kx_buf cur = KX_BUF_INIT;

	/* count full (F) lines to know how many to skip */
	for (const char *q = text; q < end;) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		const char *sp1 = memchr(q, ' ', (size_t)((nl ? nl : end) - q));
		const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)((nl ? nl : end) - sp1 - 1)) : NULL;
		if (sp2 && sp2 + 1 < (nl ? nl : end) && sp2[1] == 'F')
			total++;
		if (!nl)
			break;
		q = nl + 1;
	}
	skip = tail >= 0 && total > tail ? total - tail : 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *sp1 = memchr(p, ' ', (size_t)(le - p));
		const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1)) : NULL;
		if (sp2 && sp2 + 2 <= le) {
			int full = sp2[1] == 'F';
			const char *content = sp2 + 3 <= le ? sp2 + 3 : le;
			if (!cur.len && timestamps) {
				kx_buf_add(&cur, p, (size_t)(sp1 - p));
				kx_buf_addc(&cur, ' ');
			}
			kx_buf_add(&cur, content, (size_t)(le - content));
			if (full) {
				if (skip > 0)
					skip--;
				else {
					kx_buf_add(out, cur.p ? cur.p : "", cur.len);
					kx_buf_addc(out, '\n');
				}
				kx_buf_reset(&cur);
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	kx_buf_free(&cur);
}

/* ---- the server ------------------------------------------------------------ */

static struct MHD_Daemon *daemon_;
static const struct nr_config *cfg;

/* The directory of a container's logs: log_dir/NS_POD_UID/CONTAINER, the
 * newest pod of that name. */
static int find_dir(const char *ns, const char *pod, const char *ctr, char *out, size_t n)
{
	DIR *d = opendir(cfg->log_dir);
	struct dirent *de;
	char prefix[600];
	time_t best = 0;
	int found = -1;

	if (!d)
		return -1;
	snprintf(prefix, sizeof prefix, "%s_%s_", ns, pod);
	while ((de = readdir(d))) {
		char p[4400];
		struct stat st;
		if (strncmp(de->d_name, prefix, strlen(prefix)) ||
		    strchr(de->d_name + strlen(prefix), '_'))
			continue;
		snprintf(p, sizeof p, "%s/%s/%s", cfg->log_dir, de->d_name, ctr);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) && st.st_mtime >= best) {
			best = st.st_mtime;
			snprintf(out, n, "%s", p);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

/* The highest N of N.log in dir (which < 0: the newest; else the one
 * before the newest). */
static int log_number(const char *dir, int previous)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int a = -1, b = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		if (end == de->d_name || strcmp(end, ".log"))
			continue;
		if (v > a) {
			b = a;
			a = (int)v;
		} else if (v > b)
			b = (int)v;
	}
	closedir(d);
	return previous ? b : a;
}

struct follow {
	char path[4400];
	char dir[4300];
	int number;
	int timestamps;
	off_t off;
	kx_buf pending; /* rendered, not yet sent */
	size_t sent;
	kx_buf partial; /* raw bytes after the last newline */
};

static ssize_t follow_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct follow *f = cls;

	(void)pos;
	for (int tries = 0; tries < 2; tries++) {
		if (f->sent < f->pending.len) {
			size_t n = f->pending.len - f->sent;
			if (n > max)
				n = max;
			memcpy(buf, f->pending.p + f->sent, n);
			f->sent += n;
			return (ssize_t)n;
		}
		kx_buf_reset(&f->pending);
		f->sent = 0;
		/* new bytes? */
		int fd = open(f->path, O_RDONLY | O_CLOEXEC);
		char tmp[65536];
		ssize_t n = -1;
		if (fd >= 0) {
			n = pread(fd, tmp, sizeof tmp, f->off);
			close(fd);
		}
		if (n > 0) {
			f->off += n;
			kx_buf_add(&f->partial, tmp, (size_t)n);
			char *last = memrchr(f->partial.p, '\n', f->partial.len);
			if (last) {
				size_t upto = (size_t)(last - f->partial.p + 1);
				nr_cri_render(f->partial.p, upto, -1, f->timestamps, &f->pending);
				memmove(f->partial.p, f->partial.p + upto, f->partial.len - upto);
				f->partial.len -= upto;
				f->partial.p[f->partial.len] = 0;
			}
			continue;
		}
		/* the container restarted (a newer file) or the pod is gone: done */
		if (log_number(f->dir, 0) != f->number)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (tries == 0)
			usleep(200000);
	}
	return 0; /* nothing yet: MHD asks again */
}

static void follow_free(void *cls)
{
	struct follow *f = cls;

	kx_buf_free(&f->pending);
	kx_buf_free(&f->partial);
	free(f);
}

static enum MHD_Result reply(struct MHD_Connection *conn, int code, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	ret = MHD_queue_response(conn, (unsigned)code, r);
	MHD_destroy_response(r);
	return ret;
}

static int truthy(const char *v)
{
	return v && (!strcmp(v, "true") || !strcmp(v, "1") || !*v);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	char ns[256], pod[256], ctr[256], dir[4300], path[4400];
	const char *q;
	long tail = -1, limit = -1;
	int previous, follow, timestamps, number;
	kx_buf text = KX_BUF_INIT, out = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	if (!*state) { /* the first call is for the headers only */
		*state = (void *)1;
		return MHD_YES;
	}
	if (!strcmp(url, "/healthz"))
		return reply(conn, 200, "ok");
	if (strcmp(method, "GET"))
		return reply(conn, 405, "only GET\n");
	if (sscanf(url, "/containerLogs/%255[^/]/%255[^/]/%255[^/?]", ns, pod, ctr) != 3 ||
	    strstr(url, ".."))
		return reply(conn, 404, "not found: want /containerLogs/NAMESPACE/POD/CONTAINER\n");
	if ((q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "tailLines")))
		tail = strtol(q, NULL, 10);
	if ((q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limitBytes")))
		limit = strtol(q, NULL, 10);
	previous = truthy(MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "previous"));
	follow = truthy(MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "follow"));
	timestamps = truthy(MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "timestamps"));
	if (find_dir(ns, pod, ctr, dir, sizeof dir) < 0) {
		char m[900];
		snprintf(m, sizeof m, "container \"%s\" in pod \"%s\" has no logs on this node\n", ctr,
			 pod);
		return reply(conn, 404, m);
	}
	number = log_number(dir, previous);
	if (number < 0) {
		char m[900];
		snprintf(m, sizeof m, previous ? "previous terminated container \"%s\" in pod \"%s\" not found\n"
					       : "container \"%s\" in pod \"%s\" has no logs yet\n",
			 ctr, pod);
		return reply(conn, previous ? 400 : 404, m);
	}
	snprintf(path, sizeof path, "%s/%d.log", dir, number);
	if (kx_buf_read_file(&text, path, 64u << 20, &e) < 0) {
		/* a big file: the end of it only */
		kx_buf_free(&text);
		return reply(conn, 500, "cannot read the log\n");
	}
	nr_cri_render(text.p ? text.p : "", text.len, tail, timestamps, &out);
	if (limit >= 0 && out.len > (size_t)limit) {
		out.len = (size_t)limit;
		out.p[out.len] = 0;
	}
	if (follow && !previous) {
		struct follow *f = calloc(1, sizeof *f);
		if (!f) {
			kx_buf_free(&text);
			kx_buf_free(&out);
			return reply(conn, 500, "out of memory\n");
		}
		snprintf(f->path, sizeof f->path, "%s", path);
		snprintf(f->dir, sizeof f->dir, "%s", dir);
		f->number = number;
		f->timestamps = timestamps;
		f->off = (off_t)text.len;
		/* bytes after the last complete line wait for the rest */
		{
			char *last = text.len ? memrchr(text.p, '\n', text.len) : NULL;
			size_t upto = last ? (size_t)(last - text.p + 1) : 0;
			f->off = (off_t)upto;
		}
		f->pending = out;
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, follow_read, f,
						      follow_free);
	} else {
		r = MHD_create_response_from_buffer(out.len, out.p ? out.p : (char *)"",
						    MHD_RESPMEM_MUST_COPY);
		kx_buf_free(&out);
	}
	kx_buf_free(&text);
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

int nr_serve_start(const struct nr_config *c, kx_err *e)
{
	struct sockaddr_in sa = {0};

	cfg = c;
	if (!c->port)
		return 0;
	/* listen on the node's address only */
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)c->port);
	if (inet_pton(AF_INET, c->node_ip, &sa.sin_addr) != 1)
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
	daemon_ = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
					   MHD_USE_ERROR_LOG,
				   (uint16_t)c->port, NULL, NULL, on_request, NULL,
				   MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
	if (!daemon_)
		return kx_err_set(e, KX_EFAIL, "cannot serve logs on port %d: %s", c->port,
				  errno ? strerror(errno) : "in use?");
	kx_log_debug(1, "serving container logs on port %d", c->port);
	return 0;
}

void nr_serve_stop(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
