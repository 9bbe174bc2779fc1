/* api.c: the HTTP side of kx-store on libmicrohttpd: routing, the
 * request/response plumbing, reads (get, list, watch), discovery, health
 * and metrics. Writes go to the group commit (db.c) as struct op (ops.c). */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "discovery.h"
#include "table.h"
#include "openapi.h"
#include "logs.h"
#include "http.h"
#include "clock.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "objects.h"
#include "ops.h"
#include "selector.h"
#include "ssa.h"
#include "yaml.h"

/* ---- metrics ----------------------------------------------------------------- */

enum { V_GET, V_LIST, V_WATCH, V_CREATE, V_UPDATE, V_PATCH, V_DELETE, V_OTHER, NVERBS };
static const char *const verb_names[] = {"GET", "LIST", "WATCH", "POST", "PUT", "PATCH", "DELETE", "OTHER"};
static const int codes[] = {200, 201, 400, 403, 404, 405, 409, 410, 413, 415, 422, 500, 503, 0};
#define NCODES (sizeof codes / sizeof codes[0])
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])
static atomic_long m_req[NVERBS][NCODES];
static atomic_long m_lat[NVERBS][NBUCKETS + 1];
static atomic_llong m_lat_sum_us[NVERBS];
extern atomic_long m_batches, m_writes;

struct req {
	kx_buf body;
	kx_buf warn; /* warnings for the answer, one a line */
	int too_large;
	int64_t t0;
	int verb;
	int code;
};

static void record(struct req *r)
{
	size_t c = 0;
	double secs = (kx_now_ms() - r->t0) / 1000.0;
	size_t b = 0;

	while (codes[c] && codes[c] != r->code)
		c++;
	atomic_fetch_add(&m_req[r->verb][c], 1);
	if (r->verb == V_WATCH)
		return;
	while (b < NBUCKETS && secs > buckets[b])
		b++;
	atomic_fetch_add(&m_lat[r->verb][b], 1);
	atomic_fetch_add(&m_lat_sum_us[r->verb], (long long)(secs * 1e6));
}

static char *metrics_text(void)
{
	kx_buf b = KX_BUF_INIT;

	kx_buf_adds(&b, "# HELP kx_store_requests_total Requests served, by verb and HTTP code.\n"
			"# TYPE kx_store_requests_total counter\n");
	for (int v = 0; v < NVERBS; v++)
		for (size_t c = 0; c < NCODES; c++) {
			long n = atomic_load(&m_req[v][c]);
			if (!n)
				continue;
			if (codes[c])
				kx_buf_addf(&b, "kx_store_requests_total{verb=\"%s\",code=\"%d\"} %ld\n", verb_names[v], codes[c], n);
			else
				kx_buf_addf(&b, "kx_store_requests_total{verb=\"%s\",code=\"other\"} %ld\n", verb_names[v], n);
		}
	kx_buf_adds(&b, "# HELP kx_store_request_duration_seconds Time to answer a request (watches excluded).\n"
			"# TYPE kx_store_request_duration_seconds histogram\n");
	for (int v = 0; v < NVERBS; v++) {
		long cum = 0;
		if (v == V_WATCH)
			continue;
		for (size_t i = 0; i <= NBUCKETS; i++) {
			cum += atomic_load(&m_lat[v][i]);
			if (i < NBUCKETS)
				kx_buf_addf(&b, "kx_store_request_duration_seconds_bucket{verb=\"%s\",le=\"%g\"} %ld\n", verb_names[v], buckets[i], cum);
			else
				kx_buf_addf(&b, "kx_store_request_duration_seconds_bucket{verb=\"%s\",le=\"+Inf\"} %ld\n", verb_names[v], cum);
		}
		kx_buf_addf(&b, "kx_store_request_duration_seconds_sum{verb=\"%s\"} %g\n", verb_names[v],
			    atomic_load(&m_lat_sum_us[v]) / 1e6);
		kx_buf_addf(&b, "kx_store_request_duration_seconds_count{verb=\"%s\"} %ld\n", verb_names[v], cum);
	}
	kx_buf_addf(&b, "# HELP kx_store_watchers Watches open now.\n# TYPE kx_store_watchers gauge\nkx_store_watchers %d\n",
		    watchers_count());
	kx_buf_addf(&b, "# HELP kx_store_watch_events_total Events sent to watchers.\n# TYPE kx_store_watch_events_total counter\nkx_store_watch_events_total %ld\n",
		    atomic_load(&m_watch_events));
	kx_buf_addf(&b, "# HELP kx_store_revision The newest committed revision.\n# TYPE kx_store_revision gauge\nkx_store_revision %lld\n",
		    (long long)db_rev());
	kx_buf_addf(&b, "# HELP kx_store_compacted_revision History is kept after this revision.\n# TYPE kx_store_compacted_revision gauge\nkx_store_compacted_revision %lld\n",
		    (long long)db_compacted());
	kx_buf_addf(&b, "# HELP kx_store_commits_total Transactions committed (one fsync each).\n# TYPE kx_store_commits_total counter\nkx_store_commits_total %ld\n",
		    atomic_load(&m_batches));
	kx_buf_addf(&b, "# HELP kx_store_writes_total Changes committed.\n# TYPE kx_store_writes_total counter\nkx_store_writes_total %ld\n",
		    atomic_load(&m_writes));
	return kx_buf_steal(&b);
}

/* ---- responses ------------------------------------------------------------------ */

/* One "Warning: 299 - TEXT" header (RFC 7234) for each of r's warnings, as
 * the apiserver sends them; TEXT is a quoted string. */
static void add_warnings(struct MHD_Response *resp, struct req *r)
{
	const char *p = kx_buf_str(&r->warn);

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		kx_buf h = KX_BUF_INIT;
		kx_buf_adds(&h, "299 - \"");
		for (size_t i = 0; i < n; i++) {
			if (p[i] == '"' || p[i] == '\\')
				kx_buf_addc(&h, '\\');
			kx_buf_addc(&h, p[i]);
		}
		kx_buf_addc(&h, '"');
		MHD_add_response_header(resp, "Warning", h.p);
		kx_buf_free(&h);
		p = nl ? nl + 1 : p + n;
	}
}

static enum MHD_Result send_text(struct MHD_Connection *c, struct req *r, int code, char *text,
				 size_t len, const char *ctype)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	add_warnings(resp, r);
	r->code = code;
	rc = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *c, struct req *r, int code, jv v)
{
	char *s = kx_json_dump(v, 0);
	return send_text(c, r, code, s, strlen(s), "application/json");
}

