/* llvm_emit.c: one struct mg_kir rendered into one LLVM function of the mg_kfn type:
 * the row loop over [lo, hi) (outer axes in loop order, an odometer of indices), and per
 * row the innermost axis in three loops made by ONE body emitter at two widths: W lanes
 * with contiguous vector loads and stores (every addressed tensor has inner stride 1:
 * computed once per call, a predictable branch per row), W lanes with gathers and
 * scatters (any strides), and 1 lane for the remainder. Reductions keep one f64
 * accumulator vector per width, folded into acc[] when the slice ends.
 * Invariant: the generated code reads sizes, strides and parameters from the argument
 * block at run time; nothing of a call is baked in (one kernel serves every item).
 * Read next: llvm_expr.c (the nodes), jit.c and llvm_object.c (the callers). */
#include <stddef.h>
#include <stdlib.h>

#include <llvm-c/DebugInfo.h>

#include "llvm_int.h"

static const int op_arity[] = {
#define X(e, n, name) n,
	MG_KOPS(X)
#undef X
};

/* A field of the argument block (struct mg_kargs) at byte offset off, of type t. */
static LLVMValueRef arg_field(struct mg_llvm_emit *em, size_t off, LLVMTypeRef t)
{
	LLVMValueRef base = LLVMGetParam(em->fn, 0);
	LLVMValueRef c = LLVMConstInt(em->i64, off, 0);
	LLVMValueRef p = LLVMBuildInBoundsGEP2(em->b, em->i8, base, &c, 1, "");
	p = LLVMBuildBitCast(em->b, p, LLVMPointerType(t, 0), "");
	return LLVMBuildLoad2(em->b, t, p, "");
}

#define KARG_T(i, field) (offsetof(struct mg_kargs, t) + (size_t)(i) * sizeof(struct mg_ktensor) + \
			  offsetof(struct mg_ktensor, field))

static LLVMValueRef inner_stride(struct mg_llvm_emit *em, int t) { return em->stride[t][em->inner]; }

static LLVMValueRef all_true(struct mg_llvm_emit *em)
{
	return LLVMConstAllOnes(mg_llvm_vec(em, em->i1));
}

/* Where tensor t's elements at the row's inner indices j .. j+W-1 are: one pointer to a
 * vector when they are adjacent (or W = 1), else a vector of pointers (*scattered). */
static LLVMValueRef element_address(struct mg_llvm_emit *em, int t, LLVMTypeRef et, int *scattered)
{
	LLVMBuilderRef b = em->b;
	*scattered = !em->contig && em->width > 1;
	if (!*scattered) {
		LLVMValueRef step = em->contig ? em->j : LLVMBuildMul(b, em->j, inner_stride(em, t), "");
		LLVMValueRef off = LLVMBuildAdd(b, em->rowoff[t], step, "");
		LLVMValueRef p = LLVMBuildInBoundsGEP2(b, et, em->data[t], &off, 1, "");
		return LLVMBuildBitCast(b, p, LLVMPointerType(mg_llvm_vec(em, et), 0), "");
	}
	/* (rowoff + j * stride) + lane * stride: one scalar product per step, the vector one
	 * loop-invariant (hoisted) */
	LLVMValueRef s = inner_stride(em, t);
	LLVMValueRef first = LLVMBuildAdd(b, em->rowoff[t], LLVMBuildMul(b, em->j, s, ""), "");
	LLVMValueRef off = LLVMBuildAdd(b, mg_llvm_splat(em, first),
					LLVMBuildMul(b, mg_llvm_iota(em), mg_llvm_splat(em, s), ""), "");
	return LLVMBuildInBoundsGEP2(b, et, em->data[t], &off, 1, "");
}

static unsigned elem_align(int dtype) { return (unsigned)mg_dtype_size(dtype); }

