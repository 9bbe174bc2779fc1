/* probe.c: liveness, readiness and startup probes (see probe.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <curl/curl.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "json.h"
#include "probe.h"

/* kx_jv_str that always fills buf (with def when the field is absent). */
static const char *jstr(jv v, const char *path, char *buf, size_t n, const char *def)
{
	if (!kx_jv_str(v, path, buf, n, NULL) && def != buf)
		snprintf(buf, n, "%s", def ? def : "");
	return buf;
}

void kx_probe_init(kx_probe *p)
{
	memset(p, 0, sizeof *p);
	strcpy(p->scheme, "http");
	strcpy(p->path, "/");
	p->timeout_ms = 1000;
	p->period = 10;
	p->success_threshold = 1;
	p->failure_threshold = 3;
}

void kx_probe_free(kx_probe *p)
{
	for (int i = 0; i < p->argc; i++)
		free(p->argv[i]);
	p->argc = 0;
	p->argv[0] = NULL;
}

/* ---- parsing ------------------------------------------------------------- */

/* A port as Kubernetes writes it: a number, or the name of one of the
 * container's ports. */
static int resolve_port(jv port, jv ports, int *out, kx_err *e)
{
	int ret = -1;

	if (jv_get_kind(port) == JV_KIND_NUMBER) {
		double d = jv_number_value(port);
		if (d >= 1 && d <= 65535 && d == (int)d) {
			*out = (int)d;
			ret = 0;
		} else
			kx_err_set(e, KX_EFAIL, "port %g is out of range", d);
	} else if (jv_get_kind(port) == JV_KIND_STRING) {
		const char *s = jv_string_value(port);
		char *end;
		long n = strtol(s, &end, 10);
		if (*s && !*end) {
			if (n >= 1 && n <= 65535) {
				*out = (int)n;
				ret = 0;
			} else
				kx_err_set(e, KX_EFAIL, "port %ld is out of range", n);
		} else if (jv_get_kind(ports) == JV_KIND_ARRAY) {
			jv_array_foreach(ports, i, cp)
			{
				char name[64];
				jstr(cp, "name", name, sizeof name, "");
				if (ret < 0 && !strcmp(name, s)) {
					*out = (int)kx_jv_int(cp, "containerPort", 0);
					ret = *out > 0 && *out <= 65535 ? 0 : -1;
				}
				jv_free(cp);
			}
			if (ret < 0)
				kx_err_set(e, KX_EFAIL, "no container port named \"%s\"", s);
		} else
			kx_err_set(e, KX_EFAIL, "no container port named \"%s\"", s);
	} else
		kx_err_set(e, KX_EFAIL, "port is missing");
	jv_free(port);
	jv_free(ports);
	return ret;
}

static int int_field(jv probe, const char *name, int def, int min, int *out, kx_err *e)
{
	jv v = jv_object_get(jv_copy(probe), jv_string(name));
	int ret = 0;

	if (jv_get_kind(v) == JV_KIND_NULL || jv_get_kind(v) == JV_KIND_INVALID)
		*out = def;
	else if (jv_get_kind(v) != JV_KIND_NUMBER || jv_number_value(v) < min ||
		 jv_number_value(v) > 1e6)
		ret = kx_err_set(e, KX_EFAIL, "%s must be a number >= %d", name, min);
	else
		*out = (int)jv_number_value(v);
	jv_free(v);
	return ret;
}

