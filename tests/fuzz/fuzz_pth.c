// tests/fuzz/fuzz_pth.c - .pth files: zip container, inflate, pickle interpreter, views;
// then, for a file that loads, a key path and a non-strict module load on the same input.
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(".pth", data, size);
    cg_tensor_list list;
    if (cg_pth_load(path, NULL, &list) == 0) {
        volatile float sum = 0; // every element is read (ASan checks each tensor's buffer)
        for (int i = 0; i < list.count; i++)
            for (int64_t k = 0; k < list.items[i].tensor->numel; k++)
                sum += list.items[i].tensor->data[k];
        (void)sum;
        cg_pth_free(&list);
    }
    if (cg_pth_load(path, "model", &list) == 0) cg_pth_free(&list);
    cg_module *model = cg_Sequential(2, (cg_module *[]){cg_Linear(4, 3, NULL), cg_ReLU()});
    cg_load_report report;
    cg_module_load_pth(path, model, &(cg_load_options){.non_strict = true}, &report);
    cg_load_report_free(&report);
    cg_module_free(model);
    return 0;
}
