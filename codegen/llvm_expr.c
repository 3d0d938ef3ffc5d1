/* llvm_expr.c: one kernel IR node as LLVM instructions, at the body's width (every value
 * is a <W x T> vector, W = 1 in the remainder loop): arithmetic, compares, selects, casts,
 * Philox, libm calls. Memory (LOADAT, LOAD) is llvm_emit.c's.
 * Invariant: each node gives exactly what the interpreter (ir/kir_eval.c) gives: one IEEE
 * rounding per float node, no fast-math flags, integer division made total (0 for a zero
 * divisor), casts saturating with NaN -> 0.
 * Read next: llvm_emit.c. */
#include <string.h>

#include "llvm_int.h"

/* ---- types and constants ------------------------------------------------------------- */

static int is_float(int t) { return t < MG_DTYPE_COUNT && mg_dtype_is_float(t); }

static int is_signed(int t)
{
	return t == MG_DTYPE_I8 || t == MG_DTYPE_I16 || t == MG_DTYPE_I32 || t == MG_DTYPE_I64;
}

static int int_bits(int t) { return t == MG_KT_BOOL ? 1 : (int)mg_dtype_size(t) * 8; }

/* The range of an integer IR type. */
static void int_range(int t, int64_t *lo, int64_t *hi)
{
	int bits = int_bits(t);
	if (t == MG_KT_BOOL) {
		*lo = 0, *hi = 1;
	} else if (is_signed(t)) {
		*hi = bits == 64 ? INT64_MAX : (int64_t)((UINT64_C(1) << (bits - 1)) - 1);
		*lo = -*hi - 1;
	} else {
		*lo = 0, *hi = (int64_t)((UINT64_C(1) << bits) - 1);
	}
}

LLVMTypeRef mg_llvm_elem_type(struct mg_llvm_emit *em, int type)
{
	switch (type) {
	case MG_DTYPE_U8: case MG_DTYPE_I8: return em->i8;
	case MG_DTYPE_U16: case MG_DTYPE_I16: case MG_DTYPE_BF16: return em->i16;
	case MG_DTYPE_U32: case MG_DTYPE_I32: return em->i32;
	case MG_DTYPE_I64: return em->i64;
	case MG_DTYPE_F16: return em->f16;
	case MG_DTYPE_F32: return em->f32;
	case MG_DTYPE_F64: return em->f64;
	default: return em->i1;
	}
}

LLVMTypeRef mg_llvm_vec(struct mg_llvm_emit *em, LLVMTypeRef t)
{
	return LLVMVectorType(t, (unsigned)em->width);
}

static LLVMValueRef const_splat(struct mg_llvm_emit *em, LLVMValueRef c)
{
	LLVMValueRef lanes[64];
	for (int i = 0; i < em->width; i++)
		lanes[i] = c;
	return LLVMConstVector(lanes, (unsigned)em->width);
}

LLVMValueRef mg_llvm_splat(struct mg_llvm_emit *em, LLVMValueRef scalar)
{
	LLVMTypeRef vt = mg_llvm_vec(em, LLVMTypeOf(scalar));
	LLVMValueRef v = LLVMBuildInsertElement(em->b, LLVMGetUndef(vt), scalar,
						LLVMConstInt(em->i32, 0, 0), "");
	return LLVMBuildShuffleVector(em->b, v, LLVMGetUndef(vt),
				      LLVMConstNull(mg_llvm_vec(em, em->i32)), "");
}

static LLVMValueRef cint(struct mg_llvm_emit *em, LLVMTypeRef t, int64_t v)
{
	return const_splat(em, LLVMConstInt(t, (unsigned long long)v, 1));
}

static LLVMValueRef cfloat(struct mg_llvm_emit *em, LLVMTypeRef t, double v)
{
	return const_splat(em, LLVMConstReal(t, v));
}

/* CONST, rounded or saturated as the interpreter's CAST from f64 does: f16/bf16 through
 * f32; integers (integral, |f| <= 2^53: mg_kir_verify) clamped to the type's range. */
