/* ssa.c: server-side apply and managedFields (see ssa.h).
 *
 * Field sets are FieldsV1 trees (jv objects). A node is a member of its set
 * when it is {} or has a "." key; its other keys are its children. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "ssa.h"

/* ---- the shape of the served kinds, as structured-merge-diff sees it -------
 * Each row: FIELD of TYPE is a struct of type ELEM (S), a map whose keys are
 * data (M: labels, data...), atomic (A: replaced whole, owned as one field),
 * an associative list keyed by KEYS (L, items of type ELEM; keys in name
 * order, as they are written in "k:{...}"), or a set of scalars (T). VS marks
 * fields that Go keeps as a value (not a pointer): they exist, empty, in a
 * new object, so creating one does not own them as a whole. Fields not in the
 * table: objects are structs, lists atomic, scalars leaves. (VS on a list:
 * Go writes it as null even when empty, so it too exists already.) */
enum { K_UNKNOWN, K_STRUCT, K_MAP, K_ATOMIC, K_ASSOC, K_SET };

struct row {
	const char *type, *field;
	int kind;
	const char *elem, *keys;
	int vs;
};

static const struct row rows[] = {
	{"*", "metadata", K_STRUCT, "ObjectMeta", NULL, 1},
	{"Pod", "spec", K_STRUCT, "PodSpec", NULL, 1},
	{"Deployment", "spec", K_STRUCT, "WorkloadSpec", NULL, 1},
	{"ReplicaSet", "spec", K_STRUCT, "WorkloadSpec", NULL, 1},
	{"ReplicationController", "spec", K_STRUCT, "WorkloadSpec", NULL, 1},
	{"StatefulSet", "spec", K_STRUCT, "WorkloadSpec", NULL, 1},
	{"DaemonSet", "spec", K_STRUCT, "WorkloadSpec", NULL, 1},
	{"Job", "spec", K_STRUCT, "WorkloadSpec", NULL, 1},
	{"Service", "spec", K_STRUCT, "ServiceSpec", NULL, 1},
	{"Node", "spec", K_STRUCT, "NodeSpec", NULL, 1},
	{"Namespace", "spec", K_STRUCT, "NamespaceSpec", NULL, 1},
	{"ResourceQuota", "spec", K_STRUCT, "QuotaSpec", NULL, 1},
	{"ConfigMap", "data", K_MAP, NULL, NULL, 0},
	{"ConfigMap", "binaryData", K_MAP, NULL, NULL, 0},
	{"Secret", "data", K_MAP, NULL, NULL, 0},
	{"Secret", "stringData", K_MAP, NULL, NULL, 0},
	{"ServiceAccount", "secrets", K_ASSOC, NULL, "name", 0},
	{"ServiceAccount", "imagePullSecrets", K_ATOMIC, NULL, NULL, 0},
	{"Endpoints", "subsets", K_ATOMIC, NULL, NULL, 0},
	{"ObjectMeta", "labels", K_MAP, NULL, NULL, 0},
	{"ObjectMeta", "annotations", K_MAP, NULL, NULL, 0},
	{"ObjectMeta", "finalizers", K_SET, NULL, NULL, 0},
	{"ObjectMeta", "ownerReferences", K_ASSOC, NULL, "uid", 0},
	{"WorkloadSpec", "selector", K_ATOMIC, NULL, NULL, 0},
	{"WorkloadSpec", "template", K_STRUCT, "PodTemplateSpec", NULL, 1},
	{"WorkloadSpec", "strategy", K_STRUCT, NULL, NULL, 1},
	{"PodTemplateSpec", "metadata", K_STRUCT, "ObjectMeta", NULL, 1},
	{"PodTemplateSpec", "spec", K_STRUCT, "PodSpec", NULL, 1},
	{"PodSpec", "containers", K_ASSOC, "Container", "name", 1},
	{"PodSpec", "initContainers", K_ASSOC, "Container", "name", 0},
	{"PodSpec", "ephemeralContainers", K_ASSOC, "Container", "name", 0},
	{"PodSpec", "volumes", K_ASSOC, NULL, "name", 0},
	{"PodSpec", "hostAliases", K_ASSOC, NULL, "ip", 0},
	{"PodSpec", "topologySpreadConstraints", K_ASSOC, NULL, "topologyKey,whenUnsatisfiable", 0},
	{"PodSpec", "resourceClaims", K_ASSOC, NULL, "name", 0},
	{"PodSpec", "schedulingGates", K_ASSOC, NULL, "name", 0},
	{"PodSpec", "nodeSelector", K_MAP, NULL, NULL, 0},
	{"Container", "ports", K_ASSOC, NULL, "containerPort,protocol", 0},
	{"Container", "env", K_ASSOC, NULL, "name", 0},
	{"Container", "volumeMounts", K_ASSOC, NULL, "mountPath", 0},
	{"Container", "volumeDevices", K_ASSOC, NULL, "devicePath", 0},
	{"Container", "resources", K_STRUCT, "Resources", NULL, 1},
	{"Resources", "limits", K_MAP, NULL, NULL, 0},
	{"Resources", "requests", K_MAP, NULL, NULL, 0},
	{"ServiceSpec", "ports", K_ASSOC, NULL, "port,protocol", 0},
	{"ServiceSpec", "selector", K_MAP, NULL, NULL, 0},
	{"NodeSpec", "podCIDRs", K_SET, NULL, NULL, 0},
	{"NamespaceSpec", "finalizers", K_ATOMIC, NULL, NULL, 0},
	{"QuotaSpec", "hard", K_MAP, NULL, NULL, 0},
};

