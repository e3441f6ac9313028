// autograd/dot.c - export the graph behind a tensor as Graphviz DOT.
//
// Tensors are ellipses labelled with their shape (and name); ops are boxes labelled with
// the op name and what it saved. Leaves that require grad are filled: those are the
// tensors whose .grad backward fills for the user.
#include "autograd.h"
#include "op.h"

static void tensor_node(FILE *out, const cg_tensor *t) {
    const char *fill = t->requires_grad && !t->node ? ", style=filled, fillcolor=lightblue" : "";
    fprintf(out, "  t%p [shape=ellipse, label=\"%s%s%s\"%s];\n", (const void *)t,
            t->name ? t->name : "", t->name ? "\\n" : "", cg_tensor_shape_str(t), fill);
}

// Depth-first over nodes; each tensor is printed by the edge that first reaches it.
static void walk(FILE *out, const cg_tensor *t, uint32_t epoch) {
    cg_node *n = t->node;
    if (!n || n->visit == epoch) return;
    n->visit = epoch;
    fprintf(out, "  n%p [shape=box, label=\"%s\\nsaves: %s\"];\n", (const void *)n, n->op->name,
            n->op->saves ? n->op->saves : "-");
    fprintf(out, "  n%p -> t%p;\n", (const void *)n, (const void *)t);
    for (int i = 0; i < n->n_inputs; i++) {
        const cg_tensor *in = n->inputs[i];
        if (!in) continue;
        tensor_node(out, in);
        fprintf(out, "  t%p -> n%p;\n", (const void *)in, (const void *)n);
        walk(out, in, epoch);
    }
}

int cg_graph_to_dot(const cg_tensor *t, FILE *out) {
    if (!cg_check_arg(t, "graph_to_dot", "tensor") || !cg_check_ptr(out, "graph_to_dot", "out"))
        return -1;
    static uint32_t epoch = 0x80000000u; // distinct from the epochs backward uses
    fprintf(out, "digraph cgrad {\n  rankdir=BT;\n");
    tensor_node(out, t);
    walk(out, t, ++epoch);
    fprintf(out, "}\n");
    return ferror(out) ? -1 : 0;
}

int cg_graph_save_dot(const cg_tensor *t, const char *path) {
    if (!cg_check_arg(t, "graph_save_dot", "tensor")) return -1; // before creating the file
    if (!path) {
        cg_error(CG_ERR_ARG, "graph_save_dot: path is NULL");
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        cg_error(CG_ERR_IO, "graph_save_dot: cannot open '%s' for writing", path);
        return -1;
    }
    int rc = cg_graph_to_dot(t, f);
    if (fclose(f) != 0) rc = -1;
    if (rc != 0) cg_error(CG_ERR_IO, "graph_save_dot: writing '%s' failed", path);
    return rc;
}
