/* test_conformance_crop_foreground.c: CropForeground against MONAI's own outputs, its
 * argument errors, and its place in the fuse-spatial pass (a fusion barrier).
 * Cases live in tests/golden/crop_foreground/cases.json
 * (tools/golden/gen_crop_foreground.py): each names the JSON arguments, an input .npy
 * with its 4x4 affine, and what MONAI 1.6.1 made of it: output .npy, output affine and
 * the voxel map its lazy mode records. Per case: the grid alone (it reads the voxels:
 * shape exact, out_to_in and affine within 1e-9, index-only and integer), then the
 * reference kernel: shape, the input's dtype, values exactly MONAI's, meta affine within
 * 1e-9, an applied-ops entry, the type rule agreeing, the input untouched; a box inside
 * the image is a view, one reaching past it a fresh buffer; a flipped (negative-stride)
 * input equals its contiguous copy. Then the errors, then a graph Orientation -> Spacing
 * -> CropForeground where fuse-spatial fuses the first two only. Cases with a "source"
 * are the dict form's source_key: the op with two inputs. */
#include "../passes/passes.h"
#include "check.h"
#include "golden.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/crop_foreground/"

static const struct mg_opdef *cf(void)
{
	return golden_op("CropForeground");
}

/* The op on a flipped view of x equals the op on a contiguous copy of that view. */
static void check_flipped(const char *name, const cJSON *args, const struct mg_tensor *x)
{
	struct mg_tensor fx, cx, y1, y2;
	struct mg_err e = {0};
	char *json = cJSON_PrintUnformatted(args);
	CHECK_OK(golden_apply(golden_op("Flip"), "{}", x, &fx, &e), &e);
	CHECK_OK(mg_tensor_contiguous(&cx, &fx, &e), &e);
	if (!cx.meta) {
		cx.meta = fx.meta;
		mg_meta_retain(cx.meta);
	}
	CHECK_OK(golden_apply(cf(), json, &fx, &y1, &e), &e);
	CHECK_OK(golden_apply(cf(), json, &cx, &y2, &e), &e);
	CHECK(golden_same_shape(&y1, &y2) && y1.dtype == y2.dtype &&
		      golden_compare(name, &y1, &y2, 0, 0, NULL) == 0,
	      "%s: a flipped (negative-stride) input gives other values", name);
	mg_tensor_release(&y1);
	mg_tensor_release(&y2);
	mg_tensor_release(&cx);
	mg_tensor_release(&fx);
	free(json);
}

/* The dict form's source_key: x cropped by the box of the input the case names as
 * "source" (the node's second input): MONAI's values exactly, its affine within 1e-9,
 * x's dtype, an applied-operations entry with x's grid; the type rule wants an image
 * there. */
static void source_case(const char *name, const struct mg_opdef *d, const cJSON *c,
			const struct mg_attr *a, struct mg_tensor *x, const struct mg_tensor *want,
			const cJSON *inputs)
{
	struct mg_err e = {0};
	struct mg_tensor src = {0};
	CHECK_OK(golden_load_input(GOLDEN, inputs,
				   cJSON_GetStringValue(cJSON_GetObjectItem(c, "source")), &src, &e),
		 &e);
	if (!src.buf)
		return;
	struct mg_val in[2] = {{.kind = MG_VK_TENSOR, .t = *x}, {.kind = MG_VK_TENSOR, .t = src}};
	struct mg_val out = {0};
	struct mg_kctx k = {.err = &e};
	CHECK(mg_op_nin(d, a) == 2, "%s: source_key adds an input", name);
	CHECK_OK(d->ref(a, in, &out, &k), &e);
	if (out.kind == MG_VK_TENSOR) {
		const struct mg_tensor *y = &out.t;
		CHECK(golden_same_shape(y, want) && y->dtype == x->dtype &&
			      golden_compare(name, y, want, 0, 0, NULL) == 0,
		      "%s: differs from MONAI's output", name);
		double aff[4][4];
		golden_matrix(cJSON_GetObjectItem(c, "out_affine"), aff);
		CHECK(golden_max_diff(y->meta->affine, aff) <= 1e-9, "%s: affine", name);
		const struct mg_applied *ap = &y->meta->applied[y->meta->napplied - 1];
		CHECK(y->meta->napplied == x->meta->napplied + 1 && ap->in_shape[0] == x->dims[1] &&
			      ap->out_shape[0] == y->dims[1], "%s: applied entry", name);
	}
	mg_val_release(&out);
	struct mg_type tin[2] = {{.kind = MG_VK_TENSOR, .dtype = (int)x->dtype, .rank = x->rank},
				 {.kind = MG_VK_STRINGS, .dtype = -1, .rank = -1}},
		       tout;
	CHECK_FAILS(d->infer(a, tin, &tout, &e), &e, "source_key");
	mg_tensor_release(&src);
}

