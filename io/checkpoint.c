// io/checkpoint.c - model state dicts and resumable checkpoints on top of safetensors.
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "checkpoint.h"
#include "checkpoint_internal.h"

// ---- matching a file against the tensors we expect ------------------------------------------

// Appends to a bounded message, ending it with "..." once full (cg_error keeps 512 bytes).
typedef struct message {
    char text[400];
    size_t length;
    bool full;
} message;

static void say(message *m, const char *s) {
    if (m->full) return;
    size_t n = strlen(s);
    if (m->length + n + 4 >= sizeof m->text) {
        memcpy(m->text + m->length, "...", 4);
        m->length += 3;
        m->full = true;
        return;
    }
    memcpy(m->text + m->length, s, n + 1);
    m->length += n;
}

// One section "missing: a, b" / "unexpected: c" / "mis-shaped: ..." of the message.
static void say_item(message *m, const char *section, int *count, const char *item) {
    if (*count == 0) {
        if (m->length) say(m, "; ");
        say(m, section);
        say(m, ": ");
    } else {
        say(m, ", ");
    }
    say(m, item);
    (*count)++;
}

static void report_add(char ***names, int *count, const char *name) {
    char **grown = cg_alloc((size_t)(*count + 1) * sizeof *grown);
    char *copy = cg_alloc(strlen(name) + 1);
    if (!grown || !copy) {
        cg_dealloc(grown), cg_dealloc(copy);
        return;
    }
    if (*count) memcpy(grown, *names, (size_t)*count * sizeof *grown);
    cg_dealloc(*names);
    strcpy(copy, name);
    grown[(*count)++] = copy;
    *names = grown;
}

void cg_load_report_free(cg_load_report *report) {
    if (!report) return;
    for (int i = 0; i < report->n_missing; i++) cg_dealloc(report->missing[i]);
    for (int i = 0; i < report->n_unexpected; i++) cg_dealloc(report->unexpected[i]);
    cg_dealloc(report->missing);
    cg_dealloc(report->unexpected);
    *report = (cg_load_report){0, 0, NULL, NULL};
}

static cg_tensor *find(const cg_tensor_list *list, const char *name) {
    for (int k = 0; k < list->count; k++)
        if (strcmp(list->items[k].name, name) == 0) return list->items[k].tensor;
    return NULL;
}

// Check that `file` holds the names of `expected` with the same shapes (and, if strict,
// nothing else and nothing less). Reports one CG_ERR_SHAPE message listing every problem
// and returns -1, or returns 0. Missing and unexpected names go to *report when non-NULL.
static int match_tensors(const char *who, const char *path, const cg_tensor_list *expected,
                         const cg_tensor_list *file, bool strict, cg_load_report *report) {
    message m = {{0}, 0, false};
    int missing = 0, unexpected = 0, misshaped = 0;
    cg_load_report found = {0, 0, NULL, NULL};
    for (int i = 0; i < expected->count; i++) {
        if (find(file, expected->items[i].name)) continue;
        report_add(&found.missing, &found.n_missing, expected->items[i].name);
        if (strict) say_item(&m, "missing", &missing, expected->items[i].name);
    }
    for (int i = 0; i < file->count; i++) {
        const char *name = file->items[i].name;
        if (find(expected, name)) continue;
        report_add(&found.unexpected, &found.n_unexpected, name);
        if (strict) say_item(&m, "unexpected", &unexpected, name);
    }
    for (int i = 0; i < expected->count; i++) {
        const cg_tensor *want = expected->items[i].tensor;
        const cg_tensor *got = find(file, expected->items[i].name);
        if (got && !cg_same_shape(got, want)) {
            char item[CG_NAME_MAX + 64];
            snprintf(item, sizeof item, "%s (file %s, model %s)", expected->items[i].name,
                     cg_tensor_shape_str(got), cg_tensor_shape_str(want));
            say_item(&m, "mis-shaped", &misshaped, item);
        }
    }
    if (report)
        *report = found;
    else
        cg_load_report_free(&found);
    if (missing + unexpected + misshaped == 0) return 0;
    cg_error(CG_ERR_SHAPE, "%s: %s does not fit the model: %s", who, path, m.text);
    return -1;
}

