/* answer.c: the decision, one query at a time: a question and the index ->
 * the answer's records and rcode (dns_decide), and a query message -> the
 * reply message (dns_respond). Pure: no I/O, no clock, no state between
 * calls, so any number of threads call it at once on the same index. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

/* ------------------------------------------------------------------ records */

static ldns_rr *rr_new(const ldns_rdf *owner, ldns_rr_type type, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();

	if (!rr)
		return NULL;
	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

static ldns_rr *soa(const dns_index *ix)
{
	ldns_rr *rr = rr_new(ix->zone_rdf, LDNS_RR_TYPE_SOA, ix->ttl);
	char buf[300];

	if (!rr)
		return NULL;
	snprintf(buf, sizeof buf, "ns.dns.%s", ix->zone);
	ldns_rr_push_rdf(rr, ldns_dname_new_frm_str(buf));
	snprintf(buf, sizeof buf, "hostmaster.%s", ix->zone);
	ldns_rr_push_rdf(rr, ldns_dname_new_frm_str(buf));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, ix->serial));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 7200));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 1800));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 86400));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, ix->ttl));
	return rr;
}

/* One record of the index as an RR owned by owner (borrowed). weight: for
 * SRV, shared out between the records of one answer. */
static ldns_rr *rr_of(const dns_index *ix, const ldns_rdf *owner, const dns_rec *r,
		      uint16_t weight)
{
	ldns_rr *rr;

	if (r->type == LDNS_RR_TYPE_SOA)
		return soa(ix);
	rr = rr_new(owner, (ldns_rr_type)r->type, ix->ttl);
	if (!rr)
		return NULL;
	switch (r->type) {
	case LDNS_RR_TYPE_A:
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, r->addr));
		break;
	case LDNS_RR_TYPE_AAAA:
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, r->addr));
		break;
	case LDNS_RR_TYPE_SRV:
		ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
		ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, weight));
		ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, r->port));
		ldns_rr_push_rdf(rr, ldns_rdf_clone(r->target));
		break;
	default: /* PTR, CNAME, NS, TXT: one rdata field */
		ldns_rr_push_rdf(rr, ldns_rdf_clone(r->target));
		break;
	}
	return rr;
}

static void push(ldns_rr_list *l, ldns_rr *rr)
{
	if (rr && !ldns_rr_list_push_rr(l, rr))
		ldns_rr_free(rr);
}

/* ------------------------------------------------------------------ decide */

/* name as lower-case presentation text with the final dot, into out.
 * Labels of letters, digits, '-' and '_' (every name of the index) are
 * copied; anything else goes through ldns's printer, which escapes it. */
static int name_text(const ldns_rdf *name, char *out, size_t n)
{
	const uint8_t *w = ldns_rdf_data(name);
	size_t len = ldns_rdf_size(name), o = 0, i = 0;

	while (i < len && w[i] && o + w[i] + 2 < n) {
		size_t l = w[i++];
		for (size_t j = 0; j < l && i < len; j++, i++) {
			int c = tolower(w[i]);
			if (!isalnum(c) && c != '-' && c != '_')
				goto slow;
			out[o++] = (char)c;
		}
		out[o++] = '.';
	}
	if (i < len && !w[i] && o + 2 < n) {
		if (!o)
			out[o++] = '.';
		out[o] = 0;
		return 0;
	}
slow:;
	char *s = ldns_rdf2str(name);

	if (!s || strlen(s) >= n) {
		free(s);
		return -1;
	}
	for (size_t i = 0; s[i]; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[strlen(s)] = 0;
	free(s);
	return 0;
}

static int under(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n == z)
		return !strcmp(name, zone);
	return n > z && name[n - z - 1] == '.' && !strcmp(name + n - z, zone);
}

static int matches(uint16_t type, ldns_rr_type qtype)
{
	return qtype == LDNS_RR_TYPE_ANY || type == qtype;
}

/* Add the records of nd of type qtype to l, owned by owner; SRV targets'
 * addresses go to ar. Returns how many were added. */
