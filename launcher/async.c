/* async.c — see async.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fastcgi.h>
#include <openssl/evp.h>

#include "async.h"
#include "jsonbuf.h"
#include "jobrun.h"
#include "spool.h"
#include "cgiresp.h"
#include "fcgiwrite.h"
#include "fnlog.h"
#include "metrics.h"
#include "record.h"
#include "reply.h"
#include "server.h"
#include "threadpool.h"

#define SWEEP_MS 60000          /* results past async_keep removed */
#define BUSY_RETRY_MS 1000      /* the daemon was busy: not an attempt */
#define BUSY_MAX 600            /* then a busy answer counts as one */

enum jstate { J_QUEUED, J_RUNNING, J_FAILED };

struct job {
	char id[ASYNC_ID_LEN + 1];
	char key[FN_KEY_MAX];
	enum jstate state;
	unsigned attempts;        /* started so far */
	unsigned deferrals;       /* answered busy (not counted) */
	int64_t due_ms;           /* realtime */
	int64_t created_ms;
};

/* What the runner takes from the manifest, per function. */
struct fcap {
	char key[FN_KEY_MAX];
	unsigned concurrency, retries;
	uint64_t backoff_ms;
	uint64_t limit_ms;        /* queue_timeout + timeout + kill_grace */
};

/* The outcomes request.c notes (async_note), until the runner takes
 * them: a ring, the oldest overwritten. */
#define NOTES 256
struct note {
	char id[ASYNC_ID_LEN + 1];
	unsigned attempt;
	int status, signal;
	char outcome[16], code[16];
};
static struct note notes[NOTES];
static size_t note_next;
static pthread_cond_t noted = PTHREAD_COND_INITIALIZER;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static struct job *jobs;        /* in the order they were accepted */
static size_t njobs, capjobs;
static struct fcap *caps, defcap = { "", 0, 3, 10000, 47000 };
static size_t ncaps;
static unsigned global_cap = 32, running, max_jobs = 10000;
static uint64_t keep_ms = 24ull * 3600 * 1000, result_max = 1 << 20;
static bool enabled, tried, started, stopping;
static char trigger_key[33];
static pthread_t thread;

bool
async_enabled(void)
{
	return enabled;
}

bool
async_daemon(void)
{
	return tried;
}

const char *
async_key(void)
{
	return trigger_key;
}

/* "name" or "~tenant/name" into the function and tenant fields. */
static void
json_function(struct jsonbuf *b, const char *key)
{
	const char *slash = key[0] == '~' ? strchr(key, '/') : NULL;

	if (slash != NULL) {
		jsonbuf_add(b, "\"function\":");
		jsonbuf_str(b, slash + 1);
		jsonbuf_add(b, ",\"tenant\":");
		jsonbuf_str_n(b, key + 1, (size_t)(slash - key - 1));
	} else {
		jsonbuf_add(b, "\"function\":");
		jsonbuf_str(b, key);
		jsonbuf_add(b, ",\"tenant\":null");
	}
}

/* ---- accepting ----------------------------------------------------- */


/* Add a job to the table (lock held). */
static struct job *
table_add(const char *id, const char *key, int64_t created)
{
	struct job *j;

	if (njobs == capjobs) {
		size_t c = capjobs ? capjobs * 2 : 64;
		struct job *v = realloc(jobs, c * sizeof(*v));
		if (v == NULL)
			return NULL;
		jobs = v;
		capjobs = c;
	}
	j = &jobs[njobs++];
	memset(j, 0, sizeof(*j));
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(j->key, sizeof(j->key), "%s", key);
	j->state = J_QUEUED;
	j->due_ms = created;
	j->created_ms = created;
	return j;
}

static struct job *
table_find(const char *id)
{
	for (size_t i = 0; i < njobs; i++)
		if (strcmp(jobs[i].id, id) == 0)
			return &jobs[i];
	return NULL;
}

static void
table_remove(const char *id)
{
	struct job *j = table_find(id);

	if (j == NULL)
		return;
	memmove(j, j + 1, (size_t)(&jobs[njobs] - (j + 1)) * sizeof(*j));
	njobs--;
}

