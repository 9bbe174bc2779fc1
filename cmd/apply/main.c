/* kx-apply: create or update objects from manifests, as `kubectl apply`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "kinds.h"
#include "kubectl.h"
#include "log.h"
#include "manifest.h"
#include "print.h"
#include "quantity.h"
#include "selector.h"
#include "wait.h"

enum {
	OPT_DRY_RUN = KX_OPT_FIRST_PRIVATE,
	OPT_PRUNE,
	OPT_WAIT,
	OPT_TIMEOUT,
};

static const struct kx_opt opts[] = {
	{"filename", required_argument, 'f', "FILE", "a manifest file, a directory of them, or - (stdin); repeatable"},
	{"recursive", no_argument, 'R', NULL, "read directories given with -f recursively"},
	{"namespace", required_argument, 'n', "NS", "the namespace of objects that name none (default: $KX_NAMESPACE or default)"},
	{"dry-run", required_argument, OPT_DRY_RUN, "MODE", "none, client (decide only) or server (the store checks, stores nothing)"},
	{"prune", no_argument, OPT_PRUNE, NULL, "delete objects matching -l that the manifests no longer contain"},
	{"selector", required_argument, 'l', "SEL", "with --prune: the label selector of what this apply owns"},
	{"wait", no_argument, OPT_WAIT, NULL, "wait until what was applied is ready (Deployments rolled out, Pods Ready)"},
	{"timeout", required_argument, OPT_TIMEOUT, "D", "give up waiting after D (default 5m; 0: never)"},
	{"output", required_argument, 'o', "FMT", "name: print only kind/name of each object"},
	{"server", required_argument, KX_OPT_SERVER, "URL", "the store (default: $KX_SERVER or " KX_DEFAULT_SERVER ")"},
	KX_OPTS_COMMON,
};

static const char synopsis[] =
	"-f FILE|DIR|- [-f ...] [-R] [-n NS] [--dry-run=client|server]\n"
	"       [--prune -l SEL] [--wait] [--timeout D]";

enum dry { DRY_NONE, DRY_CLIENT, DRY_SERVER };

/* The kinds kubectl prunes by default. */
static const char *const prune_kinds[] = {
	"ConfigMap", "Endpoints", "Namespace", "PersistentVolumeClaim", "PersistentVolume",
	"Pod", "ReplicationController", "Secret", "Service", "Job", "CronJob", "Ingress",
	"DaemonSet", "Deployment", "ReplicaSet", "StatefulSet", NULL,
};

static int dry;
static int names_only;

static const char *dry_suffix(void)
{
	return dry == DRY_CLIENT ? " (dry run)" : dry == DRY_SERVER ? " (server dry run)" : "";
}

static void say(jv obj, const char *what)
{
	char id[512];

	if (names_only)
		printf("%s\n", kx_obj_ident(obj, id, sizeof id));
	else
		printf("%s %s%s\n", kx_obj_ident(obj, id, sizeof id), what, dry_suffix());
	fflush(stdout);
}

