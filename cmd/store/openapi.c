#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "openapi.h"

extern const char kx_openapi_json[], kx_openapi_json_end[];

static pthread_once_t once = PTHREAD_ONCE_INIT;
static jv schemas; /* name -> schema */
static jv kinds;   /* "group/version/Kind" -> name */

static void load(void)
{
	kx_err e = KX_ERR_INIT;
	jv all = kx_json_parse(kx_openapi_json, kx_openapi_json_end - kx_openapi_json, &e);

	if (!jv_is_valid(all)) {
		all = jv_object();
	}
	schemas = kx_jv_get(jv_copy(all), "schemas");
	kinds = kx_jv_get(all, "kinds");
	if (jv_get_kind(schemas) != JV_KIND_OBJECT) {
		jv_free(schemas);
		schemas = jv_object();
	}
	if (jv_get_kind(kinds) != JV_KIND_OBJECT) {
		jv_free(kinds);
		kinds = jv_object();
	}
}

/* ---- documents ------------------------------------------------------------ */

static jv gvk(const kx_kind *k)
{
	jv o = jv_object_set(jv_object(), jv_string("group"), jv_string(k->group));
	o = jv_object_set(o, jv_string("version"), jv_string(k->version));
	return jv_object_set(o, jv_string("kind"), jv_string(k->kind));
}

/* A parameter of an operation: OpenAPI v3 puts its type under "schema",
 * Swagger 2.0 (v2) beside its name. */
static jv param(const char *name, const char *in, int required, int v2)
{
	jv p = jv_object_set(jv_object(), jv_string("name"), jv_string(name));
	p = jv_object_set(p, jv_string("in"), jv_string(in));
	if (required)
		p = jv_object_set(p, jv_string("required"), jv_true());
	if (v2)
		return jv_object_set(p, jv_string("type"), jv_string("string"));
	return jv_object_set(p, jv_string("schema"),
			     jv_object_set(jv_object(), jv_string("type"), jv_string("string")));
}

/* One operation on kind k. Neither version declares the patch types an
 * operation consumes: kubectl apply would then compute its strategic merge
 * patches from these schemas, which lack the merge keys, instead of from
 * the types compiled into kubectl. */
static jv operation(const kx_kind *k, const char *action, const char *schema, int writes, int v2)
{
	jv op = jv_object();
	char id[160];

	snprintf(id, sizeof id, "%s%s", action, k->kind);
	op = jv_object_set(op, jv_string("operationId"), jv_string(id));
	op = jv_object_set(op, jv_string("x-kubernetes-action"), jv_string(action));
	op = jv_object_set(op, jv_string("x-kubernetes-group-version-kind"), gvk(k));
	if (writes) {
		jv ps = jv_array();
		ps = jv_array_append(ps, param("dryRun", "query", 0, v2));
		ps = jv_array_append(ps, param("fieldManager", "query", 0, v2));
		ps = jv_array_append(ps, param("fieldValidation", "query", 0, v2));
		op = jv_object_set(op, jv_string("parameters"), ps);
	}
	if (schema) {
		jv ref = jv_object_set(jv_object(), jv_string("$ref"),
				       jv_string_fmt("#/%s/%s", v2 ? "definitions" : "components/schemas", schema));
		jv ok = jv_object_set(jv_object(), jv_string("description"), jv_string("OK"));
		if (v2) {
			ok = jv_object_set(ok, jv_string("schema"), ref);
			op = jv_object_set(op, jv_string("produces"), jv_array_append(jv_array(), jv_string("application/json")));
		} else {
			jv content = jv_object_set(jv_object(), jv_string("application/json"),
						   jv_object_set(jv_object(), jv_string("schema"), ref));
			ok = jv_object_set(ok, jv_string("content"), content);
		}
		op = jv_object_set(op, jv_string("responses"),
				   jv_object_set(jv_object(), jv_string("200"), ok));
	}
	return op;
}

