/* kx-delete: delete objects, as `kubectl delete` does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
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
	OPT_CASCADE = KX_OPT_FIRST_PRIVATE,
	OPT_GRACE,
	OPT_NOW,
	OPT_FORCE,
	OPT_WAIT,
	OPT_TIMEOUT,
	OPT_IGNORE_NOT_FOUND,
	OPT_ALL,
	OPT_DRY_RUN,
	OPT_FIELD_SEL,
};

static const struct kx_opt opts[] = {
	{"namespace", required_argument, 'n', "NS", "the namespace (default: $KX_NAMESPACE or default)"},
	{"all-namespaces", no_argument, 'A', NULL, "with -l or --all: in every namespace"},
	{"selector", required_argument, 'l', "SEL", "delete the objects of TYPE whose labels match"},
	{"field-selector", required_argument, OPT_FIELD_SEL, "SEL", "delete the objects of TYPE whose fields match"},
	{"all", no_argument, OPT_ALL, NULL, "delete every object of TYPE in the namespace"},
	{"filename", required_argument, 'f', "FILE", "delete the objects named in FILE, DIR or - (stdin)"},
	{"recursive", no_argument, 'R', NULL, "read directories given with -f recursively"},
	{"cascade", required_argument, OPT_CASCADE, "MODE", "background (default), foreground or orphan: what happens to dependents"},
	{"grace-period", required_argument, OPT_GRACE, "N", "seconds a pod gets to stop (-1: its own default)"},
	{"now", no_argument, OPT_NOW, NULL, "--grace-period=1"},
	{"force", no_argument, OPT_FORCE, NULL, "with --grace-period=0: remove at once, without waiting for the node"},
	{"wait", optional_argument, OPT_WAIT, "[=BOOL]", "wait until the objects are gone (default true)"},
	{"timeout", required_argument, OPT_TIMEOUT, "D", "give up waiting after D (0: never)"},
	{"ignore-not-found", no_argument, OPT_IGNORE_NOT_FOUND, NULL, "a missing object is no error"},
	{"dry-run", required_argument, OPT_DRY_RUN, "MODE", "none, client or server: say what would be deleted"},
	{"output", required_argument, 'o', "FMT", "name: print only kind/name of each object"},
	{"server", required_argument, KX_OPT_SERVER, "URL", "the store (default: $KX_SERVER or " KX_DEFAULT_SERVER ")"},
	KX_OPTS_COMMON,
};

static const char synopsis[] =
	"TYPE NAME... | TYPE/NAME... | -f FILE | TYPE -l SEL | TYPE --all [-n NS]\n"
	"       [--cascade=background|foreground|orphan] [--grace-period N] [--wait]";

enum dry { DRY_NONE, DRY_CLIENT, DRY_SERVER };

static struct {
	const char *policy;
	int64_t grace;  /* -1: not sent */
	int dry, names_only, ignore_nf;
} g = {"Background", -1, DRY_NONE, 0, 0};

struct victim {
	const kx_kind *k;
	char *ns, *name, *uid;
	char *file; /* the manifest it came from (-f), or NULL */
};

