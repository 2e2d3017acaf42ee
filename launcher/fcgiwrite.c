/* fcgiwrite.c — see fcgiwrite.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fastcgi.h>

#include "fcgiwrite.h"

#define REQ_ID 1

bool
fcgiw_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool
fcgiw_record(int fd, int type, const void *data, size_t len)
{
	unsigned char h[FCGI_HEADER_LEN] = { FCGI_VERSION_1,
	    (unsigned char)type, 0, REQ_ID,
	    (unsigned char)(len >> 8), (unsigned char)len, 0, 0 };

	return fcgiw_all(fd, h, sizeof(h)) && fcgiw_all(fd, data, len);
}

bool
fcgiw_begin(int fd)
{
	FCGI_BeginRequestBody b = { .roleB0 = FCGI_RESPONDER };

	return fcgiw_record(fd, FCGI_BEGIN_REQUEST, &b, sizeof(b));
}

/* A name-value pair (section 3.4) appended to BUF. */
static size_t
put_pair(unsigned char *buf, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value), pos = 0;
	size_t lens[2] = { n, v };

	for (int i = 0; i < 2; i++) {
		if (lens[i] < 128)
			buf[pos++] = (unsigned char)lens[i];
		else {
			buf[pos++] = (unsigned char)((lens[i] >> 24) | 0x80);
			buf[pos++] = (unsigned char)(lens[i] >> 16);
			buf[pos++] = (unsigned char)(lens[i] >> 8);
			buf[pos++] = (unsigned char)lens[i];
		}
	}
	memcpy(buf + pos, name, n);
	memcpy(buf + pos + n, value, v);
	return pos + n + v;
}

bool
fcgiw_param(int fd, const char *name, const char *value)
{
	size_t need = strlen(name) + strlen(value) + 8;
	unsigned char *buf;
	bool ok;

	if (need > 65535 || (buf = malloc(need)) == NULL)
		return false;
	ok = fcgiw_record(fd, FCGI_PARAMS, buf, put_pair(buf, name, value));
	free(buf);
	return ok;
}
