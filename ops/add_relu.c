// ops/add_relu.c - relu(a + b) as one op: a residual block's add followed by its ReLU.
//
// One pass and one tensor (the output) instead of two: the ReLU's mask is read from the
// output in backward (y <= 0 exactly where a + b <= 0; NaN passes), as conv2d_relu does.
// Operands of different shapes broadcast as cg_add (the add's loop, then the ReLU in place).
#include "../autograd/autograd.h"
#include "../autograd/op.h"
#include "../kernels/elementwise.h"
#include "math.h"

// y = relu(a + b): da = db = g where y > 0 or y is NaN, else 0 (summed to a broadcast
// operand's shape by cg_accumulate_grad).
static void add_relu_backward(cg_node *n, const cg_tensor *grad) {
    cg_tensor *masked = cg_empty_like(grad);
    if (!masked) return;
    cg_relu_grad(n->output->data, grad->data, masked->data, masked->numel);
    // The first accumulate may adopt `masked` as the grad; the second then copies it.
    if (cg_needs_grad(n, 0)) cg_accumulate_grad(n->inputs[0], masked);
    if (cg_needs_grad(n, 1)) cg_accumulate_grad(n->inputs[1], masked);
}

const cg_op cg_op_add_relu = {"add_relu", add_relu_backward, "output by reference"};

cg_tensor *cg_add_relu(cg_tensor *a, cg_tensor *b) {
    if (!cg_check_arg(a, "add_relu", "a") || !cg_check_arg(b, "add_relu", "b")) return NULL;
    int ndim;
    int64_t shape[CG_MAX_DIMS];
    if (!cg_broadcast_shapes(a->ndim, a->shape, b->ndim, b->shape, &ndim, shape, "add_relu"))
        return NULL;
    cg_tensor *y;
    if (cg_same_shape(a, b)) {
        if (!(y = cg_empty_like(a))) return NULL;
        cg_add_relu_floats(a->data, b->data, y->data, y->numel);
    } else {
        bool grad_mode = cg_set_grad_enabled(false); // recorded below as add_relu
        y = cg_add(a, b);
        cg_set_grad_enabled(grad_mode);
        if (!y) return NULL;
        cg_relu_floats(y->data, y->data, y->numel);
    }
    cg_record(y, &cg_op_add_relu, 2, (cg_tensor *[]){a, b});
    return y;
}
