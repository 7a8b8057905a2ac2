/*
 * PostgreSQL's schema from the catalogs: nine bulk queries, each over every
 * table of the schemas read at once (the filter is in the SQL), never one
 * query per table.  Definitions come from the server's own pg_get_*def()
 * functions, and dependencies from pg_depend, so nothing is guessed.
 * Objects that belong to an extension are the extension's, not ours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "devflow/error.h"
#include "schema/schema_int.h"
#include "sql/pgq_walk.h"
#include "util/lazy.h"
#include "util/banned.h"

/* Kinds this reader does not compare (listed as "not compared"). */
static const char *const pg_not_compared[] = {
	"privileges", "owners", "operators", "casts", "collations",
	"range types", "rules (other than views)", "text search configurations",
	"foreign data wrappers and servers", "publications and subscriptions",
	"event triggers", "statistics objects", "security labels", "tablespaces",
};

/* The namespace filter on alias `n`. */
static void ns_filter(df_buf *b, const df_schema_opts *opts)
{
	if (opts->schemas && opts->schemas->nr) {
		df_buf_puts(b, "n.nspname IN (");
		for (size_t i = 0; i < opts->schemas->nr; i++) {
			if (i)
				df_buf_putc(b, ',');
			df__quote_literal(b, opts->schemas->v[i]);
		}
		df_buf_putc(b, ')');
	} else
		df_buf_puts(b, "n.nspname NOT IN ('pg_catalog', 'information_schema') "
			"AND n.nspname !~ '^pg_(toast|temp_)'");
}

#define NOT_EXT(cat, oid) \
	" NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '" cat "'::regclass " \
	"AND x.objid = " oid " AND x.deptype = 'e') "

/* Run `sql` with every @NS@ replaced by the namespace filter (run_part, below). */
static int run_part(df_rows **out, df_conn *conn, const df_schema_opts *opts, const char *sql,
	const char *rel, const char *oids);

static int run(df_rows **out, df_conn *conn, const df_schema_opts *opts, const char *sql)
{
	return run_part(out, conn, opts, sql, NULL, NULL);
}

/* run(), or with `oids` ("{1,2}") only the relations of those oids (alias `rel`) */
static int run_rel(df_rows **out, df_conn *conn, const df_schema_opts *opts, const char *sql,
	const char *rel, const char *oids)
{
	return oids ? run_part(out, conn, opts, sql, rel, oids) : run(out, conn, opts, sql);
}

static const char *cell(const df_rows *r, size_t row, size_t col)
{
	return df_rows_get(r, row, col);
}

static bool truth(const df_rows *r, size_t row, size_t col)
{
	const char *v = df_rows_get(r, row, col);
	return v && (v[0] == 't' || v[0] == '1');
}

static bool excluded(const df_schema_opts *opts, const char *table)
{
	return df__schema_excluded(opts, table);
}

static int extra_add(df_object *o, const char *key, const char *value)
{
	df_buf b = DF_BUF_INIT;

	if (!value || !*value)
		return 0;
	if (o->extra)
		df_buf_puts(&b, o->extra);
	df_buf_printf(&b, "%s=%s\n", key, value);
	if (df_buf_oom(&b))
		return df_error_oom();
	free(o->extra);
	o->extra = df_buf_detach(&b);
	return 0;
}

static const char Q_SCHEMAS[] =
	"SELECT n.nspname, (SELECT ds.description FROM pg_description ds WHERE ds.objoid = n.oid AND ds.classoid = 'pg_namespace'::regclass AND ds.objsubid = 0) FROM pg_namespace n "
	"WHERE @NS@ AND" NOT_EXT("pg_namespace", "n.oid");

static const char Q_EXTENSIONS[] =
	"SELECT e.extname, n.nspname, e.extversion FROM pg_extension e "
	"JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'";

static const char Q_RELATIONS[] =
	"SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence, "
	" CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, "
	" CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, "
	" CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END, "
	" (SELECT string_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname), ', ' "
	"   ORDER BY i.inhseqno) FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent "
	"   JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid), "
	" c.relrowsecurity, c.relforcerowsecurity, array_to_string(c.reloptions, ', '), "
	" (SELECT ds.description FROM pg_description ds WHERE ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0), "
	" format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmax, s.seqmin, "
	" s.seqcache, s.seqcycle, "
	" (SELECT quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || '.' || "
	"   quote_ident(a.attname) FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid "
	"   JOIN pg_namespace tn ON tn.oid = tc.relnamespace "
	"   JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
	"   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
	"   AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' LIMIT 1), "
	" c.relispartition "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"LEFT JOIN pg_sequence s ON s.seqrelid = c.oid "
	"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND @NS@ AND"
	NOT_EXT("pg_class", "c.oid")
	"AND (c.relkind <> 'c' OR" NOT_EXT("pg_type", "c.reltype") ") "
	"AND (c.relkind <> 'S' OR NOT EXISTS (SELECT 1 FROM pg_depend d "
	"  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')) "
	"ORDER BY c.oid";

static const char Q_COLUMNS[] =
	"SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
	" pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated, "
	" CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN "
	"   (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co "
	"    JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END, "
	" a.attislocal, (SELECT ds.description FROM pg_description ds WHERE ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum), "
	" CASE WHEN a.attidentity <> '' THEN (SELECT format('START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s%s', "
	"   s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, "
	"   CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) FROM pg_depend d "
	"   JOIN pg_sequence s ON s.seqrelid = d.objid WHERE d.classid = 'pg_class'::regclass "
	"   AND d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid "
	"   AND d.refobjsubid = a.attnum AND d.deptype = 'i' LIMIT 1) END "
	"FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
	"LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum "
	"WHERE a.attnum > 0 AND NOT a.attisdropped "
	"AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND @NS@ "
	"ORDER BY a.attrelid, a.attnum";

