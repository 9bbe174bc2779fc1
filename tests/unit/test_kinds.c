/* Unit tests of the kinds table: lookups by every name a person types, by
 * apiVersion and kind, by URL resource, and API paths. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kinds.h"
#include "tap.h"

static const char *res(const kx_kind *k)
{
	return k ? k->resource : "(null)";
}

static const char *grp(const kx_kind *k)
{
	return k ? k->group : "(null)";
}

static void test_lookup(void)
{
	is_str(res(kx_kind_lookup("pods")), "pods", "plural");
	is_str(res(kx_kind_lookup("pod")), "pods", "singular");
	is_str(res(kx_kind_lookup("Pod")), "pods", "kind");
	is_str(res(kx_kind_lookup("po")), "pods", "short name");
	is_str(res(kx_kind_lookup("PODS")), "pods", "any case");
	is_str(res(kx_kind_lookup("deploy")), "deployments", "deploy");
	is_str(res(kx_kind_lookup("deployments.apps")), "deployments", "qualified by group");
	is_str(res(kx_kind_lookup("deploy.apps")), "deployments", "short name qualified by group");
	is_str(res(kx_kind_lookup("deployments.v1.apps")), "deployments", "qualified by version.group");
	ok(kx_kind_lookup("deployments.batch") == NULL, "wrong group is unknown");
	is_str(res(kx_kind_lookup("svc")), "services", "svc");
	is_str(res(kx_kind_lookup("ns")), "namespaces", "ns");
	is_str(res(kx_kind_lookup("no")), "nodes", "no");
	is_str(res(kx_kind_lookup("cm")), "configmaps", "cm");
	is_str(res(kx_kind_lookup("ep")), "endpoints", "ep");
	is_str(res(kx_kind_lookup("rs")), "replicasets", "rs");
	is_str(res(kx_kind_lookup("rc")), "replicationcontrollers", "rc");
	is_str(res(kx_kind_lookup("sa")), "serviceaccounts", "sa");
	is_str(res(kx_kind_lookup("quota")), "resourcequotas", "quota");
	is_str(res(kx_kind_lookup("lease")), "leases", "lease");
	is_str(res(kx_kind_lookup("endpointslices")), "endpointslices", "endpointslices");
	is_str(grp(kx_kind_lookup("ev")), "", "ev is the core Event first");
	is_str(grp(kx_kind_lookup("events.events.k8s.io")), "events.k8s.io",
	       "events.events.k8s.io is the other one");
	ok(kx_kind_lookup("nosuch") == NULL, "unknown name");
	ok(kx_kind_lookup("") == NULL, "empty name");
	ok(kx_kind_lookup(NULL) == NULL, "NULL name");
	is_str(res(kx_kind_lookup("po.")), "pods", "an empty qualifier names the core group");
}

static void test_gvk(void)
{
	is_str(res(kx_kind_by_gvk("v1", "Pod")), "pods", "v1 Pod");
	is_str(res(kx_kind_by_gvk("apps/v1", "Deployment")), "deployments", "apps/v1 Deployment");
	is_str(res(kx_kind_by_gvk("coordination.k8s.io/v1", "Lease")), "leases", "Lease");
	ok(kx_kind_by_gvk("v1", "Deployment") == NULL, "Deployment is not in the core group");
	ok(kx_kind_by_gvk("apps/v2", "Deployment") == NULL, "unknown version");
	ok(kx_kind_by_gvk("apps/v1", "deployment") == NULL, "kind is case-sensitive");
	ok(kx_kind_by_gvk(NULL, "Pod") == NULL, "NULL apiVersion");
	is_str(res(kx_kind_by_resource("", "v1", "pods")), "pods", "by resource, core");
	is_str(res(kx_kind_by_resource(NULL, "v1", "pods")), "pods", "by resource, NULL group");
	is_str(res(kx_kind_by_resource("apps", "v1", "replicasets")), "replicasets", "by resource, apps");
	ok(kx_kind_by_resource("", "v1", "deployments") == NULL, "deployments not in core");
}

static void test_table(void)
{
	int pods = 0;

	for (size_t i = 0; i < kx_kinds_count; i++) {
		const kx_kind *k = &kx_kinds[i];
		ok(k->kind && *k->kind && k->resource && *k->resource && k->singular && *k->singular &&
		       k->verbs && *k->verbs && k->shortnames && k->subresources && k->categories,
		   "row %zu (%s) complete", i, k->kind ? k->kind : "?");
		if (!strcmp(k->resource, "pods"))
			pods = strstr(k->subresources, "binding") && strstr(k->subresources, "status") &&
			       !strcmp(k->categories, "all");
	}
	ok(pods, "pods have binding and status, category all");
	ok(!kx_kind_lookup("ns")->namespaced && kx_kind_lookup("cm")->namespaced, "scopes");
	ok(strstr(kx_kind_lookup("deploy")->subresources, "scale") != NULL, "deployments/scale");
	is_str(kx_kind_lookup("binding")->verbs, "create", "bindings are create-only");
}

static void test_path(void)
{
	kx_buf b = KX_BUF_INIT;
	char av[64];

	kx_kind_path(&b, kx_kind_lookup("deploy"), "ns1", "web", "scale");
	is_str(kx_buf_str(&b), "/apis/apps/v1/namespaces/ns1/deployments/web/scale", "object subresource path");
	kx_buf_reset(&b);
	kx_kind_path(&b, kx_kind_lookup("po"), NULL, NULL, NULL);
	is_str(kx_buf_str(&b), "/api/v1/pods", "all namespaces");
	kx_buf_reset(&b);
	kx_kind_path(&b, kx_kind_lookup("po"), "default", NULL, NULL);
	is_str(kx_buf_str(&b), "/api/v1/namespaces/default/pods", "one namespace");
	kx_buf_reset(&b);
	kx_kind_path(&b, kx_kind_lookup("ns"), "ignored", "kube-system", NULL);
	is_str(kx_buf_str(&b), "/api/v1/namespaces/kube-system", "cluster-scoped ignores ns");
	kx_buf_free(&b);
	is_str(kx_kind_api_version(kx_kind_lookup("rs"), av, sizeof av), "apps/v1", "apps/v1");
	is_str(kx_kind_api_version(kx_kind_lookup("svc"), av, sizeof av), "v1", "v1");
}

int main(void)
{
	test_lookup();
	test_gvk();
	test_table();
	test_path();
	return done_testing();
}
