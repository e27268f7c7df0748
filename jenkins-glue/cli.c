/* cli.c - options, output and progress rendering shared by every command. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void print_usage(struct cli *cli, FILE *f)
{
	fputs(cli->usage ? cli->usage : "", f);
	fputs("\nCommon options:\n"
	      "  --json            machine-readable output on stdout\n"
	      "  --quiet           only warnings and errors on stderr\n"
	      "  --verbose         debug detail (every HTTP request, every step)\n"
	      "  --state-dir DIR   state directory (default $JCICD_STATE_DIR, $XDG_STATE_HOME/jcicd)\n"
	      "  --config FILE     project file (default $JCICD_CONFIG, ./jcicd.yaml)\n"
	      "  --help            this text\n"
	      "\nExit status: 0 ok, 1 the operation failed, 2 bad input or usage (nothing changed),\n"
	      "3 a service was unreachable or refused authentication.\n", f);
}

int cli_getopt(struct cli *cli, int argc, char **argv, const struct option *longopts)
{
	for (;;) {
		int c = getopt_long(argc, argv, "hqv", longopts, NULL);
		switch (c) {
		case OPT_JSON:
			cli->json = true;
			continue;
		case 'q':
		case OPT_QUIET:
			cli->quiet = true;
			continue;
		case 'v':
		case OPT_VERBOSE:
			cli->verbose++;
			continue;
		case OPT_STATE_DIR:
			cli->state_dir = optarg;
			continue;
		case OPT_CONFIG:
			cli->config_path = optarg;
			continue;
		case 'h':
		case OPT_HELP:
			print_usage(cli, stdout);
			return 'h';
		case '?':
			fprintf(stderr, "Try '%s %s --help'.\n", cli->prog, cli->command);
			return '?';
		default:
			return c;
		}
	}
}

int cli_usage_error(struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s %s: ", cli->prog, cli->command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", cli->prog, cli->command);
	return EXIT_USAGE;
}

json_object *cli_json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

int cli_fail(struct cli *cli, const jc_error *err)
{
	char msg[4096];
	int status = jc_error_exit_status(err->code);
	cli_progress_end(cli);
	jc_error_format(err, msg, sizeof(msg));
	fprintf(stderr, "%s %s: %s\n", cli->prog, cli->command, msg);
	if (cli->json) {
		json_object *o = json_object_new_object(), *e = json_object_new_object();
		json_object_object_add(e, "code", json_object_new_int(err->code));
		json_object_object_add(e, "kind", json_object_new_string(jc_strerror(err->code)));
		json_object_object_add(e, "message", json_object_new_string(err->message));
		if (err->file[0]) {
			json_object_object_add(e, "file", json_object_new_string(err->file));
			json_object_object_add(e, "line", json_object_new_int(err->line));
			json_object_object_add(e, "column", json_object_new_int(err->column));
		}
		if (err->url[0])
			json_object_object_add(e, "url", json_object_new_string(err->url));
		if (err->http_status)
			json_object_object_add(e, "http_status", json_object_new_int(err->http_status));
		if (err->request_id[0])
			json_object_object_add(e, "request_id", json_object_new_string(err->request_id));
		json_object_object_add(e, "exit_status", json_object_new_int(status));
		json_object_object_add(o, "error", e);
		cli_print_json(cli, o);
	}
	return status;
}

static const char *level_word(jc_log_level l)
{
	switch (l) {
	case JC_LOG_DEBUG: return "debug";
	case JC_LOG_WARN: return "warning";
	case JC_LOG_ERROR: return "error";
	default: return NULL;
	}
}

void cli_progress_end(struct cli *cli)
{
	if (cli->progress_shown) {
		fputs("\r\033[K", stderr);
		cli->progress_shown = false;
		fflush(stderr);
	}
}

static void render(const jc_log_event *ev, void *payload)
{
	struct cli *cli = payload;
	if (ev->kind == JC_LOG_PROGRESS) {
		if (cli->quiet)
			return;
		bool changed = ev->done != cli->last_done || ev->total != cli->last_total ||
			       strcmp(cli->last_label, ev->message) != 0;
		cli->last_done = ev->done;
		cli->last_total = ev->total;
		snprintf(cli->last_label, sizeof(cli->last_label), "%s", ev->message);
		if (cli->tty) {
			fprintf(stderr, "\r\033[K[%s] %s %ld", ev->module ? ev->module : "jcicd", ev->message, ev->done);
			if (ev->total)
				fprintf(stderr, "/%ld", ev->total);
			cli->progress_shown = true;
			fflush(stderr);
		} else if (changed) {
			/* plain lines for logs: only when something moved */
			fprintf(stderr, "[%s] %s %ld%s", ev->module ? ev->module : "jcicd", ev->message, ev->done,
				ev->total ? "" : "\n");
			if (ev->total)
				fprintf(stderr, "/%ld\n", ev->total);
		}
		return;
	}
	cli_progress_end(cli);
	const char *w = level_word(ev->level);
	if (w)
		fprintf(stderr, "[%s] %s: %s\n", ev->module ? ev->module : "jcicd", w, ev->message);
	else
		fprintf(stderr, "[%s] %s\n", ev->module ? ev->module : "jcicd", ev->message);
}

int cli_setup(struct cli *cli)
{
	jc_error err;
	cli->tty = isatty(STDERR_FILENO) && getenv("TERM") && strcmp(getenv("TERM"), "dumb") != 0;
	cli->logger.fn = render;
	cli->logger.payload = cli;
	cli->logger.level = cli->quiet ? JC_LOG_WARN : cli->verbose ? JC_LOG_DEBUG : JC_LOG_INFO;
	if (!cli->config) {
		if (jc_config_load(&cli->config, cli->config_path, &err) < 0)
			return cli_fail(cli, &err);
	}
	/* --state-dir, then $JCICD_STATE_DIR, then the file: the more local the
	 * setting, the more it wins (the library falls back to the XDG default) */
	if (!cli->state_dir && !(getenv("JCICD_STATE_DIR") && *getenv("JCICD_STATE_DIR")))
		cli->state_dir = jc_config_state_dir(cli->config);
	return 0;
}

void cli_printf(struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	if (cli->json)
		return;
	cli_progress_end(cli);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void cli_note(struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	if (cli->quiet)
		return;
	cli_progress_end(cli);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void cli_print_json(struct cli *cli, json_object *value)
{
	cli_progress_end(cli);
	puts(json_object_to_json_string_ext(value, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(value);
}

bool cli_parse_long(const char *s, long *out)
{
	char *end;
	long v;
	if (!s || !(*s == '-' || (*s >= '0' && *s <= '9')))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

bool cli_parse_duration(const char *s, long long *out_ms)
{
	return jc_config_parse_duration(s, NULL, out_ms, NULL) == 0;
}
