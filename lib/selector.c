/* selector.c: label and field selectors with Kubernetes' grammar and rules.
 *
 * Label selectors follow apimachinery's labels.Parse: a lexer that splits
 * the text into identifiers and the operators = == != ! ( ) , > <, then a
 * recursive descent over "[!]KEY [op VALUE | in|notin (V,...)]" joined by
 * commas. Keys and values are checked as Kubernetes validates them
 * (qualified names; values of at most 63 characters). Requirements are kept
 * sorted by key, so the canonical string is stable.
 *
 * Field selectors follow fields.ParseSelector: terms split on unescaped
 * commas, each split at its first "!=", "==" or "=", and the value
 * unescaped (\\ \, \= only). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "selector.h"

enum op { OP_EQ, OP_DEQ, OP_NEQ, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS, OP_GT, OP_LT };

struct req {
	char *key;
	jv jkey;      /* key as a jv string, made once for matching */
	enum op op;
	char **vals;
	size_t nvals;
};

struct kx_selector {
	struct req *r;
	size_t n, cap;
};

/* ---- validation: Kubernetes' qualified names and label values ---------- */

static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], over n bytes (n > 0). */
static int name_chars_ok(const char *s, size_t n)
{
	if (!is_alnum((unsigned char)s[0]) || !is_alnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 1; i + 1 < n; i++) {
		int c = (unsigned char)s[i];
		if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
			return 0;
	}
	return 1;
}

/* A DNS-1123 subdomain: lower-case labels joined by dots, 253 at most. */
static const char *dns1123_subdomain_problem(const char *s, size_t n)
{
	if (n > 253)
		return "must be no more than 253 characters";
	int start = 1;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		int lc = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (c == '.') {
			if (start || s[i - 1] == '-')
				goto bad;
			start = 1;
		} else if (c == '-') {
			if (start)
				goto bad;
		} else if (lc) {
			start = 0;
		} else {
			goto bad;
		}
	}
	if (start || s[n - 1] == '-')
		goto bad;
	return NULL;
bad:
	return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
	       "characters, '-' or '.', and must start and end with an alphanumeric character";
}

static int label_key_check(const char *k, kx_err *e)
{
	const char *slash = strchr(k, '/');
	const char *name = k;
	const char *p;

	if (slash) {
		if (strchr(slash + 1, '/'))
			return kx_err_set(e, KX_EFAIL, "invalid label key \"%s\": a qualified name may "
					  "have at most one '/' (an optional DNS subdomain prefix, "
					  "e.g. 'example.com/MyName')", k);
		if (slash == k)
			return kx_err_set(e, KX_EFAIL, "invalid label key \"%s\": prefix part must be "
					  "non-empty", k);
		if ((p = dns1123_subdomain_problem(k, (size_t)(slash - k))))
			return kx_err_set(e, KX_EFAIL, "invalid label key \"%s\": prefix part %s", k, p);
		name = slash + 1;
	}
	size_t n = strlen(name);
	if (n == 0)
		return kx_err_set(e, KX_EFAIL, "invalid label key \"%s\": name part must be non-empty", k);
	if (n > 63)
		return kx_err_set(e, KX_EFAIL, "invalid label key \"%s\": name part must be no more "
				  "than 63 characters", k);
	if (!name_chars_ok(name, n))
		return kx_err_set(e, KX_EFAIL, "invalid label key \"%s\": name part must consist of "
				  "alphanumeric characters, '-', '_' or '.', and must start and end "
				  "with an alphanumeric character", k);
	return 0;
}

static int label_value_check(const char *k, const char *v, kx_err *e)
{
	size_t n = strlen(v);

	if (n > 63)
		return kx_err_set(e, KX_EFAIL, "invalid label value \"%s\" for key \"%s\": must be no "
				  "more than 63 characters", v, k);
	if (n && !name_chars_ok(v, n))
		return kx_err_set(e, KX_EFAIL, "invalid label value \"%s\" for key \"%s\": a valid "
				  "label must be an empty string or consist of alphanumeric "
				  "characters, '-', '_' or '.', and must start and end with an "
				  "alphanumeric character", v, k);
	return 0;
}