struct desc {
	int kind;
	const char *type, *keys;
	int vs;
};

static struct desc child_desc(struct desc d, const char *field)
{
	struct desc u = {K_UNKNOWN, NULL, NULL, 0};

	if (d.kind == K_MAP)
		return u;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		if (strcmp(r->field, field))
			continue;
		if ((d.type && !strcmp(r->type, d.type)) || (!strcmp(r->type, "*") && d.vs == 2))
			return (struct desc){r->kind, r->elem, r->keys, r->vs};
	}
	return u;
}

/* The root of an object of kind (vs 2 marks the root, for "*" rows). */
static struct desc root_desc(const char *kind)
{
	return (struct desc){K_STRUCT, kind, NULL, 2};
}

static struct desc item_desc(struct desc d)
{
	return (struct desc){K_STRUCT, d.type, NULL, 0};
}

/* The kind a value is handled as: lists not described are atomic. */
static int eff_kind(struct desc d, jv v)
{
	jv_kind k = jv_get_kind(v);

	if (k == JV_KIND_OBJECT)
		return d.kind == K_MAP ? K_MAP : d.kind == K_ATOMIC ? K_ATOMIC : K_STRUCT;
	if (k == JV_KIND_ARRAY)
		return d.kind == K_ASSOC || d.kind == K_SET ? d.kind : K_ATOMIC;
	return K_ATOMIC;
}

/* ---- set nodes ------------------------------------------------------------- */

static int has(jv o, const char *key)
{
	return jv_get_kind(o) == JV_KIND_OBJECT && jv_object_has(jv_copy(o), jv_string(key));
}

static jv get(jv o, const char *key) /* borrowed o; new reference or invalid */
{
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(o), jv_string(key));
}

static int olen(jv o)
{
	return jv_get_kind(o) == JV_KIND_OBJECT ? jv_object_length(jv_copy(o)) : 0;
}

static int is_member(jv n)
{
	return jv_get_kind(n) == JV_KIND_OBJECT && (olen(n) == 0 || has(n, "."));
}

/* A node from its children (consumed) and whether it is a member itself;
 * jv_invalid() when it would be empty and not a member. */
static jv mknode(jv children, int member)
{
	children = jv_object_delete(children, jv_string("."));
	if (olen(children) == 0)
		return member ? children : (jv_free(children), jv_invalid());
	if (member)
		children = jv_object_set(children, jv_string("."), jv_object());
	return children;
}

static jv put_node(jv set, const char *key, jv node)
{
	if (!jv_is_valid(node)) {
		jv_free(node);
		return set;
	}
	return jv_object_set(set, jv_string(key), node);
}

/* a ∪ b, a − b, a ∩ b on nodes (borrowed); jv_invalid() when empty. */
enum { OP_UNION, OP_DIFF, OP_INTER };

static jv setop(jv a, jv b, int op)
{
	int ina = jv_is_valid(a), inb = jv_is_valid(b);
	int ma = ina && is_member(a), mb = inb && is_member(b), member;
	jv out = jv_object();

	if (op == OP_UNION)
		member = ma || mb;
	else if (op == OP_DIFF)
		member = ma && !mb;
	else
		member = ma && mb;
	for (int side = 0; side < 2; side++) {
		jv x = side ? b : a, y = side ? a : b;
		if (!jv_is_valid(x) || (side && op != OP_UNION))
			continue;
		jv_object_foreach(x, k, xv)
		{
			const char *ks = jv_string_value(k);
			if (strcmp(ks, ".") && !has(out, ks)) {
				jv yv = get(y, ks);
				jv r = side ? setop(yv, xv, op) : setop(xv, yv, op);
				out = put_node(out, ks, r);
				jv_free(yv);
			}
			jv_free(k);
			jv_free(xv);
		}
	}
	if (op == OP_INTER && !(ina && inb)) {
		jv_free(out);
		return jv_invalid();
	}
	return mknode(out, member);
}

