/* patch.c: JSON merge patch and JSON patch over jv values. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "patch.h"

jv kx_patch_merge(jv target, jv patch)
{
	if (jv_get_kind(patch) != JV_KIND_OBJECT) {
		jv_free(target);
		return patch;
	}
	if (jv_get_kind(target) != JV_KIND_OBJECT) {
		jv_free(target);
		target = jv_object();
	}
	jv_object_foreach(patch, key, val)
	{
		if (jv_get_kind(val) == JV_KIND_NULL) {
			target = jv_object_delete(target, key);
			jv_free(val);
			continue;
		}
		jv old = jv_object_has(jv_copy(target), jv_copy(key))
				 ? jv_object_get(jv_copy(target), jv_copy(key))
				 : jv_null();
		target = jv_object_set(target, key, kx_patch_merge(old, val));
	}
	jv_free(patch);
	return target;
}

/* ---- JSON pointers (RFC 6901) ------------------------------------------ */

/* "/a/b~1c/0" -> ["a","b/c","0"]; jv_invalid() when it does not start with "/". */
static jv pointer_parse(const char *p)
{
	jv toks = jv_array();

	if (*p == 0)
		return toks;
	if (*p != '/') {
		jv_free(toks);
		return jv_invalid();
	}
	while (*p == '/') {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);
		char *t = malloc(n + 1), *o = t;
		for (size_t i = 0; i < n; i++) {
			char c = p[1 + i];
			if (c == '~' && i + 1 < n && (p[2 + i] == '0' || p[2 + i] == '1')) {
				c = p[2 + i] == '0' ? '~' : '/';
				i++;
			}
			*o++ = c;
		}
		*o = 0;
		toks = jv_array_append(toks, jv_string(t));
		free(t);
		p += 1 + n;
	}
	return toks;
}

/* An array index token: digits only, no leading zero; -1 otherwise. */
static int index_of(const char *t)
{
	char *end;
	long i;

	if (!*t || (t[0] == '0' && t[1]) || t[0] < '0' || t[0] > '9')
		return -1;
	i = strtol(t, &end, 10);
	return *end || i > 1 << 30 ? -1 : (int)i;
}

enum { OP_ADD, OP_REMOVE, OP_REPLACE, OP_GET };

/* Apply one operation at the path toks[i..] (borrowed) of doc (consumed). For OP_GET
 * returns the value found. *val is consumed by add/replace, and receives
 * the removed value for OP_REMOVE (when not NULL). */
static jv walk(jv doc, jv toks, int i, int op, jv *val, const char **why)
{
	int n = jv_array_length(jv_copy(toks));
	jv tok, child;
	const char *t;
	int kind = jv_get_kind(doc);

	if (i == n) { /* the whole document */
		if (op == OP_GET)
			return doc;
		if (op == OP_REMOVE) {
			if (val)
				*val = doc;
			else
				jv_free(doc);
			return jv_null();
		}
		jv_free(doc);
		jv r = *val;
		*val = jv_invalid();
		return r;
	}
	tok = jv_array_get(jv_copy(toks), i);
	t = jv_string_value(tok);
	if (kind == JV_KIND_OBJECT) {
		int has = jv_object_has(jv_copy(doc), jv_copy(tok));
		if (i == n - 1 && op != OP_GET) {
			if (op != OP_ADD && !has) {
				*why = "path does not exist";
				goto bad;
			}
			if (op == OP_REMOVE) {
				if (val)
					*val = jv_object_get(jv_copy(doc), jv_copy(tok));
				return jv_object_delete(doc, tok);
			}
			doc = jv_object_set(doc, tok, *val);
			*val = jv_invalid();
			return doc;
		}
		if (!has) {
			*why = "path does not exist";
			goto bad;
		}
		child = walk(jv_object_get(jv_copy(doc), jv_copy(tok)), toks, i + 1, op, val, why);
		if (!jv_is_valid(child) || op == OP_GET) {
			jv_free(doc);
			jv_free(tok);
			return child;
		}
		return jv_object_set(doc, tok, child);
	}
	if (kind == JV_KIND_ARRAY) {
		int len = jv_array_length(jv_copy(doc));
		int idx = !strcmp(t, "-") && op == OP_ADD && i == n - 1 ? len : index_of(t);
		if (idx < 0 || idx > len || (idx == len && !(op == OP_ADD && i == n - 1))) {
			*why = "array index out of range";
			goto bad;
		}
		jv_free(tok);
		if (i == n - 1 && op != OP_GET) {
			jv before = jv_array_slice(jv_copy(doc), 0, idx);
			if (op == OP_ADD) {
				jv after = jv_array_slice(doc, idx, len);
				before = jv_array_append(before, *val);
				*val = jv_invalid();
				return jv_array_concat(before, after);
			}
			if (op == OP_REMOVE && val)
				*val = jv_array_get(jv_copy(doc), idx);
			jv after = jv_array_slice(jv_copy(doc), idx + 1, len);
			jv_free(doc);
			if (op == OP_REPLACE) {
				before = jv_array_append(before, *val);
				*val = jv_invalid();
			}
			return jv_array_concat(before, after);
		}
		child = walk(jv_array_get(jv_copy(doc), idx), toks, i + 1, op, val, why);
		if (!jv_is_valid(child) || op == OP_GET) {
			jv_free(doc);
			return child;
		}
		return jv_array_set(doc, idx, child);
	}
	*why = "path does not exist";
bad:
	jv_free(tok);
	jv_free(doc);
	return jv_invalid();
}

