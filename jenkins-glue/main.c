/* main.c - jcicd: find the command, run it, exit with its status. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct cli_command cli_commands[] = {
	{ NULL, "validate", cmd_validate, "check a resource spec (and mappings) without touching a cloud" },
	{ NULL, "plan", cmd_plan, "show what apply would create and keep" },
	{ NULL, "apply", cmd_apply, "make a stack exist: create missing servers, wait until ACTIVE" },
	{ NULL, "delete", cmd_delete, "delete every server of a stack and wait until gone" },
	{ NULL, "list", cmd_list, "the server names a spec wants for a tag" },
	{ NULL, "status", cmd_status, "the servers of a stack: status, addresses, faults" },
	{ NULL, "ssh-config", cmd_ssh_config, "an ssh_config for a stack, through its bastion" },

	/* openstack (cmd-openstack.c) */

	/* snapshot (cmd-snapshot.c) */
	{ "snapshot", "poll", cmd_snapshot_poll, "one conditional request per source; snapshot N+1 when changed" },
	{ "snapshot", "publish", cmd_snapshot_publish, "make the publish root match the store" },
	{ "snapshot", "list", cmd_snapshot_list, "the snapshots, newest first, and their pointers" },
	{ "snapshot", "show", cmd_snapshot_show, "one snapshot: sources, indices, apt line, packages" },
	{ "snapshot", "diff", cmd_snapshot_diff, "packages added, removed and changed between two snapshots" },
	{ "snapshot", "promote", cmd_snapshot_promote, "point testing/stable/... at a snapshot (who, why)" },
	{ "snapshot", "history", cmd_snapshot_history, "who moved which pointer to which snapshot, when and why" },
	{ "snapshot", "prune", cmd_snapshot_prune, "remove old snapshots and unreferenced pool files" },
	{ "snapshot", "watch", cmd_snapshot_watch, "poll every interval, with jitter" },
	{ "snapshot", "apt-source", cmd_snapshot_apt_source, "the sources.list line of a snapshot or pointer" },

	/* kv, the node protocol, agent, rollout (cmd-kv.c, cmd-orchestrate.c, cmd-agent.c) */
	{ NULL, "trigger-update", cmd_trigger_update, "set the version every node should run (jorc)" },
	{ NULL, "current-version", cmd_current_version, "print the desired version (jorc)" },
	{ NULL, "local-version", cmd_local_version, "print or set this node's converged version (jorc)" },
	{ NULL, "pending-update", cmd_pending_update, "exit 0 update pending, 1 none, 2/3 unknown (jorc)" },
	{ NULL, "running-versions", cmd_running_versions, "the versions hosts run (jorc)" },
	{ NULL, "hosts-at-version", cmd_hosts_at_version, "the hosts that run a version (jorc)" },
	{ NULL, "verify-hosts", cmd_verify_hosts, "exit 0 when all listed hosts run a version (jorc)" },
	{ NULL, "check-single-version", cmd_check_single_version, "exit 0 when only that version runs (jorc)" },
	{ NULL, "get-failures", cmd_get_failures, "hosts whose converge or validation failed (jorc)" },
	{ NULL, "local-health", cmd_local_health, "this host's failing checks as exit status (jorc)" },
	{ NULL, "manage-config", cmd_manage_config, "set or delete an operator override (jorc)" },
	{ NULL, "check-puppet", cmd_check_puppet, "exit 9 when upgrades are paused here (jorc)" },
	{ NULL, "wait", cmd_wait, "wait until expected hosts run a version and are healthy" },
	{ NULL, "rollout", cmd_rollout, "roll a version out in waves; rollout status|pause|resume|abort" },
	{ NULL, "agent", cmd_agent, "the node agent: converge to the desired version, report" },
	{ "kv", "get", cmd_kv_get, "print a key's value" },
	{ "kv", "put", cmd_kv_put, "write a key" },
	{ "kv", "delete", cmd_kv_delete, "delete a key (or a prefix)" },
	{ "kv", "list", cmd_kv_list, "keys under a prefix" },

	/* build (cmd-build.c) */
	{ "build", "poll", cmd_build_poll, "ask every build source; build and publish what changed" },
	{ "build", "status", cmd_build_status, "per source: last commit seen, last build, result, log" },
	{ "build", "run", cmd_build_run, "build sources now, changed or not" },
	{ "build", "publish", cmd_build_publish, "rewrite the build repository's indices from the store" },
	{ "build", "watch", cmd_build_watch, "poll every interval, with jitter" },

	/* jobs (cmd-jobs.c) */
	{ "jobs", "generate", cmd_jobs_generate, "write the Jenkins config.xml of every job of a definition" },
	{ "jobs", "list", cmd_jobs_list, "the names of the jobs a definition makes" },
	{ "jobs", "sync", cmd_jobs_sync, "make a Jenkins server's jobs match the definition (POST only differences)" },
	{ "jobs", "trigger", cmd_jobs_trigger, "queue a Jenkins build; --follow streams it and exits with its result" },

	/* pipeline (cmd-pipeline.c) */
	{ NULL, "history", cmd_history, "every stage a snapshot or a pipeline run went through" },
	{ NULL, "report", cmd_report, "a static HTML report of a pipeline run or a snapshot" },
	{ NULL, "approve", cmd_approve, "record an approval of a snapshot for a stage (production)" },
	{ NULL, "stage", cmd_stage, "run one pipeline stage for a snapshot; the verdict is the exit status" },
	{ NULL, "promote", cmd_promote, "move a snapshot pointer once the pipeline allows it" },
	{ "pipeline", "run", cmd_pipeline_run, "every stage in order for a snapshot, with a report" },

	{ NULL, NULL, NULL, NULL },
};

