"""Container healthcheck: exit 0 when the app's /healthz answers 200, 1 otherwise (there is no curl in the slim
image). Usage: python docker/healthcheck.py [URL], by default http://127.0.0.1:8000/healthz."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def main(url: str = DEFAULT_URL) -> int:
    # Host 127.0.0.1 must stay in DJANGO_ALLOWED_HOSTS. The forwarded scheme keeps DJANGO_SSL_REDIRECT from
    # redirecting this plain-http probe when the app trusts the proxy header (DJANGO_BEHIND_PROXY=1).
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            healthy = response.status == 200
    except (urllib.error.URLError, OSError) as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
