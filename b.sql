CREATE TABLE customer (id int PRIMARY KEY, name text);
CREATE TABLE inventory (id int PRIMARY KEY, qty int);
CREATE FUNCTION all_stock() RETURNS bigint LANGUAGE sql AS $$ SELECT sum(qty) FROM inventory $$;
CREATE FUNCTION by_name(p text) RETURNS SETOF customer LANGUAGE sql AS $$ SELECT * FROM customer WHERE name = p $$;
CREATE FUNCTION a_total() RETURNS bigint LANGUAGE sql AS $$ SELECT all_stock() $$;
CREATE FUNCTION concat_sfunc(acc text, v text) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$ SELECT CASE WHEN acc IS NULL THEN v ELSE acc || ', ' || v END $$;
CREATE AGGREGATE group_concat(text) (SFUNC = concat_sfunc, STYPE = text);
CREATE VIEW customer_names AS SELECT group_concat(name) AS names FROM customer;
