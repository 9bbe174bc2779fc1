/* Unit tests of kx-proxy-sync's decide step: objects -> model -> ruleset
 * text and ipvsadm-restore text (compared with expected files under
 * tests/unit/proxy-data/), and the diff between two rulesets.
 * Set KX_UPDATE_EXPECTED=1 to rewrite the expected files after a deliberate
 * change (and read the diff before committing them). */
#include <stdlib.h>

#include "../../cmd/proxy-sync/model.c"
#include "../../cmd/proxy-sync/rules.c"
#include "../../cmd/proxy-sync/diff.c"
#include "../../cmd/proxy-sync/ipvs.c"

#include "buf.h"
#include "err.h"
#include "input.h"
#include "json.h"
#include "tap.h"

static char dir[1024];

static jv load(const char *name)
{
	char path[1200];
	kx_err e = KX_ERR_INIT;
	jv v;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	v = kx_input_load(path, &e);
	if (!jv_is_valid(v))
		printf("# cannot load %s: %s\n", path, e.msg);
	return v;
}

/* Compare got with the expected file (or write it when asked to). */
static void is_file(const char *got, const char *name, const char *what)
{
	char path[1200];
	kx_buf want = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (getenv("KX_UPDATE_EXPECTED")) {
		FILE *f = fopen(path, "w");
		if (f) {
			fputs(got, f);
			fclose(f);
		}
	}
	if (kx_buf_read_file(&want, path, 1 << 20, &e) < 0) {
		ok(0, "%s: cannot read %s: %s", what, path, e.msg);
		return;
	}
	int same = !strcmp(got, kx_buf_str(&want));
	ok(same, "%s (%s)", what, name);
	if (!same) {
		/* show the first differing line */
		const char *a = got, *b = kx_buf_str(&want);
		int line = 1;
		while (*a && *a == *b) {
			if (*a == '\n')
				line++;
			a++, b++;
		}
		printf("#   first difference at line %d:\n#   got:  %.80s\n#   want: %.80s\n", line, a, b);
	}
	kx_buf_free(&want);
}

static px_opts opts_n1(void)
{
	px_opts o = {"n1", "10.244.0.0/16", "", NULL, 0};
	return o;
}

static void test_model(void)
{
	px_model m;
	kx_err e = KX_ERR_INIT;
	px_opts o = opts_n1();

	ok(px_model_build(&m, load("services.json"), &o, &e) == 0, "model from a List");
	/* drain, dual(4), dual(6), elsewhere, empty, local, web, kube-system/dns */
	is_int(m.n, 8, "one entry per service and family; headless and ExternalName skipped");
	for (size_t i = 0; i < m.n; i++) {
		px_svc *s = &m.svcs[i];
		if (!strcmp(s->name, "web")) {
			is_int(s->ports[0].neps, 2, "web: only ready endpoints, slices over Endpoints");
			is_str(s->ports[0].eps[0].addr, "10.244.0.2", "endpoints sorted by address");
			is_int(s->ports[0].eps[0].port, 8080, "endpoint port from the slice");
			ok(s->ports[0].eps[1].local && !s->ports[0].eps[0].local, "local: nodeName is --node");
			is_int(s->lb, PX_LB_RR, "kx.io/lb: rr");
			is_str(s->ipvs_sched, "lc", "kx.io/ipvs-scheduler: lc");
			is_int(s->ports[0].nodeport, 30080, "nodePort");
			is_int(s->next, 1, "externalIPs");
		} else if (!strcmp(s->name, "drain")) {
			is_int(s->ports[0].neps, 1, "none ready: the serving terminating endpoint is used");
			is_str(s->ports[0].eps[0].addr, "10.244.1.1", "and not the one that stopped serving");
			is_int(s->ports[0].proto, PX_SCTP, "SCTP");
		} else if (!strcmp(s->name, "dns")) {
			is_int(s->affinity, 60, "ClientIP affinity timeout");
			is_int(s->ports[0].neps, 1, "Endpoints: notReadyAddresses are not used");
		} else if (!strcmp(s->name, "dual") && s->family == 6) {
			is_str(s->cluster_ip, "fd00::50", "the IPv6 cluster IP");
			is_str(s->ports[0].eps[0].addr, "fd00::50", "IPv6 endpoints from the IPv6 slice, canonical");
		} else if (!strcmp(s->name, "local")) {
			is_int(s->next, 1, "load balancer ingress IPs are external IPs");
			ok(s->itp_local && s->etp_local, "traffic policies Local");
		}
	}
	px_model_free(&m);

	/* bad input: named, and nothing half done */
	const char *bad = "[{\"kind\":\"Service\",\"metadata\":{\"name\":\"x\",\"namespace\":\"a\"},"
			  "\"spec\":{\"clusterIP\":\"10.1.2\",\"ports\":[{\"port\":80}]}}]";
	jv objs = kx_json_parse(bad, strlen(bad), &e);
	is_int(px_model_build(&m, objs, &o, &e), -1, "a bad clusterIP is an error");
	is_str(e.msg, "service \"a/x\": bad clusterIP \"10.1.2\"", "which names the service and the value");
	kx_err_clear(&e);
	is_int(px_model_build(&m, jv_string("x"), &o, &e), -1, "not a list is an error");
	const char *noname = "[{\"kind\":\"Service\",\"metadata\":{\"namespace\":\"a\"}}]";
	is_int(px_model_build(&m, kx_json_parse(noname, strlen(noname), &e), &o, &e), -1,
	       "a service without a name is an error");
	const char *badport = "[{\"kind\":\"Service\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"clusterIP\":"
			      "\"10.0.0.1\",\"ports\":[{\"port\":70000},{\"port\":1,\"protocol\":\"ICMP\"},{\"port\":2}]}}]";
	ok(px_model_build(&m, kx_json_parse(badport, strlen(badport), &e), &o, &e) == 0 && m.n == 1 &&
		   m.svcs[0].nports == 1 && m.nwarn == 2,
	   "bad ports are skipped with a warning, good ones kept");
	px_model_free(&m);
}

