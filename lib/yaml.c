/* yaml.c: YAML streams to jv and back, the way Kubernetes reads and writes
 * them (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1 rules).
 *
 * Reading walks libyaml's events and builds the jv values directly, with a
 * stack of open collections. Plain scalars are resolved as go-yaml v2 does
 * (null, YAML 1.1 booleans, ints in base 10/16/8/2 with underscores,
 * floats); quoted and block scalars are strings. Anchors hold finished
 * values (jv shares them, so aliases are cheap in memory) and a count of
 * the nodes aliases expand to guards against alias bombs. Merge keys are
 * applied with the spec's precedence: the mapping's own keys win, then the
 * earlier merged mappings.
 *
 * Writing drives libyaml's emitter, as go-yaml's encoder drives its port
 * of it: block style, two spaces, sequences of a mapping at the key's
 * indent, no line folding, strings double-quoted only when they would read
 * back as something else, multi-line strings as literal blocks. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libyaml.h>

#include "buf.h"
#include "err.h"
#include "yaml.h"

#define YAML_MAX_INPUT (64u << 20)      /* bytes */
#define YAML_MAX_DEPTH 1000             /* nested collections */
#define YAML_MAX_ALIAS_NODES 1000000    /* nodes that aliases may add */

enum rkind { R_STR, R_NULL, R_BOOL, R_INT, R_FLOAT, R_MERGE, R_COLL };

/* A finished value, with what it would become as a mapping key. */
struct node {
	jv v;
	size_t nodes;     /* values in it, counting aliases expanded */
	enum rkind k;
	char keytxt[48];  /* for R_INT and R_FLOAT keys */
};

struct anchor {
	char *name;
	struct node n;
};

struct frame {
	int is_map;
	jv v;            /* the array, or the object of the mapping's own keys */
	jv key;          /* pending key */
	int have_key;
	int merge_next;  /* the pending key is << */
	jv merged;       /* keys from merges, or null */
	size_t nodes;
	char *anchor;
};

struct ctx {
	const char *name;
	kx_err *e;
	struct frame *st;
	int depth, cap;
	struct anchor *an;
	size_t nan, can;
	size_t alias_nodes;
	int have_root;
	struct node root;
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		abort();
	return q;
}

static int fail(struct ctx *c, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, yaml_mark_t m, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return kx_err_set(c->e, KX_EFAIL, "%s:%zu:%zu: %s", c->name, m.line + 1, m.column + 1, msg);
}

/* ---- Go-compatible number syntax ---------------------------------------- */

/* strconv.ParseInt(s, 0, 64)'s syntax (sign, 0x 0o 0b prefixes, a leading 0
 * for octal), into sign and magnitude. -1 on bad syntax or more than 64 bits. */