static void one_case(const char *name, const struct mg_opdef *d, const cJSON *c,
		     const struct mg_attr *a, struct mg_tensor *x, const struct mg_tensor *want,
		     void *ctx)
{
	if (cJSON_GetObjectItem(c, "source")) {
		source_case(name, d, c, a, x, want, ctx);
		return;
	}
	/* MONAI's box: inside the image (or empty) makes a view */
	double m[4][4];
	golden_matrix(cJSON_GetObjectItem(c, "out_to_in"), m);
	int inside = 1, empty = 0;
	for (int i = 1; i < x->rank; i++) {
		int64_t t = (int64_t)m[i - 1][3];
		inside &= t >= 0 && t + want->dims[i] <= x->dims[i];
		empty |= want->dims[i] == 0;
	}
	golden_check_index_grid(name, d, c, a, x, want);
	golden_check_values(name, d, c, a, x, want,
			    (struct golden_expect){.affine_tol = 1e-9, .dtype = -1,
						   .view = inside || empty ? 1 : 0});
	check_flipped(name, cJSON_GetObjectItem(c, "args"), x);
}

static void run_cases(const cJSON *doc)
{
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "cases")) >= 60, "too few cases");
	printf("%d CropForeground cases\n", golden_run_cases(doc, GOLDEN, NULL, one_case,
							   (void *)cJSON_GetObjectItem(doc, "inputs")));
}

static void refused(int rank, const char *json, const char *needle, int infer_too)
{
	golden_refused(cf(), rank, json, needle, infer_too);
}

static void test_errors(void)
{
	refused(4, "{\"return_coords\": true}", "return_coords=true is not supported", 1);
	refused(4, "{\"margin\": -1}", "margin value should not be negative", 1);
	refused(4, "{\"margin\": [1, 2]}", "margin has 2 entries", 1);
	refused(3, "{\"margin\": [1, 2, 3]}", "margin has 3 entries", 1);
	refused(4, "{\"k_divisible\": [2, 2]}", "k_divisible has 2 entries", 1);
	refused(4, "{\"mode\": \"wrap\"}", "mode 'wrap' is not supported", 1);
	refused(4, "{\"value\": 1}", "value=1 is not supported", 1);
	refused(4, "{\"mode\": \"edge\", \"value\": 0}", "'value' argument is only valid", 1);
	refused(4, "{\"channel_indices\": [1]}", "channel index 1 is out of range", 0);
	refused(4, "{\"channel_indices\": [-2]}", "channel index -2 is out of range", 0);
	refused(4, "{\"margin\": 5, \"mode\": \"reflect\"}", "torch's reflect padding", 0);
	/* select_fn: is_positive or a threshold lambda (test_select_fn.c has the grammar) */
	refused(4, "{\"select_fn\": \"is_negative\"}",
		"CropForeground: select_fn 'is_negative' is not supported", 1);
	refused(4, "{\"select_fn\": \"$lambda x: x.sum()\"}",
		"CropForeground: select_fn '$lambda x: x.sum()' is not supported", 1);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(cf(), "{\"select_fn\": null, \"lazy\": true}", &arena, a, &e),
		 &e);
	mg_arena_free(&arena);
	/* file names, bad ranks, unknown ranks */
	CHECK_OK(golden_parse_text(cf(), "{}", &arena, a, &e), &e);
	golden_refuses_inputs(cf(), a, 5, 2);
	struct mg_type out, in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_I16, .rank = -1};
	CHECK_OK(cf()->infer(a, &in, &out, &e), &e);
	CHECK(out.dtype == MG_DTYPE_I16, "CropForeground: infer keeps the dtype");
	mg_arena_free(&arena);
	/* source_key: a box past this key's edge, padded further than the crop is wide */
	struct mg_tensor img, src;
	golden_image(&img, 4, (const int64_t[]){1, 5, 4, 3}, golden_oblique);
	golden_image(&src, 4, (const int64_t[]){1, 8, 4, 3}, golden_oblique);
	float *sp = mg_tensor_data(&src);
	for (int64_t i = 0; i < 8 * 4 * 3; i++)
		sp[i] = i / 12 >= 4 && i / 12 <= 6;
	static const char *const modes[] = {"symmetric", "edge"};
	struct mg_val o = {0};
	struct mg_kctx k = {.err = &e};
	for (int m = 0; m < 2; m++) {
		char json[160];
		snprintf(json, sizeof json, "{\"source_key\": \"s\", \"mode\": \"%s\"}",
			 modes[m]);
		CHECK_OK(golden_parse_text(cf(), json, &arena, a, &e), &e);
		struct mg_val in2[2] = {{.kind = MG_VK_TENSOR, .t = img},
					{.kind = MG_VK_TENSOR, .t = src}};
		if (m == 0) {
			CHECK_FAILS(cf()->ref(a, in2, &o, &k), &e, "mode 'symmetric' pads axis 0 by "
				    "(0, 2) past a crop of 1 voxels inside an axis of 5");
		} else {
			/* edge repeats the crop's edge voxel, the image's: exact */
			CHECK_OK(cf()->ref(a, in2, &o, &k), &e);
			CHECK(o.kind == MG_VK_TENSOR && o.t.dims[1] == 3, "edge past the crop");
			mg_val_release(&o);
		}
		mg_arena_free(&arena);
	}
	mg_tensor_release(&img);
	mg_tensor_release(&src);
	CHECK((cf()->flags & MG_OPF_SPATIAL) && (cf()->flags & MG_OPF_READS_DATA) && cf()->grid,
	      "CropForeground: a spatial op whose grid reads the data");
}

