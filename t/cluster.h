/* cluster.h — what the cluster files share (see cluster.c for the
 * whole test): the hosts and nginx of the fixture, where the hosts live
 * (cluster_net.c), the client (cluster_client.c), and how the tests
 * (cluster_failover.c, cluster_drain.c) join the suite. */
#ifndef FN_T_CLUSTER_H
#define FN_T_CLUSTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <pthread.h>
#include <sys/types.h>

#include "harness_check.h"

#define CLUSTER_HOSTS 3
#define CLUSTER_NS_PORT 9000            /* every host's port (netns) */
#define CLUSTER_NS_NGINX "10.231.0.1"   /* nginx on the bridge */
#define CLUSTER_NS_NET "10.231.0.0/16"  /* must be unused on this machine */
#define CLUSTER_BRIDGE "fnlc-br"
#define CLUSTER_FAIL_TIMEOUT_S 2        /* nginx's fail_timeout here */
#define CLUSTER_GET_MS 3000             /* a GET is answered within */
#define CLUSTER_POST_MS 6000            /* a POST (sleeps 1 s) within */
#define CLUSTER_MAX_RESULTS 40000       /* requests one client loop makes */

/* ---- the hosts (cluster.c) ---------------------------------------------- */

enum cluster_mode { CLUSTER_NETNS, CLUSTER_LOOPBACK };
extern enum cluster_mode cluster_mode;
/* Loopback mode: why not network namespaces. */
extern char cluster_no_netns[512];

struct host {
	char id[8];                /* "h1" */
	char env[16];              /* "FNL_HOST=h1", the host's ID */
	char ns[16];               /* "fnlc-h1" (netns mode) */
	char ip[32];               /* "10.231.0.11" or "127.0.0.2" */
	char addr[48];             /* ip:port */
	pid_t pid;                 /* 0: not running */
};

/* The fixture's cluster: set up before each test, gone after it. */
struct cluster {
	struct harness *h;         /* temp dir; nginx (h->port, h->nginx_pid) */
	struct host host[CLUSTER_HOSTS];
	int port;                  /* the daemons' port */
};
extern struct cluster cluster;

/* Start host i's daemon (again); wait until it accepts: 0, or -1. */
int cluster_start_host(int i);
/* sig (SIGTERM), then SIGKILL after grace_ms; the wait status or -1. */
int cluster_stop_host(int i, int sig, int grace_ms);
/* Index of host id ("h2"), -1 if none. */
int cluster_host_index(const char *id);
/* The last part of host i's daemon log, for messages (static buffer). */
const char *cluster_log_tail(int i);
/* A POST's side effect: the lines of host i's post log for marker. */
int cluster_marker_count(int i, const char *marker);
/* The marker of the last POST host i ran into buf; 0 if none. */
int cluster_last_post(int i, char *buf, size_t len);

/* ---- where the hosts live (cluster_net.c) ------------------------------- */

extern char cluster_ip_bin[64];          /* ip(8), netns mode */
/* Namespaces fnlc-h1..3, veths, the bridge: 0, or -1 with why. Holds a
 * lock so that a second run at the same time uses loopback. */
int cluster_netns_setup(char *why, size_t len);
/* Remove them (and kill what still runs inside). */
void cluster_netns_teardown(void);
/* Loopback mode: a port free on 127.0.0.2-4 a moment ago; -1 if none. */
int cluster_loopback_port(void);
/* A TCP connect to ip:port: 1 accepted, 0 refused, -1 other error. */
int cluster_tcp_probe(const char *ip, int port);

/* ---- the client (cluster_client.c) -------------------------------------- */

struct cluster_result {
	double t0, t1;
	int post;
	int status;                /* 0: no response */
	char host[8];              /* from "host=..." in the body */
	char up[128];              /* X-Upstream: the upstreams nginx tried */
	char marker[24];           /* a POST's body */
	char err[64];
};

/* One request over a new connection to nginx (HTTP/1.0), answered
 * within timeout_ms; body NULL: none. */
void cluster_http_req(const char *method, const char *path,
    const char *body, int timeout_ms, struct cluster_result *r);
/* A good answer: 200 with a host's ID. */
int cluster_good(const struct cluster_result *r);

/* A client loop in a thread of its own, recording every request. */
struct cluster_loop {
	const char *name;
	int alternate;             /* 0: GETs only; 1: GET, POST, GET, ... */
	atomic_int stop;
	atomic_size_t n;           /* res[0..n) are complete */
	struct cluster_result *res;
	pthread_t thread;
};
struct cluster_loop *cluster_loop_start(const char *name, int alternate);
void cluster_loop_stop(struct cluster_loop *l);
void cluster_loop_free(struct cluster_loop *l);
/* Requests of l that were not good; the first few into desc. */
int cluster_failures(const struct cluster_loop *l, double t_base,
    char *desc, size_t len);
/* Requests of l answered after t that nginx passed to more than one
 * upstream (a retry). */
int cluster_retried_after(const struct cluster_loop *l, double t);
/* Sleep until harness_now() is t. */
void cluster_sleep_until(double t);

/* ---- the tests ----------------------------------------------------------- */

void cluster_add_net(TCase *tc);        /* hosts_allow_only_nginx */
void cluster_add_failover(TCase *tc);   /* kill_restart, post_no_replay */
void cluster_add_drain(TCase *tc);      /* drain */

#endif