static int go_parse_int(const char *s, int *neg, int *signed_, uint64_t *mag)
{
	int base = 10;
	uint64_t v = 0;

	*neg = *signed_ = 0;
	if (*s == '+' || *s == '-') {
		*neg = *s == '-';
		*signed_ = 1;
		s++;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8, s += 2;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, s += 2;
	else if (s[0] == '0' && s[1])
		base = 8, s += 1;
	if (!*s)
		return -1;
	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*mag = v;
	return 0;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int yaml_style_float(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	} else {
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++)
				;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == 0;
}

/* Go's strconv.FormatFloat(d, 'g', -1, bits): the shortest digits that read
 * back as the same float64 (or float32), in %e form when the decimal
 * exponent is below -4 or at least 6 (Go's rule for shortest 'g'). */
static void go_format_g(double d, int bits32, char *out, size_t n)
{
	char buf[64], digits[32];
	int exp, nd = 0;
	const char *p;

	if (isnan(d)) {
		snprintf(out, n, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(out, n, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (d == 0) {
		snprintf(out, n, signbit(d) ? "-0" : "0");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
		double back = strtod(buf, NULL);
		if (bits32 ? (float)back == (float)d : back == d)
			break;
	}
	p = buf;
	int neg = *p == '-';
	if (neg)
		p++;
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9' && nd < (int)sizeof digits - 1)
			digits[nd++] = *p;
	digits[nd] = 0;
	exp = atoi(p + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = 0;

	kx_buf b = KX_BUF_INIT;
	if (neg)
		kx_buf_addc(&b, '-');
	if (exp < -4 || exp >= 6) {
		kx_buf_addc(&b, digits[0]);
		if (nd > 1) {
			kx_buf_addc(&b, '.');
			kx_buf_adds(&b, digits + 1);
		}
		kx_buf_addf(&b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	} else if (exp < 0) {
		kx_buf_adds(&b, "0.");
		for (int i = -1; i > exp; i--)
			kx_buf_addc(&b, '0');
		kx_buf_adds(&b, digits);
	} else {
		for (int i = 0; i <= exp; i++)
			kx_buf_addc(&b, i < nd ? digits[i] : '0');
		if (nd > exp + 1) {
			kx_buf_addc(&b, '.');
			kx_buf_adds(&b, digits + exp + 1);
		}
	}
	snprintf(out, n, "%s", kx_buf_str(&b));
	kx_buf_free(&b);
}

/* A float mapping key as sigs.k8s.io/yaml writes it (32-bit 'g'). */
static void go_format_float_key(double d, char *out, size_t n)
{
	if (isnan(d))
		snprintf(out, n, ".nan");
	else if (isinf(d))
		snprintf(out, n, d > 0 ? ".inf" : "-.inf");
	else
		go_format_g(d, 1, out, n);
}

/* ---- resolving plain scalars (go-yaml v2's resolve) ---------------------- */

/* go-yaml v2 also reads the one-letter y Y n N as booleans; kx's contract
 * (lib/yaml.h) and the team's manifests keep them strings, so they are only
 * quoted on output, where a YAML 1.1 reader would take them for booleans. */
static const char *const bool_true[] = {"yes", "Yes", "YES", "true", "True", "TRUE",
					"on", "On", "ON", NULL};
static const char *const bool_false[] = {"no", "No", "NO", "false", "False", "FALSE",
					 "off", "Off", "OFF", NULL};
static const char *const one_letter_bools[] = {"y", "Y", "n", "N", NULL};
static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};

static int in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(s, *l))
			return 1;
	return 0;
}

/* Resolve text (NUL-free) as a plain scalar into n. */
static void resolve_plain(const char *s, struct node *n)
{
	unsigned char h = (unsigned char)s[0];

	n->nodes = 1;
	n->keytxt[0] = 0;
	/* go-yaml's hint: only these first characters can start a non-string */
	if (h && !strchr("yYnNtTfFoO~.+-0123456789<", h)) {
		n->k = R_STR;
		n->v = jv_string(s);
		return;
	}
	if (in_list(s, null_words)) {
		n->k = R_NULL;
		n->v = jv_null();
		return;
	}
	if (in_list(s, bool_true) || in_list(s, bool_false)) {
		n->k = R_BOOL;
		n->v = in_list(s, bool_true) ? jv_true() : jv_false();
		return;
	}
	if (!strcmp(s, "<<")) {
		n->k = R_MERGE;
		n->v = jv_string(s);
		return;
	}
	double d = 0;
	if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
		d = NAN;
	else if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF") ||
		 !strcmp(s, "+.inf") || !strcmp(s, "+.Inf") || !strcmp(s, "+.INF"))
		d = INFINITY;
	else if (!strcmp(s, "-.inf") || !strcmp(s, "-.Inf") || !strcmp(s, "-.INF"))
		d = -INFINITY;
	else if (h == '.') {
		/* strconv.ParseFloat on the text as is: ".5", ".5e3" */
		if (!yaml_style_float(s) || isinf(d = strtod(s, NULL)))
			goto string;
	} else if (h == '+' || h == '-' || (h >= '0' && h <= '9')) {
		/* ints (ParseInt, then ParseUint, base 0) and floats, with
		 * underscores removed */
		size_t len = strlen(s);
		char *plain = malloc(len + 1), *o = plain;
		int neg, sgn, isfloat = 0;
		uint64_t mag;
		if (!plain)
			abort();
		for (const char *p = s; *p; p++)
			if (*p != '_')
				*o++ = *p;
		*o = 0;
		if (go_parse_int(plain, &neg, &sgn, &mag) == 0 &&
		    (neg ? mag <= (1ULL << 63) : (!sgn || mag <= (uint64_t)INT64_MAX))) {
			free(plain);
			n->k = R_INT;
			snprintf(n->keytxt, sizeof n->keytxt, "%s%llu", neg && mag ? "-" : "",
				 (unsigned long long)mag);
			n->v = jv_number(neg ? -(double)mag : (double)mag);
			return;
		}
		if (yaml_style_float(plain)) {
			d = strtod(plain, NULL);
			isfloat = !isinf(d);
		}
		free(plain);
		if (!isfloat)
			goto string;
	} else {
		goto string;
	}
	n->k = R_FLOAT;
	n->v = jv_number(d);
	go_format_float_key(d, n->keytxt, sizeof n->keytxt);
	return;
string:
	n->k = R_STR;
	n->v = jv_string(s);
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode base64 (whitespace ignored) into a jv string; invalid on error. */
static jv b64decode(const char *s, size_t n)
{
	kx_buf b = KX_BUF_INIT;
	unsigned acc = 0;
	int bits = 0, pad = 0;

	kx_buf_adds(&b, "");
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || pad) {
			kx_buf_free(&b);
			return jv_invalid();
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			kx_buf_addc(&b, (char)((acc >> bits) & 0xff));
		}
	}
	jv r = jv_string_sized(b.p, (int)b.len);
	kx_buf_free(&b);
	return r;
}

#define TAG_PREFIX "tag:yaml.org,2002:"

static const char *short_tag(const char *tag, char *buf, size_t n)
{
	if (!strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)))
		snprintf(buf, n, "!!%s", tag + strlen(TAG_PREFIX));
	else
		snprintf(buf, n, "%s", tag);
	return buf;
}

