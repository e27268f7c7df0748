/*
 * apply-stack.c - a program of your own that uses libjcicd to make a stack
 * exist on a cloud and print where its servers are.
 *
 *   cc apply-stack.c $(pkg-config --cflags --libs jcicd) -o apply-stack
 *   ./apply-stack SPEC TAG [CLOUD]        (CLOUD defaults to "local")
 */
#include <stdio.h>
#include <stdlib.h>

#include <jcicd.h>

static void print_progress(const jc_log_event *ev, void *payload)
{
	(void)payload;
	if (ev->kind == JC_LOG_PROGRESS)
		fprintf(stderr, "%s: %ld/%ld\n", ev->message, ev->done, ev->total);
}

int main(int argc, char **argv)
{
	jc_spec *spec = NULL;
	jc_cloud *cloud = NULL;
	jc_server_list *servers = NULL;
	jc_apply_options opts = JC_APPLY_OPTIONS_INIT;
	jc_logger logger = { print_progress, JC_LOG_WARN, NULL };
	jc_error err;
	char msg[2048];
	int status = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SPEC TAG [CLOUD]\n", argv[0]);
		return 2;
	}
	if (jc_spec_load(&spec, argv[1], NULL, &err) < 0 ||
	    jc_cloud_open(&cloud, argc > 3 ? argv[3] : "local", NULL, &err) < 0)
		goto fail;
	opts.tag = argv[2];
	opts.logger = &logger;
	if (jc_apply_run(NULL, cloud, spec, &opts, &err) < 0 ||
	    jc_stack_status(&servers, cloud, argv[2], spec, &err) < 0)
		goto fail;
	for (size_t i = 0; i < servers->n; i++) {
		const jc_server *s = &servers->servers[i];
		printf("%s %s %s\n", s->name, jc_server_status_name(s->status),
		       s->n_fixed ? s->fixed_addresses[0] : "-");
	}
	status = 0;
	goto out;
fail:
	fprintf(stderr, "%s: %s\n", argv[0], jc_error_format(&err, msg, sizeof(msg)));
	status = jc_error_exit_status(err.code);
out:
	jc_server_list_free(servers);
	jc_cloud_free(cloud);
	jc_spec_free(spec);
	return status;
}
