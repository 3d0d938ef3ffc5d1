/* trace.c: the kernels `mgc compile` links, found by running the plan it ships on one
 * item (trace.h). What is traced is what that item makes the ops ask for: an item of
 * other dtypes, ranks or memory layouts later asks for kernels that are not linked, and
 * those steps run their reference kernels (correct, slower; docs/compile.md).
 * Invariant: the trace writes nothing where the pipeline would: ops that write files
 * (IO ops with an output_dir argument) write into a temporary folder, removed after. */
#define _GNU_SOURCE /* nftw */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include "../codegen/llvm.h"
#include "../ops/op.h"
#include "../ops/optab.h"
#include "trace.h"

/* e's message after what, followed by the options that get past it. */
static int with_hint(struct mg_err *e, const char *what)
{
	char msg[sizeof e->msg];
	int code = e->code;
	snprintf(msg, sizeof msg, "%s", e->msg);
	mg_err_clear(e);
	return mg_err_set(e, code, "%s: %.700s (give an item to trace with --sample=KEY=FILE, "
			  "once per key, or link no generated kernels with --no-trace)", what, msg);
}

/* The item of c's --sample=KEY=FILE arguments (a key given twice has two files), in
 * arena. */
static int sample_item(const struct cli *c, struct mg_arena *arena, struct mg_item *it,
		       struct mg_err *e)
{
	it->fields = mg_arena_alloc(arena, (size_t)c->nsamples * sizeof *it->fields);
	it->nfields = 0;
	for (int i = 0; it->fields && i < c->nsamples; i++) {
		const char *eq = strchr(c->samples[i], '=');
		char *key = mg_arena_printf(arena, "%.*s", (int)(eq - c->samples[i]), c->samples[i]);
		struct mg_field *f = NULL;
		for (int j = 0; key && j < it->nfields; j++)
			if (!strcmp(it->fields[j].key, key))
				f = &it->fields[j];
		if (!f && key) {
			f = &it->fields[it->nfields++];
			*f = (struct mg_field){key, 0, mg_arena_alloc(arena, (size_t)c->nsamples *
									 sizeof *f->str)};
		}
		if (f && f->str)
			f->str[f->nstr++] = mg_arena_strdup(arena, eq + 1);
	}
	return arena->failed || !it->fields ? mg_err_set(e, MG_ERR_NOMEM, "out of memory") : 0;
}

/* Steps whose op writes files into an output_dir get dir instead (their arguments
 * copied into arena). */
static void redirect_outputs(struct mg_plan *p, const char *dir, struct mg_arena *arena)
{
	for (int s = 0; s < p->nsteps; s++) {
		const struct mg_opdef *d = p->steps[s].def;
		int a = d && (d->flags & MG_OPF_IO) ? mg_op_attr_index(d, "output_dir") : -1;
		if (a < 0 || d->attrs[a].type != MG_ATTR_STR)
			continue;
		struct mg_attr *copy = mg_arena_alloc(arena, (size_t)d->nattrs * sizeof *copy);
		if (!copy)
			continue; /* arena->failed is checked by the caller */
		memcpy(copy, p->steps[s].attrs, (size_t)d->nattrs * sizeof *copy);
		copy[a].is_none = 0;
		copy[a].v.s = dir;
		p->steps[s].attrs = copy;
	}
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(path);
}

/* Runs f's plan on item with rec around a JIT backend whose kernels split over the
 * cores; item and step in the error. */
static int run_item(struct mg_plan_file *f, const struct mg_item *item,
		    struct mg_kir_recorder *rec, struct mg_err *e)
{
	struct mg_jit *jit = mg_jit_new(e);
	if (!jit)
		return e->code;
	struct mg_pool *pool = mg_pool_new(0);
	struct mg_jit_backend jb;
	mg_jit_backend_init(&jb, jit, pool);
	rec->inner = &jb.b;
	struct mg_val *slots = calloc((size_t)f->plan->nslots + 1, sizeof *slots);
	int rc = slots ? 0 : mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	if (!rc) {
		struct mg_kctx k = {.err = e, .gz_level = 1, .backend = &rec->b};
		rc = mg_exec_item(f->plan, item, 0, slots, &k, NULL);
		for (int s = 0; s < f->plan->nslots; s++)
			mg_val_release(&slots[s]);
	}
	free(slots);
	rec->inner = NULL; /* the JIT goes; what was recorded stays */
	mg_pool_free(pool);
	mg_jit_free(jit);
	return rc;
}

int trace_kernels(const struct cli *c, const void *blob, size_t n,
		  struct mg_kir_recorder *rec, struct mg_err *e)
{
	struct mg_plan_file f;
	struct mg_datalist dl = {0};
	struct mg_arena arena = {0};
	struct mg_item sample;
	const struct mg_item *item = &sample;
	char dir[4096] = "";
	mg_kir_recorder_init(rec, NULL);
	int rc = mg_plan_read(&f, blob, n, &mg_ops_optab, e);
	if (!rc && c->nsamples) {
		rc = sample_item(c, &arena, &sample, e);
	} else if (!rc) {
		rc = mg_datasrc_load(f.data, &dl, e);
		if (!rc && dl.n == 0)
			rc = mg_err_set(e, MG_ERR_CONFIG, "the datalist has no items");
		if (rc)
			with_hint(e, "tracing the kernels needs one item, and the datalist gives none "
				  "at compile time");
		else
			item = &dl.items[0];
	}
	if (!rc) {
		const char *tdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		snprintf(dir, sizeof dir, "%s/mgc-trace-XXXXXX", tdir);
		if (!mkdtemp(dir)) {
			rc = mg_err_set(e, MG_ERR_IO, "cannot make a temporary folder in %s", tdir);
			dir[0] = 0;
		}
	}
	if (!rc) {
		redirect_outputs(f.plan, dir, &arena);
		if (arena.failed)
			rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	if (!rc) {
		rc = run_item(&f, item, rec, e);
		if (rc)
			with_hint(e, c->nsamples ? "tracing the kernels on the --sample item"
						 : "tracing the kernels on the datalist's item 0");
	}
	if (dir[0])
		nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	mg_datalist_free(&dl);
	mg_plan_file_free(&f);
	mg_arena_free(&arena);
	return rc;
}