static LLVMValueRef const_node(struct mg_llvm_emit *em, int type, double f)
{
	switch (type) {
	case MG_KT_BOOL: return cint(em, em->i1, f != 0);
	case MG_DTYPE_F32: return cfloat(em, em->f32, (float)f);
	case MG_DTYPE_F64: return cfloat(em, em->f64, f);
	case MG_DTYPE_BF16: return cint(em, em->i16, mg_f32_to_bf16((float)f));
	case MG_DTYPE_F16:
		return const_splat(em, LLVMConstBitCast(LLVMConstInt(em->i16, mg_f32_to_f16((float)f), 0),
							em->f16));
	default: {
		int64_t lo, hi;
		int_range(type, &lo, &hi);
		return cint(em, mg_llvm_elem_type(em, type), f < (double)lo ? lo : f > (double)hi ? hi : (int64_t)f);
	}
	}
}

LLVMValueRef mg_llvm_intrinsic(struct mg_llvm_emit *em, const char *name, LLVMTypeRef *over,
			       int nover, LLVMValueRef *args, int nargs)
{
	unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(em->mod, id, over, (size_t)nover);
	LLVMTypeRef ft = LLVMIntrinsicGetType(em->ctx, id, over, (size_t)nover);
	return LLVMBuildCall2(em->b, ft, fn, args, (unsigned)nargs, "");
}

static LLVMValueRef unary_intrinsic(struct mg_llvm_emit *em, const char *name, LLVMValueRef v)
{
	LLVMTypeRef t = LLVMTypeOf(v);
	return mg_llvm_intrinsic(em, name, &t, 1, &v, 1);
}

/* ---- casts ------------------------------------------------------------------------- */

/* An integer of type from as a float of type to (F32 or F64): one rounding, as C's. */
static LLVMValueRef int_to_float(struct mg_llvm_emit *em, LLVMValueRef v, int from, int to)
{
	LLVMTypeRef tv = mg_llvm_vec(em, mg_llvm_elem_type(em, to));
	return is_signed(from) ? LLVMBuildSIToFP(em->b, v, tv, "") : LLVMBuildUIToFP(em->b, v, tv, "");
}

/* A float (F32 or F64) to an integer type: truncate toward zero, saturate, NaN -> 0:
 * exactly llvm.fpto[su]i.sat. */
static LLVMValueRef float_to_int(struct mg_llvm_emit *em, LLVMValueRef v, int to)
{
	LLVMTypeRef tys[2] = {mg_llvm_vec(em, mg_llvm_elem_type(em, to)), LLVMTypeOf(v)};
	return mg_llvm_intrinsic(em, is_signed(to) ? "llvm.fptosi.sat" : "llvm.fptoui.sat", tys, 2, &v, 1);
}

/* Integer to integer, saturating: clamp in the source type at the destination's bounds
 * that lie inside the source's range, then truncate or extend. */
static LLVMValueRef int_to_int(struct mg_llvm_emit *em, LLVMValueRef v, int from, int to)
{
	int64_t slo, shi, dlo, dhi;
	int_range(from, &slo, &shi);
	int_range(to, &dlo, &dhi);
	LLVMTypeRef st = mg_llvm_elem_type(em, from), dt = mg_llvm_vec(em, mg_llvm_elem_type(em, to));
	int s = is_signed(from);
	if (dlo > slo) {
		LLVMValueRef c = cint(em, st, dlo);
		v = LLVMBuildSelect(em->b, LLVMBuildICmp(em->b, s ? LLVMIntSLT : LLVMIntULT, v, c, ""),
				    c, v, "");
	}
	if (dhi < shi) {
		LLVMValueRef c = cint(em, st, dhi);
		v = LLVMBuildSelect(em->b, LLVMBuildICmp(em->b, s ? LLVMIntSGT : LLVMIntUGT, v, c, ""),
				    c, v, "");
	}
	int sb = int_bits(from), db = int_bits(to);
	if (db < sb)
		return LLVMBuildTrunc(em->b, v, dt, "");
	if (db > sb)
		return s ? LLVMBuildSExt(em->b, v, dt, "") : LLVMBuildZExt(em->b, v, dt, "");
	return v;
}

