/* Unit tests of label and field selectors (lib/selector.c). */
#include <stdlib.h>

#include "err.h"
#include "selector.h"
#include "tap.h"

/* Parse s and compare its canonical string with want (NULL: must fail,
 * and the error must contain errpart). */
static void canon(const char *s, const char *want, const char *errpart)
{
	kx_err e = KX_ERR_INIT;
	kx_selector *sel = kx_selector_parse(s, &e);

	if (!want) {
		ok(sel == NULL, "\"%s\" is refused", s);
		ok(errpart && strstr(e.msg, errpart), "  with a message naming it: %s", e.msg);
		kx_selector_free(sel);
		return;
	}
	if (!ok(sel != NULL, "\"%s\" parses", s)) {
		printf("#   error: %s\n", e.msg);
		return;
	}
	char *got = kx_selector_string(sel);
	is_str(got, want, "\"%s\" canonical form", s);
	free(got);
	kx_selector_free(sel);
}

static int matches(const char *s, const char *labels_json)
{
	kx_err e = KX_ERR_INIT;
	kx_selector *sel = kx_selector_parse(s, &e);
	jv l = jv_parse(labels_json);
	int r;

	if (!sel) {
		printf("# parse error: %s\n", e.msg);
		jv_free(l);
		return -1;
	}
	r = kx_selector_match(sel, l);
	jv_free(l);
	kx_selector_free(sel);
	return r;
}

static void test_parse(void)
{
	canon("", "", NULL);
	canon("   ", "", NULL);
	canon("app=web", "app=web", NULL);
	canon("app==web", "app==web", NULL);
	canon("app = web", "app=web", NULL);
	canon(" app=web , tier!=db ", "app=web,tier!=db", NULL);
	canon("tier!=db,app=web", "app=web,tier!=db", NULL);
	canon("env in (prod, staging)", "env in (prod,staging)", NULL);
	canon("env in (staging,prod,prod)", "env in (prod,staging)", NULL);
	canon("env notin (dev)", "env notin (dev)", NULL);
	canon("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()", NULL);
	canon("x in (,a)", "x in (,a)", NULL);
	canon("x in (a,)", "x in (,a)", NULL);
	canon("gpu", "gpu", NULL);
	canon("!gpu", "!gpu", NULL);
	canon("! gpu", "!gpu", NULL);
	canon("a=", "a=", NULL);
	canon("a=,b!=", "a=,b!=", NULL);
	canon("x in (in),in=notin", "in=notin,x in (in)", NULL);
	canon("example.com/app=web", "example.com/app=web", NULL);
	canon("a.b_c-d=A.b_c-9", "a.b_c-d=A.b_c-9", NULL);
	canon("n>3,m<10", "m<10,n>3", NULL);
	canon("b=1,a=2,b=3", "a=2,b=1,b=3", NULL);

	canon("app=web,", NULL, "expected: identifier after ','");
	canon(",app=web", NULL, "expected: !, identifier");
	canon("app=web tier", NULL, "found 'tier', expected: ',' or 'end of string'");
	canon("app web", NULL, "unable to parse requirement");
	canon("app==", "app==", NULL);
	canon("app=(x)", NULL, "found '(', expected: identifier");
	canon("env in prod", NULL, "expected: '('");
	canon("env in (prod", NULL, "expected: ',' or ')'");
	canon("env in (a b)", NULL, "found 'b'");
	canon("env in", NULL, "expected: '('");
	canon("!", NULL, "expected: identifier");
	canon("!a=b", NULL, "unable to parse requirement");
	canon("a=b=c", NULL, "found '='");
	canon("-app=web", NULL, "invalid label key \"-app\"");
	canon("app=-web", NULL, "invalid label value \"-web\"");
	canon("Example.com/app=web", NULL, "prefix part a lowercase RFC 1123 subdomain");
	canon("/app=web", NULL, "prefix part must be non-empty");
	canon("a/b/c=d", NULL, "at most one '/'");
	canon("example.com/=x", NULL, "name part must be non-empty");
	canon("a234567890123456789012345678901234567890123456789012345678901234=x", NULL,
	      "no more than 63 characters");
	canon("a=a234567890123456789012345678901234567890123456789012345678901234", NULL,
	      "no more than 63 characters");
	canon("a23456789012345678901234567890123456789012345678901234567890123=x",
	      "a23456789012345678901234567890123456789012345678901234567890123=x", NULL);
	canon("n>x", NULL, "must be an integer");
	canon("n>", NULL, "must be an integer");
	canon("app=we$b", NULL, "invalid label value");

	kx_err e = KX_ERR_INIT;
	kx_selector *s = kx_selector_parse("app=web tier", &e);
	ok(!s && strstr(e.msg, "invalid label selector \"app=web tier\""), "error names the selector: %s",
	   e.msg);
}

