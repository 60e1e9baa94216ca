#!/usr/bin/env bash
# Order-creation throughput on PostgreSQL: pgbench running the store's own PLACE_ORDER
# statement (taken from src/store/postgres.rs, so the two cannot drift) against the release
# binary's POST /orders under wrk, on the same server and database. Prints a Markdown summary.
#
#   benches/order_throughput.sh [seconds] [clients]
#
# Needs PostgreSQL at $ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), pgbench
# and wrk (Debian: postgresql-contrib is part of postgresql; apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-20}
CLIENTS=${2:-8}
ADMIN_URL=${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=rt_bench_$$
DB_URL=${ADMIN_URL%/*}/$DB
work=$(mktemp -d)
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

[ -n "${BIN:-}" ] || cargo build --release --quiet
bin=${BIN:-target/release/restaurant-tui}
psql "$ADMIN_URL" -qc "CREATE DATABASE $DB" >/dev/null
DATABASE_URL=$DB_URL "$bin" migrate >/dev/null

# The statement as the store sends it, with $N turned into pgbench variables. Message ids are
# unique per row, so they come from gen_random_uuid() here (the service makes them in Rust), and
# so does each placement key (an uncorrelated subquery: one value, looked up by index, as a
# bound parameter would be);
# pgbench cannot pass NULL, so the dine-in order's absent address is written as NULL::text.
awk '/^const PLACE_ORDER: &str = r#"/{on=1; next} on && /^"#;/{exit} on' src/store/postgres.rs \
  | sed -E 's/\$15::text\[\]/ARRAY[gen_random_uuid()::text, gen_random_uuid()::text]/; s/\$20::text/(SELECT gen_random_uuid()::text)/; s/\$20\b/(SELECT gen_random_uuid()::text)/g; s/\$7\b/NULL::text/; s/\$([0-9]+)/:p\1/g' \
  > "$work/place_order.sql"
echo ';' >> "$work/place_order.sql"
day=$(date -u +%F)
kitchen='{"customer_name":"Ann Lee","customer_type":"regular","order_type":"dine_in","table_number":7,"delivery_address":null,"items":[{"name":"Margherita","quantity":2,"price":12.50}],"total_amount":25.00,"priority":1}'
update='{"old_status":null,"new_status":"received","changed_by":"order-service","timestamp":"'"${day}"'T12:00:00Z","estimated_completion":null}'
pgbench_tps=$(set +o pipefail; pgbench "$DB_URL" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_RUN" -f "$work/place_order.sql" \
  -D p1="$day" -D p2="${day}T12:00:00Z" -D p3="ORD_$(date -u +%Y%m%d)_" -D p4="Ann Lee" -D p5=dine_in \
  -D p6=7 -D p8=25.00 -D p9=1 -D p10='{Margherita}' -D p11='{2}' -D p12='{12.50}' \
  -D p13=order-service -D p14=bench -D p16='{orders_topic,notifications_fanout}' \
  -D p17='{kitchen.dine_in.1,""}' -D p18='{1,0}' -D p19="{$(printf '%s' "$kitchen" | sed 's/"/\\"/g; s/^/"/; s/$/"/'),$(printf '%s' "$update" | sed 's/"/\\"/g; s/^/"/; s/$/"/')}" \
  2>&1 | tee "$work/pgbench.txt" | awk '/^tps/ {print int($3)}')
[ -n "$pgbench_tps" ] || { cat "$work/pgbench.txt"; exit 1; }
psql "$DB_URL" -qc "TRUNCATE orders, order_items, order_status_log, outbox, order_counters" >/dev/null

DATABASE_URL=$DB_URL "$bin" serve --port 0 --rate-limit 0 --max-concurrent 64 > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q service_started "$work/serve.log" && break; sleep 0.1; done
port=$(grep -o '"port":[0-9]*' "$work/serve.log" | head -1 | cut -d: -f2)
wrk -t2 -c"$CLIENTS" -d"${SECONDS_RUN}s" -s benches/post_order.lua "http://127.0.0.1:$port/orders" > "$work/wrk.txt"
api_rps=$(awk '/^Requests\/sec/ {print int($2)}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk.txt")
rows=$(psql "$DB_URL" -Atc "SELECT count(*) FROM orders")
p99=$(awk '/Latency/ {print $2}' "$work/wrk.txt")

echo "| measure | value |"
echo "|---|---|"
echo "| pgbench, PLACE_ORDER, $CLIENTS clients, ${SECONDS_RUN}s | ${pgbench_tps} tx/s |"
echo "| API POST /orders (release), wrk $CLIENTS connections, ${SECONDS_RUN}s | ${api_rps} orders/s (mean latency ${p99}) |"
echo "| API / pgbench | $(awk -v a="$api_rps" -v p="$pgbench_tps" 'BEGIN {printf "%.2f", a / p}') |"
echo "| non-2xx answers | ${non2xx:-0} |"
echo "| orders in the table after the API run | $rows |"
