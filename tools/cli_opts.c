/* cli_opts: option-parsing glue shared by the bridgefs command files. */
#include "tools/cli_opts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/objstore.h"
#include "tools/cli.h"
#include "tools/exitcodes.h"
#include "tools/store_open.h"

int cli_common_opt(const char *cmd, int opt, int argc, char **argv)
{
    int level;

    switch (opt) {
    case 'h':
        cli_usage(stdout, cmd);
        return 0;
    case 'v':
        level = log_get_level();
        log_set_level(level < LOGL_INFO ? LOGL_INFO : LOGL_DEBUG);
        return -1;
    case CLI_OPT_LOG_LEVEL:
        level = log_level_parse(optarg);
        if (level < 0) {
            cli_failf(CLI_EXIT_USAGE, cmd, "bad --log-level '%s' (error, warn, info, debug, trace)",
                      optarg);
            return CLI_EXIT_USAGE;
        }
        log_set_level(level);
        return -1;
    case ':':
        cli_failf(CLI_EXIT_USAGE, cmd, "option '%s' needs a value (see bridgefs %s --help)",
                  argv[optind - 1], cmd);
        return CLI_EXIT_USAGE;
    default:
        if (optopt && optopt != '?' && optopt < 256)
            cli_failf(CLI_EXIT_USAGE, cmd, "unknown option '-%c' (see bridgefs %s --help)", optopt,
                      cmd);
        else
            cli_failf(CLI_EXIT_USAGE, cmd, "unknown option '%s' (see bridgefs %s --help)",
                      optind > 0 && optind <= argc ? argv[optind - 1] : "?", cmd);
        return CLI_EXIT_USAGE;
    }
}

int cli_open_fail(const char *cmd, const char *url, int rc, const char *err)
{
    size_t ulen = strlen(url);

    /* url_parse's messages start with the URL already */
    if (strncmp(err, url, ulen) == 0 && err[ulen] == ':' && err[ulen + 1] == ' ')
        err += ulen + 2;
    return cli_failf(rc == -EINVAL ? CLI_EXIT_USAGE : cli_exit_code(rc, OSE_NONE), NULL,
                     "%s %s: %s", cmd, url, err);
}

int cli_refine_not_found(struct cli_store *s, int rc)
{
    const struct os_error *e = os_last_error();
    struct os_error keep;
    bool bare_403;
    int c;

    /* A HEAD answer has no body: 404 may mean "no bucket" and 403 "bad signature". */
    bare_403 = rc == -EACCES && e->kind == OSE_ACCESS_DENIED && e->code[0] == '\0';
    if ((rc != -ENOENT || e->kind == OSE_NO_BUCKET) && !bare_403)
        return rc;
    keep = *e;
    c = s->st->ops->check(s->st->be);
    if (c < 0 && (os_last_error()->kind == OSE_NO_BUCKET ||
                  os_last_error()->kind == OSE_BAD_CREDENTIALS ||
                  (bare_403 && os_last_error()->kind == OSE_ACCESS_DENIED)))
        return c;
    os_error_set(keep.err ? keep.err : rc, keep.kind, keep.http_status, keep.code,
                 keep.request_id, "%s", keep.message);
    return rc;
}