/* setop for whole sets (roots are never members); returns {} when empty. */
static jv set_op(jv a, jv b, int op)
{
	jv r = setop(a, b, op);
	if (!jv_is_valid(r)) {
		jv_free(r);
		return jv_object();
	}
	return jv_object_delete(r, jv_string("."));
}

/* ---- from values to sets ------------------------------------------------ */

/* "k:{...}" for an item of an associative list, keys in the table's order
 * (a missing protocol is TCP, its default). */
static void item_key(jv item, const char *keys, char *out, size_t n)
{
	kx_buf b = KX_BUF_INIT;
	char name[64];
	const char *p = keys;
	int first = 1;

	kx_buf_adds(&b, "k:{");
	while (p && *p) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		snprintf(name, sizeof name, "%.*s", (int)l, p);
		jv v = get(item, name);
		if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
			jv_free(v);
			v = !strcmp(name, "protocol") ? jv_string("TCP") : jv_invalid();
		}
		if (jv_is_valid(v)) {
			char *s = kx_json_dump(v, 0);
			kx_buf_addf(&b, "%s\"%s\":%s", first ? "" : ",", name, s);
			free(s);
			first = 0;
		} else {
			jv_free(v);
		}
		p = c ? c + 1 : NULL;
	}
	kx_buf_adds(&b, "}");
	snprintf(out, n, "%s", b.p ? b.p : "k:{}");
	kx_buf_free(&b);
}

static void value_key(jv v, char *out, size_t n)
{
	char *s = kx_json_dump(jv_copy(v), 0);
	snprintf(out, n, "v:%s", s);
	free(s);
}

/* The children of value v (borrowed) of shape d. all: every node below is a
 * member (what a write that adds v whole owns); otherwise structs with
 * children are not members themselves (what an apply of v owns). */
static jv children_of(jv v, struct desc d, int all)
{
	jv out = jv_object();
	char key[1024];
	int k = eff_kind(d, v);

	if (k == K_STRUCT || k == K_MAP) {
		jv_object_foreach(v, f, fv)
		{
			struct desc cd = child_desc(d, jv_string_value(f));
			jv ch = children_of(fv, cd, all);
			int member = all || k == K_MAP || olen(ch) == 0;
			snprintf(key, sizeof key, "f:%s", jv_string_value(f));
			out = put_node(out, key, mknode(ch, member));
			jv_free(f);
			jv_free(fv);
		}
	} else if (k == K_ASSOC) {
		jv_array_foreach(v, i, it)
		{
			item_key(it, d.keys, key, sizeof key);
			out = put_node(out, key, mknode(children_of(it, item_desc(d), all), 1));
			jv_free(it);
		}
	} else if (k == K_SET) {
		jv_array_foreach(v, i, it)
		{
			value_key(it, key, sizeof key);
			out = put_node(out, key, jv_object());
			jv_free(it);
		}
	}
	return out;
}

/* What ownership never covers: identity, bookkeeping, and status (or, for
 * the status subresource, everything but status). Consumes obj. */
static jv strip(jv obj, const char *sub)
{
	static const char *const meta[] = {"name", "namespace", "uid", "resourceVersion", "generation",
					   "creationTimestamp", "deletionTimestamp",
					   "deletionGracePeriodSeconds", "managedFields", "selfLink",
					   "generateName"};

	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		jv_free(obj);
		return jv_object();
	}
	if (sub && !strcmp(sub, "status")) {
		jv st = get(obj, "status");
		jv_free(obj);
		jv out = jv_object();
		if (jv_is_valid(st) && jv_get_kind(st) != JV_KIND_NULL)
			return jv_object_set(out, jv_string("status"), st);
		jv_free(st);
		return out;
	}
	obj = jv_object_delete(obj, jv_string("apiVersion"));
	obj = jv_object_delete(obj, jv_string("kind"));
	obj = jv_object_delete(obj, jv_string("status"));
	if (has(obj, "metadata")) {
		jv m = get(obj, "metadata");
		if (jv_get_kind(m) == JV_KIND_OBJECT) {
			for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
				m = jv_object_delete(m, jv_string(meta[i]));
			obj = olen(m) ? jv_object_set(obj, jv_string("metadata"), m)
				      : (jv_free(m), jv_object_delete(obj, jv_string("metadata")));
		} else {
			jv_free(m);
		}
	}
	return obj;
}

