/* openapi.h: OpenAPI v3 documents for the served kinds, and fieldValidation.
 *
 * The schemas come from the Kubernetes models of python3-kubernetes,
 * turned into JSON at build time (tools/gen-openapi.py) and embedded in the
 * binary; the paths come from the table of kinds. kubectl reads /openapi/v3
 * to learn that the server validates fields itself (fieldValidation on each
 * PATCH), and kubectl explain reads the schemas. */
#ifndef KX_STORE_OPENAPI_H
#define KX_STORE_OPENAPI_H

#include <stddef.h>
#include <jv.h>

#include "kinds.h"

/* The document at /openapi/v3 (gv "") or /openapi/v3/GV ("api/v1",
 * "apis/apps/v1"): malloc'd text, or NULL when there is no such document. */
char *openapi_doc(const char *gv, size_t *len);
/* The first field of obj (borrowed) that the schema of kind k does not
 * declare, as Kubernetes names it ("spec.template.spec.containers[0].foo"),
 * written to path; 1 when there is one, 0 when none (or k has no schema).
 * Keys starting with '$' (patch directives) are not fields. */
int openapi_unknown_field(const kx_kind *k, jv obj, char *path, size_t n);

#endif