/* Apply one object (modified, consumed). Returns 0, or -1 with e filled. */
static int apply_one(kx_client *c, const kx_kind *k, jv mod, const char *file, kx_err *e)
{
	char ns[256], name[256], q[512];
	kx_buf path = KX_BUF_INIT;
	kx_err ge = KX_ERR_INIT;
	jv live, res;

	kx_jv_str(mod, "metadata.namespace", ns, sizeof ns, "");
	kx_jv_str(mod, "metadata.name", name, sizeof name, "");
	live = kx_kubectl_get(c, k, ns, name, &ge);
	if (!jv_is_valid(live)) {
		if (!(ge.status == KX_EREFUSED && ge.http == 404)) {
			*e = ge;
			jv_free(mod);
			return kx_err_wrap(e, "error when retrieving current configuration of "
					   "%s \"%s\" from \"%s\"", kx_kind_qualified(k, q, sizeof q),
					   name, file);
		}
		if (dry != DRY_CLIENT) {
			kx_kind_path(&path, k, ns, NULL, NULL);
			if (dry == DRY_SERVER)
				kx_buf_adds(&path, "?dryRun=All");
			res = kx_client_json(c, "POST", path.p, jv_copy(mod), NULL, e);
			kx_buf_free(&path);
			if (!jv_is_valid(res)) {
				jv_free(mod);
				return kx_err_wrap(e, "error when creating \"%s\"", file);
			}
			jv_free(res);
		}
		say(mod, "created");
		jv_free(mod);
		return 0;
	}
	jv orig = kx_apply_original(live);
	if (jv_get_kind(orig) == JV_KIND_NULL)
		kx_log_info("Warning: resource %s/%s is missing the %s annotation which is "
			    "required by kx-apply; it will be patched automatically",
			    k->resource, name, KX_LAST_APPLIED);
	jv patch = kx_apply_patch(orig, jv_copy(mod), live, k->kind);
	/* kubectl's client dry run computes no patch: an object that exists
	 * is always "configured (dry run)" */
	if (jv_object_length(jv_copy(patch)) == 0 && dry != DRY_CLIENT) {
		jv_free(patch);
		say(mod, "unchanged");
		jv_free(mod);
		return 0;
	}
	if (kx_verbose) {
		char *p = kx_json_dump(jv_copy(patch), 0);
		kx_log_debug(1, "patch for %s: %s", name, p);
		free(p);
	}
	if (dry != DRY_CLIENT) {
		kx_kind_path(&path, k, ns, name, NULL);
		if (dry == DRY_SERVER)
			kx_buf_adds(&path, "?dryRun=All");
		res = kx_client_json(c, "PATCH", path.p, patch,
				     "application/strategic-merge-patch+json", e);
		kx_buf_free(&path);
		if (!jv_is_valid(res)) {
			jv_free(mod);
			return kx_err_wrap(e, "error when applying patch to %s \"%s\" from \"%s\"",
					   kx_kind_qualified(k, q, sizeof q), name, file);
		}
		jv_free(res);
	} else {
		jv_free(patch);
	}
	say(mod, "configured");
	jv_free(mod);
	return 0;
}

static int is_prunable(const kx_kind *k)
{
	for (int i = 0; prune_kinds[i]; i++)
		if (!strcmp(prune_kinds[i], k->kind))
			return strstr(k->verbs, "list") && strstr(k->verbs, "delete");
	return 0;
}

/* Delete what carries the selector and a last-applied annotation, in the
 * namespaces applied to, and is not in applied (a set of "kind/ns/name"). */
