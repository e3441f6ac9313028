// ops/pad.c - F.pad: constant (including negative padding, which crops), reflect, replicate
// and circular, forward and backward.
//
// Every mode is one rule "output position o along a dim reads input position src(o)" (or
// the constant when there is none), so forward and backward walk the same index maps:
// forward gathers out[o] = in[src(o)], backward scatters dx[src(o)] += dy[o], which sums the
// gradient of every copy of an edge value back into it.
#include <string.h>

#include "../tensor/checked.h"
#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "../tensor/tensor_internal.h"
#include "conv.h"
#include "op_ctx_internal.h"
#include "view.h"

const char *cg_padding_mode_name(cg_padding_mode mode) {
    static const char *const names[] = {"zeros", "reflect", "replicate", "circular", "constant"};
    return (unsigned)mode < sizeof names / sizeof names[0] ? names[mode] : "unknown";
}

static bool is_constant(cg_padding_mode mode) {
    return mode == CG_PAD_ZEROS || mode == CG_PAD_CONSTANT;
}

// The input index output position o reads along a dim of `size` padded by (before,
// after), or -1 for the constant.
static int64_t source_index(int64_t o, int64_t before, int64_t after, int64_t size,
                            cg_padding_mode mode) {
    if (mode == CG_PAD_CIRCULAR) { // PyTorch crops the negative pads first, then wraps the rest
        int64_t crop_lo = before < 0 ? -before : 0, crop_hi = after < 0 ? -after : 0;
        int64_t kept = size - crop_lo - crop_hi; // > 0, checked
        int64_t i = o - (before > 0 ? before : 0);
        return crop_lo + ((i % kept) + kept) % kept;
    }
    int64_t i = o - before;
    if (i >= 0 && i < size) return i;
    switch (mode) {
    case CG_PAD_REFLECT: // mirror without repeating the edge (pad < size is checked)
        return i < 0 ? -i : 2 * (size - 1) - i;
    case CG_PAD_REPLICATE:
        return i < 0 ? 0 : size - 1;
    case CG_PAD_CIRCULAR: // handled above
    case CG_PAD_ZEROS:
    case CG_PAD_CONSTANT:
        break;
    }
    return -1; // the constant (plan_pad refused any other mode value)
}

// One map per dim, out_shape[d] entries each, carved from one buffer.
static int64_t *build_maps(const pad_plan *p, int64_t **maps) {
    int64_t total = 0;
    for (int d = 0; d < p->ndim; d++) total += p->out_shape[d];
    int64_t *buf = cg_alloc((size_t)(total > 0 ? total : 1) * sizeof(int64_t));
    if (!buf) return NULL;
    int64_t *next = buf;
    for (int d = 0; d < p->ndim; d++) {
        maps[d] = next;
        for (int64_t o = 0; o < p->out_shape[d]; o++)
            next[o] = source_index(o, p->before[d], p->after[d], p->in_shape[d], p->mode);
        next += p->out_shape[d];
    }
    return buf;
}

// Forward (adjoint false): out[o] = in[src(o)] or the constant.
// Backward (adjoint true): in[src(o)] += out[o], with `in` the input gradient.
static void pad_walk(const pad_plan *p, float *in, float *out, bool adjoint) {
    int64_t *maps[CG_MAX_DIMS];
    int64_t *buf = build_maps(p, maps);
    if (!buf) return;
    int nd = p->ndim, last = nd - 1;
    int64_t in_strides[CG_MAX_DIMS], index[CG_MAX_DIMS] = {0};
    cg_contiguous_strides(nd, p->in_shape, in_strides);
    int64_t row_len = p->out_shape[last], rows = 1;
    for (int d = 0; d < last; d++) rows *= p->out_shape[d];
    if (row_len == 0) rows = 0;
    for (int64_t r = 0; r < rows; r++) {
        // Where this output row starts in the input, or -1 if it lies in the padding.
        int64_t base = 0;
        for (int d = 0; d < last && base >= 0; d++) {
            int64_t s = maps[d][index[d]];
            base = s < 0 ? -1 : base + s * in_strides[d];
        }
        float *row = out + r * row_len;
        const int64_t *map = maps[last];
        if (adjoint) {
            for (int64_t j = 0; base >= 0 && j < row_len; j++)
                if (map[j] >= 0) in[base + map[j]] += row[j];
        } else {
            for (int64_t j = 0; j < row_len; j++)
                row[j] = base >= 0 && map[j] >= 0 ? in[base + map[j]] : p->value;
        }
        for (int d = last - 1; d >= 0; d--) { // next row index, odometer style
            if (++index[d] < p->out_shape[d]) break;
            index[d] = 0;
        }
    }
    cg_dealloc(buf);
}

// input (...) -> padded (...): dx[src(o)] += dy[o]
static void pad_backward(cg_node *n, const cg_tensor *grad_output) {
    const pad_plan *p = n->ctx;
    cg_tensor *dx = cg_grad_buffer(n->inputs[0]);
    if (dx) pad_walk(p, dx->data, grad_output->data, true);
}
const cg_op cg_op_pad = {"pad", pad_backward, "pads, mode"};

