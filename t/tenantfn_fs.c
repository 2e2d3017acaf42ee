/* tenantfn_fs.c — what one invocation leaves for the next (issue 12,
 * rows 6, 7 and 11): files in the folders every process may write,
 * files planted there under a name the victim will open, SysV shared
 * memory, and the manifest with every function's secrets. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tenantfn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

/* DIR/ct-[NAME-]TAG into buf (X-Name picks NAME). */
static void shared_path(const struct tfn *t, const char *dir, char *buf,
    size_t len)
{
	const char *name = tfn_hdr("NAME", "");

	snprintf(buf, len, "%s/ct-%s%s%s", dir, name, *name ? "-" : "",
	    t->tag);
}

/* Row 6: write a file into each shared folder the way naive code does
 * (O_CREAT without O_EXCL: a file already there is opened and
 * truncated), with this function's secret. A file that was there
 * before — planted by someone — is SQUATTED. */
int tfn_tmpw(struct tfn *t)
{
	const char *fn = getenv("FN_NAME");
	char path[PATH_MAX], text[256];
	struct stat st;
	int fd;

	printf("Content-Type: text/plain\n\n");
	snprintf(text, sizeof(text), "tmp-secret of %s, tag %s\n",
	    fn != NULL ? fn : "-", t->tag);
	for (size_t i = 0; tfn_shared_dirs[i] != NULL; i++) {
		shared_path(t, tfn_shared_dirs[i], path, sizeof(path));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST) {
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
			    O_CLOEXEC | O_NOFOLLOW, 0644);
			if (fd >= 0 && fstat(fd, &st) == 0)
				tfn_say("SQUATTED %s: it was there before me, "
				    "uid %ld (I am %ld), mode %04o", path,
				    (long)st.st_uid, (long)geteuid(),
				    (unsigned)st.st_mode & 07777);
		}
		if (fd < 0) {
			tfn_say("DENIED %s: %s", path, strerror(errno));
			continue;
		}
		if (write(fd, text, strlen(text)) < 0)
			tfn_say("DENIED write %s: %s", path, strerror(errno));
		else
			tfn_say("WROTE %s", path);
		close(fd);
	}
	return 0;
}

/* Row 6: look for those files. */
int tfn_tmpr(struct tfn *t)
{
	char path[PATH_MAX], buf[512];
	struct stat st;
	ssize_t n;
	int fd;

	printf("Content-Type: text/plain\n\n");
	for (size_t i = 0; tfn_shared_dirs[i] != NULL; i++) {
		shared_path(t, tfn_shared_dirs[i], path, sizeof(path));
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			tfn_say("%s %s: %s", errno == ENOENT ? "ABSENT" :
			    "DENIED", path, strerror(errno));
			continue;
		}
		n = fstat(fd, &st) == 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		buf[n > 0 ? n : 0] = '\0';
		if (n > 0 && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		tfn_say("SEEN %s (uid %ld, mode %04o): %s", path,
		    (long)st.st_uid, (unsigned)st.st_mode & 07777, buf);
		close(fd);
	}
	return 0;
}

/* The IPC namespace's inode: the same in two invocations when it was
 * kept (launcher/nspool.h). */
static void say_ipc_ns(void)
{
	struct stat st;

	if (stat("/proc/self/ns/ipc", &st) == 0)
		tfn_say("IPCNS %lu", (unsigned long)st.st_ino);
}

/* Leave a System V segment, semaphore set and message queue, and a
 * POSIX message queue /ct-TAG. */
static void ipc_mess(const char *tag)
{
	char name[96];
	mqd_t q;

	say_ipc_ns();
	if (shmget(IPC_PRIVATE, 1 << 20, IPC_CREAT | 0600) >= 0 &&
	    semget(IPC_PRIVATE, 1, IPC_CREAT | 0600) >= 0 &&
	    msgget(IPC_PRIVATE, IPC_CREAT | 0600) >= 0)
		tfn_say("MESSED sysv");
	snprintf(name, sizeof(name), "/ct-%s", tag);
	if ((q = mq_open(name, O_CREAT | O_RDWR, 0600, NULL)) != (mqd_t)-1) {
		tfn_say("MESSED mqueue %s", name);
		mq_close(q);
	}
}