static const char *kind_tag(enum rkind k)
{
	switch (k) {
	case R_NULL: return "!!null";
	case R_BOOL: return "!!bool";
	case R_INT: return "!!int";
	case R_FLOAT: return "!!float";
	case R_MERGE: return "!!merge";
	default: return "!!str";
	}
}

/* A scalar event to a node, honouring its style and tag. */
static int scalar_node(struct ctx *c, yaml_event_t *ev, struct node *n)
{
	const char *val = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	char tb[128];

	memset(n, 0, sizeof *n);
	n->nodes = 1;
	n->k = R_STR;
	if (!tag) {
		if (ev->data.scalar.plain_implicit && !memchr(val, 0, len)) {
			resolve_plain(val, n);
			return 0;
		}
		n->v = jv_string_sized(val, (int)len);
		return 0;
	}
	if (!strcmp(tag, TAG_PREFIX "binary")) {
		n->v = b64decode(val, len);
		if (!jv_is_valid(n->v))
			return fail(c, ev->start_mark, "invalid base64 data in a !!binary scalar");
		return 0;
	}
	enum rkind want;
	if (!strcmp(tag, TAG_PREFIX "null"))
		want = R_NULL;
	else if (!strcmp(tag, TAG_PREFIX "bool"))
		want = R_BOOL;
	else if (!strcmp(tag, TAG_PREFIX "int"))
		want = R_INT;
	else if (!strcmp(tag, TAG_PREFIX "float"))
		want = R_FLOAT;
	else if (!strcmp(tag, TAG_PREFIX "merge"))
		want = R_MERGE;
	else {
		/* !!str, !!timestamp, and tags go-yaml cannot resolve: the text */
		n->v = jv_string_sized(val, (int)len);
		return 0;
	}
	if (memchr(val, 0, len))
		return fail(c, ev->start_mark, "cannot decode a string with a NUL byte as %s",
			    short_tag(tag, tb, sizeof tb));
	resolve_plain(val, n);
	if (n->k == want)
		return 0;
	if (want == R_FLOAT && n->k == R_INT) {
		n->k = R_FLOAT;
		go_format_float_key(jv_number_value(n->v), n->keytxt, sizeof n->keytxt);
		return 0;
	}
	jv_free(n->v);
	n->v = jv_invalid();
	char shown[128];
	size_t j = 0;
	for (size_t i = 0; i < len && j + 5 < sizeof shown; i++) {
		if (val[i] == '\n')
			shown[j++] = '\\', shown[j++] = 'n';
		else
			shown[j++] = val[i];
	}
	shown[j] = 0;
	return fail(c, ev->start_mark, "cannot decode %s `%s` as a %s", kind_tag(n->k), shown,
		    short_tag(tag, tb, sizeof tb));
}

