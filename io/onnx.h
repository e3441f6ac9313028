// io/onnx.h - export a model to an ONNX file by tracing it (torch.onnx.export).
// The file runs in ONNX Runtime and every other ONNX consumer.
//
//   cg_module_eval(model);
//   cg_tensor *example = cg_randn(CG_SHAPE(2, 1, 28, 28), NULL); // batch first, 2+ samples
//   if (cg_onnx_export(model, example, "model.onnx", NULL) != 0) ... // cg_error says why
//
// The export traces: it runs model's forward once on a copy of `example` (which must have
// the batch dim first) with grad mode on and the copy requiring grad, so every op records
// its node (autograd/op.h), then walks that graph from the output and writes each op as
// ONNX nodes (the table of io/onnx_ops.c). The model's mode is used as is: put it in eval
// mode first (Dropout is then absent from the graph, BatchNorm uses its running
// statistics). Parameters require grad during the trace, so each is a named input of its
// op even when frozen; the model is left as it was (requires_grad, and the buffers a
// training-mode forward updates, are restored).
//
// Ops that cannot be exported (or an option of one that ONNX lacks, such as Upsample's
// antialias before opset 18) are refused with CG_ERR_ARG naming the op and the module that ran it
// (its state_dict path): "onnx_export: op 'mse_loss' (in module 'head') cannot be exported
// to ONNX". So is a tensor that is not the model's, with the example's batch size (above 1)
// as dim 0, that reaches the graph without a recorded op (a comparison's mask): its values
// would be frozen into the file (give the example two or more samples so this is checked).
// Nothing is written then. The exported ops and modules, and which ops differ by opset:
// docs/training.md, "ONNX export".
#ifndef CG_ONNX_H
#define CG_ONNX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../nn/module.h"

typedef struct cg_onnx_options {
    int opset;         // the ai.onnx opset, 13 to 17; 0: 17
    bool static_batch; // the batch dim fixed to example's (default: symbolic "N")
} cg_onnx_options;

// Write model, traced on example, to path (replaced atomically). options NULL: defaults.
// Returns 0, or -1 with an error (CG_ERR_ARG for a NULL or unbatched argument or an op that
// cannot be exported; the forward's own error if it fails; CG_ERR_IO for the file).
int cg_onnx_export(cg_module *model, const cg_tensor *example, const char *path,
                   const cg_onnx_options *options);

// The bytes of an ONNX ModelProto (allocated with cg_alloc).
typedef struct cg_onnx_bytes {
    uint8_t *data;
    size_t size;
} cg_onnx_bytes;
void cg_onnx_bytes_free(cg_onnx_bytes *bytes); // NULL is fine; leaves it empty

// The same graph export from an output already traced (grad mode on, `input` requiring
// grad), into *out (free with cg_onnx_bytes_free; empty on error). model (NULL allowed)
// names the initializers by its state_dict.
int cg_onnx_export_graph(const cg_module *model, const cg_tensor *input, const cg_tensor *output,
                         const cg_onnx_options *options, cg_onnx_bytes *out);

#endif
