/* cmd_mount: the `mount` and `umount` subcommands (FUSE mount of a bucket or container). */
#include "tools/cmd_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/mcache.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/objstore.h"
#include "fs/fs.h"
#include "tools/cli.h"
#include "tools/cli_opts.h"
#include "tools/exitcodes.h"
#include "tools/store_open.h"

static const char mount_help[] =
    "usage: bridgefs mount [-f] [-o OPT[,OPT...]] URL MOUNTPOINT\n"
    "\n"
    "Mounts a bucket or container (or a prefix of it, as the root) on MOUNTPOINT with FUSE.\n"
    "Runs in the background and returns once the mount is ready, or prints why it failed.\n"
    "\n"
    "  -f                 stay in the foreground\n"
    "  -o OPT,...         mount options:\n"
    "     cache=DIR       metadata cache folder (default $XDG_CACHE_HOME/bridgefs)\n"
    "     ttl=SECONDS     metadata TTL and kernel cache timeout (default 60; -1: forever)\n"
    "     ro              read-only\n"
    "     uid=N, gid=N    owner of entries without uid/gid metadata (default: yours)\n"
    "     umask=OOO       umask for entries without mode metadata (default 022)\n"
    "     allow_other     let other users access the mount\n"
    "     log=FILE        log to FILE (default: stderr with -f, else nowhere)\n"
    "     log_level=L     error, warn (default), info, debug, trace\n"
    "     part_size=SIZE  multipart / block size for uploads (default: the backend's)\n"
    "     jobs=N          parallel ranged GETs and part uploads per file (default 4)\n"
    "     server_mtime    stat answers from listings alone, with no HEAD per S3 file: mtime\n"
    "                     is the object's Last-Modified, not its stored mtime (as rclone's\n"
    "                     --use-server-modtime); fast browsing and verify, not mirror\n"
    "     debug           libfuse debug output (with -f)\n"
    "Unmount with `bridgefs umount MOUNTPOINT` or `fusermount3 -u MOUNTPOINT`.\n";

static const char umount_help[] =
    "usage: bridgefs umount [-z] MOUNTPOINT\n"
    "\n"
    "Unmounts a bridgefs mount and waits until its daemon has finished the uploads in\n"
    "flight and exited.\n"
    "  -z   lazy unmount (detach now, finish when no longer busy)\n";

void cli_mount_usage(FILE *f)
{
    fputs(mount_help, f);
}

void cli_umount_usage(FILE *f)
{
    fputs(umount_help, f);
}

static bool parse_u32(const char *s, int base, uint32_t *out)
{
    char *end = NULL;
    unsigned long v;

    if (!s || !*s)
        return false;
    errno = 0;
    v = strtoul(s, &end, base);
    if (errno || *end || v > 0xffffffffUL)
        return false;
    *out = (uint32_t)v;
    return true;
}

