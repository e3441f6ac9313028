// autograd/record_hook_internal.h - a listener told of every node cg_record creates on the
// calling thread, right after it is made. Graph export (io/onnx_trace.c) uses it to note
// which module was running when each op was recorded (cg_error_context(), the module path
// cg_module_forward maintains), so an op it cannot export is refused naming its module.
// Not installed.
#ifndef CG_RECORD_HOOK_INTERNAL_H
#define CG_RECORD_HOOK_INTERNAL_H

#include "op.h"

typedef void (*cg_record_hook_fn)(cg_node *node, void *ctx);
// Per thread; fn NULL removes it. One hook at a time: the caller restores what it replaced.
void cg_set_record_hook(cg_record_hook_fn fn, void *ctx);

#endif
