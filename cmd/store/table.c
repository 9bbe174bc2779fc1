#include <ctype.h>
#include <string.h>

#include "json.h"
#include "print.h"
#include "table.h"

int table_wanted(const char *accept)
{
	return accept && strstr(accept, "as=Table") && strstr(accept, "g=meta.k8s.io");
}

/* "NOMINATED NODE" -> "Nominated Node", as the API names columns. */
static jv column_name(const char *h)
{
	char buf[128];
	size_t i;
	int start = 1;

	for (i = 0; h[i] && i < sizeof buf - 1; i++) {
		buf[i] = start ? h[i] : (char)tolower((unsigned char)h[i]);
		start = h[i] == ' ' || h[i] == '-';
	}
	buf[i] = 0;
	return jv_string(buf);
}

static jv columns(const kx_kind *k)
{
	jv narrow = kx_print_header(k, 0), wide = kx_print_header(k, KX_PRINT_WIDE), out = jv_array();

	jv_array_foreach(wide, i, h)
	{
		const char *name = jv_string_value(h);
		int shown = 0; /* without -o wide: not always a prefix (an Event's MESSAGE) */
		jv_array_foreach(narrow, j, nh)
		{
			shown |= !strcmp(jv_string_value(nh), name);
			jv_free(nh);
		}
		jv col = jv_object();
		col = jv_object_set(col, jv_string("name"), column_name(name));
		col = jv_object_set(col, jv_string("type"), jv_string("string"));
		col = jv_object_set(col, jv_string("format"), jv_string(!strcmp(name, "NAME") ? "name" : ""));
		col = jv_object_set(col, jv_string("description"), jv_string(""));
		col = jv_object_set(col, jv_string("priority"), jv_number(shown ? 0 : 1));
		out = jv_array_append(out, col);
		jv_free(h);
	}
	jv_free(narrow);
	jv_free(wide);
	return out;
}

static jv row(const kx_kind *k, jv obj, const char *include, time_t now)
{
	jv r = jv_object_set(jv_object(), jv_string("cells"),
			     kx_print_row(k, obj, KX_PRINT_WIDE, now));

	if (include && !strcmp(include, "None")) {
		jv_free(obj);
		return r;
	}
	if (include && !strcmp(include, "Object"))
		return jv_object_set(r, jv_string("object"), obj);
	jv meta = jv_object();
	meta = jv_object_set(meta, jv_string("kind"), jv_string("PartialObjectMetadata"));
	meta = jv_object_set(meta, jv_string("apiVersion"), jv_string("meta.k8s.io/v1"));
	meta = jv_object_set(meta, jv_string("metadata"), kx_jv_get(obj, "metadata"));
	return jv_object_set(r, jv_string("object"), meta);
}

jv table_of(const kx_kind *k, jv obj, const char *include, time_t now)
{
	jv t = jv_object(), rows = jv_array(), items = kx_jv_get(jv_copy(obj), "items");
	jv meta = jv_object();
	char buf[1024];

	t = jv_object_set(t, jv_string("kind"), jv_string("Table"));
	t = jv_object_set(t, jv_string("apiVersion"), jv_string("meta.k8s.io/v1"));
	if (jv_get_kind(items) == JV_KIND_ARRAY) {
		if (kx_jv_str(obj, "metadata.resourceVersion", buf, sizeof buf, NULL))
			meta = jv_object_set(meta, jv_string("resourceVersion"), jv_string(buf));
		if (kx_jv_str(obj, "metadata.continue", buf, sizeof buf, NULL))
			meta = jv_object_set(meta, jv_string("continue"), jv_string(buf));
		jv_array_foreach(items, i, it) rows = jv_array_append(rows, row(k, it, include, now));
		jv_free(items);
		jv_free(obj);
	} else {
		jv_free(items);
		if (kx_jv_str(obj, "metadata.resourceVersion", buf, sizeof buf, NULL))
			meta = jv_object_set(meta, jv_string("resourceVersion"), jv_string(buf));
		rows = jv_array_append(rows, row(k, obj, include, now));
	}
	t = jv_object_set(t, jv_string("metadata"), meta);
	t = jv_object_set(t, jv_string("columnDefinitions"), columns(k));
	return jv_object_set(t, jv_string("rows"), rows);
}
