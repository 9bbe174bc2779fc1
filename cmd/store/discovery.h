/* discovery.h: what kx-store serves under /api and /apis, from the table of
 * kinds (lib/kinds.c): the plain documents (APIVersions, APIGroupList,
 * APIGroup, APIResourceList) and the aggregated one (apidiscovery.k8s.io
 * APIGroupDiscoveryList), which kubectl 1.30 asks for first so that one
 * request to /api and one to /apis tell it every resource.
 *
 * Every function returns a new jv the caller owns. */
#ifndef KX_STORE_DISCOVERY_H
#define KX_STORE_DISCOVERY_H

#include <jv.h>

/* Which form of /api or /apis an Accept header asks for: the first media
 * range that kx-store can serve wins. */
enum disc_form { DISC_PLAIN, DISC_V2, DISC_V2BETA1 };
enum disc_form discovery_form(const char *accept);
/* The Content-Type of an answer in that form. */
const char *discovery_ctype(enum disc_form f);

/* /api: APIVersions. */
jv discovery_versions(void);
/* /apis: APIGroupList. */
jv discovery_groups(void);
/* /apis/GROUP: APIGroup, or invalid when no kind is in that group. */
jv discovery_group(const char *group);
/* /api/v1, /apis/GROUP/VERSION: APIResourceList, or invalid when empty. */
jv discovery_resources(const char *group, const char *version);
/* /api (legacy 1) or /apis (legacy 0) as an APIGroupDiscoveryList in form f
 * (DISC_V2 or DISC_V2BETA1). */
jv discovery_aggregated(int legacy, enum disc_form f);

#endif
