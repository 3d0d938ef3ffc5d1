/* test_graph.c: building, printing, verifying and lowering graphs; attribute parsing
 * against op declarations; the attribute-type and op-flag lists (MG_ATTR_TYPES,
 * MG_OP_FLAGS) as the docs, messages and printer show them. */
#include <stdlib.h>

#include "../frontend/build.h"
#include "../ir/ir.h"
#include "check.h"

static char *print_to_string(const struct mg_graph *g)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	mg_graph_print(g, f);
	fclose(f);
	return buf;
}

static int parse(const struct mg_opdef *d, const char *json, int key, int nkeys,
		 struct mg_arena *a, struct mg_attr *out, struct mg_err *e)
{
	cJSON *j = cJSON_Parse(json);
	static const char *const skip[] = {"keys", NULL};
	int rc = mg_attrs_parse(d, j, key, nkeys, skip, a, out, e);
	cJSON_Delete(j);
	return rc;
}

static void test_attrs(void)
{
	struct mg_err e = {0};
	struct mg_arena a = {0};
	const struct mg_opdef *save = mg_ops[MG_OP_SaveImage], *load = mg_ops[MG_OP_LoadImage];
	struct mg_attr at[32];
	CHECK_OK(parse(save, "{\"output_postfix\": \"seg\", \"output_dtype\": \"np.uint8\"}", -1,
		       1, &a, at, &e), &e);
	int post = mg_op_attr_index(save, "output_postfix");
	int odt = mg_op_attr_index(save, "output_dtype");
	int sep = mg_op_attr_index(save, "separate_folder");
	CHECK(strcmp(at[post].v.s, "seg") == 0);
	CHECK(at[odt].v.i == MG_DTYPE_U8);
	CHECK(at[sep].v.i == 1, "default true");
	CHECK_OK(parse(save, "{\"output_dtype\": null}", -1, 1, &a, at, &e), &e);
	CHECK(at[odt].is_none);
	CHECK_FAILS(parse(save, "{\"output_dir\": 3}", -1, 1, &a, at, &e), &e,
		    "'output_dir' must be a string, not a number");
	CHECK_FAILS(parse(save, "{\"outptu_dir\": \"x\"}", -1, 1, &a, at, &e), &e,
		    "SaveImage has no argument 'outptu_dir'");
	CHECK_FAILS(parse(save, "{\"output_ext\": \".png\"}", -1, 1, &a, at, &e), &e,
		    "expected one of .nii.gz|.nii");
	CHECK_FAILS(parse(save, "{\"separate_folder\": null}", -1, 1, &a, at, &e), &e,
		    "cannot be null");
	CHECK_FAILS(parse(load, "{\"dtype\": \"complex64\"}", -1, 1, &a, at, &e), &e,
		    "unknown dtype");
	CHECK_OK(parse(save, "{\"channel_dim\": -1}", -1, 1, &a, at, &e), &e);
	CHECK_FAILS(parse(save, "{\"channel_dim\": 1.5}", -1, 1, &a, at, &e), &e,
		    "must be an integer");
	mg_arena_free(&a);
}

