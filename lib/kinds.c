/* kinds.c: the table of kinds the API serves.
 *
 * Names, short names, verbs and categories are the ones Kubernetes' own
 * discovery lists (kubectl api-resources). Subresources are the ones kx-store
 * serves. The first row for a name wins a lookup, so the core group comes
 * before the others (events: v1 before events.k8s.io, as kubectl prefers). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kinds.h"

#define ALL_VERBS "create delete deletecollection get list patch update watch"

const kx_kind kx_kinds[] = {
	/* group, version, kind, resource, singular, shortnames, namespaced, verbs,
	 * subresources, categories */
	{"", "v1", "Binding", "bindings", "binding", "", 1, "create", "", ""},
	{"", "v1", "ConfigMap", "configmaps", "configmap", "cm", 1, ALL_VERBS, "", ""},
	{"", "v1", "Endpoints", "endpoints", "endpoints", "ep", 1, ALL_VERBS, "", ""},
	{"", "v1", "Event", "events", "event", "ev", 1, ALL_VERBS, "", ""},
	{"", "v1", "Namespace", "namespaces", "namespace", "ns", 0,
	 "create delete get list patch update watch", "finalize status", ""},
	{"", "v1", "Node", "nodes", "node", "no", 0, ALL_VERBS, "status", ""},
	{"", "v1", "Pod", "pods", "pod", "po", 1, ALL_VERBS, "binding log status", "all"},
	{"", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller",
	 "rc", 1, ALL_VERBS, "scale status", "all"},
	{"", "v1", "ResourceQuota", "resourcequotas", "resourcequota", "quota", 1, ALL_VERBS,
	 "status", ""},
	{"", "v1", "Secret", "secrets", "secret", "", 1, ALL_VERBS, "", ""},
	{"", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", "sa", 1, ALL_VERBS, "",
	 ""},
	{"", "v1", "Service", "services", "service", "svc", 1, ALL_VERBS, "status", "all"},
	{"apps", "v1", "Deployment", "deployments", "deployment", "deploy", 1, ALL_VERBS,
	 "scale status", "all"},
	{"apps", "v1", "ReplicaSet", "replicasets", "replicaset", "rs", 1, ALL_VERBS,
	 "scale status", "all"},
	{"coordination.k8s.io", "v1", "Lease", "leases", "lease", "", 1, ALL_VERBS, "", ""},
	{"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", "", 1,
	 ALL_VERBS, "", ""},
	{"events.k8s.io", "v1", "Event", "events", "event", "ev", 1, ALL_VERBS, "", ""},
	{"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
	 "clusterrolebinding", "", 0, ALL_VERBS, "", ""},
	{"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", "", 0,
	 ALL_VERBS, "", ""},
	{"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", "", 1,
	 ALL_VERBS, "", ""},
	{"rbac.authorization.k8s.io", "v1", "Role", "roles", "role", "", 1, ALL_VERBS, "", ""},
};

const size_t kx_kinds_count = sizeof kx_kinds / sizeof kx_kinds[0];

/* Is w one of the space-separated words of list (case-insensitively)? */
static int has_word(const char *list, const char *w, size_t n)
{
	const char *p = list;

	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t len = sp ? (size_t)(sp - p) : strlen(p);
		if (len == n && !strncasecmp(p, w, n))
			return 1;
		if (!sp)
			break;
		p = sp + 1;
	}
	return 0;
}

static int name_matches(const kx_kind *k, const char *name, size_t n)
{
	return (strlen(k->resource) == n && !strncasecmp(k->resource, name, n)) ||
	       (strlen(k->singular) == n && !strncasecmp(k->singular, name, n)) ||
	       (strlen(k->kind) == n && !strncasecmp(k->kind, name, n)) ||
	       has_word(k->shortnames, name, n);
}

/* "apps", "v1.apps", or "" for the core group ("v1" alone names it too). */
static int qualifier_matches(const kx_kind *k, const char *q)
{
	size_t vl = strlen(k->version);

	if (!strcasecmp(q, k->group))
		return 1;
	if (!strncasecmp(q, k->version, vl) && (q[vl] == '.' || q[vl] == 0))
		return !strcasecmp(q[vl] ? q + vl + 1 : "", k->group);
	return 0;
}

const kx_kind *kx_kind_lookup(const char *name)
{
	const char *dot;
	size_t n;

	if (!name || !*name)
		return NULL;
	dot = strchr(name, '.');
	n = dot ? (size_t)(dot - name) : strlen(name);
	for (size_t i = 0; i < kx_kinds_count; i++) {
		const kx_kind *k = &kx_kinds[i];
		if (!name_matches(k, name, n))
			continue;
		if (!dot || qualifier_matches(k, dot + 1))
			return k;
	}
	return NULL;
}

const kx_kind *kx_kind_by_gvk(const char *api_version, const char *kind)
{
	const char *slash;
	size_t gl;

	if (!api_version || !kind)
		return NULL;
	slash = strchr(api_version, '/');
	gl = slash ? (size_t)(slash - api_version) : 0;
	for (size_t i = 0; i < kx_kinds_count; i++) {
		const kx_kind *k = &kx_kinds[i];
		const char *v = slash ? slash + 1 : api_version;
		if (strcmp(k->kind, kind) || strcmp(k->version, v))
			continue;
		if (strlen(k->group) == gl && !strncmp(k->group, api_version, gl))
			return k;
	}
	return NULL;
}

const kx_kind *kx_kind_by_resource(const char *group, const char *version, const char *resource)
{
	if (!group)
		group = "";
	if (!version || !resource)
		return NULL;
	for (size_t i = 0; i < kx_kinds_count; i++) {
		const kx_kind *k = &kx_kinds[i];
		if (!strcmp(k->group, group) && !strcmp(k->version, version) &&
		    !strcmp(k->resource, resource))
			return k;
	}
	return NULL;
}

const char *kx_kind_api_version(const kx_kind *k, char *buf, size_t n)
{
	if (*k->group)
		snprintf(buf, n, "%s/%s", k->group, k->version);
	else
		snprintf(buf, n, "%s", k->version);
	return buf;
}

int kx_kind_path(kx_buf *b, const kx_kind *k, const char *ns, const char *name, const char *sub)
{
	int rc;

	if (*k->group)
		rc = kx_buf_addf(b, "/apis/%s/%s", k->group, k->version);
	else
		rc = kx_buf_addf(b, "/api/%s", k->version);
	if (rc == 0 && k->namespaced && ns && *ns)
		rc = kx_buf_addf(b, "/namespaces/%s", ns);
	if (rc == 0)
		rc = kx_buf_addf(b, "/%s", k->resource);
	if (rc == 0 && name && *name)
		rc = kx_buf_addf(b, "/%s", name);
	if (rc == 0 && name && *name && sub && *sub)
		rc = kx_buf_addf(b, "/%s", sub);
	return rc;
}
