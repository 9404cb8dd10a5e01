#!/usr/bin/env bash
# Idempotent machine setup for building and testing grse (Debian 12, as root).
# Does only what is missing (CONTRIBUTING.md, "Getting started"):
#   1. Debian packages: PostgreSQL 15 + server headers, libclang for bindgen,
#      sudo (used by `cargo pgrx test --runas`), pg_cron, PL/Proxy (the scale-out router), shellcheck (the lint stage).
#   2. cargo-pgrx 0.18.0 (≈9 min to build: skipped when already installed).
#   3. `cargo pgrx init` for the system PostgreSQL 15 (skipped when ~/.pgrx/config.toml
#      already has it: rewriting that file forces a rebuild of pgrx-pg-sys).
#   4. the rustfmt and clippy components of the Rust toolchain (the lint stage).
set -euo pipefail

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGRX_VERSION=0.18.0
PACKAGES=(postgresql-15 postgresql-server-dev-15 libclang-dev clang sudo postgresql-15-cron postgresql-15-plproxy shellcheck)
# grse-http's test stages: the browser tests drive Debian's Chromium; the HTTP tests use curl and jq
PACKAGES+=(chromium curl jq)

say() { echo "setup: $*"; }

# cargo may live in ~/.cargo/bin without being on PATH (fresh login shells, sudo).
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || { echo "setup: cargo not found (install Rust first)" >&2; exit 1; }

# --- 1. Debian packages -------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
    # `dpkg -s` also succeeds for removed-but-configured packages: check the status line.
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "setup: missing packages ${missing[*]}; run as root" >&2; exit 1; }
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
else
    say "Debian packages present"
fi
[ -x "$PG_CONFIG" ] || { echo "setup: $PG_CONFIG not found after install" >&2; exit 1; }

# --- 2. cargo-pgrx -------------------------------------------------------------
if cargo pgrx --version 2>/dev/null | grep -qx "cargo-pgrx $PGRX_VERSION"; then
    say "cargo-pgrx $PGRX_VERSION present"
else
    say "installing cargo-pgrx $PGRX_VERSION (takes ~10 minutes on 2 cores)"
    cargo install cargo-pgrx --version "=$PGRX_VERSION" --locked
fi

# --- 3. cargo pgrx init ----------------------------------------------------------
PGRX_HOME=${PGRX_HOME:-$HOME/.pgrx}
if grep -qs "^pg15 *= *\"$PG_CONFIG\"" "$PGRX_HOME/config.toml"; then
    say "pgrx already initialised for pg15"
else
    say "cargo pgrx init --pg15 $PG_CONFIG"
    cargo pgrx init --pg15 "$PG_CONFIG"
fi

# --- 4. rustfmt and clippy (the lint stage) --------------------------------------
if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
    say "rustfmt and clippy present"
elif command -v rustup >/dev/null 2>&1; then
    say "rustup component add rustfmt clippy"
    rustup component add rustfmt clippy
else
    echo "setup: cargo fmt or cargo clippy missing, and no rustup to add them" >&2
    exit 1
fi

say "done"
