/* openapi_pb.c: a Swagger 2.0 document in protocol buffers, as gnostic's
 * openapi_v2.Document (github.com/google/gnostic-models, OpenAPIv2.proto),
 * which is what kubectl asks /openapi/v2 for. Only the parts of Swagger
 * that kx-store's own document uses are encoded: definitions (schemas with
 * $ref, type, format, description, required, properties, items,
 * additionalProperties, vendor extensions), and paths whose operations
 * have parameters, responses and vendor extensions. The field numbers are
 * those of OpenAPIv2.proto; each function below names its message.
 *
 * Vendor extensions and defaults are gnostic "Any" messages holding YAML
 * text: JSON is YAML, so their values are written as JSON. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "openapi.h"
#include "pb.h"

/* Append sub (then reset it) as length-delimited field of b. */
static int put(kx_buf *b, unsigned field, kx_buf *sub)
{
	int rc = kx_pb_bytes(b, field, sub->p, sub->len);
	kx_buf_reset(sub);
	return rc;
}

/* A string field from v (borrowed), if v is a string. */
static int str_of(kx_buf *b, unsigned field, jv v)
{
	return jv_get_kind(v) == JV_KIND_STRING ? kx_pb_string(b, field, jv_string_value(v)) : 0;
}

/* A string field from o's key (o borrowed). */
static int get_str(kx_buf *b, unsigned field, jv o, const char *key)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	int rc = str_of(b, field, v);

	jv_free(v);
	return rc;
}

/* Any { string yaml = 2; }, holding v as JSON. */
static int any(kx_buf *b, unsigned field, jv v)
{
	kx_buf a = KX_BUF_INIT;
	char *s = kx_json_dump(jv_copy(v), 0);
	int rc = kx_pb_bytes(&a, 2, s, strlen(s));

	free(s);
	rc |= put(b, field, &a);
	kx_buf_free(&a);
	return rc;
}

/* NamedAny { string name = 1; Any value = 2; } for each "x-" key of o. */
static int extensions(kx_buf *b, unsigned field, jv o)
{
	kx_buf na = KX_BUF_INIT;
	int rc = 0;

	jv_object_foreach(o, k, v)
	{
		if (!strncmp(jv_string_value(k), "x-", 2)) {
			rc |= kx_pb_string(&na, 1, jv_string_value(k));
			rc |= any(&na, 2, v);
			rc |= put(b, field, &na);
		}
		jv_free(k);
		jv_free(v);
	}
	kx_buf_free(&na);
	return rc;
}

/* repeated string, from a string or an array of strings. */
static int strings(kx_buf *b, unsigned field, jv v)
{
	int rc = 0;

	if (jv_get_kind(v) == JV_KIND_STRING)
		return kx_pb_string(b, field, jv_string_value(v));
	if (jv_get_kind(v) != JV_KIND_ARRAY)
		return 0;
	jv_array_foreach(v, i, s)
	{
		if (jv_get_kind(s) == JV_KIND_STRING)
			rc |= kx_pb_bytes(b, field, jv_string_value(s), strlen(jv_string_value(s)));
		jv_free(s);
	}
	return rc;
}

static int named_map(kx_buf *b, unsigned field, unsigned item, jv map, int (*enc)(kx_buf *, jv));

/* Schema: _ref 1, format 2, title 3, description 4, default 5,
 * required 19, additional_properties 21 (AdditionalPropertiesItem: schema 1,
 * boolean 2), type 22 (TypeItem: value 1), items 23 (ItemsItem: schema 1),
 * all_of 24, properties 25 (Properties: NamedSchema 1), vendor_extension 31. */
