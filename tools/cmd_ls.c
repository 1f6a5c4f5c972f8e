/* cmd_ls: `bridgefs ls [-l] [-R] URL`, printing each listing page as it arrives. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/objstore.h"
#include "tools/cli.h"
#include "tools/cli_opts.h"
#include "tools/exitcodes.h"
#include "tools/store_open.h"

#define LS_OUT_MAX (64u * 1024 * 1024)

/* Directory names already printed (a marker and a common prefix name the same
 * directory). Open addressing; memory grows with the number of directories only. */
struct dirset {
    char **v;
    size_t cap;
    size_t n;
};

static size_t str_hash(const char *s)
{
    size_t h = 1469598103934665603ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Takes name when it is new (returns 1); returns 0 when present (name not taken), -ENOMEM. */
static int dirset_add(struct dirset *d, char *name)
{
    size_t i;

    if ((d->n + 1) * 2 > d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 64;
        char **nv = calloc(ncap, sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        for (size_t j = 0; j < d->cap; j++) {
            if (!d->v[j])
                continue;
            i = str_hash(d->v[j]) & (ncap - 1);
            while (nv[i])
                i = (i + 1) & (ncap - 1);
            nv[i] = d->v[j];
        }
        free(d->v);
        d->v = nv;
        d->cap = ncap;
    }
    i = str_hash(name) & (d->cap - 1);
    while (d->v[i]) {
        if (strcmp(d->v[i], name) == 0)
            return 0;
        i = (i + 1) & (d->cap - 1);
    }
    d->v[i] = name;
    d->n++;
    return 1;
}

static void dirset_free(struct dirset *d)
{
    for (size_t i = 0; i < d->cap; i++)
        free(d->v[i]);
    free(d->v);
}

struct ls_opts {
    bool long_fmt;
    bool recursive;
};

/* Prints one page's entries relative to base. 0 or -errno. */
static int print_page(const struct os_list_page *pg, const char *base, const struct ls_opts *lo,
                      struct dirset *dirs, struct buf *out)
{
    int rc = 0;

    buf_reset(out);
    for (size_t k = 0; k < pg->n && rc == 0; k++) {
        char *name = NULL;
        bool is_dir = false;
        int r = cli_entry_name(&pg->items[k], base, &name, &is_dir);
        if (r < 0)
            return r;
        if (r == 0)
            continue;
        if (is_dir) {
            r = dirset_add(dirs, name); /* takes name when new */
            if (r <= 0) {
                free(name);
                if (r < 0)
                    return r;
                continue; /* this directory was already printed */
            }
            rc = cli_format_ls_line(out, &pg->items[k], name, true, lo->long_fmt);
            continue;
        }
        rc = cli_format_ls_line(out, &pg->items[k], name, false, lo->long_fmt);
        free(name);
    }
    if (rc == 0 && out->len && fwrite(out->data, 1, out->len, stdout) != out->len)
        rc = errno ? -errno : -EIO;
    if (rc == 0 && fflush(stdout) != 0)
        rc = -errno;
    return rc;
}

/*
 * Lists base (a directory prefix). first may hold an already fetched first page
 * (taken). *any tells whether any entry (even the directory's own marker) was seen.
 */
static int list_dir(struct cli_store *s, const char *base, const struct ls_opts *lo,
                    struct os_list_page *first, bool *any)
{
    struct os_list_page pg = {0};
    struct dirset dirs = {0};
    struct buf out;
    char *token = NULL;
    int rc = 0;

    buf_init(&out, LS_OUT_MAX);
    *any = false;
    for (;;) {
        if (first) {
            pg = *first;
            memset(first, 0, sizeof(*first));
            first = NULL;
        } else {
            rc = s->st->ops->list_page(s->st->be, base, lo->recursive ? NULL : "/", token, 0, &pg);
            if (rc < 0)
                goto out;
        }
        if (pg.n)
            *any = true;
        rc = print_page(&pg, base, lo, &dirs, &out);
        if (rc < 0)
            goto out;
        free(token);
        token = pg.next_token;
        pg.next_token = NULL;
        os_list_page_free(&pg);
        if (!token)
            break;
    }
out:
    os_list_page_free(&pg);
    free(token);
    buf_free(&out);
    dirset_free(&dirs);
    return rc;
}

static int ls_url(struct cli_store *s, const char *url, const struct ls_opts *lo)
{
    const char *prefix = s->url.prefix ? s->url.prefix : "";
    size_t plen = strlen(prefix);
    struct os_list_page first = {0};
    struct os_info info = {0};
    char *base = NULL;
    bool any = false;
    int rc, code = CLI_EXIT_OK;

    if (plen == 0 || prefix[plen - 1] == '/') {
        rc = list_dir(s, prefix, lo, NULL, &any);
        goto done;
    }
    base = malloc(plen + 2);
    if (!base)
        return cli_failf(CLI_EXIT_ERROR, "ls", "out of memory");
    memcpy(base, prefix, plen);
    base[plen] = '/';
    base[plen + 1] = '\0';
    rc = s->st->ops->list_page(s->st->be, base, lo->recursive ? NULL : "/", NULL, 0, &first);
    if (rc < 0)
        goto done;
    if (first.n > 0 || first.next_token) {
        rc = list_dir(s, base, lo, &first, &any);
        goto done;
    }
    rc = s->st->ops->head(s->st->be, prefix, &info);
    if (rc == 0 && !info.is_dir_marker) {
        const char *slash = strrchr(prefix, '/');
        struct buf out;
        buf_init(&out, LS_OUT_MAX);
        rc = cli_format_ls_line(&out, &info, slash ? slash + 1 : prefix, false, lo->long_fmt);
        if (rc == 0)
            fputs(buf_str(&out), stdout);
        buf_free(&out);
    }
done:
    if (rc == -EPIPE) {
        code = CLI_EXIT_OK; /* the reader stopped early (| head): not an error */
    } else if (rc < 0) {
        rc = cli_refine_not_found(s, rc);
        code = cli_fail("ls", url, s, rc);
    }
    os_list_page_free(&first);
    os_info_clear(&info);
    free(base);
    return code;
}

int cli_cmd_ls(const struct cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"long", no_argument, NULL, 'l'},
        {"recursive", no_argument, NULL, 'R'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    struct ls_opts lo = {0};
    struct cli_store s;
    char err[512];
    int opt, rc;

    optind = 0;
    opterr = 0;
    for (;;) {
        opt = getopt_long(argc, argv, ":lRrhv", longopts, NULL);
        if (opt == -1)
            break;
        if (opt == 'l') {
            lo.long_fmt = true;
        } else if (opt == 'R' || opt == 'r') {
            lo.recursive = true;
        } else {
            rc = cli_common_opt("ls", opt, argc, argv);
            if (rc >= 0)
                return rc;
        }
    }
    if (argc - optind != 1)
        return cli_failf(CLI_EXIT_USAGE, "ls", "expects one URL (see bridgefs ls --help)");
    rc = store_open(c->hc, argv[optind], &s, err, sizeof(err));
    if (rc < 0)
        return cli_open_fail("ls", argv[optind], rc, err);
    rc = ls_url(&s, argv[optind], &lo);
    store_close(&s);
    return rc;
}
