/*
 * gateway/cli/cli.h — the `fhirgate` admin CLI: one file per command
 * (cmd_<name>.c) exporting `int cli_cmd_<name>(int argc, char **argv)`,
 * listed in the table in main.c.
 *
 * Conventions every command follows:
 *   - argv[0] is the command name; `--help` prints usage to stdout, exit 0;
 *   - exit 0 success, 1 the work failed (invalid input, unreachable
 *     database), 2 usage error (message names the bad option);
 *   - problems with input files are printed one per line on stderr as
 *     "FILE: LOCATION: severity: message" (LOCATION is a FHIRPath-like
 *     path, "line N, column M", "PID-5[2].1", …);
 *   - commands that need the database take --database URL or the
 *     environment variable FHIRGATE_DATABASE_URL (a postgresql:// URL).
 */
#ifndef GATEWAY_CLI_CLI_H
#define GATEWAY_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

enum cli_exit {
    CLI_OK = 0,
    CLI_FAILED = 1,
    CLI_USAGE = 2
};

typedef int (*cli_cmd_fn)(int argc, char **argv);

struct cli_cmd {
    const char *name;    /* "validate" */
    const char *summary; /* one line for `fhirgate --help` */
    cli_cmd_fn run;
};

/* Is argv[i] "--help" or "-h" for any i >= 1? */
bool cli_wants_help(int argc, char **argv);

/* Read a whole file ("-" = stdin) into a heap buffer (base_malloc; release
 * with base_free).  Returns NULL and prints "FILE: could not read: reason"
 * on failure.  `max` bounds the size (0 = 256 MiB). */
char *cli_read_file(const char *path, size_t max, size_t *out_len);

/* The database URL from --database or FHIRGATE_DATABASE_URL, or NULL. */
const char *cli_database_url(const char *flag_value);

int cli_cmd_audit(int argc, char **argv);
int cli_cmd_client(int argc, char **argv);
int cli_cmd_convert(int argc, char **argv);
int cli_cmd_demo_data(int argc, char **argv);
int cli_cmd_demo_feed(int argc, char **argv);
int cli_cmd_member(int argc, char **argv);
int cli_cmd_mpi(int argc, char **argv);
int cli_cmd_migrate(int argc, char **argv);
int cli_cmd_user(int argc, char **argv);
int cli_cmd_validate(int argc, char **argv);
int cli_cmd_version(int argc, char **argv);

#endif /* GATEWAY_CLI_CLI_H */
