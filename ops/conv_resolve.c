// ops/conv_resolve.c - cg_conv_options -> cg_conv_geometry, with every argument check of
// the convolution family in one place (messages follow PyTorch's wording and name the op,
// the parameter and the shapes).
#include <stdio.h>
#include <string.h>

#include "../tensor/checked.h"
#include "conv_internal.h"

// "(h, w)" for 2-D ops, "(w,)" for 1-D ones, as PyTorch prints its tuples.
static const char *pair_str(int spatial, int64_t h, int64_t w) {
    const int64_t v[2] = {h, w};
    return cg_tuple_str(CG_TUPLE_PYTHON, spatial, v + 2 - spatial);
}

// One spatial option (tensor/options.h, rule 2). 1-D ops read the scalar as the length
// and keep the neutral value for the height; a pair there is an error, not ignored.
static int option_pair(const char *op, const char *name, int spatial, int scalar, const int hw[2],
                       int dflt, int out[2]) {
    if (spatial == 1) {
        if (hw[0] != 0 || hw[1] != 0) {
            cg_error(CG_ERR_ARG, "%s: %s_hw=%s is a 2-D option; 1-D ops read %s (got %s=%d)", op,
                     name, pair_str(2, hw[0], hw[1]), name, name, scalar);
            return -1;
        }
        out[0] = dflt;
        out[1] = scalar ? scalar : dflt;
        return 0;
    }
    cg_option_hw(scalar, hw, dflt, dflt, out);
    return 0;
}

int cg_conv_kernel_size(const char *op, int spatial, int kernel_size, const cg_conv_options *o,
                        int kernel[2]) {
    static const cg_conv_options defaults;
    if (!o) o = &defaults;
    if (option_pair(op, "kernel_size", spatial, kernel_size, o->kernel_size_hw, 0, kernel) < 0)
        return -1;
    if (spatial == 1) kernel[0] = 1;
    if (kernel[0] > 0 && kernel[1] > 0) return 0;
    if (spatial == 1)
        cg_error(CG_ERR_ARG, "%s: kernel_size must be positive, got kernel_size=%d", op,
                 kernel_size);
    else
        cg_error(CG_ERR_ARG,
                 "%s: kernel_size must be positive, got kernel_size=%d, kernel_size_hw=%s", op,
                 kernel_size, pair_str(2, o->kernel_size_hw[0], o->kernel_size_hw[1]));
    return -1;
}

int cg_conv_options_pairs(const char *op, int spatial, const cg_conv_options *o, cg_conv_pairs *p) {
    static const cg_conv_options defaults;
    if (!o) o = &defaults;
    if (option_pair(op, "stride", spatial, o->stride, o->stride_hw, 1, p->stride) < 0 ||
        option_pair(op, "padding", spatial, o->padding, o->padding_hw, 0, p->padding) < 0 ||
        option_pair(op, "dilation", spatial, o->dilation, o->dilation_hw, 1, p->dilation) < 0 ||
        option_pair(op, "output_padding", spatial, o->output_padding, o->output_padding_hw, 0,
                    p->output_padding) < 0)
        return -1;
    return 0;
}

// Shapes read the same way for 1-D and 2-D: batch, channels, height, width.
static int read_input(const char *op, int spatial, const cg_tensor *input, cg_conv_geometry *g,
                      int64_t *channels, int64_t *h, int64_t *w) {
    int rank = spatial + 2;
    if (input->ndim != rank && input->ndim != rank - 1) {
        cg_error(CG_ERR_SHAPE,
                 "%s: expected %dD (unbatched) or %dD (batched) input, but got input of "
                 "shape %s",
                 op, rank - 1, rank, cg_tensor_shape_str(input));
        return -1;
    }
    g->batched = input->ndim == rank;
    g->batch = g->batched ? input->shape[0] : 1;
    int c = g->batched ? 1 : 0;
    *channels = input->shape[c];
    *h = spatial == 2 ? input->shape[c + 1] : 1;
    *w = input->shape[input->ndim - 1];
    return 0;
}

