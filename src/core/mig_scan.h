#ifndef DF_CORE_MIG_SCAN_H
#define DF_CORE_MIG_SCAN_H

/*
 * One pass over a migration file (mig_scan.c), for migration.c: read in
 * 64 KiB chunks, it computes the SHA-256 of the normalised bytes (no BOM,
 * CRLF and CR as LF), validates UTF-8, refuses NUL bytes and finds the
 * section markers by line.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/sha256.h"

#define CHUNK (64 * 1024)   /* the read size: one buffer, whatever the file's size */

enum marker {
	MK_NONE = 0,
	MK_UP,                  /* -- UP */
	MK_DOWN,                /* -- DOWN */
	MK_DBMATE_UP,           /* -- migrate:up */
	MK_DBMATE_DOWN,         /* -- migrate:down */
	MK_NO_TX,               /* -- devflow:no-transaction, -- +goose NO TRANSACTION */
	MK_GOOSE_UP,            /* -- +goose Up */
	MK_GOOSE_DOWN,          /* -- +goose Down */
};

struct scan {
	const char *path, *shown;
	df_sha256 md;
	uint64_t off;           /* absolute offset of the next byte */
	int line;               /* current line, 1-based */
	uint64_t line_start;
	char head[80];          /* first bytes of the current line */
	size_t head_len;
	bool line_has_sql;      /* the line holds something other than a comment */
	bool in_block;          /* inside a multi-line block comment */
	bool pending_cr;
	int utf8_need;          /* continuation bytes still expected */
	uint64_t utf8_at;
	int utf8_line, utf8_col;
	uint64_t bad_at;        /* an invalid lead byte */
	const unsigned char *whole; /* the whole file, when one read held it */
	size_t whole_len;
	/* results */
	int up_line, down_line, up_count;
	uint64_t up_off, up_end, down_off;
	enum marker up_kind;
	bool no_tx, dbmate_no_tx;
	bool sql_before_up;
	int sql_before_line;
	bool up_has_sql, down_has_sql;
};

int df__scan_file(struct scan *s, int dirfd, const char *path, const char *shown, uint64_t *size,
	unsigned char buf[CHUNK]);
void df__scan_digest(struct scan *s, char hex[65]);
void df__scan_release(struct scan *s);

#endif