/* ---- the document builder ------------------------------------------------ */

static void anchors_clear(struct ctx *c)
{
	for (size_t i = 0; i < c->nan; i++) {
		free(c->an[i].name);
		jv_free(c->an[i].n.v);
	}
	c->nan = 0;
}

static void anchor_set(struct ctx *c, const char *name, const struct node *n)
{
	for (size_t i = 0; i < c->nan; i++)
		if (!strcmp(c->an[i].name, name)) {
			jv_free(c->an[i].n.v);
			c->an[i].n = *n;
			c->an[i].n.v = jv_copy(n->v);
			return;
		}
	if (c->nan == c->can) {
		c->can = c->can ? c->can * 2 : 8;
		c->an = xrealloc(c->an, c->can * sizeof *c->an);
	}
	c->an[c->nan].name = strdup(name);
	if (!c->an[c->nan].name)
		abort();
	c->an[c->nan].n = *n;
	c->an[c->nan].n.v = jv_copy(n->v);
	c->nan++;
}

static const struct node *anchor_get(struct ctx *c, const char *name)
{
	for (size_t i = c->nan; i-- > 0;)
		if (!strcmp(c->an[i].name, name))
			return &c->an[i].n;
	return NULL;
}

static void frame_free(struct frame *f)
{
	jv_free(f->v);
	if (f->have_key)
		jv_free(f->key);
	jv_free(f->merged);
	free(f->anchor);
}

/* The string a node becomes as a mapping key, or invalid. */
static jv node_key(struct ctx *c, const struct node *n, yaml_mark_t m)
{
	switch (n->k) {
	case R_STR:
	case R_MERGE:
		return jv_copy(n->v);
	case R_BOOL:
		return jv_string(jv_get_kind(n->v) == JV_KIND_TRUE ? "true" : "false");
	case R_INT:
	case R_FLOAT:
		return jv_string(n->keytxt);
	case R_NULL:
		fail(c, m, "a null mapping key cannot be converted to JSON");
		return jv_invalid();
	default:
		fail(c, m, "a %s cannot be a mapping key in JSON",
		     jv_get_kind(n->v) == JV_KIND_ARRAY ? "sequence" : "mapping");
		return jv_invalid();
	}
}

static int merge_one(struct frame *f, jv obj)
{
	if (jv_get_kind(f->merged) != JV_KIND_OBJECT) {
		jv_free(f->merged);
		f->merged = jv_object();
	}
	jv_object_foreach(obj, k, v) {
		if (jv_object_has(jv_copy(f->merged), jv_copy(k))) {
			jv_free(k);
			jv_free(v);
		} else {
			f->merged = jv_object_set(f->merged, k, v);
		}
	}
	jv_free(obj);
	return 0;
}

static int merge_value(struct ctx *c, struct frame *f, jv v, yaml_mark_t m)
{
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return merge_one(f, v);
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		int n = jv_array_length(jv_copy(v));
		for (int i = 0; i < n; i++) {
			jv x = jv_array_get(jv_copy(v), i);
			if (jv_get_kind(x) != JV_KIND_OBJECT) {
				jv_free(x);
				jv_free(v);
				return fail(c, m, "map merge requires a mapping or a sequence of "
					    "mappings as the value of <<");
			}
			merge_one(f, x);
		}
		jv_free(v);
		return 0;
	}
	jv_free(v);
	return fail(c, m, "map merge requires a mapping or a sequence of mappings as the value of <<");
}

