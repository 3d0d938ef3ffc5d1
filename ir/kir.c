/* kir.c: building kernel IR, checking it, hashing it and printing it (kir.h).
 * Builders never report errors themselves: a bad operand or a full table marks the
 * kernel failed and returns -1, which every later builder accepts and propagates, so a
 * lowering builds its whole expression and checks once with mg_kir_verify. */
#include <math.h>
#include <string.h>

#include "kir.h"

static const struct {
	const char *name;
	int nops;
} kops[MG_KOP_COUNT] = {
#define X(e, n, name) {name, n},
	MG_KOPS(X)
#undef X
};

const char *mg_klibm_name(int fn)
{
	static const char *const names[] = {
#define X(e, name) #name,
		MG_KLIBMS(X)
#undef X
	};
	return fn >= 0 && fn < MG_KLIBM_COUNT ? names[fn] : "?";
}

const char *mg_ktype_name(int type)
{
	if (type == MG_KT_BOOL)
		return "bool";
	return type >= 0 && type < MG_DTYPE_COUNT ? mg_dtype_short((enum mg_dtype)type) : "?";
}

static int is_float(int type)
{
	return type < MG_DTYPE_COUNT && mg_dtype_is_float((enum mg_dtype)type);
}

/* f16 and bf16 are storage types: loaded, cast and stored, never computed with. */
static int is_storage_only(int type)
{
	return type == MG_DTYPE_F16 || type == MG_DTYPE_BF16;
}

void mg_kir_init(struct mg_kir *k, struct mg_arena *arena, const char *name, int rank)
{
	memset(k, 0, sizeof *k);
	k->name = name;
	k->arena = arena;
	k->store = -1;
	k->info.rank = rank;
	for (int i = 0; i < MG_KMAX_RANK; i++)
		k->info.order[i] = i;
	if (rank < 1 || rank > MG_KMAX_RANK)
		k->failed = 1;
}

int mg_kir_tensor(struct mg_kir *k, enum mg_dtype dtype, int rank)
{
	if (k->ntensors == MG_KMAX_TENSORS || rank < 0 || rank > MG_KMAX_RANK) {
		k->failed = 1;
		return -1;
	}
	k->tensor[k->ntensors] = (struct mg_ktensor_decl){(uint8_t)dtype, (uint8_t)rank};
	return k->ntensors++;
}

int mg_kir_param_slot(struct mg_kir *k)
{
	if (k->nparams == MG_KMAX_PARAMS) {
		k->failed = 1;
		return -1;
	}
	return k->nparams++;
}

static int32_t add(struct mg_kir *k, struct mg_knode n)
{
	int need = kops[n.op].nops;
	const int32_t ops[3] = {n.a, n.b, n.c};
	for (int i = 0; i < need; i++)
		if (ops[i] < 0 && !(n.op == MG_KOP_LOAD && i == 1)) /* LOAD's mask is optional */
			k->failed = 1;
	if (k->failed)
		return -1;
	if (k->nnodes == k->cap) {
		int cap = k->cap ? 2 * k->cap : 64;
		struct mg_knode *nn = mg_arena_alloc(k->arena, (size_t)cap * sizeof *nn);
		if (!nn) {
			k->failed = 1;
			return -1;
		}
		if (k->nnodes)
			memcpy(nn, k->nodes, (size_t)k->nnodes * sizeof *nn);
		k->nodes = nn;
		k->cap = cap;
	}
	k->nodes[k->nnodes] = n;
	return k->nnodes++;
}

static int type_of(const struct mg_kir *k, int32_t n)
{
	return n >= 0 && n < k->nnodes ? k->nodes[n].type : -1;
}

int32_t mg_kir_const(struct mg_kir *k, int type, double v)
{
	return add(k, (struct mg_knode){.op = MG_KOP_CONST, .type = (uint8_t)type, .a = -1,
					.b = -1, .c = -1, .f = v});
}

int32_t mg_kir_param(struct mg_kir *k, int type, int slot)
{
	return add(k, (struct mg_knode){.op = MG_KOP_PARAM, .type = (uint8_t)type, .a = -1,
					.b = -1, .c = -1, .i = slot});
}

int32_t mg_kir_index(struct mg_kir *k, int axis)
{
	return add(k, (struct mg_knode){.op = MG_KOP_INDEX, .type = MG_DTYPE_I64, .a = -1,
					.b = -1, .c = -1, .i = axis});
}