/* LOADAT: tensor t at the output index. */
static LLVMValueRef load_at(struct mg_llvm_emit *em, int t)
{
	int dt = em->k->tensor[t].dtype, scattered;
	LLVMTypeRef et = mg_llvm_elem_type(em, dt);
	LLVMValueRef p = element_address(em, t, et, &scattered);
	if (scattered) {
		LLVMTypeRef over[2] = {mg_llvm_vec(em, et), LLVMTypeOf(p)};
		LLVMValueRef args[4] = {p, LLVMConstInt(em->i32, elem_align(dt), 0), all_true(em),
					LLVMGetUndef(mg_llvm_vec(em, et))};
		return mg_llvm_intrinsic(em, "llvm.masked.gather", over, 2, args, 4);
	}
	LLVMValueRef v = LLVMBuildLoad2(em->b, mg_llvm_vec(em, et), p, "");
	LLVMSetAlignment(v, elem_align(dt));
	return v;
}

/* LOAD: tensor t at element offsets off where mask (NULL: everywhere), 0 elsewhere. */
static LLVMValueRef load_offset(struct mg_llvm_emit *em, int t, LLVMValueRef off, LLVMValueRef mask)
{
	int dt = em->k->tensor[t].dtype;
	LLVMTypeRef et = mg_llvm_elem_type(em, dt);
	LLVMValueRef p = LLVMBuildInBoundsGEP2(em->b, et, em->data[t], &off, 1, "");
	LLVMTypeRef over[2] = {mg_llvm_vec(em, et), LLVMTypeOf(p)};
	LLVMValueRef args[4] = {p, LLVMConstInt(em->i32, elem_align(dt), 0), mask ? mask : all_true(em),
				LLVMConstNull(mg_llvm_vec(em, et))};
	return mg_llvm_intrinsic(em, "llvm.masked.gather", over, 2, args, 4);
}

static void store_at(struct mg_llvm_emit *em, LLVMValueRef v)
{
	int dt = em->k->tensor[0].dtype, scattered;
	LLVMTypeRef et = mg_llvm_elem_type(em, dt);
	LLVMValueRef p = element_address(em, 0, et, &scattered);
	if (scattered) {
		LLVMTypeRef over[2] = {mg_llvm_vec(em, et), LLVMTypeOf(p)};
		LLVMValueRef args[4] = {v, p, LLVMConstInt(em->i32, elem_align(dt), 0), all_true(em)};
		mg_llvm_intrinsic(em, "llvm.masked.scatter", over, 2, args, 4);
		return;
	}
	LLVMSetAlignment(LLVMBuildStore(em->b, v, p), elem_align(dt));
}

/* acc combined with v (f64, any width) as mg_kred_combine: MIN/MAX propagate NaN. */
static LLVMValueRef red_fold(struct mg_llvm_emit *em, enum mg_kred kind, LLVMValueRef acc,
			     LLVMValueRef v)
{
	LLVMBuilderRef b = em->b;
	if (kind == MG_KRED_SUM)
		return LLVMBuildFAdd(b, acc, v, "");
	LLVMValueRef better = LLVMBuildFCmp(b, kind == MG_KRED_MIN ? LLVMRealOLT : LLVMRealOGT, v, acc, "");
	LLVMValueRef m = LLVMBuildSelect(b, better, v, acc, "");
	return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealUNO, v, v, ""), v, m, "");
}

/* Histogram r's counts of this body's lanes: when any lane counts (mask true, bin in
 * range), each lane adds 1 to its bin in the slice's acc, or 0 to the histogram's own
 * slot (which so stays 0): no branch per lane, one per vector, mostly not taken where
 * the mask is rare. */
