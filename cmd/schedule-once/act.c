/* act.c: bindings and Unschedulable conditions, many requests in flight:
 * a few threads, each with its own connection (kx_client), take the next
 * action from a shared counter. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "event.h"
#include "json.h"
#include "log.h"
#include "observe.h"

jv sched_binding(const sched_pod *p, const char *node)
{
	jv meta = jv_object();

	meta = jv_object_set(meta, jv_string("name"), jv_string(p->name));
	meta = jv_object_set(meta, jv_string("namespace"), jv_string(p->ns));
	if (p->uid[0])
		meta = jv_object_set(meta, jv_string("uid"), jv_string(p->uid));
	jv target = jv_object();
	target = jv_object_set(target, jv_string("apiVersion"), jv_string("v1"));
	target = jv_object_set(target, jv_string("kind"), jv_string("Node"));
	target = jv_object_set(target, jv_string("name"), jv_string(node));
	jv b = jv_object();
	b = jv_object_set(b, jv_string("apiVersion"), jv_string("v1"));
	b = jv_object_set(b, jv_string("kind"), jv_string("Binding"));
	b = jv_object_set(b, jv_string("metadata"), meta);
	return jv_object_set(b, jv_string("target"), target);
}

jv sched_unschedulable_status(jv pod, const char *message, const char *now)
{
	jv conds = kx_jv_get(jv_copy(pod), "status.conditions");
	jv out = jv_array();
	int found = 0;

	if (jv_get_kind(conds) != JV_KIND_ARRAY) {
		jv_free(conds);
		conds = jv_array();
	}
	jv_array_foreach(conds, i, cd)
	{
		char type[64], st[16], reason[64], msg[2048];
		if (strcmp(sched_jstr(cd, "type", type, sizeof type), "PodScheduled")) {
			out = jv_array_append(out, cd);
			continue;
		}
		found = 1;
		if (!strcmp(sched_jstr(cd, "status", st, sizeof st), "False") &&
		    !strcmp(sched_jstr(cd, "reason", reason, sizeof reason), "Unschedulable") &&
		    !strcmp(sched_jstr(cd, "message", msg, sizeof msg), message)) {
			/* already says so: nothing to write */
			jv_free(cd);
			jv_free(conds);
			jv_free(out);
			jv_free(pod);
			return jv_null();
		}
		/* the transition time moves only when the status changes */
		const char *since = !strcmp(st, "False") ? NULL : now;
		jv nc = jv_object();
		nc = jv_object_set(nc, jv_string("type"), jv_string("PodScheduled"));
		nc = jv_object_set(nc, jv_string("status"), jv_string("False"));
		nc = jv_object_set(nc, jv_string("lastProbeTime"), jv_null());
		if (since)
			nc = jv_object_set(nc, jv_string("lastTransitionTime"), jv_string(since));
		else
			nc = jv_object_set(nc, jv_string("lastTransitionTime"),
					   kx_jv_get(jv_copy(cd), "lastTransitionTime"));
		nc = jv_object_set(nc, jv_string("reason"), jv_string("Unschedulable"));
		nc = jv_object_set(nc, jv_string("message"), jv_string(message));
		out = jv_array_append(out, nc);
		jv_free(cd);
	}
	jv_free(conds);
	if (!found) {
		jv nc = jv_object();
		nc = jv_object_set(nc, jv_string("type"), jv_string("PodScheduled"));
		nc = jv_object_set(nc, jv_string("status"), jv_string("False"));
		nc = jv_object_set(nc, jv_string("lastProbeTime"), jv_null());
		nc = jv_object_set(nc, jv_string("lastTransitionTime"), jv_string(now));
		nc = jv_object_set(nc, jv_string("reason"), jv_string("Unschedulable"));
		nc = jv_object_set(nc, jv_string("message"), jv_string(message));
		out = jv_array_append(out, nc);
	}
	pod = kx_jv_set(pod, "status.conditions", out);
	char phase[32];
	if (!kx_jv_str(pod, "status.phase", phase, sizeof phase, NULL))
		pod = kx_jv_set(pod, "status.phase", jv_string("Pending"));
	return pod;
}

struct work {
	const char *server;
	const sched_cluster *c;
	const sched_decision *d;
	size_t n;
	atomic_size_t next;
	atomic_int nevents;
	pthread_mutex_t mu;
	sched_act_result *res;
	int events;
	char now[40];
	struct timespec ts;
};

static void path_of(kx_buf *b, const sched_pod *p, const char *sub)
{
	kx_buf_adds(b, "/api/v1/namespaces/");
	kx_url_escape(b, p->ns);
	kx_buf_adds(b, "/pods/");
	kx_url_escape(b, p->name);
	kx_buf_addf(b, "/%s", sub);
}

/* kube-scheduler's Events: Scheduled when a pod is bound, FailedScheduling
 * (a Warning, aggregated with earlier ones) when it newly fits nowhere. */
