/* nl.c: act. Operations to one nf_tables batch through libnftnl and libmnl,
 * and the kernel's table read back for diffing.
 *
 * Every rule is encoded the way nft 1.0.6 encodes the same text (learned
 * with `nft --debug=netlink`), and sets carry the same user data nft writes,
 * so a table made here lists exactly as one made by `nft -f` from
 * --dry-run's text. A batch is all or nothing: the kernel applies it in one
 * transaction or not at all. Only the last message asks for an
 * acknowledgement; the kernel reports any failing message anyway. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "clock.h"
#include "err.h"
#include "log.h"
#include "proxy.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define RTN_LOCAL_ 2
#define NF_NAT_RANGE_PROTO_SPECIFIED_ 2
#define NF_NAT_RANGE_PROTO_RANDOM_FULLY_ 16

static int nfproto(int family)
{
	return family == 6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

/* ------------------------------------------------------------------ expressions */

static void add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static void e_payload(struct nftnl_rule *r, int base, int off, int len, int dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, (uint32_t)base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, (uint32_t)off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, (uint32_t)len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, (uint32_t)dreg);
	add(r, e);
}

static void e_addr(struct nftnl_rule *r, int family, int src, int dreg)
{
	if (family == 6)
		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, src ? 8 : 24, 16, dreg);
	else
		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, src ? 12 : 16, 4, dreg);
}

static void e_meta(struct nftnl_rule *r, int key, int dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, (uint32_t)key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, (uint32_t)dreg);
	add(r, e);
}

static void e_meta_set(struct nftnl_rule *r, int key, int sreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, (uint32_t)key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, (uint32_t)sreg);
	add(r, e);
}

static void e_cmp(struct nftnl_rule *r, int sreg, int op, const void *data, size_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, (uint32_t)sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, (uint32_t)op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, (uint32_t)len);
	add(r, e);
}

static void e_cmp_u32(struct nftnl_rule *r, int sreg, int op, uint32_t v)
{
	e_cmp(r, sreg, op, &v, sizeof v);
}

static void e_bitwise(struct nftnl_rule *r, int reg, const void *mask, const void *xor,
		      size_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, (uint32_t)reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, (uint32_t)reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, (uint32_t)len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, (uint32_t)len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, (uint32_t)len);
	add(r, e);
}

static void e_bitwise_u32(struct nftnl_rule *r, int reg, uint32_t mask, uint32_t xor)
{
	e_bitwise(r, reg, &mask, &xor, 4);
}

static void e_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	add(r, e);
}

static void e_imm(struct nftnl_rule *r, int dreg, const void *data, size_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, (uint32_t)dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, (uint32_t)len);
	add(r, e);
}

static void e_lookup(struct nftnl_rule *r, int sreg, int dreg, const char *set, uint32_t id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, (uint32_t)sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	add(r, e);
}

static void e_fib_local(struct nftnl_rule *r, int daddr)
{
	struct nftnl_expr *e = nftnl_expr_alloc("fib");
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, daddr ? NFTA_FIB_F_DADDR : NFTA_FIB_F_SADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	add(r, e);
	e_cmp_u32(r, NFT_REG_1, NFT_CMP_EQ, RTN_LOCAL_);
}

static void e_l4proto_is(struct nftnl_rule *r, int proto)
{
	uint8_t p = (uint8_t)proto;

	e_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &p, 1);
}

static void e_reject(struct nftnl_rule *r, int type, int code)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, (uint32_t)type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, (uint8_t)code);
	add(r, e);
}

/* ------------------------------------------------------------------ keys */

static int addr_bytes(int family, const char *s, unsigned char *out)
{
	return inet_pton(family == 6 ? AF_INET6 : AF_INET, s, out) == 1 ? (family == 6 ? 16 : 4)
									   : -1;
}

/* The key of an element as the kernel stores it: each part padded to 4. */
static size_t elem_key_bytes(int family, const px_elem *el, int kind, unsigned char *k)
{
	size_t n = 0;

	memset(k, 0, 32);
	if (kind == SK_STATE || kind == SK_VERSIONS) {
		/* "0xHI . 0xLO": two marks, in host byte order as nft has them */
		unsigned int hi = 0, lo = 0;
		uint32_t v[2];
		sscanf(el->addr ? el->addr : "", "%x . %x", &hi, &lo);
		v[0] = hi;
		v[1] = lo;
		memcpy(k, v, 8);
		return 8;
	}
	if (kind == SK_ENDPOINTS) {
		/* "HI . LO . INDEX": three numgen values, host byte order */
		unsigned int v[3] = {0, 0, 0};
		uint32_t u[3];
		sscanf(el->addr ? el->addr : "", "%u . %u . %u", &v[0], &v[1], &v[2]);
		for (int i = 0; i < 3; i++)
			u[i] = v[i];
		memcpy(k, u, 12);
		return 12;
	}
	if (kind == SK_PAIRS) {
		int a = addr_bytes(family, el->addr, k);
		n = a < 0 ? (family == 6 ? 16 : 4) : (size_t)a;
		memcpy(k + n, k, n);
		return 2 * n;
	}
	if (kind == SK_SVC_MAP || kind == SK_ADDRS || kind == SK_AFFINITY) {
		int a = addr_bytes(family, el->addr, k);
		n = a < 0 ? (family == 6 ? 16 : 4) : (size_t)a;
		if (kind != SK_SVC_MAP)
			return n;
	}
	k[n] = (unsigned char)el->proto;
	n += 4;
	k[n] = (unsigned char)(el->port >> 8);
	k[n + 1] = (unsigned char)el->port;
	return n + 4;
}