jv kx_ssa_fieldset(jv obj, const char *kind)
{
	jv s = strip(obj, "");
	jv r = children_of(s, root_desc(kind), 0);
	jv_free(s);
	return r;
}

/* ---- comparing two values ---------------------------------------------------
 * Fills *chg with the children of this node that were added or changed (as a
 * write that made them owns them) and *rem with those removed; returns 1
 * when the node differs as a whole (a leaf or an atomic value, or a change
 * of type). o and n borrowed. */
static int cmp(jv o, jv n, struct desc d, jv *chg, jv *rem);

static void cmp_child(jv ov, jv nv, struct desc cd, const char *key, jv *chg, jv *rem)
{
	if (!jv_is_valid(ov)) {
		if (cd.vs && jv_get_kind(nv) == JV_KIND_OBJECT) {
			jv c = jv_object(), r = jv_object(), e = jv_object();
			cmp(e, nv, cd, &c, &r);
			jv_free(e);
			jv_free(r);
			*chg = put_node(*chg, key, mknode(c, 0));
		} else {
			/* a list Go always writes (as null) was there already */
			int vs_list = cd.vs && jv_get_kind(nv) == JV_KIND_ARRAY;
			*chg = put_node(*chg, key, mknode(children_of(nv, cd, 1), !vs_list));
		}
	} else if (!jv_is_valid(nv)) {
		*rem = put_node(*rem, key, mknode(children_of(ov, cd, 1), 1));
	} else {
		jv c = jv_object(), r = jv_object();
		if (cmp(ov, nv, cd, &c, &r)) {
			jv_free(c);
			jv_free(r);
			*chg = put_node(*chg, key, mknode(children_of(nv, cd, 1), 1));
			if (jv_get_kind(ov) != jv_get_kind(nv))
				*rem = put_node(*rem, key, mknode(children_of(ov, cd, 1), 0));
		} else {
			*chg = put_node(*chg, key, mknode(c, 0));
			*rem = put_node(*rem, key, mknode(r, 0));
		}
	}
}

/* The items of a keyed or set list as an object from their "k:"/"v:" key. */
static jv by_key(jv list, struct desc d)
{
	jv out = jv_object();
	char key[1024];

	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return out;
	}
	jv_array_foreach(list, i, it)
	{
		if (d.kind == K_ASSOC)
			item_key(it, d.keys, key, sizeof key);
		else
			value_key(it, key, sizeof key);
		out = jv_object_set(out, jv_string(key), it);
	}
	jv_free(list);
	return out;
}

static int cmp(jv o, jv n, struct desc d, jv *chg, jv *rem)
{
	int ko = eff_kind(d, o), kn = eff_kind(d, n);
	char key[1100];

	if (ko != kn || jv_get_kind(o) != jv_get_kind(n))
		return 1;
	if (kn == K_STRUCT || kn == K_MAP) {
		jv_object_foreach(n, f, nv)
		{
			const char *fs = jv_string_value(f);
			jv ov = get(o, fs);
			snprintf(key, sizeof key, "f:%s", fs);
			cmp_child(ov, nv, child_desc(d, fs), key, chg, rem);
			jv_free(ov);
			jv_free(f);
			jv_free(nv);
		}
		jv_object_foreach(o, f, ov)
		{
			const char *fs = jv_string_value(f);
			if (!has(n, fs)) {
				snprintf(key, sizeof key, "f:%s", fs);
				cmp_child(ov, jv_invalid(), child_desc(d, fs), key, chg, rem);
			}
			jv_free(f);
			jv_free(ov);
		}
		return 0;
	}
	if (kn == K_ASSOC || kn == K_SET) {
		jv ob = by_key(jv_copy(o), d), nb = by_key(jv_copy(n), d);
		struct desc id = kn == K_ASSOC ? item_desc(d) : (struct desc){K_ATOMIC, NULL, NULL, 0};
		jv_object_foreach(nb, k, nv)
		{
			jv ov = get(ob, jv_string_value(k));
			cmp_child(ov, nv, id, jv_string_value(k), chg, rem);
			jv_free(ov);
			jv_free(k);
			jv_free(nv);
		}
		jv_object_foreach(ob, k, ov)
		{
			if (!has(nb, jv_string_value(k)))
				cmp_child(ov, jv_invalid(), id, jv_string_value(k), chg, rem);
			jv_free(k);
			jv_free(ov);
		}
		jv_free(ob);
		jv_free(nb);
		return 0;
	}
	return !jv_equal(jv_copy(o), jv_copy(n));
}

