/* imagestore.c: a content-addressed OCI image store. See imagestore.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "imagestore.h"
#include "json.h"

#define REF_ANNOTATION "org.opencontainers.image.ref.name"
#define MAX_INDEX (64u << 20)

struct kx_imagestore {
	char root[PATH_MAX];
	int gcfd; /* ROOT/gc.lock: shared while open, exclusive to collect */
};

/* --- references and digests ---------------------------------------------------- */

int kx_digest_valid(const char *d)
{
	if (strncmp(d, "sha256:", 7) || strlen(d) != 71)
		return 0;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static void hex(const unsigned char *md, unsigned n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = x[md[i] >> 4];
		out[2 * i + 1] = x[md[i] & 15];
	}
	out[2 * n] = 0;
}

void kx_digest_of(const void *data, size_t n, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	hex(md, len, out + 7);
}

static int valid_repo(const char *s)
{
	if (!*s)
		return 0;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == '/'))
			return 0;
		if (c == '/' && (p == s || p[1] == '/' || p[1] == 0))
			return 0;
	}
	return 1;
}

int kx_imageref_parse(struct kx_imageref *r, const char *s, kx_err *e)
{
	char buf[1024], *at, *slash, *colon, *rest;

	memset(r, 0, sizeof *r);
	if (strlen(s) >= sizeof buf || !*s)
		return kx_err_set(e, KX_EFAIL, "invalid image reference \"%s\"", s);
	snprintf(buf, sizeof buf, "%s", s);
	at = strchr(buf, '@');
	if (at) {
		*at = 0;
		if (!kx_digest_valid(at + 1))
			return kx_err_set(e, KX_EFAIL, "invalid image reference \"%s\": bad digest", s);
		snprintf(r->digest, sizeof r->digest, "%s", at + 1);
	}
	rest = buf;
	slash = strchr(buf, '/');
	if (slash && (memchr(buf, '.', (size_t)(slash - buf)) || memchr(buf, ':', (size_t)(slash - buf)) ||
		      !strncmp(buf, "localhost/", 10))) {
		*slash = 0;
		snprintf(r->registry, sizeof r->registry, "%s", buf);
		rest = slash + 1;
	} else
		snprintf(r->registry, sizeof r->registry, "docker.io");
	colon = strrchr(rest, ':');
	if (colon) {
		*colon = 0;
		if (!colon[1] || strlen(colon + 1) >= sizeof r->tag)
			return kx_err_set(e, KX_EFAIL, "invalid image reference \"%s\": bad tag", s);
		for (const char *p = colon + 1; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
				return kx_err_set(e, KX_EFAIL, "invalid image reference \"%s\": bad tag", s);
		snprintf(r->tag, sizeof r->tag, "%s", colon + 1);
	}
	if (!valid_repo(rest))
		return kx_err_set(e, KX_EFAIL, "invalid image reference \"%s\": bad repository name", s);
	if (!strcmp(r->registry, "docker.io") && !strchr(rest, '/'))
		snprintf(r->repo, sizeof r->repo, "library/%s", rest);
	else
		snprintf(r->repo, sizeof r->repo, "%s", rest);
	if (!r->tag[0] && !r->digest[0])
		snprintf(r->tag, sizeof r->tag, "latest");
	if (r->digest[0])
		snprintf(r->name, sizeof r->name, "%s/%s@%s", r->registry, r->repo, r->digest);
	else
		snprintf(r->name, sizeof r->name, "%s/%s:%s", r->registry, r->repo, r->tag);
	return 0;
}

const char *kx_imageref_host(const struct kx_imageref *r)
{
	return strcmp(r->registry, "docker.io") ? r->registry : "registry-1.docker.io";
}

jv kx_image_pick_platform(jv index, const char *os, const char *arch, kx_err *e)
{
	jv ms = kx_jv_get(jv_copy(index), "manifests");
	kx_buf seen = KX_BUF_INIT;
	jv found = jv_invalid();

	if (jv_get_kind(ms) != JV_KIND_ARRAY) {
		jv_free(ms);
		kx_err_set(e, KX_EFAIL, "image index has no manifests");
		return jv_invalid();
	}
	jv_array_foreach(ms, i, m) {
		char o[64], a[64];
		kx_jv_str(m, "platform.os", o, sizeof o, "");
		kx_jv_str(m, "platform.architecture", a, sizeof a, "");
		if (!jv_is_valid(found) && !strcmp(o, os) && !strcmp(a, arch)) {
			found = m;
			continue;
		}
		kx_buf_addf(&seen, "%s%s/%s", seen.len ? ", " : "", o[0] ? o : "?", a[0] ? a : "?");
		jv_free(m);
	}
	jv_free(ms);
	if (!jv_is_valid(found))
		kx_err_set(e, KX_EFAIL, "no image for %s/%s (the index has: %s)", os, arch,
			   seen.len ? kx_buf_str(&seen) : "nothing");
	kx_buf_free(&seen);
	return found;
}

/* --- files ----------------------------------------------------------------------- */

static int mkdirs(const char *path, mode_t mode)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s", path);
	for (char *q = p + 1; *q; q++)
		if (*q == '/') {
			*q = 0;
			if (mkdir(p, mode) < 0 && errno != EEXIST)
				return -1;
			*q = '/';
		}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_atomic(kx_imagestore *s, const char *path, const char *data, size_t n, kx_err *e)
{
	char tmp[PATH_MAX];
	int fd;

	snprintf(tmp, sizeof tmp, "%s/tmp/write-%d-XXXXXX", s->root, (int)getpid());
	fd = mkstemp(tmp);
	if (fd < 0)
		return kx_err_set(e, KX_EFAIL, "cannot create a file in \"%s/tmp\": %s", s->root, strerror(errno));
	while (n) {
		ssize_t w = write(fd, data, n);
		if (w < 0) {
			int err = errno;
			close(fd);
			unlink(tmp);
			return kx_err_set(e, KX_EFAIL, "cannot write \"%s\": %s", tmp, strerror(err));
		}
		data += w;
		n -= (size_t)w;
	}
	fchmod(fd, 0644);
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		int err = errno;
		unlink(tmp);
		return kx_err_set(e, KX_EFAIL, "cannot write \"%s\": %s", path, strerror(err));
	}
	return 0;
}