static int schema(kx_buf *b, jv s)
{
	kx_buf sub = KX_BUF_INIT, one = KX_BUF_INIT;
	int rc = 0;

	if (jv_get_kind(s) != JV_KIND_OBJECT)
		return 0;
	jv_object_foreach(s, k, v)
	{
		const char *key = jv_string_value(k);
		if (!strcmp(key, "$ref"))
			rc |= str_of(b, 1, v);
		else if (!strcmp(key, "format"))
			rc |= str_of(b, 2, v);
		else if (!strcmp(key, "title"))
			rc |= str_of(b, 3, v);
		else if (!strcmp(key, "description"))
			rc |= str_of(b, 4, v);
		else if (!strcmp(key, "default"))
			rc |= any(b, 5, v);
		else if (!strcmp(key, "required"))
			rc |= strings(b, 19, v);
		else if (!strcmp(key, "additionalProperties")) {
			if (jv_get_kind(v) == JV_KIND_OBJECT) {
				rc |= schema(&one, jv_copy(v));
				rc |= put(&sub, 1, &one);
			} else {
				rc |= kx_pb_uint(&sub, 2, jv_get_kind(v) == JV_KIND_TRUE);
			}
			rc |= put(b, 21, &sub);
		} else if (!strcmp(key, "type")) {
			rc |= strings(&sub, 1, v);
			rc |= put(b, 22, &sub);
		} else if (!strcmp(key, "items")) {
			rc |= schema(&one, jv_copy(v));
			rc |= put(&sub, 1, &one);
			rc |= put(b, 23, &sub);
		} else if (!strcmp(key, "allOf") && jv_get_kind(v) == JV_KIND_ARRAY) {
			jv_array_foreach(v, i, e)
			{
				rc |= schema(&sub, e);
				rc |= put(b, 24, &sub);
			}
		} else if (!strcmp(key, "properties")) {
			rc |= named_map(b, 25, 1, jv_copy(v), schema);
		}
		jv_free(k);
		jv_free(v);
	}
	rc |= extensions(b, 31, s);
	jv_free(s);
	kx_buf_free(&sub);
	kx_buf_free(&one);
	return rc;
}

/* ParametersItem { Parameter parameter = 1; }: a body parameter
 * (Parameter.body_parameter 1: description 1, name 2, in 3, required 4,
 * schema 5) or a query or path one (Parameter.non_body_parameter 2, whose
 * query_parameter_sub_schema 3 has required 1, in 2, description 3, name 4,
 * type 6, and path_parameter_sub_schema 4 the same but type 5). */
static int parameter(kx_buf *b, jv p)
{
	kx_buf x = KX_BUF_INIT, y = KX_BUF_INIT;
	char in[16];
	int rc = 0, body;

	kx_jv_str(p, "in", in, sizeof in, "");
	body = !strcmp(in, "body");
	if (body || !strcmp(in, "query") || !strcmp(in, "path")) {
		int query = !strcmp(in, "query");
		jv name = jv_object_get(jv_copy(p), jv_string("name"));
		jv desc = jv_object_get(jv_copy(p), jv_string("description"));
		jv type = jv_object_get(jv_copy(p), jv_string("type"));
		int required = kx_jv_bool(p, "required", 0);
		if (body) {
			rc |= str_of(&x, 1, desc);
			rc |= str_of(&x, 2, name);
			rc |= kx_pb_string(&x, 3, in);
			rc |= kx_pb_uint(&x, 4, required);
			kx_buf s = KX_BUF_INIT;
			rc |= schema(&s, jv_object_get(jv_copy(p), jv_string("schema")));
			rc |= put(&x, 5, &s);
			kx_buf_free(&s);
			rc |= put(&y, 1, &x);
		} else {
			rc |= kx_pb_uint(&x, 1, required);
			rc |= kx_pb_string(&x, 2, in);
			rc |= str_of(&x, 3, desc);
			rc |= str_of(&x, 4, name);
			rc |= str_of(&x, query ? 6 : 5, type);
			kx_buf nb = KX_BUF_INIT;
			rc |= put(&nb, query ? 3 : 4, &x);
			rc |= put(&y, 2, &nb);
			kx_buf_free(&nb);
		}
		rc |= put(b, 1, &y);
		jv_free(name);
		jv_free(desc);
		jv_free(type);
	}
	jv_free(p);
	kx_buf_free(&x);
	kx_buf_free(&y);
	return rc;
}

static int parameters(kx_buf *b, unsigned field, jv ps)
{
	kx_buf item = KX_BUF_INIT;
	int rc = 0;

	if (jv_get_kind(ps) == JV_KIND_ARRAY) {
		jv_array_foreach(ps, i, p)
		{
			rc |= parameter(&item, p);
			rc |= put(b, field, &item);
		}
	}
	jv_free(ps);
	kx_buf_free(&item);
	return rc;
}

/* Responses { repeated NamedResponseValue response_code = 1; }, each
 * { name 1; ResponseValue value 2 { Response response 1 { description 1;
 * SchemaItem schema 2 { Schema schema 1; } } } }. */