/* An endpoints element's data, "ADDR . PORT": the address, then the port in
 * network order padded to 4. Returns its length. */
static size_t endpoint_bytes(int family, const char *text, unsigned char *d)
{
	char addr[64] = "";
	int port = 0;
	size_t n = family == 6 ? 16 : 4;

	memset(d, 0, 20);
	sscanf(text ? text : "", "%63s . %d", addr, &port);
	addr_bytes(family, addr, d);
	d[n] = (unsigned char)(port >> 8);
	d[n + 1] = (unsigned char)port;
	return n + 4;
}

/* ------------------------------------------------------------------ batch */

typedef struct batch {
	char *p;
	size_t len, cap;
	uint32_t seq, first_seq;
	uint32_t set_id;
	int family;
	const px_op **msg_op; /* the op each message came from, by seq - first_seq */
	size_t nmsg, capmsg;
} batch;

/* Room for one more message of up to room bytes. */
static void *b_room(batch *b, size_t room)
{
	if (b->len + room > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 20;
		while (cap < b->len + room)
			cap *= 2;
		b->p = realloc(b->p, cap);
		b->cap = cap;
	}
	memset(b->p + b->len, 0, room < 4096 ? room : 4096);
	return b->p + b->len;
}

static struct nlmsghdr *b_msg(batch *b, size_t room, int type, int flags, const px_op *op)
{
	struct nlmsghdr *nlh;

	if (b->nmsg == b->capmsg) {
		b->capmsg = b->capmsg ? 2 * b->capmsg : 1024;
		b->msg_op = realloc(b->msg_op, b->capmsg * sizeof *b->msg_op);
	}
	b->msg_op[b->nmsg++] = op;
	nlh = nftnl_nlmsg_build_hdr(b_room(b, room), (uint16_t)type, (uint16_t)nfproto(b->family),
				    (uint16_t)flags, b->seq++);
	return nlh;
}

static void b_done(batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void set_table_chain(struct nftnl_rule *r, int family, const char *chain)
{
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)nfproto(family));
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PX_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
}

/* The user data nft 1.0.6 writes on each kind of set (byte order and typeof
 * hints), so that `nft list` prints our sets as it prints its own. */
static const unsigned char ud_map[] = {0, 4, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 3, 8,
				       0, 4, 13, 0, 0, 0, 1, 0, 6, 4, 0, 0, 0, 0};
static const unsigned char ud_addr[] = {0, 4, 2, 0, 0, 0};
static const unsigned char ud_state[] = {0, 4, 0, 0, 0, 0, 3, 8, 0, 4, 13, 0, 0, 0, 1, 0};
/* "typeof numgen random mod 1 . numgen random mod 1 . numgen random mod 1 :
 * ip daddr . th dport" (and ip6), as nft 1.0.6 writes it */
static const unsigned char ud_endpoints4[] = {
	0, 4, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 3, 92, 0, 4, 13, 0, 0, 0, 1, 84, 0, 26, 0, 4, 23, 0,
	0, 0, 1, 18, 0, 4, 1, 0, 0, 0, 1, 4, 1, 0, 0, 0, 2, 4, 0, 0, 0, 0, 1, 26, 0, 4, 23, 0,
	0, 0, 1, 18, 0, 4, 1, 0, 0, 0, 1, 4, 1, 0, 0, 0, 2, 4, 0, 0, 0, 0, 2, 26, 0, 4, 23, 0,
	0, 0, 1, 18, 0, 4, 1, 0, 0, 0, 1, 4, 1, 0, 0, 0, 2, 4, 0, 0, 0, 0, 4, 52, 0, 4, 13, 0,
	0, 0, 1, 44, 0, 20, 0, 4, 7, 0, 0, 0, 1, 12, 0, 4, 12, 0, 0, 0, 1, 4, 12, 0, 0, 0, 1,
	20, 0, 4, 7, 0, 0, 0, 1, 12, 0, 4, 11, 0, 0, 0, 1, 4, 2, 0, 0, 0, 6, 4, 0, 0, 0, 0};
static const unsigned char ud_endpoints6[] = {
	0, 4, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 3, 92, 0, 4, 13, 0, 0, 0, 1, 84, 0, 26, 0, 4, 23, 0,
	0, 0, 1, 18, 0, 4, 1, 0, 0, 0, 1, 4, 1, 0, 0, 0, 2, 4, 0, 0, 0, 0, 1, 26, 0, 4, 23, 0,
	0, 0, 1, 18, 0, 4, 1, 0, 0, 0, 1, 4, 1, 0, 0, 0, 2, 4, 0, 0, 0, 0, 2, 26, 0, 4, 23, 0,
	0, 0, 1, 18, 0, 4, 1, 0, 0, 0, 1, 4, 1, 0, 0, 0, 2, 4, 0, 0, 0, 0, 4, 52, 0, 4, 13, 0,
	0, 0, 1, 44, 0, 20, 0, 4, 7, 0, 0, 0, 1, 12, 0, 4, 13, 0, 0, 0, 1, 4, 9, 0, 0, 0, 1, 20,
	0, 4, 7, 0, 0, 0, 1, 12, 0, 4, 11, 0, 0, 0, 1, 4, 2, 0, 0, 0, 6, 4, 0, 0, 0, 0};

static struct nftnl_set *new_set(int family, const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, PX_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)nfproto(family));
	return s;
}