static const char Q_CONSTRAINTS[] =
	"SELECT n.nspname, c.relname, co.conname, co.contype, pg_get_constraintdef(co.oid), "
	" (SELECT ds.description FROM pg_description ds WHERE ds.objoid = co.oid AND ds.classoid = 'pg_constraint'::regclass AND ds.objsubid = 0), "
	/* a foreign key, normalised: columns (by chr(31)), referenced table
	 * and columns, actions, deferrability */
	" (SELECT string_agg(a.attname, chr(31) ORDER BY k.i) FROM unnest(co.conkey) WITH ORDINALITY k(n, i) "
	"   JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.n), "
	" rn.nspname, rc.relname, "
	" (SELECT string_agg(a.attname, chr(31) ORDER BY k.i) FROM unnest(co.confkey) WITH ORDINALITY k(n, i) "
	"   JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.n), "
	" co.confdeltype, co.confupdtype, co.condeferrable, co.condeferred "
	"FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid "
	"LEFT JOIN pg_class rc ON rc.oid = co.confrelid AND co.contype = 'f' "
	"LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND co.conislocal AND co.conparentid = 0 "
	"AND c.relkind IN ('r', 'p', 'f') AND @NS@ AND" NOT_EXT("pg_class", "c.oid");

static const char Q_INDEXES[] =
	"SELECT n.nspname, tc.relname, ic.relname, pg_get_indexdef(i.indexrelid), "
	" (SELECT ds.description FROM pg_description ds WHERE ds.objoid = i.indexrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0), "
	" i.indisvalid "
	"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
	"JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_namespace n ON n.oid = ic.relnamespace "
	"WHERE @NS@ AND" NOT_EXT("pg_class", "tc.oid")
	/* pg_constraint has no index on conindid: one hashed subplan, not a
	 * scan per index */
	"AND i.indexrelid NOT IN (SELECT co.conindid FROM pg_constraint co "
	"  WHERE co.contype IN ('p', 'u', 'x') AND co.conrelid <> 0) "
	"AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)";

static const char Q_TYPES[] =
	"SELECT n.nspname, t.typname, t.typtype, "
	" (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
	"   FROM pg_enum e WHERE e.enumtypid = t.oid), "
	" format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault, "
	" (SELECT string_agg('CONSTRAINT ' || quote_ident(co.conname) || ' ' || "
	"   pg_get_constraintdef(co.oid), ' ' ORDER BY co.conname) "
	"   FROM pg_constraint co WHERE co.contypid = t.oid), "
	" (SELECT ds.description FROM pg_description ds WHERE ds.objoid = t.oid AND ds.classoid = 'pg_type'::regclass AND ds.objsubid = 0) "
	"FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
	"WHERE t.typtype IN ('e', 'd') AND @NS@ AND" NOT_EXT("pg_type", "t.oid");

/* A support function of an aggregate, qualified: "s"."f" */
#define AGG_FN(col) \
	"(SELECT quote_ident(fn.nspname) || '.' || quote_ident(fp.proname) FROM pg_proc fp " \
	"JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = " col ")"
#define AGG_OPT(col, word) \
	" CASE WHEN " col " <> 0 THEN ', " word " = ' || " AGG_FN(col) " ELSE '' END || "
#define AGG_MODIFY(fn, col, word) \
	" CASE WHEN " fn " <> 0 THEN ', " word " = ' || CASE " col " WHEN 's' THEN 'SHAREABLE' " \
	"WHEN 'w' THEN 'READ_WRITE' ELSE 'READ_ONLY' END ELSE '' END || "

/*
 * Functions, procedures and aggregates.  PostgreSQL prints no aggregate's
 * CREATE (pg_get_functiondef() refuses them): it is built here from
 * pg_aggregate, every option spelt the way CREATE AGGREGATE takes it.  A
 * LANGUAGE sql body without BEGIN ATOMIC (prosqlbody) has no dependencies
 * in pg_depend: its text comes too, for the names it uses.
 */
static const char Q_FUNCTIONS[] =
	"SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind, "
	" CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) ELSE "
	"  'CREATE AGGREGATE ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || "
	"  CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_get_function_arguments(p.oid) END || ') (' || "
	"  'SFUNC = ' || " AGG_FN("a.aggtransfn") " || ', STYPE = ' || format_type(a.aggtranstype, NULL) || "
	"  CASE WHEN a.aggtransspace <> 0 THEN ', SSPACE = ' || a.aggtransspace ELSE '' END || "
	AGG_OPT("a.aggfinalfn", "FINALFUNC")
	"  CASE WHEN a.aggfinalextra THEN ', FINALFUNC_EXTRA' ELSE '' END || "
	AGG_MODIFY("a.aggfinalfn", "a.aggfinalmodify", "FINALFUNC_MODIFY")
	AGG_OPT("a.aggcombinefn", "COMBINEFUNC")
	AGG_OPT("a.aggserialfn", "SERIALFUNC")
	AGG_OPT("a.aggdeserialfn", "DESERIALFUNC")
	"  CASE WHEN a.agginitval IS NOT NULL THEN ', INITCOND = ' || quote_literal(a.agginitval) ELSE '' END || "
	AGG_OPT("a.aggmtransfn", "MSFUNC")
	AGG_OPT("a.aggminvtransfn", "MINVFUNC")
	"  CASE WHEN a.aggmtransfn <> 0 THEN ', MSTYPE = ' || format_type(a.aggmtranstype, NULL) ELSE '' END || "
	"  CASE WHEN a.aggmtransspace <> 0 THEN ', MSSPACE = ' || a.aggmtransspace ELSE '' END || "
	AGG_OPT("a.aggmfinalfn", "MFINALFUNC")
	"  CASE WHEN a.aggmfinalextra THEN ', MFINALFUNC_EXTRA' ELSE '' END || "
	AGG_MODIFY("a.aggmfinalfn", "a.aggmfinalmodify", "MFINALFUNC_MODIFY")
	"  CASE WHEN a.aggminitval IS NOT NULL THEN ', MINITCOND = ' || quote_literal(a.aggminitval) ELSE '' END || "
	"  CASE WHEN a.aggsortop <> 0 THEN ', SORTOP = ' || (SELECT 'OPERATOR(' || quote_ident(opn.nspname) || "
	"   '.' || op.oprname || ')' FROM pg_operator op JOIN pg_namespace opn ON opn.oid = op.oprnamespace "
	"   WHERE op.oid = a.aggsortop) ELSE '' END || "
	"  CASE p.proparallel WHEN 's' THEN ', PARALLEL = SAFE' WHEN 'r' THEN ', PARALLEL = RESTRICTED' ELSE '' END || "
	"  CASE WHEN a.aggkind = 'h' THEN ', HYPOTHETICAL' ELSE '' END || ')' END, "
	" (SELECT ds.description FROM pg_description ds WHERE ds.objoid = p.oid AND ds.classoid = 'pg_proc'::regclass AND ds.objsubid = 0), "
	" CASE WHEN l.lanname = 'sql' AND p.prosqlbody IS NULL THEN p.prosrc END "
	"FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
	"JOIN pg_language l ON l.oid = p.prolang "
	"LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid "
	"WHERE p.prokind IN ('f', 'p', 'a') AND @NS@ AND" NOT_EXT("pg_proc", "p.oid");

