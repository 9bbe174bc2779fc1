/* Unit tests of lib/pb: the protocol buffers writer, against encodings
 * worked out from the protobuf wire format documentation. */
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "tap.h"

/* The buffer's bytes as hex, for comparison. */
static const char *hex(const kx_buf *b)
{
	static char out[512];
	size_t i;

	out[0] = 0;
	for (i = 0; i < b->len && 2 * i + 2 < sizeof out; i++)
		snprintf(out + 2 * i, 3, "%02x", (unsigned char)b->p[i]);
	return out;
}

static void test_varint(void)
{
	kx_buf b = KX_BUF_INIT;

	kx_pb_varint(&b, 0);
	is_str(hex(&b), "00", "0 is one zero byte");
	kx_buf_reset(&b);
	kx_pb_varint(&b, 1);
	kx_pb_varint(&b, 127);
	is_str(hex(&b), "017f", "1 and 127 fit one byte each");
	kx_buf_reset(&b);
	kx_pb_varint(&b, 150);
	is_str(hex(&b), "9601", "150 is 96 01 (the documentation's example)");
	kx_buf_reset(&b);
	kx_pb_varint(&b, 300);
	is_str(hex(&b), "ac02", "300 is ac 02");
	kx_buf_reset(&b);
	kx_pb_varint(&b, UINT64_MAX);
	is_str(hex(&b), "ffffffffffffffffff01", "the largest value takes ten bytes");
	kx_buf_free(&b);
}

static void test_fields(void)
{
	kx_buf b = KX_BUF_INIT, sub = KX_BUF_INIT;

	kx_pb_uint(&b, 1, 150);
	is_str(hex(&b), "089601", "field 1 = 150: key 08, then the varint");
	kx_buf_reset(&b);
	kx_pb_string(&b, 2, "testing");
	is_str(hex(&b), "120774657374696e67", "field 2 = \"testing\": key 12, length 7, bytes");
	kx_buf_reset(&b);
	kx_pb_string(&b, 2, "");
	kx_pb_uint(&b, 3, 0);
	is_int(b.len, 0, "proto3 leaves out an empty string and a zero");
	kx_pb_uint(&b, 27, 1);
	is_str(hex(&b), "d80101", "a field number above 15 takes a two-byte key");
	kx_buf_reset(&b);
	kx_pb_uint(&sub, 1, 150);
	kx_pb_bytes(&b, 3, sub.p, sub.len);
	is_str(hex(&b), "1a03089601", "an embedded message is length-delimited (field 3)");
	kx_buf_reset(&b);
	kx_pb_bytes(&b, 4, NULL, 0);
	is_str(hex(&b), "2200", "an empty embedded message is still written");
	kx_buf_free(&b);
	kx_buf_free(&sub);
}

static void test_limit(void)
{
	kx_buf b = KX_BUF_INIT;

	b.max = 4;
	ok(kx_pb_string(&b, 1, "abcdef") < 0, "a field past the buffer's limit is refused");
	kx_buf_free(&b);
}

int main(void)
{
	test_varint();
	test_fields();
	test_limit();
	return done_testing();
}
