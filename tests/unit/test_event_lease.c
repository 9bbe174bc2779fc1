/* Unit tests of lib/event (Events and their aggregation) and lib/lease
 * (leader election decisions), with a fixed clock. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "event.h"
#include "json.h"
#include "lease.h"
#include "tap.h"

static jv parse(const char *s)
{
	kx_err e = KX_ERR_INIT;
	jv v = kx_json_parse(s, strlen(s), &e);

	if (!jv_is_valid(v))
		fprintf(stderr, "bad test JSON: %s\n", e.msg);
	return v;
}

static void test_event(void)
{
	struct timespec now = {1800000000, 123456789}, later = {1800000060, 0};
	jv pod = parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\","
		       "\"namespace\":\"prod\",\"uid\":\"u1\",\"resourceVersion\":\"7\"}}");
	jv node = parse("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"uid\":\"u2\"}}");
	kx_event_info ev = {"Normal", "Scheduled", "assigned to n1", "kx-schedule", NULL};
	kx_event_info other = {"Warning", "Scheduled", "assigned to n1", "kx-schedule", NULL};
	char buf[128];
	jv ref = kx_event_ref(pod), e, e2;

	is_str(kx_jv_str(ref, "kind", buf, sizeof buf, ""), "Pod", "ref has the kind");
	is_str(kx_jv_str(ref, "uid", buf, sizeof buf, ""), "u1", "ref has the uid");
	is_str(kx_jv_str(ref, "resourceVersion", buf, sizeof buf, ""), "7", "ref has the resourceVersion");
	e = kx_event_new(jv_copy(ref), &ev, &now);
	is_str(kx_jv_str(e, "metadata.namespace", buf, sizeof buf, ""), "prod", "event lives in the object's namespace");
	is_str(kx_jv_str(e, "metadata.name", buf, sizeof buf, ""), "web-1.18fae2769b0fcd15",
	       "event named object.hex-nanoseconds");
	is_int(kx_jv_int(e, "count", 0), 1, "count starts at 1");
	is_str(kx_jv_str(e, "firstTimestamp", buf, sizeof buf, ""), "2027-01-15T08:00:00Z", "firstTimestamp");
	is_str(kx_jv_str(e, "source.component", buf, sizeof buf, ""), "kx-schedule", "source component");
	is_str(kx_jv_str(e, "type", buf, sizeof buf, ""), "Normal", "type");
	ok(kx_event_same(e, ref, &ev), "same event matches");
	ok(!kx_event_same(e, ref, &other), "a different type does not");
	kx_event_info msg2 = ev;
	msg2.message = "assigned to n2";
	ok(!kx_event_same(e, ref, &msg2), "a different message does not");
	jv ref2 = kx_event_ref(node);
	ok(!kx_event_same(e, ref2, &ev), "another object does not");
	e2 = kx_event_new(ref2, &ev, &now);
	is_str(kx_jv_str(e2, "metadata.namespace", buf, sizeof buf, ""), "default",
	       "cluster-scoped objects' events go to default");
	jv_free(e2);
	e = kx_event_bump(e, &later);
	is_int(kx_jv_int(e, "count", 0), 2, "bump counts");
	is_str(kx_jv_str(e, "lastTimestamp", buf, sizeof buf, ""), "2027-01-15T08:01:00Z", "bump moves lastTimestamp");
	is_str(kx_jv_str(e, "firstTimestamp", buf, sizeof buf, ""), "2027-01-15T08:00:00Z", "and keeps firstTimestamp");
	jv_free(e);
	jv_free(ref);
	jv_free(pod);
	jv_free(node);
}

/* kx_event_decide: bump the same Event, make a new one for a new message,
 * fold the tenth different message within ten minutes into one combined
 * Event, and bump that one afterwards. */
