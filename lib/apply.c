/* apply.c: kubectl's client-side apply, decided without I/O. */
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "buf.h"
#include "err.h"
#include "json.h"
#include "print.h"
#include "smp.h"

const kx_kind *kx_apply_check(jv obj, kx_err *e)
{
	char av[128], kind[128], name[256], gen[256];
	const kx_kind *k;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return kx_err_set(e, KX_EFAIL, "not an object"), NULL;
	if (!kx_jv_str(obj, "apiVersion", av, sizeof av, NULL) || !av[0])
		return kx_err_set(e, KX_EFAIL, "apiVersion not set"), NULL;
	if (!kx_jv_str(obj, "kind", kind, sizeof kind, NULL) || !kind[0])
		return kx_err_set(e, KX_EFAIL, "kind not set"), NULL;
	if (!(k = kx_kind_by_gvk(av, kind)))
		return kx_err_set(e, KX_EFAIL,
				  "no matches for kind \"%s\" in version \"%s\"", kind, av), NULL;
	if (!kx_jv_str(obj, "metadata.name", name, sizeof name, NULL) || !name[0]) {
		if (kx_jv_str(obj, "metadata.generateName", gen, sizeof gen, NULL))
			kx_err_set(e, KX_EFAIL, "%s: cannot apply an object with generateName "
				   "(use kx-create or a name)", kind);
		else
			kx_err_set(e, KX_EFAIL, "%s: metadata.name not set", kind);
		return NULL;
	}
	return k;
}

char *kx_apply_go_json(jv v)
{
	kx_buf b = KX_BUF_INIT;

	kx_go_json(&b, v, 0);
	return kx_buf_steal(&b);
}

/* --- the object to send ---------------------------------------------------- */

jv kx_apply_modified(jv obj, const kx_kind *k, const char *ns, int ns_forced, kx_err *e)
{
	char have[256];
	jv ann;

	if (k->namespaced) {
		if (kx_jv_str(obj, "metadata.namespace", have, sizeof have, NULL) && have[0]) {
			if (ns_forced && ns && strcmp(have, ns)) {
				kx_err_set(e, KX_EFAIL,
					   "the namespace from the provided object \"%s\" does not "
					   "match the namespace \"%s\"; you must pass "
					   "'--namespace=%s' to perform this operation",
					   have, ns, have);
				jv_free(obj);
				return jv_invalid();
			}
		} else {
			obj = kx_jv_set(obj, "metadata.namespace", jv_string(ns ? ns : "default"));
		}
	}
	/* kubectl: annotations exist (maybe empty) and hold no old copy of
	 * themselves, then the whole object is the annotation's value */
	ann = kx_jv_get(jv_copy(obj), "metadata.annotations");
	if (jv_get_kind(ann) != JV_KIND_OBJECT) {
		jv_free(ann);
		ann = jv_object();
	}
	ann = jv_object_delete(ann, jv_string(KX_LAST_APPLIED));
	obj = kx_jv_set(obj, "metadata.annotations", ann);
	kx_buf b = KX_BUF_INIT;
	kx_go_json(&b, jv_copy(obj), 0);
	kx_buf_addc(&b, '\n');
	ann = kx_jv_get(jv_copy(obj), "metadata.annotations");
	ann = jv_object_set(ann, jv_string(KX_LAST_APPLIED), jv_string(kx_buf_str(&b)));
	kx_buf_free(&b);
	return kx_jv_set(obj, "metadata.annotations", ann);
}

jv kx_apply_original(jv live)
{
	jv ann = kx_jv_get(jv_copy(live), "metadata.annotations");
	jv s = jv_get_kind(ann) == JV_KIND_OBJECT
		       ? jv_object_get(ann, jv_string(KX_LAST_APPLIED))
		       : (jv_free(ann), jv_invalid());
	jv out = jv_null();

	if (jv_is_valid(s) && jv_get_kind(s) == JV_KIND_STRING) {
		out = jv_parse(jv_string_value(s));
		if (!jv_is_valid(out) || jv_get_kind(out) != JV_KIND_OBJECT) {
			jv_free(out);
			out = jv_null();
		}
	}
	jv_free(s);
	return out;
}

/* --- the three-way merge --------------------------------------------------- */

static jv diff_obj(jv o, jv m, jv c, const char *type);

static int is_obj(jv v)
{
	return jv_is_valid(v) && jv_get_kind(v) == JV_KIND_OBJECT;
}

/* Does applying m over c change nothing? For objects and arrays of objects
 * this ignores fields c has and m does not name (defaults the store filled
 * in, another writer's fields): a list whose items all still carry what
 * the manifest says is unchanged, as a strategic merge would find. Consumes
 * all three. */
