# Shared by scripts/run and scripts/test: find Python >= 3.12, make .venv, install the project.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

python_ok() {
  "$@" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

# Prints the command of a working interpreter >= 3.12. pyenv shims answer only when pyenv selects the version,
# so pyenv's own installs are tried by path as well as the names on PATH.
find_python() {
  local cand version
  for cand in "${HELPDESK_PYTHON:-}" python3.14 python3.13 python3.12 /usr/bin/python3.14 /usr/bin/python3.13 \
      /usr/bin/python3.12 /usr/local/bin/python3.13 /usr/local/bin/python3.12 python3; do
    [ -n "$cand" ] || continue
    if python_ok "$cand"; then echo "$cand"; return 0; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.|$)' | sort -rV); do
      cand="$(pyenv root)/versions/$version/bin/python3"
      if python_ok "$cand"; then echo "$cand"; return 0; fi
      if python_ok env PYENV_VERSION="$version" python3; then echo "env PYENV_VERSION=$version python3"; return 0; fi
    done
  fi
  for cand in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.* 2>/dev/null | sort -rV); do
    if python_ok "$cand/bin/python3"; then echo "$cand/bin/python3"; return 0; fi
  done
  return 1
}

apt_install() {
  # Installs Debian packages when apt is usable (root or passwordless sudo); returns non-zero otherwise.
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || return 1
    sudo="sudo -n"
  fi
  command -v apt-get >/dev/null 2>&1 || return 1
  $sudo apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ] || ! python_ok "$VENV/bin/python"; then
    local py
    if ! py="$(find_python)"; then
      echo "error: no Python 3.12 or newer found (tried python3.14..3.12, /usr/bin, pyenv). Install one." >&2
      exit 1
    fi
    echo "==> creating .venv with $($py --version 2>&1)"
    rm -rf "$VENV"
    $py -m venv "$VENV"
  fi
  local stamp="$VENV/.installed" want
  want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing dependencies"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]"
    echo "$want" >"$stamp"
  fi
  if ! command -v msgfmt >/dev/null 2>&1; then
    echo "==> installing gettext (to compile the Arabic translations)"
    apt_install gettext || { echo "error: msgfmt (gettext) is missing and apt is not usable" >&2; exit 1; }
  fi
  (cd "$ROOT" && "$VENV/bin/python" manage.py compilemessages --ignore .venv -v 0)
}

# The environment of a demo on this machine (scripts/run), each variable only if not already set: DEBUG off, so the
# product's own error pages show; the demo accounts (HELPDESK_DEMO); cookies over the plain http of the loopback
# address; the public URL the console socket checks ($1); and a secret key made once per checkout, kept in
# .secret_key (git ignores it).
demo_environment() {
  export DJANGO_DEBUG="${DJANGO_DEBUG:-0}"
  export HELPDESK_DEMO="${HELPDESK_DEMO:-1}"
  export DJANGO_SECURE_COOKIES="${DJANGO_SECURE_COOKIES:-0}"
  export HELPDESK_PUBLIC_URL="${HELPDESK_PUBLIC_URL:-$1}"
  if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
    if [ ! -s "$ROOT/.secret_key" ]; then
      (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n=+/' >"$ROOT/.secret_key")
    fi
    DJANGO_SECRET_KEY="$(cat "$ROOT/.secret_key")"
    export DJANGO_SECRET_KEY
  fi
}
