/*
 * qbdefs.h - small helpers shared by every libqb header: booleans, min/max,
 * bit operations, preprocessor glue, time unit constants and compiler
 * attribute wrappers.
 *
 * Part of a drop-in replacement for libqb; see README.markdown.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_DEFS_H_DEFINED
#define QB_DEFS_H_DEFINED

#ifdef __cplusplus
extern "C" {
#endif

/** Round x up to the next multiple of y (y > 0). */
#define QB_ROUNDUP(x, y)	((((x) + ((y) - 1)) / (y)) * (y))
/** Absolute value; evaluates its argument twice. */
#define QB_ABS(i)		(((i) < 0) ? -(i) : (i))
/** Larger of two values; evaluates arguments twice. */
#define QB_MAX(a, b)		(((a) > (b)) ? (a) : (b))
/** Smaller of two values; evaluates arguments twice. */
#define QB_MIN(a, b)		(((a) < (b)) ? (a) : (b))

#define QB_FALSE		0
#define QB_TRUE			(!QB_FALSE)

/** The mask of bit number bit in an unsigned integer bitmap. */
#define qb_bit_value(bit) (1U << (bit))
/** Set bit number bit in the unsigned integer lvalue barray. */
#define qb_bit_set(barray, bit) (barray |= qb_bit_value(bit))
/** Clear bit number bit in the unsigned integer lvalue barray. */
#define qb_bit_clear(barray, bit) (barray &= ~(qb_bit_value(bit)))
/** Non-zero when bit number bit is set in barray. */
#define qb_bit_is_set(barray, bit) (barray & qb_bit_value(bit))
/** Non-zero when bit number bit is clear in barray. */
#define qb_bit_is_clear(barray, bit) (!(barray & qb_bit_value(bit)))

/** Token pasting and stringification that expand their arguments first. */
#define QB_PP_JOIN_(a, b)	a##b
#define QB_PP_JOIN(a, b)	QB_PP_JOIN_(a, b)
#define QB_PP_STRINGIFY_(arg)	#arg
#define QB_PP_STRINGIFY(arg)	QB_PP_STRINGIFY_(arg)

#ifndef HZ
#define HZ 100
#endif

/* Time unit conversion factors (unsigned long long). */
#define QB_TIME_MS_IN_SEC   1000ULL
#define QB_TIME_US_IN_SEC   1000000ULL
#define QB_TIME_NS_IN_SEC   1000000000ULL
#define QB_TIME_US_IN_MSEC  1000ULL
#define QB_TIME_NS_IN_MSEC  1000000ULL
#define QB_TIME_NS_IN_USEC  1000ULL

#if !defined(__cplusplus) && defined(__STRICT_ANSI__) && \
	(!defined(__STDC_VERSION__) || __STDC_VERSION__ < 199901L)
#define inline __inline__
#endif

#if defined(__GNUC__) && !defined(typeof)
#define typeof __typeof__
#endif

/* Mark an interface as deprecated, optionally naming its replacement. */
#if defined(__GNUC__) && (__GNUC__ > 3 || (__GNUC__ == 3 && __GNUC_MINOR__ >= 1))
#define QB_GNUC_DEPRECATED __attribute__((__deprecated__))
#else
#define QB_GNUC_DEPRECATED
#endif

#if defined(__GNUC__) && (__GNUC__ > 4 || (__GNUC__ == 4 && __GNUC_MINOR__ >= 5))
#define QB_GNUC_DEPRECATED_FOR(f) __attribute__((deprecated("Use " #f " instead")))
#else
#define QB_GNUC_DEPRECATED_FOR(f) QB_GNUC_DEPRECATED
#endif

/* Let a type alias any other type without strict-aliasing warnings. */
#if defined(__GNUC__) && __GNUC__ >= 4
#define QB_GNUC_MAY_ALIAS __attribute__((may_alias))
#else
#define QB_GNUC_MAY_ALIAS
#endif

#ifdef __cplusplus
}
#endif

#endif /* QB_DEFS_H_DEFINED */
