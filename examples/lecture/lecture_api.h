// examples/lecture/lecture_api.h - what the interactive lecture page (conv_lecture.html,
// cgrad compiled to WebAssembly) asks cgrad, as plain C functions JavaScript can call.
// The same file is compiled natively into lecture_native, which the browser test compares
// the page's displayed numbers with.
//
// One call, lec_run, computes every number the page shows for one set of parameters and
// keeps them as named results (float arrays with a shape) until the next call:
//   y          the module's output (cg_Conv2d / cg_ConvTranspose2d / cg_Conv1d)
//   x_p        the input padded with padding_mode (cg_pad); the windows slide over it
//   direct     the sliding-window definition (cg_conv2d_direct on x_p)
//   window     the products kernel * window for the chosen output (o, position) and
//   window_sum   their sum plus the bias (one number, = y at that position)
//   cols       im2col of x_p (cg_unfold): (C_in*kH*kW, L)
//   w_flat     the flattened kernel (C_out, C_in/groups*kH*kW)
//   col_prod   w_flat x cols per group (cg_matmul) plus bias, reshaped to y's shape
//   M          the unrolled kernel (cg_conv2d_matrix): vec(y) = M vec(x) (+ bias); for
//              padding modes other than zeros M acts on vec(x_p)
//   M_x        M vec(x) + bias (conv) or M^T vec(x) + bias (transposed), y's shape
//   Mt_y       M^T vec(y) (conv) or M vec(y) (transposed), the input's shape
//   tconv_y    conv_transpose2d(y, weight) (conv) or conv2d(y, weight) (transposed), cropped
//              to the input's shape: the same numbers as Mt_y
//   gy         dL/dy (ones, seeded normal, or y itself for L = sum(y^2)/2)
//   dx_auto, dw_auto, db_auto  cgrad's autograd of L = sum(y * gy)
//   dx_view    conv: conv_transpose2d(gy, weight) (= M^T vec(gy)), then the pad's own
//              transpose; transposed: conv2d(gy, weight) (= M vec(gy))
//   dw_view    a convolution of the input with gy, per group
//   y_1d       conv1d mode: cg_Conv1d's output, the same numbers as y from the 2-D code
// Each result a page shows beside another is compared there (max |difference|).
#ifndef LECTURE_API_H
#define LECTURE_API_H

// Indices into lec_run's params array.
enum {
    LEC_MODE, // 0 Conv2d, 1 ConvTranspose2d, 2 Conv1d (the 2-D code with height 1)
    LEC_C_IN,
    LEC_C_OUT,
    LEC_H,  // input height (1 for Conv1d)
    LEC_W,  // input width (the length for Conv1d)
    LEC_KH, // kernel height (1 for Conv1d)
    LEC_KW,
    LEC_STRIDE_H,
    LEC_STRIDE_W,
    LEC_PADDING_KIND, // cg_padding_kind: 0 numbers, 1 'same', 2 'valid'
    LEC_PAD_H,
    LEC_PAD_W,
    LEC_DILATION_H,
    LEC_DILATION_W,
    LEC_GROUPS,
    LEC_OUT_PAD_H,
    LEC_OUT_PAD_W,
    LEC_PADDING_MODE, // cg_padding_mode: zeros, reflect, replicate, circular
    LEC_BIAS,         // 1: with bias
    LEC_WINDOW_O,     // the sliding window's output channel
    LEC_WINDOW_POS,   // and position (row-major over H_out x W_out)
    LEC_GRAD_KIND,    // dL/dy: 0 ones, 1 seeded normal, 2 y itself
    LEC_GRAD_SEED,
    LEC_N_PARAMS
};

// Runs everything for params (LEC_N_PARAMS ints) with the input x (C_in*H*W floats), the
// weight (the module's weight shape) and the bias (C_out floats, or ignored). Returns 0,
// or -1 with cgrad's own error message in lec_error().
int lec_run(const int *params, const float *x, const float *weight, const float *bias);
const char *lec_error(void);

// The results of the last lec_run, by name (see above). lec_find returns the index or -1
// when that result was not computed for these parameters.
int lec_count(void);
const char *lec_name(int i);
int lec_find(const char *name);
int lec_ndim(int i);
int lec_dim(int i, int d);
int lec_size(int i);
const float *lec_data(int i);

#endif
