/* hello-c.c — an fnlauncher function written in C.
 *
 *   GET /fn/hello-c/some/path  ->  Hello from C
 *                                  PATH_INFO: /some/path
 *
 * Any executable works: fnlauncher runs it once per request with the CGI
 * environment (RFC 3875 section 4.1), the request body on stdin, and reads
 * a CGI response (header lines, blank line, body) from stdout. */
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
	const char *path_info = getenv("PATH_INFO");

	printf("Content-Type: text/plain\r\n\r\n");
	printf("Hello from C\n");
	if (path_info != NULL && *path_info != '\0')
		printf("PATH_INFO: %s\n", path_info);

	/* stdout is a pipe, so fully buffered: report a failed write (the
	 * client went away) through the exit status. */
	return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
