/* threadpool.c — see threadpool.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#include "threadpool.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;    /* a connection was queued */
	pthread_attr_t attr;
	void (*serve)(int fd);
	int q[THREADPOOL_QUEUE];
	size_t head, n;
	size_t idle;            /* threads waiting in next_fd */
	size_t threads;         /* threads alive */
	size_t max;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER };

int
threadpool_init(void (*serve)(int fd), size_t stack, size_t max)
{
	pthread_condattr_t ca;
	int rc;

	P.serve = serve;
	P.max = max > 0 ? max : 1;
	if ((rc = pthread_condattr_init(&ca)) != 0 ||
	    (rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0 ||
	    (rc = pthread_cond_init(&P.cond, &ca)) != 0 ||
	    (rc = pthread_attr_init(&P.attr)) != 0 ||
	    (rc = pthread_attr_setstacksize(&P.attr, stack)) != 0 ||
	    (rc = pthread_attr_setdetachstate(&P.attr,
	    PTHREAD_CREATE_DETACHED)) != 0) {
		errno = rc;
		return -1;
	}
	pthread_condattr_destroy(&ca);
	return 0;
}

size_t
threadpool_threads(void)
{
	pthread_mutex_lock(&P.lock);
	size_t n = P.threads;
	pthread_mutex_unlock(&P.lock);
	return n;
}

/* The next connection for this thread, or -1 after THREADPOOL_IDLE_S
 * without one (the thread then ends and is counted out here). While it
 * waits the thread is named THREADPOOL_IDLE_NAME (ps -L,
 * /proc/PID/task/TID/comm); NAME is its name while it serves. */
static int
next_fd(const char *name)
{
	struct timespec until;
	int fd = -1;

	pthread_setname_np(pthread_self(), THREADPOOL_IDLE_NAME);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += THREADPOOL_IDLE_S;
	pthread_mutex_lock(&P.lock);
	P.idle++;
	while (P.n == 0)
		if (pthread_cond_timedwait(&P.cond, &P.lock, &until) ==
		    ETIMEDOUT && P.n == 0)
			break;
	P.idle--;
	if (P.n > 0) {
		fd = P.q[P.head];
		P.head = (P.head + 1) % THREADPOOL_QUEUE;
		P.n--;
	} else
		P.threads--;
	pthread_mutex_unlock(&P.lock);
	if (fd >= 0)
		pthread_setname_np(pthread_self(), name);
	return fd;
}

static void *
worker(void *arg)
{
	char name[16] = "fnlauncher";
	int fd = (int)(intptr_t)arg;

	(void)pthread_getname_np(pthread_self(), name, sizeof(name));
	do
		P.serve(fd);
	while ((fd = next_fd(name)) >= 0);
	return NULL;
}

int
threadpool_submit(int fd)
{
	pthread_t t;
	int rc;

	pthread_mutex_lock(&P.lock);
	/* Queued when a waiting thread will take it, or when no more
	 * threads may start (the next one done takes it). */
	if ((P.idle > P.n || P.threads >= P.max) && P.n < THREADPOOL_QUEUE) {
		P.q[(P.head + P.n) % THREADPOOL_QUEUE] = fd;
		P.n++;
		pthread_cond_signal(&P.cond);
		pthread_mutex_unlock(&P.lock);
		return 0;
	}
	if (P.threads >= P.max) {
		pthread_mutex_unlock(&P.lock);
		errno = EAGAIN;
		return -1;
	}
	P.threads++;
	pthread_mutex_unlock(&P.lock);
	if ((rc = pthread_create(&t, &P.attr, worker, (void *)(intptr_t)fd)) != 0) {
		pthread_mutex_lock(&P.lock);
		P.threads--;
		pthread_mutex_unlock(&P.lock);
		errno = rc;
		return -1;
	}
	return 0;
}
