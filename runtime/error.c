/* error.c: error values. The first message is kept so the innermost cause survives
 * while callers add context in front of it with mg_err_prefix. */
#include <stdarg.h>
#include <string.h>

#include "runtime.h"

int mg_err_set(struct mg_err *e, int code, const char *fmt, ...)
{
	if (!e || e->code != 0)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	e->code = code;
	return code;
}

void mg_err_prefix(struct mg_err *e, const char *fmt, ...)
{
	if (!e || e->code == 0)
		return;
	char head[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	/* shift the old message right, truncating its tail if it no longer fits */
	size_t h = strlen(head) + 2, cap = sizeof e->msg - 1;
	size_t old = strlen(e->msg);
	if (old > cap - h)
		old = cap - h;
	memmove(e->msg + h, e->msg, old);
	e->msg[h + old] = 0;
	memcpy(e->msg, head, h - 2);
	memcpy(e->msg + h - 2, ": ", 2);
}

void mg_err_clear(struct mg_err *e)
{
	e->code = 0;
	e->msg[0] = 0;
}
