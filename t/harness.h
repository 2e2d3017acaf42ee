/* harness.h — drive real nginx, the daemon and curl on loopback for the
 * integration tests.
 *
 * Everything a test writes lives in one temp dir (see harness_new: not
 * under /tmp when root), never in the source tree. Text written through
 * the harness has "@DIR@" replaced by that dir and "@SOCK@" by the
 * daemon's socket path, so manifests, scripts and nginx locations can name absolute paths; "@SH@"
 * is replaced by the real path of /bin/sh (a regular file, not a symlink,
 * for a manifest entry that runs the shell directly), "@PORT@" by nginx's
 * port (h->port).
 *
 * What the test binaries share on the Check side (the one main(), skips,
 * common assertions) is in harness_check.h.
 *
 * Layout of the temp dir (0755, so functions running as nobody can reach
 * their executables):
 *   bin/    function executables named by the manifest (0755)
 *   drop/   functions_dir for drop-ins (0755)
 *   spool/  world-writable (01777): marker files written by functions
 *   nginx/  nginx prefix: conf, pid, logs, temp paths
 *   out/    curl's output files
 *   daemon.log  the daemon's stderr
 *
 * Functions return 0 / -1 (a message goes to stderr) unless they say
 * otherwise. Set FNL_KEEP_TMP=1 to keep the temp dir for a post-mortem. */
#ifndef FN_T_HARNESS_H
#define FN_T_HARNESS_H

/* Where the temp dirs go when the tests run as root (and
 * FNL_TEST_TMPDIR does not say): not /tmp, which the functions'
 * isolate tmp replaces. */
#define HARNESS_ROOT_TMP "/var/lib/fnlauncher-test"

#include <stddef.h>
#include <sys/types.h>

struct harness {
	char dir[96];       /* absolute temp dir */
	char sock[108];     /* daemon's unix socket: dir + "/fnl.sock" */
	char sh[256];       /* realpath("/bin/sh") */
	int port;           /* nginx's loopback TCP port */
	pid_t nginx_pid;    /* 0 when not running */
	pid_t daemon_pid;   /* 0 when not running */
	int worker_connections; /* nginx's; 0 (as harness_new leaves it): 512 */
};

/* Make the temp dir and its layout: under $FNL_TEST_TMPDIR, else (as
 * root) HARNESS_ROOT_TMP, else $TMPDIR or /tmp. NULL on error. */
struct harness *harness_new(void);
/* Stop nginx and the daemon (if running), remove the temp dir, free h.
 * harness_free(NULL) is a no-op. */
void harness_free(struct harness *h);

/* "@DIR@", "@SOCK@", "@SH@" and "@PORT@" replaced; the caller frees.
 * NULL on ENOMEM. */
char *harness_expand(const struct harness *h, const char *text);
/* dir + "/" + rel into buf; -1 if it does not fit. */
int harness_path(const struct harness *h, const char *rel, char *buf,
    size_t len);
/* Write text (expanded) to dir/rel with mode (chmod'ed after umask). */
int harness_write(const struct harness *h, const char *rel, const char *text,
    mode_t mode);
/* Write len raw bytes to an absolute path with mode. */
int harness_write_file(const char *path, const void *data, size_t len,
    mode_t mode);
/* Whole file, NUL-terminated (the NUL not counted in *len); the caller
 * frees. NULL on error. */
char *harness_read_file(const char *path, size_t *len);
/* Entries of the folder dir/rel whose names start with prefix ("": all),
 * "." and ".." and other dot files not counted; -1 if unreadable. */
int harness_dir_count(const struct harness *h, const char *rel,
    const char *prefix);

/* A loopback TCP port that was free a moment ago; -1 on error. */
int harness_free_port(void);
/* 1 if a unix stream socket at path accepts connections, else 0. */
int harness_connects_unix(const char *path);

/* Start nginx (foreground, single process, so it is our child and runs
 * with our credentials) on 127.0.0.1:h->port; "location /" passes every
 * request to the daemon's socket; extra_locations (expanded, may be NULL)
 * go in the same server block. Waits until it accepts connections. */
int harness_start_nginx(struct harness *h, const char *extra_locations);
/* The same nginx with http (expanded) as its http block instead of the
 * server above, for a test that needs its own servers or upstreams: the
 * harness keeps the frame (single process, pid, error log, temp paths
 * under nginx/, worker_connections) and picks h->port, which http uses
 * as "@PORT@". */
int harness_start_nginx_http(struct harness *h, const char *http);
/* SIGTERM, wait, SIGKILL after 10 s. Returns the wait status, or -1. */
int harness_stop_nginx(struct harness *h);

/* Start $FNL_BIN -c dir/manifest_rel -s unix:h->sock with stderr (and
 * stdout) appended to dir/daemon.log. The environment is PATH, the
 * sanitizer option variables if set, and extra_env ("NAME=value", NULL
 * terminated, may be NULL). Waits until the socket accepts connections. */
int harness_start_daemon(struct harness *h, const char *manifest_rel,
    const char *const *extra_env);
