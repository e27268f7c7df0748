/*
 * cli.h - what every jcicd command shares: global options, output (text or
 * --json), the logger that renders progress, errors and exit codes.
 * The CLI uses only libjcicd's public headers.
 */
#ifndef JCICD_CLI_H
#define JCICD_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "jcicd.h"

/* exit codes shared by every verb (see jcicd(1)) */
#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

struct cli {
	const char *prog;
	const char *command;     /* "apply", "snapshot poll" */
	const char *usage;       /* the command's help text */
	bool json;
	bool quiet;
	int verbose;
	const char *config_path;
	const char *state_dir;   /* --state-dir, else config, else default */
	jc_config *config;
	jc_logger logger;
	bool tty;
	bool progress_shown;     /* a progress line is on the terminal */
	long last_done, last_total;
	char last_label[128];
	bool small_agent;        /* this is jcicd-agent (agent-main.c) */
};

/* Options every command accepts; append CLI_COMMON_LONGOPTS to a table. */
enum {
	OPT_JSON = 1000, OPT_QUIET, OPT_VERBOSE, OPT_STATE_DIR, OPT_CONFIG, OPT_HELP,
	OPT_FIRST_COMMAND = 1100
};
#define CLI_COMMON_LONGOPTS \
	{ "json", no_argument, NULL, OPT_JSON }, \
	{ "quiet", no_argument, NULL, OPT_QUIET }, \
	{ "verbose", no_argument, NULL, OPT_VERBOSE }, \
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR }, \
	{ "config", required_argument, NULL, OPT_CONFIG }, \
	{ "help", no_argument, NULL, OPT_HELP }, \
	{ NULL, 0, NULL, 0 }

/*
 * getopt_long over a command's options; handles the common ones itself and
 * returns the rest.  Returns -1 at the end of the options, '?' after it
 * printed a usage error, 'h' after it printed the help.
 */
int cli_getopt(struct cli *cli, int argc, char **argv, const struct option *longopts);

/* Prints "jcicd CMD: message" and the usage hint; returns EXIT_USAGE. */
int cli_usage_error(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A whole decimal number (an optional '-', digits, nothing else). */
bool cli_parse_long(const char *s, long *out);
/* A duration as jcicd.yaml writes it: "90" (seconds), "90s", "250ms",
 * "15m", "2h", "1d". */
bool cli_parse_duration(const char *s, long long *out_ms);
/* Prints err (and as JSON with --json); returns the exit status for it. */
int cli_fail(struct cli *cli, const jc_error *err);
/* Loads the config once (after option parsing) and settles the state dir. */
int cli_setup(struct cli *cli);

/* Text output: suppressed by --json. */
void cli_printf(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a JSON value (and frees it). */
void cli_print_json(struct cli *cli, json_object *value);
/* A message to the operator on stderr (not with --quiet). */
void cli_note(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends any progress line on the terminal before other output. */
void cli_progress_end(struct cli *cli);

json_object *cli_json_str(const char *s);   /* NULL -> JSON null */

/* "--override cp=5,ct=2" and the original "--override_instance_number". */
typedef int (*cli_command_fn)(struct cli *cli, int argc, char **argv);

struct cli_command {
	const char *noun;       /* NULL for top-level verbs */
	const char *verb;
	cli_command_fn fn;
	const char *summary;
};

extern const struct cli_command cli_commands[];

/* the command groups */
int cmd_validate(struct cli *cli, int argc, char **argv);
int cmd_plan(struct cli *cli, int argc, char **argv);
int cmd_apply(struct cli *cli, int argc, char **argv);
int cmd_delete(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_ssh_config(struct cli *cli, int argc, char **argv);

/* openstack */

/* snapshot */
int cmd_snapshot_poll(struct cli *cli, int argc, char **argv);
int cmd_snapshot_publish(struct cli *cli, int argc, char **argv);
int cmd_snapshot_list(struct cli *cli, int argc, char **argv);
int cmd_snapshot_show(struct cli *cli, int argc, char **argv);
int cmd_snapshot_diff(struct cli *cli, int argc, char **argv);
int cmd_snapshot_promote(struct cli *cli, int argc, char **argv);
int cmd_snapshot_history(struct cli *cli, int argc, char **argv);
int cmd_snapshot_prune(struct cli *cli, int argc, char **argv);
int cmd_snapshot_watch(struct cli *cli, int argc, char **argv);
int cmd_snapshot_apt_source(struct cli *cli, int argc, char **argv);

/* kv, node protocol, agent, rollout */
int cmd_trigger_update(struct cli *cli, int argc, char **argv);
int cmd_current_version(struct cli *cli, int argc, char **argv);
int cmd_local_version(struct cli *cli, int argc, char **argv);
int cmd_pending_update(struct cli *cli, int argc, char **argv);
int cmd_running_versions(struct cli *cli, int argc, char **argv);
int cmd_hosts_at_version(struct cli *cli, int argc, char **argv);
int cmd_verify_hosts(struct cli *cli, int argc, char **argv);
int cmd_check_single_version(struct cli *cli, int argc, char **argv);
int cmd_get_failures(struct cli *cli, int argc, char **argv);
int cmd_local_health(struct cli *cli, int argc, char **argv);
int cmd_manage_config(struct cli *cli, int argc, char **argv);
int cmd_check_puppet(struct cli *cli, int argc, char **argv);
int cmd_wait(struct cli *cli, int argc, char **argv);
int cmd_rollout(struct cli *cli, int argc, char **argv);
int cmd_agent(struct cli *cli, int argc, char **argv);
int cmd_kv_get(struct cli *cli, int argc, char **argv);
int cmd_kv_put(struct cli *cli, int argc, char **argv);
int cmd_kv_delete(struct cli *cli, int argc, char **argv);
int cmd_kv_list(struct cli *cli, int argc, char **argv);

/* build */
int cmd_build_poll(struct cli *cli, int argc, char **argv);
int cmd_build_status(struct cli *cli, int argc, char **argv);
int cmd_build_run(struct cli *cli, int argc, char **argv);
int cmd_build_publish(struct cli *cli, int argc, char **argv);
int cmd_build_watch(struct cli *cli, int argc, char **argv);

/* jobs */
int cmd_jobs_generate(struct cli *cli, int argc, char **argv);
int cmd_jobs_list(struct cli *cli, int argc, char **argv);
int cmd_jobs_sync(struct cli *cli, int argc, char **argv);
int cmd_jobs_trigger(struct cli *cli, int argc, char **argv);

/* pipeline */
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_report(struct cli *cli, int argc, char **argv);
int cmd_approve(struct cli *cli, int argc, char **argv);
int cmd_stage(struct cli *cli, int argc, char **argv);
int cmd_promote(struct cli *cli, int argc, char **argv);
int cmd_pipeline_run(struct cli *cli, int argc, char **argv);

#endif
