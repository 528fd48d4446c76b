/*
 * fhirgate — the admin CLI.  Dispatches to one function per command.
 */
#include <stdio.h>
#include <string.h>

#include "gateway/cli/cli.h"

/* Keep sorted by name; one line per command. */
static const struct cli_cmd commands[] = {
    {"audit", "verify, archive and report on the audit trail", cli_cmd_audit},
    {"client", "register SMART apps (add-app, list, disable-app, enable-app)", cli_cmd_client},
    {"convert", "convert HL7 v2, CDA, CSV, DICOM JSON or FHIR files to FHIR", cli_cmd_convert},
    {"demo-data", "generate the demo region's data from a seed", cli_cmd_demo_data},
    {"demo-feed", "send HL7 v2 messages over MLLP, then live results", cli_cmd_demo_feed},
    {"member", "manage member hospitals (add, list, approve, disable, enable)", cli_cmd_member},
    {"mpi", "work the patient index (reviews, merge, unmerge, split, history)", cli_cmd_mpi},
    {"migrate", "apply the database schema migrations", cli_cmd_migrate},
    {"user", "manage portal users (add, bootstrap the first admin, list, disable, …)",
     cli_cmd_user},
    {"validate", "validate FHIR R4 resources against the R4 definitions", cli_cmd_validate},
    {"version", "print the version", cli_cmd_version},
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: fhirgate COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`fhirgate COMMAND --help` describes a command.\n");
}

int
cli_cmd_version(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: fhirgate version\n");
        return CLI_OK;
    }
    printf("fhirgate 0.1.0 (FHIR R4 4.0.1)\n");
    return CLI_OK;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "fhirgate: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
