/* optab.h: the ops as runtime/ sees them (struct mg_optab), for writing and reading
 * serialized plans: an embedding program passes mg_ops_optab to mg_plan_load. Public:
 * installed with the runtime's headers. Read next: runtime/plan.h, examples/embed.c. */
#ifndef MG_OPTAB_H
#define MG_OPTAB_H

#include "../runtime/plan.h"

extern const struct mg_optab mg_ops_optab;

#endif