int kx_probe_from_json(kx_probe *p, jv probe, const char *pod_ip, jv ports, kx_err *e)
{
	jv h;
	int ret = -1, tmo = 1;

	kx_probe_init(p);
	if (jv_get_kind(probe) != JV_KIND_OBJECT) {
		kx_err_set(e, KX_EFAIL, "a probe must be a JSON object");
		goto out;
	}
	if (int_field(probe, "initialDelaySeconds", 0, 0, &p->initial_delay, e) < 0 ||
	    int_field(probe, "timeoutSeconds", 1, 1, &tmo, e) < 0 ||
	    int_field(probe, "periodSeconds", 10, 1, &p->period, e) < 0 ||
	    int_field(probe, "successThreshold", 1, 1, &p->success_threshold, e) < 0 ||
	    int_field(probe, "failureThreshold", 3, 1, &p->failure_threshold, e) < 0)
		goto out;
	p->timeout_ms = tmo * 1000;
	if (pod_ip && *pod_ip)
		snprintf(p->host, sizeof p->host, "%s", pod_ip);
	if (jv_get_kind(h = kx_jv_get(jv_copy(probe), "httpGet")) == JV_KIND_OBJECT) {
		char scheme[16];
		jv hdrs;
		p->kind = KX_PROBE_HTTP;
		jstr(h, "scheme", scheme, sizeof scheme, "HTTP");
		if (!strcasecmp(scheme, "http") || !strcasecmp(scheme, "https")) {
			for (int i = 0; scheme[i]; i++)
				p->scheme[i] = (char)(scheme[i] | 0x20);
			p->scheme[strlen(scheme)] = 0;
		} else {
			kx_err_set(e, KX_EFAIL, "httpGet.scheme \"%s\" is neither HTTP nor HTTPS",
				   scheme);
			jv_free(h);
			goto out;
		}
		jstr(h, "host", p->host, sizeof p->host, p->host);
		jstr(h, "path", p->path + 1, sizeof p->path - 1, "");
		if (p->path[1] == '/')
			memmove(p->path, p->path + 1, strlen(p->path + 1) + 1);
		if (resolve_port(kx_jv_get(jv_copy(h), "port"), jv_copy(ports), &p->port, e) < 0) {
			kx_err_wrap(e, "httpGet");
			jv_free(h);
			goto out;
		}
		hdrs = kx_jv_get(jv_copy(h), "httpHeaders");
		if (jv_get_kind(hdrs) == JV_KIND_ARRAY) {
			jv_array_foreach(hdrs, i, hv)
			{
				if (p->nheaders < KX_PROBE_MAX_HEADERS &&
				    jv_get_kind(hv) == JV_KIND_OBJECT) {
					jstr(hv, "name", p->hname[p->nheaders], 128, "");
					jstr(hv, "value", p->hvalue[p->nheaders], 512, "");
					if (p->hname[p->nheaders][0] &&
					    !strpbrk(p->hname[p->nheaders], ":\r\n") &&
					    !strpbrk(p->hvalue[p->nheaders], "\r\n"))
						p->nheaders++;
				}
				jv_free(hv);
			}
		}
		jv_free(hdrs);
		ret = 0;
	} else if (jv_free(h), jv_get_kind(h = kx_jv_get(jv_copy(probe), "grpc")) ==
				   JV_KIND_OBJECT) {
		/* the gRPC health checking protocol; the port is a number only,
		 * as in Kubernetes */
		jv port = kx_jv_get(jv_copy(h), "port");
		p->kind = KX_PROBE_GRPC;
		jstr(h, "service", p->service, sizeof p->service, "");
		if (jv_get_kind(port) != JV_KIND_NUMBER || jv_number_value(port) < 1 ||
		    jv_number_value(port) > 65535)
			kx_err_set(e, KX_EFAIL, "grpc.port must be a number from 1 to 65535");
		else {
			p->port = (int)jv_number_value(port);
			ret = 0;
		}
		jv_free(port);
	} else if (jv_free(h), jv_get_kind(h = kx_jv_get(jv_copy(probe), "tcpSocket")) ==
				   JV_KIND_OBJECT) {
		p->kind = KX_PROBE_TCP;
		jstr(h, "host", p->host, sizeof p->host, p->host);
		if (resolve_port(kx_jv_get(jv_copy(h), "port"), jv_copy(ports), &p->port, e) < 0)
			kx_err_wrap(e, "tcpSocket");
		else
			ret = 0;
	} else if (jv_free(h), jv_get_kind(h = kx_jv_get(jv_copy(probe), "exec")) ==
				   JV_KIND_OBJECT) {
		jv cmd = kx_jv_get(jv_copy(h), "command");
		p->kind = KX_PROBE_EXEC;
		if (jv_get_kind(cmd) != JV_KIND_ARRAY || jv_array_length(jv_copy(cmd)) == 0) {
			kx_err_set(e, KX_EFAIL, "exec.command must be a non-empty array");
		} else {
			ret = 0;
			jv_array_foreach(cmd, i, a)
			{
				if (jv_get_kind(a) != JV_KIND_STRING || p->argc >= KX_PROBE_MAX_ARGS) {
					if (ret == 0)
						kx_err_set(e, KX_EFAIL,
							   "exec.command must hold at most %d strings",
							   KX_PROBE_MAX_ARGS);
					ret = -1;
				} else
					p->argv[p->argc++] = strdup(jv_string_value(a));
				jv_free(a);
			}
			p->argv[p->argc] = NULL;
		}
		jv_free(cmd);
	} else
		kx_err_set(e, KX_EFAIL, "a probe needs one of httpGet, tcpSocket, grpc or exec");
	jv_free(h);
	if (ret == 0 && p->kind != KX_PROBE_EXEC && !p->host[0])
		strcpy(p->host, "127.0.0.1");
out:
	jv_free(probe);
	jv_free(ports);
	if (ret < 0)
		kx_probe_free(p);
	return ret;
}

