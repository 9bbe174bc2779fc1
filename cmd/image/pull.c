/* pull.c: fetch an image over the OCI distribution API with libcurl.
 *
 * GET /v2/REPO/manifests/REF with the OCI and Docker v2 media types in
 * Accept; an index is resolved to linux/amd64; every blob is streamed into
 * the store's tmp/ while its sha256 is computed and is renamed into place
 * only when size and digest match; only then are layers unpacked and the
 * name written to index.json. A 401 is answered once, with a bearer token
 * from the realm named in WWW-Authenticate or with basic credentials. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "image.h"
#include "imagestore.h"
#include "json.h"
#include "log.h"

#define ACCEPT \
	"Accept: " KX_MT_OCI_MANIFEST ", " KX_MT_OCI_INDEX ", " KX_MT_DOCKER_MANIFEST ", " \
	KX_MT_DOCKER_LIST

struct reg {
	CURL *c;
	struct pull_opts *o;
	struct kx_imageref ref;
	char base[1024];       /* scheme://host/v2/REPO */
	char auth[8192];       /* an Authorization header, or "" */
	char www[1024];        /* the last WWW-Authenticate header */
	char ctype[256];
	/* the body goes to buf, or to the blob writer */
	kx_buf *buf;
	kx_blob_writer *blob;
	kx_err *werr;          /* what the blob writer said */
	int werr_set;
	/* progress */
	const char *label;
	int64_t total;
};

static int is_loopback(const char *host)
{
	char h[256];
	char *colon;

	snprintf(h, sizeof h, "%s", host);
	if (h[0] == '[') {
		char *end = strchr(h, ']');
		if (end)
			*end = 0;
		return !strcmp(h + 1, "::1");
	}
	colon = strrchr(h, ':');
	if (colon)
		*colon = 0;
	return !strcmp(h, "localhost") || !strncmp(h, "127.", 4);
}

static int insecure(const struct pull_opts *o, const char *host)
{
	if (is_loopback(host))
		return 1;
	for (int i = 0; i < o->ninsecure; i++)
		if (!strcmp(o->insecure[i], host))
			return 1;
	return 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reg *r = arg;
	size_t len = size * n;

	if (len > 17 && !strncasecmp(p, "www-authenticate:", 17))
		snprintf(r->www, sizeof r->www, "%.*s", (int)(len - 17), p + 17);
	else if (len > 13 && !strncasecmp(p, "content-type:", 13))
		snprintf(r->ctype, sizeof r->ctype, "%.*s", (int)(len - 13), p + 13);
	else
		return len;
	/* trim spaces and CRLF */
	char *s = !strncasecmp(p, "www", 3) ? r->www : r->ctype, *q = s;
	while (*q == ' ')
		q++;
	memmove(s, q, strlen(q) + 1);
	for (size_t l = strlen(s); l && (s[l - 1] == '\r' || s[l - 1] == '\n' || s[l - 1] == ' ');)
		s[--l] = 0;
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reg *r = arg;
	size_t len = size * n;
	long code = 0;

	curl_easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 300 || (!r->blob && !r->buf))
		return len; /* an error body: ignored */
	if (r->blob) {
		if (kx_blob_write(r->blob, p, len, r->werr) < 0) {
			r->werr_set = 1;
			return 0;
		}
		return len;
	}
	if (kx_buf_add(r->buf, p, len) < 0)
		return 0;
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ut, curl_off_t un)
{
	struct reg *r = arg;
	double tot = (double)(r->total > 0 ? r->total : dltotal);

	(void)ut;
	(void)un;
	if (!r->label || tot <= 0)
		return 0;
	int width = 30, fill = (int)(width * (double)dlnow / tot);
	if (fill > width)
		fill = width;
	fprintf(stderr, "\r%-19.19s [%.*s%*s] %7.1f/%.1f MiB", r->label, fill,
		"##############################", width - fill, "", dlnow / 1048576.0, tot / 1048576.0);
	return 0;
}

static void b64(const char *in, char *out, size_t n)
{
	size_t len = strlen(in);

	if (4 * ((len + 2) / 3) + 1 > n) {
		out[0] = 0;
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
}

/* A parameter of a WWW-Authenticate challenge: realm="..." */
static int challenge_param(const char *ch, const char *key, char *out, size_t n)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "%s=\"", key);
	p = strstr(ch, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	size_t l = strcspn(p, "\"");
	snprintf(out, n, "%.*s", (int)l, p);
	return 0;
}

