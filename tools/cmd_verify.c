/* cmd_verify: `bridgefs verify`: options into struct verify_opts, then the verify engine. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/exitcodes.h"
#include "tools/mirror.h"
#include "tools/mirror_int.h"
#include "tools/verify.h"

static const char verify_help[] =
    "usage: bridgefs verify [--checksum|--deep] [--format text|json] [-j N] SRC DST\n"
    "\n"
    "Compares every item of the directory trees SRC and DST (directories, bridgefs mountpoints,\n"
    "or s3:// / az:// URLs, mounted read-only for the run as `bridgefs mirror` does) by type,\n"
    "size and MD5 (symlinks by target). The MD5 of a file is its stored user.bridgefs.md5\n"
    "xattr where it has one, else it is read and hashed. Prints one line per problem, then\n"
    "totals:\n"
    "  missing  PATH                  in SRC, not in DST\n"
    "  extra  PATH                    in DST, not in SRC\n"
    "  different  PATH  (WHY)         size A != B, checksum, type, symlink target\n"
    "  unreadable  PATH  (ERROR)\n"
    "Names are escaped on one line (\\n, \\t, \\\\, \\xNN).\n"
    "\n"
    "  -c, --checksum      compare MD5s (the default; accepted for symmetry with mirror)\n"
    "      --deep          read and hash both sides, ignoring stored MD5s\n"
    "      --format F      text (default) or json: {\"source\", \"target\", \"problems\": [{kind,\n"
    "                      path, type, detail}], \"totals\": {...}, \"match\": BOOL}\n"
    "  -j, --jobs N        files hashed in parallel (default 4)\n"
    "\n"
    "Exit codes: 0 the trees match; 8 they differ (missing, extra or different items);\n"
    "7 only unreadable items; 2 usage or not a directory; 3 SRC or DST not found;\n"
    "4 not readable; 1 other; 130 / 143 interrupted.\n";

const char *verify_help_text(void)
{
    return verify_help;
}

enum { OPT_DEEP = 1000, OPT_FORMAT };

int cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"checksum", no_argument, NULL, 'c'},
        {"deep", no_argument, NULL, OPT_DEEP},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"jobs", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct verify_opts o = {0};
    struct mirror_mounts *mounts = NULL;
    int code;
    char *end;
    long v;
    int opt;

    o.jobs = 4;
    optind = 0;
    opterr = 0;
    for (;;) {
        opt = getopt_long(argc, argv, ":cj:h", longopts, NULL);
        if (opt == -1)
            break;
        switch (opt) {
        case 'c':
            break;
        case OPT_DEEP:
            o.deep = true;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "text") == 0)
                o.format = VERIFY_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o.format = VERIFY_JSON;
            else
                return cli_failf(CLI_EXIT_USAGE, "verify", "bad --format '%s' (text or json)",
                                 optarg);
            break;
        case 'j':
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 1 || v > 256)
                return cli_failf(CLI_EXIT_USAGE, "verify", "bad --jobs '%s' (1 to 256)", optarg);
            o.jobs = (int)v;
            break;
        case 'h':
            fputs(verify_help, stdout);
            return CLI_EXIT_OK;
        case ':':
            return cli_failf(CLI_EXIT_USAGE, "verify", "option '%s' needs a value",
                             argv[optind - 1]);
        default:
            return cli_failf(CLI_EXIT_USAGE, "verify",
                             "unknown option '%s' (see bridgefs verify --help)", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_failf(CLI_EXIT_USAGE, "verify",
                         "expected SRC and DST (see bridgefs verify "
                         "--help)");
    mirror_signals_install(); /* so every private mount is unmounted on the way out */
    code = mirror_mounts_open("verify", argv[optind], argv[optind + 1], true, true, &mounts);
    if (code < 0 && mounts) {
        o.src = mirror_mounts_path(mounts, 0);
        o.dst = mirror_mounts_path(mounts, 1);
        o.src_name = mirror_is_url(argv[optind]) ? argv[optind] : NULL;
        o.dst_name = mirror_is_url(argv[optind + 1]) ? argv[optind + 1] : NULL;
        code = verify_run(&o);
    }
    mirror_mounts_close(mounts);
    if (code < 128 && mirror_canceled())
        code = 128 + mirror_canceled();
    mirror_signals_restore();
    return code;
}