static px_ruleset *build(const char *file, int family, const px_opts *o, px_model *m)
{
	kx_err e = KX_ERR_INIT;

	if (px_model_build(m, load(file), o, &e) < 0)
		return NULL;
	return px_rules_build(m, family, o);
}

static void test_render(void)
{
	px_model m;
	px_opts o = opts_n1();
	kx_buf b = KX_BUF_INIT;
	px_ruleset *r = build("services.json", 4, &o, &m);

	ok(r != NULL, "ruleset built");
	px_render_nft(&b, r);
	is_file(kx_buf_str(&b), "services.nft", "IPv4 ruleset as nft -f text");
	px_ruleset_free(r);
	kx_buf_reset(&b);
	r = px_rules_build(&m, 6, &o);
	px_render_nft(&b, r);
	is_file(kx_buf_str(&b), "services6.nft", "IPv6 ruleset (table ip6 kx)");
	px_ruleset_free(r);
	kx_buf_reset(&b);
	px_render_ipvs(&b, &m, &o);
	is_file(kx_buf_str(&b), "services.ipvs", "ipvsadm-restore text");
	px_model_free(&m);

	/* --nodeport-addresses: a set of addresses instead of fib local */
	char *ips[] = {"192.168.1.5", "fd00::5"};
	o.nodeport_ips = ips;
	o.nnodeport_ips = 2;
	r = build("services.json", 4, &o, &m);
	kx_buf_reset(&b);
	px_render_nft(&b, r);
	ok(strstr(b.p, "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports") &&
		   strstr(b.p, "elements = { 192.168.1.5 }") && !strstr(b.p, "fd00::5"),
	   "--nodeport-addresses: node ports only on those addresses, of the table's family");
	kx_buf_reset(&b);
	px_render_ipvs(&b, &m, &o);
	ok(strstr(b.p, "-A -t 192.168.1.5:30080 -s lc") != NULL, "ipvs: node ports on the node's addresses");
	px_ruleset_free(r);
	px_model_free(&m);
	kx_buf_free(&b);
}

/* Replace the first occurrence of from with to in a copy of s. */
static char *subst(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	kx_buf b = KX_BUF_INIT;

	if (!p)
		return strdup(s);
	kx_buf_add(&b, s, (size_t)(p - s));
	kx_buf_adds(&b, to);
	kx_buf_adds(&b, p + strlen(from));
	return kx_buf_steal(&b);
}

static px_ruleset *build_text(const char *text, const px_opts *o, px_model *m)
{
	kx_err e = KX_ERR_INIT;
	jv v = kx_input_parse(text, strlen(text), "test", &e);

	if (!jv_is_valid(v) || px_model_build(m, v, o, &e) < 0) {
		printf("# %s\n", e.msg);
		return NULL;
	}
	return px_rules_build(m, 4, o);
}

/* The kernel's view of r: one fragment holding everything, each chain
 * with the hash its comment or its "versions" element gives, but the
 * chains named with forget_prefix, whose version the kernel lost. */