int mount_parse_opts(char *s, struct mount_opts *o, char *err, size_t errlen)
{
    static const char *ignored[] = {"rw", "defaults", "auto", "noauto", "user", "nouser",
                                    "_netdev", "dev", "nodev", "suid", "nosuid", "exec",
                                    "noexec", "atime", "noatime", "relatime"};
    char *save = NULL;

    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *v = strchr(t, '=');
        bool ok = true, known = true;

        if (v)
            *v++ = '\0';
        if (strcmp(t, "cache") == 0 && v && *v) {
            o->cache_dir = v;
        } else if (strcmp(t, "ttl") == 0 && v) {
            char *end = NULL;
            double d;
            errno = 0;
            d = strtod(v, &end);
            ok = !errno && end != v && !*end && (d >= 0 || d == -1) && d < 1e9;
            o->ttl_ns = d < 0 ? -1 : (int64_t)(d * 1e9);
        } else if (strcmp(t, "ro") == 0 && !v) {
            o->read_only = true;
        } else if (strcmp(t, "uid") == 0) {
            ok = o->has_uid = parse_u32(v, 10, &o->uid);
        } else if (strcmp(t, "gid") == 0) {
            ok = o->has_gid = parse_u32(v, 10, &o->gid);
        } else if (strcmp(t, "umask") == 0) {
            ok = o->has_umask = parse_u32(v, 8, &o->umask) && o->umask <= 0777;
        } else if (strcmp(t, "allow_other") == 0 && !v) {
            o->allow_other = true;
        } else if (strcmp(t, "log") == 0 && v && *v) {
            o->log_file = v;
        } else if (strcmp(t, "log_level") == 0 && v) {
            o->log_level = log_level_parse(v);
            ok = o->log_level >= 0;
        } else if (strcmp(t, "part_size") == 0 && v) {
            ok = cli_parse_size(v, &o->part_size) == 0 && o->part_size >= (5u << 20) &&
                 o->part_size <= (4000ULL << 20);
        } else if (strcmp(t, "jobs") == 0 && v) {
            uint32_t j = 0;
            ok = parse_u32(v, 10, &j) && j >= 1 && j <= 16;
            o->jobs = (int)j;
        } else if (strcmp(t, "debug") == 0 && !v) {
            o->fuse_debug = true;
        } else if (strcmp(t, "server_mtime") == 0 && !v) {
            o->server_mtime = true;
        } else {
            known = false;
            for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
                if (strcmp(t, ignored[i]) == 0 && !v)
                    known = true;
        }
        if (!known) {
            snprintf(err, errlen, "unknown mount option '%s'", t);
            return -EINVAL;
        }
        if (!ok) {
            snprintf(err, errlen, "bad value for mount option '%s'%s%s", t, v ? ": " : "",
                     v ? v : "");
            return -EINVAL;
        }
    }
    return 0;
}

int mount_pidfile_path(const char *abs_mountpoint, char *out, size_t outlen)
{
    unsigned char h[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    const char *rt = getenv("XDG_RUNTIME_DIR");
    char dir[PATH_MAX];
    int n;

    crypto_sha256(abs_mountpoint, strlen(abs_mountpoint), h);
    crypto_hex(h, 12, hex);
    if (rt && *rt)
        n = snprintf(dir, sizeof(dir), "%s/bridgefs", rt);
    else
        n = snprintf(dir, sizeof(dir), "/tmp/bridgefs-%lu", (unsigned long)getuid());
    if (n < 0 || (size_t)n >= sizeof(dir))
        return -ENAMETOOLONG;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -errno;
    n = snprintf(out, outlen, "%s/mount-%s.pid", dir, hex);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* ---- mount ---- */

struct mount_job {
    const struct cli_ctx *ctx;
    const char *url;
    char mountpoint[PATH_MAX];
    struct mount_opts o;
    bool foreground;
    int ready_fd;          /* daemon: write end of the readiness pipe; -1 in the foreground */
    char pidfile[PATH_MAX];
    int exit_code;         /* when mounting failed */
};

/* Sends "CODE MESSAGE" to the waiting parent (or prints it in the foreground). */
static void report(struct mount_job *j, int code, const char *msg)
{
    char line[PATH_MAX + 2048];
    int n;

    if (j->ready_fd < 0) {
        if (code != CLI_EXIT_OK)
            fprintf(stderr, "bridgefs: %s\n", msg);
        return;
    }
    n = snprintf(line, sizeof(line), "%d %s", code, msg ? msg : "");
    if (n > 0 && write(j->ready_fd, line, (size_t)n) < 0)
        log_warn("mount: cannot report readiness: %s", strerror(errno));
    close(j->ready_fd);
    j->ready_fd = -1;
}

static void on_ready(void *ud, int err, const char *msg)
{
    struct mount_job *j = ud;
    char line[PATH_MAX + 2048];
    FILE *pf;
    int fd;

    if (err < 0) {
        snprintf(line, sizeof(line), "mount %s on %s: %s", j->url, j->mountpoint, msg);
        j->exit_code = CLI_EXIT_ERROR;
        report(j, CLI_EXIT_ERROR, line);
        return;
    }
    if (j->pidfile[0]) {
        pf = fopen(j->pidfile, "w");
        if (pf) {
            fprintf(pf, "%ld\n", (long)getpid());
            fclose(pf);
        }
    }
    if (!j->foreground) {
        /* detach from the terminal: the parent has printed what there was to print */
        fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, STDIN_FILENO);
            dup2(fd, STDOUT_FILENO);
            if (!j->o.log_file)
                dup2(fd, STDERR_FILENO);
            if (fd > 2)
                close(fd);
        }
        if (chdir("/") != 0)
            log_debug("mount: chdir /: %s", strerror(errno));
    }
    report(j, CLI_EXIT_OK, "");
}

