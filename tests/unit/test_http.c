/* test_http: the libcurl transport against a scripted HTTP server on 127.0.0.1 run in threads. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/http.h"
#include "core/log.h"

/* ---- the scripted server ---- */

enum srv_mode {
    SRV_FULL = 0,     /* send raw, keep the connection */
    SRV_CLOSE,        /* send raw (maybe partial), then close */
    SRV_STALL,        /* send raw, then send nothing until the client gives up */
    SRV_BIG,          /* send raw headers then big_len bytes of 'x' */
};

struct srv_action {
    const char *raw;
    int mode;
    size_t big_len;
};

#define SRV_MAX_ACTIONS 64
#define SRV_MAX_REQS 256
#define SRV_MAX_CONNS 64

static struct {
    int lfd;
    int port;
    pthread_t accept_th;
    pthread_mutex_t mu;
    struct srv_action actions[SRV_MAX_ACTIONS];
    int n_actions, next_action;
    char *reqs[SRV_MAX_REQS];   /* request head + "\n--body--\n" + body */
    int n_reqs;
    int n_conns;
    pthread_t conn_th[SRV_MAX_CONNS];
    int conn_fd[SRV_MAX_CONNS];
    volatile int stop;
} srv;

static void srv_script(const struct srv_action *a, int n)
{
    pthread_mutex_lock(&srv.mu);
    for (int i = 0; i < n; i++)
        srv.actions[i] = a[i];
    srv.n_actions = n;
    srv.next_action = 0;
    for (int i = 0; i < srv.n_reqs; i++)
        free(srv.reqs[i]);
    srv.n_reqs = 0;
    pthread_mutex_unlock(&srv.mu);
}

static int srv_nreqs(void)
{
    int n;

    pthread_mutex_lock(&srv.mu);
    n = srv.n_reqs;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

/* Request i as the server saw it; "" when absent. Borrowed until the next srv_script. */
static const char *srv_req(int i)
{
    const char *r;

    pthread_mutex_lock(&srv.mu);
    r = i < srv.n_reqs ? srv.reqs[i] : "";
    pthread_mutex_unlock(&srv.mu);
    return r;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *srv_conn(void *arg)
{
    int fd = (int)(long)arg;
    char *buf = malloc(1 << 20);
    size_t len = 0;

    for (;;) {
        char *end;
        size_t head_len, body_len = 0, need;
        const char *cl;
        struct srv_action a = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", SRV_FULL, 0};
        char *rec;

        while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
            ssize_t r = recv(fd, buf + len, (1 << 20) - len - 1, 0);

            if (r <= 0)
                goto out;
            len += (size_t)r;
        }
        head_len = (size_t)(end - buf) + 4;
        buf[len] = '\0';
        cl = strcasestr(buf, "\r\nContent-Length:");
        if (cl && cl < end)
            body_len = strtoul(cl + 17, NULL, 10);
        need = head_len + body_len;
        while (len < need) {
            ssize_t r = recv(fd, buf + len, (1 << 20) - len - 1, 0);

            if (r <= 0)
                goto out;
            len += (size_t)r;
        }
        rec = malloc(need + 16);
        memcpy(rec, buf, head_len);
        memcpy(rec + head_len, "--body--", 8);
        memcpy(rec + head_len + 8, buf + head_len, body_len);
        rec[need + 8] = '\0';
        memmove(buf, buf + need, len - need);
        len -= need;

        pthread_mutex_lock(&srv.mu);
        if (srv.n_reqs < SRV_MAX_REQS)
            srv.reqs[srv.n_reqs++] = rec;
        else
            free(rec);
        if (srv.next_action < srv.n_actions)
            a = srv.actions[srv.next_action++];
        pthread_mutex_unlock(&srv.mu);

        if (send_all(fd, a.raw, strlen(a.raw)))
            goto out;
        if (a.mode == SRV_CLOSE)
            goto out;
        if (a.mode == SRV_STALL) {
            struct pollfd p = {fd, POLLIN, 0};

            poll(&p, 1, 10000);
            goto out;
        }
        if (a.mode == SRV_BIG) {
            char chunk[65536];
            size_t left = a.big_len;

            memset(chunk, 'x', sizeof(chunk));
            while (left) {
                size_t n = left < sizeof(chunk) ? left : sizeof(chunk);

                if (send_all(fd, chunk, n))
                    goto out;
                left -= n;
            }
        }
    }
out:
    free(buf);
    close(fd);
    return NULL;
}

static void *srv_accept(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(srv.lfd, NULL, NULL);

        if (fd < 0) {
            if (srv.stop)
                break;
            if (errno == EINTR)
                continue;
            break;
        }
        pthread_mutex_lock(&srv.mu);
        if (srv.n_conns < SRV_MAX_CONNS) {
            srv.conn_fd[srv.n_conns] = fd;
            pthread_create(&srv.conn_th[srv.n_conns], NULL, srv_conn, (void *)(long)fd);
            srv.n_conns++;
        } else {
            close(fd);
        }
        pthread_mutex_unlock(&srv.mu);
    }
    return NULL;
}

