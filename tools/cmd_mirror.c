/* cmd_mirror: `bridgefs mirror`: options into struct mirror_opts, then the mirror engine. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tools/cli.h"
#include "tools/exitcodes.h"
#include "tools/joblog.h"
#include "tools/mirror.h"
#include "tools/mirror_int.h"

static const char mirror_help[] =
    "usage: bridgefs mirror [OPTIONS] SRC DST\n"
    "\n"
    "Copies the directory tree SRC onto DST (directories, bridgefs mountpoints, or URLs such\n"
    "as s3://bucket/prefix and az://container/prefix, which are mounted privately for the run:\n"
    "SRC read-only, under $TMPDIR or /tmp with a temporary cache, and unmounted at the end,\n"
    "after the uploads, also on errors and on SIGINT / SIGTERM; a mount that fails gives its\n"
    "message and exit code, e.g. 3 for a missing bucket, 4 for bad credentials). Items new\n"
    "or changed in SRC are copied; unchanged items are skipped (same size and mtime, to within\n"
    "one second). Copies keep mtime, mode bits, user.* xattrs (not user.bridgefs.*) and\n"
    "symlinks. A file appears on DST only when complete (temp name, then rename; on a bridgefs\n"
    "mount the upload becomes visible at close). Deletes happen after every copy, and never\n"
    "when a source directory could not be read. Re-running an interrupted job finishes it.\n"
    "\n"
    "  --mode merge|mirror   merge (default): items only in DST are kept; mirror: they are\n"
    "                        deleted (DST becomes identical to SRC). Merge is the default so\n"
    "                        that nothing is ever deleted unless asked for.\n"
    "  -c, --checksum        same size files are compared by MD5 (stored user.bridgefs.md5\n"
    "                        when both sides have it, else by reading), not by mtime\n"
    "      --size-only       compare sizes only\n"
    "  -n, --dry-run         print what would be copied (copy, mkdir) and deleted (delete);\n"
    "                        change nothing, write no job log\n"
    "      --max-delete N    refuse to delete more than N items (then delete none; exit 7)\n"
    "      --include GLOB    include / exclude relative paths, first matching rule wins\n"
    "      --exclude GLOB    (repeatable; GLOB without '/' matches a name at any depth, with\n"
    "                        '/' the whole path; a trailing '/' only matches directories;\n"
    "                        '**' crosses directories). Excluded items in DST are never deleted.\n"
    "  -j, --jobs N          parallel copies (default 4)\n"
    "      --progress        show progress (default when stderr is a terminal: in place;\n"
    "                        otherwise a line every 5 s)\n"
    "      --no-progress     no progress display\n"
    "      --log-dir DIR     job logs (default $XDG_STATE_HOME/bridgefs/jobs, else\n"
    "                        ~/.local/state/bridgefs/jobs): ID.copylog.jsonl, one JSON line per\n"
    "                        item, and ID.summary.json\n"
    "      --job-id ID       the run id (default: UTC time and a random suffix)\n"
    "\n"
    "Archived source objects (S3 GLACIER / DEEP_ARCHIVE not restored, Azure Archive tier, as\n"
    "user.bridgefs.storage_class shows on a mount) are not copied: they are logged as\n"
    "Unsupported, \"archived (TIER tier): restore / rehydrate it first\", and counted in the\n"
    "summary's itemsUnsupported; like other Unsupported items they do not fail the run.\n"
    "\n"
    "Exit codes: 0 every item succeeded (or was Unsupported: archived objects, fifos, ...);\n"
    "7 some items failed or deletes were refused;\n"
    "2 usage (also SRC and DST overlapping); 3 SRC not found; 4 SRC not readable; 1 other;\n"
    "130 / 143 interrupted by SIGINT / SIGTERM (the summary says Canceled).\n";

const char *mirror_help_text(void)
{
    return mirror_help;
}

enum {
    OPT_MODE = 1000,
    OPT_SIZE_ONLY,
    OPT_MAX_DELETE,
    OPT_INCLUDE,
    OPT_EXCLUDE,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_LOG_DIR,
    OPT_JOB_ID,
};

/* Parses a non-negative integer; 0 or -EINVAL. */
static int parse_count(const char *s, long long max, long long *out)
{
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < 0 || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int cmd_mirror(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, OPT_MODE},
        {"checksum", no_argument, NULL, 'c'},
        {"size-only", no_argument, NULL, OPT_SIZE_ONLY},
        {"dry-run", no_argument, NULL, 'n'},
        {"max-delete", required_argument, NULL, OPT_MAX_DELETE},
        {"include", required_argument, NULL, OPT_INCLUDE},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"jobs", required_argument, NULL, 'j'},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"log-dir", required_argument, NULL, OPT_LOG_DIR},
        {"job-id", required_argument, NULL, OPT_JOB_ID},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct mirror_opts o = {0};
    struct mirror_filter *filter = mirror_filter_new();
    struct mirror_mounts *mounts = NULL;
    const char *why = NULL;
    struct buf flags;
    long long v;
    int opt, code = -1;

    buf_init(&flags, 4096);
    o.max_delete = -1;
    o.jobs = 4;
    o.progress = -1;
    if (!filter)
        return cli_failf(CLI_EXIT_ERROR, "mirror", "out of memory");
    optind = 0;
    opterr = 0;
    for (;;) {
        opt = getopt_long(argc, argv, ":cnj:h", longopts, NULL);
        if (opt == -1)
            break;
        switch (opt) {
        case OPT_MODE:
            if (strcmp(optarg, "merge") == 0)
                o.mode = MIRROR_MODE_MERGE;
            else if (strcmp(optarg, "mirror") == 0)
                o.mode = MIRROR_MODE_MIRROR;
            else
                code = cli_failf(CLI_EXIT_USAGE, "mirror", "bad --mode '%s' (merge or mirror)",
                                 optarg);
            break;
        case 'c':
            o.compare = MIRROR_CMP_CHECKSUM;
            break;
        case OPT_SIZE_ONLY:
            o.compare = MIRROR_CMP_SIZE;
            break;
        case 'n':
            o.dry_run = true;
            break;
        case OPT_MAX_DELETE:
            if (parse_count(optarg, INT64_MAX, &v) < 0)
                code = cli_failf(CLI_EXIT_USAGE, "mirror", "bad --max-delete '%s'", optarg);
            else
                o.max_delete = v;
            break;
        case OPT_INCLUDE:
        case OPT_EXCLUDE:
            if (mirror_filter_add(filter, opt == OPT_INCLUDE, optarg) < 0)
                code = cli_failf(CLI_EXIT_USAGE, "mirror", "bad pattern '%s'", optarg);
            break;
        case 'j':
            if (parse_count(optarg, 256, &v) < 0 || v < 1)
                code = cli_failf(CLI_EXIT_USAGE, "mirror", "bad --jobs '%s' (1 to 256)", optarg);
            else
                o.jobs = (int)v;
            break;
        case OPT_PROGRESS:
            o.progress = 1;
            break;
        case OPT_NO_PROGRESS:
            o.progress = 0;
            break;
        case OPT_LOG_DIR:
            o.log_dir = optarg;
            break;
        case OPT_JOB_ID:
            if (!joblog_id_valid(optarg))
                code = cli_failf(CLI_EXIT_USAGE, "mirror",
                                 "bad --job-id '%s' (1-64 of A-Z a-z 0-9 . _ -)", optarg);
            else
                o.job_id = optarg;
            break;
        case 'h':
            fputs(mirror_help, stdout);
            code = CLI_EXIT_OK;
            break;
        case ':':
            code =
                cli_failf(CLI_EXIT_USAGE, "mirror", "option '%s' needs a value", argv[optind - 1]);
            break;
        default:
            code = cli_failf(CLI_EXIT_USAGE, "mirror",
                             "unknown option '%s' (see bridgefs mirror --help)", argv[optind - 1]);
            break;
        }
        if (code >= 0)
            goto out;
    }
    if (argc - optind != 2) {
        code = cli_failf(CLI_EXIT_USAGE, "mirror",
                         "expected SRC and DST (see bridgefs mirror "
                         "--help)");
        goto out;
    }
    if (mirror_check_url_overlap(argv[optind], argv[optind + 1], &why) < 0) {
        code = cli_failf(CLI_EXIT_USAGE, "mirror", "refusing to run: %s (%s, %s)", why,
                         argv[optind], argv[optind + 1]);
        goto out;
    }
    for (int i = 1; i < optind; i++) /* getopt moved the options before SRC and DST */
        if (buf_appends(&flags, i > 1 ? " " : "") < 0 || buf_appends(&flags, argv[i]) < 0)
            break;
    o.flags = buf_str(&flags);
    o.filter = filter;
    /* SIGINT/SIGTERM only set the cancel flag from here on, so every private mount is
     * unmounted on the way out */
    mirror_signals_install();
    code = mirror_mounts_open("mirror", argv[optind], argv[optind + 1], true, o.dry_run, &mounts);
    if (code < 0 && mounts) {
        o.src = mirror_mounts_path(mounts, 0);
        o.dst = mirror_mounts_path(mounts, 1);
        o.src_name = mirror_is_url(argv[optind]) ? argv[optind] : NULL;
        o.dst_name = mirror_is_url(argv[optind + 1]) ? argv[optind + 1] : NULL;
        code = mirror_run(&o);
    }
    mirror_mounts_close(mounts);
    if (code < 128 && mirror_canceled())
        code = 128 + mirror_canceled();
    mirror_signals_restore();
out:
    mirror_filter_free(filter);
    buf_free(&flags);
    return code;
}