static int32_t tensor_query(struct mg_kir *k, enum mg_kop op, int tensor, int axis)
{
	return add(k, (struct mg_knode){.op = (uint8_t)op, .type = MG_DTYPE_I64, .a = -1,
					.b = -1, .c = -1, .i = tensor, .j = axis});
}

int32_t mg_kir_dim(struct mg_kir *k, int tensor, int axis)
{
	return tensor_query(k, MG_KOP_DIM, tensor, axis);
}

int32_t mg_kir_stride(struct mg_kir *k, int tensor, int axis)
{
	return tensor_query(k, MG_KOP_STRIDE, tensor, axis);
}

static int tensor_type(const struct mg_kir *k, int tensor)
{
	return tensor >= 0 && tensor < k->ntensors ? k->tensor[tensor].dtype : -1;
}

int32_t mg_kir_loadat(struct mg_kir *k, int tensor)
{
	return add(k, (struct mg_knode){.op = MG_KOP_LOADAT, .type = (uint8_t)tensor_type(k, tensor),
					.a = -1, .b = -1, .c = -1, .i = tensor});
}

int32_t mg_kir_load(struct mg_kir *k, int tensor, int32_t offset, int32_t mask)
{
	return add(k, (struct mg_knode){.op = MG_KOP_LOAD, .type = (uint8_t)tensor_type(k, tensor),
					.a = offset, .b = mask, .c = -1, .i = tensor});
}

static int is_compare(enum mg_kop op)
{
	return op >= MG_KOP_LT && op <= MG_KOP_NE;
}

int32_t mg_kir_op(struct mg_kir *k, enum mg_kop op, int32_t a, int32_t b)
{
	int t = is_compare(op) ? MG_KT_BOOL : type_of(k, a);
	return add(k, (struct mg_knode){.op = (uint8_t)op, .type = (uint8_t)(t < 0 ? 0 : t),
					.a = a, .b = b, .c = -1});
}

int32_t mg_kir_select(struct mg_kir *k, int32_t c, int32_t a, int32_t b)
{
	int t = type_of(k, a);
	return add(k, (struct mg_knode){.op = MG_KOP_SELECT, .type = (uint8_t)(t < 0 ? 0 : t),
					.a = c, .b = a, .c = b});
}

int32_t mg_kir_cast(struct mg_kir *k, int type, int32_t a)
{
	if (a >= 0 && type_of(k, a) == type)
		return a;
	return add(k, (struct mg_knode){.op = MG_KOP_CAST, .type = (uint8_t)type, .a = a,
					.b = -1, .c = -1});
}

int32_t mg_kir_philox(struct mg_kir *k, int word, int32_t counter, int32_t key)
{
	return add(k, (struct mg_knode){.op = MG_KOP_PHILOX, .type = MG_DTYPE_U32, .a = counter,
					.b = key, .c = -1, .i = word});
}

int32_t mg_kir_libm(struct mg_kir *k, enum mg_klibm fn, int32_t a)
{
	return add(k, (struct mg_knode){.op = MG_KOP_LIBM, .type = MG_DTYPE_F64, .a = a, .b = -1,
					.c = -1, .i = fn});
}

int32_t mg_kir_bitcast(struct mg_kir *k, int type, int32_t a)
{
	return add(k, (struct mg_knode){.op = MG_KOP_BITCAST, .type = (uint8_t)type, .a = a,
					.b = -1, .c = -1});
}

int mg_kir_hist(struct mg_kir *k, int32_t value, int32_t mask, int bins)
{
	int r = mg_kir_reduce(k, MG_KRED_HIST, value, mask);
	if (r >= 0)
		k->info.bins[r] = bins;
	return r;
}

int mg_kir_per_axis(struct mg_kir *k, int r, int axis)
{
	if (r < 0 || r >= k->info.nred || axis < 0 || axis >= k->info.rank) {
		k->failed = 1;
		return -1;
	}
	k->info.per[r] = (int8_t)(axis + 1);
	return r;
}

int mg_kir_reduce(struct mg_kir *k, enum mg_kred kind, int32_t value, int32_t mask)
{
	if (k->info.nred == MG_KMAX_RED || value < 0) {
		k->failed = 1;
		return -1;
	}
	int r = k->info.nred++;
	k->info.red[r] = kind;
	k->info.bins[r] = 0;
	k->info.per[r] = 0;
	k->red[r] = (struct mg_kreduce){kind, value, mask};
	return r;
}

/* ---- verify ------------------------------------------------------------------------- */

