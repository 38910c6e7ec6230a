#!/usr/bin/env bash
# deps.sh check|install PACKAGE... — the project's dependencies.
#
# Debian packages are checked with dpkg-query, the browser tests' npm
# packages by comparing tests/browser/node_modules with its lock file.
# `install` installs what is missing (root only). `check` does the same
# when root, and otherwise prints the exact command to run and fails.
# Both are no-ops when everything is present.
set -euo pipefail

mode=$1 # check or install: the same when root
shift
top=$(cd "$(dirname "$0")/.." && pwd)
npm_dir=$top/tests/browser

missing=()
for pkg in "$@"; do
  case $pkg in
    # Node may come from Debian or from NodeSource; either will do.
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
      grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

npm_needed=0
if [ -f "$npm_dir/package-lock.json" ]; then
  stamp=$npm_dir/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ "$npm_dir/package-lock.json" -nt "$stamp" ]; then
    npm_needed=1
  fi
fi

if [ ${#missing[@]} -eq 0 ] && [ $npm_needed -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "looptrace: missing dependencies:" \
    "${missing[*]:-}$([ $npm_needed -eq 1 ] && echo ' (npm packages of tests/browser)')" >&2
  echo "looptrace: run as root: make -C $top deps" >&2
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "looptrace: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ $npm_needed -eq 1 ]; then
  echo "looptrace: installing npm packages of tests/browser" >&2
  (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