/* What is left of that in this invocation's IPC namespace. */
static void ipc_left(const char *tag)
{
	struct shm_info shi;
	struct msginfo msi;
	struct seminfo sei;
	char name[96];
	mqd_t q;

	say_ipc_ns();
	if (shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&shi) >= 0 &&
	    shi.used_ids > 0)
		tfn_say("LEFT sysv shm: %d", shi.used_ids);
	if (semctl(0, 0, SEM_INFO, &sei) >= 0 && sei.semusz > 0)
		tfn_say("LEFT sysv sem: %d", sei.semusz);
	if (msgctl(0, MSG_INFO, (struct msqid_ds *)(void *)&msi) >= 0 &&
	    msi.msgpool > 0)
		tfn_say("LEFT sysv msg: %d", msi.msgpool);
	snprintf(name, sizeof(name), "/ct-%s", tag);
	if ((q = mq_open(name, O_RDONLY)) != (mqd_t)-1) {
		tfn_say("LEFT mqueue %s", name);
		mq_close(q);
	}
}

/* The kept /tmp (launcher/nspool.h): leave what is hardest to clean
 * up in each shared folder — folders five deep, a folder of mode 0 with
 * a file in it, a fifo, a symlink, a hard link, a socket — and say the
 * device of each folder's file system (the next request's is the same
 * when its mount namespace was kept). */
int tfn_tmpmess(struct tfn *t)
{
	char path[PATH_MAX], deep[PATH_MAX];
	struct stat st;
	int fd;

	printf("Content-Type: text/plain\n\n");
	for (size_t i = 0; tfn_shared_dirs[i] != NULL; i++) {
		const char *d = tfn_shared_dirs[i];

		if (stat(d, &st) == 0)
			tfn_say("DEV %s %lu", d, (unsigned long)st.st_dev);
		snprintf(deep, sizeof(deep), "%s/ct-%s", d, t->tag);
		if (mkdir(deep, 0755) < 0) {
			tfn_say("DENIED %s: %s", deep, strerror(errno));
			continue;
		}
		for (int k = 0; k < 5; k++) {
			size_t n = strlen(deep);
			snprintf(deep + n, sizeof(deep) - n, "/d%d", k);
			(void)mkdir(deep, 0700);
			snprintf(path, sizeof(path), "%s/f", deep);
			if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC,
			    0600)) >= 0)
				close(fd);
		}
		snprintf(path, sizeof(path), "%s/ct-%s-fifo", d, t->tag);
		(void)mkfifo(path, 0600);
		snprintf(path, sizeof(path), "%s/ct-%s-link", d, t->tag);
		(void)symlink("/etc/passwd", path);
		snprintf(path, sizeof(path), "%s/ct-%s/d0/f", d, t->tag);
		snprintf(deep, sizeof(deep), "%s/ct-%s-hard", d, t->tag);
		(void)link(path, deep);
		snprintf(path, sizeof(path), "%s/ct-%s-sock", d, t->tag);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
			struct sockaddr_un sun = { .sun_family = AF_UNIX };

			if (strlen(path) < sizeof(sun.sun_path)) {
				memcpy(sun.sun_path, path, strlen(path) + 1);
				(void)bind(fd, (struct sockaddr *)&sun,
				    sizeof(sun));
			}
			close(fd);
		}
		snprintf(path, sizeof(path), "%s/ct-%s/d0", d, t->tag);
		(void)chmod(path, 0);
		tfn_say("MESSED %s", d);
	}
	ipc_mess(t->tag);
	return 0;
}

/* Whatever is in each shared folder (LEFT name), the folder's owner and
 * mode, and its file system's device. */
