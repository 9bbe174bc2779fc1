/* rc_helpers.h: what the kx-reconcile unit tests share: worlds from JSON
 * text, and questions about the actions a decide function returned. */
#ifndef RC_HELPERS_H
#define RC_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "json.h"

#define NOW 1800000000 /* 2027-01-15T08:00:00Z */

static inline jv J(const char *s)
{
	kx_err e = KX_ERR_INIT;
	jv v = kx_json_parse(s, strlen(s), &e);

	if (!jv_is_valid(v)) {
		fprintf(stderr, "bad test JSON: %s\n%s\n", e.msg, s);
		return jv_null();
	}
	return v;
}

/* How many actions have this verb and kind (NULL: any)? Borrows actions. */
static inline int count(jv actions, const char *verb, const char *kind)
{
	int n = 0;
	char v[32], k[64];

	jv_array_foreach(actions, i, a) {
		kx_jv_str(a, "verb", v, sizeof v, "");
		kx_jv_str(a, "kind", k, sizeof k, "");
		if ((!verb || !strcmp(v, verb)) && (!kind || !strcmp(k, kind)))
			n++;
		jv_free(a);
	}
	return n;
}

/* The n-th action with this verb and kind, or null. Borrows actions. */
static inline jv find(jv actions, const char *verb, const char *kind, int nth)
{
	jv found = jv_null();
	char v[32], k[64];

	jv_array_foreach(actions, i, a) {
		const char *vv = kx_jv_str(a, "verb", v, sizeof v, "");
		const char *kk = kx_jv_str(a, "kind", k, sizeof k, "");
		if ((!verb || !strcmp(vv, verb)) && (!kind || !strcmp(kk, kind)) && nth-- == 0 &&
		    jv_get_kind(found) == JV_KIND_NULL) {
			jv_free(found);
			found = a;
		} else {
			jv_free(a);
		}
	}
	return found;
}

/* kx_jv_set on the first object of world[res] (dotted paths do not step
 * into arrays when setting). Consumes w and val. */
static inline jv set0(jv w, const char *res, const char *path, jv val)
{
	jv items = jv_object_get(jv_copy(w), jv_string(res));
	jv o = jv_array_get(jv_copy(items), 0);

	items = jv_array_set(items, 0, kx_jv_set(o, path, val));
	return jv_object_set(w, jv_string(res), items);
}

static inline const char *S(jv v, const char *path)
{
	static char bufs[8][512];
	static int k;
	char *b = bufs[k++ % 8];
	const char *s = kx_jv_str(v, path, b, 512, "");

	if (s != b)
		snprintf(b, 512, "%s", s);
	return b;
}

#endif