static size_t add_records(const dns_index *ix, const dns_node *nd, const ldns_rdf *owner,
			  ldns_rr_type qtype, ldns_rr_list *l, ldns_rr_list *ar)
{
	size_t n = 0, nsrv = 0;

	for (uint32_t i = 0; i < nd->n; i++)
		nsrv += nd->recs[i].type == LDNS_RR_TYPE_SRV;
	for (uint32_t i = 0; i < nd->n; i++) {
		const dns_rec *r = &nd->recs[i];
		char t[1100];
		if (!matches(r->type, qtype))
			continue;
		push(l, rr_of(ix, owner, r, (uint16_t)(nsrv ? (100 / nsrv ? 100 / nsrv : 1) : 0)));
		n++;
		/* the addresses an SRV record's target has, as the
		 * specification allows, so that a client asks once */
		if (r->type != LDNS_RR_TYPE_SRV || !ar || name_text(r->target, t, sizeof t) < 0)
			continue;
		const dns_node *tn = dns_index_find(ix, t);
		for (uint32_t j = 0; tn && j < tn->n; j++)
			if (tn->recs[j].type == LDNS_RR_TYPE_A || tn->recs[j].type == LDNS_RR_TYPE_AAAA)
				push(ar, rr_of(ix, r->target, &tn->recs[j], 0));
	}
	return n;
}

static const dns_rec *cname_of(const dns_node *nd)
{
	for (uint32_t i = 0; i < nd->n; i++)
		if (nd->recs[i].type == LDNS_RR_TYPE_CNAME)
			return &nd->recs[i];
	return NULL;
}

void dns_decide(const dns_index *ix, const ldns_rdf *qname, ldns_rr_type qtype, dns_answer *a)
{
	char name[1100];
	const dns_node *nd;
	int in_zone;

	memset(a, 0, sizeof *a);
	a->an = ldns_rr_list_new();
	a->ns = ldns_rr_list_new();
	a->ar = ldns_rr_list_new();
	a->rcode = LDNS_RCODE_NOERROR;
	if (!ix || name_text(qname, name, sizeof name) < 0) {
		a->rcode = LDNS_RCODE_SERVFAIL;
		return;
	}
	in_zone = under(name, ix->zone);
	nd = dns_index_find(ix, name);
	if (!nd) {
		if (in_zone) {
			a->authoritative = 1;
			a->rcode = LDNS_RCODE_NXDOMAIN;
			push(a->ns, soa(ix));
		} else
			a->forward = 1; /* not ours, or a reverse name we do not know */
		return;
	}
	a->authoritative = 1;

	/* an alias answers for every type: the CNAME, and what its target
	 * has when the target is ours too (a target outside the zone is the
	 * client's resolver's to follow) */
	const dns_rec *cn = cname_of(nd);
	if (cn && qtype != LDNS_RR_TYPE_CNAME) {
		const ldns_rdf *owner = qname;
		for (int hops = 0; cn && hops < 8; hops++) {
			push(a->an, rr_of(ix, owner, cn, 0));
			owner = cn->target;
			if (name_text(owner, name, sizeof name) < 0 || !(nd = dns_index_find(ix, name)))
				return;
			cn = cname_of(nd);
			if (!cn)
				add_records(ix, nd, owner, qtype, a->an, a->ar);
		}
		return;
	}
	if (add_records(ix, nd, qname, qtype, a->an, a->ar) == 0 && in_zone)
		push(a->ns, soa(ix)); /* NODATA: the name is there, not this type */
}

void dns_answer_free(dns_answer *a)
{
	ldns_rr_list_deep_free(a->an);
	ldns_rr_list_deep_free(a->ns);
	ldns_rr_list_deep_free(a->ar);
	a->an = a->ns = a->ar = NULL;
}

/* ------------------------------------------------------------------ messages */

/* A reply of the header alone: for what ldns cannot parse. */
static int header_reply(const uint8_t *q, ldns_pkt_rcode rcode, uint8_t **out, size_t *outlen)
{
	uint8_t *r = calloc(1, 12);

	if (!r)
		return -1;
	r[0] = q[0];
	r[1] = q[1];
	r[2] = (uint8_t)(0x80 | (q[2] & 0x79)); /* QR, the opcode and RD of the query */
	r[3] = (uint8_t)(0x80 | (rcode & 15));  /* RA */
	*out = r;
	*outlen = 12;
	return 0;
}

/* The reply skeleton to query qp: its id, opcode, RD and question. */
static ldns_pkt *reply_to(const ldns_pkt *qp, ldns_pkt_rcode rcode)
{
	ldns_pkt *r = ldns_pkt_new();

	if (!r)
		return NULL;
	ldns_pkt_set_id(r, ldns_pkt_id(qp));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(qp));
	ldns_pkt_set_rd(r, ldns_pkt_rd(qp));
	ldns_pkt_set_cd(r, ldns_pkt_cd(qp));
	ldns_pkt_set_ra(r, true);
	ldns_pkt_set_rcode(r, (uint8_t)rcode);
	ldns_rr_list *qs = ldns_pkt_question(qp);
	for (size_t i = 0; qs && i < ldns_rr_list_rr_count(qs); i++)
		ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(qs, i)));
	if (ldns_pkt_edns(qp)) {
		ldns_pkt_set_edns_udp_size(r, 1232);
		ldns_pkt_set_edns_do(r, ldns_pkt_edns_do(qp));
	}
	return r;
}

