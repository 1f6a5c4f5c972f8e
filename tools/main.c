/* main: the bridgefs command: global options, then one subcommand. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "core/http.h"
#include "core/log.h"
#include "tools/cli.h"
#include "tools/cmd_mount.h"
#include "tools/mirror.h"
#include "tools/exitcodes.h"

#ifndef BRIDGEFS_VERSION
#define BRIDGEFS_VERSION "0.1.0"
#endif

enum { OPT_LOG_LEVEL = 1000, OPT_VERSION };

struct command {
    const char *name;
    int (*run)(const struct cli_ctx *c, int argc, char **argv);
};

static int run_mirror(const struct cli_ctx *c, int argc, char **argv)
{
    (void)c;
    return cmd_mirror(argc, argv);
}

static int run_verify(const struct cli_ctx *c, int argc, char **argv)
{
    (void)c;
    return cmd_verify(argc, argv);
}

static const struct command commands[] = {
    {"ls", cli_cmd_ls},   {"stat", cli_cmd_stat}, {"cat", cli_cmd_cat},
    {"put", cli_cmd_put}, {"rm", cli_cmd_rm},     {"mb", cli_cmd_mb},
    {"mount", cli_cmd_mount}, {"umount", cli_cmd_umount},
    {"mirror", run_mirror},   {"verify", run_verify},
};

/* Parses the global options (up to the command). Returns -1 to go on, else an exit code. */
static int global_opts(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"verbose", no_argument, NULL, 'v'},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int verbose = 0, opt, level;

    opterr = 0;
    for (;;) {
        opt = getopt_long(argc, argv, "+:vh", longopts, NULL);
        if (opt == -1)
            break;
        switch (opt) {
        case 'v':
            verbose++;
            log_set_level(verbose == 1 ? LOGL_INFO : LOGL_DEBUG);
            break;
        case OPT_LOG_LEVEL:
            level = log_level_parse(optarg);
            if (level < 0)
                return cli_failf(CLI_EXIT_USAGE, NULL,
                                 "bad --log-level '%s' (error, warn, info, debug, trace)", optarg);
            log_set_level(level);
            break;
        case 'h':
            cli_usage(stdout, NULL);
            return CLI_EXIT_OK;
        case OPT_VERSION:
            printf("bridgefs %s\n", BRIDGEFS_VERSION);
            return CLI_EXIT_OK;
        case ':':
            return cli_failf(CLI_EXIT_USAGE, NULL, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_failf(CLI_EXIT_USAGE, NULL, "unknown option '%s' (see bridgefs --help)",
                             argv[optind - 1]);
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct http_config hcfg;
    struct cli_ctx ctx = {0};
    const struct command *cmd = NULL;
    int rc;

    signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as EPIPE from write() */
    rc = global_opts(argc, argv);
    if (rc >= 0)
        return rc;
    if (optind >= argc) {
        cli_usage(stderr, NULL);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, argv[optind]) == 0)
            cmd = &commands[i];
    }
    if (!cmd) {
        if (strcmp(argv[optind], "help") == 0) {
            cli_usage(stdout, optind + 1 < argc ? argv[optind + 1] : NULL);
            return CLI_EXIT_OK;
        }
        return cli_failf(CLI_EXIT_USAGE, NULL, "unknown command '%s' (see bridgefs --help)",
                         argv[optind]);
    }
    http_config_defaults(&hcfg);
    ctx.hc = http_client_new(&hcfg);
    if (!ctx.hc)
        return cli_failf(CLI_EXIT_ERROR, cmd->name, "cannot start the HTTP client");
    rc = cmd->run(&ctx, argc - optind, argv + optind);
    if (fflush(stdout) != 0 && rc == CLI_EXIT_OK)
        rc = CLI_EXIT_ERROR;
    http_client_free(ctx.hc);
    return rc;
}
