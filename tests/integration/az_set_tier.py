#!/usr/bin/env python3
"""az_set_tier: set the access tier of one blob (Set Blob Tier), for tests on Azurite.

usage: az_set_tier.py CONTAINER BLOB TIER      (TIER: Hot, Cool, Archive)
Reads AZURE_STORAGE_CONNECTION_STRING (AccountName, AccountKey, BlobEndpoint, path-style as
Azurite serves it) and signs the request with Shared Key. Python stdlib only. Exit 0 on
success; else prints the HTTP status (never the key) and exits 1.
"""
import base64
import hashlib
import hmac
import sys
import urllib.error
import urllib.parse
import urllib.request
from email.utils import formatdate


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    container, blob, tier = sys.argv[1:]
    import os
    cs = dict(p.split("=", 1) for p in os.environ["AZURE_STORAGE_CONNECTION_STRING"].split(";")
              if "=" in p)
    account, key = cs["AccountName"], base64.b64decode(cs["AccountKey"])
    endpoint = cs["BlobEndpoint"].rstrip("/")
    path = urllib.parse.urlparse(endpoint).path + "/" + urllib.parse.quote(container) + "/" + \
        urllib.parse.quote(blob)
    date = formatdate(usegmt=True)
    headers = {"x-ms-access-tier": tier, "x-ms-date": date, "x-ms-version": "2021-08-06"}
    canon_headers = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers))
    # VERB, Content-Encoding, -Language, -Length (empty for 0), -MD5, -Type, Date,
    # If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range
    ctype = "application/octet-stream"  # urllib would add a form type otherwise
    sts = "PUT\n" + "\n" * 4 + ctype + "\n" * 7 + canon_headers + f"/{account}{path}\ncomp:tier"
    sig = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode()
    headers["Authorization"] = f"SharedKey {account}:{sig}"
    headers["Content-Length"] = "0"
    headers["Content-Type"] = ctype
    req = urllib.request.Request(endpoint.rsplit(urllib.parse.urlparse(endpoint).path, 1)[0] +
                                 path + "?comp=tier", data=b"", headers=headers, method="PUT")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            if r.status in (200, 202):
                return 0
            sys.stderr.write(f"az_set_tier: HTTP {r.status}\n")
    except urllib.error.HTTPError as e:
        sys.stderr.write(f"az_set_tier: HTTP {e.code} {e.reason}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