static const char Q_TRIGGERS[] =
	"SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, "
	" (SELECT ds.description FROM pg_description ds WHERE ds.objoid = t.oid AND ds.classoid = 'pg_trigger'::regclass AND ds.objsubid = 0) "
	"FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND @NS@";

static const char Q_POLICIES[] =
	"SELECT n.nspname, c.relname, p.polname, p.polpermissive, p.polcmd, "
	" CASE WHEN p.polroles = '{0}' THEN 'public' ELSE (SELECT string_agg(quote_ident(r.rolname), "
	"   ', ' ORDER BY r.rolname) FROM pg_roles r WHERE r.oid = ANY (p.polroles)) END, "
	" pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), "
	" (SELECT ds.description FROM pg_description ds WHERE ds.objoid = p.oid AND ds.classoid = 'pg_policy'::regclass AND ds.objsubid = 0) "
	"FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE @NS@";

/*
 * Dependencies: every pg_depend row between two of our objects, both ends
 * named as the model names them.  Rules stand for their views, column
 * defaults for their tables, indexes that back a constraint for the
 * constraint, array types for their element type, and an extension's
 * members for the extension.
 */
static const char Q_DEPENDS[] =
	"WITH raw(classid, objid, kind, nsp, name, tbl) AS ("
	" SELECT 'pg_class'::regclass, c.oid, "
	"  CASE WHEN co.oid IS NOT NULL THEN 'constraint' ELSE CASE c.relkind WHEN 'v' THEN 'view' "
	"  WHEN 'm' THEN 'materialized_view' WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'type' "
	"  WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' ELSE 'table' END END, n.nspname, "
	"  COALESCE(co.conname, c.relname), "
	"  CASE WHEN c.relkind IN ('i', 'I') THEN (SELECT tc.relname FROM pg_index i "
	"   JOIN pg_class tc ON tc.oid = i.indrelid WHERE i.indexrelid = c.oid) END "
	" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	" LEFT JOIN pg_constraint co ON co.conindid = c.oid AND co.contype IN ('p', 'u', 'x') "
	"  AND c.relkind IN ('i', 'I') AND co.conrelid <> 0 WHERE @NS@ "
	" UNION ALL SELECT 'pg_rewrite'::regclass, r.oid, CASE c.relkind WHEN 'm' "
	"  THEN 'materialized_view' ELSE 'view' END, n.nspname, c.relname, NULL "
	" FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class "
	" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND @NS@ "
	" UNION ALL SELECT 'pg_attrdef'::regclass, ad.oid, 'table', n.nspname, c.relname, NULL "
	" FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid "
	" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE @NS@ "
	" UNION ALL SELECT 'pg_proc'::regclass, p.oid, "
	"  CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE 'function' END, n.nspname, "
	"  p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL "
	" FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE @NS@ "
	/* a type (or an array of it) stands for what made it: a table's or a
	 * view's row type for the relation, an extension's type for the
	 * extension (wherever it lives) */
	" UNION ALL SELECT 'pg_type'::regclass, t.oid, CASE WHEN xe.oid IS NOT NULL THEN 'extension' "
	"  WHEN rc.relkind IN ('r', 'p', 'f') THEN 'table' WHEN rc.relkind = 'v' THEN 'view' "
	"  WHEN rc.relkind = 'm' THEN 'materialized_view' WHEN et.typtype = 'e' THEN 'enum' "
	"  WHEN et.typtype = 'd' THEN 'domain' ELSE 'type' END, "
	"  CASE WHEN xe.oid IS NOT NULL THEN '' ELSE n.nspname END, "
	"  COALESCE(xe.extname, rc.relname, et.typname), NULL "
	" FROM pg_type t JOIN pg_type et ON et.oid = CASE WHEN t.typcategory = 'A' "
	"  AND t.typelem <> 0 THEN t.typelem ELSE t.oid END "
	" JOIN pg_namespace n ON n.oid = et.typnamespace "
	" LEFT JOIN pg_class rc ON rc.oid = et.typrelid "
	" LEFT JOIN pg_depend xd ON xd.classid = 'pg_type'::regclass AND xd.objid = et.oid "
	"  AND xd.deptype = 'e' LEFT JOIN pg_extension xe ON xe.oid = xd.refobjid "
	" WHERE (xe.oid IS NOT NULL AND xe.extname <> 'plpgsql') OR (et.typtype IN ('e', 'd', 'c') "
	"  AND (rc.oid IS NULL OR rc.relkind IN ('c', 'r', 'p', 'f', 'v', 'm')) AND @NS@) "
	" UNION ALL SELECT 'pg_constraint'::regclass, co.oid, "
	"  CASE WHEN co.conrelid = 0 THEN 'domain' ELSE 'constraint' END, n.nspname, "
	"  CASE WHEN co.conrelid = 0 THEN (SELECT typname FROM pg_type WHERE oid = co.contypid) "
	"  ELSE co.conname END, c.relname "
	" FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace "
	" LEFT JOIN pg_class c ON c.oid = co.conrelid WHERE @NS@ "
	" UNION ALL SELECT 'pg_trigger'::regclass, t.oid, 'trigger', n.nspname, t.tgname, c.relname "
	" FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
	" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE @NS@ "
	" UNION ALL SELECT 'pg_policy'::regclass, p.oid, 'policy', n.nspname, p.polname, c.relname "
	" FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
	" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE @NS@ "
	" UNION ALL SELECT 'pg_namespace'::regclass, n.oid, 'schema', '', n.nspname, NULL "
	" FROM pg_namespace n WHERE @NS@ "
	"), obj AS ("
	" SELECT r.classid, r.objid, COALESCE(CASE WHEN e.oid IS NOT NULL THEN 'extension' END, r.kind) kind, "
	"  CASE WHEN e.oid IS NOT NULL THEN '' ELSE r.nsp END nsp, "
	"  COALESCE(e.extname, r.name) name, CASE WHEN e.oid IS NULL THEN r.tbl END tbl "
	" FROM raw r LEFT JOIN pg_depend x ON x.classid = r.classid AND x.objid = r.objid "
	"  AND x.deptype = 'e' LEFT JOIN pg_extension e ON e.oid = x.refobjid "
	") "
	"SELECT DISTINCT a.kind, a.nsp, a.name, a.tbl, b.kind, b.nsp, b.name, b.tbl "
	"FROM pg_depend d JOIN obj a ON a.classid = d.classid AND a.objid = d.objid "
	"JOIN obj b ON b.classid = d.refclassid AND b.objid = d.refobjid "
	"WHERE d.deptype = 'n' AND a.kind <> 'extension' "
	/* a partition or child table on its parent */
	"UNION SELECT a.kind, a.nsp, a.name, a.tbl, b.kind, b.nsp, b.name, b.tbl "
	"FROM pg_inherits h JOIN obj a ON a.classid = 'pg_class'::regclass AND a.objid = h.inhrelid "
	"JOIN obj b ON b.classid = 'pg_class'::regclass AND b.objid = h.inhparent "
	"WHERE a.kind = 'table'";