/* ---- building ----------------------------------------------------------- */

static void req_free(struct req *r)
{
	free(r->key);
	jv_free(r->jkey);
	for (size_t i = 0; i < r->nvals; i++)
		free(r->vals[i]);
	free(r->vals);
}

void kx_selector_free(kx_selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		req_free(&s->r[i]);
	free(s->r);
	free(s);
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		abort();
	return q;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		abort();
	return p;
}

static struct req *sel_add(kx_selector *s, const char *key, size_t keylen, enum op op)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->r = xrealloc(s->r, s->cap * sizeof *s->r);
	}
	struct req *r = &s->r[s->n++];
	r->key = xstrndup(key, keylen);
	r->jkey = jv_string(r->key);
	r->op = op;
	r->vals = NULL;
	r->nvals = 0;
	return r;
}

/* Values form a set: a repeated value is kept once. */
static void req_addval(struct req *r, const char *v, size_t n)
{
	for (size_t i = 0; i < r->nvals; i++)
		if (strlen(r->vals[i]) == n && !memcmp(r->vals[i], v, n))
			return;
	r->vals = xrealloc(r->vals, (r->nvals + 1) * sizeof *r->vals);
	r->vals[r->nvals++] = xstrndup(v, n);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Validate values and sort them (the canonical form lists them sorted). */
static int req_finish(struct req *r, kx_err *e)
{
	for (size_t i = 0; i < r->nvals; i++)
		if (label_value_check(r->key, r->vals[i], e) < 0)
			return -1;
	if ((r->op == OP_IN || r->op == OP_NOTIN) && r->nvals == 0)
		return kx_err_set(e, KX_EFAIL, "key \"%s\": for 'in', 'notin' operators, values set "
				  "can't be empty", r->key);
	if (r->op == OP_GT || r->op == OP_LT) {
		char *end;
		if (r->nvals != 1 || !*r->vals[0] ||
		    (strtoll(r->vals[0], &end, 10), *end))
			return kx_err_set(e, KX_EFAIL, "key \"%s\": for 'gt', 'lt' operators, the value "
					  "must be an integer", r->key);
	}
	if (r->nvals > 1)
		qsort(r->vals, r->nvals, sizeof *r->vals, cmp_str);
	return 0;
}

/* Stable sort by key: insertion sort, selectors are short. */
static void sel_sort(kx_selector *s)
{
	for (size_t i = 1; i < s->n; i++) {
		struct req t = s->r[i];
		size_t j = i;
		while (j > 0 && strcmp(s->r[j - 1].key, t.key) > 0) {
			s->r[j] = s->r[j - 1];
			j--;
		}
		s->r[j] = t;
	}
}

static kx_selector *sel_new(void)
{
	kx_selector *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	return s;
}

/* ---- the lexer ----------------------------------------------------------- */

enum tok { T_END, T_ID, T_IN, T_NOTIN, T_NOT, T_EQ, T_DEQ, T_NEQ, T_GT, T_LT, T_OPEN, T_CLOSE, T_COMMA };

struct token {
	enum tok t;
	const char *s;
	size_t n;
};

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_special(int c)
{
	return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static struct token lex(const char **pp)
{
	const char *p = *pp;
	struct token t = {T_END, "", 0};

	while (is_ws((unsigned char)*p))
		p++;
	t.s = p;
	if (!*p) {
		*pp = p;
		return t;
	}
	if (is_special((unsigned char)*p)) {
		t.n = 1;
		switch (*p) {
		case '(': t.t = T_OPEN; break;
		case ')': t.t = T_CLOSE; break;
		case ',': t.t = T_COMMA; break;
		case '>': t.t = T_GT; break;
		case '<': t.t = T_LT; break;
		case '=':
			t.t = T_EQ;
			if (p[1] == '=')
				t.t = T_DEQ, t.n = 2;
			break;
		case '!':
			t.t = T_NOT;
			if (p[1] == '=')
				t.t = T_NEQ, t.n = 2;
			break;
		}
		*pp = p + t.n;
		return t;
	}
	while (*p && !is_ws((unsigned char)*p) && !is_special((unsigned char)*p))
		p++;
	t.n = (size_t)(p - t.s);
	t.t = T_ID;
	if (t.n == 2 && !memcmp(t.s, "in", 2))
		t.t = T_IN;
	else if (t.n == 5 && !memcmp(t.s, "notin", 5))
		t.t = T_NOTIN;
	*pp = p;
	return t;
}

/* In value position the keywords "in" and "notin" are plain identifiers. */
static struct token lex_value(const char **pp)
{
	struct token t = lex(pp);
	if (t.t == T_IN || t.t == T_NOTIN)
		t.t = T_ID;
	return t;
}

static struct token peek_value(const char *p)
{
	return lex_value(&p);
}

static const char *tokname(struct token t, char *buf, size_t n)
{
	snprintf(buf, n, "%.*s", (int)(t.n > 200 ? 200 : t.n), t.s);
	return buf;
}

/* ---- the label selector parser --------------------------------------- */

static int parse_requirement(kx_selector *s, const char **pp, kx_err *e)
{
	char nb[256];
	struct token t = lex_value(pp);
	int negate = 0;

	if (t.t == T_NOT) {
		negate = 1;
		t = lex_value(pp);
	}
	if (t.t != T_ID)
		return kx_err_set(e, KX_EFAIL, "found '%s', expected: identifier", tokname(t, nb, sizeof nb));
	char *key = xstrndup(t.s, t.n);
	int rc = label_key_check(key, e);
	free(key);
	if (rc < 0)
		return -1;
	struct token nx = peek_value(*pp);
	if (nx.t == T_END || nx.t == T_COMMA) {
		sel_add(s, t.s, t.n, negate ? OP_NOTEXISTS : OP_EXISTS);
		return 0;
	}
	/* A '!' followed by anything else falls through to the operator,
	 * which then cannot be found (as in Kubernetes). */
	struct token o = lex(pp);
	enum op op;
	switch (o.t) {
	case T_IN: op = OP_IN; break;
	case T_NOTIN: op = OP_NOTIN; break;
	case T_EQ: op = OP_EQ; break;
	case T_DEQ: op = OP_DEQ; break;
	case T_NEQ: op = OP_NEQ; break;
	case T_GT: op = OP_GT; break;
	case T_LT: op = OP_LT; break;
	default:
		return kx_err_set(e, KX_EFAIL, "found '%s', expected: in, notin, =, ==, !=, gt, lt",
				  tokname(o, nb, sizeof nb));
	}
	if (negate)
		return kx_err_set(e, KX_EFAIL, "found '%s', expected: ',' or 'end of string' after "
				  "'!%.*s'", tokname(o, nb, sizeof nb), (int)t.n, t.s);
	struct req *r = sel_add(s, t.s, t.n, op);
	if (op == OP_IN || op == OP_NOTIN) {
		struct token v = lex_value(pp);
		if (v.t != T_OPEN)
			return kx_err_set(e, KX_EFAIL, "found '%s', expected: '('", tokname(v, nb, sizeof nb));
		v = peek_value(*pp);
		if (v.t == T_CLOSE) {
			lex_value(pp);
			req_addval(r, "", 0);
		} else if (v.t == T_ID || v.t == T_COMMA) {
			/* A list of possibly empty values: "(a,,b)", "(,a)", "(a,)". */
			int want_value = 1;
			for (;;) {
				v = lex_value(pp);
				if (v.t == T_ID && want_value) {
					req_addval(r, v.s, v.n);
					want_value = 0;
				} else if (v.t == T_COMMA) {
					if (want_value)
						req_addval(r, "", 0);
					want_value = 1;
				} else if (v.t == T_CLOSE) {
					if (want_value)
						req_addval(r, "", 0);
					break;
				} else {
					return kx_err_set(e, KX_EFAIL, "found '%s', expected: ',' or ')'",
							  v.t == T_END ? "end of string" : tokname(v, nb, sizeof nb));
				}
			}
		} else {
			return kx_err_set(e, KX_EFAIL, "found '%s', expected: ',', ')' or identifier",
					  v.t == T_END ? "end of string" : tokname(v, nb, sizeof nb));
		}
	} else {
		struct token v = peek_value(*pp);
		if (v.t == T_END || v.t == T_COMMA) {
			req_addval(r, "", 0);
		} else {
			v = lex_value(pp);
			if (v.t != T_ID)
				return kx_err_set(e, KX_EFAIL, "found '%s', expected: identifier",
						  tokname(v, nb, sizeof nb));
			req_addval(r, v.s, v.n);
		}
	}
	return req_finish(r, e);
}

kx_selector *kx_selector_parse(const char *str, kx_err *e)
{
	kx_selector *s = sel_new();
	const char *p = str ? str : "";
	char nb[256];

	for (;;) {
		struct token t = peek_value(p);
		if (t.t == T_END)
			break;
		if (t.t != T_ID && t.t != T_NOT) {
			kx_err_set(e, KX_EFAIL, "found '%s', expected: !, identifier, or 'end of string'",
				   tokname(t, nb, sizeof nb));
			goto fail;
		}
		if (parse_requirement(s, &p, e) < 0) {
			kx_err_wrap(e, "unable to parse requirement");
			goto fail;
		}
		t = lex_value(&p);
		if (t.t == T_END)
			break;
		if (t.t != T_COMMA) {
			kx_err_set(e, KX_EFAIL, "found '%s', expected: ',' or 'end of string'",
				   tokname(t, nb, sizeof nb));
			goto fail;
		}
		t = peek_value(p);
		if (t.t != T_ID && t.t != T_NOT) {
			kx_err_set(e, KX_EFAIL, "found '%s', expected: identifier after ','",
				   t.t == T_END ? "end of string" : tokname(t, nb, sizeof nb));
			goto fail;
		}
	}
	sel_sort(s);
	return s;
fail:
	kx_err_wrap(e, "invalid label selector \"%s\"", str);
	kx_selector_free(s);
	return NULL;
}

/* ---- from objects -------------------------------------------------------- */

static int add_match_labels(kx_selector *s, jv map, kx_err *e)
{
	int rc = 0;

	if (jv_get_kind(map) != JV_KIND_OBJECT) {
		jv_free(map);
		return kx_err_set(e, KX_EFAIL, "must be an object of label keys to values");
	}
	jv_object_foreach(map, k, v) {
		if (rc == 0) {
			const char *key = jv_string_value(k);
			if (jv_get_kind(v) != JV_KIND_STRING) {
				rc = kx_err_set(e, KX_EFAIL, "value of \"%s\" must be a string", key);
			} else if (label_key_check(key, e) == 0) {
				struct req *r = sel_add(s, key, strlen(key), OP_EQ);
				req_addval(r, jv_string_value(v), jv_string_length_bytes(jv_copy(v)));
				rc = req_finish(r, e);
			} else {
				rc = -1;
			}
		}
		jv_free(k);
		jv_free(v);
	}
	jv_free(map);
	return rc;
}

static int add_expression(kx_selector *s, jv x, int i, kx_err *e)
{
	jv key = jv_null(), opv = jv_null(), vals = jv_null();
	int rc = -1;

	if (jv_get_kind(x) != JV_KIND_OBJECT) {
		kx_err_set(e, KX_EFAIL, "matchExpressions[%d]: must be an object", i);
		goto out;
	}
	key = jv_object_get(jv_copy(x), jv_string("key"));
	opv = jv_object_get(jv_copy(x), jv_string("operator"));
	vals = jv_object_get(jv_copy(x), jv_string("values"));
	if (jv_get_kind(key) != JV_KIND_STRING) {
		kx_err_set(e, KX_EFAIL, "matchExpressions[%d].key: required string", i);
		goto out;
	}
	if (jv_get_kind(opv) != JV_KIND_STRING) {
		kx_err_set(e, KX_EFAIL, "matchExpressions[%d].operator: required string", i);
		goto out;
	}
	const char *k = jv_string_value(key), *o = jv_string_value(opv);
	enum op op;
	if (!strcmp(o, "In"))
		op = OP_IN;
	else if (!strcmp(o, "NotIn"))
		op = OP_NOTIN;
	else if (!strcmp(o, "Exists"))
		op = OP_EXISTS;
	else if (!strcmp(o, "DoesNotExist"))
		op = OP_NOTEXISTS;
	else {
		kx_err_set(e, KX_EFAIL, "matchExpressions[%d].operator: \"%s\" is not a valid label "
			   "selector operator (In, NotIn, Exists, DoesNotExist)", i, o);
		goto out;
	}
	if (label_key_check(k, e) < 0) {
		kx_err_wrap(e, "matchExpressions[%d].key", i);
		goto out;
	}
	int nv = 0;
	if (jv_get_kind(vals) == JV_KIND_ARRAY)
		nv = jv_array_length(jv_copy(vals));
	else if (jv_get_kind(vals) != JV_KIND_NULL && jv_is_valid(vals)) {
		kx_err_set(e, KX_EFAIL, "matchExpressions[%d].values: must be a list of strings", i);
		goto out;
	}
	if ((op == OP_EXISTS || op == OP_NOTEXISTS) && nv) {
		kx_err_set(e, KX_EFAIL, "matchExpressions[%d].values: must be empty for exists and "
			   "does not exist", i);
		goto out;
	}
	struct req *r = sel_add(s, k, strlen(k), op);
	for (int j = 0; j < nv; j++) {
		jv v = jv_array_get(jv_copy(vals), j);
		if (jv_get_kind(v) != JV_KIND_STRING) {
			jv_free(v);
			kx_err_set(e, KX_EFAIL, "matchExpressions[%d].values[%d]: must be a string", i, j);
			goto out;
		}
		req_addval(r, jv_string_value(v), jv_string_length_bytes(jv_copy(v)));
		jv_free(v);
	}
	if (req_finish(r, e) < 0) {
		kx_err_wrap(e, "matchExpressions[%d]", i);
		goto out;
	}
	rc = 0;
out:
	jv_free(key);
	jv_free(opv);
	jv_free(vals);
	jv_free(x);
	return rc;
}

kx_selector *kx_selector_from_jv(jv sel, kx_err *e)
{
	kx_selector *s = sel_new();

	if (jv_get_kind(sel) == JV_KIND_NULL || !jv_is_valid(sel)) {
		jv_free(sel);
		return s;
	}
	if (jv_get_kind(sel) != JV_KIND_OBJECT) {
		kx_err_set(e, KX_EFAIL, "invalid label selector: must be an object with matchLabels "
			   "and matchExpressions");
		goto fail;
	}
	jv ml = jv_object_get(jv_copy(sel), jv_string("matchLabels"));
	if (jv_is_valid(ml) && jv_get_kind(ml) != JV_KIND_NULL) {
		if (add_match_labels(s, ml, e) < 0) {
			kx_err_wrap(e, "invalid label selector: matchLabels");
			goto fail;
		}
	} else {
		jv_free(ml);
	}
	jv mx = jv_object_get(jv_copy(sel), jv_string("matchExpressions"));
	if (jv_get_kind(mx) == JV_KIND_ARRAY) {
		int n = jv_array_length(jv_copy(mx));
		for (int i = 0; i < n; i++) {
			if (add_expression(s, jv_array_get(jv_copy(mx), i), i, e) < 0) {
				jv_free(mx);
				kx_err_wrap(e, "invalid label selector");
				goto fail;
			}
		}
	} else if (jv_is_valid(mx) && jv_get_kind(mx) != JV_KIND_NULL) {
		jv_free(mx);
		kx_err_set(e, KX_EFAIL, "invalid label selector: matchExpressions must be a list");
		goto fail;
	}
	jv_free(mx);
	jv_free(sel);
	sel_sort(s);
	return s;
fail:
	jv_free(sel);
	kx_selector_free(s);
	return NULL;
}

kx_selector *kx_selector_from_map(jv map, kx_err *e)
{
	kx_selector *s = sel_new();

	if (jv_get_kind(map) == JV_KIND_NULL || !jv_is_valid(map)) {
		jv_free(map);
		return s;
	}
	if (add_match_labels(s, map, e) < 0) {
		kx_err_wrap(e, "invalid selector");
		kx_selector_free(s);
		return NULL;
	}
	sel_sort(s);
	return s;
}

/* ---- matching and printing ------------------------------------------------ */

static int req_has(const struct req *r, const char *v)
{
	for (size_t i = 0; i < r->nvals; i++)
		if (!strcmp(r->vals[i], v))
			return 1;
	return 0;
}

static int parse_i64(const char *s, long long *out)
{
	char *end;
	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return (*end || errno) ? -1 : 0;
}

static int req_match(const struct req *r, jv labels)
{
	jv v = jv_invalid();
	int has = 0, res = 0;

	if (jv_get_kind(labels) == JV_KIND_OBJECT) {
		v = jv_object_get(jv_copy(labels), jv_copy(r->jkey));
		has = jv_get_kind(v) == JV_KIND_STRING;
	}
	const char *val = has ? jv_string_value(v) : "";
	long long a, b;

	switch (r->op) {
	case OP_EQ: case OP_DEQ: case OP_IN:
		res = has && req_has(r, val);
		break;
	case OP_NEQ: case OP_NOTIN:
		res = !has || !req_has(r, val);
		break;
	case OP_EXISTS:
		res = has;
		break;
	case OP_NOTEXISTS:
		res = !has;
		break;
	case OP_GT: case OP_LT:
		res = has && r->nvals == 1 && parse_i64(val, &a) == 0 && parse_i64(r->vals[0], &b) == 0 &&
		      (r->op == OP_GT ? a > b : a < b);
		break;
	}
	jv_free(v);
	return res;
}

int kx_selector_match(const kx_selector *s, jv labels)
{
	for (size_t i = 0; i < s->n; i++)
		if (!req_match(&s->r[i], labels))
			return 0;
	return 1;
}

int kx_selector_empty(const kx_selector *s)
{
	return s->n == 0;
}

char *kx_selector_string(const kx_selector *s)
{
	static const char *const opstr[] = {
		[OP_EQ] = "=", [OP_DEQ] = "==", [OP_NEQ] = "!=", [OP_IN] = " in (",
		[OP_NOTIN] = " notin (", [OP_GT] = ">", [OP_LT] = "<",
		[OP_EXISTS] = "", [OP_NOTEXISTS] = "",
	};
	kx_buf b = KX_BUF_INIT;

	kx_buf_adds(&b, "");
	for (size_t i = 0; i < s->n; i++) {
		const struct req *r = &s->r[i];
		if (i)
			kx_buf_addc(&b, ',');
		if (r->op == OP_NOTEXISTS)
			kx_buf_addc(&b, '!');
		kx_buf_adds(&b, r->key);
		kx_buf_adds(&b, opstr[r->op]);
		for (size_t j = 0; j < r->nvals; j++) {
			if (j)
				kx_buf_addc(&b, ',');
			kx_buf_adds(&b, r->vals[j]);
		}
		if (r->op == OP_IN || r->op == OP_NOTIN)
			kx_buf_addc(&b, ')');
	}
	return kx_buf_steal(&b);
}

/* ---- field selectors ------------------------------------------------------ */

struct fterm {
	char *field;
	char *value;
	int neq;
};

struct kx_fieldsel {
	struct fterm *t;
	size_t n;
};

void kx_fieldsel_free(kx_fieldsel *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->t[i].field);
		free(f->t[i].value);
	}
	free(f->t);
	free(f);
}

