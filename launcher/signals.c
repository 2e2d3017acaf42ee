/* signals.c — see signals.h. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "fnlog.h"
#include "signals.h"
#include "spawnproc.h"

int
signals_take(void)
{
	sigset_t set;
	int sfd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if ((errno = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		fnlog(FNLOG_ERROR, "cannot take signals: %s", strerror(errno));
		return -1;
	}
	return sfd;
}

void
signals_after_libfcgi(void)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	spawn_init();
}

int
signals_next(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}
