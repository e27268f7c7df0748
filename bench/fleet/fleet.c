/*
 * bench/fleet/fleet.c - N simulated agents against one KV store: how long
 * from trigger-update until every agent reported the new version, how many
 * requests the central store took doing it, what an idle fleet costs, and
 * the same for the original scheme (every node reads the version every 60
 * s, no leases, no watches) run in the same process as the peer.
 *
 * A simulated agent is a thread running the real protocol through the
 * library: lease grant + register, read desired/ and watch it, keep the
 * lease alive, and on a new version wait its jitter (the longer of
 * --jitter and the desired/spread_ms that trigger-update writes for the
 * fleet's size), "converge" (a no-op) and report health and version in
 * one put.  Only the converge command is missing.
 *
 *   fleet --kv URL --agents N [--mode watch|poll] [--poll-period S]
 *         [--lease-ttl S] [--idle S] [--jitter MS] [--timeout S]
 *         [--shared-address]   (etcd: every agent connects from 127.0.0.1)
 *
 * Prints one line of key=value results.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jcicd.h"

static const char *kv_url;
static const char *prefix;
static int n_agents = 1000;
static int poll_mode;
static long poll_period_ms = 60000;
static long lease_ttl = 60;
static long jitter_ms;
static long long timeout_ms = 120000;
static long report_rate;   /* 0: the library's default */
/* etcd: each agent connects from its own loopback address, as each node of
 * a fleet has its own.  Sharing 127.0.0.1, 10,000 watch streams and the
 * TIME_WAITs of short connections fill its 28,000 local ports, and every
 * connect() then spends milliseconds in the kernel looking for a free one
 * (__inet_hash_connect): the simulation, not the protocol, is measured. */
static int shared_address;

/* shared by the worker processes (each runs a slice of the agents: a
 * process has 20,000 descriptors at most, an agent needs three) */
struct shared {
	atomic_long requests;         /* every agent's requests, summed */
	atomic_int registered;
	atomic_int setup_failed;
	atomic_int reported;
	atomic_llong last_report_ms;  /* CLOCK_MONOTONIC is machine-wide */
	atomic_llong last_seen_ms;    /* the last agent's watch delivered "2" */
	atomic_int stop;
	atomic_int target_set;        /* version "2" is the one to report */
	atomic_int leases_lost;       /* keep-alives that came too late */
};
static struct shared *sh;
static int n_procs = 0;
static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t setup_cond = PTHREAD_COND_INITIALIZER;
static int setups_running;
#define SETUP_PARALLEL 32

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	if (ms > 0)
		nanosleep(&ts, NULL);
}

static void note_max(atomic_llong *at, long long t)
{
	long long prev = atomic_load(at);
	while (t > prev && !atomic_compare_exchange_weak(at, &prev, t))
		;
}

static void count(jc_kv *kv, long *last)
{
	jc_kv_stats st;
	jc_kv_get_stats(kv, &st);
	atomic_fetch_add(&sh->requests, st.requests - *last);
	*last = st.requests;
}

struct agent {
	int id;
	char host[32];
	char source[48];           /* 127.1.x.y; "" with --shared-address */
	unsigned seed;
};

static int report_version(jc_orch *orch, struct agent *a, const char *v, int64_t lease, jc_kv *kv, long *last)
{
	jc_host_report r = { 0 };
	jc_error err;
	r.hostname = a->host;
	r.role = "cp";
	r.tag = "bench";
	r.running_version = v;
	r.healthy = true;
	r.stage = "converged";
	r.message = "";
	r.attempted_version = v;
	r.converge_rc = 0;
	r.validation_rc = 0;
	if (jc_orch_report(orch, &r, lease, &err) < 0) {
		fprintf(stderr, "agent %d: report: %s\n", a->id, err.message);
		count(kv, last);
		return -1;
	} else if (atomic_load(&sh->target_set) && strcmp(v, "2") == 0) {
		note_max(&sh->last_report_ms, now_ms());
		atomic_fetch_add(&sh->reported, 1);
	}
	count(kv, last);
	return 0;
}

