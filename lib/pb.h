/* pb.h: a small protocol buffers writer, enough to encode a message whose
 * schema the caller knows (kx-store's /openapi/v2 as gnostic's
 * openapi_v2.Document, which kubectl asks for in protobuf).
 *
 * Messages are built inside out: encode a submessage into its own kx_buf,
 * then append it to its parent with kx_pb_bytes. Every function appends to
 * b and returns 0, or -1 when b refused to grow (its max or memory); a -1
 * leaves b with part of the field, so the caller drops the whole buffer. */
#ifndef KX_PB_H
#define KX_PB_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum { KX_PB_VARINT = 0, KX_PB_LEN = 2 };

/* A base-128 varint, least significant group first. */
int kx_pb_varint(kx_buf *b, uint64_t v);
/* A field's key: (field << 3) | wire type. */
int kx_pb_tag(kx_buf *b, unsigned field, int wire);
/* A length-delimited field: bytes, a string or an encoded submessage. */
int kx_pb_bytes(kx_buf *b, unsigned field, const void *p, size_t n);
/* A string field (NUL-terminated); proto3 omits an empty one. */
int kx_pb_string(kx_buf *b, unsigned field, const char *s);
/* A bool or integer field; proto3 omits a zero. */
int kx_pb_uint(kx_buf *b, unsigned field, uint64_t v);

#endif