/* --- the store ------------------------------------------------------------------- */

kx_imagestore *kx_imagestore_open(const char *root, kx_err *e)
{
	kx_imagestore *s = calloc(1, sizeof *s);
	char p[PATH_MAX];
	static const char *const sub[] = {"blobs/sha256", "layers/sha256", "tmp"};

	if (!s) {
		kx_err_set(e, KX_EFAIL, "out of memory");
		return NULL;
	}
	snprintf(s->root, sizeof s->root, "%s", root);
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", root, sub[i]);
		if (mkdirs(p, 0755) < 0) {
			kx_err_set(e, KX_EFAIL, "cannot create the image store \"%s\": %s", p, strerror(errno));
			free(s);
			return NULL;
		}
	}
	/* Every user holds gc.lock shared: blobs a pull has committed but not
	 * yet tagged are in no index, and only the collector, which needs
	 * it exclusive, would take them for garbage. */
	snprintf(p, sizeof p, "%s/gc.lock", root);
	s->gcfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->gcfd < 0 || flock(s->gcfd, LOCK_SH) < 0) {
		kx_err_set(e, KX_EFAIL, "cannot lock \"%s\": %s", p, strerror(errno));
		if (s->gcfd >= 0)
			close(s->gcfd);
		free(s);
		return NULL;
	}
	snprintf(p, sizeof p, "%s/oci-layout", root);
	if (access(p, F_OK) < 0) {
		const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
		if (write_atomic(s, p, layout, strlen(layout), e) < 0) {
			close(s->gcfd);
			free(s);
			return NULL;
		}
	}
	return s;
}

void kx_imagestore_close(kx_imagestore *s)
{
	if (!s)
		return;
	if (s->gcfd >= 0)
		close(s->gcfd);
	free(s);
}

/* Wait until no other user has the store open (pulls in progress hold
 * gc.lock shared), then hold it exclusive; back to shared with LOCK_SH.
 * Always taken before ROOT/lock, never while holding it. */
static int gc_lock(kx_imagestore *s, int how, kx_err *e)
{
	if (flock(s->gcfd, how) < 0)
		return kx_err_set(e, KX_EFAIL, "cannot lock \"%s/gc.lock\": %s", s->root, strerror(errno));
	return 0;
}

const char *kx_imagestore_root(const kx_imagestore *s)
{
	return s->root;
}

int kx_imagestore_blob_path(kx_imagestore *s, const char *digest, char *buf, size_t n)
{
	if (!kx_digest_valid(digest))
		return -1;
	snprintf(buf, n, "%s/blobs/sha256/%s", s->root, digest + 7);
	return access(buf, F_OK) == 0 ? 0 : -1;
}

