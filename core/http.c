/* http: libcurl transport with a shared connection cache, a handle pool, retries and range resume. */
#include "core/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "core/log.h"
#include "core/objstore.h"

#define HTTP_ERR_BODY_MAX (1024 * 1024)
#define HTTP_BODY_MAX_DEFAULT (16u * 1024 * 1024)

/* ---- header lists ---- */

int http_hdrs_add(struct http_hdrs *h, const char *name, const char *value)
{
    struct http_hdr *nv;
    char *n, *v;
    size_t ncap;

    if (h->n == h->cap) {
        ncap = h->cap ? h->cap * 2 : 8;
        nv = realloc(h->v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        h->v = nv;
        h->cap = ncap;
    }
    n = strdup(name);
    v = strdup(value ? value : "");
    if (!n || !v) {
        free(n);
        free(v);
        return -ENOMEM;
    }
    h->v[h->n].name = n;
    h->v[h->n].value = v;
    h->n++;
    return 0;
}

int http_hdrs_set(struct http_hdrs *h, const char *name, const char *value)
{
    http_hdrs_del(h, name);
    return http_hdrs_add(h, name, value);
}

const char *http_hdrs_get(const struct http_hdrs *h, const char *name)
{
    size_t i;

    if (!h)
        return NULL;
    for (i = 0; i < h->n; i++)
        if (strcasecmp(h->v[i].name, name) == 0)
            return h->v[i].value;
    return NULL;
}

void http_hdrs_del(struct http_hdrs *h, const char *name)
{
    size_t i, o = 0;

    for (i = 0; i < h->n; i++) {
        if (strcasecmp(h->v[i].name, name) == 0) {
            free(h->v[i].name);
            free(h->v[i].value);
        } else {
            h->v[o++] = h->v[i];
        }
    }
    h->n = o;
}

int http_hdrs_copy(struct http_hdrs *dst, const struct http_hdrs *src)
{
    size_t i;
    int rc;

    if (!src)
        return 0;
    for (i = 0; i < src->n; i++) {
        rc = http_hdrs_add(dst, src->v[i].name, src->v[i].value);
        if (rc)
            return rc;
    }
    return 0;
}

void http_hdrs_free(struct http_hdrs *h)
{
    size_t i;

    if (!h)
        return;
    for (i = 0; i < h->n; i++) {
        free(h->v[i].name);
        free(h->v[i].value);
    }
    free(h->v);
    h->v = NULL;
    h->n = 0;
    h->cap = 0;
}

/* ---- configuration and client ---- */

static long http_env_long(const char *name, long def, long min, long max)
{
    const char *v = getenv(name);
    char *end = NULL;
    long n;

    if (!v || !*v)
        return def;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        log_warn("ignoring %s=%s: not a number between %ld and %ld", name, v, min, max);
        return def;
    }
    return n;
}

void http_config_defaults(struct http_config *c)
{
    memset(c, 0, sizeof(*c));
    c->connect_timeout_ms = http_env_long("BRIDGEFS_CONNECT_TIMEOUT_MS", 10000, 1, 600000);
    c->stall_timeout_s = http_env_long("BRIDGEFS_STALL_TIMEOUT_S", 60, 1, 3600);
    c->max_retries = (int)http_env_long("BRIDGEFS_RETRIES", 5, 0, 100);
    c->retry_base_ms = http_env_long("BRIDGEFS_RETRY_BASE_MS", 200, 0, 600000);
    c->retry_max_ms = 20000;
}

/*
 * The client. share_mu[] guards the CURLSH data (one mutex per lock kind);
 * pool_mu guards the idle handle pool. Lock order: pool_mu is never held
 * while curl runs, so it never nests with share_mu.
 */
struct http_client {
    struct http_config cfg;
    char *ca_file;                                  /* owned copy of cfg.ca_file */
    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_mu;
    CURL **pool;                                    /* idle handles, owned */
    size_t n_pool;
    size_t cap_pool;
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc;

static void http_global_init(void)
{
    http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void http_share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    struct http_client *hc = ud;

    (void)h;
    (void)access;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&hc->share_mu[data]);
}

static void http_share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    struct http_client *hc = ud;

    (void)h;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&hc->share_mu[data]);
}

struct http_client *http_client_new(const struct http_config *c)
{
    struct http_client *hc;
    int i;

