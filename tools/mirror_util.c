/* mirror_util: signals, MD5 of files, bridgefs-mount detection and line output for the engines. */
#include "tools/mirror_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "tools/joblog.h"

#define FUSE_SUPER_MAGIC_ 0x65735546
#define HASH_CHUNK (256 * 1024)

/* Set by the signal handler only; read by every thread. */
static volatile sig_atomic_t canceled_sig;
static struct sigaction old_int, old_term;
static int signals_depth; /* install/restore nest: only the outermost pair acts */
static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
    canceled_sig = sig;
}

void mirror_signals_install(void)
{
    struct sigaction sa;

    if (signals_depth++ > 0)
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

void mirror_signals_restore(void)
{
    if (signals_depth == 0 || --signals_depth > 0)
        return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
}

int mirror_canceled(void)
{
    return canceled_sig;
}

int mirror_xattr_md5(const char *path, unsigned char out[16])
{
    char hex[64];
    ssize_t n = lgetxattr(path, MIRROR_XATTR_MD5, hex, sizeof(hex) - 1);

    if (n != 32)
        return -ENODATA;
    hex[n] = '\0';
    return crypto_unhex(hex, out, 16) == 0 ? 0 : -ENODATA;
}

bool mirror_archived_class(const char *path, char *cls, size_t clslen)
{
    static const char *archived[] = {"GLACIER", "DEEP_ARCHIVE", "Archive"};
    char v[64];
    ssize_t n = lgetxattr(path, MIRROR_XATTR_CLASS, v, sizeof(v) - 1);

    if (n <= 0)
        return false;
    v[n] = '\0';
    for (size_t i = 0; i < sizeof(archived) / sizeof(archived[0]); i++) {
        if (strcasecmp(v, archived[i]) == 0) {
            snprintf(cls, clslen, "%s", v);
            return true;
        }
    }
    return false;
}

int mirror_file_md5(const char *path, bool use_xattr, unsigned char out[16],
                    void (*on_bytes)(void *, uint64_t), void *arg)
{
    struct crypto_md5_ctx *c = NULL;
    char *chunk = NULL;
    int fd = -1, rc = 0;

    if (use_xattr && mirror_xattr_md5(path, out) == 0)
        return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    c = crypto_md5_new();
    chunk = malloc(HASH_CHUNK);
    if (!c || !chunk) {
        rc = -ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, HASH_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        if (mirror_canceled()) {
            rc = -ECANCELED;
            goto out;
        }
        crypto_md5_update(c, chunk, (size_t)n);
        if (on_bytes)
            on_bytes(arg, (uint64_t)n);
    }
    crypto_md5_final(c, out);
out:
    crypto_md5_free(c);
    free(chunk);
    if (fd >= 0)
        close(fd);
    return rc;
}

static bool mountinfo_says_bridgefs(const char *dir)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char *line = NULL, mp[4096];
    size_t cap = 0;
    bool found = false;

    if (!f)
        return false;
    while (getline(&line, &cap, f) > 0) {
        /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE SUPEROPTS" */
        char *sep = strstr(line, " - ");
        if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
            continue;
        if (strcmp(mp, dir) == 0 && strncmp(sep + 3, "fuse.bridgefs ", 14) == 0)
            found = true;
    }
    free(line);
    fclose(f);
    return found;
}

bool mirror_is_bridgefs(const char *dir)
{
    struct statfs sf;

    if (statfs(dir, &sf) != 0 || sf.f_type != FUSE_SUPER_MAGIC_)
        return false;
    if (lgetxattr(dir, "user.bridgefs.source", NULL, 0) >= 0)
        return true;
    return mountinfo_says_bridgefs(dir);
}

void mirror_print_line(FILE *f, const char *prefix, const char *path, const char *suffix)
{
    struct buf b;

    buf_init(&b, 1 << 16);
    if (buf_appends(&b, prefix) == 0 && joblog_text_escape(&b, path) == 0 &&
        buf_appends(&b, suffix ? suffix : "") == 0) {
        pthread_mutex_lock(&print_mu);
        fprintf(f, "%s\n", buf_str(&b));
        pthread_mutex_unlock(&print_mu);
    }
    buf_free(&b);
}
