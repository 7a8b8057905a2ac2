#!/usr/bin/env bash
# Generate the migrations for bench/b_apply_pg.sh and bench/b_apply_mysql.sh:
# the same N small migrations (a CREATE TABLE and a CREATE INDEX each) three
# ways, from one template so the SQL is byte for byte the same:
#
#   OUT/devflow/migrations/V_create_T.sql   devflow's format (-- UP / -- DOWN)
#   OUT/dbmate/V_create_T.sql               dbmate's format (-- migrate:up / -- migrate:down)
#   OUT/floor.sql                           one script for one client session:
#       the tracking table (devflow's _migrations DDL for the dialect), then per
#       migration BEGIN; its UP statements; INSERT of its tracking row; COMMIT;
#
#   bench/tools/b_apply_gen.sh N pg|mysql OUT
set -euo pipefail
n=$1 dialect=$2 out=$3
case $dialect in
pg)
	ledger="CREATE TABLE IF NOT EXISTS _migrations (id BIGSERIAL PRIMARY KEY, filename VARCHAR(255) NOT NULL UNIQUE, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), version VARCHAR(64), checksum VARCHAR(64), duration_ms BIGINT, applied_by VARCHAR(255), state VARCHAR(16), statements_done INTEGER, error TEXT);"
	dropidx="DROP INDEX idx_%s_account_id;" ;;
mysql)
	ledger="CREATE TABLE IF NOT EXISTS _migrations (id BIGINT AUTO_INCREMENT PRIMARY KEY, filename VARCHAR(255) NOT NULL UNIQUE, applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, version VARCHAR(64), checksum VARCHAR(64), duration_ms BIGINT, applied_by VARCHAR(255), state VARCHAR(16), statements_done INTEGER, error TEXT);"
	dropidx="DROP INDEX idx_%s_account_id ON %s;" ;;
*) echo "b_apply_gen.sh: dialect pg or mysql" >&2; exit 2 ;;
esac
rm -rf "$out/devflow" "$out/dbmate" "$out/floor.sql"
mkdir -p "$out/devflow/migrations" "$out/dbmate"

awk -v n="$n" -v d="$out/devflow/migrations" -v m="$out/dbmate" -v dropidx="$dropidx" 'BEGIN {
	split("users orders invoices products payments accounts sessions events " \
	      "shipments coupons reviews carts addresses refunds tickets teams", ent, " ")
	for (i = 1; i <= n; i++) {
		t = i * 60                                   # one minute apart
		dd = int(t / 86400); mo = 1 + int(dd / 28); day = 1 + dd % 28
		v = sprintf("2024%02d%02d%02d%02d%02d", mo, day, int(t % 86400 / 3600), int(t % 3600 / 60), t % 60)
		tb = sprintf("%s_%05d", ent[1 + i % 16], i)
		name = sprintf("%s_create_%s.sql", v, tb)
		up = sprintf("CREATE TABLE %s (\n" \
			"  id INTEGER PRIMARY KEY,\n" \
			"  account_id INTEGER NOT NULL,\n" \
			"  name VARCHAR(255) NOT NULL,\n" \
			"  status VARCHAR(32) NOT NULL DEFAULT '\''active'\'',\n" \
			"  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n" \
			");\n" \
			"CREATE INDEX idx_%s_account_id ON %s (account_id);\n", tb, tb, tb)
		down = sprintf(dropidx "\nDROP TABLE %s;\n", tb, tb, tb)
		f = d "/" name
		printf "-- UP\n%s-- DOWN\n%s", up, down > f; close(f)
		f = m "/" name
		printf "-- migrate:up\n%s\n-- migrate:down\n%s", up, down > f; close(f)
		# the UP section alone, for the floor script
		f = m "/" name ".up"
		printf "%s", up > f; close(f)
	}
}'

# The floor: one session, each migration in its own transaction with its
# tracking row (checksum = SHA-256 of the devflow file, as devflow records).
{
	echo "$ledger"
	(cd "$out/devflow/migrations" && find . -maxdepth 1 -name '*.sql' -printf '%f\n' | sort | xargs sha256sum --) |
	while read -r sum file; do
		file=${file#\*}
		echo "BEGIN;"
		cat "$out/dbmate/$file.up"
		echo "INSERT INTO _migrations (filename, version, checksum, applied_by, state, duration_ms, statements_done, applied_at) VALUES ('$file', '${file:0:14}', '$sum', 'bench@localhost', 'applied', 0, 2, CURRENT_TIMESTAMP);"
		echo "COMMIT;"
	done
} >"$out/floor.sql"
rm -f "$out"/dbmate/*.up