static void b_add_set(batch *b, const px_set *ps, const px_op *op)
{
	struct nftnl_set *s = new_set(b->family, ps->name);
	int v6 = b->family == 6;
	struct nlmsghdr *nlh;

	nftnl_set_set_u32(s, NFTNL_SET_ID, ++b->set_id);
	switch (ps->kind) {
	case SK_SVC_MAP:
	case SK_PORT_MAP:
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		if (ps->kind == SK_SVC_MAP) {
			nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, ((v6 ? 8u : 7u) << 12) | (12u << 6) | 13u);
			nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v6 ? 24 : 12);
		} else {
			nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, (12u << 6) | 13u);
			nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 8);
		}
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 16);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, ud_map, sizeof ud_map);
		break;
	case SK_ENDPOINTS:
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, (4u << 12) | (4u << 6) | 4u);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 12);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, ((v6 ? 8u : 7u) << 6) | 13u);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, v6 ? 20 : 8);
		if (v6)
			nftnl_set_set_data(s, NFTNL_SET_USERDATA, ud_endpoints6, sizeof ud_endpoints6);
		else
			nftnl_set_set_data(s, NFTNL_SET_USERDATA, ud_endpoints4, sizeof ud_endpoints4);
		break;
	case SK_PAIRS:
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, 0);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, v6 ? (8u << 6) | 8u : (7u << 6) | 7u);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v6 ? 32 : 8);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, ud_state, sizeof ud_state);
		break;
	case SK_STATE:
	case SK_VERSIONS:
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, 0);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, (19u << 6) | 19u);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 8);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, ud_state, sizeof ud_state);
		break;
	case SK_ADDRS:
	case SK_AFFINITY:
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, v6 ? 8 : 7);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v6 ? 16 : 4);
		if (ps->kind == SK_AFFINITY) {
			nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
			nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, (uint64_t)ps->timeout * 1000);
			nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, 65535);
		} else
			nftnl_set_set_u32(s, NFTNL_SET_FLAGS, 0);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, ud_addr, sizeof ud_addr);
		break;
	}
	nlh = b_msg(b, 4096, NFT_MSG_NEWSET, NLM_F_CREATE, op);
	nftnl_set_nlmsg_build_payload(nlh, s);
	b_done(b, nlh);
	nftnl_set_free(s);
}

static void b_del_set(batch *b, const char *name, const px_op *op)
{
	struct nftnl_set *s = new_set(b->family, name);
	struct nlmsghdr *nlh = b_msg(b, 1024, NFT_MSG_DELSET, 0, op);

	nftnl_set_nlmsg_build_payload(nlh, s);
	b_done(b, nlh);
	nftnl_set_free(s);
}

static struct nftnl_set_elem *verdict_elem(const void *key, size_t klen, const char *chain)
{
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();

	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, (uint32_t)klen);
	if (chain) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_GOTO);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chain);
	} else
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NF_DROP);
	return el;
}

/* A netlink attribute's length is 16 bits: the nested list of elements of
 * one message must stay under 64 KiB, so long lists take several messages.
 * elem_size over-estimates one element's encoding. */
#define ELEMS_MAX_BYTES 48000
static size_t elem_size(const char *chain)
{
	return 96 + (chain ? strlen(chain) : 0);
}

static void cidr_bytes(int family, const char *cidr, unsigned char *a, int *plen)
{
	char buf[64], *slash;

	snprintf(buf, sizeof buf, "%s", cidr);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	memset(a, 0, 16);
	addr_bytes(family, buf, a);
	*plen = slash ? atoi(slash) : (family == 6 ? 128 : 32);
}

/* meta mark set meta mark | 0x4000 */
static void e_mark_set(struct nftnl_rule *r)
{
	uint32_t mark = PX_MASQ_MARK;

	e_meta(r, NFT_META_MARK, NFT_REG_1);
	e_bitwise_u32(r, NFT_REG_1, ~mark, mark);
	e_meta_set(r, NFT_META_MARK, NFT_REG_1);
}

/* [update @SET { ip saddr }] meta l4proto P dnat to ADDR:PORT */
static void e_dnat(struct nftnl_rule *r, int fam, const px_rule *pr)
{
	struct nftnl_expr *e;
	unsigned char a[16];
	uint16_t port = htons((uint16_t)pr->port);
	int n = addr_bytes(fam, pr->addr, a);

	if (pr->set) {
		e = nftnl_expr_alloc("dynset");
		e_addr(r, fam, 1, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
		nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, pr->set);
		add(r, e);
	}
	e_l4proto_is(r, pr->proto);
	e_imm(r, NFT_REG_1, a, (size_t)(n < 0 ? 4 : n));
	e_imm(r, NFT_REG_2, &port, 2);
	e = nftnl_expr_alloc("nat");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, (uint32_t)nfproto(fam));
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED_);
	add(r, e);
}

