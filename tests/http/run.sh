#!/usr/bin/env bash
# HTTP integration tests of grse-http against a real cluster with grse installed: every status
# (401, 403, 400, 404, 503 with Retry-After), every endpoint's answer equal to its SQL function's
# (called under the same role and claims), tenant isolation through row-level security, a role
# claim the login may not take, SQL-looking parameters that change nothing, the metrics, the
# pages' sign-in, live events, the request log, and a database restart mid-run (503, then
# recovery). Prints ok/not ok lines and "http: N passed, M failed".
set -euo pipefail

export DB=grse_http_test SUITE=http
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/concurrency/lib.sh
source "$HERE/../concurrency/lib.sh"
# shellcheck source=tests/http/lib.sh
source "$HERE/lib.sh"
trap 'stop_server; stop_sse; cleanup' EXIT

build_server

AGENCY=aaaaaaaa-0000-4000-8000-000000000001
psql_q <<SQL >/dev/null
CREATE EXTENSION grse;
INSERT INTO grse.regions (name, slug, country_code, timezone) VALUES
    ('Frankfurt', 'eu-frankfurt', 'DE', 'Europe/Berlin'),
    ('Sydney',    'ap-sydney',    'AU', 'Australia/Sydney'),
    ('Virginia',  'us-virginia',  'US', 'America/New_York'),
    ('Sao Paulo', 'sa-saopaulo',  'BR', 'America/Sao_Paulo');
-- the agency is licensed to Frankfurt and Sydney; its Virginia license is suspended
INSERT INTO grse.agency_regions (agency_id, region_id, status)
SELECT '$AGENCY', id, CASE slug WHEN 'us-virginia' THEN 'suspended' ELSE 'active' END
  FROM grse.regions WHERE slug IN ('eu-frankfurt', 'ap-sydney', 'us-virginia');
SELECT grse.check_and_decrement_budget(id, 1500, NULL, 'posting') FROM grse.regions WHERE slug = 'eu-frankfurt';
SELECT grse.check_and_decrement_budget(id, 700, NULL, 'creative') FROM grse.regions WHERE slug = 'eu-frankfurt';
SELECT grse.check_and_decrement_budget(id, 90000, NULL, 'intel') FROM grse.regions WHERE slug = 'ap-sydney';
SELECT grse.refund_budget(id, 200, 'failed call') FROM grse.regions WHERE slug = 'eu-frankfurt';
UPDATE grse.region_scaling_state SET posting_pressure = 70, orchestration_pressure = 65, creative_pressure = 55,
       intel_pressure = 40, jobs_in_queue = 4
 WHERE region_id = (SELECT id FROM grse.regions WHERE slug = 'ap-sydney');