static int bad(struct mg_err *e, const struct mg_kir *k, int32_t n, const char *what)
{
	if (n < 0)
		return mg_err_set(e, MG_ERR_INTERNAL, "kernel %s: %s", k->name, what);
	return mg_err_set(e, MG_ERR_INTERNAL, "kernel %s: node %%%d (%s): %s", k->name, n,
			  kops[k->nodes[n].op].name, what);
}

static int check_node(const struct mg_kir *k, int32_t n, struct mg_err *e)
{
	const struct mg_knode *x = &k->nodes[n];
	if (x->op >= MG_KOP_COUNT)
		return bad(e, k, n, "unknown op");
	if (x->type >= MG_KT_COUNT)
		return bad(e, k, n, "unknown type");
	const int32_t ops[3] = {x->a, x->b, x->c};
	for (int i = 0; i < kops[x->op].nops; i++) {
		if (x->op == MG_KOP_LOAD && i == 1 && ops[i] == -1)
			continue;
		if (ops[i] < 0 || ops[i] >= n)
			return bad(e, k, n, "operand is not an earlier node");
	}
	int ta = x->a >= 0 && x->a < n ? k->nodes[x->a].type : -1;
	int tb = x->b >= 0 && x->b < n ? k->nodes[x->b].type : -1;
	int tc = x->c >= 0 && x->c < n ? k->nodes[x->c].type : -1;
	int rank = k->info.rank, t = x->type;
	switch ((enum mg_kop)x->op) {
	case MG_KOP_CONST:
		if (t == MG_KT_BOOL ? x->f != 0 && x->f != 1
				    : !is_float(t) && (x->f != floor(x->f) || fabs(x->f) > 0x1p53))
			return bad(e, k, n, "constant not representable in its type");
		return 0;
	case MG_KOP_PARAM:
		return x->i < 0 || x->i >= k->nparams ? bad(e, k, n, "no such parameter slot") : 0;
	case MG_KOP_INDEX:
		return x->i < 0 || x->i >= rank ? bad(e, k, n, "axis outside the index space") : 0;
	case MG_KOP_DIM:
	case MG_KOP_STRIDE:
		if (x->i < 0 || x->i >= k->ntensors || x->j < 0 || x->j >= k->tensor[x->i].rank)
			return bad(e, k, n, "no such tensor axis");
		return 0;
	case MG_KOP_LOADAT:
		if (x->i < 0 || x->i >= k->ntensors || k->tensor[x->i].rank != rank)
			return bad(e, k, n, "loadat needs a tensor of the kernel's rank");
		return t != k->tensor[x->i].dtype ? bad(e, k, n, "type is not the tensor's") : 0;
	case MG_KOP_LOAD:
		if (x->i < 0 || x->i >= k->ntensors || t != k->tensor[x->i].dtype)
			return bad(e, k, n, "no such tensor, or type is not the tensor's");
		if ((ta != MG_DTYPE_I64 && ta != MG_DTYPE_I32) || (x->b >= 0 && tb != MG_KT_BOOL))
			return bad(e, k, n, "offset must be i64 or i32 and mask bool");
		return 0;
	case MG_KOP_SELECT:
		if (ta != MG_KT_BOOL || tb != t || tc != t)
			return bad(e, k, n, "select needs a bool and two operands of its type");
		return is_storage_only(t) ? bad(e, k, n, "f16/bf16 are storage types") : 0;
	case MG_KOP_CAST:
		return 0;
	case MG_KOP_PHILOX:
		if (ta != MG_DTYPE_I64 || tb != MG_DTYPE_I64 || x->i < 0 || x->i > 3 ||
		    t != MG_DTYPE_U32)
			return bad(e, k, n, "philox needs i64 counter and key, word 0..3, u32");
		return 0;
	case MG_KOP_LIBM:
		if (x->i < 0 || x->i >= MG_KLIBM_COUNT)
			return bad(e, k, n, "no such libm function");
		return ta != MG_DTYPE_F64 || t != MG_DTYPE_F64 ? bad(e, k, n, "libm is f64 to f64") : 0;
	case MG_KOP_BITCAST:
		if (t == MG_KT_BOOL || ta == MG_KT_BOOL ||
		    mg_dtype_size((enum mg_dtype)t) != mg_dtype_size((enum mg_dtype)ta))
			return bad(e, k, n, "bitcast needs two non-bool types of one size");
		return 0;
	default:
		break;
	}
	/* arithmetic, compares, logic */
	enum mg_kop op = (enum mg_kop)x->op;
	if (is_storage_only(ta))
		return bad(e, k, n, "f16/bf16 are storage types: cast them first");
	if (kops[op].nops == 2 && tb != ta)
		return bad(e, k, n, "operands of different types");
	if (is_compare(op))
		return t != MG_KT_BOOL ? bad(e, k, n, "a compare is bool") : 0;
	if (t != ta)
		return bad(e, k, n, "result type is not the operands'");
	int fl = is_float(t), logic = op == MG_KOP_AND || op == MG_KOP_OR ||
				      op == MG_KOP_XOR || op == MG_KOP_NOT;
	if (logic)
		return fl ? bad(e, k, n, "logic on floats") : 0;
	if (t == MG_KT_BOOL)
		return bad(e, k, n, "arithmetic on bool");
	if (!fl && op >= MG_KOP_SQRT && op <= MG_KOP_TRUNC)
		return bad(e, k, n, "a float function on integers");
	if (fl && op == MG_KOP_REM)
		return bad(e, k, n, "rem on floats");
	return 0;
}

