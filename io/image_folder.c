// io/image_folder.c - torchvision's ImageFolder: root/<class>/**/<file>, classes sorted,
// files found in torchvision's make_dataset order, each header checked up front.
#define _POSIX_C_SOURCE 200809L // strdup, opendir
#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../tensor/alloc.h"
#include "dataset_internal.h"
#include "image.h"

// A growable array of strings (paths or names), cg_alloc'd.
typedef struct strings {
    char **items;
    int64_t count, cap;
} strings;

static int strings_push(strings *s, const char *text) {
    if (s->count == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 16;
        char **items = cg_alloc((size_t)cap * sizeof *items);
        if (!items) return -1;
        if (s->count) memcpy(items, s->items, (size_t)s->count * sizeof *items);
        cg_dealloc(s->items);
        s->items = items, s->cap = cap;
    }
    size_t n = strlen(text) + 1;
    char *copy = cg_alloc(n);
    if (!copy) return -1;
    memcpy(copy, text, n);
    s->items[s->count++] = copy;
    return 0;
}

static void strings_free(strings *s) {
    for (int64_t i = 0; i < s->count; i++) cg_dealloc(s->items[i]);
    cg_dealloc(s->items);
    memset(s, 0, sizeof *s);
}

static int by_bytes(const void *a, const void *b) {      // Python's sorted() on str: code points,
    return strcmp(*(char *const *)a, *(char *const *)b); // which is UTF-8 byte order
}

typedef struct folder {
    strings classes, paths;
    int64_t *labels;
    int channels;
    char *report;
    size_t report_len;
    bool cache;
    cg_sample *cached; // per sample, filled on first use when caching
    pthread_mutex_t lock;
} folder;

static void folder_free(void *self) {
    folder *f = self;
    if (!f) return;
    if (f->cached) { // before the paths: their count sizes the cache
        for (int64_t i = 0; i < f->paths.count; i++) cg_sample_clear(&f->cached[i]);
        cg_dealloc(f->cached);
    }
    strings_free(&f->classes);
    strings_free(&f->paths);
    cg_dealloc(f->labels);
    cg_dealloc(f->report);
    pthread_mutex_destroy(&f->lock);
    cg_dealloc(f);
}

// The sub-directories (dirs) or files (!dirs) of `dir`, sorted, as full paths or names.
static int list_dir(const char *dir, bool dirs, bool full, strings *out) {
    DIR *d = opendir(dir);
    if (!d) {
        cg_error(CG_ERR_IO, "image_folder: cannot open directory %s", dir);
        return -1;
    }
    struct dirent *e;
    char path[4096];
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st; // stat, not lstat: symlinks are followed, as os.walk(followlinks=True)
        if (stat(path, &st) != 0 || S_ISDIR(st.st_mode) != dirs) continue;
        rc = strings_push(out, full ? path : e->d_name);
    }
    closedir(d);
    if (out->count > 1) qsort(out->items, (size_t)out->count, sizeof *out->items, by_bytes);
    return rc;
}

// Every directory under `dir` (itself included), sorted by path: sorted(os.walk(dir)).
static int walk(const char *dir, strings *out, int depth) {
    if (depth > 64) return 0; // a symlink loop: os.walk would not end either; stop quietly
    strings subs = {0};
    int rc = strings_push(out, dir) || list_dir(dir, true, true, &subs);
    for (int64_t i = 0; rc == 0 && i < subs.count; i++) rc = walk(subs.items[i], out, depth + 1);
    strings_free(&subs);
    return rc;
}

// torchvision's IMG_EXTENSIONS; the first four are the ones cgrad decodes.
static const char *const extensions[] = {".png", ".jpg", ".jpeg", ".bmp", ".ppm",
                                         ".pgm", ".tif", ".tiff", ".webp"};
enum { DECODED_EXTENSIONS = 4, EXTENSIONS = 9 };

static int extension_of(const char *name) { // index in extensions, or -1
    size_t n = strlen(name);
    for (int k = 0; k < EXTENSIONS; k++) {
        size_t m = strlen(extensions[k]);
        bool same = n > m;
        for (size_t j = 0; same && j < m; j++)
            same = tolower((unsigned char)name[n - m + j]) == extensions[k][j];
        if (same) return k;
    }
    return -1;
}

