/* test_autodiff.c: the autodiff pass and the gradient rules of Add, Mul, Sum, Conv,
 * ConvTranspose and Linear.
 * - gradcheck.h on one node of each (float64, central differences, h = 1e-5 (1 + |x|)):
 *   |fd - analytic| <= 1e-6 (1 + |analytic|); these losses are polynomials of degree <= 2
 *   in each input, so only rounding remains (seen: below 1e-9).
 * - A value read twice sums its gradients: L = sum(w * w) + sum(w) gives 2w + 1.
 * - A parameter the loss does not read gets zeros; two parameters whose gradient is one
 *   value get an output each; the gradients are named "<parameter>.grad".
 * - An op without a gradient rule on the way to the loss is refused, naming it. */
#include "check.h"
#include "gradcheck.h"

#define T(r, ...) {.rank = r, .dims = {__VA_ARGS__}, .wrt = 1}

static void rules(void)
{
	const double tol = 1e-6;
	gradcheck("Add", NULL, 2, (struct gc_input[]){T(3, 2, 3, 4), T(3, 2, 3, 4)}, 1, tol);
	gradcheck("Add", NULL, 2, (struct gc_input[]){T(3, 2, 3, 4), T(2, 3, 1)}, 1, tol);
	gradcheck("Mul", NULL, 2, (struct gc_input[]){T(1, 5), T(3, 2, 3, 5)}, 1, tol);
	gradcheck("Mul", NULL, 2, (struct gc_input[]){T(2, 4, 1), T(2, 1, 3)}, 1, tol);
	gradcheck("Sum", NULL, 1, (struct gc_input[]){T(3, 2, 3, 4)}, 1, tol);
	gradcheck("Conv", NULL, 3, (struct gc_input[]){T(3, 2, 3, 7), T(3, 4, 3, 3), T(1, 4)}, 1,
		  tol);
	gradcheck("Conv", "{\"stride\": 2, \"padding\": 1}", 2,
		  (struct gc_input[]){T(4, 1, 2, 6, 5), T(4, 3, 2, 3, 3)}, 1, tol);
	gradcheck("Conv", "{\"padding\": \"same\", \"groups\": 2, \"dilation\": [1, 2, 1]}", 3,
		  (struct gc_input[]){T(5, 2, 4, 4, 5, 3), T(5, 2, 2, 2, 2, 3), T(1, 2)}, 1, tol);
	gradcheck("ConvTranspose", "{\"stride\": 2, \"output_padding\": 1}", 3,
		  (struct gc_input[]){T(4, 2, 3, 3, 4), T(4, 3, 2, 3, 3), T(1, 2)}, 1, tol);
	gradcheck("ConvTranspose", "{\"stride\": [2, 1, 2], \"padding\": 1, \"groups\": 3}", 2,
		  (struct gc_input[]){T(5, 1, 3, 3, 2, 3), T(5, 3, 1, 3, 3, 2)}, 1, tol);
	gradcheck("Linear", NULL, 3, (struct gc_input[]){T(3, 2, 3, 5), T(2, 4, 5), T(1, 4)}, 1,
		  tol);
	gradcheck("Linear", NULL, 2, (struct gc_input[]){T(1, 5), T(2, 3, 5)}, 1, tol);
}

/* A graph of parameters w (4) and u (3), input x: L = sum(w * w) + sum(w) + sum(x); u is
 * not read. Checks dL/dw = 2w + 1 exactly, dL/du = 0, the outputs' names. */