/* One abstract rule to expressions, as nft encodes the same text. */
static void encode_rule(batch *b, struct nftnl_rule *r, const px_rule *pr, const px_op *op)
{
	int fam = b->family, v6 = fam == 6;
	unsigned char a[16];
	uint32_t mark = PX_MASQ_MARK;

	switch (pr->kind) {
	case RK_JUMP:
		e_verdict(r, NFT_JUMP, pr->chain);
		break;
	case RK_GOTO:
		e_verdict(r, NFT_GOTO, pr->chain);
		break;
	case RK_SVC_VMAP:
		e_addr(r, fam, 0, NFT_REG_1);
		e_meta(r, NFT_META_L4PROTO, v6 ? NFT_REG_2 : NFT_REG32_01);
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, v6 ? NFT_REG32_05 : NFT_REG32_02);
		e_lookup(r, NFT_REG_1, NFT_REG_VERDICT, pr->set, 0);
		break;
	case RK_NP_VMAP_FIB:
	case RK_NP_VMAP_SET:
		if (pr->kind == RK_NP_VMAP_FIB)
			e_fib_local(r, 1);
		else {
			e_addr(r, fam, 0, NFT_REG_1);
			e_lookup(r, NFT_REG_1, -1, pr->set2, 0);
		}
		e_meta(r, NFT_META_L4PROTO, NFT_REG_1);
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
		e_lookup(r, NFT_REG_1, NFT_REG_VERDICT, pr->set, 0);
		break;
	case RK_CT_NEW_JUMP: {
		struct nftnl_expr *e = nftnl_expr_alloc("ct");
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
		add(r, e);
		e_bitwise_u32(r, NFT_REG_1, 8 /* NF_CT_STATE_BIT(IP_CT_NEW) */, 0);
		e_cmp_u32(r, NFT_REG_1, NFT_CMP_NEQ, 0);
		e_verdict(r, NFT_JUMP, pr->chain);
		break;
	}
	case RK_MARK_SET:
		e_mark_set(r);
		break;
	case RK_MARK_RETURN:
		e_meta(r, NFT_META_MARK, NFT_REG_1);
		e_bitwise_u32(r, NFT_REG_1, mark, 0);
		e_cmp_u32(r, NFT_REG_1, NFT_CMP_EQ, 0);
		e_verdict(r, NFT_RETURN, NULL);
		break;
	case RK_MARK_CLEAR:
		e_meta(r, NFT_META_MARK, NFT_REG_1);
		e_bitwise_u32(r, NFT_REG_1, 0xffffffffu, mark);
		e_meta_set(r, NFT_META_MARK, NFT_REG_1);
		break;
	case RK_MASQ: {
		struct nftnl_expr *e = nftnl_expr_alloc("masq");
		nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_FLAGS, NF_NAT_RANGE_PROTO_RANDOM_FULLY_);
		add(r, e);
		break;
	}
	case RK_REJECT_TCP:
		e_l4proto_is(r, PX_TCP);
		e_reject(r, NFT_REJECT_TCP_RST, 0);
		break;
	case RK_REJECT:
		e_reject(r, NFT_REJECT_ICMP_UNREACH, v6 ? 4 : 3); /* port unreachable */
		break;
	case RK_DROP:
		e_verdict(r, NF_DROP, NULL);
		break;
	case RK_SADDR_NOT_MARK: {
		int plen, nbytes;
		unsigned char mask[16] = {0}, zero[16] = {0};
		cidr_bytes(fam, pr->addr, a, &plen);
		nbytes = (plen + 7) / 8;
		for (int i = 0; i < plen; i++)
			mask[i / 8] |= (unsigned char)(0x80 >> (i % 8));
		for (int i = 0; i < 16; i++)
			a[i] &= mask[i];
		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, nbytes, NFT_REG_1);
		if (plen % 8)
			e_bitwise(r, NFT_REG_1, mask, zero, (size_t)nbytes);
		e_cmp(r, NFT_REG_1, NFT_CMP_NEQ, a, (size_t)nbytes);
		e_mark_set(r);
		break;
	}
	case RK_FIB_LOCAL_MARK:
		e_fib_local(r, 0);
		e_mark_set(r);
		break;
	case RK_FIB_LOCAL_GOTO:
		e_fib_local(r, 0);
		e_verdict(r, NFT_GOTO, pr->chain);
		break;
	case RK_PAIR_MARK:
		e_addr(r, fam, 1, NFT_REG_1);
		e_addr(r, fam, 0, v6 ? NFT_REG_2 : NFT_REG32_01);
		e_lookup(r, NFT_REG_1, -1, pr->set, 0);
		e_mark_set(r);
		break;
	case RK_AFF_DNAT:
		e_addr(r, fam, 1, NFT_REG_1);
		e_lookup(r, NFT_REG_1, -1, pr->set, 0);
		e_dnat(r, fam, &(px_rule){.kind = RK_DNAT, .addr = pr->addr, .proto = pr->proto,
					  .port = pr->port});
		break;
	case RK_DNAT:
		e_dnat(r, fam, pr);
		break;
	case RK_NG_DNAT: {
		struct nftnl_expr *e = nftnl_expr_alloc("numgen");
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, (uint32_t)pr->mod);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
		add(r, e);
		e_cmp_u32(r, NFT_REG_1, NFT_CMP_EQ, (uint32_t)pr->val);
		e_dnat(r, fam, pr);
		break;
	}
	case RK_HASH_DNAT: {
		struct nftnl_expr *e = nftnl_expr_alloc("hash");
		e_addr(r, fam, 1, NFT_REG_2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SREG, NFT_REG_2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_LEN, v6 ? 16 : 4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_MODULUS, (uint32_t)pr->mod);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SEED, pr->seed);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_TYPE, NFT_HASH_JENKINS);
		add(r, e);
		e_cmp_u32(r, NFT_REG_1, NFT_CMP_EQ, (uint32_t)pr->val);
		e_dnat(r, fam, pr);
		break;
	}
	case RK_MAP_DNAT: {
		/* the chain's id: two numgen "random mod 1" that are their offsets */
		uint32_t id[2] = {pr->hi, pr->lo};
		struct nftnl_expr *e;
		e_l4proto_is(r, pr->proto);
		for (int i = 0; i < 2; i++) {
			e = nftnl_expr_alloc("numgen");
			nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, i ? NFT_REG32_01 : NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, 1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NG_OFFSET, id[i]);
			add(r, e);
		}
		if (pr->lb == PX_LB_SH) {
			e = nftnl_expr_alloc("hash");
			e_addr(r, fam, 1, NFT_REG32_07);
			nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SREG, NFT_REG32_07);
			nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_DREG, NFT_REG32_02);
			nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_LEN, v6 ? 16 : 4);
			nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_MODULUS, (uint32_t)pr->mod);
			nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SEED, pr->seed);
			nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_TYPE, NFT_HASH_JENKINS);
		} else {
			e = nftnl_expr_alloc("numgen");
			nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG32_02);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, (uint32_t)pr->mod);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE,
					   pr->lb == PX_LB_RR ? NFT_NG_INCREMENTAL : NFT_NG_RANDOM);
		}
		add(r, e);
		e_lookup(r, NFT_REG_1, NFT_REG_1, pr->set, 0);
		e = nftnl_expr_alloc("nat");
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, (uint32_t)nfproto(fam));
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, v6 ? NFT_REG_2 : NFT_REG32_01);
		add(r, e);
		break;
	}
	}
}