// PyTorch's rules for the non-constant modes: 2k pads act on the last k dims of a
// (k+1)-D or (k+2)-D input, k = 1..3; reflect needs pad < size, circular pad <= size.
static int check_mode(const cg_tensor *input, int n_pads, const int *pads, cg_padding_mode mode) {
    int k = n_pads / 2;
    if (k < 1 || k > 3 || (input->ndim != k + 1 && input->ndim != k + 2)) {
        cg_error(CG_ERR_SHAPE,
                 "pad: %s padding with %d values pads the last %d dims of a %dD or %dD input, "
                 "but got input of shape %s (Only 2D, 3D, 4D, 5D padding with non-constant "
                 "padding are supported)",
                 cg_padding_mode_name(mode), n_pads, k, k + 1, k + 2, cg_tensor_shape_str(input));
        return -1;
    }
    for (int i = 0; i < k; i++) {
        int dim = input->ndim - 1 - i;
        int64_t size = input->shape[dim];
        int lo = pads[2 * i], hi = pads[2 * i + 1];
        if (mode == CG_PAD_REFLECT && (lo >= size || hi >= size)) {
            cg_error(CG_ERR_ARG,
                     "pad: reflect padding (%d, %d) at dimension %d must be less than the input "
                     "size %lld there (Padding size should be less than the corresponding input "
                     "dimension), input of shape %s",
                     lo, hi, dim, (long long)size, cg_tensor_shape_str(input));
            return -1;
        }
        // circular wraps what is left after cropping, at most once
        int64_t kept = size - (lo < 0 ? -lo : 0) - (hi < 0 ? -hi : 0);
        if (mode == CG_PAD_CIRCULAR && (kept <= 0 || lo > kept || hi > kept)) {
            cg_error(CG_ERR_ARG,
                     "pad: circular padding (%d, %d) at dimension %d is larger than the input "
                     "size %lld left there after cropping (Padding value causes wrapping around "
                     "more than once), input of shape %s",
                     lo, hi, dim, (long long)kept, cg_tensor_shape_str(input));
            return -1;
        }
    }
    return 0;
}

static int plan_pad(const cg_tensor *input, int n_pads, const int *pads, cg_padding_mode mode,
                    float value, pad_plan *p) {
    if (n_pads < 0 || n_pads % 2 != 0) {
        cg_error(CG_ERR_ARG, "pad: Padding length must be divisible by 2, but got %d values",
                 n_pads);
        return -1;
    }
    if (n_pads / 2 > input->ndim) {
        cg_error(CG_ERR_ARG, "pad: Padding length too large: %d values for input of shape %s",
                 n_pads, cg_tensor_shape_str(input));
        return -1;
    }
    if ((unsigned)mode > CG_PAD_CONSTANT) {
        cg_error(CG_ERR_ARG, "pad: unknown padding mode %d", (int)mode);
        return -1;
    }
    if (mode == CG_PAD_ZEROS && value != 0.0f) {
        cg_error(CG_ERR_ARG,
                 "pad: mode zeros pads with 0 but value=%g was given (use CG_PAD_CONSTANT to fill "
                 "a value)",
                 (double)value);
        return -1;
    }
    if (!is_constant(mode) && check_mode(input, n_pads, pads, mode) < 0) return -1;
    memset(p, 0, sizeof *p);
    p->ndim = input->ndim;
    p->mode = mode;
    p->value = mode == CG_PAD_CONSTANT ? value : 0.0f;
    memcpy(p->in_shape, input->shape, sizeof p->in_shape);
    memcpy(p->out_shape, input->shape, sizeof p->out_shape);
    for (int i = 0; i < n_pads / 2; i++) {
        int dim = input->ndim - 1 - i;
        int64_t size = input->shape[dim] + pads[2 * i] + pads[2 * i + 1];
        if (size < 0 || (size == 0 && !is_constant(mode))) {
            cg_error(CG_ERR_SHAPE,
                     "pad: The input size %lld, plus negative padding %d and %d resulted in a "
                     "negative output size, which is invalid. Check dimension %d of your input "
                     "of shape %s",
                     (long long)input->shape[dim], pads[2 * i], pads[2 * i + 1], dim,
                     cg_tensor_shape_str(input));
            return -1;
        }
        p->out_shape[dim] = size;
        p->before[dim] = pads[2 * i];
        p->after[dim] = pads[2 * i + 1];
    }
    return 0;
}

cg_tensor *cg_pad(cg_tensor *input, int n_pads, const int *pads, cg_padding_mode mode,
                  float value) {
    if (!cg_check_arg(input, "pad", "input")) return NULL;
    if (n_pads > 0 && !pads) return cg_error(CG_ERR_ARG, "pad: argument 'pads' is NULL");
    if (input->ndim == 0) {
        if (n_pads != 0)
            return cg_error(CG_ERR_ARG,
                            "pad: Padding length too large: %d values for a 0-d "
                            "input",
                            n_pads);
        return cg_copy(input);
    }
    pad_plan p;
    if (plan_pad(input, n_pads, pads, mode, value, &p) < 0) return NULL;
    cg_tensor *out = cg_empty_for("pad", "output shape", p.ndim, p.out_shape);
    if (!out) return NULL;
    pad_walk(&p, input->data, out->data, false);
    cg_node *n = cg_record(out, &cg_op_pad, 1, &input);
    if (n) cg_node_set_ctx(n, &p, sizeof p);
    return out;
}
