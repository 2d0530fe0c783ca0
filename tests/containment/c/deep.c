/* Nests directories as deep as asked, which no path could name:
 *
 *   deep DIR N
 *
 * makes DIR, then DIR/d/d/... N levels below it, each by mkdir("d") and
 * chdir("d") relative to the last (no path is longer than "d", so
 * PATH_MAX never stops it), and prints "made N". A host-side walk that
 * recurses once a level runs out of stack on such a tree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: deep DIR N\n");
        return 2;
    }
    if (mkdir(argv[1], 0755) != 0 || chdir(argv[1]) != 0) {
        fprintf(stderr, "deep: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    long n = atol(argv[2]), i;
    for (i = 0; i < n; i++) {
        if (mkdir("d", 0755) != 0 || chdir("d") != 0) {
            fprintf(stderr, "deep: level %ld: %s\n", i + 1, strerror(errno));
            return 1;
        }
    }
    printf("made %ld\n", i);
    return 0;
}
