/* cmd_obj: the single-object commands `stat`, `cat` and the bucket command `mb`. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/objstore.h"
#include "tools/cli.h"
#include "tools/cli_opts.h"
#include "tools/exitcodes.h"
#include "tools/store_open.h"

/* Opens argv's one URL and checks it names an object (a non-empty key). */
static int open_object(const struct cli_ctx *c, const char *cmd, const char *url,
                       struct cli_store *s)
{
    char err[512];
    int rc = store_open(c->hc, url, s, err, sizeof(err));

    if (rc < 0)
        return cli_open_fail(cmd, url, rc, err);
    if (!s->url.prefix || !s->url.prefix[0]) {
        bool az = s->url.kind == URL_AZ;
        store_close(s);
        return cli_failf(CLI_EXIT_USAGE, cmd, "%s: the URL names a %s, not an object", url,
                         az ? "container" : "bucket");
    }
    return CLI_EXIT_OK;
}

static void print_stat(const char *url, const struct os_info *i)
{
    char t[48], hex[2 * CRYPTO_MD5_LEN + 1];

    printf("url: %s\n", url);
    printf("size: %lld\n", (long long)i->size);
    cli_format_time(&i->mtime, true, t, sizeof(t));
    printf("mtime: %s\n", t);
    cli_format_time(&i->last_modified, true, t, sizeof(t));
    printf("last_modified: %s\n", t);
    printf("etag: %s\n", i->etag && i->etag[0] ? i->etag : "-");
    if (i->has_md5)
        crypto_hex(i->md5, CRYPTO_MD5_LEN, hex);
    printf("md5: %s\n", i->has_md5 ? hex : "-");
    printf("content_type: %s\n", i->content_type && i->content_type[0] ? i->content_type : "-");
    printf("storage_class: %s\n", i->storage_class && i->storage_class[0] ? i->storage_class : "-");
    printf("archived: %s\n", i->archived ? "yes" : "no");
    printf("dir_marker: %s\n", i->is_dir_marker ? "yes" : "no");
    for (size_t k = 0; k < i->n_meta; k++)
        printf("meta.%s: %s\n", i->meta[k].key, i->meta[k].value ? i->meta[k].value : "");
}

/* Parses only the common options; returns -1 to go on, else an exit code. */
static int common_only(const char *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
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
        rc = cli_common_opt(cmd, opt, argc, argv);
        if (rc >= 0)
            return rc;
    }
    return -1;
}

int cli_cmd_stat(const struct cli_ctx *c, int argc, char **argv)
{
    struct cli_store s;
    struct os_info info = {0};
    int rc;

    rc = common_only("stat", argc, argv);
    if (rc >= 0)
        return rc;
    if (argc - optind != 1)
        return cli_failf(CLI_EXIT_USAGE, "stat", "expects one URL (see bridgefs stat --help)");
    rc = open_object(c, "stat", argv[optind], &s);
    if (rc != CLI_EXIT_OK)
        return rc;
    rc = s.st->ops->head(s.st->be, s.url.prefix, &info);
    if (rc == -ENOENT && s.url.prefix[strlen(s.url.prefix) - 1] != '/') {
        /* "dir" may name an S3 directory marker "dir/" */
        struct os_error keep = *os_last_error();
        size_t n = strlen(s.url.prefix);
        char *dir = malloc(n + 2);
        if (dir) {
            memcpy(dir, s.url.prefix, n);
            memcpy(dir + n, "/", 2);
            os_info_clear(&info);
            rc = s.st->ops->head(s.st->be, dir, &info);
            free(dir);
        }
        if (rc < 0 || !info.is_dir_marker) {
            rc = -ENOENT;
            os_error_set(keep.err, keep.kind, keep.http_status, keep.code, keep.request_id, "%s",
                         keep.message);
        }
    }
    if (rc < 0) {
        rc = cli_fail("stat", argv[optind], &s, cli_refine_not_found(&s, rc));
        goto out;
    }
    print_stat(argv[optind], &info);
    rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
out:
    os_info_clear(&info);
    store_close(&s);
    return rc;
}

/* Writes everything to stdout. -EPIPE when the reader went away. */
static int stdout_sink(const void *data, size_t n, void *ud)
{
    const char *p = data;

    (void)ud;
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int cli_cmd_cat(const struct cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"range", required_argument, NULL, 'r'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    struct cli_store s;
    int64_t off = 0, len = -1;
    int opt, rc;

    optind = 0;
    opterr = 0;
    for (;;) {
        opt = getopt_long(argc, argv, ":r:hv", longopts, NULL);
        if (opt == -1)
            break;
        if (opt == 'r') {
            if (cli_parse_range(optarg, &off, &len) < 0)
                return cli_failf(CLI_EXIT_USAGE, "cat",
                                 "bad --range '%s': use START-END or START- (bytes, inclusive)",
                                 optarg);
            continue;
        }
        rc = cli_common_opt("cat", opt, argc, argv);
        if (rc >= 0)
            return rc;
    }
    if (argc - optind != 1)
        return cli_failf(CLI_EXIT_USAGE, "cat", "expects one URL (see bridgefs cat --help)");
    rc = open_object(c, "cat", argv[optind], &s);
    if (rc != CLI_EXIT_OK)
        return rc;
    rc = s.st->ops->get_range(s.st->be, s.url.prefix, off, len, stdout_sink, NULL, NULL);
    if (rc == -EPIPE) {
        rc = CLI_EXIT_OK; /* the reader stopped early, as `head` does: not an error */
    } else if (rc < 0) {
        rc = cli_fail("cat", argv[optind], &s, cli_refine_not_found(&s, rc));
    } else {
        rc = CLI_EXIT_OK;
    }
    store_close(&s);
    return rc;
}

int cli_cmd_mb(const struct cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"exist-ok", no_argument, NULL, 'p'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    struct cli_store s;
    bool exist_ok = false;
    char err[512];
    int opt, rc;

    optind = 0;
    opterr = 0;
    for (;;) {
        opt = getopt_long(argc, argv, ":phv", longopts, NULL);
        if (opt == -1)
            break;
        if (opt == 'p') {
            exist_ok = true;
            continue;
        }
        rc = cli_common_opt("mb", opt, argc, argv);
        if (rc >= 0)
            return rc;
    }
    if (argc - optind != 1)
        return cli_failf(CLI_EXIT_USAGE, "mb", "expects one URL (see bridgefs mb --help)");
    rc = store_open(c->hc, argv[optind], &s, err, sizeof(err));
    if (rc < 0)
        return cli_open_fail("mb", argv[optind], rc, err);
    if (s.url.prefix && s.url.prefix[0] && strcmp(s.url.prefix, "/") != 0) {
        rc = cli_failf(CLI_EXIT_USAGE, "mb", "%s: give a %s URL without a key", argv[optind],
                       s.url.kind == URL_AZ ? "container" : "bucket");
        goto out;
    }
    rc = s.st->ops->mkbucket(s.st->be);
    if (rc == -EEXIST && exist_ok) {
        rc = CLI_EXIT_OK;
    } else if (rc == -EEXIST) {
        rc = cli_failf(CLI_EXIT_ERROR, "mb", "%s: %s already exists (use -p to accept that)",
                       argv[optind], s.url.kind == URL_AZ ? "container" : "bucket");
    } else if (rc < 0) {
        rc = cli_fail("mb", argv[optind], &s, rc);
    } else {
        rc = CLI_EXIT_OK;
    }
out:
    store_close(&s);
    return rc;
}
