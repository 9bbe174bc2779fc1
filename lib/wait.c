/* wait.c: readiness as kubectl rollout status and kubectl wait judge it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "json.h"
#include "kubectl.h"
#include "print.h"
#include "wait.h"

static jv condition(jv obj, const char *type)
{
	jv conds = kx_jv_get(jv_copy(obj), "status.conditions");
	jv found = jv_null();
	char t[64];

	if (jv_get_kind(conds) == JV_KIND_ARRAY) {
		jv_array_foreach(conds, i, c)
		{
			if (jv_get_kind(found) == JV_KIND_NULL &&
			    !strcmp(kx_jv_str(c, "type", t, sizeof t, ""), type)) {
				jv_free(found);
				found = c;
			} else {
				jv_free(c);
			}
		}
	}
	jv_free(conds);
	return found;
}

int kx_wait_status(jv obj, char *buf, size_t n)
{
	char kind[64], name[256], reason[128], st[64];

	kx_jv_str(obj, "kind", kind, sizeof kind, "");
	kx_jv_str(obj, "metadata.name", name, sizeof name, "");
	if (!strcmp(kind, "Deployment")) {
		int64_t gen = kx_jv_int(obj, "metadata.generation", 0);
		int64_t obs = kx_jv_int(obj, "status.observedGeneration", 0);
		int64_t want = kx_jv_int(obj, "spec.replicas", 1);
		int64_t updated = kx_jv_int(obj, "status.updatedReplicas", 0);
		int64_t replicas = kx_jv_int(obj, "status.replicas", 0);
		int64_t avail = kx_jv_int(obj, "status.availableReplicas", 0);
		if (gen > obs) {
			snprintf(buf, n, "Waiting for deployment spec update to be observed...");
			return 0;
		}
		jv c = condition(obj, "Progressing");
		if (!strcmp(kx_jv_str(c, "reason", reason, sizeof reason, ""), "ProgressDeadlineExceeded")) {
			jv_free(c);
			snprintf(buf, n, "deployment \"%s\" exceeded its progress deadline", name);
			return -1;
		}
		jv_free(c);
		if (updated < want)
			snprintf(buf, n, "Waiting for deployment \"%s\" rollout to finish: %lld out of "
				 "%lld new replicas have been updated...", name, (long long)updated,
				 (long long)want);
		else if (replicas > updated)
			snprintf(buf, n, "Waiting for deployment \"%s\" rollout to finish: %lld old "
				 "replicas are pending termination...", name,
				 (long long)(replicas - updated));
		else if (avail < updated)
			snprintf(buf, n, "Waiting for deployment \"%s\" rollout to finish: %lld of "
				 "%lld updated replicas are available...", name, (long long)avail,
				 (long long)updated);
		else {
			snprintf(buf, n, "deployment \"%s\" successfully rolled out", name);
			return 1;
		}
		return 0;
	}
	if (!strcmp(kind, "ReplicaSet") || !strcmp(kind, "ReplicationController")) {
		int64_t want = kx_jv_int(obj, "spec.replicas", 1);
		int64_t ready = kx_jv_int(obj, "status.readyReplicas", 0);
		char lk[64];
		snprintf(lk, sizeof lk, "%s", kind);
		for (char *p = lk; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		if (ready < want) {
			snprintf(buf, n, "Waiting for %s \"%s\" to be ready: %lld of %lld replicas "
				 "are ready...", lk, name, (long long)ready, (long long)want);
			return 0;
		}
		snprintf(buf, n, "%s \"%s\" is ready", lk, name);
		return 1;
	}
	if (!strcmp(kind, "Pod")) {
		char id[300], phase[64];
		kx_obj_ident(obj, id, sizeof id);
		jv c = condition(obj, "Ready");
		int ready = !strcmp(kx_jv_str(c, "status", st, sizeof st, ""), "True");
		jv_free(c);
		kx_jv_str(obj, "status.phase", phase, sizeof phase, "");
		if (ready) {
			snprintf(buf, n, "%s condition met", id);
			return 1;
		}
		if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")) {
			snprintf(buf, n, "pod \"%s\" will never be ready: it has %s", name, phase);
			return -1;
		}
		char s[128];
		snprintf(buf, n, "Waiting for pod \"%s\" to be ready: %s...", name,
			 kx_pod_status(obj, s, sizeof s, NULL, NULL));
		return 0;
	}
	snprintf(buf, n, "%s/%s exists", kind, name);
	return 1;
}

/* Show a progress message: in place on a terminal, a line when it changed
 * in a pipe. final ends the line. */