static int srv_start(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int one = 1;

    pthread_mutex_init(&srv.mu, NULL);
    srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)) || listen(srv.lfd, 64))
        return -1;
    getsockname(srv.lfd, (struct sockaddr *)&a, &al);
    srv.port = ntohs(a.sin_port);
    return pthread_create(&srv.accept_th, NULL, srv_accept, NULL);
}

static void srv_stop(void)
{
    srv.stop = 1;
    shutdown(srv.lfd, SHUT_RDWR);
    close(srv.lfd);
    pthread_join(srv.accept_th, NULL);
    for (int i = 0; i < srv.n_conns; i++) {
        shutdown(srv.conn_fd[i], SHUT_RDWR);
        pthread_join(srv.conn_th[i], NULL);
    }
    srv_script(NULL, 0);
    pthread_mutex_destroy(&srv.mu);
}

/* ---- helpers ---- */

static char url[256];

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static struct http_client *client(int retries, long stall_s)
{
    struct http_config c;

    http_config_defaults(&c);
    c.max_retries = retries;
    c.retry_base_ms = 10;
    c.retry_max_ms = 3000;
    c.connect_timeout_ms = 2000;
    c.stall_timeout_s = stall_s;
    return http_client_new(&c);
}

static struct http_request get_req(const char *u)
{
    struct http_request r;

    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.url = u;
    r.range_start = -1;
    r.range_end = -1;
    r.idempotent = true;
    return r;
}

static int collect_sink(const void *data, size_t len, void *ud)
{
    return buf_append(ud, data, len);
}

static int enospc_sink(const void *data, size_t len, void *ud)
{
    (void)data;
    (void)len;
    (void)ud;
    return -ENOSPC;
}

static int sign_calls;
static char signed_range[64];
static int count_sign(void *ud, const char *method, const char *u, struct http_hdrs *h,
                      const void *body, size_t body_len)
{
    const char *r = http_hdrs_get(h, "range");

    (void)ud;
    (void)method;
    (void)u;
    (void)body;
    (void)body_len;
    sign_calls++;
    snprintf(signed_range, sizeof(signed_range), "%s", r ? r : "");
    return http_hdrs_add(h, "Authorization", "test-signature");
}

struct thr_arg {
    struct http_client *hc;
    int ok;
};

static void *parallel_gets(void *arg)
{
    struct thr_arg *t = arg;

    t->ok = 1;
    for (int i = 0; i < 10; i++) {
        struct http_request r = get_req(url);
        struct http_response resp;

        http_response_init(&resp);
        if (http_do(t->hc, &r, &resp) != 0 || resp.status != 200 ||
            strcmp(buf_str(&resp.body), "ok") != 0)
            t->ok = 0;
        http_response_free(&resp);
    }
    return NULL;
}

/* ---- tests ---- */

static void test_hdrs(void)
{
    struct http_hdrs h = {0}, c = {0};

    http_hdrs_add(&h, "Content-Type", "text/plain");
    http_hdrs_add(&h, "x-amz-meta-a", "1");
    http_hdrs_add(&h, "X-Amz-Meta-A", "2");
    CHECK_STREQ(http_hdrs_get(&h, "content-type"), "text/plain", "http_hdrs_get_case_insensitive");
    CHECK_STREQ(http_hdrs_get(&h, "X-AMZ-META-A"), "1", "http_hdrs_get_first");
    http_hdrs_set(&h, "x-amz-meta-a", "3");
    CHECK(h.n == 2 && strcmp(http_hdrs_get(&h, "x-amz-meta-a"), "3") == 0, "http_hdrs_set_replaces",
          "n=%zu", h.n);
    http_hdrs_copy(&c, &h);
    http_hdrs_del(&h, "CONTENT-TYPE");
    CHECK(h.n == 1 && !http_hdrs_get(&h, "content-type") && c.n == 2, "http_hdrs_del_and_copy",
          "n=%zu c=%zu", h.n, c.n);
    http_hdrs_free(&h);
    http_hdrs_free(&c);
    http_hdrs_free(NULL);
}

