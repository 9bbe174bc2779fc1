/* Unit tests of server-side apply and managedFields (lib/ssa). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "ssa.h"
#include "tap.h"

static const char deploy[] =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
	"\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
	"\"spec\":{\"containers\":[{\"name\":\"httpd\",\"image\":\"busybox:1\",\"ports\":[{\"containerPort\":80}]}]}}}}";

static int same(jv got, const char *want, const char *name)
{
	jv w = jv_parse(want);
	char *gs = kx_json_dump(jv_copy(got), 0);
	int r = ok(jv_equal(got, jv_copy(w)), "%s", name);

	if (!r)
		printf("#   got:  %s\n#   want: %s\n", gs, want);
	free(gs);
	jv_free(w);
	return r;
}

static struct kx_ssa_who who(const char *manager, const char *sub)
{
	return (struct kx_ssa_who){"Deployment", "apps/v1", manager, sub, "2026-01-01T00:00:00Z"};
}

/* apply cfg (a JSON text) as manager over live (consumed) */
static jv apply(jv live, const char *cfg, const char *manager, int force, jv *conflicts, kx_err *e)
{
	struct kx_ssa_who w = who(manager, "");
	return kx_ssa_apply(live, jv_parse(cfg), &w, force, conflicts, e);
}

static jv entry(jv obj, const char *manager, const char *op)
{
	jv es = kx_jv_get(obj, "metadata.managedFields"), found = jv_null();
	char b[128];

	jv_array_foreach(es, i, en)
	{
		if (!strcmp(kx_jv_str(en, "manager", b, sizeof b, ""), manager) &&
		    !strcmp(kx_jv_str(en, "operation", b, sizeof b, ""), op)) {
			jv_free(found);
			found = kx_jv_get(en, "fieldsV1");
		} else {
			jv_free(en);
		}
	}
	jv_free(es);
	return found;
}

static char *with_replicas(int n)
{
	static char buf[sizeof deploy + 16];
	char *p = strstr(deploy, "\"replicas\":2");
	snprintf(buf, sizeof buf, "%.*s\"replicas\":%d%s", (int)(p - deploy), deploy, n, p + 12);
	return buf;
}