// Copy every expected tensor the file has (all of them after a strict match).
static void copy_into(const cg_tensor_list *expected, const cg_tensor_list *file) {
    for (int i = 0; i < expected->count; i++) {
        cg_tensor *dst = expected->items[i].tensor;
        const cg_tensor *src = find(file, expected->items[i].name);
        if (src) memcpy(dst->data, src->data, (size_t)dst->numel * sizeof(float));
    }
}

// ---- model state ------------------------------------------------------------------------------

int cg_module_save(const char *path, const cg_module *m) {
    if (!m) {
        cg_error(CG_ERR_ARG, "module_save: module is NULL");
        return -1;
    }
    cg_tensor_list sd = cg_module_state_dict(m);
    if (sd.count < 0) return -1;
    const char *key = "format", *value = "pt";
    int rc = cg_safetensors_save(path, &sd, 1, &key, &value);
    cg_tensor_list_free(&sd);
    return rc;
}

int cg_module_load(const char *path, cg_module *m) {
    return cg_module_load_ex(path, m, NULL, NULL);
}

int cg_module_load_tensors(const char *who, const char *path, cg_module *m,
                           const cg_tensor_list *file, const cg_load_options *options,
                           cg_load_report *report) {
    cg_tensor_list sd = cg_module_state_dict(m);
    if (sd.count < 0) return -1;
    bool strict = !(options && options->non_strict);
    int rc = match_tensors(who, path, &sd, file, strict, report);
    if (rc == 0) copy_into(&sd, file);
    cg_tensor_list_free(&sd);
    return rc;
}

int cg_module_load_ex(const char *path, cg_module *m, const cg_load_options *options,
                      cg_load_report *report) {
    if (report) *report = (cg_load_report){0, 0, NULL, NULL};
    if (!m) {
        cg_error(CG_ERR_ARG, "module_load: module is NULL");
        return -1;
    }
    if (options && options->key_path && *options->key_path) {
        cg_error(CG_ERR_ARG,
                 "module_load: options.key_path '%s' is for .pth files (cg_module_load_pth); a "
                 "safetensors file is flat",
                 options->key_path);
        return -1;
    }
    cg_safetensors file;
    if (cg_safetensors_load(path, &file) != 0) return -1;
    int rc = cg_module_load_tensors("module_load", path, m, &file.tensors, options, report);
    cg_safetensors_free(&file);
    return rc;
}

// ---- checkpoints ----------------------------------------------------------------------------

#define OPTIMIZER_PREFIX "optimizer."

// The model's state dict followed by the optimizer's state under "optimizer.<name>".
static int checkpoint_tensors(const cg_module *model, cg_optimizer *opt, cg_tensor_list *out) {
    cg_tensor_list sd = cg_module_state_dict(model);
    cg_tensor_list os = opt ? cg_optimizer_state(opt) : (cg_tensor_list){0, NULL};
    int n = sd.count + os.count, rc = sd.count < 0 || os.count < 0 ? -1 : 0;
    out->count = 0;
    out->items = rc == 0 ? cg_alloc((size_t)(n > 0 ? n : 1) * sizeof *out->items) : NULL;
    if (!out->items) rc = -1;
    for (int i = 0; rc == 0 && i < sd.count; i++) out->items[out->count++] = sd.items[i];
    for (int i = 0; rc == 0 && i < os.count; i++) {
        cg_named_tensor *item = &out->items[out->count++];
        if ((size_t)snprintf(item->name, sizeof item->name, OPTIMIZER_PREFIX "%s",
                             os.items[i].name) >= sizeof item->name) {
            cg_error(CG_ERR_ARG, "checkpoint: optimizer state name '%s' is too long",
                     os.items[i].name);
            rc = -1;
        }
        item->tensor = os.items[i].tensor;
    }
    cg_tensor_list_free(&sd);
    cg_tensor_list_free(&os);
    if (rc != 0) cg_tensor_list_free(out);
    return rc;
}

