/* init.c: a network's parameters and buffers as PyTorch initialises them, from a seed.
 * The rule for an input follows from the node that reads it, so no network states it,
 * except those whose constructor re-initialises (struct mg_net_init: DynUNet, DenseNet):
 *   Conv, ConvTranspose, Linear   weight and bias uniform in +-1 / sqrt(fan_in), fan_in =
 *                                 weight.shape[1] * prod(kernel) (kaiming_uniform with
 *                                 a = sqrt(5), and the bias rule of torch's _ConvNd and
 *                                 Linear reset_parameters)
 *   BatchNorm, InstanceNorm,      weight 1, bias 0, running_mean 0, running_var 1,
 *   GroupNorm, LayerNorm          num_batches_tracked 0
 *   PReLU                         weight = its init attribute (0.25)
 * and with the network's mg_net_init: Conv and ConvTranspose weights normal with standard
 * deviation sqrt(2 / (1 + a^2)) / sqrt(fan_in) (torch's kaiming_normal_ with the same
 * fan_in), their biases and Linear's 0. Normal draws are Box-Muller on words 0 and 1.
 * Draws are Philox4x32-10 (runtime/philox.c): element j of the network's input i is word 0
 * at counter (j lo, j hi, i, 0) under key (seed lo, seed hi), so a value does not depend
 * on the order inputs are visited. torch's own draws come from its generator: the values
 * differ, the distributions are the same. */
#include <math.h>
#include <string.h>

#include "net.h"

/* The node that reads value v and where; -1 when none. */
static int reader(const struct mg_graph *g, int32_t v, int *pos)
{
	for (int i = 0; i < g->nnodes; i++)
		for (int j = 0; j < g->nodes[i].nin; j++)
			if (g->nodes[i].in[j] == v) {
				*pos = j;
				return i;
			}
	return -1;
}

static int ends_with(const char *s, const char *t)
{
	size_t n = strlen(s), m = strlen(t);
	return n >= m && !strcmp(s + n - m, t);
}

/* The constant for a norm's input (name's last component), or NAN when none applies. */
static double norm_value(const char *name, int pos)
{
	if (ends_with(name, "running_var"))
		return 1;
	if (ends_with(name, "running_mean") || ends_with(name, "num_batches_tracked"))
		return 0;
	return pos == 1 ? 1 : pos == 2 ? 0 : NAN;
}

int mg_net_init(const struct mg_graph *g, int first, uint64_t seed, struct mg_val *vals,
		struct mg_err *e)
{
	const struct mg_netdef *d = mg_net_def(g->net);
	const struct mg_net_init *own = d ? d->init : NULL;
	int rc = 0;
	for (int i = first; i < g->ninputs && !rc; i++) {
		const struct mg_value *v = &g->values[g->inputs[i]];
		if (!mg_net_weight(v))
			continue;
		int pos, r = reader(g, g->inputs[i], &pos);
		const struct mg_node *n = r < 0 ? NULL : &g->nodes[r];
		enum mg_op op = n ? (enum mg_op)n->op : MG_OP_COUNT;
		double bound = NAN, value = NAN, sd = NAN;
		if (op == MG_OP_Conv || op == MG_OP_ConvTranspose || op == MG_OP_Linear) {
			const struct mg_type *w = &g->values[n->in[1]].type;
			int64_t fan_in = w->dims[1];
			for (int k = 2; k < w->rank; k++)
				fan_in *= w->dims[k];
			double inv = fan_in > 0 ? 1 / sqrt((double)fan_in) : 0;
			if (own && pos == 2)
				value = 0;
			else if (own && pos == 1 && op != MG_OP_Linear)
				sd = sqrt(2 / (1 + own->a * own->a)) * inv;
			else if (pos == 1 || pos == 2)
				bound = inv;
		} else if (op == MG_OP_BatchNorm || op == MG_OP_InstanceNorm ||
			   op == MG_OP_GroupNorm || op == MG_OP_LayerNorm) {
			value = norm_value(v->name, pos);
		} else if (op == MG_OP_PReLU && pos == 1) {
			value = n->attrs[mg_op_attr_index(mg_ops[op], "init")].v.f;
		}
		if (isnan(bound) && isnan(value) && isnan(sd)) {
			rc = mg_err_set(e, MG_ERR_UNSUPPORTED, "no initialisation rule for '%s' (read by %s)",
					v->name, n ? mg_ops[op]->name : "no node");
			break;
		}
		struct mg_tensor t;
		if ((rc = mg_tensor_alloc(&t, (enum mg_dtype)v->type.dtype, v->type.rank, v->type.dims,
					  e)))
			break;
		int64_t numel = mg_tensor_numel(&t);
		size_t es = mg_dtype_size(t.dtype);
		char *p = numel ? mg_tensor_data(&t) : NULL;
		const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
		for (int64_t j = 0; j < numel; j++) {
			double x = value;
			if (isnan(value)) {
				uint32_t ctr[4] = {(uint32_t)j, (uint32_t)((uint64_t)j >> 32), (uint32_t)i, 0},
					 out[4];
				mg_philox4x32(ctr, key, out);
				if (isnan(sd))
					x = ((double)out[0] / 4294967296.0 * 2 - 1) * bound;
				else /* u1 in (0, 1]: the log is finite */
					x = sd * sqrt(-2 * log(((double)out[0] + 1) / 4294967296.0)) *
					    cos(2 * M_PI * (double)out[1] / 4294967296.0);
			}
			mg_dtype_store(t.dtype, p + j * (int64_t)es, x);
		}
		mg_val_release(&vals[i]);
		vals[i].kind = MG_VK_TENSOR;
		vals[i].t = t;
	}
	if (rc)
		for (int i = first; i < g->ninputs; i++)
			mg_val_release(&vals[i]);
	return rc;
}