static void b_rules(batch *b, const px_chain *c, const px_op *op)
{
	for (size_t i = 0; i < c->nrules; i++) {
		struct nftnl_rule *r = nftnl_rule_alloc();
		struct nlmsghdr *nlh;
		const px_rule *pr = &c->rules[i];
		set_table_chain(r, b->family, c->name);
		encode_rule(b, r, pr, op);
		nlh = b_msg(b, 4096, NFT_MSG_NEWRULE,
			    NLM_F_CREATE | NLM_F_APPEND, op);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		b_done(b, nlh);
		nftnl_rule_free(r);
	}
}

static void b_chain(batch *b, int type, const px_chain *c, const px_op *op)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, (uint32_t)nfproto(b->family));
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, PX_TABLE);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, c->name);
	if (type == NFT_MSG_NEWCHAIN && c->hook != PX_HOOK_NONE) {
		char comment[64];
		struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(256);
		px_chain_comment(c, comment, sizeof comment);
		nftnl_udata_put_strz(ud, NFTNL_UDATA_CHAIN_COMMENT, comment);
		nftnl_chain_set_data(ch, NFTNL_CHAIN_USERDATA, nftnl_udata_buf_data(ud),
				     nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, (uint32_t)c->hook);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c->prio);
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, c->nat ? "nat" : "filter");
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = b_msg(b, 2048, type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0, op);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	b_done(b, nlh);
	nftnl_chain_free(ch);
}

static void b_flush(batch *b, const px_chain *c, const px_op *op)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh = b_msg(b, 1024, NFT_MSG_DELRULE, 0, op);

	set_table_chain(r, b->family, c->name);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	b_done(b, nlh);
	nftnl_rule_free(r);
}

/* Consecutive element ops on one set go in one message (up to a limit). */
static size_t b_elems(batch *b, const px_ops *ops, size_t i)
{
	const px_op *op = &ops->ops[i];
	int type = op->kind == OP_ADD_ELEM ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM;
	struct nftnl_set *s = new_set(b->family, op->elem->set);
	size_t j = i, room = 1024;
	struct nlmsghdr *nlh;

	size_t bytes = 0;
	while (j < ops->n && bytes < ELEMS_MAX_BYTES && ops->ops[j].kind == op->kind &&
	       !strcmp(ops->ops[j].elem->set, op->elem->set)) {
		const px_op *o = &ops->ops[j];
		unsigned char k[32];
		size_t kl = elem_key_bytes(b->family, o->elem, o->set_kind, k);
		if (o->set_kind == SK_SVC_MAP || o->set_kind == SK_PORT_MAP)
			nftnl_set_elem_add(s, verdict_elem(k, kl, type == NFT_MSG_NEWSETELEM
									 ? o->elem->verdict
									 : NULL));
		else if (o->set_kind == SK_ENDPOINTS) {
			struct nftnl_set_elem *el = nftnl_set_elem_alloc();
			unsigned char d[20];
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, k, (uint32_t)kl);
			if (type == NFT_MSG_NEWSETELEM)
				nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, d,
						   (uint32_t)endpoint_bytes(b->family, o->elem->verdict, d));
			nftnl_set_elem_add(s, el);
		} else {
			struct nftnl_set_elem *el = nftnl_set_elem_alloc();
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, k, (uint32_t)kl);
			nftnl_set_elem_add(s, el);
		}
		bytes += elem_size(o->elem->verdict);
		j++;
	}
	nlh = b_msg(b, room + bytes, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, op);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	b_done(b, nlh);
	nftnl_set_free(s);
	return j;
}

static void b_table(batch *b, int type, const px_op *op)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh = b_msg(b, 1024, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0, op);

	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (uint32_t)nfproto(b->family));
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PX_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	b_done(b, nlh);
	nftnl_table_free(t);
}

static void b_begin(batch *b, int family)
{
	memset(b, 0, sizeof *b);
	b->family = family;
	b->seq = b->first_seq = (uint32_t)time(NULL) << 8;
	if (b->msg_op == NULL) {
		b->capmsg = 1024;
		b->msg_op = malloc(b->capmsg * sizeof *b->msg_op);
	}
	b->msg_op[b->nmsg++] = NULL;
	nftnl_batch_begin(b_room(b, 256), b->seq++);
	b->len += NLMSG_ALIGN(((struct nlmsghdr *)(b->p + b->len))->nlmsg_len);
}