static int same(jv o, jv m, jv c)
{
	if (is_obj(m) && is_obj(c)) {
		jv d = diff_obj(is_obj(o) ? o : (jv_free(o), jv_object()), m, c, NULL);
		int r = jv_object_length(d) == 0;
		return r;
	}
	if (jv_get_kind(m) == JV_KIND_ARRAY && jv_is_valid(c) &&
	    jv_get_kind(c) == JV_KIND_ARRAY) {
		int n = jv_array_length(jv_copy(m));
		int r = n == jv_array_length(jv_copy(c));
		int on = jv_is_valid(o) && jv_get_kind(o) == JV_KIND_ARRAY
				 ? jv_array_length(jv_copy(o)) : -1;
		for (int i = 0; r && i < n; i++)
			r = same(i < on ? jv_array_get(jv_copy(o), i) : jv_null(),
				 jv_array_get(jv_copy(m), i), jv_array_get(jv_copy(c), i));
		jv_free(o);
		jv_free(m);
		jv_free(c);
		return r;
	}
	jv_free(o);
	if (!jv_is_valid(c)) {
		jv_free(m);
		jv_free(c);
		return 0;
	}
	return jv_equal(m, c);
}

/* The element of list (borrowed) whose key field equals kv (borrowed), or
 * jv_invalid(). */
static jv find_keyed(jv list, const char *key, jv kv)
{
	if (jv_get_kind(list) != JV_KIND_ARRAY)
		return jv_invalid();
	jv_array_foreach(list, i, x)
	{
		if (is_obj(x)) {
			jv xk = jv_object_get(jv_copy(x), jv_string(key));
			if (jv_equal(xk, jv_copy(kv)))
				return x;
		}
		jv_free(x);
	}
	return jv_invalid();
}

/* Every item of l (borrowed) is an object with the key field. */
static int all_keyed(jv l, const char *key)
{
	int r = 1;

	jv_array_foreach(l, i, x)
	{
		if (r && !(is_obj(x) && jv_object_has(jv_copy(x), jv_string(key))))
			r = 0;
		jv_free(x);
	}
	return r;
}

/* kubectl's isOrderSame: as long, and the same keys (or values) in order. */
static int order_same(jv c, jv m, const char *key)
{
	int n = jv_array_length(jv_copy(m)), r = n == jv_array_length(jv_copy(c));

	for (int i = 0; r && i < n; i++) {
		jv a = jv_array_get(jv_copy(c), i), b = jv_array_get(jv_copy(m), i);
		if (*key) {
			a = is_obj(a) ? jv_object_get(a, jv_string(key)) : (jv_free(a), jv_null());
			b = is_obj(b) ? jv_object_get(b, jv_string(key)) : (jv_free(b), jv_null());
		}
		r = jv_equal(a, b);
	}
	return r;
}

/* A strategic patch for a list merged by key (o, m, c borrowed; m and c are
 * arrays of keyed objects): the changed and new items of m, deletions of
 * the items dropped since o, and the order of m when anything changed.
 * Sets the fields in p (consumed, returned). */
static jv diff_keyed(jv p, const char *field, jv o, jv m, jv c, const char *key, const char *elem)
{
	jv items = jv_array();
	char dir[256];

	jv_array_foreach(m, i, me)
	{
		jv kv = jv_object_get(jv_copy(me), jv_string(key));
		jv ce = find_keyed(c, key, kv);
		if (!jv_is_valid(ce)) {
			items = jv_array_append(items, me);
		} else {
			jv oe = find_keyed(o, key, kv);
			jv sub = diff_obj(is_obj(oe) ? oe : (jv_free(oe), jv_object()), me, ce, elem);
			if (jv_object_length(jv_copy(sub)))
				items = jv_array_append(items, jv_object_set(sub, jv_string(key), jv_copy(kv)));
			else
				jv_free(sub);
		}
		jv_free(kv);
	}
	if (jv_get_kind(o) == JV_KIND_ARRAY) {
		jv_array_foreach(o, i, oe)
		{
			if (is_obj(oe) && jv_object_has(jv_copy(oe), jv_string(key))) {
				jv kv = jv_object_get(jv_copy(oe), jv_string(key));
				jv me = find_keyed(m, key, kv), ce = find_keyed(c, key, kv);
				if (!jv_is_valid(me) && jv_is_valid(ce)) {
					jv d = jv_object_set(jv_object(), jv_string(key), jv_copy(kv));
					items = jv_array_append(items, jv_object_set(d, jv_string("$patch"),
										     jv_string("delete")));
				}
				jv_free(me);
				jv_free(ce);
				jv_free(kv);
			}
			jv_free(oe);
		}
	}
	int changed = jv_array_length(jv_copy(items)) > 0;
	if (changed)
		p = jv_object_set(p, jv_string(field), items);
	else
		jv_free(items);
	if (changed || !order_same(c, m, key)) {
		jv order = jv_array();
		jv_array_foreach(m, i, me)
		{
			jv kv = jv_object_get(me, jv_string(key));
			order = jv_array_append(order, jv_object_set(jv_object(), jv_string(key), kv));
		}
		snprintf(dir, sizeof dir, "$setElementOrder/%s", field);
		p = jv_object_set(p, jv_string(dir), order);
	}
	return p;
}