int
async_spool(const char *key, char *const *params, FCGX_Stream *in,
    int body_fd, uint64_t max_body, char id[ASYNC_ID_LEN + 1],
    uint64_t *bytes)
{
	bool full;

	if (!enabled) {
		errno = ENOSYS;
		return -1;
	}
	pthread_mutex_lock(&lock);
	full = njobs >= max_jobs;
	pthread_mutex_unlock(&lock);
	if (full) {
		errno = EAGAIN;
		return -1;
	}
	if (spool_write_job(key, params, in, body_fd, max_body, id, bytes) < 0)
		return -1;
	pthread_mutex_lock(&lock);
	if (table_add(id, key, jobrun_now_ms()) == NULL) {
		pthread_mutex_unlock(&lock);
		spool_done(id);
		errno = ENOMEM;
		return -1;
	}
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	metrics_async(METRICS_ASYNC_ACCEPTED);
	return 0;
}

/* ---- running ------------------------------------------------------- */

static const struct fcap *
cap_of(const char *key)
{
	for (size_t i = 0; i < ncaps; i++)
		if (strcmp(caps[i].key, key) == 0)
			return &caps[i];
	return &defcap;
}

static unsigned
running_of(const char *key)
{
	unsigned n = 0;

	for (size_t i = 0; i < njobs; i++)
		n += jobs[i].state == J_RUNNING && strcmp(jobs[i].key, key) == 0;
	return n;
}

void
async_note(const char *id, const char *attempt, const struct async_outcome *o)
{
	struct note *n;

	pthread_mutex_lock(&lock);
	n = &notes[note_next++ % NOTES];
	snprintf(n->id, sizeof(n->id), "%s", id);
	n->attempt = (unsigned)strtoul(attempt, NULL, 10);
	n->status = o->status;
	n->signal = o->signal;
	snprintf(n->outcome, sizeof(n->outcome), "%s", o->outcome ? o->outcome : "");
	snprintf(n->code, sizeof(n->code), "%s", o->code ? o->code : "");
	pthread_cond_broadcast(&noted);
	pthread_mutex_unlock(&lock);
}

/* The record's note of R's attempt, waited for a while: the record is
 * written after the teardown, which may outlast the answer by up to
 * kill_grace. false: none came (the answer alone decides). Lock held. */
static bool
take_note(struct jobrun *r, struct note *out, int64_t wait_ms)
{
	struct timespec ts;
	int64_t until = jobrun_now_ms() + wait_ms;

	for (;;) {
		for (size_t i = 0; i < NOTES; i++)
			if (notes[i].attempt == r->attempt &&
			    strcmp(notes[i].id, r->id) == 0) {
				*out = notes[i];
				notes[i].id[0] = '\0';
				return true;
			}
		if (jobrun_now_ms() >= until)
			return false;
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000;
		(void)pthread_cond_timedwait(&noted, &lock, &ts);
	}
}

/* The JSON of a finished attempt. */
static void
result_json(struct jsonbuf *b, struct jobrun *r, const char *state, int status,
    int64_t next_ms, const char *outcome)
{
	jsonbuf_add(b, "{\"id\":\"%s\",", r->id);
	json_function(b, r->key);
	jsonbuf_add(b, ",\"status\":\"%s\",\"attempts\":%u", state, r->attempt);
	jsonbuf_time(b, "created", r->created_ms);
	jsonbuf_time(b, "finished", jobrun_now_ms());
	if (next_ms > 0)
		jsonbuf_time(b, "next_attempt", next_ms);
	if (outcome != NULL) {
		jsonbuf_add(b, ",\"outcome\":");
		jsonbuf_str(b, outcome);     /* crashed, timeout...: not "ok" */
	}
	jsonbuf_add(b, ",\"result\":{\"status\":%d,\"headers\":{", status);
	for (size_t i = 0; r->headers_done && i < cgiresp_count(r->cgi); i++) {
		const struct cgiresp_header *h = cgiresp_get(r->cgi, i);
		if (i > 0)
			jsonbuf_add(b, ",");
		jsonbuf_str(b, h->name);
		jsonbuf_add(b, ":");
		jsonbuf_str(b, h->value);
	}
	jsonbuf_add(b, "},");
	if (r->blen == 0 || jsonbuf_is_utf8(r->body, r->blen)) {
		jsonbuf_add(b, "\"body\":");
		jsonbuf_str_n(b, r->body ? r->body : "", r->blen);
	} else {
		jsonbuf_need(b, 4 * ((r->blen + 2) / 3) + 32);
		if (!b->oom) {
			jsonbuf_add(b, "\"body_base64\":\"");
			b->len += (size_t)EVP_EncodeBlock((unsigned char *)b->p +
			    b->len, (unsigned char *)r->body, (int)r->blen);
			jsonbuf_add(b, "\"");
		}
	}
	jsonbuf_add(b, ",\"body_bytes\":%" PRIu64 ",\"truncated\":%s}}\n", r->btotal,
	    r->btotal > r->blen ? "true" : "false");
}