static enum MHD_Result send_err(struct MHD_Connection *c, struct req *r, const st_err *e,
				const kx_kind *k, const char *name)
{
	return send_json(c, r, e->code, st_status(e, k, name));
}

static enum MHD_Result fail(struct MHD_Connection *c, struct req *r, int code, const char *reason,
			    const char *msg)
{
	st_err e;
	st_fail(&e, code, reason, "%s", msg);
	return send_err(c, r, &e, NULL, NULL);
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static int truthy(const char *s)
{
	return s && (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "t"));
}

/* ---- discovery ------------------------------------------------------------------ */

/* /api and /apis answer in the form the Accept header asks for (kubectl
 * asks for the aggregated one first); the rest are plain documents. */
static enum MHD_Result discovery(struct MHD_Connection *c, struct req *r, char **seg, int n)
{
	jv doc;
	enum disc_form f = DISC_PLAIN;

	if (n == 1) {
		f = discovery_form(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"));
		if (f != DISC_PLAIN)
			doc = discovery_aggregated(!strcmp(seg[0], "api"), f);
		else
			doc = !strcmp(seg[0], "api") ? discovery_versions() : discovery_groups();
	} else if (n == 2 && !strcmp(seg[0], "api")) {
		doc = discovery_resources("", seg[1]);
	} else if (n == 2) {
		doc = discovery_group(seg[1]);
	} else {
		doc = discovery_resources(seg[1], seg[2]);
	}
	if (!jv_is_valid(doc))
		return fail(c, r, 404, "NotFound", "the server could not find the requested resource");
	char *s = kx_json_dump(doc, 0);
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", discovery_ctype(f));
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	MHD_add_response_header(resp, "Vary", "Accept");
	r->code = 200;
	enum MHD_Result rc = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result version(struct MHD_Connection *c, struct req *r)
{
	jv o = jv_object();
	o = jv_object_set(o, jv_string("major"), jv_string("1"));
	o = jv_object_set(o, jv_string("minor"), jv_string("30"));
	o = jv_object_set(o, jv_string("gitVersion"), jv_string("v1.30.0-kx." KX_VERSION));
	o = jv_object_set(o, jv_string("gitCommit"), jv_string(""));
	o = jv_object_set(o, jv_string("gitTreeState"), jv_string("clean"));
	o = jv_object_set(o, jv_string("buildDate"), jv_string("1970-01-01T00:00:00Z"));
	o = jv_object_set(o, jv_string("goVersion"), jv_string("kx (C17)"));
	o = jv_object_set(o, jv_string("compiler"), jv_string("cc"));
	o = jv_object_set(o, jv_string("platform"), jv_string("linux/amd64"));
	return send_json(c, r, 200, o);
}

/* ---- reads ------------------------------------------------------------------ */

struct target {
	const kx_kind *k;
	char ns[256], name[256], sub[32];
};

static const char *const common_fields[] = {"metadata.name", "metadata.namespace", NULL};
static const char *const pod_fields[] = {
	"metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
	"spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
	"status.podIP", "status.nominatedNodeName", NULL};
static const char *const event_fields[] = {
	"metadata.name", "metadata.namespace", "involvedObject.kind", "involvedObject.namespace",
	"involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
	"involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
	"reportingComponent", "source", "type", NULL};
static const char *const ns_fields[] = {"metadata.name", "metadata.namespace", "status.phase", NULL};
static const char *const node_fields[] = {"metadata.name", "metadata.namespace", "spec.unschedulable", NULL};
static const char *const secret_fields[] = {"metadata.name", "metadata.namespace", "type", NULL};
static const char *const rs_fields[] = {"metadata.name", "metadata.namespace", "status.replicas", NULL};

static const char *const *allowed_fields(const kx_kind *k)
{
	if (!*k->group && !strcmp(k->kind, "Pod"))
		return pod_fields;
	if (!strcmp(k->kind, "Event"))
		return event_fields;
	if (!strcmp(k->kind, "Namespace"))
		return ns_fields;
	if (!strcmp(k->kind, "Node"))
		return node_fields;
	if (!strcmp(k->kind, "Secret"))
		return secret_fields;
	if (!strcmp(k->kind, "ReplicaSet") || !strcmp(k->kind, "ReplicationController"))
		return rs_fields;
	return common_fields;
}

/* Parse the selectors of a list or watch; -1 with e when malformed. */
static int selectors(struct MHD_Connection *c, const kx_kind *k, kx_selector **ls, kx_fieldsel **fs,
		     st_err *e)
{
	const char *l = arg(c, "labelSelector"), *f = arg(c, "fieldSelector"), *bad;
	kx_err ke = KX_ERR_INIT;

	*ls = NULL;
	*fs = NULL;
	if (l && *l && !(*ls = kx_selector_parse(l, &ke)))
		return st_fail(e, 400, "BadRequest", "unable to parse requirement: %s", ke.msg);
	if (f && *f) {
		if (!(*fs = kx_fieldsel_parse(f, &ke)))
			return st_fail(e, 400, "BadRequest", "invalid field selector: %s", ke.msg);
		if ((bad = kx_fieldsel_unsupported(*fs, allowed_fields(k)))) {
			st_fail(e, 400, "BadRequest", "field label not supported: %s", bad);
			kx_fieldsel_free(*fs);
			*fs = NULL;
			return -1;
		}
	}
	return 0;
}

/* Send a JSON answer, or its meta.k8s.io Table when the client asked. */
static enum MHD_Result send_answer(struct MHD_Connection *c, struct req *r, const kx_kind *k,
				   kx_buf *out)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
	size_t len = out->len;

	if (table_wanted(accept)) {
		kx_err ke = KX_ERR_INIT;
		jv v = kx_json_parse(out->p, out->len, &ke);
		kx_buf_free(out);
		if (!jv_is_valid(v))
			return fail(c, r, 500, "InternalError", "a stored object is not JSON");
		return send_json(c, r, 200, table_of(k, v, arg(c, "includeObject"), time(NULL)));
	}
	return send_text(c, r, 200, kx_buf_steal(out), len, "application/json");
}

/* GET pods/{name}/log: streamed from the node that runs the pod (logs.c). */
static enum MHD_Result do_log(struct MHD_Connection *c, struct req *r, struct target *t)
{
	static const char *const params[] = {"follow", "tailLines", "previous", "timestamps",
					     "limitBytes", "sinceSeconds", "sinceTime", NULL};
	kx_buf key = KX_BUF_INIT, q = KX_BUF_INIT;
	rconn *rc = db_reader();
	char *pod, *node = NULL, nodename[256];
	struct MHD_Response *resp;
	enum MHD_Result ret;
	st_err e;

