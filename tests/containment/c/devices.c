/* A hostile container with CAP_MKNOD makes device nodes for host devices
 * and opens them. For each "NAME TYPE MAJOR MINOR" argument it prints
 * "NAME mknod=E open=E" where E is "ok" or the errno name.
 * docker's default device policy allows mknod of anything but opening
 * only null, zero, full, random, urandom, tty, console, ptmx and pts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *err(int e) {
    switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case ENXIO: return "ENXIO";
    case ENODEV: return "ENODEV";
    case EEXIST: return "EEXIST";
    case EIO: return "EIO";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    default: return strerror(e);
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i + 3 < argc; i += 4) {
        const char *name = argv[i];
        mode_t type = argv[i + 1][0] == 'b' ? S_IFBLK : S_IFCHR;
        dev_t dev = makedev(atoi(argv[i + 2]), atoi(argv[i + 3]));
        char path[256];
        snprintf(path, sizeof path, "/tmp/dev-%s", name);
        unlink(path);
        int mk = mknod(path, type | 0666, dev) == 0 ? 0 : errno;
        int op = ENOENT;
        if (mk == 0) {
            int fd = open(path, O_RDWR | O_NONBLOCK | O_NOCTTY);
            op = fd >= 0 ? 0 : errno;
            if (fd >= 0)
                close(fd);
        }
        printf("%s mknod=%s open=%s\n", name, err(mk), err(op));
    }
    return 0;
}
