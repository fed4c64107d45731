#!/usr/bin/env bash
# Developer entry point. `./dev.sh build` builds everything into build/;
# `./dev.sh test` runs ruff, mypy, tsc (the site's JavaScript against its JSDoc types, tsconfig.json),
# the schema check and the whole test suite (what CI runs);
# `./dev.sh test --fast` leaves out the slow tier: the tests marked slow, i.e. browser,
# PDF, notebook-execution and wheel tests (pytest -m "not slow"). Other arguments go to
# pytest. Both commands bootstrap .venv first (from the pinned versions in requirements/dev.lock) and
# node_modules (TypeScript, from package-lock.json) and, when run as root on Debian/Ubuntu, install the
# system packages they need.
# `./dev.sh lock` refreshes requirements/dev.lock after a dependency change in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"
LOCK=requirements/dev.lock
APT_PACKAGES=(chromium poppler-utils fonts-dejavu-core)

log() { printf '[dev.sh] %s\n' "$*" >&2; }

need_apt() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    log "missing Debian packages: ${missing[*]} (run as root, or install them yourself)"
    [ "${CI:-}" = true ] && exit 1
  fi
}

need_node() {
  # the JS calculator's parity tests run the site's calc.js under Node; npm installs TypeScript for tsc
  local missing=()
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Node.js and npm (Debian packages: ${missing[*]})"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    log "missing Node.js or npm (node and npm on PATH): install Node 18 or later with npm"
    [ "${CI:-}" = true ] && exit 1
    return 0  # outside CI: go on without them (the JS checks and tests that need them do not run)
  fi
}

node_deps() {
  # the npm dev dependencies (TypeScript, no runtime packages) at the versions package-lock.json pins
  if ! command -v npm >/dev/null; then
    log "no npm: skipping node_modules, so the JS type check will not run"
    [ "${CI:-}" = true ] && exit 1
    return 0
  fi
  local stamp="node_modules/.installed-$(cat package.json package-lock.json | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "installing the locked npm dev dependencies (package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
    touch "$stamp"
  fi
}

js_types() {
  # the site's JavaScript against its JSDoc types (tsconfig.json says which files)
  if [ ! -x node_modules/.bin/tsc ]; then
    log "no node_modules/.bin/tsc: the JS type check did not run (needs npm)"
    [ "${CI:-}" = true ] && exit 1
    return 0
  fi
  node_modules/.bin/tsc -p tsconfig.json || { log "tsc: type errors in the site's JavaScript (above)"; exit 1; }
}

bootstrap() {
  need_apt
  need_node
  if [ ! -x "$PY" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$(cat pyproject.toml "$LOCK" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "installing the locked dev dependencies ($LOCK), then inferbook (editable)"
    "$PY" -m pip install -q --upgrade pip >/dev/null
    "$PY" -m pip install -q -r "$LOCK"
    "$PY" -m pip install -q --no-deps -e .
    rm -f "$VENV"/.installed-* && touch "$stamp"
  fi
  node_deps
}

lock() {
  # Resolve pyproject.toml's [dev] extra again for every platform and Python 3.11+, keeping the
  # versions .venv has where they still satisfy it (so a refresh changes only what must change).
  "$PY" -m pip install -q uv
  local have
  have="$(mktemp)"
  "$PY" -m pip freeze --exclude-editable | grep -v '^inferbook' > "$have"
  {
    sed -n '1,4p' "$LOCK"
    "$VENV/bin/uv" pip compile pyproject.toml --extra dev --universal --python-version 3.11 -c "$have" \
      --no-header --no-annotate -q
  } > "$LOCK.new"
  mv "$LOCK.new" "$LOCK"
  rm -f "$have"
  log "wrote $LOCK"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  build)
    bootstrap
    "$VENV/bin/inferbook" validate
    "$VENV/bin/inferbook" build all --out build "$@"
    ;;
  test)
    # one pytest-xdist worker per core (TEST_WORKERS=0 runs in one process); tests that share
    # the session's site or wheel build go to one worker (tests/conftest.py, --dist loadgroup);
    # every run lists the tests and fixtures that took over 10 s
    args=(-n "${TEST_WORKERS:-auto}" --dist loadgroup --durations=0 --durations-min=10)
    for arg in "$@"; do
      if [ "$arg" = --fast ]; then
        args+=(-m "not slow")
      else
        args+=("$arg")
      fi
    done
    bootstrap
    "$VENV/bin/ruff" check inferbook tests bench hatch_build.py
    "$VENV/bin/mypy"  # the type checker, configured in pyproject.toml ([tool.mypy])
    js_types
    "$VENV/bin/inferbook" schema --check
    "$PY" -m pytest ${args[@]+"${args[@]}"}
    ;;
  bench)
    bootstrap
    "$PY" bench/run.py "$@"
    ;;
  lock)
    bootstrap
    lock
    ;;
  *)
    echo "usage: ./dev.sh build [args] | test [--fast] [pytest args] | bench [args] | lock" >&2
    exit 2
    ;;
esac