static void setup_enter(void)
{
	pthread_mutex_lock(&setup_lock);
	while (setups_running >= SETUP_PARALLEL)
		pthread_cond_wait(&setup_cond, &setup_lock);
	setups_running++;
	pthread_mutex_unlock(&setup_lock);
}

static void setup_leave(void)
{
	pthread_mutex_lock(&setup_lock);
	setups_running--;
	pthread_cond_signal(&setup_cond);
	pthread_mutex_unlock(&setup_lock);
}

static void *agent_main(void *arg)
{
	struct agent *a = arg;
	jc_kv *kv = NULL;
	jc_orch *orch = NULL;
	jc_orch_options oo = JC_ORCH_OPTIONS_INIT;
	jc_kv_options ko = JC_KV_OPTIONS_INIT;
	jc_kv_watch *w = NULL;
	jc_error err;
	int64_t lease = 0;
	long last = 0;
	char *desired = NULL, *dkey, *skey, *wprefix;
	long long next_keepalive = 0, next_poll = 0, spread_ms = 0, renewed = 0;

	setup_enter();
	ko.timeout_ms = 30000;
	ko.busy_timeout_ms = 120000;
	ko.short_connections = true;   /* as `jcicd agent` opens it */
	if (a->source[0])
		ko.source_address = a->source;
	oo.prefix = prefix;
	if (jc_kv_open(&kv, kv_url, &ko, &err) < 0 || jc_orch_open(&orch, kv, &oo, &err) < 0) {
		fprintf(stderr, "agent %d: %s\n", a->id, err.message);
		atomic_fetch_add(&sh->setup_failed, 1);
		setup_leave();
		goto out;
	}
	dkey = jc_orch_key(orch, "desired/version");
	skey = jc_orch_key(orch, "desired/spread_ms");
	wprefix = jc_orch_key(orch, "desired/");
	{
		jc_host_report r = { 0 };
		jc_kv_list l = { 0 };
		int rc = 0;
		r.hostname = a->host;
		r.role = "cp";
		r.tag = "bench";
		if (!poll_mode)
			rc = jc_kv_lease_grant(&lease, kv, lease_ttl, &err);
		if (rc == 0)
			rc = jc_orch_register(orch, &r, lease, &err);
		if (rc == 0 && !poll_mode)
			rc = jc_kv_range(&l, kv, wprefix, NULL, &err);
		if (rc == 0 && !poll_mode) {
			for (size_t i = 0; i < l.n; i++) {
				if (strcmp(l.items[i].key, dkey) == 0)
					desired = strdup(l.items[i].value);
				else if (strcmp(l.items[i].key, skey) == 0)
					spread_ms = atoll(l.items[i].value);
			}
			rc = jc_kv_watch_open(&w, kv, wprefix, l.revision + 1, &err);
		}
		jc_kv_list_clear(&l);
		if (rc < 0) {
			fprintf(stderr, "agent %d: setup: %s\n", a->id, err.message);
			atomic_fetch_add(&sh->setup_failed, 1);
			setup_leave();
			free(dkey);
			free(skey);
			free(wprefix);
			goto out;
		}
	}
	count(kv, &last);
	setup_leave();
	atomic_fetch_add(&sh->registered, 1);
	renewed = now_ms();
	next_keepalive = renewed + lease_ttl * 1000 / 3;
	/* pollers read at a random point of their period, like cron minutes
	 * spread over a fleet */
	next_poll = now_ms() + rand_r(&a->seed) % poll_period_ms;
	if (poll_mode) {
		/* the first look happens at boot, not on the first cron minute */
		jc_kv_pair p0;
		if (jc_kv_get(&p0, kv, dkey, &err) == 0) {
			desired = strdup(p0.value);
			report_version(orch, a, desired, 0, kv, &last);
			jc_kv_pair_clear(&p0);
		}
		count(kv, &last);
	}

	while (!atomic_load(&sh->stop)) {
		long long now = now_ms(), wake;
		if (!poll_mode && now >= next_keepalive) {
			int krc = jc_kv_lease_keepalive(NULL, kv, lease, &err);
			next_keepalive = now + lease_ttl * 1000 / 3;
			if (krc == 0)
				renewed = now;
			if (krc < 0 && krc != JC_ENOTFOUND)
				next_keepalive = now + 1000 + rand_r(&a->seed) % 1000;   /* as the agent does */
			if (krc == JC_ENOTFOUND) {
				/* as the agent does: register again, report again */
				jc_host_report r = { 0 };
				atomic_fetch_add(&sh->leases_lost, 1);
				r.hostname = a->host;
				r.role = "cp";
				r.tag = "bench";
				if (jc_kv_lease_grant(&lease, kv, lease_ttl, &err) == 0) {
					renewed = now_ms();
					if (jc_orch_register(orch, &r, lease, &err) == 0 && desired)
						report_version(orch, a, desired, lease, kv, &last);
				}
			}
			count(kv, &last);
		}
		if (poll_mode) {
			if (now >= next_poll) {
				jc_kv_pair p;
				if (jc_kv_get(&p, kv, dkey, &err) == 0) {
					if (!desired || strcmp(desired, p.value) != 0) {
						if (report_version(orch, a, p.value, 0, kv, &last) == 0) {
							free(desired);
							desired = strdup(p.value);
						}
					}
					jc_kv_pair_clear(&p);
				}
				count(kv, &last);
				next_poll += poll_period_ms;
			}
			wake = next_poll - now_ms();
			sleep_ms(wake > 5000 ? 5000 : wake);   /* sleeping pollers cost nothing */
			continue;
		}
		wake = next_keepalive - now;
		if (wake > 5000)
			wake = 5000;   /* look at stop now and then */
		jc_kv_events ev;
		if (jc_kv_watch_next(&ev, w, wake > 0 ? wake : 0, &err) == 0) {
			for (size_t i = 0; i < ev.n; i++) {
				if (strcmp(ev.items[i].kv.key, skey) == 0 && ev.items[i].type == JC_KV_EVENT_PUT)
					spread_ms = atoll(ev.items[i].kv.value);
				if (strcmp(ev.items[i].kv.key, dkey) != 0 || ev.items[i].type != JC_KV_EVENT_PUT)
					continue;
				free(desired);
				desired = strdup(ev.items[i].kv.value);
				if (atomic_load(&sh->target_set) && strcmp(desired, "2") == 0)
					note_max(&sh->last_seen_ms, now_ms());
			}
			if (ev.n && desired) {
				long long window = jitter_ms > spread_ms ? jitter_ms : spread_ms;
				/* as the agent does: keep-alives out of the window */
				next_keepalive = jc_orch_keepalive_due_ms(next_keepalive, renewed, lease_ttl, window, now_ms());
				if (window > 0)
					sleep_ms(rand_r(&a->seed) % window);
				/* as the agent does: a failed report is sent again, with backoff */
				long long backoff = 500;
				while (report_version(orch, a, desired, lease, kv, &last) < 0 && !atomic_load(&sh->stop)) {
					sleep_ms(backoff / 2 + rand_r(&a->seed) % (backoff / 2 + 1));
					if (backoff < 10000)
						backoff *= 2;
				}
			}
			jc_kv_events_clear(&ev);
		}
		count(kv, &last);
	}
	if (lease)
		jc_kv_lease_revoke(kv, lease, &err);
	free(dkey);
	free(skey);
	free(wprefix);
out:
	free(desired);
	jc_kv_watch_free(w);
	jc_orch_free(orch);
	jc_kv_free(kv);
	return NULL;
}


