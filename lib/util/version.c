/* The library's version, exported as data for applications to read. */
#include "config.h"
#include <qb/qbconfig.h>
#include <qb/qbutil.h>

const struct qb_version qb_ver = {
	.major = QB_VER_MAJOR,
	.minor = QB_VER_MINOR,
	.micro = QB_VER_MICRO,
	.rest = QB_VER_REST,
};

const char *const qb_ver_str = QB_VER_STR;
