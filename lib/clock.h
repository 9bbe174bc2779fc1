/* clock.h: time as Kubernetes writes it. */
#ifndef KX_CLOCK_H
#define KX_CLOCK_H

#include <stdint.h>
#include <time.h>

/* RFC 3339 in UTC with seconds: "2026-11-26T18:42:00Z". buf >= 21 bytes. */
char *kx_time_format(time_t t, char *buf, size_t n);
/* The same with microseconds ("...18:42:00.123456Z"), as MicroTime fields. */
char *kx_time_format_micro(const struct timespec *ts, char *buf, size_t n);
/* Parse RFC 3339 (with or without fraction, "Z" or an offset). -1 if malformed. */
int kx_time_parse(const char *s, time_t *out);
/* kubectl's AGE column: "12s", "5m", "3h", "2d", "4y" (kubectl's rules). */
char *kx_time_age(int64_t seconds, char *buf, size_t n);
/* Milliseconds on a monotonic clock, for timeouts and measuring. */
int64_t kx_now_ms(void);

#endif
