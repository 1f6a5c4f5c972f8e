/* mirror_mount: private mounts of URL arguments of mirror and verify, for the length of a run. */
#include "tools/mirror.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/cli.h"
#include "tools/exitcodes.h"
#include "tools/mirror_int.h"

#define SELF_EXE "/proc/self/exe"
/* Metadata TTL of a private mount: its cache is fresh and only this run uses it. */
#define PRIVATE_TTL "3600"

struct mirror_mounts {
    char root[PATH_MAX / 2]; /* the mkdtemp folder; "" when not created */
    char mp[2][PATH_MAX];    /* mountpoints of SRC and DST; "" when that side is a path */
    bool mounted[2];
    const char *path[2]; /* what the engine gets: the mountpoint or the argument */
};

bool mirror_is_url(const char *arg)
{
    return strstr(arg, "://") != NULL;
}

int mirror_check_url_overlap(const char *src, const char *dst, const char **why)
{
    char a[PATH_MAX], b[PATH_MAX];
    size_t na = strlen(src), nb = strlen(dst);

    *why = NULL;
    if (!mirror_is_url(src) || !mirror_is_url(dst))
        return 0;
    while (na > 0 && src[na - 1] == '/')
        na--;
    while (nb > 0 && dst[nb - 1] == '/')
        nb--;
    if (na >= sizeof(a) || nb >= sizeof(b))
        return 0;
    memcpy(a, src, na);
    a[na] = '\0';
    memcpy(b, dst, nb);
    b[nb] = '\0';
    return mirror_check_overlap(a, b, why);
}

/* Runs SELF_EXE with argv in its own process group (so a Ctrl-C on the terminal reaches only
 * us, and we unmount in order); returns its exit code, or CLI_EXIT_ERROR when it could not run
 * or was killed. Waits through signals. */
static int run_self(char *const argv[])
{
    pid_t pid, w;
    int st = 0;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return CLI_EXIT_ERROR;
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv(SELF_EXE, argv);
        fprintf(stderr, "bridgefs: cannot run %s: %s\n", SELF_EXE, strerror(errno));
        _exit(CLI_EXIT_ERROR);
    }
    do {
        w = waitpid(pid, &st, 0);
    } while (w < 0 && errno == EINTR);
    if (w < 0)
        return CLI_EXIT_ERROR;
    return WIFEXITED(st) ? WEXITSTATUS(st) : CLI_EXIT_ERROR;
}

