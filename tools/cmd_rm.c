/* cmd_rm: `bridgefs rm [-r] URL`: one object, or everything under a prefix in batches. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/objstore.h"
#include "tools/cli.h"
#include "tools/cli_opts.h"
#include "tools/exitcodes.h"
#include "tools/store_open.h"

#define FOLDER_SUFFIX "_$folder$"

struct rm_count {
    size_t deleted;
    size_t failed;
};

/* Deletes one listing page's keys with del_many; failures are printed per key. */
static int delete_page(struct cli_store *s, const char *url, const struct os_list_page *pg,
                       struct rm_count *cnt)
{
    const char **keys = NULL;
    int *failed = NULL;
    int rc = 0;

    if (pg->n == 0)
        return 0;
    keys = calloc(pg->n, sizeof(*keys));
    failed = calloc(pg->n, sizeof(*failed));
    if (!keys || !failed) {
        rc = os_error_set(-ENOMEM, OSE_LOCAL, 0, "", "", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < pg->n; i++)
        keys[i] = pg->items[i].key;
    rc = s->st->ops->del_many(s->st->be, keys, pg->n, failed);
    for (size_t i = 0; i < pg->n; i++) {
        if (failed[i] == 0) {
            cnt->deleted++;
            continue;
        }
        cnt->failed++;
        fprintf(stderr, "bridgefs: rm %s/%s: %s\n", s->st->url_base, keys[i], strerror(-failed[i]));
    }
    /* a batch-level failure with per-key detail is a partial failure, not a stop */
    if (rc < 0 && cnt->failed > 0 && rc != -EACCES && os_last_error()->kind != OSE_NO_BUCKET &&
        os_last_error()->kind != OSE_BAD_CREDENTIALS && os_last_error()->kind != OSE_UNREACHABLE)
        rc = 0;
out:
    free(keys);
    free(failed);
    return rc;
}

/* Deletes key when it exists and (when marker_only) is a directory marker. 1 deleted, 0 absent. */
static int delete_if_exists(struct cli_store *s, const char *key, bool marker_only)
{
    struct os_info info = {0};
    int rc = s->st->ops->head(s->st->be, key, &info);

    if (rc == -ENOENT) {
        os_error_clear();
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    if (marker_only && !info.is_dir_marker) {
        rc = 0;
        goto out;
    }
    rc = s->st->ops->del(s->st->be, key);
    if (rc == 0)
        rc = 1;
out:
    os_info_clear(&info);
    return rc;
}

static int rm_recursive(struct cli_store *s, const char *url)
{
    const char *prefix = s->url.prefix ? s->url.prefix : "";
    size_t plen = strlen(prefix);
    struct os_list_page pg = {0};
    struct rm_count cnt = {0};
    char *base = NULL, *token = NULL;
    int rc;

    base = malloc(plen + sizeof(FOLDER_SUFFIX) + 2);
    if (!base)
        return cli_failf(CLI_EXIT_ERROR, "rm", "out of memory");
    memcpy(base, prefix, plen + 1);
    if (plen > 0 && prefix[plen - 1] != '/')
        strcat(base, "/");
    for (;;) {
        rc = s->st->ops->list_page(s->st->be, base, NULL, token, 0, &pg);
        if (rc < 0)
            goto fail;
        free(token);
        token = pg.next_token;
        pg.next_token = NULL;
        rc = delete_page(s, url, &pg, &cnt);
        os_list_page_free(&pg);
        if (rc < 0)
            goto fail;
        if (!token)
            break;
    }
    if (plen > 0) {
        /* the directory's own markers outside base: Azure "dir", s3fs "dir_$folder$";
         * and `rm -r` of a plain object deletes that object */
        size_t blen = strlen(base);
        if (base[blen - 1] == '/')
            base[--blen] = '\0';
        rc = delete_if_exists(s, base, cnt.deleted > 0);
        if (rc < 0)
            goto fail;
        cnt.deleted += (size_t)rc;
        strcat(base, FOLDER_SUFFIX);
        rc = delete_if_exists(s, base, true);
        if (rc < 0)
            goto fail;
        cnt.deleted += (size_t)rc;
    }
    free(base);
    free(token);
    printf("deleted %zu object%s\n", cnt.deleted, cnt.deleted == 1 ? "" : "s");
    fflush(stdout);
    if (cnt.failed)
        return cli_failf(CLI_EXIT_PARTIAL, "rm", "%s: %zu object%s could not be deleted", url,
                         cnt.failed, cnt.failed == 1 ? "" : "s");
    if (cnt.deleted == 0 && plen > 0) {
        os_error_set(-ENOENT, OSE_NOT_FOUND, 0, "", "", "nothing under %s", url);
        return cli_fail("rm", url, s, -ENOENT);
    }
    return CLI_EXIT_OK;
fail:
    os_list_page_free(&pg);
    free(base);
    free(token);
    if (cnt.deleted)
        fprintf(stderr, "bridgefs: rm %s: stopped after deleting %zu objects\n", url, cnt.deleted);
    return cli_fail("rm", url, s, rc);
}

static int rm_one(struct cli_store *s, const char *url)
{
    struct os_info info = {0};
    int rc;

    rc = s->st->ops->head(s->st->be, s->url.prefix, &info);
    os_info_clear(&info);
    if (rc == 0)
        rc = s->st->ops->del(s->st->be, s->url.prefix);
    if (rc < 0)
        return cli_fail("rm", url, s, cli_refine_not_found(s, rc));
    return CLI_EXIT_OK;
}

int cli_cmd_rm(const struct cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"recursive", no_argument, NULL, 'r'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    struct cli_store s;
    bool recursive = false;
    char err[512];
    int opt, rc;

    optind = 0;
    opterr = 0;
    for (;;) {
        opt = getopt_long(argc, argv, ":rRhv", longopts, NULL);
        if (opt == -1)
            break;
        if (opt == 'r' || opt == 'R') {
            recursive = true;
            continue;
        }
        rc = cli_common_opt("rm", opt, argc, argv);
        if (rc >= 0)
            return rc;
    }
    if (argc - optind != 1)
        return cli_failf(CLI_EXIT_USAGE, "rm", "expects one URL (see bridgefs rm --help)");
    rc = store_open(c->hc, argv[optind], &s, err, sizeof(err));
    if (rc < 0)
        return cli_open_fail("rm", argv[optind], rc, err);
    if (!recursive && (!s.url.prefix || !s.url.prefix[0])) {
        rc = cli_failf(CLI_EXIT_USAGE, "rm", "%s: names a %s: use rm -r to delete its contents",
                       argv[optind], s.url.kind == URL_AZ ? "container" : "bucket");
        goto out;
    }
    rc = recursive ? rm_recursive(&s, argv[optind]) : rm_one(&s, argv[optind]);
out:
    store_close(&s);
    return rc;
}