static df_obj_kind kind_of(const char *name)
{
	for (int k = 0; k < DF_OBJ_KIND_NR; k++)
		if (!strcmp(df_obj_kind_name((df_obj_kind)k), name))
			return (df_obj_kind)k;
	return DF_OBJ_KIND_NR;
}

struct rel {
	unsigned long oid;
	df_object *obj;
};

static int cmp_rel(const void *a, const void *b)
{
	unsigned long x = ((const struct rel *)a)->oid, y = ((const struct rel *)b)->oid;
	return x < y ? -1 : x > y;
}

static int read_relations(df_schema *s, df_conn *conn, const df_schema_opts *opts, const char *oids)
{
	df_rows *r = NULL, *c = NULL;
	struct rel *rels = NULL;
	size_t nrels = 0;
	int error;

	if ((error = run_rel(&r, conn, opts, Q_RELATIONS, "c.oid", oids)) < 0 ||
	    (error = run_rel(&c, conn, opts, Q_COLUMNS, "c.oid", oids)) < 0)
		goto out;
	if (r->nrows && !(rels = calloc(r->nrows, sizeof(*rels)))) {
		error = df_error_oom();
		goto out;
	}
	for (size_t i = 0; i < r->nrows; i++) {
		const char *kind = cell(r, i, 3), *name = cell(r, i, 2), *nsp = cell(r, i, 1);
		df_obj_kind k;
		df_object *o;
		switch (kind[0]) {
		case 'v': k = DF_OBJ_VIEW; break;
		case 'm': k = DF_OBJ_MATVIEW; break;
		case 'S': k = DF_OBJ_SEQUENCE; break;
		case 'c': k = DF_OBJ_COMPOSITE; break;
		default: k = DF_OBJ_TABLE; break;
		}
		if (excluded(opts, name))
			continue;
		if (k == DF_OBJ_SEQUENCE && opts->exclude_tables) {
			bool skip = false;
			for (size_t e = 0; e < opts->exclude_tables->nr; e++) {
				size_t l = strlen(opts->exclude_tables->v[e]);
				if (!strncmp(name, opts->exclude_tables->v[e], l) && name[l] == '_')
					skip = true;
			}
			if (skip)
				continue;
		}
		if ((error = df_schema_add(&o, s, k, nsp, name, NULL, cell(r, i, 5))) < 0)
			goto out;
		rels[nrels].oid = strtoul(cell(r, i, 0), NULL, 10);
		rels[nrels++].obj = o;
		if ((error = df_schema_set(&o->comment, cell(r, i, 12))) < 0)
			goto out;
		if (k == DF_OBJ_TABLE) {
			if (kind[0] == 'f' && (error = extra_add(o, "foreign", "true")) < 0)
				goto out;
			if (cell(r, i, 4)[0] == 'u' && (error = extra_add(o, "unlogged", "true")) < 0)
				goto out;
			if ((error = extra_add(o, "partition_by", cell(r, i, 6))) < 0 ||
			    (error = extra_add(o, truth(r, i, 21) ? "partition_of" : "inherits",
				cell(r, i, 8))) < 0 ||
			    (error = extra_add(o, "partition_bound", cell(r, i, 7))) < 0 ||
			    (error = extra_add(o, "row_security", truth(r, i, 9) ? "enabled" : NULL)) < 0 ||
			    (error = extra_add(o, "force_row_security", truth(r, i, 10) ? "true" : NULL)) < 0 ||
			    (error = extra_add(o, "with", cell(r, i, 11))) < 0)
				goto out;
		} else if (k == DF_OBJ_MATVIEW) {
			if ((error = extra_add(o, "with", cell(r, i, 11))) < 0)
				goto out;
		} else if (k == DF_OBJ_SEQUENCE) {
			if ((error = extra_add(o, "as", cell(r, i, 13))) < 0 ||
			    (error = extra_add(o, "start", cell(r, i, 14))) < 0 ||
			    (error = extra_add(o, "increment", cell(r, i, 15))) < 0 ||
			    (error = extra_add(o, "maxvalue", cell(r, i, 16))) < 0 ||
			    (error = extra_add(o, "minvalue", cell(r, i, 17))) < 0 ||
			    (error = extra_add(o, "cache", cell(r, i, 18))) < 0 ||
			    (error = extra_add(o, "cycle", truth(r, i, 19) ? "true" : NULL)) < 0 ||
			    (error = extra_add(o, "owned_by", cell(r, i, 20))) < 0)
				goto out;
		}
	}
	if (nrels)
		qsort(rels, nrels, sizeof(*rels), cmp_rel);
	for (size_t i = 0; i < c->nrows; i++) {
		struct rel key = { strtoul(cell(c, i, 0), NULL, 10), NULL }, *found;
		df_column *col;
		const char *ident = cell(c, i, 5), *gen = cell(c, i, 6);
		if (!nrels || !(found = bsearch(&key, rels, nrels, sizeof(*rels), cmp_rel)))
			continue;
		if ((error = df_object_add_column(&col, found->obj, cell(c, i, 1), cell(c, i, 2))) < 0)
			goto out;
		col->notnull = truth(c, i, 3);
		col->inherited = !truth(c, i, 8);
		if (gen && *gen) {
			if ((error = df_schema_set(&col->generated, cell(c, i, 4))) < 0)
				goto out;
		} else if ((error = df_schema_set(&col->default_expr, cell(c, i, 4))) < 0)
			goto out;
		if (ident && *ident && ((error = df_schema_set(&col->identity,
			ident[0] == 'a' ? "always" : "by default")) < 0 ||
		    (error = df_schema_set(&col->extra, cell(c, i, 10))) < 0))
			goto out;
		if ((error = df_schema_set(&col->collation, cell(c, i, 7))) < 0 ||
		    (error = df_schema_set(&col->comment, cell(c, i, 9))) < 0)
			goto out;
		/* views: only names and types count; their text is the def */
		if (found->obj->kind == DF_OBJ_VIEW || found->obj->kind == DF_OBJ_MATVIEW) {
			col->notnull = false;
			free(col->default_expr);
			col->default_expr = NULL;
		}
	}
out:
	free(rels);
	df_rows_free(r);
	df_rows_free(c);
	return error;
}

