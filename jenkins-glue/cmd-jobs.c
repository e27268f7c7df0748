/* cmd-jobs.c - the Jenkins glue: jobs generate, list, sync, trigger. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

enum {
	OPT_JOBS = OPT_FIRST_COMMAND, OPT_URL, OPT_USER, OPT_TOKEN_FILE, OPT_DELETE_OLD, OPT_DRY_RUN,
	OPT_PARAM, OPT_FOLLOW, OPT_TIMEOUT, OPT_QUEUE_TIMEOUT, OPT_POLL
};

static const struct option jobs_longopts[] = {
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "url", required_argument, NULL, OPT_URL },
	{ "user", required_argument, NULL, OPT_USER },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "delete-old", no_argument, NULL, OPT_DELETE_OLD },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "queue-timeout", required_argument, NULL, OPT_QUEUE_TIMEOUT },
	{ "poll-interval", required_argument, NULL, OPT_POLL },
	CLI_COMMON_LONGOPTS
};

struct jobs_args {
	const char *jobs_file;
	const char *url;
	const char *user;
	const char *token_file;
	bool delete_old;
	bool dry_run;
	bool follow;
	const char **params;
	size_t n_params;
	long long timeout_ms;
	long long queue_timeout_ms;
	long long poll_ms;
	const char *pos;
};

/* Options and one optional positional; -1 to go on, else the exit status. */
static int parse_args(struct cli *cli, int argc, char **argv, struct jobs_args *a, bool want_pos,
		      const char *pos_name)
{
	int c;
	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = cli_getopt(cli, argc, argv, jobs_longopts)) != -1) {
		long long ms;
		switch (c) {
		case 'h': return EXIT_OK;
		case '?': return EXIT_USAGE;
		case OPT_JOBS: a->jobs_file = optarg; break;
		case OPT_URL: a->url = optarg; break;
		case OPT_USER: a->user = optarg; break;
		case OPT_TOKEN_FILE: a->token_file = optarg; break;
		case OPT_DELETE_OLD: a->delete_old = true; break;
		case OPT_DRY_RUN: a->dry_run = true; break;
		case OPT_FOLLOW: a->follow = true; break;
		case OPT_PARAM:
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				free(a->params);
				return cli_usage_error(cli, "--param takes NAME=value, not '%s'", optarg);
			}
			a->params = realloc(a->params, (a->n_params + 1) * sizeof(*a->params));
			a->params[a->n_params++] = optarg;
			break;
		case OPT_TIMEOUT:
		case OPT_QUEUE_TIMEOUT:
		case OPT_POLL:
			if (!cli_parse_duration(optarg, &ms) || ms <= 0) {
				free(a->params);
				return cli_usage_error(cli, "%s takes a duration (30s, 10m, 2h), not '%s'",
						       c == OPT_TIMEOUT ? "--timeout" : c == OPT_POLL ? "--poll-interval"
												   : "--queue-timeout", optarg);
			}
			if (c == OPT_TIMEOUT)
				a->timeout_ms = ms;
			else if (c == OPT_POLL)
				a->poll_ms = ms;
			else
				a->queue_timeout_ms = ms;
			break;
		default:
			free(a->params);
			return EXIT_USAGE;
		}
	}
	if (optind < argc && want_pos)
		a->pos = argv[optind++];
	if (optind < argc) {
		free(a->params);
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	}
	if (want_pos && !a->pos) {
		free(a->params);
		return cli_usage_error(cli, "missing %s", pos_name);
	}
	if ((c = cli_setup(cli)) != 0) {
		free(a->params);
		return c;
	}
	return -1;
}

/* The job definition: --jobs FILE, else the jobs section of jcicd.yaml. */
static int load_jobs(struct cli *cli, const struct jobs_args *a, jc_jobs **jobs)
{
	jc_jobs_load_options lo = JC_JOBS_LOAD_OPTIONS_INIT;
	jc_error err;
	int rc;
	lo.logger = &cli->logger;
	if (a->jobs_file)
		rc = jc_jobs_load_file(jobs, a->jobs_file, &lo, &err);
	else if (jc_config_section(cli->config, "jobs"))
		rc = jc_jobs_load_config(jobs, cli->config, &lo, &err);
	else
		return cli_usage_error(cli, "no job definition: give --jobs FILE, or a jobs section in jcicd.yaml");
	return rc < 0 ? cli_fail(cli, &err) : 0;
}

