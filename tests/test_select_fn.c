/* test_select_fn.c: the select_fn text mgc reads (ops/select_fn.c): the accepted forms and
 * what each parses to, the refused ones with messages naming the transform, the argument,
 * the text and why; then the comparison's dtype rules, against what torch 2.15 returned
 * for the same comparisons (noted at each line; MONAI's select_fn runs on the image's
 * tensor): float images compare in their own precision, integer images with an int
 * literal in their dtype (the literal wrapped), with a float literal in float32. The
 * ops' use of it is checked against MONAI in test_conformance_crop_foreground.c,
 * test_conformance_utility.c and test_utility_pipeline.c. */
#include <math.h>

#include "../ops/op.h"
#include "check.h"

static int parse(const char *text, struct mg_select *s, struct mg_err *e)
{
	struct mg_attr a = {.is_none = text == NULL, .v.s = text};
	return mg_select_parse("CropForeground", "select_fn", &a, s, e);
}

static void accepted(const char *text, enum mg_select_cmp cmp, double t, int int_literal)
{
	struct mg_select s;
	struct mg_err e = {0};
	CHECK_OK(parse(text, &s, &e), &e);
	CHECK(s.cmp == cmp && s.t == t && s.int_literal == int_literal,
	      "'%s': cmp %d t %g int %d", text ? text : "(null)", s.cmp, s.t, s.int_literal);
}

static void refused(const char *text, const char *why)
{
	struct mg_select s;
	struct mg_err e = {0};
	char needle[256];
	snprintf(needle, sizeof needle, "CropForeground: select_fn '%s' is not supported (%s)",
		 text, why);
	CHECK_FAILS(parse(text, &s, &e), &e, needle);
}

static void test_grammar(void)
{
	accepted(NULL, MG_SELECT_GT, 0, 1);
	accepted("is_positive", MG_SELECT_GT, 0, 1);
	accepted("$monai.transforms.utils.is_positive", MG_SELECT_GT, 0, 1);
	accepted("$monai.transforms.is_positive", MG_SELECT_GT, 0, 1);
	accepted("$lambda x: x > 0.5", MG_SELECT_GT, 0.5, 0);
	accepted("$lambda x: x >= 1", MG_SELECT_GE, 1, 1);
	accepted("$lambda x:x<0", MG_SELECT_LT, 0, 1);
	accepted("$lambda img : img <= -3.5e2 ", MG_SELECT_LE, -350, 0);
	accepted("$ lambda x: x == +2", MG_SELECT_EQ, 2, 1);
	accepted("$lambda x: x != .5", MG_SELECT_NE, 0.5, 0);
	accepted("$lambda x: x > 1.", MG_SELECT_GT, 1, 0);
	accepted("$lambda x: x > 1e3", MG_SELECT_GT, 1000, 0);
	/* NUMBER OP x is x OP' NUMBER */
	accepted("$lambda x: 0.5 < x", MG_SELECT_GT, 0.5, 0);
	accepted("$lambda x: 2 >= x", MG_SELECT_LE, 2, 1);
	accepted("$lambda x: -1 > x", MG_SELECT_LT, -1, 1);
	accepted("$lambda x: 3 <= x", MG_SELECT_GE, 3, 1);
	accepted("$lambda x: 0 == x", MG_SELECT_EQ, 0, 1);
	accepted("$lambda x: 0 != x", MG_SELECT_NE, 0, 1);

	refused("is_negative", "not a \"$\" expression nor is_positive");
	refused("lambda x: x > 0", "not a \"$\" expression nor is_positive");
	refused("$import os", "not a lambda");
	refused("$is_positive", "not a lambda");
	refused("$lambda x: x.sum()", "expected a comparison (> >= < <= == !=) after the argument");
	refused("$lambda x: y > 0", "'y' is not the lambda's argument 'x'");
	refused("$lambda x: 0 < y", "'y' is not the lambda's argument 'x'");
	refused("$lambda x: x >", "expected a number after the comparison");
	refused("$lambda x: x", "expected a comparison (> >= < <= == !=) after the argument");
	refused("$lambda x:", "expected the argument or a number after ':'");
	refused("$lambda x", "expected ':' after the lambda's argument");
	refused("$lambda", "expected a space after 'lambda'");
	refused("$lambdax: x > 0", "expected a space after 'lambda'");
	refused("$lambda x: x > 0 and x < 1", "unexpected text after the comparison");
	refused("$lambda x: (x > 0)", "expected the argument or a number after ':'");
	refused("$lambda x: x > 0.5)", "unexpected text after the comparison");
	refused("$lambda x: x > 1_000", "expected a number after the comparison");
	refused("$lambda x: x > 0x10", "expected a number after the comparison");
	refused("$lambda x: x > 1e", "expected a number after the comparison");
	refused("$lambda x: x > 99999999999999999999", "expected a number after the comparison");
	refused("$lambda x: x => 1", "expected a comparison (> >= < <= == !=) after the argument");
	refused("$lambda x: x > y", "expected a number after the comparison");
	refused("$lambda x: 1 < 2", "expected the lambda's argument after the comparison");
	refused("$lambda x: x > @t", "expected a number after the comparison");
	/* the message names the op and argument it is given */
	struct mg_attr a = {.v.s = "$boom"};
	struct mg_select s;
	struct mg_err e = {0};
	CHECK_FAILS(mg_select_parse("MaskIntensity", "select_fn", &a, &s, &e), &e,
		    "MaskIntensity: select_fn '$boom' is not supported (not a lambda): mgc reads "
		    "only is_positive");
}