/* The attempt did not count (fnlauncher refused it, or its result could
 * not be written): the job is due again in DELAY_MS. */
static void
not_counted(const char *id, int64_t delay_ms, bool refused)
{
	struct job *j;

	pthread_mutex_lock(&lock);
	running--;
	if ((j = table_find(id)) != NULL) {
		j->deferrals += refused;
		j->attempts--;
		j->state = j->attempts > 0 ? J_FAILED : J_QUEUED;
		j->due_ms = jobrun_now_ms() + delay_ms;
	}
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

/* The job's files and the table after its result is on disk: done
 * (new/ID removed), dead (into dead/), or due again at NEXT. */
static void
settle(struct jobrun *r, const char *state, int status, const char *outcome,
    int64_t next)
{
	struct job *j;

	if (strcmp(state, "done") == 0) {
		spool_done(r->id);
		metrics_async(METRICS_ASYNC_DONE);
	} else if (strcmp(state, "dead") == 0) {
		if (spool_bury(r->id) < 0)
			fnlog(FNLOG_ERROR, "job %s: cannot move it to %s/dead: %s",
			    r->id, spool_dir(), strerror(errno));
		fnlog(FNLOG_WARN, "job %s of %s: dead after %u attempts (last "
		    "status %d, %s): its request is in %s/dead/%s", r->id,
		    r->key, r->attempt, status, outcome, spool_dir(), r->id);
		metrics_async(METRICS_ASYNC_DEAD);
	} else {
		fnlog(FNLOG_INFO, "job %s of %s: attempt %u answered %d (%s), "
		    "the next in %lld ms", r->id, r->key, r->attempt, status,
		    outcome, (long long)(next - jobrun_now_ms()));
		metrics_async(METRICS_ASYNC_RETRIED);
	}
	pthread_mutex_lock(&lock);
	running--;
	if (next > 0 && (j = table_find(r->id)) != NULL) {
		j->state = J_FAILED;
		j->due_ms = next;
	} else
		table_remove(r->id);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

/* The attempt R made ended: decided on its record's note (a crash or
 * timeout after the headers went out is still a failure), its result
 * written, then the job done, due again or dead. */
static void
finish(struct jobrun *r)
{
	int status = jobrun_status(r);
	const char *state, *outcome;
	int64_t next = 0;
	struct jsonbuf b = { 0 };
	struct note nt = { .outcome = "" };
	bool have_note, failed, refused;
	struct fcap c;
	struct job *j;

	pthread_mutex_lock(&lock);
	c = *cap_of(r->key);
	have_note = !r->timed_out && take_note(r, &nt, 15000);
	j = table_find(r->id);
	refused = j != NULL && j->deferrals < BUSY_MAX && have_note &&
	    strcmp(nt.outcome, "rejected") == 0 &&
	    (strcmp(nt.code, "busy") == 0 || strcmp(nt.code, "draining") == 0);
	pthread_mutex_unlock(&lock);
	if (refused) {
		not_counted(r->id, BUSY_RETRY_MS, true);
		return;
	}
	failed = status >= 500 || (have_note && (nt.status >= 500 ||
	    nt.signal > 0 || strcmp(nt.outcome, "timeout") == 0 ||
	    strcmp(nt.outcome, "crashed") == 0 ||
	    strcmp(nt.outcome, "exec_failed") == 0));
	outcome = r->timed_out ? "timeout" : have_note ? nt.outcome : "no record";
	if (!failed)
		state = "done";
	else if (r->attempt <= c.retries) {
		state = "failed";
		next = jobrun_now_ms() + (int64_t)(c.backoff_ms <<
		    (r->attempt - 1 < 20 ? r->attempt - 1 : 20));
	} else
		state = "dead";
	jsonbuf_add(&b, SPOOL_MAGIC "%s %u %lld %s\n", state, r->attempt,
	    (long long)next, r->key);
	result_json(&b, r, state, status, next,
	    strcmp(outcome, "ok") != 0 ? outcome : NULL);
	if (b.oom || spool_put_result(r->id, b.p, b.len, next == 0) < 0) {
		/* without its result the job is not over: it runs again */
		fnlog(FNLOG_ERROR, "job %s of %s: cannot write its result in "
		    "%s/results: %s: it runs again in 10 s", r->id, r->key,
		    spool_dir(), b.oom ? "out of memory" : strerror(errno));
		free(b.p);
		not_counted(r->id, 10 * BUSY_RETRY_MS, false);
		return;
	}
	free(b.p);
	settle(r, state, status, outcome, next);
}

static void *
run_thread(void *arg)
{
	struct jobrun *r = arg;
	char at[16];
	off_t from = 0;
	int jf = spool_open_job(r->id, &from);

	if (jf < 0) {
		/* taken away (by hand?): the job is over */
		fnlog(FNLOG_WARN, "job %s: its file %s/new/%s is gone or "
		    "unreadable", r->id, spool_dir(), r->id);
		close(r->fd);
		pthread_mutex_lock(&lock);
		running--;
		table_remove(r->id);
		pthread_cond_signal(&wake);
		pthread_mutex_unlock(&lock);
		cgiresp_free(r->cgi);
		free(r);
		return NULL;
	}
	snprintf(at, sizeof(at), "%u", r->attempt);
	/* The attempt counts even if the daemon dies during it: read back
	 * after a restart, it is a failed one ("interrupted") and the job
	 * runs again at once. (Not fsync'd: losing it costs a count.) */
	{
		struct jsonbuf b = { 0 };
		jsonbuf_add(&b, SPOOL_MAGIC "running %u 0 %s\n{\"id\":\"%s\",", r->attempt,
		    r->key, r->id);
		json_function(&b, r->key);
		jsonbuf_add(&b, ",\"status\":\"failed\",\"attempts\":%u", r->attempt);
		jsonbuf_time(&b, "created", r->created_ms);
		jsonbuf_add(&b, ",\"outcome\":\"interrupted\"}\n");
		if (!b.oom)
			(void)spool_put_result(r->id, b.p, b.len, false);
		free(b.p);
	}
	/* our BEGIN_REQUEST and params first: they win over anything
	 * spooled (spool_open_job skipped the file's BEGIN_REQUEST) */
	if (fcgiw_begin(r->fd) &&
	    fcgiw_param(r->fd, "FN_TRIGGER", "async") &&
	    fcgiw_param(r->fd, "FN_TRIGGER_KEY", trigger_key) &&
	    fcgiw_param(r->fd, "FN_JOB_ID", r->id) &&
	    fcgiw_param(r->fd, "FN_JOB_ATTEMPT", at))
		jobrun_exchange(r, jf, from);
	close(jf);
	close(r->fd);
	finish(r);
	cgiresp_free(r->cgi);
	free(r->body);
	free(r);
	return NULL;
}

/* Start job J (lock held). false: it could not start now. */
static bool
start(struct job *j)
{
	struct jobrun *r = calloc(1, sizeof(*r));
	int sv[2] = { -1, -1 };
	pthread_attr_t at;
	pthread_t t;

	if (r == NULL || (r->cgi = cgiresp_new(CGIRESP_MAX_HEADER)) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		goto fail;
	snprintf(r->id, sizeof(r->id), "%s", j->id);
	snprintf(r->key, sizeof(r->key), "%s", j->key);
	r->attempt = j->attempts + 1;
	r->created_ms = j->created_ms;
	r->deadline_ms = jobrun_now_ms() + (int64_t)cap_of(j->key)->limit_ms + 30000;
	r->result_max = (size_t)result_max;
	r->fd = sv[1];
	if (threadpool_submit(sv[0]) < 0)
		goto fail;
	sv[0] = -1;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 128 * 1024);
	if (pthread_create(&t, &at, run_thread, r) != 0) {
		pthread_attr_destroy(&at);
		close(sv[1]);
		cgiresp_free(r->cgi);
		free(r);
		return false;
	}
	pthread_attr_destroy(&at);
	j->state = J_RUNNING;
	j->attempts++;
	running++;
	return true;
fail:
	fnlog(FNLOG_ERROR, "job %s: cannot start: %s", j->id, strerror(errno));
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (r != NULL)
		cgiresp_free(r->cgi);
	free(r);
	return false;
}

/* Is job ID one still to run (its result is kept whatever its age)?
 * For spool_sweep. */
static bool
still_due(const char *id)
{
	bool found;

	pthread_mutex_lock(&lock);
	found = table_find(id) != NULL;
	pthread_mutex_unlock(&lock);
	return found;
}

static void *
loop(void *arg)
{
	int64_t last_sweep = 0;

	pthread_mutex_lock(&lock);
	while (!stopping) {
		int64_t now = jobrun_now_ms(), next = now + SWEEP_MS;
		struct timespec ts;

		if (now - last_sweep >= SWEEP_MS) {
			pthread_mutex_unlock(&lock);
			spool_sweep(keep_ms, still_due);
			pthread_mutex_lock(&lock);
			last_sweep = now;
		}
		/* functions found at their concurrency in this pass */
		const char *full[16];
		size_t nfull = 0;
		for (size_t i = 0; i < njobs && !server_draining(); i++) {
			struct job *j = &jobs[i];
			const struct fcap *c;
			bool skip = false;

			if (j->state == J_RUNNING)
				continue;
			if (j->due_ms > now) {
				if (j->due_ms < next)
					next = j->due_ms;
				continue;
			}
			if (running >= global_cap)
				break;
			for (size_t k = 0; k < nfull && !skip; k++)
				skip = strcmp(full[k], j->key) == 0;
			if (skip)
				continue;
			c = cap_of(j->key);
			if (c->concurrency > 0 && running_of(j->key) >= c->concurrency) {
				if (nfull < sizeof(full) / sizeof(full[0]))
					full[nfull++] = j->key;
				continue;
			}
			if (!start(j) && now + BUSY_RETRY_MS < next) {
				j->due_ms = now + BUSY_RETRY_MS;
				next = j->due_ms;
			}
		}
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000;
		(void)pthread_cond_timedwait(&wake, &lock, &ts);
	}
	pthread_mutex_unlock(&lock);
	return arg;
}

/* ---- start-up ------------------------------------------------------ */

static int
cmp_created(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	return (x->created_ms > y->created_ms) - (x->created_ms < y->created_ms);
}

struct recovery {
	unsigned queued, again, cleared;
	bool oom;
};

/* One job of new/ back into the table (spool_each_job): finished if its
 * result says so, else due now (or when its failed attempt said). */
static void
recover_one(const char *id, const char *key, int64_t accepted_ms, void *arg)
{
	struct recovery *rc = arg;
	char state[16] = "", rkey[FN_KEY_MAX];
	unsigned attempts = 0;
	int64_t due = 0;
	bool meta = spool_result_meta(id, state, sizeof(state), &attempts, &due,
	    rkey, sizeof(rkey));
	struct job *j;

	if (meta && (strcmp(state, "done") == 0 || strcmp(state, "dead") == 0)) {
		/* its result was written: finish what was under way */
		if (strcmp(state, "dead") == 0)
			(void)spool_bury(id);
		else
			spool_done(id);
		rc->cleared++;
		return;
	}
	if ((j = table_add(id, key, accepted_ms)) == NULL) {
		rc->oom = true;
		return;
	}
	if (meta && attempts > 0) {
		/* failed and due at DUE, or running when the daemon died:
		 * again now */
		j->state = J_FAILED;
		j->attempts = attempts;
		j->due_ms = strcmp(state, "failed") == 0 ? due : 0;
		rc->again++;
	}
	rc->queued++;
}

/* The jobs of new/ back into the table, oldest first. */
static void
recover(void)
{
	struct recovery rc = { 0 };

	spool_each_job(recover_one, &rc);
	if (njobs > 1)
		qsort(jobs, njobs, sizeof(*jobs), cmp_created);
	if (rc.oom)
		fnlog(FNLOG_ERROR, "spool %s: out of memory reading the jobs "
		    "back: some wait for the next start", spool_dir());
	if (rc.queued + rc.cleared > 0)
		fnlog(FNLOG_INFO, "spool %s: %u job%s to run (%u of them "
		    "after a failed attempt)%s", spool_dir(), rc.queued,
		    rc.queued == 1 ? "" : "s", rc.again,
		    rc.cleared ? "; finished ones cleared" : "");
}

int
async_open(const struct manifest *m)
{
	tried = true;
	if (spool_open(m->spool_dir) < 0)
		return -1;
	recover();
	spool_new_id(trigger_key);
	enabled = true;
	fnlog(FNLOG_INFO, "spool %s: async invocations on", spool_dir());
	return 0;
}

static void
add_caps(const struct manifest *m, struct fcap **v, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < m->nfunctions; i++) {
		const struct fn_spec *f = &m->functions[i];
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 16;
			struct fcap *w = realloc(*v, c * sizeof(*w));
			if (w == NULL)
				return;
			*v = w;
			*cap = c;
		}
		fn_spec_key(f, (*v)[*n].key, sizeof((*v)[*n].key));
		(*v)[*n].concurrency = f->concurrency;
		(*v)[*n].retries = f->retries;
		(*v)[*n].backoff_ms = f->retry_backoff_ms;
		(*v)[*n].limit_ms = f->queue_timeout_ms + f->timeout_ms +
		    f->kill_grace_ms;
		(*n)++;
	}
}