jv kx_imagestore_blob_json(kx_imagestore *s, const char *digest, kx_err *e)
{
	char p[PATH_MAX];
	kx_buf b = KX_BUF_INIT;
	jv v;

	if (kx_imagestore_blob_path(s, digest, p, sizeof p) < 0) {
		kx_err_set(e, KX_EFAIL, "blob %s is not in the store", digest);
		return jv_invalid();
	}
	if (kx_buf_read_file(&b, p, KX_MAX_MANIFEST, e) < 0) {
		kx_buf_free(&b);
		return jv_invalid();
	}
	v = kx_json_parse(kx_buf_str(&b), b.len, e);
	kx_buf_free(&b);
	if (!jv_is_valid(v))
		kx_err_wrap(e, "blob %s", digest);
	return v;
}

struct kx_blob_writer {
	kx_imagestore *s;
	char tmp[PATH_MAX];
	char digest[80];
	int64_t size, got;
	int fd;
	EVP_MD_CTX *md;
};

kx_blob_writer *kx_blob_begin(kx_imagestore *s, const char *digest, int64_t size, kx_err *e)
{
	kx_blob_writer *w;

	if (!kx_digest_valid(digest)) {
		kx_err_set(e, KX_EFAIL, "unsupported or malformed digest \"%s\"", digest);
		return NULL;
	}
	w = calloc(1, sizeof *w);
	w->s = s;
	snprintf(w->digest, sizeof w->digest, "%s", digest);
	w->size = size;
	snprintf(w->tmp, sizeof w->tmp, "%s/tmp/blob-%.12s-XXXXXX", s->root, digest + 7);
	w->fd = mkstemp(w->tmp);
	if (w->fd < 0) {
		kx_err_set(e, KX_EFAIL, "cannot create a file in \"%s/tmp\": %s", s->root, strerror(errno));
		free(w);
		return NULL;
	}
	w->md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(w->md, EVP_sha256(), NULL);
	return w;
}

int kx_blob_write(kx_blob_writer *w, const void *data, size_t n, kx_err *e)
{
	const char *p = data;

	if (w->size >= 0 && w->got + (int64_t)n > w->size)
		return kx_err_set(e, KX_EFAIL, "blob %s is larger than the %lld bytes announced", w->digest,
				  (long long)w->size);
	EVP_DigestUpdate(w->md, data, n);
	w->got += (int64_t)n;
	while (n) {
		ssize_t r = write(w->fd, p, n);
		if (r < 0)
			return kx_err_set(e, KX_EFAIL, "cannot write \"%s\": %s", w->tmp, strerror(errno));
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int64_t kx_blob_written(const kx_blob_writer *w)
{
	return w->got;
}

void kx_blob_abort(kx_blob_writer *w)
{
	if (!w)
		return;
	close(w->fd);
	unlink(w->tmp);
	EVP_MD_CTX_free(w->md);
	free(w);
}

int kx_blob_commit(kx_blob_writer *w, kx_err *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	char got[80], path[PATH_MAX];

	if (w->size >= 0 && w->got != w->size) {
		kx_err_set(e, KX_EFAIL, "blob %s is truncated: %lld of %lld bytes", w->digest,
			   (long long)w->got, (long long)w->size);
		kx_blob_abort(w);
		return -1;
	}
	EVP_DigestFinal_ex(w->md, md, &len);
	memcpy(got, "sha256:", 7);
	hex(md, len, got + 7);
	if (strcmp(got, w->digest)) {
		kx_err_set(e, KX_EFAIL, "blob %s does not match its digest (its content is %s)", w->digest, got);
		kx_blob_abort(w);
		return -1;
	}
	snprintf(path, sizeof path, "%s/blobs/sha256/%s", w->s->root, w->digest + 7);
	fchmod(w->fd, 0644);
	if (fsync(w->fd) < 0 || rename(w->tmp, path) < 0) {
		kx_err_set(e, KX_EFAIL, "cannot store blob %s: %s", w->digest, strerror(errno));
		kx_blob_abort(w);
		return -1;
	}
	close(w->fd);
	EVP_MD_CTX_free(w->md);
	free(w);
	return 0;
}

int kx_imagestore_put(kx_imagestore *s, const void *data, size_t n, char *out, kx_err *e)
{
	kx_blob_writer *w;
	char p[PATH_MAX];

	kx_digest_of(data, n, out);
	if (kx_imagestore_blob_path(s, out, p, sizeof p) == 0)
		return 0;
	w = kx_blob_begin(s, out, (int64_t)n, e);
	if (!w)
		return -1;
	if (kx_blob_write(w, data, n, e) < 0) {
		kx_blob_abort(w);
		return -1;
	}
	return kx_blob_commit(w, e);
}

/* --- index.json -------------------------------------------------------------------- */

static int lock_store(kx_imagestore *s, kx_err *e)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof p, "%s/lock", s->root);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		if (fd >= 0)
			close(fd);
		return kx_err_set(e, KX_EFAIL, "cannot lock \"%s\": %s", p, strerror(errno));
	}
	return fd;
}