static int read_weight(const char *op, int spatial, bool transposed, const cg_tensor *weight,
                       cg_conv_geometry *g) {
    if (weight->ndim != spatial + 2) {
        const char *layout =
            transposed ? "in_channels, out_channels/groups" : "out_channels, in_channels/groups";
        cg_error(CG_ERR_SHAPE, "%s: weight must be %dD (%s, %s), but got weight of shape %s", op,
                 spatial + 2, layout, spatial == 2 ? "kH, kW" : "kernel_size",
                 cg_tensor_shape_str(weight));
        return -1;
    }
    g->kernel_h = spatial == 2 ? weight->shape[2] : 1;
    g->kernel_w = weight->shape[weight->ndim - 1];
    return 0;
}

// stride, dilation, groups and explicit padding values (shared by both directions).
static int read_options(const char *op, int spatial, const cg_conv_options *o,
                        const cg_tensor *input, const cg_tensor *weight, cg_conv_geometry *g,
                        int64_t *pad_h, int64_t *pad_w) {
    const char *in_str = cg_tensor_shape_str(input), *w_str = cg_tensor_shape_str(weight);
    if (o->kernel_size_hw[0] || o->kernel_size_hw[1]) {
        cg_error(CG_ERR_ARG,
                 "%s: kernel_size_hw=%s is a module option (the kernel size comes from weight "
                 "of shape %s)",
                 op, pair_str(2, o->kernel_size_hw[0], o->kernel_size_hw[1]), w_str);
        return -1;
    }
    cg_conv_pairs p;
    if (cg_conv_options_pairs(op, spatial, o, &p) < 0) return -1;
    g->stride_h = p.stride[0], g->stride_w = p.stride[1];
    g->dilation_h = p.dilation[0], g->dilation_w = p.dilation[1];
    *pad_h = p.padding[0], *pad_w = p.padding[1];
    g->output_padding_h = p.output_padding[0], g->output_padding_w = p.output_padding[1];
    g->groups = o->groups == 0 ? 1 : o->groups;
    if (g->stride_h <= 0 || g->stride_w <= 0) {
        cg_error(CG_ERR_ARG,
                 "%s: non-positive stride is not supported: stride=%s (input of shape %s, weight "
                 "of shape %s)",
                 op, pair_str(spatial, g->stride_h, g->stride_w), in_str, w_str);
        return -1;
    }
    if (g->dilation_h <= 0 || g->dilation_w <= 0) {
        cg_error(CG_ERR_ARG,
                 "%s: dilation should be greater than zero: dilation=%s (input of shape %s, weight "
                 "of shape %s)",
                 op, pair_str(spatial, g->dilation_h, g->dilation_w), in_str, w_str);
        return -1;
    }
    if (g->groups <= 0) {
        cg_error(CG_ERR_ARG,
                 "%s: non-positive groups is not supported: groups=%lld (input of shape %s, weight "
                 "of shape %s)",
                 op, (long long)g->groups, in_str, w_str);
        return -1;
    }
    if (o->padding_kind == CG_PADDING_EXPLICIT && (*pad_h < 0 || *pad_w < 0)) {
        cg_error(CG_ERR_ARG,
                 "%s: negative padding is not supported: padding=%s (input of shape %s, weight of "
                 "shape %s)",
                 op, pair_str(spatial, *pad_h, *pad_w), in_str, w_str);
        return -1;
    }
    return 0;
}

static int check_bias(const char *op, const cg_tensor *bias, int64_t channels) {
    if (bias && (bias->ndim != 1 || bias->shape[0] != channels)) {
        cg_error(CG_ERR_SHAPE,
                 "%s: bias must have shape [%lld] (one per output channel), but got "
                 "bias of shape %s",
                 op, (long long)channels, cg_tensor_shape_str(bias));
        return -1;
    }
    return 0;
}

