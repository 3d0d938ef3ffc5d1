/* safetensors.h: weights in the safetensors format (Hugging Face's; what
 * `safetensors.torch.save_file(model.state_dict(), path)` writes): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__":
 * {string: string}}, then the tensors' bytes, C order, little-endian, packed end to end.
 * Invariant: an open file has passed every check of the format; its tensors are views
 * over one private mapping of the file (copied only when misaligned for their dtype).
 * Read next: safetensors.c, docs/weights.md. */
#ifndef MG_SAFETENSORS_H
#define MG_SAFETENSORS_H

#include "runtime.h"

struct mg_safetensors; /* an open file */

/* Maps and checks the whole file: header length (at most 100 MB, inside the file), the
 * header a JSON object starting with '{' (trailing whitespace allowed), each entry's
 * dtype, shape and data_offsets, byte counts, no duplicate names, and the tensors
 * covering the data area exactly (no holes, overlaps or trailing bytes). dtypes F64 F32
 * F16 BF16 I64 I32 U32 I16 U16 I8 U8 map to mgc's; BOOL is read as uint8 (0/1); others
 * (U64, F8_*, ...) are refused, naming the tensor. Errors name the file and the tensor
 * or key (MG_ERR_IO, MG_ERR_FORMAT, MG_ERR_UNSUPPORTED, MG_ERR_NOMEM). */
int mg_safetensors_open(const char *path, struct mg_safetensors **out, struct mg_err *e);
/* Tensors already taken keep the mapping alive. NULL is fine. */
void mg_safetensors_close(struct mg_safetensors *st);

/* Tensors in file order (by data offset, which is the header's order in files the
 * reference implementation writes). */
int mg_safetensors_count(const struct mg_safetensors *st);
const char *mg_safetensors_name(const struct mg_safetensors *st, int i); /* NULL outside */
int mg_safetensors_find(const struct mg_safetensors *st, const char *name); /* index, -1 */
/* The tensor named name: contiguous, no meta; a copy-on-write view of the mapping when
 * aligned for its dtype (writes stay in memory, never reach the file), else a copy.
 * MG_ERR_CONFIG "<file>: no tensor '<name>'" when absent. */
int mg_safetensors_get(const struct mg_safetensors *st, const char *name,
		       struct mg_tensor *out, struct mg_err *e);
/* __metadata__ as key, value, key, value, ..., NULL in the header's order (just NULL
 * when the file has none). Lives as long as st. */
const char *const *mg_safetensors_metadata(const struct mg_safetensors *st);

/* Writes n named tensors (any strides and offsets: stored contiguous, C order) and
 * metadata (key, value, ..., NULL; or NULL) as the reference implementation does:
 * tensors by dtype alignment (widest first), then name; "__metadata__" first in the
 * header; the header padded with spaces to a multiple of 8, so every tensor is aligned.
 * Names and metadata must be UTF-8, names unique and not "__metadata__". The file
 * appears whole or not at all (a temporary in the same folder, then rename). */
int mg_safetensors_write(const char *path, int n, const char *const *names,
			 const struct mg_tensor *tensors, const char *const *metadata,
			 struct mg_err *e);

#endif
