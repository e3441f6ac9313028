// tensor/print.c - printing in PyTorch's style.
//
// Like torch: all-integer values print as "1.", otherwise 4 decimals, switching to
// scientific notation when the magnitudes span too much; columns are right-aligned to
// the widest value; tensors over 1000 elements show the first and last 3 of each dim.
#include <math.h>
#include <string.h>

#include "../autograd/op.h"
#include "tensor.h"

typedef struct format {
    enum { INTEGER, FIXED, SCIENTIFIC } mode;
    int width;
    bool summarize;
} format;

static int format_value(char *buf, size_t n, float v, const format *f) {
    if (isnan(v)) return snprintf(buf, n, "nan");
    if (isinf(v)) return snprintf(buf, n, v > 0 ? "inf" : "-inf");
    switch (f->mode) {
    case INTEGER:
        return snprintf(buf, n, "%.0f.", v);
    case FIXED:
        return snprintf(buf, n, "%.4f", v);
    case SCIENTIFIC:
        return snprintf(buf, n, "%.4e", v);
    }
    return 0;
}

static format choose_format(const cg_tensor *t) {
    format f = {INTEGER, 1, t->numel > 1000};
    float max_abs = 0, min_abs = INFINITY;
    for (int64_t i = 0; i < t->numel; i++) {
        float v = t->data[i];
        if (!isfinite(v)) continue;
        if (v != truncf(v)) f.mode = FIXED;
        float a = fabsf(v);
        if (a > max_abs) max_abs = a;
        if (a > 0 && a < min_abs) min_abs = a;
    }
    if (f.mode == INTEGER && max_abs >= 1e8f) f.mode = SCIENTIFIC;
    if (f.mode == FIXED && min_abs < INFINITY &&
        (max_abs / min_abs > 1000.0f || max_abs > 1e8f || min_abs < 1e-4f))
        f.mode = SCIENTIFIC;
    char buf[64];
    for (int64_t i = 0; i < t->numel; i++) {
        int w = format_value(buf, sizeof buf, t->data[i], &f);
        if (w > f.width) f.width = w;
    }
    return f;
}

// Print dim `d` of the block starting at `offset`; `indent` is the column of '['.
static void print_dim(FILE *out, const cg_tensor *t, int d, int64_t offset, int indent,
                      const format *f) {
    int64_t stride = 1;
    for (int k = d + 1; k < t->ndim; k++) stride *= t->shape[k];
    int64_t n = t->shape[d];
    bool cut = f->summarize && n > 6;
    fputc('[', out);
    for (int64_t i = 0; i < n; i++) {
        if (cut && i == 3) {
            i = n - 3;
            if (d == t->ndim - 1)
                fprintf(out, "..., ");
            else
                fprintf(out, "...,\n%*s", indent + 1, "");
        }
        if (d == t->ndim - 1) {
            char buf[64];
            format_value(buf, sizeof buf, t->data[offset + i], f);
            fprintf(out, "%*s", f->width, buf);
        } else {
            print_dim(out, t, d + 1, offset + i * stride, indent + 1, f);
        }
        if (i + 1 < n) {
            if (d == t->ndim - 1) {
                fprintf(out, ", ");
            } else {
                fputc(',', out);
                for (int k = 0; k < t->ndim - d - 1; k++) fputc('\n', out);
                fprintf(out, "%*s", indent + 1, "");
            }
        }
    }
    fputc(']', out);
}

void cg_fprint(FILE *out, const cg_tensor *t) {
    if (!t) {
        fprintf(out, "tensor(NULL)\n");
        return;
    }
    format f = choose_format(t);
    fprintf(out, "tensor(");
    if (t->ndim == 0) {
        char buf[64];
        format_value(buf, sizeof buf, t->data[0], &f);
        fputs(buf, out);
    } else if (t->numel == 0) {
        fprintf(out, "[], size=%s", cg_tensor_shape_str(t));
    } else {
        print_dim(out, t, 0, 0, (int)strlen("tensor("), &f);
    }
    if (t->node)
        fprintf(out, ", grad_fn=<%s>", t->node->op->name);
    else if (t->requires_grad)
        fprintf(out, ", requires_grad=True");
    fprintf(out, ")\n");
}

void cg_print(const cg_tensor *t) {
    cg_fprint(stdout, t);
}
