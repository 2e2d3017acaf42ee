/* hello.c — the benchmark's function: the smallest useful CGI response.
 * Built dynamically linked by t/bench/run, like most real functions. */
#include <stdio.h>

int
main(void)
{
	fputs("Content-Type: text/plain\r\n\r\nhello\n", stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
