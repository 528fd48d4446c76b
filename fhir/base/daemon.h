/*
 * fhir/base/daemon.h — what the two daemons' main() share: the command line
 * `PROG --config FILE [--check-config]` and the signal set they sigwait() on.
 */
#ifndef FHIR_BASE_DAEMON_H
#define FHIR_BASE_DAEMON_H

#include <signal.h>
#include <stdbool.h>

/*
 * Parse `--config FILE` (or `--config=FILE`), `--check-config` and
 * `--help`.  `example` names the documented example configuration for the
 * usage text.  Returns -1 to go on (*config set), 0 after printing the help,
 * 2 for a usage error (printed on stderr, naming the option).
 */
int base_daemon_args(int argc, char **argv, const char *prog, const char *example,
                     const char **config, bool *check);

/*
 * Block SIGTERM and SIGINT in the calling thread — every thread started
 * later inherits the mask, so only main's sigwait() takes them — and ignore
 * SIGPIPE (a peer that closed is an error return, not a death).
 */
void base_daemon_block_signals(sigset_t *set);

#endif /* FHIR_BASE_DAEMON_H */
