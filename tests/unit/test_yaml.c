/* Unit tests of YAML reading and writing (lib/yaml.c). */
#include <stdlib.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "tap.h"
#include "yaml.h"

/* Parse yaml and compare the array of documents with want_json. */
static void docs(const char *yaml, const char *want_json, const char *what)
{
	kx_err e = KX_ERR_INIT;
	jv got = kx_yaml_parse(yaml, strlen(yaml), "t.yaml", &e);

	if (!jv_is_valid(got)) {
		ok(0, "%s", what);
		printf("#   error: %s\n", e.msg);
		jv_free(got);
		return;
	}
	jv want = jv_parse(want_json);
	if (!jv_is_valid(want))
		printf("#   BAD TEST JSON: %s\n", want_json);
	char *g = kx_json_dump(jv_copy(got), 0);
	if (!ok(kx_jv_equal(got, want), "%s", what))
		printf("#          got: %s\n#     expected: %s\n", g, want_json);
	free(g);
}

/* One document with one value: "v: <scalar>" gives {"v": want}. */
static void scalar(const char *text, const char *want_json)
{
	char yaml[256], want[256], what[300];

	snprintf(yaml, sizeof yaml, "v: %s\n", text);
	snprintf(want, sizeof want, "[{\"v\":%s}]", want_json);
	snprintf(what, sizeof what, "scalar %s -> %s", text, want_json);
	docs(yaml, want, what);
}

static void bad(const char *yaml, const char *errpart, const char *what)
{
	kx_err e = KX_ERR_INIT;
	jv got = kx_yaml_parse(yaml, strlen(yaml), "t.yaml", &e);

	ok(!jv_is_valid(got) && strstr(e.msg, errpart), "%s: %s", what, e.msg);
	jv_free(got);
}

static void test_scalars(void)
{
	scalar("hello", "\"hello\"");
	scalar("hello world", "\"hello world\"");
	scalar("~", "null");
	scalar("null", "null");
	scalar("Null", "null");
	scalar("NULL", "null");
	scalar("", "null");
	scalar("nULL", "\"nULL\"");
	scalar("true", "true");
	scalar("True", "true");
	scalar("TRUE", "true");
	scalar("tRUE", "\"tRUE\"");
	scalar("false", "false");
	scalar("yes", "true");
	scalar("Yes", "true");
	scalar("YES", "true");
	scalar("y", "\"y\"");
	scalar("Y", "\"Y\"");
	scalar("no", "false");
	scalar("n", "\"n\"");
	scalar("on", "true");
	scalar("On", "true");
	scalar("off", "false");
	scalar("OFF", "false");
	scalar("oN", "\"oN\"");
	scalar("0", "0");
	scalar("42", "42");
	scalar("-17", "-17");
	scalar("+17", "17");
	scalar("1_000", "1000");
	scalar("0x1F", "31");
	scalar("0X1f", "31");
	scalar("-0x10", "-16");
	scalar("0o17", "15");
	scalar("0644", "420");
	scalar("0b101", "5");
	scalar("-0b101", "-5");
	scalar("08", "8");
	scalar("0x", "\"0x\"");
	scalar("0xG", "\"0xG\"");
	scalar("9223372036854775807", "9223372036854775807");
	scalar("18446744073709551615", "18446744073709551615");
	scalar("1.5", "1.5");
	scalar("-1.5", "-1.5");
	scalar("1.", "1");
	scalar(".5", "0.5");
	scalar("+.5", "0.5");
	scalar("1e3", "1000");
	scalar("1E-2", "0.01");
	scalar("1_000.5", "1000.5");
	scalar("1e400", "\"1e400\"");
	scalar("1.2.3", "\"1.2.3\"");
	scalar("1:20", "\"1:20\"");
	scalar("+", "\"+\"");
	scalar("-a", "\"-a\"");
	scalar(".", "\".\"");
	scalar("._5", "\"._5\"");
	scalar("2001-12-14", "\"2001-12-14\"");
	scalar("2001-12-14T21:59:43.10Z", "\"2001-12-14T21:59:43.10Z\"");
	scalar("\"123\"", "\"123\"");
	scalar("'true'", "\"true\"");
	scalar("\"\"", "\"\"");
	scalar("''", "\"\"");
	scalar("'it''s'", "\"it's\"");
	scalar("\"a\\tb\\u00e9\\n\"", "\"a\\tb\\u00e9\\n\"");
	scalar("!!str 123", "\"123\"");
	scalar("!!int \"42\"", "42");
	scalar("!!float 1", "1");
	scalar("!!bool yes", "true");
	scalar("!!null ''", "null");
	scalar("!custom 5", "\"5\"");
	scalar("!!binary aGVsbG8=", "\"hello\"");
	scalar("!!timestamp 2001-12-14", "\"2001-12-14\"");
	scalar("<<", "\"<<\"");
	scalar("a:b", "\"a:b\"");
}