static jv read_index(kx_imagestore *s, kx_err *e)
{
	char p[PATH_MAX];
	kx_buf b = KX_BUF_INIT;
	jv v;

	snprintf(p, sizeof p, "%s/index.json", s->root);
	if (access(p, F_OK) < 0)
		return JV_OBJECT(jv_string("schemaVersion"), jv_number(2), jv_string("manifests"), jv_array());
	if (kx_buf_read_file(&b, p, MAX_INDEX, e) < 0) {
		kx_buf_free(&b);
		return jv_invalid();
	}
	v = kx_json_parse(kx_buf_str(&b), b.len, e);
	kx_buf_free(&b);
	if (!jv_is_valid(v)) {
		kx_err_wrap(e, "\"%s\"", p);
		return v;
	}
	if (jv_get_kind(kx_jv_get(jv_copy(v), "manifests")) != JV_KIND_ARRAY)
		v = jv_object_set(v, jv_string("manifests"), jv_array());
	return v;
}

static int write_index(kx_imagestore *s, jv idx, kx_err *e)
{
	char p[PATH_MAX];
	char *txt = kx_json_dump(idx, 0);
	int rc;

	snprintf(p, sizeof p, "%s/index.json", s->root);
	rc = write_atomic(s, p, txt, strlen(txt), e);
	free(txt);
	return rc;
}

/* kx_jv_get splits on dots: read the annotation by hand. */
static const char *ann_ref(jv m, char *buf, size_t n)
{
	jv a = kx_jv_get(jv_copy(m), "annotations");
	jv r = jv_get_kind(a) == JV_KIND_OBJECT ? jv_object_get(a, jv_string(REF_ANNOTATION))
						: (jv_free(a), jv_invalid());
	const char *out = NULL;

	if (jv_get_kind(r) == JV_KIND_STRING) {
		snprintf(buf, n, "%s", jv_string_value(r));
		out = buf;
	}
	jv_free(r);
	return out;
}

int kx_imagestore_tag(kx_imagestore *s, const char *ref, jv desc, kx_err *e)
{
	int lk = lock_store(s, e);
	jv idx, ms, out = jv_array(), d;

	if (lk < 0) {
		jv_free(desc);
		return -1;
	}
	idx = read_index(s, e);
	if (!jv_is_valid(idx)) {
		close(lk);
		jv_free(desc);
		return -1;
	}
	ms = kx_jv_get(jv_copy(idx), "manifests");
	jv_array_foreach(ms, i, m) {
		char r[1024];
		if (ann_ref(m, r, sizeof r) && !strcmp(r, ref)) {
			jv_free(m);
			continue;
		}
		out = jv_array_append(out, m);
	}
	jv_free(ms);
	d = JV_OBJECT(jv_string("mediaType"), kx_jv_get(jv_copy(desc), "mediaType"),
		      jv_string("digest"), kx_jv_get(jv_copy(desc), "digest"),
		      jv_string("size"), kx_jv_get(jv_copy(desc), "size"),
		      jv_string("annotations"), JV_OBJECT(jv_string(REF_ANNOTATION), jv_string(ref)));
	jv_free(desc);
	out = jv_array_append(out, d);
	idx = jv_object_set(idx, jv_string("manifests"), out);
	int rc = write_index(s, idx, e);
	close(lk);
	return rc;
}

static int64_t image_size(kx_imagestore *s, const char *digest)
{
	kx_err e = KX_ERR_INIT;
	jv m = kx_imagestore_blob_json(s, digest, &e), layers;
	int64_t size = 0;

	if (!jv_is_valid(m)) {
		jv_free(m);
		return -1;
	}
	size += kx_jv_int(m, "config.size", 0);
	layers = kx_jv_get(m, "layers");
	if (jv_get_kind(layers) == JV_KIND_ARRAY)
		jv_array_foreach(layers, i, l) {
			size += kx_jv_int(l, "size", 0);
			jv_free(l);
		}
	jv_free(layers);
	return size;
}

static int cmp_ref(const void *a, const void *b)
{
	const jv *x = a, *y = b;
	char r1[1024], r2[1024];

	return strcmp(ann_ref(*x, r1, sizeof r1) ? r1 : "", ann_ref(*y, r2, sizeof r2) ? r2 : "");
}