static int check_divisible(const char *op, const char *what, int64_t channels,
                           const cg_conv_geometry *g, const cg_tensor *input,
                           const cg_tensor *weight) {
    if (channels % g->groups == 0) return 0;
    cg_error(CG_ERR_SHAPE,
             "%s: %s %lld is not divisible by groups=%lld (input of shape %s, weight of "
             "shape %s)",
             op, what, (long long)channels, (long long)g->groups, cg_tensor_shape_str(input),
             cg_tensor_shape_str(weight));
    return -1;
}

// `same`: total = d*(k-1) per dim, the smaller half before (PyTorch's split).
static void same_padding(cg_conv_geometry *g) {
    int64_t th = g->dilation_h * (g->kernel_h - 1), tw = g->dilation_w * (g->kernel_w - 1);
    g->pad_top = th / 2;
    g->pad_bottom = th - th / 2;
    g->pad_left = tw / 2;
    g->pad_right = tw - tw / 2;
}

// The image, columns and one unfolded workspace of a geometry fit CG_MAX_NUMEL (checked once
// here, so no kernel multiplies them unchecked: padding=INT_MAX used to wrap).
static int sizes_fit(const char *op, const cg_conv_geometry *g) {
    int64_t sides[3][4] = {{g->batch, g->image_channels, g->image_h, g->image_w},
                           {g->batch, g->cols_channels, g->cols_h, g->cols_w},
                           {g->groups, cg_conv_col_rows(g), g->cols_h, g->cols_w}};
    int64_t n;
    for (int i = 0; i < 3; i++)
        if (!cg_checked_numel(4, sides[i], &n))
            return cg_error(
                       CG_ERR_SHAPE,
                       "%s: sizes overflow (integer multiplication overflow) with padding (top, "
                       "bottom, "
                       "left, right) %s, stride %s, dilation %s: image %s, output %s",
                       op,
                       cg_tuple_str(
                           CG_TUPLE_PYTHON, 4,
                           (int64_t[]){g->pad_top, g->pad_bottom, g->pad_left, g->pad_right}),
                       cg_tuple_str(CG_TUPLE_PYTHON, 2, (int64_t[]){g->stride_h, g->stride_w}),
                       cg_tuple_str(CG_TUPLE_PYTHON, 2, (int64_t[]){g->dilation_h, g->dilation_w}),
                       cg_shape_str(4, sides[0]), cg_shape_str(4, sides[1])),
                   -1;
    return 0;
}

// NULL options are PyTorch's defaults (all zeros).
static const cg_conv_options *begin_resolve(const cg_conv_options *options) {
    static const cg_conv_options defaults;
    return options ? options : &defaults;
}

// What both directions read first: the input (the image side for conv2d, the column side
// of the adjoint conv2d for conv_transpose2d), the weight and the options.
static int read_sides(const char *op, int spatial, bool transposed, const cg_tensor *input,
                      const cg_tensor *weight, const cg_conv_options *o, cg_conv_geometry *g,
                      int64_t *pad_h, int64_t *pad_w) {
    memset(g, 0, sizeof *g);
    g->spatial = spatial;
    int rc = transposed
                 ? read_input(op, spatial, input, g, &g->cols_channels, &g->cols_h, &g->cols_w)
                 : read_input(op, spatial, input, g, &g->image_channels, &g->image_h, &g->image_w);
    if (rc < 0 || read_weight(op, spatial, transposed, weight, g) < 0) return -1;
    return read_options(op, spatial, o, input, weight, g, pad_h, pad_w);
}