static void test_documents(void)
{
	docs("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: web\n"
	     "spec:\n  containers:\n  - name: web\n    image: nginx:1.25\n    ports:\n"
	     "    - containerPort: 80\n      protocol: TCP\n    args: [\"-g\", 'daemon off;']\n",
	     "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":"
	     "{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\","
	     "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],\"args\":[\"-g\",\"daemon off;\"]}]}}]",
	     "a Pod manifest");
	docs("", "[]", "empty stream");
	docs("# just a comment\n", "[]", "comment only");
	docs("---\n---\n...\n---\n# c\n", "[]", "empty documents are skipped");
	docs("a: 1\n---\nb: 2\n", "[{\"a\":1},{\"b\":2}]", "two documents");
	docs("---\na: 1\n---\n---\nb: 2\n...\n", "[{\"a\":1},{\"b\":2}]", "empty document between");
	docs("--- null\n--- ~\n---\nx\n", "[\"x\"]", "null documents are skipped");
	docs("- 1\n- two\n-\n- [a, b]\n- {c: d}\n", "[[1,\"two\",null,[\"a\",\"b\"],{\"c\":\"d\"}]]",
	     "a sequence with flow collections");
	docs("a: {b: [1, 2, {c: d}], e: f}\n", "[{\"a\":{\"b\":[1,2,{\"c\":\"d\"}],\"e\":\"f\"}}]",
	     "nested flow collections");
	docs("a: 1 # comment\n# another\nb: 'x # not a comment'\n",
	     "[{\"a\":1,\"b\":\"x # not a comment\"}]", "comments");
	docs("1: a\n0x10: b\ntrue: c\nyes: d\n1.5: e\n1e3: f\n~x: g\n",
	     "[{\"1\":\"a\",\"16\":\"b\",\"true\":\"d\",\"1.5\":\"e\",\"1000\":\"f\",\"~x\":\"g\"}]",
	     "keys become strings");
	docs("1e6: a\n0.1: b\n.inf: c\n", "[{\"1e+06\":\"a\",\"0.1\":\"b\",\".inf\":\"c\"}]",
	     "float keys as Go writes them");
	docs("y: 1\nn: [y, N]\n", "[{\"y\":1,\"n\":[\"y\",\"N\"]}]", "one-letter y and n stay strings");
	docs("a: 1\na: 2\n", "[{\"a\":2}]", "a repeated key: the last wins");
	docs("{\"a\": 1,\t\"b\": [true, null]}\n{\"c\": 2}",
	     "[{\"a\":1,\"b\":[true,null]},{\"c\":2}]", "a JSON stream with tabs");
	docs("{a: 1, b: yes}\n", "[{\"a\":1,\"b\":true}]", "flow YAML that is not JSON");
	docs("\xef\xbb\xbf" "a: b\n", "[{\"a\":\"b\"}]", "a byte order mark");
	docs("%YAML 1.1\n---\na: b\n", "[{\"a\":\"b\"}]", "a YAML directive");
	docs("plain\n  continued\n", "[\"plain continued\"]", "multi-line plain scalar");
	docs("a: \"line one\n  line two\"\n", "[{\"a\":\"line one line two\"}]", "multi-line quoted");
}

