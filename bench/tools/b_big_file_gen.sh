#!/usr/bin/env bash
# Generate the big migration for bench/b_big_file.sh: a devflow migration file
# (-- UP / -- DOWN) of at least MIB mebibytes, a CREATE TABLE and then multi-row
# INSERTs (ROWS rows each, ~200 bytes a row), valid SQL for SQLite and
# PostgreSQL.
#
#   bench/tools/b_big_file_gen.sh MIB ROWS OUT.sql
set -euo pipefail
mib=$1 per=$2 out=$3
awk -v limit="$((mib * 1048576))" -v per="$per" 'BEGIN {
	s = "-- UP\nCREATE TABLE big_rows (\n  id BIGINT PRIMARY KEY,\n  account_id INTEGER NOT NULL,\n" \
	    "  name VARCHAR(64) NOT NULL,\n  note TEXT NOT NULL\n);\n"
	printf "%s", s; n = length(s)
	pad = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua"
	id = 0
	while (n < limit) {
		s = "INSERT INTO big_rows (id, account_id, name, note) VALUES\n"
		printf "%s", s; n += length(s)
		for (i = 1; i <= per; i++) {
			id++
			s = sprintf("(%d, %d, '\''name-%09d'\'', '\''%s %d'\'')%s\n", id, id % 9973, id, pad, id * 7, i < per ? "," : ";")
			printf "%s", s; n += length(s)
		}
	}
	printf "-- DOWN\nDROP TABLE big_rows;\n"
	printf "%d\n", id > "/dev/stderr"
}' >"$out"
