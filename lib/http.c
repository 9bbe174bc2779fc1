#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <curl/curl.h>

#include "err.h"
#include "http.h"
#include "json.h"

struct kx_client {
	CURL *curl;
	char *server; /* without a trailing slash */
	long timeout_ms;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *kx_server_url(const char *opt)
{
	const char *env;

	if (opt && *opt)
		return opt;
	env = getenv("KX_SERVER");
	if (env && *env)
		return env;
	return KX_DEFAULT_SERVER;
}

kx_client *kx_client_new(const char *server, kx_err *e)
{
	kx_client *c;
	size_t n;

	pthread_once(&curl_once, curl_init_once);
	server = kx_server_url(server);
	if (strncmp(server, "http://", 7) && strncmp(server, "https://", 8)) {
		kx_err_set(e, KX_EUSAGE, "server \"%s\" is not an http:// or https:// URL", server);
		return NULL;
	}
	c = calloc(1, sizeof *c);
	if (!c || !(c->curl = curl_easy_init()) || !(c->server = strdup(server))) {
		kx_client_free(c);
		kx_err_set(e, KX_EFAIL, "out of memory");
		return NULL;
	}
	n = strlen(c->server);
	while (n && c->server[n - 1] == '/')
		c->server[--n] = 0;
	c->timeout_ms = 30000;
	return c;
}

void kx_client_free(kx_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->server);
	free(c);
}

const char *kx_client_server(const kx_client *c)
{
	return c->server;
}

void kx_client_set_timeout(kx_client *c, long ms)
{
	c->timeout_ms = ms;
}

struct sink {
	kx_buf *buf;
	int overflow;
	kx_line_fn fn; /* streaming: lines go here */
	void *arg;
	int stopped;
	CURL *h; /* streaming: error bodies are kept whole, not handed to fn */
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (kx_buf_add(s->buf, ptr, n) < 0) {
		s->overflow = 1;
		return 0;
	}
	if (!s->fn)
		return n;
	long code = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299)
		return n;
	/* hand over every complete line, keep the rest */
	char *start = s->buf->p, *nl;
	while ((nl = memchr(start, '\n', s->buf->len - (start - s->buf->p)))) {
		*nl = 0;
		if (nl > start && s->fn(s->arg, start, nl - start)) {
			s->stopped = 1;
			return 0;
		}
		start = nl + 1;
	}
	size_t rest = s->buf->len - (start - s->buf->p);
	memmove(s->buf->p, start, rest);
	s->buf->len = rest;
	s->buf->p[rest] = 0;
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	kx_response *r = userdata;
	size_t n = size * nmemb;

	if (n > 13 && !strncasecmp(ptr, "content-type:", 13)) {
		const char *v = ptr + 13;
		while (*v == ' ')
			v++;
		size_t l = n - (v - ptr);
		while (l && (v[l - 1] == '\r' || v[l - 1] == '\n'))
			l--;
		if (l >= sizeof r->ctype)
			l = sizeof r->ctype - 1;
		memcpy(r->ctype, v, l);
		r->ctype[l] = 0;
	}
	return n;
}

static int perform(kx_client *c, const char *method, const char *path, const char *ctype,
		   const char *body, size_t len, kx_response *r, struct sink *s, long timeout,
		   kx_err *e)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL;
	kx_buf url = KX_BUF_INIT;
	char hdr[256];
	CURLcode rc;

	kx_buf_addf(&url, "%s%s%s", c->server, path[0] == '/' ? "" : "/", path);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url.p);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kx/" KX_VERSION);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype ? ctype : "application/json");
	if (body)
		hdrs = curl_slist_append(hdrs, hdr);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (rc != CURLE_OK && !(s->stopped && rc == CURLE_WRITE_ERROR)) {
		if (s->overflow)
			kx_err_set(e, KX_EFAIL, "%s %s: response larger than %zu bytes", method,
				   url.p, s->buf->max);
		else if (r->status)
			kx_err_set(e, KX_EUNREACH, "%s %s: %s", method, url.p, curl_easy_strerror(rc));
		else
			kx_err_set(e, KX_EUNREACH, "cannot reach the store at %s: %s", c->server,
				   curl_easy_strerror(rc));
		kx_buf_free(&url);
		return -1;
	}
	kx_buf_free(&url);
	return 0;
}