// The magic number against the extension: NULL if they agree.
static const char *check_magic(const char *path, int ext) {
    if (ext >= DECODED_EXTENSIONS) return "an unsupported format (cgrad reads PNG, JPEG, BMP)";
    FILE *fp = fopen(path, "rb");
    if (!fp) return "cannot be opened";
    uint8_t b[8] = {0};
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    bool png = n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0;
    bool jpeg = n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
    bool bmp = n >= 2 && b[0] == 'B' && b[1] == 'M';
    bool right = ext == 0 ? png : ext == 3 ? bmp : jpeg;
    if (right) return NULL;
    if (png || jpeg || bmp)
        return png    ? "holds a PNG, not what its extension says"
               : jpeg ? "holds a JPEG, not what its extension says"
                      : "holds a BMP, not what its extension says";
    return n == 0 ? "is empty" : "is not a PNG, JPEG or BMP file (corrupt?)";
}

// Why the file is not a sample cgrad can decode, or NULL: its magic number against its
// extension, then cg_image_probe's header checks (dims, limits, truncated headers). A
// pixel stream corrupt past the header is found when the sample is decoded.
static const char *check_file(const char *path, int ext, char *why, size_t n) {
    const char *wrong = check_magic(path, ext);
    if (wrong) return wrong;
    cg_error_defer(true); // the reason goes into the report or one error, not the handler
    int rc = cg_image_probe(path, NULL, NULL, NULL);
    cg_error_defer(false);
    if (rc == 0) return NULL;
    snprintf(why, n, "cannot be decoded (%s)", cg_last_error_message());
    cg_clear_error(); // now a reason: raised again by the caller, or a line of the report
    return why;
}

static int note(folder *f, const char *path, const char *why) {
    size_t add = strlen(path) + strlen(why) + 4;
    char *r = cg_alloc(f->report_len + add);
    if (!r) return -1;
    if (f->report_len) memcpy(r, f->report, f->report_len);
    snprintf(r + f->report_len, add, "%s: %s\n", path, why);
    cg_dealloc(f->report);
    f->report = r, f->report_len += add - 1;
    return 0;
}

static int add_class(folder *f, const char *root, int64_t idx, cg_bad_file_policy bad) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", root, f->classes.items[idx]);
    strings dirs = {0};
    int64_t before = f->paths.count;
    int rc = walk(dir, &dirs, 0);
    // sorted(os.walk()) compares whole paths: "x-z" sorts before "x/y", unlike a depth-first
    // walk.
    if (dirs.count > 1) qsort(dirs.items, (size_t)dirs.count, sizeof *dirs.items, by_bytes);
    for (int64_t i = 0; rc == 0 && i < dirs.count; i++) {
        strings files = {0};
        rc = list_dir(dirs.items[i], false, true, &files);
        for (int64_t j = 0; rc == 0 && j < files.count; j++) {
            int ext = extension_of(files.items[j]);
            if (ext < 0) continue; // not an image: ignored, as torchvision
            char reason[600];
            const char *why = check_file(files.items[j], ext, reason, sizeof reason);
            if (why && bad == CG_BAD_FILE_FAIL) {
                cg_error(CG_ERR_FORMAT, "image_folder: %s %s", files.items[j], why);
                rc = -1;
            } else
                rc = why ? note(f, files.items[j], why) : strings_push(&f->paths, files.items[j]);
        }
        strings_free(&files);
    }
    strings_free(&dirs);
    if (rc == 0 && f->paths.count == before) {
        if (bad == CG_BAD_FILE_FAIL) {
            cg_error(CG_ERR_FORMAT,
                     "image_folder: class '%s' (%s) has no valid file; supported extensions "
                     "are .png .jpg .jpeg .bmp",
                     f->classes.items[idx], dir);
            return -1;
        }
        return note(f, dir, "an empty class");
    }
    return rc;
}

static int64_t folder_count(void *self) {
    return ((folder *)self)->paths.count;
}

static int copy_sample(const cg_sample *from, cg_sample *to) {
    *to = *from;
    size_t n = (size_t)from->c * (size_t)from->h * (size_t)from->w;
    to->bytes = cg_alloc(n);
    if (!to->bytes) return -1;
    memcpy(to->bytes, from->bytes, n);
    return 0;
}