/* Mounts and serves (the daemon child, or the foreground process). Returns an exit code. */
static int mount_run(struct mount_job *j)
{
    struct cli_store s;
    struct fs_config fc;
    struct mc_opts mo = {0};
    struct mc *mc = NULL;
    char err[512], line[1024], *ns = NULL, *fsname = NULL;
    const char *ep;
    size_t nl;
    int rc, code = CLI_EXIT_OK;
    FILE *lf = NULL;

    if (j->o.log_file) {
        lf = fopen(j->o.log_file, "a");
        if (!lf) {
            snprintf(line, sizeof(line), "mount: cannot open log file %s: %s", j->o.log_file,
                     strerror(errno));
            report(j, CLI_EXIT_ERROR, line);
            return CLI_EXIT_ERROR;
        }
        setvbuf(lf, NULL, _IOLBF, 0);
        log_set_stream(lf);
    }
    if (j->o.log_level >= 0)
        log_set_level(j->o.log_level);
    rc = store_open(j->ctx->hc, j->url, &s, err, sizeof(err));
    if (rc < 0) {
        snprintf(line, sizeof(line), "mount %s: %s", j->url, err);
        code = rc == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_ERROR;
        report(j, code, line);
        goto out_log;
    }
    rc = s.st->ops->check(s.st->be);
    if (rc < 0) {
        cli_format_error(line, sizeof(line), "mount", j->url, rc, os_last_error(), s.backend,
                         s.st->url_base, s.endpoint);
        code = cli_exit_code(rc, os_last_error()->kind);
        report(j, code, line);
        goto out_store;
    }
    ep = s.endpoint ? s.endpoint : (s.url.account ? s.url.account : "default");
    nl = strlen(s.backend) + strlen(ep) + strlen(s.url.bucket) + 3;
    ns = malloc(nl);
    fsname = malloc(strlen(s.st->url_base) + strlen(s.url.prefix) + 16);
    if (!ns || !fsname) {
        code = CLI_EXIT_ERROR;
        report(j, code, "mount: out of memory");
        goto out_store;
    }
    snprintf(ns, nl, "%s %s %s", s.backend, ep, s.url.bucket);
    sprintf(fsname, "bridgefs:%s%s%s", s.st->url_base, s.url.prefix[0] ? "/" : "", s.url.prefix);
    mo.folder = j->o.cache_dir;
    rc = mc_open(ns, &mo, &mc);
    if (rc < 0) {
        snprintf(line, sizeof(line), "mount %s: cannot open the metadata cache%s%s: %s", j->url,
                 j->o.cache_dir ? " in " : "", j->o.cache_dir ? j->o.cache_dir : "",
                 strerror(-rc));
        code = CLI_EXIT_ERROR;
        report(j, code, line);
        goto out_store;
    }
    fs_config_defaults(&fc);
    fc.root = s.url.prefix;
    fc.source_base = s.st->url_base;
    fc.fsname = fsname;
    if (j->o.ttl_ns != -2)
        fc.ttl_ns = j->o.ttl_ns;
    fc.read_only = j->o.read_only;
    fc.allow_other = j->o.allow_other;
    if (j->o.has_uid)
        fc.uid = j->o.uid;
    if (j->o.has_gid)
        fc.gid = j->o.gid;
    if (j->o.has_umask)
        fc.umask = j->o.umask;
    fc.part_size = (size_t)j->o.part_size;
    if (j->o.jobs > 0)
        fc.jobs = j->o.jobs;
    fc.fuse_debug = j->o.fuse_debug;
    fc.server_mtime = j->o.server_mtime;
    j->exit_code = CLI_EXIT_OK;
    rc = fs_serve(&fc, s.st, mc, j->mountpoint, on_ready, j);
    code = rc < 0 && j->exit_code == CLI_EXIT_OK ? CLI_EXIT_ERROR : j->exit_code;
    if (j->pidfile[0])
        unlink(j->pidfile);
out_store:
    mc_close(mc);
    store_close(&s);
out_log:
    free(ns);
    free(fsname);
    if (lf) {
        log_set_stream(NULL);
        fclose(lf);
    }
    return code;
}