/* Orientation -> Spacing -> CropForeground: the first two fuse, CropForeground stays a
 * node of its own reading the fused node's output; a lone spatial op after it does not
 * join it either. */
static void test_barrier(void)
{
	struct mg_err e = {0};
	struct mg_graph *g = mg_graph_new("barrier");
	struct mg_attr la[16], oa[16], sa[16], ca[16], fa[16];
	cJSON *ej = cJSON_Parse("{}"), *oj = cJSON_Parse("{\"axcodes\": \"RAS\"}"),
	      *sj = cJSON_Parse("{\"pixdim\": [1.5, 1.5, 2.0]}"),
	      *cj = cJSON_Parse("{\"margin\": 2, \"k_divisible\": 16}");
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_LoadImage], ej, -1, 1, NULL, &g->arena, la, &e), &e);
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_Orientation], oj, -1, 1, NULL, &g->arena, oa, &e), &e);
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_Spacing], sj, -1, 1, NULL, &g->arena, sa, &e), &e);
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_CropForeground], cj, -1, 1, NULL, &g->arena, ca, &e),
		 &e);
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_Flip], ej, -1, 1, NULL, &g->arena, fa, &e), &e);
	int32_t in = mg_graph_input(g, "image", &e);
	int32_t n0 = mg_graph_add_node(g, MG_OP_LoadImage, &in, 1, la, "load", &e);
	int32_t n1 = n0 < 0 ? -1 : mg_graph_add_node(g, MG_OP_Orientation,
							&g->nodes[n0].out[0], 1, oa, "o", &e);
	int32_t n2 = n1 < 0 ? -1 : mg_graph_add_node(g, MG_OP_Spacing, &g->nodes[n1].out[0], 1,
							sa, "s", &e);
	int32_t n3 = n2 < 0 ? -1 : mg_graph_add_node(g, MG_OP_CropForeground,
							&g->nodes[n2].out[0], 1, ca, "c", &e);
	int32_t n4 = n3 < 0 ? -1 : mg_graph_add_node(g, MG_OP_Flip, &g->nodes[n3].out[0], 1, fa,
							"f", &e);
	CHECK(n4 >= 0, "building: %s", e.msg);
	if (n4 >= 0) {
		int32_t v = g->nodes[n0].out[0], s = g->nodes[n2].out[0], c = g->nodes[n3].out[0],
			f = g->nodes[n4].out[0];
		CHECK_OK(mg_graph_set_outputs(g, &f, 1, &e), &e);
		CHECK_OK(mg_pass_fuse_spatial(g, &e), &e);
		CHECK(g->nnodes == 4, "%d nodes after fuse-spatial", g->nnodes);
		if (g->nnodes == 4) {
			const struct mg_node *fu = &g->nodes[1], *cr = &g->nodes[2], *fl = &g->nodes[3];
			CHECK(fu->op == MG_OP_FusedSpatial && fu->attrs[0].v.chain->n == 2 &&
			      fu->attrs[0].v.chain->ops[0] == MG_OP_Orientation &&
			      fu->attrs[0].v.chain->ops[1] == MG_OP_Spacing && fu->in[0] == v &&
			      fu->out[0] == s, "Orientation and Spacing fuse");
			CHECK(cr->op == MG_OP_CropForeground && cr->in[0] == s && cr->out[0] == c,
			      "CropForeground stays out of the FusedSpatial node");
			CHECK(fl->op == MG_OP_Flip && fl->in[0] == c, "Flip after it stays alone");
		}
		CHECK_OK(mg_graph_verify(g, &e), &e);
		CHECK_OK(mg_graph_infer(g, &e), &e);
	}
	cJSON_Delete(ej);
	cJSON_Delete(oj);
	cJSON_Delete(sj);
	cJSON_Delete(cj);
	mg_graph_free(g);
}

