/* deployment.c: the Deployment controller.
 *
 * A Deployment owns one ReplicaSet per pod template, named and labelled by
 * the template's pod-template-hash (see rc_template_hash). The ReplicaSet
 * whose template equals the Deployment's (ignoring that label) is the new
 * one; the rest are old. RollingUpdate moves replicas from old to new within
 * maxSurge and maxUnavailable, using the ReplicaSets' status (availability)
 * as Kubernetes does; Recreate scales the old ones to zero, waits for their
 * pods to go, then scales the new one up. Revisions live in the
 * deployment.kubernetes.io/revision annotation: re-applying an old template
 * makes its ReplicaSet new again with the next revision (a rollback). */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "quantity.h"
#include "reconcile.h"
#include "selector.h"

#define A_REV "deployment.kubernetes.io/revision"
#define A_DESIRED "deployment.kubernetes.io/desired-replicas"
#define A_MAX "deployment.kubernetes.io/max-replicas"

struct rsx {
	jv rs;            /* owned */
	int64_t spec0;    /* spec.replicas as read */
	int64_t spec;     /* spec.replicas as decided */
	int64_t sreplicas, ready, avail; /* status */
	int64_t rev;
	time_t created;
	int is_new, created_now, rev_changed;
};

static int64_t rev_of(jv rs)
{
	char b[32];

	return strtoll(rc_meta_get(rs, "annotations", A_REV, b, sizeof b), NULL, 10);
}

/* Do two pod templates (borrowed) match, ignoring pod-template-hash? */
static int same_template(jv a, jv b)
{
	return kx_jv_equal(kx_jv_del(jv_copy(a), "metadata.labels.pod-template-hash"),
			   kx_jv_del(jv_copy(b), "metadata.labels.pod-template-hash"));
}

static int by_created(const void *pa, const void *pb)
{
	const struct rsx *a = pa, *b = pb;

	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	return 0;
}

static int by_rev(const void *pa, const void *pb)
{
	const struct rsx *a = pa, *b = pb;

	return a->rev < b->rev ? -1 : a->rev > b->rev;
}

static void rsx_fill(struct rsx *x, jv rs)
{
	x->rs = rs;
	x->spec0 = x->spec = kx_jv_int(rs, "spec.replicas", 1);
	x->sreplicas = kx_jv_int(rs, "status.replicas", 0);
	x->ready = kx_jv_int(rs, "status.readyReplicas", 0);
	x->avail = kx_jv_int(rs, "status.availableReplicas", 0);
	x->rev = rev_of(rs);
	x->created = rc_time(rs, "metadata.creationTimestamp");
	x->is_new = x->created_now = x->rev_changed = 0;
}

/* The new ReplicaSet for deployment d (borrowed) with template hash h. */
static jv new_rs(jv d, const char *h, int64_t replicas, int64_t rev)
{
	char b[256];
	jv tmpl = kx_jv_set(kx_jv_get(jv_copy(d), "spec.template"), "metadata.labels.pod-template-hash",
			    jv_string(h));
	jv sel = kx_jv_set(kx_jv_get(jv_copy(d), "spec.selector"), "matchLabels.pod-template-hash",
			   jv_string(h));
	jv labels = kx_jv_get(jv_copy(tmpl), "metadata.labels");
	jv rs = jv_object();

	rs = jv_object_set(rs, jv_string("apiVersion"), jv_string("apps/v1"));
	rs = jv_object_set(rs, jv_string("kind"), jv_string("ReplicaSet"));
	rs = kx_jv_set(rs, "metadata.name", jv_string_fmt("%s-%s", rc_str(d, "metadata.name", b, sizeof b), h));
	rs = kx_jv_set(rs, "metadata.namespace", jv_string(rc_str(d, "metadata.namespace", b, sizeof b)));
	rs = kx_jv_set(rs, "metadata.labels", labels);
	rs = kx_jv_set(rs, "metadata.annotations", jv_object());
	rs = jv_object_set(rs, jv_string("metadata"),
			   jv_object_set(kx_jv_get(jv_copy(rs), "metadata"), jv_string("ownerReferences"),
					 JV_ARRAY(rc_owner_ref(d))));
	rs = rc_meta_set(rs, "annotations", A_REV, jv_string_fmt("%lld", (long long)rev));
	rs = kx_jv_set(rs, "spec.replicas", jv_number((double)replicas));
	if (kx_jv_int(d, "spec.minReadySeconds", 0) > 0)
		rs = kx_jv_set(rs, "spec.minReadySeconds", jv_number((double)kx_jv_int(d, "spec.minReadySeconds", 0)));
	rs = kx_jv_set(rs, "spec.selector", sel);
	rs = kx_jv_set(rs, "spec.template", tmpl);
	return rs;
}

