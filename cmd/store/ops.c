/* ops.c: create, update, patch, delete, binding and scale, each run by the
 * inside a group commit's transaction (see db.c), so the check of a
 * precondition and the write it guards cannot be separated. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "objects.h"
#include "ops.h"
#include "quota.h"
#include "patch.h"
#include "smp.h"
#include "selector.h"

/* ---- keys ------------------------------------------------------------------ */

const char *kind_kres(const kx_kind *k)
{
	static char names[64][96];
	size_t i = (size_t)(k - kx_kinds);

	if (i >= 64)
		return k->resource;
	if (!names[i][0]) {
		int dup = 0;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(kx_kinds[j].resource, k->resource))
				dup = 1;
		if (dup)
			snprintf(names[i], sizeof names[i], "%s.%s", k->resource, k->group);
		else
			snprintf(names[i], sizeof names[i], "%s", k->resource);
	}
	return names[i];
}

const kx_kind *kind_by_kres(const char *kres, size_t n)
{
	for (size_t i = 0; i < kx_kinds_count; i++) {
		const char *r = kind_kres(&kx_kinds[i]);
		if (strlen(r) == n && !strncmp(r, kres, n))
			return &kx_kinds[i];
	}
	return NULL;
}

void key_make(kx_buf *b, const kx_kind *k, const char *ns, const char *name)
{
	kx_buf_addf(b, "/registry/%s/", kind_kres(k));
	if (k->namespaced && ns && *ns)
		kx_buf_addf(b, "%s/", ns);
	if (name && *name) {
		b->len--; /* no trailing slash after a name */
		kx_buf_addf(b, "/%s", name);
	}
}

const kx_kind *key_parse(const char *key, char *ns, size_t nsn, char *name, size_t namen)
{
	const char *p, *slash;
	const kx_kind *k;

	ns[0] = name[0] = 0;
	if (strncmp(key, "/registry/", 10))
		return NULL;
	p = key + 10;
	slash = strchr(p, '/');
	if (!slash || !(k = kind_by_kres(p, (size_t)(slash - p))))
		return NULL;
	p = slash + 1;
	if (k->namespaced) {
		slash = strchr(p, '/');
		if (!slash)
			return NULL;
		snprintf(ns, nsn, "%.*s", (int)(slash - p), p);
		p = slash + 1;
	}
	snprintf(name, namen, "%s", p);
	return k;
}

int obj_full(kx_buf *b, const kx_kind *k, const char *stored, size_t n)
{
	char av[128];

	if (n < 2 || stored[0] != '{' || !strncmp(stored, "{\"kind\":", 8))
		return kx_buf_add(b, stored, n);
	kx_kind_api_version(k, av, sizeof av);
	kx_buf_addf(b, "{\"kind\":\"%s\",\"apiVersion\":\"%s\"", k->kind, av);
	if (n > 2)
		kx_buf_addc(b, ',');
	return kx_buf_add(b, stored + 1, n - 1);
}

/* ---- helpers --------------------------------------------------------------- */

static void make_uid(char *out, size_t n)
{
	unsigned char r[16];

	if (getrandom(r, sizeof r, 0) != sizeof r)
		for (int i = 0; i < 16; i++)
			r[i] = (unsigned char)rand();
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(out, n,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
		 r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
		 r[15]);
}

static void now_str(char *buf, size_t n, int64_t plus)
{
	kx_time_format(time(NULL) + plus, buf, n);
}

static jv parse_stored(const kx_kind *k, const char *s)
{
	kx_buf b = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	jv v;

	obj_full(&b, k, s, strlen(s));
	v = kx_json_parse(b.p, b.len, &e);
	kx_buf_free(&b);
	return v;
}


static void op_key(kx_buf *b, const struct op *o)
{
	key_make(b, o->k, o->ns, o->name);
}

static int not_found(st_err *e, const struct op *o)
{
	char q[160];
	return st_fail(e, 404, "NotFound", "%s \"%s\" not found", qualified(o->k, q, sizeof q), o->name);
}

static int conflict(st_err *e, const struct op *o, const char *why)
{
	char q[160];
	return st_fail(e, 409, "Conflict", "Operation cannot be fulfilled on %s \"%s\": %s",
		       qualified(o->k, q, sizeof q), o->name, why);
}

static const char stale[] =
	"the object has been modified; please apply your changes to the latest version and try again";