	if (!rc)
		return fail(c, r, 500, "InternalError", "the store cannot read");
	key_make(&key, t->k, t->ns, t->name);
	pod = db_get(rc, key.p, NULL);
	if (pod) {
		kx_err ke = KX_ERR_INIT;
		jv pj = kx_json_parse(pod, strlen(pod), &ke);
		if (jv_is_valid(pj) && kx_jv_str(pj, "spec.nodeName", nodename, sizeof nodename, NULL) &&
		    *nodename) {
			kx_buf_reset(&key);
			key_make(&key, kx_kind_lookup("nodes"), NULL, nodename);
			node = db_get(rc, key.p, NULL);
		}
		jv_free(pj);
	}
	db_reader_put(rc);
	kx_buf_free(&key);
	if (!pod) {
		char qn[160];
		st_fail(&e, 404, "NotFound", "%s \"%s\" not found", qualified(t->k, qn, sizeof qn), t->name);
		return send_err(c, r, &e, t->k, t->name);
	}
	for (int i = 0; params[i]; i++) {
		const char *v = arg(c, params[i]);
		if (!v)
			continue;
		kx_buf_addf(&q, "%s%s=", q.len ? "&" : "", params[i]);
		kx_url_escape(&q, v);
	}
	resp = logs_response(pod, node, arg(c, "container"), kx_buf_str(&q), &e);
	free(pod);
	free(node);
	kx_buf_free(&q);
	if (!resp)
		return send_err(c, r, &e, t->k, t->name);
	r->code = 200;
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result do_get(struct MHD_Connection *c, struct req *r, struct target *t)
{
	kx_buf key = KX_BUF_INIT, out = KX_BUF_INIT;
	rconn *rc = db_reader();
	char *s;
	st_err e;

	if (!rc)
		return fail(c, r, 500, "InternalError", "the store cannot read");
	key_make(&key, t->k, t->ns, t->name);
	s = db_get(rc, key.p, NULL);
	db_reader_put(rc);
	kx_buf_free(&key);
	if (!s) {
		char q[160];
		st_fail(&e, 404, "NotFound", "%s \"%s\" not found", qualified(t->k, q, sizeof q), t->name);
		return send_err(c, r, &e, t->k, t->name);
	}
	if (!strcmp(t->sub, "scale")) {
		jv sc = op_scale_of(t->k, s);
		free(s);
		return send_json(c, r, 200, sc);
	}
	obj_full(&out, t->k, s, strlen(s));
	free(s);
	return send_answer(c, r, t->k, &out);
}

/* The continue token: base64url of {"rv":N,"start":"key"}, as Kubernetes
 * builds it from the last key it returned. */
static char *make_continue(int64_t rv, const char *key)
{
	jv o = jv_object_set(jv_object(), jv_string("v"), jv_string("meta.k8s.io/v1"));
	o = jv_object_set(o, jv_string("rv"), jv_number((double)rv));
	o = jv_object_set(o, jv_string("start"), jv_string(key));
	char *s = kx_json_dump(o, 0);
	kx_buf b = KX_BUF_INIT;
	base64_encode(&b, (unsigned char *)s, strlen(s), 1);
	free(s);
	return kx_buf_steal(&b);
}

static int parse_continue(const char *tok, const char *prefix, int64_t *rv, char *key, size_t n)
{
	kx_buf b = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	jv o;
	int rc = -1;

	if (base64_decode(&b, tok) < 0 || !b.p)
		goto out;
	o = kx_json_parse(b.p, b.len, &e);
	if (jv_get_kind(o) == JV_KIND_OBJECT && jstr(o, "start", key, n, NULL) &&
	    !strncmp(key, prefix, strlen(prefix))) {
		*rv = kx_jv_int(o, "rv", 0);
		rc = 0;
	}
	jv_free(o);
out:
	kx_buf_free(&b);
	return rc;
}

static int item_matches(const kx_selector *ls, const kx_fieldsel *fs, const char *s)
{
	kx_err e = KX_ERR_INIT;
	jv o;
	int m = 1;

	if (!ls && !fs)
		return 1;
	o = kx_json_parse(s, strlen(s), &e);
	if (!jv_is_valid(o))
		return 0;
	if (ls) {
		jv labels = kx_jv_get(jv_copy(o), "metadata.labels");
		m = kx_selector_match(ls, labels);
		jv_free(labels);
	}
	if (m && fs)
		m = kx_fieldsel_match(fs, o);
	jv_free(o);
	return m;
}

static enum MHD_Result do_list(struct MHD_Connection *c, struct req *r, struct target *t)
{
	kx_selector *ls;
	kx_fieldsel *fs;
	st_err e;
	kx_buf key = KX_BUF_INIT, out = KX_BUF_INIT;
	char start[1024], end[1024], av[128], *cont = NULL;
	const char *lim = arg(c, "limit"), *tok = arg(c, "continue");
	int64_t limit = lim ? strtoll(lim, NULL, 10) : 0, rev = 0, comp = 0, count = 0;
	int more = 0;
	rconn *rc;

