/* mirror_decide: the pure decisions of a mirror run: per-item action, filters, path checks. */
#include "tools/mirror.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mirror_same_mtime(const struct timespec *a, const struct timespec *b)
{
    int64_t da = (int64_t)a->tv_sec * 1000000000 + a->tv_nsec;
    int64_t db = (int64_t)b->tv_sec * 1000000000 + b->tv_nsec;
    int64_t d = da > db ? da - db : db - da;

    return d < 1000000000;
}

enum mirror_action mirror_decide(const struct walk_stat *src, const struct walk_stat *dst,
                                 enum mirror_mode mode, enum mirror_compare cmp)
{
    bool sdir = src->type == WALK_DIR, ddir = dst->type == WALK_DIR;

    if (src->type == WALK_NONE)
        return mode == MIRROR_MODE_MIRROR ? MIRROR_ACT_DELETE : MIRROR_ACT_KEEP;
    if (src->type == WALK_OTHER)
        return MIRROR_ACT_UNSUPPORTED;
    if (dst->type == WALK_NONE)
        return sdir ? MIRROR_ACT_MKDIR : MIRROR_ACT_COPY;
    if (sdir != ddir)
        return mode == MIRROR_MODE_MIRROR ? MIRROR_ACT_REPLACE : MIRROR_ACT_CONFLICT;
    if (sdir)
        return MIRROR_ACT_DESCEND;
    /* both non-directories: a file, symlink or special file on the target is overwritten */
    if (src->type != dst->type || src->size != dst->size)
        return MIRROR_ACT_COPY;
    switch (cmp) {
    case MIRROR_CMP_SIZE:
        return MIRROR_ACT_SKIP;
    case MIRROR_CMP_CHECKSUM:
        return src->type == WALK_FILE                        ? MIRROR_ACT_CHECKSUM
               : mirror_same_mtime(&src->mtime, &dst->mtime) ? MIRROR_ACT_SKIP
                                                             : MIRROR_ACT_COPY;
    case MIRROR_CMP_SIZE_MTIME:
    default:
        return mirror_same_mtime(&src->mtime, &dst->mtime) ? MIRROR_ACT_SKIP : MIRROR_ACT_COPY;
    }
}

struct filter_rule {
    bool include;
    bool dir_only; /* pattern ended in '/' */
    bool whole;    /* pattern has a '/': match the whole relative path */
    int flags;     /* fnmatch flags */
    char *pattern; /* without leading and trailing '/' */
};

struct mirror_filter {
    struct filter_rule *v;
    size_t n;
};

struct mirror_filter *mirror_filter_new(void)
{
    return calloc(1, sizeof(struct mirror_filter));
}

int mirror_filter_add(struct mirror_filter *f, bool include, const char *pattern)
{
    struct filter_rule r = {0}, *v;
    size_t len = strlen(pattern);
    const char *p = pattern;

    if (len == 0)
        return -EINVAL;
    r.include = include;
    if (p[len - 1] == '/') {
        r.dir_only = true;
        len--;
    }
    if (len > 0 && p[0] == '/') {
        r.whole = true;
        p++;
        len--;
    }
    if (len == 0)
        return -EINVAL;
    r.pattern = strndup(p, len);
    if (!r.pattern)
        return -ENOMEM;
    if (strchr(r.pattern, '/'))
        r.whole = true;
    r.flags = strstr(r.pattern, "**") ? 0 : FNM_PATHNAME;
    v = realloc(f->v, (f->n + 1) * sizeof(*v));
    if (!v) {
        free(r.pattern);
        return -ENOMEM;
    }
    f->v = v;
    f->v[f->n++] = r;
    return 0;
}

bool mirror_filter_excluded(const struct mirror_filter *f, const char *path, bool is_dir)
{
    const char *base = strrchr(path, '/');

    base = base ? base + 1 : path;
    if (!f)
        return false;
    for (size_t i = 0; i < f->n; i++) {
        const struct filter_rule *r = &f->v[i];
        if (r->dir_only && !is_dir)
            continue;
        if (fnmatch(r->pattern, r->whole ? path : base, r->flags) == 0)
            return !r->include;
    }
    return false;
}

void mirror_filter_free(struct mirror_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i].pattern);
    free(f->v);
    free(f);
}

int mirror_default_log_dir(char *out, size_t outlen)
{
    const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;

    if (x && x[0] == '/')
        n = snprintf(out, outlen, "%s/bridgefs/jobs", x);
    else if (home && home[0])
        n = snprintf(out, outlen, "%s/.local/state/bridgefs/jobs", home);
    else
        return -ENOENT;
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* true when `inner` is `outer` or below it (both absolute, normalised). */
static bool path_within(const char *outer, const char *inner)
{
    size_t n = strlen(outer);

    if (strcmp(outer, "/") == 0)
        return true;
    return strncmp(outer, inner, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

int mirror_check_overlap(const char *src_real, const char *dst_real, const char **why)
{
    *why = NULL;
    if (strcmp(src_real, dst_real) == 0)
        *why = "source and target are the same directory";
    else if (path_within(src_real, dst_real))
        *why = "the target is inside the source";
    else if (path_within(dst_real, src_real))
        *why = "the source is inside the target";
    return *why ? -EINVAL : 0;
}