/* "HOST:PORT" or "[V6]:PORT" into p. */
static int parse_hostport(kx_probe *p, const char *s, size_t n, int defport, kx_err *e)
{
	const char *colon;
	size_t hl;
	char port[16];

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return kx_err_set(e, KX_EUSAGE, "bad address \"%.*s\"", (int)n, s);
		hl = (size_t)(close - s - 1);
		if (hl >= sizeof p->host)
			return kx_err_set(e, KX_EUSAGE, "host name too long");
		memcpy(p->host, s + 1, hl);
		p->host[hl] = 0;
		colon = close + 1 < s + n && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memrchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
		if (hl >= sizeof p->host)
			return kx_err_set(e, KX_EUSAGE, "host name too long");
		memcpy(p->host, s, hl);
		p->host[hl] = 0;
	}
	if (!p->host[0])
		return kx_err_set(e, KX_EUSAGE, "no host in \"%.*s\"", (int)n, s);
	if (!colon) {
		if (!defport)
			return kx_err_set(e, KX_EUSAGE, "no port in \"%.*s\"", (int)n, s);
		p->port = defport;
		return 0;
	}
	hl = (size_t)(s + n - colon - 1);
	if (hl == 0 || hl >= sizeof port)
		return kx_err_set(e, KX_EUSAGE, "bad port in \"%.*s\"", (int)n, s);
	memcpy(port, colon + 1, hl);
	port[hl] = 0;
	char *end;
	long v = strtol(port, &end, 10);
	if (*end || v < 1 || v > 65535)
		return kx_err_set(e, KX_EUSAGE, "bad port \"%s\"", port);
	p->port = (int)v;
	return 0;
}

int kx_probe_from_url(kx_probe *p, const char *url, kx_err *e)
{
	const char *rest, *slash;

	kx_probe_init(p);
	if (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8)) {
		int tls = url[4] == 's' || url[4] == 'S';
		p->kind = KX_PROBE_HTTP;
		strcpy(p->scheme, tls ? "https" : "http");
		rest = url + (tls ? 8 : 7);
		slash = rest + strcspn(rest, "/?#");
		if (parse_hostport(p, rest, (size_t)(slash - rest), tls ? 443 : 80, e) < 0)
			return -1;
		if (*slash == '#' || !*slash)
			strcpy(p->path, "/");
		else if (strlen(slash) >= sizeof p->path)
			return kx_err_set(e, KX_EUSAGE, "path too long");
		else
			snprintf(p->path, sizeof p->path, "%s%.*s", *slash == '?' ? "/" : "",
				 (int)strcspn(slash, "#"), slash);
		return 0;
	}
	if (!strncasecmp(url, "grpc://", 7)) {
		rest = url + 7;
		slash = rest + strcspn(rest, "/");
		p->kind = KX_PROBE_GRPC;
		if (parse_hostport(p, rest, (size_t)(slash - rest), 0, e) < 0)
			return -1;
		if (*slash && strlen(slash + 1) >= sizeof p->service)
			return kx_err_set(e, KX_EUSAGE, "service name too long");
		snprintf(p->service, sizeof p->service, "%s", *slash ? slash + 1 : "");
		return 0;
	}
	if (!strncasecmp(url, "tcp://", 6))
		url += 6;
	else if (strstr(url, "://"))
		return kx_err_set(e, KX_EUSAGE,
				  "\"%s\": only http://, https://, grpc:// and tcp:// are known", url);
	p->kind = KX_PROBE_TCP;
	return parse_hostport(p, url, strcspn(url, "/"), 0, e);
}