	if (selectors(c, t->k, &ls, &fs, &e) < 0)
		return send_err(c, r, &e, t->k, NULL);
	key_make(&key, t->k, t->ns[0] ? t->ns : NULL, NULL);
	snprintf(start, sizeof start, "%s", key.p);
	snprintf(end, sizeof end, "%s", key.p);
	end[strlen(end) - 1]++;
	rc = db_reader();
	if (!rc) {
		kx_selector_free(ls);
		kx_fieldsel_free(fs);
		kx_buf_free(&key);
		return fail(c, r, 500, "InternalError", "the store cannot read");
	}
	sqlite3_step(rc->begin);
	sqlite3_reset(rc->begin);
	if (sqlite3_step(rc->rev) == SQLITE_ROW) {
		rev = sqlite3_column_int64(rc->rev, 0);
		comp = sqlite3_column_int64(rc->rev, 1);
	}
	sqlite3_reset(rc->rev);
	if (tok && *tok) {
		int64_t trev;
		if (parse_continue(tok, key.p, &trev, start, sizeof start) < 0) {
			st_fail(&e, 400, "BadRequest", "continue key is not valid: it was not made by this store for this list");
			goto err;
		}
		if (trev < comp) {
			st_fail(&e, 410, "Expired",
				"The provided continue parameter is too old to display a consistent list result. "
				"You can start a new list without the continue parameter.");
			goto err;
		}
		rev = trev;
	}
	kx_buf_addf(&out, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%lld\"",
		    t->k->kind, kx_kind_api_version(t->k, av, sizeof av), (long long)rev);
	kx_buf_addf(&out, "CONT\x01},\"items\":[");
	size_t contpos = out.len - strlen("CONT\x01},\"items\":[");
	for (int done = 0; !done;) {
		int rows = 0;
		sqlite3_bind_text(rc->list, 1, start, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(rc->list, 2, end, -1, SQLITE_STATIC);
		sqlite3_bind_int(rc->list, 3, 500);
		while (sqlite3_step(rc->list) == SQLITE_ROW) {
			const char *k = (const char *)sqlite3_column_text(rc->list, 0);
			const char *v = (const char *)sqlite3_column_text(rc->list, 1);
			rows++;
			if (limit > 0 && count >= limit) {
				more = 1;
				done = 1;
				break;
			}
			snprintf(start, sizeof start, "%s", k);
			if (!item_matches(ls, fs, v))
				continue;
			if (count++)
				kx_buf_addc(&out, ',');
			kx_buf_adds(&out, v);
		}
		sqlite3_reset(rc->list);
		sqlite3_clear_bindings(rc->list);
		if (rows < 500)
			done = 1;
	}
	kx_buf_adds(&out, "]}");
	sqlite3_step(rc->end);
	sqlite3_reset(rc->end);
	db_reader_put(rc);
	/* put the continue token (or nothing) where CONT\1 was */
	{
		kx_buf fin = KX_BUF_INIT;
		kx_buf_add(&fin, out.p, contpos);
		if (more) {
			cont = make_continue(rev, start);
			kx_buf_addf(&fin, ",\"continue\":\"%s\"", cont);
			free(cont);
		}
		kx_buf_adds(&fin, out.p + contpos + 5);
		kx_buf_free(&out);
		out = fin;
	}
	kx_selector_free(ls);
	kx_fieldsel_free(fs);
	kx_buf_free(&key);
	return send_answer(c, r, t->k, &out);
err:
	db_reader_put(rc);
	kx_selector_free(ls);
	kx_fieldsel_free(fs);
	kx_buf_free(&key);
	kx_buf_free(&out);
	return send_err(c, r, &e, t->k, NULL);
}

static enum MHD_Result do_watch(struct MHD_Connection *c, struct req *r, struct target *t)
{
	struct watch_params p = {.kind = t->k};
	const char *rv = arg(c, "resourceVersion"), *to = arg(c, "timeoutSeconds");
	const char *l = arg(c, "labelSelector"), *f = arg(c, "fieldSelector");
	kx_selector *ls;
	kx_fieldsel *fs;
	struct MHD_Response *resp;
	st_err e;
	enum MHD_Result ret;

