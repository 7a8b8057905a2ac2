/*
 * statusfloor DIR DB [--hash] [--table T]: the floor for `db status`.  Does
 * only what a status cannot avoid: list DIR, fstatat() every .sql file in
 * it, open the SQLite database DB read-only and read the history once: the
 * tracking table (_migrations: file, checksum, state, when), or with
 * --table another tool's (dbmate's schema_migrations: its versions).  With --hash it also opens, reads and SHA-256s every file: the
 * floor of a status that trusts no cache (the cold run).  No parsing, no
 * output.  Built into bench/.work by b_status.sh, timed beside devflow:
 * twice, as statusfloor (no OpenSSL: a status that trusts its cache loads
 * no hashing library) and, with -DSTATUSFLOOR_HASH and -lcrypto, as
 * statusfloor-hash (the only one that takes --hash).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef STATUSFLOOR_HASH
#include <openssl/evp.h>
#endif
#include <sqlite3.h>

static unsigned long sink;

#ifdef STATUSFLOOR_HASH
static int hash_file(int dfd, const char *name, EVP_MD_CTX *ctx)
{
	static unsigned char buf[1 << 16];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	close(fd);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	sink += md[0];
	return n < 0 ? -1 : 0;
}
#else
typedef void EVP_MD_CTX;
static EVP_MD_CTX *EVP_MD_CTX_new(void) { return NULL; }
static void EVP_MD_CTX_free(EVP_MD_CTX *ctx) { (void)ctx; }
static int hash_file(int dfd, const char *name, EVP_MD_CTX *ctx)
{
	(void)dfd; (void)name; (void)ctx;
	return -1;
}
#endif

int main(int argc, char **argv)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct dirent *de;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	size_t files = 0, rows = 0;
	const char *sql = "SELECT filename, checksum, state, applied_at FROM _migrations";
	char other[256];
	int hash = 0;
	DIR *d;

	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--hash")) {
#ifndef STATUSFLOOR_HASH
			fprintf(stderr, "statusfloor: built without hashing: use statusfloor-hash\n");
			return 2;
#endif
			hash = 1;
		}
		else if (!strcmp(argv[i], "--table") && i + 1 < argc) {
			snprintf(other, sizeof(other), "SELECT version FROM \"%s\"", argv[++i]);
			sql = other;
		} else
			argc = 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: statusfloor DIR DB [--hash] [--table T]\n");
		return 2;
	}
	if (!(d = opendir(argv[1]))) {
		perror(argv[1]);
		return 1;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat st;

		if (de->d_name[0] == '.' || n < 5 || strcmp(de->d_name + n - 4, ".sql"))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
		    (hash && hash_file(dirfd(d), de->d_name, ctx) < 0)) {
			perror(de->d_name);
			return 1;
		}
		sink += (unsigned long)st.st_size;
		files++;
	}
	closedir(d);
	if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", argv[2], db ? sqlite3_errmsg(db) : "cannot open");
		return 1;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		sink += (unsigned long)sqlite3_column_bytes(q, 0) + (unsigned long)sqlite3_column_bytes(q, 1);
		rows++;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	EVP_MD_CTX_free(ctx);
	if (getenv("STATUSFLOOR_VERBOSE"))
		fprintf(stderr, "%zu files, %zu rows (%lu)\n", files, rows, sink);
	return 0;
}
