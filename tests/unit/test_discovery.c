/* Unit tests of kx-store's discovery (cmd/store/discovery.c): which form an
 * Accept header asks for, and the aggregated document's shape, which is
 * derived from the same kinds table as the plain one. */
#include <stdlib.h>
#include <string.h>

#include "../../cmd/store/discovery.c"
#include "json.h"
#include "tap.h"

#define KUBECTL_ACCEPT                                                                             \
	"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"                    \
	"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"               \
	"application/json"

static void test_form(void)
{
	is_int(discovery_form(KUBECTL_ACCEPT), DISC_V2, "kubectl 1.30's Accept gets v2");
	is_int(discovery_form(
	           "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"),
	       DISC_V2BETA1, "an older client gets v2beta1");
	is_int(discovery_form(
	           "application/json; g=apidiscovery.k8s.io ;as=APIGroupDiscoveryList; v=v3,"
	           " application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io"),
	       DISC_V2, "parameters in any order and with spaces; an unknown version is skipped");
	is_int(discovery_form("application/json, */*"), DISC_PLAIN,
	       "a plain client gets the plain form");
	is_int(discovery_form(NULL), DISC_PLAIN, "no Accept: plain");
	is_int(discovery_form("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"),
	       DISC_PLAIN, "a form kx-store does not have for discovery is skipped");
	is_int(discovery_form(
	           "application/"
	           "vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
	       DISC_PLAIN, "protobuf is not served: plain JSON");
	is_str(discovery_ctype(DISC_V2),
	       "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
	       "the v2 answer says so in its Content-Type");
}

static const char *S(jv v)
{
	static char buf[8192];
	char *s = kx_json_dump(v, 0);
	snprintf(buf, sizeof buf, "%s", s);
	free(s);
	return buf;
}

static void test_aggregated(void)
{
	jv core = discovery_aggregated(1, DISC_V2);
	jv apis = discovery_aggregated(0, DISC_V2BETA1);

	is_str(S(kx_jv_get(jv_copy(core), "apiVersion")), "\"apidiscovery.k8s.io/v2\"",
	       "/api: v2 list");
	is_int(jv_array_length(kx_jv_get(jv_copy(core), "items")), 1,
	       "/api holds the core group only");
	is_str(S(kx_jv_get(jv_copy(core), "items.0.metadata")), "{\"creationTimestamp\":null}",
	       "the core group has no name");
	jv pods = jv_null();
	jv res = kx_jv_get(jv_copy(core), "items.0.versions.0.resources");
	jv_array_foreach(res, i, r)
	{
		char b[64];
		if (!strcmp(kx_jv_str(r, "resource", b, sizeof b, ""), "pods")) {
			jv_free(pods);
			pods = r;
		} else {
			jv_free(r);
		}
	}
	jv_free(res);
	is_str(S(kx_jv_get(jv_copy(pods), "scope")), "\"Namespaced\"", "pods are namespaced");
	is_str(S(kx_jv_get(jv_copy(pods), "shortNames")), "[\"po\"]", "with their short name");
	is_str(S(kx_jv_get(jv_copy(pods), "categories")), "[\"all\"]", "and category");
	is_str(S(kx_jv_get(jv_copy(pods), "responseKind")),
	       "{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"}",
	       "and the kind they answer with");
	is_str(S(kx_jv_get(jv_copy(pods), "subresources.0")),
	       "{\"subresource\":\"binding\",\"responseKind\":{\"group\":\"\",\"version\":\"v1\","
	       "\"kind\":\"Binding\"},"
	       "\"verbs\":[\"create\"]}",
	       "subresources are inside their resource");
	jv_free(pods);
	is_str(S(kx_jv_get(jv_copy(apis), "apiVersion")), "\"apidiscovery.k8s.io/v2beta1\"",
	       "/apis: v2beta1 when asked");
	is_str(S(kx_jv_get(jv_copy(apis), "items.0.metadata.name")), "\"apps\"",
	       "groups in table order");
	is_str(S(kx_jv_get(jv_copy(apis), "items.0.versions.0.freshness")), "\"Current\"",
	       "versions are Current (a Stale one is skipped by clients)");
	is_str(S(kx_jv_get(jv_copy(apis),
	                   "items.0.versions.0.resources.0.subresources.0.responseKind.kind")),
	       "\"Scale\"", "deployments/scale answers with autoscaling Scale");
	jv_free(core);
	jv_free(apis);

	jv plain = discovery_resources("", "v1");
	is_str(S(kx_jv_get(jv_copy(plain), "groupVersion")), "\"v1\"",
	       "the plain list is still served");
	jv_free(plain);
	ok(!jv_is_valid(discovery_resources("apps", "v9")), "an unknown version is invalid (404)");
	ok(!jv_is_valid(discovery_group("")), "the core group is not under /apis");
}

int main(void)
{
	test_form();
	test_aggregated();
	return done_testing();
}
