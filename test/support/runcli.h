/*
 * test/support/runcli.h — run a built program (bin/fhirgate ...) and capture
 * its exit status, stdout and stderr.
 */
#ifndef TEST_SUPPORT_RUNCLI_H
#define TEST_SUPPORT_RUNCLI_H

#include <stddef.h>

struct tu_run {
    int status; /* exit status, or -1 when it did not exit normally */
    char *out;  /* stdout, NUL-terminated (malloc'd) */
    size_t out_len;
    char *err; /* stderr, NUL-terminated (malloc'd) */
    size_t err_len;
};

/* Run argv (argv[0] a path, argv NULL-terminated); 0 on success. */
int tu_run(const char *const argv[], struct tu_run *r);
void tu_run_free(struct tu_run *r);

#endif /* TEST_SUPPORT_RUNCLI_H */
