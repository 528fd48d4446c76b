/* The daemons' shared command line and signal set (see daemon.h). */
#include "fhir/base/daemon.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void
usage(FILE *f, const char *prog, const char *example)
{
    fprintf(f,
            "usage: %s --config FILE [--check-config]\n"
            "  --config FILE    the configuration (see %s)\n"
            "  --check-config   validate FILE and exit (0 valid, 1 invalid)\n",
            prog, example);
}

int
base_daemon_args(int argc, char **argv, const char *prog, const char *example, const char **config,
                 bool *check)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            *config = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            *config = argv[i] + 9;
        } else if (strcmp(argv[i], "--check-config") == 0) {
            *check = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, prog, example);
            return 0;
        } else {
            fprintf(stderr, "%s: unknown or incomplete option %s\n", prog, argv[i]);
            usage(stderr, prog, example);
            return 2;
        }
    }
    if (*config == NULL) {
        usage(stderr, prog, example);
        return 2;
    }
    return -1;
}

void
base_daemon_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}
