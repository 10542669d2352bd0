/* qbutil.h - placeholder; the util module replaces this with the full header. */
#ifndef QB_UTIL_H_DEFINED
#define QB_UTIL_H_DEFINED
#include <stdint.h>
#include <qb/qbdefs.h>
#ifdef __cplusplus
extern "C" {
#endif
/** The library version as numbers plus a free-form suffix. */
extern const struct qb_version {
	uint8_t major;
	uint8_t minor;
	uint8_t micro;
	const char *rest;
} qb_ver;
/** The library version as a string such as "2.1.0". */
extern const char *const qb_ver_str;
#ifdef __cplusplus
}
#endif
#endif
