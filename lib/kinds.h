/* kinds.h: the table of kinds the API serves, and their paths.
 *
 * Adding a kind is one row in kinds.c: everything that needs to know about
 * kinds (the store's routing and discovery, kx-get's type names, kx-apply's
 * paths) reads this table. */
#ifndef KX_KINDS_H
#define KX_KINDS_H

#include <stddef.h>

#include "buf.h"

typedef struct kx_kind {
	const char *group;        /* "" for the core group */
	const char *version;      /* "v1" */
	const char *kind;         /* "Deployment" */
	const char *resource;     /* plural: "deployments" */
	const char *singular;     /* "deployment" */
	const char *shortnames;   /* space-separated: "deploy", or "" */
	int namespaced;
	const char *verbs;        /* space-separated, as discovery lists them */
	const char *subresources; /* space-separated: "status scale", or "" */
	const char *categories;   /* space-separated: "all", or "" */
} kx_kind;

extern const kx_kind kx_kinds[];
extern const size_t kx_kinds_count;

/* By what a person types: plural, singular, kind or short name, any case,
 * optionally qualified by group ("deployments.apps", "deploy.apps").
 * NULL when unknown. */
const kx_kind *kx_kind_lookup(const char *name);
/* By apiVersion ("v1", "apps/v1") and kind ("Deployment"); NULL if unknown. */
const kx_kind *kx_kind_by_gvk(const char *api_version, const char *kind);
/* By group, version and plural resource, as in a URL path. */
const kx_kind *kx_kind_by_resource(const char *group, const char *version,
				   const char *resource);
/* "apps/v1" or "v1", written into buf. */
const char *kx_kind_api_version(const kx_kind *k, char *buf, size_t n);
/* Append the API path of a collection (name NULL) or an object, with an
 * optional subresource: "/apis/apps/v1/namespaces/NS/deployments/NAME/scale".
 * For a namespaced kind, ns NULL means across all namespaces. */
int kx_kind_path(kx_buf *b, const kx_kind *k, const char *ns, const char *name,
		 const char *sub);

#endif
