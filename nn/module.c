// nn/module.c - the module tree: registration, naming, modes, printing, summary.
#include "module.h"

#include <stdio.h>
#include <string.h>

#include "../autograd/autograd.h"
#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "../tensor/array.h"

cg_module *cg_module_new(const cg_module_class *cls, const void *config, size_t config_size) {
    if (!cls) return cg_error(CG_ERR_ARG, "module_new: class is NULL");
    if (config_size > 0 && !config)
        return cg_error(CG_ERR_ARG, "%s: config is NULL but config_size is %zu", cls->name,
                        config_size);
    cg_module *m = cg_alloc_zeroed(sizeof *m);
    void *copy = config_size > 0 ? cg_alloc(config_size) : NULL;
    if (!m || (config_size > 0 && !copy)) {
        cg_dealloc(m);
        cg_dealloc(copy);
        return NULL;
    }
    if (copy) memcpy(copy, config, config_size);
    m->cls = cls;
    m->training = true;
    m->impl = m->config_copy = copy;
    return m;
}

static cg_tensor *add_tensor(cg_module *m, const char *name, cg_tensor *t, bool param) {
    int *count = param ? &m->n_params : &m->n_buffers;
    if (*count == CG_MODULE_MAX_TENSORS) {
        cg_error(CG_ERR_STATE, "%s: more than %d %s", m->cls->name, CG_MODULE_MAX_TENSORS,
                 param ? "parameters" : "buffers");
        cg_free(t);
        return NULL;
    }
    if (t) {
        cg_unscope(t); // the module owns it now
        if (param) t->requires_grad = true;
        t->name = name;
    }
    (param ? m->param_names : m->buffer_names)[*count] = name;
    (param ? m->params : m->buffers)[(*count)++] = t;
    return t;
}

cg_tensor *cg_module_add_param(cg_module *m, const char *name, cg_tensor *t) {
    return add_tensor(m, name, t, true);
}
cg_tensor *cg_module_add_buffer(cg_module *m, const char *name, cg_tensor *t) {
    return add_tensor(m, name, t, false);
}

cg_module *cg_module_add_child(cg_module *m, const char *name, cg_module *child) {
    if (!m || !child) return NULL;
    // The two arrays grow together: each keeps its own capacity, both at least n + 1.
    if (cg_array_reserve(&m->child_names, &m->cap_child_names, m->n_children + 1,
                         sizeof *m->child_names) < 0 ||
        cg_array_reserve(&m->children, &m->cap_children, m->n_children + 1, sizeof *m->children) <
            0)
        return NULL;
    size_t len = strlen(name) + 1;
    char *copy = cg_alloc(len);
    if (!copy) return NULL;
    memcpy(copy, name, len);
    m->child_names[m->n_children] = copy;
    m->children[m->n_children++] = child;
    return child;
}

cg_tensor *cg_module_param(const cg_module *m, const char *name) {
    for (int i = 0; m && i < m->n_params; i++)
        if (strcmp(m->param_names[i], name) == 0) return m->params[i];
    return NULL;
}
cg_tensor *cg_module_buffer(const cg_module *m, const char *name) {
    for (int i = 0; m && i < m->n_buffers; i++)
        if (strcmp(m->buffer_names[i], name) == 0) return m->buffers[i];
    return NULL;
}

void cg_module_free(cg_module *m) {
    if (!m) return;
    for (int i = 0; i < m->n_children; i++) {
        cg_module_free(m->children[i]);
        cg_dealloc(m->child_names[i]);
    }
    cg_dealloc(m->children);
    cg_dealloc(m->child_names);
    for (int i = 0; i < m->n_params; i++) cg_free(m->params[i]);
    for (int i = 0; i < m->n_buffers; i++) cg_free(m->buffers[i]);
    if (m->cls->destroy) m->cls->destroy(m);
    cg_dealloc(m->config_copy);
    cg_dealloc(m);
}

void cg_module_train(cg_module *m, bool training) {
    if (!m) return;
    m->training = training;
    for (int i = 0; i < m->n_children; i++) cg_module_train(m->children[i], training);
}
void cg_module_eval(cg_module *m) {
    cg_module_train(m, false);
}

void cg_module_zero_grad(cg_module *m) {
    if (!m) return;
    for (int i = 0; i < m->n_params; i++) cg_zero_grad(m->params[i]);
    for (int i = 0; i < m->n_children; i++) cg_module_zero_grad(m->children[i]);
}

int64_t cg_module_num_parameters(const cg_module *m) {
    if (!m) return 0;
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++) n += m->params[i] ? m->params[i]->numel : 0;
    for (int i = 0; i < m->n_children; i++) n += cg_module_num_parameters(m->children[i]);
    return n;
}

