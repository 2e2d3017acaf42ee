/* jobrun.h — one attempt of an async job on the wire (async.c): the
 * job's file written into our end of the socketpair a connection thread
 * serves, while its answer is read back (FastCGI records: the CGI
 * header block parsed, the body kept up to a cap), with a deadline. */
#ifndef FN_JOBRUN_H
#define FN_JOBRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "async.h"
#include "cgiresp.h"
#include "manifest.h"

struct jobrun {
	int fd;                   /* our end of the socketpair */
	char id[ASYNC_ID_LEN + 1];
	char key[FN_KEY_MAX];
	unsigned attempt;
	int64_t created_ms;
	int64_t deadline_ms;      /* no answer by then: a 504 attempt */
	bool timed_out;
	size_t result_max;
	/* the answer */
	struct cgiresp *cgi;
	bool headers_done, bad, ended;
	char *body;
	size_t blen;
	uint64_t btotal;
};

/* The wall clock in milliseconds: jobs' times (due, created, deadline)
 * are kept in it, as they are written to the spool. */
static inline int64_t
jobrun_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The job file JF from offset FROM to R->fd while the answer is read,
 * both at once (as nginx does: a function that answers before it has
 * read its body never stalls), until FCGI_END_REQUEST, the other side's
 * end, or R->deadline_ms (then timed_out). */
void jobrun_exchange(struct jobrun *r, int jf, off_t from);

/* The status the attempt answered: the function's (Status:, 302 with a
 * Location, else 200), 504 when it timed out, 502 with no complete
 * answer. */
int jobrun_status(const struct jobrun *r);

#endif
