/* kx-image: pull, store and unpack OCI images.
 *
 *   kx-image [--root DIR] pull REF | ls | rm REF | unpack REF DIR |
 *            load FILE [REF] | inspect REF
 *
 * The store (lib/imagestore.h) is an OCI image layout under --root,
 * default /var/lib/kx/images. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "err.h"
#include "image.h"
#include "imagestore.h"
#include "json.h"
#include "log.h"

enum { OPT_ROOT = KX_OPT_FIRST_PRIVATE, OPT_INSECURE, OPT_CREDS, OPT_NO_UNPACK, OPT_QUIET };

static const struct kx_opt opts[] = {
	{"root", required_argument, OPT_ROOT, "DIR", "the image store (default " KX_IMAGE_DEFAULT_ROOT ")"},
	{"insecure-registry", required_argument, OPT_INSECURE, "HOST[:PORT]",
	 "reach this registry over plain HTTP (loopback ones always are)"},
	{"creds", required_argument, OPT_CREDS, "USER:PASSWORD", "registry credentials (or $KX_REGISTRY_CREDS)"},
	{"no-unpack", no_argument, OPT_NO_UNPACK, NULL, "pull, load: store the layers without unpacking them"},
	{"quiet", no_argument, 'q', NULL, "no progress bar, even on a terminal"},
	KX_OPTS_COMMON_V("more detail"),
};

static const char synopsis[] =
	"[--root DIR] pull REF | ls | rm REF | unpack REF DIR | load FILE [REF] | inspect REF";

int64_t image_size_of(kx_imagestore *s, const char *digest)
{
	char p[4096];
	struct stat st;

	if (kx_imagestore_blob_path(s, digest, p, sizeof p) < 0 || stat(p, &st) < 0)
		return 0;
	return st.st_size;
}

/* --- load ------------------------------------------------------------------ */

/* Check that every blob the manifest digest needs is present; unpack. */
static int check_image(kx_imagestore *s, const char *dg, int unpack, kx_err *e)
{
	jv man = kx_imagestore_blob_json(s, dg, e), layers;
	char p[4096], d[80];
	int rc = 0;

	if (!jv_is_valid(man))
		return -1;
	if (!kx_jv_str(man, "config.digest", d, sizeof d, NULL) || kx_imagestore_blob_path(s, d, p, sizeof p) < 0) {
		jv_free(man);
		return kx_err_set(e, KX_EFAIL, "manifest %s: its config is missing", dg);
	}
	layers = kx_jv_get(man, "layers");
	if (jv_get_kind(layers) != JV_KIND_ARRAY) {
		jv_free(layers);
		return kx_err_set(e, KX_EFAIL, "manifest %s has no layers", dg);
	}
	jv_array_foreach(layers, i, l) {
		if (rc == 0) {
			if (!kx_jv_str(l, "digest", d, sizeof d, NULL) || kx_imagestore_blob_path(s, d, p, sizeof p) < 0)
				rc = kx_err_set(e, KX_EFAIL, "manifest %s: layer %d is missing", dg, i);
			else if (unpack && kx_imagestore_layer_dir(s, d, p, sizeof p, e) < 0)
				rc = -1;
		}
		jv_free(l);
	}
	jv_free(layers);
	return rc;
}