int cg_conv_geometry_resolve(const char *op, int spatial, const cg_tensor *input,
                             const cg_tensor *weight, const cg_tensor *bias,
                             const cg_conv_options *options, cg_conv_geometry *g) {
    const cg_conv_options *o = begin_resolve(options);
    int64_t pad_h, pad_w;
    if (read_sides(op, spatial, false, input, weight, o, g, &pad_h, &pad_w) < 0) return -1;
    g->cols_channels = weight->shape[0];
    if (check_divisible(op, "out_channels", g->cols_channels, g, input, weight) < 0 ||
        check_divisible(op, "in_channels", g->image_channels, g, input, weight) < 0)
        return -1;
    if (weight->shape[1] * g->groups != g->image_channels) {
        cg_error(CG_ERR_SHAPE,
                 "%s: Given groups=%lld, weight of size %s, expected input%s to have %lld "
                 "channels, but got %lld channels instead",
                 op, (long long)g->groups, cg_tensor_shape_str(weight), cg_tensor_shape_str(input),
                 (long long)(weight->shape[1] * g->groups), (long long)g->image_channels);
        return -1;
    }
    if (check_bias(op, bias, g->cols_channels) < 0) return -1;
    if (o->padding_kind == CG_PADDING_SAME) {
        if (g->stride_h != 1 || g->stride_w != 1) {
            cg_error(CG_ERR_ARG,
                     "%s: padding='same' is not supported for strided convolutions "
                     "(stride=%s, input of shape %s, weight of shape %s)",
                     op, pair_str(spatial, g->stride_h, g->stride_w), cg_tensor_shape_str(input),
                     cg_tensor_shape_str(weight));
            return -1;
        }
        same_padding(g);
    } else if (o->padding_kind == CG_PADDING_EXPLICIT) {
        g->pad_top = g->pad_bottom = pad_h;
        g->pad_left = g->pad_right = pad_w;
    }
    g->output_padding_h = g->output_padding_w = 0; // only meaningful for transposed ops
    int64_t padded_h = g->image_h + g->pad_top + g->pad_bottom;
    int64_t padded_w = g->image_w + g->pad_left + g->pad_right;
    int64_t span_h = g->dilation_h * (g->kernel_h - 1) + 1;
    int64_t span_w = g->dilation_w * (g->kernel_w - 1) + 1;
    if (padded_h < span_h || padded_w < span_w) {
        cg_error(CG_ERR_SHAPE,
                 "%s: Calculated padded input size per channel: %s. Kernel size: %s "
                 "(dilated: %s). Kernel size can't be greater than actual input size "
                 "(input of shape %s, weight of shape %s)",
                 op, pair_str(spatial, padded_h, padded_w),
                 pair_str(spatial, g->kernel_h, g->kernel_w), pair_str(spatial, span_h, span_w),
                 cg_tensor_shape_str(input), cg_tensor_shape_str(weight));
        return -1;
    }
    g->cols_h = (padded_h - span_h) / g->stride_h + 1;
    g->cols_w = (padded_w - span_w) / g->stride_w + 1;
    return sizes_fit(op, g);
}