/* Close the batch; the last real message asks for the acknowledgement. */
static uint32_t b_end(batch *b, struct nlmsghdr *last)
{
	uint32_t ack_seq = last ? last->nlmsg_seq : 0;

	if (last)
		last->nlmsg_flags |= NLM_F_ACK;
	nftnl_batch_end(b_room(b, 256), b->seq++);
	b->len += NLMSG_ALIGN(((struct nlmsghdr *)(b->p + b->len))->nlmsg_len);
	return ack_seq;
}

static void b_free(batch *b)
{
	free(b->p);
	free(b->msg_op);
}

/* ------------------------------------------------------------------ talking */

static struct mnl_socket *nl_open(size_t sndbuf, kx_err *e)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int one = 1;

	if (!nl) {
		kx_err_set(e, 1, "cannot open a netfilter netlink socket: %s", strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		kx_err_set(e, 1, "cannot bind the netlink socket: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof one);
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one);
	if (sndbuf) {
		int sz = (int)(sndbuf + 65536);
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz);
	}
	struct timeval tv = {30, 0};
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	{
		int rb = 4 << 20;
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb);
	}
	return nl;
}

static void describe_op(char *out, size_t n, const px_op *op)
{
	static const char *const names[] = {"delete the table", "create the table", "create chain", "delete an element of",
					    "flush chain", "replace chain", "delete set", "create set",
					    "add a rule to chain", "add an element to", "delete chain",
					    "delete set"};
	const char *obj = op->chain ? op->chain->name : op->set ? op->set->name
						  : op->elem ? op->elem->set : "";

	snprintf(out, n, "%s%s%s%s", names[op->kind], *obj ? " \"" : "", obj, *obj ? "\"" : "");
}

/* Send the batch and wait for the kernel's answer to its last message. */
static int b_send(batch *b, uint32_t ack_seq, kx_err *e)
{
	struct mnl_socket *nl = nl_open(b->len, e);
	char buf[1 << 16];
	int failed = 0;

	if (!nl)
		return -1;
	int64_t t0 = kx_now_ms();
	if (mnl_socket_sendto(nl, b->p, b->len) < 0) {
		kx_err_set(e, 1, "cannot send %zu bytes to nf_tables: %s", b->len, strerror(errno));
		mnl_socket_close(nl);
		return -1;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		int done = 0;
		if (n < 0) {
			if (!failed)
				kx_err_set(e, 1, "no answer from nf_tables: %s", strerror(errno));
			failed = 1;
			break;
		}
		for (int len = (int)n; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			if (err->error && !failed) {
				char what[400] = "apply the batch";
				size_t idx = nlh->nlmsg_seq - b->first_seq;
				if (idx < b->nmsg && b->msg_op[idx])
					describe_op(what, sizeof what, b->msg_op[idx]);
				kx_err_set(e, 1, "nf_tables refused to %s in table %s kx: %s", what,
					   b->family == 6 ? "ip6" : "ip", strerror(-err->error));
				failed = 1;
			}
			if (nlh->nlmsg_seq == ack_seq)
				done = 1;
		}
		if (done)
			break;
	}
	mnl_socket_close(nl);
	kx_log_debug(2, "the kernel took %lld ms for %zu messages, %zu bytes",
		     (long long)(kx_now_ms() - t0), b->nmsg + 1, b->len);
	return failed ? -1 : 0;
}

int px_nl_apply(const px_ops *const *lists, size_t nlists, size_t *bytes, kx_err *e)
{
	batch b;
	size_t last_off = 0, total = 0;
	int rc, any = 0;

	if (bytes)
		*bytes = 0;
	for (size_t l = 0; l < nlists; l++)
		total += lists[l]->n;
	if (!total)
		return 0; /* nothing changed: nothing is sent */
	b_begin(&b, lists[0]->family);
	for (size_t l = 0; l < nlists; l++) {
		const px_ops *ops = lists[l];
		b.family = ops->family; /* one batch may carry ip and ip6 */
		for (size_t i = 0; i < ops->n;) {
			const px_op *op = &ops->ops[i];
			size_t before = b.len, next = i + 1;
			switch (op->kind) {
			case OP_ADD_TABLE:
				b_table(&b, NFT_MSG_NEWTABLE, op);
				break;
			case OP_DEL_TABLE:
				b_table(&b, NFT_MSG_DELTABLE, op);
				break;
			case OP_ADD_CHAIN:
				b_chain(&b, NFT_MSG_NEWCHAIN, op->chain, op);
				break;
			case OP_FLUSH_CHAIN:
				b_flush(&b, op->chain, op);
				break;
			case OP_DEL_SET_EARLY:
			case OP_DEL_SET:
				b_del_set(&b, op->set->name, op);
				break;
			case OP_ADD_SET:
				b_add_set(&b, op->set, op);
				break;
			case OP_REPLACE_CHAIN:
				/* a regular chain is emptied and refilled in place,
				 * so whatever points to it still does; a base chain,
				 * which nothing points to, goes and comes back with
				 * its new comment */
				b_flush(&b, op->chain, op);
				if (op->chain->hook != PX_HOOK_NONE) {
					b_chain(&b, NFT_MSG_DELCHAIN, op->chain, op);
					b_chain(&b, NFT_MSG_NEWCHAIN, op->chain, op);
				}
				break;
			case OP_ADD_RULES:
				b_rules(&b, op->chain, op);
				break;
			case OP_DEL_ELEM:
			case OP_ADD_ELEM:
				next = b_elems(&b, ops, i);
				break;
			case OP_DEL_CHAIN:
				b_chain(&b, NFT_MSG_DELCHAIN, op->chain, op);
				break;
			}
			if (b.len > before) {
				/* the last message's start (the buffer may move) */
				size_t off = before;
				while (off + NLMSG_ALIGN(((struct nlmsghdr *)(b.p + off))->nlmsg_len) < b.len)
					off += NLMSG_ALIGN(((struct nlmsghdr *)(b.p + off))->nlmsg_len);
				last_off = off;
				any = 1;
			}
			i = next;
		}
	}
	uint32_t ack = b_end(&b, any ? (struct nlmsghdr *)(b.p + last_off) : NULL);
	rc = b_send(&b, ack, e);
	if (bytes)
		*bytes = b.len;
	b_free(&b);
	return rc;
}