static void test_block_scalars(void)
{
	docs("a: |\n  one\n  two\n\nb: x\n", "[{\"a\":\"one\\ntwo\\n\",\"b\":\"x\"}]", "literal, clip");
	docs("a: |-\n  one\n  two\n\n\nb: x\n", "[{\"a\":\"one\\ntwo\",\"b\":\"x\"}]", "literal, strip");
	docs("a: |+\n  one\n  two\n\n\nb: x\n", "[{\"a\":\"one\\ntwo\\n\\n\\n\",\"b\":\"x\"}]",
	     "literal, keep");
	docs("a: >\n  one\n  two\n\n  three\n", "[{\"a\":\"one two\\nthree\\n\"}]", "folded, clip");
	docs("a: >-\n  one\n  two\n", "[{\"a\":\"one two\"}]", "folded, strip");
	docs("a: >+\n  one\n\n", "[{\"a\":\"one\\n\\n\"}]", "folded, keep");
	docs("a: |2\n    indented\n  base\n", "[{\"a\":\"  indented\\nbase\\n\"}]", "indentation indicator");
	docs("a: |1-\n  x\n", "[{\"a\":\" x\"}]", "indentation and chomping");
	docs("a: >\n  one\n    more\n  two\n", "[{\"a\":\"one\\n  more\\ntwo\\n\"}]",
	     "folded keeps more-indented lines");
	docs("script: |\n  #!/bin/sh\n  echo \"hi: there\" # not a comment\n",
	     "[{\"script\":\"#!/bin/sh\\necho \\\"hi: there\\\" # not a comment\\n\"}]", "literal keeps # and :");
	docs("- |\n  a\n- b\n", "[[\"a\\n\",\"b\"]]", "literal in a sequence");
	docs("a: !!int |-\n  42\n", "[{\"a\":42}]", "tagged block scalar");
	bad("a: !!int |\n  42\n", "as a !!int", "tagged block scalar with its newline");
}

static void test_anchors(void)
{
	docs("a: &x {b: 1}\nc: *x\n", "[{\"a\":{\"b\":1},\"c\":{\"b\":1}}]", "alias of a mapping");
	docs("a: &s hello\nb: *s\n", "[{\"a\":\"hello\",\"b\":\"hello\"}]", "alias of a scalar");
	docs("- &a 1\n- *a\n- &a 2\n- *a\n", "[[1,1,2,2]]", "an anchor redefined");
	docs("base: &base\n  a: 1\n  b: 2\nderived:\n  <<: *base\n  b: 3\n  c: 4\n",
	     "[{\"base\":{\"a\":1,\"b\":2},\"derived\":{\"a\":1,\"b\":3,\"c\":4}}]", "merge key");
	docs("x: &x {a: 1}\nyy: &y {a: 2, b: 2}\nz:\n  <<: [*x, *y]\n  c: 3\n",
	     "[{\"x\":{\"a\":1},\"yy\":{\"a\":2,\"b\":2},\"z\":{\"a\":1,\"b\":2,\"c\":3}}]",
	     "merge of a list: earlier maps win");
	docs("x: &x {a: 1}\nz:\n  a: 0\n  <<: *x\n", "[{\"x\":{\"a\":1},\"z\":{\"a\":0}}]",
	     "explicit keys win even before <<");
	docs("z:\n  <<: {a: 1}\n", "[{\"z\":{\"a\":1}}]", "merge of an inline map");
	docs("z:\n  \"<<\": {a: 1}\n", "[{\"z\":{\"<<\":{\"a\":1}}}]", "quoted << is a plain key");
	docs("k: &k key\n*k : v\n", "[{\"k\":\"key\",\"key\":\"v\"}]", "alias as a key");
	docs("a: &a 1\n---\nb: &a 2\nc: *a\n", "[{\"a\":1},{\"b\":2,\"c\":2}]", "anchors per document");

	bad("a: *nope\n", "t.yaml:1:4: unknown anchor \"nope\"", "unknown alias");
	bad("a: &a [*a]\n", "contains itself", "recursive alias");
	bad("z:\n  <<: 5\n", "map merge requires", "merge of a scalar");
	bad("z:\n  <<: [{a: 1}, 2]\n", "map merge requires", "merge of a list with a scalar");

	/* billion laughs: 10 levels of 10 aliases */
	kx_buf b = KX_BUF_INIT;
	kx_buf_adds(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 10; i++) {
		kx_buf_addf(&b, "a%d: &a%d [", i, i);
		for (int j = 0; j < 10; j++)
			kx_buf_addf(&b, "%s*a%d", j ? ", " : "", i - 1);
		kx_buf_adds(&b, "]\n");
	}
	bad(b.p, "excessive aliasing", "alias bomb refused");
	kx_buf_free(&b);
}