/* ---- merging and pruning -------------------------------------------------- */

/* The applied configuration c merged into the live value l (both consumed):
 * maps and structs field by field, keyed lists item by item, sets as a
 * union, anything else replaced. A null in c removes the field. */
static jv merge(jv l, jv c, struct desc d)
{
	int kl = eff_kind(d, l), kc = eff_kind(d, c);
	char key[1024];

	if (jv_get_kind(l) == JV_KIND_OBJECT && jv_get_kind(c) == JV_KIND_OBJECT &&
	    (kc == K_STRUCT || kc == K_MAP)) {
		jv_object_foreach(c, f, cv)
		{
			const char *fs = jv_string_value(f);
			if (jv_get_kind(cv) == JV_KIND_NULL) {
				l = jv_object_delete(l, jv_copy(f));
				jv_free(cv);
			} else {
				jv lv = get(l, fs);
				if (jv_is_valid(lv))
					cv = merge(lv, cv, child_desc(d, fs));
				else
					jv_free(lv);
				l = jv_object_set(l, jv_copy(f), cv);
			}
			jv_free(f);
		}
		jv_free(c);
		return l;
	}
	if (jv_get_kind(l) == JV_KIND_ARRAY && jv_get_kind(c) == JV_KIND_ARRAY && kl == kc &&
	    (kc == K_ASSOC || kc == K_SET)) {
		jv_array_foreach(c, i, cit)
		{
			int at = -1;
			char lk[1024];
			if (kc == K_ASSOC)
				item_key(cit, d.keys, key, sizeof key);
			else
				value_key(cit, key, sizeof key);
			jv_array_foreach(l, j, lit)
			{
				if (at < 0) {
					if (kc == K_ASSOC)
						item_key(lit, d.keys, lk, sizeof lk);
					else
						value_key(lit, lk, sizeof lk);
					if (!strcmp(lk, key))
						at = j;
				}
				jv_free(lit);
			}
			if (at < 0)
				l = jv_array_append(l, cit);
			else if (kc == K_SET)
				jv_free(cit);
			else
				l = jv_array_set(l, at, merge(jv_array_get(jv_copy(l), at), cit, item_desc(d)));
		}
		jv_free(c);
		return l;
	}
	jv_free(l);
	return c;
}

/* v (consumed) without the members of set (borrowed). */
static jv prune(jv v, jv set, struct desc d)
{
	int k = eff_kind(d, v);
	char key[1024];

	if (k == K_STRUCT || k == K_MAP) {
		jv_object_foreach(set, f, node)
		{
			const char *fs = jv_string_value(f);
			if (!strncmp(fs, "f:", 2) && has(v, fs + 2)) {
				if (is_member(node)) {
					v = jv_object_delete(v, jv_string(fs + 2));
				} else {
					jv cv = get(v, fs + 2);
					v = jv_object_set(v, jv_string(fs + 2), prune(cv, node, child_desc(d, fs + 2)));
				}
			}
			jv_free(f);
			jv_free(node);
		}
		return v;
	}
	if (k == K_ASSOC || k == K_SET) {
		jv out = jv_array();
		jv_array_foreach(v, i, it)
		{
			jv node;
			if (k == K_ASSOC)
				item_key(it, d.keys, key, sizeof key);
			else
				value_key(it, key, sizeof key);
			node = get(set, key);
			if (!jv_is_valid(node))
				out = jv_array_append(out, it);
			else if (is_member(node))
				jv_free(it);
			else
				out = jv_array_append(out, prune(it, node, item_desc(d)));
			jv_free(node);
		}
		jv_free(v);
		return out;
	}
	return v;
}

/* ---- managedFields entries ---------------------------------------------- */

static int entry_is(jv e, const char *manager, const char *op, const char *av, const char *sub)
{
	char b[256];

	if (strcmp(kx_jv_str(e, "manager", b, sizeof b, ""), manager) ||
	    strcmp(kx_jv_str(e, "operation", b, sizeof b, ""), op))
		return 0;
	if (!strcmp(op, "Apply"))
		return 1;
	return !strcmp(kx_jv_str(e, "apiVersion", b, sizeof b, ""), av) &&
	       !strcmp(kx_jv_str(e, "subresource", b, sizeof b, ""), sub ? sub : "");
}

static jv entry_set(jv e)
{
	jv s = get(e, "fieldsV1");
	if (jv_get_kind(s) != JV_KIND_OBJECT) {
		jv_free(s);
		return jv_object();
	}
	return s;
}