/* ------------------------------------------------------------------ reading */

typedef struct dump {
	int family;
	px_frag *f;
	int found;
	const char *set;    /* GETSETELEM: the set being read */
	int set_kind;
} dump;

static int dump_run(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	char buf[1 << 16];
	uint32_t seq = nlh->nlmsg_seq, port = mnl_socket_get_portid(nl);
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while ((ret = (int)mnl_socket_recvfrom(nl, buf, sizeof buf)) > 0) {
		ret = mnl_cb_run(buf, (size_t)ret, seq, port, cb, arg);
		if (ret <= 0)
			break;
	}
	return ret;
}

static int table_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	((dump *)arg)->found = 1;
	return MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *arg)
{
	dump *d = arg;
	struct nftnl_chain *c = nftnl_chain_alloc();
	uint32_t len = 0;

	if (nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    !strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), PX_TABLE)) {
		px_chain *pc = px_frag_chain(d->f, px_frag_str(d->f, nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)));
		const unsigned char *ud = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len);
		/* user data: TLV, type 0 the comment */
		if (ud && len > 2 && ud[0] == NFTNL_UDATA_CHAIN_COMMENT && ud[1] + 2u <= len) {
			char comment[260];
			memcpy(comment, ud + 2, ud[1]);
			comment[ud[1]] = 0;
			if (!strncmp(comment, "kx:", 3))
				pc->hash = strtoull(comment + 3, NULL, 16);
		}
		if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
			pc->hook = (int)nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *arg)
{
	dump *d = arg;
	struct nftnl_set *s = nftnl_set_alloc();

	if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    !(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)) {
		const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
		int timeout = nftnl_set_is_set(s, NFTNL_SET_TIMEOUT)
				      ? (int)(nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT) / 1000)
				      : 0;
		int kind = px_set_kind_by_name(name);
		if (kind == SK_AFFINITY && !timeout)
			kind = SK_ADDRS; /* not ours as we make it: replace it */
		px_frag_set(d->f, px_frag_str(d->f, name), kind, timeout);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int elem_cb(const struct nlmsghdr *nlh, void *arg)
{
	dump *d = arg;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	it = nftnl_set_elems_iter_create(s);
	while (it && (el = nftnl_set_elems_iter_next(it))) {
		uint32_t kl = 0;
		const unsigned char *k = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &kl);
		char addr[64] = "";
		int alen = d->family == 6 ? 16 : 4, proto = 0, port = 0;
		const char *verdict = NULL;
		if (!k)
			continue;
		if (d->set_kind == SK_ENDPOINTS) {
			uint32_t v[3];
			uint32_t dl = 0;
			const unsigned char *data = nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA, &dl);
			char text[80];
			if (kl < 12 || !data || dl < (uint32_t)alen + 2)
				continue;
			memcpy(v, k, 12);
			snprintf(addr, sizeof addr, "%u . %u . %u", v[0], v[1], v[2]);
			inet_ntop(d->family == 6 ? AF_INET6 : AF_INET, data, text, 64);
			snprintf(text + strlen(text), sizeof text - strlen(text), " . %d",
				 (data[alen] << 8) | data[alen + 1]);
			px_frag_elem(d->f, d->set, px_frag_str(d->f, addr), 0, 0,
				     px_frag_str(d->f, text));
			continue;
		}
		if (d->set_kind == SK_STATE || d->set_kind == SK_VERSIONS) {
			uint32_t v[2];
			if (kl < 8)
				continue;
			memcpy(v, k, 8);
			snprintf(addr, sizeof addr, "0x%08x . 0x%08x", v[0], v[1]);
			px_frag_elem(d->f, d->set, px_frag_str(d->f, addr), 0, 0, NULL);
			continue;
		}
		if (d->set_kind != SK_PORT_MAP) {
			if (kl < (uint32_t)alen)
				continue;
			inet_ntop(d->family == 6 ? AF_INET6 : AF_INET, k, addr, sizeof addr);
			k += alen;
			kl -= (uint32_t)alen;
		}
		if (d->set_kind == SK_SVC_MAP || d->set_kind == SK_PORT_MAP) {
			if (kl < 8)
				continue;
			proto = k[0];
			port = (k[4] << 8) | k[5];
			if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_CHAIN))
				verdict = px_frag_str(d->f, nftnl_set_elem_get_str(el, NFTNL_SET_ELEM_CHAIN));
		}
		px_frag_elem(d->f, d->set, *addr ? px_frag_str(d->f, addr) : NULL, proto, port,
			     verdict);
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int table_exists(struct mnl_socket *nl, int family, kx_err *e, int *found)
{
	char buf[4096];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	dump d = {0};

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, (uint16_t)nfproto(family), NLM_F_ACK,
				    (uint32_t)time(NULL));
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PX_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (dump_run(nl, nlh, table_cb, &d) < 0 && errno != ENOENT)
		return kx_err_set(e, 1, "cannot read table %s kx: %s", family == 6 ? "ip6" : "ip",
				  strerror(errno));
	*found = d.found;
	return 0;
}