	if (selectors(c, t->k, &ls, &fs, &e) < 0)
		return send_err(c, r, &e, t->k, NULL);
	kx_selector_free(ls);
	kx_fieldsel_free(fs);
	snprintf(p.ns, sizeof p.ns, "%s", t->ns);
	p.label_sel = l && *l ? strdup(l) : NULL;
	p.field_sel = f && *f ? strdup(f) : NULL;
	p.from = rv && *rv && strcmp(rv, "0") ? strtoll(rv, NULL, 10) : -1;
	p.bookmarks = truthy(arg(c, "allowWatchBookmarks"));
	p.table = table_wanted(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"));
	snprintf(p.include, sizeof p.include, "%s", arg(c, "includeObject") ? arg(c, "includeObject") : "");
	p.timeout_ms = to ? strtoll(to, NULL, 10) * 1000 : 1800 * 1000;
	if (p.timeout_ms <= 0)
		p.timeout_ms = 1800 * 1000;
	resp = watch_response(&p, &e);
	if (!resp)
		return send_err(c, r, &e, t->k, NULL);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	r->code = 200;
	r->verb = V_WATCH;
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- writes -------------------------------------------------------------------- */

/* Parse a request body as a JSON object; -1 with e (400) when it is not one. */
static int body_object(struct req *r, jv *out, st_err *e)
{
	kx_err ke = KX_ERR_INIT;

	if (!r->body.len)
		return st_fail(e, 400, "BadRequest", "the request has no body; send the object as JSON");
	*out = kx_json_parse(r->body.p, r->body.len, &ke);
	if (!jv_is_valid(*out))
		return st_fail(e, 400, "BadRequest", "the request body is not valid JSON: %s", ke.msg);
	return 0;
}

static int check_type(const kx_kind *k, jv o, st_err *e)
{
	char av[128], want[128], kind[128];

	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return st_fail(e, 400, "BadRequest", "the request body must be a JSON object, not %s",
			       jv_kind_name(jv_get_kind(o)));
	kx_kind_api_version(k, want, sizeof want);
	if (jstr(o, "apiVersion", av, sizeof av, NULL) && strcmp(av, want))
		return st_fail(e, 400, "BadRequest",
			       "the API version in the data (%s) does not match the expected API version (%s)", av, want);
	if (jstr(o, "kind", kind, sizeof kind, NULL) && strcmp(kind, k->kind))
		return st_fail(e, 400, "BadRequest",
			       "the kind in the data (%s) does not match the expected kind (%s)", kind, k->kind);
	return 0;
}

/* Who owns the fields a write sets (?fieldManager, else the User-Agent's
 * first word) and whether an apply may take them (?force=true). */
static void op_manager(struct MHD_Connection *c, struct op *o)
{
	const char *fm = arg(c, "fieldManager");

	if (o->manager[0])
		return;
	if (fm && *fm)
		snprintf(o->manager, sizeof o->manager, "%s", fm);
	else
		kx_ssa_default_manager(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent"),
				       o->manager, sizeof o->manager);
	o->force = truthy(arg(c, "force"));
}

/* A dry run answers as the apiserver does: the object as the write would
 * leave it, with the resourceVersion it has now (none for a create), not
 * the revision the undone write took (kubectl diff shows that field). */
static void dry_run_version(struct op *o)
{
	kx_err ke = KX_ERR_INIT;
	jv obj;

	if (jv_is_valid(o->answer)) {
		obj = o->answer;
	} else if (o->text) {
		obj = kx_json_parse(o->text, strlen(o->text), &ke);
		if (!jv_is_valid(obj)) {
			jv_free(obj);
			return;
		}
		free(o->text);
		o->text = NULL;
	} else {
		return;
	}
	o->answer = jv_invalid();
	jv rv = kx_jv_get(jv_copy(obj), "metadata.resourceVersion");
	int has_rv = jv_get_kind(rv) == JV_KIND_STRING;
	jv_free(rv);
	if (has_rv) {
		if (o->verb == OP_CREATE) {
			obj = kx_jv_del(obj, "metadata.resourceVersion");
		} else {
			kx_buf key = KX_BUF_INIT;
			rconn *rc = db_reader();
			int64_t rev = 0;
			char *s = NULL;
			key_make(&key, o->k, o->ns, o->name);
			if (rc)
				s = db_get(rc, key.p, &rev);
			db_reader_put(rc);
			kx_buf_free(&key);
			if (s)
				obj = kx_jv_set(obj, "metadata.resourceVersion", jv_string_fmt("%lld", (long long)rev));
			free(s);
		}
	}
	o->answer = obj;
}

static enum MHD_Result run_op(struct MHD_Connection *c, struct req *r, struct op *o)
{
	wreq w = {.fn = op_run, .arg = o};
	enum MHD_Result ret;
	const char *dry = arg(c, "dryRun");

	o->answer = jv_invalid();
	if (dry && strcmp(dry, "All")) {
		char msg[300];
		snprintf(msg, sizeof msg, "dryRun: Unsupported value: \"%.200s\": supported values: \"All\"", dry);
		jv_free(o->body);
		op_clear(o);
		return fail(c, r, 400, "BadRequest", msg);
	}
	w.dry_run = dry != NULL;
	op_manager(c, o);
	int rc = db_write(&w);
	if (rc == 0 && w.dry_run)
		dry_run_version(o);
	if (rc < 0) {
		jv st = st_status(&w.err, o->k, o->name);
		if (jv_get_kind(o->causes) == JV_KIND_ARRAY) {
			st = kx_jv_set(st, "details.causes", o->causes);
			o->causes = jv_invalid();
		}
		ret = send_json(c, r, w.err.code, st);
	} else if (jv_is_valid(o->answer)) {
		ret = send_json(c, r, w.code ? w.code : 200, o->answer);
		o->answer = jv_invalid();
	} else if (o->text) {
		ret = send_text(c, r, w.code ? w.code : 200, o->text, strlen(o->text), "application/json");
		o->text = NULL;
	} else {
		ret = fail(c, r, 500, "InternalError", "the write had no answer");
	}
	jv_free(w.result);
	jv_free(o->answer);
	jv_free(o->body);
	jv_free(o->causes);
	free(o->text);
	op_clear(o);
	return ret;
}

static void op_init(struct op *o, const struct target *t, int verb)
{
	memset(o, 0, sizeof *o);
	o->verb = verb;
	o->k = t->k;
	o->grace = -1;
	o->body = jv_null();
	o->answer = jv_invalid();
	o->causes = jv_invalid();
	snprintf(o->ns, sizeof o->ns, "%s", t->ns);
	snprintf(o->name, sizeof o->name, "%s", t->name);
	snprintf(o->sub, sizeof o->sub, "%s", t->sub);
}

/* fieldValidation: Strict refuses the fields the kind's schema does not
 * declare, Warn accepts them with one warning each (a Warning header on the
 * answer, which kubectl prints), Ignore (the default) accepts them; each in
 * Kubernetes' words. */
static int check_fields(struct MHD_Connection *c, struct req *r, const kx_kind *k, jv obj, st_err *e)
{
	const char *fv = arg(c, "fieldValidation");
	kx_buf list = KX_BUF_INIT;
	int strict;

	if (!fv || !*fv || !strcmp(fv, "Ignore"))
		return 0;
	strict = !strcmp(fv, "Strict");
	if (!strict && strcmp(fv, "Warn"))
		return st_fail(e, 400, "BadRequest",
			       "fieldValidation: Unsupported value: \"%.100s\": supported values: "
			       "\"Ignore\", \"Strict\", \"Warn\"", fv);
	jv unknown = openapi_unknown_fields(k, obj);
	jv_array_foreach(unknown, i, f)
	{
		if (strict)
			kx_buf_addf(&list, "%sunknown field \"%s\"", i ? ", " : "", jv_string_value(f));
		else
			kx_buf_addf(&r->warn, "unknown field \"%s\"\n", jv_string_value(f));
		jv_free(f);
	}
	jv_free(unknown);
	int rc = list.len ? st_fail(e, 400, "BadRequest",
				    "%s in version \"%s\" cannot be handled as a %s: strict decoding error: %s",
				    k->kind, k->version, k->kind, list.p)
			  : 0;
	kx_buf_free(&list);
	return rc;
}

static enum MHD_Result do_create(struct MHD_Connection *c, struct req *r, struct target *t)
{
	struct op o;
	st_err e;
	jv obj;
	char ns[256];

	if (body_object(r, &obj, &e) < 0 || check_type(t->k, obj, &e) < 0 ||
	    check_fields(c, r, t->k, obj, &e) < 0) {
		if (e.code == 400 && jv_is_valid(obj))
			jv_free(obj);
		return send_err(c, r, &e, t->k, NULL);
	}
	if (t->k->namespaced) {
		if (jstr(obj, "metadata.namespace", ns, sizeof ns, NULL) && ns[0] && strcmp(ns, t->ns)) {
			jv_free(obj);
			st_fail(&e, 400, "BadRequest",
				"the namespace of the provided object (%s) does not match the namespace sent on the request (%s)",
				ns, t->ns);
			return send_err(c, r, &e, t->k, NULL);
		}
	}
	obj = obj_defaults(t->k, obj, 1);
	if (!*t->k->group && !strcmp(t->k->kind, "Pod")) {
		/* kubectl run sends "status": {} */
		jv st = kx_jv_get(jv_copy(obj), "status.phase");
		if (jv_get_kind(st) == JV_KIND_NULL) {
			jv spec = kx_jv_get(jv_copy(obj), "spec");
			obj = kx_jv_set(obj, "status.phase", jv_string("Pending"));
			obj = kx_jv_set(obj, "status.qosClass", jv_string(qos_class(spec)));
			jv_free(spec);
		}
		jv_free(st);
	} else if (!*t->k->group && !strcmp(t->k->kind, "Namespace")) {
		jv st = kx_jv_get(jv_copy(obj), "status.phase");
		if (jv_get_kind(st) == JV_KIND_NULL)
			obj = kx_jv_set(obj, "status.phase", jv_string("Active"));
		jv_free(st);
	}
	if (obj_validate(t->k, obj, &e) < 0) {
		jv_free(obj);
		return send_err(c, r, &e, t->k, NULL);
	}
	op_init(&o, t, OP_CREATE);
	jstr(obj, "metadata.name", o.name, sizeof o.name, "");
	o.body = obj;
	op_manager(c, &o);
	op_prepare_create(&o);
	return run_op(c, r, &o);
}

static enum MHD_Result do_bind(struct MHD_Connection *c, struct req *r, struct target *t)
{
	struct op o;
	st_err e;
	jv obj;
	char name[256], target[256];

	if (body_object(r, &obj, &e) < 0)
		return send_err(c, r, &e, t->k, NULL);
	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		jv_free(obj);
		return fail(c, r, 400, "BadRequest", "a Binding must be a JSON object");
	}
	jstr(obj, "metadata.name", name, sizeof name, t->name);
	if (t->name[0] && strcmp(name, t->name)) {
		jv_free(obj);
		return fail(c, r, 400, "BadRequest", "the name of the Binding does not match the pod on the URL");
	}
	if (!jstr(obj, "target.name", target, sizeof target, NULL) || !target[0]) {
		jv_free(obj);
		st_fail(&e, 422, "Invalid", "Binding \"%s\" is invalid: target.name: Required value", name);
		snprintf(e.field, sizeof e.field, "target.name");
		return send_err(c, r, &e, t->k, name);
	}
	struct target pt = *t;
	pt.k = kx_kind_by_resource("", "v1", "pods");
	snprintf(pt.name, sizeof pt.name, "%s", name);
	pt.sub[0] = 0;
	op_init(&o, &pt, OP_BIND);
	o.body = obj;
	return run_op(c, r, &o);
}

static enum MHD_Result do_update(struct MHD_Connection *c, struct req *r, struct target *t)
{
	struct op o;
	st_err e;
	jv obj;
	int scale = !strcmp(t->sub, "scale");

