/* ipvs.c: the seed's IPVS mode, as ipvsadm-restore input. One virtual
 * service per cluster IP, external IP and node port address, with the
 * scheduler from the annotation kx.io/ipvs-scheduler (rr, lc, dh, sh, sed,
 * nq; rr by default), persistence for ClientIP affinity, and one real server
 * per endpoint, forwarded by masquerading (-m), as kube-proxy's IPVS mode
 * does. */
#include <stdio.h>
#include <string.h>

#include "proxy.h"

static const char *flag(int proto)
{
	return proto == PX_UDP ? "-u" : proto == PX_SCTP ? "--sctp-service" : "-t";
}

static void addrport(char *out, size_t n, const char *addr, int port)
{
	if (strchr(addr, ':'))
		snprintf(out, n, "[%s]:%d", addr, port);
	else
		snprintf(out, n, "%s:%d", addr, port);
}

static void one(kx_buf *b, const px_svc *s, const px_port *p, const char *vip, int vport)
{
	char v[80], r[80];

	addrport(v, sizeof v, vip, vport);
	kx_buf_addf(b, "-A %s %s -s %s", flag(p->proto), v, s->ipvs_sched);
	if (s->affinity)
		kx_buf_addf(b, " -p %d", s->affinity);
	kx_buf_addc(b, '\n');
	for (size_t i = 0; i < p->neps; i++) {
		addrport(r, sizeof r, p->eps[i].addr, p->eps[i].port);
		kx_buf_addf(b, "-a %s %s -r %s -m -w 1\n", flag(p->proto), v, r);
	}
}

int px_render_ipvs(kx_buf *b, const px_model *m, const px_opts *o)
{
	for (size_t i = 0; i < m->n; i++) {
		const px_svc *s = &m->svcs[i];
		for (size_t j = 0; j < s->nports; j++) {
			const px_port *p = &s->ports[j];
			if (s->cluster_ip[0])
				one(b, s, p, s->cluster_ip, p->port);
			for (size_t k = 0; k < s->next; k++)
				one(b, s, p, s->ext_ips[k], p->port);
			for (size_t k = 0; p->nodeport && k < o->nnodeport_ips; k++)
				if ((strchr(o->nodeport_ips[k], ':') ? 6 : 4) == s->family)
					one(b, s, p, o->nodeport_ips[k], p->nodeport);
		}
	}
	return 0;
}