/* Place a finished node (consumed) in the open collection, or as the root. */
static int add_node(struct ctx *c, struct node n, yaml_mark_t m)
{
	struct frame *f = c->depth ? &c->st[c->depth - 1] : NULL;
	int as_key = f && f->is_map && !f->have_key;

	if (!as_key && n.k == R_FLOAT && !isfinite(jv_number_value(n.v))) {
		jv_free(n.v);
		return fail(c, m, "%s cannot be represented in JSON", n.keytxt);
	}
	if (!f) {
		c->root = n;
		c->have_root = 1;
		return 0;
	}
	f->nodes += n.nodes;
	if (f->nodes < n.nodes)
		f->nodes = SIZE_MAX;
	if (!f->is_map) {
		f->v = jv_array_append(f->v, n.v);
		return 0;
	}
	if (as_key) {
		f->merge_next = n.k == R_MERGE;
		f->key = node_key(c, &n, m);
		jv_free(n.v);
		if (!jv_is_valid(f->key))
			return -1;
		f->have_key = 1;
		return 0;
	}
	f->have_key = 0;
	if (f->merge_next) {
		jv_free(f->key);
		f->merge_next = 0;
		return merge_value(c, f, n.v, m);
	}
	f->v = jv_object_set(f->v, f->key, n.v);
	return 0;
}

static int push(struct ctx *c, int is_map, const yaml_char_t *anchor, yaml_mark_t m)
{
	if (c->depth >= YAML_MAX_DEPTH)
		return fail(c, m, "collections nested more than %d deep", YAML_MAX_DEPTH);
	if (c->depth == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->st = xrealloc(c->st, (size_t)c->cap * sizeof *c->st);
	}
	struct frame *f = &c->st[c->depth++];
	memset(f, 0, sizeof *f);
	f->is_map = is_map;
	f->v = is_map ? jv_object() : jv_array();
	f->merged = jv_null();
	f->nodes = 1;
	f->anchor = anchor ? strdup((const char *)anchor) : NULL;
	return 0;
}

static int pop(struct ctx *c, yaml_mark_t m)
{
	struct frame f = c->st[--c->depth];
	struct node n = {.nodes = f.nodes, .k = R_COLL};

	if (f.is_map && jv_get_kind(f.merged) == JV_KIND_OBJECT) {
		jv out = jv_object();
		jv_object_foreach(f.merged, k, v) {
			if (jv_object_has(jv_copy(f.v), jv_copy(k))) {
				jv_free(k);
				jv_free(v);
			} else {
				out = jv_object_set(out, k, v);
			}
		}
		jv_object_foreach(f.v, k, v) out = jv_object_set(out, k, v);
		jv_free(f.v);
		f.v = out;
	}
	n.v = f.v;
	f.v = jv_null();
	if (f.anchor)
		anchor_set(c, f.anchor, &n);
	frame_free(&f);
	return add_node(c, n, m);
}

static int alias(struct ctx *c, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct node *a = anchor_get(c, name);

	if (!a) {
		for (int i = 0; i < c->depth; i++)
			if (c->st[i].anchor && !strcmp(c->st[i].anchor, name))
				return fail(c, ev->start_mark, "anchor \"%s\" value contains itself", name);
		return fail(c, ev->start_mark, "unknown anchor \"%s\" referenced", name);
	}
	c->alias_nodes += a->nodes;
	if (c->alias_nodes > YAML_MAX_ALIAS_NODES || c->alias_nodes < a->nodes)
		return fail(c, ev->start_mark, "document contains excessive aliasing (aliases expand "
			    "to more than %d values)", YAML_MAX_ALIAS_NODES);
	struct node n = *a;
	n.v = jv_copy(a->v);
	return add_node(c, n, ev->start_mark);
}

