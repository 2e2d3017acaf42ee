/* launch.c — see launch.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "execcheck.h"
#include "fnlog.h"
#include "identity.h"
#include "inflight.h"
#include "launch.h"
#include "nspool.h"
#include "spawnproc.h"

#define NOT_STARTED "the function could not be started (see the log)"

static int
make_pipes(int child_in[2], int child_out[2], int child_err[2])
{
	child_in[0] = child_in[1] = child_out[0] = child_out[1] = -1;
	child_err[0] = child_err[1] = -1;
	if (pipe2(child_in, O_CLOEXEC) < 0 || pipe2(child_out, O_CLOEXEC) < 0 ||
	    pipe2(child_err, O_CLOEXEC) < 0)
		return -1;
	/* Our ends never block the loop. */
	if (fcntl(child_in[1], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(child_out[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(child_err[0], F_SETFL, O_NONBLOCK) < 0)
		return -1;
	return 0;
}

static void
close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	fds[0] = fds[1] = -1;
}

/* Fill L's answer for a request whose function did not start. */
static int
refuse(struct invocation *inv, struct launch *l, int status,
    const char *code, const char *outcome, const char *msg)
{
	size_t n = strlen(msg);

	if (n >= sizeof(l->msg))
		n = sizeof(l->msg) - 1;         /* the log has all of it */
	memcpy(l->msg, msg, n);
	l->msg[n] = '\0';
	inv->outcome = outcome;
	l->status = status;
	l->code = code;
	return -1;
}

/* When the daemon is root, the function runs as its user/group, and
 * as uid 0 only with allow_root: ID and the checked executable REAL go
 * into RQ. 0, or -1 with L's answer set. */
static int
pick_identity(struct invocation *inv, struct launch *l, struct spawn_req *rq,
    struct identity *id, char real[PATH_MAX])
{
	const struct fn_spec *fn = inv->fn;
	char err[PATH_MAX + 128];

	if (geteuid() != 0)
		return 0;
	if (identity_of(inv->m, fn, id, err, sizeof(err)) < 0) {
		fnlog(FNLOG_ERROR, "function=%s request_id=%s: refused: %s",
		    fn->name, inv->request_id, err);
		return refuse(inv, l, 403, "refused", "refused", err);
	}
	if (id->uid == 0 && !fn->allow_root) {
		fnlog(FNLOG_ERROR, "function=%s request_id=%s: refused: user %s is root and allow_root is false",
		    fn->name, inv->request_id, fn->user);
		return refuse(inv, l, 403, "refused", "refused",
		    "the function's user is root (allow_root: false)");
	}
	if (execcheck(fn->path, id->uid, real, err, sizeof(err)) < 0) {
		fnlog(FNLOG_ERROR, "function=%s request_id=%s: refused: %s",
		    fn->name, inv->request_id, err);
		return refuse(inv, l, 403, "refused", "refused",
		    "the executable failed the identity checks (see the log)");
	}
	rq->id = id;
	rq->path = real;
	return 0;
}

int
launch_start(struct invocation *inv, int cgroup_fd, struct launch *l)
{
	const struct fn_spec *fn = inv->fn;
	struct spawn_req rq;
	struct spawn_res res;
	struct identity id;
	int pin[2], pout[2], perr[2];
	char msg[512], real[PATH_MAX], key[FN_KEY_MAX];

	fn_spec_key(fn, key, sizeof(key));
	memset(&rq, 0, sizeof(rq));
	memset(l, 0, sizeof(*l));
	if (access(fn->path, F_OK) < 0) {
		fnlog(FNLOG_ERROR, "function=%s request_id=%s: exec failed: %s: %s",
		    fn->name, inv->request_id, fn->path, strerror(errno));
		return refuse(inv, l, 502, "exec_failed", "exec_failed", NOT_STARTED);
	}
	if (pick_identity(inv, l, &rq, &id, real) < 0)
		return -1;
	if (make_pipes(pin, pout, perr) < 0) {
		snprintf(msg, sizeof(msg), "pipe: %s", strerror(errno));
		goto spawn_failed;
	}
	if (rq.path == NULL)
		rq.path = fn->path;
	rq.argv = inv->argv;
	rq.envp = inv->envp;
	rq.cwd = fn->cwd;
	rq.umask = fn->umask;
	/* The default isolation (tmp, ipc) is a root daemon's; one that is
	 * not root refuses manifests that ask for any (preflight). */
	rq.isolate = geteuid() == 0 || fn->isolate_set ? fn->isolate : 0;
	rq.tmp_size = fn->limits[FN_LIMIT_TMP];
	rq.cgroup_fd = cgroup_fd;
	rq.mnt_fd = rq.ipc_fd = -1;
	/* isolate tmp (and ipc) in kept namespaces: only in a cgroup leaf
	 * (nothing of the invocation outlives it), with no other mounts of
	 * its own to make (pid, net), and not as root (who could change the
	 * slot's mounts for its next users). */
	if (cgroup_fd >= 0 && (rq.isolate & FN_ISOLATE_TMP) &&
	    !(rq.isolate & (FN_ISOLATE_PID | FN_ISOLATE_NET)) &&
	    rq.id != NULL && rq.id->uid != 0 &&
	    (l->slot = nspool_take(key, fn->path, rq.tmp_size,
	    inflight_count(key) > 1)) != NULL)
	{
		rq.mnt_fd = nspool_mnt_fd(l->slot);
		if (rq.isolate & FN_ISOLATE_IPC)
			rq.ipc_fd = nspool_ipc_fd(l->slot);
	}
	spawn_limits(&rq, fn->limits);
	/* auth: read the body already, whole: it is the function's stdin */
	if (inv->body_fd >= 0 && inv->redirects == 0 &&
	    lseek(inv->body_fd, 0, SEEK_SET) == 0) {
		close_pair(pin);
		rq.fd_in = inv->body_fd;
	} else
		rq.fd_in = pin[0];
	rq.fd_out = pout[1];
	rq.fd_err = perr[1];
	char dir[4096];
	if (rq.cwd == NULL) {
		/* Default cwd: the executable's folder. */
		const char *slash = strrchr(fn->path, '/');
		size_t len = slash ? (size_t)(slash - fn->path) : 0;
		if (len == 0 || len >= sizeof(dir))
			len = (slash == fn->path) ? 1 : 0;
		memcpy(dir, fn->path, len);
		dir[len] = '\0';
		rq.cwd = len ? dir : NULL;
	}
	if (spawn_start(&rq, &res) < 0) {
		nspool_give(l->slot, true);     /* the child is gone */
		l->slot = NULL;
		close_pair(pin);
		close_pair(pout);
		close_pair(perr);
		snprintf(msg, sizeof(msg), "%s %s: %s", res.step,
		    strcmp(res.step, "chdir") == 0 ? rq.cwd : fn->path,
		    strerror(res.err));
		if (strcmp(res.step, "clone") == 0)
			goto spawn_failed;
		if (strcmp(res.step, "execve") == 0 && res.err == ENOENT &&
		    access(fn->path, F_OK) == 0)
			snprintf(msg, sizeof(msg), "execve %s: the interpreter on its #! line was not found",
			    fn->path);
		fnlog(FNLOG_ERROR, "function=%s request_id=%s: exec failed: %s",
		    fn->name, inv->request_id, msg);
		return refuse(inv, l, 502, "exec_failed", "exec_failed", NOT_STARTED);
	}
	if (pin[0] >= 0)
		close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	l->in_fd = pin[1];
	l->out_fd = pout[0];
	l->err_fd = perr[0];
	l->pid = res.pid;
	l->pidfd = res.pidfd;
	return 0;
spawn_failed:
	close_pair(pin);
	close_pair(pout);
	close_pair(perr);
	fnlog(FNLOG_ERROR, "function=%s request_id=%s: spawn failed: %s",
	    fn->name, inv->request_id, msg);
	return refuse(inv, l, 500, "spawn_failed", "error", msg);
}