static int has_verb(const kx_kind *k, const char *verb)
{
	size_t n = strlen(verb);
	const char *p = k->verbs;

	while ((p = strstr(p, verb))) {
		if ((p == k->verbs || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

static jv paths_of(const char *group, const char *version, int v2)
{
	jv paths = jv_object();

	for (size_t i = 0; i < kx_kinds_count; i++) {
		const kx_kind *k = &kx_kinds[i];
		char key[256];
		kx_buf coll = KX_BUF_INIT;
		if (strcmp(k->group, group) || strcmp(k->version, version))
			continue;
		snprintf(key, sizeof key, "%s/%s/%s", k->group, k->version, k->kind);
		jv name = jv_object_get(jv_copy(kinds), jv_string(key));
		const char *schema = jv_get_kind(name) == JV_KIND_STRING ? jv_string_value(name) : NULL;
		if (*k->group)
			kx_buf_addf(&coll, "/apis/%s/%s/%s%s", k->group, k->version,
				    k->namespaced ? "namespaces/{namespace}/" : "", k->resource);
		else
			kx_buf_addf(&coll, "/api/%s/%s%s", k->version,
				    k->namespaced ? "namespaces/{namespace}/" : "", k->resource);
		jv c = jv_object(), item = jv_object();
		if (has_verb(k, "list"))
			c = jv_object_set(c, jv_string("get"), operation(k, "list", NULL, 0, v2));
		if (has_verb(k, "create"))
			c = jv_object_set(c, jv_string("post"), operation(k, "post", schema, 1, v2));
		if (has_verb(k, "get"))
			item = jv_object_set(item, jv_string("get"), operation(k, "get", schema, 0, v2));
		if (has_verb(k, "update"))
			item = jv_object_set(item, jv_string("put"), operation(k, "put", schema, 1, v2));
		if (has_verb(k, "patch"))
			item = jv_object_set(item, jv_string("patch"), operation(k, "patch", schema, 1, v2));
		if (has_verb(k, "delete"))
			item = jv_object_set(item, jv_string("delete"), operation(k, "delete", NULL, 0, v2));
		jv ps = jv_array();
		if (k->namespaced)
			ps = jv_array_append(ps, param("namespace", "path", 1, v2));
		c = jv_object_set(c, jv_string("parameters"), jv_copy(ps));
		item = jv_object_set(item, jv_string("parameters"),
				     jv_array_append(ps, param("name", "path", 1, v2)));
		paths = jv_object_set(paths, jv_string(coll.p), c);
		kx_buf_adds(&coll, "/{name}");
		paths = jv_object_set(paths, jv_string(coll.p), item);
		kx_buf_free(&coll);
		jv_free(name);
	}
	return paths;
}

char *openapi_doc(const char *gv, size_t *len)
{
	char group[128] = "", version[32] = "";
	jv doc;

	pthread_once(&once, load);
	if (!*gv) {
		jv paths = jv_object();
		for (size_t i = 0; i < kx_kinds_count; i++) {
			const kx_kind *k = &kx_kinds[i];
			char p[192], url[256];
			if (*k->group)
				snprintf(p, sizeof p, "apis/%s/%s", k->group, k->version);
			else
				snprintf(p, sizeof p, "api/%s", k->version);
			snprintf(url, sizeof url, "/openapi/v3/%s?hash=%s", p, KX_VERSION);
			paths = jv_object_set(paths, jv_string(p),
					      jv_object_set(jv_object(), jv_string("serverRelativeURL"),
							    jv_string(url)));
		}
		doc = jv_object_set(jv_object(), jv_string("paths"), paths);
	} else {
		if (sscanf(gv, "api/%31[^/]", version) == 1 && !strchr(gv + 4, '/'))
			group[0] = 0;
		else if (sscanf(gv, "apis/%127[^/]/%31[^/]", group, version) != 2)
			return NULL;
		jv paths = paths_of(group, version, 0);
		if (jv_object_length(jv_copy(paths)) == 0) {
			jv_free(paths);
			return NULL;
		}
		doc = jv_object_set(jv_object(), jv_string("openapi"), jv_string("3.0.0"));
		jv info = jv_object_set(jv_object(), jv_string("title"), jv_string("Kubernetes (kx)"));
		info = jv_object_set(info, jv_string("version"), jv_string(KX_VERSION));
		doc = jv_object_set(doc, jv_string("info"), info);
		doc = jv_object_set(doc, jv_string("paths"), paths);
		doc = jv_object_set(doc, jv_string("components"),
				    jv_object_set(jv_object(), jv_string("schemas"), jv_copy(schemas)));
	}
	char *s = kx_json_dump(doc, 0);
	*len = strlen(s);
	return s;
}

/* ---- OpenAPI v2 ------------------------------------------------------------------ */

/* A v3 schema as Swagger 2.0 writes it: references under #/definitions/,
 * and a described reference ({"allOf": [REF], "description": ...}) as the
 * reference with its description beside it, as Kubernetes serves it (and
 * as kubectl's parser of the protobuf form accepts it). Consumes s. */
static jv v2_schema(jv s)
{
	jv out = jv_object();

	if (jv_get_kind(s) != JV_KIND_OBJECT) {
		jv_free(out);
		return s;
	}
	jv all = jv_object_get(jv_copy(s), jv_string("allOf"));
	if (jv_get_kind(all) == JV_KIND_ARRAY && jv_array_length(jv_copy(all)) == 1) {
		s = jv_object_merge(jv_object_delete(s, jv_string("allOf")), jv_array_get(jv_copy(all), 0));
	}
	jv_free(all);
	jv_object_foreach(s, k, v)
	{
		const char *key = jv_string_value(k);
		if (!strcmp(key, "$ref") && jv_get_kind(v) == JV_KIND_STRING) {
			const char *name = strrchr(jv_string_value(v), '/');
			jv r = jv_string_fmt("#/definitions/%s", name ? name + 1 : jv_string_value(v));
			jv_free(v);
			v = r;
		} else if (!strcmp(key, "properties") && jv_get_kind(v) == JV_KIND_OBJECT) {
			jv props = jv_object();
			jv_object_foreach(v, pk, pv)
				props = jv_object_set(props, pk, v2_schema(pv));
			jv_free(v);
			v = props;
		} else if (!strcmp(key, "items") || !strcmp(key, "additionalProperties")) {
			v = v2_schema(v);
		}
		out = jv_object_set(out, k, v);
	}
	jv_free(s);
	return out;
}

static pthread_once_t v2_once = PTHREAD_ONCE_INIT;
static char *v2_json, *v2_pb;
static size_t v2_json_len, v2_pb_len;

/* Both forms of /openapi/v2, made once: the paths of every group version
 * from the kinds table and the definitions from the generated schemas. */
static void v2_load(void)
{
	jv paths = jv_object(), defs = jv_object();
	kx_buf pb = KX_BUF_INIT;

	pthread_once(&once, load);
	for (size_t i = 0; i < kx_kinds_count; i++) {
		const kx_kind *k = &kx_kinds[i];
		size_t j = 0;
		while (j < i && (strcmp(kx_kinds[j].group, k->group) || strcmp(kx_kinds[j].version, k->version)))
			j++;
		if (j == i)
			paths = jv_object_merge(paths, paths_of(k->group, k->version, 1));
	}
	jv_object_foreach(schemas, name, sch)
		defs = jv_object_set(defs, name, v2_schema(sch));
	jv doc = jv_object_set(jv_object(), jv_string("swagger"), jv_string("2.0"));
	jv info = jv_object_set(jv_object(), jv_string("title"), jv_string("Kubernetes (kx)"));
	info = jv_object_set(info, jv_string("version"), jv_string(KX_VERSION));
	doc = jv_object_set(doc, jv_string("info"), info);
	doc = jv_object_set(doc, jv_string("paths"), paths);
	doc = jv_object_set(doc, jv_string("definitions"), defs);
	if (openapi_v2_proto(&pb, jv_copy(doc)) == 0) {
		v2_pb_len = pb.len;
		v2_pb = kx_buf_steal(&pb);
	}
	kx_buf_free(&pb);
	v2_json = kx_json_dump(doc, 0);
	v2_json_len = strlen(v2_json);
}

char *openapi_v2(int proto, size_t *len)
{
	char *out;

	pthread_once(&v2_once, v2_load);
	if (proto && !v2_pb)
		return NULL;
	*len = proto ? v2_pb_len : v2_json_len;
	out = malloc(*len ? *len : 1);
	if (out)
		memcpy(out, proto ? v2_pb : v2_json, *len);
	return out;
}

/* ---- unknown fields --------------------------------------------------------- */

/* Follow $ref and allOf to the schema that says what v may hold. */
static jv resolve(jv s)
{
	for (int depth = 0; depth < 8 && jv_get_kind(s) == JV_KIND_OBJECT; depth++) {
		jv ref = jv_object_get(jv_copy(s), jv_string("$ref"));
		if (jv_get_kind(ref) == JV_KIND_STRING) {
			const char *r = jv_string_value(ref);
			const char *name = strrchr(r, '/');
			jv next = jv_object_get(jv_copy(schemas), jv_string(name ? name + 1 : r));
			jv_free(ref);
			jv_free(s);
			s = next;
			continue;
		}
		jv_free(ref);
		jv all = jv_object_get(jv_copy(s), jv_string("allOf"));
		if (jv_get_kind(all) == JV_KIND_ARRAY && jv_array_length(jv_copy(all)) > 0) {
			jv_free(s);
			s = jv_array_get(all, 0);
			continue;
		}
		jv_free(all);
		break;
	}
	return s;
}

/* Append to *found the path of each field of v that schema does not
 * declare, up to MAX_UNKNOWN of them. Consumes v and schema. */
#define MAX_UNKNOWN 64
static void walk(jv v, jv schema, kx_buf *path, jv *found)
{
	size_t mark = path->len;

	schema = resolve(schema);
	if (jv_get_kind(schema) != JV_KIND_OBJECT ||
	    kx_jv_bool(schema, "x-kubernetes-preserve-unknown-fields", 0)) {
		jv_free(v);
		jv_free(schema);
		return;
	}
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv props = jv_object_get(jv_copy(schema), jv_string("properties"));
		jv addl = jv_object_get(jv_copy(schema), jv_string("additionalProperties"));
		jv_object_foreach(v, key, val)
		{
			const char *ks = jv_string_value(key);
			if (ks[0] != '$' && jv_array_length(jv_copy(*found)) < MAX_UNKNOWN) {
				kx_buf_addf(path, "%s%s", path->len ? "." : "", ks);
				if (jv_get_kind(props) == JV_KIND_OBJECT) {
					jv sub = jv_object_get(jv_copy(props), jv_copy(key));
					if (!jv_is_valid(sub)) {
						jv_free(sub);
						*found = jv_array_append(*found, jv_string(path->p));
					} else {
						walk(jv_copy(val), sub, path, found);
					}
				} else if (jv_get_kind(addl) == JV_KIND_OBJECT) {
					walk(jv_copy(val), jv_copy(addl), path, found);
				}
				path->len = mark, path->p[mark] = 0;
			}
			jv_free(key);
			jv_free(val);
		}
		jv_free(props);
		jv_free(addl);
	} else if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv items = jv_object_get(jv_copy(schema), jv_string("items"));
		if (jv_is_valid(items)) {
			jv_array_foreach(v, i, el)
			{
				kx_buf_addf(path, "[%d]", i);
				walk(el, jv_copy(items), path, found);
				path->len = mark, path->p[mark] = 0;
			}
		}
		jv_free(items);
	}
	jv_free(v);
	jv_free(schema);
}

jv openapi_unknown_fields(const kx_kind *k, jv obj)
{
	char key[256];
	kx_buf p = KX_BUF_INIT;
	jv found = jv_array();

	pthread_once(&once, load);
	snprintf(key, sizeof key, "%s/%s/%s", k->group, k->version, k->kind);
	jv name = jv_object_get(jv_copy(kinds), jv_string(key));
	if (jv_get_kind(name) != JV_KIND_STRING) {
		jv_free(name);
		return found;
	}
	jv schema = jv_object_get(jv_copy(schemas), name);
	kx_buf_add(&p, "", 0);
	walk(jv_copy(obj), schema, &p, &found);
	kx_buf_free(&p);
	return found;
}