static int load(kx_imagestore *s, const char *file, const char *name, int unpack, kx_err *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	kx_buf index = KX_BUF_INIT;
	jv idx = jv_invalid(), ms;
	int r, rc = 0, n = 0;

	index.max = KX_MAX_MANIFEST;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, file, 1 << 16) != ARCHIVE_OK) {
		rc = kx_err_set(e, KX_EFAIL, "cannot read \"%s\": %s", file, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(ent);
		const void *buf;
		size_t sz;
		la_int64_t off;
		while (p && p[0] == '.' && p[1] == '/')
			p += 2;
		if (!p || archive_entry_filetype(ent) != AE_IFREG)
			continue;
		if (!strcmp(p, "index.json")) {
			while ((r = archive_read_data_block(a, &buf, &sz, &off)) == ARCHIVE_OK)
				if (kx_buf_add(&index, buf, sz) < 0) {
					rc = kx_err_set(e, KX_EFAIL, "\"%s\": index.json is too large", file);
					goto out;
				}
		} else if (!strncmp(p, "blobs/sha256/", 13)) {
			char dg[80], have[4096];
			kx_blob_writer *w;
			snprintf(dg, sizeof dg, "sha256:%s", p + 13);
			if (!kx_digest_valid(dg)) {
				rc = kx_err_set(e, KX_EFAIL, "\"%s\": \"%s\" is not a blob name", file, p);
				goto out;
			}
			if (kx_imagestore_blob_path(s, dg, have, sizeof have) == 0)
				continue;
			w = kx_blob_begin(s, dg, archive_entry_size(ent), e);
			if (!w) {
				rc = -1;
				goto out;
			}
			while ((r = archive_read_data_block(a, &buf, &sz, &off)) == ARCHIVE_OK)
				if (kx_blob_write(w, buf, sz, e) < 0)
					break;
			if (r != ARCHIVE_EOF) {
				if (r != ARCHIVE_OK)
					kx_err_set(e, KX_EFAIL, "\"%s\": %s", file, archive_error_string(a));
				kx_blob_abort(w);
				rc = -1;
				goto out;
			}
			if (kx_blob_commit(w, e) < 0) {
				rc = -1;
				goto out;
			}
		}
	}
	if (r != ARCHIVE_EOF) {
		rc = kx_err_set(e, KX_EFAIL, "\"%s\": %s", file, archive_error_string(a));
		goto out;
	}
	if (!index.len) {
		rc = kx_err_set(e, KX_EFAIL, "\"%s\" is not an OCI image layout archive: no index.json", file);
		goto out;
	}
	idx = kx_json_parse(kx_buf_str(&index), index.len, e);
	if (!jv_is_valid(idx)) {
		rc = kx_err_wrap(e, "\"%s\": index.json", file);
		goto out;
	}
	ms = kx_jv_get(jv_copy(idx), "manifests");
	if (jv_get_kind(ms) == JV_KIND_ARRAY)
		jv_array_foreach(ms, i, m) {
			char dg[80], mt[128], refname[1024] = "";
			struct kx_imageref ref;
			jv ann = kx_jv_get(jv_copy(m), "annotations");
			jv an = jv_get_kind(ann) == JV_KIND_OBJECT
					? jv_object_get(ann, jv_string("org.opencontainers.image.ref.name"))
					: (jv_free(ann), jv_invalid());
			if (jv_get_kind(an) == JV_KIND_STRING)
				snprintf(refname, sizeof refname, "%s", jv_string_value(an));
			jv_free(an);
			kx_jv_str(m, "digest", dg, sizeof dg, "");
			kx_jv_str(m, "mediaType", mt, sizeof mt, KX_MT_OCI_MANIFEST);
			if (rc == 0 && (!strcmp(mt, KX_MT_OCI_INDEX) || !strcmp(mt, KX_MT_DOCKER_LIST))) {
				jv sub = kx_imagestore_blob_json(s, dg, e), d;
				d = jv_is_valid(sub) ? kx_image_pick_platform(sub, "linux", "amd64", e) : jv_invalid();
				jv_free(sub);
				if (!jv_is_valid(d))
					rc = -1;
				else {
					kx_jv_str(d, "digest", dg, sizeof dg, "");
					kx_jv_str(d, "mediaType", mt, sizeof mt, KX_MT_OCI_MANIFEST);
				}
				jv_free(d);
			}
			if (rc == 0 && !name && !refname[0])
				rc = kx_err_set(e, KX_EFAIL, "\"%s\": manifest %s has no name: give one as REF", file, dg);
			if (rc == 0 && kx_imageref_parse(&ref, name ? name : refname, e) < 0)
				rc = -1;
			if (rc == 0 && check_image(s, dg, unpack, e) < 0)
				rc = -1;
			if (rc == 0 && kx_imagestore_tag(s, ref.name,
							 JV_OBJECT(jv_string("mediaType"), jv_string(mt),
								   jv_string("digest"), jv_string(dg),
								   jv_string("size"), jv_number((double)image_size_of(s, dg))),
							 e) < 0)
				rc = -1;
			if (rc == 0) {
				printf("%s\t%s\n", ref.name, dg);
				n++;
			}
			jv_free(m);
			if (name)
				break; /* one name names one image */
		}
	jv_free(ms);
	if (rc == 0 && n == 0)
		rc = kx_err_set(e, KX_EFAIL, "\"%s\" holds no image", file);
out:
	jv_free(idx);
	kx_buf_free(&index);
	archive_read_free(a);
	return rc;
}