/* Checks the mountpoint: exists, is a directory, is not already a mount point. */
static int check_mountpoint(const char *mp, char *abs, size_t abslen)
{
    struct stat st, pst;
    char parent[PATH_MAX + 4];

    if (stat(mp, &st) != 0) {
        int e = errno;
        if (e == ENOTCONN)
            return cli_failf(CLI_EXIT_ERROR, "mount",
                             "%s: a dead FUSE mount is still there: run fusermount3 -u %s", mp, mp);
        return cli_failf(e == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_ERROR, "mount",
                         "mountpoint %s: %s", mp, strerror(e));
    }
    if (!S_ISDIR(st.st_mode))
        return cli_failf(CLI_EXIT_USAGE, "mount", "mountpoint %s is not a directory", mp);
    if (!realpath(mp, abs) || strlen(abs) >= abslen)
        return cli_failf(CLI_EXIT_ERROR, "mount", "mountpoint %s: %s", mp, strerror(errno));
    snprintf(parent, sizeof(parent), "%s/..", abs);
    if (stat(parent, &pst) == 0 && (pst.st_dev != st.st_dev || pst.st_ino == st.st_ino) &&
        strcmp(abs, "/") != 0)
        return cli_failf(CLI_EXIT_ERROR, "mount", "mountpoint %s is busy: something is already "
                         "mounted there", mp);
    return -1;
}