/* "a\x1fb" -> ["a", "b"] */
static int split_names(df_strlist *out, const char *s)
{
	int error = 0;

	while (s && *s && !error) {
		const char *e = strchr(s, '\x1f');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		char *name = strndup(s, n);
		error = name ? df_strlist_take(out, name) : df_error_oom();
		s = e ? e + 1 : NULL;
	}
	return error;
}

/* A foreign key constraint's normal form (Q_CONSTRAINTS' columns 6 to 13). */
static int read_fk(df_object *o, const df_rows *r, size_t i)
{
	df_fk *fk;
	const char *t;
	int error;

	if ((error = df_object_add_fk(&fk, o)) < 0 ||
	    (error = split_names(&fk->cols, cell(r, i, 6))) < 0 ||
	    (error = df_schema_set(&fk->ref_schema, cell(r, i, 7) ? cell(r, i, 7) : "")) < 0 ||
	    (error = df_schema_set(&fk->ref_table, cell(r, i, 8))) < 0 ||
	    (error = split_names(&fk->ref_cols, cell(r, i, 9))) < 0)
		return error;
	if (!df_fk_action_parse(&fk->on_delete, cell(r, i, 10)))
		fk->on_delete = DF_FK_NO_ACTION;
	if (!df_fk_action_parse(&fk->on_update, cell(r, i, 11)))
		fk->on_update = DF_FK_NO_ACTION;
	t = cell(r, i, 12);
	fk->deferrable = t && t[0] == 't';
	t = cell(r, i, 13);
	fk->initially_deferred = t && t[0] == 't';
	return 0;
}

/* ---- what a LANGUAGE sql body names --------------------------------------- */

/*
 * PostgreSQL checks a LANGUAGE sql body when the function is created
 * (check_function_bodies), but records none of what it names in pg_depend
 * (only a BEGIN ATOMIC body's).  The body is parsed (libpg_query) and the
 * relations and functions it names are kept in o->uses, first as
 * "r\x1fschema\x1fname" / "f\x1fschema\x1fname" (schema "" when not
 * qualified), then resolved to the keys of the objects read
 * (resolve_uses()).  A body that does not parse names nothing.
 */
typedef PgQuery__Node pg_node;

static const char *node_str(const pg_node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string ? n->string->sval : NULL;
}

static int use_add(df_object *o, char what, const char *schema, const char *name)
{
	if (!name || !*name)
		return 0;
	for (size_t i = 0; i < o->uses.nr; i++) {
		const char *u = o->uses.v[i], *sep = strchr(u + 2, '\x1f');
		if (u[0] == what && sep && (size_t)(sep - u - 2) == strlen(schema ? schema : "") &&
		    !strncmp(u + 2, schema ? schema : "", (size_t)(sep - u - 2)) && !strcmp(sep + 1, name))
			return 0;
	}
	return df_strlist_pushf(&o->uses, "%c\x1f%s\x1f%s", what, schema ? schema : "", name);
}

struct body_arg {
	df_object *o;
	int depth;
};

static int body_walk(df_object *o, const ProtobufCMessage *m, int depth);

static int body_child(const ProtobufCMessage *child, void *arg)
{
	const struct body_arg *a = arg;
	return body_walk(a->o, child, a->depth + 1);
}

static int body_walk(df_object *o, const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d;
	int error = 0;

	if (!m || depth > 1000)
		return 0;
	d = m->descriptor;
	if (!strcmp(d->short_name, "RangeVar")) {
		const PgQuery__RangeVar *rv = (const PgQuery__RangeVar *)m;
		error = use_add(o, 'r', rv->schemaname, rv->relname);
	} else if (!strcmp(d->short_name, "FuncCall")) {
		const PgQuery__FuncCall *fc = (const PgQuery__FuncCall *)m;
		if (fc->n_funcname)
			error = use_add(o, 'f', fc->n_funcname > 1 ? node_str(fc->funcname[fc->n_funcname - 2]) : NULL,
				node_str(fc->funcname[fc->n_funcname - 1]));
	}
	if (!error) {
		struct body_arg a = { o, depth };
		error = df_pgq_each_child(m, body_child, &a);
	}
	return error;
}

static int body_names(df_object *o, const char *body)
{
	PgQueryProtobufParseResult pr;
	PgQuery__ParseResult *tree;
	int error;

	if ((error = df__lazy_load(DF_LAZY_PG_QUERY)) < 0)
		return error;
	pr = pg_query_parse_protobuf(body);
	if (pr.error) {
		pg_query_free_protobuf_parse_result(pr);
		return 0;
	}
	tree = pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
	if (!tree) {
		pg_query_free_protobuf_parse_result(pr);
		return df_error_oom();
	}
	for (size_t i = 0; i < tree->n_stmts && !error; i++)
		if (tree->stmts[i] && tree->stmts[i]->stmt)
			error = body_walk(o, &tree->stmts[i]->stmt->base, 0);
	pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(pr);
	return error;
}

