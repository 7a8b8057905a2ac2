/* The low-level SHA-256 functions are deprecated in OpenSSL 3 but kept; see sha256.h. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "util/sha256.h"
#include "util/banned.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((df_sha256 *)0)->opaque), "df_sha256 too small");

void df_sha256_init(df_sha256 *c)
{
	SHA256_Init((SHA256_CTX *)c->opaque);
}

void df_sha256_update(df_sha256 *c, const void *p, size_t n)
{
	SHA256_Update((SHA256_CTX *)c->opaque, p, n);
}

void df_sha256_hex(df_sha256 *c, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256_Final(md, (SHA256_CTX *)c->opaque);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}

void df_sha256_raw(unsigned char out[32], const void *p, size_t n)
{
	SHA256((const unsigned char *)p, n, out);
}