int mg_kir_verify(const struct mg_kir *k, struct mg_err *e)
{
	if (k->failed)
		return bad(e, k, -1, "building failed (out of memory, a full table or a bad "
				     "operand)");
	int rank = k->info.rank, seen = 0;
	for (int i = 0; i < rank; i++) {
		int a = k->info.order[i];
		if (a < 0 || a >= rank || (seen & (1 << a)))
			return bad(e, k, -1, "loop order is not a permutation of the axes");
		seen |= 1 << a;
	}
	for (int32_t n = 0; n < k->nnodes; n++)
		if (check_node(k, n, e))
			return e->code;
	if (k->store >= 0) {
		if (k->store >= k->nnodes || k->ntensors < 1 || k->tensor[0].rank != rank ||
		    k->nodes[k->store].type != k->tensor[0].dtype)
			return bad(e, k, k->store < k->nnodes ? k->store : -1,
				   "the stored node must have tensor 0's dtype and tensor 0 the "
				   "kernel's rank");
	} else if (k->info.nred == 0) {
		return bad(e, k, -1, "neither stores nor reduces");
	}
	for (int r = 0; r < k->info.nred; r++) {
		const struct mg_kreduce *d = &k->red[r];
		int hist = d->kind == MG_KRED_HIST;
		if ((unsigned)d->kind > MG_KRED_HIST)
			return bad(e, k, -1, "unknown reduction");
		if (hist ? k->info.bins[r] < 1 || k->info.bins[r] > MG_KMAX_BINS : k->info.bins[r])
			return bad(e, k, -1, "a histogram needs 1 to 4096 bins (others none)");
		int per = k->info.per[r];
		if (per && (hist || per < 0 || per > rank || per - 1 == k->info.order[rank - 1]))
			return bad(e, k, -1, "a reduction per axis is a sum, min or max along an "
					     "outer axis (not the innermost of the loop)");
		if (d->value < 0 || d->value >= k->nnodes ||
		    k->nodes[d->value].type != (hist ? MG_DTYPE_I64 : MG_DTYPE_F64) ||
		    (d->mask >= 0 && (d->mask >= k->nnodes || k->nodes[d->mask].type != MG_KT_BOOL)))
			return bad(e, k, -1, "a reduction needs an f64 value (a histogram: i64) "
					     "and a bool mask");
		if (d->kind != k->info.red[r])
			return bad(e, k, -1, "reduction kinds out of step");
	}
	return 0;
}

/* ---- hash (FNV-1a over the fields that shape the code) ------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

uint64_t mg_kir_hash(const struct mg_kir *k)
{
	uint64_t h = 0xcbf29ce484222325ull;
	int32_t head[4 + MG_KMAX_RANK] = {k->info.rank, k->ntensors, k->nparams, k->store};
	memcpy(head + 4, k->info.order, sizeof k->info.order);
	h = fnv(h, head, sizeof head);
	h = fnv(h, k->tensor, (size_t)k->ntensors * sizeof *k->tensor);
	for (int r = 0; r < k->info.nred; r++) {
		int32_t red[5] = {(int32_t)k->red[r].kind, k->red[r].value, k->red[r].mask,
				  k->info.bins[r], k->info.per[r]};
		h = fnv(h, red, sizeof red);
	}
	for (int32_t n = 0; n < k->nnodes; n++) {
		const struct mg_knode *x = &k->nodes[n];
		/* field by field: the struct's padding is not part of the identity */
		h = fnv(h, &x->op, 1);
		h = fnv(h, &x->type, 1);
		h = fnv(h, &x->a, 4);
		h = fnv(h, &x->b, 4);
		h = fnv(h, &x->c, 4);
		h = fnv(h, &x->i, 8);
		h = fnv(h, &x->j, 8);
		h = fnv(h, &x->f, 8);
	}
	return h;
}