/* The last change's full text, for the answer. */
static void answer_last(struct op *o, txn *t, jv obj)
{
	const char *s = txn_last_text(t);

	jv_free(obj);
	free(o->text);
	o->text = s ? strdup(s) : NULL;
}

static int64_t put(struct op *o, txn *t, const char *key, jv obj, st_err *e)
{
	int64_t rev = txn_put(t, key, o->k, jv_copy(obj), e);
	if (rev < 0) {
		jv_free(obj);
		return -1;
	}
	answer_last(o, t, obj);
	return rev;
}

static int64_t del(struct op *o, txn *t, const char *key, jv obj, st_err *e)
{
	int64_t rev = txn_del(t, key, o->k, jv_copy(obj), e);
	if (rev < 0) {
		jv_free(obj);
		return -1;
	}
	answer_last(o, t, obj);
	if (!strcmp(o->k->kind, "Service"))
		txn_release_owner(t, key);
	return rev;
}

/* ---- services: cluster IPs and node ports ------------------------------- */

static int alloc_service(struct op *o, txn *t, const char *key, jv *obj, jv old, st_err *e)
{
	char type[32], cip[64], what[96];
	jv ports;

	jstr(*obj, "spec.type", type, sizeof type, "ClusterIP");
	if (!strcmp(type, "ExternalName"))
		return 0;
	jstr(*obj, "spec.clusterIP", cip, sizeof cip, "");
	if (!cip[0] && jv_is_valid(old))
		jstr(old, "spec.clusterIP", cip, sizeof cip, "");
	if (jv_is_valid(old)) {
		char oldip[64];
		jstr(old, "spec.clusterIP", oldip, sizeof oldip, "");
		if (oldip[0] && strcmp(oldip, cip))
			return invalid(e, o->k, o->name, "spec.clusterIPs[0]",
				       "Invalid value: \"%s\": may not change once set", cip);
	}
	if (!strcmp(cip, "None")) {
		*obj = kx_jv_set(*obj, "spec.clusterIPs", jv_array_append(jv_array(), jv_string("None")));
	} else if (cip[0]) {
		struct in_addr a;
		if (inet_pton(AF_INET, cip, &a) != 1 ||
		    (ntohl(a.s_addr) & cfg.svc_mask) != cfg.svc_net)
			return invalid(e, o->k, o->name, "spec.clusterIPs",
				       "Invalid value: [\"%s\"]: failed to allocate IP %s: provided IP is not in the valid range",
				       cip, cip);
		snprintf(what, sizeof what, "ip:%s", cip);
		if (txn_claim(t, what, key) < 0)
			return invalid(e, o->k, o->name, "spec.clusterIPs",
				       "Invalid value: [\"%s\"]: failed to allocate IP %s: provided IP is already allocated",
				       cip, cip);
	} else {
		uint32_t size = ~cfg.svc_mask + 1, start, ip = 0;
		int found = 0;
		if (getrandom(&start, sizeof start, 0) != sizeof start)
			start = (uint32_t)rand();
		for (uint32_t i = 0; i < size && !found; i++) {
			uint32_t off = (start + i) % size;
			struct in_addr a;
			if (off < 2 || off == size - 1)
				continue; /* network, the kubernetes service, broadcast */
			ip = cfg.svc_net | off;
			a.s_addr = htonl(ip);
			inet_ntop(AF_INET, &a, cip, sizeof cip);
			snprintf(what, sizeof what, "ip:%s", cip);
			found = txn_claim(t, what, key) == 0;
		}
		if (!found)
			return st_fail(e, 500, "InternalError",
				       "failed to allocate a serviceIP: range is full");
	}
	*obj = kx_jv_set(*obj, "spec.clusterIP", jv_string(cip));
	*obj = kx_jv_set(*obj, "spec.clusterIPs", jv_array_append(jv_array(), jv_string(cip)));
	if (strcmp(type, "NodePort") && strcmp(type, "LoadBalancer"))
		return 0;
	ports = kx_jv_get(jv_copy(*obj), "spec.ports");
	if (jv_get_kind(ports) != JV_KIND_ARRAY) {
		jv_free(ports);
		return 0;
	}
	jv out = jv_array();
	int rc = 0;
	jv_array_foreach(ports, i, p)
	{
		int64_t np = kx_jv_int(p, "nodePort", 0);
		if (rc == 0 && np) {
			snprintf(what, sizeof what, "nodeport:%lld", (long long)np);
			if (np < 30000 || np > 32767 || txn_claim(t, what, key) < 0) {
				char f[64];
				snprintf(f, sizeof f, "spec.ports[%d].nodePort", i);
				rc = invalid(e, o->k, o->name, f,
					     "Invalid value: %lld: provided port is already allocated or not in the range 30000-32767",
					     (long long)np);
			}
		} else if (rc == 0) {
			uint32_t start;
			if (getrandom(&start, sizeof start, 0) != sizeof start)
				start = (uint32_t)rand();
			for (int j = 0; j < 2768 && !np; j++) {
				int64_t cand = 30000 + (start + j) % 2768;
				snprintf(what, sizeof what, "nodeport:%lld", (long long)cand);
				if (txn_claim(t, what, key) == 0)
					np = cand;
			}
			if (!np)
				rc = st_fail(e, 500, "InternalError", "failed to allocate a nodePort: range is full");
			else
				p = jv_object_set(p, jv_string("nodePort"), jv_number((double)np));
		}
		out = jv_array_append(out, p);
	}
	jv_free(ports);
	*obj = kx_jv_set(*obj, "spec.ports", out);
	return rc;
}