/* The bare name of a function's key name: "f(integer)" -> "f" */
static bool bare_name_is(const char *name, const char *bare)
{
	size_t l = strlen(bare);
	return !strncmp(name, bare, l) && name[l] == '(';
}

/* Each function's raw names (body_names()) -> the keys of what they name:
 * every relation or function of that name (in that schema, when given). */
static int resolve_uses(df_schema *s)
{
	int error = 0;

	for (size_t i = 0; i < s->nr && !error; i++) {
		df_object *o = s->v[i];
		df_strlist raw = o->uses;
		if (!raw.nr)
			continue;
		memset(&o->uses, 0, sizeof(o->uses));
		for (size_t u = 0; u < raw.nr && !error; u++) {
			const char *sch = raw.v[u] + 2, *sep = strchr(sch, '\x1f'), *name;
			size_t sl;
			bool rel = raw.v[u][0] == 'r';
			if (!sep)
				continue;
			sl = (size_t)(sep - sch);
			name = sep + 1;
			for (size_t k = 0; k < s->nr && !error; k++) {
				const df_object *x = s->v[k];
				bool kind = rel ? x->kind == DF_OBJ_TABLE || x->kind == DF_OBJ_VIEW ||
					x->kind == DF_OBJ_MATVIEW : x->kind == DF_OBJ_FUNCTION ||
					x->kind == DF_OBJ_AGGREGATE;
				if (!kind || x == o || (sl && (strlen(x->schema) != sl || strncmp(x->schema, sch, sl))))
					continue;
				if (rel ? strcmp(x->name, name) : !bare_name_is(x->name, name))
					continue;
				error = df_strlist_push(&o->uses, x->key);
			}
		}
		df_strlist_release(&raw);
	}
	return error;
}

/*
 * The reader.  With `oids` ("{1,2,...}"), a part: only those relations and
 * what hangs off them (columns, constraints, indexes, triggers, policies,
 * their dependencies); no schema, extension, type or function.
 */