int mg_kir_equal(const struct mg_kir *a, const struct mg_kir *b)
{
	if (a->info.rank != b->info.rank || a->info.nred != b->info.nred ||
	    a->ntensors != b->ntensors || a->nparams != b->nparams || a->store != b->store ||
	    a->nnodes != b->nnodes)
		return 0;
	for (int i = 0; i < a->info.rank; i++)
		if (a->info.order[i] != b->info.order[i])
			return 0;
	for (int i = 0; i < a->ntensors; i++)
		if (a->tensor[i].dtype != b->tensor[i].dtype || a->tensor[i].rank != b->tensor[i].rank)
			return 0;
	for (int i = 0; i < a->info.nred; i++)
		if (a->red[i].kind != b->red[i].kind || a->red[i].value != b->red[i].value ||
		    a->red[i].mask != b->red[i].mask || a->info.red[i] != b->info.red[i] ||
		    a->info.bins[i] != b->info.bins[i] || a->info.per[i] != b->info.per[i])
			return 0;
	for (int i = 0; i < a->nnodes; i++) {
		const struct mg_knode *x = &a->nodes[i], *y = &b->nodes[i];
		if (x->op != y->op || x->type != y->type || x->a != y->a || x->b != y->b ||
		    x->c != y->c || x->i != y->i || x->j != y->j || memcmp(&x->f, &y->f, sizeof x->f))
			return 0;
	}
	return 1;
}

/* ---- text --------------------------------------------------------------------------- */

void mg_kir_print(const struct mg_kir *k, FILE *f)
{
	fprintf(f, "kernel %s rank %d order", k->name, k->info.rank);
	for (int i = 0; i < k->info.rank; i++)
		fprintf(f, "%c%d", i ? ',' : ' ', k->info.order[i]);
	fprintf(f, " tensors");
	for (int i = 0; i < k->ntensors; i++)
		fprintf(f, " %s[%d]", mg_ktype_name(k->tensor[i].dtype), k->tensor[i].rank);
	fprintf(f, " params %d\n", k->nparams);
	for (int32_t n = 0; n < k->nnodes; n++) {
		const struct mg_knode *x = &k->nodes[n];
		fprintf(f, "  %%%d = %s %s", n, x->op < MG_KOP_COUNT ? kops[x->op].name : "?",
			mg_ktype_name(x->type));
		switch ((enum mg_kop)x->op) {
		case MG_KOP_CONST: fprintf(f, " %.17g", x->f); break;
		case MG_KOP_PARAM: fprintf(f, " p%lld", (long long)x->i); break;
		case MG_KOP_INDEX: fprintf(f, " axis %lld", (long long)x->i); break;
		case MG_KOP_DIM:
		case MG_KOP_STRIDE:
			fprintf(f, " t%lld axis %lld", (long long)x->i, (long long)x->j);
			break;
		case MG_KOP_LOADAT: fprintf(f, " t%lld", (long long)x->i); break;
		case MG_KOP_LOAD:
			fprintf(f, " t%lld %%%d", (long long)x->i, x->a);
			if (x->b >= 0)
				fprintf(f, " if %%%d", x->b);
			break;
		case MG_KOP_PHILOX:
			fprintf(f, " word %lld %%%d %%%d", (long long)x->i, x->a, x->b);
			break;
		case MG_KOP_LIBM: fprintf(f, " %s %%%d", mg_klibm_name((int)x->i), x->a); break;
		default:
			if (x->op < MG_KOP_COUNT) {
				const int32_t ops[3] = {x->a, x->b, x->c};
				for (int i = 0; i < kops[x->op].nops; i++)
					fprintf(f, " %%%d", ops[i]);
			}
			break;
		}
		fputc('\n', f);
	}
	if (k->store >= 0)
		fprintf(f, "  store %%%d\n", k->store);
	static const char *const rn[] = {"sum", "min", "max", "hist"};
	for (int r = 0; r < k->info.nred; r++) {
		fprintf(f, "  reduce %s", (unsigned)k->red[r].kind < 4 ? rn[k->red[r].kind] : "?");
		if (k->red[r].kind == MG_KRED_HIST)
			fprintf(f, " %d", k->info.bins[r]);
		fprintf(f, " %%%d", k->red[r].value);
		if (k->info.per[r])
			fprintf(f, " per axis %d", k->info.per[r] - 1);
		if (k->red[r].mask >= 0)
			fprintf(f, " if %%%d", k->red[r].mask);
		fputc('\n', f);
	}
}
