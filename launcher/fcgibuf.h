/* fcgibuf.h — does libfcgi hold request bytes it has read from the
 * socket but not handed out yet?
 *
 * libfcgi reads the socket in 8 KiB gulps: the request body often sits
 * in its buffer already when FCGX_Accept_r returns, so poll(2) on the
 * socket would wait for bytes that will never come, while a blind read
 * blocks when there are none. libfcgi has no call that tells, so this
 * looks at its private stream data, whose layout is fixed in the
 * libfcgi 2.4.x that Debian ships, and checks the layout on every call. */
#ifndef FN_FCGIBUF_H
#define FN_FCGIBUF_H

#include <fcgiapp.h>

/* 1: enough bytes are buffered that a fill will not wait for the socket;
 * 0: it would (poll the socket before filling);
 * -1: the layout is not the one we know (fill without polling: this
 *     may block, which is harmless behind nginx's request buffering). */
int fcgibuf_unread(const FCGX_Stream *in, const FCGX_Request *req);

#endif
