/* objects.h: the pure rules for objects (objects.c). */
#ifndef KX_STORE_OBJECTS_H
#define KX_STORE_OBJECTS_H

#include <stdarg.h>
#include "buf.h"
#include "store.h"

/* "pods", or "deployments.apps", as Kubernetes names a resource in messages. */
const char *qualified(const kx_kind *k, char *buf, size_t n);
int invalid(st_err *e, const kx_kind *k, const char *name, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Kubernetes' defaults for kind k on o (consumed). */
jv obj_defaults(const kx_kind *k, jv o, int top);
/* 0, or -1 with e (422 Invalid naming the field). o borrowed. */
int obj_validate(const kx_kind *k, jv o, st_err *e);
/* The object an update makes of old and upd (both consumed): what a client
 * may not change is kept, .status is kept unless sub_status (then only
 * .status changes), generation moves when .spec changed. */
jv obj_for_update(const kx_kind *k, jv old, jv upd, int sub_status);
int kind_has_status(const kx_kind *k);
int kind_has_generation(const kx_kind *k);
const char *pull_policy(const char *image);
const char *qos_class(jv spec); /* borrows spec */
void base64_encode(kx_buf *b, const unsigned char *s, size_t n, int url);
int base64_decode(kx_buf *b, const char *s);

#endif
