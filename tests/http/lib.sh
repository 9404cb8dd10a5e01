# shellcheck shell=bash
# Plumbing shared by tests/http and tests/browser (sourced after tests/concurrency/lib.sh, which
# started the cluster): the grse-http binary, a login role, HS256 tokens made with openssl (not
# with the server's own code), starting and stopping the server, HTTP requests.

HTTP_TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
HTTP_BIN="$HTTP_TARGET/debug/grse-http"
SECRET="grse-http test secret, 32 bytes or more"
LOGIN=grse_http_login

# cargo build of the server (debug; quick when nothing changed).
build_server() {
    (cd "$ROOT" && cargo build -q -p grse-http)
    [ -x "$HTTP_BIN" ] || { echo "grse-http binary missing at $HTTP_BIN" >&2; exit 1; }
}

free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
                                      Proto => "tcp", Listen => 1, ReuseAddr => 1) or die "bind: $!\n";
        print $s->sockport, "\n";'
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# jwt CLAIMS_JSON [SECRET] [HEADER_JSON]: an HS256 token (any header, e.g. alg none, for forgeries).
jwt() {
    local claims=$1 secret=${2:-$SECRET} header=${3:-'{"alg":"HS256","typ":"JWT"}'} h p s
    h=$(printf '%s' "$header" | b64url)
    p=$(printf '%s' "$claims" | b64url)
    s=$(printf '%s' "$h.$p" | openssl dgst -sha256 -hmac "$secret" -binary | b64url)
    printf '%s.%s.%s' "$h" "$p" "$s"
}

# token ROLE [EXTRA_JSON_MEMBERS]: a token valid for an hour.
token() {
    local exp=$(( $(date +%s) + 3600 ))
    jwt "{\"role\":\"$1\",\"exp\":$exp${2:+,$2}}"
}

# The login role: NOINHERIT (no privileges of its own), may switch to the roles given.
create_login_role() {
    psql_q -c "CREATE ROLE $LOGIN LOGIN NOINHERIT" -c "GRANT $* TO $LOGIN"
}

HTTP_PORT=""
SERVER_PID=""
SERVER_LOG="$WORK/server.log"
BASE=""

# start_server: runs grse-http against the test database, waits until /healthz answers.
start_server() {
    HTTP_PORT=$(free_port)
    BASE="http://127.0.0.1:$HTTP_PORT"
    DATABASE_URL="postgresql://$LOGIN@127.0.0.1:$PGPORT/$DB" GRSE_JWT_SECRET="$SECRET" \
        GRSE_HTTP_ADDR="127.0.0.1:$HTTP_PORT" GRSE_DB_POOL_SIZE="${POOL_SIZE:-8}" \
        GRSE_REQUEST_TIMEOUT="${REQUEST_TIMEOUT:-30}" \
        "$HTTP_BIN" >>"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "grse-http did not come up; log:" >&2
    cat "$SERVER_LOG" >&2
    exit 1
}

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

# req METHOD PATH [TOKEN] [BODY] [EXTRA CURL ARGS...]: sets STATUS, BODY and HEADERS.
# shellcheck disable=SC2034 # read by the sourcing scripts
STATUS="" BODY="" HEADERS=""
req() {
    local method=$1 path=$2 tok=${3:-} body=${4:-}
    shift $(( $# < 4 ? $# : 4 ))
    local args=(-s -X "$method" -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 30)
    [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    STATUS=$(curl "${args[@]}" "$@" "$BASE$path") || STATUS="curl-failed"
    BODY=$(cat "$WORK/body" 2>/dev/null || true)
    # shellcheck disable=SC2034 # read by the sourcing scripts
    HEADERS=$(tr -d '\r' <"$WORK/headers" 2>/dev/null || true)
}

# expect DESCRIPTION STATUS [JQ-FILTER]: the last request answered STATUS and (if given) the
# jq filter is true of its JSON body.
expect() {
    local desc=$1 want=$2 filter=${3:-}
    if [ "$STATUS" != "$want" ]; then
        fail "$desc (status $STATUS, expected $want)"
        printf '#   %s\n' "${BODY:0:400}"
        return
    fi
    if [ -n "$filter" ] && ! jq -e "$filter" >/dev/null 2>&1 <<<"$BODY"; then
        fail "$desc (body does not satisfy $filter)"
        printf '#   %s\n' "${BODY:0:400}"
        return
    fi
    pass "$desc"
}
