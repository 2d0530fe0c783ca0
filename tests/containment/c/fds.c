/* What a process started in a container holds of the host: its open fds
 * and its working directory (runc's CVE-2016-9962 and CVE-2024-21626, "leaky
 * vessels": an fd of the host's, or a host directory as the cwd, is a way
 * out of the root).
 *
 *   fds [OUT]
 *
 * prints "cwd PATH", then "fd N PATH" for each open descriptor (read from
 * /proc/self/fd/N, none opened to list them), then "ls NAME" for each entry
 * of the working directory, to OUT (opened only after the fds are listed)
 * or to stdout. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char out[1 << 16];
static size_t len;

static void add(const char *what, long n, const char *path) {
    int w = n < 0 ? snprintf(out + len, sizeof out - len, "%s %s\n", what, path)
                  : snprintf(out + len, sizeof out - len, "%s %ld %s\n", what, n, path);
    if (w > 0 && len + w < sizeof out)
        len += w;
}

int main(int argc, char **argv) {
    char link[64], path[4096];
    ssize_t n = readlink("/proc/self/cwd", path, sizeof path - 1);
    path[n < 0 ? 0 : n] = 0;
    add("cwd", -1, n < 0 ? "?" : path);
    for (int fd = 0; fd < 4096; fd++) {
        if (fcntl(fd, F_GETFD) < 0)
            continue;
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof path - 1);
        path[n < 0 ? 0 : n] = 0;
        add("fd", fd, n < 0 ? "?" : path);
    }
    DIR *d = opendir(".");
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            add("ls", -1, e->d_name);
    FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
    if (!f)
        return 1;
    fwrite(out, 1, len, f);
    return fclose(f) != 0;
}
