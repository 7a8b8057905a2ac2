#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fs.h"
#include "util/banned.h"

int df_mkdirs(const char *path, mode_t mode, bool whole)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (whole && mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}