typedef struct version {
	uint32_t name, hash;
} version;

static int cmp_version(const void *a, const void *b)
{
	uint32_t x = ((const version *)a)->name, y = ((const version *)b)->name;

	return x < y ? -1 : x > y;
}

/* Give each regular chain read from the kernel the hash its element in
 * "versions" says it has; one without stays 0, which nothing matches, so
 * it is refilled. */
static void versions_to_chains(px_frag *f)
{
	version *v = malloc((f->nelems + 1) * sizeof *v);
	size_t n = 0;

	for (size_t i = 0; i < f->nelems; i++) {
		unsigned int a, b;
		if (strcmp(f->elems[i].set, "versions") || !f->elems[i].addr ||
		    sscanf(f->elems[i].addr, "0x%x . 0x%x", &a, &b) != 2)
			continue;
		v[n++] = (version){a, b};
	}
	qsort(v, n, sizeof *v, cmp_version);
	for (size_t i = 0; i < f->nchains; i++) {
		px_chain *c = &f->chains[i];
		version key = {px_chain_name_hash(c->name), 0}, *hit;
		if (c->hook != PX_HOOK_NONE)
			continue;
		hit = n ? bsearch(&key, v, n, sizeof *v, cmp_version) : NULL;
		c->hash = hit ? hit->hash : 0;
	}
	free(v);
}

int px_nl_read(int family, px_ruleset **out, kx_err *e)
{
	struct mnl_socket *nl = nl_open(0, e);
	char buf[4096];
	struct nlmsghdr *nlh;
	dump d = {family, NULL, 0, NULL, 0};
	int found = 0;

	*out = NULL;
	if (!nl)
		return -1;
	if (table_exists(nl, family, e, &found) < 0 || !found) {
		mnl_socket_close(nl);
		return found ? 0 : (e->status ? -1 : 0);
	}
	d.f = px_frag_new("");
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, (uint16_t)nfproto(family), NLM_F_DUMP,
				    (uint32_t)time(NULL) + 1);
	if (dump_run(nl, nlh, chain_cb, &d) < 0)
		goto fail;
	{
		struct nftnl_set *s = nftnl_set_alloc();
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, (uint16_t)nfproto(family),
					    NLM_F_DUMP, (uint32_t)time(NULL) + 2);
		nftnl_set_set_str(s, NFTNL_SET_TABLE, PX_TABLE);
		nftnl_set_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		if (dump_run(nl, nlh, set_cb, &d) < 0)
			goto fail;
	}
	size_t nsets = d.f->nsets;
	for (size_t i = 0; i < nsets; i++) {
		px_set ps = d.f->sets[i];
		struct nftnl_set *s;
		if (ps.kind == SK_AFFINITY)
			continue; /* what a dynamic set holds is the packets' business */
		s = new_set(family, ps.name);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)nfproto(family),
					    NLM_F_DUMP, (uint32_t)time(NULL) + 3 + (uint32_t)i);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		d.set = ps.name;
		d.set_kind = ps.kind;
		if (dump_run(nl, nlh, elem_cb, &d) < 0)
			goto fail;
	}
	mnl_socket_close(nl);
	versions_to_chains(d.f);
	*out = px_ruleset_new(family);
	px_ruleset_add(*out, d.f);
	return 0;
fail:
	kx_err_set(e, 1, "cannot read table %s kx: %s", family == 6 ? "ip6" : "ip", strerror(errno));
	px_frag_unref(d.f);
	mnl_socket_close(nl);
	return -1;
}

int px_nl_read_state(int family, char *buf, size_t n, kx_err *e)
{
	struct mnl_socket *nl = nl_open(0, e);
	char msg[4096];
	struct nlmsghdr *nlh;
	struct nftnl_set *s;
	dump d = {family, NULL, 0, "state", SK_STATE};
	int rc = 0;

	*buf = 0;
	if (!nl)
		return -1;
	d.f = px_frag_new("");
	s = new_set(family, "state");
	nlh = nftnl_nlmsg_build_hdr(msg, NFT_MSG_GETSETELEM, (uint16_t)nfproto(family), NLM_F_DUMP,
				    (uint32_t)time(NULL));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	/* no table or no set (ENOENT): no state, which differs from any */
	if (dump_run(nl, nlh, elem_cb, &d) < 0 && errno != ENOENT)
		rc = kx_err_set(e, 1, "cannot read the state of table %s kx: %s",
				family == 6 ? "ip6" : "ip", strerror(errno));
	if (rc == 0 && d.f->nelems == 1)
		snprintf(buf, n, "%s", d.f->elems[0].addr);
	px_frag_unref(d.f);
	mnl_socket_close(nl);
	return rc;
}

int px_nl_exists(int family, int *found, kx_err *e)
{
	struct mnl_socket *nl = nl_open(0, e);
	int rc;

	*found = 0;
	if (!nl)
		return -1;
	rc = table_exists(nl, family, e, found);
	mnl_socket_close(nl);
	return rc;
}

int px_nl_cleanup(int family, int *found, kx_err *e)
{
	px_op op = {OP_DEL_TABLE, NULL, NULL, NULL, 0};
	px_ops ops = {family, &op, 1, 1};
	const px_ops *list = &ops;

	if (px_nl_exists(family, found, e) < 0 || !*found)
		return *found ? -1 : (e->status ? -1 : 0);
	return px_nl_apply(&list, 1, NULL, e);
}
