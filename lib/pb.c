#include <string.h>

#include "pb.h"

int kx_pb_varint(kx_buf *b, uint64_t v)
{
	unsigned char out[10];
	size_t n = 0;

	do {
		out[n] = v & 0x7f;
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return kx_buf_add(b, out, n);
}

int kx_pb_tag(kx_buf *b, unsigned field, int wire)
{
	return kx_pb_varint(b, ((uint64_t)field << 3) | (unsigned)wire);
}

int kx_pb_bytes(kx_buf *b, unsigned field, const void *p, size_t n)
{
	if (kx_pb_tag(b, field, KX_PB_LEN) < 0 || kx_pb_varint(b, n) < 0)
		return -1;
	return n ? kx_buf_add(b, p, n) : 0;
}

int kx_pb_string(kx_buf *b, unsigned field, const char *s)
{
	if (!s || !*s)
		return 0;
	return kx_pb_bytes(b, field, s, strlen(s));
}

int kx_pb_uint(kx_buf *b, unsigned field, uint64_t v)
{
	if (!v)
		return 0;
	if (kx_pb_tag(b, field, KX_PB_VARINT) < 0)
		return -1;
	return kx_pb_varint(b, v);
}
