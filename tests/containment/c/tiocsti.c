/* A container pushes a command into the terminal of whoever ran it: with
 * TIOCSTI every byte lands in the terminal's input queue, and the caller's
 * shell runs it after the container exits. Tries fds 0-2 and /dev/tty.
 * Prints "NAME=ok|ERRNO" for each, and "tty0=..." whether fd 0-2 are
 * terminals at all. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *inject(int fd, const char *cmd) {
    for (const char *c = cmd; *c; c++)
        if (ioctl(fd, TIOCSTI, c) < 0)
            return strerror(errno);
    return "ok";
}

int main(int argc, char **argv) {
    const char *cmd = argc > 1 ? argv[1] : "echo INJECTED\n";
    char line[4096];
    snprintf(line, sizeof line, "%s\n", cmd);
    for (int fd = 0; fd < 3; fd++)
        printf("tty%d=%s ", fd, isatty(fd) ? "yes" : "no");
    for (int fd = 0; fd < 3; fd++)
        printf("fd%d=%s ", fd, inject(fd, line));
    int t = open("/dev/tty", O_RDWR | O_NOCTTY);
    printf("devtty=%s\n", t < 0 ? strerror(errno) : inject(t, line));
    return 0;
}
