// io/pth.h - PyTorch's .pth files: what torch.save(model.state_dict(), path) writes, read
// into cgrad models, and state dicts written so that torch.load reads them.
//
//   cg_module_load_pth("m.pth", model, NULL, NULL);          // strict, like cg_module_load
//   cg_module_load_pth("run.pth", model,                    // a training checkpoint dict
//                      &(cg_load_options){.key_path = "model"}, NULL);
//   cg_module_save_pth("out.pth", model);  // torch: model.load_state_dict(
//                                          //   torch.load("out.pth", weights_only=True))
//
// The format (PyTorch 1.6+): a zip archive "<name>/data.pkl" (a pickle, protocol 2, of the
// state_dict, an OrderedDict of name -> tensor), "<name>/data/<key>" (each storage's raw
// bytes), "<name>/version", and since PyTorch 2.0 "<name>/byteorder" ("little" or "big";
// little when absent). A tensor in the pickle is _rebuild_tensor_v2(storage, offset, size,
// stride, ...), a view of a storage that other tensors may share.
//
// Reading is safe on untrusted files: the pickle is interpreted, never executed (io/pickle.c).
// Only collections.OrderedDict, torch._utils._rebuild_tensor_v2, _rebuild_parameter and the
// torch.*Storage types are accepted; any other global is refused with an error naming it
// (a __reduce__ calling os.system is refused as "global 'posix.system' is not allowed").
// Stack and memo depth, entry counts, declared sizes (against the file size, and deflated
// entries against deflate's best ratio) and views (against their storages) are all checked.
//
// Storages of float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 and
// bool are converted to float32 (int64 num_batches_tracked included, as cg_safetensors_load).
// Views keep PyTorch's values: offsets, any strides (transposes, slices, stride-0 expands)
// and shared storages are read element by element.
//
// Refused with CG_ERR_FORMAT naming the file: the legacy pre-1.6 format
// (_use_new_zipfile_serialization=False: re-save it with a newer torch), a pickled module
// (torch.save(model): save model.state_dict()), TorchScript archives, and a dict holding
// other things than tensors (a training checkpoint {"model": ..., "optimizer": ...}) unless
// key_path names the state dict inside it. A file that is fine but does not fit the model
// is CG_ERR_SHAPE with the same report as cg_module_load_ex.
#ifndef CG_PTH_H
#define CG_PTH_H

#include "../nn/module.h"
#include "checkpoint.h"

// The tensors of the state dict in path, in the file's order, as float32 tensors created
// outside any scope (free with cg_pth_free). key_path (NULL or "" for the top level) is a
// '.'-separated path of dict keys to the state dict: "model", "state_dict.model".
// Returns 0, or -1 with *out empty.
int cg_pth_load(const char *path, const char *key_path, cg_tensor_list *out);
void cg_pth_free(cg_tensor_list *list); // frees the tensors and the list; NULL is fine

// Write `tensors` as torch.save(OrderedDict) writes a state dict: float32 storages (int64
// for names ending in "num_batches_tracked", as BatchNorm's buffer), one per tensor, stored
// entries aligned to 64 bytes, archive name "archive". Atomic as cg_safetensors_save.
int cg_pth_save(const char *path, const cg_tensor_list *tensors);

// cg_module_load_ex for .pth files: options->non_strict and options->key_path apply; the
// report lists missing and unexpected names. Nothing is written on error.
int cg_module_load_pth(const char *path, cg_module *m, const cg_load_options *options,
                       cg_load_report *report);
// cg_pth_save of cg_module_state_dict(m).
int cg_module_save_pth(const char *path, const cg_module *m);

#endif
