#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

char *kx_time_format(time_t t, char *buf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

char *kx_time_format_micro(const struct timespec *ts, char *buf, size_t n)
{
	struct tm tm;
	char s[32];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%06ldZ", s, ts->tv_nsec / 1000);
	return buf;
}

int kx_time_parse(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	long off = 0;

	memset(&tm, 0, sizeof tm);
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return -1;
		off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*out = timegm(&tm) - off;
	return 0;
}

/* kubectl's duration.HumanDuration. */
char *kx_time_age(int64_t sec, char *buf, size_t n)
{
	int64_t m, h, d, y;

	if (sec < 0)
		sec = 0;
	if (sec < 120) {
		snprintf(buf, n, "%llds", (long long)sec);
		return buf;
	}
	m = sec / 60;
	if (m < 10) {
		if (sec % 60)
			snprintf(buf, n, "%lldm%llds", (long long)m, (long long)(sec % 60));
		else
			snprintf(buf, n, "%lldm", (long long)m);
		return buf;
	}
	if (m < 180) {
		snprintf(buf, n, "%lldm", (long long)m);
		return buf;
	}
	h = sec / 3600;
	if (h < 8) {
		if (m % 60)
			snprintf(buf, n, "%lldh%lldm", (long long)h, (long long)(m % 60));
		else
			snprintf(buf, n, "%lldh", (long long)h);
		return buf;
	}
	if (h < 48) {
		snprintf(buf, n, "%lldh", (long long)h);
		return buf;
	}
	if (h < 192) {
		d = h / 24;
		if (h % 24)
			snprintf(buf, n, "%lldd%lldh", (long long)d, (long long)(h % 24));
		else
			snprintf(buf, n, "%lldd", (long long)d);
		return buf;
	}
	if (h < 24 * 365 * 2) {
		snprintf(buf, n, "%lldd", (long long)(h / 24));
		return buf;
	}
	y = h / (24 * 365);
	if (h < 24 * 365 * 8 && (h / 24) % 365)
		snprintf(buf, n, "%lldy%lldd", (long long)y, (long long)((h / 24) % 365));
	else
		snprintf(buf, n, "%lldy", (long long)y);
	return buf;
}

int64_t kx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
