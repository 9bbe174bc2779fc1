#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "input.h"
#include "json.h"
#include "yaml.h"

/* Fill kind/apiVersion of each item of list from the list itself. */
static jv fill_items(jv items, const char *kind, const char *api_version)
{
	jv out = jv_array();

	jv_array_foreach(items, i, item)
	{
		if (jv_get_kind(item) == JV_KIND_OBJECT) {
			jv k = jv_object_get(jv_copy(item), jv_string("kind"));
			if (jv_get_kind(k) != JV_KIND_STRING && kind && *kind)
				item = jv_object_set(item, jv_string("kind"), jv_string(kind));
			jv_free(k);
			jv a = jv_object_get(jv_copy(item), jv_string("apiVersion"));
			if (jv_get_kind(a) != JV_KIND_STRING && api_version && *api_version)
				item = jv_object_set(item, jv_string("apiVersion"),
						     jv_string(api_version));
			jv_free(a);
		}
		out = jv_array_append(out, item);
	}
	jv_free(items);
	return out;
}

/* "PodList" -> "Pod"; "List" -> "" (a mixed list names each item's kind). */
static void item_kind(const char *list_kind, char *buf, size_t n)
{
	size_t l = strlen(list_kind);

	if (l > 4 && !strcmp(list_kind + l - 4, "List"))
		snprintf(buf, n, "%.*s", (int)(l - 4), list_kind);
	else
		buf[0] = 0;
}

jv kx_input_flatten(jv docs)
{
	jv out = jv_array();

	jv_array_foreach(docs, i, doc)
	{
		char kind[128], ik[128], av[128];
		jv items = kx_jv_get(jv_copy(doc), "items");
		kx_jv_str(doc, "kind", kind, sizeof kind, "");
		size_t kl = strlen(kind);
		if (jv_get_kind(items) == JV_KIND_ARRAY && kl >= 4 &&
		    !strcmp(kind + kl - 4, "List")) {
			item_kind(kind, ik, sizeof ik);
			kx_jv_str(doc, "apiVersion", av, sizeof av, "");
			/* a mixed "List" keeps each item's own apiVersion */
			jv flat = kx_input_flatten(fill_items(items, ik, ik[0] ? av : ""));
			jv_array_foreach(flat, j, it) out = jv_array_append(out, it);
			jv_free(flat);
			jv_free(doc);
			continue;
		}
		jv_free(items);
		if (jv_get_kind(doc) == JV_KIND_NULL) {
			jv_free(doc);
			continue;
		}
		out = jv_array_append(out, doc);
	}
	jv_free(docs);
	return out;
}

jv kx_input_parse(const char *text, size_t n, const char *name, kx_err *e)
{
	jv docs = kx_yaml_parse(text, n, name, e);

	if (!jv_is_valid(docs))
		return docs;
	docs = kx_input_flatten(docs);
	jv_array_foreach(docs, i, obj)
	{
		int bad = jv_get_kind(obj) != JV_KIND_OBJECT;
		jv_free(obj);
		if (bad) {
			jv_free(docs);
			kx_err_set(e, KX_EFAIL, "%s: document %d is not an object", name, i + 1);
			return jv_invalid();
		}
	}
	return docs;
}

jv kx_input_load(const char *path, kx_err *e)
{
	kx_buf b = KX_BUF_INIT;
	jv out;

	if (kx_buf_read_file(&b, path, KX_INPUT_MAX, e) < 0)
		return jv_invalid();
	out = kx_input_parse(kx_buf_str(&b), b.len, strcmp(path, "-") ? path : "<stdin>", e);
	kx_buf_free(&b);
	return out;
}

jv kx_input_list(kx_client *c, const char *path, const char *kind, char **rv, kx_err *e)
{
	jv list = kx_client_get(c, path, e);
	char lk[128], ik[128], av[128], rvs[64];

	if (!jv_is_valid(list))
		return list;
	kx_jv_str(list, "kind", lk, sizeof lk, "");
	kx_jv_str(list, "apiVersion", av, sizeof av, "");
	if (rv)
		*rv = strdup(kx_jv_str(list, "metadata.resourceVersion", rvs, sizeof rvs, ""));
	if (!kind) {
		item_kind(lk, ik, sizeof ik);
		kind = ik;
	}
	jv items = kx_jv_get(list, "items");
	if (jv_get_kind(items) != JV_KIND_ARRAY) {
		jv_free(items);
		return jv_array();
	}
	return fill_items(items, kind, av);
}
