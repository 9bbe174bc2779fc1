/* Unit tests of lib/patch (JSON merge patch, JSON patch) and lib/validate
 * (Kubernetes' name rules). */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "patch.h"
#include "tap.h"
#include "validate.h"

static jv J(const char *s)
{
	kx_err e = KX_ERR_INIT;
	return kx_json_parse(s, strlen(s), &e);
}

static char *S(jv v)
{
	static char buf[1024];
	char *s;

	if (!jv_is_valid(v)) {
		jv_free(v);
		return "(invalid)";
	}
	s = kx_json_dump(v, 0);
	snprintf(buf, sizeof buf, "%s", s);
	free(s);
	return buf;
}

static void merge(const char *target, const char *patch, const char *want, const char *name)
{
	is_str(S(kx_patch_merge(J(target), J(patch))), want, "merge: %s", name);
}

static void jpatch(const char *doc, const char *ops, const char *want, const char *name)
{
	kx_err e = KX_ERR_INIT;
	is_str(S(kx_patch_json(J(doc), J(ops), &e)), want, "json patch: %s", name);
}

static void test_merge(void)
{
	/* the examples of RFC 7386 */
	merge("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}", "replace");
	merge("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}", "add");
	merge("{\"a\":\"b\"}", "{\"a\":null}", "{}", "null deletes");
	merge("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}", "delete one of two");
	merge("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}", "array replaced by string");
	merge("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}", "string replaced by array");
	merge("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}", "nested");
	merge("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}", "arrays are replaced whole");
	merge("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]", "array target");
	merge("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]", "array patch");
	merge("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}", "existing null kept");
	merge("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}", "object patch on array");
	merge("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}", "deep create");
}

static void test_json_patch(void)
{
	kx_err e = KX_ERR_INIT;

	jpatch("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
	       "{\"foo\":\"bar\",\"baz\":\"qux\"}", "add a member");
	jpatch("{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
	       "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "insert into an array");
	jpatch("{\"foo\":[1]}", "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":2}]", "{\"foo\":[1,2]}", "append with -");
	jpatch("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}", "remove a member");
	jpatch("{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
	       "{\"foo\":[\"bar\",\"baz\"]}", "remove from an array");
	jpatch("{\"baz\":\"qux\"}", "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]", "{\"baz\":\"boo\"}", "replace");
	jpatch("{\"a\":{\"b\":1},\"c\":{}}", "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"/c/d\"}]",
	       "{\"a\":{},\"c\":{\"d\":1}}", "move");
	jpatch("{\"a\":[1,2]}", "[{\"op\":\"copy\",\"from\":\"/a/0\",\"path\":\"/a/-\"}]", "{\"a\":[1,2,1]}", "copy");
	jpatch("{\"a\":{\"b\":[1]}}", "[{\"op\":\"test\",\"path\":\"/a/b\",\"value\":[1]}]", "{\"a\":{\"b\":[1]}}", "test passes");
	jpatch("{\"a/b\":1,\"m~n\":2}", "[{\"op\":\"replace\",\"path\":\"/a~1b\",\"value\":3},{\"op\":\"remove\",\"path\":\"/m~0n\"}]",
	       "{\"a/b\":3}", "escaped ~1 and ~0");
	jpatch("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[2]}]", "[2]", "replace the whole document");
	/* failures */
	jpatch("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", "(invalid)", "a failing test fails");
	jpatch("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]", "(invalid)", "replace of a missing member fails");
	jpatch("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", "(invalid)", "remove of a missing member fails");
	jpatch("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":2}]", "(invalid)", "index past the end fails");
	jpatch("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":2}]", "(invalid)", "leading zero index fails");
	jpatch("{\"a\":1}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", "(invalid)", "unknown op fails");
	jpatch("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", "(invalid)", "path without / fails");
	jpatch("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\"}]", "(invalid)", "add without value fails");
	jpatch("{\"a\":1}", "{\"op\":\"add\"}", "(invalid)", "ops must be an array");
	jpatch("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":1},{\"op\":\"remove\",\"path\":\"/zz\"}]", "(invalid)",
	       "one failing op fails the whole patch");
	jv r = kx_patch_json(J("{}"), J("[{\"op\":\"remove\",\"path\":\"/x\"}]"), &e);
	ok(!jv_is_valid(r) && strstr(e.msg, "remove") && strstr(e.msg, "/x"), "the error names the op and path: %s", e.msg);
	jv_free(r);
}

static void test_validate(void)
{
	ok(!kx_validate_dns1123_subdomain("web-1.example"), "subdomain ok");
	ok(kx_validate_dns1123_subdomain("Web") != NULL, "upper case refused");
	ok(kx_validate_dns1123_subdomain("web_1") != NULL, "underscore refused");
	ok(kx_validate_dns1123_subdomain("-web") != NULL, "leading dash refused");
	ok(kx_validate_dns1123_subdomain("web.") != NULL, "trailing dot refused");
	ok(kx_validate_dns1123_subdomain("") != NULL, "empty refused");
	char big[300];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	is_str(kx_validate_dns1123_subdomain(big), "must be no more than 253 characters", "too long");
	ok(!kx_validate_dns1123_label("kube-system"), "label ok");
	ok(kx_validate_dns1123_label("a.b") != NULL, "a dot is not in a label");
	big[64] = 0;
	ok(kx_validate_dns1123_label(big) != NULL, "64 characters is too long for a label");
	ok(!kx_validate_dns1035_label("svc-1"), "DNS-1035 ok");
	ok(kx_validate_dns1035_label("1svc") != NULL, "DNS-1035 must start with a letter");
	ok(strstr(kx_validate_dns1123_subdomain("A"), "RFC 1123 subdomain") != NULL, "Kubernetes' wording");
}

int main(void)
{
	test_merge();
	test_json_patch();
	test_validate();
	return done_testing();
}
