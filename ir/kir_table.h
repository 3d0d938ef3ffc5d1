/* kir_table.h: sets of distinct kernels, and the two executor backends (runtime/plan.h's
 * struct mg_backend) built on them: the recorder with which `mgc compile` traces the
 * kernels a pipeline hands to its backend (each distinct IR kept once, then run by the
 * backend it wraps), and the table of kernels compiled ahead of time that a compiled
 * pipeline runs (no LLVM: the functions are linked in).
 * Invariant: a kernel is found by mg_kir_hash, then confirmed by mg_kir_equal; a hash
 * alone never picks code.
 * Read next: kir_table.c, kir_io.c (the table's IR bytes), tools/compile.c (the tracing and
 * the table it writes), tools/standalone/main.c; docs/compile.md. */
#ifndef MG_KIR_TABLE_H
#define MG_KIR_TABLE_H

#include <pthread.h>

#include "kir.h"

/* Distinct kernels, each a copy (nodes and name in the set's arena). */
struct mg_kir_set {
	int n, cap;
	uint64_t *hash;
	struct mg_kir *k;
	struct mg_arena arena;
};

/* The index of the kernel equal to k (h = mg_kir_hash(k)), or -1. */
int mg_kir_set_find(const struct mg_kir_set *s, const struct mg_kir *k, uint64_t h);
/* Adds a copy of k; its index, or -1 with an error. */
int mg_kir_set_add(struct mg_kir_set *s, const struct mg_kir *k, uint64_t h, struct mg_err *e);
void mg_kir_set_free(struct mg_kir_set *s);

/* The recorder: run keeps k in `seen` when it is new, then hands it to inner. */
struct mg_kir_recorder {
	struct mg_backend b;
	struct mg_backend *inner;
	pthread_mutex_t lock;
	struct mg_kir_set seen;
};
void mg_kir_recorder_init(struct mg_kir_recorder *r, struct mg_backend *inner);
void mg_kir_recorder_free(struct mg_kir_recorder *r);

/* One kernel compiled ahead of time: its IR as mg_kir_write wrote it, and its code.
 * mgc compile writes an array of these as C (tools/compile.c spells the same layout). */
struct mg_kir_entry {
	const unsigned char *ir;
	size_t n;
	mg_kfn *fn;
};

/* The table backend: run launches the linked function of the kernel equal to k on pool
 * (NULL: the calling thread), or answers MG_ERR_UNSUPPORTED (the op then runs its
 * reference kernel) and keeps k among the kernels that fell back. */
struct mg_kir_table {
	struct mg_backend b;
	struct mg_pool *pool;
	struct mg_kir_set linked;
	mg_kfn **fn; /* per linked kernel */
	int64_t hits, misses; /* calls that ran linked code / fell back (atomic) */
	pthread_mutex_t lock; /* missing */
	struct mg_kir_set missing;
};
/* Reads the n entries (a corrupt one is an MG_ERR_FORMAT error naming its index);
 * free with mg_kir_table_free even on failure. */
int mg_kir_table_init(struct mg_kir_table *t, const struct mg_kir_entry *entries, int n,
		      struct mg_pool *pool, struct mg_err *e);
void mg_kir_table_free(struct mg_kir_table *t);
/* For --verbose: the kernels linked, the calls that ran them, the calls that fell back
 * and the names of the kernels they asked for, as one line. */
void mg_kir_table_report(struct mg_kir_table *t, FILE *f);

#endif
