#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"

jv kx_json_parse(const char *s, size_t n, kx_err *e)
{
	jv v = jv_parse_sized(s, (int)n);

	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);
		kx_err_set(e, KX_EFAIL, "malformed JSON: %s",
			   jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "no value");
		jv_free(msg);
		return jv_invalid();
	}
	return v;
}

char *kx_json_dump(jv v, int pretty)
{
	int flags = pretty ? JV_PRINT_INDENT_FLAGS(2) : 0;
	jv s = jv_dump_string(v, flags);
	char *out = strdup(jv_string_value(s));

	jv_free(s);
	return out;
}

int kx_json_dump_buf(kx_buf *b, jv v, int pretty)
{
	int flags = pretty ? JV_PRINT_INDENT_FLAGS(2) : 0;
	jv s = jv_dump_string(v, flags);
	int rc = kx_buf_add(b, jv_string_value(s), jv_string_length_bytes(jv_copy(s)));

	jv_free(s);
	return rc;
}

/* One step of a dotted path: an object key, or an array index. */
static jv step(jv v, const char *key, size_t n)
{
	char tmp[256];

	if (n >= sizeof tmp) {
		jv_free(v);
		return jv_null();
	}
	memcpy(tmp, key, n);
	tmp[n] = 0;
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return jv_object_get(v, jv_string(tmp)); /* invalid when absent */
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		char *end;
		long i = strtol(tmp, &end, 10);
		if (*end || end == tmp || i < 0 || i >= jv_array_length(jv_copy(v))) {
			jv_free(v);
			return jv_null();
		}
		return jv_array_get(v, (int)i);
	}
	jv_free(v);
	return jv_null();
}

jv kx_jv_get(jv v, const char *path)
{
	const char *p = path, *dot;

	while (*p) {
		dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		v = step(v, p, n);
		if (!jv_is_valid(v)) {
			jv_free(v);
			return jv_null();
		}
		if (jv_get_kind(v) == JV_KIND_NULL)
			return v;
		p += n + (dot ? 1 : 0);
	}
	return v;
}

jv kx_jv_set(jv v, const char *path, jv val)
{
	const char *dot = strchr(path, '.');
	jv key;

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		v = jv_object();
	}
	if (!dot)
		return jv_object_set(v, jv_string(path), val);
	key = jv_string_sized(path, (int)(dot - path));
	jv child = jv_object_get(jv_copy(v), jv_copy(key));
	if (!jv_is_valid(child)) {
		jv_free(child);
		child = jv_object();
	}
	return jv_object_set(v, key, kx_jv_set(child, dot + 1, val));
}

jv kx_jv_del(jv v, const char *path)
{
	const char *dot = strchr(path, '.');
	jv key, child;

	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return v;
	if (!dot)
		return jv_object_delete(v, jv_string(path));
	key = jv_string_sized(path, (int)(dot - path));
	child = jv_object_get(jv_copy(v), jv_copy(key));
	if (jv_get_kind(child) != JV_KIND_OBJECT) {
		jv_free(child);
		jv_free(key);
		return v;
	}
	return jv_object_set(v, key, kx_jv_del(child, dot + 1));
}

const char *kx_jv_str(jv v, const char *path, char *buf, size_t n, const char *def)
{
	jv s = kx_jv_get(jv_copy(v), path);

	if (jv_get_kind(s) != JV_KIND_STRING) {
		jv_free(s);
		if (!def)
			return NULL;
		snprintf(buf, n, "%s", def); /* callers may read buf rather than the result */
		return buf;
	}
	snprintf(buf, n, "%s", jv_string_value(s));
	jv_free(s);
	return buf;
}

int64_t kx_jv_int(jv v, const char *path, int64_t def)
{
	jv x = kx_jv_get(jv_copy(v), path);
	int64_t r = def;

	if (jv_get_kind(x) == JV_KIND_NUMBER) {
		r = (int64_t)jv_number_value(x);
	} else if (jv_get_kind(x) == JV_KIND_STRING) {
		char *end;
		long long l = strtoll(jv_string_value(x), &end, 10);
		if (!*end && end != jv_string_value(x))
			r = l;
	}
	jv_free(x);
	return r;
}

int kx_jv_bool(jv v, const char *path, int def)
{
	jv x = kx_jv_get(jv_copy(v), path);
	int r = def;

	if (jv_get_kind(x) == JV_KIND_TRUE)
		r = 1;
	else if (jv_get_kind(x) == JV_KIND_FALSE)
		r = 0;
	jv_free(x);
	return r;
}

int kx_jv_equal(jv a, jv b)
{
	return jv_equal(a, b);
}

int kx_json_print(jv v, int pretty)
{
	char *s = kx_json_dump(v, pretty);
	int rc = fputs(s, stdout) < 0 || fputc('\n', stdout) < 0 ? -1 : 0;

	free(s);
	return rc;
}