/* The box against a count of every voxel, on random sparse images: 2D and 3D, 1-3
 * channels (all, or channel 0 only), axes permuted in memory and some flipped, from no
 * foreground to half of the voxels; margin 0 and allow_smaller, so the grid's start is
 * the first foreground index and its size last - first + 1 on every axis. */
static void test_random_boxes(void)
{
	uint64_t seed = 12345;
	for (int trial = 0; trial < 300; trial++) {
		int sdim = 2 + trial % 2, rank = sdim + 1, perm[4] = {0, 1, 2, 3}, only0 = trial % 3 == 0;
		int64_t dims[4];
		for (int i = 0; i < rank; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			dims[i] = i ? 1 + (int64_t)(seed >> 60) % 9 : 1 + (int64_t)(seed >> 60) % 3;
		}
		for (int i = rank - 1; i > 0; i--) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			int j = (int)((seed >> 33) % (uint64_t)(i + 1)), t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		struct mg_tensor x;
		struct mg_err e = {0};
		CHECK_OK(mg_tensor_alloc_order(&x, MG_DTYPE_F32, rank, dims, perm, &e), &e);
		for (int i = 1; i < rank; i++)
			if ((trial >> i) % 3 == 0) { /* flipped: a view */
				x.offset += (x.dims[i] - 1) * x.strides[i];
				x.strides[i] = -x.strides[i];
			}
		static const int density[] = {0, 1, 5, 50}; /* percent; 1: a single voxel */
		int dens = density[trial / 2 % 4];
		int64_t n = mg_tensor_numel(&x), idx[4], first[3] = {99, 99, 99}, last[3] = {-1, -1, -1};
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		int64_t one = (int64_t)(seed >> 33) % n;
		for (int64_t i = 0; i < n; i++) {
			for (int64_t r = i, d = rank - 1; d >= 0; d--) {
				idx[d] = r % dims[d];
				r /= dims[d];
			}
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			int fg = dens == 1 ? i == one : (int)((seed >> 33) % 100) < dens;
			*(float *)mg_tensor_at(&x, idx) = fg ? 1.0f + (float)(seed >> 60) : -(float)(seed >> 62);
			if (fg && (!only0 || idx[0] == 0))
				for (int d = 0; d < sdim; d++) {
					first[d] = idx[1 + d] < first[d] ? idx[1 + d] : first[d];
					last[d] = idx[1 + d] > last[d] ? idx[1 + d] : last[d];
				}
		}
		golden_attach_affine(&x, NULL);
		struct mg_arena ar = {0};
		struct mg_attr a[16];
		const char *json = only0 ? "{\"allow_smaller\": true, \"channel_indices\": [0]}"
					 : "{\"allow_smaller\": true}";
		CHECK_OK(golden_parse_text(cf(), json, &ar, a, &e), &e);
		struct mg_grid g;
		CHECK_OK(golden_whole_grid(cf(), a, &x, &g, &e), &e);
		for (int d = 0; d < sdim; d++) {
			int64_t want = last[d] < 0 ? 0 : last[d] - first[d] + 1;
			CHECK(g.out_shape[d] == want && (!want || g.out_to_in[d][3] == (double)first[d]),
			      "random box %d, axis %d: size %lld from %g, expected %lld from %lld",
			      trial, d, (long long)g.out_shape[d], g.out_to_in[d][3], (long long)want,
			      (long long)first[d]);
		}
		mg_arena_free(&ar);
		mg_tensor_release(&x);
	}
}

int main(void)
{
	test_random_boxes();
	cJSON *doc = golden_load_cases(GOLDEN);
	test_errors();
	test_barrier();
	if (doc)
		run_cases(doc);
	cJSON_Delete(doc);
	return check_done();
}
