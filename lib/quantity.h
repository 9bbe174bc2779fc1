/* quantity.h: Kubernetes quantities ("500m", "1Gi", "2", "1e3", "128974848",
 * "129e6", "129M", "123Mi"), Go durations ("5s", "1m30s", "1.5h", "300ms")
 * and IntOrString values ("25%" of a total, or a number). */
#ifndef KX_QUANTITY_H
#define KX_QUANTITY_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

struct kx_err;

/* Parse a quantity into thousandths of its unit ("500m" -> 500, "2" -> 2000,
 * "1Ki" -> 1024000), rounding up as Kubernetes does for sub-milli precision.
 * -1 with e filled when malformed or out of range (more than 2^63/1000). */
int kx_quantity_parse(const char *s, int64_t *milli, struct kx_err *e);
/* The same for a jv that is a string or a number (borrowed). */
int kx_quantity_parse_jv(jv v, int64_t *milli, struct kx_err *e);
/* Canonical text for a value in thousandths: "500m", "2", "1Gi" when binary
 * is set and the value is a whole number of Ki/Mi/Gi..., else decimal ("129M"
 * or plain bytes). */
char *kx_quantity_format(int64_t milli, int binary, char *buf, size_t n);

/* Parse a Go duration ("300ms", "5s", "1m30s", "1.5h", "2h45m") into
 * milliseconds; a bare "0" is allowed. -1 with e filled when malformed. */
int kx_duration_parse(const char *s, int64_t *ms, struct kx_err *e);
/* Go's time.Duration.String() for whole milliseconds: "1m30s", "300ms". */
char *kx_duration_format(int64_t ms, char *buf, size_t n);

/* An IntOrString (borrowed jv): a number is returned as is; "25%" is 25% of
 * total, rounded up when round_up is set, else down (as Deployments compute
 * maxSurge and maxUnavailable). -1 with e filled when malformed. */
int kx_intstr_value(jv v, int64_t total, int round_up, int64_t *out, struct kx_err *e);

#endif
