/* Unit tests of kx-dns's decide step: objects -> index -> the records for
 * a question (dns_decide), and query messages -> reply messages
 * (dns_respond: FORMERR, truncation, EDNS0, the question's case). */
#include <stdlib.h>

#include "../../cmd/dns/index.c"
#include "../../cmd/dns/answer.c"

#include "buf.h"
#include "err.h"
#include "json.h"
#include "tap.h"

static const char objects[] = "["
	/* a ClusterIP service with a named and an unnamed port */
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
	" \"spec\":{\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"},{\"port\":81}]}},"
	/* a headless one with a slice: one endpoint named, one not, one not ready */
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"db\",\"namespace\":\"prod\"},"
	" \"spec\":{\"clusterIP\":\"None\",\"ports\":[{\"name\":\"pg\",\"port\":5432}]}},"
	"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"db-x\",\"namespace\":\"prod\",\"labels\":{\"kubernetes.io/service-name\":\"db\"}},"
	" \"addressType\":\"IPv4\",\"ports\":[{\"name\":\"pg\",\"port\":5433,\"protocol\":\"TCP\"}],"
	" \"endpoints\":[{\"addresses\":[\"10.244.1.5\"],\"hostname\":\"db-0\",\"conditions\":{\"ready\":true}},"
	"  {\"addresses\":[\"10.244.1.6\"],\"conditions\":{\"ready\":true}},"
	"  {\"addresses\":[\"10.244.1.7\"],\"conditions\":{\"ready\":false}}]},"
	/* a headless one publishing not-ready addresses, from Endpoints */
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"peers\",\"namespace\":\"prod\"},"
	" \"spec\":{\"clusterIP\":\"None\",\"publishNotReadyAddresses\":true}},"
	"{\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"peers\",\"namespace\":\"prod\"},"
	" \"subsets\":[{\"addresses\":[{\"ip\":\"10.244.3.1\",\"targetRef\":{\"kind\":\"Pod\",\"name\":\"peer-a\"}}],"
	"  \"notReadyAddresses\":[{\"ip\":\"10.244.3.2\"}]}]},"
	/* a headless one with no endpoints at all */
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"empty\",\"namespace\":\"prod\"},\"spec\":{\"clusterIP\":\"None\"}},"
	/* an alias, and an alias of an alias inside the zone */
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"ext\",\"namespace\":\"default\"},"
	" \"spec\":{\"type\":\"ExternalName\",\"externalName\":\"Example.ORG\"}},"
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"alias\",\"namespace\":\"default\"},"
	" \"spec\":{\"type\":\"ExternalName\",\"externalName\":\"web.default.svc.cluster.local.\"}},"
	/* dual stack */
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"v6\",\"namespace\":\"default\"},"
	" \"spec\":{\"clusterIP\":\"10.96.0.11\",\"clusterIPs\":[\"10.96.0.11\",\"fd00::b\"]}},"
	/* pods: running, failed, one whose hostname and subdomain name it in peers */
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.2.3\"}},"
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"gone\",\"namespace\":\"default\"},\"status\":{\"phase\":\"Failed\",\"podIP\":\"10.244.2.4\"}},"
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"peer-a\",\"namespace\":\"prod\"},\"spec\":{\"hostname\":\"alpha\",\"subdomain\":\"peers\"},"
	" \"status\":{\"phase\":\"Running\",\"podIPs\":[{\"ip\":\"10.244.3.1\"}]}},"
	/* not a DNS name: passed over */
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"bad name\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"10.96.0.99\"}},"
	/* other kinds are ignored */
	"{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"namespace\":\"default\"}}"
	"]";

static dns_index *index_of(const char *json, const char *zone)
{
	kx_err e = KX_ERR_INIT;
	jv objs = kx_json_parse(json, strlen(json), &e);
	dns_opts o = {zone, 5, 42};

	if (!jv_is_valid(objs))
		printf("# %s\n", e.msg);
	return dns_index_build(objs, &o);
}

/* The answer to name/type as text: "RCODE AA? | answer | authority | additional",
 * records one per line without TTL or class columns. */
static char got[16384];

static void section(kx_buf *b, ldns_rr_list *l)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		char *s = ldns_rr2str(ldns_rr_list_rr(l, i));
		char owner[300], ttl[16], cls[8], type[16];
		int off = 0;
		/* "owner ttl IN TYPE rdata" -> "owner TYPE rdata" */
		if (sscanf(s, "%299s %15s %7s %15s %n", owner, ttl, cls, type, &off) == 4) {
			size_t l = strlen(s);
			if (l && s[l - 1] == '\n')
				s[l - 1] = 0;
			kx_buf_addf(b, "%s%s %s %s", b->len && b->p[b->len - 1] != '|' ? "; " : " ", owner, type, s + off);
		}
		free(s);
	}
}

