/* cmd_mount: the `mount` and `umount` subcommands (FUSE mount of a bucket or container). */
#ifndef BFS_TOOLS_CMD_MOUNT_H
#define BFS_TOOLS_CMD_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cli_ctx;

/* argv[0] is the command name. Exit codes as tools/exitcodes.h. */
int cli_cmd_mount(const struct cli_ctx *c, int argc, char **argv);
int cli_cmd_umount(const struct cli_ctx *c, int argc, char **argv);
/* The help text of `mount` / `umount`. */
void cli_mount_usage(FILE *f);
void cli_umount_usage(FILE *f);

/* What `-o opt,...` sets (strings point into the option text, which must stay alive). */
struct mount_opts {
    const char *cache_dir;   /* cache=DIR */
    int64_t ttl_ns;          /* ttl=SECONDS (decimal allowed; -1 never expires) */
    bool read_only;          /* ro */
    bool has_uid, has_gid;
    uint32_t uid, gid;       /* uid=, gid= */
    bool has_umask;
    uint32_t umask;          /* umask= (octal) */
    bool allow_other;        /* allow_other */
    const char *log_file;    /* log=FILE */
    int log_level;           /* log_level=; -1 when not given */
    uint64_t part_size;      /* part_size=SIZE; 0: the backend's */
    int jobs;                /* jobs=N; 0: default */
    bool fuse_debug;         /* debug */
    bool server_mtime;       /* server_mtime */
};

/* Parses one comma-separated -o value into o (which the caller zeroes/defaults once:
 * ttl_ns = -2 means "not given", log_level = -1). Modifies s in place (commas become
 * NULs). Unknown options fail with -EINVAL and the name in err; generic mount(8)
 * options (rw, defaults, auto, noauto, user, nouser, _netdev, dev, nodev, suid, nosuid,
 * exec, noexec) are accepted and ignored. */
int mount_parse_opts(char *s, struct mount_opts *o, char *err, size_t errlen);

/* The run-time file that records the daemon's pid for a mountpoint (absolute path).
 * 0 or -ENOMEM / -ENAMETOOLONG. */
int mount_pidfile_path(const char *abs_mountpoint, char *out, size_t outlen);

#endif
