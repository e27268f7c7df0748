/* log.c - delivering log lines and progress to the caller's logger, and the
 * process-wide list of secrets that must never reach a line. */
#include "common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t n_secrets;

void jc_secret_register(const char *secret)
{
	/* Very short strings would redact ordinary words; real secrets are longer. */
	if (!secret || strlen(secret) < 4)
		return;
	pthread_mutex_lock(&secrets_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		if (strcmp(secrets[i], secret) == 0) {
			pthread_mutex_unlock(&secrets_lock);
			return;
		}
	}
	secrets = jc_realloc(secrets, (n_secrets + 1) * sizeof(char *));
	secrets[n_secrets++] = jc_strdup(secret);
	pthread_mutex_unlock(&secrets_lock);
}

void jc_redact(char *s, size_t size)
{
	if (!s || !size)
		return;
	pthread_mutex_lock(&secrets_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		const char *sec = secrets[i];
		size_t sl = strlen(sec);
		char *p;
		while ((p = strstr(s, sec)) != NULL) {
			/* "***" is never longer than a registered secret (>= 4 bytes) */
			memcpy(p, "***", 3);
			memmove(p + 3, p + sl, strlen(p + sl) + 1);
		}
	}
	pthread_mutex_unlock(&secrets_lock);
}

bool jc_log_enabled(const jc_logger *log, jc_log_level level)
{
	return log && log->fn && level >= log->level;
}

void jc_log(const jc_logger *log, jc_log_level level, const char *module,
	    const char *fmt, ...)
{
	va_list ap;
	char *msg;
	jc_log_event ev;

	if (!jc_log_enabled(log, level))
		return;
	va_start(ap, fmt);
	msg = jc_vsprintf(fmt, ap);
	va_end(ap);
	jc_redact(msg, strlen(msg) + 1);
	memset(&ev, 0, sizeof(ev));
	ev.kind = JC_LOG_LINE;
	ev.level = level;
	ev.module = module;
	ev.message = msg;
	log->fn(&ev, log->payload);
	free(msg);
}

void jc_progress(const jc_logger *log, const char *module, const char *label,
		 long done, long total)
{
	jc_log_event ev;
	if (!log || !log->fn)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = JC_LOG_PROGRESS;
	ev.level = JC_LOG_INFO;
	ev.module = module;
	ev.message = label;
	ev.done = done;
	ev.total = total;
	log->fn(&ev, log->payload);
}