static void hist_count(struct mg_llvm_emit *em, int r)
{
	const struct mg_kir *k = em->k;
	LLVMBuilderRef b = em->b;
	LLVMValueRef bin = em->val[k->red[r].value];
	LLVMValueRef in = LLVMBuildICmp(b, LLVMIntULT, bin, mg_llvm_splat(em,
		LLVMConstInt(em->i64, (unsigned long long)k->info.bins[r], 0)), "");
	if (k->red[r].mask >= 0)
		in = LLVMBuildAnd(b, in, em->val[k->red[r].mask], "");
	LLVMValueRef any = LLVMBuildICmp(b, LLVMIntNE,
		LLVMBuildBitCast(b, in, LLVMIntTypeInContext(em->ctx, (unsigned)em->width), ""),
		LLVMConstInt(LLVMIntTypeInContext(em->ctx, (unsigned)em->width), 0, 0), "");
	LLVMBasicBlockRef count = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "hist");
	LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "histnext");
	LLVMBuildCondBr(b, any, count, next);
	LLVMPositionBuilderAtEnd(b, count);
	LLVMValueRef at = LLVMConstInt(em->i64, (unsigned long long)mg_kinfo_bins_at(&k->info, r), 0);
	LLVMValueRef own = LLVMConstInt(em->i64, (unsigned)r, 0);
	for (int l = 0; l < em->width; l++) {
		LLVMValueRef lane = LLVMConstInt(em->i32, (unsigned)l, 0);
		LLVMValueRef c = LLVMBuildExtractElement(b, in, lane, "");
		LLVMValueRef i = LLVMBuildSelect(b, c, LLVMBuildAdd(b, at,
			LLVMBuildExtractElement(b, bin, lane, ""), ""), own, "");
		LLVMValueRef p = LLVMBuildInBoundsGEP2(b, em->f64, LLVMGetParam(em->fn, 3), &i, 1, "");
		LLVMValueRef one = LLVMBuildSelect(b, c, LLVMConstReal(em->f64, 1), LLVMConstReal(em->f64, 0), "");
		LLVMBuildStore(b, LLVMBuildFAdd(b, LLVMBuildLoad2(b, em->f64, p, ""), one, ""), p);
	}
	LLVMBuildBr(b, next);
	LLVMPositionBuilderAtEnd(b, next);
}

/* The body at em->width: every live node, the store, the reductions into accs. */
static void emit_body(struct mg_llvm_emit *em, LLVMValueRef *accs)
{
	const struct mg_kir *k = em->k;
	for (int i = 0; i < k->nnodes; i++) {
		if (!em->live[i])
			continue;
		const struct mg_knode *n = &k->nodes[i];
		if (n->op == MG_KOP_LOADAT)
			em->val[i] = load_at(em, (int)n->i);
		else if (n->op == MG_KOP_LOAD)
			em->val[i] = load_offset(em, (int)n->i, em->val[n->a], n->b >= 0 ? em->val[n->b] : NULL);
		else
			em->val[i] = mg_llvm_expr(em, i);
	}
	if (k->store >= 0)
		store_at(em, em->val[k->store]);
	for (int r = 0; r < k->info.nred; r++) {
		if (k->red[r].kind == MG_KRED_HIST) {
			hist_count(em, r);
			continue;
		}
		LLVMTypeRef vt = mg_llvm_vec(em, em->f64);
		LLVMValueRef acc = LLVMBuildLoad2(em->b, vt, accs[r], "");
		LLVMValueRef v = red_fold(em, k->red[r].kind, acc, em->val[k->red[r].value]);
		if (k->red[r].mask >= 0)
			v = LLVMBuildSelect(em->b, em->val[k->red[r].mask], v, acc, "");
		LLVMBuildStore(em->b, v, accs[r]);
	}
}

/* Marks the loop whose latch is br as not to be unrolled: the row loop (unrolling it
 * copies every inner loop) and the remainder loop (fewer than W trips) would cost compile
 * time for nothing. Loop IDs refer to themselves, hence the temporary node. */
static void no_unroll(struct mg_llvm_emit *em, LLVMValueRef br)
{
	LLVMMetadataRef s = LLVMMDStringInContext2(em->ctx, "llvm.loop.unroll.disable", 24);
	LLVMMetadataRef tmp = LLVMTemporaryMDNode(em->ctx, NULL, 0);
	LLVMMetadataRef ops[2] = {tmp, LLVMMDNodeInContext2(em->ctx, &s, 1)};
	LLVMMetadataRef id = LLVMMDNodeInContext2(em->ctx, ops, 2);
	LLVMMetadataReplaceAllUsesWith(tmp, id);
	LLVMSetMetadata(br, LLVMGetMDKindIDInContext(em->ctx, "llvm.loop", 9),
			LLVMMetadataAsValue(em->ctx, id));
}

