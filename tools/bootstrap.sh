#!/usr/bin/env bash
# Installs what a fresh Debian machine with Python 3.11 lacks to run Afiya: uv (into
# .tools/ when it is not on PATH) and the Python packages pinned in uv.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

find_uv() {
  if command -v uv >/dev/null 2>&1; then command -v uv; return; fi
  if [ -x .tools/bin/uv ]; then echo .tools/bin/uv; return; fi
  return 1
}

if ! UV=$(find_uv); then
  echo "bootstrap: installing uv into .tools/" >&2
  if ! python3 -m venv .tools >/dev/null 2>&1; then
    # Debian ships venv separately.
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv .tools
    else
      echo "bootstrap: python3 -m venv failed; install python3-venv (apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  .tools/bin/pip install --quiet --disable-pip-version-check uv
  UV=.tools/bin/uv
fi

missing=()
if command -v dpkg >/dev/null 2>&1; then
  while read -r pkg _; do
    case "$pkg" in ''|'#'*) continue ;; esac
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done < tools/debian-packages.txt
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${missing[*]}" >&2
    (apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }) >&2
  else
    echo "bootstrap: please install: sudo apt-get install ${missing[*]}" >&2
  fi
fi

"$UV" sync --frozen --quiet
echo "$UV"