static void test_match(void)
{
	const char *l = "{\"app\":\"web\",\"tier\":\"front\",\"n\":\"5\",\"empty\":\"\"}";

	is_int(matches("", l), 1, "empty selects everything");
	is_int(matches("", "null"), 1, "empty selects objects without labels");
	is_int(matches("app=web", l), 1, "= matches");
	is_int(matches("app==web", l), 1, "== matches");
	is_int(matches("app=db", l), 0, "= mismatch");
	is_int(matches("app!=db", l), 1, "!= matches another value");
	is_int(matches("app!=web", l), 0, "!= refuses the value");
	is_int(matches("nosuch!=web", l), 1, "!= matches an absent key");
	is_int(matches("nosuch=", l), 0, "= \"\" needs the key");
	is_int(matches("empty=", l), 1, "= \"\" matches an empty value");
	is_int(matches("app in (db,web)", l), 1, "in matches");
	is_int(matches("app in (db)", l), 0, "in mismatch");
	is_int(matches("nosuch in (db)", l), 0, "in needs the key");
	is_int(matches("app notin (db)", l), 1, "notin matches");
	is_int(matches("app notin (web)", l), 0, "notin refuses");
	is_int(matches("nosuch notin (web)", l), 1, "notin matches an absent key");
	is_int(matches("app", l), 1, "exists");
	is_int(matches("nosuch", l), 0, "exists refuses absent");
	is_int(matches("!nosuch", l), 1, "!key matches absent");
	is_int(matches("!app", l), 0, "!key refuses present");
	is_int(matches("app=web,tier=front", l), 1, "all requirements hold");
	is_int(matches("app=web,tier=back", l), 0, "one requirement fails");
	is_int(matches("n>4", l), 1, "gt");
	is_int(matches("n>5", l), 0, "gt strict");
	is_int(matches("n<6", l), 1, "lt");
	is_int(matches("app>1", l), 0, "gt with a non-number label");
	is_int(matches("app=web", "null"), 0, "= on no labels");
	is_int(matches("!app", "null"), 1, "!key on no labels");
}

static void test_from_jv(void)
{
	kx_err e = KX_ERR_INIT;
	kx_selector *s;
	char *str;
	jv l;

	s = kx_selector_from_jv(jv_null(), &e);
	ok(s && kx_selector_empty(s), "null LabelSelector is empty");
	kx_selector_free(s);
	s = kx_selector_from_jv(jv_parse("{}"), &e);
	ok(s && kx_selector_empty(s), "{} LabelSelector is empty");
	kx_selector_free(s);

	s = kx_selector_from_jv(jv_parse("{\"matchLabels\":{\"tier\":\"front\",\"app\":\"web\"},"
					 "\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\","
					 "\"values\":[\"prod\",\"dev\"]},{\"key\":\"gpu\",\"operator\":"
					 "\"DoesNotExist\"},{\"key\":\"zone\",\"operator\":\"Exists\"},"
					 "{\"key\":\"x\",\"operator\":\"NotIn\",\"values\":[\"1\"]}]}"),
				&e);
	if (!ok(s != NULL, "LabelSelector with labels and expressions"))
		printf("# %s\n", e.msg);
	str = s ? kx_selector_string(s) : NULL;
	is_str(str, "app=web,env in (dev,prod),!gpu,tier=front,x notin (1),zone", "its canonical form");
	free(str);
	l = jv_parse("{\"app\":\"web\",\"tier\":\"front\",\"env\":\"dev\",\"zone\":\"a\"}");
	ok(s && kx_selector_match(s, l), "matches");
	l = jv_object_set(l, jv_string("gpu"), jv_string("yes"));
	ok(s && !kx_selector_match(s, l), "DoesNotExist refuses");
	jv_free(l);
	kx_selector_free(s);

	s = kx_selector_from_jv(jv_parse("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\","
					 "\"values\":[\"1\"]}]}"), &e);
	ok(!s && strstr(e.msg, "\"Gt\" is not a valid label selector operator"), "unknown operator: %s",
	   e.msg);
	s = kx_selector_from_jv(jv_parse("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\","
					 "\"values\":[]}]}"), &e);
	ok(!s && strstr(e.msg, "can't be empty"), "In without values: %s", e.msg);
	s = kx_selector_from_jv(jv_parse("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
					 "\"Exists\",\"values\":[\"x\"]}]}"), &e);
	ok(!s && strstr(e.msg, "must be empty"), "Exists with values: %s", e.msg);
	s = kx_selector_from_jv(jv_parse("{\"matchLabels\":{\"a\":1}}"), &e);
	ok(!s && strstr(e.msg, "\"a\" must be a string"), "non-string label value: %s", e.msg);
	s = kx_selector_from_jv(jv_parse("{\"matchLabels\":{\"a b\":\"c\"}}"), &e);
	ok(!s && strstr(e.msg, "invalid label key \"a b\""), "bad key: %s", e.msg);
	s = kx_selector_from_jv(jv_parse("{\"matchExpressions\":[{\"operator\":\"Exists\"}]}"), &e);
	ok(!s && strstr(e.msg, "matchExpressions[0].key"), "missing key: %s", e.msg);
	s = kx_selector_from_jv(jv_parse("{\"matchExpressions\":{}}"), &e);
	ok(!s && strstr(e.msg, "must be a list"), "expressions not a list: %s", e.msg);
	s = kx_selector_from_jv(jv_parse("[1]"), &e);
	ok(!s, "not an object: %s", e.msg);

	s = kx_selector_from_map(jv_parse("{\"b\":\"2\",\"a\":\"1\"}"), &e);
	str = s ? kx_selector_string(s) : NULL;
	is_str(str, "a=1,b=2", "from a plain map");
	free(str);
	l = jv_parse("{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}");
	ok(s && kx_selector_match(s, l), "map selector matches a superset");
	jv_free(l);
	kx_selector_free(s);
	s = kx_selector_from_map(jv_null(), &e);
	ok(s && kx_selector_empty(s), "null map is empty");
	kx_selector_free(s);
	s = kx_selector_from_map(jv_parse("{\"a\":null}"), &e);
	ok(!s && strstr(e.msg, "must be a string"), "map with a null value: %s", e.msg);
	s = kx_selector_from_map(jv_parse("\"a=b\""), &e);
	ok(!s, "map that is a string: %s", e.msg);
}

