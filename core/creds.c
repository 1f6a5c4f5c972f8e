/* creds: S3 and Azure credential and endpoint discovery (environment, AWS profile files, connection strings). */
#include "core/creds.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/url.h"

#define CREDS_FILE_MAX (1024 * 1024)

/* Azurite's published development account (public, documented by Microsoft). */
#define CREDS_DEV_ACCOUNT "devstoreaccount1"
#define CREDS_DEV_KEY \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define CREDS_DEV_ENDPOINT "http://127.0.0.1:10000/devstoreaccount1"

/* An environment variable, NULL when unset or empty; borrowed. */
static const char *creds_env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

static void creds_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void creds_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Replaces *dst with a copy of s (NULL s leaves *dst alone). 0 or -ENOMEM. */
static int creds_set(char **dst, const char *s)
{
    char *c;

    if (!s)
        return 0;
    c = strdup(s);
    if (!c)
        return -ENOMEM;
    free(*dst);
    *dst = c;
    return 0;
}

static char *creds_trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Values read from one profile of an AWS INI file; owned. */
struct creds_profile {
    char *access_key;
    char *secret_key;
    char *session_token;
    char *region;
    char *endpoint;
    bool found;
};

static void creds_profile_free(struct creds_profile *p)
{
    free(p->access_key);
    free(p->secret_key);
    free(p->session_token);
    free(p->region);
    free(p->endpoint);
    memset(p, 0, sizeof(*p));
}

/* Reads a whole small file; NULL when absent or unreadable. Caller frees. */
static char *creds_read_file(const char *path)
{
    struct buf b;
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "r");

    if (!f)
        return NULL;
    buf_init(&b, CREDS_FILE_MAX);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, n) != 0)
            break;
    }
    fclose(f);
    return buf_take(&b);
}

/*
 * Reads section `section` of an AWS INI file into p (keys already set are
 * kept: the credentials file is read first). In the config file a nested
 * "s3 =" block may carry endpoint_url; other service blocks are skipped.
 */
