/* usage: the help texts of bridgefs and its commands. */
#include <stdio.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/cmd_mount.h"
#include "tools/mirror.h"

static const char usage_main[] =
    "usage: bridgefs [GLOBAL OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Inspect and move objects in Amazon S3 buckets and Azure Blob containers.\n"
    "\n"
    "Commands:\n"
    "  ls [-l] [-R] URL          list a directory (prefix), or show one object\n"
    "  stat URL                  show an object's properties and metadata\n"
    "  cat [--range A-B] URL     write an object (or a byte range) to stdout\n"
    "  put [OPTIONS] FILE|- URL  upload a file, or stdin with '-'\n"
    "  rm [-r] URL               delete an object, or with -r everything under a prefix\n"
    "  mb [-p] URL               create a bucket or container\n"
    "  mount [-f] [-o OPT,...] URL MOUNTPOINT\n"
    "                            mount a bucket/container (or a prefix) with FUSE\n"
    "  umount [-z] MOUNTPOINT    unmount, waiting for uploads in flight\n"
    "  mirror [OPTIONS] SRC DST  make directory DST match SRC, incrementally\n"
    "                            (--mode merge keeps extras, the default; mirror deletes them)\n"
    "  verify [OPTIONS] SRC DST  compare two trees by size and MD5; exit 0 only when they match\n"
    "Run `bridgefs COMMAND --help` for a command's options.\n"
    "\n"
    "URLs:\n"
    "  s3://BUCKET[/PREFIX]\n"
    "  az://CONTAINER[/PREFIX]                              (account from credentials)\n"
    "  https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX][?SAS]\n"
    "\n"
    "Global options:\n"
    "  -v, --verbose             more log output (repeat: info, then debug)\n"
    "      --log-level LEVEL     error, warn (default), info, debug or trace\n"
    "  -h, --help                this help\n"
    "      --version             print the version\n"
    "\n"
    "Credentials:\n"
    "  S3:    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,\n"
    "         AWS_PROFILE (~/.aws/credentials, ~/.aws/config), AWS_ENDPOINT_URL\n"
    "  Azure: AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with\n"
    "         AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, or a SAS in the https URL\n"
    "Transport: BRIDGEFS_RETRIES, BRIDGEFS_RETRY_BASE_MS, BRIDGEFS_CONNECT_TIMEOUT_MS,\n"
    "           BRIDGEFS_STALL_TIMEOUT_S\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  other error\n"
    "  2  usage error, bad URL, missing credentials\n"
    "  3  not found (bucket, container, object)\n"
    "  4  access denied or bad credentials\n"
    "  5  network: endpoint unreachable, timeout, or server errors after all retries\n"
    "  6  object archived: restore / rehydrate it first\n"
    "  7  partial failure (some items failed, e.g. rm -r, mirror)\n"
    "  8  verify: the trees differ\n";

struct cmd_help {
    const char *name;
    const char *text;
};

static const struct cmd_help helps[] = {
    {"ls",
     "usage: bridgefs ls [-l] [-R] URL\n"
     "\n"
     "Lists the directory URL names, one entry per line, relative to it; directories end\n"
     "with '/'. A URL not ending in '/' is listed as a directory when PREFIX/ has entries,\n"
     "else shown as the one object it names.\n"
     "\n"
     "  -l, --long        SIZE  MTIME  MD5-OR-ETAG  NAME (UTC; '-' for a directory's size\n"
     "                    and hash, and for an unknown time)\n"
     "  -R, --recursive   every object below, as a flat listing\n"},
    {"stat",
     "usage: bridgefs stat URL\n"
     "\n"
     "Prints `key: value` lines: url, size, mtime, last_modified, etag, md5, content_type,\n"
     "storage_class, archived, dir_marker, and meta.KEY for each user-metadata pair.\n"},
    {"cat",
     "usage: bridgefs cat [--range START-END | --range START-] URL\n"
     "\n"
     "Writes the object to stdout as it arrives.\n"
     "\n"
     "  -r, --range R     only bytes START to END (inclusive), or from START to the end\n"},
    {"put",
     "usage: bridgefs put [OPTIONS] FILE|- URL\n"
     "\n"
     "Uploads FILE, or stdin for '-'. A URL ending in '/' puts the file under that prefix\n"
     "with its own name. Files under 8 MiB go in one request with their MD5; larger files\n"
     "and stdin stream as a multipart (S3) or block (Azure) upload, 4 parts at a time, with\n"
     "the MD5 of the whole stream stored. A failed upload leaves the old object intact.\n"
     "\n"
     "      --content-type T     Content-Type (default application/octet-stream)\n"
     "      --meta KEY=VALUE     user metadata (repeatable)\n"
     "      --mtime SECONDS      modification time to store (default: the file's)\n"
     "      --part-size SIZE     part size and single-request limit (e.g. 16M)\n"},
    {"rm",
     "usage: bridgefs rm [-r] URL\n"
     "\n"
     "Deletes one object (an absent object is an error, exit 3). With -r, deletes every\n"
     "object under PREFIX/ (directory markers included) in batches and prints the count.\n"
     "\n"
     "  -r, --recursive   delete everything under the prefix\n"},
    {"mb",
     "usage: bridgefs mb [-p] URL\n"
     "\n"
     "Creates the bucket or container. An existing one is an error unless -p.\n"
     "\n"
     "  -p, --exist-ok    succeed when it already exists\n"},
};

void cli_usage(FILE *f, const char *cmd)
{
    if (cmd && strcmp(cmd, "mount") == 0) {
        cli_mount_usage(f);
        return;
    }
    if (cmd && strcmp(cmd, "mirror") == 0) {
        fputs(mirror_help_text(), f);
        return;
    }
    if (cmd && strcmp(cmd, "verify") == 0) {
        fputs(verify_help_text(), f);
        return;
    }
    if (cmd && strcmp(cmd, "umount") == 0) {
        cli_umount_usage(f);
        return;
    }
    if (cmd) {
        for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
            if (strcmp(helps[i].name, cmd) == 0) {
                fputs(helps[i].text, f);
                fputs("\nAlso: -v/--verbose, --log-level LEVEL, -h/--help "
                      "(see `bridgefs --help` for exit codes).\n", f);
                return;
            }
        }
    }
    fputs(usage_main, f);
}
