/* Unit tests of lib/imagestore: references, digests, platform choice,
 * blob verification and layer unpacking (whiteouts, escaping entries). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "err.h"
#include "imagestore.h"
#include "json.h"
#include "tap.h"

static void ref(const char *in, const char *name, const char *registry, const char *repo)
{
	struct kx_imageref r;
	kx_err e = KX_ERR_INIT;

	ok(kx_imageref_parse(&r, in, &e) == 0, "parse \"%s\" %s", in, e.msg);
	is_str(r.name, name, "\"%s\" is %s", in, name);
	is_str(r.registry, registry, "registry of \"%s\"", in);
	is_str(r.repo, repo, "repository of \"%s\"", in);
}

static void test_refs(void)
{
	struct kx_imageref r;
	kx_err e = KX_ERR_INIT;
	const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char buf[200];

	ref("busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox");
	ref("busybox:1.36", "docker.io/library/busybox:1.36", "docker.io", "library/busybox");
	ref("me/app:v1", "docker.io/me/app:v1", "docker.io", "me/app");
	ref("127.0.0.1:5000/a/b:c", "127.0.0.1:5000/a/b:c", "127.0.0.1:5000", "a/b");
	ref("localhost/x", "localhost/x:latest", "localhost", "x");
	ref("quay.io/x/y", "quay.io/x/y:latest", "quay.io", "x/y");
	snprintf(buf, sizeof buf, "reg.io/x@%s", d);
	ref(buf, buf, "reg.io", "x");
	is_str(kx_imageref_host(&(struct kx_imageref){.registry = "docker.io"}), "registry-1.docker.io",
	       "docker.io is served by registry-1.docker.io");
	ok(kx_imageref_parse(&r, "UPPER/case", &e) < 0, "upper case repository refused");
	ok(kx_imageref_parse(&r, "x@sha256:abc", &e) < 0, "short digest refused");
	ok(kx_imageref_parse(&r, "x:", &e) < 0, "empty tag refused");
	ok(kx_imageref_parse(&r, "", &e) < 0, "empty reference refused");
	ok(kx_digest_valid(d), "a valid digest");
	ok(!kx_digest_valid("sha512:00"), "sha512 is not supported");
	ok(!kx_digest_valid("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"),
	   "upper-case hex refused");
	kx_digest_of("", 0, buf);
	is_str(buf, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "sha256 of nothing");
}

static void test_platform(void)
{
	kx_err e = KX_ERR_INIT;
	const char *txt = "{\"manifests\":[{\"digest\":\"sha256:a\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
			  "{\"digest\":\"sha256:b\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
	jv idx = kx_json_parse(txt, strlen(txt), &e), d;
	char buf[80];

	d = kx_image_pick_platform(idx, "linux", "amd64", &e);
	is_str(kx_jv_str(d, "digest", buf, sizeof buf, ""), "sha256:b", "index resolved to linux/amd64");
	jv_free(d);
	d = kx_image_pick_platform(idx, "linux", "s390x", &e);
	ok(!jv_is_valid(d), "no manifest for an absent platform");
	ok(strstr(e.msg, "linux/arm64, linux/amd64") != NULL, "the error lists what the index has: %s", e.msg);
	jv_free(d);
	jv_free(idx);
}

/* A tar in path with entries: "name" (file with content), "name/" (dir),
 * "name->target" (symlink), "name=>target" (hard link). */
static void mktar(const char *path, const char *const *entries)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	archive_write_open_filename(a, path);
	for (; *entries; entries++) {
		char name[256];
		const char *s = *entries, *arrow;
		archive_entry_clear(e);
		archive_entry_set_mode(e, 0644);
		if ((arrow = strstr(s, "=>"))) {
			snprintf(name, sizeof name, "%.*s", (int)(arrow - s), s);
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, arrow + 2);
		} else if ((arrow = strstr(s, "->"))) {
			snprintf(name, sizeof name, "%.*s", (int)(arrow - s), s);
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, arrow + 2);
		} else if (s[strlen(s) - 1] == '/') {
			snprintf(name, sizeof name, "%s", s);
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_mode(e, 0755);
		} else {
			snprintf(name, sizeof name, "%s", s);
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)strlen(s));
		}
		archive_entry_set_pathname(e, name);
		archive_write_header(a, e);
		if (archive_entry_filetype(e) == AE_IFREG && !strstr(s, "=>"))
			archive_write_data(a, s, strlen(s));
	}
	archive_entry_free(e);
	archive_write_free(a);
}