static int read_pg(df_conn *conn, df_schema *s, const df_schema_opts *opts, const char *oids)
{
	df_rows *r = NULL;
	df_object *o;
	int error;

	if (oids)
		goto relations;
	if ((error = run(&r, conn, opts, Q_SCHEMAS)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++)
		if ((error = df_schema_add(&o, s, DF_OBJ_SCHEMA, "", cell(r, i, 0), NULL, NULL)) < 0 ||
		    (error = df_schema_set(&o->comment, cell(r, i, 1))) < 0)
			goto out;
	df_rows_free(r);
	r = NULL;

	if ((error = run(&r, conn, opts, Q_EXTENSIONS)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		if ((error = df_schema_add(&o, s, DF_OBJ_EXTENSION, "", cell(r, i, 0), NULL, NULL)) < 0 ||
		    (error = extra_add(o, "schema", cell(r, i, 1))) < 0 ||
		    (error = extra_add(o, "version", cell(r, i, 2))) < 0 ||
		    (error = df_object_add_dep(o, DF_OBJ_SCHEMA, "", cell(r, i, 1), NULL)) < 0)
			goto out;
	}
	df_rows_free(r);
	r = NULL;

relations:
	if ((error = read_relations(s, conn, opts, oids)) < 0)
		goto out;

	if ((error = run_rel(&r, conn, opts, Q_CONSTRAINTS, "c.oid", oids)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		if (excluded(opts, cell(r, i, 1)))
			continue;
		if ((error = df_schema_add(&o, s, DF_OBJ_CONSTRAINT, cell(r, i, 0), cell(r, i, 2),
			cell(r, i, 1), cell(r, i, 4))) < 0 ||
		    (error = df_schema_set(&o->comment, cell(r, i, 5))) < 0)
			goto out;
		o->ctype = cell(r, i, 3)[0];
		if (o->ctype == DF_CONS_FOREIGN && (error = read_fk(o, r, i)) < 0)
			goto out;
	}
	df_rows_free(r);
	r = NULL;

	if ((error = run_rel(&r, conn, opts, Q_INDEXES, "tc.oid", oids)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		if (excluded(opts, cell(r, i, 1)))
			continue;
		/* an index being built, or whose build failed (CONCURRENTLY), or
		 * a partitioned table's made ON ONLY that not every partition's
		 * index is attached to yet: not the same as a valid one */
		if ((error = df_schema_add(&o, s, DF_OBJ_INDEX, cell(r, i, 0), cell(r, i, 2),
			cell(r, i, 1), cell(r, i, 3))) < 0 ||
		    (error = df_schema_set(&o->comment, cell(r, i, 4))) < 0 ||
		    (error = extra_add(o, "valid", truth(r, i, 5) ? NULL : "false")) < 0)
			goto out;
	}
	df_rows_free(r);
	r = NULL;

	if (oids)
		goto triggers;
	if ((error = run(&r, conn, opts, Q_TYPES)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		bool is_enum = cell(r, i, 2)[0] == 'e';
		df_buf def = DF_BUF_INIT;
		if (is_enum)
			df_buf_puts(&def, cell(r, i, 3) ? cell(r, i, 3) : "");
		else {
			df_buf_puts(&def, cell(r, i, 4));
			if (cell(r, i, 6))
				df_buf_printf(&def, " DEFAULT %s", cell(r, i, 6));
			if (truth(r, i, 5))
				df_buf_puts(&def, " NOT NULL");
			if (cell(r, i, 7))
				df_buf_printf(&def, " %s", cell(r, i, 7));
		}
		error = df_buf_oom(&def) ? df_error_oom() :
			df_schema_add(&o, s, is_enum ? DF_OBJ_ENUM : DF_OBJ_DOMAIN, cell(r, i, 0),
				cell(r, i, 1), NULL, def.ptr);
		df_buf_release(&def);
		if (error < 0 || (error = df_schema_set(&o->comment, cell(r, i, 8))) < 0)
			goto out;
	}
	df_rows_free(r);
	r = NULL;

	if ((error = run(&r, conn, opts, Q_FUNCTIONS)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		df_buf name = DF_BUF_INIT;
		bool agg = cell(r, i, 3)[0] == 'a';
		df_buf_printf(&name, "%s(%s)", cell(r, i, 1), cell(r, i, 2));
		error = df_buf_oom(&name) ? df_error_oom() :
			df_schema_add(&o, s, agg ? DF_OBJ_AGGREGATE : DF_OBJ_FUNCTION, cell(r, i, 0),
				name.ptr, NULL, cell(r, i, 4));
		df_buf_release(&name);
		if (error < 0 || (error = df_schema_set(&o->comment, cell(r, i, 5))) < 0 ||
		    (error = extra_add(o, "kind", cell(r, i, 3)[0] == 'p' ? "procedure" : NULL)) < 0 ||
		    (cell(r, i, 6) && (error = body_names(o, cell(r, i, 6))) < 0))
			goto out;
	}
	df_rows_free(r);
	r = NULL;

triggers:
	if ((error = run_rel(&r, conn, opts, Q_TRIGGERS, "c.oid", oids)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		const char *en = cell(r, i, 4);
		if (excluded(opts, cell(r, i, 1)))
			continue;
		if ((error = df_schema_add(&o, s, DF_OBJ_TRIGGER, cell(r, i, 0), cell(r, i, 2),
			cell(r, i, 1), cell(r, i, 3))) < 0 ||
		    (error = extra_add(o, "enabled", en && en[0] != 'O' ? en : NULL)) < 0 ||
		    (error = df_schema_set(&o->comment, cell(r, i, 5))) < 0)
			goto out;
	}
	df_rows_free(r);
	r = NULL;

	if ((error = run_rel(&r, conn, opts, Q_POLICIES, "c.oid", oids)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		df_buf def = DF_BUF_INIT;
		const char *cmd = cell(r, i, 4);
		df_buf_printf(&def, "AS %s FOR %s TO %s", truth(r, i, 3) ? "PERMISSIVE" : "RESTRICTIVE",
			cmd[0] == 'r' ? "SELECT" : cmd[0] == 'a' ? "INSERT" : cmd[0] == 'w' ? "UPDATE" :
			cmd[0] == 'd' ? "DELETE" : "ALL", cell(r, i, 5) ? cell(r, i, 5) : "public");
		if (cell(r, i, 6))
			df_buf_printf(&def, " USING (%s)", cell(r, i, 6));
		if (cell(r, i, 7))
			df_buf_printf(&def, " WITH CHECK (%s)", cell(r, i, 7));
		error = df_buf_oom(&def) ? df_error_oom() :
			df_schema_add(&o, s, DF_OBJ_POLICY, cell(r, i, 0), cell(r, i, 2), cell(r, i, 1),
				def.ptr);
		df_buf_release(&def);
		if (error < 0 || (error = df_schema_set(&o->comment, cell(r, i, 8))) < 0)
			goto out;
	}
	df_rows_free(r);
	r = NULL;

	if (!oids && (error = resolve_uses(s)) < 0)
		goto out;
	/* dependencies last: they name objects read above (a part: those of
	 * its objects, each named by its relation) */
	if (oids) {
		df_buf q = DF_BUF_INIT;
		df_buf_printf(&q, "SELECT * FROM (%s) q(k1, n1, m1, t1, k2, n2, m2, t2) "
			"WHERE (n1, COALESCE(t1, m1)) IN (SELECT n.nspname, c.relname FROM pg_class c "
			"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY ('%s'::oid[]))",
			Q_DEPENDS, oids);
		error = df_buf_oom(&q) ? df_error_oom() : run(&r, conn, opts, q.ptr);
		df_buf_release(&q);
	} else
		error = run(&r, conn, opts, Q_DEPENDS);
	if (error < 0)
		goto out;
	{
		df_schema tmp = *s;     /* sorted view for lookups */
		df_object **v = malloc((s->nr ? s->nr : 1) * sizeof(*v));
		if (!v) {
			error = df_error_oom();
			goto out;
		}
		if (s->nr)
			memcpy(v, s->v, s->nr * sizeof(*v));
		tmp.v = v;
		df__schema_sort(&tmp);
		for (size_t i = 0; i < r->nrows; i++) {
			df_obj_kind ka = kind_of(cell(r, i, 0)), kb = kind_of(cell(r, i, 4));
			char *key;
			df_object *a;
			if (ka == DF_OBJ_KIND_NR || kb == DF_OBJ_KIND_NR)
				continue;
			if (!(key = df_schema_key(ka, cell(r, i, 1), cell(r, i, 2), cell(r, i, 3)))) {
				error = df_error_oom();
				break;
			}
			a = (df_object *)df_schema_find(&tmp, key);
			free(key);
			if (a && (error = df_object_add_dep(a, kb, cell(r, i, 5), cell(r, i, 6),
				cell(r, i, 7))) < 0)
				break;
		}
		free(v);
	}
out:
	df_rows_free(r);
	return error;
}

int df__schema_read_pg(df_conn *conn, df_schema *s, const df_schema_opts *opts)
{
	df_identity id;
	int error;

	if ((error = df_conn_identity(conn, &id)) < 0)
		return error;
	s->server_version = id.version_num;
	if (id.version_num < 130000)
		return df_error_set(DF_EUSAGE, "reading a schema needs PostgreSQL 13 or newer "
			"(this server is %s)", id.version);
	for (size_t i = 0; i < sizeof(pg_not_compared) / sizeof(*pg_not_compared); i++)
		if ((error = df_strlist_push(&s->not_compared, pg_not_compared[i])) < 0)
			return error;
	return read_pg(conn, s, opts, NULL);
}

static int read_part(df_schema *s, df_conn *conn, const df_schema_opts *opts, const char *oids)
{
	return read_pg(conn, s, opts, oids);
}

/* ---- a part of the schema: the relations a run touched --------------------- */

/*
 * The relations named in `names` ("schema\tname", schema "" for any; an
 * index stands for its table) and, recursively, what depends on them as
 * the catalogs say now: a view on one, a table with a foreign key to one,
 * a sequence one owns, a table whose default takes a sequence's value, a
 * partition, a composite type with a column of its row type.  oid, schema,
 * name of each.
 */
static const char Q_CLOSURE[] =
	"), seed AS (SELECT CASE WHEN c.relkind IN ('i', 'I') THEN (SELECT i.indrelid FROM pg_index i "
	"  WHERE i.indexrelid = c.oid) ELSE c.oid END AS oid, bool_or(w.old) AS deep "
	" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	" JOIN w ON c.relname = w.n AND (w.s = '' OR n.nspname = w.s) WHERE @NS@ GROUP BY 1), "
	/* a relation the model read before did not hold was made by the run:
	 * what depends on it was made by the run too, named by its statements,
	 * but for a serial's sequence; what did exist: everything that depends
	 * on it, recursively */
	"t(oid, deep) AS (SELECT oid, deep FROM seed WHERE oid IS NOT NULL UNION "
	" SELECT CASE d.classid WHEN 'pg_rewrite'::regclass THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objid) "
	"  WHEN 'pg_constraint'::regclass THEN (SELECT NULLIF(co.conrelid, 0) FROM pg_constraint co WHERE co.oid = d.objid) "
	"  WHEN 'pg_attrdef'::regclass THEN (SELECT ad.adrelid FROM pg_attrdef ad WHERE ad.oid = d.objid) "
	"  WHEN 'pg_trigger'::regclass THEN (SELECT tg.tgrelid FROM pg_trigger tg WHERE tg.oid = d.objid) "
	"  WHEN 'pg_policy'::regclass THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = d.objid) "
	"  WHEN 'pg_class'::regclass THEN COALESCE((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = d.objid), d.objid) "
	"  WHEN 'pg_type'::regclass THEN (SELECT NULLIF(ty.typrelid, 0) FROM pg_type ty WHERE ty.oid = d.objid) END, t.deep "
	" FROM t CROSS JOIN LATERAL (VALUES ('pg_class'::regclass, t.oid), ('pg_type'::regclass, "
	"  (SELECT tc.reltype FROM pg_class tc WHERE tc.oid = t.oid))) ref(cls, oid) "
	" JOIN pg_depend d ON d.refclassid = ref.cls AND d.refobjid = ref.oid "
	" WHERE t.oid IS NOT NULL AND (t.deep OR (ref.cls = 'pg_class'::regclass "
	"  AND d.classid = 'pg_class'::regclass AND d.deptype = 'a' "
	"  AND EXISTS (SELECT 1 FROM pg_class sq WHERE sq.oid = d.objid AND sq.relkind = 'S')))) "
	"SELECT c.oid, n.nspname, c.relname FROM (SELECT DISTINCT oid FROM t) x "
	"JOIN pg_class c ON c.oid = x.oid JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND @NS@";

/*
 * The query `sql` with its @NS@ the namespace filter; with `rel` (e.g.
 * "c.oid") also only the relations of `oids` ("{1,2}").
 */
static int run_part(df_rows **out, df_conn *conn, const df_schema_opts *opts, const char *sql,
	const char *rel, const char *oids)
{
	df_buf q = DF_BUF_INIT, f = DF_BUF_INIT;
	int error;

	ns_filter(&f, opts);
	if (rel)
		df_buf_printf(&f, " AND %s = ANY ('%s'::oid[])", rel, oids);
	for (const char *p = sql; *p; p++) {
		if (!strncmp(p, "@NS@", 4)) {
			if (rel)
				df_buf_printf(&q, "(%s)", f.ptr);
			else
				df_buf_puts(&q, f.ptr);
			p += 3;
		} else
			df_buf_putc(&q, *p);
	}
	if (df_buf_oom(&q) || df_buf_oom(&f))
		error = df_error_oom();
	else
		error = df_conn_query(conn, out, q.ptr, NULL, 0);
	df_buf_release(&q);
	df_buf_release(&f);
	return error;
}

int df__schema_read_pg_part(df_conn *conn, df_schema *s, const df_schema_opts *opts,
	df_strlist *names)
{
	df_buf q = DF_BUF_INIT, oids = DF_BUF_INIT;
	df_rows *r = NULL;
	int error;

	/* the closure of `names`, as the catalogs hold it now */
	df_buf_puts(&q, "WITH RECURSIVE w(s, n, old) AS (VALUES ");
	for (size_t i = 0; i < names->nr; i++) {
		const char *tab = strchr(names->v[i], '\t'), *flag;
		char *sch = tab ? strndup(names->v[i], (size_t)(tab - names->v[i])) : NULL, *name;
		if (!sch) {
			error = df_error_oom();
			goto out;
		}
		flag = strchr(tab + 1, '\t');
		name = flag ? strndup(tab + 1, (size_t)(flag - tab - 1)) : strdup(tab + 1);
		if (!name) {
			free(sch);
			error = df_error_oom();
			goto out;
		}
		df_buf_puts(&q, i ? ", (" : "(");
		df__quote_literal(&q, sch);
		df_buf_puts(&q, "::text, ");
		df__quote_literal(&q, name);
		df_buf_printf(&q, "::text, %s)", flag ? "true" : "false");
		free(sch);
		free(name);
	}
	if (!names->nr)
		df_buf_puts(&q, "(''::text, ''::text, false)");
	df_buf_puts(&q, Q_CLOSURE);
	if (df_buf_oom(&q)) {
		error = df_error_oom();
		goto out;
	}
	if ((error = run(&r, conn, opts, q.ptr)) < 0)
		goto out;
	df_buf_putc(&oids, '{');
	for (size_t i = 0; i < r->nrows; i++) {
		df_buf_printf(&oids, "%s%s", i ? "," : "", cell(r, i, 0));
		if ((error = df_strlist_pushf(names, "%s\t%s", cell(r, i, 1), cell(r, i, 2))) < 0)
			goto out;
	}
	df_buf_putc(&oids, '}');
	df_rows_free(r);
	r = NULL;
	if (df_buf_oom(&oids)) {
		error = df_error_oom();
		goto out;
	}
	if (oids.size == 2)             /* nothing of it is left */
		goto out;
	error = read_part(s, conn, opts, oids.ptr);
out:
	df_rows_free(r);
	df_buf_release(&q);
	df_buf_release(&oids);
	return error;
}
