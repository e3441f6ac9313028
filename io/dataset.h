// io/dataset.h - datasets of images behind one interface, the transforms applied to each
// sample, and a loader that batches them on worker threads (torchvision's ImageFolder,
// transforms and torch.utils.data.DataLoader). Guide: docs/data.md.
//
//   cg_dataset *train = cg_image_folder_new("photos/train",
//                                           &(cg_image_folder_options){.channels = 3});
//   cg_transform steps[] = {cg_t_resize(32, 32, CG_INTERP_BILINEAR),
//                           cg_t_random_crop(32, 32, 4), cg_t_random_horizontal_flip(0.5f),
//                           cg_t_normalize(3, (float[]){.5f, .5f, .5f}, (float[]){.5f, .5f, .5f})};
//   cg_loader *dl = cg_loader_new(train, steps, 4, &(cg_loader_options){
//                                     .batch = 64, .shuffle = true, .workers = 2, .seed = 1});
//   cg_tensor *x, *y;
//   while (cg_loader_next(dl, &x, &y) == 1) { ... x (64,3,32,32), y (64) ... }
//   cg_loader_free(dl);
//   cg_dataset_free(train);
//
// Everything reports through cg_error; a decode failure inside a worker is re-raised by
// cg_loader_next on the calling thread, with the file's name.
#ifndef CG_DATASET_H
#define CG_DATASET_H

#include <stdbool.h>
#include <stdint.h>

#include "../tensor/tensor.h"

// ---- one sample ------------------------------------------------------------------------------
// An image as HWC bytes (as decoded) or CHW floats (after ToTensor), and its label.
// Exactly one of bytes / data is set; both are cg_alloc'd and owned by the sample.
typedef struct cg_sample {
    uint8_t *bytes; // (h, w, c) uint8, or NULL
    float *data;    // (c, h, w) float, or NULL
    int c, h, w;
    int64_t label;
} cg_sample;
void cg_sample_clear(cg_sample *s); // frees bytes/data and zeroes *s

// ---- the dataset interface ---------------------------------------------------------------
// count() samples; get(i) fills *out (a sample the caller then owns) and returns 0, or -1
// after cg_error. get must be safe to call from several threads at once (the loader's
// workers do): built-in datasets only read shared state.
typedef struct cg_dataset_vtable {
    int64_t (*count)(void *self);
    int (*get)(void *self, int64_t i, cg_sample *out);
    void (*free)(void *self); // may be NULL
} cg_dataset_vtable;

typedef struct cg_dataset cg_dataset;
// A user-defined dataset (a get(i) callback): `self` is passed back to every call.
cg_dataset *cg_dataset_new(const cg_dataset_vtable *vtable, void *self);
int64_t cg_dataset_count(const cg_dataset *d);
// Sample i (0 <= i < count) into *out: -1 (CG_ERR_ARG) out of range, or the dataset's error.
int cg_dataset_get(const cg_dataset *d, int64_t i, cg_sample *out);
void cg_dataset_free(cg_dataset *d); // calls vtable->free(self); NULL is fine

// The IDX / MNIST data as a dataset: images (N, C, H, W) or (N, H, W) floats (not owned,
// they must outlive the dataset; samples are copies), labels (N) or NULL (label -1).
cg_dataset *cg_tensor_dataset_new(cg_tensor *images, cg_tensor *labels);
// Byte images (cg_mnist_load_bytes' pixels, n samples of c x h x w bytes, CHW order): each
// sample is handed out as HWC bytes, as torchvision hands out MNIST's PIL images.
cg_dataset *cg_bytes_dataset_new(const uint8_t *pixels, int64_t n, int c, int h, int w,
                                 cg_tensor *labels);

// ---- ImageFolder (torchvision.datasets.ImageFolder) ------------------------------------------
// root/<class>/**/<file>: classes are the sub-directories of root sorted by name (byte order,
// as Python's sorted), so class_to_idx equals torchvision's; each class's files are found
// recursively (symlinks followed), directories visited in sorted path order and files sorted
// within each, as torchvision's make_dataset. Files whose extension (any case) is one of
// torchvision's IMG_EXTENSIONS are samples; other files are ignored, as in torchvision.
// cgrad decodes .png, .jpg, .jpeg and .bmp; a .ppm/.pgm/.tif/.tiff/.webp file is "an
// unsupported format". Every file's header is checked at construction: a file that cannot
// be read, is corrupt, exceeds the image.h limits, or whose contents are not the format its
// extension names ("a.png holds a JPEG") is a bad file. So is a class with no file.
typedef enum cg_bad_file_policy {
    CG_BAD_FILE_FAIL = 0, // the first bad file or empty class fails construction (default)
    CG_BAD_FILE_SKIP,     // bad files are left out and listed in the report; an empty
                          // class keeps its index (torchvision's allow_empty)
} cg_bad_file_policy;

typedef struct cg_image_folder_options {
    int channels;           // 1 ("L"), 3 ("RGB") or 4 ("RGBA"); 0: 3, as torchvision's loader
    cg_bad_file_policy bad; // default: fail
    bool cache;             // keep decoded samples in memory after their first use
} cg_image_folder_options;

// NULL and CG_ERR_IO / CG_ERR_FORMAT naming the file (or class) on failure.
cg_dataset *cg_image_folder_new(const char *root, const cg_image_folder_options *options);
// For a dataset made by cg_image_folder_new (NULL / 0 / -1 otherwise):
int cg_image_folder_num_classes(const cg_dataset *d);
const char *cg_image_folder_class(const cg_dataset *d, int idx);  // classes[idx]
const char *cg_image_folder_path(const cg_dataset *d, int64_t i); // samples[i][0]
int64_t cg_image_folder_label(const cg_dataset *d, int64_t i);    // samples[i][1]
// The files left out under CG_BAD_FILE_SKIP, one "path: reason" per line ("" if none).
const char *cg_image_folder_report(const cg_dataset *d);

#endif