void
async_load(const struct manifest *m)
{
	struct fcap *v = NULL;
	size_t n = 0, cap = 0;

	add_caps(m, &v, &n, &cap);
	for (size_t t = 0; t < m->ntenants; t++)
		add_caps(m->tenants[t], &v, &n, &cap);
	pthread_mutex_lock(&lock);
	free(caps);
	caps = v;
	ncaps = n;
	defcap.concurrency = m->defaults.concurrency;
	defcap.retries = m->defaults.retries;
	defcap.backoff_ms = m->defaults.retry_backoff_ms;
	defcap.limit_ms = m->defaults.queue_timeout_ms + m->defaults.timeout_ms +
	    m->defaults.kill_grace_ms;
	global_cap = m->workers / 2 > 0 ? m->workers / 2 : 1;
	keep_ms = m->async_keep_ms;
	result_max = m->async_result_max;
	max_jobs = m->async_max_jobs;
	if (enabled && strcmp(m->spool_dir, spool_dir()) != 0)
		fnlog(FNLOG_WARN, "spool_dir changed to %s: it takes a restart; "
		    "%s stays in use", m->spool_dir, spool_dir());
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

int
async_start(void)
{
	pthread_condattr_t ca;

	if (!enabled)
		return 0;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_REALTIME);
	pthread_cond_init(&wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&thread, NULL, loop, NULL) != 0)
		return -1;
	started = true;
	return 0;
}