/* How large a UDP reply to qp may be. */
static size_t udp_limit(const ldns_pkt *qp)
{
	size_t n = ldns_pkt_edns(qp) ? ldns_pkt_edns_udp_size(qp) : 512;

	return n < 512 ? 512 : n > 4096 ? 4096 : n;
}

static void clear_section(ldns_pkt *p, ldns_pkt_section s)
{
	ldns_rr_list *l = s == LDNS_SECTION_ANSWER       ? ldns_pkt_answer(p)
			  : s == LDNS_SECTION_AUTHORITY  ? ldns_pkt_authority(p)
							 : ldns_pkt_additional(p);
	ldns_rr_list *empty = ldns_rr_list_new();

	ldns_rr_list_deep_free(l);
	if (s == LDNS_SECTION_ANSWER)
		ldns_pkt_set_answer(p, empty);
	else if (s == LDNS_SECTION_AUTHORITY)
		ldns_pkt_set_authority(p, empty);
	else
		ldns_pkt_set_additional(p, empty);
	ldns_pkt_set_section_count(p, s, 0);
}

/* r (consumed) in wire form, no larger than limit: else with TC set and
 * no records, so that the client asks again over TCP. */
static int finish(ldns_pkt *r, size_t limit, uint8_t **out, size_t *outlen)
{
	if (ldns_pkt2wire(out, r, outlen) != LDNS_STATUS_OK) {
		ldns_pkt_free(r);
		return -1;
	}
	if (*outlen > limit) {
		free(*out);
		*out = NULL;
		clear_section(r, LDNS_SECTION_ANSWER);
		clear_section(r, LDNS_SECTION_AUTHORITY);
		clear_section(r, LDNS_SECTION_ADDITIONAL);
		ldns_pkt_set_tc(r, true);
		if (ldns_pkt2wire(out, r, outlen) != LDNS_STATUS_OK) {
			ldns_pkt_free(r);
			return -1;
		}
	}
	ldns_pkt_free(r);
	return 0;
}

static int is_query(const uint8_t *q, size_t n)
{
	return n >= 12 && !(q[2] & 0x80);
}

int dns_error_reply(const uint8_t *q, size_t n, ldns_pkt_rcode rcode, uint8_t **out,
		    size_t *outlen)
{
	ldns_pkt *qp = NULL, *r;
	int rc;

	if (!is_query(q, n))
		return -1;
	if (ldns_wire2pkt(&qp, q, n) != LDNS_STATUS_OK)
		return header_reply(q, rcode, out, outlen);
	r = reply_to(qp, rcode);
	rc = r ? finish(r, DNS_MAX_MSG, out, outlen) : -1;
	ldns_pkt_free(qp);
	return rc;
}

