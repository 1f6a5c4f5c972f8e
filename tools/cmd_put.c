/* cmd_put: `bridgefs put FILE|- URL`, one PUT for small files, a streaming parallel upload otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/objstore.h"
#include "tools/cli.h"
#include "tools/cli_opts.h"
#include "tools/exitcodes.h"
#include "tools/store_open.h"
#include "tools/upload.h"

#define PUT_MAX_META 64

enum { OPT_CONTENT_TYPE = 2000, OPT_META, OPT_MTIME, OPT_PART_SIZE };

struct put_args {
    const char *content_type;
    struct os_meta meta[PUT_MAX_META]; /* owned strings */
    size_t n_meta;
    struct timespec mtime;
    bool has_mtime;
    uint64_t part_size;
    const char *file;
    const char *url;
};

static void put_args_free(struct put_args *a)
{
    for (size_t i = 0; i < a->n_meta; i++) {
        free(a->meta[i].key);
        free(a->meta[i].value);
    }
    a->n_meta = 0;
}

/* Returns -1 to go on, else an exit code. */
static int parse_args(int argc, char **argv, struct put_args *a)
{
    static const struct option longopts[] = {
        {"content-type", required_argument, NULL, OPT_CONTENT_TYPE},
        {"meta", required_argument, NULL, OPT_META},
        {"mtime", required_argument, NULL, OPT_MTIME},
        {"part-size", required_argument, NULL, OPT_PART_SIZE},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int opt, rc;

    optind = 0;
    opterr = 0;
    for (;;) {
        opt = getopt_long(argc, argv, ":hv", longopts, NULL);
        if (opt == -1)
            break;
        switch (opt) {
        case OPT_CONTENT_TYPE:
            a->content_type = optarg;
            break;
        case OPT_META:
            if (a->n_meta == PUT_MAX_META)
                return cli_failf(CLI_EXIT_USAGE, "put", "at most %d --meta options",
                                 PUT_MAX_META);
            rc = cli_parse_meta(optarg, &a->meta[a->n_meta].key, &a->meta[a->n_meta].value);
            if (rc < 0)
                return cli_failf(CLI_EXIT_USAGE, "put",
                                 "bad --meta '%s': use KEY=VALUE, KEY of letters, digits, '-', '_'",
                                 optarg);
            a->n_meta++;
            break;
        case OPT_MTIME:
            if (cli_parse_epoch(optarg, &a->mtime) < 0)
                return cli_failf(CLI_EXIT_USAGE, "put",
                                 "bad --mtime '%s': seconds since 1970 (e.g. 1714979289)", optarg);
            a->has_mtime = true;
            break;
        case OPT_PART_SIZE:
            if (cli_parse_size(optarg, &a->part_size) < 0 || a->part_size > (1ull << 32))
                return cli_failf(CLI_EXIT_USAGE, "put",
                                 "bad --part-size '%s': bytes, with K, M or G (at most 4G)",
                                 optarg);
            break;
        default:
            rc = cli_common_opt("put", opt, argc, argv);
            if (rc >= 0)
                return rc;
            break;
        }
    }
    if (argc - optind != 2)
        return cli_failf(CLI_EXIT_USAGE, "put", "expects FILE (or -) and URL (see bridgefs put --help)");
    a->file = argv[optind];
    a->url = argv[optind + 1];
    return -1;
}

int cli_cmd_put(const struct cli_ctx *c, int argc, char **argv)
{
    struct put_args a;
    struct cli_store s;
    struct os_put_opts o = {0};
    struct upload_params up = {0};
    struct stat sb;
    char err[512];
    char *key = NULL;
    bool from_stdin;
    int fd = -1, rc;

    memset(&a, 0, sizeof(a));
    memset(&s, 0, sizeof(s));
    rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        goto out_args;
    from_stdin = strcmp(a.file, "-") == 0;
    if (from_stdin) {
        fd = STDIN_FILENO;
    } else {
        fd = open(a.file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = cli_failf(CLI_EXIT_ERROR, "put",
                           "%s: %s", a.file, strerror(errno));
            goto out_args;
        }
    }
    if (fstat(fd, &sb) < 0) {
        rc = cli_failf(CLI_EXIT_ERROR, "put", "%s: %s", a.file, strerror(errno));
        goto out;
    }
    if (S_ISDIR(sb.st_mode)) {
        rc = cli_failf(CLI_EXIT_USAGE, "put", "%s is a directory (put uploads one file)", a.file);
        goto out;
    }
    rc = store_open(c->hc, a.url, &s, err, sizeof(err));
    if (rc < 0) {
        rc = cli_open_fail("put", a.url, rc, err);
        goto out;
    }
    rc = cli_put_key(s.url.prefix ? s.url.prefix : "", a.file, &key);
    if (rc == -EINVAL) {
        rc = cli_failf(CLI_EXIT_USAGE, "put", "%s: the URL needs an object name when reading %s",
                       a.url, from_stdin ? "stdin" : a.file);
        goto out;
    } else if (rc < 0) {
        rc = cli_failf(CLI_EXIT_ERROR, "put", "out of memory");
        goto out;
    }

    o.content_type = a.content_type;
    o.meta = a.meta;
    o.n_meta = a.n_meta;
    if (a.has_mtime)
        o.mtime = &a.mtime;
    else if (S_ISREG(sb.st_mode))
        o.mtime = &sb.st_mtim;
    up.size = S_ISREG(sb.st_mode) ? (int64_t)sb.st_size : -1;
    up.part_size = (size_t)a.part_size;
    up.parallel = UPLOAD_DEFAULT_PARALLEL;
    rc = upload_fd(s.st, key, fd, &up, &o, NULL);
    if (rc < 0) {
        char *shown = NULL;
        /* name the object the user will look for (URL + file name when it was added) */
        if (s.st && s.st->url_base) {
            size_t n = strlen(s.st->url_base) + strlen(key) + 2;
            shown = malloc(n);
            if (shown)
                snprintf(shown, n, "%s/%s", s.st->url_base, key);
        }
        rc = cli_fail("put", shown ? shown : a.url, &s, rc);
        free(shown);
        goto out;
    }
    rc = CLI_EXIT_OK;
out:
    if (fd >= 0 && fd != STDIN_FILENO)
        close(fd);
    free(key);
    store_close(&s);
out_args:
    put_args_free(&a);
    return rc;
}
