/* arena.c: bump allocation in 64 KiB blocks (larger requests get their own block). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct mg_arena_block {
	struct mg_arena_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

void *mg_arena_alloc(struct mg_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	struct mg_arena_block *b = a->head;
	if (!b || b->cap - b->used < size) {
		size_t cap = size > 65536 ? size : 65536;
		b = malloc(sizeof *b + cap);
		if (!b) {
			a->failed = 1;
			return NULL;
		}
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *mg_arena_strdup(struct mg_arena *a, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = mg_arena_alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *mg_arena_printf(struct mg_arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *p = n >= 0 ? mg_arena_alloc(a, (size_t)n + 1) : NULL;
	if (p)
		vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

void mg_arena_free(struct mg_arena *a)
{
	while (a->head) {
		struct mg_arena_block *b = a->head;
		a->head = b->next;
		free(b);
	}
	a->failed = 0;
}