static const char *ask(const dns_index *ix, const char *name, ldns_rr_type type)
{
	ldns_rdf *q = ldns_dname_new_frm_str(name);
	dns_answer a;
	kx_buf b = KX_BUF_INIT;
	ldns_lookup_table *rc;

	dns_decide(ix, q, type, &a);
	ldns_rdf_deep_free(q);
	if (a.forward)
		kx_buf_adds(&b, "FORWARD");
	else {
		rc = ldns_lookup_by_id(ldns_rcodes, a.rcode);
		kx_buf_addf(&b, "%s%s |", rc ? rc->name : "?", a.authoritative ? " aa" : "");
		section(&b, a.an);
		kx_buf_adds(&b, " |");
		section(&b, a.ns);
		if (ldns_rr_list_rr_count(a.ar)) {
			kx_buf_adds(&b, " |");
			section(&b, a.ar);
		}
	}
	dns_answer_free(&a);
	snprintf(got, sizeof got, "%s", kx_buf_str(&b));
	kx_buf_free(&b);
	return got;
}

#define SOA " cluster.local. SOA ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 5"

/* name, type, the answer as ask() writes it, what the check shows */
static const struct qcase {
	const char *name;
	ldns_rr_type type;
	const char *want, *what;
} cases[] = {
#define A LDNS_RR_TYPE_A
#define AAAA LDNS_RR_TYPE_AAAA
#define SRV LDNS_RR_TYPE_SRV
#define PTR LDNS_RR_TYPE_PTR
#define CNAME LDNS_RR_TYPE_CNAME
#define TXT LDNS_RR_TYPE_TXT
#define SOA_T LDNS_RR_TYPE_SOA
#define NS LDNS_RR_TYPE_NS
#define ANY LDNS_RR_TYPE_ANY
	{"web.default.svc.cluster.local.", A,
	 "NOERROR aa | web.default.svc.cluster.local. A 10.96.0.10 |",
	 "ClusterIP service: A"},
	{"WeB.DeFault.SVC.cluster.LOCAL.", A,
	 "NOERROR aa | WeB.DeFault.SVC.cluster.LOCAL. A 10.96.0.10 |",
	 "names are matched in any case, and answered in the question's"},
	{"web.default.svc.cluster.local.", AAAA,
	 "NOERROR aa | |" SOA,
	 "another type: NODATA with the zone's SOA"},
	{"we\\.b.default.svc.cluster.local.", A,
	 "NXDOMAIN aa | |" SOA,
	 "a label with a dot in it is not two labels"},
	{"web\\000.default.svc.cluster.local.", A,
	 "NXDOMAIN aa | |" SOA,
	 "nor is one with a NUL byte the name without it"},
	{"nope.default.svc.cluster.local.", A,
	 "NXDOMAIN aa | |" SOA,
	 "a missing name: NXDOMAIN with the zone's SOA"},
	{"default.svc.cluster.local.", A,
	 "NOERROR aa | |" SOA,
	 "a namespace's name exists, without records"},
	{"bad name.default.svc.cluster.local.", A,
	 "NXDOMAIN aa | |" SOA,
	 "a service whose name is no DNS name is passed over"},
	{"_http._tcp.web.default.svc.cluster.local.", SRV,
	 "NOERROR aa | _http._tcp.web.default.svc.cluster.local. SRV 0 100 80 web.default.svc.cluster.local. |" " | web.default.svc.cluster.local. A 10.96.0.10",
	 "SRV of a named port, the target's address in the additional section"},
	{"_http._udp.web.default.svc.cluster.local.", SRV,
	 "NXDOMAIN aa | |" SOA,
	 "not with another protocol"},
	{"_tcp.web.default.svc.cluster.local.", SRV,
	 "NOERROR aa | |" SOA,
	 "the protocol's level exists"},
	{"10.0.96.10.in-addr.arpa.", PTR,
	 "NOERROR aa | 10.0.96.10.in-addr.arpa. PTR web.default.svc.cluster.local. |",
	 "PTR of a cluster IP"},
	{"v6.default.svc.cluster.local.", AAAA,
	 "NOERROR aa | v6.default.svc.cluster.local. AAAA fd00::b |",
	 "dual stack: AAAA"},
	{"v6.default.svc.cluster.local.", A,
	 "NOERROR aa | v6.default.svc.cluster.local. A 10.96.0.11 |",
	 "and A"},
	{"b.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", PTR,
	 "NOERROR aa | b.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR v6.default.svc.cluster.local. |",
	 "PTR of an IPv6 cluster IP"},
	{"v6.default.svc.cluster.local.", ANY,
	 "NOERROR aa | v6.default.svc.cluster.local. A 10.96.0.11; v6.default.svc.cluster.local. AAAA fd00::b |",
	 "ANY: every record of the name"},
	{"db.prod.svc.cluster.local.", A,
	 "NOERROR aa | db.prod.svc.cluster.local. A 10.244.1.5; db.prod.svc.cluster.local. A 10.244.1.6 |",
	 "headless: the ready endpoints' addresses"},
	{"db-0.db.prod.svc.cluster.local.", A,
	 "NOERROR aa | db-0.db.prod.svc.cluster.local. A 10.244.1.5 |",
	 "an endpoint's hostname"},
	{"10-244-1-6.db.prod.svc.cluster.local.", A,
	 "NOERROR aa | 10-244-1-6.db.prod.svc.cluster.local. A 10.244.1.6 |",
	 "an endpoint without a hostname: its address with dashes"},
	{"10-244-1-7.db.prod.svc.cluster.local.", A,
	 "NXDOMAIN aa | |" SOA,
	 "a not-ready endpoint has no name"},
	{"_pg._tcp.db.prod.svc.cluster.local.", SRV,
	 "NOERROR aa | _pg._tcp.db.prod.svc.cluster.local. SRV 0 50 5433 db-0.db.prod.svc.cluster.local.;" " _pg._tcp.db.prod.svc.cluster.local. SRV 0 50 5433 10-244-1-6.db.prod.svc.cluster.local. |" " | db-0.db.prod.svc.cluster.local. A 10.244.1.5; 10-244-1-6.db.prod.svc.cluster.local. A 10.244.1.6",
	 "headless SRV: one per ready endpoint, with the endpoint's port"},
	{"5.1.244.10.in-addr.arpa.", PTR,
	 "NOERROR aa | 5.1.244.10.in-addr.arpa. PTR db-0.db.prod.svc.cluster.local. |",
	 "PTR of an endpoint"},
	{"peers.prod.svc.cluster.local.", A,
	 "NOERROR aa | peers.prod.svc.cluster.local. A 10.244.3.1; peers.prod.svc.cluster.local. A 10.244.3.2 |",
	 "Endpoints when there are no slices; publishNotReadyAddresses publishes them all"},
	{"alpha.peers.prod.svc.cluster.local.", A,
	 "NOERROR aa | alpha.peers.prod.svc.cluster.local. A 10.244.3.1 |",
	 "a pod's hostname when its subdomain is the service"},
	{"empty.prod.svc.cluster.local.", A,
	 "NOERROR aa | |" SOA,
	 "no ready endpoints: NODATA, not NXDOMAIN (the service exists)"},
	{"ext.default.svc.cluster.local.", A,
	 "NOERROR aa | ext.default.svc.cluster.local. CNAME example.org. |",
	 "ExternalName: CNAME"},
	{"ext.default.svc.cluster.local.", CNAME,
	 "NOERROR aa | ext.default.svc.cluster.local. CNAME example.org. |",
	 "asked for the CNAME itself"},
	{"alias.default.svc.cluster.local.", A,
	 "NOERROR aa | alias.default.svc.cluster.local. CNAME web.default.svc.cluster.local.;" " web.default.svc.cluster.local. A 10.96.0.10 |",
	 "an alias inside the zone is followed"},
	{"10-244-2-3.default.pod.cluster.local.", A,
	 "NOERROR aa | 10-244-2-3.default.pod.cluster.local. A 10.244.2.3 |",
	 "a pod's record"},
	{"10-244-2-3.prod.pod.cluster.local.", A,
	 "NXDOMAIN aa | |" SOA,
	 "only in its own namespace"},
	{"10-244-2-4.default.pod.cluster.local.", A,
	 "NXDOMAIN aa | |" SOA,
	 "not for a pod that failed"},
	{"dns-version.cluster.local.", TXT,
	 "NOERROR aa | dns-version.cluster.local. TXT \"1.1.0\" |",
	 "dns-version TXT"},
	{"cluster.local.", SOA_T,
	 "NOERROR aa |" SOA " |",
	 "the zone's SOA"},
	{"cluster.local.", NS,
	 "NOERROR aa | cluster.local. NS ns.dns.cluster.local. |",
	 "and NS"},
	{"example.com.", A,
	 "FORWARD",
	 "a name outside the zone is forwarded"},
	{"local.", A,
	 "FORWARD",
	 "the zone's parent too"},
	{"xcluster.local.", A,
	 "FORWARD",
	 "and a name that only ends like the zone"},
	{"1.0.0.127.in-addr.arpa.", PTR,
	 "FORWARD",
	 "an address we do not know"},
#undef A
#undef AAAA
#undef SRV
#undef PTR
#undef CNAME
#undef TXT
#undef SOA_T
#undef NS
#undef ANY
};