/* for (; j + width <= n; j += width) body: blocks appended before `after`. */
static void emit_inner_loop(struct mg_llvm_emit *em, LLVMValueRef jvar, LLVMValueRef n,
			    LLVMValueRef *accs, LLVMBasicBlockRef after)
{
	LLVMBuilderRef b = em->b;
	LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "inner");
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "body");
	LLVMMoveBasicBlockBefore(head, after);
	LLVMMoveBasicBlockBefore(body, after);
	LLVMBuildBr(b, head);
	LLVMPositionBuilderAtEnd(b, head);
	LLVMValueRef j = LLVMBuildLoad2(b, em->i64, jvar, "j");
	LLVMValueRef end = LLVMBuildAdd(b, j, LLVMConstInt(em->i64, (unsigned)em->width, 0), "");
	LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLE, end, n, ""), body, after);
	LLVMPositionBuilderAtEnd(b, body);
	em->j = j;
	emit_body(em, accs);
	LLVMBuildStore(b, end, jvar);
	LLVMValueRef latch = LLVMBuildBr(b, head);
	if (em->width == 1)
		no_unroll(em, latch);
	LLVMPositionBuilderAtEnd(b, after);
}

/* Marks the nodes the store and the reductions need. */
static void mark_live(struct mg_llvm_emit *em)
{
	const struct mg_kir *k = em->k;
	if (k->store >= 0)
		em->live[k->store] = 1;
	for (int r = 0; r < k->info.nred; r++) {
		em->live[k->red[r].value] = 1;
		if (k->red[r].mask >= 0)
			em->live[k->red[r].mask] = 1;
	}
	for (int i = k->nnodes - 1; i >= 0; i--) {
		const struct mg_knode *n = &k->nodes[i];
		if (!em->live[i])
			continue;
		int ops[3] = {n->a, n->b, n->c};
		for (int o = 0; o < op_arity[n->op]; o++)
			if (ops[o] >= 0)
				em->live[ops[o]] = 1;
	}
}

/* Loads, once per call, what the body reads from the argument block; returns which
 * tensors are addressed at the output index (LOADAT, the store). */
static unsigned preload(struct mg_llvm_emit *em)
{
	const struct mg_kir *k = em->k;
	unsigned addressed = k->store >= 0 ? 1u : 0u, used = addressed;
	for (int i = 0; i < k->nnodes; i++) {
		const struct mg_knode *n = &k->nodes[i];
		if (!em->live[i])
			continue;
		if (n->op == MG_KOP_LOADAT)
			addressed |= 1u << n->i;
		if (n->op == MG_KOP_LOADAT || n->op == MG_KOP_LOAD)
			used |= 1u << n->i;
		if (n->op == MG_KOP_DIM && !em->dim[n->i][n->j])
			em->dim[n->i][n->j] = arg_field(em, KARG_T(n->i, dims[n->j]), em->i64);
		if (n->op == MG_KOP_STRIDE && !em->stride[n->i][n->j])
			em->stride[n->i][n->j] = arg_field(em, KARG_T(n->i, strides[n->j]), em->i64);
		if (n->op == MG_KOP_PARAM && !em->param[n->i])
			em->param[n->i] = arg_field(em, offsetof(struct mg_kargs, p) +
							    (size_t)n->i * sizeof(double), em->f64);
	}
	for (int t = 0; t < k->ntensors; t++) {
		if (!(used >> t & 1))
			continue;
		LLVMTypeRef et = mg_llvm_elem_type(em, k->tensor[t].dtype);
		LLVMValueRef p = arg_field(em, KARG_T(t, data), LLVMPointerType(em->i8, 0));
		em->data[t] = LLVMBuildBitCast(em->b, p, LLVMPointerType(et, 0), "");
		for (int ax = 0; (addressed >> t & 1) && ax < k->info.rank; ax++)
			if (!em->stride[t][ax])
				em->stride[t][ax] = arg_field(em, KARG_T(t, strides[ax]), em->i64);
	}
	return addressed;
}

