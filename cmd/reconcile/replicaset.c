/* replicaset.c: the ReplicaSet (and ReplicationController) controller.
 *
 * For each ReplicaSet: claim its pods (its controller ownerReference, or
 * adopt orphans its selector matches; release owned pods that no longer
 * match), then create or delete pods until the active ones number
 * spec.replicas, and keep status current. Pods to delete are chosen in
 * Kubernetes' order: unscheduled before scheduled, Pending before Unknown
 * before Running, not ready before ready, ready for less time first, more
 * restarts first, newest first. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "reconcile.h"
#include "selector.h"

#define BURST 500 /* pods created or deleted per controller per pass, as Kubernetes */

struct cand {
	jv pod; /* borrowed from the world */
	int assigned, phase, ready;
	time_t ready_since, created;
	int64_t restarts;
};

static int phase_rank(const char *ph)
{
	if (!strcmp(ph, "Pending") || !*ph)
		return 0;
	if (!strcmp(ph, "Running"))
		return 2;
	return 1; /* Unknown and anything else */
}

/* Kubernetes' ActivePods ordering: the pod to delete first sorts first. */
static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->assigned != b->assigned)
		return a->assigned - b->assigned;
	if (a->phase != b->phase)
		return a->phase - b->phase;
	if (a->ready != b->ready)
		return a->ready - b->ready;
	if (a->ready && b->ready && a->ready_since != b->ready_since)
		return a->ready_since > b->ready_since ? -1 : 1;
	if (a->restarts != b->restarts)
		return a->restarts > b->restarts ? -1 : 1;
	if (a->created != b->created)
		return a->created > b->created ? -1 : 1;
	return 0;
}

static void cand_fill(struct cand *c, jv pod)
{
	char b[256];
	jv cs, cond;

	c->pod = pod;
	c->assigned = *rc_str(pod, "spec.nodeName", b, sizeof b) != 0;
	c->phase = phase_rank(rc_str(pod, "status.phase", b, sizeof b));
	c->ready = rc_pod_ready(pod);
	cond = rc_condition(pod, "Ready");
	c->ready_since = rc_time(cond, "lastTransitionTime");
	jv_free(cond);
	c->created = rc_time(pod, "metadata.creationTimestamp");
	c->restarts = 0;
	cs = kx_jv_get(jv_copy(pod), "status.containerStatuses");
	if (jv_get_kind(cs) == JV_KIND_ARRAY) {
		jv_array_foreach(cs, i, s) {
			c->restarts += kx_jv_int(s, "restartCount", 0);
			jv_free(s);
		}
	}
	jv_free(cs);
}

/* Do labels (borrowed) carry every label of want (borrowed object)? */
static int has_labels(jv labels, jv want)
{
	int okk = 1;

	if (jv_get_kind(want) != JV_KIND_OBJECT)
		return 1;
	jv_object_foreach(want, k, v) {
		jv got = jv_get_kind(labels) == JV_KIND_OBJECT
				 ? jv_object_get(jv_copy(labels), jv_copy(k))
				 : jv_invalid();
		if (!jv_is_valid(got) || !kx_jv_equal(got, jv_copy(v))) /* consumes got */
			okk = 0;
		jv_free(k);
		jv_free(v);
	}
	return okk;
}

/* The pod a ReplicaSet creates from its template. */
static jv new_pod(jv rs)
{
	char b[256];
	jv tmpl = kx_jv_get(jv_copy(rs), "spec.template"), pod = jv_object(), meta = jv_object();
	jv labels = kx_jv_get(jv_copy(tmpl), "metadata.labels");
	jv ann = kx_jv_get(jv_copy(tmpl), "metadata.annotations");

	meta = jv_object_set(meta, jv_string("generateName"),
			     jv_string_fmt("%s-", rc_str(rs, "metadata.name", b, sizeof b)));
	meta = jv_object_set(meta, jv_string("namespace"),
			     jv_string(rc_str(rs, "metadata.namespace", b, sizeof b)));
	if (jv_get_kind(labels) == JV_KIND_OBJECT)
		meta = jv_object_set(meta, jv_string("labels"), labels);
	else
		jv_free(labels);
	if (jv_get_kind(ann) == JV_KIND_OBJECT)
		meta = jv_object_set(meta, jv_string("annotations"), ann);
	else
		jv_free(ann);
	meta = jv_object_set(meta, jv_string("ownerReferences"), JV_ARRAY(rc_owner_ref(rs)));
	pod = jv_object_set(pod, jv_string("apiVersion"), jv_string("v1"));
	pod = jv_object_set(pod, jv_string("kind"), jv_string("Pod"));
	pod = jv_object_set(pod, jv_string("metadata"), meta);
	pod = jv_object_set(pod, jv_string("spec"), kx_jv_get(tmpl, "spec"));
	return pod;
}

