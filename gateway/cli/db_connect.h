/*
 * gateway/cli/db_connect.h — option parsing and database connection shared
 * by the commands that need the database (migrate, audit).
 */
#ifndef GATEWAY_CLI_DB_CONNECT_H
#define GATEWAY_CLI_DB_CONNECT_H

#include <stdbool.h>
#include <stddef.h>

struct gw_db_conn;

/*
 * If argv[*i] is `--name VALUE` or `--name=VALUE`, store VALUE in *out,
 * advance *i past it and return 1; return 0 when argv[*i] is another
 * option; -1 (message printed, prefixed with `cmd`) when the value is
 * missing.
 */
int cli_take_opt(const char *cmd, int argc, char **argv, int *i, const char *name,
                 const char **out);

/*
 * cli_take_opt for each of `names` (n of them, values into *slots[k]):
 * 1 when argv[*i] was one of them, 0 when it is a plain argument, -1
 * (message printed) for a missing value or any other option.
 */
int cli_take_opts(const char *cmd, int argc, char **argv, int *i, const char *const *names,
                  const char **const *slots, size_t n);

/*
 * The positional words of `fhirgate CMD SUB [ID]`: the first `arg` is the
 * subcommand, the second the id.  False (message printed) for a third.
 */
bool cli_take_sub_id(const char *cmd, const char *arg, const char **sub, const char **id);

/*
 * Connect for an admin command: --database URL, else FHIRGATE_DATABASE_URL,
 * else the embedded cluster of --state-dir (started when needed; its
 * superuser URL).  Prints the problem on stderr (never the URL) and returns
 * NULL on failure.  Close with gw_db_conn_free().
 */
struct gw_db_conn *cli_db_connect(const char *cmd, const char *database, const char *state_dir);

#endif /* GATEWAY_CLI_DB_CONNECT_H */
