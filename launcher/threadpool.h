/* threadpool.h — threads for the FastCGI connections, kept for the next.
 *
 * Each connection is served by a thread of its own (libfcgi reads
 * block). Creating that thread per accepted connection showed in perf
 * (copy_process, pthread_create) whenever nginx connects often: without
 * upstream keepalive that is once per request, and with it whenever
 * more requests are in flight than nginx's keepalive cache keeps. So a
 * thread whose connection has ended waits up to THREADPOOL_IDLE_S for
 * the next one before it ends; meanwhile it is named
 * THREADPOOL_IDLE_NAME.
 *
 * Threads are bounded: past MAX, a connection waits in a queue for the
 * next thread that is done with its own (under a burst of short
 * connections 128 clients made ~190 threads, and memory with them). */
#ifndef FN_THREADPOOL_H
#define FN_THREADPOOL_H

#include <stddef.h>

#define THREADPOOL_IDLE_S 10
#define THREADPOOL_IDLE_NAME "fnl-idle"   /* a waiting thread's name */
#define THREADPOOL_QUEUE 1024             /* connections waiting, at most */

/* SERVE(FD) serves one connection to its end (and closes FD); it runs
 * on at most MAX threads with STACK bytes of stack. 0, or -1 (errno). */
int threadpool_init(void (*serve)(int fd), size_t stack, size_t max);

/* Serve FD on an idle thread, a new one, or the next one free. 0, or -1
 * when it can be none of them (errno; the caller still owns FD). */
int threadpool_submit(int fd);

/* Threads alive now (serving or idle). */
size_t threadpool_threads(void);

#endif
