/* selector.h: label and field selectors, parsed once and matched many times.
 *
 * Label selectors as Kubernetes writes them in URLs and on command lines:
 * "app=web,tier!=db", "env in (prod,staging)", "env notin (dev)", "gpu",
 * "!gpu", and "==" for "=". The empty string selects everything. The same
 * structure comes from a metav1.LabelSelector object (matchLabels and
 * matchExpressions with In, NotIn, Exists, DoesNotExist), where an empty
 * selector selects everything too (callers that want "selects nothing" for
 * a missing selector check that themselves). */
#ifndef KX_SELECTOR_H
#define KX_SELECTOR_H

#include <jv.h>

struct kx_err;

typedef struct kx_selector kx_selector;

/* NULL with e filled (naming the offending part) when malformed. */
kx_selector *kx_selector_parse(const char *s, struct kx_err *e);
/* From a LabelSelector object (consumed); jv_null() selects everything. */
kx_selector *kx_selector_from_jv(jv sel, struct kx_err *e);
/* From a plain map of labels (consumed), as a Service's spec.selector. */
kx_selector *kx_selector_from_map(jv map, struct kx_err *e);
/* Does labels (an object or null; borrowed) satisfy every requirement? */
int kx_selector_match(const kx_selector *s, jv labels);
int kx_selector_empty(const kx_selector *s);
/* Canonical string form ("app=web,env in (a,b)"); malloc'd. */
char *kx_selector_string(const kx_selector *s);
void kx_selector_free(kx_selector *s);

/* Field selectors: "metadata.name=web,spec.nodeName!=", with = == and !=.
 * Values are compared as strings with the field's value in the object
 * (kx_jv_get of the dotted path; a missing field is ""). */
typedef struct kx_fieldsel kx_fieldsel;

kx_fieldsel *kx_fieldsel_parse(const char *s, struct kx_err *e);
/* NULL when every field is in allowed (a NULL-terminated list of dotted
 * paths), else the first field that is not. Borrowed pointer. */
const char *kx_fieldsel_unsupported(const kx_fieldsel *f, const char *const *allowed);
int kx_fieldsel_match(const kx_fieldsel *f, jv obj); /* obj borrowed */
void kx_fieldsel_free(kx_fieldsel *f);

#endif
