/* The seccomp attack: from inside a container, try system calls docker's
 * default profile refuses to a container with the default capabilities,
 * and ordinary ones that must keep working. Prints one "name=RESULT" line
 * per attempt: "ok" when the call succeeded, else the errno's name
 * (EPERM, ENOSYS, ...). The test compares each line with docker's answer.
 *
 * Every call is made so that, if the kernel runs it, it does nothing
 * lasting: empty masks, zero lengths, sockets closed, children reaped. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/bpf.h>
#include <linux/kcmp.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
/* file_getattr (Linux 6.17): newer than docker's profile and libseccomp */
#define NR_FILE_GETATTR 468
#define X32_SYSCALL_BIT 0x40000000L

static void report(const char *name, long rc)
{
	if (rc >= 0)
		printf("%s=ok\n", name);
	else
		printf("%s=%s\n", name, strerrorname_np(errno));
	fflush(stdout);
}

/* A syscall returning an fd: report it and close the fd. */
static void fd_call(const char *name, long rc)
{
	int e = errno;
	if (rc >= 0)
		close((int)rc);
	errno = e;
	report(name, rc);
}

/* Reap a child a clone-like call made; the child exits at once. */
static long reaped(long rc)
{
	int e = errno;
	if (rc == 0)
		_exit(0);
	if (rc > 0)
		waitpid((pid_t)rc, NULL, __WALL);
	errno = e;
	return rc;
}

static void *thread_main(void *arg)
{
	return arg;
}

int main(void)
{
	pid_t me = getpid();
	int mode;

	/* refused by docker's profile without extra capabilities */
	report("kcmp", syscall(SYS_kcmp, me, me, KCMP_VM, 0, 0));
	report("set_mempolicy", syscall(SYS_set_mempolicy, 0 /* MPOL_DEFAULT */, NULL, 0));
	report("get_mempolicy", syscall(SYS_get_mempolicy, &mode, NULL, 0, NULL, 0));
	report("move_pages", syscall(SYS_move_pages, 0, 0, NULL, NULL, NULL, 0));
	fd_call("fanotify_init", syscall(SYS_fanotify_init, FAN_CLASS_NOTIF | FAN_REPORT_FID, 0));
	fd_call("socket_vsock", syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0));
	fd_call("socket_alg", syscall(SYS_socket, AF_ALG, SOCK_SEQPACKET, 0));
	/* the kernel reads the family as an int: 1<<32 | AF_VSOCK is AF_VSOCK
	 * to it, and more than AF_VSOCK to a 64-bit comparison */
	fd_call("socket_vsock_wide", syscall(SYS_socket, (1L << 32) | AF_VSOCK, SOCK_STREAM, 0));
	report("unshare_user", syscall(SYS_unshare, CLONE_NEWUSER));
	report("mount", syscall(SYS_mount, "none", "/tmp", "tmpfs", 0L, NULL));
	report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	fd_call("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
	fd_call("userfaultfd", syscall(SYS_userfaultfd, 0));
	report("clone_newuser", reaped(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0)));
	report("clone_newns", reaped(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0)));
	report("personality_bad", syscall(SYS_personality, ADDR_NO_RANDOMIZE));

	/* refused as "not implemented", so that libc falls back */
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.exit_signal = SIGCHLD;
	report("clone3", reaped(syscall(SYS_clone3, &ca, sizeof ca)));
	report("file_getattr", syscall(NR_FILE_GETATTR, -1, NULL, NULL, 0, 0));
	report("nr_1000", syscall(1000, 0, 0, 0, 0, 0, 0));

	/* another ABI */
	report("x32_getpid", syscall(X32_SYSCALL_BIT | SYS_getpid));

	/* ordinary calls that must keep working */
	report("getpid", syscall(SYS_getpid));
	report("personality_0", syscall(SYS_personality, 0));
	report("personality_query", syscall(SYS_personality, 0xffffffffUL));
	fd_call("socket_inet", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
	fd_call("socket_unix", syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
	report("clone", reaped(syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0)));
	report("fork", reaped(fork()));
	pthread_t t;
	int e = pthread_create(&t, NULL, thread_main, NULL);
	if (e == 0)
		pthread_join(t, NULL);
	errno = e;
	report("thread", e == 0 ? 0 : -1);
	return 0;
}
