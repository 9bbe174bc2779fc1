/* kx-get: list, get and watch objects, as `kubectl get` does. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>
#include <jq.h>

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
#include "yaml.h"

enum {
	OPT_FIELD_SEL = KX_OPT_FIRST_PRIVATE,
	OPT_SHOW_LABELS,
	OPT_WATCH_ONLY,
	OPT_NO_HEADERS,
	OPT_IGNORE_NOT_FOUND,
	OPT_TIMEOUT,
};

static const struct kx_opt opts[] = {
	{"namespace", required_argument, 'n', "NS", "the namespace (default: $KX_NAMESPACE or default)"},
	{"all-namespaces", no_argument, 'A', NULL, "list across all namespaces"},
	{"selector", required_argument, 'l', "SEL", "only objects whose labels match (app=web,tier!=db)"},
	{"field-selector", required_argument, OPT_FIELD_SEL, "SEL", "only objects whose fields match (status.phase=Running)"},
	{"output", required_argument, 'o', "FMT", "table, wide, json, yaml, name or jq=FILTER"},
	{"watch", no_argument, 'w', NULL, "after listing, print changes as they happen"},
	{"watch-only", no_argument, OPT_WATCH_ONLY, NULL, "print changes only, without the first list"},
	{"show-labels", no_argument, OPT_SHOW_LABELS, NULL, "add a LABELS column"},
	{"no-headers", no_argument, OPT_NO_HEADERS, NULL, "print tables without their header"},
	{"ignore-not-found", no_argument, OPT_IGNORE_NOT_FOUND, NULL, "a missing named object is no error"},
	{"filename", required_argument, 'f', "FILE", "get the objects named in FILE, DIR or - (stdin)"},
	{"recursive", no_argument, 'R', NULL, "read directories given with -f recursively"},
	{"timeout", required_argument, OPT_TIMEOUT, "D", "stop watching after D (5s, 2m); 0: never"},
	{"server", required_argument, KX_OPT_SERVER, "URL", "the store (default: $KX_SERVER or " KX_DEFAULT_SERVER ")"},
	KX_OPTS_COMMON,
};

static const char synopsis[] =
	"TYPE[,TYPE...] [NAME...] | TYPE/NAME... | -f FILE [-n NS | -A] [-l SEL]\n"
	"       [--field-selector SEL] [-o table|wide|json|yaml|name|jq=FILTER] [-w] [--show-labels]";

enum fmt { F_TABLE, F_WIDE, F_JSON, F_YAML, F_NAME, F_JQ };

static struct {
	const char *ns;          /* namespace, NULL with -A */
	const char *label_sel, *field_sel;
	int fmt, flags, no_headers, ignore_nf, watch, watch_only;
	jq_state *jq;
	kx_selector *lsel;       /* client-side checks of what the store sends */
	kx_fieldsel *fsel;
	int64_t deadline_ms;     /* watch stops at this monotonic time; 0: never */
	kx_buf out;              /* stdout, flushed after each piece */
	size_t widths[KX_TABLE_MAX_COLS]; /* a watch's table keeps its widths */
} g;

static volatile sig_atomic_t stop;

/* --timeout on a watch: a watch may wait in the HTTP client for a long time
 * without any event, so the deadline is a timer whose signal ends the
 * program. Output is written whole between events, with the signal held
 * off, so no line is ever cut. */
static void on_deadline(int sig)
{
	(void)sig;
	_exit(0);
}

static void arm_deadline(int64_t ms)
{
	struct itimerval it = {{0, 0}, {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000}};

	signal(SIGALRM, on_deadline);
	setitimer(ITIMER_REAL, &it, NULL);
}

