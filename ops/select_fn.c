/* select_fn.c: MONAI's select_fn (CropForeground, MaskIntensity) read from a pipeline
 * file. MONAI takes any Python callable; bundle configs write one as "$lambda x: x > 0.5"
 * or name "$monai.transforms.utils.is_positive". mgc runs no Python: it reads the one
 * shape such a lambda has in practice, a comparison of the argument with a number, and
 * refuses all other text (naming the transform, the argument and the text). The
 * comparison then follows torch's type promotion (mg_select_for), so int and float
 * images select what MONAI selects. Read next: crop_foreground.c, mask_intensity.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

/* The text's parse state: where the next token starts, and what to say on an error. */
struct scan {
	const char *p, *op, *arg, *text;
	struct mg_err *e;
};

static int refuse(const struct scan *sc, const char *why)
{
	return mg_err_set(sc->e, MG_ERR_UNSUPPORTED,
			  "%s: %s '%s' is not supported (%s): mgc reads only is_positive, "
			  "$monai.transforms.utils.is_positive and \"$lambda x: x OP NUMBER\" "
			  "(or NUMBER OP x; OP one of > >= < <= == !=), as it runs no Python",
			  sc->op, sc->arg, sc->text, why);
}

static void blanks(struct scan *sc)
{
	while (*sc->p == ' ' || *sc->p == '\t')
		sc->p++;
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A Python identifier at p into buf; 0 when there is none. */
static int name(struct scan *sc, char *buf, size_t n)
{
	blanks(sc);
	size_t k = 0;
	if (!is_alpha(*sc->p))
		return 0;
	while (is_alpha(sc->p[k]) || is_digit(sc->p[k]))
		k++;
	if (k >= n)
		return 0;
	memcpy(buf, sc->p, k);
	buf[k] = 0;
	sc->p += k;
	return 1;
}

/* A comparison operator at p; 0 when there is none. */
static int compare_op(struct scan *sc, enum mg_select_cmp *c)
{
	static const struct {
		const char *s;
		enum mg_select_cmp c;
	} ops[] = {{">=", MG_SELECT_GE}, {"<=", MG_SELECT_LE}, {"==", MG_SELECT_EQ},
		   {"!=", MG_SELECT_NE}, {">", MG_SELECT_GT},  {"<", MG_SELECT_LT}};
	blanks(sc);
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
		if (!strncmp(sc->p, ops[i].s, strlen(ops[i].s))) {
			sc->p += strlen(ops[i].s);
			*c = ops[i].c;
			return 1;
		}
	return 0;
}

/* A signed Python int or float literal at p: [+-] (digits [. digits] | . digits)
 * [e [+-] digits]; 0 when there is none. An int literal must fit in int64. */
static int number(struct scan *sc, double *v, int *is_int)
{
	blanks(sc);
	const char *q = sc->p;
	if (*q == '+' || *q == '-')
		q++;
	const char *digits = q;
	while (is_digit(*q))
		q++;
	int whole = q > digits, frac = 0;
	*is_int = 1;
	if (*q == '.') {
		*is_int = 0;
		for (q++; is_digit(*q); q++)
			frac = 1;
	}
	if (!whole && !frac)
		return 0;
	if (*q == 'e' || *q == 'E') {
		const char *x = q + 1;
		if (*x == '+' || *x == '-')
			x++;
		if (!is_digit(*x))
			return 0;
		while (is_digit(*x))
			x++;
		q = x;
		*is_int = 0;
	}
	if (is_alpha(*q) || is_digit(*q) || *q == '.')
		return 0; /* 1_000, 0x10, 1.5j, 1.2.3: not read here */
	errno = 0;
	if (*is_int)
		*v = (double)strtoll(sc->p, NULL, 10);
	else
		*v = strtod(sc->p, NULL);
	if (errno == ERANGE && *is_int)
		return 0;
	sc->p = q;
	return 1;
}

/* "$lambda NAME: NAME OP NUMBER" or "...: NUMBER OP NAME", sc->p after "lambda". */
static int lambda(struct scan *sc, struct mg_select *s)
{
	char param[64], ref[64];
	if (*sc->p != ' ' && *sc->p != '\t')
		return refuse(sc, "expected a space after 'lambda'");
	if (!name(sc, param, sizeof param))
		return refuse(sc, "expected the lambda's argument name");
	blanks(sc);
	if (*sc->p != ':')
		return refuse(sc, "expected ':' after the lambda's argument");
	sc->p++;
	blanks(sc);
	int flipped = !is_alpha(*sc->p);
	if (flipped) {
		if (!number(sc, &s->t, &s->int_literal))
			return refuse(sc, "expected the argument or a number after ':'");
		if (!compare_op(sc, &s->cmp))
			return refuse(sc, "expected a comparison (> >= < <= == !=) after the number");
		if (!name(sc, ref, sizeof ref))
			return refuse(sc, "expected the lambda's argument after the comparison");
	} else {
		if (!name(sc, ref, sizeof ref))
			return refuse(sc, "expected the lambda's argument after ':'");
		if (!compare_op(sc, &s->cmp))
			return refuse(sc, "expected a comparison (> >= < <= == !=) after the "
				      "argument");
		if (!number(sc, &s->t, &s->int_literal))
			return refuse(sc, "expected a number after the comparison");
	}
	if (strcmp(ref, param)) {
		char why[200];
		snprintf(why, sizeof why, "'%s' is not the lambda's argument '%s'", ref, param);
		return refuse(sc, why);
	}
	blanks(sc);
	if (*sc->p)
		return refuse(sc, "unexpected text after the comparison");
	if (flipped) { /* t < x is x > t */
		static const enum mg_select_cmp mirror[] = {
			[MG_SELECT_GT] = MG_SELECT_LT, [MG_SELECT_GE] = MG_SELECT_LE,
			[MG_SELECT_LT] = MG_SELECT_GT, [MG_SELECT_LE] = MG_SELECT_GE,
			[MG_SELECT_EQ] = MG_SELECT_EQ, [MG_SELECT_NE] = MG_SELECT_NE};
		s->cmp = mirror[s->cmp];
	}
	return 0;
}

int mg_select_parse(const char *op, const char *arg, const struct mg_attr *a,
		    struct mg_select *s, struct mg_err *e)
{
	static const char *const positive[] = {"is_positive", "$monai.transforms.is_positive",
					       "$monai.transforms.utils.is_positive"};
	*s = (struct mg_select){.cmp = MG_SELECT_GT, .t = 0, .int_literal = 1};
	if (a->is_none)
		return 0;
	for (size_t i = 0; i < sizeof positive / sizeof *positive; i++)
		if (!strcmp(a->v.s, positive[i]))
			return 0;
	struct scan sc = {a->v.s, op, arg, a->v.s, e};
	if (*sc.p != '$')
		return refuse(&sc, "not a \"$\" expression nor is_positive");
	sc.p++;
	blanks(&sc);
	if (strncmp(sc.p, "lambda", 6))
		return refuse(&sc, "not a lambda");
	sc.p += 6;
	return lambda(&sc, s);
}

/* An int literal t as torch casts it to an integer dtype: wrapped to the width. */
static double wrap(enum mg_dtype dt, int64_t t)
{
	switch (dt) {
	case MG_DTYPE_U8: return (uint8_t)t;
	case MG_DTYPE_I8: return (int8_t)t;
	case MG_DTYPE_U16: return (uint16_t)t;
	case MG_DTYPE_I16: return (int16_t)t;
	case MG_DTYPE_U32: return (uint32_t)t;
	case MG_DTYPE_I32: return (int32_t)t;
	default: return (double)t;
	}
}

struct mg_select mg_select_for(const struct mg_select *s, enum mg_dtype dt)
{
	struct mg_select r = *s;
	r.f32 = 0;
	if (mg_dtype_is_float(dt)) {
		char b[8];
		mg_dtype_store(dt, b, s->t); /* t in the image's precision */
		r.t = mg_dtype_load(dt, b);
	} else if (s->int_literal) {
		r.t = wrap(dt, (int64_t)s->t);
	} else {
		r.f32 = 1;
		r.t = (float)s->t;
	}
	return r;
}