jv kx_imagestore_list(kx_imagestore *s, kx_err *e)
{
	jv idx = read_index(s, e), ms, out = jv_array();
	jv *items;
	int n;

	if (!jv_is_valid(idx)) {
		jv_free(out);
		return idx;
	}
	ms = kx_jv_get(idx, "manifests");
	n = jv_array_length(jv_copy(ms));
	items = calloc((size_t)n + 1, sizeof *items);
	for (int i = 0; i < n; i++)
		items[i] = jv_array_get(jv_copy(ms), i);
	jv_free(ms);
	qsort(items, (size_t)n, sizeof *items, cmp_ref);
	for (int i = 0; i < n; i++) {
		char r[1024], d[80], p[PATH_MAX];
		if (ann_ref(items[i], r, sizeof r) && kx_jv_str(items[i], "digest", d, sizeof d, NULL) &&
		    kx_imagestore_blob_path(s, d, p, sizeof p) == 0)
			out = jv_array_append(out, JV_OBJECT(jv_string("ref"), jv_string(r),
							     jv_string("digest"), jv_string(d),
							     jv_string("size"), jv_number((double)image_size(s, d))));
		jv_free(items[i]);
	}
	free(items);
	return out;
}

jv kx_imagestore_resolve(kx_imagestore *s, const char *ref, kx_err *e)
{
	struct kx_imageref r;
	kx_err ignore = KX_ERR_INIT;
	jv idx = read_index(s, e), ms, hit = jv_invalid(), man, cfg;
	const char *want = NULL;
	const char *hexpart = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;
	size_t hl = strlen(hexpart);
	int matches = 0;
	char d[80], cd[80];

	if (!jv_is_valid(idx))
		return idx;
	if (kx_imageref_parse(&r, ref, &ignore) == 0)
		want = r.name;
	ms = kx_jv_get(idx, "manifests");
	jv_array_foreach(ms, i, m) {
		char name[1024];
		int by_name = want && ann_ref(m, name, sizeof name) && !strcmp(name, want);
		int by_digest = hl >= 6 && kx_jv_str(m, "digest", d, sizeof d, NULL) &&
				strspn(hexpart, "0123456789abcdef") == hl && !strncmp(d + 7, hexpart, hl);
		if (by_name) {
			jv_free(hit);
			hit = m;
			matches = 1;
			break;
		}
		if (by_digest) {
			/* several names for one digest are one image */
			if (!jv_is_valid(hit) || strcmp(kx_jv_str(hit, "digest", cd, sizeof cd, ""), d))
				matches++;
			if (!jv_is_valid(hit)) {
				hit = m;
				continue;
			}
		}
		jv_free(m);
	}
	jv_free(ms);
	if (!jv_is_valid(hit) || matches > 1) {
		jv_free(hit);
		kx_err_set(e, KX_EFAIL, matches > 1 ? "image \"%s\" is ambiguous" : "image \"%s\" not found", ref);
		return jv_invalid();
	}
	kx_jv_str(hit, "digest", d, sizeof d, "");
	man = kx_imagestore_blob_json(s, d, e);
	if (!jv_is_valid(man)) {
		jv_free(hit);
		return man;
	}
	kx_jv_str(man, "config.digest", cd, sizeof cd, "");
	cfg = kx_imagestore_blob_json(s, cd, e);
	if (!jv_is_valid(cfg)) {
		jv_free(hit);
		jv_free(man);
		return kx_err_wrap(e, "image \"%s\": config", ref), cfg;
	}
	{
		char name[1024];
		jv out = JV_OBJECT(jv_string("ref"), jv_string(ann_ref(hit, name, sizeof name) ? name : ""),
				   jv_string("digest"), jv_string(d), jv_string("manifest"), man,
				   jv_string("config"), cfg);
		jv_free(hit);
		return out;
	}
}

/* --- garbage collection ---------------------------------------------------------- */

struct keep {
	char (*d)[72];
	size_t n, cap;
};

static void keep_add(struct keep *k, const char *d)
{
	if (!kx_digest_valid(d))
		return;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64;
		k->d = realloc(k->d, k->cap * sizeof *k->d);
	}
	snprintf(k->d[k->n++], 72, "%s", d + 7);
}

static int keep_has(const struct keep *k, const char *hexd)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->d[i], hexd))
			return 1;
	return 0;
}

static void gc_dir(const char *dir, const struct keep *k)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || keep_has(k, de->d_name))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		rm_rf(p);
	}
	closedir(d);
}

static int collect(kx_imagestore *s, kx_err *e);

int kx_imagestore_gc(kx_imagestore *s, kx_err *e)
{
	int rc;

	if (gc_lock(s, LOCK_EX, e) < 0)
		return -1;
	rc = collect(s, e);
	gc_lock(s, LOCK_SH, NULL);
	return rc;
}

