/* A fork bomb, bounded so the test never harms the host: tries to have N
 * processes alive at once (each child just waits), prints
 * "forked K errno=E" with how many it got and why it stopped. They all
 * die with the container's init. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 3000;
    int k = 0, err = 0;
    for (; k < n; k++) {
        pid_t p = fork();
        if (p < 0) {
            err = errno;
            break;
        }
        if (p == 0) {
            pause();
            _exit(0);
        }
    }
    printf("forked %d errno=%s\n", k, err ? strerror(err) : "none");
    return 0;
}
