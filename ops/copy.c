// ops/copy.c - writing values into a tensor from user code: copy_, copy_from_, set_grad.
//
// These are the public replacements for memcpy into ->data and for cg_grad_buffer (an
// op-author function). Like PyTorch's in-place ops they are not recorded, so they refuse
// to write into the result of an op, and into a leaf that requires grad while grad mode
// is on (PyTorch: "a leaf Variable that requires grad is being used in an in-place
// operation"; wrap the write in cg_set_grad_enabled(false) as in torch.no_grad()).
#include <string.h>

#include "../autograd/autograd.h"
#include "../autograd/op.h"
#include "view.h"

static bool writable(const cg_tensor *t, const char *op) {
    if (t->node) {
        cg_error(CG_ERR_STATE,
                 "%s: tensor of shape %s is the result of an op; an in-place write would not "
                 "be seen by its graph (write into a leaf, or cg_detach it first)",
                 op, cg_tensor_shape_str(t));
        return false;
    }
    if (t->requires_grad && cg_is_grad_enabled()) {
        cg_error(CG_ERR_STATE,
                 "%s: a leaf tensor of shape %s that requires grad is being used in an in-place "
                 "operation; turn grad mode off around it (cg_set_grad_enabled(false))",
                 op, cg_tensor_shape_str(t));
        return false;
    }
    return true;
}

cg_tensor *cg_copy_(cg_tensor *dst, const cg_tensor *src) {
    if (!cg_check_arg(dst, "copy_", "dst") || !cg_check_arg(src, "copy_", "src")) return NULL;
    if (!cg_same_shape(dst, src))
        return cg_error(CG_ERR_SHAPE, "copy_: src of shape %s does not match dst of shape %s",
                        cg_tensor_shape_str(src), cg_tensor_shape_str(dst));
    if (!writable(dst, "copy_")) return NULL;
    if (dst->data != src->data) memmove(dst->data, src->data, (size_t)dst->numel * sizeof(float));
    return dst;
}

cg_tensor *cg_copy_from_(cg_tensor *t, const float *data, int64_t n) {
    if (!cg_check_arg(t, "copy_from_", "tensor")) return NULL;
    if (!data && n > 0) return cg_error(CG_ERR_ARG, "copy_from_: argument 'data' is NULL");
    if (n != t->numel)
        return cg_error(CG_ERR_SHAPE,
                        "copy_from_: %lld values given for a tensor of shape %s (%lld elements)",
                        (long long)n, cg_tensor_shape_str(t), (long long)t->numel);
    if (!writable(t, "copy_from_")) return NULL;
    if (n > 0) memmove(t->data, data, (size_t)n * sizeof(float));
    return t;
}

int cg_set_grad(cg_tensor *t, const cg_tensor *grad) {
    if (!cg_check_arg(t, "set_grad", "tensor")) return -1;
    if (!grad) { // t.grad = None
        cg_free(t->grad);
        t->grad = NULL;
        return 0;
    }
    if (!cg_same_shape(t, grad)) {
        cg_error(CG_ERR_SHAPE,
                 "set_grad: assigned grad of shape %s does not match the tensor's shape %s",
                 cg_tensor_shape_str(grad), cg_tensor_shape_str(t));
        return -1;
    }
    cg_tensor *buffer = cg_grad_buffer(t); // owned by t, outside any scope
    if (!buffer) return -1;
    if (buffer->data != grad->data)
        memmove(buffer->data, grad->data, (size_t)t->numel * sizeof(float));
    return 0;
}
