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

	/* kv, the node protocol, agent, rollout (cmd-kv.c, cmd-orchestrate.c, cmd-agent.c) */

	/* build (cmd-build.c) */

	/* jobs (cmd-jobs.c) */
	{ "jobs", "generate", cmd_jobs_generate, "write the Jenkins config.xml of every job of a definition" },
	{ "jobs", "list", cmd_jobs_list, "the names of the jobs a definition makes" },
	{ "jobs", "sync", cmd_jobs_sync, "make a Jenkins server's jobs match the definition (POST only differences)" },
	{ "jobs", "trigger", cmd_jobs_trigger, "queue a Jenkins build; --follow streams it and exits with its result" },

	/* pipeline (cmd-pipeline.c) */

	{ NULL, NULL, NULL, NULL },
};

static void print_help(const char *prog)
{
	const char *noun = NULL;
	printf("Usage: %s [--help] [--version] COMMAND [ARGS...]\n\n"
	       "jcicd turns packages into numbered snapshots, snapshots into verdicts, and verdicts into\n"
	       "rolled-out clouds.  Every command takes --help.\n\nStack commands:\n", prog);
	for (const struct cli_command *c = cli_commands; c->verb; c++) {
		if (c->noun && (!noun || strcmp(noun, c->noun) != 0)) {
			noun = c->noun;
			printf("\n%s commands:\n", noun);
		}
		char name[64];
		snprintf(name, sizeof(name), "%s%s%s", c->noun ? c->noun : "", c->noun ? " " : "", c->verb);
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