static void test_basic(struct http_client *hc)
{
    struct srv_action a[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Custom-Thing: Val\r\nETag: \"abc\"\r\n\r\nhello",
         SRV_FULL, 0},
    };
    struct http_hdrs h = {0};
    struct http_request r = get_req(url);
    struct http_response resp;
    int rc;

    srv_script(a, 1);
    http_hdrs_add(&h, "x-amz-date", "20240506T000000Z");
    r.hdrs = &h;
    http_response_init(&resp);
    rc = http_do(hc, &r, &resp);
    CHECK(rc == 0 && resp.status == 200 && resp.attempts == 1, "http_get_200",
          "rc=%d status=%ld attempts=%d err=%s", rc, resp.status, resp.attempts, resp.error);
    CHECK_STREQ(buf_str(&resp.body), "hello", "http_get_200_body");
    CHECK_STREQ(http_hdrs_get(&resp.hdrs, "x-custom-thing"), "Val",
                "http_response_headers_case_insensitive");
    CHECK_STREQ(http_hdrs_get(&resp.hdrs, "ETAG"), "\"abc\"", "http_response_etag");
    CHECK(strstr(srv_req(0), "GET /obj HTTP/1.1\r\n") && strstr(srv_req(0), "x-amz-date: 2024") &&
              strstr(srv_req(0), "Host: 127.0.0.1") && !strcasestr(srv_req(0), "\r\nAccept:") &&
              !strcasestr(srv_req(0), "\r\nUser-Agent:"),
          "http_request_exact_headers", "req=%s", srv_req(0));
    http_response_free(&resp);

    /* Range header rendered by the transport. */
    srv_script(NULL, 0);
    r.range_start = 10;
    r.range_end = 19;
    http_response_init(&resp);
    http_do(hc, &r, &resp);
    CHECK(strstr(srv_req(0), "\r\nRange: bytes=10-19\r\n"), "http_range_header", "req=%s",
          srv_req(0));
    http_response_free(&resp);
    srv_script(NULL, 0);
    r.range_end = -1;
    http_response_init(&resp);
    http_do(hc, &r, &resp);
    CHECK(strstr(srv_req(0), "\r\nRange: bytes=10-\r\n"), "http_range_open_ended", "req=%s",
          srv_req(0));
    http_response_free(&resp);
    http_hdrs_free(&h);

    /* Connection reuse: the earlier requests all went over one connection. */
    CHECK(srv.n_conns == 1, "http_connection_reused", "connections=%d", srv.n_conns);
}