/* maxSurge and maxUnavailable of a RollingUpdate Deployment, as Kubernetes
 * resolves them (percentages of replicas: surge rounds up, unavailable
 * down; both zero means one unavailable). */
static void rolling_params(jv d, int64_t replicas, int64_t *surge, int64_t *unavail)
{
	kx_err e = KX_ERR_INIT;
	jv s = kx_jv_get(jv_copy(d), "spec.strategy.rollingUpdate.maxSurge");
	jv u = kx_jv_get(jv_copy(d), "spec.strategy.rollingUpdate.maxUnavailable");

	if (jv_get_kind(s) == JV_KIND_NULL) {
		jv_free(s);
		s = jv_string("25%");
	}
	if (jv_get_kind(u) == JV_KIND_NULL) {
		jv_free(u);
		u = jv_string("25%");
	}
	if (kx_intstr_value(s, replicas, 1, surge, &e) < 0)
		*surge = 0;
	if (kx_intstr_value(u, replicas, 0, unavail, &e) < 0)
		*unavail = 0;
	jv_free(s);
	jv_free(u);
	if (*surge < 0)
		*surge = 0;
	if (*unavail < 0)
		*unavail = 0;
	if (*unavail > replicas)
		*unavail = replicas;
	if (*surge == 0 && *unavail == 0)
		*unavail = 1;
}

/* Kubernetes' NewRSNewReplicas for a rolling update. */
static int64_t new_rs_replicas(struct rsx *all, int n, int64_t new_spec, int64_t replicas,
			       int64_t surge)
{
	int64_t current = 0, max_total = replicas + surge, up;

	for (int i = 0; i < n; i++)
		current += all[i].spec;
	if (current >= max_total)
		return new_spec;
	up = max_total - current;
	if (up > replicas - new_spec)
		up = replicas - new_spec;
	return new_spec + (up > 0 ? up : 0);
}