/* a (a double) folded with the lanes of reduction r's accumulators of both widths, in
 * lane order. */
static LLVMValueRef fold_lanes(struct mg_llvm_emit *em, int r, LLVMValueRef a, LLVMValueRef *vacc,
			       LLVMValueRef *sacc, int width)
{
	LLVMBuilderRef b = em->b;
	enum mg_kred kind = em->k->red[r].kind;
	LLVMValueRef vv = LLVMBuildLoad2(b, LLVMVectorType(em->f64, (unsigned)width), vacc[r], "");
	for (int i = 0; i < width; i++)
		a = red_fold(em, kind, a, LLVMBuildExtractElement(b, vv, LLVMConstInt(em->i32, (unsigned)i, 0), ""));
	LLVMValueRef sv = LLVMBuildLoad2(b, LLVMVectorType(em->f64, 1), sacc[r], "");
	return red_fold(em, kind, a, LLVMBuildExtractElement(b, sv, LLVMConstInt(em->i32, 0, 0), ""));
}

/* Reduction r's accumulators of both widths at its identity. */
static void reset_acc(struct mg_llvm_emit *em, int r, LLVMValueRef *vacc, LLVMValueRef *sacc,
		      int width)
{
	LLVMValueRef id = LLVMConstReal(em->f64, mg_kred_identity(em->k->red[r].kind));
	LLVMBuildStore(em->b, LLVMConstVector((LLVMValueRef[]){id}, 1), sacc[r]);
	int w = em->width;
	em->width = width;
	LLVMBuildStore(em->b, mg_llvm_splat(em, id), vacc[r]);
	em->width = w;
}

/* At a row's end: each per-axis reduction's row folded into acc[at + index along its
 * axis], its accumulators reset. at: mg_kinfo_per_at's offsets, computed per call. */
static void flush_row(struct mg_llvm_emit *em, LLVMValueRef *vacc, LLVMValueRef *sacc, int width,
		      LLVMValueRef *at)
{
	LLVMBuilderRef b = em->b;
	for (int r = 0; r < em->k->info.nred; r++) {
		if (!em->k->info.per[r])
			continue;
		LLVMValueRef i = LLVMBuildAdd(b, at[r], LLVMBuildLoad2(b, em->i64,
					      em->idx[em->k->info.per[r] - 1], ""), "");
		LLVMValueRef p = LLVMBuildInBoundsGEP2(b, em->f64, LLVMGetParam(em->fn, 3), &i, 1, "");
		LLVMBuildStore(b, fold_lanes(em, r, LLVMBuildLoad2(b, em->f64, p, ""), vacc, sacc, width), p);
		reset_acc(em, r, vacc, sacc, width);
	}
}

/* Fills acc[r] with the lanes of every width's accumulator, in lane order. */
static void finish_reductions(struct mg_llvm_emit *em, LLVMValueRef *vacc, LLVMValueRef *sacc,
			      int width)
{
	LLVMBuilderRef b = em->b;
	for (int r = 0; r < em->k->info.nred; r++) {
		/* histograms count in place, per-axis reductions at each row's end */
		if (em->k->red[r].kind == MG_KRED_HIST || em->k->info.per[r])
			continue;
		LLVMValueRef c = LLVMConstInt(em->i64, (unsigned)r, 0);
		LLVMValueRef p = LLVMBuildInBoundsGEP2(b, em->f64, LLVMGetParam(em->fn, 3), &c, 1, "");
		LLVMBuildStore(b, fold_lanes(em, r, LLVMBuildLoad2(b, em->f64, p, ""), vacc, sacc, width), p);
	}
}