static void test_methods(struct http_client *hc)
{
    struct http_request r = get_req(url);
    struct http_response resp;
    int rc;

    srv_script(NULL, 0);
    r.method = "PUT";
    r.body = "";
    r.body_len = 0;
    http_response_init(&resp);
    rc = http_do(hc, &r, &resp);
    CHECK(rc == 0 && strstr(srv_req(0), "PUT /obj HTTP/1.1\r\n") &&
              strstr(srv_req(0), "\r\nContent-Length: 0\r\n") &&
              !strcasestr(srv_req(0), "\r\nExpect:") &&
              !strcasestr(srv_req(0), "\r\nContent-Type:") &&
              !strcasestr(srv_req(0), "\r\nTransfer-Encoding:"),
          "http_put_empty_content_length_0", "rc=%d req=%s", rc, srv_req(0));
    http_response_free(&resp);

    srv_script(NULL, 0);
    r.body = "0123456789";
    r.body_len = 10;
    http_response_init(&resp);
    rc = http_do(hc, &r, &resp);
    CHECK(rc == 0 && strstr(srv_req(0), "\r\nContent-Length: 10\r\n") &&
              strstr(srv_req(0), "--body--0123456789"),
          "http_put_body_sent", "rc=%d req=%s", rc, srv_req(0));
    http_response_free(&resp);

    srv_script(NULL, 0);
    r.method = "POST";
    r.body = "<Delete/>";
    r.body_len = 9;
    http_response_init(&resp);
    rc = http_do(hc, &r, &resp);
    CHECK(rc == 0 && strstr(srv_req(0), "POST /obj HTTP/1.1\r\n") &&
              strstr(srv_req(0), "--body--<Delete/>") &&
              !strcasestr(srv_req(0), "\r\nContent-Type:") &&
              !strcasestr(srv_req(0), "\r\nExpect:"),
          "http_post_body_no_auto_content_type", "rc=%d req=%s", rc, srv_req(0));
    http_response_free(&resp);

    srv_script(NULL, 0);
    r.method = "DELETE";
    r.body = NULL;
    r.body_len = 0;
    http_response_init(&resp);
    rc = http_do(hc, &r, &resp);
    CHECK(rc == 0 && strstr(srv_req(0), "DELETE /obj HTTP/1.1\r\n"), "http_delete",
          "rc=%d req=%s", rc, srv_req(0));
    http_response_free(&resp);

    {
        struct srv_action a[] = {
            {"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nLast-Modified: x\r\n\r\n", SRV_FULL, 0}};

        srv_script(a, 1);
        r.method = "HEAD";
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == 0 && resp.status == 200 && resp.body.len == 0 &&
                  strcmp(http_hdrs_get(&resp.hdrs, "content-length"), "1234") == 0 &&
                  strstr(srv_req(0), "HEAD /obj HTTP/1.1\r\n"),
              "http_head", "rc=%d status=%ld", rc, resp.status);
        http_response_free(&resp);
    }
}