static int parser_fail(struct ctx *c, yaml_parser_t *p, const char *text, size_t n)
{
	yaml_mark_t m = p->problem_mark;
	const char *problem = p->problem ? p->problem : "cannot parse YAML";

	if (p->error == YAML_READER_ERROR) {
		/* only a byte offset is known: count the lines up to it */
		size_t off = p->problem_offset < n ? p->problem_offset : n;
		m.line = m.column = 0;
		for (size_t i = 0; i < off; i++) {
			if (text[i] == '\n')
				m.line++, m.column = 0;
			else
				m.column++;
		}
		return fail(c, m, "%s", problem);
	}
	if (p->error == YAML_MEMORY_ERROR)
		return fail(c, m, "out of memory");
	if (p->context)
		return fail(c, m, "%s (%s at line %zu)", problem, p->context, p->context_mark.line + 1);
	return fail(c, m, "%s", problem);
}

/* Does v (borrowed) hold only finite numbers? jq's parser accepts nan. */
static int all_finite(jv v)
{
	int ok = 1;

	switch (jv_get_kind(v)) {
	case JV_KIND_NUMBER:
		return isfinite(jv_number_value(v));
	case JV_KIND_ARRAY:
		jv_array_foreach(v, i, x) {
			(void)i;
			if (ok)
				ok = all_finite(x);
			jv_free(x);
		}
		return ok;
	case JV_KIND_OBJECT:
		jv_object_foreach(v, k, x) {
			if (ok)
				ok = all_finite(x);
			jv_free(k);
			jv_free(x);
		}
		return ok;
	default:
		return 1;
	}
}

/* JSON fast path: a stream of JSON texts, as kubectl reads files that start
 * with '{'. Returns invalid (no message) when the text is not JSON. */
static jv parse_json_stream(const char *text, size_t n)
{
	struct jv_parser *p = jv_parser_new(0);
	jv docs = jv_array(), v;

	jv_parser_set_buf(p, text, (int)n, 0);
	while (jv_is_valid(v = jv_parser_next(p))) {
		if (jv_get_kind(v) == JV_KIND_NULL)
			jv_free(v);
		else
			docs = jv_array_append(docs, v);
	}
	if (jv_invalid_has_msg(jv_copy(v)) || !all_finite(docs)) {
		jv_free(docs);
		docs = jv_invalid();
	}
	jv_free(v);
	jv_parser_free(p);
	return docs;
}

