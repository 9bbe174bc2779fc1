/* Unit tests of lib/apply.c: kubectl's three-way merge for kx-apply. */
#include <stdlib.h>

#include "apply.h"
#include "err.h"
#include "json.h"
#include "kinds.h"
#include "smp.h"
#include "tap.h"

static jv J(const char *s)
{
	jv v = jv_parse(s);
	if (!jv_is_valid(v)) {
		fprintf(stderr, "bad test JSON: %s\n", s);
		exit(2);
	}
	return v;
}

/* RFC 7386, to check what a patch does to the live object. */
static jv merge(jv target, jv patch)
{
	if (jv_get_kind(patch) != JV_KIND_OBJECT) {
		jv_free(target);
		return patch;
	}
	if (jv_get_kind(target) != JV_KIND_OBJECT) {
		jv_free(target);
		target = jv_object();
	}
	jv_object_foreach(patch, k, v)
	{
		if (jv_get_kind(v) == JV_KIND_NULL) {
			target = jv_object_delete(target, k);
			jv_free(v);
		} else {
			jv t = jv_object_get(jv_copy(target), jv_copy(k));
			if (!jv_is_valid(t)) {
				jv_free(t);
				t = jv_null();
			}
			target = jv_object_set(target, k, merge(t, v));
		}
	}
	jv_free(patch);
	return target;
}

static void is_json(jv got, const char *want, const char *name)
{
	char *g = kx_json_dump(jv_copy(got), 0);
	int pass = jv_equal(got, J(want));
	ok(pass, "%s", name);
	if (!pass)
		printf("#   got:      %s\n#   expected: %s\n", g, want);
	free(g);
}

static void test_patch(void)
{
	/* another writer scaled to 5; the manifest never named replicas in the
	 * last apply and does not now: kept. The label dropped from the
	 * manifest goes away; the changed image is sent. */
	jv orig = J("{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\",\"old\":\"x\"}},"
		    "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"a:1\"}]}}}}");
	jv mod = J("{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
		   "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"a:2\"}]}}}}");
	jv cur = J("{\"metadata\":{\"name\":\"web\",\"uid\":\"u\",\"labels\":{\"app\":\"web\",\"old\":\"x\"}},"
		   "\"spec\":{\"replicas\":5,\"template\":{\"spec\":{\"containers\":"
		   "[{\"name\":\"c\",\"image\":\"a:1\",\"imagePullPolicy\":\"IfNotPresent\"}]}}}}");
	jv p = kx_apply_patch(jv_copy(orig), jv_copy(mod), jv_copy(cur), NULL);
	is_json(jv_copy(p),
		"{\"metadata\":{\"labels\":{\"old\":null}},\"spec\":{\"template\":{\"spec\":"
		"{\"containers\":[{\"name\":\"c\",\"image\":\"a:2\"}]}}}}",
		"patch sends the changed list and removes the dropped label only");
	jv after = merge(jv_copy(cur), p);
	is_int(kx_jv_int(after, "spec.replicas", -1), 5, "another writer's replicas are kept");
	ok(jv_get_kind(kx_jv_get(jv_copy(after), "metadata.labels.old")) == JV_KIND_NULL,
	   "the dropped label is removed");
	jv_free(after);

	/* nothing changed but the store defaulted a field inside a list item */
	jv cur2 = J("{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"template\":"
		    "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"a:2\",\"imagePullPolicy\":\"Always\"}]}}}}");
	p = kx_apply_patch(jv_copy(mod), jv_copy(mod), cur2, NULL);
	is_int(jv_object_length(p), 0, "defaults inside list items do not make a change");

	/* a field removed from the manifest that someone already removed */
	p = kx_apply_patch(J("{\"a\":1,\"b\":2}"), J("{\"a\":1}"), J("{\"a\":1}"), NULL);
	is_int(jv_object_length(p), 0, "dropping an absent field sends nothing");
	/* no original (created by someone else): nothing is removed */
	p = kx_apply_patch(jv_null(), J("{\"a\":1}"), J("{\"a\":1,\"b\":2}"), NULL);
	is_int(jv_object_length(p), 0, "without last-applied, unknown fields stay");
	/* a list shrinks: sent whole */
	p = kx_apply_patch(J("{\"l\":[1,2]}"), J("{\"l\":[1]}"), J("{\"l\":[1,2]}"), NULL);
	is_json(p, "{\"l\":[1]}", "a shorter list is sent whole");
	/* explicit null in the manifest removes */
	p = kx_apply_patch(jv_null(), J("{\"a\":null}"), J("{\"a\":3}"), NULL);
	is_json(p, "{\"a\":null}", "a null in the manifest removes the field");
	/* a scalar becomes an object */
	p = kx_apply_patch(J("{\"a\":1}"), J("{\"a\":{\"b\":1}}"), J("{\"a\":1}"), NULL);
	is_json(p, "{\"a\":{\"b\":1}}", "a scalar replaced by an object");
	/* a nested map dropped entirely */
	p = kx_apply_patch(J("{\"m\":{\"x\":1}}"), J("{}"), J("{\"m\":{\"x\":1,\"y\":2}}"), NULL);
	is_json(p, "{\"m\":null}", "a dropped map is removed whole");
	jv_free(orig);
	jv_free(mod);
	jv_free(cur);
}

