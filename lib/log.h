/* log.h: messages on stderr as "kx-<program>: <message>". */
#ifndef KX_LOG_H
#define KX_LOG_H

extern const char *kx_progname; /* basename of argv[0], set by kx_log_init */
extern int kx_verbose;          /* incremented by -v */

void kx_log_init(const char *argv0);
void kx_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed only when kx_verbose >= level. */
void kx_log_debug(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Always printed: progress and notices a person should see. */
void kx_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