static void test_cases(dns_index *ix)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_str(ask(ix, cases[i].name, cases[i].type), cases[i].want, "%s", cases[i].what);
	ok(ix->nwarn == 1 && strstr(ix->warnings[0], "bad name"), "a service whose name is no DNS name is passed over, with a warning");
	is_str(ask(NULL, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A), "SERVFAIL | |", "no index yet: SERVFAIL");
}

static void test_zone(void)
{
	dns_index *ix = index_of(objects, "Corp.Example.");
	is_str(ask(ix, "web.default.svc.corp.example.", LDNS_RR_TYPE_A),
	       "NOERROR aa | web.default.svc.corp.example. A 10.96.0.10 |", "another cluster domain");
	is_str(ask(ix, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A), "FORWARD", "cluster.local is not it then");
	dns_index_free(ix);
}

/* ------------------------------------------------------------------ messages */

static uint8_t *query(const char *name, ldns_rr_type type, int edns, size_t *n)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, LDNS_RR_CLASS_IN, LDNS_RD);
	uint8_t *w = NULL;

	ldns_pkt_set_id(p, 0x1234);
	if (edns)
		ldns_pkt_set_edns_udp_size(p, (uint16_t)edns);
	ldns_pkt2wire(&w, p, n);
	ldns_pkt_free(p);
	return w;
}

