/* server.c: the sockets. UDP and TCP on one address and port; two threads
 * read UDP queries, one accepts TCP connections and gives each a thread.
 * Answers come from the current index under a read lock held for one
 * query; the index is replaced whole under the write lock (a pointer swap),
 * so a query never waits for the store, only for that swap. Forwarded
 * queries wait for the upstream in threads of their own. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dns.h"
#include "err.h"
#include "log.h"

#define UDP_THREADS 2
#define MAX_FORWARDS 256     /* UDP queries waiting for an upstream at once */
#define MAX_CONNS 128        /* TCP connections at once */
#define TCP_IDLE_MS 10000    /* a TCP connection with no query for this long is closed */

struct dns_server {
	int udp, tcp;
	struct sockaddr_storage self;
	socklen_t selflen;
	char name[80];
	const dns_upstreams *up;
};

static atomic_int forwards, conns;

/* ------------------------------------------------------------------ the index */

static pthread_rwlock_t cur_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static dns_index *cur;

void dns_current_set(dns_index *ix)
{
	dns_index *old;

	pthread_rwlock_wrlock(&cur_lock);
	old = cur;
	cur = ix;
	pthread_rwlock_unlock(&cur_lock);
	dns_index_free(old); /* no reader holds it: they hold the lock */
}

static enum dns_action respond(const uint8_t *q, size_t n, int tcp, uint8_t **out, size_t *len)
{
	enum dns_action a;

	pthread_rwlock_rdlock(&cur_lock);
	a = dns_respond(cur, q, n, tcp, out, len);
	pthread_rwlock_unlock(&cur_lock);
	return a;
}

/* -vv: one line per query, for watching a cluster's lookups: who asked
 * what, and what the answer was. */
static void log_query(const struct sockaddr *from, const uint8_t *q, size_t n, const uint8_t *out,
		      size_t len, enum dns_action a, int tcp)
{
	char who[80] = "?", *name = NULL, *type = NULL;
	ldns_pkt *p = NULL;
	const ldns_lookup_table *rc;

	if (kx_verbose < 2)
		return;
	if (from)
		dns_addr_text(from, who, sizeof who);
	if (ldns_wire2pkt(&p, q, n) == LDNS_STATUS_OK && ldns_pkt_qdcount(p) == 1) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
		name = ldns_rdf2str(ldns_rr_owner(rr));
		type = ldns_rr_type2str(ldns_rr_get_type(rr));
	}
	rc = out && len >= 12 ? ldns_lookup_by_id(ldns_rcodes, out[3] & 15) : NULL;
	kx_log_debug(2, "%s %s %s %s: %s, %d answers%s%s", tcp ? "tcp" : "udp", who, name ? name : "-",
		     type ? type : "-", rc ? rc->name : "no answer", out && len >= 12 ? out[6] << 8 | out[7] : 0,
		     out && len >= 12 && (out[2] & 2) ? ", truncated" : "",
		     a == DNS_FORWARD ? " (upstream)" : a == DNS_CHASE ? " (alias from upstream)" : "");
	free(name);
	free(type);
	ldns_pkt_free(p);
}

/* ------------------------------------------------------------------ binding */