static void check_fails(const char *obj, const char *want)
{
	kx_err e = KX_ERR_INIT;
	jv o = J(obj);

	ok(!kx_apply_check(o, &e) && strstr(e.msg, want), "check refuses %s: %s", obj, e.msg);
	jv_free(o);
}

static void test_modified(void)
{
	kx_err e = KX_ERR_INIT;
	const kx_kind *k;
	jv m = J("{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"c\"},"
		 "\"data\":{\"h\":\"<a>&b\",\"z\":\"1\",\"a\":\"x\\ny\"}}");
	char buf[1024];

	k = kx_apply_check(m, &e);
	ok(k && !strcmp(k->resource, "configmaps"), "check finds the kind");
	jv out = kx_apply_modified(jv_copy(m), k, "prod", 0, &e);
	is_str(kx_jv_str(out, "metadata.namespace", buf, sizeof buf, NULL), "prod",
	       "the namespace is filled in");
	jv ann = kx_jv_get(jv_copy(out), "metadata.annotations");
	jv la = jv_object_get(ann, jv_string(KX_LAST_APPLIED));
	is_str(jv_string_value(la),
	       "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"x\\ny\",\"h\":\"\\u003ca\\u003e\\u0026b\","
	       "\"z\":\"1\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"name\":\"c\","
	       "\"namespace\":\"prod\"}}\n",
	       "last-applied is written as kubectl writes it");
	jv_free(la);
	jv orig = kx_apply_original(out);
	ok(jv_get_kind(orig) == JV_KIND_OBJECT, "the annotation reads back");
	is_str(kx_jv_str(orig, "data.h", buf, sizeof buf, NULL), "<a>&b", "with its escapes undone");
	/* applying the same manifest again: the patch is empty */
	jv again = kx_apply_modified(jv_copy(m), k, "prod", 0, &e);
	jv p = kx_apply_patch(orig, again, out, NULL);
	is_int(jv_object_length(p), 0, "the same manifest again is unchanged");

	jv x = kx_apply_modified(J("{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":"
				   "{\"name\":\"c\",\"namespace\":\"a\"}}"), k, "b", 1, &e);
	ok(!jv_is_valid(x), "-n naming another namespace is refused");
	ok(strstr(e.msg, "does not match the namespace \"b\"") != NULL, "and says so: %s", e.msg);
	jv_free(x);
	x = kx_apply_modified(J("{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"n\"}}"),
			      kx_kind_by_gvk("v1", "Node"), "b", 1, &e);
	ok(jv_get_kind(kx_jv_get(jv_copy(x), "metadata.namespace")) == JV_KIND_NULL,
	   "cluster-scoped objects get no namespace");
	jv_free(x);

	check_fails("{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"}}", "kind not set");
	check_fails("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}", "apiVersion not set");
	check_fails("{\"apiVersion\":\"v9\",\"kind\":\"Foo\",\"metadata\":{\"name\":\"x\"}}",
		    "no matches for kind \"Foo\" in version \"v9\"");
	check_fails("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{}}", "metadata.name not set");
	check_fails("[1]", "not an object");
	jv_free(m);
}

static void test_go_json(void)
{
	char *s = kx_apply_go_json(J("{\"b\":[1,2.5,true,null],\"a\":\"\\u2028\\t\\u0001\"}"));
	is_str(s, "{\"a\":\"\\u2028\\t\\u0001\",\"b\":[1,2.5,true,null]}", "Go's JSON: sorted, escaped");
	free(s);
}

/* kubectl's strategic three-way patch, then lib/smp applying it as the
 * store does: the result is what the manifest says plus other writers'. */