/* ---- create ---------------------------------------------------------------- */

static int ns_usable(txn *t, const struct op *o, st_err *e)
{
	kx_buf key = KX_BUF_INIT;
	const char *s;
	char q[160];

	key_make(&key, kx_kind_by_resource("", "v1", "namespaces"), NULL, o->ns);
	s = txn_get(t, kx_buf_str(&key));
	kx_buf_free(&key);
	if (!s)
		return st_fail(e, 404, "NotFound", "namespaces \"%s\" not found", o->ns);
	if (strstr(s, "\"deletionTimestamp\"")) {
		jv ns = parse_stored(kx_kind_by_resource("", "v1", "namespaces"), s);
		char dt[64];
		int terminating = jstr(ns, "metadata.deletionTimestamp", dt, sizeof dt, NULL) != NULL;
		jv_free(ns);
		if (terminating)
			return st_fail(e, 403, "Forbidden",
				       "%s \"%s\" is forbidden: unable to create new content in namespace %s because it is being terminated",
				       qualified(o->k, q, sizeof q), o->name, o->ns);
	}
	return 0;
}

static void random_suffix(char *out)
{
	static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char r[5];

	if (getrandom(r, sizeof r, 0) != sizeof r)
		for (int i = 0; i < 5; i++)
			r[i] = (unsigned char)rand();
	for (int i = 0; i < 5; i++)
		out[i] = alpha[r[i] % (sizeof alpha - 1)];
	out[5] = 0;
}

static jv fill_create_meta(const struct op *o, jv obj)
{
	char uid[40], now[40];

	make_uid(uid, sizeof uid);
	now_str(now, sizeof now, 0);
	obj = kx_jv_set(obj, "metadata.uid", jv_string(uid));
	obj = kx_jv_set(obj, "metadata.creationTimestamp", jv_string(now));
	obj = kx_jv_del(obj, "metadata.deletionTimestamp");
	obj = kx_jv_del(obj, "metadata.deletionGracePeriodSeconds");
	if (kind_has_generation(o->k))
		obj = kx_jv_set(obj, "metadata.generation", jv_number(1));
	if (o->k->namespaced)
		obj = kx_jv_set(obj, "metadata.namespace", jv_string(o->ns));
	else
		obj = kx_jv_del(obj, "metadata.namespace");
	return obj;
}

void op_prepare_create(struct op *o)
{
	char av[128], head[512];
	jv full, meta;
	char *text;
	size_t hl;

	if (!o->name[0] || (!strcmp(o->k->kind, "Service") && !*o->k->group))
		return; /* the name or cluster IP comes from inside the transaction */
	o->body = fill_create_meta(o, o->body);
	kx_kind_api_version(o->k, av, sizeof av);
	meta = jv_object_set(jv_object(), jv_string("resourceVersion"), jv_string("0"));
	jv m = kx_jv_get(jv_copy(o->body), "metadata");
	jv_object_foreach(m, key, val)
	{
		if (strcmp(jv_string_value(key), "resourceVersion"))
			meta = jv_object_set(meta, key, val);
		else {
			jv_free(key);
			jv_free(val);
		}
	}
	jv_free(m);
	full = jv_object_set(jv_object(), jv_string("kind"), jv_string(o->k->kind));
	full = jv_object_set(full, jv_string("apiVersion"), jv_string(av));
	full = jv_object_set(full, jv_string("metadata"), meta);
	jv_object_foreach(o->body, key, val)
	{
		const char *ks = jv_string_value(key);
		if (!strcmp(ks, "kind") || !strcmp(ks, "apiVersion") || !strcmp(ks, "metadata")) {
			jv_free(key);
			jv_free(val);
			continue;
		}
		full = jv_object_set(full, key, val);
	}
	text = kx_json_dump(full, 0);
	snprintf(head, sizeof head, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"",
		 o->k->kind, av);
	hl = strlen(head);
	if (!strncmp(text, head, hl) && text[hl] == '0' && text[hl + 1] == '"') {
		o->pre_head = strdup(head);
		o->pre_tail = strdup(text + hl + 1);
	}
	free(text);
}