static jv entry_new(const struct kx_ssa_who *who, const char *op, jv set)
{
	jv e = jv_object();
	e = jv_object_set(e, jv_string("manager"), jv_string(who->manager));
	e = jv_object_set(e, jv_string("operation"), jv_string(op));
	e = jv_object_set(e, jv_string("apiVersion"), jv_string(who->api_version));
	e = jv_object_set(e, jv_string("time"), jv_string(who->now));
	e = jv_object_set(e, jv_string("fieldsType"), jv_string("FieldsV1"));
	e = jv_object_set(e, jv_string("fieldsV1"), set);
	if (who->subresource && *who->subresource && strcmp(op, "Apply"))
		e = jv_object_set(e, jv_string("subresource"), jv_string(who->subresource));
	return e;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const jv *a = pa, *b = pb;
	static const char *const keys[] = {"operation", "time", "manager", "apiVersion", "subresource"};
	char x[256], y[256];

	for (size_t i = 0; i < 5; i++) {
		int c = strcmp(kx_jv_str(*a, keys[i], x, sizeof x, ""), kx_jv_str(*b, keys[i], y, sizeof y, ""));
		if (c)
			return c;
	}
	return 0;
}

/* Entries (consumed) without empty sets, in Kubernetes' order: Apply
 * before Update, then by time, manager, API version, subresource. */
static jv entries_tidy(jv es)
{
	int n = jv_array_length(jv_copy(es)), m = 0;
	jv *v = calloc((size_t)n + 1, sizeof *v);
	jv out = jv_array();

	jv_array_foreach(es, i, e)
	{
		jv s = entry_set(e);
		if (olen(s))
			v[m++] = e;
		else
			jv_free(e);
		jv_free(s);
	}
	jv_free(es);
	qsort(v, (size_t)m, sizeof *v, entry_cmp);
	for (int i = 0; i < m; i++)
		out = jv_array_append(out, v[i]);
	free(v);
	return out;
}

static jv entries_of(jv obj)
{
	jv es = kx_jv_get(jv_copy(obj), "metadata.managedFields");
	if (jv_get_kind(es) != JV_KIND_ARRAY) {
		jv_free(es);
		return jv_array();
	}
	return es;
}

/* How Kubernetes names a manager in a conflict. */
static void manager_name(jv e, char *out, size_t n)
{
	char mb[256], opb[32], avb[128], subb[64];
	const char *m = kx_jv_str(e, "manager", mb, sizeof mb, "");
	const char *op = kx_jv_str(e, "operation", opb, sizeof opb, "");
	const char *av = kx_jv_str(e, "apiVersion", avb, sizeof avb, "");
	const char *sub = kx_jv_str(e, "subresource", subb, sizeof subb, "");
	int len;

	len = snprintf(out, n, "\"%s\"", m);
	if (sub[0] && len >= 0 && (size_t)len < n)
		len += snprintf(out + len, n - (size_t)len, " with subresource \"%s\"", sub);
	if (strcmp(op, "Apply") && len >= 0 && (size_t)len < n)
		snprintf(out + len, n - (size_t)len, " using %s", av);
}

/* The paths of the members of set (borrowed), as Kubernetes prints them:
 * .spec.replicas, .spec.containers[name="web"].image, .metadata.finalizers[="x"]. */