static void test_errors(void)
{
	bad("a: b: c\n", "t.yaml:1:5: mapping values are not allowed", "mapping value in a scalar");
	bad("a:\n  - b\n  c: d\n", "t.yaml:3:3:", "a key after a sequence item");
	bad("a: [1, 2\n", "t.yaml:2:1:", "unclosed flow sequence");
	bad("a: \"unterminated\n", "found unexpected end of stream", "unterminated quote");
	bad("a:\n\t- b\n", "t.yaml:2:1: found character that cannot start any token",
	    "tab indentation");
	bad("a: 1\n b: 2\n", "t.yaml:2:3:", "bad indentation");
	bad("a: \xff\n", "t.yaml:1:4: invalid leading UTF-8 octet", "invalid UTF-8");
	bad("a: .inf\n", "t.yaml:1:4: .inf cannot be represented in JSON", ".inf value");
	bad("- .nan\n", ".nan cannot be represented in JSON", ".nan value");
	docs("[1, nan, NaN]\n", "[[1,\"nan\",\"NaN\"]]", "jq's nan is not JSON: YAML reads a string");
	bad("? [a, b]\n: c\n", "sequence cannot be a mapping key", "complex key");
	bad("~: c\n", "null mapping key", "null key");
	bad(": c\n", "did not find expected key", "empty key");
	bad("a: !!int abc\n", "cannot decode !!str `abc` as a !!int", "tag mismatch");
	bad("a: !!binary '%%%'\n", "invalid base64", "bad base64");
	docs("a: &a\n", "[{\"a\":null}]", "an anchor on nothing");

	kx_err e = KX_ERR_INIT;
	kx_buf b = KX_BUF_INIT;
	for (int i = 0; i < 1100; i++)
		kx_buf_addc(&b, '[');
	jv v = kx_yaml_parse(b.p, b.len, "deep.yaml", &e);
	ok(!jv_is_valid(v) && strstr(e.msg, "deep.yaml:1:") && strstr(e.msg, "nested more than"),
	   "depth limit: %s", e.msg);
	jv_free(v);
	kx_buf_free(&b);

	v = kx_yaml_parse("a: 1\n", (64u << 20) + 1, "big.yaml", &e);
	ok(!jv_is_valid(v) && strstr(e.msg, "big.yaml: larger than"), "size limit: %s", e.msg);
	jv_free(v);
}

static void dump_is(const char *json, const char *want, const char *what)
{
	kx_buf b = KX_BUF_INIT;
	jv v = jv_parse(json);

	if (!jv_is_valid(v))
		printf("#   BAD TEST JSON: %s\n", json);
	ok(kx_yaml_dump_buf(&b, v) == 0, "dump %s", what);
	is_str(kx_buf_str(&b), want, "  %s", what);
	kx_buf_free(&b);
}

