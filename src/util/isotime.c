/* Engine time strings to ISO 8601 UTC (see isotime.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/isotime.h"
#include "util/banned.h"

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int month_days(int y, int mo)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) ? 29 : days[mo - 1];
}

char *df_time_iso(char *out, size_t size, const char *in)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
	const char *p;
	time_t t;

	if (!size)
		return out;
	{
		/* what is not a time is shown as it is */
		size_t n = in ? strlen(in) : 0;
		n = n < size - 1 ? n : size - 1;
		if (n)
			memcpy(out, in, n);
		out[n] = '\0';
	}
	if (!in || strlen(in) < 19 || digits(in, 4, &y) || in[4] != '-' || digits(in + 5, 2, &mo) ||
	    in[7] != '-' || digits(in + 8, 2, &d) || (in[10] != ' ' && in[10] != 'T') ||
	    digits(in + 11, 2, &h) || in[13] != ':' || digits(in + 14, 2, &mi) || in[16] != ':' ||
	    digits(in + 17, 2, &s))
		return out;
	p = in + 19;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh))
			return out;
		p += 3;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p)) {
			if (digits(p, 2, &om))
				return out;
			p += 2;
		}
	} else if (*p == 'Z') {
		p++;
	}
	if (*p)
		return out;
	/* UTC already and every field in range (status prints 10,000 of them):
	 * the digits as they are, no timegm/gmtime/strftime round trip */
	if (!sign && mo >= 1 && mo <= 12 && d >= 1 && d <= month_days(y, mo) && h < 24 && mi < 60 &&
	    s < 60 && size >= 21) {
		memcpy(out, in, 10);
		out[10] = 'T';
		memcpy(out + 11, in + 11, 8);
		memcpy(out + 19, "Z", 2);
		return out;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm) - (time_t)sign * (oh * 3600 + om * 60);
	if (!gmtime_r(&t, &tm))
		return out;
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}