/* kubectl's `deployment.apps "web" deleted` */
static void say(const kx_kind *k, const char *name, const char *what)
{
	char av[64];

	if (g.names_only) {
		char kind[64];
		snprintf(kind, sizeof kind, "%s", k->kind);
		for (char *p = kind; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		printf("%s%s%s/%s\n", kind, *k->group ? "." : "", k->group, name);
	} else {
		char kind[64];
		snprintf(kind, sizeof kind, "%s", k->kind);
		for (char *p = kind; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		printf("%s%s%s \"%s\" %s%s\n", kind, *k->group ? "." : "", k->group, name, what,
		       g.dry == DRY_CLIENT ? " (dry run)" : g.dry == DRY_SERVER ? " (server dry run)" : "");
	}
	(void)av;
	fflush(stdout);
}

/* The DeleteOptions body kubectl sends. */
static jv delete_options(void)
{
	jv o = jv_object();

	o = jv_object_set(o, jv_string("kind"), jv_string("DeleteOptions"));
	o = jv_object_set(o, jv_string("apiVersion"), jv_string("v1"));
	if (g.grace >= 0)
		o = jv_object_set(o, jv_string("gracePeriodSeconds"), jv_number((double)g.grace));
	o = jv_object_set(o, jv_string("propagationPolicy"), jv_string(g.policy));
	return o;
}

static int delete_one(kx_client *c, struct victim *v, kx_err *e)
{
	kx_buf path = KX_BUF_INIT;
	jv r;

	if (g.dry == DRY_CLIENT) {
		jv o = kx_kubectl_get(c, v->k, v->ns, v->name, e);
		if (!jv_is_valid(o))
			return -1;
		jv_free(o);
		say(v->k, v->name, "deleted");
		return 0;
	}
	kx_kind_path(&path, v->k, v->ns, v->name, NULL);
	if (g.dry == DRY_SERVER)
		kx_buf_adds(&path, "?dryRun=All");
	r = kx_client_json(c, "DELETE", path.p, delete_options(), NULL, e);
	kx_buf_free(&path);
	if (!jv_is_valid(r)) {
		if (v->file) /* kubectl names the file */
			kx_err_wrap(e, "error when deleting \"%s\"", v->file);
		return -1;
	}
	if (!v->uid) {
		char uid[128];
		/* the answer is the object (still terminating) or a Status */
		if (kx_jv_str(r, "metadata.uid", uid, sizeof uid, NULL))
			v->uid = strdup(uid);
	}
	jv_free(r);
	say(v->k, v->name, "deleted");
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	if (!s || !strcmp(s, "true") || !strcmp(s, "1"))
		*out = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct kx_cli cli;
	kx_err e = KX_ERR_INIT;
	const char *server = NULL, *nsopt = NULL, *sel = NULL, *fsel = NULL;
	char **files = calloc((size_t)argc + 1, sizeof *files);
	int nfiles = 0, recursive = 0, all = 0, all_ns = 0, do_wait = 1, force = 0, c;
	int status = 0, nv = 0;
	int64_t timeout_ms = 0;
	struct victim *vs = NULL;
	kx_client *client = NULL;
	char *end;

	kx_log_init(argv[0]);
	kx_cli_init(&cli, opts);
	while ((c = getopt_long(argc, argv, cli.shortopts + 1, cli.longopts, NULL)) != -1) {
		switch (c) {
		case 'n': nsopt = optarg; break;
		case 'A': all_ns = 1; break;
		case 'l': sel = optarg; break;
		case OPT_FIELD_SEL: fsel = optarg; break;
		case OPT_ALL: all = 1; break;
		case 'f': files[nfiles++] = optarg; break;
		case 'R': recursive = 1; break;
		case OPT_CASCADE:
			if (!strcmp(optarg, "background") || !strcmp(optarg, "true"))
				g.policy = "Background";
			else if (!strcmp(optarg, "foreground"))
				g.policy = "Foreground";
			else if (!strcmp(optarg, "orphan") || !strcmp(optarg, "false"))
				g.policy = "Orphan";
			else {
				kx_log_error("invalid cascade value (%s); must be \"background\", "
					     "\"foreground\", or \"orphan\"", optarg);
				return KX_EUSAGE;
			}
			break;
		case OPT_GRACE:
			g.grace = strtoll(optarg, &end, 10);
			if (*end || end == optarg) {
				kx_log_error("--grace-period: \"%s\" is not a number of seconds", optarg);
				return KX_EUSAGE;
			}
			break;
		case OPT_NOW: g.grace = 1; break;
		case OPT_FORCE: force = 1; break;
		case OPT_WAIT:
			if (parse_bool(optarg, &do_wait) < 0) {
				kx_log_error("--wait: \"%s\" is not true or false", optarg);
				return KX_EUSAGE;
			}
			break;
		case OPT_TIMEOUT:
			if (kx_duration_parse(optarg, &timeout_ms, &e) < 0) {
				kx_log_error("--timeout: %s", e.msg);
				return KX_EUSAGE;
			}
			break;
		case OPT_IGNORE_NOT_FOUND: g.ignore_nf = 1; break;
		case OPT_DRY_RUN:
			if (!strcmp(optarg, "none"))
				g.dry = DRY_NONE;
			else if (!strcmp(optarg, "client"))
				g.dry = DRY_CLIENT;
			else if (!strcmp(optarg, "server"))
				g.dry = DRY_SERVER;
			else {
				kx_log_error("invalid dry-run value (%s); must be \"none\", \"server\", "
					     "or \"client\"", optarg);
				return KX_EUSAGE;
			}
			break;
		case 'o':
			if (strcmp(optarg, "name")) {
				kx_log_error("unable to match a printer suitable for the output format "
					     "\"%s\", allowed formats are: name", optarg);
				return KX_EUSAGE;
			}
			g.names_only = 1;
			break;
		case KX_OPT_SERVER: server = optarg; break;
		default:
			if ((c = kx_cli_common(c, synopsis, opts, kx_kubectl_type_words())) != KX_CLI_NEXT)
				return kx_cli_exit(c);
		}
	}
	kx_cli_free(&cli);
	argc -= optind;
	argv += optind;
	/* kubectl: without --force, --grace-period=0 becomes 1, so that
	 * nothing is removed before its node has stopped it */
	if (g.grace == 0 && !force)
		g.grace = 1;
	if (force && g.grace < 0)
		g.grace = 0;
	const char *ns = kx_kubectl_namespace(nsopt);
	vs = calloc((size_t)argc * KX_MAX_TYPES + 16, sizeof *vs);

	if (nfiles) {
		if (argc) {
			kx_log_error("give either -f or TYPE NAME..., not both");
			return KX_EUSAGE;
		}
		jv objs = kx_manifest_load(files, nfiles, recursive, &e);
		if (!jv_is_valid(objs))
			goto fail;
		vs = realloc(vs, ((size_t)jv_array_length(jv_copy(objs)) + 1) * sizeof *vs);
		jv_array_foreach(objs, i, item)
		{
			char av[128], kind[128], name[256], ons[256], file[4096];
			kx_jv_str(item, "file", file, sizeof file, "");
			jv o = kx_jv_get(item, "object");
			const kx_kind *k = kx_kind_by_gvk(kx_jv_str(o, "apiVersion", av, sizeof av, ""),
							  kx_jv_str(o, "kind", kind, sizeof kind, ""));
			if (!k) {
				kx_err_set(&e, KX_EFAIL, "no matches for kind \"%s\" in version \"%s\"",
					   kind, av);
				jv_free(o);
				jv_free(objs);
				goto fail;
			}
			vs[nv] = (struct victim){.k = k};
			vs[nv].name = strdup(kx_jv_str(o, "metadata.name", name, sizeof name, ""));
			vs[nv].ns = strdup(kx_jv_str(o, "metadata.namespace", ons, sizeof ons, ns));
			vs[nv].file = file[0] ? strdup(file) : NULL;
			nv++;
			jv_free(o);
		}
		jv_free(objs);
	} else if (argc == 0) {
		kx_log_error("you must provide one or more resources by argument or filename");
		kx_cli_usage(stderr, synopsis, opts);
		return KX_EUSAGE;
	} else if (strchr(argv[0], '/')) {
		for (int i = 0; i < argc; i++) {
			char *slash = strchr(argv[i], '/');
			const kx_kind *k;
			if (!slash || !slash[1]) {
				kx_log_error("there is no need to specify a resource type as a separate "
					     "argument when passing arguments in resource/name form");
				return KX_EUSAGE;
			}
			*slash = 0;
			if (!(k = kx_kind_lookup(argv[i]))) {
				kx_err_set(&e, KX_EFAIL, "the server doesn't have a resource type \"%s\"",
					   argv[i]);
				goto fail;
			}
			vs[nv] = (struct victim){.k = k};
			vs[nv].ns = strdup(ns);
			vs[nv++].name = strdup(slash + 1);
		}
	} else {
		const kx_kind *kinds[KX_MAX_TYPES];
		int nk = kx_kubectl_types(argv[0], kinds, KX_MAX_TYPES, &e);
		if (nk < 0)
			goto fail;
		for (int i = 1; i < argc; i++)
			if (strchr(argv[i], '/')) {
				kx_log_error("there is no need to specify a resource type as a separate "
					     "argument when passing arguments in resource/name form (e.g. "
					     "'kx-delete %s' instead of 'kx-delete %s %s')",
					     argv[i], argv[0], argv[i]);
				return KX_EUSAGE;
			}
		if (argc == 1 && !sel && !fsel && !all) {
			kx_log_error("resource(s) were provided, but no name was specified; give "
				     "NAME..., -l SELECTOR or --all");
			return KX_EUSAGE;
		}
		if (argc > 1 && (sel || all)) {
			kx_log_error("name cannot be provided when a selector or --all is specified");
			return KX_EUSAGE;
		}
		if (!(client = kx_client_new(server, &e)))
			goto fail;
		for (int j = 0; j < nk; j++) {
			if (argc > 1) {
				for (int i = 1; i < argc; i++) {
					vs[nv] = (struct victim){.k = kinds[j]};
					vs[nv].ns = strdup(ns);
					vs[nv++].name = strdup(argv[i]);
				}
				continue;
			}
			jv items = kx_kubectl_list(client, kinds[j], all_ns ? NULL : ns, sel, fsel,
						   NULL, &e);
			if (!jv_is_valid(items))
				goto fail;
			kx_selector *ls = sel ? kx_selector_parse(sel, NULL) : NULL;
			int n = jv_array_length(jv_copy(items));
			vs = realloc(vs, ((size_t)nv + (size_t)n + (size_t)argc + 16) * sizeof *vs);
			jv_array_foreach(items, i, o)
			{
				char name[256], ons[256], uid[128];
				jv labels = kx_jv_get(jv_copy(o), "metadata.labels");
				int keep = !ls || kx_selector_match(ls, labels);
				jv_free(labels);
				if (keep) {
					vs[nv] = (struct victim){.k = kinds[j]};
					vs[nv].name = strdup(kx_jv_str(o, "metadata.name", name, sizeof name, ""));
					vs[nv].ns = strdup(kx_jv_str(o, "metadata.namespace", ons, sizeof ons, all_ns ? "" : ns));
					vs[nv++].uid = strdup(kx_jv_str(o, "metadata.uid", uid, sizeof uid, ""));
				}
				jv_free(o);
			}
			jv_free(items);
			if (ls)
				kx_selector_free(ls);
		}
		if (nv == 0) {
			kx_log_info("No resources found");
			goto out;
		}
	}

	if (!client && !(client = kx_client_new(server, &e)))
		goto fail;
	for (int i = 0; i < nv; i++) {
		kx_err de = KX_ERR_INIT;
		if (delete_one(client, &vs[i], &de) < 0) {
			vs[i].name[0] = 0; /* nothing to wait for */
			if (de.status == KX_EREFUSED && de.http == 404 && g.ignore_nf)
				continue;
			kx_kubectl_error(&de);
			if (de.status == KX_EUNREACH) {
				status = de.status;
				goto out;
			}
			status = de.status;
		}
	}
	if (do_wait && g.dry == DRY_NONE) {
		for (int i = 0; i < nv; i++) {
			if (!vs[i].name[0])
				continue;
			if (kx_wait_gone(client, vs[i].k, vs[i].ns, vs[i].name, vs[i].uid, timeout_ms,
					 &e) < 0) {
				kx_kubectl_error(&e);
				status = e.status ? e.status : KX_EFAIL;
				break;
			}
		}
	}
out:
	for (int i = 0; i < nv; i++) {
		free(vs[i].ns);
		free(vs[i].name);
		free(vs[i].uid);
		free(vs[i].file);
	}
	free(vs);
	free(files);
	kx_client_free(client);
	return kx_cli_exit(status);
fail:
	kx_kubectl_error(&e);
	status = e.status ? e.status : KX_EFAIL;
	goto out;
}