static void test_retries(struct http_client *hc, struct http_client *hc2)
{
    struct http_request r = get_req(url);
    struct http_response resp;
    double t0;
    int rc;

    {
        struct srv_action a[] = {
            {"HTTP/1.1 503 Slow Down\r\nContent-Length: 4\r\n\r\nbusy", SRV_FULL, 0},
            {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", SRV_FULL, 0}};

        srv_script(a, 2);
        sign_calls = 0;
        r.sign = count_sign;
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == 0 && resp.status == 200 && resp.attempts == 2 &&
                  strcmp(buf_str(&resp.body), "ok") == 0,
              "http_503_then_200_retried", "rc=%d status=%ld attempts=%d body=%s", rc,
              resp.status, resp.attempts, buf_str(&resp.body));
        CHECK(sign_calls == 2 && strstr(srv_req(1), "Authorization: test-signature"),
              "http_sign_called_every_attempt", "sign_calls=%d", sign_calls);
        http_response_free(&resp);
        r.sign = NULL;
    }
    {
        struct srv_action a[] = {
            {"HTTP/1.1 503 Slow Down\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n", SRV_FULL, 0},
            {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", SRV_FULL, 0}};

        srv_script(a, 2);
        t0 = now_ms();
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == 0 && resp.status == 200 && now_ms() - t0 >= 1000 && now_ms() - t0 < 3000,
              "http_retry_after_honoured", "rc=%d waited %.0f ms", rc, now_ms() - t0);
        http_response_free(&resp);
    }
    {
        struct srv_action a[] = {
            {"HTTP/1.1 503 Slow Down\r\nContent-Length: 4\r\n\r\nbusy", SRV_FULL, 0},
            {"HTTP/1.1 503 Slow Down\r\nContent-Length: 4\r\n\r\nbusy", SRV_FULL, 0},
            {"HTTP/1.1 503 Slow Down\r\nContent-Length: 5\r\n\r\nbusy3", SRV_FULL, 0},
            {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", SRV_FULL, 0}};

        srv_script(a, 4);
        http_response_init(&resp);
        rc = http_do(hc2, &r, &resp);
        CHECK(rc == 0 && resp.status == 503 && resp.attempts == 3 && srv_nreqs() == 3 &&
                  strcmp(buf_str(&resp.body), "busy3") == 0,
              "http_503_forever_gives_503_after_3_attempts", "rc=%d status=%ld attempts=%d",
              rc, resp.status, resp.attempts);
        http_response_free(&resp);
    }
    {
        struct srv_action a[] = {
            {"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop", SRV_FULL, 0}};

        srv_script(a, 1);
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == 0 && resp.status == 404 && resp.attempts == 1 &&
                  strcmp(buf_str(&resp.body), "nop") == 0,
              "http_404_not_retried", "rc=%d status=%ld attempts=%d", rc, resp.status,
              resp.attempts);
        http_response_free(&resp);
    }
    {
        /* Non-idempotent: a reset after sending is not retried... */
        struct srv_action a[] = {{"", SRV_CLOSE, 0}, {"", SRV_CLOSE, 0}};

        srv_script(a, 2);
        r.method = "POST";
        r.body = "x";
        r.body_len = 1;
        r.idempotent = false;
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == -ECONNRESET && resp.attempts == 1 && srv_nreqs() == 1 && resp.status == 0,
              "http_post_not_retried_after_reset", "rc=%d attempts=%d reqs=%d", rc,
              resp.attempts, srv_nreqs());
        http_response_free(&resp);
    }
    {
        /* ... but a 503 is. */
        struct srv_action a[] = {
            {"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\n\r\n", SRV_FULL, 0},
            {"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", SRV_FULL, 0}};

        srv_script(a, 2);
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == 0 && resp.status == 500 && resp.attempts == 2,
              "http_post_503_retried_500_not", "rc=%d status=%ld attempts=%d", rc, resp.status,
              resp.attempts);
        http_response_free(&resp);
    }
    {
        /* GET reset before any response is retried. */
        struct srv_action a[] = {{"", SRV_CLOSE, 0},
                                 {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", SRV_FULL, 0}};

        r = get_req(url);
        srv_script(a, 2);
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        /* curl itself may resend once on a reused connection; either way the GET succeeds. */
        CHECK(rc == 0 && resp.status == 200 && srv_nreqs() == 2, "http_get_retried_after_reset",
              "rc=%d status=%ld attempts=%d", rc, resp.status, resp.attempts);
        http_response_free(&resp);
    }
}

static void test_refused(struct http_client *hc2)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char u[128];
    struct http_request r;
    struct http_response resp;
    double t0;
    int rc;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd); /* nothing listens on this port now */
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/x?sig=TOPSECRETSIG", ntohs(a.sin_port));
    r = get_req(u);
    http_response_init(&resp);
    t0 = now_ms();
    rc = http_do(hc2, &r, &resp);
    CHECK(rc == -ECONNREFUSED && resp.status == 0 && resp.attempts == 3 && now_ms() - t0 < 2000,
          "http_connection_refused", "rc=%d attempts=%d %.0f ms err=%s", rc, resp.attempts,
          now_ms() - t0, resp.error);
    CHECK(resp.error[0] && !strstr(resp.error, "TOPSECRETSIG"), "http_error_text_no_query",
          "err=%s", resp.error);
    http_response_free(&resp);
}

static void test_resume(struct http_client *hc)
{
    struct http_request r = get_req(url);
    struct http_response resp;
    struct buf got;
    int rc;

    {
        struct srv_action a[] = {
            {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"e1\"\r\n\r\n01234", SRV_CLOSE, 0},
            {"HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nContent-Range: bytes 5-9/10\r\n"
             "ETag: \"e1\"\r\n\r\n56789",
             SRV_FULL, 0}};

        srv_script(a, 2);
        buf_init(&got, 1 << 20);
        r.sink = collect_sink;
        r.sink_ud = &got;
        r.sign = count_sign;
        sign_calls = 0;
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == 0 && resp.status == 206 && resp.attempts == 2 &&
                  strcmp(buf_str(&got), "0123456789") == 0,
              "http_resume_after_reset_mid_body", "rc=%d status=%ld attempts=%d got=%s err=%s",
              rc, resp.status, resp.attempts, buf_str(&got), resp.error);
        CHECK(strstr(srv_req(1), "\r\nRange: bytes=5-\r\n") &&
                  strstr(srv_req(1), "\r\nIf-Match: \"e1\"\r\n") &&
                  !strstr(srv_req(0), "Range:"),
              "http_resume_sends_range_and_if_match", "req0=%s req1=%s", srv_req(0), srv_req(1));
        CHECK(sign_calls == 2 && strcmp(signed_range, "bytes=5-") == 0,
              "http_resume_sign_sees_range", "calls=%d range=%s", sign_calls, signed_range);
        CHECK(resp.body.len == 0, "http_sink_body_not_buffered", "len=%zu", resp.body.len);
        http_response_free(&resp);
        buf_free(&got);
    }
    {
        /* A ranged read resumes inside its own range. */
        struct srv_action a[] = {
            {"HTTP/1.1 206 Partial Content\r\nContent-Length: 6\r\nETag: \"e2\"\r\n\r\nabc",
             SRV_CLOSE, 0},
            {"HTTP/1.1 206 Partial Content\r\nContent-Length: 3\r\nETag: \"e2\"\r\n\r\ndef",
             SRV_FULL, 0}};

        srv_script(a, 2);
        buf_init(&got, 1 << 20);
        r.sink_ud = &got;
        r.range_start = 100;
        r.range_end = 105;
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == 0 && strcmp(buf_str(&got), "abcdef") == 0 &&
                  strstr(srv_req(0), "\r\nRange: bytes=100-105\r\n") &&
                  strstr(srv_req(1), "\r\nRange: bytes=103-105\r\n"),
              "http_resume_within_range", "rc=%d got=%s req1=%s", rc, buf_str(&got), srv_req(1));
        http_response_free(&resp);
        buf_free(&got);
        r.range_start = r.range_end = -1;
    }
    {
        struct srv_action a[] = {
            {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"e1\"\r\n\r\n01234", SRV_CLOSE, 0},
            {"HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\n\r\n", SRV_FULL, 0}};

        srv_script(a, 2);
        buf_init(&got, 1 << 20);
        r.sink_ud = &got;
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == -ESTALE && strstr(resp.error, "object changed during read") &&
                  strcmp(buf_str(&got), "01234") == 0,
              "http_resume_412_is_estale", "rc=%d err=%s", rc, resp.error);
        http_response_free(&resp);
        buf_free(&got);
    }
    {
        /* A server that ignores If-Match but sends a new ETag is caught too. */
        struct srv_action a[] = {
            {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"e1\"\r\n\r\n01234", SRV_CLOSE, 0},
            {"HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nETag: \"e9\"\r\n\r\nXXXXX",
             SRV_FULL, 0}};

        srv_script(a, 2);
        buf_init(&got, 1 << 20);
        r.sink_ud = &got;
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == -ESTALE && strcmp(buf_str(&got), "01234") == 0,
              "http_resume_etag_mismatch_is_estale", "rc=%d got=%s", rc, buf_str(&got));
        http_response_free(&resp);
        buf_free(&got);
    }
    {
        struct srv_action a[] = {
            {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", SRV_FULL, 0}};

        srv_script(a, 1);
        r.sink = enospc_sink;
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == -ENOSPC && resp.attempts == 1, "http_sink_error_returned_not_retried",
              "rc=%d attempts=%d", rc, resp.attempts);
        http_response_free(&resp);
    }
    {
        /* Error bodies never go to the sink. */
        struct srv_action a[] = {
            {"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\ndenied", SRV_FULL, 0}};

        srv_script(a, 1);
        buf_init(&got, 1 << 20);
        r.sink = collect_sink;
        r.sink_ud = &got;
        http_response_init(&resp);
        rc = http_do(hc, &r, &resp);
        CHECK(rc == 0 && resp.status == 403 && got.len == 0 &&
                  strcmp(buf_str(&resp.body), "denied") == 0,
              "http_error_body_not_to_sink", "rc=%d got=%zu", rc, got.len);
        http_response_free(&resp);
        buf_free(&got);
    }
}

