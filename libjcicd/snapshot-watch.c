/* snapshot-watch.c - poll in a loop, with jitter, one watcher per state
 * directory. */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot-internal.h"

static bool stopped(const jc_snapshot_watch_options *o)
{
	return o->stop && o->stop(o->payload);
}

int jc_snapshot_watch(jc_snapshots *s, const jc_snapshot_watch_options *opts, jc_error *err)
{
	jc_snapshot_watch_options defaults = JC_SNAPSHOT_WATCH_OPTIONS_INIT;
	const jc_snapshot_watch_options *o = opts ? opts : &defaults;
	char *path;
	int watch_fd = -1, rc;

	if (o->version != JC_SNAPSHOT_WATCH_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_snapshot_watch_options version %u is not supported", o->version);
	if (s->o.n_sources == 0)
		return jc_err(err, JC_EINVALID, "no snapshot sources: add snapshots.sources to jcicd.yaml "
			      "(or pass --source)");
	if ((rc = jc_snap_need_root(s, err)) < 0)
		return rc;
	path = jc_path_join(jc_store_dir(s->store), "snapshot-watch.lock");
	rc = jc_snap_lock_file(&watch_fd, path, 0, "snapshot watch", err);
	free(path);
	if (rc < 0)
		return rc;
	jc_log(s->o.logger, JC_LOG_INFO, "snapshot", "watching %zu source%s every %.0f s (+-%d%%)", s->o.n_sources,
	       s->o.n_sources == 1 ? "" : "s", (double)s->o.interval_ms / 1000.0, s->o.jitter_percent);
	for (long cycle = 1; !stopped(o); cycle++) {
		jc_snapshot_poll_result res;
		jc_error perr;
		long long wait_ms, spread;
		int64_t until;

		jc_error_clear(&perr);
		rc = jc_snapshot_poll(&res, s, 0, &perr);
		if (rc == JC_ELOCKED) {
			/* a manual poll or a promotion is running: its result is
			 * as good as ours */
			jc_log(s->o.logger, JC_LOG_NOTICE, "snapshot", "skipping this poll: %s", perr.message);
		} else if (rc < 0) {
			jc_log(s->o.logger, JC_LOG_WARN, "snapshot", "poll failed: %s", perr.message);
		}
		if (o->on_cycle)
			o->on_cycle(&res, rc < 0 ? &perr : NULL, o->payload);
		if (rc == JC_EINVALID) {
			/* the configuration is wrong: no later cycle will do better */
			jc_err_copy(err, &perr);
			break;
		}
		rc = 0;
		if (o->max_cycles && cycle >= o->max_cycles)
			break;
		spread = s->o.interval_ms * s->o.jitter_percent / 100;
		wait_ms = s->o.interval_ms - spread + (long long)jc_random((uint64_t)(2 * spread + 1));
		until = jc_now_ms() + wait_ms;
		while (!stopped(o) && jc_now_ms() < until) {
			int64_t left = until - jc_now_ms();
			jc_sleep_ms(left < 200 ? left : 200);
		}
	}
	close(watch_fd);
	return rc;
}