/* Unescape a value: \\ \, \= stand for themselves; a bare , or = and any
 * other escape are errors. */
static char *unescape_value(const char *s, size_t n, kx_err *e)
{
	char *out = xrealloc(NULL, n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\') {
			if (i + 1 >= n) {
				kx_err_set(e, KX_EFAIL, "invalid escape sequence: \\ at the end of a value");
				goto fail;
			}
			c = s[++i];
			if (c != '\\' && c != ',' && c != '=') {
				kx_err_set(e, KX_EFAIL, "invalid escape sequence: \\%c", c);
				goto fail;
			}
		} else if (c == ',' || c == '=') {
			kx_err_set(e, KX_EFAIL, "unescaped character in value: %c", c);
			goto fail;
		}
		*o++ = c;
	}
	*o = 0;
	return out;
fail:
	free(out);
	return NULL;
}

static int fieldsel_term(kx_fieldsel *f, const char *s, size_t n, kx_err *e)
{
	size_t i;
	size_t oplen = 0;
	int neq = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '!' && i + 1 < n && s[i + 1] == '=') {
			oplen = 2, neq = 1;
			break;
		}
		if (s[i] == '=') {
			oplen = (i + 1 < n && s[i + 1] == '=') ? 2 : 1;
			break;
		}
	}
	if (!oplen)
		return kx_err_set(e, KX_EFAIL, "can't understand '%.*s'", (int)n, s);
	char *v = unescape_value(s + i + oplen, n - i - oplen, e);
	if (!v)
		return -1;
	f->t = xrealloc(f->t, (f->n + 1) * sizeof *f->t);
	f->t[f->n].field = xstrndup(s, i);
	f->t[f->n].value = v;
	f->t[f->n].neq = neq;
	f->n++;
	return 0;
}

