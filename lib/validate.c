#include <string.h>

#include "validate.h"

static const char subdomain_msg[] =
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
	"'-' or '.', and must start and end with an alphanumeric character (e.g. "
	"'example.com', regex used for validation is "
	"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char label_msg[] =
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
	"and must start and end with an alphanumeric character (e.g. 'my-name',  or "
	"'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
static const char dns1035_msg[] =
	"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
	"with an alphabetic character, and end with an alphanumeric character (e.g. "
	"'my-name',  or 'abc-123', regex used for validation is "
	"'[a-z]([-a-z0-9]*[a-z0-9])?')";

static int alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One label of n bytes: [a-z0-9]([-a-z0-9]*[a-z0-9])? */
static int label_ok(const char *s, size_t n)
{
	if (n == 0 || !alnum(s[0]) || !alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

const char *kx_validate_dns1123_subdomain(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	const char *p = s;

	if (n == 0)
		return subdomain_msg;
	if (n > 253)
		return "must be no more than 253 characters";
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (!label_ok(p, len))
			return subdomain_msg;
		if (!dot)
			return NULL;
		p = dot + 1;
	}
}

const char *kx_validate_dns1123_label(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > 63)
		return "must be no more than 63 characters";
	return label_ok(s ? s : "", n) ? NULL : label_msg;
}

const char *kx_validate_dns1035_label(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > 63)
		return "must be no more than 63 characters";
	if (!label_ok(s ? s : "", n) || s[0] < 'a' || s[0] > 'z')
		return dns1035_msg;
	return NULL;
}