int cli_cmd_mount(const struct cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"foreground", no_argument, NULL, 'f'},
        {"options", required_argument, NULL, 'o'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    struct mount_job j;
    char err[256], msg[PATH_MAX + 2048];
    char *optcopies[32];
    int nopt = 0, opt, rc, pfd[2];
    pid_t pid;
    ssize_t n;
    size_t got = 0;

    memset(&j, 0, sizeof(j));
    j.ctx = c;
    j.ready_fd = -1;
    j.o.ttl_ns = -2;
    j.o.log_level = -1;
    rc = -1;
    optind = 0;
    opterr = 0;
    for (;;) {
        opt = getopt_long(argc, argv, ":fo:hv", longopts, NULL);
        if (opt == -1)
            break;
        if (opt == 'f') {
            j.foreground = true;
        } else if (opt == 'o') {
            if (nopt == (int)(sizeof(optcopies) / sizeof(optcopies[0]))) {
                rc = cli_failf(CLI_EXIT_USAGE, "mount", "too many -o options");
                goto out;
            }
            optcopies[nopt] = strdup(optarg);
            if (!optcopies[nopt]) {
                rc = cli_failf(CLI_EXIT_ERROR, "mount", "out of memory");
                goto out;
            }
            if (mount_parse_opts(optcopies[nopt++], &j.o, err, sizeof(err)) < 0) {
                rc = cli_failf(CLI_EXIT_USAGE, "mount", "%s (see bridgefs mount --help)", err);
                goto out;
            }
        } else if (opt == 'h') {
            cli_mount_usage(stdout);
            rc = CLI_EXIT_OK;
            goto out;
        } else {
            rc = cli_common_opt("mount", opt, argc, argv);
            if (rc >= 0)
                goto out;
        }
    }
    if (argc - optind != 2) {
        rc = cli_failf(CLI_EXIT_USAGE, "mount", "needs URL and MOUNTPOINT (see bridgefs mount "
                       "--help)");
        goto out;
    }
    j.url = argv[optind];
    rc = check_mountpoint(argv[optind + 1], j.mountpoint, sizeof(j.mountpoint));
    if (rc >= 0)
        goto out;
    if (mount_pidfile_path(j.mountpoint, j.pidfile, sizeof(j.pidfile)) < 0)
        j.pidfile[0] = '\0';
    if (j.foreground) {
        rc = mount_run(&j);
        goto out;
    }
    if (pipe(pfd) != 0) {
        rc = cli_failf(CLI_EXIT_ERROR, "mount", "pipe: %s", strerror(errno));
        goto out;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        rc = cli_failf(CLI_EXIT_ERROR, "mount", "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        goto out;
    }
    if (pid == 0) {
        close(pfd[0]);
        setsid();
        j.ready_fd = pfd[1];
        rc = mount_run(&j);
        if (j.ready_fd >= 0) /* never got as far as mounting */
            report(&j, rc ? rc : CLI_EXIT_ERROR, "mount: the daemon stopped before mounting");
        _exit(rc);
    }
    close(pfd[1]);
    for (;;) {
        n = read(pfd[0], msg + got, sizeof(msg) - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof(msg) - 1)
            break;
    }
    close(pfd[0]);
    msg[got] = '\0';
    if (got == 0) {
        int st = 0;
        waitpid(pid, &st, 0);
        rc = cli_failf(CLI_EXIT_ERROR, "mount", "the mount daemon died before the mount was "
                       "ready");
        goto out;
    }
    rc = atoi(msg);
    if (rc != CLI_EXIT_OK) {
        const char *text = strchr(msg, ' ');
        fprintf(stderr, "bridgefs: %s\n", text ? text + 1 : msg);
        waitpid(pid, NULL, 0);
    }
out:
    for (int i = 0; i < nopt; i++)
        free(optcopies[i]);
    return rc;
}

/* ---- umount ---- */

static int run_fusermount(const char *mp, bool lazy)
{
    pid_t pid = fork();
    int st = 0;

    if (pid < 0)
        return -errno;
    if (pid == 0) {
        execlp("fusermount3", "fusermount3", lazy ? "-uz" : "-u", mp, (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) < 0)
        return -errno;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int cli_cmd_umount(const struct cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"lazy", no_argument, NULL, 'z'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    char abs[PATH_MAX], pidfile[PATH_MAX];
    bool lazy = false;
    long pid = 0;
    int opt, rc;
    FILE *f;

    (void)c;
    optind = 0;
    opterr = 0;
    for (;;) {
        opt = getopt_long(argc, argv, ":zhv", longopts, NULL);
        if (opt == -1)
            break;
        if (opt == 'z') {
            lazy = true;
        } else if (opt == 'h') {
            cli_umount_usage(stdout);
            return CLI_EXIT_OK;
        } else {
            rc = cli_common_opt("umount", opt, argc, argv);
            if (rc >= 0)
                return rc;
        }
    }
    if (argc - optind != 1)
        return cli_failf(CLI_EXIT_USAGE, "umount", "needs MOUNTPOINT");
    if (!realpath(argv[optind], abs)) {
        /* a dead mount (ENOTCONN) still unmounts by its name */
        snprintf(abs, sizeof(abs), "%s", argv[optind]);
    }
    if (mount_pidfile_path(abs, pidfile, sizeof(pidfile)) == 0) {
        f = fopen(pidfile, "r");
        if (f) {
            if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
            fclose(f);
        }
    }
    rc = run_fusermount(abs, lazy);
    if (rc != 0)
        return cli_failf(CLI_EXIT_ERROR, "umount", "fusermount3 -u %s failed%s", abs,
                         rc == 127 ? " (fusermount3 not found)" : "");
    /* wait for the daemon: it finishes uploads in flight before exiting */
    for (int i = 0; pid > 0 && !lazy && cli_pid_alive(pid); i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        if (i == 200)
            fprintf(stderr, "bridgefs: umount: waiting for the daemon (pid %ld) to finish "
                    "uploads\n", pid);
        nanosleep(&ts, NULL);
    }
    return CLI_EXIT_OK;
}