/* The pod (borrowed) with the ownerReference of uid removed, or one to owner
 * added (owner borrowed, not null). */
static jv pod_release(jv pod, const char *uid)
{
	jv refs = kx_jv_get(jv_copy(pod), "metadata.ownerReferences"), out = jv_array();
	char b[128];

	if (jv_get_kind(refs) == JV_KIND_ARRAY) {
		jv_array_foreach(refs, i, r) {
			if (!strcmp(rc_str(r, "uid", b, sizeof b), uid))
				jv_free(r);
			else
				out = jv_array_append(out, r);
		}
	}
	jv_free(refs);
	if (jv_array_length(jv_copy(out)) == 0) {
		jv_free(out);
		return kx_jv_del(jv_copy(pod), "metadata.ownerReferences");
	}
	return kx_jv_set(jv_copy(pod), "metadata.ownerReferences", out);
}

static jv pod_adopt(jv pod, jv owner)
{
	jv refs = kx_jv_get(jv_copy(pod), "metadata.ownerReferences");

	if (jv_get_kind(refs) != JV_KIND_ARRAY) {
		jv_free(refs);
		refs = jv_array();
	}
	return kx_jv_set(jv_copy(pod), "metadata.ownerReferences",
			 jv_array_append(refs, rc_owner_ref(owner)));
}

static jv status_field(jv status, const char *key, int64_t v, int omit_zero, int *changed)
{
	int64_t old = kx_jv_int(status, key, 0);
	jv had = jv_object_get(jv_copy(status), jv_string(key));
	int present = jv_is_valid(had);

	jv_free(had);
	if (old != v || (!omit_zero && !present))
		*changed = 1;
	if (omit_zero && v == 0)
		return jv_object_delete(status, jv_string(key));
	return jv_object_set(status, jv_string(key), jv_number((double)v));
}

/* The selector of a ReplicaSet (spec.selector, a LabelSelector) or of a
 * ReplicationController (spec.selector, a map, defaulting to the template's
 * labels). NULL when absent or empty: such a controller selects nothing. */
static kx_selector *selector_of(jv rs, int is_rc)
{
	kx_err e = KX_ERR_INIT;
	jv sel = kx_jv_get(jv_copy(rs), "spec.selector");
	kx_selector *s;

	if (is_rc && (jv_get_kind(sel) != JV_KIND_OBJECT || jv_object_length(jv_copy(sel)) == 0)) {
		jv_free(sel);
		sel = kx_jv_get(jv_copy(rs), "spec.template.metadata.labels");
	}
	if (jv_get_kind(sel) != JV_KIND_OBJECT) {
		jv_free(sel);
		return NULL;
	}
	s = is_rc ? kx_selector_from_map(sel, &e) : kx_selector_from_jv(sel, &e);
	if (s && kx_selector_empty(s)) {
		kx_selector_free(s);
		return NULL;
	}
	return s;
}

