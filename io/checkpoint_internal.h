// io/checkpoint_internal.h - the loading step shared by every state-dict format: match the
// tensors read from a file against the model's (strict or not, cg_load_report) and copy.
#ifndef CG_CHECKPOINT_INTERNAL_H
#define CG_CHECKPOINT_INTERNAL_H

#include "checkpoint.h"

// Load the named tensors `file` (read from path; names as in cg_module_state_dict) into
// m as cg_module_load_ex does; `who` names the caller in messages. Returns 0 or -1.
int cg_module_load_tensors(const char *who, const char *path, cg_module *m,
                           const cg_tensor_list *file, const cg_load_options *options,
                           cg_load_report *report);

#endif