    pthread_once(&http_once, http_global_init);
    if (http_global_rc != CURLE_OK)
        return NULL;
    hc = calloc(1, sizeof(*hc));
    if (!hc)
        return NULL;
    if (c)
        hc->cfg = *c;
    else
        http_config_defaults(&hc->cfg);
    if (hc->cfg.ca_file) {
        hc->ca_file = strdup(hc->cfg.ca_file);
        if (!hc->ca_file) {
            free(hc);
            return NULL;
        }
    }
    hc->cfg.ca_file = hc->ca_file;
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&hc->share_mu[i], NULL);
    pthread_mutex_init(&hc->pool_mu, NULL);
    hc->share = curl_share_init();
    if (!hc->share) {
        http_client_free(hc);
        return NULL;
    }
    curl_share_setopt(hc->share, CURLSHOPT_LOCKFUNC, http_share_lock);
    curl_share_setopt(hc->share, CURLSHOPT_UNLOCKFUNC, http_share_unlock);
    curl_share_setopt(hc->share, CURLSHOPT_USERDATA, hc);
    curl_share_setopt(hc->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(hc->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(hc->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    return hc;
}

void http_client_free(struct http_client *hc)
{
    size_t k;
    int i;

    if (!hc)
        return;
    /* Handles first: they hold references into the share. */
    for (k = 0; k < hc->n_pool; k++)
        curl_easy_cleanup(hc->pool[k]);
    free(hc->pool);
    if (hc->share)
        curl_share_cleanup(hc->share);
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&hc->share_mu[i]);
    pthread_mutex_destroy(&hc->pool_mu);
    free(hc->ca_file);
    free(hc);
}

/* An idle handle from the pool or a new one; NULL on allocation failure. */
static CURL *http_handle_get(struct http_client *hc)
{
    CURL *h = NULL;

    pthread_mutex_lock(&hc->pool_mu);
    if (hc->n_pool)
        h = hc->pool[--hc->n_pool];
    pthread_mutex_unlock(&hc->pool_mu);
    if (!h)
        h = curl_easy_init();
    return h;
}

/* Returns a handle to the pool (reset; its connection stays in the shared cache). */
static void http_handle_put(struct http_client *hc, CURL *h)
{
    CURL **np;
    size_t ncap;

    curl_easy_reset(h);
    pthread_mutex_lock(&hc->pool_mu);
    if (hc->n_pool == hc->cap_pool) {
        ncap = hc->cap_pool ? hc->cap_pool * 2 : 8;
        np = realloc(hc->pool, ncap * sizeof(*np));
        if (!np) {
            pthread_mutex_unlock(&hc->pool_mu);
            curl_easy_cleanup(h);
            return;
        }
        hc->pool = np;
        hc->cap_pool = ncap;
    }
    hc->pool[hc->n_pool++] = h;
    pthread_mutex_unlock(&hc->pool_mu);
}

/* ---- responses ---- */

void http_response_init(struct http_response *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, HTTP_BODY_MAX_DEFAULT);
}

void http_response_free(struct http_response *r)
{
    if (!r)
        return;
    http_hdrs_free(&r->hdrs);
    buf_free(&r->body);
}

/* ---- one attempt ---- */

/* State of one attempt, shared with the curl callbacks. */
struct http_xfer {
    const struct http_request *req;
    struct http_response *resp;
    size_t body_max;          /* cap for a 2xx body collected in resp->body */
    long status;              /* of the last status line seen */
    bool resuming;            /* this attempt asked for the rest of a GET */
    bool idempotent;          /* may be repeated (GET, HEAD, or the caller says so) */
    const char *etag;         /* first response's ETag when resuming; borrowed */
    bool checked_etag;
    uint64_t skip;            /* bytes to drop (server ignored our Range) */
    uint64_t delivered;       /* 2xx bytes given to the sink in this attempt */
    int abort_err;            /* why a callback stopped the transfer */
    size_t upload_off;        /* PUT body read position */
    long stall_ms;            /* abort when no byte moved for this long */
    struct timespec last_move;/* monotonic time bytes last moved (or the attempt began) */
    curl_off_t seen_dl, seen_ul;
    bool stalled;             /* the progress callback gave up on a stall */
};