static void record_event(kx_client *cl, struct work *w, const sched_decision *d, int marked)
{
	const sched_pod *p = &w->c->pods[d->pod];
	kx_event_info ev = {.component = "default-scheduler"};
	kx_err e = KX_ERR_INIT;
	char msg[1024];
	int rc;

	if (w->events == EV_NONE || (d->node >= 0 && w->events != EV_ALL) || (d->node < 0 && !marked))
		return;
	if (d->node >= 0) {
		/* a new binding is news: create the Event without looking for one */
		kx_buf path = KX_BUF_INIT;
		snprintf(msg, sizeof msg, "Successfully assigned %s to %s", p->key,
			 w->c->nodes[d->node].name);
		ev.type = "Normal";
		ev.reason = "Scheduled";
		ev.message = msg;
		jv obj = kx_event_new(kx_event_ref(p->obj), &ev, &w->ts);
		kx_buf_adds(&path, "/api/v1/namespaces/");
		kx_url_escape(&path, p->ns);
		kx_buf_adds(&path, "/events");
		jv res = kx_client_json(cl, "POST", path.p, obj, NULL, &e);
		rc = jv_is_valid(res) ? 0 : -1;
		jv_free(res);
		kx_buf_free(&path);
	} else {
		ev.type = "Warning";
		ev.reason = "FailedScheduling";
		ev.message = d->reason;
		rc = kx_event_record(cl, p->obj, &ev, &w->ts, &e);
	}
	if (rc < 0)
		kx_log_error("cannot record an event for pod \"%s\": %s", p->key, e.msg);
	else
		atomic_fetch_add(&w->nevents, 1);
}

/* One action; returns 0 done, 1 skipped (conflict), -1 failed (e filled). */
static int act_one(kx_client *cl, struct work *w, const sched_decision *d, int *marked,
		   kx_err *e)
{
	const sched_pod *p = &w->c->pods[d->pod];
	kx_buf path = KX_BUF_INIT;
	jv body, r;

	*marked = 0;
	if (d->node >= 0) {
		path_of(&path, p, "binding");
		body = sched_binding(p, w->c->nodes[d->node].name);
		r = kx_client_json(cl, "POST", path.p, body, NULL, e);
		if (!jv_is_valid(r) && e->status == KX_EREFUSED)
			kx_err_wrap(e, "cannot bind pod \"%s\" to node \"%s\"", p->key,
				    w->c->nodes[d->node].name);
	} else {
		if (p->bad) {
			kx_buf_free(&path);
			return 1; /* said in the warnings; a person must fix it */
		}
		body = sched_unschedulable_status(jv_copy(p->obj), d->reason, w->now);
		if (jv_get_kind(body) == JV_KIND_NULL) {
			kx_buf_free(&path);
			return 1;
		}
		path_of(&path, p, "status");
		r = kx_client_json(cl, "PUT", path.p, body, NULL, e);
		if (jv_is_valid(r))
			*marked = 1;
		else if (e->status == KX_EREFUSED)
			kx_err_wrap(e, "cannot mark pod \"%s\" unschedulable", p->key);
	}
	kx_buf_free(&path);
	if (jv_is_valid(r)) {
		jv_free(r);
		record_event(cl, w, d, *marked);
		return 0;
	}
	jv_free(r);
	if (e->status == KX_EREFUSED && (e->http == 409 || e->http == 404)) {
		kx_log_debug(1, "%s", e->msg);
		return 1;
	}
	return -1;
}

static void *worker(void *arg)
{
	struct work *w = arg;
	kx_err e = KX_ERR_INIT;
	kx_client *cl = kx_client_new(w->server, &e);
	size_t i;

	while ((i = atomic_fetch_add(&w->next, 1)) < w->n) {
		const sched_decision *d = &w->d[i];
		int marked = 0, rc = -1;
		kx_err_clear(&e);
		if (cl)
			rc = act_one(cl, w, d, &marked, &e);
		else
			kx_err_set(&e, KX_EFAIL, "cannot make an HTTP client for %s", w->server);
		pthread_mutex_lock(&w->mu);
		if (rc == 0 && d->node >= 0)
			w->res->bound++;
		else if (rc == 1 && d->node >= 0)
			w->res->conflicts++;
		if (marked)
			w->res->marked++;
		if (rc < 0) {
			if (!w->res->failed)
				w->res->err = e;
			w->res->failed++;
			kx_log_error("%s", e.msg);
		} else if (rc == 0 && d->node >= 0) {
			kx_log_debug(1, "pod \"%s\" bound to node \"%s\"", w->c->pods[d->pod].key,
				     w->c->nodes[d->node].name);
		}
		pthread_mutex_unlock(&w->mu);
	}
	kx_client_free(cl);
	return NULL;
}

void sched_act(const char *server, const sched_cluster *c, const sched_decision *d, size_t n,
	       int parallel, int events, sched_act_result *res)
{
	struct work w = {.server = server, .c = c, .d = d, .n = n, .res = res, .events = events};
	pthread_t *th;
	int nth = parallel < 1 ? 1 : parallel;

	memset(res, 0, sizeof *res);
	for (size_t i = 0; i < n; i++)
		if (d[i].node < 0)
			res->unschedulable++;
	if (n == 0)
		return;
	if ((size_t)nth > n)
		nth = (int)n;
	clock_gettime(CLOCK_REALTIME, &w.ts);
	kx_time_format(w.ts.tv_sec, w.now, sizeof w.now);
	atomic_init(&w.next, 0);
	atomic_init(&w.nevents, 0);
	pthread_mutex_init(&w.mu, NULL);
	th = calloc(nth, sizeof *th);
	for (int i = 0; i < nth; i++)
		pthread_create(&th[i], NULL, worker, &w);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	free(th);
	pthread_mutex_destroy(&w.mu);
	res->events = atomic_load(&w.nevents);
}
