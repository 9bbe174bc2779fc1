/* validate.h: Kubernetes' name rules, with Kubernetes' own wording.
 * Each returns NULL when s is valid, else a static sentence saying why not. */
#ifndef KX_VALIDATE_H
#define KX_VALIDATE_H

/* Most object names: at most 253 characters, dot-separated labels. */
const char *kx_validate_dns1123_subdomain(const char *s);
/* Namespaces and the like: at most 63 characters, [a-z0-9-], alphanumeric ends. */
const char *kx_validate_dns1123_label(const char *s);
/* Services: a DNS-1123 label that starts with a letter. */
const char *kx_validate_dns1035_label(const char *s);

#endif