/* One Deployment: fills actions; returns them. */
static jv decide_one(jv d, jv owned_rs, jv all_rs, const struct rc_conf *conf, jv actions)
{
	char name[256], ns[256], h[16], b[256], newname[300];
	int64_t replicas = kx_jv_int(d, "spec.replicas", 1);
	int64_t limit = kx_jv_int(d, "spec.revisionHistoryLimit", 10);
	int64_t deadline = kx_jv_int(d, "spec.progressDeadlineSeconds", 600);
	int paused = kx_jv_bool(d, "spec.paused", 0);
	int recreate = !strcmp(rc_str(d, "spec.strategy.type", b, sizeof b), "Recreate");
	int64_t surge = 0, unavail = 0, maxrev = 0;
	jv tmpl = kx_jv_get(jv_copy(d), "spec.template");
	int n = jv_array_length(jv_copy(owned_rs)), ni = -1, progressed = 0, created = 0;
	struct rsx *all = calloc((size_t)n + 1, sizeof *all);

	rc_str(d, "metadata.name", name, sizeof name);
	rc_str(d, "metadata.namespace", ns, sizeof ns);
	rc_template_hash(tmpl, kx_jv_int(d, "status.collisionCount", 0), h, sizeof h);
	if (!recreate)
		rolling_params(d, replicas, &surge, &unavail);

	jv_array_foreach(owned_rs, i, rs) {
		rsx_fill(&all[i], rs);
		jv t = kx_jv_get(jv_copy(rs), "spec.template");
		if (ni < 0 && same_template(t, tmpl)) {
			ni = i;
			all[i].is_new = 1;
		}
		jv_free(t);
	}
	for (int i = 0; i < n; i++)
		if (i != ni && all[i].rev > maxrev)
			maxrev = all[i].rev;

	if (ni < 0 && !paused) {
		/* a new template: a new ReplicaSet, unless its name is taken */
		int taken = 0;
		snprintf(newname, sizeof newname, "%s-%s", name, h);
		jv_array_foreach(all_rs, i, rs) {
			char rn[300], rns[256];
			if (!strcmp(rc_str(rs, "metadata.name", rn, sizeof rn), newname) &&
			    !strcmp(rc_str(rs, "metadata.namespace", rns, sizeof rns), ns))
				taken = 1;
			jv_free(rs);
		}
		if (taken) {
			/* hash collision: count it, the next pass uses a new hash */
			jv st = kx_jv_get(jv_copy(d), "status");
			if (jv_get_kind(st) != JV_KIND_OBJECT) {
				jv_free(st);
				st = jv_object();
			}
			st = jv_object_set(st, jv_string("collisionCount"),
					   jv_number((double)kx_jv_int(d, "status.collisionCount", 0) + 1));
			actions = rc_push(actions, rc_action("deployment", "status",
							     jv_object_set(jv_copy(d), jv_string("status"), st)));
			goto out;
		}
		ni = n++;
		int64_t start = recreate ? 0 : new_rs_replicas(all, ni, 0, replicas, surge);
		rsx_fill(&all[ni], new_rs(d, h, start, maxrev + 1));
		all[ni].spec0 = -1;
		all[ni].is_new = all[ni].created_now = 1;
		all[ni].sreplicas = all[ni].ready = all[ni].avail = 0;
		created = 1;
	} else if (ni >= 0 && all[ni].rev <= maxrev && !paused) {
		/* an old template came back: its ReplicaSet gets the next revision */
		all[ni].rev = maxrev + 1;
		all[ni].rev_changed = 1;
	}

	if (!paused && ni >= 0) {
		struct rsx *nw = &all[ni];
		int scaled = 0;
		if (recreate) {
			int old_up = 0, old_running = 0;
			for (int i = 0; i < n; i++) {
				if (i == ni)
					continue;
				if (all[i].spec > 0) {
					all[i].spec = 0;
					old_up = 1;
				}
				if (all[i].sreplicas > 0)
					old_running = 1;
			}
			if (!old_up && !old_running && nw->spec != replicas)
				nw->spec = replicas;
		} else {
			if (nw->spec > replicas) {
				nw->spec = replicas;
				scaled = 1;
			} else if (!nw->created_now && nw->spec < replicas) {
				int64_t v = new_rs_replicas(all, n, nw->spec, replicas, surge);
				scaled = v != nw->spec;
				nw->spec = v;
			}
			if (!scaled && !nw->created_now) {
				int64_t all_pods = 0, old_pods = 0, min_avail = replicas - unavail;
				for (int i = 0; i < n; i++) {
					all_pods += all[i].spec;
					if (i != ni)
						old_pods += all[i].spec;
				}
				int64_t max_down = all_pods - min_avail - (nw->spec - nw->avail);
				if (old_pods > 0 && max_down > 0) {
					/* old ones oldest first: unhealthy replicas go first */
					struct rsx tmp = all[ni];
					all[ni] = all[n - 1];
					all[n - 1] = tmp;
					ni = n - 1;
					nw = &all[ni];
					qsort(all, (size_t)n - 1, sizeof *all, by_created);
					int64_t cleaned = 0;
					for (int i = 0; i < n - 1 && cleaned < max_down; i++) {
						int64_t unhealthy = all[i].spec - all[i].avail;
						if (all[i].spec <= 0 || unhealthy <= 0)
							continue;
						int64_t k = max_down - cleaned < unhealthy ? max_down - cleaned : unhealthy;
						all[i].spec -= k;
						all[i].avail = all[i].avail > all[i].spec ? all[i].spec : all[i].avail;
						cleaned += k;
					}
					int64_t avail = 0;
					for (int i = 0; i < n; i++)
						avail += all[i].avail;
					int64_t total = avail - min_avail, done = 0;
					for (int i = 0; i < n - 1 && total > 0 && done < total; i++) {
						if (all[i].spec <= 0)
							continue;
						int64_t k = all[i].spec < total - done ? all[i].spec : total - done;
						all[i].spec -= k;
						done += k;
					}
				}
			}
		}
	}

	/* the actions on ReplicaSets */
	int64_t max_rep = replicas + surge;
	for (int i = 0; i < n; i++) {
		struct rsx *x = &all[i];
		int spec_changed = x->spec != x->spec0;
		if (!x->created_now && !spec_changed && !x->rev_changed)
			continue;
		jv rs = kx_jv_set(jv_copy(x->rs), "spec.replicas", jv_number((double)x->spec));
		rs = rc_meta_set(rs, "annotations", A_DESIRED, jv_string_fmt("%lld", (long long)replicas));
		rs = rc_meta_set(rs, "annotations", A_MAX, jv_string_fmt("%lld", (long long)max_rep));
		if (x->rev_changed)
			rs = rc_meta_set(rs, "annotations", A_REV, jv_string_fmt("%lld", (long long)x->rev));
		rc_str(rs, "metadata.name", b, sizeof b);
		jv a = rc_action("deployment", x->created_now ? "create" : "update", rs);
		if (x->created_now || spec_changed) {
			int up = x->spec > (x->created_now ? 0 : x->spec0);
			a = rc_with_event(a, d, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s to %lld",
					  up ? "up" : "down", b, (long long)x->spec);
			progressed = 1;
		}
		actions = rc_push(actions, a);
		x->spec0 = x->spec;
	}

	/* revisionHistoryLimit: old, empty ReplicaSets beyond it are deleted */
	if (!paused && ni >= 0) {
		int m = 0;
		struct rsx *old = calloc((size_t)(n > 0 ? n : 1), sizeof *old);
		for (int i = 0; i < n; i++)
			if (i != ni && !all[i].created_now && all[i].spec == 0 && all[i].sreplicas == 0 &&
			    !rc_deleting(all[i].rs))
				old[m++] = all[i];
		qsort(old, (size_t)m, sizeof *old, by_rev);
		for (int i = 0; i < m - limit; i++)
			actions = rc_push(actions, rc_action("deployment", "delete", jv_copy(old[i].rs)));
		free(old);
	}

	/* the Deployment's revision annotation follows its new ReplicaSet */
	if (ni >= 0) {
		char cur[32];
		rc_meta_get(d, "annotations", A_REV, cur, sizeof cur);
		if (strtoll(cur, NULL, 10) != all[ni].rev || !*cur) {
			jv nd = rc_meta_set(jv_copy(d), "annotations", A_REV,
					  jv_string_fmt("%lld", (long long)all[ni].rev));
			actions = rc_push(actions, rc_action("deployment", "update", nd));
		}
	}

	/* status */
	{
		int64_t sr = 0, rd = 0, av = 0, total = 0, upd = 0;
		for (int i = 0; i < n; i++) {
			sr += all[i].sreplicas;
			rd += all[i].ready;
			av += all[i].avail;
			total += all[i].spec;
		}
		if (ni >= 0)
			upd = all[ni].sreplicas;
		jv st = kx_jv_get(jv_copy(d), "status");
		if (jv_get_kind(st) != JV_KIND_OBJECT) {
			jv_free(st);
			st = jv_object();
		}
		jv old_st = jv_copy(st);
		st = jv_object_set(st, jv_string("observedGeneration"),
				   jv_number((double)kx_jv_int(d, "metadata.generation", 0)));
		st = jv_object_set(st, jv_string("replicas"), jv_number((double)sr));
		st = jv_object_set(st, jv_string("updatedReplicas"), jv_number((double)upd));
		st = jv_object_set(st, jv_string("readyReplicas"), jv_number((double)rd));
		st = jv_object_set(st, jv_string("availableReplicas"), jv_number((double)av));
		st = jv_object_set(st, jv_string("unavailableReplicas"),
				   jv_number((double)(total - av > 0 ? total - av : 0)));
		jv conds = kx_jv_get(jv_copy(st), "conditions");
		int64_t min_avail = replicas - (recreate ? 0 : unavail);
		conds = av >= min_avail
				? rc_set_condition(conds, "Available", "True", "MinimumReplicasAvailable",
						   "Deployment has minimum availability.", conf->now, 1)
				: rc_set_condition(conds, "Available", "False", "MinimumReplicasUnavailable",
						   "Deployment does not have minimum availability.", conf->now, 1);
		const char *nname = ni >= 0 ? rc_str(all[ni].rs, "metadata.name", newname, sizeof newname) : "";
		char msg[512];
		jv prog = jv_null();
		jv_array_foreach(conds, i, c) {
			char t[32];
			if (!strcmp(rc_str(c, "type", t, sizeof t), "Progressing")) {
				jv_free(prog);
				prog = c;
			} else {
				jv_free(c);
			}
		}
		char preason[64];
		rc_str(prog, "reason", preason, sizeof preason);
		int complete = ni >= 0 && upd == replicas && sr == replicas && av == replicas &&
			       all[ni].spec == replicas && total == replicas;
		if (paused) {
			conds = rc_set_condition(conds, "Progressing", "Unknown", "DeploymentPaused",
						 "Deployment is paused", conf->now, 1);
		} else if (created) {
			snprintf(msg, sizeof msg, "Created new replica set \"%s\"", nname);
			conds = rc_set_condition(conds, "Progressing", "True", "NewReplicaSetCreated", msg, conf->now, 2);
		} else if (complete) {
			snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has successfully progressed.", nname);
			conds = rc_set_condition(conds, "Progressing", "True", "NewReplicaSetAvailable", msg,
						 conf->now, 1);
		} else if (progressed || jv_get_kind(prog) == JV_KIND_NULL ||
			   !strcmp(preason, "DeploymentPaused") || !strcmp(preason, "NewReplicaSetAvailable")) {
			snprintf(msg, sizeof msg, "ReplicaSet \"%s\" is progressing.", nname);
			conds = rc_set_condition(conds, "Progressing", "True", "ReplicaSetUpdated", msg, conf->now,
						 progressed ? 2 : 1);
		} else if (strcmp(preason, "ProgressDeadlineExceeded") &&
			   rc_time(prog, "lastUpdateTime") + deadline < conf->now) {
			snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has timed out progressing.", nname);
			conds = rc_set_condition(conds, "Progressing", "False", "ProgressDeadlineExceeded", msg,
						 conf->now, 1);
		}
		jv_free(prog);
		st = jv_object_set(st, jv_string("conditions"), conds);
		if (!kx_jv_equal(old_st, jv_copy(st)))
			actions = rc_push(actions, rc_action("deployment", "status",
							     jv_object_set(jv_copy(d), jv_string("status"), st)));
		else
			jv_free(st);
	}
out:
	for (int i = 0; i < n; i++)
		jv_free(all[i].rs);
	free(all);
	jv_free(tmpl);
	return actions;
}