static bool http_is_2xx(long s)
{
    return s >= 200 && s < 300;
}

static size_t http_header_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    struct http_xfer *x = ud;
    size_t len = size * nmemb, nl, vl;
    char *name = NULL, *value = NULL;
    const char *colon;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', len);

        /* A new status line: only the final response's headers are kept. */
        http_hdrs_free(&x->resp->hdrs);
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    colon = memchr(data, ':', len);
    if (!colon || colon == data || isspace((unsigned char)data[0]))
        return len;
    nl = (size_t)(colon - data);
    colon++;
    while (colon < data + len && (*colon == ' ' || *colon == '\t'))
        colon++;
    vl = (size_t)(data + len - colon);
    while (vl && isspace((unsigned char)colon[vl - 1]))
        vl--;
    name = strndup(data, nl);
    value = strndup(colon, vl);
    if (!name || !value || http_hdrs_add(&x->resp->hdrs, name, value) != 0) {
        free(name);
        free(value);
        x->abort_err = -ENOMEM;
        return 0;
    }
    free(name);
    free(value);
    return len;
}

static size_t http_write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    struct http_xfer *x = ud;
    const struct http_request *req = x->req;
    size_t total = size * nmemb, len = total, room, drop;
    int rc;

    if (!http_is_2xx(x->status)) {
        /* Error bodies: keep the first MiB, drop the rest. */
        x->resp->body.max = HTTP_ERR_BODY_MAX;
        room = HTTP_ERR_BODY_MAX > x->resp->body.len ? HTTP_ERR_BODY_MAX - x->resp->body.len : 0;
        if (room)
            (void)buf_append(&x->resp->body, data, len < room ? len : room);
        return total;
    }
    if (x->resuming && !x->checked_etag) {
        const char *now = http_hdrs_get(&x->resp->hdrs, "ETag");

        /* Belt and braces: If-Match should have stopped a changed object. */
        x->checked_etag = true;
        if (x->etag && now && strcmp(now, x->etag) != 0) {
            x->abort_err = -ESTALE;
            return 0;
        }
    }
    if (x->resuming && x->status != 206) {
        /* The server ignored our Range and sent the whole object again. */
        if (req->range_start >= 0) {
            x->abort_err = -EIO;
            return 0;
        }
        drop = x->skip < len ? (size_t)x->skip : len;
        x->skip -= drop;
        data += drop;
        len -= drop;
        if (!len)
            return total;
    }
    if (req->sink) {
        rc = req->sink(data, len, req->sink_ud);
        if (rc) {
            x->abort_err = rc < 0 ? rc : -EIO;
            return 0;
        }
        x->delivered += len;
        return total;
    }
    x->resp->body.max = x->body_max;
    rc = buf_append(&x->resp->body, data, len);
    if (rc) {
        x->abort_err = rc;
        return 0;
    }
    return total;
}

/* Feeds the in-memory PUT body to curl. */
static size_t http_read_cb(char *out, size_t size, size_t nmemb, void *ud)
{
    struct http_xfer *x = ud;
    size_t want = size * nmemb, left = x->req->body_len - x->upload_off;
    size_t n = want < left ? want : left;

    if (n)
        memcpy(out, (const char *)x->req->body + x->upload_off, n);
    x->upload_off += n;
    return n;
}

static int http_seek_cb(void *ud, curl_off_t off, int origin)
{
    struct http_xfer *x = ud;

    if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->req->body_len)
        return CURL_SEEKFUNC_FAIL;
    x->upload_off = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

static long http_ms_since(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/*
 * Stall detection. curl's LOW_SPEED options average over several seconds, so a
 * stall right after a burst is caught late; this aborts as soon as no byte has
 * moved in either direction for stall_ms (waiting for the first answer counts).
 */
static int http_xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                            curl_off_t ulnow)
{
    struct http_xfer *x = ud;

    if (dlnow != x->seen_dl || ulnow != x->seen_ul) {
        x->seen_dl = dlnow;
        x->seen_ul = ulnow;
        clock_gettime(CLOCK_MONOTONIC, &x->last_move);
        return 0;
    }
    if (http_ms_since(&x->last_move) >= x->stall_ms) {
        x->stalled = true;
        return 1;
    }
    return 0;
}

