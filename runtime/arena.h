/* arena.h: bump allocation for graphs, plans and compilations; freed all at once.
 * An allocation failure sets a sticky flag that the owner turns into an error. */
#ifndef MG_ARENA_H
#define MG_ARENA_H

#include <stddef.h>

struct mg_arena_block;

struct mg_arena {
	struct mg_arena_block *head;
	int failed; /* sticky: some allocation returned NULL */
};

void *mg_arena_alloc(struct mg_arena *a, size_t size); /* zeroed, 16-aligned */
char *mg_arena_strdup(struct mg_arena *a, const char *s);
char *mg_arena_printf(struct mg_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mg_arena_free(struct mg_arena *a);

#endif
