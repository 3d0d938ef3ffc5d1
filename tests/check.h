/* check.h: the few macros every test uses. A failed CHECK prints where and why and the
 * test goes on; main returns check_done(), non-zero when any check failed. */
#ifndef MG_CHECK_H
#define MG_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failed, check_passed;

#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		if (cond) {                                                       \
			check_passed++;                                           \
		} else {                                                          \
			check_failed++;                                           \
			fprintf(stderr, "%s:%d: CHECK(%s) failed", __FILE__, __LINE__, #cond); \
			__VA_OPT__(fputs(": ", stderr); fprintf(stderr, __VA_ARGS__);)   \
			fputc('\n', stderr);                                      \
		}                                                                 \
	} while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, atol, rtol)                                                   \
	do {                                                                            \
		double ca_ = (a), cb_ = (b);                                            \
		CHECK(fabs(ca_ - cb_) <= (atol) + (rtol) * fabs(cb_) ||                 \
			      (isnan(ca_) && isnan(cb_)),                               \
		      "%s = %.9g, expected %.9g", #a, ca_, cb_);                       \
	} while (0)

#define CHECK_OK(expr, err)                                                          \
	do {                                                                         \
		int rc_ = (expr);                                                    \
		CHECK(rc_ == 0, "%s returned %d: %s", #expr, rc_, (err)->msg);       \
	} while (0)

/* The call fails and its message contains `needle`. */
#define CHECK_FAILS(expr, err, needle)                                                      \
	do {                                                                                \
		int rc_ = (expr);                                                           \
		CHECK(rc_ != 0 && strstr((err)->msg, needle) != NULL,                       \
		      "%s returned %d, message '%s' should contain '%s'", #expr, rc_,       \
		      (err)->msg, needle);                                                  \
		mg_err_clear(err);                                                          \
	} while (0)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed != 0;
}

#endif
