/* whydenied/err.h - error values.
 *
 * Functions return 0 on success or a negative WD_E* code, and describe the
 * problem in the caller's struct wd_err: one line, lowercase, no final full
 * stop, subject in single quotes. There is no global last-error.
 */
#ifndef WHYDENIED_ERR_H
#define WHYDENIED_ERR_H

#include <stddef.h>

enum wd_errcode {
	WD_OK = 0,
	WD_EIO = -1,		/* file or network I/O */
	WD_EFORMAT = -2,	/* malformed input */
	WD_ELIMIT = -3,		/* a cap was exceeded */
	WD_EUSAGE = -4,		/* bad arguments or configuration */
	WD_ERULES = -5,		/* a rule file is wrong */
	WD_EAPI = -6,		/* the remote API answered with an error */
	WD_EAUTH = -7,		/* credentials could not be obtained */
	WD_ENOMEM = -8,
};

struct wd_err {
	int code;
	char msg[512];
};

#if defined(__GNUC__)
#define WD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WD_PRINTF(a, b)
#endif

/* Clears err (NULL is a no-op). */
void wd_err_clear(struct wd_err *err);

/* Sets err to code and the formatted message; returns code. err may be NULL. */
int wd_err_set(struct wd_err *err, int code, const char *fmt, ...) WD_PRINTF(3, 4);

/* Appends text to err's message (cut to fit), keeping its code. */
void wd_err_append(struct wd_err *err, const char *text);

/* Like wd_err_set, appending ": strerror(errno)". */
int wd_err_os(struct wd_err *err, int code, const char *fmt, ...) WD_PRINTF(3, 4);

#endif