enum dns_action dns_respond(const dns_index *ix, const uint8_t *q, size_t n, int tcp,
			    uint8_t **out, size_t *outlen)
{
	ldns_pkt *qp = NULL, *r;
	ldns_rr *question;
	dns_answer a;
	int opcode, chase = 0;

	*out = NULL;
	*outlen = 0;
	if (!is_query(q, n))
		return DNS_DROP; /* answering a response could start a loop */
	opcode = (q[2] >> 3) & 15;
	if (ldns_wire2pkt(&qp, q, n) != LDNS_STATUS_OK)
		return header_reply(q, LDNS_RCODE_FORMERR, out, outlen) < 0 ? DNS_DROP : DNS_REPLY;
	if (opcode != LDNS_PACKET_QUERY || ldns_pkt_qdcount(qp) != 1) {
		r = reply_to(qp, opcode != LDNS_PACKET_QUERY ? LDNS_RCODE_NOTIMPL : LDNS_RCODE_FORMERR);
		goto reply;
	}
	if (ldns_pkt_edns(qp) && ldns_pkt_edns_version(qp) > 0) {
		/* BADVERS (16): rcode 0 with extended rcode 1, as RFC 6891 says */
		r = reply_to(qp, LDNS_RCODE_NOERROR);
		if (r)
			ldns_pkt_set_edns_extended_rcode(r, 1);
		goto reply;
	}
	question = ldns_rr_list_rr(ldns_pkt_question(qp), 0);
	if (ldns_rr_get_class(question) != LDNS_RR_CLASS_IN) {
		r = reply_to(qp, LDNS_RCODE_REFUSED);
		goto reply;
	}
	dns_decide(ix, ldns_rr_owner(question), ldns_rr_get_type(question), &a);
	if (a.forward) {
		dns_answer_free(&a);
		ldns_pkt_free(qp);
		return DNS_FORWARD;
	}
	size_t nan = ldns_rr_list_rr_count(a.an);
	ldns_rr *last = nan ? ldns_rr_list_rr(a.an, nan - 1) : NULL;
	ldns_rr_type qtype = ldns_rr_get_type(question);
	char t[1100];
	chase = last && ldns_rr_get_type(last) == LDNS_RR_TYPE_CNAME && qtype != LDNS_RR_TYPE_CNAME &&
		    qtype != LDNS_RR_TYPE_ANY && name_text(ldns_rr_rdf(last, 0), t, sizeof t) == 0 &&
		    !under(t, ix->zone);
	r = reply_to(qp, a.rcode);
	if (r) {
		ldns_pkt_set_aa(r, a.authoritative);
		ldns_pkt_push_rr_list(r, LDNS_SECTION_ANSWER, a.an);
		ldns_pkt_push_rr_list(r, LDNS_SECTION_AUTHORITY, a.ns);
		ldns_pkt_push_rr_list(r, LDNS_SECTION_ADDITIONAL, a.ar);
		/* the records are the packet's now: free only the lists */
		ldns_rr_list_free(a.an);
		ldns_rr_list_free(a.ns);
		ldns_rr_list_free(a.ar);
	} else
		dns_answer_free(&a);
reply:
	if (!r || finish(r, tcp ? DNS_MAX_MSG : udp_limit(qp), out, outlen) < 0) {
		ldns_pkt_free(qp);
		return DNS_DROP;
	}
	ldns_pkt_free(qp);
	return chase ? DNS_CHASE : DNS_REPLY;
}

int dns_chase_query(const uint8_t *reply, size_t rlen, uint8_t **q, size_t *n)
{
	ldns_pkt *r = NULL, *qp;
	int rc = -1;

	if (ldns_wire2pkt(&r, reply, rlen) != LDNS_STATUS_OK)
		return -1;
	size_t nan = ldns_pkt_ancount(r);
	ldns_rr *last = nan ? ldns_rr_list_rr(ldns_pkt_answer(r), nan - 1) : NULL;
	ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(r), 0);
	if (last && question && ldns_rr_get_type(last) == LDNS_RR_TYPE_CNAME) {
		qp = ldns_pkt_query_new(ldns_rdf_clone(ldns_rr_rdf(last, 0)), ldns_rr_get_type(question),
					LDNS_RR_CLASS_IN, LDNS_RD);
		if (qp) {
			ldns_pkt_set_random_id(qp);
			ldns_pkt_set_edns_udp_size(qp, 1232);
			rc = ldns_pkt2wire(q, qp, n) == LDNS_STATUS_OK ? 0 : -1;
			ldns_pkt_free(qp);
		}
	}
	ldns_pkt_free(r);
	return rc;
}

int dns_chase_merge(const uint8_t *q, size_t n, int tcp, uint8_t **reply, size_t *rlen,
		    const uint8_t *ans, size_t alen)
{
	ldns_pkt *qp = NULL, *r = NULL, *a = NULL;
	uint8_t *out = NULL;
	size_t len = 0;
	int rc = -1;

	if (ldns_wire2pkt(&qp, q, n) == LDNS_STATUS_OK && ldns_wire2pkt(&r, *reply, *rlen) == LDNS_STATUS_OK &&
	    ldns_wire2pkt(&a, ans, alen) == LDNS_STATUS_OK) {
		ldns_rr_list *an = ldns_pkt_answer(a);
		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++)
			ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, ldns_rr_clone(ldns_rr_list_rr(an, i)));
		if (ldns_pkt_get_rcode(a) == LDNS_RCODE_NXDOMAIN)
			ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
		rc = finish(r, tcp ? DNS_MAX_MSG : udp_limit(qp), &out, &len);
		r = NULL; /* finish took it */
	}
	if (rc == 0) {
		free(*reply);
		*reply = out;
		*rlen = len;
	}
	ldns_pkt_free(qp);
	ldns_pkt_free(r);
	ldns_pkt_free(a);
	return rc;
}