static px_ruleset *flatten(const px_ruleset *r, const char *forget_prefix)
{
	px_ruleset *flat = px_ruleset_new(4);
	px_frag *f = px_frag_new("");

	for (size_t i = 0; i < r->n; i++) {
		px_frag *g = r->frags[i];
		for (size_t j = 0; j < g->nchains; j++) {
			px_chain *ch = px_frag_chain(f, g->chains[j].name);
			int forget = forget_prefix &&
				     !strncmp(ch->name, forget_prefix, strlen(forget_prefix));
			ch->hook = g->chains[j].hook;
			ch->hash = forget ? 0 : g->chains[j].hash;
		}
		for (size_t j = 0; j < g->nsets; j++)
			px_frag_set(f, g->sets[j].name, g->sets[j].kind, g->sets[j].timeout);
		for (size_t j = 0; j < g->nelems; j++)
			px_frag_elem(f, g->elems[j].set, g->elems[j].addr, g->elems[j].proto,
				     g->elems[j].port, g->elems[j].verdict);
	}
	px_ruleset_add(flat, f);
	return flat;
}

static void test_diff(void)
{
	px_opts o = opts_n1();
	px_model m1, m2, m3;
	kx_buf b = KX_BUF_INIT, text = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	px_ops ops;
	char path[1200];

	snprintf(path, sizeof path, "%s/services.json", dir);
	kx_buf_read_file(&text, path, 1 << 20, &e);
	px_ruleset *a = build_text(text.p, &o, &m1);
	px_ruleset *a2 = build_text(text.p, &o, &m2);

	px_diff(&ops, a, a2);
	is_int(ops.n, 0, "nothing changed: no operations");
	px_ops_free(&ops);

	px_diff(&ops, NULL, a);
	ok(ops.n > 0 && ops.ops[0].kind == OP_ADD_TABLE, "from nothing: the table first");
	int order_ok = 1;
	for (size_t i = 1; i < ops.n; i++)
		order_ok &= ops.ops[i - 1].kind <= ops.ops[i].kind;
	ok(order_ok, "operations in batch order");
	px_ops_free(&ops);

	/* one endpoint of web goes from 10.244.0.3 to 10.244.0.5 */
	char *t2 = subst(text.p, "\"10.244.0.3\"", "\"10.244.0.5\"");
	px_ruleset *c = build_text(t2, &o, &m3);
	px_diff(&ops, a, c);
	px_ops_render(&b, &ops);
	is_file(kx_buf_str(&b), "change-endpoint.ops", "one endpoint changed: only that service's chains and element");
	px_ops_free(&ops);
	free(t2);

	/* and back, through the kernel's view: one fragment holding everything */
	px_ruleset *flat = flatten(a, NULL);
	px_diff(&ops, flat, a);
	is_int(ops.n, 0, "against the kernel's view of the same table: no operations");
	px_ops_free(&ops);
	px_diff(&ops, flat, c);
	kx_buf_reset(&b);
	px_ops_render(&b, &ops);
	is_file(kx_buf_str(&b), "change-endpoint.ops", "and the same operations for a change");
	px_ops_free(&ops);

	px_ruleset_free(flat);
	px_ruleset_free(a);
	px_ruleset_free(a2);
	px_ruleset_free(c);
	px_model_free(&m1);
	px_model_free(&m2);
	px_model_free(&m3);
	kx_buf_free(&b);
	kx_buf_free(&text);
}

static void test_rules(void)
{
	kx_buf b = KX_BUF_INIT;
	px_rule r = {.kind = RK_MAP_DNAT, .set = "endpoints", .proto = PX_TCP, .lb = PX_LB_RANDOM,
		     .mod = 3, .hi = 1, .lo = 2};

	px_render_rule(&b, 4, &r);
	is_str(b.p, "meta l4proto tcp dnat ip to numgen random mod 1 offset 1 . numgen random mod 1 "
		    "offset 2 . numgen random mod 3 map @endpoints",
	       "random: the chain's id and numgen random, one lookup in the endpoints map");
	kx_buf_reset(&b);
	r.lb = PX_LB_SH;
	r.seed = 0xabc;
	px_render_rule(&b, 6, &r);
	is_str(b.p, "meta l4proto tcp dnat ip6 to numgen random mod 1 offset 1 . numgen random mod 1 "
		    "offset 2 . jhash ip6 saddr mod 3 seed 0xabc map @endpoints",
	       "sh: jhash of the client address");
	kx_buf_reset(&b);
	px_rule d = {.kind = RK_DNAT, .addr = "fd00::1", .proto = PX_UDP, .port = 53};
	px_render_rule(&b, 6, &d);
	is_str(b.p, "meta l4proto udp dnat to [fd00::1]:53", "IPv6 DNAT with a port");
	kx_buf_reset(&b);
	px_rule g = {.kind = RK_NG_DNAT, .mod = 2, .set = "aff-x", .addr = "10.0.0.1", .proto = PX_TCP,
		     .port = 80};
	px_render_rule(&b, 4, &g);
	is_str(b.p, "numgen random mod 2 0 update @aff-x { ip saddr } meta l4proto tcp dnat to 10.0.0.1:80",
	       "affinity: the rule that picks records the client, and DNATs, with no goto");
	kx_buf_free(&b);
}