static int prune(kx_client *c, const char *sel, jv namespaces, jv applied, int *failed)
{
	for (size_t i = 0; i < kx_kinds_count; i++) {
		const kx_kind *k = &kx_kinds[i];
		int first = 1;
		if (!is_prunable(k) || kx_kind_lookup(k->resource) != k)
			continue;
		jv nss = k->namespaced ? jv_copy(namespaces) : jv_array_append(jv_array(), jv_string(""));
		jv_array_foreach(nss, j, nsv)
		{
			kx_err e = KX_ERR_INIT;
			jv items = kx_kubectl_list(c, k, jv_string_value(nsv), sel, NULL, NULL, &e);
			(void)first;
			if (!jv_is_valid(items)) {
				if (e.status == KX_EUNREACH) {
					jv_free(nsv);
					jv_free(nss);
					kx_kubectl_error(&e);
					return -1;
				}
				kx_log_debug(1, "prune: cannot list %s: %s", k->resource, e.msg);
				jv_free(nsv);
				continue;
			}
			jv_array_foreach(items, x, o)
			{
				char ns[256], name[256];
				kx_jv_str(o, "metadata.namespace", ns, sizeof ns, "");
				kx_jv_str(o, "metadata.name", name, sizeof name, "");
				jv key = jv_string_fmt("%s/%s/%s", k->kind, ns, name);
				jv has = jv_object_get(jv_copy(applied), key);
				jv orig = kx_apply_original(o);
				int keep = jv_is_valid(has) || jv_get_kind(orig) == JV_KIND_NULL;
				jv_free(has);
				jv_free(orig);
				if (!keep) {
					int ok = 1;
					if (dry != DRY_CLIENT) {
						kx_buf path = KX_BUF_INIT;
						kx_kind_path(&path, k, ns, name, NULL);
						if (dry == DRY_SERVER)
							kx_buf_adds(&path, "?dryRun=All");
						jv body = jv_object();
						body = jv_object_set(body, jv_string("kind"), jv_string("DeleteOptions"));
						body = jv_object_set(body, jv_string("apiVersion"), jv_string("v1"));
						body = jv_object_set(body, jv_string("propagationPolicy"), jv_string("Background"));
						jv r = kx_client_json(c, "DELETE", path.p, body, NULL, &e);
						kx_buf_free(&path);
						if (!jv_is_valid(r) && !(e.status == KX_EREFUSED && e.http == 404)) {
							kx_kubectl_error(&e);
							*failed = e.status;
							ok = 0;
						}
						jv_free(r);
					}
					if (ok)
						say(o, "pruned");
				}
				jv_free(o);
			}
			jv_free(items);
			jv_free(nsv);
		}
		jv_free(nss);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct kx_cli cli;
	kx_err e = KX_ERR_INIT;
	const char *server = NULL, *nsopt = NULL, *sel = NULL;
	char **files = calloc((size_t)argc + 1, sizeof *files);
	int nfiles = 0, recursive = 0, do_prune = 0, do_wait = 0, c, status = 0;
	int64_t timeout_ms = 5 * 60 * 1000;
	kx_client *client = NULL;
	jv objs = jv_invalid(), mods = jv_array(), kinds_idx = jv_array();

	kx_log_init(argv[0]);
	kx_cli_init(&cli, opts);
	while ((c = getopt_long(argc, argv, cli.shortopts + 1, cli.longopts, NULL)) != -1) {
		switch (c) {
		case 'f': files[nfiles++] = optarg; break;
		case 'R': recursive = 1; break;
		case 'n': nsopt = optarg; break;
		case OPT_DRY_RUN:
			if (!strcmp(optarg, "none"))
				dry = DRY_NONE;
			else if (!strcmp(optarg, "client"))
				dry = DRY_CLIENT;
			else if (!strcmp(optarg, "server"))
				dry = DRY_SERVER;
			else {
				kx_log_error("invalid dry-run value (%s); must be \"none\", \"server\", "
					     "or \"client\"", optarg);
				return KX_EUSAGE;
			}
			break;
		case OPT_PRUNE: do_prune = 1; break;
		case 'l': sel = optarg; break;
		case OPT_WAIT: do_wait = 1; break;
		case OPT_TIMEOUT:
			if (kx_duration_parse(optarg, &timeout_ms, &e) < 0) {
				kx_log_error("--timeout: %s", e.msg);
				return KX_EUSAGE;
			}
			break;
		case 'o':
			if (strcmp(optarg, "name")) {
				kx_log_error("unable to match a printer suitable for the output format "
					     "\"%s\", allowed formats are: name", optarg);
				return KX_EUSAGE;
			}
			names_only = 1;
			break;
		case KX_OPT_SERVER: server = optarg; break;
		default:
			if ((c = kx_cli_common(c, synopsis, opts, NULL)) != KX_CLI_NEXT)
				return kx_cli_exit(c);
		}
	}
	kx_cli_free(&cli);
	if (optind < argc) {
		kx_log_error("unexpected argument \"%s\"; manifests are given with -f", argv[optind]);
		return KX_EUSAGE;
	}
	if (!nfiles) {
		kx_log_error("must specify one of -f and -k");
		kx_cli_usage(stderr, synopsis, opts);
		return KX_EUSAGE;
	}
	if (do_prune && !sel) {
		kx_log_error("all resources selected for prune without explicitly passing --all; "
			     "to prune, pass a label selector with -l");
		return KX_EUSAGE;
	}
	if (sel && !do_prune) {
		/* kubectl applies only the manifests matching -l; so do we */
	}
	kx_selector *lsel = NULL;
	if (sel && !(lsel = kx_selector_parse(sel, &e))) {
		kx_err_print(&e);
		return KX_EUSAGE;
	}

	/* read and check everything before changing anything */
	objs = kx_manifest_load(files, nfiles, recursive, &e);
	if (!jv_is_valid(objs))
		goto fail;
	const char *ns = kx_kubectl_namespace(nsopt);
	jv_array_foreach(objs, i, item)
	{
		char file[1024];
		jv o = kx_jv_get(jv_copy(item), "object");
		kx_jv_str(item, "file", file, sizeof file, "");
		jv_free(item);
		const kx_kind *k = kx_apply_check(o, &e);
		if (!k) {
			jv_free(o);
			kx_err_wrap(&e, "error validating \"%s\"", file);
			goto fail;
		}
		if (lsel) {
			jv labels = kx_jv_get(jv_copy(o), "metadata.labels");
			int m = kx_selector_match(lsel, labels);
			jv_free(labels);
			if (!m) {
				jv_free(o);
				continue;
			}
		}
		jv mod = kx_apply_modified(o, k, ns, nsopt != NULL, &e);
		if (!jv_is_valid(mod)) {
			kx_err_wrap(&e, "\"%s\"", file);
			goto fail;
		}
		mods = jv_array_append(mods, jv_object_set(jv_object_set(jv_object(), jv_string("file"),
									  jv_string(file)),
							    jv_string("object"), mod));
		kinds_idx = jv_array_append(kinds_idx, jv_number((double)(k - kx_kinds)));
	}
	if (jv_array_length(jv_copy(mods)) == 0) {
		kx_err_set(&e, KX_EFAIL, "no objects passed to apply");
		goto fail;
	}

	if (!(client = kx_client_new(server, &e)))
		goto fail;
	jv applied = jv_object(), namespaces = jv_array(), done = jv_array();
	jv_array_foreach(mods, i, item)
	{
		char file[1024], objns[256], name[256];
		const kx_kind *k = &kx_kinds[(int)jv_number_value(jv_array_get(jv_copy(kinds_idx), i))];
		jv o = kx_jv_get(jv_copy(item), "object");
		kx_jv_str(item, "file", file, sizeof file, "");
		jv_free(item);
		kx_jv_str(o, "metadata.namespace", objns, sizeof objns, "");
		kx_jv_str(o, "metadata.name", name, sizeof name, "");
		applied = jv_object_set(applied, jv_string_fmt("%s/%s/%s", k->kind, objns, name), jv_true());
		if (k->namespaced) {
			int have = 0;
			jv_array_foreach(namespaces, j, x)
			{
				have |= !strcmp(jv_string_value(x), objns);
				jv_free(x);
			}
			if (!have)
				namespaces = jv_array_append(namespaces, jv_string(objns));
		}
		kx_err ae = KX_ERR_INIT;
		if (apply_one(client, k, jv_copy(o), file, &ae) < 0) {
			kx_kubectl_error(&ae);
			jv_free(o);
			if (ae.status == KX_EUNREACH) {
				status = ae.status;
				break;
			}
			if (!status || ae.status == KX_EREFUSED)
				status = ae.status;
			continue;
		}
		done = jv_array_append(done, o);
	}
	if (do_prune && status != KX_EUNREACH) {
		if (prune(client, sel, jv_copy(namespaces), jv_copy(applied), &status) < 0)
			status = KX_EUNREACH;
	}
	jv_free(applied);
	jv_free(namespaces);
	if (do_wait && status == 0 && dry == DRY_NONE) {
		if (kx_wait_ready(client, done, timeout_ms, &e) < 0) {
			kx_kubectl_error(&e);
			status = e.status ? e.status : KX_EFAIL;
		}
	} else {
		jv_free(done);
	}
	jv_free(objs);
	jv_free(mods);
	jv_free(kinds_idx);
	kx_client_free(client);
	if (lsel)
		kx_selector_free(lsel);
	free(files);
	return kx_cli_exit(status);
fail:
	kx_kubectl_error(&e);
	jv_free(objs);
	jv_free(mods);
	jv_free(kinds_idx);
	kx_client_free(client);
	if (lsel)
		kx_selector_free(lsel);
	free(files);
	return kx_cli_exit(e.status ? e.status : KX_EFAIL);
}