static void emit_function(struct mg_llvm_emit *em)
{
	const struct mg_kir *k = em->k;
	LLVMBuilderRef b = em->b;
	int rank = k->info.rank, width = em->target->width;
	LLVMValueRef lo = LLVMGetParam(em->fn, 1), hi = LLVMGetParam(em->fn, 2);
	LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "entry");
	LLVMBasicBlockRef start = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "start");
	LLVMBasicBlockRef rowhead = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "row");
	LLVMBasicBlockRef rowbody = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "rowbody");
	LLVMBasicBlockRef rowend = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "rowend");
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "done");
	LLVMPositionBuilderAtEnd(b, entry);

	/* allocas first (promoted to registers by the optimizer) */
	LLVMValueRef row = LLVMBuildAlloca(b, em->i64, "row"), jvar = LLVMBuildAlloca(b, em->i64, "j");
	LLVMValueRef vacc[MG_KMAX_RED], sacc[MG_KMAX_RED];
	for (int ax = 0; ax < rank; ax++)
		em->idx[ax] = LLVMBuildAlloca(b, em->i64, "");
	for (int r = 0; r < k->info.nred; r++) {
		LLVMTypeRef vt = LLVMVectorType(em->f64, (unsigned)width), st = LLVMVectorType(em->f64, 1);
		vacc[r] = LLVMBuildAlloca(b, vt, "");
		sacc[r] = LLVMBuildAlloca(b, st, "");
		reset_acc(em, r, vacc, sacc, width);
	}
	LLVMValueRef dims[MG_KMAX_RANK], per_at[MG_KMAX_RED];
	for (int ax = 0; ax < rank; ax++)
		dims[ax] = arg_field(em, offsetof(struct mg_kargs, dims) + (size_t)ax * sizeof(int64_t), em->i64);
	/* mg_kinfo_per_at: after the scalars and the bins, each per-axis reduction's run */
	LLVMValueRef at = LLVMConstInt(em->i64, (unsigned long long)mg_kinfo_bins_at(&k->info, k->info.nred), 0);
	for (int r = 0; r < k->info.nred; r++) {
		per_at[r] = at;
		if (k->info.per[r])
			at = LLVMBuildAdd(b, at, dims[k->info.per[r] - 1], "");
	}
	em->inner = k->info.order[rank - 1]; /* rank >= 1: mg_kir_verify */
	LLVMValueRef n = dims[em->inner];
	unsigned addressed = preload(em);
	LLVMValueRef contig = LLVMConstInt(em->i1, 1, 0);
	for (int t = 0; t < k->ntensors; t++)
		if (addressed >> t & 1)
			contig = LLVMBuildAnd(b, contig, LLVMBuildICmp(b, LLVMIntEQ, inner_stride(em, t),
								       LLVMConstInt(em->i64, 1, 0), ""), "");
	LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, lo, hi, ""), start, done);

	/* row lo's outer indices, the outermost slowest */
	LLVMPositionBuilderAtEnd(b, start);
	LLVMValueRef rem = lo;
	for (int p = rank - 2; p >= 0; p--) {
		int ax = k->info.order[p];
		LLVMBuildStore(b, LLVMBuildURem(b, rem, dims[ax], ""), em->idx[ax]);
		rem = LLVMBuildUDiv(b, rem, dims[ax], "");
	}
	LLVMBuildStore(b, lo, row);
	LLVMBuildBr(b, rowhead);

	LLVMPositionBuilderAtEnd(b, rowhead);
	LLVMValueRef r = LLVMBuildLoad2(b, em->i64, row, "");
	LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, r, hi, ""), rowbody, done);

	LLVMPositionBuilderAtEnd(b, rowbody);
	for (int t = 0; t < k->ntensors; t++) {
		if (!(addressed >> t & 1))
			continue;
		LLVMValueRef off = LLVMConstInt(em->i64, 0, 0);
		for (int p = 0; p < rank - 1; p++) {
			int ax = k->info.order[p];
			LLVMValueRef i = LLVMBuildLoad2(b, em->i64, em->idx[ax], "");
			off = LLVMBuildAdd(b, off, LLVMBuildMul(b, i, em->stride[t][ax], ""), "");
		}
		em->rowoff[t] = off;
	}
	LLVMBuildStore(b, LLVMConstInt(em->i64, 0, 0), jvar);
	if (width > 1) {
		/* the versioned vector loop: contiguous when every addressed tensor allows */
		LLVMBasicBlockRef tail = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "tail");
		LLVMMoveBasicBlockBefore(tail, rowend);
		em->width = width;
		em->contig = 1;
		if (addressed) {
			LLVMBasicBlockRef vc = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "contig");
			LLVMBasicBlockRef vg = LLVMAppendBasicBlockInContext(em->ctx, em->fn, "strided");
			LLVMMoveBasicBlockBefore(vc, tail);
			LLVMMoveBasicBlockBefore(vg, tail);
			LLVMBuildCondBr(b, contig, vc, vg);
			LLVMPositionBuilderAtEnd(b, vc);
			emit_inner_loop(em, jvar, n, vacc, tail);
			LLVMPositionBuilderAtEnd(b, vg);
			em->contig = 0;
		}
		emit_inner_loop(em, jvar, n, vacc, tail);
		LLVMPositionBuilderAtEnd(b, tail);
	}
	em->width = 1;
	em->contig = 0;
	emit_inner_loop(em, jvar, n, sacc, rowend);
	flush_row(em, vacc, sacc, width, per_at);

	/* next row: the odometer over the outer axes, innermost of them fastest */
	LLVMValueRef carry = LLVMConstInt(em->i64, 1, 0);
	for (int p = rank - 2; p >= 0; p--) {
		int ax = k->info.order[p];
		LLVMValueRef v = LLVMBuildAdd(b, LLVMBuildLoad2(b, em->i64, em->idx[ax], ""), carry, "");
		LLVMValueRef wrap = LLVMBuildICmp(b, LLVMIntEQ, v, dims[ax], "");
		LLVMBuildStore(b, LLVMBuildSelect(b, wrap, LLVMConstInt(em->i64, 0, 0), v, ""), em->idx[ax]);
		carry = LLVMBuildZExt(b, wrap, em->i64, "");
	}
	LLVMBuildStore(b, LLVMBuildAdd(b, r, LLVMConstInt(em->i64, 1, 0), ""), row);
	no_unroll(em, LLVMBuildBr(b, rowhead));

	LLVMPositionBuilderAtEnd(b, done);
	finish_reductions(em, vacc, sacc, width);
	LLVMBuildRetVoid(b);
}

