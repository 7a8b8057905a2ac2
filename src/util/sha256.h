#ifndef DF_UTIL_SHA256_H
#define DF_UTIL_SHA256_H

/*
 * SHA-256 through OpenSSL's low-level functions: the same SHA-NI/AVX code
 * as EVP, without EVP's provider initialisation, which costs ~2 MiB of
 * memory in every run that hashes a file (`db status` hashes them all).
 */
#include <stddef.h>

/* Room for OpenSSL's SHA256_CTX (checked in sha256.c). */
typedef struct df_sha256 {
	_Alignas(8) unsigned char opaque[128];
} df_sha256;

void df_sha256_init(df_sha256 *c);
void df_sha256_update(df_sha256 *c, const void *p, size_t n);
/* Finish and write the digest as 64 lower-case hex digits and a NUL. */
void df_sha256_hex(df_sha256 *c, char out[65]);
/* The digest of one buffer, raw (32 bytes). */
void df_sha256_raw(unsigned char out[32], const void *p, size_t n);

#endif