jv kx_yaml_parse(const char *text, size_t n, const char *name, kx_err *e)
{
	struct ctx c = {.name = name ? name : "<input>", .e = e};
	yaml_parser_t p;
	yaml_event_t ev;
	jv docs = jv_array();
	int done = 0, rc = 0;

	if (n > YAML_MAX_INPUT) {
		kx_err_set(e, KX_EFAIL, "%s: larger than %u MiB", c.name, YAML_MAX_INPUT >> 20);
		jv_free(docs);
		return jv_invalid();
	}
	size_t i = 0;
	while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	if (i < n && (text[i] == '{' || text[i] == '[')) {
		jv j = parse_json_stream(text, n);
		if (jv_is_valid(j)) {
			jv_free(docs);
			return j;
		}
		jv_free(j); /* not JSON: flow-style YAML, read it as YAML */
	}

	if (!yaml_parser_initialize(&p)) {
		kx_err_set(e, KX_EFAIL, "%s: out of memory", c.name);
		jv_free(docs);
		return jv_invalid();
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = parser_fail(&c, &p, text, n);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			anchors_clear(&c);
			c.alias_nodes = 0;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (c.have_root) {
				if (jv_get_kind(c.root.v) == JV_KIND_NULL)
					jv_free(c.root.v);
				else
					docs = jv_array_append(docs, c.root.v);
				c.have_root = 0;
			}
			break;
		case YAML_SCALAR_EVENT: {
			struct node nd;
			rc = scalar_node(&c, &ev, &nd);
			if (rc == 0) {
				if (ev.data.scalar.anchor)
					anchor_set(&c, (const char *)ev.data.scalar.anchor, &nd);
				rc = add_node(&c, nd, ev.start_mark);
			}
			break;
		}
		case YAML_ALIAS_EVENT:
			rc = alias(&c, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = push(&c, 0, ev.data.sequence_start.anchor, ev.start_mark);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = push(&c, 1, ev.data.mapping_start.anchor, ev.start_mark);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = pop(&c, ev.start_mark);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	while (c.depth > 0)
		frame_free(&c.st[--c.depth]);
	free(c.st);
	if (c.have_root)
		jv_free(c.root.v);
	anchors_clear(&c);
	free(c.an);
	if (rc < 0) {
		jv_free(docs);
		return jv_invalid();
	}
	return docs;
}

/* ---- the dumper ------------------------------------------------------------ */

/* YYYY-M-D, optionally followed by [Tt ]h:m:s[.frac][Z|±hh:mm], the forms
 * go-yaml reads as timestamps (and so quotes when writing strings). */
static int looks_like_timestamp(const char *s)
{
	int i = 0;
	const char *p = s;

	for (; p[i] >= '0' && p[i] <= '9'; i++)
		;
	if (i != 4 || p[i] != '-')
		return 0;
	p += 5;
#define DIGITS12(p) ((p)[0] >= '0' && (p)[0] <= '9' ? ((p)[1] >= '0' && (p)[1] <= '9' ? 2 : 1) : 0)
	int d = DIGITS12(p);
	if (!d || p[d] != '-')
		return 0;
	p += d + 1;
	d = DIGITS12(p);
	if (!d)
		return 0;
	p += d;
	if (!*p)
		return 1;
	int space = *p == ' ';
	if (*p != 'T' && *p != 't' && *p != ' ')
		return 0;
	p++;
	for (int k = 0; k < 3; k++) {
		d = DIGITS12(p);
		if (!d)
			return 0;
		p += d;
		if (k < 2) {
			if (*p != ':')
				return 0;
			p++;
		}
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (space)
		return *p == 0;
	if (*p == 'Z')
		return p[1] == 0;
	if ((*p == '+' || *p == '-') && DIGITS12(p + 1) == 2 && p[3] == ':' && DIGITS12(p + 4) == 2)
		return p[6] == 0;
	return 0;
#undef DIGITS12
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ (YAML 1.1 base 60) */
static int is_base60_float(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (!(*s >= '0' && *s <= '9'))
		return 0;
	while ((*s >= '0' && *s <= '9') || *s == '_')
		s++;
	int groups = 0;
	while (*s == ':') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		if (s[1] >= '0' && s[1] <= '9') {
			if (*s > '5')
				return 0;
			s++;
		}
		s++;
		groups++;
	}
	if (!groups)
		return 0;
	if (*s == '.')
		for (s++; (*s >= '0' && *s <= '9') || *s == '_'; s++)
			;
	return *s == 0;
}

static int needs_quotes(const char *s, size_t len)
{
	struct node n;

	if (memchr(s, 0, len))
		return 1;
	resolve_plain(s, &n);
	jv_free(n.v);
	return n.k != R_STR || in_list(s, one_letter_bools) || is_base60_float(s) ||
	       looks_like_timestamp(s);
}

struct emitter {
	yaml_emitter_t em;
	kx_buf *b;
	int full;
};

static int write_out(void *data, unsigned char *buf, size_t size)
{
	struct emitter *x = data;

	if (kx_buf_add(x->b, buf, size) < 0) {
		x->full = 1;
		return 0;
	}
	return 1;
}

static int emit_scalar(struct emitter *x, const char *s, size_t len, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, 1, 1, style))
		return -1;
	return yaml_emitter_emit(&x->em, &ev) ? 0 : -1;
}

static int emit_string(struct emitter *x, jv s)
{
	const char *p = jv_string_value(s);
	size_t len = (size_t)jv_string_length_bytes(jv_copy(s));
	yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;

	if (memchr(p, '\n', len))
		style = YAML_LITERAL_SCALAR_STYLE;
	else if (needs_quotes(p, len))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return emit_scalar(x, p, len, style);
}

static void format_number(double d, char *buf, size_t n)
{
	if (isnan(d))
		snprintf(buf, n, ".nan");
	else if (isinf(d))
		snprintf(buf, n, d > 0 ? ".inf" : "-.inf");
	else if (d == 0)
		snprintf(buf, n, "0");
	else if (d == floor(d) && fabs(d) < 9.2e18)
		snprintf(buf, n, "%.0f", d);
	else
		go_format_g(d, 0, buf, n);
}

static int emit_value(struct emitter *x, jv v)
{
	yaml_event_t ev;
	char num[64];
	int rc = 0;

	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
		rc = emit_scalar(x, "null", 4, YAML_PLAIN_SCALAR_STYLE);
		break;
	case JV_KIND_TRUE:
		rc = emit_scalar(x, "true", 4, YAML_PLAIN_SCALAR_STYLE);
		break;
	case JV_KIND_FALSE:
		rc = emit_scalar(x, "false", 5, YAML_PLAIN_SCALAR_STYLE);
		break;
	case JV_KIND_NUMBER:
		format_number(jv_number_value(v), num, sizeof num);
		rc = emit_scalar(x, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
		break;
	case JV_KIND_STRING:
		rc = emit_string(x, v);
		break;
	case JV_KIND_ARRAY: {
		int n = jv_array_length(jv_copy(v));
		yaml_sequence_style_t st = n ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE;
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, st) ||
		    !yaml_emitter_emit(&x->em, &ev)) {
			rc = -1;
			break;
		}
		for (int i = 0; i < n && rc == 0; i++)
			rc = emit_value(x, jv_array_get(jv_copy(v), i));
		if (rc == 0 && (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(&x->em, &ev)))
			rc = -1;
		break;
	}
	case JV_KIND_OBJECT: {
		int n = jv_object_length(jv_copy(v));
		yaml_mapping_style_t st = n ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE;
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, st) ||
		    !yaml_emitter_emit(&x->em, &ev)) {
			rc = -1;
			break;
		}
		jv_object_foreach(v, k, val) {
			if (rc == 0)
				rc = emit_string(x, k);
			if (rc == 0)
				rc = emit_value(x, val);
			else
				jv_free(val);
			jv_free(k);
		}
		if (rc == 0 && (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(&x->em, &ev)))
			rc = -1;
		break;
	}
	default:
		rc = -1;
		break;
	}
	jv_free(v);
	return rc;
}

