/* json.h: JSON values are libjq's jv everywhere.
 *
 * The jv rule, which every kx function follows too: a function CONSUMES every
 * jv it is given (it owns one reference and must free or return it); keep a
 * value you still need with jv_copy(). Functions below say "borrows" where
 * they do not consume. Never build JSON with printf: build a jv and dump it. */
#ifndef KX_JSON_H
#define KX_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

struct kx_err;

/* Parse one JSON text of n bytes. Returns jv_invalid() and fills e on error,
 * with jq's message (which names the line and column). */
jv kx_json_parse(const char *s, size_t n, struct kx_err *e);

/* Serialise v (consumed) compactly, or indented by two spaces with pretty.
 * Returns a malloc'd string the caller frees. Object keys keep their order. */
char *kx_json_dump(jv v, int pretty);
/* Same, appended to a kx_buf; returns 0, or -1 when the buffer is full. */
struct kx_buf;
int kx_json_dump_buf(struct kx_buf *b, jv v, int pretty);

/* Look up a dotted path ("metadata.name", "spec.template.metadata.labels").
 * Consumes v. Returns the value, or jv_null() when any step is missing or
 * not an object. Array indexes are written as numbers: "items.0.name". */
jv kx_jv_get(jv v, const char *path);
/* Set a dotted path, creating objects on the way. Consumes v and val. */
jv kx_jv_set(jv v, const char *path, jv val);
/* Delete a dotted path if present. Consumes v. */
jv kx_jv_del(jv v, const char *path);

/* Borrows v (does not consume). Returns buf holding the string at path
 * (truncated to n-1 bytes), or, when absent or not a string, buf holding def
 * (NULL when def is NULL: buf is then left as it was). */
const char *kx_jv_str(jv v, const char *path, char *buf, size_t n, const char *def);
/* Borrows v. The number at path, or def. Strings holding integers count. */
int64_t kx_jv_int(jv v, const char *path, int64_t def);
/* Borrows v. true/false at path, or def. */
int kx_jv_bool(jv v, const char *path, int def);

/* True when a and b are equal JSON values (object key order ignored).
 * Consumes both. */
int kx_jv_equal(jv a, jv b);

/* Write v (consumed) on stdout followed by a newline; -1 on a write error. */
int kx_json_print(jv v, int pretty);

#endif
