/* test_step.c: a bundle's network step as a graph (frontend/step.c) and the commands that
 * show and run it: `mgc dump --step`, `mgc run --step`. The spleen bundle's network_def
 * gives MONAI's parameter count; bad bundles fail with a message naming the key. */
#include <math.h>

#include "../frontend/step.h"
#include "../runtime/safetensors.h"
#include "check.h"
#include "files.h"

static const char spleen_net[] =
	"\"network_def\": {\"_target_\": \"UNet\", \"spatial_dims\": 3, \"in_channels\": 1, "
	"\"out_channels\": 2, \"channels\": [16, 32, 64, 128, 256], \"strides\": [2, 2, 2, 2], "
	"\"num_res_units\": 2, \"norm\": \"batch\"}";
static const char small_net[] =
	"\"network_def\": {\"_target_\": \"UNet\", \"spatial_dims\": 3, \"in_channels\": 1, "
	"\"out_channels\": 2, \"channels\": [4, 8], \"strides\": [2], \"num_res_units\": 1, "
	"\"norm\": \"batch\"}";
static const char train_parts[] =
	"\"loss\": {\"_target_\": \"DiceCELoss\", \"to_onehot_y\": true, \"softmax\": true}, "
	"\"optimizer\": {\"_target_\": \"torch.optim.Adam\", \"params\": "
	"\"$@network.parameters()\", \"lr\": 0.01}";
static const char meta[] =
	"\"_meta_\": {\"network_data_format\": {\"inputs\": {\"image\": {\"num_channels\": 1, "
	"\"spatial_shape\": [16, 16, 16]}}}}";

/* Writes {parts...} to files_dir/name; its path. */
static const char *config(const char *name, const char *body)
{
	const char *path = files_path(name);
	FILE *f = fopen(path, "w");
	if (f) {
		fprintf(f, "{%s}\n", body);
		fclose(f);
	}
	return path;
}

static int build(const char *body, const struct mg_step_opts *o, struct mg_graph **g,
		 struct mg_err *e)
{
	const char *path = config("c.json", body);
	struct mg_config c = {0};
	int rc = mg_config_load(&c, &path, 1, NULL, 0, e);
	if (!rc)
		rc = mg_step_build(&c, o, g, NULL, e);
	mg_config_free(&c);
	return rc;
}

static void test_eval_graph(void)
{
	char body[2048];
	snprintf(body, sizeof body, "%s, %s", spleen_net, meta);
	struct mg_step_opts o = {.batch = 2};
	struct mg_err e = {0};
	struct mg_graph *g = NULL;
	CHECK_OK(build(body, &o, &g, &e), &e);
	if (!g)
		return;
	const struct mg_value *x = &g->values[g->inputs[0]];
	CHECK(!strcmp(x->name, "image") && x->param == MG_PARAM_NONE && x->type.rank == 5);
	int64_t want[5] = {2, 1, 16, 16, 16};
	CHECK(!memcmp(x->type.dims, want, sizeof want), "image dims from the metadata");
	int64_t nparams = 0;
	for (int i = 1; i < g->ninputs; i++) {
		const struct mg_value *v = &g->values[g->inputs[i]];
		int64_t n = 1;
		for (int d = 0; d < v->type.rank; d++)
			n *= v->type.dims[d];
		nparams += v->param == MG_PARAM_LEARNED ? n : 0;
	}
	CHECK(nparams == 4808917, "%lld parameters (MONAI's spleen UNet: 4808917)",
	      (long long)nparams);
	CHECK(g->noutputs == 1 && !strcmp(g->values[g->outputs[0]].name, "pred") && g->loss < 0,
	      "eval: one output, pred");
	mg_graph_free(g);

	/* --patch overrides the metadata; training adds the buffers' updates */
	o = (struct mg_step_opts){.batch = 1, .training = 1, .nspatial = 3, .spatial = {8, 8, 8}};
	snprintf(body, sizeof body, "%s, \"loss\": {\"_target_\": \"NoSuchLoss\"}", small_net);
	CHECK_FAILS(build(body, &o, &g, &e), &e, "loss: 'NoSuchLoss' is not a loss");
	snprintf(body, sizeof body, "%s, \"loss\": {\"_target_\": \"ScaleIntensity\"}", small_net);
	CHECK_FAILS(build(body, &o, &g, &e), &e, "loss: 'ScaleIntensity' is not a loss");
	CHECK_FAILS(build(small_net, &o, &g, &e), &e, "'loss'");
	snprintf(body, sizeof body, "%s, \"loss\": {\"_target_\": \"DiceLoss\"}, \"optimizer\": "
		 "{\"_target_\": \"torch.optim.RMSprop\"}", small_net);
	CHECK_FAILS(build(body, &o, &g, &e), &e, "optimizer: 'torch.optim.RMSprop' is not an "
		    "optimizer mgc knows");
	snprintf(body, sizeof body, "%s, \"loss\": {\"_target_\": \"DiceLoss\"}, \"optimizer\": "
		 "{\"_target_\": \"SGD\", \"lr\": \"fast\"}", small_net);
	CHECK_FAILS(build(body, &o, &g, &e), &e, "optimizer: argument 'lr'");

	/* the training step: label one channel (to_onehot_y), loss then pred outputs */
	snprintf(body, sizeof body, "%s, %s", small_net, train_parts);
	CHECK_OK(build(body, &o, &g, &e), &e);
	if (!g)
		return;
	int32_t label = -1;
	for (int i = 0; i < g->ninputs; i++)
		if (!strcmp(g->values[g->inputs[i]].name, "label"))
			label = g->inputs[i];
	CHECK(label >= 0 && g->values[label].type.dims[1] == 1 &&
		      g->values[label].type.dims[2] == 8, "label (1, 1, 8, 8, 8)");
	CHECK(g->loss >= 0 && g->outputs[0] == g->loss && g->optim == mg_op_find("Adam"),
	      "loss first, Adam the optimizer");
	mg_graph_free(g);
}