static void test_caps(struct http_client *hc0)
{
    struct http_request r = get_req(url);
    struct http_response resp;
    int rc;

    {
        struct srv_action a[] = {
            {"HTTP/1.1 500 Oops\r\nContent-Length: 2097152\r\n\r\n", SRV_BIG, 2097152}};

        srv_script(a, 1);
        http_response_init(&resp);
        rc = http_do(hc0, &r, &resp);
        CHECK(rc == 0 && resp.status == 500 && resp.body.len == 1024 * 1024,
              "http_error_body_capped_1mib", "rc=%d status=%ld len=%zu", rc, resp.status,
              resp.body.len);
        http_response_free(&resp);
    }
    {
        struct srv_action a[] = {
            {"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", SRV_BIG, 100000}};

        srv_script(a, 1);
        r.body_max = 1000;
        http_response_init(&resp);
        rc = http_do(hc0, &r, &resp);
        CHECK(rc == -E2BIG, "http_2xx_body_over_max_is_e2big", "rc=%d", rc);
        http_response_free(&resp);
    }
}

static void test_stall(struct http_client *hc_stall)
{
    struct srv_action a[] = {{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", SRV_STALL, 0}};
    struct http_request r = get_req(url);
    struct http_response resp;
    double t0;
    int rc;

    srv_script(a, 1);
    http_response_init(&resp);
    t0 = now_ms();
    rc = http_do(hc_stall, &r, &resp);
    /* curl averages speed over a ~5 s window, so the 3 early bytes delay the abort a little. */
    CHECK(rc == -ETIMEDOUT && now_ms() - t0 < 8000, "http_stall_timeout", "rc=%d %.0f ms err=%s",
          rc, now_ms() - t0, resp.error);
    http_response_free(&resp);
}

static void test_log_line(struct http_client *hc)
{
    struct srv_action a[] = {{"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", SRV_FULL, 0},
                             {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", SRV_FULL, 0}};
    char u[300], line[1024] = "";
    struct http_request r;
    struct http_response resp;
    FILE *f = tmpfile();

    snprintf(u, sizeof(u), "%s?sv=1&sig=SECRETSIGVALUE", url);
    r = get_req(u);
    srv_script(a, 2);
    log_set_stream(f);
    log_set_level(LOGL_INFO);
    http_response_init(&resp);
    http_do(hc, &r, &resp);
    http_response_free(&resp);
    log_set_level(LOGL_WARN);
    log_set_stream(NULL);
    rewind(f);
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    fclose(f);
    CHECK(strstr(line, "retrying GET http://127.0.0.1:") && strstr(line, "after HTTP 503") &&
              strstr(line, "(attempt 2 of 6, waiting ") && !strstr(line, "SECRETSIGVALUE") &&
              !strstr(line, "sv=1"),
          "http_retry_logged_without_query", "line=%s", line);
}

int main(void)
{
    struct http_client *hc, *hc2, *hc0, *hcs;
    double t0 = now_ms();

    if (srv_start() != 0) {
        printf("FAIL: http_server_start: cannot listen\n");
        return 1;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/obj", srv.port);
    hc = client(5, 10);
    hc2 = client(2, 10);
    hc0 = client(0, 10);
    hcs = client(0, 1);
    CHECK(hc && hc2 && hc0 && hcs, "http_client_new", "NULL client");

    test_hdrs();
    test_basic(hc);
    test_methods(hc);
    test_retries(hc, hc2);
    test_refused(hc2);
    test_resume(hc);
    test_caps(hc0);
    test_stall(hcs);
    test_log_line(hc);
    {
        pthread_t th[4];
        struct thr_arg ta[4];
        int all = 1;

        srv_script(NULL, 0);
        for (int i = 0; i < 4; i++) {
            ta[i].hc = hc;
            pthread_create(&th[i], NULL, parallel_gets, &ta[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            all &= ta[i].ok;
        }
        CHECK(all && srv_nreqs() == 40, "http_parallel_threads_share_client", "reqs=%d",
              srv_nreqs());
    }
    {
        struct http_config c;

        setenv("BRIDGEFS_RETRIES", "7", 1);
        setenv("BRIDGEFS_STALL_TIMEOUT_S", "9", 1);
        http_config_defaults(&c);
        CHECK(c.max_retries == 7 && c.stall_timeout_s == 9 && c.connect_timeout_ms == 10000 &&
                  c.retry_base_ms == 200 && c.retry_max_ms == 20000,
              "http_config_defaults_and_env", "retries=%d stall=%ld", c.max_retries,
              c.stall_timeout_s);
        unsetenv("BRIDGEFS_RETRIES");
        unsetenv("BRIDGEFS_STALL_TIMEOUT_S");
    }
    http_client_free(hc);
    http_client_free(hc2);
    http_client_free(hc0);
    http_client_free(hcs);
    http_client_free(NULL);
    srv_stop();
    CHECK(now_ms() - t0 < 20000, "http_test_under_20s", "took %.0f ms", now_ms() - t0);
    return CHECK_DONE();
}
