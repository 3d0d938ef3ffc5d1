/* dtype.c: element types: names, sizes, parsing MONAI/numpy/torch spellings, and
 * element access through double with torch's conversion rules. */
#include <string.h>
#include <strings.h>

#include "runtime.h"

static const struct {
	const char *name, *short_name;
	size_t size;
	int is_float;
} dtypes[] = {
#define X(e, n, sn, s, f, g) {n, sn, s, f},
	MG_DTYPES(X)
#undef X
};

const char *mg_dtype_name(enum mg_dtype t) { return dtypes[t].name; }
const char *mg_dtype_short(enum mg_dtype t) { return dtypes[t].short_name; }
size_t mg_dtype_size(enum mg_dtype t) { return dtypes[t].size; }
int mg_dtype_is_float(enum mg_dtype t) { return dtypes[t].is_float; }

int mg_dtype_parse(const char *s)
{
	static const struct {
		const char *alias;
		enum mg_dtype t;
	} aliases[] = {
		{"float", MG_DTYPE_F32}, {"half", MG_DTYPE_F16}, {"double", MG_DTYPE_F64},
		{"int", MG_DTYPE_I32},   {"long", MG_DTYPE_I64}, {"short", MG_DTYPE_I16},
		{"uint", MG_DTYPE_U32},  {"bool", MG_DTYPE_U8},  {"float_", MG_DTYPE_F64},
		{"int_", MG_DTYPE_I64},
	};
	if (!s)
		return -1;
	/* "np.float32", "numpy.float32", "torch.float32", "<class 'numpy.float32'>" */
	const char *dot = strrchr(s, '.');
	char name[32];
	snprintf(name, sizeof name, "%s", dot ? dot + 1 : s);
	char *q = strchr(name, '\'');
	if (q)
		*q = 0;
	for (int i = 0; i < MG_DTYPE_COUNT; i++)
		if (strcasecmp(name, dtypes[i].name) == 0)
			return i;
	for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
		if (strcasecmp(name, aliases[i].alias) == 0)
			return aliases[i].t;
	return -1;
}

uint16_t mg_f32_to_f16(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	uint32_t sign = (x >> 16) & 0x8000, e = (x >> 23) & 0xff, m = x & 0x7fffff;
	if (e == 0xff) /* inf or nan (keep a quiet nan) */
		return sign | 0x7c00 | (m ? 0x200 : 0);
	int ue = (int)e - 127 + 15;
	if (ue >= 0x1f)
		return sign | 0x7c00;
	if (ue <= 0) { /* subnormal or zero: shift the implicit bit in, round to even */
		if (ue < -10)
			return sign;
		m |= 0x800000;
		int shift = 14 - ue;
		uint32_t half = 1u << (shift - 1), rest = m & ((1u << shift) - 1);
		uint32_t r = m >> shift;
		if (rest > half || (rest == half && (r & 1)))
			r++;
		return sign | r;
	}
	uint32_t r = ((uint32_t)ue << 10) | (m >> 13), rest = m & 0x1fff;
	if (rest > 0x1000 || (rest == 0x1000 && (r & 1)))
		r++; /* may carry into the exponent, which is the right answer */
	return sign | r;
}

float mg_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, x;
	if (e == 0x1f)
		x = sign | 0x7f800000 | (m << 13);
	else if (e != 0)
		x = sign | ((e + 112) << 23) | (m << 13);
	else if (m == 0)
		x = sign;
	else { /* subnormal: normalise */
		e = 113;
		while (!(m & 0x400)) {
			m <<= 1;
			e--;
		}
		x = sign | (e << 23) | ((m & 0x3ff) << 13);
	}
	float f;
	memcpy(&f, &x, 4);
	return f;
}

uint16_t mg_f32_to_bf16(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40);
	x += 0x7fff + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

float mg_bf16_to_f32(uint16_t h)
{
	uint32_t x = (uint32_t)h << 16;
	float f;
	memcpy(&f, &x, 4);
	return f;
}