static void test_errors(void)
{
	struct mg_step_opts o = {.batch = 1};
	struct mg_err e = {0};
	struct mg_graph *g = NULL;
	char body[2048];
	CHECK_FAILS(build(meta, &o, &g, &e), &e, "'network_def'");
	snprintf(body, sizeof body, "\"network_def\": {\"in_channels\": 1}, %s", meta);
	CHECK_FAILS(build(body, &o, &g, &e), &e, "network_def: expected a component");
	snprintf(body, sizeof body, "\"network_def\": {\"_target_\": \"UNet\"}, %s", meta);
	CHECK_FAILS(build(body, &o, &g, &e), &e, "in_channels must be a positive integer");
	CHECK_FAILS(build(small_net, &o, &g, &e), &e, "give it with --patch");
	snprintf(body, sizeof body, "%s, \"_meta_\": {\"network_data_format\": {\"inputs\": "
		 "{\"image\": {\"spatial_shape\": [16, 0, 16]}}}}", small_net);
	CHECK_FAILS(build(body, &o, &g, &e), &e, "sizes must be positive integers");
	o.nspatial = 2, o.spatial[0] = o.spatial[1] = 8;
	CHECK_FAILS(build(small_net, &o, &g, &e), &e,
		    "network_def: UNet: spatial_dims is 3 but the input has 2 spatial axes");
	o.batch = 0;
	CHECK_FAILS(build(small_net, &o, &g, &e), &e, "batch must be at least 1");
	CHECK(g == NULL, "no graph from a failed build");
}