/* Reads the token (or password): the first line of the file. */
static int read_token(struct cli *cli, const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	char buf[4096];
	struct stat st;
	size_t len;

	*out = NULL;
	if (!f) {
		fprintf(stderr, "%s %s: cannot read the token file %s: %s\n", cli->prog, cli->command, path,
			strerror(errno));
		return EXIT_USAGE;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
		cli_note(cli, "warning: %s can be read by other users (chmod 600 it)\n", path);
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (!len) {
		fprintf(stderr, "%s %s: the token file %s is empty\n", cli->prog, cli->command, path);
		return EXIT_USAGE;
	}
	*out = strdup(buf);
	memset(buf, 0, sizeof(buf));
	return 0;
}

static const char *pick(const char *flag, const char *env, const char *from_def)
{
	const char *e = getenv(env);
	if (flag)
		return flag;
	if (e && *e)
		return e;
	return from_def;
}

/* Flags, then $JCICD_JENKINS_URL/_USER/_TOKEN_FILE, then the definition's
 * jenkins: settings. */
static int open_jenkins(struct cli *cli, const struct jobs_args *a, const jc_jobs *jobs, jc_jenkins **jk)
{
	jc_jenkins_options jo = JC_JENKINS_OPTIONS_INIT;
	const char *url = pick(a->url, "JCICD_JENKINS_URL", jc_jobs_jenkins_setting(jobs, "url"));
	const char *user = pick(a->user, "JCICD_JENKINS_USER", jc_jobs_jenkins_setting(jobs, "user"));
	const char *tf = pick(a->token_file, "JCICD_JENKINS_TOKEN_FILE", jc_jobs_jenkins_setting(jobs, "token-file"));
	char *token = NULL;
	jc_error err;
	int rc;

	*jk = NULL;
	if (!url)
		return cli_usage_error(cli, "no Jenkins URL: give --url, $JCICD_JENKINS_URL or jenkins.url");
	if (user && !tf)
		return cli_usage_error(cli, "user %s needs --token-file (the API token, or the password)", user);
	if (tf && !user)
		return cli_usage_error(cli, "--token-file needs --user");
	if (tf && (rc = read_token(cli, tf, &token)) != 0)
		return rc;
	jo.url = url;
	jo.user = user;
	jo.token = token;
	jo.logger = &cli->logger;
	rc = jc_jenkins_open(jk, &jo, &err);
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	return rc < 0 ? cli_fail(cli, &err) : 0;
}

/* ---- generate */

static const char generate_usage[] =
	"Usage: jcicd jobs generate DIR [--jobs FILE]\n\n"
	"Generates the Jenkins config.xml of every job of the definition (--jobs FILE, or the\n"
	"jobs section of jcicd.yaml) into DIR/<job>/config.xml.  Files that are already right\n"
	"are left alone.  Nothing talks to Jenkins.\n";

int cmd_jobs_generate(struct cli *cli, int argc, char **argv)
{
	struct jobs_args a;
	jc_jobs *jobs = NULL;
	jc_error err;
	size_t written;
	int rc;

	cli->usage = generate_usage;
	if ((rc = parse_args(cli, argc, argv, &a, true, "DIR")) >= 0)
		return rc;
	if ((rc = load_jobs(cli, &a, &jobs)) != 0)
		goto out;
	if (jc_jobs_write(jobs, a.pos, &written, &err) < 0) {
		rc = cli_fail(cli, &err);
		goto out;
	}
	if (cli->json) {
		json_object *o = json_object_new_object(), *list = json_object_new_array();
		for (size_t i = 0; i < jc_jobs_count(jobs); i++)
			json_object_array_add(list, json_object_new_string(jc_jobs_name(jobs, i)));
		json_object_object_add(o, "dir", json_object_new_string(a.pos));
		json_object_object_add(o, "jobs", list);
		json_object_object_add(o, "written", json_object_new_int64((int64_t)written));
		cli_print_json(cli, o);
	} else {
		cli_printf(cli, "%zu jobs in %s (%zu file%s written)\n", jc_jobs_count(jobs), a.pos, written,
			   written == 1 ? "" : "s");
	}
out:
	jc_jobs_free(jobs);
	free(a.params);
	return rc;
}

/* ---- list */

static const char list_usage[] =
	"Usage: jcicd jobs list [--jobs FILE]\n\n"
	"The names of the jobs the definition makes, in definition order.\n";

int cmd_jobs_list(struct cli *cli, int argc, char **argv)
{
	struct jobs_args a;
	jc_jobs *jobs = NULL;
	int rc;

	cli->usage = list_usage;
	if ((rc = parse_args(cli, argc, argv, &a, false, NULL)) >= 0)
		return rc;
	if ((rc = load_jobs(cli, &a, &jobs)) == 0) {
		if (cli->json) {
			json_object *list = json_object_new_array();
			for (size_t i = 0; i < jc_jobs_count(jobs); i++)
				json_object_array_add(list, json_object_new_string(jc_jobs_name(jobs, i)));
			cli_print_json(cli, list);
		} else {
			for (size_t i = 0; i < jc_jobs_count(jobs); i++)
				cli_printf(cli, "%s\n", jc_jobs_name(jobs, i));
		}
	}
	jc_jobs_free(jobs);
	free(a.params);
	return rc;
}

/* ---- sync */

static const char sync_usage[] =
	"Usage: jcicd jobs sync [--jobs FILE] --url URL [--user USER --token-file FILE]\n"
	"                       [--delete-old] [--dry-run]\n\n"
	"Makes the jobs on a Jenkins server match the definition.  Reads every job's config.xml\n"
	"from the server, compares canonical XML, and POSTs only what differs: createItem for a\n"
	"missing job, config.xml for a changed one (also one edited by hand on the server).\n"
	"Nothing is POSTed when nothing differs.  With --delete-old, jobs this job set marked as\n"
	"its own (at the end of their description) that it no longer defines are deleted; other\n"
	"jobs are never touched.  --dry-run reports and changes nothing.\n\n"
	"  --url URL          the Jenkins (or $JCICD_JENKINS_URL, or jenkins.url)\n"
	"  --user USER        (or $JCICD_JENKINS_USER, or jenkins.user)\n"
	"  --token-file FILE  first line: the user's API token (or password); never logged\n"
	"                     (or $JCICD_JENKINS_TOKEN_FILE, or jenkins.token-file)\n";

static const char *action_word(jc_jobs_action a, bool dry)
{
	switch (a) {
	case JC_JOBS_CREATE: return dry ? "would create" : "create";
	case JC_JOBS_UPDATE: return dry ? "would update" : "update";
	case JC_JOBS_DELETE: return dry ? "would delete" : "delete";
	default: return "unchanged";
	}
}

static void print_sync(struct cli *cli, const jc_jobs_sync_result *r, bool dry)
{
	size_t want_c = 0, want_u = 0, want_d = 0;
	for (size_t i = 0; i < r->n_changes; i++) {
		want_c += r->changes[i].action == JC_JOBS_CREATE;
		want_u += r->changes[i].action == JC_JOBS_UPDATE;
		want_d += r->changes[i].action == JC_JOBS_DELETE;
	}
	if (cli->json) {
		json_object *o = json_object_new_object(), *list = json_object_new_array();
		for (size_t i = 0; i < r->n_changes; i++) {
			json_object *c = json_object_new_object();
			json_object_object_add(c, "name", json_object_new_string(r->changes[i].name));
			json_object_object_add(c, "action", json_object_new_string(action_word(r->changes[i].action, false)));
			json_object_object_add(c, "detail", cli_json_str(r->changes[i].detail));
			json_object_array_add(list, c);
		}
		json_object_object_add(o, "dry_run", json_object_new_boolean(dry));
		json_object_object_add(o, "created", json_object_new_int64((int64_t)(dry ? want_c : r->created)));
		json_object_object_add(o, "updated", json_object_new_int64((int64_t)(dry ? want_u : r->updated)));
		json_object_object_add(o, "deleted", json_object_new_int64((int64_t)(dry ? want_d : r->deleted)));
		json_object_object_add(o, "unchanged", json_object_new_int64((int64_t)r->unchanged));
		json_object_object_add(o, "gets", json_object_new_int64(r->gets));
		json_object_object_add(o, "posts", json_object_new_int64(r->posts));
		json_object_object_add(o, "changes", list);
		cli_print_json(cli, o);
		return;
	}
	for (size_t i = 0; i < r->n_changes; i++) {
		const jc_jobs_change *c = &r->changes[i];
		if (c->action == JC_JOBS_UNCHANGED && !cli->verbose)
			continue;
		cli_printf(cli, "  %-12s %s%s%s%s\n", action_word(c->action, dry), c->name, c->detail ? " (" : "",
			   c->detail ? c->detail : "", c->detail ? ")" : "");
	}
	if (dry)
		cli_printf(cli, "dry run: would create %zu, update %zu, delete %zu; %zu unchanged (%ld GETs)\n",
			   want_c, want_u, want_d, r->unchanged, r->gets);
	else
		cli_printf(cli, "jobs: %zu created, %zu updated, %zu deleted, %zu unchanged (%ld GETs, %ld POSTs)\n",
			   r->created, r->updated, r->deleted, r->unchanged, r->gets, r->posts);
}

int cmd_jobs_sync(struct cli *cli, int argc, char **argv)
{
	struct jobs_args a;
	jc_jobs *jobs = NULL;
	jc_jenkins *jk = NULL;
	jc_jobs_sync_options so = JC_JOBS_SYNC_OPTIONS_INIT;
	jc_jobs_sync_result r;
	jc_error err;
	int rc;

	cli->usage = sync_usage;
	if ((rc = parse_args(cli, argc, argv, &a, false, NULL)) >= 0)
		return rc;
	if ((rc = load_jobs(cli, &a, &jobs)) != 0 || (rc = open_jenkins(cli, &a, jobs, &jk)) != 0)
		goto out;
	so.delete_old = a.delete_old;
	so.dry_run = a.dry_run;
	if (jc_jobs_sync(&r, jk, jobs, &so, &err) < 0) {
		rc = cli_fail(cli, &err);
		if (!cli->json && (r.created || r.updated || r.deleted))
			cli_note(cli, "before the failure: %zu created, %zu updated, %zu deleted\n", r.created,
				 r.updated, r.deleted);
	} else {
		print_sync(cli, &r, a.dry_run);
	}
	jc_jobs_sync_result_clear(&r);
out:
	jc_jenkins_free(jk);
	jc_jobs_free(jobs);
	free(a.params);
	return rc;
}

/* ---- trigger */

static const char trigger_usage[] =
	"Usage: jcicd jobs trigger JOB [--param NAME=VALUE]... [--follow] [--timeout DURATION]\n"
	"                          [--url URL --user USER --token-file FILE]\n\n"
	"Queues a build of JOB (parameters are checked against the job's own first).  Without\n"
	"--follow, prints the queue item and exits 0.  With --follow, waits for the build to\n"
	"start, streams its console to stdout (stderr with --json), and exits with its result:\n"
	"0 for SUCCESS, 1 for FAILURE, UNSTABLE or ABORTED.\n\n"
	"  --param NAME=VALUE      a build parameter (repeatable)\n"
	"  --follow                follow the build to its result\n"
	"  --queue-timeout DURATION  longest wait for the build to start (default 1h)\n"
	"  --timeout DURATION      longest wait for the build to finish (default 24h)\n"
	"  --poll-interval DURATION  longest pause between polls (default 2s)\n"
	"  --url, --user, --token-file  as for jcicd jobs sync\n";

static int to_stream(const char *data, size_t len, void *payload)
{
	FILE *f = payload;
	fwrite(data, 1, len, f);
	fflush(f);
	return 0;
}

int cmd_jobs_trigger(struct cli *cli, int argc, char **argv)
{
	struct jobs_args a;
	jc_jobs *jobs = NULL;
	jc_jenkins *jk = NULL;
	jc_jobs_trigger_options to = JC_JOBS_TRIGGER_OPTIONS_INIT;
	jc_jobs_build b;
	jc_error err;
	int rc;

	cli->usage = trigger_usage;
	if ((rc = parse_args(cli, argc, argv, &a, true, "JOB")) >= 0)
		return rc;
	/* the definition only matters for its jenkins: settings, when flags or
	 * the environment do not give them */
	if ((!a.url && !getenv("JCICD_JENKINS_URL")) && (a.jobs_file || jc_config_section(cli->config, "jobs")) &&
	    (rc = load_jobs(cli, &a, &jobs)) != 0)
		goto out;
	if ((rc = open_jenkins(cli, &a, jobs, &jk)) != 0)
		goto out;
	to.params = a.params;
	to.n_params = a.n_params;
	to.follow = a.follow;
	to.build_timeout_ms = a.timeout_ms;
	to.queue_timeout_ms = a.queue_timeout_ms;
	to.poll_interval_ms = a.poll_ms;
	to.on_console = to_stream;
	to.payload = cli->json ? stderr : stdout;
	rc = jc_jobs_trigger(&b, jk, a.pos, &to, &err);
	if (rc < 0 && !(rc == JC_EFAILED && b.number > 0)) {
		rc = cli_fail(cli, &err);
		goto out;
	}
	if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "job", json_object_new_string(a.pos));
		json_object_object_add(o, "queue_id", json_object_new_int64(b.queue_id));
		json_object_object_add(o, "number", b.number ? json_object_new_int64(b.number) : NULL);
		json_object_object_add(o, "url", cli_json_str(b.url));
		json_object_object_add(o, "result", b.result[0] ? json_object_new_string(b.result) : NULL);
		json_object_object_add(o, "duration_ms", json_object_new_int64(b.duration_ms));
		cli_print_json(cli, o);
	}
	if (!a.follow)
		cli_note(cli, "%s queued: %s\n", a.pos, b.url);
	else
		cli_note(cli, "%s #%ld: %s in %.1f s (%s)\n", a.pos, b.number, b.result, (double)b.duration_ms / 1000.0,
			 b.url);
	rc = rc < 0 ? EXIT_FAILED : EXIT_OK;
out:
	jc_jenkins_free(jk);
	jc_jobs_free(jobs);
	free(a.params);
	return rc;
}