static int flush_out(void)
{
	sigset_t block, old;
	int rc = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (g.out.len) {
		if (fwrite(g.out.p, 1, g.out.len, stdout) != g.out.len)
			rc = -1;
		kx_buf_reset(&g.out);
	}
	if (fflush(stdout) != 0)
		rc = -1;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* --- output ---------------------------------------------------------------- */

static void jq_err(void *arg, jv msg)
{
	(void)arg;
	if (jv_get_kind(msg) == JV_KIND_STRING)
		kx_log_error("jq: %s", jv_string_value(msg));
	else {
		msg = jq_format_error(msg);
		kx_log_error("jq: %s", jv_string_value(msg));
	}
	jv_free(msg);
}

/* Run the jq program over v (consumed): strings are printed raw, any other
 * result as compact JSON, one per line. */
static int run_jq(jv v, kx_err *e)
{
	jv r;

	jq_start(g.jq, v, 0);
	while (jv_is_valid(r = jq_next(g.jq))) {
		if (jv_get_kind(r) == JV_KIND_STRING) {
			kx_buf_adds(&g.out, jv_string_value(r));
			kx_buf_addc(&g.out, '\n');
			jv_free(r);
		} else {
			kx_json_dump_buf(&g.out, r, 0);
			kx_buf_addc(&g.out, '\n');
		}
	}
	if (jv_invalid_has_msg(jv_copy(r))) {
		jv msg = jv_invalid_get_msg(r);
		kx_err_set(e, KX_EFAIL, "jq: %s",
			   jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "error");
		jv_free(msg);
		return -1;
	}
	jv_free(r);
	return 0;
}

/* v without metadata.managedFields (in a List's items too), as kubectl
 * prints objects unless asked with --show-managed-fields. */
static jv hide_managed_fields(jv v)
{
	jv items = kx_jv_get(jv_copy(v), "items");

	if (jv_get_kind(items) == JV_KIND_ARRAY) {
		jv out = jv_array();
		jv_array_foreach(items, i, it)
			out = jv_array_append(out, kx_jv_del(it, "metadata.managedFields"));
		v = jv_object_set(v, jv_string("items"), out);
	}
	jv_free(items);
	return jv_get_kind(v) == JV_KIND_OBJECT ? kx_jv_del(v, "metadata.managedFields") : v;
}

/* One value (an object, or a List) in a data format. */
static int print_value(jv v, kx_err *e)
{
	if (g.fmt == F_JSON || g.fmt == F_YAML)
		v = hide_managed_fields(v);
	switch (g.fmt) {
	case F_JSON:
		return kx_print_json(&g.out, v);
	case F_YAML:
		return kx_yaml_dump_buf(&g.out, kx_jv_sorted(v));
	case F_JQ:
		return run_jq(v, e);
	default:
		jv_free(v);
		return 0;
	}
}

static void print_names(jv items)
{
	char id[512];

	jv_array_foreach(items, i, o)
	{
		kx_buf_addf(&g.out, "%s\n", kx_obj_ident(o, id, sizeof id));
		jv_free(o);
	}
	jv_free(items);
}

static int table_flags(const kx_kind *k)
{
	int f = g.flags;

	if (!k->namespaced)
		f &= ~KX_PRINT_NAMESPACE;
	return f;
}

static void print_table(const kx_kind *k, jv items, int header, time_t now, size_t *widths)
{
	jv rows = jv_array();
	int f = table_flags(k);

	if (header && !g.no_headers)
		rows = jv_array_append(rows, kx_print_header(k, f));
	jv_array_foreach(items, i, o)
	{
		rows = jv_array_append(rows, kx_print_row(k, o, f, now));
		jv_free(o);
	}
	jv_free(items);
	kx_table_write(&g.out, rows, widths);
}

/* --- selecting ------------------------------------------------------------- */

/* Keep the items that match the selectors (a store that ignores a
 * selector must not change what a person sees). */
static jv filter(jv items)
{
	jv out = jv_array();

	jv_array_foreach(items, i, o)
	{
		jv labels = kx_jv_get(jv_copy(o), "metadata.labels");
		int keep = (!g.lsel || kx_selector_match(g.lsel, labels)) &&
			   (!g.fsel || kx_fieldsel_match(g.fsel, o));
		jv_free(labels);
		out = keep ? jv_array_append(out, o) : (jv_free(o), out);
	}
	jv_free(items);
	return out;
}

/* --- watch ----------------------------------------------------------------- */

struct watch {
	const kx_kind *k;
	char rv[64];        /* resume from here */
	jv known;           /* "ns/name" -> resourceVersion, to re-list after a 410 */
	int gone;           /* the store said 410: re-list */
	int printed_header;
	kx_err err;
};

static jv key_of(jv o)
{
	char ns[256], name[256];

	kx_jv_str(o, "metadata.namespace", ns, sizeof ns, "");
	kx_jv_str(o, "metadata.name", name, sizeof name, "");
	return jv_string_fmt("%s/%s", ns, name);
}

static void watch_print(struct watch *w, jv o)
{
	char rv[64];

	if (g.lsel || g.fsel) {
		jv one = filter(jv_array_append(jv_array(), jv_copy(o)));
		int keep = jv_array_length(one) > 0;
		if (!keep) {
			jv_free(o);
			return;
		}
	}
	kx_jv_str(o, "metadata.resourceVersion", rv, sizeof rv, "");
	w->known = jv_object_set(w->known, key_of(o), jv_string(rv));
	if (g.fmt == F_TABLE || g.fmt == F_WIDE) {
		print_table(w->k, jv_array_append(jv_array(), o), !w->printed_header, time(NULL), g.widths);
		w->printed_header = 1;
	} else if (g.fmt == F_NAME) {
		print_names(jv_array_append(jv_array(), o));
	} else {
		if (g.fmt == F_YAML)
			kx_buf_adds(&g.out, "---\n");
		print_value(o, &w->err);
	}
	flush_out();
}

static int on_event(void *arg, const char *line, size_t len)
{
	struct watch *w = arg;
	kx_err e = KX_ERR_INIT;
	jv ev = kx_json_parse(line, len, &e);
	char type[32], rv[64];

	if (stop || (g.deadline_ms && kx_now_ms() >= g.deadline_ms)) {
		jv_free(ev);
		return 1;
	}
	if (!jv_is_valid(ev)) {
		kx_log_debug(1, "ignoring a malformed watch event: %s", e.msg);
		return 0;
	}
	kx_jv_str(ev, "type", type, sizeof type, "");
	jv obj = kx_jv_get(jv_copy(ev), "object");
	jv_free(ev);
	if (!strcmp(type, "ERROR")) {
		int code = (int)kx_jv_int(obj, "code", 0);
		if (code == 410) {
			w->gone = 1;
		} else {
			char msg[512];
			kx_err_set(&w->err, KX_EREFUSED, "%s",
				   kx_jv_str(obj, "message", msg, sizeof msg, "watch error"));
			w->err.http = code;
			kx_jv_str(obj, "reason", w->err.reason, sizeof w->err.reason, "");
		}
		jv_free(obj);
		return 1;
	}
	if (kx_jv_str(obj, "metadata.resourceVersion", rv, sizeof rv, NULL))
		snprintf(w->rv, sizeof w->rv, "%s", rv);
	if (!strcmp(type, "BOOKMARK")) {
		jv_free(obj);
		return 0;
	}
	if (jv_get_kind(obj) == JV_KIND_OBJECT) {
		char av[64];
		jv k = jv_object_get(jv_copy(obj), jv_string("kind"));
		if (jv_get_kind(k) != JV_KIND_STRING)
			obj = jv_object_set(obj, jv_string("kind"), jv_string(w->k->kind));
		jv_free(k);
		k = jv_object_get(jv_copy(obj), jv_string("apiVersion"));
		if (jv_get_kind(k) != JV_KIND_STRING)
			obj = jv_object_set(obj, jv_string("apiVersion"),
					    jv_string(kx_kind_api_version(w->k, av, sizeof av)));
		jv_free(k);
		if (!strcmp(type, "DELETED")) {
			/* the key first: watch_print consumes obj */
			jv key = key_of(obj);
			watch_print(w, obj);
			w->known = jv_object_delete(w->known, key);
		} else {
			watch_print(w, obj);
		}
		return 0;
	}
	jv_free(obj);
	return 0;
}

/* After a 410: list again, print what changed since (new or newer objects,
 * and the known ones that are gone), and resume from the list. */
static int relist(kx_client *c, struct watch *w, const char *name, kx_err *e)
{
	char *rv = NULL, orv[64];
	jv items = kx_kubectl_list(c, w->k, g.ns, g.label_sel, g.field_sel, &rv, e);
	jv seen = jv_object();

	if (!jv_is_valid(items))
		return -1;
	items = filter(items);
	jv_array_foreach(items, i, o)
	{
		char nm[256];
		if (name && strcmp(kx_jv_str(o, "metadata.name", nm, sizeof nm, ""), name)) {
			jv_free(o);
			continue;
		}
		jv key = key_of(o);
		jv was = jv_object_get(jv_copy(w->known), jv_copy(key));
		kx_jv_str(o, "metadata.resourceVersion", orv, sizeof orv, "");
		seen = jv_object_set(seen, key, jv_true());
		if (!jv_is_valid(was) || strcmp(jv_string_value(was), orv))
			watch_print(w, o);
		else
			jv_free(o);
		jv_free(was);
	}
	jv_free(items);
	/* known objects that are gone were deleted while we could not see */
	jv keys = jv_keys(jv_copy(w->known));
	jv_array_foreach(keys, i, key)
	{
		jv s = jv_object_get(jv_copy(seen), jv_copy(key));
		if (!jv_is_valid(s)) {
			const char *ks = jv_string_value(key), *slash = strchr(ks, '/');
			jv o = jv_object();
			char av[64];
			o = jv_object_set(o, jv_string("apiVersion"),
					  jv_string(kx_kind_api_version(w->k, av, sizeof av)));
			o = jv_object_set(o, jv_string("kind"), jv_string(w->k->kind));
			jv md = jv_object_set(jv_object(), jv_string("name"), jv_string(slash + 1));
			if (slash != ks)
				md = jv_object_set(md, jv_string("namespace"),
						   jv_string_sized(ks, (int)(slash - ks)));
			o = jv_object_set(o, jv_string("metadata"), md);
			watch_print(w, o);
			w->known = jv_object_delete(w->known, jv_copy(key));
		}
		jv_free(s);
		jv_free(key);
	}
	jv_free(keys);
	jv_free(seen);
	snprintf(w->rv, sizeof w->rv, "%s", rv ? rv : "");
	free(rv);
	return 0;
}

static int watch(kx_client *c, const kx_kind *k, const char *name, const char *rv,
		 jv initial, kx_err *e)
{
	struct watch w = {k, "", jv_object(), 0, 0, KX_ERR_INIT};
	int64_t backoff = 100;
	int lost = 0;

	snprintf(w.rv, sizeof w.rv, "%s", rv ? rv : "");
	w.printed_header = !g.watch_only && jv_array_length(jv_copy(initial)) > 0;
	jv_array_foreach(initial, i, o)
	{
		char orv[64];
		kx_jv_str(o, "metadata.resourceVersion", orv, sizeof orv, "");
		w.known = jv_object_set(w.known, key_of(o), jv_string(orv));
		jv_free(o);
	}
	jv_free(initial);
	while (!stop && !(g.deadline_ms && kx_now_ms() >= g.deadline_ms)) {
		kx_buf path = KX_BUF_INIT, extra = KX_BUF_INIT, fs = KX_BUF_INIT;
		int rc;

		kx_buf_adds(&extra, "watch=true&allowWatchBookmarks=true");
		if (w.rv[0])
			kx_buf_addf(&extra, "&resourceVersion=%s", w.rv);
		if (name) {
			kx_buf_addf(&fs, "metadata.name=%s", name);
			if (g.field_sel && *g.field_sel)
				kx_buf_addf(&fs, ",%s", g.field_sel);
		} else if (g.field_sel) {
			kx_buf_adds(&fs, g.field_sel);
		}
		kx_kubectl_path(&path, k, k->namespaced ? g.ns : NULL, NULL, g.label_sel,
				kx_buf_str(&fs), extra.p);
		kx_buf_free(&extra);
		kx_buf_free(&fs);
		kx_err_clear(&w.err);
		w.gone = 0;
		kx_log_debug(1, "watching %s", path.p);
		rc = kx_client_stream(c, path.p, on_event, &w, &w.err);
		kx_buf_free(&path);
		if (w.err.status == KX_EREFUSED && w.err.http != 410 && !w.gone) {
			*e = w.err;
			jv_free(w.known);
			return -1;
		}
		if (w.gone || (rc < 0 && w.err.http == 410)) {
			kx_log_debug(1, "resourceVersion %s is too old: listing again", w.rv);
			if (relist(c, &w, name, e) < 0) {
				if (e->status != KX_EUNREACH) {
					jv_free(w.known);
					return -1;
				}
				rc = -1;
				w.err = *e;
			} else {
				continue;
			}
		}
		if (rc < 0 && w.err.status == KX_EUNREACH) {
			if (!lost)
				kx_log_info("lost the store (%s); reconnecting", w.err.msg);
			lost = 1;
			usleep((useconds_t)backoff * 1000);
			backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
			continue;
		}
		if (rc < 0 && !stop && !(g.deadline_ms && kx_now_ms() >= g.deadline_ms)) {
			*e = w.err;
			jv_free(w.known);
			return -1;
		}
		if (lost)
			kx_log_info("store reached again; resumed from resourceVersion %s", w.rv);
		lost = 0;
		backoff = 100;
	}
	jv_free(w.known);
	return 0;
}

/* --- main ------------------------------------------------------------------ */

struct target {
	const kx_kind *k;
	char *name; /* NULL: list */
	char *ns;   /* for -f: the object's own namespace */
};

static int parse_output(const char *o, kx_err *e)
{
	if (!strcmp(o, "table") || !strcmp(o, ""))
		g.fmt = F_TABLE;
	else if (!strcmp(o, "wide"))
		g.fmt = F_WIDE, g.flags |= KX_PRINT_WIDE;
	else if (!strcmp(o, "json"))
		g.fmt = F_JSON;
	else if (!strcmp(o, "yaml"))
		g.fmt = F_YAML;
	else if (!strcmp(o, "name"))
		g.fmt = F_NAME;
	else if (!strncmp(o, "jq=", 3)) {
		g.fmt = F_JQ;
		g.jq = jq_init();
		jq_set_error_cb(g.jq, jq_err, NULL);
		if (!g.jq || !jq_compile(g.jq, o + 3))
			return kx_err_set(e, KX_EUSAGE, "jq filter \"%s\" does not compile", o + 3);
	} else
		return kx_err_set(e, KX_EUSAGE,
				  "unable to match a printer suitable for the output format \"%s\", "
				  "allowed formats are: json,jq=FILTER,name,table,wide,yaml", o);
	return 0;
}

int main(int argc, char **argv)
{
	struct kx_cli cli;
	kx_err e = KX_ERR_INIT;
	const char *server = NULL, *nsopt = NULL, *output = "table";
	char **files = NULL;
	int nfiles = 0, all_ns = 0, recursive = 0, c, status = 0;
	int64_t timeout_ms = 0;
	struct target *targets = NULL;
	int nt = 0;
	kx_client *client = NULL;

	kx_log_init(argv[0]);
	kx_cli_init(&cli, opts);
	files = calloc((size_t)argc + 1, sizeof *files);
	/* options may follow operands, as with kubectl */
	while ((c = getopt_long(argc, argv, cli.shortopts + 1, cli.longopts, NULL)) != -1) {
		switch (c) {
		case 'n': nsopt = optarg; break;
		case 'A': all_ns = 1; break;
		case 'l': g.label_sel = optarg; break;
		case OPT_FIELD_SEL: g.field_sel = optarg; break;
		case 'o': output = optarg; break;
		case 'w': g.watch = 1; break;
		case OPT_WATCH_ONLY: g.watch = g.watch_only = 1; break;
		case OPT_SHOW_LABELS: g.flags |= KX_PRINT_LABELS; break;
		case OPT_NO_HEADERS: g.no_headers = 1; break;
		case OPT_IGNORE_NOT_FOUND: g.ignore_nf = 1; break;
		case 'f': files[nfiles++] = optarg; break;
		case 'R': recursive = 1; break;
		case OPT_TIMEOUT:
			if (kx_duration_parse(optarg, &timeout_ms, &e) < 0) {
				kx_log_error("--timeout: %s", e.msg);
				return KX_EUSAGE;
			}
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
	if (parse_output(output, &e) < 0)
		goto fail;
	g.ns = all_ns ? NULL : kx_kubectl_namespace(nsopt);
	if (all_ns)
		g.flags |= KX_PRINT_NAMESPACE;
	if (g.label_sel && !(g.lsel = kx_selector_parse(g.label_sel, &e))) {
		e.status = KX_EUSAGE;
		goto fail;
	}
	if (g.field_sel && !(g.fsel = kx_fieldsel_parse(g.field_sel, &e))) {
		e.status = KX_EUSAGE;
		goto fail;
	}
	if (timeout_ms)
		g.deadline_ms = kx_now_ms() + timeout_ms;

	/* what to get */
	targets = calloc((size_t)argc * KX_MAX_TYPES + 64, sizeof *targets);
	if (nfiles) {
		if (argc) {
			kx_err_set(&e, KX_EUSAGE, "give either -f or TYPE [NAME...], not both");
			goto fail;
		}
		jv objs = kx_manifest_load(files, nfiles, recursive, &e);
		if (!jv_is_valid(objs))
			goto fail;
		int n = jv_array_length(jv_copy(objs));
		targets = realloc(targets, ((size_t)n + 1) * sizeof *targets);
		jv_array_foreach(objs, i, item)
		{
			char av[128], kind[128], name[256], ns[256];
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
			targets[nt].k = k;
			targets[nt].name = strdup(kx_jv_str(o, "metadata.name", name, sizeof name, ""));
			targets[nt].ns = strdup(kx_jv_str(o, "metadata.namespace", ns, sizeof ns,
							  kx_kubectl_namespace(nsopt)));
			nt++;
			jv_free(o);
		}
		jv_free(objs);
	} else if (argc == 0) {
		kx_log_error("you must specify the type of resource to get (pods, services, "
			     "deployments, nodes, ... or all)");
		kx_cli_usage(stderr, synopsis, opts);
		return KX_EUSAGE;
	} else if (strchr(argv[0], '/')) {
		for (int i = 0; i < argc; i++) {
			char *slash = strchr(argv[i], '/');
			const kx_kind *k;
			if (!slash || !slash[1]) {
				kx_err_set(&e, KX_EUSAGE, "there is no need to specify a resource type "
					   "as a separate argument when passing arguments in "
					   "resource/name form (e.g. 'kx-get resource/<name>' "
					   "instead of 'kx-get resource resource/<name>')");
				goto fail;
			}
			*slash = 0;
			if (!(k = kx_kind_lookup(argv[i]))) {
				kx_err_set(&e, KX_EFAIL, "the server doesn't have a resource type \"%s\"",
					   argv[i]);
				goto fail;
			}
			targets[nt].k = k;
			targets[nt++].name = strdup(slash + 1);
		}
	} else {
		const kx_kind *kinds[KX_MAX_TYPES];
		int nk = kx_kubectl_types(argv[0], kinds, KX_MAX_TYPES, &e);
		if (nk < 0)
			goto fail;
		for (int j = 0; j < nk; j++) {
			if (argc == 1) {
				targets[nt++].k = kinds[j];
				continue;
			}
			for (int i = 1; i < argc; i++) {
				targets[nt].k = kinds[j];
				targets[nt++].name = strdup(argv[i]);
			}
		}
		if (nk > 1 || !strcmp(argv[0], "all"))
			g.flags |= KX_PRINT_KIND;
	}
	if (nt > 1 && g.watch) {
		int same = 1;
		for (int i = 1; i < nt; i++)
			if (targets[i].k != targets[0].k || !targets[i].name ||
			    strcmp(targets[i].name, targets[0].name))
				same = 0;
		if (!same) {
			kx_err_set(&e, KX_EUSAGE, "watch is only supported on individual resources "
				   "and resource collections, but %d resources were found", nt);
			goto fail;
		}
	}
	if (nt > 1 && g.fmt <= F_WIDE) {
		for (int i = 1; i < nt; i++)
			if (targets[i].k != targets[0].k)
				g.flags |= KX_PRINT_KIND;
	}

	if (!(client = kx_client_new(server, &e)))
		goto fail;
	signal(SIGPIPE, SIG_IGN);

	/* fetch, grouping consecutive targets of one kind into one table */
	jv all = jv_array(); /* every object, for json/yaml/jq */
	int single = nt == 1 && targets[0].name;
	int printed = 0, listed = 0;
	char *list_rv = NULL;
	time_t now = time(NULL);
	for (int i = 0; i < nt;) {
		const kx_kind *k = targets[i].k;
		jv items = jv_array();
		int j = i;
		for (; j < nt && targets[j].k == k; j++) {
			if (!targets[j].name) {
				free(list_rv);
				list_rv = NULL;
				jv l = kx_kubectl_list(client, k, g.ns, g.label_sel, g.field_sel,
						       &list_rv, &e);
				listed = 1;
				if (!jv_is_valid(l)) {
					jv_free(items);
					jv_free(all);
					goto fail;
				}
				l = filter(l);
				jv_array_foreach(l, x, o) items = jv_array_append(items, o);
				jv_free(l);
				continue;
			}
			kx_err ge = KX_ERR_INIT;
			jv o = kx_kubectl_get(client, k, targets[j].ns ? targets[j].ns : g.ns ? g.ns
					      : kx_kubectl_namespace(nsopt), targets[j].name, &ge);
			if (!jv_is_valid(o)) {
				if (ge.status == KX_EREFUSED && ge.http == 404 && g.ignore_nf)
					continue;
				if (ge.status == KX_EUNREACH) {
					e = ge;
					jv_free(items);
					jv_free(all);
					goto fail;
				}
				kx_kubectl_error(&ge);
				status = ge.status;
				continue;
			}
			items = jv_array_append(items, o);
		}
		i = j;
		int n = jv_array_length(jv_copy(items));
		if (g.watch) {
			jv_free(all);
			all = items;
			break;
		}
		if (!n) {
			jv_free(items);
			continue;
		}
		if (g.fmt == F_TABLE || g.fmt == F_WIDE) {
			if (printed)
				kx_buf_addc(&g.out, '\n');
			print_table(k, items, 1, now, NULL);
		} else if (g.fmt == F_NAME) {
			print_names(items);
		} else {
			jv_array_foreach(items, x, o) all = jv_array_append(all, o);
			jv_free(items);
		}
		printed += n;
	}

	if (g.watch) {
		const char *name = targets[0].name;
		if (!g.watch_only) {
			if (name && !list_rv) {
				char rv[64];
				jv first = jv_array_length(jv_copy(all)) ? jv_array_get(jv_copy(all), 0)
									 : jv_null();
				list_rv = strdup(kx_jv_str(first, "metadata.resourceVersion", rv, sizeof rv, ""));
				jv_free(first);
			}
			if (g.fmt == F_TABLE || g.fmt == F_WIDE) {
				if (jv_array_length(jv_copy(all)))
					print_table(targets[0].k, jv_copy(all), 1, now, g.widths);
			} else if (g.fmt == F_NAME) {
				print_names(jv_copy(all));
			} else {
				jv_array_foreach(all, x, o)
				{
					if (g.fmt == F_YAML)
						kx_buf_adds(&g.out, "---\n");
					if (print_value(o, &e) < 0) {
						jv_free(all);
						goto fail;
					}
				}
			}
		} else if (!list_rv) {
			/* --watch-only on one object: start from now */
			jv l = kx_kubectl_list(client, targets[0].k, g.ns, NULL, NULL, &list_rv, &e);
			if (!jv_is_valid(l)) {
				jv_free(all);
				goto fail;
			}
			jv_free(l);
		}
		if (flush_out() < 0)
			return kx_cli_exit(KX_EFAIL);
		if (timeout_ms)
			arm_deadline(timeout_ms);
		int rc = watch(client, targets[0].k, name, list_rv, all, &e);
		free(list_rv);
		if (rc < 0)
			goto fail;
		goto out;
	}
	free(list_rv);

	if (g.fmt == F_JSON || g.fmt == F_YAML || g.fmt == F_JQ) {
		int n = jv_array_length(jv_copy(all));
		if (single && n == 1) {
			if (print_value(jv_array_get(all, 0), &e) < 0)
				goto fail;
		} else if (n || listed) {
			if (print_value(kx_print_list(all), &e) < 0)
				goto fail;
		} else {
			jv_free(all);
		}
	} else {
		jv_free(all);
	}
	if (!printed && listed && (g.fmt == F_TABLE || g.fmt == F_WIDE || g.fmt == F_NAME)) {
		int cluster = 1;
		for (int i = 0; i < nt; i++)
			if (targets[i].k->namespaced)
				cluster = 0;
		if (g.ns && !cluster)
			kx_log_info("No resources found in %s namespace.", g.ns);
		else
			kx_log_info("No resources found");
	}
out:
	if (flush_out() < 0 && status == 0)
		status = KX_EFAIL;
	kx_client_free(client);
	for (int i = 0; i < nt; i++) {
		free(targets[i].name);
		free(targets[i].ns);
	}
	free(targets);
	free(files);
	kx_buf_free(&g.out);
	if (g.lsel)
		kx_selector_free(g.lsel);
	if (g.fsel)
		kx_fieldsel_free(g.fsel);
	if (g.jq)
		jq_teardown(&g.jq);
	return kx_cli_exit(status);
fail:
	flush_out();
	kx_kubectl_error(&e);
	status = e.status ? e.status : KX_EFAIL;
	e.status = 0;
	goto out_fail;
out_fail:
	kx_client_free(client);
	free(targets);
	free(files);
	kx_buf_free(&g.out);
	if (g.jq)
		jq_teardown(&g.jq);
	return kx_cli_exit(status);
}
