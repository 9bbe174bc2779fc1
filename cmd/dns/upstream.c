/* upstream.c: the nameservers that answer for names outside the zone, and
 * forwarding one query to them (as CoreDNS's forward plugin does, without
 * its cache): the client's message is sent as it is, over UDP, then over
 * TCP when the answer came back truncated to a TCP client. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "dns.h"
#include "err.h"

/* ------------------------------------------------------------------ addresses */

int dns_parse_addr(const char *s, uint16_t defport, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *port = NULL;
	long p = defport;

	memset(ss, 0, sizeof *ss);
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end || (size_t)(end - s - 1) >= sizeof host)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(end - s - 1), s + 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return -1;
	} else {
		const char *colon = strchr(s, ':');
		if (strlen(s) >= sizeof host)
			return -1;
		snprintf(host, sizeof host, "%s", s);
		if (colon && !strchr(colon + 1, ':')) { /* one colon: IPv4:PORT */
			host[colon - s] = 0;
			port = colon + 1;
		}
	}
	if (port) {
		char *end;
		errno = 0;
		p = strtol(port, &end, 10);
		if (!*port || *end || errno || p < 0 || p > 65535)
			return -1;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		*len = sizeof *in;
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof *in6;
	} else
		return -1;
	return 0;
}

void dns_addr_text(const struct sockaddr *sa, char *out, size_t n)
{
	char ip[64] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
		snprintf(out, n, "%s:%u", ip, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
		snprintf(out, n, "[%s]:%u", ip, ntohs(in6->sin6_port));
	}
}

static int push_addr(dns_upstreams *u, const char *spec, kx_err *e)
{
	if (u->n == DNS_MAX_UPSTREAMS)
		return kx_err_set(e, KX_EUSAGE, "--upstream: more than %d nameservers", DNS_MAX_UPSTREAMS);
	if (dns_parse_addr(spec, 53, &u->addr[u->n], &u->len[u->n]) < 0)
		return kx_err_set(e, KX_EUSAGE, "--upstream: \"%s\" is neither a file nor IP[:PORT]", spec);
	u->n++;
	return 0;
}

