/* fcgirec.c — see fcgirec.h. */
#include "config.h"

#include <string.h>

#include <fastcgi.h>     /* libfcgi's: the FastCGI spec's constants */

#include "fcgirec.h"

void
fcgirec_init(struct fcgirec *r, uint16_t id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
}

/* Take one record header (8 bytes at H). 0, or -1 on a protocol error. */
static int
take_header(struct fcgirec *r, const unsigned char *h)
{
	unsigned type = h[1];
	uint16_t id = (uint16_t)(h[2] << 8 | h[3]);
	uint32_t clen = (uint32_t)(h[4] << 8 | h[5]);

	if (h[0] != FCGI_VERSION_1)
		return -1;
	if (id == r->id && type == FCGI_STDIN) {
		r->skip = false;
		if (clen == 0)
			r->eof = true;
	} else if (id != 0 && id != r->id && type != 1 /* BEGIN_REQUEST */) {
		r->skip = true;         /* another request's: as libfcgi does */
	} else {
		return -1;
	}
	r->content_left = clen;
	r->pad_left = h[6];
	return 0;
}

long
fcgirec_parse(struct fcgirec *r, unsigned char *buf, size_t have,
    size_t *used)
{
	size_t pos = 0, out = 0;

	while (pos < have) {
		size_t avail = have - pos;
		if (r->content_left > 0) {
			size_t k = avail < r->content_left ? avail : r->content_left;
			if (!r->skip) {
				if (out != pos)
					memmove(buf + out, buf + pos, k);
				out += k;
			}
			pos += k;
			r->content_left -= (uint32_t)k;
		} else if (r->pad_left > 0) {
			size_t k = avail < r->pad_left ? avail : r->pad_left;
			pos += k;
			r->pad_left -= (uint32_t)k;
		} else if (r->eof) {
			r->extra = true;        /* nginx never pipelines */
			pos = have;
		} else if (avail < FCGI_HEADER_LEN) {
			break;                  /* the rest comes with the next read */
		} else {
			if (take_header(r, buf + pos) < 0) {
				*used = pos;
				return -1;
			}
			pos += FCGI_HEADER_LEN;
		}
	}
	*used = pos;
	return (long)out;
}
