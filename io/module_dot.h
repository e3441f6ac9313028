// io/module_dot.h - the autograd graph as Graphviz DOT with every parameter and buffer of a
// model labelled by its state_dict path ("features.3.weight") instead of its own name
// ("weight"), which is all autograd/dot.c can know.
//
//   cg_tensor *loss = cg_cross_entropy(cg_module_forward(model, x), y, NULL);
//   cg_module_save_dot(model, loss, "graph.dot");   // dot -Tpng graph.dot -o graph.png
#ifndef CG_MODULE_DOT_H
#define CG_MODULE_DOT_H

#include <stdio.h>

#include "../nn/module.h"

// As cg_graph_to_dot / cg_graph_save_dot; the tensors' own names are restored afterwards.
int cg_module_graph_to_dot(const cg_module *model, const cg_tensor *t, FILE *out);
int cg_module_save_dot(const cg_module *model, const cg_tensor *t, const char *path);

#endif