/* true when dir is a mount point (its device differs from its parent's). */
static bool is_mountpoint(const char *dir)
{
    char parent[PATH_MAX + 4];
    struct stat a, b;

    snprintf(parent, sizeof(parent), "%s/..", dir);
    if (stat(dir, &a) != 0)
        return errno == ENOTCONN; /* a dead FUSE mount */
    return stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static void unmount_one(const char *mp)
{
    char *um[] = {"bridgefs", "umount", (char *)mp, NULL};
    char *lazy[] = {"bridgefs", "umount", "-z", (char *)mp, NULL};

    if (!is_mountpoint(mp))
        return;
    if (run_self(um) != CLI_EXIT_OK && is_mountpoint(mp)) {
        fprintf(stderr, "bridgefs: unmounting %s lazily\n", mp);
        run_self(lazy);
    }
}

/* Unmounts and removes the private folder root (mountpoints src and dst, cache, owner). */
static void remove_root(const char *root, const char *mp[2])
{
    char p[PATH_MAX];

    for (int i = 0; i < 2; i++) {
        if (mp[i] && mp[i][0]) {
            unmount_one(mp[i]);
            rmdir(mp[i]);
        }
    }
    snprintf(p, sizeof(p), "%s/cache", root);
    if (!is_mountpoint(p))
        mirror_remove_tree(p);
    snprintf(p, sizeof(p), "%s/owner", root);
    unlink(p);
    rmdir(root);
}

/* Cleans up after runs that were killed (kill -9, a crash) and so left their private mounts
 * behind: folders bridgefs-mirror.* / bridgefs-verify.* of ours in tmp whose owner process
 * is gone. */
static void reap_stale(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;

    for (;;) {
        char root[PATH_MAX / 2], src[PATH_MAX], dst[PATH_MAX], own[PATH_MAX];
        const char *mp[2] = {src, dst};
        struct stat st;
        long pid = 0;
        FILE *f;

        e = d ? readdir(d) : NULL;
        if (!e)
            break;
        if (strncmp(e->d_name, "bridgefs-mirror.", 16) != 0 &&
            strncmp(e->d_name, "bridgefs-verify.", 16) != 0)
            continue;
        snprintf(root, sizeof(root), "%s/%s", tmp, e->d_name);
        snprintf(own, sizeof(own), "%s/owner", root);
        if (lstat(root, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
            continue;
        f = fopen(own, "r");
        if (!f)
            continue;
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
        if (pid <= 0 || cli_pid_alive(pid))
            continue;
        fprintf(stderr, "bridgefs: cleaning up %s, left by an interrupted run (pid %ld)\n", root,
                pid);
        snprintf(src, sizeof(src), "%s/src", root);
        snprintf(dst, sizeof(dst), "%s/dst", root);
        remove_root(root, mp);
    }
    if (d)
        closedir(d);
}

int mirror_mounts_open(const char *cmd, const char *src, const char *dst, bool src_ro, bool dst_ro,
                       struct mirror_mounts **out)
{
    static const char *names[2] = {"src", "dst"};
    const char *args[2] = {src, dst};
    const bool ro[2] = {src_ro, dst_ro};
    struct mirror_mounts *m = calloc(1, sizeof(*m));
    const char *tmp = getenv("TMPDIR");
    char cache[PATH_MAX], opts[PATH_MAX + 64];
    int code = -1;
    FILE *f;

    *out = m;
    if (!m)
        return cli_failf(CLI_EXIT_ERROR, cmd, "out of memory");
    m->path[0] = src;
    m->path[1] = dst;
    if (!mirror_is_url(src) && !mirror_is_url(dst))
        return -1;
    if (!tmp || !*tmp)
        tmp = "/tmp";
    reap_stale(tmp);
    snprintf(m->root, sizeof(m->root), "%s/bridgefs-%s.XXXXXX", tmp, cmd);
    if (!mkdtemp(m->root)) {
        code = cli_failf(CLI_EXIT_ERROR, cmd, "cannot create a temporary folder in %s: %s", tmp,
                         strerror(errno));
        m->root[0] = '\0';
        return code;
    }
    snprintf(cache, sizeof(cache), "%s/owner", m->root);
    f = fopen(cache, "w");
    if (f) { /* lets a later run clean up if this one is killed */
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
    snprintf(cache, sizeof(cache), "%s/cache", m->root);
    if (mkdir(cache, 0700) != 0)
        return cli_failf(CLI_EXIT_ERROR, cmd, "cannot create %s: %s", cache, strerror(errno));
    for (int i = 0; i < 2 && code < 0; i++) {
        char *argv[] = {"bridgefs", "mount", (char *)args[i], m->mp[i], "-o", opts, NULL};

        if (!mirror_is_url(args[i]))
            continue;
        if (mirror_canceled())
            return 128 + mirror_canceled();
        snprintf(m->mp[i], sizeof(m->mp[i]), "%s/%s", m->root, names[i]);
        if (mkdir(m->mp[i], 0700) != 0) {
            code =
                cli_failf(CLI_EXIT_ERROR, cmd, "cannot create %s: %s", m->mp[i], strerror(errno));
            m->mp[i][0] = '\0';
            break;
        }
        /* verify compares sizes and MD5s only: stat from the listings, no HEAD per file */
        snprintf(opts, sizeof(opts), "cache=%s,ttl=%s%s%s", cache, PRIVATE_TTL, ro[i] ? ",ro" : "",
                 strcmp(cmd, "verify") == 0 ? ",server_mtime" : "");
        m->mounted[i] = true; /* from here on, cleanup checks and unmounts */
        code = run_self(argv);
        if (code == CLI_EXIT_OK)
            code = -1;
        else /* the mount printed why; its exit code is ours */
            fprintf(stderr, "bridgefs: %s: cannot mount %s %s\n", cmd,
                    i == 0 ? "the source" : "the target", args[i]);
        m->path[i] = m->mp[i];
    }
    if (code < 0 && mirror_canceled())
        code = 128 + mirror_canceled();
    return code;
}

const char *mirror_mounts_path(const struct mirror_mounts *m, int side)
{
    return m->path[side];
}

void mirror_mounts_close(struct mirror_mounts *m)
{
    const char *mp[2];

    if (!m)
        return;
    for (int i = 0; i < 2; i++)
        mp[i] = m->mounted[i] ? m->mp[i] : NULL;
    if (m->root[0]) {
        remove_root(m->root, mp);
        if (rmdir(m->root) != 0 && errno != ENOENT)
            fprintf(stderr, "bridgefs: cannot remove %s: %s\n", m->root, strerror(errno));
    }
    free(m);
}