static jv apply_one(jv doc, jv opv, int k, kx_err *e)
{
	char opname[16], path[1024], from[1024];
	const char *why = NULL;
	jv toks = jv_invalid(), ftoks = jv_invalid(), val = jv_invalid();

	if (jv_get_kind(opv) != JV_KIND_OBJECT) {
		kx_err_set(e, KX_EFAIL, "json patch operation %d is not an object", k);
		goto fail;
	}
	kx_jv_str(opv, "op", opname, sizeof opname, "");
	kx_jv_str(opv, "path", path, sizeof path, "\x01");
	kx_jv_str(opv, "from", from, sizeof from, "\x01");
	toks = pointer_parse(path);
	if (!jv_is_valid(toks)) {
		kx_err_set(e, KX_EFAIL, "json patch operation %d: path \"%s\" is not a JSON pointer", k,
			   path[0] == 1 ? "" : path);
		goto fail;
	}
	if (!strcmp(opname, "add") || !strcmp(opname, "replace") || !strcmp(opname, "test")) {
		if (!jv_object_has(jv_copy(opv), jv_string("value"))) {
			kx_err_set(e, KX_EFAIL, "json patch operation %d (%s): missing value", k, opname);
			goto fail;
		}
		val = jv_object_get(jv_copy(opv), jv_string("value"));
	}
	if (!strcmp(opname, "add") || !strcmp(opname, "replace")) {
		doc = walk(doc, toks, 0, opname[0] == 'a' ? OP_ADD : OP_REPLACE, &val, &why);
	} else if (!strcmp(opname, "remove")) {
		doc = walk(doc, toks, 0, OP_REMOVE, NULL, &why);
	} else if (!strcmp(opname, "test")) {
		jv got = walk(jv_copy(doc), toks, 0, OP_GET, NULL, &why);
		if (!jv_is_valid(got) || !jv_equal(got, jv_copy(val))) {
			if (!why)
				why = "test failed";
			jv_free(doc);
			doc = jv_invalid();
		}
	} else if (!strcmp(opname, "move") || !strcmp(opname, "copy")) {
		ftoks = pointer_parse(from);
		if (!jv_is_valid(ftoks)) {
			kx_err_set(e, KX_EFAIL, "json patch operation %d: from \"%s\" is not a JSON pointer",
				   k, from[0] == 1 ? "" : from);
			goto fail;
		}
		if (opname[0] == 'm') {
			doc = walk(doc, ftoks, 0, OP_REMOVE, &val, &why);
		} else {
			val = walk(jv_copy(doc), ftoks, 0, OP_GET, NULL, &why);
			if (!jv_is_valid(val)) {
				jv_free(doc);
				doc = jv_invalid();
			}
		}
		if (jv_is_valid(doc))
			doc = walk(doc, toks, 0, OP_ADD, &val, &why);
	} else {
		kx_err_set(e, KX_EFAIL, "json patch operation %d: unknown op \"%s\"", k, opname);
		goto fail;
	}
	if (!jv_is_valid(doc))
		kx_err_set(e, KX_EFAIL, "json patch operation %d (%s \"%s\"): %s", k, opname, path,
			   why ? why : "failed");
	jv_free(val);
	jv_free(toks);
	jv_free(ftoks);
	jv_free(opv);
	return doc;
fail:
	jv_free(val);
	jv_free(toks);
	jv_free(ftoks);
	jv_free(opv);
	jv_free(doc);
	return jv_invalid();
}

jv kx_patch_json(jv doc, jv ops, kx_err *e)
{
	int k = 0;

	if (jv_get_kind(ops) != JV_KIND_ARRAY) {
		jv_free(doc);
		jv_free(ops);
		kx_err_set(e, KX_EFAIL, "a json patch must be an array of operations");
		return jv_invalid();
	}
	jv_array_foreach(ops, i, op)
	{
		k = i;
		doc = apply_one(doc, op, k, e);
		if (!jv_is_valid(doc))
			break;
	}
	jv_free(ops);
	return doc;
}
