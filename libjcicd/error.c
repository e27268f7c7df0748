/* error.c - filling, formatting and mapping jc_error. */
#include "common.h"

#include <stdio.h>
#include <string.h>

void jc_error_clear(jc_error *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
}

const char *jc_strerror(int code)
{
	switch (code) {
	case JC_OK: return "success";
	case JC_ERROR: return "failed";
	case JC_ENOMEM: return "out of memory";
	case JC_EINVALID: return "invalid input";
	case JC_EPARSE: return "parse error";
	case JC_ENOTFOUND: return "not found";
	case JC_EEXISTS: return "already exists";
	case JC_EAMBIGUOUS: return "ambiguous name";
	case JC_ELOCKED: return "locked by another process";
	case JC_EAUTH: return "authentication failed";
	case JC_EUNREACHABLE: return "service unreachable";
	case JC_ETIMEOUT: return "timed out";
	case JC_EHTTP: return "server error";
	case JC_EIO: return "I/O error";
	case JC_EFAILED: return "operation failed";
	case JC_ECONFLICT: return "conflicting change";
	case JC_EINTEGRITY: return "integrity check failed";
	case JC_ECANCELLED: return "cancelled";
	case JC_EUNSUPPORTED: return "not supported";
	}
	return "unknown error";
}

int jc_error_exit_status(int code)
{
	switch (code) {
	case JC_OK:
		return 0;
	case JC_EINVALID:
	case JC_EPARSE:
	case JC_EAMBIGUOUS:
		return 2;
	case JC_EUNREACHABLE:
	case JC_EAUTH:
		return 3;
	default:
		return 1;
	}
}

char *jc_error_format(const jc_error *err, char *buf, unsigned long size)
{
	jc_buf b = JC_BUF_INIT;
	if (!size)
		return buf;
	if (!err || err->code == JC_OK) {
		jc_strlcpy(buf, "no error", size);
		return buf;
	}
	if (err->file[0]) {
		jc_buf_puts(&b, err->file);
		if (err->line > 0) {
			jc_buf_printf(&b, ":%d", err->line);
			if (err->column > 0)
				jc_buf_printf(&b, ":%d", err->column);
		}
		jc_buf_puts(&b, ": ");
	}
	jc_buf_puts(&b, err->message[0] ? err->message : jc_strerror(err->code));
	if (err->http_status || err->url[0] || err->request_id[0]) {
		const char *sep = " (";
		if (err->http_status) {
			jc_buf_printf(&b, "%sHTTP %d", sep, err->http_status);
			sep = ", ";
		}
		if (err->url[0]) {
			if (err->http_status)
				jc_buf_printf(&b, " from %s", err->url);
			else
				jc_buf_printf(&b, "%sat %s", sep, err->url);
			sep = ", ";
		}
		if (err->request_id[0])
			jc_buf_printf(&b, "%srequest id %s", sep, err->request_id);
		jc_buf_putc(&b, ')');
	}
	jc_strlcpy(buf, jc_buf_cstr(&b), size);
	jc_buf_free(&b);
	return buf;
}

JC_PRINTF(2, 0) static void set_message(jc_error *err, const char *fmt, va_list ap)
{
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	jc_redact(err->message, sizeof(err->message));
}

int jc_err(jc_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return code;
	jc_error_clear(err);
	err->code = code;
	va_start(ap, fmt);
	set_message(err, fmt, ap);
	va_end(ap);
	return code;
}

int jc_err_at(jc_error *err, int code, const char *file, int line, int col,
	      const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return code;
	jc_error_clear(err);
	err->code = code;
	if (file)
		jc_strlcpy(err->file, file, sizeof(err->file));
	err->line = line;
	err->column = col;
	va_start(ap, fmt);
	set_message(err, fmt, ap);
	va_end(ap);
	return code;
}

int jc_err_errno(jc_error *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;
	if (!err)
		return code;
	jc_error_clear(err);
	err->code = code;
	va_start(ap, fmt);
	set_message(err, fmt, ap);
	va_end(ap);
	len = strlen(err->message);
	if (len + 3 < sizeof(err->message)) {
		memcpy(err->message + len, ": ", 3);
		jc_strlcpy(err->message + len + 2, strerror(errnum), sizeof(err->message) - len - 2);
	}
	return code;
}

int jc_err_http(jc_error *err, int code, const char *url, int status,
		const char *request_id, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return code;
	jc_error_clear(err);
	err->code = code;
	err->http_status = status;
	if (url) {
		jc_strlcpy(err->url, url, sizeof(err->url));
		jc_redact(err->url, sizeof(err->url));
	}
	if (request_id)
		jc_strlcpy(err->request_id, request_id, sizeof(err->request_id));
	va_start(ap, fmt);
	set_message(err, fmt, ap);
	va_end(ap);
	return code;
}

void jc_err_prefix(jc_error *err, const char *fmt, ...)
{
	jc_buf b = JC_BUF_INIT;
	va_list ap;
	if (!err)
		return;
	va_start(ap, fmt);
	jc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	jc_buf_puts(&b, ": ");
	jc_buf_puts(&b, err->message);
	jc_strlcpy(err->message, jc_buf_cstr(&b), sizeof(err->message));
	jc_buf_free(&b);
	jc_redact(err->message, sizeof(err->message));
}

void jc_err_copy(jc_error *dst, const jc_error *src)
{
	if (dst && src && dst != src)
		memcpy(dst, src, sizeof(*dst));
}
