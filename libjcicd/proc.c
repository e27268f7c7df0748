/* proc.c - run a command in its own process group, with a deadline. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

extern char **environ;

static char **merge_env(const char *const *add, size_t n_add)
{
	size_t n = 0, k = 0;
	char **env;
	while (environ[n])
		n++;
	env = jc_calloc(n + n_add + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < n_add && !replaced; j++) {
			size_t kl = strcspn(add[j], "=");
			replaced = strncmp(environ[i], add[j], kl) == 0 && environ[i][kl] == '=';
		}
		if (!replaced)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < n_add; j++)
		env[k++] = (char *)add[j];
	env[k] = NULL;
	return env;
}

static void keep_tail(jc_buf *b, size_t max)
{
	if (b->len <= max)
		return;
	size_t drop = b->len - max;
	memmove(b->data, b->data + drop, max);
	b->len = max;
	b->data[max] = '\0';
}

/* Whether any process of the group is left. */
static bool group_alive(pid_t pgid)
{
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

int jc_proc_run(const jc_proc_options *o, jc_proc_result *res, jc_error *err)
{
	int out[2], in[2] = { -1, -1 };
	int log_fd = -1;
	pid_t pid;
	char **envp;
	const char *sh_argv[4] = { "/bin/sh", "-c", NULL, NULL };
	const char *const *argv = o->argv;
	int64_t start = jc_now_ms(), deadline;
	int status = 0;
	bool exited = false, term_sent = false;
	int64_t kill_at = 0, exited_at = 0;
	size_t max_out = o->max_output ? o->max_output : 1024 * 1024;
	long long grace = o->kill_grace_ms > 0 ? o->kill_grace_ms : 2000;

	memset(res, 0, sizeof(*res));
	if (o->shell) {
		sh_argv[2] = o->shell;
		argv = sh_argv;
	}
	if (!argv || !argv[0])
		return jc_err(err, JC_EINVALID, "no command to run");
	if (o->log_path) {
		log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (log_fd < 0)
			return jc_err_errno(err, JC_EIO, errno, "cannot open log %s", o->log_path);
	}
	if (pipe2(out, O_CLOEXEC) < 0 || (o->stdin_text && pipe2(in, O_CLOEXEC) < 0)) {
		int e = errno;
		if (log_fd >= 0)
			close(log_fd);
		return jc_err_errno(err, JC_EIO, e, "cannot create a pipe");
	}
	envp = merge_env(o->env, o->n_env);
	pid = fork();
	if (pid < 0) {
		int e = errno;
		free(envp);
		close(out[0]);
		close(out[1]);
		if (log_fd >= 0)
			close(log_fd);
		return jc_err_errno(err, JC_EIO, e, "cannot fork");
	}
	if (pid == 0) {
		/* its own process group: the deadline stops the whole tree */
		setpgid(0, 0);
		int null_fd = open("/dev/null", O_RDONLY);
		dup2(o->stdin_text ? in[0] : null_fd, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		if (o->cwd && chdir(o->cwd) < 0) {
			dprintf(2, "cannot enter %s: %s\n", o->cwd, strerror(errno));
			_exit(126);
		}
		signal(SIGPIPE, SIG_DFL);
		environ = envp;
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	free(envp);
	close(out[1]);
	if (o->stdin_text) {
		close(in[0]);
		/* small inputs only (a host list); a pipe holds 64 KiB */
		ssize_t w = write(in[1], o->stdin_text, strlen(o->stdin_text));
		(void)w;
		close(in[1]);
	}
	deadline = o->timeout_ms > 0 ? start + o->timeout_ms : 0;
	for (bool eof = false; !eof || !exited;) {
		int64_t now = jc_now_ms();
		int wait_ms = 200;
		if (!exited) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				exited = true;
				exited_at = now;
			}
		}
		if (deadline && now >= deadline && !res->timed_out && !exited) {
			res->timed_out = true;
			kill(-pid, SIGTERM);
			term_sent = true;
			kill_at = now + grace;
		}
		if (term_sent && kill_at && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = 0;
		}
		if (exited && eof)
			break;
		if (!eof) {
			struct pollfd pfd = { out[0], POLLIN, 0 };
			if (poll(&pfd, 1, wait_ms) > 0) {
				char chunk[8192];
				ssize_t n = read(out[0], chunk, sizeof(chunk));
				if (n > 0) {
					if (log_fd >= 0 && write(log_fd, chunk, (size_t)n) < 0)
						(void)0;
					if (o->output) {
						jc_buf_add(o->output, chunk, (size_t)n);
						keep_tail(o->output, max_out);
					}
				} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
					eof = true;
				}
			}
		} else {
			jc_sleep_ms(20);
		}
		/* the command exited but something it started in the background
		 * still holds the output open: read a little longer, then stop
		 * waiting for it (it is left running unless the deadline passed) */
		if (exited && !eof && (res->timed_out || now - exited_at >= 2000))
			eof = true;
	}
	close(out[0]);
	if (log_fd >= 0)
		close(log_fd);
	if (res->timed_out && group_alive(pid))
		kill(-pid, SIGKILL);
	res->elapsed_ms = jc_now_ms() - start;
	if (WIFEXITED(status))
		res->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->exit_code = 128 + WTERMSIG(status);
	return 0;
}
