#!/usr/bin/env bash
# deps.sh check|install PACKAGE... — the project's dependencies.
#
# Debian packages are checked with dpkg-query; the npm packages of each
# tests/*/ folder that has a package-lock.json by comparing its
# node_modules with the lock file.
# `install` installs what is missing (root only). `check` does the same
# when root, and otherwise prints the exact command to run and fails.
# Both are no-ops when everything is present.
set -euo pipefail

mode=$1 # check or install: the same when root
shift
top=$(cd "$(dirname "$0")/.." && pwd)

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

npm_dirs=()
for lock in "$top"/tests/*/package-lock.json; do
  [ -f "$lock" ] || continue
  dir=$(dirname "$lock")
  stamp=$dir/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
    npm_dirs+=("$dir")
  fi
done

if [ ${#missing[@]} -eq 0 ] && [ ${#npm_dirs[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "looptrace: missing dependencies: ${missing[*]:-}" \
    "${npm_dirs[*]:+(npm packages of ${npm_dirs[*]#$top/})}" >&2
  echo "looptrace: run as root: make -C $top deps" >&2
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "looptrace: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for dir in "${npm_dirs[@]}"; do
  echo "looptrace: installing npm packages of ${dir#$top/}" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
