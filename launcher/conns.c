/* conns.c — see conns.h. */
#include "config.h"

#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>

#include "conns.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *head;
static bool draining;

void
conns_add(struct conn *c, int fd)
{
	c->fd = fd;
	c->idle = true;
	c->served = false;
	c->prev = NULL;
	pthread_mutex_lock(&lock);
	c->next = head;
	if (head != NULL)
		head->prev = c;
	head = c;
	pthread_mutex_unlock(&lock);
}

void
conns_remove(struct conn *c)
{
	pthread_mutex_lock(&lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&lock);
}

bool
conns_idle(struct conn *c, bool idle)
{
	bool go_on;

	pthread_mutex_lock(&lock);
	c->idle = idle;
	if (idle)
		c->served = true;
	go_on = !(idle && draining);
	pthread_mutex_unlock(&lock);
	return go_on;
}

void
conns_drain(void)
{
	pthread_mutex_lock(&lock);
	draining = true;
	/* The blocked read in libfcgi returns 0: the thread ends. Not a
	 * connection that has not had its first request yet (nginx is
	 * about to send it), nor one whose next request is already here:
	 * those are served, then closed. */
	for (struct conn *c = head; c != NULL; c = c->next) {
		char b;
		if (c->idle && c->served &&
		    recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0)
			shutdown(c->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&lock);
}