	if (body_object(r, &obj, &e) < 0)
		return send_err(c, r, &e, t->k, t->name);
	if (scale ? jv_get_kind(obj) != JV_KIND_OBJECT : check_type(t->k, obj, &e) < 0) {
		jv_free(obj);
		if (scale)
			st_fail(&e, 400, "BadRequest", "a Scale must be a JSON object");
		return send_err(c, r, &e, t->k, t->name);
	}
	if (!scale && check_fields(c, r, t->k, obj, &e) < 0) {
		jv_free(obj);
		return send_err(c, r, &e, t->k, t->name);
	}
	op_init(&o, t, scale ? OP_SCALE_UPDATE : OP_UPDATE);
	o.body = obj;
	return run_op(c, r, &o);
}

/* Server-side apply: the body is YAML (or JSON) holding one object; its
 * merge and ownership are own.c's, inside the transaction. */
static enum MHD_Result do_apply(struct MHD_Connection *c, struct req *r, struct target *t)
{
	const char *fm = arg(c, "fieldManager");
	kx_err ke = KX_ERR_INIT;
	struct op o;
	st_err e;
	jv docs, obj;

	if (t->sub[0])
		return fail(c, r, 400, "BadRequest", "apply is only supported on the object itself, not on a subresource");
	if (!fm || !*fm) {
		st_fail(&e, 422, "Invalid",
			"PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
		return send_err(c, r, &e, NULL, NULL);
	}
	if (!r->body.len)
		return fail(c, r, 400, "BadRequest", "the request has no body; send the applied configuration as YAML");
	docs = kx_yaml_parse(r->body.p, r->body.len, "body", &ke);
	if (!jv_is_valid(docs)) {
		st_fail(&e, 400, "BadRequest", "error decoding YAML: %s", ke.msg);
		return send_err(c, r, &e, t->k, t->name);
	}
	if (jv_array_length(jv_copy(docs)) != 1) {
		jv_free(docs);
		return fail(c, r, 400, "BadRequest", "the applied configuration must be exactly one YAML document");
	}
	obj = jv_array_get(docs, 0);
	if (check_type(t->k, obj, &e) < 0 || check_fields(c, r, t->k, obj, &e) < 0) {
		jv_free(obj);
		return send_err(c, r, &e, t->k, t->name);
	}
	if (!jstr(obj, "apiVersion", (char[128]){0}, 128, NULL) || !jstr(obj, "kind", (char[128]){0}, 128, NULL)) {
		jv_free(obj);
		return fail(c, r, 400, "BadRequest", "the applied configuration must name its apiVersion and kind");
	}
	op_init(&o, t, OP_PATCH);
	o.ptype = PATCH_APPLY;
	o.body = obj;
	return run_op(c, r, &o);
}

static enum MHD_Result do_patch(struct MHD_Connection *c, struct req *r, struct target *t)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	struct op o;
	st_err e;
	jv obj;
	int ptype = 0;

