/* kubectl.c: shared by the kubectl-like programs. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "input.h"
#include "json.h"
#include "kubectl.h"
#include "log.h"

const char *kx_kubectl_namespace(const char *opt)
{
	const char *env = getenv("KX_NAMESPACE");

	if (opt && *opt)
		return opt;
	if (env && *env)
		return env;
	return "default";
}

static int in_category(const kx_kind *k, const char *cat)
{
	const char *p = strstr(k->categories, cat);
	size_t n = strlen(cat);

	return p && (p == k->categories || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ');
}

static int add_kind(const kx_kind **out, int n, int max, const kx_kind *k)
{
	for (int i = 0; i < n; i++)
		if (out[i] == k)
			return n;
	if (n < max)
		out[n++] = k;
	return n;
}

int kx_kubectl_types(const char *arg, const kx_kind **out, int max, kx_err *e)
{
	char *copy = strdup(arg), *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "all")) {
			for (size_t i = 0; i < kx_kinds_count; i++)
				if (in_category(&kx_kinds[i], "all"))
					n = add_kind(out, n, max, &kx_kinds[i]);
			continue;
		}
		const kx_kind *k = kx_kind_lookup(t);
		if (!k) {
			kx_err_set(e, KX_EFAIL, "the server doesn't have a resource type \"%s\"", t);
			free(copy);
			return -1;
		}
		n = add_kind(out, n, max, k);
	}
	free(copy);
	if (!n)
		return kx_err_set(e, KX_EUSAGE, "no resource type given");
	return n;
}

int kx_kubectl_path(kx_buf *b, const kx_kind *k, const char *ns, const char *name,
		    const char *label_sel, const char *field_sel, const char *extra)
{
	char sep = '?';

	if (kx_kind_path(b, k, ns, name, NULL) < 0)
		return -1;
	if (label_sel && *label_sel) {
		kx_buf_addf(b, "%clabelSelector=", sep);
		kx_url_escape(b, label_sel);
		sep = '&';
	}
	if (field_sel && *field_sel) {
		kx_buf_addf(b, "%cfieldSelector=", sep);
		kx_url_escape(b, field_sel);
		sep = '&';
	}
	if (extra && *extra)
		kx_buf_addf(b, "%c%s", sep, extra);
	return b->max && b->len >= b->max ? -1 : 0;
}

jv kx_kubectl_list(kx_client *c, const kx_kind *k, const char *ns, const char *label_sel,
		   const char *field_sel, char **rv, kx_err *e)
{
	kx_buf path = KX_BUF_INIT;
	jv items;

	kx_kubectl_path(&path, k, k->namespaced ? ns : NULL, NULL, label_sel, field_sel, NULL);
	items = kx_input_list(c, path.p, k->kind, rv, e);
	kx_buf_free(&path);
	return items;
}

jv kx_kubectl_get(kx_client *c, const kx_kind *k, const char *ns, const char *name, kx_err *e)
{
	kx_buf path = KX_BUF_INIT;
	char av[64];
	jv obj;

	kx_kind_path(&path, k, k->namespaced ? ns : NULL, name, NULL);
	obj = kx_client_get(c, path.p, e);
	kx_buf_free(&path);
	if (jv_is_valid(obj) && jv_get_kind(obj) == JV_KIND_OBJECT) {
		jv kind = jv_object_get(jv_copy(obj), jv_string("kind"));
		if (jv_get_kind(kind) != JV_KIND_STRING)
			obj = jv_object_set(obj, jv_string("kind"), jv_string(k->kind));
		jv_free(kind);
		jv a = jv_object_get(jv_copy(obj), jv_string("apiVersion"));
		if (jv_get_kind(a) != JV_KIND_STRING)
			obj = jv_object_set(obj, jv_string("apiVersion"),
					    jv_string(kx_kind_api_version(k, av, sizeof av)));
		jv_free(a);
	}
	return obj;
}

void kx_kubectl_error(const kx_err *e)
{
	if (e->status == KX_EREFUSED && e->http)
		kx_log_error("Error from server (%s): %s",
			     e->reason[0] ? e->reason : "HTTP error", e->msg);
	else
		kx_err_print(e);
}

const char *const *kx_kubectl_type_words(void)
{
	static const char *words[4 * 64 + 2];
	size_t n = 0;

	if (words[0])
		return words;
	for (size_t i = 0; i < kx_kinds_count && n < 4 * 64; i++) {
		const kx_kind *k = &kx_kinds[i];
		int dup = 0;
		if (!strstr(k->verbs, "list"))
			continue;
		for (size_t j = 0; j < n; j++)
			if (!strcmp(words[j], k->resource))
				dup = 1;
		if (dup)
			continue;
		words[n++] = k->resource;
		if (k->shortnames[0]) {
			/* short names are single words in practice */
			words[n++] = k->shortnames;
		}
	}
	words[n++] = "all";
	words[n] = NULL;
	return words;
}