static long rss_of(pid_t pid)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* a worker process: agents [first, first + n) as threads, until stop */
static void worker(int first, int n)
{
	pthread_t *threads = calloc((size_t)n, sizeof(*threads));
	struct agent *agents = calloc((size_t)n, sizeof(*agents));
	pthread_attr_t attr;
	int started = 0;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < n; i++) {
		agents[i].id = first + i;
		agents[i].seed = (unsigned)(first + i) * 2654435761u;
		snprintf(agents[i].host, sizeof(agents[i].host), "cp%d-bench", first + i + 1);
		if (!shared_address && strncmp(kv_url, "etcd://", 7) == 0)
			snprintf(agents[i].source, sizeof(agents[i].source), "127.%d.%d.%d", 1 + (first + i) / 65536,
				 (first + i) / 256 % 256, (first + i) % 256);
		if (pthread_create(&threads[i], &attr, agent_main, &agents[i]) != 0) {
			fprintf(stderr, "fleet: cannot start thread %d\n", first + i);
			atomic_fetch_add(&sh->setup_failed, n - i);
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	free(agents);
}

int main(int argc, char **argv)
{
	pid_t *kids;
	jc_kv *ctl;
	jc_error err;
	char key[256];
	long long t0, deadline, idle_s = 10, spread_shown = 0;
	struct rlimit rl;
	char *p = NULL;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(argv[i], "--kv")) kv_url = v, i++;
		else if (!strcmp(argv[i], "--agents")) n_agents = atoi(v), i++;
		else if (!strcmp(argv[i], "--mode")) poll_mode = !strcmp(v, "poll"), i++;
		else if (!strcmp(argv[i], "--poll-period")) poll_period_ms = atol(v) * 1000, i++;
		else if (!strcmp(argv[i], "--lease-ttl")) lease_ttl = atol(v), i++;
		else if (!strcmp(argv[i], "--idle")) idle_s = atol(v), i++;
		else if (!strcmp(argv[i], "--jitter")) jitter_ms = atol(v), i++;
		else if (!strcmp(argv[i], "--timeout")) timeout_ms = atol(v) * 1000, i++;
		else if (!strcmp(argv[i], "--prefix")) prefix = v, i++;
		else if (!strcmp(argv[i], "--procs")) n_procs = atoi(v), i++;
		else if (!strcmp(argv[i], "--report-rate")) report_rate = atol(v), i++;
		else if (!strcmp(argv[i], "--shared-address")) shared_address = 1;
		else {
			fprintf(stderr, "usage: fleet --kv URL --agents N [--mode watch|poll] [--poll-period S] "
					"[--lease-ttl S] [--idle S] [--jitter MS] [--timeout S] [--prefix P] [--procs P] "
					"[--report-rate R] [--shared-address]\n");
			return 2;
		}
	}
	if (!kv_url || n_agents < 1)
		return 2;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 3;
	memset(sh, 0, sizeof(*sh));
	if (!prefix) {
		p = malloc(64);
		snprintf(p, 64, "/bench-%ld-%s/", (long)getpid(), poll_mode ? "poll" : "watch");
		prefix = p;
	}
	/* thousands of threads share a few malloc arenas: left to its
	 * defaults glibc gives each arena's top back to the kernel on free and
	 * faults it in again on the next report, work a real node (one thread,
	 * the main arena) does not do.  Keep what was grown. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	/* every agent has its own connections */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	jc_orch_options co = JC_ORCH_OPTIONS_INIT;
	jc_orch *corch = NULL;
	co.prefix = prefix;
	co.report_rate = report_rate;
	if (jc_kv_open(&ctl, kv_url, NULL, &err) < 0 || jc_orch_open(&corch, ctl, &co, &err) < 0) {
		fprintf(stderr, "fleet: %s\n", err.message);
		return 3;
	}
	/* as `jcicd trigger-update` does it: the version with its spread */
	if (jc_orch_trigger_update(corch, "1", &err) < 0) {
		fprintf(stderr, "fleet: %s\n", err.message);
		return 3;
	}

	if (n_procs <= 0)
		n_procs = (n_agents + 2999) / 3000;
	kids = calloc((size_t)n_procs, sizeof(*kids));
	t0 = now_ms();
	for (int p_i = 0, first = 0; p_i < n_procs; p_i++) {
		int n = n_agents / n_procs + (p_i < n_agents % n_procs);
		kids[p_i] = fork();
		if (kids[p_i] == 0) {
			worker(first, n);
			_exit(0);
		}
		first += n;
	}
	for (long long shown = now_ms(); atomic_load(&sh->registered) + atomic_load(&sh->setup_failed) < n_agents &&
					 now_ms() - t0 < timeout_ms * 4;) {
		sleep_ms(100);
		if (now_ms() - shown >= 10000) {
			shown = now_ms();
			fprintf(stderr, "fleet: %.0f s: %d of %d agents registered\n", (double)(shown - t0) / 1000,
				atomic_load(&sh->registered), n_agents);
		}
	}
	long long setup_ms = now_ms() - t0;
	/* the initial reports of version 1 (pollers: at their first poll) */
	sleep_ms(poll_mode ? 100 : 2000);

	/* idle: what an idle fleet costs the store */
	long r0 = atomic_load(&sh->requests);
	sleep_ms(idle_s * 1000);
	long idle_req = atomic_load(&sh->requests) - r0;

	/* trigger-update: until every agent has reported it */
	fprintf(stderr, "fleet: %d agents registered in %.1f s, idle load measured; trigger-update\n",
		atomic_load(&sh->registered), (double)setup_ms / 1000);
	atomic_store(&sh->target_set, 1);
	atomic_store(&sh->reported, 0);
	atomic_store(&sh->last_report_ms, 0);
	atomic_store(&sh->last_seen_ms, 0);
	r0 = atomic_load(&sh->requests);
	long ctl0;
	{
		jc_kv_stats st;
		jc_kv_get_stats(ctl, &st);
		ctl0 = st.requests;
	}
	t0 = now_ms();
	if (jc_orch_trigger_update(corch, "2", &err) < 0)
		fprintf(stderr, "fleet: trigger-update: %s\n", err.message);
	{
		jc_kv_pair sp;
		snprintf(key, sizeof(key), "%sdesired/spread_ms", prefix);
		if (jc_kv_get(&sp, ctl, key, &err) == 0) {
			spread_shown = atoll(sp.value);
			jc_kv_pair_clear(&sp);
		}
	}
	deadline = t0 + timeout_ms;
	for (long long shown = now_ms(); atomic_load(&sh->reported) < n_agents - atomic_load(&sh->setup_failed) &&
					 now_ms() < deadline;) {
		sleep_ms(10);
		if (now_ms() - shown >= 10000) {
			shown = now_ms();
			fprintf(stderr, "fleet: %.0f s after trigger-update: %d of %d agents report it\n",
				(double)(shown - t0) / 1000, atomic_load(&sh->reported), n_agents);
		}
	}
	long long conv_ms = atomic_load(&sh->last_report_ms) - t0;
	int done = atomic_load(&sh->reported);
	long conv_req = atomic_load(&sh->requests) - r0;
	{
		jc_kv_stats st;
		jc_kv_get_stats(ctl, &st);
		conv_req += st.requests - ctl0;
	}
	jc_kv_status status;
	jc_kv_get_status(&status, ctl, &err);
	long rss = 0;
	for (int p_i = 0; p_i < n_procs; p_i++)
		rss += rss_of(kids[p_i]);

	printf("backend=%s mode=%s agents=%d registered=%d setup_s=%.1f idle_req_per_s=%.1f converged=%d "
	       "converge_s=%.2f converge_requests=%ld converge_req_per_s=%.0f kv_size_bytes=%lld kv_revision=%lld "
	       "bench_rss_kb=%ld rss_per_agent_kb=%.1f procs=%d leases_lost=%d spread_ms=%lld notified_s=%.2f "
	       "addresses=%s\n",
	       jc_kv_backend(ctl), poll_mode ? "poll60" : "watch", n_agents, atomic_load(&sh->registered),
	       (double)setup_ms / 1000, (double)idle_req / (double)idle_s, done, (double)conv_ms / 1000, conv_req,
	       conv_ms > 0 ? (double)conv_req * 1000.0 / (double)conv_ms : 0.0, status.db_size,
	       (long long)status.revision, rss, (double)rss / n_agents, n_procs, atomic_load(&sh->leases_lost), spread_shown,
	       poll_mode || !atomic_load(&sh->last_seen_ms) ? 0.0 : (double)(atomic_load(&sh->last_seen_ms) - t0) / 1000,
	       strncmp(kv_url, "etcd://", 7) != 0 ? "-" : shared_address ? "shared" : "per-agent");
	fflush(stdout);
	atomic_store(&sh->stop, 1);
	for (int p_i = 0; p_i < n_procs; p_i++)
		waitpid(kids[p_i], NULL, 0);
	{
		long n;
		jc_kv_delete(ctl, prefix, true, &n, &err);
	}
	jc_orch_free(corch);
	jc_kv_free(ctl);
	free(kids);
	free(p);
	return done == n_agents ? 0 : 1;
}
