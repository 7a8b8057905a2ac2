/*
 * util/isotime.c: a UTC time whose fields are all in range is copied as it
 * is (issue 26: status prints 10,000 of them); every input gives what the
 * calendar arithmetic (timegm, gmtime, strftime) gives, as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "util/isotime.h"

/* The reference: "Y-M-D h:m:s" through timegm and back, as isotime.c did. */
static void reference(char out[40], int y, int mo, int d, int h, int mi, int s, int off_min)
{
	struct tm tm = { 0 };
	time_t t;

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm) - (time_t)off_min * 60;
	gmtime_r(&t, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void test_isotime__every_field_combination_as_the_calendar_says(void **state)
{
	static const int years[] = { 1999, 2000, 2023, 2024, 2100 };
	static const int days[] = { 1, 28, 29, 30, 31, 32 };
	static const int hms[][3] = { { 0, 0, 0 }, { 23, 59, 59 }, { 24, 0, 0 }, { 12, 60, 0 }, { 7, 8, 60 } };
	char in[64], got[40], want[40];

	(void)state;
	for (size_t a = 0; a < sizeof(years) / sizeof(*years); a++)
		for (int mo = 1; mo <= 12; mo++)
			for (size_t b = 0; b < sizeof(days) / sizeof(*days); b++)
				for (size_t c = 0; c < sizeof(hms) / sizeof(*hms); c++)
					for (int form = 0; form < 4; form++) {
						int y = years[a], d = days[b], h = hms[c][0], mi = hms[c][1], s = hms[c][2];
						static const char *const fmt[] = {
							"%04d-%02d-%02d %02d:%02d:%02d", "%04d-%02d-%02dT%02d:%02d:%02dZ",
							"%04d-%02d-%02d %02d:%02d:%02d.123456", "%04d-%02d-%02d %02d:%02d:%02d+01:30",
						};
						snprintf(in, sizeof(in), fmt[form], y, mo, d, h, mi, s);
						reference(want, y, mo, d, h, mi, s, form == 3 ? 90 : 0);
						df_time_iso(got, sizeof(got), in);
						if (strcmp(got, want))
							fail_msg("'%s': got '%s', want '%s'", in, got, want);
					}
}

static void test_isotime__not_a_time_shown_as_it_is(void **state)
{
	char got[40];

	(void)state;
	assert_string_equal(df_time_iso(got, sizeof(got), "yesterday"), "yesterday");
	assert_string_equal(df_time_iso(got, sizeof(got), ""), "");
	assert_string_equal(df_time_iso(got, sizeof(got), NULL), "");
	assert_string_equal(df_time_iso(got, sizeof(got), "2024-13-01 00:00"), "2024-13-01 00:00");
	assert_string_equal(df_time_iso(got, sizeof(got), "2024-06-01 12:00:00 junk"),
		"2024-06-01 12:00:00 junk");
	/* cut to the buffer, never past it */
	assert_string_equal(df_time_iso(got, 8, "a long text"), "a long ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isotime__every_field_combination_as_the_calendar_says),
		cmocka_unit_test(test_isotime__not_a_time_shown_as_it_is),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