static void test_fieldsel(void)
{
	kx_err e = KX_ERR_INIT;
	jv pod = jv_parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
			  "\"spec\":{\"nodeName\":\"n1\",\"unschedulable\":true,\"n\":3},"
			  "\"status\":{\"phase\":\"a,b=c\\\\\"}}");
	static const char *const allowed[] = {"metadata.name", "spec.nodeName", "status.phase", NULL};
	struct {
		const char *sel;
		int match;
	} cases[] = {
		{"", 1},
		{"metadata.name=web", 1},
		{"metadata.name==web", 1},
		{"metadata.name!=web", 0},
		{"metadata.name=db", 0},
		{"metadata.name=web,spec.nodeName=n1", 1},
		{"metadata.name=web,spec.nodeName!=n1", 0},
		{"spec.nodeName!=", 1},
		{"spec.nosuch=", 1},
		{"spec.nosuch!=", 0},
		{"spec.unschedulable=true", 1},
		{"spec.n=3", 1},
		{"status.phase=a\\,b\\=c\\\\", 1},
		{",metadata.name=web,", 1},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		kx_fieldsel *f = kx_fieldsel_parse(cases[i].sel, &e);
		if (!ok(f != NULL, "field selector \"%s\" parses", cases[i].sel)) {
			printf("# %s\n", e.msg);
			continue;
		}
		is_int(kx_fieldsel_match(f, pod), cases[i].match, "  and matches: %d", cases[i].match);
		kx_fieldsel_free(f);
	}

	kx_fieldsel *f = kx_fieldsel_parse("metadata.name=web,spec.nodeName=x", &e);
	ok(kx_fieldsel_unsupported(f, allowed) == NULL, "all fields supported");
	kx_fieldsel_free(f);
	f = kx_fieldsel_parse("metadata.name=web,spec.replicas=x", &e);
	is_str(kx_fieldsel_unsupported(f, allowed), "spec.replicas", "names the unsupported field");
	kx_fieldsel_free(f);

	const char *bad[][2] = {
		{"metadata.name", "can't understand 'metadata.name'"},
		{"a=b=c", "unescaped character in value: ="},
		{"a=b\\x", "invalid escape sequence: \\x"},
		{"a=b\\", "invalid escape sequence"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		f = kx_fieldsel_parse(bad[i][0], &e);
		ok(!f && strstr(e.msg, bad[i][1]) && strstr(e.msg, "invalid field selector"),
		   "field selector \"%s\" refused: %s", bad[i][0], e.msg);
		kx_fieldsel_free(f);
	}
	jv_free(pod);
}

int main(void)
{
	test_parse();
	test_match();
	test_from_jv();
	test_fieldsel();
	return done_testing();
}
