/* cli_opts: option-parsing glue shared by the bridgefs command files. */
#ifndef BFS_TOOLS_CLI_OPTS_H
#define BFS_TOOLS_CLI_OPTS_H

#include <getopt.h>

struct cli_store;

/* Long-option values shared by every command for -v/--verbose, --log-level, -h/--help. */
enum { CLI_OPT_LOG_LEVEL = 1000, CLI_OPT_HELP = 'h', CLI_OPT_VERBOSE = 'v' };

/* The options every command accepts, to put at the end of a command's table
 * (before the all-zero terminator). */
#define CLI_COMMON_LONGOPTS                                                                  \
    {"help", no_argument, NULL, 'h'}, {"verbose", no_argument, NULL, 'v'},                  \
    {"log-level", required_argument, NULL, CLI_OPT_LOG_LEVEL}

/*
 * Handles an option getopt_long returned that the command does not know itself:
 * -h (prints the command's usage, returns 0 for "exit 0"), -v, --log-level
 * (returns -1: continue), or an unknown option / missing argument (prints a
 * usage error, returns 2). `opt` is getopt's return value.
 */
int cli_common_opt(const char *cmd, int opt, int argc, char **argv);

/* Reports a failure to open a store (bad URL, credentials): prints and returns 2 for
 * -EINVAL, else the mapped exit code. */
int cli_open_fail(const char *cmd, const char *url, int rc, const char *err);

/* When rc is -ENOENT for an object, or a 403 without a service code (a HEAD has no
 * body), asks the backend (check) whether the bucket/container exists and the
 * credentials work, so the message can say "bucket not found" or "bad credentials"
 * instead. Returns the error to report (os_last_error() matches it). */
int cli_refine_not_found(struct cli_store *s, int rc);

#endif
