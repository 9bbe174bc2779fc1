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

#include "buf.h"
#include "kinds.h"

/* The document at /openapi/v3 (gv "") or /openapi/v3/GV ("api/v1",
 * "apis/apps/v1"): malloc'd text, or NULL when there is no such document. */
char *openapi_doc(const char *gv, size_t *len);
/* The document at /openapi/v2: Swagger 2.0 as JSON (proto 0), or as
 * gnostic's openapi_v2.Document in protocol buffers (proto 1), which
 * kubectl reads to validate the items of a List on its side. A malloc'd
 * copy of what was made at the first call; NULL if out of memory. */
char *openapi_v2(int proto, size_t *len);
/* Encode a Swagger 2.0 document (consumed) as openapi_v2.Document,
 * appending to b; -1 when b refused to grow (openapi_pb.c). */
int openapi_v2_proto(kx_buf *b, jv doc);
/* The fields of obj (borrowed) that the schema of kind k does not declare,
 * as Kubernetes names them ("spec.template.spec.containers[0].foo"): a new
 * array of strings, empty when there are none (or k has no schema), with at
 * most 64 of them. Keys starting with '$' (patch directives) are not fields. */
jv openapi_unknown_fields(const kx_kind *k, jv obj);

#endif
