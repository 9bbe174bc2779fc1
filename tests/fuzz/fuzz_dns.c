/* libFuzzer harness: kx-dns's answer to any message (answer.c against an
 * index of a few services). A reply must always parse, carry the query's
 * id, and fit in 512 bytes over UDP when the query has no EDNS0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cmd/dns/index.c"
#include "../../cmd/dns/answer.c"

static const char objects[] =
	"[{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
	"\"spec\":{\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"name\":\"http\",\"port\":80}]}},"
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"db\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"None\"}},"
	"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"db-1\",\"namespace\":\"default\","
	"\"labels\":{\"kubernetes.io/service-name\":\"db\"}},\"endpoints\":[{\"addresses\":[\"10.1.0.1\"]},"
	"{\"addresses\":[\"10.1.0.2\"],\"hostname\":\"two\"}]},"
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"ext\",\"namespace\":\"default\"},"
	"\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"web.default.svc.cluster.local\"}}]";

static dns_index *ix;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL;
	size_t len = 0;
	ldns_pkt *p = NULL;

	if (!ix) {
		dns_opts o = {"cluster.local", 5, 1};
		ix = dns_index_build(jv_parse(objects), &o);
	}
	if (size < 1)
		return 0;
	int tcp = data[0] & 1;
	data++, size--;
	enum dns_action a = dns_respond(ix, data, size, tcp, &out, &len);
	if (a == DNS_REPLY || a == DNS_CHASE) {
		if (len < 12 || out[0] != data[0] || out[1] != data[1] || !(out[2] & 0x80))
			abort(); /* a reply to this query */
		if (len > 12 && ldns_wire2pkt(&p, out, len) != LDNS_STATUS_OK)
			abort(); /* which parses */
		if (!tcp && len > 4096)
			abort();
		ldns_pkt_free(p);
	} else if (a == DNS_FORWARD && dns_error_reply(data, size, LDNS_RCODE_SERVFAIL, &out, &len) == 0) {
		if (len < 12 || out[0] != data[0])
			abort();
	}
	free(out);
	return 0;
}
