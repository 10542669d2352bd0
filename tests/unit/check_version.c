/* The version data symbols agree with qbconfig.h. */
#include <check.h>
#include "check_common.h"
#include <stdio.h>
#include <stdlib.h>
#include <qb/qbconfig.h>
#include <qb/qbutil.h>

START_TEST(test_version_symbols)
{
	char buf[32];

	ck_assert_int_eq(qb_ver.major, QB_VER_MAJOR);
	ck_assert_int_eq(qb_ver.minor, QB_VER_MINOR);
	ck_assert_int_eq(qb_ver.micro, QB_VER_MICRO);
	ck_assert_str_eq(qb_ver.rest, QB_VER_REST);
	snprintf(buf, sizeof(buf), "%u.%u.%u%s", qb_ver.major, qb_ver.minor, qb_ver.micro,
		 qb_ver.rest);
	ck_assert_str_eq(qb_ver_str, buf);
	ck_assert_str_eq(qb_ver_str, QB_VER_STR);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_version_symbols),
	};

	return CK_MAIN("version", NULL, tests);
}