static ldns_pkt *parse(const uint8_t *w, size_t n)
{
	ldns_pkt *p = NULL;

	return ldns_wire2pkt(&p, w, n) == LDNS_STATUS_OK ? p : NULL;
}

/* The reply over UDP to an A query for name with an EDNS0 buffer of edns
 * bytes (0: no EDNS0), parsed; its size in *len. */
static ldns_pkt *reply(const dns_index *ix, const char *name, int edns, size_t *len)
{
	size_t n;
	uint8_t *q = query(name, LDNS_RR_TYPE_A, edns, &n), *out = NULL;
	ldns_pkt *r = NULL;

	if (dns_respond(ix, q, n, 0, &out, len) == DNS_REPLY)
		r = parse(out, *len);
	free(q);
	free(out);
	return r;
}

static void test_respond(void)
{
	kx_buf b = KX_BUF_INIT;
	size_t n, len;
	uint8_t *q, *out;
	ldns_pkt *r;

	/* a headless service with 100 endpoints: 100 A records */
	kx_buf_adds(&b, "[{\"kind\":\"Service\",\"metadata\":{\"name\":\"big\",\"namespace\":\"default\"},"
			"\"spec\":{\"clusterIP\":\"None\"}},{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"big-1\","
			"\"namespace\":\"default\",\"labels\":{\"kubernetes.io/service-name\":\"big\"}},\"endpoints\":[");
	for (int i = 0; i < 100; i++)
		kx_buf_addf(&b, "%s{\"addresses\":[\"10.1.0.%d\"]}", i ? "," : "", i + 1);
	kx_buf_adds(&b, "]}]");
	dns_index *ix = index_of(kx_buf_str(&b), "cluster.local");
	kx_buf_free(&b);

	q = query("Big.default.svc.cluster.local.", LDNS_RR_TYPE_A, 0, &n);
	is_int(dns_respond(ix, q, n, 0, &out, &len), DNS_REPLY, "a query is answered");
	r = parse(out, len);
	ok(r && ldns_pkt_tc(r) && ldns_pkt_ancount(r) == 0 && len <= 512,
	   "over UDP without EDNS0, 100 records do not fit in 512 bytes: TC, no records");
	ok(r && ldns_pkt_id(r) == 0x1234 && ldns_pkt_qr(r) && ldns_pkt_rd(r) && ldns_pkt_qdcount(r) == 1,
	   "the reply has the query's id, RD and question");
	if (r) {
		char *s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0)));
		is_str(s, "Big.default.svc.cluster.local.", "the question is echoed with its case");
		free(s);
	}
	ldns_pkt_free(r);
	free(out);
	is_int(dns_respond(ix, q, n, 1, &out, &len), DNS_REPLY, "over TCP");
	r = parse(out, len);
	ok(r && !ldns_pkt_tc(r) && ldns_pkt_ancount(r) == 100 && ldns_pkt_aa(r), "all 100 records");
	ldns_pkt_free(r);
	free(out);
	free(q);

	r = reply(ix, "big.default.svc.cluster.local.", 4096, &len);
	ok(r && !ldns_pkt_tc(r) && ldns_pkt_ancount(r) == 100 && ldns_pkt_edns(r),
	   "with an EDNS0 buffer of 4096 they fit over UDP (%zu bytes), with an OPT record", len);
	ldns_pkt_free(r);
	r = reply(ix, "big.default.svc.cluster.local.", 1000, &len);
	ok(r && ldns_pkt_tc(r) && len <= 1000, "with 1000, they do not");
	ldns_pkt_free(r);

	q = query("example.com.", LDNS_RR_TYPE_A, 0, &n);
	is_int(dns_respond(ix, q, n, 0, &out, &len), DNS_FORWARD, "a name outside the zone: forward");
	is_int(dns_error_reply(q, n, LDNS_RCODE_SERVFAIL, &out, &len), 0, "the SERVFAIL reply");
	r = parse(out, len);
	ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_SERVFAIL && ldns_pkt_qdcount(r) == 1, "has the question");
	ldns_pkt_free(r);
	free(out);

	/* malformed and odd messages */
	uint8_t bad[40];
	memcpy(bad, q, 12);
	memset(bad + 12, 0xff, sizeof bad - 12); /* a question that does not parse */
	is_int(dns_respond(ix, bad, sizeof bad, 0, &out, &len), DNS_REPLY, "a malformed query is answered");
	ok(len == 12 && out[0] == 0x12 && out[1] == 0x34 && (out[2] & 0x80) && (out[3] & 15) == LDNS_RCODE_FORMERR,
	   "with FORMERR and its id");
	free(out);
	is_int(dns_respond(ix, q, 11, 0, &out, &len), DNS_DROP, "shorter than a header: dropped");
	bad[2] |= 0x80;
	is_int(dns_respond(ix, bad, sizeof bad, 0, &out, &len), DNS_DROP, "a response: dropped");
	memcpy(bad, q, n);
	bad[5] = 0; /* no question */
	is_int(dns_respond(ix, bad, 12, 0, &out, &len), DNS_REPLY, "no question");
	r = parse(out, len);
	ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_FORMERR, "FORMERR");
	ldns_pkt_free(r);
	free(out);
	memcpy(bad, q, n);
	bad[2] = (uint8_t)(bad[2] | (LDNS_PACKET_NOTIFY << 3));
	dns_respond(ix, bad, n, 0, &out, &len);
	r = parse(out, len);
	ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_NOTIMPL, "another opcode: NOTIMP");
	ldns_pkt_free(r);
	free(out);
	memcpy(bad, q, n);
	bad[n - 1] = LDNS_RR_CLASS_CH;
	dns_respond(ix, bad, n, 0, &out, &len);
	r = parse(out, len);
	ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_REFUSED, "another class: REFUSED");
	ldns_pkt_free(r);
	free(out);
	free(q);
	dns_index_free(ix);
}

