/*
 * agent-main.c - jcicd-agent: `jcicd agent` in a binary of its own.
 *
 * A node runs the agent for months, next to the services it deploys, so
 * its memory is the fleet's bill times 100,000.  This binary links only
 * the library's node part (the KV store, the version protocol, the agent)
 * and sqlite, json-c and libyaml; etcd is reached over a small HTTP client
 * instead of libcurl.  `jcicd agent` hands over to it (exec) whenever it
 * is installed and no TLS is configured.  Options, config and exit codes
 * are the same: it runs the same code (cmd-agent.c).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
	struct cli cli;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	memset(&cli, 0, sizeof(cli));
	cli.prog = "jcicd";
	cli.command = "agent";
	cli.small_agent = true;
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
		printf("jcicd-agent %s (libjcicd %s)\n", PACKAGE_VERSION, jc_version());
		return EXIT_OK;
	}
	/* `jcicd-agent agent ...` is `jcicd agent ...` spelled with this binary */
	if (argc > 1 && strcmp(argv[1], "agent") == 0) {
		argc--;
		argv++;
	}
	rc = cmd_agent(&cli, argc, argv);
	cli_progress_end(&cli);
	jc_config_free(cli.config);
	fflush(stdout);
	return rc;
}