static void test_build_print_lower(void)
{
	struct mg_err e = {0};
	struct mg_arena a = {0};
	struct mg_graph *g = mg_graph_new("t");
	struct mg_attr la[16], sa[32];
	CHECK_OK(parse(mg_ops[MG_OP_LoadImage], "{}", -1, 1, &a, la, &e), &e);
	CHECK_OK(parse(mg_ops[MG_OP_SaveImage], "{\"output_postfix\": \"x\"}", -1, 1, &a, sa, &e),
		 &e);
	int32_t in = mg_graph_input(g, "image", &e);
	CHECK(in >= 0 && mg_graph_input(g, "image", &e) == in, "inputs are made once per key");
	int32_t n0 = mg_graph_add_node(g, MG_OP_LoadImage, &in, 1, la, "t#0 key 'image'", &e);
	CHECK(n0 == 0);
	int32_t v = g->nodes[n0].out[0];
	CHECK(g->values[v].type.kind == MG_VK_TENSOR && g->values[v].type.dtype == MG_DTYPE_F32);
	CHECK(strcmp(g->values[v].name, "image") == 0);
	/* LoadImage of an image is a type error caught when the node is added */
	CHECK(mg_graph_add_node(g, MG_OP_LoadImage, &v, 1, la, "t#9", &e) < 0 &&
	      strstr(e.msg, "t#9") && strstr(e.msg, "file names"), "%s", e.msg);
	mg_err_clear(&e);
	int32_t n1 = mg_graph_add_node(g, MG_OP_SaveImage, &v, 1, sa, "t#1 key 'image'", &e);
	int32_t outv = g->nodes[n1].out[0];
	CHECK_OK(mg_graph_set_outputs(g, &outv, 1, &e), &e);
	CHECK_OK(mg_graph_verify(g, &e), &e);
	char *text = print_to_string(g);
	CHECK(strstr(text, "graph t\n") && strstr(text, "%0:str = input \"image\"") &&
		      strstr(text, "%1:f32[...] = LoadImage(%0) {reader=None, dtype=float32") &&
		      strstr(text, "output_postfix=\"x\"") && strstr(text, "# t#1 key 'image'") &&
		      strstr(text, "output \"image\" = %2"),
	      "%s", text);
	free(text);
	struct mg_arena pa = {0};
	struct mg_plan *p = NULL;
	CHECK_OK(mg_graph_lower(g, &pa, &p, &e), &e);
	CHECK(p && p->nsteps == 2 && p->ninputs == 1 && strcmp(p->inputs[0].key, "image") == 0);
	CHECK(p->last_use[in] == 0 && p->last_use[v] == 1 && p->last_use[outv] == 2);
	CHECK(p->steps[1].attrs != g->nodes[1].attrs, "the plan owns its attributes");
	/* a broken graph: a node reading a value defined after it */
	g->nodes[0].in[0] = outv;
	CHECK_FAILS(mg_graph_verify(g, &e), &e, "used before defined");
	g->nodes[0].in[0] = in;
	g->nodes[1].out[0] = v;
	CHECK_FAILS(mg_graph_verify(g, &e), &e, "defined twice");
	mg_arena_free(&pa);
	mg_arena_free(&a);
	mg_graph_free(g);
}

static void test_op_table(void)
{
	for (int i = 0; i < MG_OP_COUNT; i++) {
		const struct mg_opdef *d = mg_ops[i];
		/* a kernel, or a dict form that only moves keys (DeleteItems) */
		CHECK(d->name && (d->ref || d->keys) && d->synopsis, "op %d is complete", i);
		CHECK(mg_op_find(d->name) == i);
		/* every default parses as its declared type */
		struct mg_arena a = {0};
		struct mg_attr at[64];
		struct mg_err e = {0};
		cJSON *j = cJSON_CreateObject();
		for (int k = 0; k < d->nattrs; k++)
			if (!d->attrs[k].dflt) /* fill required ones with something typed */
				cJSON_AddItemToObject(j, d->attrs[k].name,
						      d->attrs[k].type == MG_ATTR_STR
							      ? cJSON_CreateString("x")
							      : cJSON_CreateNumber(1));
		int rc = mg_attrs_parse(d, j, -1, 1, NULL, &a, at, &e);
		CHECK(rc == 0, "%s: defaults: %s", d->name, e.msg);
		cJSON_Delete(j);
		mg_arena_free(&a);
	}
	CHECK(mg_op_find("NoSuchOp") == -1);
}