int cg_conv_transpose_geometry_resolve(const char *op, int spatial, const cg_tensor *input,
                                       const cg_tensor *weight, const cg_tensor *bias,
                                       const cg_conv_options *options, cg_conv_geometry *g) {
    const cg_conv_options *o = begin_resolve(options);
    int64_t pad_h, pad_w;
    if (read_sides(op, spatial, true, input, weight, o, g, &pad_h, &pad_w) < 0) return -1;
    if (o->padding_kind != CG_PADDING_EXPLICIT) {
        cg_error(CG_ERR_ARG,
                 "%s: padding='%s' is not supported (only explicit padding, as "
                 "PyTorch's conv_transpose); input of shape %s, weight of shape %s",
                 op, o->padding_kind == CG_PADDING_SAME ? "same" : "valid",
                 cg_tensor_shape_str(input), cg_tensor_shape_str(weight));
        return -1;
    }
    if (check_divisible(op, "in_channels", g->cols_channels, g, input, weight) < 0) return -1;
    if (weight->shape[0] != g->cols_channels) {
        cg_error(CG_ERR_SHAPE,
                 "%s: Given transposed=1, weight of size %s, expected input%s to have %lld "
                 "channels, but got %lld channels instead",
                 op, cg_tensor_shape_str(weight), cg_tensor_shape_str(input),
                 (long long)weight->shape[0], (long long)g->cols_channels);
        return -1;
    }
    g->image_channels = weight->shape[1] * g->groups;
    if (check_bias(op, bias, g->image_channels) < 0) return -1;
    if (g->output_padding_h < 0 || g->output_padding_w < 0) {
        cg_error(CG_ERR_ARG,
                 "%s: negative output padding is not supported: output_padding=%s (input of "
                 "shape %s, weight of shape %s)",
                 op, pair_str(spatial, g->output_padding_h, g->output_padding_w),
                 cg_tensor_shape_str(input), cg_tensor_shape_str(weight));
        return -1;
    }
    if ((g->output_padding_h >= g->stride_h && g->output_padding_h >= g->dilation_h) ||
        (g->output_padding_w >= g->stride_w && g->output_padding_w >= g->dilation_w)) {
        cg_error(CG_ERR_ARG,
                 "%s: output padding must be smaller than either stride or dilation, but got "
                 "output_padding=%s, stride=%s, dilation=%s (input of shape %s, weight of "
                 "shape %s)",
                 op, pair_str(spatial, g->output_padding_h, g->output_padding_w),
                 pair_str(spatial, g->stride_h, g->stride_w),
                 pair_str(spatial, g->dilation_h, g->dilation_w), cg_tensor_shape_str(input),
                 cg_tensor_shape_str(weight));
        return -1;
    }
    g->pad_top = g->pad_bottom = pad_h;
    g->pad_left = g->pad_right = pad_w;
    g->image_h = (g->cols_h - 1) * g->stride_h - 2 * pad_h + g->dilation_h * (g->kernel_h - 1) +
                 g->output_padding_h + 1;
    g->image_w = (g->cols_w - 1) * g->stride_w - 2 * pad_w + g->dilation_w * (g->kernel_w - 1) +
                 g->output_padding_w + 1;
    if (g->image_h <= 0 || g->image_w <= 0 || g->cols_h <= 0 || g->cols_w <= 0) {
        cg_error(CG_ERR_SHAPE,
                 "%s: Given input size per channel: %s. Calculated output size per channel: "
                 "%s. Output size is too small (input of shape %s, weight of shape %s, "
                 "padding=%s)",
                 op, pair_str(spatial, g->cols_h, g->cols_w),
                 pair_str(spatial, g->image_h, g->image_w), cg_tensor_shape_str(input),
                 cg_tensor_shape_str(weight), pair_str(spatial, pad_h, pad_w));
        return -1;
    }
    return sizes_fit(op, g);
}

