// io/dataset_internal.h - what a cg_dataset is (shared by io/dataset.c and io/image_folder.c).
#ifndef CG_DATASET_INTERNAL_H
#define CG_DATASET_INTERNAL_H

#include "dataset.h"

struct cg_dataset {
    cg_dataset_vtable vtable;
    void *self;
};

#endif
