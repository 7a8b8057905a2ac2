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

ONLY_SQLITE_TESTS="t_detect_each_tool t_detect_manage_py_without_django"
run_tests t_detect_each_tool t_detect_manage_py_without_django