static void test_dump(void)
{
	dump_is("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":"
		"{\"app\":\"web\"},\"annotations\":{}},\"spec\":{\"containers\":[{\"name\":\"web\","
		"\"image\":\"nginx\",\"ports\":[{\"containerPort\":80}],\"args\":[\"-g\",\"daemon off;\"],"
		"\"env\":[]}],\"nodeSelector\":null}}",
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata:\n"
		"  name: web\n"
		"  labels:\n"
		"    app: web\n"
		"  annotations: {}\n"
		"spec:\n"
		"  containers:\n"
		"  - name: web\n"
		"    image: nginx\n"
		"    ports:\n"
		"    - containerPort: 80\n"
		"    args:\n"
		"    - -g\n"
		"    - daemon off;\n"
		"    env: []\n"
		"  nodeSelector: null\n",
		"a Pod as kubectl -o yaml writes it, keys in order");
	dump_is("{\"a\":\"true\",\"b\":\"123\",\"c\":\"\",\"d\":\"yes\",\"e\":\"null\",\"f\":\"1.5\","
		"\"g\":\"0x1F\",\"h\":\"~\",\"i\":\"1:20\",\"j\":\"2023-01-02T03:04:05Z\",\"k\":\"2023-01-02\","
		"\"l\":\"<<\",\"m\":\"y\",\"o\":\"1e3\",\"n\":\"x\"}",
		"a: \"true\"\nb: \"123\"\nc: \"\"\nd: \"yes\"\ne: \"null\"\nf: \"1.5\"\ng: \"0x1F\"\n"
		"h: \"~\"\ni: \"1:20\"\nj: \"2023-01-02T03:04:05Z\"\nk: \"2023-01-02\"\nl: \"<<\"\n"
		"m: \"y\"\no: \"1e3\"\n\"n\": x\n",
		"strings that read back as something else are double-quoted (y and n for YAML 1.1 readers)");
	dump_is("{\"a\":\"a: b\",\"b\":\"- x\",\"c\":\"#x\",\"d\":\" lead\",\"e\":\"trail \",\"f\":\"*x\","
		"\"g\":\"&x\",\"h\":\"x #y\",\"i\":\"[x]\",\"j\":\"{x}\",\"k\":\"@x\",\"l\":\"%x\",\"m\":\"!x\","
		"\"n\":\"it's\",\"o\":\"|x\",\"p\":\">x\",\"q\":\"'x'\",\"r\":\"\\\"x\\\"\"}",
		"a: 'a: b'\nb: '- x'\nc: '#x'\nd: ' lead'\ne: 'trail '\nf: '*x'\ng: '&x'\nh: 'x #y'\n"
		"i: '[x]'\nj: '{x}'\nk: '@x'\nl: '%x'\nm: '!x'\n\"n\": it's\no: '|x'\np: '>x'\nq: '''x'''\n"
		"r: '\"x\"'\n",
		"strings with indicators are quoted by the emitter");
	dump_is("{\"a\":\"-c\",\"b\":\"http://x:80/y\",\"c\":\"a-b_c.d\",\"d\":\"nginx:1.25\",\"e\":\"héllo\","
		"\"f\":\"10%\",\"g\":\"a,b\"}",
		"a: -c\nb: http://x:80/y\nc: a-b_c.d\nd: nginx:1.25\ne: héllo\nf: 10%\ng: a,b\n",
		"ordinary strings stay plain");
	dump_is("{\"script\":\"#!/bin/sh\\necho hi\\n\",\"strip\":\"a\\nb\",\"keep\":\"a\\n\\n\"}",
		"script: |\n  #!/bin/sh\n  echo hi\nstrip: |-\n  a\n  b\nkeep: |+\n  a\n\n",
		"multi-line strings as literal blocks");
	dump_is("{\"a\":1,\"b\":-2,\"c\":1.5,\"d\":0.1,\"e\":1e+20,\"f\":1234567.5,\"g\":1e-7,\"h\":0,"
		"\"i\":true,\"j\":false,\"k\":null,\"l\":9007199254740993}",
		"a: 1\nb: -2\nc: 1.5\nd: 0.1\ne: 1e+20\nf: 1.2345675e+06\ng: 1e-07\nh: 0\ni: true\n"
		"j: false\nk: null\nl: 9007199254740992\n",
		"numbers and literals");
	dump_is("[[1,2],[],{},{\"a\":[{\"b\":[{\"c\":1}]}]}]",
		"- - 1\n  - 2\n- []\n- {}\n- a:\n  - b:\n    - c: 1\n", "nested sequences");
	dump_is("{\"true\":1,\"123\":2,\"\":3,\"a b\":4}", "\"true\": 1\n\"123\": 2\n\"\": 3\na b: 4\n",
		"keys are quoted like strings");
	dump_is("\"just a string\"", "just a string\n", "a root scalar");
	dump_is("{}", "{}\n", "an empty object");
	dump_is("{\"a\":\"x\\ty\\u0001\"}", "a: \"x\\ty\\x01\"\n", "control characters are escaped");

	char long_s[300];
	memset(long_s, 'x', sizeof long_s - 1);
	long_s[sizeof long_s - 1] = 0;
	long_s[100] = ' ';
	kx_buf b = KX_BUF_INIT;
	kx_yaml_dump_buf(&b, JV_OBJECT(jv_string("k"), jv_string(long_s)));
	ok(b.len == strlen(long_s) + 4 && strchr(b.p, '\n') == b.p + b.len - 1,
	   "long strings are not folded");
	kx_buf_free(&b);

	b.max = 16;
	kx_buf_adds(&b, "keep");
	ok(kx_yaml_dump_buf(&b, jv_parse("{\"metadata\":{\"name\":\"a-long-name\"}}")) == -1,
	   "a full buffer fails");
	is_str(kx_buf_str(&b), "keep", "  and keeps what it held");
	kx_buf_free(&b);
}