static void progress(const char *msg, char *last, size_t n, int final)
{
	int tty = isatty(STDOUT_FILENO);

	if (tty) {
		printf("\r\033[K%s%s", msg, final ? "\n" : "");
	} else if (final || strcmp(msg, last)) {
		printf("%s\n", msg);
	}
	fflush(stdout);
	snprintf(last, n, "%s", final ? "" : msg);
}

int kx_wait_ready(kx_client *c, jv objs, int64_t timeout_ms, kx_err *e)
{
	int64_t deadline = timeout_ms ? kx_now_ms() + timeout_ms : 0;
	char last[1024] = "", msg[1024];
	int rc = 0;

	jv_array_foreach(objs, i, o)
	{
		char av[64], kind[64], ns[256], name[256];
		const kx_kind *k = kx_kind_by_gvk(kx_jv_str(o, "apiVersion", av, sizeof av, ""),
						  kx_jv_str(o, "kind", kind, sizeof kind, ""));
		kx_jv_str(o, "metadata.namespace", ns, sizeof ns, "");
		kx_jv_str(o, "metadata.name", name, sizeof name, "");
		jv_free(o);
		if (rc < 0 || !k)
			continue;
		if (strcmp(kind, "Deployment") && strcmp(kind, "Pod") && strcmp(kind, "ReplicaSet") &&
		    strcmp(kind, "ReplicationController"))
			continue;
		for (;;) {
			kx_err ge = KX_ERR_INIT;
			jv live = kx_kubectl_get(c, k, ns, name, &ge);
			if (!jv_is_valid(live)) {
				if (ge.status == KX_EREFUSED && ge.http == 404) {
					*e = ge;
					rc = -1;
					break;
				}
				/* the store may be restarting: keep trying until the deadline */
				snprintf(msg, sizeof msg, "Waiting for the store: %s", ge.msg);
			} else {
				int r = kx_wait_status(live, msg, sizeof msg);
				jv_free(live);
				if (r != 0) {
					progress(msg, last, sizeof last, 1);
					if (r < 0) {
						kx_err_set(e, KX_EFAIL, "%s", msg);
						rc = -1;
					}
					break;
				}
			}
			progress(msg, last, sizeof last, 0);
			if (deadline && kx_now_ms() >= deadline) {
				if (isatty(STDOUT_FILENO))
					printf("\n");
				kx_err_set(e, KX_EFAIL, "timed out waiting for the condition on %s/%s",
					   k->resource, name);
				rc = -1;
				break;
			}
			usleep(250 * 1000);
		}
	}
	jv_free(objs);
	return rc;
}

int kx_wait_gone(kx_client *c, const kx_kind *k, const char *ns, const char *name,
		 const char *uid, int64_t timeout_ms, kx_err *e)
{
	int64_t deadline = timeout_ms ? kx_now_ms() + timeout_ms : 0;
	char u[128];

	for (;;) {
		kx_err ge = KX_ERR_INIT;
		jv live = kx_kubectl_get(c, k, ns, name, &ge);
		if (!jv_is_valid(live)) {
			if (ge.status == KX_EREFUSED && ge.http == 404)
				return 0;
			if (ge.status != KX_EUNREACH) {
				*e = ge;
				return -1;
			}
		} else {
			int other = uid && *uid && strcmp(kx_jv_str(live, "metadata.uid", u, sizeof u, ""), uid);
			jv_free(live);
			if (other)
				return 0;
		}
		if (deadline && kx_now_ms() >= deadline)
			return kx_err_set(e, KX_EFAIL, "timed out waiting for the condition on %s/%s",
					  k->resource, name);
		usleep(200 * 1000);
	}
}