static const char *url_host(const kx_probe *p, char *buf, size_t n)
{
	if (strchr(p->host, ':'))
		snprintf(buf, n, "[%s]", p->host);
	else
		snprintf(buf, n, "%s", p->host);
	return buf;
}

const char *kx_probe_describe(const kx_probe *p, char *buf, size_t n)
{
	char h[300];

	switch (p->kind) {
	case KX_PROBE_HTTP:
		snprintf(buf, n, "%s://%s:%d%s", p->scheme, url_host(p, h, sizeof h), p->port,
			 p->path);
		break;
	case KX_PROBE_TCP:
		snprintf(buf, n, "tcp://%s:%d", url_host(p, h, sizeof h), p->port);
		break;
	case KX_PROBE_GRPC:
		snprintf(buf, n, "grpc://%s:%d%s%s", url_host(p, h, sizeof h), p->port,
			 p->service[0] ? "/" : "", p->service);
		break;
	case KX_PROBE_EXEC: {
		size_t off = (size_t)snprintf(buf, n, "exec");
		for (int i = 0; i < p->argc && off < n; i++)
			off += (size_t)snprintf(buf + off, n - off, " %s", p->argv[i]);
		break;
	}
	default:
		snprintf(buf, n, "none");
	}
	return buf;
}

/* ---- running ------------------------------------------------------------- */

static size_t discard_body(char *data, size_t size, size_t nmemb, void *arg)
{
	size_t *seen = arg;

	*seen += size * nmemb;
	/* Like the kubelet, read at most 10 KiB of the body; stop after. */
	return *seen > KX_PROBE_MAX_BODY ? 0 : size * nmemb;
}

static void run_http(const kx_probe *p, kx_probe_result *r)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[2600], line[700];
	size_t seen = 0;
	int have_ua = 0, have_accept = 0;
	long code = 0;
	CURLcode rc;

	kx_probe_describe(p, url, sizeof url);
	if (!h) {
		snprintf(r->reason, sizeof r->reason, "out of memory");
		return;
	}
	for (int i = 0; i < p->nheaders; i++) {
		if (!strcasecmp(p->hname[i], "user-agent"))
			have_ua = 1;
		if (!strcasecmp(p->hname[i], "accept"))
			have_accept = 1;
		if (p->hvalue[i][0])
			snprintf(line, sizeof line, "%s: %s", p->hname[i], p->hvalue[i]);
		else
			snprintf(line, sizeof line, "%s;", p->hname[i]);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (!have_ua)
		hdrs = curl_slist_append(hdrs, "User-Agent: kube-probe/1.30");
	if (!have_accept)
		hdrs = curl_slist_append(hdrs, "Accept: */*");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &seen);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* the kubelet does not verify a probe's certificate */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_WRITE_ERROR && code)
		rc = CURLE_OK; /* we stopped reading a long body */
	if (rc != CURLE_OK)
		snprintf(r->reason, sizeof r->reason, "Get \"%s\": %s", url, curl_easy_strerror(rc));
	else if (code >= 200 && code < 400)
		r->ok = 1;
	else
		snprintf(r->reason, sizeof r->reason, "HTTP probe failed with statuscode: %ld", code);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
}

/* gRPC: the response's body and its grpc-status, from the headers or the
 * trailers (curl hands both to the header function). */
struct grpc_reply {
	kx_buf body;
	int status; /* -1 until a grpc-status is seen */
};

static size_t grpc_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct grpc_reply *g = arg;

	return kx_buf_add(&g->body, data, size * nmemb) < 0 ? 0 : size * nmemb;
}

static size_t grpc_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct grpc_reply *g = arg;
	size_t n = size * nmemb;

	if (n > 12 && !strncasecmp(data, "grpc-status:", 12))
		g->status = atoi(data + 12);
	return n;
}