static int responses(kx_buf *b, jv rs)
{
	kx_buf named = KX_BUF_INIT, val = KX_BUF_INIT, resp = KX_BUF_INIT, s = KX_BUF_INIT,
	       item = KX_BUF_INIT;
	int rc = 0;

	jv_object_foreach(rs, code, r)
	{
		jv sch = jv_object_get(jv_copy(r), jv_string("schema"));
		rc |= get_str(&resp, 1, r, "description");
		if (jv_is_valid(sch)) {
			rc |= schema(&s, jv_copy(sch));
			rc |= put(&item, 1, &s);
			rc |= put(&resp, 2, &item);
		}
		jv_free(sch);
		rc |= put(&val, 1, &resp);
		rc |= kx_pb_string(&named, 1, jv_string_value(code));
		rc |= put(&named, 2, &val);
		rc |= put(b, 1, &named);
		jv_free(code);
		jv_free(r);
	}
	jv_free(rs);
	kx_buf_free(&named);
	kx_buf_free(&val);
	kx_buf_free(&resp);
	kx_buf_free(&s);
	kx_buf_free(&item);
	return rc;
}

/* Operation: description 3, operation_id 5, produces 6, consumes 7,
 * parameters 8, responses 9, vendor_extension 13. */
static int operation(kx_buf *b, jv op)
{
	kx_buf r = KX_BUF_INIT;
	int rc = 0;

	rc |= get_str(b, 3, op, "description");
	rc |= get_str(b, 5, op, "operationId");
	jv v = jv_object_get(jv_copy(op), jv_string("produces"));
	rc |= strings(b, 6, v);
	jv_free(v);
	v = jv_object_get(jv_copy(op), jv_string("consumes"));
	rc |= strings(b, 7, v);
	jv_free(v);
	rc |= parameters(b, 8, jv_object_get(jv_copy(op), jv_string("parameters")));
	v = jv_object_get(jv_copy(op), jv_string("responses"));
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		rc |= responses(&r, v);
		rc |= put(b, 9, &r);
	} else {
		jv_free(v);
	}
	rc |= extensions(b, 13, op);
	jv_free(op);
	kx_buf_free(&r);
	return rc;
}

/* PathItem: get 2, put 3, post 4, delete 5, patch 8, parameters 9. */
static int path_item(kx_buf *b, jv item)
{
	static const struct {
		const char *method;
		unsigned field;
	} ops[] = {{"get", 2}, {"put", 3}, {"post", 4}, {"delete", 5}, {"patch", 8}};
	kx_buf o = KX_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		jv op = jv_object_get(jv_copy(item), jv_string(ops[i].method));
		if (jv_get_kind(op) == JV_KIND_OBJECT) {
			rc |= operation(&o, op);
			rc |= put(b, ops[i].field, &o);
		} else {
			jv_free(op);
		}
	}
	rc |= parameters(b, 9, jv_object_get(jv_copy(item), jv_string("parameters")));
	rc |= extensions(b, 10, item);
	jv_free(item);
	kx_buf_free(&o);
	return rc;
}

/* A map of named values (map consumed; nothing when it is not an object)
 * as field of b: a message whose field item repeats { name 1; value 2 },
 * each value encoded by enc (which consumes it). Definitions, Paths and
 * Properties all have this shape. */
static int named_map(kx_buf *b, unsigned field, unsigned item, jv map, int (*enc)(kx_buf *, jv))
{
	kx_buf sub = KX_BUF_INIT, named = KX_BUF_INIT, val = KX_BUF_INIT;
	int rc = 0;

	if (jv_get_kind(map) == JV_KIND_OBJECT) {
		jv_object_foreach(map, k, v)
		{
			rc |= kx_pb_string(&named, 1, jv_string_value(k));
			rc |= enc(&val, v);
			rc |= put(&named, 2, &val);
			rc |= put(&sub, item, &named);
			jv_free(k);
		}
		rc |= put(b, field, &sub);
	}
	jv_free(map);
	kx_buf_free(&sub);
	kx_buf_free(&named);
	kx_buf_free(&val);
	return rc;
}

/* Document: swagger 1, info 2 (Info: title 1, version 2), paths 8 (Paths:
 * NamedPathItem 2), definitions 9 (Definitions: NamedSchema 1). */
int openapi_v2_proto(kx_buf *b, jv doc)
{
	kx_buf sub = KX_BUF_INIT;
	int rc = 0;

	rc |= get_str(b, 1, doc, "swagger");
	jv info = jv_object_get(jv_copy(doc), jv_string("info"));
	if (jv_get_kind(info) == JV_KIND_OBJECT) {
		rc |= get_str(&sub, 1, info, "title");
		rc |= get_str(&sub, 2, info, "version");
		rc |= put(b, 2, &sub);
	}
	jv_free(info);
	rc |= named_map(b, 8, 2, jv_object_get(jv_copy(doc), jv_string("paths")), path_item);
	rc |= named_map(b, 9, 1, jv_object_get(jv_copy(doc), jv_string("definitions")), schema);
	jv_free(doc);
	kx_buf_free(&sub);
	return rc ? -1 : 0;
}