int mg_llvm_emit_kernel(LLVMModuleRef mod, const struct mg_kir *k, const char *symbol,
			const struct mg_llvm_target *target, struct mg_err *e)
{
	struct mg_llvm_emit em = {.k = k, .target = target, .mod = mod};
	em.ctx = LLVMGetModuleContext(mod);
	em.i1 = LLVMInt1TypeInContext(em.ctx);
	em.i8 = LLVMInt8TypeInContext(em.ctx);
	em.i16 = LLVMInt16TypeInContext(em.ctx);
	em.i32 = LLVMInt32TypeInContext(em.ctx);
	em.i64 = LLVMInt64TypeInContext(em.ctx);
	em.f16 = LLVMHalfTypeInContext(em.ctx);
	em.f32 = LLVMFloatTypeInContext(em.ctx);
	em.f64 = LLVMDoubleTypeInContext(em.ctx);
	em.val = calloc((size_t)k->nnodes + 1, sizeof *em.val);
	em.live = calloc((size_t)k->nnodes + 1, 1);
	if (!em.val || !em.live) {
		free(em.val);
		free(em.live);
		return mg_err_set(e, MG_ERR_NOMEM, "kernel '%s': out of memory", k->name);
	}
	LLVMTypeRef params[4] = {LLVMPointerType(em.i8, 0), em.i64, em.i64, LLVMPointerType(em.f64, 0)};
	em.fn = LLVMAddFunction(mod, symbol, LLVMFunctionType(LLVMVoidTypeInContext(em.ctx), params, 4, 0));
	unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
	LLVMAddAttributeAtIndex(em.fn, LLVMAttributeFunctionIndex,
				LLVMCreateEnumAttribute(em.ctx, nounwind, 0));
	em.b = LLVMCreateBuilderInContext(em.ctx);
	mark_live(&em);
	emit_function(&em);
	LLVMDisposeBuilder(em.b);
	free(em.val);
	free(em.live);
	return 0;
}