// The error for a path step that names no child: which step, in which module, and the
// children that do exist (as PyTorch's get_submodule, with the list it leaves out).
static void no_such_child(const cg_module *m, const char *path, const char *step, size_t len) {
    char children[256] = "", *end = children;
    for (int i = 0; i < m->n_children; i++) {
        size_t left = sizeof children - (size_t)(end - children);
        int n = snprintf(end, left, "%s%s", i ? ", " : "", m->child_names[i]);
        if (n < 0 || (size_t)n >= left) {
            snprintf(children + sizeof children - 5, 5, "...");
            break;
        }
        end += n;
    }
    cg_error(CG_ERR_ARG, "module_get: \"%s\": %s has no child \"%.*s\" (%s%s)", path, m->cls->name,
             (int)len, step, m->n_children ? "its children: " : "it has no children", children);
}

cg_module *cg_module_get(cg_module *m, const char *path) {
    if (!m || !path) return cg_error(CG_ERR_ARG, "module_get: %s is NULL", !m ? "module" : "path");
    for (const char *step = path; *step;) {
        const char *dot = strchr(step, '.');
        size_t len = dot ? (size_t)(dot - step) : strlen(step);
        cg_module *next = NULL;
        for (int i = 0; i < m->n_children && !next; i++)
            if (strlen(m->child_names[i]) == len && strncmp(m->child_names[i], step, len) == 0)
                next = m->children[i];
        if (!next) {
            no_such_child(m, path, step, len);
            return NULL;
        }
        m = next;
        step += len + (dot ? 1 : 0);
    }
    return m;
}

// ---- named lists -------------------------------------------------------------------------

// The list is built in an array with its own capacity; any failure (memory) fails the
// whole list, so a caller such as cg_module_save never sees a partial one.
typedef struct tensor_array {
    cg_named_tensor *items;
    int64_t count, capacity;
} tensor_array;

static int list_push(tensor_array *a, const char *prefix, const char *name, cg_tensor *t) {
    if (!t) return 0;
    if (CG_ARRAY_PUSH(a->items, a->count, a->capacity, (cg_named_tensor){.tensor = t}) < 0)
        return -1;
    snprintf(a->items[a->count - 1].name, sizeof a->items->name, "%s%s", prefix, name);
    return 0;
}

static int collect(const cg_module *m, const char *prefix, bool buffers, tensor_array *a) {
    for (int i = 0; i < m->n_params; i++)
        if (list_push(a, prefix, m->param_names[i], m->params[i]) < 0) return -1;
    for (int i = 0; buffers && i < m->n_buffers; i++)
        if (list_push(a, prefix, m->buffer_names[i], m->buffers[i]) < 0) return -1;
    for (int i = 0; i < m->n_children; i++) {
        char child_prefix[CG_NAME_MAX];
        snprintf(child_prefix, sizeof child_prefix, "%s%s.", prefix, m->child_names[i]);
        if (collect(m->children[i], child_prefix, buffers, a) < 0) return -1;
    }
    return 0;
}

// {count, items}; {-1, NULL} when the list could not be built (the error is reported).
static cg_tensor_list named_list(const cg_module *m, bool buffers) {
    tensor_array a = {0};
    if (m && collect(m, "", buffers, &a) < 0) {
        cg_dealloc(a.items);
        return (cg_tensor_list){-1, NULL};
    }
    return (cg_tensor_list){(int)a.count, a.items};
}

cg_tensor_list cg_module_named_parameters(const cg_module *m) {
    return named_list(m, false);
}

cg_tensor_list cg_module_state_dict(const cg_module *m) {
    return named_list(m, true);
}

// ---- forward, with an optional recorder for summary() ---------------------------------------

typedef struct summary_row {
    const cg_module *module;
    int64_t shape[CG_MAX_DIMS];
    int ndim;
} summary_row;
// Per thread: a summary taken on one thread does not record another thread's forwards.
static _Thread_local summary_row *recorder;
static _Thread_local int recorder_count, recorder_cap;

// The modules running on this thread, outermost first. A module run by a running module
// is its child: its name (found among the parent's children) extends the error context,
// so every container names the failing layer ("features.3: conv2d: ...") without help.
enum { MAX_RUNNING = 32 };
static _Thread_local const cg_module *running[MAX_RUNNING];
static _Thread_local int n_running;

static const char *child_name(const cg_module *parent, const cg_module *child) {
    for (int i = 0; i < parent->n_children; i++)
        if (parent->children[i] == child) return parent->child_names[i];
    return NULL;
}

// Enter m: push it and append its name to the error context; the old context is kept in
// `saved` for leave().
static void enter(const cg_module *m, char *saved, size_t size) {
    const char *ctx = cg_error_context();
    snprintf(saved, size, "%s", ctx);
    bool has_parent = n_running > 0 && n_running <= MAX_RUNNING;
    const char *name = has_parent ? child_name(running[n_running - 1], m) : NULL;
    if (name) {
        char path[192];
        snprintf(path, sizeof path, "%s%s%s", ctx, ctx[0] ? "." : "", name);
        cg_error_set_context(path);
    }
    if (n_running < MAX_RUNNING) running[n_running] = m;
    n_running++;
}
static void leave(const char *saved) {
    n_running--;
    cg_error_set_context(saved);
}

