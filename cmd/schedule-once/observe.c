/* observe.c: what the scheduler looks at, from the store or from a file. */
#include <string.h>

#include "buf.h"
#include "err.h"
#include "input.h"
#include "log.h"
#include "observe.h"

/* The collections a pass reads. Pods and Nodes must be there; Services and
 * ReplicaSets only sharpen spreading, so a store without them is fine. */
static const struct {
	const char *path, *kind;
	int required;
} sources[] = {
	{"/api/v1/nodes", "Node", 1},
	{"/api/v1/pods", "Pod", 1},
	{"/api/v1/services", "Service", 0},
	{"/apis/apps/v1/replicasets", "ReplicaSet", 0},
};

jv sched_observe_store(kx_client *c, kx_err *e)
{
	jv all = jv_array();

	for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		kx_err e2 = KX_ERR_INIT;
		jv items = kx_input_list(c, sources[i].path, sources[i].kind, NULL, &e2);
		if (!jv_is_valid(items)) {
			jv_free(items);
			if (sources[i].required || e2.status == KX_EUNREACH) {
				*e = e2;
				kx_err_wrap(e, "cannot list %s", sources[i].path);
				jv_free(all);
				return jv_invalid();
			}
			kx_log_debug(1, "%s not read: %s", sources[i].path, e2.msg);
			continue;
		}
		all = jv_array_concat(all, items);
	}
	return all;
}

/* A JSON file (what kx-get -o json prints) is parsed as JSON directly: the
 * same objects as through the YAML reader, several times faster for the
 * large files of big clusters. Anything else goes through kx_input_parse. */
jv sched_observe_file(const char *path, kx_err *e)
{
	kx_buf b = KX_BUF_INIT;
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	size_t i = 0;
	jv out;

	if (kx_buf_read_file(&b, path, KX_INPUT_MAX, e) < 0)
		return jv_invalid();
	while (i < b.len && strchr(" \t\r\n", b.p[i]))
		i++;
	if (i < b.len && (b.p[i] == '{' || b.p[i] == '[')) {
		jv v = jv_parse_sized(b.p + i, (int)(b.len - i));
		if (jv_is_valid(v)) {
			kx_buf_free(&b);
			if (jv_get_kind(v) != JV_KIND_ARRAY)
				v = jv_array_append(jv_array(), v);
			return kx_input_flatten(v);
		}
		jv_free(v);
	}
	out = kx_input_parse(kx_buf_str(&b), b.len, name, e);
	kx_buf_free(&b);
	return out;
}