static int exists(const char *dir, const char *rel)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static void test_unpack(const char *tmp)
{
	char t1[512], t2[512], dir[512];
	kx_err e = KX_ERR_INIT;

	snprintf(t1, sizeof t1, "%s/l1.tar.gz", tmp);
	snprintf(t2, sizeof t2, "%s/l2.tar.gz", tmp);
	snprintf(dir, sizeof dir, "%s/root", tmp);
	mktar(t1, (const char *const[]){"a/", "a/keep", "a/gone", "d/", "d/old", "d/sub/", "d/sub/x", "ln->a/keep", NULL});
	mktar(t2, (const char *const[]){"./d/", "./d/.wh..wh..opq", "./d/new", "a/.wh.gone", "hard=>a/keep", NULL});
	ok(kx_layer_unpack(t1, dir, KX_UNPACK_FLAT, &e) == 0, "unpack layer 1: %s", e.msg);
	ok(kx_layer_unpack(t2, dir, KX_UNPACK_FLAT, &e) == 0, "unpack layer 2: %s", e.msg);
	ok(exists(dir, "a/keep"), "lower file kept");
	ok(!exists(dir, "a/gone"), ".wh.gone removed a/gone");
	ok(!exists(dir, "a/.wh.gone"), "the whiteout itself is not written");
	ok(!exists(dir, "d/old") && !exists(dir, "d/sub"), "opaque directory hides lower content");
	ok(exists(dir, "d/new"), "opaque directory keeps this layer's entries");
	ok(exists(dir, "ln") && exists(dir, "hard"), "symbolic and hard links");

	const struct { const char *const *ents; const char *want; } bad[] = {
		{(const char *const[]){"../x", NULL}, "escapes the root"},
		{(const char *const[]){"a/../../x", NULL}, "escapes the root"},
		{(const char *const[]){"/etc/x", NULL}, "escapes the root"},
		{(const char *const[]){"h=>../../etc/passwd", NULL}, "escapes the root"},
		{(const char *const[]){"s->/", "s/etc/x", NULL}, "symbolic link"},
		{(const char *const[]){"s->/tmp", "s/.wh.x", NULL}, "symbolic link"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char t[512], d[512];
		snprintf(t, sizeof t, "%s/bad%zu.tar.gz", tmp, i);
		snprintf(d, sizeof d, "%s/bad%zu", tmp, i);
		mktar(t, bad[i].ents);
		kx_err_clear(&e);
		ok(kx_layer_unpack(t, d, KX_UNPACK_FLAT, &e) < 0, "escaping layer %zu refused", i);
		ok(strstr(e.msg, bad[i].want) != NULL, "with \"%s\": %s", bad[i].want, e.msg);
	}
	ok(!exists(tmp, "x") && !exists(tmp, "etc"), "nothing written outside");
}

static void test_store(const char *tmp)
{
	char root[512], p[600], dg[80];
	kx_err e = KX_ERR_INIT;
	kx_imagestore *s;
	kx_blob_writer *w;
	const char *good = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"; /* "hello" */

	snprintf(root, sizeof root, "%s/store", tmp);
	s = kx_imagestore_open(root, &e);
	ok(s != NULL, "open a store: %s", e.msg);
	w = kx_blob_begin(s, good, 5, &e);
	kx_blob_write(w, "hellO", 5, &e);
	ok(kx_blob_commit(w, &e) < 0, "a blob with the wrong content is refused");
	ok(strstr(e.msg, "does not match its digest") != NULL, "saying so: %s", e.msg);
	ok(kx_imagestore_blob_path(s, good, p, sizeof p) < 0, "and not stored");
	w = kx_blob_begin(s, good, 5, &e);
	kx_blob_write(w, "hel", 3, &e);
	ok(kx_blob_commit(w, &e) < 0 && strstr(e.msg, "truncated"), "a short blob is refused: %s", e.msg);
	w = kx_blob_begin(s, good, 5, &e);
	ok(kx_blob_write(w, "hello!", 6, &e) < 0, "a blob longer than announced is refused");
	kx_blob_abort(w);
	w = kx_blob_begin(s, good, 5, &e);
	kx_blob_write(w, "hello", 5, &e);
	ok(kx_blob_commit(w, &e) == 0, "the right blob is stored");
	ok(kx_imagestore_blob_path(s, good, p, sizeof p) == 0, "and found by digest");
	ok(kx_imagestore_put(s, "{}", 2, dg, &e) == 0, "put computes the digest");
	snprintf(p, sizeof p, "%s/tmp", root);
	ok(rmdir(p) == 0, "no temporary file left behind");
	mkdir(p, 0755);
	jv l = kx_imagestore_list(s, &e);
	is_int(jv_array_length(l), 0, "an empty store lists nothing");
	ok(!jv_is_valid(kx_imagestore_resolve(s, "x", &e)), "resolve of an unknown image fails");
	ok(strstr(e.msg, "not found") != NULL, "not found: %s", e.msg);
	kx_imagestore_close(s);
}

int main(void)
{
	char tmp[] = "/tmp/kx-test-image-XXXXXX";
	char cmd[600];

	if (!mkdtemp(tmp))
		return 1;
	test_refs();
	test_platform();
	test_unpack(tmp);
	test_store(tmp);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