int tfn_tmpls(struct tfn *t)
{
	struct dirent *e;
	struct stat st;
	DIR *dir;

	printf("Content-Type: text/plain\n\n");
	for (size_t i = 0; tfn_shared_dirs[i] != NULL; i++) {
		const char *d = tfn_shared_dirs[i];

		if (stat(d, &st) < 0 || (dir = opendir(d)) == NULL)
			continue;
		tfn_say("DIR %s uid %ld mode %04o dev %lu", d,
		    (long)st.st_uid, (unsigned)st.st_mode & 07777,
		    (unsigned long)st.st_dev);
		while ((e = readdir(dir)) != NULL)
			if (strcmp(e->d_name, ".") != 0 &&
			    strcmp(e->d_name, "..") != 0)
				tfn_say("LEFT %s/%s", d, e->d_name);
		closedir(dir);
	}
	ipc_left(t->tag);
	return 0;
}

/* Row 6: plant an empty file of mode 0666 under each name. */
int tfn_squat(struct tfn *t)
{
	char path[PATH_MAX];
	int fd;

	printf("Content-Type: text/plain\n\n");
	for (size_t i = 0; tfn_shared_dirs[i] != NULL; i++) {
		shared_path(t, tfn_shared_dirs[i], path, sizeof(path));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 || fchmod(fd, 0666) < 0)
			tfn_say("DENIED %s: %s", path, strerror(errno));
		else
			tfn_say("PLANTED %s mode 0666", path);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

#define SHM_SIZE (1 << 20)

/* Row 7: a SysV segment of 1 MiB under key X-Key, with a secret in it,
 * not removed. */
int tfn_shm(struct tfn *t)
{
	key_t key = (key_t)tfn_hdr_num("KEY", 0, 1, 0x7fffffff);
	char *p;
	int id;

	printf("Content-Type: text/plain\n\n");
	if ((id = shmget(key, SHM_SIZE, IPC_CREAT | IPC_EXCL | 0666)) < 0) {
		tfn_say("DENIED shmget(0x%x): %s", (unsigned)key,
		    strerror(errno));
		return 0;
	}
	if ((p = shmat(id, NULL, 0)) == (void *)-1) {
		tfn_say("DENIED shmat(%d): %s", id, strerror(errno));
		return 0;
	}
	snprintf(p, SHM_SIZE, "shm-secret tag %s", t->tag);
	shmdt(p);
	tfn_say("CREATED shm key 0x%x id %d, %d bytes, left in place",
	    (unsigned)key, id, SHM_SIZE);
	return 0;
}

/* Row 7: find the segment by its key and read it. */
int tfn_shmr(struct tfn *t)
{
	key_t key = (key_t)tfn_hdr_num("KEY", 0, 1, 0x7fffffff);
	char *p;
	int id;

	(void)t;
	printf("Content-Type: text/plain\n\n");
	if ((id = shmget(key, 0, 0)) < 0) {
		tfn_say("ABSENT shm key 0x%x: %s", (unsigned)key,
		    strerror(errno));
		return 0;
	}
	if ((p = shmat(id, NULL, SHM_RDONLY)) == (void *)-1) {
		tfn_say("DENIED shmat(%d): %s", id, strerror(errno));
		return 0;
	}
	tfn_say("SEEN shm key 0x%x id %d: %.64s", (unsigned)key, id, p);
	shmdt(p);
	return 0;
}

/* Row 11: the daemon's manifest (X-Path; an attacker finds it in the
 * daemon's command line), with every function's env: values. */
int tfn_manifest(struct tfn *t)
{
	const char *path = tfn_hdr("PATH", "/etc/fnlauncher/fnlauncher.yaml");
	char buf[65536], *line;
	ssize_t n;
	int fd;

	(void)t;
	printf("Content-Type: text/plain\n\n");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		tfn_say("DENIED %s: %s", path, strerror(errno));
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	line = strstr(buf, "CT_SECRET");
	if (line != NULL && strchr(line, '\n') != NULL)
		*strchr(line, '\n') = '\0';
	tfn_say("READ %s: %zd bytes%s%s", path, n, line ? "; " : "",
	    line ? line : "");
	return 0;
}