/* --- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const char *const cmds[] = {"pull", "ls", "rm", "unpack", "load", "inspect", NULL};
	struct kx_cli cli;
	kx_err e = KX_ERR_INIT;
	struct pull_opts po;
	const char *root = KX_IMAGE_DEFAULT_ROOT, *cmd;
	const char *insecure[32];
	kx_imagestore *s = NULL;
	int c, rc = 0, quiet = 0, no_unpack = 0, ni = 0;

	kx_log_init(argv[0]);
	memset(&po, 0, sizeof po);
	po.creds = getenv("KX_REGISTRY_CREDS");
	kx_cli_init(&cli, opts);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (optind >= argc) {
				kx_cli_free(&cli);
				kx_cli_usage(stderr, synopsis, opts);
				return KX_EUSAGE;
			}
			argc -= optind;
			argv += optind;
			optind = 1;
		}
		while ((c = getopt_long(argc, argv, cli.shortopts, cli.longopts, NULL)) != -1) {
			switch (c) {
			case OPT_ROOT:
				root = optarg;
				break;
			case OPT_INSECURE:
				if (ni < 32)
					insecure[ni++] = optarg;
				break;
			case OPT_CREDS:
				po.creds = optarg;
				break;
			case OPT_NO_UNPACK:
				no_unpack = 1;
				break;
			case 'q':
				quiet = 1;
				break;
			default:
				if ((c = kx_cli_common(c, synopsis, opts, cmds)) != KX_CLI_NEXT) {
					kx_cli_free(&cli);
					return kx_cli_exit(c);
				}
			}
		}
	}
	kx_cli_free(&cli);
	argv[optind - 1] = argv[0];
	argv += optind - 1;
	argc -= optind - 1;
	cmd = argv[0];
	if (!strcmp(cmd, "ls") ? argc != 1
	    : !strcmp(cmd, "unpack") ? argc != 3
	    : !strcmp(cmd, "load") ? argc != 2 && argc != 3
	    : (!strcmp(cmd, "pull") || !strcmp(cmd, "rm") || !strcmp(cmd, "inspect")) ? argc != 2
	    : 1) {
		if (strcmp(cmd, "ls") && strcmp(cmd, "unpack") && strcmp(cmd, "load") && strcmp(cmd, "pull") &&
		    strcmp(cmd, "rm") && strcmp(cmd, "inspect"))
			kx_log_error("unknown command \"%s\"", cmd);
		else
			kx_log_error("%s: wrong number of arguments", cmd);
		kx_cli_usage(stderr, synopsis, opts);
		return KX_EUSAGE;
	}
	s = kx_imagestore_open(root, &e);
	if (!s) {
		kx_err_print(&e);
		return KX_EFAIL;
	}
	if (!strcmp(cmd, "pull")) {
		char name[1024];
		int64_t t0 = kx_now_ms();
		curl_global_init(CURL_GLOBAL_DEFAULT);
		po.store = s;
		po.insecure = insecure;
		po.ninsecure = ni;
		po.progress = !quiet && isatty(2);
		po.no_unpack = no_unpack;
		if (image_pull(&po, argv[1], name, sizeof name, &e) < 0) {
			kx_err_wrap(&e, "cannot pull \"%s\"", argv[1]);
			rc = -1;
		} else {
			printf("%s\t%s\n", name, po.digest);
			kx_log_debug(1, "pulled %.1f MiB in %lld ms", po.bytes / 1048576.0, (long long)(kx_now_ms() - t0));
		}
		curl_global_cleanup();
	} else if (!strcmp(cmd, "ls")) {
		jv l = kx_imagestore_list(s, &e);
		if (!jv_is_valid(l))
			rc = -1;
		else {
			jv_array_foreach(l, i, img) {
				char r[1024], d[80];
				printf("%s\t%s\t%lld\n", kx_jv_str(img, "ref", r, sizeof r, ""),
				       kx_jv_str(img, "digest", d, sizeof d, ""), (long long)kx_jv_int(img, "size", 0));
				jv_free(img);
			}
			jv_free(l);
		}
	} else if (!strcmp(cmd, "rm")) {
		rc = kx_imagestore_remove(s, argv[1], &e);
	} else if (!strcmp(cmd, "inspect")) {
		jv img = kx_imagestore_resolve(s, argv[1], &e);
		if (!jv_is_valid(img))
			rc = -1;
		else if (kx_json_print(img, 1) < 0)
			rc = -1;
	} else if (!strcmp(cmd, "unpack")) {
		rc = kx_imagestore_unpack(s, argv[1], argv[2], &e);
		if (rc < 0)
			kx_err_wrap(&e, "cannot unpack \"%s\"", argv[1]);
	} else if (!strcmp(cmd, "load")) {
		rc = load(s, argv[1], argc == 3 ? argv[2] : NULL, !no_unpack, &e);
		if (rc < 0)
			kx_err_wrap(&e, "cannot load \"%s\"", argv[1]);
	}
	kx_imagestore_close(s);
	if (rc < 0) {
		kx_err_print(&e);
		return e.status ? e.status : KX_EFAIL;
	}
	return kx_cli_exit(0);
}