/* How many ops of a kind. */
static size_t count_ops(const px_ops *ops, int kind)
{
	size_t n = 0;

	for (size_t i = 0; i < ops->n; i++)
		n += ops->ops[i].kind == kind;
	return n;
}

/* What the kernel sees when endpoints come and go: no chain is made or
 * pointed at anew, and a hairpin pair two services share stays. */
static void test_layout(void)
{
	px_opts o = opts_n1();
	px_model m1, m2, m3;
	px_ops ops;
	const char *one =
		"{\"kind\":\"List\",\"items\":["
		"{\"kind\":\"Service\",\"metadata\":{\"name\":\"a\",\"namespace\":\"d\"},"
		"\"spec\":{\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":80}]}},"
		"{\"kind\":\"Service\",\"metadata\":{\"name\":\"b\",\"namespace\":\"d\"},"
		"\"spec\":{\"clusterIP\":\"10.96.0.2\",\"ports\":[{\"port\":80}]}},"
		"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"a1\",\"namespace\":\"d\","
		"\"labels\":{\"kubernetes.io/service-name\":\"a\"}},\"addressType\":\"IPv4\","
		"\"ports\":[{\"port\":8080}],\"endpoints\":[{\"addresses\":[\"10.244.0.2\"]},"
		"{\"addresses\":[\"10.244.0.3\"]}]},"
		"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"b1\",\"namespace\":\"d\","
		"\"labels\":{\"kubernetes.io/service-name\":\"b\"}},\"addressType\":\"IPv4\","
		"\"ports\":[{\"port\":8080}],\"endpoints\":[{\"addresses\":[\"10.244.0.2\"]}]}]}";
	px_ruleset *a = build_text(one, &o, &m1);

	/* a's 10.244.0.3 moves to 10.244.0.9 */
	char *t = subst(one, "10.244.0.3", "10.244.0.9");
	px_ruleset *moved = build_text(t, &o, &m2);
	free(t);
	px_diff(&ops, a, moved);
	ok(ops.n == 6 && count_ops(&ops, OP_DEL_ELEM) == 3 && count_ops(&ops, OP_ADD_ELEM) == 3,
	   "an endpoint moves: its endpoints element, hairpin pair and the state change, nothing else");
	px_ops_free(&ops);

	/* a loses 10.244.0.2, which b still has */
	t = subst(one, "{\"addresses\":[\"10.244.0.2\"]},", "");
	px_ruleset *fewer = build_text(t, &o, &m3);
	free(t);
	px_diff(&ops, a, fewer);
	kx_buf b = KX_BUF_INIT;
	px_ops_render(&b, &ops);
	ok(count_ops(&ops, OP_REPLACE_CHAIN) == 1 && count_ops(&ops, OP_ADD_RULES) == 1 &&
		   count_ops(&ops, OP_ADD_CHAIN) == 0 && count_ops(&ops, OP_DEL_CHAIN) == 0,
	   "an endpoint goes: the service chain is refilled in place, no chain made or deleted");
	ok(!strstr(b.p, "hairpin"), "and the hairpin pair b still uses stays");
	ok(!strstr(b.p, "service-ips"), "and the service-ips element is left alone");
	kx_buf_free(&b);
	px_ops_free(&ops);

	/* the kernel's view of a chain with no element in versions: refilled */
	px_ruleset *flat = flatten(a, "svc-");
	px_diff(&ops, flat, a);
	ok(count_ops(&ops, OP_REPLACE_CHAIN) == 2 && count_ops(&ops, OP_ADD_RULES) == 2 &&
		   ops.n == 4,
	   "a regular chain whose version the kernel does not hold is refilled");
	px_ops_free(&ops);

	px_ruleset_free(flat);
	px_ruleset_free(a);
	px_ruleset_free(moved);
	px_ruleset_free(fewer);
	px_model_free(&m1);
	px_model_free(&m2);
	px_model_free(&m3);
}

int main(void)
{
	const char *top = getenv("KX_TOP");

	snprintf(dir, sizeof dir, "%s/tests/unit/proxy-data", top ? top : ".");
	test_model();
	test_rules();
	test_render();
	test_diff();
	test_layout();
	return done_testing();
}