	if (ct && !strncmp(ct, "application/merge-patch+json", 28))
		ptype = PATCH_MERGE;
	else if (ct && !strncmp(ct, "application/json-patch+json", 27))
		ptype = PATCH_JSON;
	else if (ct && !strncmp(ct, "application/strategic-merge-patch+json", 38))
		ptype = PATCH_STRATEGIC;
	else if (ct && !strncmp(ct, "application/apply-patch+yaml", 28))
		ptype = PATCH_APPLY;
	if (ptype == PATCH_APPLY)
		return do_apply(c, r, t);
	if (!ptype) {
		st_fail(&e, 415, "UnsupportedMediaType",
			"the body of the request was in an unknown format (%s) - accepted media types include: "
			"application/json-patch+json, application/merge-patch+json, "
			"application/apply-patch+yaml, application/strategic-merge-patch+json",
			ct ? ct : "no Content-Type");
		return send_err(c, r, &e, t->k, t->name);
	}
	if (body_object(r, &obj, &e) < 0)
		return send_err(c, r, &e, t->k, t->name);
	if (ptype != PATCH_JSON && jv_get_kind(obj) != JV_KIND_OBJECT) {
		jv_free(obj);
		return fail(c, r, 400, "BadRequest", "a merge patch must be a JSON object");
	}
	if (ptype != PATCH_JSON && !*t->sub && check_fields(c, r, t->k, obj, &e) < 0) {
		jv_free(obj);
		return send_err(c, r, &e, t->k, t->name);
	}
	op_init(&o, t, !strcmp(t->sub, "scale") ? OP_SCALE_PATCH : OP_PATCH);
	o.ptype = ptype;
	o.body = obj;
	return run_op(c, r, &o);
}

static void delete_options(struct MHD_Connection *c, struct req *r, struct op *o)
{
	const char *pp = arg(c, "propagationPolicy"), *gp = arg(c, "gracePeriodSeconds");
	kx_err ke = KX_ERR_INIT;

	if (r->body.len) {
		jv opts = kx_json_parse(r->body.p, r->body.len, &ke);
		if (jv_get_kind(opts) == JV_KIND_OBJECT) {
			jstr(opts, "propagationPolicy", o->propagation, sizeof o->propagation, "");
			if (kx_jv_bool(opts, "orphanDependents", 0))
				snprintf(o->propagation, sizeof o->propagation, "Orphan");
			o->grace = kx_jv_int(opts, "gracePeriodSeconds", -1);
			jstr(opts, "preconditions.uid", o->pre_uid, sizeof o->pre_uid, "");
			jstr(opts, "preconditions.resourceVersion", o->pre_rv, sizeof o->pre_rv, "");
		}
		jv_free(opts);
	}
	if (pp)
		snprintf(o->propagation, sizeof o->propagation, "%s", pp);
	if (gp)
		o->grace = strtoll(gp, NULL, 10);
}

static enum MHD_Result do_delete(struct MHD_Connection *c, struct req *r, struct target *t)
{
	struct op o;

	op_init(&o, t, OP_DELETE);
	delete_options(c, r, &o);
	return run_op(c, r, &o);
}

/* DELETE on a collection: each selected object, one by one. */
static enum MHD_Result do_delete_collection(struct MHD_Connection *c, struct req *r, struct target *t)
{
	kx_selector *ls;
	kx_fieldsel *fs;
	st_err e;
	kx_buf key = KX_BUF_INIT;
	char start[1024], end[1024];
	char **names = NULL;
	size_t n = 0, cap = 0;
	rconn *rc;

	if (selectors(c, t->k, &ls, &fs, &e) < 0)
		return send_err(c, r, &e, t->k, NULL);
	key_make(&key, t->k, t->ns[0] ? t->ns : NULL, NULL);
	snprintf(start, sizeof start, "%s", key.p);
	snprintf(end, sizeof end, "%s", key.p);
	end[strlen(end) - 1]++;
	kx_buf_free(&key);
	rc = db_reader();
	if (rc) {
		sqlite3_bind_text(rc->list, 1, start, -1, SQLITE_STATIC);
		sqlite3_bind_text(rc->list, 2, end, -1, SQLITE_STATIC);
		sqlite3_bind_int(rc->list, 3, 1 << 30);
		while (sqlite3_step(rc->list) == SQLITE_ROW) {
			const char *k = (const char *)sqlite3_column_text(rc->list, 0);
			const char *v = (const char *)sqlite3_column_text(rc->list, 1);
			if (!item_matches(ls, fs, v))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				names = realloc(names, cap * sizeof *names);
			}
			names[n++] = strdup(k);
		}
		sqlite3_reset(rc->list);
		sqlite3_clear_bindings(rc->list);
		db_reader_put(rc);
	}
	kx_selector_free(ls);
	kx_fieldsel_free(fs);
	for (size_t i = 0; i < n; i++) {
		struct op o;
		char ns[256], name[256];
		key_parse(names[i], ns, sizeof ns, name, sizeof name);
		struct target ot = *t;
		snprintf(ot.ns, sizeof ot.ns, "%s", ns);
		snprintf(ot.name, sizeof ot.name, "%s", name);
		op_init(&o, &ot, OP_DELETE);
		delete_options(c, r, &o);
		wreq w = {.fn = op_run, .arg = &o};
		db_write(&w);
		jv_free(w.result);
		jv_free(o.answer);
		free(o.text);
		free(names[i]);
	}
	free(names);
	st_err ok = {.code = 200, .reason = ""};
	return send_json(c, r, 200, st_status(&ok, NULL, NULL));
}

/* ---- routing ------------------------------------------------------------------- */

static int has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	const char *p = list;

