/* err.h: errors as values.
 *
 * A fallible function takes a kx_err * as its last argument, fills it and
 * returns -1 (or an invalid jv / NULL). Each caller may add context with
 * kx_err_wrap on the way up; only main prints it (kx_err_print) and exits
 * with e->status, which is one of the exit codes every kx program shares. */
#ifndef KX_ERR_H
#define KX_ERR_H

enum kx_status {
	KX_OK = 0,
	KX_EFAIL = 1,      /* the operation failed, or the answer is no */
	KX_EUSAGE = 2,     /* bad command line */
	KX_EUNREACH = 3,   /* the store could not be reached */
	KX_EREFUSED = 4,   /* the store answered with an HTTP error */
};

typedef struct kx_err {
	int status;     /* enum kx_status */
	int http;       /* HTTP status when the store refused, else 0 */
	char reason[64];/* Kubernetes Status reason (NotFound, Conflict...), or "" */
	char msg[1024];
} kx_err;

#define KX_ERR_INIT {0, 0, "", ""}

/* Set status and message; returns -1 so callers can `return kx_err_set(...)`. */
int kx_err_set(kx_err *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the message with context: "context: old message". Returns -1. */
int kx_err_wrap(kx_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kx_err_clear(kx_err *e);
/* Print "prog: message" on stderr. */
void kx_err_print(const kx_err *e);

#endif