/* f32 to bf16 bits, round to nearest even, NaN kept quiet: mg_f32_to_bf16 exactly. */
static LLVMValueRef f32_to_bf16(struct mg_llvm_emit *em, LLVMValueRef v)
{
	LLVMBuilderRef b = em->b;
	LLVMValueRef x = LLVMBuildBitCast(b, v, mg_llvm_vec(em, em->i32), "");
	LLVMValueRef hi = LLVMBuildLShr(b, x, cint(em, em->i32, 16), "");
	LLVMValueRef nan = LLVMBuildICmp(b, LLVMIntUGT,
					 LLVMBuildAnd(b, x, cint(em, em->i32, 0x7fffffff), ""),
					 cint(em, em->i32, 0x7f800000), "");
	LLVMValueRef round = LLVMBuildAdd(b, cint(em, em->i32, 0x7fff),
					  LLVMBuildAnd(b, hi, cint(em, em->i32, 1), ""), "");
	LLVMValueRef r = LLVMBuildLShr(b, LLVMBuildAdd(b, x, round, ""), cint(em, em->i32, 16), "");
	r = LLVMBuildSelect(b, nan, LLVMBuildOr(b, hi, cint(em, em->i32, 0x40), ""), r, "");
	return LLVMBuildTrunc(b, r, mg_llvm_vec(em, em->i16), "");
}

/* Any non-storage float or integer to f32 (the way into f16 and bf16). */
static LLVMValueRef to_f32(struct mg_llvm_emit *em, LLVMValueRef v, int from)
{
	if (from == MG_DTYPE_F32)
		return v;
	if (from == MG_DTYPE_F64)
		return LLVMBuildFPTrunc(em->b, v, mg_llvm_vec(em, em->f32), "");
	return int_to_float(em, v, from, MG_DTYPE_F32);
}

LLVMValueRef mg_llvm_cast(struct mg_llvm_emit *em, LLVMValueRef v, int from, int to)
{
	LLVMBuilderRef b = em->b;
	if (from == to)
		return v;
	/* Storage types and BOOL first become f32 and u8: exact, and fewer cases below. */
	if (from == MG_DTYPE_F16) {
		v = LLVMBuildFPExt(b, v, mg_llvm_vec(em, em->f32), "");
		from = MG_DTYPE_F32;
	} else if (from == MG_DTYPE_BF16) {
		v = LLVMBuildShl(b, LLVMBuildZExt(b, v, mg_llvm_vec(em, em->i32), ""),
				 cint(em, em->i32, 16), "");
		v = LLVMBuildBitCast(b, v, mg_llvm_vec(em, em->f32), "");
		from = MG_DTYPE_F32;
	} else if (from == MG_KT_BOOL) {
		v = LLVMBuildZExt(b, v, mg_llvm_vec(em, em->i8), "");
		from = MG_DTYPE_U8;
	}
	if (from == to)
		return v;
	if (to == MG_KT_BOOL) { /* x != 0, NaN included */
		LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(v));
		return is_float(from) ? LLVMBuildFCmp(b, LLVMRealUNE, v, zero, "")
				      : LLVMBuildICmp(b, LLVMIntNE, v, zero, "");
	}
	if (to == MG_DTYPE_F16) /* from f64 through f32, as mg_dtype_store */
		return LLVMBuildFPTrunc(b, to_f32(em, v, from), mg_llvm_vec(em, em->f16), "");
	if (to == MG_DTYPE_BF16)
		return f32_to_bf16(em, to_f32(em, v, from));
	if (is_float(to)) {
		if (!is_float(from))
			return int_to_float(em, v, from, to);
		LLVMTypeRef tv = mg_llvm_vec(em, mg_llvm_elem_type(em, to));
		return to == MG_DTYPE_F64 ? LLVMBuildFPExt(b, v, tv, "") : LLVMBuildFPTrunc(b, v, tv, "");
	}
	return is_float(from) ? float_to_int(em, v, to) : int_to_int(em, v, from, to);
}

/* ---- arithmetic ---------------------------------------------------------------------- */

/* DIV or REM on integers, total: a zero divisor gives 0; INT_MIN / -1 wraps (to INT_MIN,
 * remainder 0) as the interpreter's int64 division wrapped to the type, except in i64
 * where it gives 0 (kir_eval.c). The divisor is made 1 where it would trap. */
