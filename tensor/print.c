// tensor/print.c - printing exactly as PyTorch 1.13 prints float tensors.
//
// torch/_tensor_str.py's rules: the format is chosen from the non-zero finite values (of
// the summarised tensor when it has over 1000 elements): all-integer values print as "1.",
// others with 4 decimals, and either switches to "%.4e" when max/min > 1000 or max > 1e8
// (or, with decimals, min < 1e-4). Values are right-aligned to the widest, rows wrap at 80
// columns, and summarised dims show their first and last 3 entries around "...".
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "array.h"
#include "tensor.h"
#include "tensor_internal.h"

#define LINE_WIDTH 80
#define THRESHOLD  1000
#define EDGE_ITEMS 3

typedef struct format {
    bool int_mode, sci_mode;
    int width;
    bool summarize;
} format;

// A growable string: the whole tensor is laid out before printing. After a failed
// allocation (reported) nothing more is added and nothing is printed.
typedef struct out_buf {
    char *s;
    int64_t len, cap;
    bool failed;
} out_buf;

static void put(out_buf *b, const char *text) {
    int64_t n = (int64_t)strlen(text);
    if (b->failed || cg_array_reserve(&b->s, &b->cap, b->len + n + 1, 1) < 0) {
        b->failed = true;
        return;
    }
    memcpy(b->s + b->len, text, (size_t)n + 1);
    b->len += n;
}

static void put_spaces(out_buf *b, int n) {
    for (int i = 0; i < n; i++) put(b, " ");
}

// The value as torch formats it, without padding.
static void value_str(char *buf, size_t n, float v, const format *f) {
    if (f->sci_mode)
        snprintf(buf, n, "%.4e", v);
    else if (f->int_mode)
        snprintf(buf, n, isfinite(v) ? "%.0f." : "%.0f", v);
    else
        snprintf(buf, n, "%.4f", v);
    if (isnan(v))
        snprintf(buf, n, "nan");
    else if (isinf(v))
        snprintf(buf, n, v > 0 ? "inf" : "-inf");
}

static bool shown(const cg_tensor *t, int d, int64_t i, bool summarize) {
    int64_t n = t->shape[d];
    return !summarize || n <= 2 * EDGE_ITEMS || i < EDGE_ITEMS || i >= n - EDGE_ITEMS;
}

// Calls visit(v) for every value that is printed (the summarised tensor when summarising).
static void for_shown(const cg_tensor *t, int d, int64_t offset, bool summarize,
                      void (*visit)(float, void *), void *ctx) {
    if (d == t->ndim) {
        visit(t->data[offset], ctx);
        return;
    }
    int64_t stride = 1;
    for (int k = d + 1; k < t->ndim; k++) stride *= t->shape[k];
    for (int64_t i = 0; i < t->shape[d]; i++)
        if (shown(t, d, i, summarize))
            for_shown(t, d + 1, offset + i * stride, summarize, visit, ctx);
}

typedef struct stats {
    double min, max;
    bool any, int_mode;
} stats;

static void gather(float v, void *ctx) {
    stats *s = ctx;
    if (!isfinite(v) || v == 0) return;
    double a = fabs((double)v);
    if (!s->any || a < s->min) s->min = a;
    if (!s->any || a > s->max) s->max = a;
    s->any = true;
    if (v != ceilf(v)) s->int_mode = false;
}

typedef struct width_ctx {
    format *f;
} width_ctx;

static void widen(float v, void *ctx) {
    format *f = ctx;
    if (!isfinite(v) || v == 0) return;
    char buf[64];
    value_str(buf, sizeof buf, v, f);
    int w = (int)strlen(buf);
    if (w > f->width) f->width = w;
}

static format choose_format(const cg_tensor *t) {
    format f = {true, false, 1, t->numel > THRESHOLD};
    stats s = {0, 0, false, true};
    for_shown(t, 0, 0, f.summarize, gather, &s);
    if (!s.any) return f;
    f.int_mode = s.int_mode;
    double ratio = s.max / s.min;
    f.sci_mode = ratio > 1000.0 || s.max > 1e8 || (!f.int_mode && s.min < 1e-4);
    for_shown(t, 0, 0, f.summarize, widen, &f);
    return f;
}

static void put_value(out_buf *b, float v, const format *f) {
    char buf[64];
    value_str(buf, sizeof buf, v, f);
    put_spaces(b, f->width - (int)strlen(buf));
    put(b, buf);
}