void op_clear(struct op *o)
{
	free(o->pre_head);
	free(o->pre_tail);
	o->pre_head = o->pre_tail = NULL;
}

static int do_create(wreq *w, txn *t, struct op *o)
{
	kx_buf key = KX_BUF_INIT;
	char q[160];
	jv obj = jv_copy(o->body);
	int rc = -1;

	if (o->k->namespaced && ns_usable(t, o, &w->err) < 0)
		goto out;
	if (!o->name[0]) {
		char gen[256], sfx[6];
		jstr(obj, "metadata.generateName", gen, sizeof gen, "");
		for (int i = 0; i < 8; i++) {
			random_suffix(sfx);
			snprintf(o->name, sizeof o->name, "%.*s%s", 58, gen, sfx);
			kx_buf_reset(&key);
			op_key(&key, o);
			if (!txn_get(t, key.p))
				break;
		}
		obj = kx_jv_set(obj, "metadata.name", jv_string(o->name));
	}
	kx_buf_reset(&key);
	op_key(&key, o);
	if (txn_get(t, key.p)) {
		st_fail(&w->err, 409, "AlreadyExists", "%s \"%s\" already exists",
			qualified(o->k, q, sizeof q), o->name);
		goto out;
	}
	if (quota_admit(t, o->k, o->ns, o->name, obj, &w->err) < 0)
		goto out;
	if (o->pre_head) {
		if (txn_create_text(t, key.p, o->k, o->pre_head, o->pre_tail, &w->err) < 0)
			goto out;
		answer_last(o, t, jv_null());
		w->code = 201;
		rc = 0;
		goto out;
	}
	obj = fill_create_meta(o, obj);
	if (!strcmp(o->k->kind, "Service") && alloc_service(o, t, key.p, &obj, jv_invalid(), &w->err) < 0)
		goto out;
	if (put(o, t, key.p, obj, &w->err) < 0) {
		obj = jv_invalid();
		goto out;
	}
	obj = jv_invalid();
	w->code = 201;
	rc = 0;
out:
	jv_free(obj);
	kx_buf_free(&key);
	return rc;
}

/* ---- update, patch, status, finalize ------------------------------------- */

static int check_rv(const struct op *o, jv upd, jv old, st_err *e)
{
	char a[32], b[32];

	if (!jstr(upd, "metadata.resourceVersion", a, sizeof a, NULL) || !a[0])
		return 0;
	jstr(old, "metadata.resourceVersion", b, sizeof b, "");
	return strcmp(a, b) ? conflict(e, o, stale) : 0;
}

static int check_name(const struct op *o, jv upd, st_err *e)
{
	char n[256], ns[256];

	jstr(upd, "metadata.name", n, sizeof n, "");
	if (strcmp(n, o->name))
		return st_fail(e, 400, "BadRequest",
			       "the name of the object (%s) does not match the name on the URL (%s)", n, o->name);
	if (o->k->namespaced) {
		jstr(upd, "metadata.namespace", ns, sizeof ns, o->ns);
		if (strcmp(ns, o->ns))
			return st_fail(e, 400, "BadRequest",
				       "the namespace of the object (%s) does not match the namespace on the request (%s)",
				       ns, o->ns);
	}
	return 0;
}