static LLVMValueRef int_divrem(struct mg_llvm_emit *em, int rem, int type, LLVMValueRef a,
			       LLVMValueRef d)
{
	LLVMBuilderRef b = em->b;
	LLVMTypeRef t = mg_llvm_elem_type(em, type);
	LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(a));
	LLVMValueRef by0 = LLVMBuildICmp(b, LLVMIntEQ, d, zero, ""), trap = by0;
	if (is_signed(type)) {
		int64_t lo, hi;
		int_range(type, &lo, &hi);
		LLVMValueRef ov = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntEQ, a, cint(em, t, lo), ""),
				  LLVMBuildICmp(b, LLVMIntEQ, d, cint(em, t, -1), ""), "");
		trap = LLVMBuildOr(b, by0, ov, "");
	}
	LLVMValueRef safe = LLVMBuildSelect(b, trap, cint(em, t, 1), d, "");
	LLVMValueRef r = is_signed(type)
			 ? (rem ? LLVMBuildSRem(b, a, safe, "") : LLVMBuildSDiv(b, a, safe, ""))
			 : (rem ? LLVMBuildURem(b, a, safe, "") : LLVMBuildUDiv(b, a, safe, ""));
	if (type == MG_DTYPE_I64 && !rem)
		by0 = trap;
	return LLVMBuildSelect(b, by0, zero, r, "");
}

/* Lanes first..first+n-1 of v (n may exceed v's lanes when concatenating with w). */
static LLVMValueRef lanes_of(struct mg_llvm_emit *em, LLVMValueRef v, LLVMValueRef w, int first, int n)
{
	LLVMValueRef idx[64];
	for (int i = 0; i < n; i++)
		idx[i] = LLVMConstInt(em->i32, (unsigned)(first + i), 0);
	return LLVMBuildShuffleVector(em->b, v, w ? w : LLVMGetUndef(LLVMTypeOf(v)),
				      LLVMConstVector(idx, (unsigned)n), "");
}

/* EXP or LOG: glibc's libmvec on full registers where it is loaded (the ISA letter and
 * the lane count name the variant: _ZGVeN16v_expf, _ZGVeN8v_exp; f64 at the main width
 * is two registers), else the llvm.exp/llvm.log intrinsic (libm calls). */
static LLVMValueRef math_fn(struct mg_llvm_emit *em, const char *fn, int type, LLVMValueRef v)
{
	int f32 = type == MG_DTYPE_F32, lanes = em->target->vec_bits / (f32 ? 32 : 64);
	char name[32];
	if (!em->target->isa || (em->width != lanes && em->width != 2 * lanes)) {
		snprintf(name, sizeof name, "llvm.%s", fn);
		return unary_intrinsic(em, name, v);
	}
	snprintf(name, sizeof name, "_ZGV%cN%dv_%s%s", em->target->isa, lanes, fn, f32 ? "f" : "");
	LLVMTypeRef ct = LLVMVectorType(f32 ? em->f32 : em->f64, (unsigned)lanes);
	LLVMTypeRef ft = LLVMFunctionType(ct, &ct, 1, 0);
	LLVMValueRef callee = LLVMGetNamedFunction(em->mod, name);
	if (!callee)
		callee = LLVMAddFunction(em->mod, name, ft);
	if (em->width == lanes)
		return LLVMBuildCall2(em->b, ft, callee, &v, 1, "");
	LLVMValueRef lo = lanes_of(em, v, NULL, 0, lanes), hi = lanes_of(em, v, NULL, lanes, lanes);
	lo = LLVMBuildCall2(em->b, ft, callee, &lo, 1, "");
	hi = LLVMBuildCall2(em->b, ft, callee, &hi, 1, "");
	return lanes_of(em, lo, hi, 0, 2 * lanes);
}

/* LIBM: the C library's double fn(double), declared in the module (the JIT resolves it
 * in the process, an object file links it with -lm) and called once per lane, so every
 * lane is bit for bit what the interpreter's (and a reference kernel's) call gives. */
static LLVMValueRef libm_call(struct mg_llvm_emit *em, int fn, LLVMValueRef v)
{
	const char *name = mg_klibm_name(fn);
	LLVMTypeRef ft = LLVMFunctionType(em->f64, &em->f64, 1, 0);
	LLVMValueRef callee = LLVMGetNamedFunction(em->mod, name);
	if (!callee)
		callee = LLVMAddFunction(em->mod, name, ft);
	LLVMValueRef r = LLVMGetUndef(LLVMTypeOf(v));
	for (int i = 0; i < em->width; i++) {
		LLVMValueRef lane = LLVMConstInt(em->i32, (unsigned)i, 0);
		LLVMValueRef x = LLVMBuildExtractElement(em->b, v, lane, "");
		x = LLVMBuildCall2(em->b, ft, callee, &x, 1, "");
		r = LLVMBuildInsertElement(em->b, r, x, lane, "");
	}
	return r;
}