enum { META_MAX = 15 + CG_CHECKPOINT_MAX_RANKS + CG_CHECKPOINT_MAX_GROUPS };
typedef struct meta_strings {
    int count;
    const char *keys[META_MAX];
    char key_text[META_MAX][32]; // the keys, e.g. "rank.3.rng"
    char values[META_MAX][48];
} meta_strings;

static void add_meta(meta_strings *ms, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_meta(meta_strings *ms, const char *key, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ms->values[ms->count], sizeof ms->values[0], fmt, ap);
    va_end(ap);
    snprintf(ms->key_text[ms->count], sizeof ms->key_text[0], "%s", key);
    ms->keys[ms->count] = ms->key_text[ms->count];
    ms->count++;
}

int cg_checkpoint_save(const char *path, const cg_module *model, cg_optimizer *opt,
                       const cg_checkpoint_meta *meta) {
    if (!model || !meta) {
        cg_error(CG_ERR_ARG, "checkpoint_save: model or meta is NULL");
        return -1;
    }
    cg_tensor_list all;
    if (checkpoint_tensors(model, opt, &all) != 0) return -1;
    const cg_rng *g = cg_global_rng();
    meta_strings ms = {0};
    add_meta(&ms, "format", "cgrad-checkpoint");
    add_meta(&ms, "epoch", "%" PRId64, meta->epoch);
    add_meta(&ms, "global_step", "%" PRId64, meta->global_step);
    add_meta(&ms, "lr", "%.17g", meta->lr);
    add_meta(&ms, "rng.state", "%" PRIu64, g->state);
    add_meta(&ms, "rng.inc", "%" PRIu64, g->inc);
    if (meta->has_loader) {
        add_meta(&ms, "loader.rng.state", "%" PRIu64, meta->loader.rng.state);
        add_meta(&ms, "loader.rng.inc", "%" PRIu64, meta->loader.rng.inc);
        add_meta(&ms, "loader.epoch", "%" PRId64, meta->loader.epoch);
        add_meta(&ms, "loader.batch", "%" PRId64, meta->loader.batch);
        add_meta(&ms, "loader.sample", "%" PRId64, meta->loader.sample);
        add_meta(&ms, "loader.world", "%" PRId64, meta->loader.world);
    }
    int ranks = meta->n_rank_rngs;
    if (ranks < 0 || ranks > CG_CHECKPOINT_MAX_RANKS) {
        cg_tensor_list_free(&all);
        cg_error(CG_ERR_ARG, "checkpoint_save: n_rank_rngs %d is not in [0, %d]", ranks,
                 CG_CHECKPOINT_MAX_RANKS);
        return -1;
    }
    if (ranks > 0) add_meta(&ms, "ranks", "%d", ranks);
    int groups = cg_optimizer_n_groups(opt);
    if (groups > CG_CHECKPOINT_MAX_GROUPS) {
        cg_tensor_list_free(&all);
        cg_error(CG_ERR_ARG, "checkpoint_save: the optimizer has %d parameter groups, at most %d",
                 groups, CG_CHECKPOINT_MAX_GROUPS);
        return -1;
    }
    if (opt) add_meta(&ms, "optimizer.groups", "%d", groups);
    for (int g = 0; g < groups; g++) { // %.17g: the double comes back bit for bit
        char key[32];
        snprintf(key, sizeof key, "optimizer.group.%d.lr", g);
        add_meta(&ms, key, "%.17g", cg_optimizer_group_lr(opt, g));
    }
    for (int r = 0; r < ranks; r++) {
        char key[24];
        snprintf(key, sizeof key, "rank.%d.rng", r);
        add_meta(&ms, key, "%" PRIu64 ":%" PRIu64, meta->rank_rngs[r].state,
                 meta->rank_rngs[r].inc);
    }
    const char *values[META_MAX];
    for (int i = 0; i < ms.count; i++) values[i] = ms.values[i];
    int rc = cg_safetensors_save(path, &all, ms.count, ms.keys, values);
    cg_tensor_list_free(&all);
    return rc;
}

