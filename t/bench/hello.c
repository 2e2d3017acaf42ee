/* hello.c — the benchmark's function: the smallest useful CGI response.
 * Built dynamically linked by t/bench/run, like most real functions;
 * built again with -DSLEEP_MS=N for the functions that take N ms (one
 * process, as hello: a shell script that runs sleep(1) would spawn two,
 * and their creation is what the figures would then show). */
#include <stdio.h>
#include <time.h>

int
main(void)
{
#ifdef SLEEP_MS
	struct timespec ts = { SLEEP_MS / 1000, (SLEEP_MS % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
#endif
	fputs("Content-Type: text/plain\r\n\r\nhello\n", stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