int cg_fold_geometry_resolve(const char *op, const cg_tensor *input, int64_t batch,
                             int64_t channels, int64_t h, int64_t w, const cg_fold_options *o,
                             cg_conv_geometry *g) {
    memset(g, 0, sizeof *g);
    g->spatial = 2;
    g->batch = batch;
    g->groups = 1;
    g->image_channels = channels;
    g->image_h = h;
    g->image_w = w;
    int kernel[2], stride[2], dilation[2], padding[2];
    cg_option_hw(o->kernel_size, o->kernel_size_hw, 0, 0, kernel);
    cg_option_hw(o->stride, o->stride_hw, 1, 1, stride);
    cg_option_hw(o->dilation, o->dilation_hw, 1, 1, dilation);
    cg_option_hw(o->padding, o->padding_hw, 0, 0, padding);
    g->kernel_h = kernel[0], g->kernel_w = kernel[1];
    g->stride_h = stride[0], g->stride_w = stride[1];
    g->dilation_h = dilation[0], g->dilation_w = dilation[1];
    g->pad_top = g->pad_bottom = padding[0];
    g->pad_left = g->pad_right = padding[1];
    if (g->kernel_h <= 0 || g->kernel_w <= 0 || g->stride_h <= 0 || g->stride_w <= 0 ||
        g->dilation_h <= 0 || g->dilation_w <= 0 || g->pad_top < 0 || g->pad_left < 0) {
        cg_error(CG_ERR_ARG,
                 "%s: kernel_size, stride and dilation must be positive and padding "
                 "non-negative, but got kernel_size=%s, stride=%s, dilation=%s, padding=%s "
                 "(input of shape %s)",
                 op, pair_str(2, g->kernel_h, g->kernel_w), pair_str(2, g->stride_h, g->stride_w),
                 pair_str(2, g->dilation_h, g->dilation_w), pair_str(2, g->pad_top, g->pad_left),
                 cg_tensor_shape_str(input));
        return -1;
    }
    g->cols_channels = channels * g->kernel_h * g->kernel_w;
    int64_t span_h = g->dilation_h * (g->kernel_h - 1) + 1;
    int64_t span_w = g->dilation_w * (g->kernel_w - 1) + 1;
    g->cols_h = (h + 2 * g->pad_top - span_h) / g->stride_h + 1;
    g->cols_w = (w + 2 * g->pad_left - span_w) / g->stride_w + 1;
    if (h + 2 * g->pad_top < span_h || w + 2 * g->pad_left < span_w) {
        cg_error(CG_ERR_SHAPE,
                 "%s: Given spatial size %s, kernel_size=%s, dilation=%s, padding=%s, "
                 "calculated shape of the array of sliding blocks as %s, but its components "
                 "must be at least one (input of shape %s)",
                 op, pair_str(2, h, w), pair_str(2, g->kernel_h, g->kernel_w),
                 pair_str(2, g->dilation_h, g->dilation_w), pair_str(2, g->pad_top, g->pad_left),
                 pair_str(2, (h + 2 * g->pad_top - span_h) / g->stride_h + 1,
                          (w + 2 * g->pad_left - span_w) / g->stride_w + 1),
                 cg_tensor_shape_str(input));
        return -1;
    }
    return 0;
}

// (N,) C, (H,) W with the batch dim only if the user's tensors have one.
static int side_shape(const cg_conv_geometry *g, int64_t c, int64_t h, int64_t w, int64_t *shape) {
    int nd = 0;
    if (g->batched) shape[nd++] = g->batch;
    shape[nd++] = c;
    if (g->spatial == 2) shape[nd++] = h;
    shape[nd++] = w;
    return nd;
}

int cg_conv_image_shape(const cg_conv_geometry *g, int64_t *shape) {
    return side_shape(g, g->image_channels, g->image_h, g->image_w, shape);
}

int cg_conv_columns_shape(const cg_conv_geometry *g, int64_t *shape) {
    return side_shape(g, g->cols_channels, g->cols_h, g->cols_w, shape);
}

int cg_conv2d_output_shape(const cg_tensor *input, const cg_tensor *weight,
                           const cg_conv_options *options, int64_t *out_shape) {
    if (!cg_check_arg(input, "conv2d", "input") || !cg_check_arg(weight, "conv2d", "weight") ||
        !cg_check_ptr(out_shape, "conv2d_output_shape", "out_shape"))
        return -1;
    cg_conv_geometry g;
    if (cg_conv_geometry_resolve("conv2d", 2, input, weight, NULL, options, &g) < 0) return -1;
    cg_conv_columns_shape(&g, out_shape);
    return 0;
}

int cg_conv_transpose2d_output_shape(const cg_tensor *input, const cg_tensor *weight,
                                     const cg_conv_options *options, int64_t *out_shape) {
    if (!cg_check_arg(input, "conv_transpose2d", "input") ||
        !cg_check_arg(weight, "conv_transpose2d", "weight") ||
        !cg_check_ptr(out_shape, "conv_transpose2d_output_shape", "out_shape"))
        return -1;
    cg_conv_geometry g;
    if (cg_conv_transpose_geometry_resolve("conv_transpose2d", 2, input, weight, NULL, options,
                                           &g) < 0)
        return -1;
    cg_conv_image_shape(&g, out_shape);
    return 0;
}