cg_tensor *cg_module_forward(cg_module *m, cg_tensor *x) {
    if (!m) return cg_error(CG_ERR_ARG, "module_forward: module is NULL");
    if (!cg_check_arg(x, m->cls->name, "input")) return NULL;
    char saved[192];
    enter(m, saved, sizeof saved);
    cg_tensor *y = m->cls->forward(m, x);
    leave(saved);
    if (recorder && y && m->n_children == 0 && recorder_count < recorder_cap) {
        summary_row *r = &recorder[recorder_count++];
        r->module = m;
        r->ndim = y->ndim;
        memcpy(r->shape, y->shape, sizeof r->shape);
    }
    return y;
}

bool cg_module_pairs(const cg_module *m, const cg_module *next) {
    return m && next && m->cls->pairs_with && m->cls->forward_pair && !recorder &&
           m->cls->pairs_with(m, next);
}

cg_tensor *cg_module_forward_pair(cg_module *m, cg_module *next, cg_tensor *x) {
    if (!cg_module_pairs(m, next))
        return cg_error(CG_ERR_ARG, "module_forward_pair: %s does not fuse with %s",
                        m ? m->cls->name : "(null)", next ? next->cls->name : "(null)");
    if (!cg_check_arg(x, m->cls->name, "input")) return NULL;
    char saved[192];
    enter(m, saved, sizeof saved);
    cg_tensor *y = m->cls->forward_pair(m, next, x);
    leave(saved);
    return y;
}

// ---- printing ------------------------------------------------------------------------------

static void print_tree(const cg_module *m, FILE *out, int indent) {
    char line[256] = "";
    if (m->cls->describe)
        m->cls->describe(m, line, sizeof line);
    else
        snprintf(line, sizeof line, "%s()", m->cls->name);
    if (m->n_children == 0) {
        fputs(line, out);
        return;
    }
    fprintf(out, "%s(\n", m->cls->name);
    for (int i = 0; i < m->n_children; i++) {
        fprintf(out, "%*s(%s): ", indent + 2, "", m->child_names[i]);
        print_tree(m->children[i], out, indent + 2);
        fputc('\n', out);
    }
    fprintf(out, "%*s)", indent, "");
}

void cg_module_print(const cg_module *m, FILE *out) {
    if (!m) return;
    print_tree(m, out, 0);
    fputc('\n', out);
}

static int64_t own_parameters(const cg_module *m) {
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++) n += m->params[i] ? m->params[i]->numel : 0;
    return n;
}

int cg_module_summary(cg_module *m, int ndim, const int64_t *input_shape, FILE *out) {
    if (!m || !out || ndim < 1 || ndim > CG_MAX_DIMS || !input_shape) {
        cg_error(CG_ERR_ARG,
                 "module_summary: needs a module, an output stream and an input shape "
                 "of 1..%d dims (got %d dims%s)",
                 CG_MAX_DIMS, ndim, input_shape ? "" : ", shape NULL");
        return -1;
    }
    summary_row rows[256];
    recorder = rows;
    recorder_count = 0;
    recorder_cap = 256;
    // Eval mode for the probe pass, so it does not move BatchNorm's running statistics.
    bool prev = cg_set_grad_enabled(false), was_training = m->training;
    cg_module_eval(m);
    cg_scope_begin();
    cg_tensor *y = cg_module_forward(m, cg_zeros(ndim, input_shape));
    cg_scope_end();
    cg_module_train(m, was_training);
    cg_set_grad_enabled(prev);
    recorder = NULL;
    if (!y) return -1;
    const char *rule = "----------------------------------------------------------------";
    fprintf(out, "%s\n%25s %25s %15s\n%s\n", rule, "Layer (type)", "Output Shape", "Param #",
            "================================================================");
    int64_t total = 0, trainable = 0;
    for (int i = 0; i < recorder_count; i++) {
        char name[64], shape[96];
        int64_t own = own_parameters(rows[i].module);
        snprintf(name, sizeof name, "%s-%d", rows[i].module->cls->name, i + 1);
        int64_t s[CG_MAX_DIMS];
        memcpy(s, rows[i].shape, sizeof s);
        s[0] = -1; // the batch dim, as torchsummary prints it
        snprintf(shape, sizeof shape, "%s", cg_shape_str(rows[i].ndim, s));
        fprintf(out, "%25s %25s %15lld\n", name, shape, (long long)own);
        total += own;
        for (int p = 0; p < rows[i].module->n_params; p++)
            if (rows[i].module->params[p] && rows[i].module->params[p]->requires_grad)
                trainable += rows[i].module->params[p]->numel;
    }
    fprintf(out, "================================================================\n");
    fprintf(out, "Total params: %lld\nTrainable params: %lld\nNon-trainable params: %lld\n%s\n",
            (long long)total, (long long)trainable, (long long)(total - trainable), rule);
    return 0;
}