static LLVMValueRef compare(struct mg_llvm_emit *em, int op, int type, LLVMValueRef a, LLVMValueRef b)
{
	static const LLVMRealPredicate fp[] = {LLVMRealOLT, LLVMRealOLE, LLVMRealOGT,
					       LLVMRealOGE, LLVMRealOEQ, LLVMRealUNE};
	static const LLVMIntPredicate sp[] = {LLVMIntSLT, LLVMIntSLE, LLVMIntSGT,
					      LLVMIntSGE, LLVMIntEQ, LLVMIntNE};
	static const LLVMIntPredicate up[] = {LLVMIntULT, LLVMIntULE, LLVMIntUGT,
					      LLVMIntUGE, LLVMIntEQ, LLVMIntNE};
	int i = op - MG_KOP_LT; /* never f16/bf16 (storage types): mg_kir_verify */
	if (is_float(type))
		return LLVMBuildFCmp(em->b, fp[i], a, b, "");
	return LLVMBuildICmp(em->b, is_signed(type) ? sp[i] : up[i], a, b, "");
}

/* Philox4x32-10 (runtime/philox.c): counter (lo, hi, 0, 0) from the I64 counter, key
 * (lo, hi) from the I64 key; the U32 word w. */
static LLVMValueRef philox(struct mg_llvm_emit *em, LLVMValueRef ctr, LLVMValueRef key, int w)
{
	LLVMBuilderRef b = em->b;
	LLVMTypeRef v32 = mg_llvm_vec(em, em->i32), v64 = mg_llvm_vec(em, em->i64);
	LLVMValueRef s32 = cint(em, em->i64, 32);
	LLVMValueRef c[4] = {LLVMBuildTrunc(b, ctr, v32, ""),
			     LLVMBuildTrunc(b, LLVMBuildLShr(b, ctr, s32, ""), v32, ""),
			     cint(em, em->i32, 0), cint(em, em->i32, 0)};
	LLVMValueRef k0 = LLVMBuildTrunc(b, key, v32, "");
	LLVMValueRef k1 = LLVMBuildTrunc(b, LLVMBuildLShr(b, key, s32, ""), v32, "");
	LLVMValueRef m0 = cint(em, em->i64, 0xD2511F53), m1 = cint(em, em->i64, 0xCD9E8D57);
	for (int r = 0; r < 10; r++) {
		LLVMValueRef p0 = LLVMBuildMul(b, LLVMBuildZExt(b, c[0], v64, ""), m0, "");
		LLVMValueRef p1 = LLVMBuildMul(b, LLVMBuildZExt(b, c[2], v64, ""), m1, "");
		LLVMValueRef hi0 = LLVMBuildTrunc(b, LLVMBuildLShr(b, p0, s32, ""), v32, "");
		LLVMValueRef hi1 = LLVMBuildTrunc(b, LLVMBuildLShr(b, p1, s32, ""), v32, "");
		LLVMValueRef n0 = LLVMBuildXor(b, LLVMBuildXor(b, hi1, c[1], ""), k0, "");
		LLVMValueRef n2 = LLVMBuildXor(b, LLVMBuildXor(b, hi0, c[3], ""), k1, "");
		c[1] = LLVMBuildTrunc(b, p1, v32, "");
		c[3] = LLVMBuildTrunc(b, p0, v32, "");
		c[0] = n0;
		c[2] = n2;
		k0 = LLVMBuildAdd(b, k0, cint(em, em->i32, 0x9E3779B9), "");
		k1 = LLVMBuildAdd(b, k1, cint(em, em->i32, 0xBB67AE85), "");
	}
	return c[w & 3];
}

LLVMValueRef mg_llvm_iota(struct mg_llvm_emit *em)
{
	LLVMValueRef lanes[64];
	for (int i = 0; i < em->width; i++)
		lanes[i] = LLVMConstInt(em->i64, (unsigned)i, 0);
	return LLVMConstVector(lanes, (unsigned)em->width);
}

static LLVMValueRef index_node(struct mg_llvm_emit *em, int axis)
{
	if (axis != em->inner)
		return mg_llvm_splat(em, LLVMBuildLoad2(em->b, em->i64, em->idx[axis], ""));
	return LLVMBuildAdd(em->b, mg_llvm_splat(em, em->j), mg_llvm_iota(em), "");
}

