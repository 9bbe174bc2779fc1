/* Unit tests of strategic merge patch: keyed lists, sets, directives. */
#include <stdlib.h>

#include "err.h"
#include "json.h"
#include "smp.h"
#include "tap.h"

static void check(const char *kind, const char *orig, const char *patch, const char *want,
		  const char *name)
{
	kx_err e = KX_ERR_INIT;
	jv got = kx_smp_apply(jv_parse(orig), jv_parse(patch), kind, &e);
	jv w = jv_parse(want);

	if (!jv_is_valid(got)) {
		ok(0, "%s (error: %s)", name, e.msg);
		jv_free(w);
		return;
	}
	char *gs = kx_json_dump(jv_copy(got), 0), *ws = kx_json_dump(jv_copy(w), 0);
	if (!ok(jv_equal(got, w), "%s", name))
		printf("#   got:  %s\n#   want: %s\n", gs, ws);
	free(gs);
	free(ws);
}

int main(void)
{
	check("Deployment",
	      "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x:1\"},{\"name\":\"b\",\"image\":\"y:1\"}]}}}}",
	      "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"y:2\"}]}}}}",
	      "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x:1\"},{\"name\":\"b\",\"image\":\"y:2\"}]}}}}",
	      "containers merge by name: only b's image changes");
	check("Pod",
	      "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"}]}]}}",
	      "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":443}]}]}}",
	      "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"},{\"containerPort\":443}]}]}}",
	      "container ports merge by containerPort: a new port is appended");
	check("Service",
	      "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}]}}",
	      "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}",
	      "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}",
	      "service ports merge by port");
	check("Pod",
	      "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
	      "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"}]}}",
	      "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}",
	      "$patch: delete removes one element by key");
	check("Pod",
	      "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
	      "{\"spec\":{\"containers\":[{\"name\":\"c\"},{\"$patch\":\"replace\"}]}}",
	      "{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}",
	      "$patch: replace in a list replaces it whole");
	check("Pod",
	      "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
	      "{\"metadata\":{\"finalizers\":[\"b\",\"c\"]}}",
	      "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
	      "finalizers merge as a set");
	check("Pod",
	      "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
	      "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}}",
	      "{\"metadata\":{\"finalizers\":[\"b\"]}}",
	      "$deleteFromPrimitiveList removes from a set");
	check("Pod",
	      "{\"spec\":{\"tolerations\":[{\"key\":\"a\"}],\"nodeSelector\":{\"x\":\"1\",\"y\":\"2\"}}}",
	      "{\"spec\":{\"tolerations\":[{\"key\":\"b\"}],\"nodeSelector\":{\"x\":null}}}",
	      "{\"spec\":{\"tolerations\":[{\"key\":\"b\"}],\"nodeSelector\":{\"y\":\"2\"}}}",
	      "lists without a strategy are replaced; null deletes a key");
	check("Pod",
	      "{\"spec\":{\"nodeSelector\":{\"x\":\"1\"}}}",
	      "{\"spec\":{\"nodeSelector\":{\"$patch\":\"replace\",\"z\":\"3\"}}}",
	      "{\"spec\":{\"nodeSelector\":{\"z\":\"3\"}}}",
	      "$patch: replace in a map replaces it");
	check("Deployment",
	      "{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1}}}}",
	      "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}",
	      "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}",
	      "$retainKeys drops the keys not listed");
	check("Pod",
	      "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
	      "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}",
	      "{\"spec\":{\"containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}",
	      "$setElementOrder reorders");
	check("ConfigMap", "{\"data\":{\"a\":\"1\"}}", "{\"data\":{\"b\":\"2\"}}",
	      "{\"data\":{\"a\":\"1\",\"b\":\"2\"}}", "an unkeyed kind merges like a merge patch");
	check("Node",
	      "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":\"DiskPressure\",\"status\":\"False\"}]}}",
	      "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}]}}",
	      "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"},{\"type\":\"DiskPressure\",\"status\":\"False\"}]}}",
	      "node conditions merge by type");

	kx_err e = KX_ERR_INIT;
	jv bad = kx_smp_apply(jv_parse("{}"), jv_parse("{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}"), "Pod", &e);
	ok(!jv_is_valid(bad) && strstr(e.msg, "merge key \"name\""), "an element without its merge key is refused: %s", e.msg);
	bad = kx_smp_apply(jv_parse("{}"), jv_parse("{\"$patch\":\"frobnicate\"}"), "Pod", &e);
	ok(!jv_is_valid(bad) && strstr(e.msg, "frobnicate"), "an unknown $patch is refused: %s", e.msg);
	bad = kx_smp_apply(jv_parse("{}"), jv_parse("[1]"), "Pod", &e);
	ok(!jv_is_valid(bad), "a patch that is not an object is refused");
	return done_testing();
}
