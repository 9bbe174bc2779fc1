/* dns.h: kx-dns's private types.
 *
 * The program is observe -> decide -> act, as every kx program, except that
 * the decision is made once per query:
 *
 *   index.c     Services, EndpointSlices/Endpoints and Pods (jv) -> dns_index:
 *               every name of the cluster's zone with its records, built
 *               whole and never changed afterwards (queries share it while
 *               the next one is built, then it is swapped in)
 *   answer.c    (index, query message) -> reply message, or "forward this
 *               one": pure, unit-tested (tests/unit/test_dns.c) and fuzzed
 *               (tests/fuzz/fuzz_dns.c)
 *   upstream.c  the nameservers names outside the zone are forwarded to
 *   server.c    UDP and TCP sockets, threads
 *   main.c      options; the store's lists and watches -> a new index
 *
 * Names are compared in lower case, as text in ldns's presentation form
 * with the final dot ("web.default.svc.cluster.local."). */
#ifndef KX_DNS_H
#define KX_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <jv.h>
#include <ldns/ldns.h>

#include "buf.h"

struct kx_err;

#define DNS_SCHEMA_VERSION "1.1.0" /* of the Kubernetes DNS specification */
#define DNS_MAX_MSG 65535           /* the largest message, over TCP */

/* ------------------------------------------------------------------ index */

typedef struct dns_rec {
	uint16_t type;    /* LDNS_RR_TYPE_A, AAAA, SRV, PTR, CNAME, TXT, SOA, NS */
	uint16_t port;    /* SRV */
	uint8_t addr[16]; /* A: the first 4 bytes; AAAA */
	ldns_rdf *target; /* SRV, PTR, CNAME, NS: a name; TXT: the string; owned */
} dns_rec;

typedef struct dns_node {
	char *name;       /* lower case, with the final dot; NULL: a free slot */
	uint32_t hash;
	uint32_t n, cap;
	dns_rec *recs;    /* none: the name exists, but has no records (NODATA) */
} dns_node;

typedef struct dns_index {
	dns_node *slots;  /* open addressing, cap a power of two */
	size_t cap, used;
	char zone[256];   /* "cluster.local.", lower case */
	ldns_rdf *zone_rdf;
	uint32_t ttl;
	uint32_t serial;  /* the SOA's serial: when the index was built */
	size_t services, endpoints, pods, records;
	char **warnings;  /* objects passed over, and why */
	size_t nwarn;
} dns_index;

typedef struct dns_opts {
	const char *zone; /* "cluster.local" (a final dot is allowed) */
	uint32_t ttl;
	uint32_t serial;
} dns_opts;

/* Build the index from objs (consumed: an array of Service, EndpointSlice,
 * Endpoints and Pod objects; others are ignored). Never fails on one bad
 * object: it is passed over with a warning. NULL only when out of memory. */
dns_index *dns_index_build(jv objs, const dns_opts *o);
void dns_index_free(dns_index *ix);
/* The node of name (lower case, with the final dot), or NULL. */
const dns_node *dns_index_find(const dns_index *ix, const char *name);

/* ------------------------------------------------------------------ answer */

enum dns_action { DNS_DROP, DNS_REPLY, DNS_FORWARD, DNS_CHASE };

typedef struct dns_answer {
	ldns_pkt_rcode rcode;
	int authoritative;  /* from the index: the AA bit */
	int forward;        /* outside the zone (or a reverse name we do not
			       know): ask the upstream nameservers */
	ldns_rr_list *an, *ns, *ar;
} dns_answer;

/* The decision for one question: qname (borrowed; its case is kept in the
 * answer's owner names) and qtype against ix. Fills a, whose lists the
 * caller frees with dns_answer_free. */
void dns_decide(const dns_index *ix, const ldns_rdf *qname, ldns_rr_type qtype, dns_answer *a);
void dns_answer_free(dns_answer *a);

/* One query message in wire form (q, n bytes) -> what to do with it. On
 * DNS_REPLY, *out (malloc'd, the caller frees) holds the reply of *outlen
 * bytes: the answer, or FORMERR for a malformed query, NOTIMP for an
 * opcode other than QUERY. tcp: no size limit; else the reply fits in 512
 * bytes, or the EDNS0 buffer size the query offers (at most 4096), and
 * has the TC bit and no records when it does not. DNS_FORWARD: the name is
 * not ours. DNS_DROP: not a query at all (too short, or a response). */