static int finalizers_left(jv obj)
{
	jv f = kx_jv_get(jv_copy(obj), "metadata.finalizers");
	int n = jv_get_kind(f) == JV_KIND_ARRAY ? jv_array_length(jv_copy(f)) : 0;

	jv_free(f);
	if (n == 0 && !strcmp(jstr(obj, "kind", (char[32]){0}, 32, ""), "Namespace")) {
		f = kx_jv_get(jv_copy(obj), "spec.finalizers");
		n = jv_get_kind(f) == JV_KIND_ARRAY ? jv_array_length(jv_copy(f)) : 0;
		jv_free(f);
	}
	return n;
}

static int has_deletion(jv obj)
{
	char dt[64];
	return jstr(obj, "metadata.deletionTimestamp", dt, sizeof dt, NULL) != NULL;
}

/* Write upd over old (both consumed): no write when nothing changed; the
 * object goes away when it is being deleted and its last finalizer is gone. */
static int commit_update(wreq *w, txn *t, struct op *o, const char *key, jv old, jv upd)
{
	jv a, b;

	upd = obj_defaults(o->k, upd, 1);
	if (obj_validate(o->k, upd, &w->err) < 0)
		goto fail;
	if (!strcmp(o->k->kind, "Service") && !*o->k->group &&
	    alloc_service(o, t, key, &upd, old, &w->err) < 0)
		goto fail;
	if (has_deletion(upd) && finalizers_left(upd) == 0) {
		jv_free(old);
		return del(o, t, key, upd, &w->err) < 0 ? -1 : 0;
	}
	a = kx_jv_del(jv_copy(old), "metadata.resourceVersion");
	b = kx_jv_del(jv_copy(upd), "metadata.resourceVersion");
	if (kx_jv_equal(a, b)) {
		o->text = kx_json_dump(old, 0);
		jv_free(upd);
		return 0;
	}
	jv_free(old);
	return put(o, t, key, upd, &w->err) < 0 ? -1 : 0;
fail:
	jv_free(old);
	jv_free(upd);
	return -1;
}

static int do_update(wreq *w, txn *t, struct op *o)
{
	kx_buf key = KX_BUF_INIT;
	const char *s;
	jv old, upd = jv_invalid();
	int rc = -1, sub_status = !strcmp(o->sub, "status");

	op_key(&key, o);
	s = txn_get(t, key.p);
	if (!s) {
		not_found(&w->err, o);
		goto out;
	}
	old = parse_stored(o->k, s);
	if (o->verb == OP_PATCH) {
		kx_err ke = KX_ERR_INIT;
		if (o->ptype == PATCH_JSON)
			upd = kx_patch_json(jv_copy(old), jv_copy(o->body), &ke);
		else if (o->ptype == PATCH_STRATEGIC)
			upd = kx_smp_apply(jv_copy(old), jv_copy(o->body), o->k->kind, &ke);
		else
			upd = kx_patch_merge(jv_copy(old), jv_copy(o->body));
		if (!jv_is_valid(upd)) {
			st_fail(&w->err, 422, "Invalid", "%s", ke.msg);
			jv_free(old);
			goto out;
		}
		if (jv_get_kind(upd) != JV_KIND_OBJECT) {
			st_fail(&w->err, 422, "Invalid", "the patch made the object something else than an object");
			jv_free(old);
			goto out;
		}
	} else {
		upd = jv_copy(o->body);
	}
	if (check_name(o, upd, &w->err) < 0 || check_rv(o, upd, old, &w->err) < 0) {
		jv_free(old);
		goto out;
	}
	if (!strcmp(o->sub, "finalize")) {
		/* namespaces/finalize: only spec.finalizers changes */
		jv f = kx_jv_get(jv_copy(upd), "spec.finalizers");
		jv_free(upd);
		upd = kx_jv_set(jv_copy(old), "spec.finalizers",
				jv_get_kind(f) == JV_KIND_NULL ? jv_array() : f);
		if (jv_get_kind(f) == JV_KIND_NULL)
			jv_free(f);
	} else {
		upd = obj_for_update(o->k, jv_copy(old), upd, sub_status);
	}
	rc = commit_update(w, t, o, key.p, old, upd);
	upd = jv_invalid();
out:
	jv_free(upd);
	kx_buf_free(&key);
	return rc;
}

/* ---- delete ------------------------------------------------------------------ */

static jv add_finalizer(jv obj, const char *f)
{
	jv fs = kx_jv_get(jv_copy(obj), "metadata.finalizers");

	if (jv_get_kind(fs) != JV_KIND_ARRAY) {
		jv_free(fs);
		fs = jv_array();
	}
	jv_array_foreach(fs, i, x)
	{
		int same = !strcmp(jv_string_value(x), f);
		jv_free(x);
		if (same) {
			jv_free(fs);
			return obj;
		}
	}
	return kx_jv_set(obj, "metadata.finalizers", jv_array_append(fs, jv_string(f)));
}