/* SIGTERM, wait, SIGKILL after 15 s. Returns the wait status, or -1. */
int harness_stop_daemon(struct harness *h);

/* Write manifest (expanded) as manifest.yaml, start the daemon on it
 * with extra_env, then nginx with extra_locations (each may be NULL). */
int harness_serve(struct harness *h, const char *manifest,
    const char *const *extra_env, const char *extra_locations);

/* The daemon log so far; the caller frees. Never NULL ("" on error). */
char *harness_daemon_log(const struct harness *h);
/* The last 2 KiB of the daemon log, for failure messages: a static
 * buffer, overwritten by the next call. */
const char *harness_log_tail(const struct harness *h);
/* 1 if one line of the daemon log contains every string of needles (NULL
 * terminated), else 0. */
int harness_log_has(const struct harness *h, const char *const *needles);

/* What curl saw. */
struct hresp {
	int status;          /* HTTP status; 0 when there was no response */
	int curl_rc;         /* curl's exit code */
	char *headers;       /* the final header block, NUL-terminated */
	char *body;          /* NUL-terminated; body_len bytes before the NUL */
	size_t body_len;
};
/* GET http://127.0.0.1:port + path with extra curl arguments (NULL
 * terminated, may be NULL; e.g. "-X", "DELETE", "-H", "X-Foo: 1",
 * "--max-time", "90"). 30 s time limit unless args say otherwise.
 * Returns 0 when curl ran (see r->curl_rc), -1 otherwise. hresp_free
 * releases r. */
int harness_curl(const struct harness *h, struct hresp *r, const char *path,
    const char *const *args);
void hresp_free(struct hresp *r);
/* Value of response header name (case-insensitive), copied into buf;
 * NULL when absent. */
const char *hresp_header(const struct hresp *r, const char *name, char *buf,
    size_t len);
/* The value of the first line "NAME<sep>value" of text (lines end at
 * LF), copied into buf; NULL if no line has it. sep ':' is an HTTP head
 * (a status line may come first): the name matches case-insensitively,
 * blanks around the value and a CR go, the search stops at the blank
 * line. sep '=' is env(1) output: the name matches exactly, the value is
 * the rest of the line. */
const char *harness_line_value(const char *text, const char *name,
    char sep, char *buf, size_t len);
/* The string value of "key" in a flat JSON object (enough for the error
 * bodies of SPEC section 7 and the invocation records), backslash
 * escapes reduced to the character after them, copied into buf; NULL if
 * absent or not a string. */
const char *harness_json_str(const char *body, const char *key, char *buf,
    size_t len);
/* The same for any value: a string (unescaped, without its quotes), or
 * a number, true, false or null as written; NULL if absent. */
const char *harness_json_value(const char *body, const char *key, char *buf,
    size_t len);

/* curl -N path, reading its stdout as it arrives: *t_needle is the time in
 * seconds until the body first contained needle (-1 if never), *t_total
 * until EOF. *body (may be NULL) gets the whole body; the caller frees. */
int harness_curl_timed(const struct harness *h, const char *path,
    const char *needle, double *t_needle, double *t_total, char **body);
/* The same, and once the body contains needle, create the file mark
 * (an absolute path; NULL: none): a function that waits for it knows
 * the client has seen its output while it still runs. */
int harness_curl_stream(const struct harness *h, const char *path,
    const char *needle, const char *mark, double *t_needle, double *t_total,
    char **body);

/* The line of the JSON lines file dir/rel whose "request_id" is rid,
 * waiting up to wait_ms for it (records are written after the answer);
 * malloc'd, or NULL. */
char *harness_record(const struct harness *h, const char *rel,
    const char *rid, int wait_ms);

/* Number of open fds of pid, or -1. */
int harness_fd_count(pid_t pid);
/* Processes that the invocations may have left: every process other than
 * nginx, the daemon and the caller's own ancestry whose cmdline contains
 * h->dir or whose ancestry includes the daemon. Polls up to wait_ms for the
 * count to reach 0; returns the last count and describes them ("pid
 * cmdline; ...") in desc. */
int harness_leftovers(const struct harness *h, int wait_ms, char *desc,
    size_t len);

/* For a process that is not our child (tests run in a forked child of
 * the process that started the daemon): wait up to wait_ms until pid is a
 * zombie and return its exit status in waitpid(2) format from
 * /proc/PID/stat; -1 if it is still running or unreadable. */
int harness_zombie_status(pid_t pid, int wait_ms);

/* Seconds on the monotonic clock. */
double harness_now(void);

/* ---- process table (faults) ---------------------------------------------
 * A scan of /proc selects live processes (not zombies) other than the
 * caller: those whose environ has one of env_any's entries exactly
 * ("NAME=value", NULL terminated, may be NULL) or whose real uid is uid
 * (uid < 0: no uid match). Reading another user's environ needs root. */

/* Poll up to wait_ms until no process is selected; returns the last count
 * (-1 if /proc cannot be read) and describes them ("pid [cmdline]; ")
 * in desc. */
int harness_procs(const char *const *env_any, long uid, int wait_ms,
    char *desc, size_t len);