dns_server *dns_server_bind(const char *addr, kx_err *e)
{
	dns_server *s = calloc(1, sizeof *s);
	int one = 1, port0;

	if (!s) {
		kx_err_set(e, KX_EFAIL, "out of memory");
		return NULL;
	}
	s->udp = s->tcp = -1;
	if (dns_parse_addr(addr, 53, &s->self, &s->selflen) < 0) {
		kx_err_set(e, KX_EUSAGE, "--listen: \"%s\" is not IP:PORT", addr);
		free(s);
		return NULL;
	}
	port0 = ((struct sockaddr_in *)&s->self)->sin_port == 0; /* same place in sin6 */
	/* port 0: the kernel picks a UDP port; TCP takes the same one, which
	 * is rarely taken already: then try another */
	for (int tries = 0, freebind = 0; tries < (port0 ? 20 : 2); tries++) {
		struct sockaddr_storage ss = s->self;
		socklen_t len = s->selflen;
		int fam = ss.ss_family;
		s->udp = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		s->tcp = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s->udp < 0 || s->tcp < 0)
			break;
		setsockopt(s->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (freebind) {
			setsockopt(s->udp, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
			setsockopt(s->tcp, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
		}
		if (fam == AF_INET6)
			setsockopt(s->udp, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one),
				setsockopt(s->tcp, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		if (bind(s->udp, (struct sockaddr *)&ss, len) == 0 &&
		    getsockname(s->udp, (struct sockaddr *)&ss, &len) == 0 &&
		    bind(s->tcp, (struct sockaddr *)&ss, len) == 0 && listen(s->tcp, 128) == 0) {
			s->self = ss;
			s->selflen = len;
			dns_addr_text((struct sockaddr *)&ss, s->name, sizeof s->name);
			return s;
		}
		int err = errno;
		close(s->udp);
		close(s->tcp);
		s->udp = s->tcp = -1;
		errno = err;
		if (errno == EADDRNOTAVAIL && !freebind) {
			/* an address the host does not have yet, such as the
			 * pods' bridge gateway before the first pod: bind
			 * anyway, and answer once it is there */
			kx_log_info("%s is not an address of this host (yet): answering once it is", addr);
			freebind = 1;
			continue;
		}
		if (errno != EADDRINUSE)
			break;
	}
	kx_err_set(e, KX_EFAIL, "cannot listen on %s: %s", addr, strerror(errno));
	if (s->udp >= 0)
		close(s->udp);
	if (s->tcp >= 0)
		close(s->tcp);
	free(s);
	return NULL;
}

const char *dns_server_name(const dns_server *s)
{
	return s->name;
}

void dns_server_self(const dns_server *s, const struct sockaddr **sa, socklen_t *len)
{
	*sa = (const struct sockaddr *)&s->self;
	*len = s->selflen;
}

/* ------------------------------------------------------------------ upstream */

/* What the upstreams add to an answer: the whole answer for DNS_FORWARD
 * (SERVFAIL when none answers), the alias's target for DNS_CHASE (the
 * reply stays as it is when none answers). */
static void ask_upstream(const dns_upstreams *up, enum dns_action a, const uint8_t *q, size_t n,
			 int tcp, uint8_t **out, size_t *len)
{
	uint8_t *q2 = NULL, *ans = NULL;
	size_t n2, alen;

	if (a == DNS_CHASE) {
		if (up->n && dns_chase_query(*out, *len, &q2, &n2) == 0 &&
		    dns_forward(up, q2, n2, tcp, &ans, &alen) == 0)
			dns_chase_merge(q, n, tcp, out, len, ans, alen);
		free(q2);
		free(ans);
		return;
	}
	if (up->n && dns_forward(up, q, n, tcp, out, len) == 0)
		return;
	kx_log_debug(1, "no upstream answered: SERVFAIL");
	if (dns_error_reply(q, n, LDNS_RCODE_SERVFAIL, out, len) < 0)
		*out = NULL;
}

/* ------------------------------------------------------------------ UDP */

typedef struct fwd {
	const dns_server *s;
	struct sockaddr_storage from;
	socklen_t fromlen;
	enum dns_action a;
	uint8_t *out;   /* DNS_CHASE: the reply so far */
	size_t len;
	size_t n;
	uint8_t q[];
} fwd;

static void *forward_thread(void *arg)
{
	fwd *f = arg;
	uint8_t *out = f->out;
	size_t len = f->len;

	ask_upstream(f->s->up, f->a, f->q, f->n, 0, &out, &len);
	log_query((struct sockaddr *)&f->from, f->q, f->n, out, len, f->a, 0);
	if (out)
		sendto(f->s->udp, out, len, 0, (struct sockaddr *)&f->from, f->fromlen);
	free(out);
	free(f);
	atomic_fetch_sub(&forwards, 1);
	return NULL;
}

static void *udp_thread(void *arg)
{
	const dns_server *s = arg;
	uint8_t *buf = malloc(DNS_MAX_MSG);

	for (;;) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof from;
		uint8_t *out = NULL;
		size_t len = 0;
		ssize_t n = recvfrom(s->udp, buf, DNS_MAX_MSG, 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			continue;
		enum dns_action a = respond(buf, (size_t)n, 0, &out, &len);
		if (a == DNS_DROP)
			continue;
		if ((a == DNS_FORWARD || a == DNS_CHASE) && s->up->n) {
			/* the upstream may take seconds: not in this thread */
			pthread_t t;
			fwd *f = NULL;
			if (atomic_fetch_add(&forwards, 1) < MAX_FORWARDS && (f = malloc(sizeof *f + (size_t)n))) {
				*f = (fwd){s, from, fromlen, a, out, len, (size_t)n};
				memcpy(f->q, buf, (size_t)n);
				if (pthread_create(&t, NULL, forward_thread, f) == 0) {
					pthread_detach(t);
					continue;
				}
				free(f);
			}
			atomic_fetch_sub(&forwards, 1);
		}
		if (a == DNS_FORWARD && dns_error_reply(buf, (size_t)n, LDNS_RCODE_SERVFAIL, &out, &len) < 0)
			continue;
		log_query((struct sockaddr *)&from, buf, (size_t)n, out, len, a, 0);
		sendto(s->udp, out, len, 0, (struct sockaddr *)&from, fromlen);
		free(out);
	}
	return NULL;
}

/* ------------------------------------------------------------------ TCP */

typedef struct conn {
	const dns_server *s;
	int fd;
} conn;

/* Queries on one connection, one after the other (RFC 7766 allows a
 * client to send several), until it is closed or idle. */
static void *conn_thread(void *arg)
{
	conn *c = arg;
	uint8_t *q = malloc(DNS_MAX_MSG), hdr[2];

	while (q && dns_read_full(c->fd, hdr, 2, kx_now_ms() + TCP_IDLE_MS) == 0) {
		size_t n = (size_t)hdr[0] << 8 | hdr[1], len = 0;
		uint8_t *out = NULL;
		if (dns_read_full(c->fd, q, n, kx_now_ms() + TCP_IDLE_MS) < 0)
			break;
		enum dns_action a = respond(q, n, 1, &out, &len);
		if (a == DNS_FORWARD || a == DNS_CHASE)
			ask_upstream(c->s->up, a, q, n, 1, &out, &len);
		if (a != DNS_DROP) {
			struct sockaddr_storage peer;
			socklen_t pl = sizeof peer;
			int known = getpeername(c->fd, (struct sockaddr *)&peer, &pl) == 0;
			log_query(known ? (struct sockaddr *)&peer : NULL, q, n, out, len, a, 1);
		}
		if (a == DNS_DROP || !out)
			break;
		hdr[0] = (uint8_t)(len >> 8);
		hdr[1] = (uint8_t)len;
		int64_t deadline = kx_now_ms() + TCP_IDLE_MS;
		int w = dns_write_full(c->fd, hdr, 2, deadline) < 0 || dns_write_full(c->fd, out, len, deadline) < 0;
		free(out);
		if (w)
			break;
	}
	free(q);
	close(c->fd);
	free(c);
	atomic_fetch_sub(&conns, 1);
	return NULL;
}

static void *accept_thread(void *arg)
{
	const dns_server *s = arg;

	for (;;) {
		int fd = accept4(s->tcp, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;
		conn *c;
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				usleep(100000);
			continue;
		}
		if (atomic_fetch_add(&conns, 1) >= MAX_CONNS || !(c = malloc(sizeof *c))) {
			atomic_fetch_sub(&conns, 1);
			close(fd);
			continue;
		}
		c->s = s;
		c->fd = fd;
		if (pthread_create(&t, NULL, conn_thread, c) != 0) {
			atomic_fetch_sub(&conns, 1);
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

int dns_server_start(dns_server *s, const dns_upstreams *up, kx_err *e)
{
	pthread_t t;

	s->up = up;
	for (int i = 0; i < UDP_THREADS; i++)
		if (pthread_create(&t, NULL, udp_thread, s) != 0)
			return kx_err_set(e, KX_EFAIL, "cannot start a thread: %s", strerror(errno));
		else
			pthread_detach(t);
	if (pthread_create(&t, NULL, accept_thread, s) != 0)
		return kx_err_set(e, KX_EFAIL, "cannot start a thread: %s", strerror(errno));
	pthread_detach(t);
	return 0;
}