static void test_strategic(void)
{
	kx_err e = KX_ERR_INIT;
	jv orig = J("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"a:1\","
		    "\"ports\":[{\"containerPort\":80},{\"containerPort\":81}]},{\"name\":\"old\",\"image\":\"o\"}],"
		    "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}}}");
	jv mod = J("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"a:2\","
		   "\"ports\":[{\"containerPort\":80}]}],\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}}}");
	/* another writer added an env var to c and a sidecar */
	jv cur = J("{\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"a:1\","
		   "\"env\":[{\"name\":\"E\",\"value\":\"1\"}],\"ports\":[{\"containerPort\":80},{\"containerPort\":81}]},"
		   "{\"name\":\"old\",\"image\":\"o\"},{\"name\":\"side\",\"image\":\"s\"}],"
		   "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}}}");
	jv p = kx_apply_patch(jv_copy(orig), jv_copy(mod), jv_copy(cur), "Deployment");
	is_json(jv_copy(p),
		"{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"}],"
		"\"containers\":[{\"$setElementOrder/ports\":[{\"containerPort\":80}],\"image\":\"a:2\",\"name\":\"c\","
		"\"ports\":[{\"$patch\":\"delete\",\"containerPort\":81}]},{\"$patch\":\"delete\",\"name\":\"old\"}]}}}}",
		"a keyed list: changed items by key, dropped ones deleted, the manifest's order");
	jv after = kx_smp_apply(jv_copy(cur), p, "Deployment", &e);
	is_json(after,
		"{\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":[{\"env\":[{\"name\":\"E\",\"value\":\"1\"}],"
		"\"image\":\"a:2\",\"name\":\"c\",\"ports\":[{\"containerPort\":80}]},{\"image\":\"s\",\"name\":\"side\"}],"
		"\"volumes\":[{\"emptyDir\":{},\"name\":\"v\"}]}}}}",
		"applied: other writers' env and sidecar stay, the dropped container and port go");

	/* nothing changed in a keyed list: no patch, even with defaults inside */
	jv cur2 = J("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"a:2\","
		    "\"imagePullPolicy\":\"Always\",\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}]}],"
		    "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}}}");
	p = kx_apply_patch(jv_copy(mod), jv_copy(mod), cur2, "Deployment");
	is_json(p, "{}", "an unchanged keyed list sends nothing");

	/* another order in the store than in the manifest: the order is sent */
	p = kx_apply_patch(jv_null(), J("{\"spec\":{\"ports\":[{\"port\":1},{\"port\":2}]}}"),
			   J("{\"spec\":{\"ports\":[{\"port\":2},{\"port\":1}]}}"), "Service");
	is_json(p, "{\"spec\":{\"$setElementOrder/ports\":[{\"port\":1},{\"port\":2}]}}",
		"a reordered list sends only its order");

	/* a set of strings: additions, and deletions of what was dropped */
	p = kx_apply_patch(J("{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}"), J("{\"metadata\":{\"finalizers\":[\"a\",\"c\"]}}"),
			   J("{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"x\"]}}"), "Pod");
	is_json(jv_copy(p),
		"{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\"],\"$setElementOrder/finalizers\":[\"a\",\"c\"],"
		"\"finalizers\":[\"c\"]}}", "a set of strings: added, deleted, ordered");
	after = kx_smp_apply(J("{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"x\"]}}"), p, "Pod", &e);
	is_json(after, "{\"metadata\":{\"finalizers\":[\"a\",\"c\",\"x\"]}}", "and applied: another writer's x stays");

	/* a list item without its merge key: the list is replaced whole */
	p = kx_apply_patch(jv_null(), J("{\"spec\":{\"ports\":[{\"name\":\"x\"}]}}"),
			   J("{\"spec\":{\"ports\":[{\"port\":2}]}}"), "Service");
	is_json(p, "{\"spec\":{\"ports\":[{\"name\":\"x\"}]}}", "items without the merge key: replaced whole");

	/* a kind without merge keys: a JSON merge patch */
	p = kx_apply_patch(J("{\"data\":{\"a\":\"1\"}}"), J("{\"data\":{\"b\":\"2\"}}"), J("{\"data\":{\"a\":\"1\",\"z\":\"9\"}}"),
			   "ConfigMap");
	is_json(p, "{\"data\":{\"a\":null,\"b\":\"2\"}}", "a ConfigMap: a plain merge patch");
	jv_free(orig);
	jv_free(mod);
	jv_free(cur);
}

int main(void)
{
	test_patch();
	test_strategic();
	test_modified();
	test_go_json();
	return done_testing();
}
