"""Container healthcheck: exit 0 when the app's /healthz answers 200, 1 otherwise (there is no curl in the slim
image).

    python docker/healthcheck.py [URL]             the web container; URL defaults to http://127.0.0.1:8000/healthz
    python docker/healthcheck.py --worker [URL]    a worker container: asks the web service's /healthz?worker=1
                                                   about the workers of this host; URL defaults to http://web:8000/healthz
"""

from __future__ import annotations

import socket
import sys
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"
WORKER_URL = "http://web:8000/healthz"


def worker_url(url: str = WORKER_URL) -> str:
    """The worker check of the workers running beside this script (a worker records its host name with each beat)."""
    return f"{url}?{urllib.parse.urlencode({'worker': 1, 'host': socket.gethostname()})}"


def main(url: str = DEFAULT_URL) -> int:
    # The probe presents itself as 127.0.0.1, which must stay in DJANGO_ALLOWED_HOSTS, whichever address it reaches
    # the app at. The forwarded scheme keeps DJANGO_SSL_REDIRECT from redirecting this plain-http probe when the app
    # trusts the proxy header (DJANGO_BEHIND_PROXY=1).
    headers = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https", "Accept": "application/json"}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            healthy = response.status == 200
    except (urllib.error.URLError, OSError) as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--worker"]:
        sys.exit(main(worker_url(*arguments[1:2])))
    sys.exit(main(*arguments[:1]))
