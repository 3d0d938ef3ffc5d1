/* views.h: the random memory layouts of the differential tests. A tensor of the given
 * dims whose axes lie in memory in a random order, a third of them flipped (a view with a
 * negative stride), drawn from the test's own generator: a generated kernel must give
 * its reference kernel's values whatever layout the executor hands it. */
#ifndef MG_TEST_VIEWS_H
#define MG_TEST_VIEWS_H

#include "check.h"

/* rng(): the test's next 64 random bits. The data is left as allocated. */
static void views_random(struct mg_tensor *t, enum mg_dtype dt, int rank, const int64_t *dims,
			 uint64_t (*rng)(void))
{
	int perm[MG_MAX_RANK];
	for (int i = 0; i < rank; i++)
		perm[i] = i;
	for (int i = rank - 1; i > 0; i--) {
		int j = (int)(rng() % (uint64_t)(i + 1)), tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc_order(t, dt, rank, dims, perm, &e), &e);
	for (int i = 0; i < rank; i++)
		if (rng() % 3 == 0) {
			t->offset += (t->dims[i] - 1) * t->strides[i];
			t->strides[i] = -t->strides[i];
		}
}

#endif
