# Shared set-up for scripts/run, scripts/test and scripts/bench: venv, locked packages, assets.
# Sourced, not executed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "Needpool needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
  return 1
}

ensure_venv() {
  # $1: which lock file to install (base or dev)
  local lock="requirements/$1.lock"
  if [ ! -x .venv/bin/python ]; then
    "$(pick_python)" -m venv .venv
  fi
  local stamp=".venv/.needpool-$1-$(sha256sum "$lock" pyproject.toml | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "==> installing locked Python packages ($lock)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$lock"
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
    rm -f .venv/.needpool-"$1"-*
    touch "$stamp"
  fi
  ensure_sqlite
}

ensure_sqlite() {
  # SQLite with the WAL-reset fix, compiled into pysqlite3 (scripts/build-sqlite says why).
  local stamp=".venv/.needpool-sqlite-$(sha256sum scripts/build-sqlite | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    if bash scripts/build-sqlite; then
      rm -f .venv/.needpool-sqlite-*
      touch "$stamp"
    else
      echo "WARNING: could not build SQLite with the WAL-reset fix (needs a C compiler and npm); the database" >&2
      echo "         may be corrupted by concurrent writes. Install them and run this again, or use PostgreSQL." >&2
    fi
  fi
}

ensure_assets() {
  if [ ! -f src/needpool/static/vendor/.built ] || [ package-lock.json -nt src/needpool/static/vendor/.built ]; then
    echo "==> building front-end assets"
    bash scripts/build-assets
    touch src/needpool/static/vendor/.built
  fi
}