static void test_event_decide(void)
{
	struct timespec now = {1800000000, 0}, much_later = {1800000000 + 3600, 0};
	jv rs = parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"web\","
		      "\"namespace\":\"prod\",\"uid\":\"u1\"}}");
	jv ref = kx_event_ref(rs), have = jv_array(), out;
	kx_event_info ev = {"Normal", "SuccessfulCreate", "Created pod: web-0", "replicaset-controller", NULL};
	char msg[64], buf[256];

	out = kx_event_decide(have, ref, &ev, &now);
	ok(!jv_object_has(kx_jv_get(jv_copy(out), "metadata"), jv_string("resourceVersion")),
	   "nothing recorded yet: a new Event");
	out = kx_jv_set(out, "metadata.resourceVersion", jv_string("1"));
	have = jv_array_append(have, out);
	out = kx_event_decide(have, ref, &ev, &now);
	is_int(kx_jv_int(out, "count", 0), 2, "the same again: that Event, bumped");
	is_str(kx_jv_str(out, "metadata.resourceVersion", buf, sizeof buf, ""), "1", "keeping its resourceVersion");
	jv_free(out);
	for (int i = 1; i < 9; i++) {
		snprintf(msg, sizeof msg, "Created pod: web-%d", i);
		ev.message = msg;
		out = kx_event_decide(have, ref, &ev, &now);
		out = kx_jv_set(out, "metadata.resourceVersion", jv_string("2"));
		have = jv_array_append(have, out);
	}
	is_str(kx_jv_str(out, "message", buf, sizeof buf, ""), "Created pod: web-8", "nine messages: nine Events");
	ev.message = "Created pod: web-9";
	out = kx_event_decide(have, ref, &ev, &now);
	is_str(kx_jv_str(out, "message", buf, sizeof buf, ""), "(combined from similar events): Created pod: web-9",
	       "the tenth different message: one combined Event");
	is_int(kx_jv_int(out, "count", 0), 1, "new, count 1");
	out = kx_jv_set(out, "metadata.resourceVersion", jv_string("3"));
	have = jv_array_append(have, out);
	ev.message = "Created pod: web-10";
	out = kx_event_decide(have, ref, &ev, &now);
	is_str(kx_jv_str(out, "message", buf, sizeof buf, ""), "(combined from similar events): Created pod: web-10",
	       "the next: the combined Event says the latest message");
	is_int(kx_jv_int(out, "count", 0), 2, "and counts it");
	is_str(kx_jv_str(out, "metadata.resourceVersion", buf, sizeof buf, ""), "3", "an update of it");
	jv_free(out);
	ev.message = "Created pod: web-0";
	out = kx_event_decide(have, ref, &ev, &now);
	ok(!strncmp(kx_jv_str(out, "message", buf, sizeof buf, ""), "(combined", 9), "an old message, past ten: combined too");
	jv_free(out);
	ev.message = "Created pod: web-11";
	out = kx_event_decide(have, ref, &ev, &much_later);
	is_str(kx_jv_str(out, "message", buf, sizeof buf, ""), "Created pod: web-11",
	       "an hour later the old ones no longer count: a plain Event");
	jv_free(out);
	kx_event_info warn = ev;
	warn.type = "Warning";
	out = kx_event_decide(have, ref, &warn, &now);
	is_str(kx_jv_str(out, "message", buf, sizeof buf, ""), "Created pod: web-11",
	       "another type is not similar");
	jv_free(out);
	jv_free(have);
	jv_free(ref);
	jv_free(rs);
}

static void test_lease(void)
{
	struct timespec now = {1800000000, 0};
	char buf[128];
	jv out;

	is_int(kx_lease_decide(jv_null(), "kube-system", "kx-reconcile", "a", 15, &now, &out),
	       KX_LEASE_ACQUIRE, "absent lease: acquire");
	is_str(kx_jv_str(out, "spec.holderIdentity", buf, sizeof buf, ""), "a", "holder set");
	is_str(kx_jv_str(out, "metadata.namespace", buf, sizeof buf, ""), "kube-system", "namespace set");
	is_str(kx_jv_str(out, "spec.renewTime", buf, sizeof buf, ""), "2027-01-15T08:00:00.000000Z", "renewTime is MicroTime");
	is_int(kx_jv_int(out, "spec.leaseTransitions", -1), 0, "no transition for a new lease");
	is_int(kx_jv_int(out, "spec.leaseDurationSeconds", -1), 15, "duration");
	is_int(kx_lease_expiry(out), 1800000015, "expiry is renew + duration");

	/* b sees a's live lease: follow */
	is_int(kx_lease_decide(jv_copy(out), "kube-system", "kx-reconcile", "b", 15, &now, &(jv){0}),
	       KX_LEASE_FOLLOW, "live lease of another: follow");
	/* a renews */
	struct timespec t2 = {1800000010, 0};
	jv r;
	is_int(kx_lease_decide(jv_copy(out), "kube-system", "kx-reconcile", "a", 15, &t2, &r),
	       KX_LEASE_RENEW, "own lease: renew");
	is_str(kx_jv_str(r, "spec.acquireTime", buf, sizeof buf, ""), "2027-01-15T08:00:00.000000Z", "renew keeps acquireTime");
	is_str(kx_jv_str(r, "spec.renewTime", buf, sizeof buf, ""), "2027-01-15T08:00:10.000000Z", "renew moves renewTime");
	jv_free(r);
	/* expired: b takes over */
	struct timespec t3 = {1800000016, 0};
	out = kx_jv_set(out, "metadata.resourceVersion", jv_string("42"));
	is_int(kx_lease_decide(jv_copy(out), "kube-system", "kx-reconcile", "b", 15, &t3, &r),
	       KX_LEASE_ACQUIRE, "expired lease: acquire");
	is_str(kx_jv_str(r, "spec.holderIdentity", buf, sizeof buf, ""), "b", "new holder");
	is_int(kx_jv_int(r, "spec.leaseTransitions", -1), 1, "transition counted");
	is_str(kx_jv_str(r, "metadata.resourceVersion", buf, sizeof buf, ""), "42", "keeps resourceVersion for optimistic concurrency");
	jv_free(r);
	/* released (no holder): anyone takes it */
	out = kx_jv_set(out, "spec.holderIdentity", jv_string(""));
	is_int(kx_lease_decide(out, "kube-system", "kx-reconcile", "b", 15, &now, &r),
	       KX_LEASE_ACQUIRE, "released lease: acquire at once");
	jv_free(r);
}

int main(void)
{
	test_event();
	test_event_decide();
	test_lease();
	return done_testing();
}