static void roundtrip(const char *json)
{
	kx_buf b = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	jv v = jv_parse(json);

	if (!jv_is_valid(v)) {
		printf("#   BAD TEST JSON: %s\n", json);
		ok(0, "round trip");
		return;
	}
	kx_yaml_dump_buf(&b, jv_copy(v));
	jv back = kx_yaml_parse(b.p ? b.p : "", b.len, "rt", &e);
	int good = jv_is_valid(back) && jv_array_length(jv_copy(back)) == 1 &&
		   kx_jv_equal(jv_array_get(jv_copy(back), 0), jv_copy(v));
	if (!ok(good, "round trip %.60s", json))
		printf("# yaml:\n%s# error: %s\n", kx_buf_str(&b), e.msg);
	jv_free(back);
	jv_free(v);
	kx_buf_free(&b);
}

static void test_roundtrip(void)
{
	const char *shapes[] = {
		"{\"a\":1}",
		"{\"a\":{\"b\":{\"c\":[1,2,{\"d\":[]}]}}}",
		"[1,[2,[3,[4]]],{},[]]",
		"{\"s\":[\"true\",\"false\",\"yes\",\"no\",\"on\",\"off\",\"y\",\"n\",\"null\",\"~\",\"\","
		"\"1\",\"-1\",\"+1\",\"0x10\",\"0o7\",\"0b1\",\"017\",\"1_0\",\"1.5\",\".5\",\"1e3\",\".inf\","
		"\"-.inf\",\".nan\",\"<<\",\"1:20\",\"2020-01-01\",\"2020-01-01 10:00:00\"]}",
		"{\"s\":[\" \",\"  a\",\"a  \",\"\\n\",\"\\n\\n\",\"a\\n\",\"\\na\",\" a\\nb\",\"a\\n \",\"\\t\","
		"\"a\\tb\\n\",\"x\\r\\ny\",\"\\u0000\",\"é\\u2028\",\"- a\",\"? a\",\": a\",\"a:\",\"#\",\"a #b\","
		"\"'\",\"\\\"\",\"\\\\\",\"{\",\"}\",\"[\",\"]\",\",\",\"&a\",\"*a\",\"!a\",\"|\",\">\",\"%\","
		"\"@\",\"`\",\"---\",\"...\",\"--- a\",\"a\\n---\\nb\",\"a\\n...\\n\"]}",
		"{\"numbers\":[0,1,-1,0.5,-0.25,1e-10,123456789,1e+300,3.141592653589793,4294967296]}",
		"{\"true\":1,\"123\":2,\"\":3,\"a: b\":4,\"- x\":5,\"multi\\nline\":6,\"null\":7}",
		"{\"data\":{\"config.yaml\":\"a: 1\\nb:\\n  - c\\n\",\"script.sh\":\"#!/bin/sh\\nexit 0\\n\"}}",
		"{\"x\":[[[[[[[[[[\"deep\"]]]]]]]]]]}",
		"[{\"a\":[{\"b\":[]},{}]},[[]],[{}]]",
		"\"root string\"",
		"[\"a\\n\"]",
		"{\"k\":\"a  b\\n  c  \\n\"}",
	};

	for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
		roundtrip(shapes[i]);
}

int main(void)
{
	test_scalars();
	test_documents();
	test_block_scalars();
	test_anchors();
	test_errors();
	test_dump();
	test_roundtrip();
	return done_testing();
}