// A whole decimal number from metadata key (unsigned if `is_unsigned`), or an error.
static int meta_integer(const cg_safetensors *file, const char *path, const char *key,
                        bool is_unsigned, uint64_t *out) {
    const char *s = cg_safetensors_meta(file, key);
    char *end = NULL;
    errno = 0;
    if (s && *s && (*s != '-' || !is_unsigned))
        *out = is_unsigned ? strtoull(s, &end, 10) : (uint64_t)strtoll(s, &end, 10);
    if (!s || !end || *end || errno) {
        cg_error(CG_ERR_FORMAT, "checkpoint_load: %s: metadata '%s' is %s%s%s", path, key,
                 s ? "not a whole number: '" : "missing", s ? s : "", s ? "'" : "");
        return -1;
    }
    return 0;
}

// "ranks" and "rank.<r>.rng" = "state:inc" of every rank's generator, if saved.
static int read_rank_rngs(const cg_safetensors *file, const char *path, cg_checkpoint_meta *m) {
    uint64_t ranks = 0;
    if (!cg_safetensors_meta(file, "ranks")) return 0;
    if (meta_integer(file, path, "ranks", true, &ranks)) return -1;
    if (ranks > CG_CHECKPOINT_MAX_RANKS) {
        cg_error(CG_ERR_FORMAT, "checkpoint_load: %s: %llu ranks, at most %d", path,
                 (unsigned long long)ranks, CG_CHECKPOINT_MAX_RANKS);
        return -1;
    }
    for (int r = 0; r < (int)ranks; r++) {
        char key[24], *end = NULL;
        snprintf(key, sizeof key, "rank.%d.rng", r);
        const char *v = cg_safetensors_meta(file, key);
        uint64_t state = v ? strtoull(v, &end, 10) : 0, inc = 0;
        if (end && *end == ':') inc = strtoull(end + 1, &end, 10);
        if (!v || !end || *end) {
            cg_error(CG_ERR_FORMAT, "checkpoint_load: %s: metadata '%s' is not 'state:inc'", path,
                     key);
            return -1;
        }
        m->rank_rngs[r] = (cg_rng){state, inc};
    }
    m->n_rank_rngs = (int)ranks;
    return 0;
}

// Every parameter group's lr ("optimizer.group.<g>.lr", exact doubles) into lrs; files
// from before parameter groups have only "lr", which then applies to every group.
static int read_group_lrs(const cg_safetensors *file, const char *path, const cg_optimizer *opt,
                          double lr, double *lrs) {
    int n = cg_optimizer_n_groups(opt);
    uint64_t groups = 0;
    for (int g = 0; g < n; g++) lrs[g] = lr;
    if (!cg_safetensors_meta(file, "optimizer.groups")) return 0;
    if (meta_integer(file, path, "optimizer.groups", true, &groups)) return -1;
    if (groups != (uint64_t)n) {
        cg_error(CG_ERR_SHAPE,
                 "checkpoint_load: %s holds %llu parameter groups but the optimizer has %d", path,
                 (unsigned long long)groups, n);
        return -1;
    }
    for (int g = 0; g < n; g++) {
        char key[32], *end = NULL;
        snprintf(key, sizeof key, "optimizer.group.%d.lr", g);
        const char *v = cg_safetensors_meta(file, key);
        if (v) lrs[g] = strtod(v, &end);
        if (!v || !end || *end || end == v || !(lrs[g] >= 0)) {
            cg_error(CG_ERR_FORMAT, "checkpoint_load: %s: metadata '%s' is missing or not a lr",
                     path, key);
            return -1;
        }
    }
    return 0;
}