/* SIGKILL every selected process; returns how many were signalled. */
int harness_procs_kill(const char *const *env_any, long uid);
/* Processes whose real uid is uid, zombies included (what RLIMIT_NPROC
 * counts); -1 if /proc cannot be read. */
int harness_uid_tasks(long uid);
/* Zombies whose parent is ppid: polls up to wait_ms until there are none;
 * returns the last count and describes them in desc. */
int harness_zombies(pid_t ppid, int wait_ms, char *desc, size_t len);
/* Numeric value of "field:" in /proc/PID/status ("Threads", "VmRSS" in
 * kB, ...); -1 if pid or the field is absent. */
long harness_proc_status(pid_t pid, const char *field);
/* Sleep ms milliseconds (through EINTR). */
void harness_sleep_ms(int ms);
/* waitpid with a deadline: 1 and *status when pid ended, 0 on timeout,
 * -1 on error. */
int harness_wait_ms(pid_t pid, int ms, int *status);
/* The daemon's threads that are not parked in its connection pool (not
 * named "fnl-idle"): the main thread and one per open connection. -1 if
 * pid is gone. */
long harness_busy_threads(pid_t pid);

/* 1 if pid exists and is not a zombie, else 0. */
int harness_proc_running(pid_t pid);

/* Test identities (root only). Each makes sure its entry exists, trying
 * again for a while: another suite running at the same time may be adding
 * the same one, or hold the lock on /etc/group.
 * Group `name` (groupadd --system); *gid its id. */
int harness_ensure_group(const char *name, gid_t *gid);
/* User `name` with the group of the same name as its primary group
 * (useradd --system, no home, no login shell); *uid and *gid its ids. */
int harness_ensure_user(const char *name, uid_t *uid, gid_t *gid);
/* User `name` is a member of group `group` (usermod -a -G). */
int harness_ensure_member(const char *name, const char *group);

/* ---- raw HTTP/1.1 client (faults: many requests, endless bodies) -------- */

struct hhttp {
	int status;           /* 0: no status line */
	char rid[64];         /* X-Request-Id, "" when absent */
	char retry_after[32]; /* Retry-After, "" when absent */
	size_t body_len;      /* body bytes read (decoded when chunked) */
	int complete;         /* the body ended as framed (length, last chunk) */
	int keep;             /* the connection may carry another request */
};
/* A blocking TCP connection to nginx (TCP_NODELAY); fd or -1. */
int harness_http_connect(const struct harness *h);
/* Send "GET path HTTP/1.1" with Host, extra (header lines each ending in
 * "\r\n", may be NULL) and "Connection: close" unless keep_alive. */
int harness_http_send(int fd, const char *path, const char *extra,
    int keep_alive);
/* Parse the response head in buf[0..len): 0 with r's status, rid,
 * retry_after and keep set and *head_len its length; 1 if incomplete;
 * -1 if malformed. */
int harness_http_head(const char *buf, size_t len, struct hhttp *r,
    size_t *head_len);
/* Read one response to a GET from fd, counting and discarding the body,
 * for at most timeout_ms. 0 when a status line came (r->complete says
 * whether the body did), -1 otherwise. */
int harness_http_read(int fd, struct hhttp *r, int timeout_ms);

/* ---- ops: daemons started by argv, commands with captured output ------- */

/* Start argv (argv[0] an absolute path: the daemon itself, or a wrapper
 * such as systemd-socket-activate or spawn-fcgi that execs it) as
 * h->daemon_pid, with the environment harness_start_daemon gives (PATH,
 * the sanitizer variables if set, extra_env) and stdout and stderr
 * appended to dir/daemon.log. wait_sock: also wait, like
 * harness_start_daemon, until h->sock accepts connections (a wrapper
 * that waits for the first connection before exec is thus made to
 * exec). Stop it with harness_stop_daemon. */
int harness_spawn_daemon(struct harness *h, const char *const *argv,
    const char *const *extra_env, int wait_sock);

/* Start argv (argv[0] an absolute path) with the environment above and
 * stdout and stderr appended to log_path, for a daemon the test tracks
 * itself (several daemons, one log each). The pid, or -1. */
pid_t harness_spawn_logged(const char *const *argv,
    const char *const *extra_env, const char *log_path);

/* Run argv (argv[0] an absolute path) to completion with stdin from
 * in_path (NULL: /dev/null) and the environment PATH + extra_env (may be
 * NULL); *out and *err (each may be NULL) get its stdout and stderr,
 * NUL-terminated, *out_len the stdout length (may be NULL); the caller
 * frees them. Killed (SIGKILL) after timeout_ms. Returns the wait
 * status, or -1 if it could not run or timed out. */
int harness_run(const char *const *argv, const char *const *extra_env,
    const char *in_path, char **out, size_t *out_len, char **err,
    int timeout_ms);

/* fork + execve with stdin/stdout/stderr set (-1: /dev/null); the child
 * gets no other fd, default signals, and dies with the test process.
 * Returns the pid or -1 (reason on stderr). */
pid_t harness_spawn(const char *const argv[], const char *const envp[],
    int in_fd, int out_fd, int err_fd);

#endif