int kx_yaml_dump_buf(kx_buf *b, jv v)
{
	struct emitter x = {.b = b};
	yaml_event_t ev;
	size_t start = b->len;
	int rc = -1;

	if (!yaml_emitter_initialize(&x.em)) {
		jv_free(v);
		return -1;
	}
	yaml_emitter_set_output(&x.em, write_out, &x);
	yaml_emitter_set_unicode(&x.em, 1);
	yaml_emitter_set_indent(&x.em, 2);
	yaml_emitter_set_width(&x.em, -1);
	if (yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&x.em, &ev) &&
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&x.em, &ev)) {
		rc = emit_value(&x, v);
		v = jv_null();
		if (rc == 0 && !(yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&x.em, &ev) &&
				 yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&x.em, &ev) &&
				 yaml_emitter_flush(&x.em)))
			rc = -1;
	}
	jv_free(v);
	yaml_emitter_delete(&x.em);
	/* libyaml ends a document whose last scalar keeps its trailing newlines
	 * (|+) with "...": drop it, as kubectl's output has none; the end of
	 * the text or the next "---" ends the scalar the same way. */
	if (rc == 0 && b->len - start >= 5 && !memcmp(b->p + b->len - 5, "\n...\n", 5)) {
		b->len -= 4;
		b->p[b->len] = 0;
	}
	if (rc < 0 && b->p) {
		b->len = start; /* leave the buffer as it was */
		b->p[start] = 0;
	}
	return rc;
}