	while ((p = strstr(p, w))) {
		if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

static enum MHD_Result not_allowed(struct MHD_Connection *c, struct req *r)
{
	return fail(c, r, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}

static enum MHD_Result resource(struct MHD_Connection *c, struct req *r, const char *method,
				const char *group, const char *ver, char **seg, int n)
{
	struct target t = {0};
	int watch = 0;
	const kx_kind *k;

	if (n > 0 && !strcmp(seg[0], "watch")) {
		watch = 1;
		seg++;
		n--;
	}
	if (n >= 3 && !strcmp(seg[0], "namespaces") && (k = kx_kind_by_resource(group, ver, seg[2])) &&
	    k->namespaced) {
		snprintf(t.ns, sizeof t.ns, "%s", seg[1]);
		seg += 2;
		n -= 2;
	}
	if (n < 1 || n > 3 || !(t.k = kx_kind_by_resource(group, ver, seg[0])))
		return fail(c, r, 404, "NotFound", "the server could not find the requested resource");
	if (n >= 2)
		snprintf(t.name, sizeof t.name, "%s", seg[1]);
	if (n == 3) {
		snprintf(t.sub, sizeof t.sub, "%s", seg[2]);
		if (!has_word(t.k->subresources, t.sub))
			return fail(c, r, 404, "NotFound", "the server could not find the requested resource");
	}
	if (t.k->namespaced && !t.ns[0] && t.name[0])
		return fail(c, r, 404, "NotFound", "the server could not find the requested resource");
	watch = watch || truthy(arg(c, "watch"));
	if (!strcmp(method, "GET")) {
		if (t.name[0] && !watch) {
			r->verb = V_GET;
			if (!strcmp(t.sub, "log"))
				return do_log(c, r, &t);
			if (t.sub[0] && strcmp(t.sub, "status") && strcmp(t.sub, "scale"))
				return not_allowed(c, r);
			return do_get(c, r, &t);
		}
		if (t.name[0] || t.sub[0])
			return not_allowed(c, r);
		r->verb = watch ? V_WATCH : V_LIST;
		if (!has_word(t.k->verbs, watch ? "watch" : "list"))
			return not_allowed(c, r);
		return watch ? do_watch(c, r, &t) : do_list(c, r, &t);
	}
	if (!strcmp(method, "POST")) {
		r->verb = V_CREATE;
		if (!strcmp(t.k->kind, "Binding") && !t.name[0])
			return do_bind(c, r, &t);
		if (!strcmp(t.sub, "binding"))
			return do_bind(c, r, &t);
		if (t.name[0] || !has_word(t.k->verbs, "create"))
			return not_allowed(c, r);
		return do_create(c, r, &t);
	}
	if (!strcmp(method, "PUT")) {
		r->verb = V_UPDATE;
		if (!t.name[0] || !has_word(t.k->verbs, "update") || !strcmp(t.sub, "binding"))
			return not_allowed(c, r);
		return do_update(c, r, &t);
	}
	if (!strcmp(method, "PATCH")) {
		r->verb = V_PATCH;
		if (!t.name[0] || !has_word(t.k->verbs, "patch") || !strcmp(t.sub, "binding") ||
		    !strcmp(t.sub, "finalize"))
			return not_allowed(c, r);
		return do_patch(c, r, &t);
	}
	if (!strcmp(method, "DELETE")) {
		r->verb = V_DELETE;
		if (t.sub[0])
			return not_allowed(c, r);
		if (!t.name[0])
			return has_word(t.k->verbs, "deletecollection") ? do_delete_collection(c, r, &t)
									 : not_allowed(c, r);
		return has_word(t.k->verbs, "delete") ? do_delete(c, r, &t) : not_allowed(c, r);
	}
	return not_allowed(c, r);
}

static enum MHD_Result route(struct MHD_Connection *c, struct req *r, const char *url,
			     const char *method)
{
	char path[2048], *seg[16], *save = NULL, *p;
	int n = 0;

	snprintf(path, sizeof path, "%s", url);
	for (p = strtok_r(path, "/", &save); p && n < 16; p = strtok_r(NULL, "/", &save))
		seg[n++] = p;
	if (p)
		return fail(c, r, 404, "NotFound", "the server could not find the requested resource");
	if (n == 1 && (!strcmp(seg[0], "healthz") || !strcmp(seg[0], "livez") || !strcmp(seg[0], "readyz"))) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return not_allowed(c, r);
		return send_text(c, r, atomic_load(&stopping) ? 503 : 200,
				 strdup(atomic_load(&stopping) ? "shutting down" : "ok"),
				 atomic_load(&stopping) ? 13 : 2, "text/plain; charset=utf-8");
	}
	if (n == 1 && !strcmp(seg[0], "version"))
		return strcmp(method, "GET") ? not_allowed(c, r) : version(c, r);
	if (n == 1 && !strcmp(seg[0], "metrics")) {
		char *m = metrics_text();
		return strcmp(method, "GET") ? (free(m), not_allowed(c, r))
					     : send_text(c, r, 200, m, strlen(m), "text/plain; version=0.0.4");
	}
	if (n == 2 && !strcmp(seg[0], "openapi") && !strcmp(seg[1], "v2")) {
		/* kubectl asks for protobuf ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf") */
		const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
		int proto = accept && strstr(accept, "application/com.github.proto-openapi.spec.v2");
		size_t len;
		if (strcmp(method, "GET"))
			return not_allowed(c, r);
		char *doc = openapi_v2(proto, &len);
		if (!doc)
			return fail(c, r, 500, "InternalError", "the OpenAPI v2 document could not be made");
		return send_text(c, r, 200, doc, len,
				 proto ? "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" : "application/json");
	}
	if (n >= 2 && !strcmp(seg[0], "openapi") && !strcmp(seg[1], "v3")) {
		char gv[512] = "";
		size_t len;
		for (int i = 2; i < n; i++)
			snprintf(gv + strlen(gv), sizeof gv - strlen(gv), "%s%s", i > 2 ? "/" : "", seg[i]);
		if (strcmp(method, "GET"))
			return not_allowed(c, r);
		char *doc = openapi_doc(gv, &len);
		if (!doc)
			return fail(c, r, 404, "NotFound", "the server could not find the requested resource");
		return send_text(c, r, 200, doc, len, "application/json");
	}
	if (n >= 1 && !strcmp(seg[0], "api")) {
		if (n <= 2)
			return strcmp(method, "GET") ? not_allowed(c, r) : discovery(c, r, seg, n);
		if (strcmp(seg[1], "v1"))
			return fail(c, r, 404, "NotFound", "the server could not find the requested resource");
		return resource(c, r, method, "", "v1", seg + 2, n - 2);
	}
	if (n >= 1 && !strcmp(seg[0], "apis")) {
		if (n <= 3)
			return strcmp(method, "GET") ? not_allowed(c, r) : discovery(c, r, seg, n);
		return resource(c, r, method, seg[1], seg[2], seg + 3, n - 3);
	}
	return fail(c, r, 404, "NotFound", "the server could not find the requested resource");
}

/* ---- libmicrohttpd glue -------------------------------------------------------- */

enum MHD_Result api_handler(void *cls, struct MHD_Connection *c, const char *url,
			    const char *method, const char *ver, const char *data, size_t *size,
			    void **ctx)
{
	struct req *r = *ctx;

	if (!r) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		r = calloc(1, sizeof *r);
		r->t0 = kx_now_ms();
		r->verb = V_OTHER;
		r->body.max = MAX_BODY;
		r->warn.max = 64 * 1024;
		if (cl && strtoull(cl, NULL, 10) > MAX_BODY)
			r->too_large = 1;
		*ctx = r;
		return MHD_YES;
	}
	if (*size) {
		if (!r->too_large && kx_buf_add(&r->body, data, *size) < 0)
			r->too_large = 1;
		*size = 0;
		return MHD_YES;
	}
	if (r->too_large) {
		char msg[128];
		snprintf(msg, sizeof msg, "the request body is larger than %u bytes", MAX_BODY);
		return fail(c, r, 413, "RequestEntityTooLarge", msg);
	}
	return route(c, r, url, method);
}

void api_completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *ctx;

	if (!r)
		return;
	record(r);
	kx_buf_free(&r->body);
	kx_buf_free(&r->warn);
	free(r);
	*ctx = NULL;
}