/* The groups of jcicd --help, each named before its first command. */
static const struct {
	const char *first;
	const char *title;
} help_groups[] = {
	{ "validate", "Stacks, on the local cloud or OpenStack" },
	{ "snapshot poll", "Snapshots" },
	{ "trigger-update", "The node protocol (the jorc verbs), rollouts, the agent" },
	{ "kv get", "The coordination store" },
	{ "build poll", "Package builds" },
	{ "jobs generate", "Jenkins jobs" },
	{ "history", "The pipeline" },
};

static void print_help(const char *prog)
{
	printf("Usage: %s [--help] [--version] COMMAND [ARGS...]\n\n"
	       "jcicd turns packages into numbered snapshots, snapshots into verdicts, and verdicts into\n"
	       "rolled-out clouds.  Every command takes --help.\n", prog);
	for (const struct cli_command *c = cli_commands; c->verb; c++) {
		char name[64];
		snprintf(name, sizeof(name), "%s%s%s", c->noun ? c->noun : "", c->noun ? " " : "", c->verb);
		for (size_t i = 0; i < sizeof(help_groups) / sizeof(help_groups[0]); i++)
			if (strcmp(name, help_groups[i].first) == 0)
				printf("\n%s:\n", help_groups[i].title);
		printf("  %-26s %s\n", name, c->summary);
	}
	printf("\nExit status: 0 ok, 1 the operation failed, 2 bad input or usage, 3 a service was\n"
	       "unreachable or refused authentication.  See jcicd(1).\n");
}

static const struct cli_command *find(int argc, char **argv, int *consumed)
{
	const char *first = argv[1];
	/* jorc and the original tool spelled verbs with underscores */
	char a[64], b[64];
	snprintf(a, sizeof(a), "%s", first);
	for (char *p = a; *p; p++)
		if (*p == '_')
			*p = '-';
	for (const struct cli_command *c = cli_commands; c->verb; c++) {
		if (!c->noun && strcmp(c->verb, a) == 0) {
			*consumed = 1;
			return c;
		}
	}
	if (argc < 3)
		return NULL;
	snprintf(b, sizeof(b), "%s", argv[2]);
	for (char *p = b; *p; p++)
		if (*p == '_')
			*p = '-';
	for (const struct cli_command *c = cli_commands; c->verb; c++) {
		if (c->noun && strcmp(c->noun, a) == 0 && strcmp(c->verb, b) == 0) {
			*consumed = 2;
			return c;
		}
	}
	return NULL;
}

static bool is_noun(const char *s)
{
	for (const struct cli_command *c = cli_commands; c->verb; c++)
		if (c->noun && strcmp(c->noun, s) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct cli cli;
	const struct cli_command *cmd;
	int consumed = 0, rc;
	char command[128];

	signal(SIGPIPE, SIG_IGN);
	memset(&cli, 0, sizeof(cli));
	cli.prog = "jcicd";
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		print_help(cli.prog);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("jcicd %s (libjcicd %s)\n", PACKAGE_VERSION, jc_version());
		return EXIT_OK;
	}
	cmd = find(argc, argv, &consumed);
	if (!cmd) {
		if (is_noun(argv[1]))
			fprintf(stderr, "%s: '%s' needs a verb%s%s%s. Try '%s --help'.\n", cli.prog, argv[1],
				argc > 2 ? " ('" : "", argc > 2 ? argv[2] : "", argc > 2 ? "' is not one)" : "",
				cli.prog);
		else
			fprintf(stderr, "%s: unknown command '%s'. Try '%s --help'.\n", cli.prog, argv[1], cli.prog);
		return EXIT_USAGE;
	}
	snprintf(command, sizeof(command), "%s%s%s", cmd->noun ? cmd->noun : "", cmd->noun ? " " : "",
		 cmd->verb);
	cli.command = command;
	/* the command sees argv[0] = its name, then its own arguments */
	rc = cmd->fn(&cli, argc - consumed, argv + consumed);
	cli_progress_end(&cli);
	jc_config_free(cli.config);
	fflush(stdout);
	return rc;
}