/* The gRPC health checking protocol, as the kubelet's grpc probe: one unary
 * call of grpc.health.v1.Health/Check over HTTP/2 without TLS, the request
 * and the answer encoded by hand (each is one protobuf field: the service
 * name; the status, 1 being SERVING). */
static void run_grpc(const kx_probe *p, kx_probe_result *r)
{
	static const char *const names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	struct grpc_reply g = {KX_BUF_INIT, -1};
	unsigned char req[5 + 3 + sizeof p->service];
	size_t sl = strlen(p->service), m = 0, len;
	char url[600], hp[300];
	long code = 0;
	CURLcode rc;

	if (!h) {
		snprintf(r->reason, sizeof r->reason, "out of memory");
		return;
	}
	g.body.max = KX_PROBE_MAX_BODY;
	/* HealthCheckRequest{service = 1}: a length-delimited field */
	if (sl) {
		req[5 + m++] = 0x0a;
		if (sl > 127)
			req[5 + m++] = (unsigned char)(0x80 | (sl & 0x7f)), req[5 + m++] = (unsigned char)(sl >> 7);
		else
			req[5 + m++] = (unsigned char)sl;
		memcpy(req + 5 + m, p->service, sl);
		m += sl;
	}
	req[0] = 0; /* not compressed */
	req[1] = (unsigned char)(m >> 24), req[2] = (unsigned char)(m >> 16);
	req[3] = (unsigned char)(m >> 8), req[4] = (unsigned char)m;
	snprintf(url, sizeof url, "http://%s:%d/grpc.health.v1.Health/Check", url_host(p, hp, sizeof hp),
		 p->port);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/grpc");
	hdrs = curl_slist_append(hdrs, "TE: trailers");
	hdrs = curl_slist_append(hdrs, "User-Agent: kube-probe/1.30");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)req);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(5 + m));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grpc_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &g);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, grpc_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &g);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	len = g.body.len;
	if (rc != CURLE_OK)
		snprintf(r->reason, sizeof r->reason,
			 "timeout: failed to connect service \"%s:%d\" within %ds: %s", hp, p->port,
			 p->timeout_ms / 1000, curl_easy_strerror(rc));
	else if (code != 200 || g.status != 0)
		snprintf(r->reason, sizeof r->reason,
			 "error: health rpc probe failed: HTTP status %ld, grpc-status %d", code, g.status);
	else {
		/* HealthCheckResponse{status = 1}: a varint field; absent is 0 */
		const unsigned char *b = (const unsigned char *)g.body.p;
		int status = 0;
		for (size_t i = 5; len >= 5 && i + 1 < len; i++)
			if (b[i] == 0x08) {
				status = b[i + 1] & 0x7f;
				break;
			}
		if (len < 5)
			snprintf(r->reason, sizeof r->reason, "error: health rpc probe failed: no answer");
		else if (status == 1)
			r->ok = 1;
		else
			snprintf(r->reason, sizeof r->reason, "service unhealthy (responded with \"%s\")",
				 status < 4 ? names[status] : "UNKNOWN");
	}
	kx_buf_free(&g.body);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
}

static void run_tcp(const kx_probe *p, kx_probe_result *r)
{
	struct addrinfo hints = {0}, *ai = NULL;
	char port[16], h[300];
	int64_t deadline = kx_now_ms() + (int64_t)p->timeout_ms;
	int fd = -1, gai;

	snprintf(port, sizeof port, "%d", p->port);
	url_host(p, h, sizeof h);
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(p->host, port, &hints, &ai)) != 0) {
		snprintf(r->reason, sizeof r->reason, "dial tcp %s:%d: lookup %s: %s", h, p->port,
			 p->host, gai_strerror(gai));
		return;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(r->reason, sizeof r->reason, "dial tcp %s:%d: socket: %s", h, p->port,
			 strerror(errno));
	} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		r->ok = 1;
	} else if (errno != EINPROGRESS) {
		snprintf(r->reason, sizeof r->reason, "dial tcp %s:%d: connect: %s", h, p->port,
			 strerror(errno));
	} else {
		struct pollfd pfd = {fd, POLLOUT, 0};
		int n, err = 0;
		socklen_t len = sizeof err;
		do {
			int64_t left = deadline - kx_now_ms();
			n = poll(&pfd, 1, left > 0 ? (int)left : 0);
		} while (n < 0 && errno == EINTR);
		if (n == 0)
			snprintf(r->reason, sizeof r->reason, "dial tcp %s:%d: i/o timeout", h,
				 p->port);
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
			snprintf(r->reason, sizeof r->reason, "dial tcp %s:%d: connect: %s", h,
				 p->port, strerror(err ? err : errno));
		else
			r->ok = 1;
	}
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
}

