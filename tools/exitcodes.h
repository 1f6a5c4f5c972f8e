/* exitcodes: the exit status of every bridgefs command, and the mapping from errors to it. */
#ifndef BFS_TOOLS_EXITCODES_H
#define BFS_TOOLS_EXITCODES_H

/* Documented in `bridgefs --help` and README.md ("Exit codes"); scripts depend on them. */
enum cli_exit {
    CLI_EXIT_OK = 0,        /* success */
    CLI_EXIT_ERROR = 1,     /* any other error */
    CLI_EXIT_USAGE = 2,     /* usage error, bad URL, missing credentials */
    CLI_EXIT_NOT_FOUND = 3, /* bucket, container or object not found */
    CLI_EXIT_ACCESS = 4,    /* access denied or bad credentials */
    CLI_EXIT_NETWORK = 5,   /* endpoint unreachable, timeout, server errors after all retries */
    CLI_EXIT_ARCHIVED = 6,  /* object archived: restore / rehydrate it first */
    CLI_EXIT_PARTIAL = 7,   /* some items failed (e.g. rm -r) */
    CLI_EXIT_DIFFER = 8,    /* verify: the trees differ */
};

/*
 * Exit status for a failed operation: `err` is the negative errno it returned,
 * `kind` the enum os_errkind of os_last_error() (OSE_NONE when the failure did
 * not come from a backend; then err decides). err == 0 gives CLI_EXIT_OK.
 */
int cli_exit_code(int err, int kind);

#endif
