/* verify: compare two directory trees by size and MD5 after a migration. */
#include "tools/verify.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "tools/cli.h"
#include "tools/exitcodes.h"
#include "tools/joblog.h"
#include "tools/mirror_int.h"

#define QUEUE_PER_WORKER 4

enum verify_kind { VK_MISSING = 0, VK_EXTRA, VK_DIFFERENT, VK_UNREADABLE, VK_N };

static const char *kind_names[VK_N] = {"missing", "extra", "different", "unreadable"};

struct verify_run {
    const struct verify_opts *o; /* borrowed */
    char *src, *dst;             /* realpaths, malloc'd */
    struct mirror_pool *pool;
    pthread_mutex_t mu; /* guards the counters and stdout */
    uint64_t checked, matched, n[VK_N];
    bool any_json;
};

/* Prints one problem and counts it. detail may be NULL. */
static void report(struct verify_run *v, enum verify_kind k, const char *path, char type,
                   const char *detail)
{
    struct buf b;
    int rc;

    buf_init(&b, 1 << 16);
    if (v->o->format == VERIFY_JSON) {
        rc = buf_appendf(&b, "    {\"kind\": \"%s\", \"path\": ", kind_names[k]);
        rc = rc ? rc : joblog_json_escape(&b, path[0] ? path : ".");
        rc = rc ? rc : buf_appendf(&b, ", \"type\": \"%c\", \"detail\": ", type);
        rc = rc ? rc : joblog_json_escape(&b, detail ? detail : "");
        rc = rc ? rc : buf_appends(&b, "}");
    } else {
        rc = buf_appendf(&b, "%s  ", kind_names[k]);
        rc = rc ? rc : joblog_text_escape(&b, path[0] ? path : ".");
        rc = rc ? rc : buf_appends(&b, type == 'D' ? "/" : "");
        if (detail)
            rc = rc ? rc : buf_appendf(&b, "  (%s)", detail);
    }
    pthread_mutex_lock(&v->mu);
    v->n[k]++;
    if (rc == 0) {
        if (v->o->format == VERIFY_JSON)
            printf("%s\n%s", v->any_json ? "," : "", buf_str(&b));
        else
            printf("%s\n", buf_str(&b));
        v->any_json = true;
    }
    pthread_mutex_unlock(&v->mu);
    buf_free(&b);
}

static void count(struct verify_run *v, bool match)
{
    pthread_mutex_lock(&v->mu);
    v->checked++;
    if (match)
        v->matched++;
    pthread_mutex_unlock(&v->mu);
}

static const char *type_name(enum walk_type t)
{
    switch (t) {
    case WALK_FILE:
        return "file";
    case WALK_DIR:
        return "directory";
    case WALK_LINK:
        return "symlink";
    case WALK_OTHER:
        return "special file";
    default:
        return "nothing";
    }
}

static void hash_job(void *arg, struct mirror_job *j)
{
    struct verify_run *v = arg;
    unsigned char a[16], b[16];
    char *sp = NULL, *dp = NULL, detail[200];
    int rc;

    if (asprintf(&sp, "%s/%s", v->src, j->path) < 0 ||
        asprintf(&dp, "%s/%s", v->dst, j->path) < 0) {
        sp = dp = NULL;
        report(v, VK_UNREADABLE, j->path, 'F', "out of memory");
        goto out;
    }
    /* stored MD5s only when both sides have one (else both are read): never compare a
     * stored hash with a computed one */
    if (!v->o->deep && mirror_xattr_md5(sp, a) == 0 && mirror_xattr_md5(dp, b) == 0) {
        count(v, memcmp(a, b, 16) == 0);
        if (memcmp(a, b, 16) != 0)
            report(v, VK_DIFFERENT, j->path, 'F', "checksum (stored MD5)");
        goto out;
    }
    rc = mirror_file_md5(sp, false, a, NULL, NULL);
    if (rc == -ECANCELED)
        goto out;
    if (rc < 0) {
        char cls[64], why[128];
        if (rc == -EACCES && mirror_archived_class(sp, cls, sizeof(cls)))
            snprintf(why, sizeof(why), MIRROR_ARCHIVED_FMT, cls);
        else
            snprintf(why, sizeof(why), "%s", strerror(-rc));
        snprintf(detail, sizeof(detail), "source: %s", why);
        report(v, VK_UNREADABLE, j->path, 'F', detail);
        goto out;
    }
    rc = mirror_file_md5(dp, false, b, NULL, NULL);
    if (rc == -ECANCELED)
        goto out;
    if (rc < 0) {
        snprintf(detail, sizeof(detail), "target: %s", strerror(-rc));
        report(v, VK_UNREADABLE, j->path, 'F', detail);
        goto out;
    }
    count(v, memcmp(a, b, 16) == 0);
    if (memcmp(a, b, 16) != 0)
        report(v, VK_DIFFERENT, j->path, 'F', "checksum");
out:
    free(sp);
    free(dp);
}