/* The collector proper: the caller holds gc.lock exclusive. */
static int collect(kx_imagestore *s, kx_err *e)
{
	struct keep k = {0};
	jv idx, ms;
	char p[PATH_MAX];
	DIR *d;
	struct dirent *de;

	idx = read_index(s, e);
	if (!jv_is_valid(idx))
		return -1;
	ms = kx_jv_get(idx, "manifests");
	jv_array_foreach(ms, i, m) {
		char dg[80];
		jv man, layers;
		kx_err ignore = KX_ERR_INIT;
		if (!kx_jv_str(m, "digest", dg, sizeof dg, NULL)) {
			jv_free(m);
			continue;
		}
		keep_add(&k, dg);
		man = kx_imagestore_blob_json(s, dg, &ignore);
		if (jv_is_valid(man)) {
			char cd[80];
			if (kx_jv_str(man, "config.digest", cd, sizeof cd, NULL))
				keep_add(&k, cd);
			layers = kx_jv_get(jv_copy(man), "layers");
			if (jv_get_kind(layers) == JV_KIND_ARRAY)
				jv_array_foreach(layers, j, l) {
					char ld[80];
					if (kx_jv_str(l, "digest", ld, sizeof ld, NULL))
						keep_add(&k, ld);
					jv_free(l);
				}
			jv_free(layers);
		}
		jv_free(man);
		jv_free(m);
	}
	jv_free(ms);
	snprintf(p, sizeof p, "%s/blobs/sha256", s->root);
	gc_dir(p, &k);
	snprintf(p, sizeof p, "%s/layers/sha256", s->root);
	gc_dir(p, &k);
	/* temporary files of pulls that are no longer running */
	snprintf(p, sizeof p, "%s/tmp", s->root);
	d = opendir(p);
	if (d) {
		time_t now = time(NULL);
		while ((de = readdir(d))) {
			char f[PATH_MAX];
			struct stat st;
			if (de->d_name[0] == '.')
				continue;
			snprintf(f, sizeof f, "%s/%s", p, de->d_name);
			if (lstat(f, &st) == 0 && now - st.st_mtime > 3600)
				rm_rf(f);
		}
		closedir(d);
	}
	free(k.d);
	return 0;
}

int kx_imagestore_remove(kx_imagestore *s, const char *ref, kx_err *e)
{
	jv img = kx_imagestore_resolve(s, ref, e), idx, ms, out = jv_array();
	char name[1024], dg[80];
	int lk, rc;

	if (!jv_is_valid(img)) {
		jv_free(out);
		return -1;
	}
	kx_jv_str(img, "ref", name, sizeof name, "");
	kx_jv_str(img, "digest", dg, sizeof dg, "");
	jv_free(img);
	if (gc_lock(s, LOCK_EX, e) < 0) {
		jv_free(out);
		return -1;
	}
	lk = lock_store(s, e);
	if (lk < 0) {
		gc_lock(s, LOCK_SH, NULL);
		jv_free(out);
		return -1;
	}
	idx = read_index(s, e);
	if (!jv_is_valid(idx)) {
		close(lk);
		gc_lock(s, LOCK_SH, NULL);
		jv_free(out);
		return -1;
	}
	ms = kx_jv_get(jv_copy(idx), "manifests");
	jv_array_foreach(ms, i, m) {
		char r[1024];
		if (ann_ref(m, r, sizeof r) && !strcmp(r, name)) {
			jv_free(m);
			continue;
		}
		out = jv_array_append(out, m);
	}
	jv_free(ms);
	idx = jv_object_set(idx, jv_string("manifests"), out);
	rc = write_index(s, idx, e);
	if (rc == 0)
		rc = collect(s, e);
	close(lk);
	gc_lock(s, LOCK_SH, NULL);
	return rc;
}

/* --- unpacking layers ----------------------------------------------------------- */

/* Names this layer wrote, for opaque whiteouts in flat mode. */
struct names {
	char **v;
	size_t n, cap;
};

static void names_add(struct names *ns, const char *s)
{
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 256;
		ns->v = realloc(ns->v, ns->cap * sizeof *ns->v);
	}
	ns->v[ns->n++] = strdup(s);
}