/* text's test on value v of an image of dtype dt. */
static int selects(const char *text, enum mg_dtype dt, double v)
{
	struct mg_select s;
	struct mg_err e = {0};
	CHECK_OK(parse(text, &s, &e), &e);
	s = mg_select_for(&s, dt);
	return mg_select_test(&s, v);
}

static void test_dtypes(void)
{
	/* torch: uint8 [200, 44, 1] > 300 is [T, F, F] (300 wraps to 44), < -1 all true */
	CHECK(selects("$lambda x: x > 300", MG_DTYPE_U8, 200) &&
	      !selects("$lambda x: x > 300", MG_DTYPE_U8, 44) &&
	      selects("$lambda x: x == 300", MG_DTYPE_U8, 44) &&
	      selects("$lambda x: x < -1", MG_DTYPE_U8, 200), "uint8: int literals wrap");
	/* torch: uint8 [200, 44, 1] >= 44.0 is [T, T, F]; > 0.5 all true */
	CHECK(selects("$lambda x: x >= 44.0", MG_DTYPE_U8, 44) &&
	      !selects("$lambda x: x >= 44.0", MG_DTYPE_U8, 1) &&
	      selects("$lambda x: x > 0.5", MG_DTYPE_U8, 1), "uint8: float literals");
	/* torch: int8 -1 > 200 is true (200 wraps to -56) */
	CHECK(selects("$lambda x: x > 200", MG_DTYPE_I8, -1), "int8 wraps");
	/* torch: int32 [-1294967296] == 3000000000 is true */
	CHECK(selects("$lambda x: x == 3000000000", MG_DTYPE_I32, -1294967296.0), "int32 wraps");
	/* torch: int32 16777217 > 16777216.5 is false, == 16777216.0 true (float32) */
	CHECK(!selects("$lambda x: x > 16777216.5", MG_DTYPE_I32, 16777217) &&
	      selects("$lambda x: x == 16777216.0", MG_DTYPE_I32, 16777217) &&
	      selects("$lambda x: x > 16777216", MG_DTYPE_I32, 16777217), "int32 vs float32");
	/* torch: int64 2^40 + 1 > 2.0 ** 40 is false (float32) */
	CHECK(!selects("$lambda x: x > 1099511627776.0", MG_DTYPE_I64, 1099511627777.0),
	      "int64 vs a float literal");
	/* torch: float32 0.1 > 0.1 false, == 0.1 true; float64 the same */
	float f = 0.1f;
	CHECK(!selects("$lambda x: x > 0.1", MG_DTYPE_F32, f) &&
	      selects("$lambda x: x == 0.1", MG_DTYPE_F32, f) &&
	      selects("$lambda x: x == 0.1", MG_DTYPE_F64, 0.1), "float: t in the image's dtype");
	/* torch: float32 16777216 == 16777217 is true */
	CHECK(selects("$lambda x: x == 16777217", MG_DTYPE_F32, 16777216), "float32, int t");
	/* torch: float16 and bfloat16 tensors of 0.1 == 0.1 are true */
	CHECK(selects("$lambda x: x == 0.1", MG_DTYPE_F16, 0.0999755859375) &&
	      selects("$lambda x: x == 0.1", MG_DTYPE_BF16, 0.10009765625), "half floats");
	/* torch: nan > 0 false, nan != 0 true, nan == 0 false */
	CHECK(!selects("$lambda x: x > 0", MG_DTYPE_F32, NAN) &&
	      selects("$lambda x: x != 0", MG_DTYPE_F32, NAN) &&
	      !selects("$lambda x: x == 0", MG_DTYPE_F32, NAN) &&
	      !selects(NULL, MG_DTYPE_F64, NAN), "NaN");
}

int main(void)
{
	test_grammar();
	test_dtypes();
	return check_done();
}