static int has_value(jv l, jv v) /* l borrowed, v consumed */
{
	int r = 0;

	jv_array_foreach(l, i, x)
	{
		if (!r && jv_equal(x, jv_copy(v)))
			r = 1;
		else if (r)
			jv_free(x);
	}
	jv_free(v);
	return r;
}

/* A strategic patch for a list of scalars merged as a set (o, m, c
 * borrowed; m and c arrays): what m adds, what was dropped since o, and the
 * order of m. */
static jv diff_set(jv p, const char *field, jv o, jv m, jv c)
{
	jv add = jv_array(), del = jv_array();
	char dir[256];

	jv_array_foreach(m, i, x)
	{
		if (!has_value(c, jv_copy(x)))
			add = jv_array_append(add, x);
		else
			jv_free(x);
	}
	if (jv_get_kind(o) == JV_KIND_ARRAY) {
		jv_array_foreach(o, i, x)
		{
			if (!has_value(m, jv_copy(x)) && has_value(c, jv_copy(x)))
				del = jv_array_append(del, x);
			else
				jv_free(x);
		}
	}
	int changed = jv_array_length(jv_copy(add)) || jv_array_length(jv_copy(del));
	if (jv_array_length(jv_copy(add)))
		p = jv_object_set(p, jv_string(field), add);
	else
		jv_free(add);
	if (jv_array_length(jv_copy(del))) {
		snprintf(dir, sizeof dir, "$deleteFromPrimitiveList/%s", field);
		p = jv_object_set(p, jv_string(dir), del);
	} else {
		jv_free(del);
	}
	if (changed || !order_same(c, m, "")) {
		snprintf(dir, sizeof dir, "$setElementOrder/%s", field);
		p = jv_object_set(p, jv_string(dir), jv_copy(m));
	}
	return p;
}

/* o, m, c are objects (consumed); type names their type in lib/smp's table
 * (a kind at the top; NULL or unknown: a JSON merge patch). */
static jv diff_obj(jv o, jv m, jv c, const char *type)
{
	jv p = jv_object();

	jv_object_foreach(m, key, mv)
	{
		jv cv = jv_object_get(jv_copy(c), jv_copy(key));
		jv ov = jv_object_get(jv_copy(o), jv_copy(key));
		const char *elem = NULL, *mkey = NULL;
		int list = 0;
		if (!type || !kx_smp_field(type, jv_string_value(key), &elem, &list, &mkey))
			elem = mkey = NULL, list = 0;
		if (jv_get_kind(mv) == JV_KIND_NULL) {
			/* null in a manifest removes the field */
			if (jv_is_valid(cv) && jv_get_kind(cv) != JV_KIND_NULL)
				p = jv_object_set(p, jv_copy(key), jv_null());
			jv_free(mv);
			jv_free(cv);
			jv_free(ov);
		} else if (is_obj(mv) && is_obj(cv)) {
			jv sub = diff_obj(is_obj(ov) ? ov : (jv_free(ov), jv_object()), mv, cv,
					  list ? NULL : elem);
			if (jv_object_length(jv_copy(sub)))
				p = jv_object_set(p, jv_copy(key), sub);
			else
				jv_free(sub);
		} else if (list && mkey && jv_get_kind(mv) == JV_KIND_ARRAY && jv_is_valid(cv) &&
			   jv_get_kind(cv) == JV_KIND_ARRAY &&
			   (!*mkey || (all_keyed(mv, mkey) && all_keyed(cv, mkey)))) {
			if (*mkey)
				p = diff_keyed(p, jv_string_value(key), ov, mv, cv, mkey, elem);
			else
				p = diff_set(p, jv_string_value(key), ov, mv, cv);
			jv_free(mv);
			jv_free(cv);
			jv_free(ov);
		} else if (!same(ov, jv_copy(mv), cv)) {
			p = jv_object_set(p, jv_copy(key), mv);
		} else {
			jv_free(mv);
		}
		jv_free(key);
	}
	jv_object_foreach(o, key, ov)
	{
		jv mv = jv_object_get(jv_copy(m), jv_copy(key));
		jv cv = jv_object_get(jv_copy(c), jv_copy(key));
		if (!jv_is_valid(mv) && jv_is_valid(cv) && jv_get_kind(cv) != JV_KIND_NULL)
			p = jv_object_set(p, jv_copy(key), jv_null());
		jv_free(mv);
		jv_free(cv);
		jv_free(ov);
		jv_free(key);
	}
	jv_free(o);
	jv_free(m);
	jv_free(c);
	return p;
}

jv kx_apply_patch(jv original, jv modified, jv current, const char *kind)
{
	if (!is_obj(original)) {
		jv_free(original);
		original = jv_object();
	}
	if (!is_obj(current)) {
		jv_free(current);
		current = jv_object();
	}
	if (!is_obj(modified)) {
		jv_free(modified);
		modified = jv_object();
	}
	return diff_obj(original, modified, current, kind);
}