static int names_has_prefix(const struct names *ns, const char *p)
{
	size_t l = strlen(p);

	for (size_t i = 0; i < ns->n; i++)
		if (!strncmp(ns->v[i], p, l) && (ns->v[i][l] == 0 || ns->v[i][l] == '/'))
			return 1;
	return 0;
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

/* Clean an entry name: strip "./" and "/" runs; refuse absolute names and
 * "..". Returns 0 and the relative name in out ("" for the root). */
static int clean_name(const char *in, char *out, size_t n)
{
	const char *p = in;
	size_t k = 0;

	if (in[0] == '/')
		return -1;
	while (*p) {
		size_t len;
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (!len)
			break;
		if (len == 1 && p[0] == '.') {
			p += len;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		if (k + len + 2 > n)
			return -1;
		if (k)
			out[k++] = '/';
		memcpy(out + k, p, len);
		k += len;
		p += len;
	}
	out[k] = 0;
	return 0;
}

/* Does any existing component of rel inside dir is a symbolic link? */
static int through_symlink(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	size_t base = strlen(dir);
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	for (char *q = p + base + 1; *q; q++)
		if (*q == '/') {
			*q = 0;
			int r = lstat(p, &st);
			*q = '/';
			if (r == 0 && S_ISLNK(st.st_mode))
				return 1;
			if (r < 0)
				return 0;
		}
	return 0;
}

static int whiteout(const char *dir, const char *rel, enum kx_unpack_mode mode,
		    const struct names *ns, kx_err *e)
{
	char parent[PATH_MAX], p[PATH_MAX];
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;

	if (slash)
		snprintf(parent, sizeof parent, "%s/%.*s", dir, (int)(slash - rel), rel);
	else
		snprintf(parent, sizeof parent, "%s", dir);
	if (through_symlink(dir, rel))
		return kx_err_set(e, KX_EFAIL, "entry \"%s\" goes through a symbolic link", rel);
	if (!strcmp(base, ".wh..wh..opq")) {
		if (mkdirs(parent, 0755) < 0)
			return kx_err_set(e, KX_EFAIL, "cannot create \"%s\": %s", parent, strerror(errno));
		if (mode == KX_UNPACK_OVERLAY) {
			if (setxattr(parent, "trusted.overlay.opaque", "y", 1, 0) < 0)
				return kx_err_set(e, KX_EFAIL, "opaque whiteout \"%s\": %s", rel, strerror(errno));
			return 0;
		}
		DIR *d = opendir(parent);
		struct dirent *de;
		if (!d)
			return 0;
		while ((de = readdir(d))) {
			char relchild[PATH_MAX];
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (slash)
				snprintf(relchild, sizeof relchild, "%.*s/%s", (int)(slash - rel), rel, de->d_name);
			else
				snprintf(relchild, sizeof relchild, "%s", de->d_name);
			if (names_has_prefix(ns, relchild))
				continue;
			snprintf(p, sizeof p, "%s/%s", parent, de->d_name);
			rm_rf(p);
		}
		closedir(d);
		return 0;
	}
	snprintf(p, sizeof p, "%s/%s", parent, base + 4);
	if (mode == KX_UNPACK_OVERLAY) {
		if (mkdirs(parent, 0755) < 0)
			return kx_err_set(e, KX_EFAIL, "cannot create \"%s\": %s", parent, strerror(errno));
		rm_rf(p);
		if (mknod(p, S_IFCHR | 0, makedev(0, 0)) < 0)
			return kx_err_set(e, KX_EFAIL, "whiteout \"%s\": %s", rel, strerror(errno));
		return 0;
	}
	if (rm_rf(p) < 0)
		return kx_err_set(e, KX_EFAIL, "whiteout \"%s\": %s", rel, strerror(errno));
	return 0;
}

int kx_layer_unpack(const char *path, const char *dir, enum kx_unpack_mode mode, kx_err *e)
{
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	struct archive_entry *ent;
	struct names ns = {0};
	int rc = 0, r;
	char rel[PATH_MAX], full[PATH_MAX + 8], link[PATH_MAX], lfull[PATH_MAX + 8];

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
					      ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR |
					      ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	/* names are made absolute below dir here, after our own checks for
	 * "..", absolute names and symbolic links inside dir */
	archive_write_disk_set_standard_lookup(w);
	if (mkdirs(dir, 0755) < 0) {
		rc = kx_err_set(e, KX_EFAIL, "cannot create \"%s\": %s", dir, strerror(errno));
		goto out;
	}
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		rc = kx_err_set(e, KX_EFAIL, "cannot read layer \"%s\": %s", path, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent), *base, *hl;
		if (!name || clean_name(name, rel, sizeof rel) < 0) {
			rc = kx_err_set(e, KX_EFAIL, "entry \"%s\" escapes the root", name ? name : "");
			goto out;
		}
		if (!rel[0])
			continue;
		base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		if (!strncmp(base, ".wh.", 4)) {
			if (whiteout(dir, rel, mode, &ns, e) < 0) {
				rc = -1;
				goto out;
			}
			continue;
		}
		if (through_symlink(dir, rel)) {
			rc = kx_err_set(e, KX_EFAIL, "entry \"%s\" goes through a symbolic link", rel);
			goto out;
		}
		hl = archive_entry_hardlink(ent);
		if (hl) {
			if (clean_name(hl, link, sizeof link) < 0 || !link[0] || through_symlink(dir, link)) {
				rc = kx_err_set(e, KX_EFAIL, "entry \"%s\": hard link to \"%s\" escapes the root", rel, hl);
				goto out;
			}
			snprintf(lfull, sizeof lfull, "%s/%s", dir, link);
			archive_entry_set_hardlink(ent, lfull);
		}
		if (mode == KX_UNPACK_FLAT)
			names_add(&ns, rel);
		snprintf(full, sizeof full, "%s/%s", dir, rel);
		archive_entry_set_pathname(ent, full);
		if (archive_write_header(w, ent) != ARCHIVE_OK) {
			rc = kx_err_set(e, KX_EFAIL, "entry \"%s\": %s", rel, archive_error_string(w));
			goto out;
		}
		if (archive_entry_size(ent) > 0) {
			const void *buf;
			size_t sz;
			la_int64_t off;
			while ((r = archive_read_data_block(a, &buf, &sz, &off)) == ARCHIVE_OK)
				if (archive_write_data_block(w, buf, sz, off) != ARCHIVE_OK) {
					rc = kx_err_set(e, KX_EFAIL, "entry \"%s\": %s", rel, archive_error_string(w));
					goto out;
				}
			if (r != ARCHIVE_EOF) {
				rc = kx_err_set(e, KX_EFAIL, "layer \"%s\": %s", path, archive_error_string(a));
				goto out;
			}
		}
		if (archive_write_finish_entry(w) != ARCHIVE_OK) {
			rc = kx_err_set(e, KX_EFAIL, "entry \"%s\": %s", rel, archive_error_string(w));
			goto out;
		}
	}
	if (r != ARCHIVE_EOF)
		rc = kx_err_set(e, KX_EFAIL, "layer \"%s\": %s", path, archive_error_string(a));
out:
	archive_read_free(a);
	archive_write_free(w); /* sets directory times and modes */
	names_free(&ns);
	return rc;
}

int kx_imagestore_layer_dir(kx_imagestore *s, const char *digest, char *buf, size_t n, kx_err *e)
{
	char blob[PATH_MAX], tmp[PATH_MAX];

	if (!kx_digest_valid(digest))
		return kx_err_set(e, KX_EFAIL, "malformed digest \"%s\"", digest);
	snprintf(buf, n, "%s/layers/sha256/%s", s->root, digest + 7);
	if (access(buf, F_OK) == 0)
		return 0;
	if (kx_imagestore_blob_path(s, digest, blob, sizeof blob) < 0)
		return kx_err_set(e, KX_EFAIL, "layer %s is not in the store", digest);
	snprintf(tmp, sizeof tmp, "%s/tmp/layer-%.12s-XXXXXX", s->root, digest + 7);
	if (!mkdtemp(tmp))
		return kx_err_set(e, KX_EFAIL, "cannot create \"%s\": %s", tmp, strerror(errno));
	chmod(tmp, 0755);
	if (kx_layer_unpack(blob, tmp, KX_UNPACK_OVERLAY, e) < 0) {
		rm_rf(tmp);
		return kx_err_wrap(e, "layer %s", digest);
	}
	if (rename(tmp, buf) < 0) {
		int err = errno;
		rm_rf(tmp);
		if (access(buf, F_OK) == 0)
			return 0; /* another process unpacked it first */
		return kx_err_set(e, KX_EFAIL, "cannot rename to \"%s\": %s", buf, strerror(err));
	}
	return 0;
}

int kx_imagestore_unpack(kx_imagestore *s, const char *ref, const char *dir, kx_err *e)
{
	jv img = kx_imagestore_resolve(s, ref, e), layers;
	int rc = 0;

	if (!jv_is_valid(img))
		return -1;
	if (mkdirs(dir, 0755) < 0) {
		jv_free(img);
		return kx_err_set(e, KX_EFAIL, "cannot create \"%s\": %s", dir, strerror(errno));
	}
	layers = kx_jv_get(img, "manifest.layers");
	if (jv_get_kind(layers) == JV_KIND_ARRAY)
		jv_array_foreach(layers, i, l) {
			char d[80], blob[PATH_MAX];
			if (rc == 0) {
				if (!kx_jv_str(l, "digest", d, sizeof d, NULL) ||
				    kx_imagestore_blob_path(s, d, blob, sizeof blob) < 0)
					rc = kx_err_set(e, KX_EFAIL, "layer %d is not in the store", i);
				else if (kx_layer_unpack(blob, dir, KX_UNPACK_FLAT, e) < 0)
					rc = kx_err_wrap(e, "layer %s", d);
			}
			jv_free(l);
		}
	jv_free(layers);
	return rc;
}
