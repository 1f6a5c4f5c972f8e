/* mc_bench: W8 micro-benchmark of the metadata cache (inserts, lookups, readdir, disk size). */
/*
 * Not part of the test suite (slow, big). Usage:
 *   mc_bench [-n ENTRIES] [-l LOOKUPS] [-t THREADS] [-d FOLDER] [-s] [-k]
 *     -n  entries to insert (default 10000000), as directories of 1000 files,
 *         each directory filled like a LIST: mc_dir_begin, one page, commit
 *     -l  random lookups (default 1000000), spread over -t threads (default 1)
 *     -d  cache folder (default: a new directory under /tmp, removed after)
 *     -s  no_sync (no fsync per transaction)
 *     -k  keep the folder
 * Prints entries/s, lookups/s, pages/s, on-disk size and bytes per entry.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cache/mcache.h"
#include "core/log.h"

#define PER_DIR 1000

struct lookup_arg {
    struct mc *c;
    long n;
    long ndirs;
    unsigned seed;
    long hits;
    int err;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void *lookup_main(void *p)
{
    struct lookup_arg *a = p;
    mc_time_t t = mc_now();
    struct mc_entry e;
    char path[64];
    int r;

    for (long i = 0; i < a->n; i++) {
        long d = (long)(rand_r(&a->seed) % (unsigned)a->ndirs);
        long f = (long)(rand_r(&a->seed) % PER_DIR);

        snprintf(path, sizeof(path), "bench/d%06ld/f%04ld.dat", d, f);
        r = mc_get(a->c, path, t, 3600 * MC_NS_PER_SEC, &e);
        if (r < 0) {
            a->err = r;
            break;
        }
        if (r == MC_FRESH && !e.negative)
            a->hits++;
        mc_entry_clear(&e);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = 10000000, lookups = 1000000;
    int threads = 1;
    const char *folder = NULL;
    char tmpl[] = "/tmp/mc-bench-XXXXXX";
    struct mc_opts o = {0};
    struct mc *c = NULL;
    struct mc_attr at[PER_DIR];
    const char *names[PER_DIR];
    char namebuf[PER_DIR][16];
    char mt[40];
    struct mc_stats st;
    struct rusage ru;
    bool keep = false;
    long ndirs;
    double t0, t1;
    int opt, err;

    while ((opt = getopt(argc, argv, "n:l:t:d:sk")) != -1) {
        switch (opt) {
        case 'n':
            n = atol(optarg);
            break;
        case 'l':
            lookups = atol(optarg);
            break;
        case 't':
            threads = atoi(optarg);
            break;
        case 'd':
            folder = optarg;
            break;
        case 's':
            o.no_sync = true;
            break;
        case 'k':
            keep = true;
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-n entries] [-l lookups] [-t threads] [-d folder] [-s] [-k]\n",
                    argv[0]);
            return 2;
        }
    }
    if (n < PER_DIR || threads < 1 || threads > 64) {
        fprintf(stderr, "mc_bench: -n must be >= %d, -t 1..64\n", PER_DIR);
        return 2;
    }
    if (!folder) {
        if (!mkdtemp(tmpl)) {
            perror("mkdtemp");
            return 1;
        }
        folder = tmpl;
    }
    log_set_level(LOGL_WARN);
    o.folder = folder;
    err = mc_open("s3 http://127.0.0.1:8080 bench", &o, &c);
    if (err < 0) {
        fprintf(stderr, "mc_open: %s\n", strerror(-err));
        return 1;
    }
    /* Realistic attributes: etag, md5, content type, class, rclone mtime. */
    for (int i = 0; i < PER_DIR; i++) {
        memset(&at[i], 0, sizeof(at[i]));
        snprintf(namebuf[i], sizeof(namebuf[i]), "f%04d.dat", i);
        names[i] = namebuf[i];
        at[i].info.size = 1000L * i + 17;
        at[i].info.mtime.tv_sec = 1714979289 + i;
        at[i].info.mtime.tv_nsec = 123456789;
        at[i].info.last_modified = at[i].info.mtime;
        at[i].info.etag = strdup("9e107d9d372bb6826bd81d3542a419d6");
        at[i].info.has_md5 = true;
        memset(at[i].info.md5, i & 0xff, 16);
        at[i].info.content_type = strdup("application/octet-stream");
        at[i].info.storage_class = strdup("STANDARD");
        snprintf(mt, sizeof(mt), "%ld.123456789", 1714979289L + i);
        at[i].info.meta = calloc(1, sizeof(*at[i].info.meta));
        at[i].info.n_meta = 1;
        at[i].info.meta[0].key = strdup("mtime");
        at[i].info.meta[0].value = strdup(mt);
    }

    ndirs = n / PER_DIR;
    t0 = now_s();
    for (long d = 0; d < ndirs; d++) {
        struct mc_dirfill *f = NULL;
        char dir[32];

        snprintf(dir, sizeof(dir), "bench/d%06ld", d);
        err = mc_dir_begin(c, dir, mc_now(), &f);
        if (err == 0)
            err = mc_dir_add_page(f, names, at, PER_DIR);
        err = err == 0 ? mc_dir_commit(f) : (mc_dir_abort(f), err);
        if (err < 0) {
            fprintf(stderr, "insert failed in dir %ld: %s\n", d, strerror(-err));
            goto out;
        }
        if (d > 0 && d % 1000 == 0) {
            mc_stats(c, &st);
            fprintf(stderr, "  %ld entries, %.0f/s, file %.1f MiB\n", d * PER_DIR,
                    (double)(d * PER_DIR) / (now_s() - t0), (double)st.file_size / 1048576.0);
        }
    }
    t1 = now_s();
    mc_stats(c, &st);
    printf("insert: %ld entries in %.1f s = %.0f entries/s (%ld directories of %d, %s)\n",
           ndirs * PER_DIR, t1 - t0, (double)(ndirs * PER_DIR) / (t1 - t0), ndirs, PER_DIR,
           o.no_sync ? "no_sync" : "fsync per transaction");
    printf("size: data.mdb %.1f MiB on disk, %.1f MiB in use, %.0f bytes/entry, map %.0f MiB, "
           "%u map growths\n",
           (double)st.file_size / 1048576.0, (double)st.used_bytes / 1048576.0,
           (double)st.used_bytes / (double)(ndirs * PER_DIR), (double)st.map_size / 1048576.0,
           st.grows);

    {
        pthread_t th[64];
        struct lookup_arg la[64];
        long hits = 0;

        t0 = now_s();
        for (int i = 0; i < threads; i++) {
            la[i] = (struct lookup_arg){c, lookups / threads, ndirs, 12345u + (unsigned)i, 0, 0};
            pthread_create(&th[i], NULL, lookup_main, &la[i]);
        }
        for (int i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            hits += la[i].hits;
            if (la[i].err)
                fprintf(stderr, "lookup error: %s\n", strerror(-la[i].err));
        }
        t1 = now_s();
        printf("lookup: %ld random lookups (%d threads) in %.2f s = %.0f lookups/s, %ld hits\n",
               (lookups / threads) * threads, threads, t1 - t0,
               (double)((lookups / threads) * threads) / (t1 - t0), hits);
    }

    {
        long pages = 0, ents = 0;
        long nd = ndirs < 1000 ? ndirs : 1000;
        struct mc_page p;

        t0 = now_s();
        for (long d = 0; d < nd; d++) {
            char dir[32];
            char last[32] = "";

            snprintf(dir, sizeof(dir), "bench/d%06ld", d);
            for (;;) {
                if (mc_dir_read(c, dir, last, 100, mc_now(), 3600 * MC_NS_PER_SEC, &p) < 0)
                    break;
                pages++;
                ents += (long)p.n;
                if (p.n)
                    snprintf(last, sizeof(last), "%s", p.ents[p.n - 1].name);
                if (p.eof || p.n == 0) {
                    mc_page_clear(&p);
                    break;
                }
                mc_page_clear(&p);
            }
        }
        t1 = now_s();
        printf("readdir: %ld entries in %ld pages of 100 in %.2f s = %.0f entries/s\n", ents, pages,
               t1 - t0, (double)ents / (t1 - t0));
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("memory: max RSS %ld MiB (LMDB pages are file-backed and shared)\n",
           ru.ru_maxrss / 1024);
out:
    for (int i = 0; i < PER_DIR; i++)
        mc_attr_clear(&at[i]);
    mc_close(c);
    if (!keep && folder == tmpl)
        nftw(tmpl, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return err < 0 ? 1 : 0;
}
