#!/usr/bin/env bash
# Lint stage: fast checks of the sources. Starts no cluster and installs
# nothing, so it runs first in `make test`. The checks, in order:
#
#   - fmt:        cargo fmt --all -- --check (configuration in rustfmt.toml)
#   - clippy:     cargo clippy --workspace --all-targets -- -D warnings
#                 (allowed lints, each with its reason: [workspace.lints] in Cargo.toml)
#   - shellcheck: `shellcheck -x` of every shell script in the repository
#                 (*.sh, .ci/run, and any other file whose shebang names sh or bash)
#   - released:   the released install and upgrade scripts listed in
#                 tests/lint/released.sha256 are present and unchanged, and every
#                 released script is listed there
#   - contained:  no file points outside the repository
#   - tabs:       no tab characters in handwritten SQL
#
# Files checked: those git tracks plus new ones it does not ignore.
# Ends with "lint: N passed, M failed"; exit status non-zero when anything failed.
#
# Usage: tests/lint/run.sh [CHECK...]      (default: all checks, in the order above)
#
# To record a new release (see CONTRIBUTING.md, "Cut a release"):
#   sha256sum tests/upgrade/grse--X.Y.Z.sql >>tests/lint/released.sha256
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
RELEASED="tests/lint/released.sha256"
ALL_CHECKS=(fmt clippy shellcheck released contained tabs)

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi

if [ $# -gt 0 ]; then CHECKS=("$@"); else CHECKS=("${ALL_CHECKS[@]}"); fi
for c in "${CHECKS[@]}"; do
    case " ${ALL_CHECKS[*]} " in *" $c "*) ;; *) echo "lint: unknown check '$c' (checks: ${ALL_CHECKS[*]})" >&2; exit 2 ;; esac
done

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
# indent: show a command's output under a failed check
indent() { sed 's/^/#   /'; }

# The repository's files: tracked ones that still exist, plus new ones not ignored.
FILES=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    while IFS= read -r f; do
        [ -f "$f" ] && FILES+=("$f")
    done < <(git ls-files --cached --others --exclude-standard | LC_ALL=C sort -u)
else
    while IFS= read -r f; do
        FILES+=("${f#./}")
    done < <(find . -path ./target -prune -o -path ./.git -prune -o -type f -print | LC_ALL=C sort)
fi

# The version being built (Cargo.toml's package version).
current_version() {
    sed -n -E '/^\[package\]/,/^\[/ s/^version *= *"([^"]+)".*/\1/p' Cargo.toml | head -n 1
}

check_fmt() {
    local out
    if out=$(cargo fmt --all -- --check 2>&1); then
        pass "cargo fmt --all -- --check"
    else
        fail "cargo fmt --all -- --check (format your files: rustfmt --edition 2021 FILE.rs)"
        printf '%s\n' "$out" | grep -E '^Diff in ' | sort -u | head -n 40 | indent
    fi
}

check_clippy() {
    local out
    if out=$(cargo clippy --workspace --all-targets --quiet -- -D warnings 2>&1); then
        pass "cargo clippy --workspace --all-targets -- -D warnings"
    else
        fail "cargo clippy --workspace --all-targets -- -D warnings"
        printf '%s\n' "$out" | grep -E -A 3 '^(error|warning)' | head -n 80 | indent
    fi
}

shell_scripts() {
    local f first
    for f in "${FILES[@]}"; do
        case $f in
            *.sh | .ci/run) echo "$f"; continue ;;
            *.*) continue ;;   # only extension-less files are looked at for a shebang
        esac
        IFS= read -r first <"$f" 2>/dev/null || continue
        case $first in '#!'*/sh | '#!'*/bash | '#!'*'env bash' | '#!'*'env sh') echo "$f" ;; esac
    done
}

check_shellcheck() {
    if ! command -v shellcheck >/dev/null 2>&1; then
        fail "shellcheck is installed (apt-get install shellcheck; scripts/setup.sh does it)"
        return
    fi
    local f out n=0
    while IFS= read -r f; do
        n=$((n + 1))
        if out=$(shellcheck -x "$f" 2>&1); then
            pass "shellcheck -x $f"
        else
            fail "shellcheck -x $f"
            printf '%s\n' "$out" | head -n 60 | indent
        fi
    done < <(shell_scripts)
    [ "$n" -gt 0 ] || fail "shellcheck: found no shell scripts to check"
}

check_released() {
    if [ ! -s "$RELEASED" ]; then
        fail "$RELEASED exists and lists the released scripts"
        return
    fi
    local sum path actual listed=" "
    while read -r sum path; do
        case $sum in '' | '#'*) continue ;; esac
        listed+="$path "
        if [ ! -f "$path" ]; then
            fail "released script $path is present (released scripts are never deleted)"
        elif actual=$(sha256sum "$path" | cut -d' ' -f1) && [ "$actual" = "$sum" ]; then
            pass "released script $path is unchanged"
        else
            fail "released script $path is unchanged (sha256 $actual, released $sum): released scripts are never edited; put the change in the next upgrade script"
        fi
    done <"$RELEASED"

    # Every released script must be listed: each install script kept for the
    # upgrade test, and each upgrade script that ends at an earlier version than
    # the one being built.
    local current f to missing=()
    current=$(current_version)
    for f in "${FILES[@]}"; do
        case $f in
            tests/upgrade/grse--*.sql) ;;
            sql/grse--*--*.sql)
                to=${f##*--}; to=${to%.sql}
                [ "$to" != "$current" ] || continue
                ;;
            *) continue ;;
        esac
        case $listed in *" $f "*) ;; *) missing+=("$f") ;; esac
    done
    if [ ${#missing[@]} -eq 0 ]; then
        pass "every released script is listed in $RELEASED (version being built: $current)"
    else
        fail "every released script is listed in $RELEASED (version being built: $current): missing ${missing[*]}"
        echo "#   record each with: sha256sum FILE >>$RELEASED"
    fi
}

check_contained() {
    # Pointers to files that exist only next to the repository: the parent's
    # shared directory and the product specification kept there. The patterns
    # are assembled here so that this file does not match itself.
    local parent=".." shared="shared" spec="SPEC" out
    local patterns=("$parent/$shared" "/work/$shared" "$spec.md")
    if out=$(printf '%s\0' "${FILES[@]}" | xargs -0 grep -I -n -F "${patterns[@]/#/-e}" 2>/dev/null); then
        fail "no file points outside the repository (found ${patterns[*]})"
        printf '%s\n' "$out" | head -n 40 | indent
    else
        pass "no file points outside the repository"
    fi
}

check_tabs() {
    # Install and upgrade scripts carry the CREATE FUNCTION statements exactly
    # as `cargo pgrx schema` prints them, which indents with tabs: they are
    # exempt (and the released ones are frozen by the released check).
    local f bad=()
    for f in "${FILES[@]}"; do
        case $f in
            sql/grse--*.sql | tests/upgrade/grse--*.sql) continue ;;
            *.sql | *.spec) grep -q -P '\t' "$f" && bad+=("$f") ;;
        esac
    done
    if [ ${#bad[@]} -eq 0 ]; then
        pass "no tabs in handwritten SQL (*.sql, *.spec)"
    else
        fail "no tabs in handwritten SQL (*.sql, *.spec): ${bad[*]}"
        grep -n -P '\t' "${bad[@]}" | head -n 20 | indent
    fi
}

for c in "${CHECKS[@]}"; do
    "check_$c"
done

echo "lint: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