/* Compares two symlinks' targets. */
static void compare_links(struct verify_run *v, const char *path)
{
    char *sp = NULL, *dp = NULL, a[4096], b[4096], detail[200];
    ssize_t na = -1, nb = -1;

    if (asprintf(&sp, "%s/%s", v->src, path) >= 0 && asprintf(&dp, "%s/%s", v->dst, path) >= 0) {
        na = readlink(sp, a, sizeof(a));
        if (na >= 0)
            nb = readlink(dp, b, sizeof(b));
    }
    if (na < 0 || nb < 0) {
        snprintf(detail, sizeof(detail), "%s: %s", na < 0 ? "source" : "target", strerror(errno));
        report(v, VK_UNREADABLE, path, 'F', detail);
    } else {
        count(v, na == nb && memcmp(a, b, (size_t)na) == 0);
        if (!(na == nb && memcmp(a, b, (size_t)na) == 0))
            report(v, VK_DIFFERENT, path, 'F', "symlink target");
    }
    free(sp);
    free(dp);
}

static enum walk_next on_item(void *arg, const struct walk_item *it)
{
    struct verify_run *v = arg;
    const struct walk_stat *s = &it->src, *d = &it->dst;
    char detail[200];
    struct mirror_job *j;

    if (mirror_canceled())
        return WALK_STOP;
    if (s->err || d->err) {
        snprintf(detail, sizeof(detail), "%s: %s", s->err ? "source" : "target",
                 strerror(-(s->err ? s->err : d->err)));
        report(v, VK_UNREADABLE, it->path, 'F', detail);
        return WALK_CONTINUE;
    }
    if (s->type == WALK_NONE) {
        report(v, VK_EXTRA, it->path, d->type == WALK_DIR ? 'D' : 'F', NULL);
        return d->type == WALK_DIR ? WALK_DESCEND : WALK_CONTINUE;
    }
    if (d->type == WALK_NONE) {
        report(v, VK_MISSING, it->path, s->type == WALK_DIR ? 'D' : 'F', NULL);
        return s->type == WALK_DIR ? WALK_DESCEND : WALK_CONTINUE;
    }
    if (s->type != d->type) {
        snprintf(detail, sizeof(detail), "type: %s != %s", type_name(s->type), type_name(d->type));
        count(v, false);
        report(v, VK_DIFFERENT, it->path, s->type == WALK_DIR ? 'D' : 'F', detail);
        return WALK_CONTINUE;
    }
    switch (s->type) {
    case WALK_DIR:
        return WALK_DESCEND;
    case WALK_LINK:
        compare_links(v, it->path);
        return WALK_CONTINUE;
    case WALK_FILE:
        if (s->size != d->size) {
            snprintf(detail, sizeof(detail), "size %" PRIu64 " != %" PRIu64, s->size, d->size);
            count(v, false);
            report(v, VK_DIFFERENT, it->path, 'F', detail);
            return WALK_CONTINUE;
        }
        j = mirror_job_new(it->path, 0, s, d);
        if (!j)
            report(v, VK_UNREADABLE, it->path, 'F', "out of memory");
        else
            mirror_pool_push(v->pool, j);
        return WALK_CONTINUE;
    default:
        count(v, true); /* special files: same type is all we compare */
        return WALK_CONTINUE;
    }
}

static void on_dir_error(void *arg, const char *path, enum walk_side side, int err)
{
    char detail[200];

    snprintf(detail, sizeof(detail), "cannot list the %s directory: %s",
             side == WALK_SRC ? "source" : "target", strerror(-err));
    report(arg, VK_UNREADABLE, path, 'D', detail);
}

static bool on_skip_name(void *arg, enum walk_side side, const char *dirpath, const char *name)
{
    return strncmp(name, MIRROR_TMP_PREFIX, strlen(MIRROR_TMP_PREFIX)) == 0;
}