static void paths_of(jv set, const char *prefix, jv *out)
{
	jv keys = jv_keys(jv_copy(set));

	jv_array_foreach(keys, i, k)
	{
		const char *ks = jv_string_value(k);
		kx_buf p = KX_BUF_INIT;
		kx_err e = KX_ERR_INIT;
		jv node;
		if (!strcmp(ks, ".")) {
			jv_free(k);
			continue;
		}
		kx_buf_adds(&p, prefix);
		if (!strncmp(ks, "f:", 2)) {
			kx_buf_addf(&p, ".%s", ks + 2);
		} else if (!strncmp(ks, "k:", 2)) {
			jv kv = kx_json_parse(ks + 2, strlen(ks + 2), &e);
			int first = 1;
			kx_buf_addc(&p, '[');
			if (jv_get_kind(kv) == JV_KIND_OBJECT) {
				jv_object_foreach(kv, f, fv)
				{
					char *s = kx_json_dump(fv, 0);
					kx_buf_addf(&p, "%s%s=%s", first ? "" : ",", jv_string_value(f), s);
					free(s);
					first = 0;
					jv_free(f);
				}
			}
			jv_free(kv);
			kx_buf_addc(&p, ']');
		} else if (!strncmp(ks, "v:", 2)) {
			kx_buf_addf(&p, "[=%s]", ks + 2);
		} else {
			kx_buf_addf(&p, ".%s", ks);
		}
		node = get(set, ks);
		if (is_member(node))
			*out = jv_array_append(*out, jv_string(p.p));
		paths_of(node, p.p, out);
		jv_free(node);
		kx_buf_free(&p);
		jv_free(k);
	}
	jv_free(keys);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *kx_ssa_conflict_message(jv conflicts)
{
	int n = jv_array_length(jv_copy(conflicts));
	kx_buf b = KX_BUF_INIT;
	char **mgr = calloc((size_t)n + 1, sizeof *mgr);
	int nm = 0;

	if (n == 1) {
		char m[512], f[1024];
		jv c = jv_array_get(jv_copy(conflicts), 0);
		kx_buf_addf(&b, "Apply failed with 1 conflict: conflict with %s: %s",
			    kx_jv_str(c, "manager", m, sizeof m, ""), kx_jv_str(c, "field", f, sizeof f, ""));
		jv_free(c);
		free(mgr);
		return kx_buf_steal(&b);
	}
	jv_array_foreach(conflicts, i, c)
	{
		char mb[512];
		const char *m = kx_jv_str(c, "manager", mb, sizeof mb, "");
		int seen = 0;
		for (int j = 0; j < nm; j++)
			seen |= !strcmp(mgr[j], m);
		if (!seen)
			mgr[nm++] = strdup(m);
		jv_free(c);
	}
	qsort(mgr, (size_t)nm, sizeof *mgr, str_cmp);
	kx_buf_addf(&b, "Apply failed with %d conflicts: ", n);
	for (int j = 0; j < nm; j++) {
		kx_buf_addf(&b, "%sconflicts with %s:", j ? "\n" : "", mgr[j]);
		jv_array_foreach(conflicts, i, c)
		{
			char m[512], f[1024];
			if (!strcmp(kx_jv_str(c, "manager", m, sizeof m, ""), mgr[j]))
				kx_buf_addf(&b, "\n- %s", kx_jv_str(c, "field", f, sizeof f, ""));
			jv_free(c);
		}
		free(mgr[j]);
	}
	free(mgr);
	return kx_buf_steal(&b);
}

/* ---- apply and update --------------------------------------------------------- */

jv kx_ssa_apply(jv live, jv cfg, const struct kx_ssa_who *who, int force, jv *conflicts,
		struct kx_err *e)
{
	struct desc root = root_desc(who->kind);
	jv es, newset, merged, chg, rem, out_es, found = jv_array(), others = jv_object(), prev = jv_object();
	jv prev_time = jv_invalid();

	if (conflicts)
		*conflicts = jv_invalid();
	if (jv_get_kind(cfg) != JV_KIND_OBJECT) {
		jv_free(live);
		jv_free(cfg);
		jv_free(found);
		jv_free(others);
		jv_free(prev);
		kx_err_set(e, KX_EFAIL, "the applied configuration must be an object");
		return jv_invalid();
	}
	if (jv_get_kind(live) != JV_KIND_OBJECT) {
		jv_free(live);
		live = jv_object();
	}
	cfg = kx_jv_del(cfg, "metadata.managedFields");
	es = entries_of(live);
	newset = kx_ssa_fieldset(jv_copy(cfg), who->kind);
	merged = merge(jv_copy(live), cfg, root);

	/* what the apply changes, and who else owns it */
	{
		jv a = strip(jv_copy(live), ""), b = strip(jv_copy(merged), "");
		chg = jv_object();
		rem = jv_object();
		cmp(a, b, root, &chg, &rem);
		jv_free(a);
		jv_free(b);
		jv_free(rem);
	}
	out_es = jv_array();
	jv_array_foreach(es, i, en)
	{
		if (entry_is(en, who->manager, "Apply", who->api_version, "")) {
			jv_free(prev);
			prev = entry_set(en);
			jv_free(prev_time);
			prev_time = get(en, "time");
			jv_free(en);
			continue;
		}
		jv s = entry_set(en);
		jv c = set_op(s, chg, OP_INTER);
		if (olen(c)) {
			jv paths = jv_array();
			char m[600];
			manager_name(en, m, sizeof m);
			paths_of(c, "", &paths);
			jv_array_foreach(paths, j, p)
			{
				jv one = jv_object_set(jv_object(), jv_string("manager"), jv_string(m));
				found = jv_array_append(found, jv_object_set(one, jv_string("field"), p));
			}
			jv_free(paths);
			if (force) {
				jv ns = set_op(s, c, OP_DIFF);
				en = jv_object_set(en, jv_string("fieldsV1"), jv_copy(ns));
				jv_free(s);
				s = ns;
			}
		}
		jv_free(c);
		jv u = set_op(others, s, OP_UNION);
		jv_free(others);
		others = u;
		jv_free(s);
		out_es = jv_array_append(out_es, en);
	}
	jv_free(es);
	jv_free(chg);
	if (jv_array_length(jv_copy(found)) > 0 && !force) {
		char *msg = kx_ssa_conflict_message(found);
		kx_err_set(e, KX_EFAIL, "%s", msg);
		free(msg);
		if (conflicts)
			*conflicts = found;
		else
			jv_free(found);
		jv_free(out_es);
		jv_free(newset);
		jv_free(merged);
		jv_free(live);
		jv_free(others);
		jv_free(prev);
		jv_free(prev_time);
		return jv_invalid();
	}
	jv_free(found);

	/* what this manager applied before and no longer does, and nobody else owns */
	{
		jv gone = set_op(prev, newset, OP_DIFF);
		jv torm = set_op(gone, others, OP_DIFF);
		merged = prune(merged, torm, root);
		jv_free(gone);
		jv_free(torm);
	}
	{
		/* the entry keeps its time when the object does not change */
		jv a = kx_jv_del(jv_copy(live), "metadata.managedFields");
		jv b = kx_jv_del(jv_copy(merged), "metadata.managedFields");
		jv en = entry_new(who, "Apply", jv_copy(newset));
		if (jv_equal(a, b) && jv_equal(jv_copy(prev), jv_copy(newset)) && jv_is_valid(prev_time))
			en = jv_object_set(en, jv_string("time"), jv_copy(prev_time));
		out_es = jv_array_append(out_es, en);
		jv_free(newset);
	}
	merged = kx_jv_set(merged, "metadata.managedFields", entries_tidy(out_es));
	jv_free(others);
	jv_free(prev);
	jv_free(prev_time);
	jv_free(live);
	return merged;
}

jv kx_ssa_update(jv old, jv upd, const struct kx_ssa_who *who)
{
	struct desc root = root_desc(who->kind);
	jv es = entries_of(old), ues = kx_jv_get(jv_copy(upd), "metadata.managedFields");
	jv a, b, chg = jv_object(), rem = jv_object(), out_es = jv_array(), mine = jv_invalid();
	const char *sub = who->subresource ? who->subresource : "";
	int create = jv_get_kind(old) != JV_KIND_OBJECT;

	if (jv_get_kind(ues) == JV_KIND_ARRAY && !create && !jv_equal(jv_copy(ues), jv_copy(es))) {
		/* the client wrote managedFields itself: take them as they are */
		jv_free(es);
		es = ues;
	} else {
		jv_free(ues);
	}
	if (create) {
		jv_free(old);
		old = jv_object();
	}
	a = strip(jv_copy(old), sub);
	b = strip(jv_copy(upd), sub);
	cmp(a, b, root, &chg, &rem);
	jv_free(a);
	jv_free(b);
	if (!olen(chg) && !olen(rem)) {
		jv_free(out_es);
		jv_free(chg);
		jv_free(rem);
		jv_free(old);
		if (jv_array_length(jv_copy(es)) == 0 && create) {
			jv_free(es);
			return kx_jv_del(upd, "metadata.managedFields");
		}
		return kx_jv_set(upd, "metadata.managedFields", entries_tidy(es));
	}
	jv_array_foreach(es, i, en)
	{
		jv s = entry_set(en), t = set_op(s, chg, OP_DIFF), u = set_op(t, rem, OP_DIFF);
		if (entry_is(en, who->manager, "Update", who->api_version, sub)) {
			jv_free(mine);
			mine = u;
			jv_free(en);
		} else {
			out_es = jv_array_append(out_es, jv_object_set(en, jv_string("fieldsV1"), u));
		}
		jv_free(s);
		jv_free(t);
	}
	jv_free(es);
	if (!jv_is_valid(mine)) {
		jv_free(mine);
		mine = jv_object();
	}
	jv s = set_op(mine, chg, OP_UNION);
	out_es = jv_array_append(out_es, entry_new(who, "Update", s));
	jv_free(mine);
	jv_free(chg);
	jv_free(rem);
	jv_free(old);
	return kx_jv_set(upd, "metadata.managedFields", entries_tidy(out_es));
}

const char *kx_ssa_default_manager(const char *ua, char *buf, size_t n)
{
	size_t l = ua ? strcspn(ua, "/ ") : 0;

	if (!l)
		snprintf(buf, n, "unknown");
	else
		snprintf(buf, n, "%.*s", (int)l, ua);
	return buf;
}