static int read_meta(const cg_safetensors *file, const char *path, cg_checkpoint_meta *m) {
    const char *format = cg_safetensors_meta(file, "format");
    if (!format || strcmp(format, "cgrad-checkpoint") != 0) {
        cg_error(CG_ERR_FORMAT,
                 "checkpoint_load: %s is not a cgrad checkpoint (metadata format "
                 "'%s'); use cg_module_load for model weights",
                 path, format ? format : "missing");
        return -1;
    }
    uint64_t epoch, step, state, inc, l_state, l_inc, l_epoch, l_batch;
    const char *lr = cg_safetensors_meta(file, "lr");
    char *end = NULL;
    if (lr) m->lr = strtod(lr, &end);
    if (!lr || !end || *end || end == lr) {
        cg_error(CG_ERR_FORMAT, "checkpoint_load: %s: metadata 'lr' is missing or not a number",
                 path);
        return -1;
    }
    if (meta_integer(file, path, "epoch", false, &epoch) ||
        meta_integer(file, path, "global_step", false, &step) ||
        meta_integer(file, path, "rng.state", true, &state) ||
        meta_integer(file, path, "rng.inc", true, &inc))
        return -1;
    m->epoch = (int64_t)epoch;
    m->global_step = (int64_t)step;
    m->global_rng = (cg_rng){state, inc};
    m->has_loader = cg_safetensors_meta(file, "loader.rng.state") != NULL;
    if (m->has_loader) {
        if (meta_integer(file, path, "loader.rng.state", true, &l_state) ||
            meta_integer(file, path, "loader.rng.inc", true, &l_inc) ||
            meta_integer(file, path, "loader.epoch", false, &l_epoch) ||
            meta_integer(file, path, "loader.batch", false, &l_batch))
            return -1;
        uint64_t l_sample = 0, l_world = 1; // absent before the distributed sampler
        if ((cg_safetensors_meta(file, "loader.sample") &&
             meta_integer(file, path, "loader.sample", false, &l_sample)) ||
            (cg_safetensors_meta(file, "loader.world") &&
             meta_integer(file, path, "loader.world", false, &l_world)))
            return -1;
        m->loader = (cg_dataloader_state){{l_state, l_inc},
                                          (int64_t)l_epoch,
                                          (int64_t)l_batch,
                                          (int64_t)l_sample,
                                          (int64_t)l_world};
    }
    return read_rank_rngs(file, path, m);
}

int cg_checkpoint_load(const char *path, cg_module *model, cg_optimizer *opt,
                       cg_checkpoint_meta *meta) {
    if (!model) {
        cg_error(CG_ERR_ARG, "checkpoint_load: model is NULL");
        return -1;
    }
    cg_safetensors file;
    if (cg_safetensors_load(path, &file) != 0) return -1;
    cg_checkpoint_meta m;
    memset(&m, 0, sizeof m);
    cg_tensor_list all = {0, NULL};
    int rc = read_meta(&file, path, &m);
    if (rc == 0) rc = checkpoint_tensors(model, opt, &all);
    if (rc == 0) rc = match_tensors("checkpoint_load", path, &all, &file.tensors, true, NULL);
    int n_groups = opt ? cg_optimizer_n_groups(opt) : 0;
    double lrs[CG_CHECKPOINT_MAX_GROUPS];
    if (rc == 0 && n_groups > CG_CHECKPOINT_MAX_GROUPS) {
        cg_error(CG_ERR_ARG, "checkpoint_load: the optimizer has %d parameter groups, at most %d",
                 n_groups, CG_CHECKPOINT_MAX_GROUPS);
        rc = -1;
    }
    if (rc == 0) rc = read_group_lrs(&file, path, opt, m.lr, lrs);
    if (rc == 0) {
        copy_into(&all, &file.tensors);
        for (int g = 0; g < n_groups; g++) cg_optimizer_set_group_lr(opt, g, lrs[g]);
        *cg_global_rng() = m.global_rng;
        if (meta) *meta = m;
    }
    cg_tensor_list_free(&all);
    cg_safetensors_free(&file);
    return rc;
}