enum dns_action dns_respond(const dns_index *ix, const uint8_t *q, size_t n, int tcp,
			    uint8_t **out, size_t *outlen);
/* DNS_CHASE is a DNS_REPLY whose answer ends with a CNAME to a name outside
 * the zone (an ExternalName service): the reply is complete once the
 * target's records are added, as CoreDNS adds them, since a stub resolver
 * does not follow the alias itself. dns_chase_query makes the query for the
 * target (0, or -1 when reply has no such alias); dns_chase_merge adds the
 * answer records of the upstream's answer ans to *reply (replaced), within
 * the size query q allows. */
int dns_chase_query(const uint8_t *reply, size_t rlen, uint8_t **q, size_t *n);
int dns_chase_merge(const uint8_t *q, size_t n, int tcp, uint8_t **reply, size_t *rlen,
		    const uint8_t *ans, size_t alen);
/* A reply with rcode and no records to query q (n bytes), e.g. SERVFAIL
 * when no upstream answered. -1 when q is not a query. */
int dns_error_reply(const uint8_t *q, size_t n, ldns_pkt_rcode rcode, uint8_t **out,
		    size_t *outlen);

/* ------------------------------------------------------------------ upstream */

#define DNS_MAX_UPSTREAMS 8

typedef struct dns_upstreams {
	struct sockaddr_storage addr[DNS_MAX_UPSTREAMS];
	socklen_t len[DNS_MAX_UPSTREAMS];
	size_t n;
	int timeout_ms;     /* for each nameserver tried */
} dns_upstreams;

/* Add nameservers from spec: "IP", "IP:PORT", "[IPv6]:PORT", or a file in
 * resolv.conf form (its "nameserver" lines). -1 with e filled when spec is
 * neither. */
int dns_upstreams_add(dns_upstreams *u, const char *spec, struct kx_err *e);
/* "IP", "IP:PORT" or "[IPv6]:PORT" (defport when none) -> *ss; -1 when malformed. */
int dns_parse_addr(const char *s, uint16_t defport, struct sockaddr_storage *ss, socklen_t *len);
/* "127.0.0.1:53" or "[::1]:53" */
void dns_addr_text(const struct sockaddr *sa, char *out, size_t n);
/* Read or write exactly n bytes before deadline (kx_now_ms()); -1 when not. */
int dns_read_full(int fd, uint8_t *buf, size_t n, int64_t deadline);
int dns_write_full(int fd, const uint8_t *buf, size_t n, int64_t deadline);
/* Leave out the server's own address, so that it never forwards to itself;
 * returns how many were left out. */
size_t dns_upstreams_skip(dns_upstreams *u, const struct sockaddr *self, socklen_t len);
/* Send query q to each nameserver in turn until one answers (over TCP when
 * the UDP answer is truncated and tcp is set). 0 with *out (malloc'd) and
 * *outlen; -1 when none answered. */
int dns_forward(const dns_upstreams *u, const uint8_t *q, size_t n, int tcp, uint8_t **out,
		size_t *outlen);

/* ------------------------------------------------------------------ server */

/* The index queries read: swapped in whole, never changed in place. */
void dns_current_set(dns_index *ix); /* takes ix; frees the one it replaces */

typedef struct dns_server dns_server;

/* Bind UDP and TCP on addr ("IP:PORT", "[IPv6]:PORT"; port 0 picks one,
 * the same for both). -1 with e filled (KX_EUSAGE for a malformed address,
 * KX_EFAIL when it cannot be bound). */
dns_server *dns_server_bind(const char *addr, struct kx_err *e);
/* "127.0.0.1:5353" as bound. */
const char *dns_server_name(const dns_server *s);
void dns_server_self(const dns_server *s, const struct sockaddr **sa, socklen_t *len);
/* Serve in threads of their own (up is borrowed for the server's life). */
int dns_server_start(dns_server *s, const dns_upstreams *up, struct kx_err *e);

#endif
