/* A container whose processes lie about themselves to whoever lists them
 * from the host (`cairn top`, `cairn stats`):
 *
 *   liar SECONDS
 *
 * re-executes itself with an argv[0] of 64 KiB holding newlines, terminal
 * escapes and text shaped like `ps -ef` lines of other processes ("root 1 0 ...",
 * "root 4242 ..."), names its thread the same way (prctl PR_SET_NAME: comm),
 * prints "ready", then for SECONDS forks children that rename themselves
 * and exit at once, so processes appear and vanish while the host reads
 * /proc and the cgroup. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char LIE[] = "\nroot 1 0 0 00:00 ? 00:00:00 /sbin/init\n"
                          "UID PID PPID C STIME TTY TIME CMD\n"
                          "root 4242 1 0 00:00 ? 00:00:00 \x1b[2J\x1b]0;owned\x07\r\t\x7f";

int main(int argc, char **argv) {
    if (argc == 2) {
        /* first run: become the liar, with a forged argv[0] */
        size_t n = 64 << 10;
        char *big = malloc(n + 1);
        for (size_t i = 0; i < n; i += sizeof LIE - 1)
            memcpy(big + i, LIE, (n - i < sizeof LIE - 1) ? n - i : sizeof LIE - 1);
        big[n] = 0;
        char *args[] = {big, argv[1], "liar", NULL};
        execv("/proc/self/exe", args);
        perror("execv");
        return 1;
    }
    prctl(PR_SET_NAME, "\n1 root\x1b[2J\x07", 0, 0, 0);
    time_t end = time(NULL) + atoi(argv[1]);
    printf("ready\n");
    fflush(stdout);
    unsigned long forks = 0;
    while (time(NULL) < end) {
        pid_t p = fork();
        if (p == 0) {
            prctl(PR_SET_NAME, "\r4242\x1b]0;x\x07", 0, 0, 0);
            _exit(0);
        }
        if (p > 0) {
            forks++;
            waitpid(p, NULL, 0);
        }
    }
    printf("forked %lu\n", forks);
    return 0;
}
