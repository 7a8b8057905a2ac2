#!/bin/bash
# detect: which migration tool a project uses, checked in SPEC.md's order.
. "$(dirname "$0")/lib.sh"

detect_is() {   # detect_is TOOL SIGNAL-SUBSTRING
	df detect --json; expect_rc 0
	json_eq 'd["tool"]' "$1"
	contains "$(json 'd["signal"]')" "$2"
}

t_detect_each_tool() {
	new_project
	rmdir migrations
	detect_is none "no migration tool"
	mkdir migrations; echo "SELECT 1;" >migrations/001_a.sql
	detect_is raw-sql "migrations/"
	printf 'import os\nfrom django.core.management import execute_from_command_line\n' >manage.py
	detect_is django manage.py
	mkdir alembic; detect_is alembic "alembic/"
	touch alembic.ini; detect_is alembic alembic.ini
	printf 'import { DataSource } from "typeorm";\n' >data-source.ts
	detect_is typeorm data-source.ts
	echo '{}' >ormconfig.json; detect_is typeorm ormconfig.json
	touch knexfile.ts; detect_is knex knexfile.ts
	mkdir drizzle; detect_is drizzle "drizzle/"
	touch drizzle.config.ts; detect_is drizzle drizzle.config.ts
	touch schema.prisma; detect_is prisma schema.prisma
	mkdir prisma; touch prisma/schema.prisma; detect_is prisma prisma/schema.prisma
}

t_detect_manage_py_without_django() {
	new_project
	rm -rf migrations
	echo "print('hello')" >manage.py
	detect_is none "no migration tool"
}

# The SQL migration tools are named by their files: dbmate (its markers, in
# its default folder db/migrations), golang-migrate, Flyway, goose.
t_detect_sql_tools() {
	new_project
	rm -rf migrations
	mkdir -p db/migrations
	printf -- '-- migrate:up\nCREATE TABLE d (id INTEGER);\n-- migrate:down\nDROP TABLE d;\n' \
		>db/migrations/20240101000000_d.sql
	detect_is dbmate "migrate:up"
	df db status --json; expect_rc 0
	json_eq 'd["total"]' 1
	rm -rf db
	mkdir migrations
	echo "CREATE TABLE g (id INTEGER);" >migrations/000001_g.up.sql
	detect_is golang-migrate "000001_g.up.sql"
	rm migrations/*
	echo "CREATE TABLE f (id INTEGER);" >migrations/V1__f.sql
	detect_is flyway "V1__f.sql"
	rm migrations/*
	printf -- '-- +goose Up\nCREATE TABLE g (id INTEGER);\n-- +goose Down\nDROP TABLE g;\n' >migrations/00001_g.sql
	detect_is goose "+goose Up"
	df db migrate; expect_rc 0
	table_exists g || fail "goose up"
	df db rollback; expect_rc 0
	table_exists g && fail "goose down"
	rm migrations/*
	mig 20240101000000 a "SELECT 1;"
	detect_is raw-sql "migrations/"
}

ONLY_SQLITE_TESTS="t_detect_each_tool t_detect_manage_py_without_django t_detect_sql_tools"
run_tests t_detect_each_tool t_detect_manage_py_without_django t_detect_sql_tools
