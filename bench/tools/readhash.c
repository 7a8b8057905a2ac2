/*
 * readhash DIR [THREADS]: the floor for `db status`'s file work.  Opens,
 * reads and SHA-256s every file in DIR, and does nothing else (no parsing, no
 * database, no output).  The benchmarks time it next to devflow so a target
 * can be judged against what the machine allows.  Built into bench/.work.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

static char **names;
static size_t nr;
static int dfd;
static long threads = 1;
static unsigned long sink;

static void *work(void *arg)
{
	static __thread unsigned char buf[1 << 16];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned long acc = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	for (size_t i = (size_t)(long)arg; i < nr; i += (size_t)threads) {
		int fd = openat(dfd, names[i], O_RDONLY | O_CLOEXEC);
		ssize_t n;
		if (fd < 0) {
			perror(names[i]);
			exit(1);
		}
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			EVP_DigestUpdate(ctx, buf, (size_t)n);
		close(fd);
		EVP_DigestFinal_ex(ctx, md, NULL);
		acc += md[0];
	}
	EVP_MD_CTX_free(ctx);
	__atomic_add_fetch(&sink, acc, __ATOMIC_RELAXED);
	return NULL;
}

int main(int argc, char **argv)
{
	size_t cap = 1024;
	pthread_t th[64];
	struct dirent *de;
	DIR *d;

	if (argc < 2 || !(d = opendir(argv[1]))) {
		fprintf(stderr, "usage: readhash DIR [THREADS]\n");
		return 2;
	}
	if (argc > 2 && ((threads = atol(argv[2])) < 1 || threads > 64))
		threads = 1;
	dfd = dirfd(d);
	names = malloc(cap * sizeof(*names));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (nr == cap)
			names = realloc(names, (cap *= 2) * sizeof(*names));
		names[nr++] = strdup(de->d_name);
	}
	for (long t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, work, (void *)t);
	for (long t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	printf("%zu files (%lu)\n", nr, sink);     /* the digests are used */
	return 0;
}