static int folder_get(void *self, int64_t i, cg_sample *out) {
    folder *f = self;
    if (f->cache) {
        pthread_mutex_lock(&f->lock);
        int rc = f->cached[i].bytes ? copy_sample(&f->cached[i], out) : 1;
        pthread_mutex_unlock(&f->lock);
        if (rc <= 0) return rc;
    }
    out->bytes = cg_image_load_pixels(f->paths.items[i], f->channels, &out->w, &out->h);
    if (!out->bytes) return -1;
    out->c = f->channels;
    out->label = f->labels[i];
    if (!f->cache) return 0;
    pthread_mutex_lock(&f->lock);
    int rc = f->cached[i].bytes ? 0 : copy_sample(out, &f->cached[i]);
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static const cg_dataset_vtable folder_vtable = {folder_count, folder_get, folder_free};

static int scan(folder *f, const char *root, cg_bad_file_policy bad) {
    if (list_dir(root, true, false, &f->classes)) return -1;
    if (f->classes.count == 0) {
        cg_error(CG_ERR_FORMAT, "image_folder: no class folders found in %s", root);
        return -1;
    }
    for (int64_t c = 0; c < f->classes.count; c++) {
        int64_t before = f->paths.count;
        if (add_class(f, root, c, bad)) return -1;
        int64_t *labels = cg_alloc((size_t)(f->paths.count + 1) * sizeof *labels);
        if (!labels) return -1;
        if (before) memcpy(labels, f->labels, (size_t)before * sizeof *labels);
        for (int64_t i = before; i < f->paths.count; i++) labels[i] = c;
        cg_dealloc(f->labels);
        f->labels = labels;
    }
    return 0;
}

cg_dataset *cg_image_folder_new(const char *root, const cg_image_folder_options *options) {
    cg_image_folder_options o = options ? *options : (cg_image_folder_options){0};
    if (!root) return cg_error(CG_ERR_ARG, "image_folder: root is NULL");
    if (o.channels == 0) o.channels = 3;
    if (o.channels != 1 && o.channels != 3 && o.channels != 4)
        return cg_error(CG_ERR_ARG, "image_folder: channels must be 1, 3 or 4, got %d", o.channels);
    folder *f = cg_alloc_zeroed(sizeof *f);
    if (!f) return NULL;
    pthread_mutex_init(&f->lock, NULL);
    f->channels = o.channels;
    f->cache = o.cache;
    if (scan(f, root, o.bad) ||
        (o.cache &&
         !(f->cached = cg_alloc_zeroed((size_t)(f->paths.count + 1) * sizeof *f->cached)))) {
        folder_free(f);
        return NULL;
    }
    cg_dataset *d = cg_dataset_new(&folder_vtable, f);
    if (!d) folder_free(f);
    return d;
}

// d as an ImageFolder, or NULL with an error naming op (d NULL, or another kind of dataset).
static folder *as_folder(const cg_dataset *d, const char *op) {
    if (!cg_check_ptr(d, op, "d")) return NULL;
    if (d->vtable.get == folder_get) return d->self;
    cg_error(CG_ERR_ARG, "%s: the dataset is not an ImageFolder", op);
    return NULL;
}

int cg_image_folder_num_classes(const cg_dataset *d) {
    folder *f = as_folder(d, "image_folder_num_classes");
    return f ? (int)f->classes.count : 0;
}
const char *cg_image_folder_class(const cg_dataset *d, int idx) {
    folder *f = as_folder(d, "image_folder_class");
    return f && idx >= 0 && idx < f->classes.count ? f->classes.items[idx] : NULL;
}
const char *cg_image_folder_path(const cg_dataset *d, int64_t i) {
    folder *f = as_folder(d, "image_folder_path");
    return f && i >= 0 && i < f->paths.count ? f->paths.items[i] : NULL;
}
int64_t cg_image_folder_label(const cg_dataset *d, int64_t i) {
    folder *f = as_folder(d, "image_folder_label");
    return f && i >= 0 && i < f->paths.count ? f->labels[i] : -1;
}
const char *cg_image_folder_report(const cg_dataset *d) {
    folder *f = as_folder(d, "image_folder_report");
    return f && f->report ? f->report : "";
}