static int do_delete(wreq *w, txn *t, struct op *o)
{
	kx_buf key = KX_BUF_INIT;
	const char *s;
	char buf[128], q[160], now[40];
	jv obj;
	int rc = -1, isns = !strcmp(o->k->kind, "Namespace") && !*o->k->group;

	op_key(&key, o);
	s = txn_get(t, key.p);
	if (!s) {
		not_found(&w->err, o);
		goto out;
	}
	obj = parse_stored(o->k, s);
	if (o->pre_uid[0] && strcmp(jstr(obj, "metadata.uid", buf, sizeof buf, ""), o->pre_uid)) {
		char why[512];
		snprintf(why, sizeof why, "Precondition failed: UID in precondition: %s, UID in object meta: %s",
			 o->pre_uid, buf);
		conflict(&w->err, o, why);
		jv_free(obj);
		goto out;
	}
	if (o->pre_rv[0] &&
	    strcmp(jstr(obj, "metadata.resourceVersion", buf, sizeof buf, ""), o->pre_rv)) {
		char why[512];
		snprintf(why, sizeof why,
			 "Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s",
			 o->pre_rv, buf);
		conflict(&w->err, o, why);
		jv_free(obj);
		goto out;
	}
	if (isns && (!strcmp(o->name, "default") || !strcmp(o->name, "kube-system") ||
		     !strcmp(o->name, "kube-public"))) {
		st_fail(&w->err, 403, "Forbidden", "%s \"%s\" is forbidden: this namespace may not be deleted",
			qualified(o->k, q, sizeof q), o->name);
		jv_free(obj);
		goto out;
	}
	if (!has_deletion(obj)) {
		if (!strcmp(o->propagation, "Foreground"))
			obj = add_finalizer(obj, "foregroundDeletion");
		else if (!strcmp(o->propagation, "Orphan"))
			obj = add_finalizer(obj, "orphan");
	}
	if (isns) {
		if (finalizers_left(obj)) {
			if (!has_deletion(obj)) {
				now_str(now, sizeof now, 0);
				obj = kx_jv_set(obj, "metadata.deletionTimestamp", jv_string(now));
				obj = kx_jv_set(obj, "metadata.deletionGracePeriodSeconds", jv_number(0));
			}
			obj = kx_jv_set(obj, "status.phase", jv_string("Terminating"));
			rc = put(o, t, key.p, obj, &w->err) < 0 ? -1 : 0;
			goto out;
		}
	} else if (!strcmp(o->k->kind, "Pod") && !*o->k->group) {
		/* graceful: a pod on a node gets time to stop; its node deletes it */
		char node[256], phase[32];
		int64_t grace = o->grace >= 0 ? o->grace : kx_jv_int(obj, "spec.terminationGracePeriodSeconds", 30);
		jstr(obj, "spec.nodeName", node, sizeof node, "");
		jstr(obj, "status.phase", phase, sizeof phase, "");
		if (node[0] && grace > 0 && strcmp(phase, "Succeeded") && strcmp(phase, "Failed")) {
			int64_t cur = kx_jv_int(obj, "metadata.deletionGracePeriodSeconds", -1);
			if (cur < 0 || grace < cur) {
				now_str(now, sizeof now, grace);
				obj = kx_jv_set(obj, "metadata.deletionTimestamp", jv_string(now));
				obj = kx_jv_set(obj, "metadata.deletionGracePeriodSeconds", jv_number((double)grace));
				rc = put(o, t, key.p, obj, &w->err) < 0 ? -1 : 0;
			} else {
				o->text = kx_json_dump(obj, 0);
				rc = 0;
			}
			goto out;
		}
	}
	if (finalizers_left(obj)) {
		if (has_deletion(obj)) {
			o->text = kx_json_dump(obj, 0);
			rc = 0;
			goto out;
		}
		now_str(now, sizeof now, 0);
		obj = kx_jv_set(obj, "metadata.deletionTimestamp", jv_string(now));
		obj = kx_jv_set(obj, "metadata.deletionGracePeriodSeconds", jv_number(0));
		rc = put(o, t, key.p, obj, &w->err) < 0 ? -1 : 0;
		goto out;
	}
	rc = del(o, t, key.p, obj, &w->err) < 0 ? -1 : 0;
out:
	kx_buf_free(&key);
	return rc;
}