void
async_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	started = false;
}

/* ---- status -------------------------------------------------------- */

char *
async_status(const char *id, size_t *len)
{
	static const char *const names[] = { "queued", "running", "failed" };
	struct jsonbuf b = { 0 };
	struct job *j;
	char *text;

	if (!enabled || !spool_valid_id(id)) {
		errno = ENOENT;
		return NULL;
	}
	pthread_mutex_lock(&lock);
	if ((j = table_find(id)) != NULL && j->state != J_FAILED) {
		jsonbuf_add(&b, "{\"id\":\"%s\",", j->id);
		json_function(&b, j->key);
		jsonbuf_add(&b, ",\"status\":\"%s\",\"attempts\":%u",
		    names[j->state], j->attempts);
		jsonbuf_time(&b, "created", j->created_ms);
		jsonbuf_add(&b, "}\n");
		pthread_mutex_unlock(&lock);
		if (b.oom) {
			free(b.p);
			errno = ENOMEM;
			return NULL;
		}
		*len = b.len;
		return b.p;
	}
	pthread_mutex_unlock(&lock);
	if ((text = spool_read_result(id, len)) != NULL)
		return text;
	if (spool_is_dead(id)) {
		/* a dead letter whose result went past async_keep */
		jsonbuf_add(&b, "{\"id\":\"%s\",\"status\":\"dead\"}\n", id);
		*len = b.len;
		return b.p;
	}
	errno = ENOENT;
	return NULL;
}

/* ---- -t ------------------------------------------------------------- */

size_t
async_describe(const struct manifest *m, preflight_report report, void *arg)
{
	return spool_describe(m->spool_dir, report, arg);
}