static void graph(void)
{
	struct mg_err e = {0};
	struct mg_graph *g = mg_graph_new("t");
	struct mg_type t4 = gc_type(1, (int64_t[]){4}), t3 = gc_type(1, (int64_t[]){3});
	int32_t w = mg_graph_tensor_input(g, "w", &t4, 1, &e);
	int32_t u = mg_graph_tensor_input(g, "u", &t3, 1, &e);
	int32_t x = mg_graph_tensor_input(g, "x", &t4, 0, &e);
	CHECK(w >= 0 && u >= 0 && x >= 0, "%s", e.msg);
	CHECK(mg_graph_tensor_input(g, "w", &t4, 1, &e) < 0 && strstr(e.msg, "\"w\""), "%s",
	      e.msg);
	mg_err_clear(&e);
	int32_t ww[2] = {w, w};
	int n1 = mg_graph_add_node(g, MG_OP_Mul, ww, 2, NULL, "w*w", &e);
	int s1 = mg_graph_add_node(g, MG_OP_Sum, &g->nodes[n1].out[0], 1, NULL, "s1", &e);
	int s2 = mg_graph_add_node(g, MG_OP_Sum, &w, 1, NULL, "s2", &e);
	int s3 = mg_graph_add_node(g, MG_OP_Sum, &x, 1, NULL, "s3", &e);
	int32_t a1[2] = {g->nodes[s1].out[0], g->nodes[s2].out[0]};
	int n2 = mg_graph_add_node(g, MG_OP_Add, a1, 2, NULL, "a", &e);
	int32_t a2[2] = {g->nodes[n2].out[0], g->nodes[s3].out[0]};
	int n3 = mg_graph_add_node(g, MG_OP_Add, a2, 2, NULL, "L", &e);
	CHECK(n3 >= 0, "%s", e.msg);
	g->loss = g->nodes[n3].out[0];
	CHECK_OK(mg_graph_set_outputs(g, &g->loss, 1, &e), &e);
	CHECK_OK(mg_pass_autodiff(g, &e), &e);
	CHECK(g->noutputs == 3, "%d outputs", g->noutputs);
	CHECK(!strcmp(g->values[g->outputs[1]].name, "w.grad") &&
	      !strcmp(g->values[g->outputs[2]].name, "u.grad"), "names %s %s",
	      g->values[g->outputs[1]].name, g->values[g->outputs[2]].name);
	struct mg_arena arena = {0};
	struct mg_plan *p;
	CHECK_OK(mg_graph_lower(g, &arena, &p, &e), &e);
	struct mg_tensor vals[3];
	for (int i = 0; i < 3; i++)
		CHECK_OK(gc_tensor(&vals[i], &g->values[g->inputs[i]].type, 0, 0, &e), &e);
	struct mg_val *slots = calloc((size_t)p->nslots, sizeof *slots);
	CHECK_OK(loss_run(p, vals, slots, 0, &e), &e);
	const double *wv = mg_tensor_data(&vals[0]);
	const double *dw = mg_tensor_data(&slots[g->outputs[1]].t);
	const double *du = mg_tensor_data(&slots[g->outputs[2]].t);
	for (int i = 0; i < 4; i++)
		CHECK(dw[i] == 2 * wv[i] + 1, "dw[%d] = %g, w = %g", i, dw[i], wv[i]);
	for (int i = 0; i < 3; i++)
		CHECK(du[i] == 0, "du[%d] = %g", i, du[i]);
	loss_release(p, slots);
	free(slots);
	for (int i = 0; i < 3; i++)
		mg_tensor_release(&vals[i]);
	mg_arena_free(&arena);
	mg_graph_free(g);
}

/* L = sum(a + b): both gradients are dL/dy itself, one value, and each parameter still
 * gets an output of its own. */
static void shared_gradient(void)
{
	struct mg_err e = {0};
	struct mg_graph *g = mg_graph_new("t");
	struct mg_type t = gc_type(1, (int64_t[]){3});
	int32_t ab[2] = {mg_graph_tensor_input(g, "a", &t, 1, &e),
			 mg_graph_tensor_input(g, "b", &t, 1, &e)};
	int n = mg_graph_add_node(g, MG_OP_Add, ab, 2, NULL, "a+b", &e);
	int s = mg_graph_add_node(g, MG_OP_Sum, &g->nodes[n].out[0], 1, NULL, "L", &e);
	g->loss = g->nodes[s].out[0];
	CHECK_OK(mg_graph_set_outputs(g, &g->loss, 1, &e), &e);
	CHECK_OK(mg_pass_autodiff(g, &e), &e);
	CHECK(g->noutputs == 3 && g->outputs[1] != g->outputs[2], "outputs %d", g->noutputs);
	CHECK(!strcmp(g->values[g->outputs[1]].name, "a.grad") &&
	      !strcmp(g->values[g->outputs[2]].name, "b.grad"), "names");
	mg_graph_free(g);
}

static void refusals(void)
{
	struct mg_err e = {0};
	struct mg_graph *g = mg_graph_new("t");
	struct mg_type t = gc_type(1, (int64_t[]){3}), t2 = gc_type(1, (int64_t[]){2});
	int32_t w = mg_graph_tensor_input(g, "w", &t, 1, &e);
	int n = mg_graph_add_node(g, MG_OP_CastToType, &w, 1, NULL, "pipeline#3", &e);
	int s = mg_graph_add_node(g, MG_OP_Sum, &g->nodes[n].out[0], 1, NULL, "L", &e);
	CHECK(s >= 0, "%s", e.msg);
	g->loss = g->nodes[s].out[0];
	CHECK_FAILS(mg_pass_autodiff(g, &e), &e, "CastToType (pipeline#3) has no gradient rule");
	g->loss = w; /* not one element */
	CHECK_FAILS(mg_pass_autodiff(g, &e), &e, "must be one float32 or float64 element");
	int32_t v = mg_graph_tensor_input(g, "v", &t2, 1, &e);
	int32_t wv[2] = {w, v};
	CHECK(mg_graph_add_node(g, MG_OP_Add, wv, 2, NULL, "bad", &e) < 0 &&
	      strstr(e.msg, "Add: shapes do not broadcast"), "%s", e.msg);
	mg_graph_free(g);
}

int main(void)
{
	rules();
	graph();
	shared_gradient();
	refusals();
	return check_done();
}
