/* bfs_seed: puts COUNT small objects PREFIX/obj-NNNNNN under a URL with N threads (test helper). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "core/log.h"
#include "core/objstore.h"
#include "tools/store_open.h"

/* Shared by the workers; read-only except the two atomics. */
struct seed {
    struct cli_store s;
    const char *base;   /* key prefix ending in '/' or "" */
    long count;
    size_t size;
    atomic_long next;
    atomic_long failed;
};

static void *worker(void *arg)
{
    struct seed *sd = arg;
    size_t klen = strlen(sd->base) + 32;
    char *key = malloc(klen);
    char *body = malloc(sd->size + 1);

    if (!key || !body) {
        atomic_fetch_add(&sd->failed, 1);
        goto out;
    }
    for (;;) {
        long i = atomic_fetch_add(&sd->next, 1);
        int rc;
        if (i >= sd->count)
            break;
        snprintf(key, klen, "%sobj-%06ld", sd->base, i);
        for (size_t k = 0; k < sd->size; k++)
            body[k] = (char)('a' + (i + (long)k) % 26);
        rc = sd->s.st->ops->put(sd->s.st->be, key, body, sd->size, NULL);
        if (rc < 0) {
            const struct os_error *e = os_last_error();
            fprintf(stderr, "bfs_seed: put %s: %s (%s, HTTP %ld %s)\n", key, strerror(-rc),
                    os_errkind_str(e->kind), e->http_status, e->code);
            atomic_fetch_add(&sd->failed, 1);
        }
    }
out:
    free(key);
    free(body);
    return NULL;
}

int main(int argc, char **argv)
{
    struct http_config hcfg;
    struct http_client *hc = NULL;
    struct seed sd;
    pthread_t th[64];
    int jobs = 4, nth = 0, rc = 1;
    const char *url = NULL;
    long count = -1;
    char err[512];
    char *base = NULL;

    memset(&sd, 0, sizeof(sd));
    sd.size = 16;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
            jobs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            sd.size = (size_t)strtoul(argv[++i], NULL, 10);
        } else if (!url) {
            url = argv[i];
        } else if (count < 0) {
            count = strtol(argv[i], NULL, 10);
        } else {
            count = -1;
            break;
        }
    }
    if (!url || count < 0 || jobs < 1 || jobs > 64) {
        fprintf(stderr, "usage: bfs_seed URL COUNT [--jobs N (1-64)] [--size BYTES]\n");
        return 2;
    }
    http_config_defaults(&hcfg);
    hc = http_client_new(&hcfg);
    if (!hc) {
        fprintf(stderr, "bfs_seed: cannot start the HTTP client\n");
        return 1;
    }
    if (store_open(hc, url, &sd.s, err, sizeof(err)) < 0) {
        fprintf(stderr, "bfs_seed: %s: %s\n", url, err);
        rc = 2;
        goto out;
    }
    {
        const char *p = sd.s.url.prefix ? sd.s.url.prefix : "";
        size_t n = strlen(p);
        base = malloc(n + 2);
        if (!base)
            goto out;
        memcpy(base, p, n + 1);
        if (n > 0 && p[n - 1] != '/')
            strcat(base, "/");
        sd.base = base;
    }
    sd.count = count;
    atomic_init(&sd.next, 0);
    atomic_init(&sd.failed, 0);
    for (int i = 0; i < jobs; i++) {
        if (pthread_create(&th[nth], NULL, worker, &sd) == 0)
            nth++;
    }
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    if (nth == 0 || atomic_load(&sd.failed) > 0) {
        fprintf(stderr, "bfs_seed: %ld of %ld puts failed\n", atomic_load(&sd.failed), count);
        goto out;
    }
    rc = 0;
out:
    store_close(&sd.s);
    free(base);
    http_client_free(hc);
    return rc;
}