/* realpath of a directory argument, or an exit code (message printed) in *code. */
static char *resolve_dir(const char *what, const char *path, int *code)
{
    struct stat st;
    DIR *d;
    char *real;

    if (stat(path, &st) != 0) {
        *code = cli_failf(errno == ENOENT   ? CLI_EXIT_NOT_FOUND
                          : errno == EACCES ? CLI_EXIT_ACCESS
                                            : CLI_EXIT_ERROR,
                          "verify", "%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        *code = cli_failf(CLI_EXIT_USAGE, "verify", "%s %s: not a directory", what, path);
        return NULL;
    }
    d = opendir(path);
    if (!d) {
        *code = cli_failf(errno == EACCES ? CLI_EXIT_ACCESS : CLI_EXIT_ERROR, "verify",
                          "%s %s: cannot read it: %s", what, path, strerror(errno));
        return NULL;
    }
    closedir(d);
    real = realpath(path, NULL);
    if (!real)
        *code = cli_failf(CLI_EXIT_ERROR, "verify", "%s %s: %s", what, path, strerror(errno));
    return real;
}

int verify_run(const struct verify_opts *o)
{
    static const struct walk_ops ops = {on_item, NULL, on_dir_error, on_skip_name};
    struct verify_run v;
    struct buf b;
    int code = -1;
    bool differ;

    memset(&v, 0, sizeof(v));
    v.o = o;
    pthread_mutex_init(&v.mu, NULL);
    buf_init(&b, 1 << 16);
    v.src = resolve_dir("source", o->src, &code);
    if (!v.src)
        goto out;
    v.dst = resolve_dir("target", o->dst, &code);
    if (!v.dst)
        goto out;
    v.pool = mirror_pool_new(o->jobs, (size_t)o->jobs * QUEUE_PER_WORKER, hash_job, &v);
    if (!v.pool) {
        code = cli_failf(CLI_EXIT_ERROR, "verify", "cannot start the hashing workers");
        goto out;
    }
    if (o->format == VERIFY_JSON) {
        buf_appends(&b, "{\n  \"source\": ");
        joblog_json_escape(&b, o->src_name ? o->src_name : v.src);
        buf_appends(&b, ",\n  \"target\": ");
        joblog_json_escape(&b, o->dst_name ? o->dst_name : v.dst);
        buf_appends(&b, ",\n  \"problems\": [");
        printf("%s", buf_str(&b));
    }
    mirror_signals_install();
    walk_run(v.src, v.dst, &ops, &v);
    mirror_pool_finish(v.pool);
    v.pool = NULL;
    mirror_signals_restore();
    differ = v.n[VK_MISSING] || v.n[VK_EXTRA] || v.n[VK_DIFFERENT];
    if (o->format == VERIFY_JSON)
        printf("%s],\n  \"totals\": {\"checked\": %" PRIu64 ", \"matched\": %" PRIu64
               ", \"missing\": %" PRIu64 ", \"extra\": %" PRIu64 ", \"different\": %" PRIu64
               ", \"unreadable\": %" PRIu64 "},\n  \"match\": %s\n}\n",
               v.any_json ? "\n  " : "", v.checked, v.matched, v.n[VK_MISSING], v.n[VK_EXTRA],
               v.n[VK_DIFFERENT], v.n[VK_UNREADABLE],
               differ || v.n[VK_UNREADABLE] ? "false" : "true");
    else
        printf("verify: %" PRIu64 " checked, %" PRIu64 " match, %" PRIu64 " missing, %" PRIu64
               " extra, %" PRIu64 " different, %" PRIu64 " unreadable: %s\n",
               v.checked, v.matched, v.n[VK_MISSING], v.n[VK_EXTRA], v.n[VK_DIFFERENT],
               v.n[VK_UNREADABLE],
               mirror_canceled()    ? "interrupted"
               : differ             ? "trees differ"
               : v.n[VK_UNREADABLE] ? "some items could not be read"
                                    : "trees match");
    if (mirror_canceled())
        code = 128 + mirror_canceled();
    else if (differ)
        code = VERIFY_EXIT_DIFFER;
    else if (v.n[VK_UNREADABLE])
        code = CLI_EXIT_PARTIAL;
    else
        code = CLI_EXIT_OK;
out:
    mirror_pool_finish(v.pool);
    pthread_mutex_destroy(&v.mu);
    buf_free(&b);
    free(v.src);
    free(v.dst);
    return code;
}
