/* Unique names (util/uniq.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/uniq.h"
#include "util/banned.h"

static atomic_ulong uniq_counter;

static void base36(char *out, size_t size, unsigned long v)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char tmp[16];
	size_t n = 0;

	do
		tmp[n++] = digits[v % 36];
	while ((v /= 36) && n < sizeof(tmp));
	for (size_t i = 0; i < n && i + 1 < size; i++)
		out[i] = tmp[n - 1 - i];
	out[n < size ? n : size - 1] = '\0';
}

void df_uniq(char *out, size_t size)
{
	unsigned long count = atomic_fetch_add(&uniq_counter, 1) + 1;
	unsigned int rnd = 0;
	char c36[14], r36[14];

	/* a few random letters: a pid used again later does not meet the
	 * leftovers of the process that had it before */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (unsigned int)time(NULL) ^ (unsigned int)(count * 2654435761u);
	base36(c36, sizeof(c36), count);
	/* always four letters: 36^3 and up */
	base36(r36, sizeof(r36), 36UL * 36 * 36 + rnd % (36UL * 36 * 36 * 35));
	snprintf(out, size, "%ld_%s%s", (long)getpid(), c36, r36);
}