static void test_type_lists(void)
{
	static const char *const names[] = {"bool",  "int",	 "float",	"str",
					    "dtype", "int list", "float list", "str list"};
	for (int t = MG_ATTR_BOOL; t <= MG_ATTR_STRS; t++) {
		enum mg_attr_type el = mg_attr_type_elem((enum mg_attr_type)t);
		CHECK(strcmp(mg_attr_type_name((enum mg_attr_type)t), names[t]) == 0);
		CHECK(mg_attr_type_phrase((enum mg_attr_type)t)[0] == 'a');
		CHECK(mg_attr_type_elem(el) == el, "a list's element is a scalar");
		CHECK((el != (enum mg_attr_type)t) == (t >= MG_ATTR_INTS), "%d", t);
	}
	CHECK(mg_attr_type_elem(MG_ATTR_FLOATS) == MG_ATTR_FLOAT);
	/* the phrases are what messages say */
	struct mg_err e = {0};
	struct mg_arena a = {0};
	struct mg_attr at[16];
	const struct mg_opdef *ni = mg_ops[MG_OP_NormalizeIntensity];
	CHECK_FAILS(parse(ni, "{\"subtrahend\": [1, \"x\"]}", -1, 1, &a, at, &e), &e,
		    "argument 'subtrahend' must be a number, not a string");
	CHECK_FAILS(parse(ni, "{\"nonzero\": 1}", -1, 1, &a, at, &e), &e,
		    "argument 'nonzero' must be a boolean, not a number");
	CHECK_FAILS(parse(mg_ops[MG_OP_CastToType], "{\"dtype\": 3}", -1, 1, &a, at, &e), &e,
		    "argument 'dtype' must be a dtype name, not a number");
	mg_arena_free(&a);
	/* the printer's short dtype names and the docs' flag names */
	struct mg_type ty = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_BF16, .rank = 1, .dims = {-1}};
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	mg_type_print(&ty, f);
	ty.dtype = -1;
	mg_type_print(&ty, f);
	fclose(f);
	CHECK(strcmp(buf, "bf16[?]?[?]") == 0, "%s", buf);
	free(buf);
	FILE *p = popen(MG_BIN " ops --markdown", "r");
	char line[512];
	int io = 0, none = 0;
	while (p && fgets(line, sizeof line, p)) {
		io += strcmp(line, "flags: io, passthrough\n") == 0;
		none += strcmp(line, "flags: -\n") == 0;
	}
	CHECK(p && pclose(p) == 0 && io == 1 && none >= 1, "io %d, none %d", io, none);
}

/* An op's declared dtypes (mg_opdef.dtypes) are checked on its input 0 before its type
 * rule, in the graph: the network ops compute in float32 or float64. */
static void test_declared_dtypes(void)
{
	static const int ops[] = {MG_OP_ReLU, MG_OP_Softmax, MG_OP_Dropout};
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
		for (int dt = 0; dt < MG_DTYPE_COUNT; dt++) {
			struct mg_err e = {0};
			struct mg_graph *g = mg_graph_new("dtypes");
			struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = dt, .rank = 4,
					    .dims = {1, 2, 3, 4}};
			int32_t x = mg_graph_tensor_input(g, "x", &t, 0, &e);
			int32_t y = mg_graph_add_node(g, ops[i], &x, 1, NULL, "net", &e);
			const char *op = mg_ops[ops[i]]->name;
			char want[128];
			snprintf(want, sizeof want, "%s: x is %s; expected float32 or float64", op,
				 mg_dtype_name((enum mg_dtype)dt));
			if (dt == MG_DTYPE_F32 || dt == MG_DTYPE_F64)
				CHECK(y >= 0 && g->values[y].type.dtype == dt, "%s on %s: %s", op,
				      mg_dtype_name((enum mg_dtype)dt), e.msg);
			else
				CHECK(y < 0 && strstr(e.msg, want), "%s on %s: '%s'", op,
				      mg_dtype_name((enum mg_dtype)dt), e.msg);
			mg_graph_free(g);
		}
	int declared = 0;
	for (int i = 0; i < MG_OP_COUNT; i++)
		declared += mg_ops[i]->dtypes == MG_DTYPES_FLOAT;
	CHECK(declared >= 60, "%d ops declare float32 and float64", declared);
}

int main(void)
{
	test_attrs();
	test_build_print_lower();
	test_op_table();
	test_type_lists();
	test_declared_dtypes();
	return check_done();
}