/* curl error -> negative errno. */
static int http_map_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_OK: return 0;
    case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return -EHOSTUNREACH;
    case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return -ECONNRESET;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED: return -EPROTO;
    case CURLE_OUT_OF_MEMORY: return -ENOMEM;
    default: return -EIO;
    }
}

/* Whether a transport failure happened before anything was sent (safe to repeat). */
static bool http_curl_before_send(CURLcode cc)
{
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
           cc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* The method-specific options. */
static void http_set_method(CURL *h, const struct http_request *req, struct http_xfer *x)
{
    const char *m = req->method ? req->method : "GET";

    if (strcmp(m, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, http_read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, x);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, http_seek_cb);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
    } else {
        /* POST, DELETE and anything else: body (if any) as POST fields. */
        if (strcmp(m, "POST") == 0 || req->body_len) {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        }
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    }
}

/*
 * Builds curl's header list: exactly the caller's headers, with curl's own
 * Accept, Expect and automatic Content-Type removed. NULL on allocation failure.
 */
static struct curl_slist *http_build_slist(const struct http_hdrs *hdrs)
{
    struct curl_slist *l = NULL, *t;
    char *line = NULL;
    size_t i;

    for (i = 0; i < hdrs->n; i++) {
        /* "Name;" is curl's way to send a header with an empty value. */
        int n;

        if (hdrs->v[i].value[0])
            n = asprintf(&line, "%s: %s", hdrs->v[i].name, hdrs->v[i].value);
        else
            n = asprintf(&line, "%s;", hdrs->v[i].name);
        if (n < 0)
            line = NULL;
        t = line ? curl_slist_append(l, line) : NULL;
        free(line);
        if (!t)
            goto fail;
        l = t;
    }
    if (!http_hdrs_get(hdrs, "Accept")) {
        t = curl_slist_append(l, "Accept:");
        if (!t)
            goto fail;
        l = t;
    }
    if (!http_hdrs_get(hdrs, "Content-Type")) {
        t = curl_slist_append(l, "Content-Type:");
        if (!t)
            goto fail;
        l = t;
    }
    t = curl_slist_append(l, "Expect:");
    if (!t)
        goto fail;
    return t;
fail:
    curl_slist_free_all(l);
    return NULL;
}

/* Copies s into out with any query string removed (SAS tokens live there). */
static void http_strip_query(const char *s, char *out, size_t outlen)
{
    size_t n = strcspn(s, "?#");

    snprintf(out, outlen, "%.*s", (int)n, s);
}

/* Retry-After in ms (delta seconds or HTTP date), or -1. */
static long http_retry_after_ms(const struct http_hdrs *h)
{
    const char *v = http_hdrs_get(h, "Retry-After");
    struct timespec ts;
    char *end = NULL;
    long s;
    time_t now;

    if (!v || !*v)
        return -1;
    if (isdigit((unsigned char)v[0])) {
        s = strtol(v, &end, 10);
        if (*end || s < 0)
            return -1;
        return s > 86400 ? 86400000L : s * 1000;
    }
    if (os_time_parse(v, &ts) != 0)
        return -1;
    now = time(NULL);
    if (ts.tv_sec <= now)
        return 0;
    return ts.tv_sec - now > 86400 ? 86400000L : (long)(ts.tv_sec - now) * 1000;
}

/* Full-jitter exponential backoff for retry number n (0-based). */
static long http_backoff_ms(const struct http_config *c, int n)
{
    static _Thread_local unsigned int seed;
    long cap = c->retry_base_ms;
    int i;

    if (!seed)
        seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)&cap;
    for (i = 0; i < n && cap < c->retry_max_ms; i++)
        cap *= 2;
    if (cap > c->retry_max_ms)
        cap = c->retry_max_ms;
    if (cap <= 0)
        return 0;
    return (long)(rand_r(&seed) % (unsigned long)(cap + 1));
}

static void http_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static bool http_status_retryable(long s)
{
    return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/* Short words for the retry log line. */
static const char *http_curl_why(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT: return "connection refused";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "name resolution failure";
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: return "connection reset";
    case CURLE_GOT_NOTHING: return "empty reply";
    case CURLE_PARTIAL_FILE: return "connection reset mid-body";
    default: return curl_easy_strerror(cc);
    }
}