static int request(struct reg *r, const char *url, int accept_manifest, long *code, kx_err *e);

/* Answer a 401: a bearer token from the realm, or basic credentials. */
static int authenticate(struct reg *r, kx_err *e)
{
	char realm[512], service[256], scope[600], url[2048];
	kx_buf tok = KX_BUF_INIT;
	jv v;
	long code = 0;
	CURL *c;

	if (!strncasecmp(r->www, "Basic", 5)) {
		char enc[2048];
		if (!r->o->creds)
			return kx_err_set(e, KX_EFAIL, "registry \"%s\" wants a user name and password: use --creds USER:PASSWORD",
					  r->ref.registry);
		b64(r->o->creds, enc, sizeof enc);
		snprintf(r->auth, sizeof r->auth, "Authorization: Basic %s", enc);
		return 0;
	}
	if (strncasecmp(r->www, "Bearer", 6) || challenge_param(r->www, "realm", realm, sizeof realm) < 0)
		return kx_err_set(e, KX_EFAIL, "registry \"%s\" asked for authentication this client does not speak: %s",
				  r->ref.registry, r->www);
	if (challenge_param(r->www, "service", service, sizeof service) < 0)
		service[0] = 0;
	if (challenge_param(r->www, "scope", scope, sizeof scope) < 0)
		snprintf(scope, sizeof scope, "repository:%s:pull", r->ref.repo);
	c = curl_easy_init();
	{
		char *s1 = curl_easy_escape(c, service, 0), *s2 = curl_easy_escape(c, scope, 0);
		snprintf(url, sizeof url, "%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?", s1, s2);
		curl_free(s1);
		curl_free(s2);
	}
	tok.max = 1 << 20;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	struct reg tr = {.c = c, .buf = &tok};
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &tr);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (r->o->creds) {
		curl_easy_setopt(c, CURLOPT_USERPWD, r->o->creds);
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
	}
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK || code != 200) {
		kx_buf_free(&tok);
		return kx_err_set(e, KX_EFAIL, "cannot get a token from \"%s\": %s", realm,
				  cc != CURLE_OK ? curl_easy_strerror(cc) : "refused");
	}
	v = kx_json_parse(kx_buf_str(&tok), tok.len, e);
	kx_buf_free(&tok);
	if (!jv_is_valid(v))
		return kx_err_wrap(e, "token from \"%s\"", realm);
	char t[6000];
	if (!kx_jv_str(v, "token", t, sizeof t, NULL) && !kx_jv_str(v, "access_token", t, sizeof t, NULL)) {
		jv_free(v);
		return kx_err_set(e, KX_EFAIL, "the answer from \"%s\" has no token", realm);
	}
	jv_free(v);
	snprintf(r->auth, sizeof r->auth, "Authorization: Bearer %s", t);
	return 0;
}