/* ---- binding and scale ------------------------------------------------------- */

static int do_bind(wreq *w, txn *t, struct op *o)
{
	kx_buf key = KX_BUF_INIT;
	const char *s;
	char node[256], target[256], why[600], now[40];
	jv pod, conds, out;
	int rc = -1;

	jstr(o->body, "target.name", target, sizeof target, "");
	op_key(&key, o);
	s = txn_get(t, key.p);
	if (!s) {
		not_found(&w->err, o);
		goto out;
	}
	pod = parse_stored(o->k, s);
	jstr(pod, "spec.nodeName", node, sizeof node, "");
	if (node[0]) {
		snprintf(why, sizeof why, "pod %s is already assigned to node \"%s\"", o->name, node);
		st_fail(&w->err, 409, "Conflict", "Operation cannot be fulfilled on pods/binding \"%s\": %s",
			o->name, why);
		jv_free(pod);
		goto out;
	}
	if (has_deletion(pod)) {
		st_fail(&w->err, 409, "Conflict", "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is being deleted, cannot be assigned to a host",
			o->name, o->name);
		jv_free(pod);
		goto out;
	}
	pod = kx_jv_set(pod, "spec.nodeName", jv_string(target));
	now_str(now, sizeof now, 0);
	conds = kx_jv_get(jv_copy(pod), "status.conditions");
	out = jv_array();
	if (jv_get_kind(conds) == JV_KIND_ARRAY) {
		jv_array_foreach(conds, i, c)
		{
			char ty[64];
			if (!strcmp(jstr(c, "type", ty, sizeof ty, ""), "PodScheduled"))
				jv_free(c);
			else
				out = jv_array_append(out, c);
		}
	}
	jv_free(conds);
	jv c = jv_object_set(jv_object(), jv_string("type"), jv_string("PodScheduled"));
	c = jv_object_set(c, jv_string("status"), jv_string("True"));
	c = jv_object_set(c, jv_string("lastProbeTime"), jv_null());
	c = jv_object_set(c, jv_string("lastTransitionTime"), jv_string(now));
	pod = kx_jv_set(pod, "status.conditions", jv_array_append(out, c));
	if (put(o, t, key.p, pod, &w->err) < 0)
		goto out;
	st_err ok = {.code = 201, .reason = ""};
	o->answer = st_status(&ok, NULL, NULL);
	w->code = 201;
	rc = 0;
out:
	kx_buf_free(&key);
	return rc;
}

