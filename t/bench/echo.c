/* echo.c — the benchmark's streaming function: a CGI header, then stdin
 * copied to stdout as it arrives (a server that writes the whole body
 * before reading the response deadlocks on it). */
#include <errno.h>
#include <unistd.h>

static int
put(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(1, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
main(void)
{
	static const char hdr[] =
	    "Content-Type: application/octet-stream\r\n\r\n";
	static char buf[64 * 1024];
	ssize_t n;

	if (put(hdr, sizeof(hdr) - 1) < 0)
		return 1;
	for (;;) {
		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (put(buf, (size_t)n) < 0)
			return 1;
	}
	return n < 0 ? 1 : 0;
}
