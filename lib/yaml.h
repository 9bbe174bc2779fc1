/* yaml.h: YAML manifests to and from jv, through libyaml.
 *
 * Kubernetes reads YAML by converting it to JSON (sigs.k8s.io/yaml over
 * go-yaml v2, YAML 1.1 rules): plain scalars become null (~, null, empty),
 * booleans (true/false and YAML 1.1's yes/no/on/off, any case form go-yaml
 * accepts), integers, floats, or strings; quoted scalars are always strings;
 * mapping keys become strings; anchors and aliases are expanded; merge keys
 * (<<) are applied; block scalars (| and >, with chomping) are kept exactly. */
#ifndef KX_YAML_H
#define KX_YAML_H

#include <stddef.h>
#include <jv.h>

#include "buf.h"

struct kx_err;

/* Parse every document of a YAML stream (JSON is YAML too). Returns a jv
 * array with one value per non-empty document, in order. On error returns
 * jv_invalid() and fills e with "NAME:LINE:COLUMN: what was wrong" (name is
 * the file name to report, e.g. "app.yaml" or "<stdin>"). */
jv kx_yaml_parse(const char *text, size_t n, const char *name, struct kx_err *e);

/* Write v (consumed) as a YAML document the way kubectl -o yaml does: block
 * style, two-space indent, strings quoted only when they would otherwise read
 * back as something else, multi-line strings as | block scalars. Returns 0,
 * or -1 if b is full. */
int kx_yaml_dump_buf(kx_buf *b, jv v);

#endif