static void put_vector(out_buf *b, const cg_tensor *t, int64_t offset, int indent,
                       const format *f) {
    int64_t per_line = (LINE_WIDTH - indent) / (f->width + 2);
    if (per_line < 1) per_line = 1;
    int d = t->ndim - 1;
    int64_t item = 0;
    put(b, "[");
    for (int64_t i = 0; i < t->shape[d]; i++) {
        bool ellipsis = f->summarize && t->shape[d] > 2 * EDGE_ITEMS && i == EDGE_ITEMS;
        if (!ellipsis && !shown(t, d, i, f->summarize)) continue;
        if (item > 0) {
            if (item % per_line == 0) {
                put(b, ",\n");
                put_spaces(b, indent + 1);
            } else {
                put(b, ", ");
            }
        }
        if (ellipsis) {
            put(b, " ...");
            i = t->shape[d] - EDGE_ITEMS - 1;
        } else {
            put_value(b, t->data[offset + i], f);
        }
        item++;
    }
    put(b, "]");
}

static void put_dim(out_buf *b, const cg_tensor *t, int d, int64_t offset, int indent,
                    const format *f) {
    if (d == t->ndim - 1) {
        put_vector(b, t, offset, indent, f);
        return;
    }
    int64_t stride = 1;
    for (int k = d + 1; k < t->ndim; k++) stride *= t->shape[k];
    bool first = true;
    put(b, "[");
    for (int64_t i = 0; i < t->shape[d]; i++) {
        bool ellipsis = f->summarize && t->shape[d] > 2 * EDGE_ITEMS && i == EDGE_ITEMS;
        if (!ellipsis && !shown(t, d, i, f->summarize)) continue;
        if (!first) {
            put(b, ",");
            for (int k = 0; k < t->ndim - d - 1; k++) put(b, "\n");
            put_spaces(b, indent + 1);
        }
        first = false;
        if (ellipsis) {
            put(b, "...");
            i = t->shape[d] - EDGE_ITEMS - 1;
        } else {
            put_dim(b, t, d + 1, offset + i * stride, indent + 1, f);
        }
    }
    put(b, "]");
}

// torch's _add_suffixes: a suffix goes on a new line when the last line would pass 80.
static void put_suffix(out_buf *b, const char *suffix, int indent) {
    if (b->failed) return;
    const char *nl = strrchr(b->s, '\n');
    size_t last_line = (size_t)(nl ? b->s + b->len - nl + 1 : b->len + 2);
    if (last_line + strlen(suffix) + 2 > LINE_WIDTH) {
        put(b, ",\n");
        put_spaces(b, indent);
    } else {
        put(b, ", ");
    }
    put(b, suffix);
}

void cg_fprint(FILE *out, const cg_tensor *t) {
    if (!t) {
        fprintf(out, "tensor(NULL)\n");
        return;
    }
    out_buf b = {0};
    const int indent = (int)strlen("tensor(");
    put(&b, "tensor(");
    format f = choose_format(t);
    if (t->ndim == 0) {
        char buf[64];
        value_str(buf, sizeof buf, t->data[0], &f);
        put(&b, buf);
    } else if (t->numel == 0) {
        put(&b, "[]");
    } else {
        put_dim(&b, t, 0, 0, indent, &f);
    }
    char suffix[160];
    if (t->numel == 0 && t->ndim != 1) {
        size_t len = (size_t)snprintf(suffix, sizeof suffix, "size=(");
        for (int i = 0; i < t->ndim; i++)
            len += (size_t)snprintf(suffix + len, sizeof suffix - len, i ? ", %lld" : "%lld",
                                    (long long)t->shape[i]);
        snprintf(suffix + len, sizeof suffix - len, t->ndim == 1 ? ",)" : ")");
        put_suffix(&b, suffix, indent);
    }
    if (t->node) {
        snprintf(suffix, sizeof suffix, "grad_fn=<%s>", cg_tensor_node_name(t));
        put_suffix(&b, suffix, indent);
    } else if (t->requires_grad) {
        put_suffix(&b, "requires_grad=True", indent);
    }
    put(&b, ")\n");
    if (!b.failed) fputs(b.s, out);
    cg_dealloc(b.s);
}

void cg_print(const cg_tensor *t) {
    cg_fprint(stdout, t);
}