jv rc_deployment_decide(jv world, const struct rc_conf *conf)
{
	jv deps = rc_items(world, "deployments"), sets = rc_items(world, "replicasets");
	jv by_owner = jv_object(), orphans = jv_object(), claimed = jv_object(), actions = jv_array();
	char uid[128], ns[256];

	jv_array_foreach(sets, i, rs) {
		rc_controller_uid(rs, uid, sizeof uid);
		if (*uid)
			by_owner = rc_index_add(by_owner, uid, i);
		else if (!rc_deleting(rs))
			orphans = rc_index_add(orphans, rc_str(rs, "metadata.namespace", ns, sizeof ns), i);
		jv_free(rs);
	}
	jv_array_foreach(deps, di, d) {
		kx_err e = KX_ERR_INIT;
		kx_selector *sel;
		jv owned = jv_array(), idxs;

		jv dsel = kx_jv_get(jv_copy(d), "spec.selector");
		sel = NULL;
		if (!rc_deleting(d) && jv_get_kind(dsel) == JV_KIND_OBJECT)
			sel = kx_selector_from_jv(jv_copy(dsel), &e);
		jv_free(dsel);
		if (sel && kx_selector_empty(sel)) {
			kx_selector_free(sel);
			sel = NULL;
		}
		if (!sel) {
			jv_free(owned);
			jv_free(d);
			continue;
		}
		rc_str(d, "metadata.uid", uid, sizeof uid);
		rc_str(d, "metadata.namespace", ns, sizeof ns);
		idxs = rc_index_get(by_owner, uid);
		jv_array_foreach(idxs, k, ix) {
			owned = jv_array_append(owned, jv_array_get(jv_copy(sets), (int)jv_number_value(ix)));
			jv_free(ix);
		}
		jv_free(idxs);
		idxs = rc_index_get(orphans, ns);
		jv_array_foreach(idxs, k, ix) {
			jv rs = jv_array_get(jv_copy(sets), (int)jv_number_value(ix));
			jv labels = kx_jv_get(jv_copy(rs), "metadata.labels");
			char ruid[128];
			rc_str(rs, "metadata.uid", ruid, sizeof ruid);
			jv_free(ix);
			if (kx_selector_match(sel, labels) && !jv_object_has(jv_copy(claimed), jv_string(ruid))) {
				claimed = jv_object_set(claimed, jv_string(ruid), jv_true());
				jv refs = kx_jv_get(jv_copy(rs), "metadata.ownerReferences");
				if (jv_get_kind(refs) != JV_KIND_ARRAY) {
					jv_free(refs);
					refs = jv_array();
				}
				jv adopted = kx_jv_set(rs, "metadata.ownerReferences",
						       jv_array_append(refs, rc_owner_ref(d)));
				actions = rc_push(actions, rc_action("deployment", "update", jv_copy(adopted)));
				owned = jv_array_append(owned, adopted);
			} else {
				jv_free(rs);
			}
			jv_free(labels);
		}
		jv_free(idxs);
		kx_selector_free(sel);
		actions = decide_one(d, owned, sets, conf, actions);
		jv_free(owned);
		jv_free(d);
	}
	jv_free(deps);
	jv_free(sets);
	jv_free(by_owner);
	jv_free(orphans);
	jv_free(claimed);
	return actions;
}