/*
 * Runs one attempt on a pooled handle with the given (signed) headers.
 * *setup_err is set when the attempt could not even start.
 */
static CURLcode http_perform(struct http_client *hc, const struct http_request *req,
                             const struct http_hdrs *hdrs, struct http_xfer *x, char *errbuf,
                             int *setup_err)
{
    const struct http_config *cfg = &hc->cfg;
    struct curl_slist *sl = NULL;
    CURLcode cc;
    CURL *h;
    long code = 0;

    *setup_err = 0;
    h = http_handle_get(hc);
    if (!h) {
        *setup_err = -ENOMEM;
        return CURLE_OUT_OF_MEMORY;
    }
    sl = http_build_slist(hdrs);
    if (!sl) {
        http_handle_put(hc, h);
        *setup_err = -ENOMEM;
        return CURLE_OUT_OF_MEMORY;
    }
    curl_easy_setopt(h, CURLOPT_SHARE, hc->share);
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    /* Keys like "a/../b" are names, not paths to squash: send them as signed. */
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000L);
    x->stall_ms = 1000L * (cfg->stall_timeout_s > 0 ? cfg->stall_timeout_s : 60L);
    clock_gettime(CLOCK_MONOTONIC, &x->last_move);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, http_xferinfo_cb);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (cfg->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* curl silently resends a request once when a reused connection turns out
     * dead; a step that must not be repeated gets a connection of its own. */
    if (!x->idempotent)
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    http_set_method(h, req, x);
    cc = curl_easy_perform(h);
    if (cc == CURLE_ABORTED_BY_CALLBACK && x->stalled) {
        cc = CURLE_OPERATION_TIMEDOUT;
        snprintf(errbuf, CURL_ERROR_SIZE, "no data moved for %ld s (stall timeout)",
                 x->stall_ms / 1000);
    }
    if (cc == CURLE_OK && curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
        code > 0)
        x->status = code;
    if (log_get_level() >= LOGL_DEBUG) { /* one line a request (log_level=debug); redacted */
        curl_off_t us = 0;
        curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us);
        log_debug("http: %s %s -> %ld%s%s in %.1f ms", req->method ? req->method : "GET",
                  req->url, code, cc == CURLE_OK ? "" : ", ", cc == CURLE_OK ? "" : http_curl_why(cc),
                  (double)us / 1000.0);
    }
    curl_slist_free_all(sl);
    http_handle_put(hc, h);
    return cc;
}

/* Adds Range (and If-Match when resuming) to the headers of one attempt. */
static int http_add_range(const struct http_request *req, struct http_hdrs *hdrs,
                          uint64_t delivered, const char *etag)
{
    char v[64];
    int64_t start = req->range_start >= 0 ? req->range_start : 0;
    int rc;

    if (req->range_start < 0 && delivered == 0)
        return 0;
    start += (int64_t)delivered;
    if (req->range_end >= 0)
        snprintf(v, sizeof(v), "bytes=%lld-%lld", (long long)start, (long long)req->range_end);
    else
        snprintf(v, sizeof(v), "bytes=%lld-", (long long)start);
    rc = http_hdrs_set(hdrs, "Range", v);
    if (rc == 0 && delivered > 0 && etag)
        rc = http_hdrs_set(hdrs, "If-Match", etag);
    return rc;
}