SELECT grse.save_region_snapshot(id, 'hourly') FROM grse.regions;
SELECT grse.alert_critical_issues();
-- test helper: a jsonb value without the keys that hold now() (assessedAt, detectedAt, generated_at)
CREATE SCHEMA test_util;
CREATE FUNCTION test_util.strip(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS \$\$
    SELECT CASE jsonb_typeof(j)
        WHEN 'object' THEN (SELECT COALESCE(jsonb_object_agg(k, test_util.strip(v)), '{}')
                              FROM jsonb_each(j) AS e(k, v) WHERE k NOT IN ('assessedAt', 'detectedAt', 'generated_at'))
        WHEN 'array' THEN (SELECT COALESCE(jsonb_agg(test_util.strip(v) ORDER BY o), '[]')
                             FROM jsonb_array_elements(j) WITH ORDINALITY AS e(v, o))
        ELSE j END
\$\$;
GRANT USAGE ON SCHEMA test_util TO PUBLIC;
SQL
id_of() { psql_q -c "SELECT id FROM grse.regions WHERE slug = '$1'"; }
FRA=$(id_of eu-frankfurt)
SYD=$(id_of ap-sydney)
VIR=$(id_of us-virginia)
UNKNOWN=00000000-0000-4000-8000-0000000000ff

# The login may switch to the reader, tenant and operator roles, not to grse_admin.
create_login_role grse_reader, grse_tenant, grse_operator
REQUEST_TIMEOUT=3 start_server

READER=$(token grse_reader)
OPERATOR=$(token grse_operator)
TENANT=$(token grse_tenant "\"agency_id\":\"$AGENCY\"")
history_count() { psql_q -c "SELECT count(*) FROM grse.region_scaling_history"; }
regions_count() { psql_q -c "SELECT count(*) FROM grse.regions"; }

# same_as_sql DESCRIPTION ROLE CLAIMS SQL-EXPRESSION: the last body equals the SQL expression's
# jsonb evaluated as ROLE with CLAIMS (keys that hold now() left out on both sides).
same_as_sql() {
    local desc=$1 role=$2 claims=$3 expr=$4 out
    # shellcheck disable=SC2153 # BODY is set by req
    out=$(psql_q -v body="$BODY" <<SQL 2>&1
BEGIN;
SELECT set_config('role', '$role', true), set_config('request.jwt.claims', '$claims', true) \\g /dev/null
SELECT test_util.strip(:'body'::jsonb) = test_util.strip($expr);
ROLLBACK;
SQL
    ) || true
    if [ "$out" = t ]; then
        pass "$desc"
    else
        fail "$desc"
        printf '#   http: %s\n#   sql check: %s\n' "${BODY:0:300}" "${out:0:300}"
    fi
}

echo "# --- 401: missing, forged, expired or role-less tokens"
NOW=$(date +%s)
for path in /api/regions/health "/api/regions/$FRA/snapshot" /metrics; do
    req GET "$path"
    expect "GET $path without a token: 401 {success:false, error}" 401 \
        '.success == false and (.error | type == "string")'
done
req POST "/api/regions/$FRA/snapshot" "" '{"periodType":"hourly"}'
expect "POST snapshot without a token: 401" 401 '.success == false'
if grep -qi '^www-authenticate: Bearer' <<<"$HEADERS"; then pass "401 carries WWW-Authenticate: Bearer"; else fail "401 carries WWW-Authenticate: Bearer"; fi
req GET /api/regions/health "" "" -H "Authorization: Basic dXNlcjpwYXNz"
expect "another auth scheme: 401" 401 '.error | test("Bearer")'
req GET /api/regions/health "not-a-jwt"
expect "a malformed token: 401" 401 '.error == "token is malformed"'
req GET /api/regions/health "$(jwt "{\"role\":\"grse_reader\",\"exp\":$((NOW + 3600))}" "a different secret of thirty-two bytes")"
expect "a token signed with another secret: 401" 401 '.error == "token signature does not match"'
req GET /api/regions/health "$(jwt "{\"role\":\"grse_reader\",\"exp\":$((NOW - 5))}")"
expect "an expired token (exp 5 s ago): 401" 401 '.error == "token has expired"'
req GET /api/regions/health "$(jwt "{\"role\":\"grse_reader\",\"exp\":$((NOW + 3600))}" "$SECRET" '{"alg":"none","typ":"JWT"}')"
expect "an alg=none token: 401" 401 '.success == false'
req GET /api/regions/health "$(jwt "{\"role\":\"grse_reader\",\"exp\":$((NOW + 3600))}" "$SECRET" '{"alg":"HS512","typ":"JWT"}')"
expect "an HS512 token: 401" 401 '.success == false'
req GET /api/regions/health "$(jwt "{\"exp\":$((NOW + 3600))}")"
expect "a token without a role claim: 401" 401 '.error == "token has no role claim"'
req GET /api/regions/health "$(jwt "{\"role\":\"grse_reader\",\"nbf\":$((NOW + 600))}")"
expect "a token not valid yet (nbf): 401" 401 '.error == "token is not valid yet"'
req GET /api/regions/health "$(jwt '{"role":"grse_reader"}')"
expect "a token without exp is accepted (as PostgREST)" 200 '.success == true'
req GET /healthz
expect "/healthz needs no token" 200 '.status == "ok"'

echo "# --- 403: a role claim the login may not take, a role without the privilege"
req GET /api/regions/health "$(token postgres)"
expect "role claim postgres (a superuser the login is no member of): 403" 403 \
    '.code == "42501" and (.error | test("permission denied to set role"))'
req GET /api/regions/health "$(token grse_admin)"
expect "role claim grse_admin (not granted to the login): 403" 403 '.code == "42501"'
req GET /api/regions/health "$(token no_such_role)"
expect "role claim of a role that does not exist: 403" 403 '.error | test("does not exist")'
req GET /metrics "$(token postgres)"
expect "metrics with a role the login may not take: 403" 403
before=$(history_count)
req POST "/api/regions/$FRA/snapshot" "$READER" '{"periodType":"hourly"}'
expect "POST snapshot as grse_reader (no EXECUTE on api_save_region_snapshot): 403" 403 \
    '.code == "42501" and (.error | test("permission denied for function api_save_region_snapshot"))'
req POST "/api/regions/$FRA/snapshot" "$TENANT" '{"periodType":"hourly"}'
expect "POST snapshot as grse_tenant: 403" 403 '.code == "42501"'
check "refused POSTs wrote no snapshot" "SELECT count(*) = $before FROM grse.region_scaling_history"

echo "# --- 200: every endpoint's answer equals its SQL function's"
req GET /api/regions/health "$READER"
expect "GET /api/regions/health: 200" 200 '.success == true and (.regions | length) == 4'
same_as_sql "health equals api_regions_health()" grse_reader "{}" "grse.api_regions_health()"
if grep -qi '^content-type: application/json' <<<"$HEADERS"; then pass "JSON content type"; else fail "JSON content type"; fi
req GET "/api/regions/health?sortBy=capacity&order=asc&includeRisk=true" "$READER"
expect "health sorted by capacity ascending, with risk: 200" 200 '.globalRisk.riskLevel != null'
same_as_sql "sorted health with risk equals api_regions_health('capacity', 'asc', true)" grse_reader "{}" \
    "grse.api_regions_health('capacity', 'asc', true)"
req GET "/api/regions/health?sortBy=name" "$READER"
same_as_sql "health by name (default order) equals api_regions_health(sort_by => 'name')" grse_reader "{}" \
    "grse.api_regions_health(sort_by => 'name')"
req GET "/api/regions/$SYD/snapshot" "$READER"
expect "GET snapshot: 200" 200 '.success == true and .summary.region_slug == "ap-sydney" and .history == []'
same_as_sql "snapshot equals api_get_region_snapshot(id)" grse_reader "{}" \
    "grse.api_get_region_snapshot('$SYD')"
req GET "/api/regions/$SYD/snapshot?includeHistory=true&periods=5" "$READER"
expect "GET snapshot with history: 200" 200 '(.history | length) == 1'
same_as_sql "snapshot with history equals api_get_region_snapshot(id, true, 5)" grse_reader "{}" \
    "grse.api_get_region_snapshot('$SYD', true, 5)"
before=$(history_count)
req POST "/api/regions/$SYD/snapshot" "$OPERATOR" '{"periodType":"daily"}'
expect "POST snapshot as grse_operator: 200" 200 '.success == true and .message == "Snapshot saved" and .periodType == "daily"'
same_as_sql "POST answer equals api_save_region_snapshot(id, 'daily')" grse_operator "{}" \
    "grse.api_save_region_snapshot('$SYD', 'daily')"
check "the POST saved one daily snapshot" \
    "SELECT count(*) = $before + 1 AND count(*) FILTER (WHERE period_type = 'daily') = 1 FROM grse.region_scaling_history"
req POST "/api/regions/$SYD/snapshot" "$OPERATOR"
expect "POST without a body saves an hourly snapshot (the function's default)" 200 '.periodType == "hourly"'

echo "# --- tenant: only its licensed regions"
req GET /api/regions/health "$TENANT"
expect "tenant health: 200" 200 '.success == true'
if [ "$(jq -c '[.regions[].regionSlug] | sort' <<<"$BODY")" = '["ap-sydney","eu-frankfurt"]' ]; then
    pass "tenant sees exactly its two active licenses (not the suspended one, not the unlicensed one)"
else
    fail "tenant sees exactly its two active licenses: $(jq -c '[.regions[].regionSlug]' <<<"$BODY")"
fi
same_as_sql "tenant health equals api_regions_health() under the tenant's claims" grse_tenant \
    "{\"role\":\"grse_tenant\",\"agency_id\":\"$AGENCY\"}" "grse.api_regions_health()"
req GET "/api/regions/$VIR/snapshot" "$TENANT"
expect "tenant: snapshot of its suspended region is 404" 404 '.success == false and .status == 404'
req GET "/api/regions/$FRA/snapshot" "$TENANT"
expect "tenant: snapshot of a licensed region is 200" 200 '.summary.region_slug == "eu-frankfurt"'
req GET /api/regions/health "$(token grse_tenant)"
expect "tenant token without agency_id sees no region" 200 '.regions == []'
req GET /metrics "$TENANT"
if [ "$STATUS" = 200 ] && grep -q 'region="eu-frankfurt"' <<<"$BODY" && ! grep -qE 'region="(us-virginia|sa-saopaulo)"' <<<"$BODY"; then
    pass "tenant metrics cover its regions only"
else
    fail "tenant metrics cover its regions only (status $STATUS)"
fi

echo "# --- 400: bad parameters and bodies, with the database's message; nothing changed"
before=$(history_count)
bad() {
    local desc=$1 method=$2 path=$3 body=$4 filter=$5
    req "$method" "$path" "$OPERATOR" "$body"
    expect "$desc: 400" 400 "$filter"
}
bad "unknown sortBy" GET "/api/regions/health?sortBy=bogus" "" '.code == "22023" and .error == "unknown sort key \"bogus\"" and (.hint | test("capacity"))'
bad "unknown order" GET "/api/regions/health?order=sideways" "" '.error == "unknown sort order \"sideways\""'
bad "includeRisk not a boolean" GET "/api/regions/health?includeRisk=maybe" "" '.code == "22P02" and (.error | test("boolean"))'
bad "sortBy given twice" GET "/api/regions/health?sortBy=name&sortBy=capacity" "" '.error | test("more than once")'
bad "region id not a uuid" GET "/api/regions/not-a-uuid/snapshot" "" '.code == "22P02" and (.error | test("uuid"))'
bad "periods not a number" GET "/api/regions/$FRA/snapshot?periods=ten" "" '.code == "22P02" and (.error | test("integer"))'
bad "periods out of range" GET "/api/regions/$FRA/snapshot?periods=0" "" '.error == "periods must lie in [1, 1000], got 0"'
bad "periods beyond integer" GET "/api/regions/$FRA/snapshot?periods=99999999999" "" '.code == "22003"'
bad "includeHistory not a boolean" GET "/api/regions/$FRA/snapshot?includeHistory=often" "" '.code == "22P02"'
bad "unknown periodType" POST "/api/regions/$FRA/snapshot" '{"periodType":"yearly"}' '.error == "unknown period type \"yearly\""'
bad "periodType null" POST "/api/regions/$FRA/snapshot" '{"periodType":null}' '.code == "22004"'
bad "periodType a number" POST "/api/regions/$FRA/snapshot" '{"periodType":7}' '.error | test("must be a string")'
bad "body not JSON" POST "/api/regions/$FRA/snapshot" '{"periodType":' '.error | test("not valid JSON")'
bad "body not an object" POST "/api/regions/$FRA/snapshot" '["hourly"]' '.error | test("JSON object")'
bad "POST to a malformed id" POST "/api/regions/12345/snapshot" '{"periodType":"hourly"}' '.code == "22P02"'
check "no bad request wrote a snapshot" "SELECT count(*) = $before FROM grse.region_scaling_history"
if grep -q '"stack\|backtrace\|panicked' "$WORK/body" "$SERVER_LOG"; then fail "no stack trace in answers or log"; else pass "no stack trace in answers or log"; fi

echo "# --- 404: unknown region"
req GET "/api/regions/$UNKNOWN/snapshot" "$READER"
expect "GET snapshot of an unknown region: 404 in the function's shape" 404 \
    ".success == false and .status == 404 and .error == \"Region not found\" and .regionId == \"$UNKNOWN\""
same_as_sql "the 404 answer equals api_get_region_snapshot's" grse_reader "{}" "grse.api_get_region_snapshot('$UNKNOWN')"
req POST "/api/regions/$UNKNOWN/snapshot" "$OPERATOR" '{"periodType":"hourly"}'
expect "POST snapshot of an unknown region: 404" 404 '.status == 404'
req GET /api/regions/nothing/here "$READER"
expect "an unknown path: 404" 404

echo "# --- SQL-looking parameters change nothing"
before_h=$(history_count)
before_r=$(regions_count)
req GET "/api/regions/health?sortBy=capacity%3B%20DROP%20TABLE%20grse.regions%3B%20--" "$OPERATOR"
expect "sortBy with a DROP TABLE: 400 (an unknown sort key)" 400 '.error | startswith("unknown sort key \"capacity; DROP TABLE")'
req GET "/api/regions/health?order=asc%27)%3B%20DELETE%20FROM%20grse.region_scaling_history%3B--" "$OPERATOR"
expect "order with a DELETE: 400" 400 '.code == "22023"'
req GET "/api/regions/%27%3B%20DELETE%20FROM%20grse.regions%3B%20--/snapshot" "$OPERATOR"
expect "region id with a DELETE: 400 (not a uuid)" 400 '.code == "22P02"'
req POST "/api/regions/$FRA/snapshot" "$OPERATOR" '{"periodType":"hourly'"'"'); DELETE FROM grse.region_scaling_history; --"}'
expect "periodType with a DELETE: 400" 400 '.code == "22023"'
req GET "/api/regions/$FRA/snapshot?periods=1%3B%20DROP%20SCHEMA%20grse%20CASCADE" "$OPERATOR"
expect "periods with a DROP SCHEMA: 400" 400 '.code == "22P02"'
req GET "/api/regions/health" "$(token "grse_reader'; DROP TABLE grse.regions; --")"
expect "a role claim with SQL in it: 403 (no such role)" 403
check "regions and history unchanged after the SQL-looking requests" \
    "SELECT (SELECT count(*) FROM grse.regions) = $before_r AND (SELECT count(*) FROM grse.region_scaling_history) = $before_h"

echo "# --- metrics"
ledger_sum() {
    psql_q -c "SELECT COALESCE(sum(amount), 0) FROM grse.region_budget_transactions
                WHERE region_id = '$1' AND transaction_type = '$2' AND job_type IS NOT DISTINCT FROM ${3:-NULL}"
}
metric() { grep -F "$1 " <<<"$BODY" | awk '{ print $2 }'; }
req GET /metrics "$READER"
if [ "$STATUS" = 200 ] && grep -qi '^content-type: text/plain; version=0.0.4' <<<"$HEADERS"; then
    pass "GET /metrics: 200 in the Prometheus text format"
else
    fail "GET /metrics: 200 in the Prometheus text format (status $STATUS)"
fi
if grep -v '^#' <<<"$BODY" | grep -v '^$' | grep -qv '^grse_'; then fail "every metric name starts with grse_"; else pass "every metric name starts with grse_"; fi
cap=$(psql_q -c "SELECT capacity_score FROM grse.region_scaling_state WHERE region_id = '$SYD'")
got=$(metric 'grse_region_capacity_score{region="ap-sydney"}')
if awk -v a="$cap" -v b="$got" 'BEGIN { exit !(a + 0 == b + 0) }'; then pass "capacity gauge = the state's capacity ($got)"; else fail "capacity gauge $got = state $cap"; fi
got=$(metric 'grse_region_pressure{region="ap-sydney",type="posting"}')
if [ "$got" = 70 ]; then pass "posting pressure gauge = 70"; else fail "posting pressure gauge = 70 (got $got)"; fi
mode=$(psql_q -c "SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = '$SYD'")
got=$(metric "grse_region_mode{region=\"ap-sydney\",mode=\"$mode\"}")
if [ "$got" = 1 ]; then pass "mode gauge 1 for the current mode ($mode)"; else fail "mode gauge for $mode (got $got)"; fi
spent=$(ledger_sum "$FRA" spend "'posting'")
got=$(metric 'grse_budget_spent_cents_total{region="eu-frankfurt",job_type="posting"}')
if [ "$got" = "$spent" ]; then pass "spent counter = the ledger's posting spend ($spent)"; else fail "spent counter $got = ledger $spent"; fi
refunded=$(ledger_sum "$FRA" refund)
got=$(metric 'grse_budget_refunded_cents_total{region="eu-frankfurt",job_type="unknown"}')
if [ "$got" = "$refunded" ]; then pass "refunded counter = the ledger's refunds ($refunded)"; else fail "refunded counter $got = ledger $refunded"; fi
open=$(psql_q -c "SELECT count(*) FROM grse.alerts WHERE resolved_at IS NULL AND severity = 'critical'")
got=$(metric 'grse_alerts_open{severity="critical"}')
if [ "$got" = "$open" ]; then pass "open critical alerts gauge = $open"; else fail "open critical alerts gauge $got = $open"; fi
psql_q -c "SELECT grse.check_and_decrement_budget('$FRA', 333, NULL, 'posting')" >/dev/null
req GET /metrics "$READER"
spent=$(ledger_sum "$FRA" spend "'posting'")
got=$(metric 'grse_budget_spent_cents_total{region="eu-frankfurt",job_type="posting"}')
if [ "$got" = "$spent" ]; then pass "after one more spend the counter follows the ledger ($spent)"; else fail "counter after spend $got = ledger $spent"; fi
req GET /metrics "$READER"
got2=$(metric 'grse_budget_spent_cents_total{region="eu-frankfurt",job_type="posting"}')
if [ "$got2" = "$spent" ]; then pass "a second scrape counts the same rows once"; else fail "second scrape $got2 = $spent"; fi

echo "# --- budget holds on the metrics and pages"
HOLD=$(psql_q -c "SELECT hold_id FROM grse.reserve_budget('$FRA', 400, NULL, 'creative')")
held=$(psql_q -c "SELECT ai_budget_held FROM grse.region_scaling_state WHERE region_id = '$FRA'")
req GET /metrics "$READER"
got=$(metric 'grse_region_budget_held_cents{region="eu-frankfurt"}')
if [ -n "$HOLD" ] && [ "$held" = 400 ] && [ "$got" = 400 ]; then pass "held gauge = the state's ai_budget_held (400)"; else fail "held gauge $got, state $held"; fi
req GET "/regions/$FRA" "$READER"
if [ "$STATUS" = 200 ] && grep -q 'data-field="held">4.00<' <<<"$BODY"; then pass "the region page shows the budget held (4.00)"; else fail "region page held (status $STATUS)"; fi
req GET /regions "$READER"
if grep -q 'data-field="held">Held <b>4.00</b>' <<<"$BODY"; then pass "the region grid shows the budget held"; else fail "grid held"; fi
psql_q -c "SELECT grse.settle_budget_hold('$HOLD', 300)" >/dev/null
req GET /metrics "$READER"
spent=$(ledger_sum "$FRA" spend "'creative'")
got=$(metric 'grse_budget_spent_cents_total{region="eu-frankfurt",job_type="creative"}')
held=$(metric 'grse_region_budget_held_cents{region="eu-frankfurt"}')
if [ "$got" = "$spent" ] && [ "$spent" = 1000 ] && [ "$held" = 0 ]; then
    pass "a settled hold counts as spend (700 + 300) and is no longer held"
else
    fail "settled hold: spent counter $got, ledger $spent, held $held"
fi

echo "# --- pages: sign-in, cookie, data only with a token"
req GET /regions
if [ "$STATUS" = 401 ] && grep -q 'action="/signin"' <<<"$BODY" && ! grep -q 'Frankfurt' <<<"$BODY"; then
    pass "/regions without a token: 401 with the sign-in form and no data"
else
    fail "/regions without a token: 401 with the sign-in form and no data (status $STATUS)"
fi
req GET /regions "$READER"
if [ "$STATUS" = 200 ] && grep -q 'Frankfurt' <<<"$BODY" && grep -q 'Sao Paulo' <<<"$BODY" && grep -q "href=\"/regions/$SYD\"" <<<"$BODY"; then
    pass "/regions with a bearer token: every region, linked"
else
    fail "/regions with a bearer token (status $STATUS)"
fi
STATUS=$(curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --data-urlencode "token=$READER" "$BASE/signin")
cookie=$(tr -d '\r' <"$WORK/headers" | sed -n 's/^[Ss]et-[Cc]ookie: //p')
if [ "$STATUS" = 303 ] && grep -q "^grse_token=$READER; Path=/; HttpOnly; SameSite=Strict; Max-Age=" <<<"$cookie"; then
    pass "POST /signin with a valid token: 303 and an HttpOnly cookie grse_token"
else
    fail "POST /signin: status $STATUS, cookie '$cookie'"
fi
req GET /regions "" "" -H "Cookie: grse_token=$READER"
if [ "$STATUS" = 200 ] && grep -q 'Virginia' <<<"$BODY"; then pass "/regions with the cookie: 200 with data"; else fail "/regions with the cookie (status $STATUS)"; fi
req GET /regions "" "" -H "Cookie: grse_token=$TENANT"
if [ "$STATUS" = 200 ] && grep -q 'Sydney' <<<"$BODY" && ! grep -q 'Virginia' <<<"$BODY"; then
    pass "/regions as the tenant shows its regions only"
else
    fail "/regions as the tenant shows its regions only"
fi
STATUS=$(curl -s -o "$WORK/body" -w '%{http_code}' --data-urlencode "token=$(token grse_admin)" "$BASE/signin")
if [ "$STATUS" = 401 ] && grep -q 'cannot be used' "$WORK/body"; then pass "signing in with a role the login may not take: 401 with the reason"; else fail "sign-in with grse_admin (status $STATUS)"; fi
STATUS=$(curl -s -o "$WORK/body" -w '%{http_code}' --data-urlencode "token=garbage" "$BASE/signin")
if [ "$STATUS" = 401 ]; then pass "signing in with a malformed token: 401"; else fail "sign-in with garbage (status $STATUS)"; fi
req GET /regions "" "" -H "Cookie: grse_token=$(jwt "{\"role\":\"grse_reader\",\"exp\":$((NOW - 1))}")"
if [ "$STATUS" = 401 ] && grep -qi '^set-cookie: grse_token=; .*Max-Age=0' <<<"$HEADERS"; then
    pass "an expired cookie: 401, sign-in form, cookie cleared"
else
    fail "an expired cookie (status $STATUS)"
fi
req GET "/regions/$SYD" "$READER"
if [ "$STATUS" = 200 ] && [ "$(grep -o 'data-pressure="[a-z]*"' <<<"$BODY" | sort -u | wc -l)" -eq 5 ]; then
    pass "/regions/{id}: four pressure bars and the overall"
else
    fail "/regions/{id}: pressure bars (status $STATUS)"
fi
req GET "/regions/$UNKNOWN" "$READER"
if [ "$STATUS" = 404 ]; then pass "/regions/{unknown}: 404"; else fail "/regions/{unknown}: 404 (got $STATUS)"; fi
req GET "/regions/xyz" "$READER"
if [ "$STATUS" = 400 ]; then pass "/regions/{malformed}: 400"; else fail "/regions/{malformed}: 400 (got $STATUS)"; fi
req GET "/regions/$VIR" "$TENANT"
if [ "$STATUS" = 404 ]; then pass "/regions/{id} of a region the tenant may not see: 404"; else fail "tenant detail page of Virginia (got $STATUS)"; fi
STATUS=$(curl -s -o /dev/null -D "$WORK/headers" -w '%{http_code}' -X POST "$BASE/signout")
if grep -qi '^set-cookie: grse_token=;.*Max-Age=0' "$WORK/headers" && [ "$STATUS" = 303 ]; then pass "POST /signout clears the cookie"; else fail "signout (status $STATUS)"; fi

echo "# --- live events (server-sent events fed by LISTEN)"
SSE_PIDS=()
stop_sse() { local p; for p in "${SSE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; SSE_PIDS=(); }
sse() { # sse FILE TOKEN: subscribe in the background
    curl -sN --max-time 60 -H "Cookie: grse_token=$2" "$BASE/regions/events" >"$1" 2>/dev/null &
    SSE_PIDS+=($!)
}
wait_for() { # wait_for FILE PATTERN SECONDS
    for _ in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
req GET /regions/events
expect "events without a token: 401" 401
sse "$WORK/sse-reader" "$READER"
sse "$WORK/sse-tenant" "$TENANT"
wait_for "$WORK/sse-reader" 'event: hello' 10 || true
wait_for "$WORK/sse-tenant" 'event: hello' 10 || true
psql_q -c "UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95, intel_pressure = 95 WHERE region_id = '$VIR'" >/dev/null
psql_q -c "UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95, intel_pressure = 95 WHERE region_id = '$FRA'" >/dev/null
if wait_for "$WORK/sse-reader" "\"region_id\" *: *\"$FRA\"" 10 && grep -q "\"region_id\" *: *\"$VIR\"" "$WORK/sse-reader"; then
    pass "a reader's stream gets both mode changes"
else
    fail "a reader's stream gets both mode changes"; sed 's/^/#   /' "$WORK/sse-reader" | head -n 10
fi
if wait_for "$WORK/sse-tenant" "\"region_id\" *: *\"$FRA\"" 10 && ! grep -q "$VIR" "$WORK/sse-tenant"; then
    pass "the tenant's stream gets its region's mode change, not the unlicensed region's"
else
    fail "tenant stream filtering"; sed 's/^/#   /' "$WORK/sse-tenant" | head -n 10
fi
if grep -q '^event: mode' "$WORK/sse-reader"; then pass "mode changes arrive as 'event: mode'"; else fail "event name mode"; fi
# both regions are frozen now: the monitor raises an alert for each (NOTIFY grse_alerts)
psql_q -c "SELECT grse.alert_critical_issues()" >/dev/null
fra_alert=$(psql_q -c "SELECT id FROM grse.alerts WHERE region_id = '$FRA' AND alert_type = 'mode_frozen' AND resolved_at IS NULL")
vir_alert=$(psql_q -c "SELECT id FROM grse.alerts WHERE region_id = '$VIR' AND alert_type = 'mode_frozen' AND resolved_at IS NULL")
if [ -n "$fra_alert" ] && [ -n "$vir_alert" ] && wait_for "$WORK/sse-reader" "\"id\" *: *$vir_alert\b" 10 \
    && grep -q '^event: alert' "$WORK/sse-reader"; then
    pass "a new alert arrives as 'event: alert'"
else
    fail "alert events (alerts $fra_alert, $vir_alert)"; grep -A1 '^event: alert' "$WORK/sse-reader" | sed 's/^/#   /' | head -n 6
fi
if wait_for "$WORK/sse-tenant" "\"id\" *: *$fra_alert\b" 10 && ! grep -q "\"id\" *: *$vir_alert\b" "$WORK/sse-tenant"; then
    pass "the tenant hears of its region's alert, not of the other region's"
else
    fail "tenant alert filtering"; grep -A1 '^event: alert' "$WORK/sse-tenant" | sed 's/^/#   /' | head -n 6
fi
stop_sse

echo "# --- the request log"
if grep -qE ' GET /api/regions/health 200 [0-9.]+ms$' "$SERVER_LOG" && grep -qE ' POST /api/regions/[0-9a-f-]+/snapshot 403 [0-9.]+ms$' "$SERVER_LOG"; then
    pass "one log line per request: method, path, status, ms"
else
    fail "request log lines"; tail -n 5 "$SERVER_LOG" | sed 's/^/#   /'
fi
if grep -qF "$READER" "$SERVER_LOG" || grep -qF "$OPERATOR" "$SERVER_LOG" || grep -q 'eyJ' "$SERVER_LOG"; then
    fail "the log never contains a token"
else
    pass "the log never contains a token"
fi
if grep -q 'sortBy' "$SERVER_LOG"; then fail "the log has no query strings"; else pass "the log has no query strings"; fi

echo "# --- configuration"
if "$HTTP_BIN" --help >"$WORK/help" 2>&1 && grep -q DATABASE_URL "$WORK/help" && grep -q GRSE_HTTP_ADDR "$WORK/help" \
    && grep -q GRSE_JWT_SECRET "$WORK/help"; then
    pass "--help names DATABASE_URL, GRSE_HTTP_ADDR, GRSE_JWT_SECRET"
else
    fail "--help"
fi
rc=0; env -u DATABASE_URL GRSE_JWT_SECRET="$SECRET" "$HTTP_BIN" >"$WORK/cfg" 2>&1 || rc=$?
if [ "$rc" = 2 ] && grep -q 'DATABASE_URL is not set' "$WORK/cfg"; then pass "missing DATABASE_URL: exit 2 with a message"; else fail "missing DATABASE_URL (rc $rc)"; fi
rc=0; DATABASE_URL=x GRSE_JWT_SECRET="" "$HTTP_BIN" >"$WORK/cfg" 2>&1 || rc=$?
if [ "$rc" = 2 ] && grep -q 'GRSE_JWT_SECRET is not set' "$WORK/cfg"; then pass "an empty secret: exit 2 with a message"; else fail "empty secret (rc $rc)"; fi
rc=0; DATABASE_URL=x GRSE_JWT_SECRET="$SECRET" GRSE_HTTP_ADDR=nowhere "$HTTP_BIN" >"$WORK/cfg" 2>&1 || rc=$?
if [ "$rc" = 2 ] && grep -q 'GRSE_HTTP_ADDR' "$WORK/cfg"; then pass "a malformed GRSE_HTTP_ADDR: exit 2 with a message"; else fail "malformed address (rc $rc)"; fi
# a short secret is warned about; a host name in GRSE_HTTP_ADDR is resolved; an unreachable database
# does not keep the server from starting (it answers 503 until the database is there)
weak_port=$(free_port)
DATABASE_URL="postgresql://nobody@127.0.0.1:1/none" GRSE_JWT_SECRET=short GRSE_HTTP_ADDR="localhost:$weak_port" \
    "$HTTP_BIN" >"$WORK/weak.log" 2>&1 &
weak_pid=$!
for _ in $(seq 1 50); do grep -q 'listening on' "$WORK/weak.log" && break; sleep 0.1; done
weak_status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$weak_port/healthz" || true)
kill "$weak_pid" 2>/dev/null || true
wait "$weak_pid" 2>/dev/null || true
if grep -q 'warn GRSE_JWT_SECRET is 5 bytes long' "$WORK/weak.log" && grep -q "listening on http://127.0.0.1:$weak_port" "$WORK/weak.log" \
    && [ "$weak_status" = 503 ]; then
    pass "a short secret is warned about, localhost resolves, no database means 503"
else
    fail "weak secret start (healthz $weak_status)"; sed 's/^/#   /' "$WORK/weak.log" | head -n 5
fi

echo "# --- a request that outlasts GRSE_REQUEST_TIMEOUT (3 s): 503 with Retry-After, nothing left behind"
"$PG_BIN/psql" -X -q -c "BEGIN" -c "LOCK TABLE grse.regions IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(6)" -c "COMMIT" >/dev/null 2>&1 &
locker=$!
sleep 0.5
started=$(date +%s)
req GET /api/regions/health "$READER"
took=$(( $(date +%s) - started ))
if [ "$STATUS" = 503 ] && grep -qi '^retry-after: [0-9]' <<<"$HEADERS" && [ "$took" -le 5 ]; then
    pass "a request blocked past the timeout: 503 with Retry-After after ${took} s"
else
    fail "timeout: status $STATUS after ${took} s"; printf '#   %s\n' "${BODY:0:200}"
fi
wait "$locker" || true
req GET /api/regions/health "$READER"
expect "after the lock is gone the same endpoint answers 200" 200 '.success == true'
check "no transaction of the server is left open" \
    "SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = '$LOGIN' AND state LIKE 'idle in transaction%'"

echo "# --- database restart mid-run: 503 with Retry-After, then recovery"
req GET /api/regions/health "$READER"
expect "before the restart: 200" 200
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_postgres "$PG_BIN/pg_ctl" stop -D "$CL/data" -m fast -w >/dev/null
req GET /api/regions/health "$READER"
expect "database down: 503" 503 '.success == false and .error == "database unavailable"'
if grep -qi '^retry-after: [0-9]' <<<"$HEADERS"; then pass "503 carries Retry-After"; else fail "503 carries Retry-After"; fi
req GET "/api/regions/$FRA/snapshot" "$READER"
expect "database down: snapshot 503" 503
req GET /healthz
expect "database down: /healthz 503" 503 '.status == "unavailable"'
req GET /regions "$READER"
if [ "$STATUS" = 503 ]; then pass "database down: the page answers 503"; else fail "database down: page (got $STATUS)"; fi
as_postgres "$PG_BIN/pg_ctl" start -D "$CL/data" -l "$CL/log" -w -o "-p $PGPORT" >/dev/null
recovered=no
for _ in $(seq 1 50); do
    req GET /api/regions/health "$READER"
    if [ "$STATUS" = 200 ]; then recovered=yes; break; fi
    sleep 0.2
done
if [ "$recovered" = yes ]; then pass "after the restart: 200 again"; else fail "after the restart: still $STATUS"; fi
same_as_sql "after the restart the answer equals the function's" grse_reader "{}" "grse.api_regions_health()"
sse "$WORK/sse-after" "$READER"
wait_for "$WORK/sse-after" 'event: hello' 10 || true
sleep 1   # the LISTEN connection reconnects with a short pause
psql_q -c "UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0, creative_pressure = 0, intel_pressure = 0 WHERE region_id = '$FRA'" >/dev/null
if wait_for "$WORK/sse-after" "\"region_id\" *: *\"$FRA\"" 15; then
    pass "live events flow again after the restart (LISTEN reconnected)"
else
    fail "live events after the restart"; grep 'live' "$SERVER_LOG" | tail -n 3 | sed 's/^/#   /'
fi

echo "# --- shutdown"
sse "$WORK/sse-last" "$READER"
wait_for "$WORK/sse-last" 'event: hello' 10 || true
kill -TERM "$SERVER_PID"
stopped=no
for _ in $(seq 1 50); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then stopped=yes; break; fi
    sleep 0.1
done
if [ "$stopped" = yes ] && grep -q 'info shutting down' "$SERVER_LOG"; then
    pass "SIGTERM stops the server within 5 s, a live stream open"
else
    fail "SIGTERM with a live stream open (stopped: $stopped)"
fi
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
stop_sse

finish