/* The autoscaling/v1 Scale of a Deployment, ReplicaSet or RC (obj borrowed). */
static jv to_scale(const kx_kind *k, jv obj)
{
	jv s = jv_object(), meta = jv_object();
	const char *mk[] = {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"};
	jv sel = kx_jv_get(jv_copy(obj), "spec.selector");
	kx_err e = KX_ERR_INIT;
	kx_selector *ls;
	char *sels = NULL;

	for (size_t i = 0; i < 5; i++) {
		char path[64];
		snprintf(path, sizeof path, "metadata.%s", mk[i]);
		jv v = kx_jv_get(jv_copy(obj), path);
		if (jv_get_kind(v) != JV_KIND_NULL)
			meta = jv_object_set(meta, jv_string(mk[i]), v);
		else
			jv_free(v);
	}
	s = jv_object_set(s, jv_string("kind"), jv_string("Scale"));
	s = jv_object_set(s, jv_string("apiVersion"), jv_string("autoscaling/v1"));
	s = jv_object_set(s, jv_string("metadata"), meta);
	s = jv_object_set(s, jv_string("spec"),
			  jv_object_set(jv_object(), jv_string("replicas"),
					jv_number((double)kx_jv_int(obj, "spec.replicas", 0))));
	ls = !strcmp(k->kind, "ReplicationController") ? kx_selector_from_map(sel, &e)
						       : kx_selector_from_jv(sel, &e);
	if (ls)
		sels = kx_selector_string(ls);
	kx_selector_free(ls);
	jv st = jv_object_set(jv_object(), jv_string("replicas"),
			      jv_number((double)kx_jv_int(obj, "status.replicas", 0)));
	if (sels && *sels)
		st = jv_object_set(st, jv_string("selector"), jv_string(sels));
	free(sels);
	return jv_object_set(s, jv_string("status"), st);
}

jv op_scale_of(const kx_kind *k, const char *stored)
{
	jv obj = parse_stored(k, stored);
	jv s = to_scale(k, obj);
	jv_free(obj);
	return s;
}

static int do_scale(wreq *w, txn *t, struct op *o)
{
	kx_buf key = KX_BUF_INIT;
	const char *s;
	jv obj, scale;
	int rc = -1;

	op_key(&key, o);
	s = txn_get(t, key.p);
	if (!s) {
		not_found(&w->err, o);
		goto out;
	}
	obj = parse_stored(o->k, s);
	if (o->verb == OP_SCALE_PATCH) {
		kx_err ke = KX_ERR_INIT;
		jv cur = to_scale(o->k, obj);
		scale = o->ptype == PATCH_JSON	    ? kx_patch_json(cur, jv_copy(o->body), &ke)
			: o->ptype == PATCH_STRATEGIC ? kx_smp_apply(cur, jv_copy(o->body), "Scale", &ke)
						      : kx_patch_merge(cur, jv_copy(o->body));
		if (!jv_is_valid(scale)) {
			st_fail(&w->err, 422, "Invalid", "%s", ke.msg);
			jv_free(obj);
			goto out;
		}
	} else {
		scale = jv_copy(o->body);
	}
	if (check_rv(o, scale, obj, &w->err) < 0) {
		jv_free(scale);
		jv_free(obj);
		goto out;
	}
	jv r = kx_jv_get(jv_copy(scale), "spec.replicas");
	jv_free(scale);
	if (jv_get_kind(r) != JV_KIND_NUMBER || jv_number_value(r) < 0) {
		jv_free(r);
		invalid(&w->err, o->k, o->name, "spec.replicas", "Invalid value: must be greater than or equal to 0");
		jv_free(obj);
		goto out;
	}
	jv upd = kx_jv_set(jv_copy(obj), "spec.replicas", r);
	upd = obj_for_update(o->k, jv_copy(obj), upd, 0);
	rc = commit_update(w, t, o, key.p, obj, upd);
	if (rc == 0 && o->text) {
		kx_err ke = KX_ERR_INIT;
		jv now = kx_json_parse(o->text, strlen(o->text), &ke);
		o->answer = to_scale(o->k, now);
		jv_free(now);
	}
out:
	kx_buf_free(&key);
	return rc;
}

int op_run(wreq *w, txn *t)
{
	struct op *o = w->arg;

	switch (o->verb) {
	case OP_CREATE:
		return do_create(w, t, o);
	case OP_UPDATE:
	case OP_PATCH:
		return do_update(w, t, o);
	case OP_DELETE:
		return do_delete(w, t, o);
	case OP_BIND:
		return do_bind(w, t, o);
	case OP_SCALE_UPDATE:
	case OP_SCALE_PATCH:
		return do_scale(w, t, o);
	}
	return st_fail(&w->err, 500, "InternalError", "unknown operation");
}

int ops_bootstrap(void)
{
	static const char *const names[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
	const kx_kind *k = kx_kind_by_resource("", "v1", "namespaces");

	for (size_t i = 0; i < 4; i++) {
		rconn *r = db_reader();
		kx_buf key = KX_BUF_INIT;
		char *s;
		key_make(&key, k, NULL, names[i]);
		s = r ? db_get(r, key.p, NULL) : NULL;
		db_reader_put(r);
		kx_buf_free(&key);
		if (s) {
			free(s);
			continue;
		}
		struct op o = {.verb = OP_CREATE, .k = k, .grace = -1, .answer = jv_invalid()};
		snprintf(o.name, sizeof o.name, "%s", names[i]);
		jv obj = jv_object_set(jv_object(), jv_string("metadata"),
				       jv_object_set(jv_object(), jv_string("name"), jv_string(names[i])));
		obj = obj_defaults(k, obj, 1);
		obj = kx_jv_set(obj, "status.phase", jv_string("Active"));
		o.body = obj;
		wreq w = {.fn = op_run, .arg = &o};
		int rc = db_write(&w);
		jv_free(o.body);
		jv_free(w.result);
		jv_free(o.answer);
		free(o.text);
		if (rc < 0) {
			kx_log_error("cannot create namespace \"%s\": %s", names[i], w.err.msg);
			return -1;
		}
	}
	return 0;
}