LLVMValueRef mg_llvm_expr(struct mg_llvm_emit *em, int node)
{
	const struct mg_knode *n = &em->k->nodes[node];
	LLVMBuilderRef b = em->b;
	LLVMValueRef a = n->a >= 0 && n->op > MG_KOP_LOADAT ? em->val[n->a] : NULL;
	LLVMValueRef y = n->b >= 0 && n->op > MG_KOP_LOADAT ? em->val[n->b] : NULL;
	int type = n->type, fl = is_float(type), sg = is_signed(type);
	switch ((enum mg_kop)n->op) {
	case MG_KOP_CONST: return const_node(em, type, n->f);
	case MG_KOP_PARAM: return mg_llvm_cast(em, mg_llvm_splat(em, em->param[n->i]), MG_DTYPE_F64, type);
	case MG_KOP_INDEX: return index_node(em, (int)n->i);
	case MG_KOP_DIM: return mg_llvm_splat(em, em->dim[n->i][n->j]);
	case MG_KOP_STRIDE: return mg_llvm_splat(em, em->stride[n->i][n->j]);
	case MG_KOP_ADD: return fl ? LLVMBuildFAdd(b, a, y, "") : LLVMBuildAdd(b, a, y, "");
	case MG_KOP_SUB: return fl ? LLVMBuildFSub(b, a, y, "") : LLVMBuildSub(b, a, y, "");
	case MG_KOP_MUL: return fl ? LLVMBuildFMul(b, a, y, "") : LLVMBuildMul(b, a, y, "");
	case MG_KOP_DIV: return fl ? LLVMBuildFDiv(b, a, y, "") : int_divrem(em, 0, type, a, y);
	case MG_KOP_REM: return int_divrem(em, 1, type, a, y); /* integers only */
	case MG_KOP_MIN: return LLVMBuildSelect(b, compare(em, MG_KOP_LT, type, a, y), a, y, "");
	case MG_KOP_MAX: return LLVMBuildSelect(b, compare(em, MG_KOP_GT, type, a, y), a, y, "");
	case MG_KOP_NEG: return fl ? LLVMBuildFNeg(b, a, "") : LLVMBuildNeg(b, a, "");
	case MG_KOP_ABS:
		if (fl)
			return unary_intrinsic(em, "llvm.fabs", a);
		if (!sg)
			return a;
		return LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, a, LLVMConstNull(LLVMTypeOf(a)), ""),
				       LLVMBuildNeg(b, a, ""), a, "");
	case MG_KOP_SQRT: return unary_intrinsic(em, "llvm.sqrt", a);
	case MG_KOP_EXP: return math_fn(em, "exp", type, a);
	case MG_KOP_LOG: return math_fn(em, "log", type, a);
	case MG_KOP_FLOOR: return unary_intrinsic(em, "llvm.floor", a); /* floats only */
	case MG_KOP_CEIL: return unary_intrinsic(em, "llvm.ceil", a);
	case MG_KOP_RINT: return unary_intrinsic(em, "llvm.rint", a);
	case MG_KOP_TRUNC: return unary_intrinsic(em, "llvm.trunc", a);
	case MG_KOP_LT: case MG_KOP_LE: case MG_KOP_GT: case MG_KOP_GE: case MG_KOP_EQ: case MG_KOP_NE:
		return compare(em, n->op, em->k->nodes[n->a].type, a, y);
	case MG_KOP_AND: return LLVMBuildAnd(b, a, y, "");
	case MG_KOP_OR: return LLVMBuildOr(b, a, y, "");
	case MG_KOP_XOR: return LLVMBuildXor(b, a, y, "");
	case MG_KOP_NOT: return LLVMBuildNot(b, a, "");
	case MG_KOP_SELECT: return LLVMBuildSelect(b, a, y, em->val[n->c], "");
	case MG_KOP_CAST: return mg_llvm_cast(em, a, em->k->nodes[n->a].type, type);
	case MG_KOP_PHILOX: return philox(em, a, y, (int)n->i);
	case MG_KOP_LIBM: return libm_call(em, (int)n->i, a);
	case MG_KOP_BITCAST: return LLVMBuildBitCast(b, a, mg_llvm_vec(em, mg_llvm_elem_type(em, type)), "");
	case MG_KOP_LOADAT: case MG_KOP_LOAD: case MG_KOP_COUNT: break;
	}
	return NULL; /* memory is llvm_emit.c's */
}