static void run_exec(const kx_probe *p, const char *runtime, const char *container,
		     kx_probe_result *r)
{
	char *argv[KX_PROBE_MAX_ARGS + 8];
	int pfd[2], n = 0, status = 0, timed_out = 0;
	char out[KX_PROBE_MAX_BODY + 1];
	size_t olen = 0;
	int64_t deadline = kx_now_ms() + (int64_t)p->timeout_ms;
	pid_t pid;

	if (p->argc == 0) {
		snprintf(r->reason, sizeof r->reason, "no command");
		return;
	}
	if (container && *container) {
		argv[n++] = (char *)(runtime && *runtime ? runtime : "kx-container");
		argv[n++] = "exec";
		argv[n++] = (char *)container;
		argv[n++] = "--";
	}
	for (int i = 0; i < p->argc; i++)
		argv[n++] = p->argv[i];
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(r->reason, sizeof r->reason, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(r->reason, sizeof r->reason, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		setpgid(0, 0);
		if (null >= 0)
			dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run \"%s\": %s", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(pfd[1]);
	for (;;) {
		struct pollfd pf = {pfd[0], POLLIN, 0};
		int64_t left = deadline - kx_now_ms();
		char tmp[4096];
		ssize_t got;
		int k;
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		k = poll(&pf, 1, (int)left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			continue;
		got = read(pfd[0], tmp, sizeof tmp);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (olen < KX_PROBE_MAX_BODY) {
			size_t take = (size_t)got < KX_PROBE_MAX_BODY - olen ? (size_t)got
									  : KX_PROBE_MAX_BODY - olen;
			memcpy(out + olen, tmp, take);
			olen += take;
		}
	}
	close(pfd[0]);
	if (timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	out[olen] = 0;
	while (olen && (out[olen - 1] == '\n' || out[olen - 1] == '\r'))
		out[--olen] = 0;
	if (timed_out)
		snprintf(r->reason, sizeof r->reason, "command timed out after %dms", p->timeout_ms);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		r->ok = 1;
	else if (WIFEXITED(status))
		snprintf(r->reason, sizeof r->reason, "command exited with status %d%s%s",
			 WEXITSTATUS(status), olen ? ": " : "", out);
	else
		snprintf(r->reason, sizeof r->reason, "command killed by signal %d",
			 WTERMSIG(status));
}

int kx_probe_run(const kx_probe *p, const char *runtime, const char *container,
		 kx_probe_result *r)
{
	int64_t t0 = kx_now_ms();

	memset(r, 0, sizeof *r);
	switch (p->kind) {
	case KX_PROBE_HTTP:
		run_http(p, r);
		break;
	case KX_PROBE_TCP:
		run_tcp(p, r);
		break;
	case KX_PROBE_GRPC:
		run_grpc(p, r);
		break;
	case KX_PROBE_EXEC:
		run_exec(p, runtime, container, r);
		break;
	default:
		snprintf(r->reason, sizeof r->reason, "no probe");
	}
	r->ms = kx_now_ms() - t0;
	return r->ok;
}

jv kx_probe_result_json(const kx_probe *p, const kx_probe_result *r)
{
	char d[2600];

	return jv_object_set(
		jv_object_set(jv_object_set(jv_object_set(jv_object(), jv_string("probe"),
							  jv_string(kx_probe_describe(p, d, sizeof d))),
					    jv_string("healthy"), jv_bool(r->ok)),
			      jv_string("reason"), jv_string(r->reason)),
		jv_string("ms"), jv_number((double)r->ms));
}

/* ---- thresholds ---------------------------------------------------------- */

void kx_probe_state_init(kx_probe_state *s, const char *type)
{
	memset(s, 0, sizeof *s);
	if (!strcmp(type, "readiness"))
		s->result = KX_PROBE_FAILURE;
	else if (!strcmp(type, "liveness"))
		s->result = KX_PROBE_SUCCESS;
	else
		s->result = KX_PROBE_UNKNOWN;
}

int kx_probe_due(const kx_probe *p, const kx_probe_state *s, int64_t started, int64_t now)
{
	if (now < started + p->initial_delay)
		return 0;
	return s->last == 0 || now - s->last >= p->period;
}

int kx_probe_record(const kx_probe *p, kx_probe_state *s, const kx_probe_result *r,
		    int64_t now)
{
	int before = s->result;

	s->last = now;
	if (r->ok) {
		s->successes++;
		s->failures = 0;
		s->reason[0] = 0;
		if (s->successes >= p->success_threshold)
			s->result = KX_PROBE_SUCCESS;
	} else {
		s->failures++;
		s->successes = 0;
		snprintf(s->reason, sizeof s->reason, "%s", r->reason);
		if (s->failures >= p->failure_threshold)
			s->result = KX_PROBE_FAILURE;
	}
	return before != s->result;
}

/* ---- result files -------------------------------------------------------- */

int kx_probe_file_path(char *buf, size_t n, const char *root, const char *uid,
		       const char *container, const char *type)
{
	int k = snprintf(buf, n, "%s/pods/%s/probes/%s.%s", root, uid, container, type);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

int kx_probe_file_read(const char *path, const char *container_id, kx_probe_state *s)
{
	kx_buf b = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	char cid[256], res[16], t[40];
	jv v;
	time_t when = 0;

	if (kx_buf_read_file(&b, path, 64 << 10, &e) < 0)
		return -1;
	v = kx_json_parse(b.p ? b.p : "", b.len, &e);
	kx_buf_free(&b);
	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return -1;
	}
	jstr(v, "containerID", cid, sizeof cid, "");
	if (container_id && strcmp(cid, container_id)) {
		jv_free(v);
		return -1;
	}
	jstr(v, "result", res, sizeof res, "unknown");
	s->result = !strcmp(res, "success")   ? KX_PROBE_SUCCESS
		    : !strcmp(res, "failure") ? KX_PROBE_FAILURE
					      : KX_PROBE_UNKNOWN;
	s->successes = (int)kx_jv_int(v, "successes", 0);
	s->failures = (int)kx_jv_int(v, "failures", 0);
	jstr(v, "reason", s->reason, sizeof s->reason, "");
	jstr(v, "time", t, sizeof t, "");
	s->last = kx_time_parse(t, &when) == 0 ? (int64_t)when : 0;
	jv_free(v);
	return 0;
}

static int mkdirs(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof tmp)
		return -1;
	memcpy(tmp, path, n + 1);
	for (char *q = tmp + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = 0;
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*q = '/';
	}
	return mkdir(tmp, mode) < 0 && errno != EEXIST ? -1 : 0;
}

int kx_probe_file_write(const char *path, const char *container_id, const kx_probe_state *s,
			kx_err *e)
{
	char dir[4096], tmp[4200], t[40];
	char *text, *slash;
	FILE *f;
	jv v;

	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')))
		*slash = 0;
	if (mkdirs(dir, 0755) < 0)
		return kx_err_set(e, KX_EFAIL, "cannot create \"%s\": %s", dir, strerror(errno));
	v = jv_object();
	v = jv_object_set(v, jv_string("containerID"), jv_string(container_id ? container_id : ""));
	v = jv_object_set(v, jv_string("result"),
			  jv_string(s->result == KX_PROBE_SUCCESS   ? "success"
				    : s->result == KX_PROBE_FAILURE ? "failure"
								    : "unknown"));
	v = jv_object_set(v, jv_string("successes"), jv_number(s->successes));
	v = jv_object_set(v, jv_string("failures"), jv_number(s->failures));
	v = jv_object_set(v, jv_string("reason"), jv_string(s->reason));
	v = jv_object_set(v, jv_string("time"),
			  jv_string(kx_time_format((time_t)s->last, t, sizeof t)));
	text = kx_json_dump(v, 0);
	snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
		int err = errno;
		free(text);
		unlink(tmp);
		return kx_err_set(e, KX_EFAIL, "cannot write \"%s\": %s", path, strerror(err));
	}
	free(text);
	return 0;
}

/* ---- a pod's probes ------------------------------------------------------ */

const char *kx_probe_container_id(const char *cid)
{
	const char *s;

	if (!cid)
		return "";
	s = strstr(cid, "://");
	return s ? s + 3 : cid;
}

static const char *const probe_types[] = {"startup", "liveness", "readiness"};

int kx_probe_pod(jv pod, const char *root, const char *runtime, int64_t now, int force,
		 kx_probe_report_fn fn, void *arg)
{
	char uid[128], ip[64];
	jv ctrs = kx_jv_get(jv_copy(pod), "spec.containers");
	jv sts = kx_jv_get(jv_copy(pod), "status.containerStatuses");
	int ran = 0;

	jstr(pod, "metadata.uid", uid, sizeof uid, "");
	jstr(pod, "status.podIP", ip, sizeof ip, "");
	if (!uid[0] || jv_get_kind(ctrs) != JV_KIND_ARRAY || jv_get_kind(sts) != JV_KIND_ARRAY)
		goto out;
	jv_array_foreach(ctrs, i, c)
	{
		char name[256], cidbuf[300], started_s[40], path[4096];
		const char *cid = "";
		time_t started = 0;
		int startup_ok = 1;

		jstr(c, "name", name, sizeof name, "");
		jv_array_foreach(sts, j, st)
		{
			char sn[256];
			jstr(st, "name", sn, sizeof sn, "");
			jv run = kx_jv_get(jv_copy(st), "state.running");
			int running = jv_get_kind(run) == JV_KIND_OBJECT;
			jv_free(run);
			if (!strcmp(sn, name) && running) {
				jstr(st, "containerID", cidbuf, sizeof cidbuf, "");
				cid = kx_probe_container_id(cidbuf);
				jstr(st, "state.running.startedAt", started_s,
					  sizeof started_s, "");
				kx_time_parse(started_s, &started);
			}
			jv_free(st);
		}
		for (size_t t = 0; *cid && t < 3; t++) {
			char field[32];
			kx_probe p;
			kx_probe_state s;
			kx_probe_result r;
			kx_err e = KX_ERR_INIT;
			jv pj;
			int changed;

			snprintf(field, sizeof field, "%sProbe", probe_types[t]);
			pj = jv_object_get(jv_copy(c), jv_string(field));
			if (jv_get_kind(pj) != JV_KIND_OBJECT) {
				jv_free(pj);
				continue;
			}
			if (t > 0 && !startup_ok) { /* startup holds the others back */
				jv_free(pj);
				continue;
			}
			if (kx_probe_from_json(&p, pj, ip, kx_jv_get(jv_copy(c), "ports"), &e) < 0)
				continue;
			kx_probe_file_path(path, sizeof path, root, uid, name, probe_types[t]);
			kx_probe_state_init(&s, probe_types[t]);
			kx_probe_file_read(path, cid, &s);
			if (t == 0 && s.result == KX_PROBE_SUCCESS) {
				kx_probe_free(&p);
				continue; /* a startup probe stops once it succeeded */
			}
			if (!force && !kx_probe_due(&p, &s, started, now)) {
				if (t == 0)
					startup_ok = s.result == KX_PROBE_SUCCESS;
				kx_probe_free(&p);
				continue;
			}
			kx_probe_run(&p, runtime, cid, &r);
			changed = kx_probe_record(&p, &s, &r, now);
			kx_probe_file_write(path, cid, &s, &e);
			if (t == 0)
				startup_ok = s.result == KX_PROBE_SUCCESS;
			ran++;
			if (fn)
				fn(arg, pod, name, probe_types[t], &p, &r, &s, changed);
			kx_probe_free(&p);
		}
		jv_free(c);
	}
out:
	jv_free(ctrs);
	jv_free(sts);
	return ran;
}

const char *kx_probe_message(const char *type, const char *reason, char *buf, size_t n)
{
	snprintf(buf, n, "%c%s probe failed: %s", type[0] & ~0x20, type + 1, reason);
	return buf;
}