static int request(struct reg *r, const char *url, int accept_manifest, long *code, kx_err *e)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct curl_slist *h = NULL;
		CURLcode cc;
		char errbuf[CURL_ERROR_SIZE] = "";

		curl_easy_reset(r->c);
		r->www[0] = r->ctype[0] = 0;
		if (accept_manifest)
			h = curl_slist_append(h, ACCEPT);
		if (r->auth[0])
			h = curl_slist_append(h, r->auth);
		curl_easy_setopt(r->c, CURLOPT_URL, url);
		curl_easy_setopt(r->c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(r->c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(r->c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(r->c, CURLOPT_USERAGENT, "kx-image/" KX_VERSION);
		curl_easy_setopt(r->c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(r->c, CURLOPT_HEADERDATA, r);
		curl_easy_setopt(r->c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(r->c, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(r->c, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(r->c, CURLOPT_CONNECTTIMEOUT, 30L);
		curl_easy_setopt(r->c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(r->c, CURLOPT_LOW_SPEED_TIME, 60L);
		if (r->label && r->o->progress) {
			curl_easy_setopt(r->c, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(r->c, CURLOPT_XFERINFOFUNCTION, on_progress);
			curl_easy_setopt(r->c, CURLOPT_XFERINFODATA, r);
		}
		cc = curl_easy_perform(r->c);
		curl_slist_free_all(h);
		if (r->label && r->o->progress)
			fprintf(stderr, "\n");
		if (r->werr_set)
			return -1;
		if (cc != CURLE_OK) {
			if (cc == CURLE_WRITE_ERROR && r->buf)
				return kx_err_set(e, KX_EFAIL, "\"%s\": the answer is too large", url);
			return kx_err_set(e, KX_EFAIL, "cannot fetch \"%s\": %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		}
		curl_easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, code);
		if (*code == 401 && attempt == 0 && r->www[0]) {
			if (authenticate(r, e) < 0)
				return -1;
			if (r->buf)
				kx_buf_reset(r->buf);
			continue;
		}
		return 0;
	}
	return kx_err_set(e, KX_EFAIL, "registry \"%s\" refused the credentials", r->ref.registry);
}

/* Fetch a manifest or index by tag or digest into *out (parsed), its
 * digest into dg, its media type into mt. */
static int get_manifest(struct reg *r, const char *ref, jv *out, char *dg, char *mt, kx_err *e)
{
	char url[2048];
	kx_buf b = KX_BUF_INIT;
	long code = 0;

	b.max = KX_MAX_MANIFEST;
	snprintf(url, sizeof url, "%s/manifests/%s", r->base, ref);
	r->buf = &b;
	r->blob = NULL;
	r->label = NULL;
	if (request(r, url, 1, &code, e) < 0) {
		kx_buf_free(&b);
		r->buf = NULL;
		return -1;
	}
	r->buf = NULL;
	if (code == 404) {
		kx_buf_free(&b);
		return kx_err_set(e, KX_EFAIL, "image \"%s\" not found in the registry (404)", r->ref.name);
	}
	if (code != 200) {
		kx_buf_free(&b);
		return kx_err_set(e, KX_EFAIL, "registry answered %ld for \"%s\"", code, url);
	}
	kx_digest_of(b.p ? b.p : "", b.len, dg);
	if (kx_digest_valid(ref) && strcmp(ref, dg)) {
		kx_buf_free(&b);
		return kx_err_set(e, KX_EFAIL, "manifest %s does not match its digest (its content is %s)", ref, dg);
	}
	*out = kx_json_parse(kx_buf_str(&b), b.len, e);
	if (!jv_is_valid(*out)) {
		kx_buf_free(&b);
		return kx_err_wrap(e, "manifest of \"%s\"", r->ref.name);
	}
	kx_jv_str(*out, "mediaType", mt, 128, "");
	if (!mt[0]) {
		snprintf(mt, 128, "%.*s", (int)strcspn(r->ctype, ";"), r->ctype);
	}
	/* keep the exact bytes: their digest is the manifest's name */
	if (!strcmp(mt, KX_MT_OCI_MANIFEST) || !strcmp(mt, KX_MT_DOCKER_MANIFEST)) {
		char d2[80];
		if (kx_imagestore_put(r->o->store, b.p, b.len, d2, e) < 0) {
			kx_buf_free(&b);
			jv_free(*out);
			return -1;
		}
	}
	kx_buf_free(&b);
	return 0;
}

static int get_blob(struct reg *r, jv desc, kx_err *e)
{
	char dg[80], url[2048], p[4096], label[32];
	int64_t size = kx_jv_int(desc, "size", -1);
	long code = 0;

	if (!kx_jv_str(desc, "digest", dg, sizeof dg, NULL) || !kx_digest_valid(dg))
		return kx_err_set(e, KX_EFAIL, "a descriptor with a missing or unsupported digest");
	if (kx_imagestore_blob_path(r->o->store, dg, p, sizeof p) == 0) {
		kx_log_debug(1, "%s: already present", dg);
		return 0;
	}
	snprintf(url, sizeof url, "%s/blobs/%s", r->base, dg);
	r->blob = kx_blob_begin(r->o->store, dg, size, e);
	if (!r->blob)
		return -1;
	r->buf = NULL;
	r->werr = e;
	r->werr_set = 0;
	r->total = size;
	snprintf(label, sizeof label, "%.19s", dg + 7);
	r->label = label;
	if (request(r, url, 0, &code, e) < 0) {
		kx_blob_abort(r->blob);
		r->blob = NULL;
		r->label = NULL;
		return -1;
	}
	r->label = NULL;
	if (code != 200) {
		kx_blob_abort(r->blob);
		r->blob = NULL;
		return kx_err_set(e, KX_EFAIL, "registry answered %ld for blob %s", code, dg);
	}
	int rc = kx_blob_commit(r->blob, e);
	r->blob = NULL;
	if (rc == 0)
		r->o->bytes += size > 0 ? size : 0;
	return rc;
}

int image_pull(struct pull_opts *o, const char *name, char *out_ref, size_t n, kx_err *e)
{
	struct reg r;
	jv man = jv_invalid(), layers;
	char dg[80], mt[128];
	const char *want;
	int rc = -1;

	memset(&r, 0, sizeof r);
	r.o = o;
	if (kx_imageref_parse(&r.ref, name, e) < 0)
		return -1;
	snprintf(out_ref, n, "%s", r.ref.name);
	snprintf(r.base, sizeof r.base, "%s://%s/v2/%s", insecure(o, r.ref.registry) ? "http" : "https",
		 kx_imageref_host(&r.ref), r.ref.repo);
	r.c = curl_easy_init();
	if (!r.c)
		return kx_err_set(e, KX_EFAIL, "cannot start libcurl");
	want = r.ref.digest[0] ? r.ref.digest : r.ref.tag;
	if (get_manifest(&r, want, &man, dg, mt, e) < 0)
		goto out;
	if (!strcmp(mt, KX_MT_OCI_INDEX) || !strcmp(mt, KX_MT_DOCKER_LIST)) {
		jv d = kx_image_pick_platform(man, "linux", "amd64", e);
		char sub[80];
		jv_free(man);
		man = jv_invalid();
		if (!jv_is_valid(d))
			goto out;
		kx_jv_str(d, "digest", sub, sizeof sub, "");
		jv_free(d);
		if (!kx_digest_valid(sub)) {
			kx_err_set(e, KX_EFAIL, "the index names a malformed digest \"%s\"", sub);
			goto out;
		}
		if (get_manifest(&r, sub, &man, dg, mt, e) < 0)
			goto out;
	}
	if (strcmp(mt, KX_MT_OCI_MANIFEST) && strcmp(mt, KX_MT_DOCKER_MANIFEST)) {
		kx_err_set(e, KX_EFAIL, "unsupported manifest type \"%s\"", mt);
		goto out;
	}
	{
		jv cfg = kx_jv_get(jv_copy(man), "config");
		int r1 = get_blob(&r, cfg, e);
		jv_free(cfg);
		if (r1 < 0) {
			kx_err_wrap(e, "config");
			goto out;
		}
	}
	layers = kx_jv_get(jv_copy(man), "layers");
	if (jv_get_kind(layers) != JV_KIND_ARRAY) {
		jv_free(layers);
		kx_err_set(e, KX_EFAIL, "manifest %s has no layers", dg);
		goto out;
	}
	rc = 0;
	jv_array_foreach(layers, i, l) {
		if (rc == 0 && get_blob(&r, jv_copy(l), e) < 0)
			rc = -1;
		jv_free(l);
	}
	/* every blob is verified: unpack */
	if (rc == 0)
		jv_array_foreach(layers, i, l) {
			char ld[80], dir[4096];
			if (rc == 0 && !o->no_unpack) {
				kx_jv_str(l, "digest", ld, sizeof ld, "");
				if (kx_imagestore_layer_dir(o->store, ld, dir, sizeof dir, e) < 0)
					rc = -1;
			}
			jv_free(l);
		}
	jv_free(layers);
	if (rc < 0)
		goto out;
	rc = kx_imagestore_tag(o->store, r.ref.name,
			       JV_OBJECT(jv_string("mediaType"), jv_string(mt), jv_string("digest"), jv_string(dg),
					 jv_string("size"), jv_number((double)image_size_of(o->store, dg))),
			       e);
	if (rc == 0)
		snprintf(o->digest, sizeof o->digest, "%s", dg);
out:
	jv_free(man);
	curl_easy_cleanup(r.c);
	return rc;
}