static int creds_read_profile(const char *path, const char *section, struct creds_profile *p)
{
    char *text = creds_read_file(path);
    char *line, *save = NULL, *eq, *key, *val;
    bool in = false, nested = false, nested_s3 = false;
    int rc = 0;

    if (!text)
        return 0;
    for (line = strtok_r(text, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
        bool indented = isspace((unsigned char)line[0]) && line[0] != '\n';
        char *t = creds_trim(line);

        if (!*t || *t == '#' || *t == ';')
            continue;
        if (*t == '[') {
            char *end = strchr(t, ']');

            if (!end)
                continue;
            *end = '\0';
            in = strcmp(creds_trim(t + 1), section) == 0;
            if (in)
                p->found = true;
            nested = false;
            continue;
        }
        if (!in)
            continue;
        eq = strchr(t, '=');
        if (!eq)
            continue;
        *eq = '\0';
        key = creds_trim(t);
        val = creds_trim(eq + 1);
        if (!indented) {
            nested = false;
            if (!*val) {
                /* "s3 =" starts a nested block of service settings. */
                nested = true;
                nested_s3 = strcasecmp(key, "s3") == 0;
                continue;
            }
        } else if (nested) {
            if (nested_s3 && strcasecmp(key, "endpoint_url") == 0)
                rc = creds_set(&p->endpoint, val);
            continue;
        }
        if (strcasecmp(key, "aws_access_key_id") == 0 && !p->access_key)
            rc = creds_set(&p->access_key, val);
        else if (strcasecmp(key, "aws_secret_access_key") == 0 && !p->secret_key)
            rc = creds_set(&p->secret_key, val);
        else if (strcasecmp(key, "aws_session_token") == 0 && !p->session_token)
            rc = creds_set(&p->session_token, val);
        else if (strcasecmp(key, "region") == 0 && !p->region)
            rc = creds_set(&p->region, val);
        else if (strcasecmp(key, "endpoint_url") == 0 && !p->endpoint)
            rc = creds_set(&p->endpoint, val);
    }
    free(text);
    return rc;
}

/* $HOME/.aws/NAME, or the override variable; malloc'd or NULL. */
static char *creds_aws_path(const char *override_var, const char *name)
{
    const char *o = creds_env(override_var), *home = creds_env("HOME");
    char *p = NULL;

    if (o)
        return strdup(o);
    if (!home)
        return NULL;
    if (asprintf(&p, "%s/.aws/%s", home, name) < 0)
        return NULL;
    return p;
}

static bool creds_env_true(const char *name)
{
    const char *v = creds_env(name);

    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

int creds_s3_discover(struct s3_creds *out, char *err, size_t errlen)
{
    const char *env_id = creds_env("AWS_ACCESS_KEY_ID");
    const char *env_secret = creds_env("AWS_SECRET_ACCESS_KEY");
    const char *env_profile = creds_env("AWS_PROFILE");
    const char *profile = env_profile ? env_profile : "default";
    struct creds_profile p;
    char *cred_path = NULL, *conf_path = NULL, *section = NULL;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    memset(&p, 0, sizeof(p));
    if (err && errlen)
        err[0] = '\0';
    if (env_id && !env_secret) {
        creds_seterr(err, errlen, "AWS_SECRET_ACCESS_KEY is not set but AWS_ACCESS_KEY_ID is");
        return -EINVAL;
    }
    if (env_secret && !env_id) {
        creds_seterr(err, errlen, "AWS_ACCESS_KEY_ID is not set but AWS_SECRET_ACCESS_KEY is");
        return -EINVAL;
    }
    cred_path = creds_aws_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    conf_path = creds_aws_path("AWS_CONFIG_FILE", "config");
    if (cred_path)
        rc = creds_read_profile(cred_path, profile, &p);
    if (rc == 0 && conf_path) {
        if (strcmp(profile, "default") == 0)
            section = strdup("default");
        else if (asprintf(&section, "profile %s", profile) < 0)
            section = NULL;
        rc = section ? creds_read_profile(conf_path, section, &p) : -ENOMEM;
    }
    if (rc)
        goto out;
    if (env_profile && !p.found && !env_id) {
        creds_seterr(err, errlen, "AWS profile \"%s\" (from AWS_PROFILE) not found in %s or %s",
                     profile, cred_path ? cred_path : "~/.aws/credentials",
                     conf_path ? conf_path : "~/.aws/config");
        rc = -EINVAL;
        goto out;
    }
    if (env_id) {
        rc = creds_set(&out->access_key, env_id);
        if (rc == 0)
            rc = creds_set(&out->secret_key, env_secret);
        if (rc == 0)
            rc = creds_set(&out->session_token, creds_env("AWS_SESSION_TOKEN"));
    } else if (p.access_key || p.secret_key) {
        if (!p.secret_key || !p.access_key) {
            creds_seterr(err, errlen, "%s is missing in profile \"%s\" of %s",
                         p.secret_key ? "aws_access_key_id" : "aws_secret_access_key", profile,
                         cred_path ? cred_path : "~/.aws/credentials");
            rc = -EINVAL;
            goto out;
        }
        out->access_key = p.access_key;
        out->secret_key = p.secret_key;
        out->session_token = p.session_token;
        p.access_key = p.secret_key = p.session_token = NULL;
    }
    if (rc)
        goto out;
    out->anonymous = !out->access_key || creds_env_true("AWS_NO_SIGN_REQUEST");
    {
        const char *region = creds_env("AWS_REGION");
        const char *endpoint = creds_env("AWS_ENDPOINT_URL_S3");

        if (!region)
            region = creds_env("AWS_DEFAULT_REGION");
        if (!region)
            region = p.region ? p.region : "us-east-1";
        if (!endpoint)
            endpoint = creds_env("AWS_ENDPOINT_URL");
        if (!endpoint)
            endpoint = p.endpoint;
        rc = creds_set(&out->region, region);
        if (rc == 0)
            rc = creds_set(&out->endpoint, endpoint);
    }
    if (rc)
        goto out;
    if (out->endpoint) {
        size_t n = strlen(out->endpoint);

        while (n > 0 && out->endpoint[n - 1] == '/')
            out->endpoint[--n] = '\0';
    }
    log_add_secret(out->secret_key);
    log_add_secret(out->session_token);
out:
    creds_profile_free(&p);
    free(cred_path);
    free(conf_path);
    free(section);
    if (rc) {
        if (rc == -ENOMEM)
            creds_seterr(err, errlen, "out of memory");
        creds_s3_free(out);
    }
    return rc;
}

void creds_s3_free(struct s3_creds *c)
{
    if (!c)
        return;
    free(c->access_key);
    free(c->secret_key);
    free(c->session_token);
    free(c->region);
    free(c->endpoint);
    memset(c, 0, sizeof(*c));
}

void creds_az_free(struct az_creds *c)
{
    if (!c)
        return;
    free(c->account);
    free(c->key);
    free(c->sas);
    free(c->endpoint);
    memset(c, 0, sizeof(*c));
}

/* Registers a SAS and its signature (raw and decoded) as secrets. */
static void creds_register_sas(const char *sas)
{
    const char *p;
    char *sig = NULL, *dec = NULL;

    if (!sas)
        return;
    log_add_secret(sas);
    for (p = sas; p; p = strchr(p, '&')) {
        if (*p == '&')
            p++;
        if (strncmp(p, "sig=", 4) == 0) {
            sig = strndup(p + 4, strcspn(p + 4, "&"));
            break;
        }
    }
    if (!sig)
        return;
    log_add_secret(sig);
    if (url_decode(sig, false, &dec) == 0)
        log_add_secret(dec);
    free(dec);
    free(sig);
}

/* Sets *dst to a SAS without its leading '?'. */
static int creds_set_sas(char **dst, const char *sas)
{
    if (!sas)
        return 0;
    while (*sas == '?')
        sas++;
    if (!*sas)
        return 0;
    return creds_set(dst, sas);
}

static bool creds_key_ok(const char *key)
{
    unsigned char tmp[256];

    return crypto_base64_decode(key, tmp, sizeof(tmp)) > 0;
}

static void creds_strip_slash(char *s)
{
    size_t n;

    if (!s)
        return;
    n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
}

int creds_az_parse_connection_string(const char *cs, struct az_creds *out, char *err,
                                     size_t errlen)
{
    char *copy = NULL, *seg, *save = NULL, *eq;
    char *proto = NULL, *suffix = NULL;
    bool dev = false;
    int rc = 0, idx = 0;

    memset(out, 0, sizeof(*out));
    if (!cs) {
        creds_seterr(err, errlen, "empty connection string");
        return -EINVAL;
    }
    copy = strdup(cs);
    if (!copy)
        return -ENOMEM;
    for (seg = strtok_r(copy, ";", &save); seg && rc == 0; seg = strtok_r(NULL, ";", &save)) {
        char *k, *v;

        idx++;
        seg = creds_trim(seg);
        if (!*seg)
            continue;
        /* Values may contain '=' (base64 padding, SAS): split at the first one. */
        eq = strchr(seg, '=');
        if (!eq) {
            creds_seterr(err, errlen, "malformed connection string: part %d has no '='", idx);
            rc = -EINVAL;
            break;
        }
        *eq = '\0';
        k = creds_trim(seg);
        v = creds_trim(eq + 1);
        if (strcasecmp(k, "AccountName") == 0)
            rc = creds_set(&out->account, v);
        else if (strcasecmp(k, "AccountKey") == 0)
            rc = creds_set(&out->key, v);
        else if (strcasecmp(k, "BlobEndpoint") == 0)
            rc = creds_set(&out->endpoint, v);
        else if (strcasecmp(k, "SharedAccessSignature") == 0)
            rc = creds_set_sas(&out->sas, v);
        else if (strcasecmp(k, "DefaultEndpointsProtocol") == 0)
            rc = creds_set(&proto, v);
        else if (strcasecmp(k, "EndpointSuffix") == 0)
            rc = creds_set(&suffix, v);
        else if (strcasecmp(k, "UseDevelopmentStorage") == 0)
            dev = strcasecmp(v, "true") == 0;
    }
    if (rc)
        goto out;
    if (dev) {
        if (!out->account)
            rc = creds_set(&out->account, CREDS_DEV_ACCOUNT);
        if (rc == 0 && !out->key)
            rc = creds_set(&out->key, CREDS_DEV_KEY);
        if (rc == 0 && !out->endpoint)
            rc = creds_set(&out->endpoint, CREDS_DEV_ENDPOINT);
        if (rc)
            goto out;
    }
    if (out->key && !creds_key_ok(out->key)) {
        creds_seterr(err, errlen, "AccountKey in the connection string is not valid base64");
        rc = -EINVAL;
        goto out;
    }
    if (!out->endpoint && out->account && (proto || suffix)) {
        if (asprintf(&out->endpoint, "%s://%s.blob.%s", proto ? proto : "https", out->account,
                     suffix ? suffix : "core.windows.net") < 0) {
            out->endpoint = NULL;
            rc = -ENOMEM;
            goto out;
        }
    }
    creds_strip_slash(out->endpoint);
    if (!out->account && !out->endpoint && !out->sas && !out->key) {
        creds_seterr(err, errlen,
                     "connection string has none of AccountName, AccountKey, BlobEndpoint, "
                     "SharedAccessSignature");
        rc = -EINVAL;
        goto out;
    }
    log_add_secret(out->key);
    creds_register_sas(out->sas);
out:
    free(copy);
    free(proto);
    free(suffix);
    if (rc) {
        if (rc == -ENOMEM)
            creds_seterr(err, errlen, "out of memory");
        creds_az_free(out);
    }
    return rc;
}

/* The account an endpoint names in its path (emulator style), or NULL; malloc'd. */
static char *creds_account_from_endpoint(const char *ep)
{
    const char *host = strstr(ep, "://"), *slash, *dot;

    if (!host)
        return NULL;
    host += 3;
    slash = strchr(host, '/');
    if (slash && slash[1])
        return strndup(slash + 1, strcspn(slash + 1, "/"));
    dot = strchr(host, '.');
    if (dot && strncasecmp(dot, ".blob.", 6) == 0)
        return strndup(host, (size_t)(dot - host));
    return NULL;
}

int creds_az_discover(const struct store_url *u, struct az_creds *out, char *err, size_t errlen)
{
    const char *cs = creds_env("AZURE_STORAGE_CONNECTION_STRING");
    const char *env_account = creds_env("AZURE_STORAGE_ACCOUNT");
    char what[300];
    struct az_creds c;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    if (err && errlen)
        err[0] = '\0';
    snprintf(what, sizeof(what), "az://%s", u && u->bucket ? u->bucket : "");
    if (u) {
        rc = creds_set(&out->account, u->account);
        if (rc == 0)
            rc = creds_set(&out->endpoint, u->endpoint);
        if (rc == 0)
            rc = creds_set_sas(&out->sas, u->sas);
        if (rc)
            goto out;
    }
    if (cs) {
        char cerr[200];

        rc = creds_az_parse_connection_string(cs, &c, cerr, sizeof(cerr));
        if (rc) {
            creds_seterr(err, errlen, "AZURE_STORAGE_CONNECTION_STRING: %s", cerr);
            goto out;
        }
        if (!c.account && c.endpoint)
            c.account = creds_account_from_endpoint(c.endpoint);
        /* A connection string for another account does not apply. */
        if (!out->account || (c.account && strcmp(c.account, out->account) == 0)) {
            if (!out->account) {
                out->account = c.account;
                c.account = NULL;
            }
            if (!out->endpoint) {
                out->endpoint = c.endpoint;
                c.endpoint = NULL;
            }
            if (!out->sas) {
                out->key = c.key;
                c.key = NULL;
                out->sas = c.sas;
                c.sas = NULL;
            }
        }
    }
    if (!out->account && env_account)
        rc = creds_set(&out->account, env_account);
    /* AZURE_STORAGE_KEY belongs to AZURE_STORAGE_ACCOUNT (or to the URL's account). */
    if (rc == 0 && out->account && (!env_account || strcmp(out->account, env_account) == 0) &&
        !out->key && !out->sas) {
        rc = creds_set(&out->key, creds_env("AZURE_STORAGE_KEY"));
        if (rc == 0 && !out->key)
            rc = creds_set_sas(&out->sas, creds_env("AZURE_STORAGE_SAS_TOKEN"));
    }
    if (rc == 0 && out->account && !out->key && !out->sas)
        rc = creds_set_sas(&out->sas, creds_env("AZURE_STORAGE_SAS_TOKEN"));
    if (rc)
        goto out;
    if (!out->account) {
        creds_seterr(err, errlen,
                     "Azure credentials missing for %s: set AZURE_STORAGE_CONNECTION_STRING, or "
                     "AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN",
                     what);
        rc = -EINVAL;
        goto out;
    }
    if (!out->key && !out->sas) {
        creds_seterr(err, errlen,
                     "Azure credentials missing for %s (account %s): set AZURE_STORAGE_KEY or "
                     "AZURE_STORAGE_SAS_TOKEN, or AZURE_STORAGE_CONNECTION_STRING",
                     what, out->account);
        rc = -EINVAL;
        goto out;
    }
    if (out->key && !creds_key_ok(out->key)) {
        creds_seterr(err, errlen, "AZURE_STORAGE_KEY for account %s is not valid base64",
                     out->account);
        rc = -EINVAL;
        goto out;
    }
    if (!out->endpoint &&
        asprintf(&out->endpoint, "https://%s.blob.core.windows.net", out->account) < 0) {
        out->endpoint = NULL;
        rc = -ENOMEM;
        goto out;
    }
    creds_strip_slash(out->endpoint);
    log_add_secret(out->key);
    creds_register_sas(out->sas);
out:
    creds_az_free(&c);
    if (rc) {
        if (rc == -ENOMEM)
            creds_seterr(err, errlen, "out of memory");
        creds_az_free(out);
    }
    return rc;
}