static jv decide_kind(jv world, const struct rc_conf *conf, const char *resource, int is_rc)
{
	const char *ctrl = is_rc ? "replicationcontroller" : "replicaset";
	jv pods = rc_items(world, "pods"), sets = rc_items(world, resource);
	jv by_owner = jv_object(), orphans = jv_object(), claimed = jv_object();
	jv actions = jv_array();
	char b[256], uid[128], ns[256];

	jv_array_foreach(pods, i, p) {
		rc_controller_uid(p, uid, sizeof uid);
		if (*uid)
			by_owner = rc_index_add(by_owner, uid, i);
		else if (rc_pod_active(p))
			orphans = rc_index_add(orphans, rc_str(p, "metadata.namespace", ns, sizeof ns), i);
		jv_free(p);
	}

	jv_array_foreach(sets, si, rs) {
		kx_selector *sel;
		int64_t want = kx_jv_int(rs, "spec.replicas", 1);
		int64_t min_ready = kx_jv_int(rs, "spec.minReadySeconds", 0);
		int n = 0, cap = 16, creating = 0;
		struct cand *active = malloc(cap * sizeof *active);
		jv owned, orph, tlabels;
		char name[256];

		rc_str(rs, "metadata.uid", uid, sizeof uid);
		rc_str(rs, "metadata.name", name, sizeof name);
		rc_str(rs, "metadata.namespace", ns, sizeof ns);
		if (rc_deleting(rs) || !(sel = selector_of(rs, is_rc))) {
			free(active);
			jv_free(rs);
			continue;
		}
		owned = rc_index_get(by_owner, uid);
		jv_array_foreach(owned, k, idx) {
			jv p = jv_array_get(jv_copy(pods), (int)jv_number_value(idx));
			jv labels = kx_jv_get(jv_copy(p), "metadata.labels");
			jv_free(idx);
			if (!kx_selector_match(sel, labels)) {
				if (!rc_deleting(p))
					actions = rc_push(actions, rc_action(ctrl, "update", pod_release(p, uid)));
			} else if (rc_pod_active(p)) {
				if (n == cap)
					active = realloc(active, (cap *= 2) * sizeof *active);
				cand_fill(&active[n++], p);
				jv_free(labels);
				continue; /* p stays referenced by active[] */
			}
			jv_free(labels);
			jv_free(p);
		}
		jv_free(owned);
		orph = rc_index_get(orphans, ns);
		jv_array_foreach(orph, k, idx) {
			jv p = jv_array_get(jv_copy(pods), (int)jv_number_value(idx));
			jv labels = kx_jv_get(jv_copy(p), "metadata.labels");
			char puid[128];
			rc_str(p, "metadata.uid", puid, sizeof puid);
			jv_free(idx);
			if (kx_selector_match(sel, labels) &&
			    !jv_object_has(jv_copy(claimed), jv_string(puid))) {
				claimed = jv_object_set(claimed, jv_string(puid), jv_true());
				actions = rc_push(actions, rc_action(ctrl, "update", pod_adopt(p, rs)));
				if (n == cap)
					active = realloc(active, (cap *= 2) * sizeof *active);
				cand_fill(&active[n++], p);
			} else {
				jv_free(p);
			}
			jv_free(labels);
		}
		jv_free(orph);
		kx_selector_free(sel);

		int keep = n;
		if (n < want) {
			creating = (int)(want - n) > BURST ? BURST : (int)(want - n);
			for (int k = 0; k < creating; k++)
				actions = rc_push(actions,
						  rc_with_event(rc_action(ctrl, "create", new_pod(rs)), rs,
								"Normal", "SuccessfulCreate", "Created pod: {name}"));
		} else if (n > want) {
			int del = (int)(n - want) > BURST ? BURST : (int)(n - want);
			qsort(active, n, sizeof *active, cand_cmp);
			for (int k = 0; k < del; k++) {
				jv a = rc_action(ctrl, "delete", jv_copy(active[k].pod));
				actions = rc_push(actions, rc_with_event(a, rs, "Normal", "SuccessfulDelete",
									 "Deleted pod: %s",
									 rc_str(active[k].pod, "metadata.name", b, sizeof b)));
				jv_free(active[k].pod);
			}
			/* the survivors are the tail */
			memmove(active, active + del, (n - del) * sizeof *active);
			n -= del;
			keep = n;
		}

		/* status as it will be once these actions are done */
		int64_t full = 0, ready = 0, avail = 0;
		tlabels = kx_jv_get(jv_copy(rs), "spec.template.metadata.labels");
		for (int k = 0; k < keep; k++) {
			jv labels = kx_jv_get(jv_copy(active[k].pod), "metadata.labels");
			full += has_labels(labels, tlabels);
			ready += rc_pod_ready(active[k].pod);
			avail += rc_pod_available(active[k].pod, min_ready, conf->now);
			jv_free(labels);
		}
		full += creating; /* new pods carry the template's labels */
		jv_free(tlabels);
		for (int k = 0; k < n; k++)
			jv_free(active[k].pod);
		free(active);

		jv status = kx_jv_get(jv_copy(rs), "status");
		int changed = 0;
		if (jv_get_kind(status) != JV_KIND_OBJECT) {
			jv_free(status);
			status = jv_object();
		}
		status = status_field(status, "replicas", keep + creating, 0, &changed);
		status = status_field(status, "fullyLabeledReplicas", full, 1, &changed);
		status = status_field(status, "readyReplicas", ready, 1, &changed);
		status = status_field(status, "availableReplicas", avail, 1, &changed);
		status = status_field(status, "observedGeneration", kx_jv_int(rs, "metadata.generation", 0),
				      1, &changed);
		if (changed)
			actions = rc_push(actions, rc_action(ctrl, "status",
							     jv_object_set(jv_copy(rs), jv_string("status"), status)));
		else
			jv_free(status);
		jv_free(rs);
	}
	jv_free(pods);
	jv_free(sets);
	jv_free(by_owner);
	jv_free(orphans);
	jv_free(claimed);
	return actions;
}

jv rc_replicaset_decide(jv world, const struct rc_conf *conf)
{
	return decide_kind(world, conf, "replicasets", 0);
}

jv rc_replicationcontroller_decide(jv world, const struct rc_conf *conf)
{
	return decide_kind(world, conf, "replicationcontrollers", 1);
}