int kx_client_request(kx_client *c, const char *method, const char *path, const char *ctype,
		      const char *body, size_t len, kx_response *r, kx_err *e)
{
	struct sink s = {&r->body, 0, NULL, NULL, 0, c->curl};

	r->status = 0;
	r->ctype[0] = 0;
	r->body.max = KX_MAX_RESPONSE;
	return perform(c, method, path, ctype, body, len, r, &s, c->timeout_ms, e);
}

int kx_err_from_response(kx_err *e, long status, const char *body, size_t len)
{
	kx_err tmp = KX_ERR_INIT;
	jv v = body && len ? kx_json_parse(body, len, &tmp) : jv_invalid();
	char msg[sizeof e->msg], reason[sizeof e->reason];

	if (jv_is_valid(v) && jv_get_kind(v) == JV_KIND_OBJECT) {
		kx_jv_str(v, "message", msg, sizeof msg, "");
		kx_jv_str(v, "reason", reason, sizeof reason, "");
	} else {
		snprintf(msg, sizeof msg, "%.*s", (int)(len > 512 ? 512 : len), body ? body : "");
		reason[0] = 0;
	}
	jv_free(v);
	size_t ml = strlen(msg);
	while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == '\r'))
		msg[--ml] = 0;
	if (!msg[0])
		snprintf(msg, sizeof msg, "the store answered HTTP %ld", status);
	kx_err_set(e, KX_EREFUSED, "%s", msg);
	e->http = (int)status;
	snprintf(e->reason, sizeof e->reason, "%s", reason);
	return -1;
}

jv kx_client_json(kx_client *c, const char *method, const char *path, jv body, const char *ctype,
		  kx_err *e)
{
	kx_response r = {0};
	char *text = NULL;
	jv out;

	if (jv_get_kind(body) != JV_KIND_NULL && jv_is_valid(body))
		text = kx_json_dump(body, 0);
	else
		jv_free(body);
	if (kx_client_request(c, method, path, ctype, text, text ? strlen(text) : 0, &r, e) < 0) {
		free(text);
		kx_buf_free(&r.body);
		return jv_invalid();
	}
	free(text);
	if (r.status < 200 || r.status > 299) {
		kx_err_from_response(e, r.status, r.body.p, r.body.len);
		kx_buf_free(&r.body);
		return jv_invalid();
	}
	out = r.body.len ? kx_json_parse(r.body.p, r.body.len, e) : jv_null();
	if (!jv_is_valid(out))
		kx_err_wrap(e, "%s %s", method, path);
	kx_buf_free(&r.body);
	return out;
}

jv kx_client_get(kx_client *c, const char *path, kx_err *e)
{
	return kx_client_json(c, "GET", path, jv_null(), NULL, e);
}

int kx_client_stream(kx_client *c, const char *path, kx_line_fn fn, void *arg, kx_err *e)
{
	kx_buf buf = KX_BUF_INIT;
	kx_response r = {0};
	struct sink s = {&buf, 0, fn, arg, 0, c->curl};
	int rc;

	buf.max = 64u << 20; /* one event line may not exceed this */
	rc = perform(c, "GET", path, NULL, NULL, 0, &r, &s, 0, e);
	if (rc == 0 && (r.status < 200 || r.status > 299)) {
		kx_err_from_response(e, r.status, buf.p, buf.len);
		rc = -1;
	}
	kx_buf_free(&buf);
	return rc;
}

int kx_url_escape(kx_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			if (kx_buf_addc(b, ch) < 0)
				return -1;
		} else if (kx_buf_addf(b, "%%%c%c", hex[ch >> 4], hex[ch & 15]) < 0) {
			return -1;
		}
	}
	return 0;
}