/* The commands: dump shows the step; run runs it on made-up data and reports it. */
static void test_commands(void)
{
	char body[2048], log[1 << 16];
	snprintf(body, sizeof body, "%s, %s", small_net, meta);
	const char *path = config("small.json", body);
	int rc = files_sh(log, sizeof log, "%s dump %s --step=eval --batch=2", MG_BIN, path);
	CHECK(rc == 0 && strstr(log, "%0:f32[2,1,16,16,16] = input \"image\"") &&
		      strstr(log, "= param \"model.0.conv.unit0.conv.weight\"") &&
		      strstr(log, "= buffer \"model.0.conv.unit0.adn.N.running_mean\"") &&
		      strstr(log, "output \"pred\""),
	      "mgc dump --step=eval: %s", log);
	rc = files_sh(log, sizeof log, "%s run %s --step=eval --steps=2 --verbose", MG_BIN, path);
	CHECK(rc == 0 && strstr(log, "step 1: ") && strstr(log, "step 2: ") &&
		      strstr(log, "kernels compiled in"),
	      "mgc run --step=eval: %s", log);
	rc = files_sh(log, sizeof log, "%s run %s --step=eval --weights=%s", MG_BIN, path,
		      files_path("none.safetensors"));
	CHECK(rc == 1 && strstr(log, "none.safetensors"), "a missing checkpoint: %s", log);
	/* training: the backward graph, the updates, and a loss that falls step by step */
	snprintf(body, sizeof body, "%s, %s, %s", small_net, meta, train_parts);
	const char *train = config("train.json", body);
	rc = files_sh(log, sizeof log, "%s dump %s --step=train --batch=2 --after=optimizer",
		      MG_BIN, train);
	CHECK(rc == 0 && strstr(log, "= DiceCELossGrad(") && strstr(log, "= ConvGradWeight(") &&
		      strstr(log, "= Adam(") &&
		      strstr(log, "= state \"model.0.conv.unit0.conv.weight.exp_avg\"") &&
		      strstr(log, "output \"model.0.conv.unit0.conv.weight.new\"") &&
		      strstr(log, "output \"model.0.conv.unit0.conv.weight.exp_avg.new\"") &&
		      strstr(log, "output \"model.0.conv.unit0.adn.N.running_mean.new\"") &&
		      !strstr(log, ".grad\""),
	      "mgc dump --step=train --after=optimizer: %.2000s", log);
	rc = files_sh(log, sizeof log, "%s run %s --step=train --batch=2 --steps=4", MG_BIN, train);
	double loss[4] = {0};
	const char *at = log;
	for (int s = 0; s < 4 && at; s++)
		if ((at = strstr(at, "loss ")))
			loss[s] = strtod(at += 5, NULL);
	CHECK(rc == 0 && loss[0] > loss[1] && loss[1] > loss[2] && loss[2] > loss[3] &&
		      loss[3] > 0, "mgc run --step=train: the loss falls: %s", log);
	/* --save writes what the last step left: resumed from it, the first loss is the
	 * third of the run above (same batch; the weights after two updates) */
	const char *saved = files_path("w.safetensors");
	rc = files_sh(log, sizeof log, "%s run %s --step=train --batch=2 --steps=2 --save=%s",
		      MG_BIN, train, saved);
	CHECK(rc == 0 && strstr(log, "weights written to "), "mgc run --save: %s", log);
	rc = files_sh(log, sizeof log, "%s run %s --step=train --batch=2 --steps=1 --weights=%s",
		      MG_BIN, train, saved);
	at = strstr(log, "loss ");
	CHECK(rc == 0 && at && strtod(at + 5, NULL) == loss[2],
	      "resumed from --save, the loss is step 3's (%.6g): %s", loss[2], log);
	rc = files_sh(log, sizeof log, "%s run %s --step=train --steps=1 --save=%s", MG_BIN,
		      train, files_path("no/such/dir/w.safetensors"));
	CHECK(rc == 1 && strstr(log, "no/such/dir/w.safetensors"), "an unwritable --save: %s",
	      log);
	rc = files_sh(log, sizeof log, "%s dump %s --step=test", MG_BIN, path);
	CHECK(rc == 2 && strstr(log, "--step is train or eval"), "%s", log);
	rc = files_sh(log, sizeof log, "%s dump %s --step=eval --patch=8,x", MG_BIN, path);
	CHECK(rc == 2 && strstr(log, "--patch wants"), "%s", log);
}

/* DynUNet's skip_layers keys name tensors a second time: the checkpoint holds them under
 * both keys, as torch's state_dict does, so MONAI's strict load accepts it. */
static void test_save_aliases(void)
{
	char body[2048], log[1 << 14];
	snprintf(body, sizeof body, "\"network_def\": {\"_target_\": \"DynUNet\", "
		 "\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, \"kernel_size\": "
		 "[3, 3, 3], \"strides\": [1, 2, 2], \"upsample_kernel_size\": [2, 2]}");
	const char *path = config("dyn.json", body), *saved = files_path("dyn.safetensors");
	int rc = files_sh(log, sizeof log, "%s run %s --step=eval --patch=8,8,8 --steps=1 "
			  "--save=%s", MG_BIN, path, saved);
	CHECK(rc == 0, "mgc run --step=eval --save: %s", log);
	struct mg_err e = {0};
	struct mg_safetensors *st = NULL;
	CHECK_OK(mg_safetensors_open(saved, &st, &e), &e);
	if (!st)
		return;
	int skips = 0;
	for (int i = 0; i < mg_safetensors_count(st); i++)
		skips += !strncmp(mg_safetensors_name(st, i), "skip_layers.", 12);
	const char *const *md = mg_safetensors_metadata(st);
	/* MONAI 1.6.1's state_dict of this DynUNet: 66 keys, 32 of them skip_layers.* */
	CHECK(mg_safetensors_count(st) == 66 && skips == 32, "%d keys, %d skip_layers.*",
	      mg_safetensors_count(st), skips);
	CHECK(md[0] && !strcmp(md[0], "format") && !strcmp(md[1], "pt"),
	      "metadata format: pt");
	mg_safetensors_close(st);
	rc = files_sh(log, sizeof log, "%s run %s --step=eval --patch=8,8,8 --steps=1 "
		      "--weights=%s", MG_BIN, path, saved);
	CHECK(rc == 0, "the saved checkpoint loads back: %s", log);
}

int main(void)
{
	if (files_init("mg_step_"))
		return 1;
	test_eval_graph();
	test_errors();
	test_commands();
	test_save_aliases();
	files_done();
	return check_done();
}