int main(void)
{
	kx_err e = KX_ERR_INIT;
	jv conflicts, obj, o2;
	char *msg, name[32];

	/* the field set of an applied configuration */
	same(kx_ssa_fieldset(jv_parse(deploy), "Deployment"),
	     "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:replicas\":{},\"f:selector\":{},"
	     "\"f:template\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:containers\":{"
	     "\"k:{\\\"name\\\":\\\"httpd\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{},\"f:ports\":{"
	     "\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}}}}}}}}",
	     "fieldset: struct fields, keyed items with '.', the atomic selector as one field, protocol's default in the key");
	same(kx_ssa_fieldset(jv_parse("{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"a\",\"b\"],\"uid\":\"u\"},"
				      "\"status\":{\"replicas\":1},\"spec\":{\"strategy\":{}}}"),
			     "Deployment"),
	     "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"a\\\"\":{},\"v:\\\"b\\\"\":{}}},\"f:spec\":{\"f:strategy\":{}}}",
	     "fieldset: set items as v:, identity and status left out, an empty struct is a field");

	/* create */
	obj = apply(jv_null(), deploy, "kubectl", 0, &conflicts, &e);
	ok(jv_is_valid(obj), "an apply of a new object makes it");
	is_int(kx_jv_int(obj, "spec.replicas", 0), 2, "with the applied fields");
	{
		jv es = kx_jv_get(jv_copy(obj), "metadata.managedFields");
		jv en = jv_array_get(jv_copy(es), 0);
		char b[64];
		is_int(jv_array_length(es), 1, "one managedFields entry");
		is_str(kx_jv_str(en, "operation", b, sizeof b, ""), "Apply", "operation Apply");
		is_str(kx_jv_str(en, "fieldsType", b, sizeof b, ""), "FieldsV1", "fieldsType FieldsV1");
		is_str(kx_jv_str(en, "time", b, sizeof b, ""), "2026-01-01T00:00:00Z", "with the time");
		jv_free(en);
	}

	/* re-apply: nothing changes */
	o2 = apply(jv_copy(obj), deploy, "kubectl", 0, &conflicts, &e);
	ok(jv_equal(jv_copy(o2), jv_copy(obj)), "re-applying the same configuration changes nothing");
	jv_free(o2);

	/* another manager: same value is shared, another value conflicts */
	o2 = apply(jv_copy(obj), deploy, "other", 0, &conflicts, &e);
	ok(jv_is_valid(o2), "a second manager applying the same values co-owns them");
	same(kx_jv_get(entry(jv_copy(o2), "other", "Apply"), "f:spec.f:replicas"), "{}", "and owns replicas too");
	jv_free(o2);
	o2 = apply(jv_copy(obj), with_replicas(3), "other", 0, &conflicts, &e);
	ok(!jv_is_valid(o2), "another value for a field someone else applied is a conflict");
	is_str(e.msg, "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas",
	       "in Kubernetes' words (an Apply manager is named alone)");
	same(jv_copy(conflicts), "[{\"manager\":\"\\\"kubectl\\\"\",\"field\":\".spec.replicas\"}]", "conflicts as data");
	jv_free(conflicts);
	jv_free(o2);

	/* force takes the field */
	o2 = apply(jv_copy(obj), with_replicas(3), "other", 1, &conflicts, &e);
	is_int(kx_jv_int(o2, "spec.replicas", 0), 3, "force=true applies the value");
	same(kx_jv_get(entry(jv_copy(o2), "kubectl", "Apply"), "f:spec.f:replicas"), "null",
	     "and takes the field away from the other manager");
	same(kx_jv_get(entry(jv_copy(o2), "other", "Apply"), "f:spec.f:replicas"), "{}", "the forcing manager owns it");

	/* kubectl now drops replicas: other still owns it, so it stays */
	{
		jv cfg = kx_jv_del(jv_parse(deploy), "spec.replicas");
		char *s = kx_json_dump(cfg, 0);
		jv o3 = apply(jv_copy(o2), s, "other", 0, &conflicts, &e);
		is_int(kx_jv_int(o3, "spec.replicas", 0), 0, "a manager dropping a field it alone applied removes it");
		jv_free(o3);
		o3 = apply(jv_copy(o2), s, "kubectl", 0, &conflicts, &e);
		ok(jv_is_valid(o3), "dropping a field you no longer own is no conflict");
		is_int(kx_jv_int(o3, "spec.replicas", 0), 3, "and a field another manager owns stays");
		jv_free(o3);
		free(s);
	}
	jv_free(o2);

	/* keyed lists: each manager its own container */
	{
		const char *side = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
				   "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"log\",\"image\":\"tail\"}]}}}}";
		jv o3 = apply(jv_copy(obj), side, "sidecar", 0, &conflicts, &e), o4, cs;
		cs = kx_jv_get(jv_copy(o3), "spec.template.spec.containers");
		is_int(jv_array_length(cs), 2, "a second manager adds an item of a keyed list, the first stays");
		o4 = apply(o3, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
			       "\"spec\":{\"template\":{\"spec\":{\"containers\":[]}}}}",
			   "sidecar", 0, &conflicts, &e);
		cs = kx_jv_get(jv_copy(o4), "spec.template.spec.containers");
		same(kx_jv_get(jv_array_get(cs, 0), "name"), "\"httpd\"", "dropping its item removes only that item");
		jv_free(o4);
	}

	/* several conflicts, several managers */
	{
		jv live = apply(jv_null(), deploy, "a", 0, &conflicts, &e);
		jv cfg = jv_parse(with_replicas(5));
		cfg = kx_jv_set(cfg, "metadata.labels.app", jv_string("x"));
		live = kx_jv_set(live, "metadata.managedFields",
				 jv_array_append(kx_jv_get(jv_copy(live), "metadata.managedFields"),
						 jv_parse("{\"manager\":\"kubectl-client-side-apply\",\"operation\":\"Update\","
							  "\"apiVersion\":\"apps/v1\",\"fieldsType\":\"FieldsV1\","
							  "\"fieldsV1\":{\"f:spec\":{\"f:replicas\":{}}}}")));
		struct kx_ssa_who w = who("b", "");
		jv r = kx_ssa_apply(live, cfg, &w, 0, &conflicts, &e);
		ok(!jv_is_valid(r), "two fields of two managers conflict");
		is_str(e.msg,
		       "Apply failed with 3 conflicts: conflicts with \"a\":\n- .metadata.labels.app\n- .spec.replicas\n"
		       "conflicts with \"kubectl-client-side-apply\" using apps/v1:\n- .spec.replicas",
		       "one block per manager, sorted; an Update manager with its API version");
		jv_free(conflicts);
	}

	/* updates: the writer owns what it changed, others lose it */
	{
		struct kx_ssa_who w = who("kubectl-client-side-apply", "");
		jv created = kx_ssa_update(jv_null(), jv_parse(deploy), &w);
		jv f = entry(jv_copy(created), "kubectl-client-side-apply", "Update");
		same(kx_jv_get(jv_copy(f), "f:metadata"), "{\"f:labels\":{\".\":{},\"f:app\":{}}}",
		     "a create owns everything it wrote; an added map is a member itself");
		same(kx_jv_get(jv_copy(f), "f:spec.f:template.f:spec.f:containers.k:{\"name\":\"httpd\"}.f:ports"),
		     "{\".\":{},\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}}",
		     "added lists and items are members, with their fields");
		jv_free(f);
		struct kx_ssa_who s = who("kubectl", "scale");
		jv scaled = kx_ssa_update(jv_copy(created), kx_jv_set(jv_copy(created), "spec.replicas", jv_number(5)), &s);
		same(kx_jv_get(entry(jv_copy(scaled), "kubectl-client-side-apply", "Update"), "f:spec.f:replicas"), "null",
		     "a scale takes replicas from the creator");
		jv es = kx_jv_get(jv_copy(scaled), "metadata.managedFields");
		same(kx_jv_get(jv_array_get(es, 0), "subresource"), "\"scale\"",
		     "and is recorded with its subresource, entries sorted by time then manager");
		jv same_again = kx_ssa_update(jv_copy(scaled), jv_copy(scaled), &s);
		ok(jv_equal(same_again, jv_copy(scaled)), "a write that changes nothing changes no entry");
		jv r = apply(scaled, with_replicas(2), "kubectl", 0, &conflicts, &e);
		ok(!jv_is_valid(r), "then an apply of another replicas conflicts with the scale");
		is_str(e.msg,
		       "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas",
		       "naming the manager, its subresource and API version");
		jv_free(conflicts);
		jv cleared = kx_ssa_update(jv_copy(created), kx_jv_set(jv_copy(created), "metadata.managedFields", jv_array()), &w);
		same(kx_jv_get(cleared, "metadata.managedFields"), "[]", "managedFields: [] from a client clears them");
		jv_free(created);
	}

	/* bad input */
	jv_free(obj);
	obj = apply(jv_null(), "[1]", "m", 0, &conflicts, &e);
	ok(!jv_is_valid(obj) && !jv_is_valid(conflicts), "a configuration that is not an object is refused, not a conflict");
	jv_free(obj);
	is_str(kx_ssa_default_manager("kubectl/v1.30.1 (linux/amd64) kubernetes/abc", name, sizeof name), "kubectl",
	       "the default manager is the User-Agent's first word");
	is_str(kx_ssa_default_manager(NULL, name, sizeof name), "unknown", "or unknown");
	conflicts = jv_parse("[{\"manager\":\"\\\"m\\\"\",\"field\":\".a\"}]");
	msg = kx_ssa_conflict_message(conflicts);
	jv_free(conflicts);
	is_str(msg, "Apply failed with 1 conflict: conflict with \"m\": .a", "conflict message of one");
	free(msg);
	return done_testing();
}