/* An alias to a name outside the zone: the reply is completed with what
 * the upstream says of the target. */
static void test_chase(dns_index *ix)
{
	size_t n, len, n2, alen;
	uint8_t *q = query("ext.default.svc.cluster.local.", LDNS_RR_TYPE_A, 0, &n), *out, *q2 = NULL, *aw = NULL;
	ldns_pkt *p, *r;
	ldns_rdf *target = ldns_dname_new_frm_str("example.org.");

	is_int(dns_respond(ix, q, n, 0, &out, &len), DNS_CHASE, "an ExternalName alias outside the zone: chase it");
	is_int(dns_chase_query(out, len, &q2, &n2), 0, "the query for its target");
	p = parse(q2, n2);
	ok(p && ldns_pkt_qdcount(p) == 1 &&
	   ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)),
			      target) == 0 &&
	   ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(p), 0)) == LDNS_RR_TYPE_A,
	   "asks for example.org. A");
	/* the upstream's answer */
	ldns_pkt *a = ldns_pkt_new();
	ldns_rr *rr = NULL;
	ldns_rr_new_frm_str(&rr, "example.org. 300 IN A 192.0.2.1", 0, NULL, NULL);
	ldns_pkt_set_id(a, ldns_pkt_id(p));
	ldns_pkt_set_qr(a, true);
	ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
	ldns_pkt2wire(&aw, a, &alen);
	is_int(dns_chase_merge(q, n, 0, &out, &len, aw, alen), 0, "merged");
	r = parse(out, len);
	ok(r && ldns_pkt_ancount(r) == 2 &&
	   ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(r), 0)) == LDNS_RR_TYPE_CNAME &&
	   ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(r), 1)) == LDNS_RR_TYPE_A,
	   "the reply has the CNAME, then the target's A");
	ldns_pkt_free(r);
	ldns_pkt_free(a);
	ldns_pkt_free(p);
	ldns_rdf_deep_free(target);
	free(aw);
	free(q2);
	free(out);
	free(q);
	q = query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A, 0, &n);
	dns_respond(ix, q, n, 0, &out, &len);
	is_int(dns_chase_query(out, len, &q2, &n2), -1, "no alias: nothing to chase");
	free(out);
	free(q);
}

int main(void)
{
	dns_index *ix = index_of(objects, "cluster.local");

	ok(ix != NULL, "the index is built");
	is_int(ix->services, 7, "of 7 services (one passed over)");
	test_cases(ix);
	test_chase(ix);
	dns_index_free(ix);
	test_zone();
	test_respond();
	return done_testing();
}