/* The "nameserver" lines of a resolv.conf file. */
static int from_file(dns_upstreams *u, const char *path, kx_err *e)
{
	kx_buf b = KX_BUF_INIT;
	char *line, *save = NULL;
	size_t before = u->n;

	if (kx_buf_read_file(&b, path, 1u << 20, e) < 0) {
		kx_buf_free(&b);
		return kx_err_wrap(e, "--upstream");
	}
	for (line = strtok_r(b.p ? b.p : "", "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char word[32], addr[128];
		if (sscanf(line, " %31s %127s", word, addr) == 2 && !strcmp(word, "nameserver")) {
			char *pct = strchr(addr, '%'); /* a zone index: not ours to use */
			if (pct)
				*pct = 0;
			if (push_addr(u, addr, e) < 0) {
				kx_buf_free(&b);
				return kx_err_wrap(e, "%s", path);
			}
		}
	}
	kx_buf_free(&b);
	if (u->n == before)
		return kx_err_set(e, KX_EUSAGE, "--upstream: %s names no nameserver", path);
	return 0;
}

int dns_upstreams_add(dns_upstreams *u, const char *spec, kx_err *e)
{
	struct stat st;

	if (!u->timeout_ms)
		u->timeout_ms = 2000;
	if (strchr(spec, '/') || (stat(spec, &st) == 0 && S_ISREG(st.st_mode)))
		return from_file(u, spec, e);
	return push_addr(u, spec, e);
}

/* Is a one of this host's addresses (loopback, or an interface's)? */
static int local_addr(const struct sockaddr *a)
{
	struct ifaddrs *ifa, *p;
	int found = 0;

	if (a->sa_family == AF_INET &&
	    (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127)
		return 1;
	if (a->sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr))
		return 1;
	if (getifaddrs(&ifa) < 0)
		return 0;
	for (p = ifa; p && !found; p = p->ifa_next) {
		if (!p->ifa_addr || p->ifa_addr->sa_family != a->sa_family)
			continue;
		if (a->sa_family == AF_INET)
			found = ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
				((const struct sockaddr_in *)p->ifa_addr)->sin_addr.s_addr;
		else
			found = !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
					&((const struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, 16);
	}
	freeifaddrs(ifa);
	return found;
}

/* Would a query to upstream a reach the server bound to self? (Bound to
 * the unspecified address, it answers on every local address.) */
static int same_addr(const struct sockaddr *a, const struct sockaddr *self)
{
	if (a->sa_family != self->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)self;
		if (x->sin_port != y->sin_port)
			return 0;
		return x->sin_addr.s_addr == y->sin_addr.s_addr ||
		       (y->sin_addr.s_addr == INADDR_ANY && local_addr(a));
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)self;
	if (x->sin6_port != y->sin6_port)
		return 0;
	return !memcmp(&x->sin6_addr, &y->sin6_addr, 16) ||
	       (IN6_IS_ADDR_UNSPECIFIED(&y->sin6_addr) && local_addr(a));
}

size_t dns_upstreams_skip(dns_upstreams *u, const struct sockaddr *self, socklen_t len)
{
	size_t j = 0, n = u->n;

	(void)len;
	for (size_t i = 0; i < u->n; i++) {
		if (same_addr((const struct sockaddr *)&u->addr[i], self))
			continue;
		u->addr[j] = u->addr[i];
		u->len[j++] = u->len[i];
	}
	u->n = j;
	return n - j;
}

/* ------------------------------------------------------------------ I/O */

/* Read exactly n bytes from fd before the deadline (kx_now_ms); -1 on
 * timeout, error or end of stream. */
int dns_read_full(int fd, uint8_t *buf, size_t n, int64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		int64_t left = deadline - kx_now_ms();
		struct pollfd p = {fd, POLLIN, 0};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0) {
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/* Write the whole buffer (a TCP message), waiting at most until deadline. */
int dns_write_full(int fd, const uint8_t *buf, size_t n, int64_t deadline)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = send(fd, buf + done, n - done, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			int64_t left = deadline - kx_now_ms();
			struct pollfd p = {fd, POLLOUT, 0};
			if (left <= 0 || poll(&p, 1, (int)left) <= 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

static int ask_udp(const struct sockaddr *sa, socklen_t len, const uint8_t *q, size_t n,
		   int64_t deadline, uint8_t *buf, size_t *got)
{
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, sa, len) < 0 || send(fd, q, n, 0) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	for (;;) {
		int64_t left = deadline - kx_now_ms();
		struct pollfd p = {fd, POLLIN, 0};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		ssize_t r = recv(fd, buf, DNS_MAX_MSG, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break; /* ECONNREFUSED: nobody there */
		/* the answer to this query, not a stray packet */
		if (r >= 12 && buf[0] == q[0] && buf[1] == q[1] && (buf[2] & 0x80)) {
			*got = (size_t)r;
			close(fd);
			return 0;
		}
	}
	close(fd);
	return -1;
}

static int ask_tcp(const struct sockaddr *sa, socklen_t len, const uint8_t *q, size_t n,
		   int64_t deadline, uint8_t *buf, size_t *got)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	uint8_t hdr[2] = {(uint8_t)(n >> 8), (uint8_t)n};
	int rc = -1;

	if (fd < 0)
		return -1;
	if (connect(fd, sa, len) < 0 && errno != EINPROGRESS)
		goto out;
	if (dns_write_full(fd, hdr, 2, deadline) < 0 || dns_write_full(fd, q, n, deadline) < 0 ||
	    dns_read_full(fd, hdr, 2, deadline) < 0)
		goto out;
	*got = (size_t)hdr[0] << 8 | hdr[1];
	if (*got < 12 || dns_read_full(fd, buf, *got, deadline) < 0)
		goto out;
	rc = buf[0] == q[0] && buf[1] == q[1] ? 0 : -1;
out:
	close(fd);
	return rc;
}

int dns_forward(const dns_upstreams *u, const uint8_t *q, size_t n, int tcp, uint8_t **out,
		size_t *outlen)
{
	uint8_t *buf = malloc(DNS_MAX_MSG);
	size_t got = 0;

	if (!buf)
		return -1;
	for (size_t i = 0; i < u->n; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&u->addr[i];
		int64_t deadline = kx_now_ms() + u->timeout_ms;
		if (ask_udp(sa, u->len[i], q, n, deadline, buf, &got) < 0)
			continue;
		/* truncated: a TCP client gets the whole answer */
		if (tcp && (buf[2] & 0x02) &&
		    ask_tcp(sa, u->len[i], q, n, kx_now_ms() + u->timeout_ms, buf, &got) < 0)
			continue;
		*out = buf;
		*outlen = got;
		return 0;
	}
	free(buf);
	return -1;
}