kx_fieldsel *kx_fieldsel_parse(const char *str, kx_err *e)
{
	kx_fieldsel *f = calloc(1, sizeof *f);
	const char *p = str ? str : "", *start = p;

	if (!f)
		abort();
	for (;; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == ',' || !*p) {
			if (p > start && fieldsel_term(f, start, (size_t)(p - start), e) < 0) {
				kx_err_wrap(e, "invalid field selector \"%s\"", str);
				kx_fieldsel_free(f);
				return NULL;
			}
			if (!*p)
				break;
			start = p + 1;
		}
	}
	return f;
}

const char *kx_fieldsel_unsupported(const kx_fieldsel *f, const char *const *allowed)
{
	for (size_t i = 0; i < f->n; i++) {
		size_t j;
		for (j = 0; allowed && allowed[j]; j++)
			if (!strcmp(allowed[j], f->t[i].field))
				break;
		if (!allowed || !allowed[j])
			return f->t[i].field;
	}
	return NULL;
}

/* The field's value as a string: missing or null is "", numbers and
 * booleans are written as JSON writes them. */
static int field_is(jv obj, const char *path, const char *want)
{
	jv v = kx_jv_get(jv_copy(obj), path);
	int res;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		res = !strcmp(jv_string_value(v), want);
		break;
	case JV_KIND_NUMBER:
	case JV_KIND_TRUE:
	case JV_KIND_FALSE: {
		jv s = jv_dump_string(jv_copy(v), 0);
		res = !strcmp(jv_string_value(s), want);
		jv_free(s);
		break;
	}
	default:
		res = !*want;
		break;
	}
	jv_free(v);
	return res;
}

int kx_fieldsel_match(const kx_fieldsel *f, jv obj)
{
	for (size_t i = 0; i < f->n; i++)
		if (field_is(obj, f->t[i].field, f->t[i].value) == f->t[i].neq)
			return 0;
	return 1;
}