/* Sets resp->error (truncated, redacted). */
static void http_seterr(struct http_response *resp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void http_seterr(struct http_response *resp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(resp->error, sizeof(resp->error), fmt, ap);
    va_end(ap);
    log_redact(resp->error, sizeof(resp->error));
}

int http_do(struct http_client *hc, const struct http_request *req, struct http_response *resp)
{
    const struct http_config *cfg = &hc->cfg;
    const char *method = req->method ? req->method : "GET";
    bool is_get = strcmp(method, "GET") == 0;
    /* GET and HEAD are idempotent whatever the caller says. */
    bool idem = req->idempotent || is_get || strcmp(method, "HEAD") == 0;
    int max_retries = cfg->max_retries > 0 ? cfg->max_retries : 0;
    uint64_t delivered = 0;
    char *etag = NULL;
    char what[512], url_noq[400], why[160];
    int rc = 0, attempt;

    http_strip_query(req->url, url_noq, sizeof(url_noq));
    if (req->what)
        snprintf(what, sizeof(what), "%s", req->what);
    else
        snprintf(what, sizeof(what), "%s %s", method, url_noq);
    resp->error[0] = '\0';
    for (attempt = 0;; attempt++) {
        struct http_hdrs hdrs = {0};
        struct http_xfer x;
        char errbuf[CURL_ERROR_SIZE];
        CURLcode cc;
        long wait_ms;
        bool retry;

        memset(&x, 0, sizeof(x));
        x.req = req;
        x.resp = resp;
        x.body_max = req->body_max ? req->body_max : HTTP_BODY_MAX_DEFAULT;
        x.resuming = delivered > 0;
        x.idempotent = idem;
        x.etag = etag;
        x.skip = delivered;
        errbuf[0] = '\0';
        http_hdrs_free(&resp->hdrs);
        buf_reset(&resp->body);
        resp->status = 0;
        resp->error[0] = '\0';
        resp->attempts = attempt + 1;

        rc = http_hdrs_copy(&hdrs, req->hdrs);
        if (rc == 0)
            rc = http_add_range(req, &hdrs, delivered, etag);
        if (rc == 0 && req->sign)
            rc = req->sign(req->sign_ud, method, req->url, &hdrs, req->body, req->body_len);
        if (rc) {
            http_hdrs_free(&hdrs);
            http_seterr(resp, "could not prepare %s: %s", what,
                     strerror(-rc));
            goto out;
        }
        cc = http_perform(hc, req, &hdrs, &x, errbuf, &rc);
        http_hdrs_free(&hdrs);
        if (rc) {
            http_seterr(resp, "could not start %s: %s", what,
                     strerror(-rc));
            goto out;
        }
        delivered += x.delivered;
        if (!etag && req->sink && is_get && http_is_2xx(x.status) &&
            http_hdrs_get(&resp->hdrs, "ETag")) {
            etag = strdup(http_hdrs_get(&resp->hdrs, "ETag"));
            if (!etag) {
                rc = -ENOMEM;
                goto out;
            }
        }
        if (x.abort_err) {
            rc = x.abort_err;
            if (rc == -ESTALE)
                http_seterr(resp, "object changed during read (%s)", what);
            else if (rc == -E2BIG)
                http_seterr(resp, "response body of %s larger than %zu bytes",
                         what, x.body_max);
            else if (x.resuming && x.status != 206 && req->range_start >= 0)
                http_seterr(resp, "server ignored Range resuming %s",
                         what);
            else
                http_seterr(resp, "receiving %s stopped: %s", what,
                         strerror(-rc));
            resp->status = 0;
            goto out;
        }
        if (cc == CURLE_OK) {
            resp->status = x.status;
            if (x.resuming && x.status == 412) {
                rc = -ESTALE;
                http_seterr(resp, "object changed during read (%s)",
                         what);
                goto out;
            }
            retry = attempt < max_retries &&
                    (http_status_retryable(x.status) || (req->retryable && req->retryable(resp))) &&
                    (idem || x.status == 429 || x.status == 503);
            if (!retry) {
                rc = 0;
                goto out;
            }
            snprintf(why, sizeof(why), "HTTP %ld", x.status);
            wait_ms = http_retry_after_ms(&resp->hdrs);
            if (wait_ms < 0)
                wait_ms = http_backoff_ms(cfg, attempt);
            else if (wait_ms > cfg->retry_max_ms)
                wait_ms = cfg->retry_max_ms;
        } else {
            rc = http_map_curl(cc);
            resp->status = 0;
            http_seterr(resp, "%s: %s", url_noq,
                     errbuf[0] ? errbuf : curl_easy_strerror(cc));
            retry = attempt < max_retries && (idem || http_curl_before_send(cc));
            if (retry && delivered > 0 && !etag) {
                /* Without an ETag the rest could come from a different object. */
                retry = false;
            }
            if (!retry)
                goto out;
            snprintf(why, sizeof(why), "%s", http_curl_why(cc));
            wait_ms = http_backoff_ms(cfg, attempt);
        }
        log_info("retrying %s after %s (attempt %d of %d, waiting %ld ms)", what, why,
                 attempt + 2, max_retries + 1, wait_ms);
        http_sleep_ms(wait_ms);
    }
out:
    free(etag);
    return rc;
}
