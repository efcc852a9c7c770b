/* err.c - error values (see whydenied/err.h). */
#include "whydenied/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void wd_err_clear(struct wd_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

int wd_err_set(struct wd_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void wd_err_append(struct wd_err *err, const char *text)
{
	size_t n;

	if (err == NULL)
		return;
	n = strnlen(err->msg, sizeof(err->msg) - 1);
	snprintf(err->msg + n, sizeof(err->msg) - n, "%s", text);
}

int wd_err_os(struct wd_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	size_t n;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	if (n < sizeof(err->msg) - 2)
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
			 strerror(saved));
	return code;
}
