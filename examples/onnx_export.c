// examples/onnx_export.c - a model trained in PyTorch, exported to ONNX by cgrad.
//
//   onnx_export model.pth model.onnx                 torch.save(model.state_dict()) file
//   onnx_export model.safetensors model.onnx --opset 13 --static-batch
//
// The model is the one of tests/fixtures/gen_pth.py, in PyTorch
//   nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
//                 nn.Linear(8, 3))
// on (N, 1, 4, 4) images: the weights load with one call (strict, as load_state_dict), the
// model goes to eval mode and one traced forward pass on an example image writes the ONNX
// graph (io/onnx.h): input "input" (N, 1, 4, 4), output "output" (N, 3), N free unless
// --static-batch. Write your own model the same way: build it, load it, cg_onnx_export.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int usage(void) {
    fprintf(stderr, "usage: onnx_export WEIGHTS.(pth|pt|safetensors) OUT.onnx [--opset 13..17] "
                    "[--static-batch]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    cg_onnx_options options = {0};
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--static-batch") == 0)
            options.static_batch = true;
        else if (strcmp(argv[i], "--opset") == 0 && i + 1 < argc)
            options.opset = atoi(argv[++i]);
        else
            return usage();
    }
    const char *in = argv[1], *out = argv[2];
    cg_module *model =
        cg_Sequential(5, (cg_module *[]){cg_Conv2d(1, 2, 3, NULL), cg_BatchNorm2d(2, NULL),
                                         cg_ReLU(), cg_Flatten(1, -1), cg_Linear(8, 3, NULL)});
    int rc = ends_with(in, ".safetensors") ? cg_module_load(in, model)
                                           : cg_module_load_pth(in, model, NULL, NULL);
    if (rc == 0) {
        cg_module_eval(model);
        cg_tensor *example = cg_zeros(CG_SHAPE(2, 1, 4, 4)); // two samples: see io/onnx.h
        rc = cg_onnx_export(model, example, out, &options);
        cg_free(example);
    }
    cg_module_free(model);
    if (rc != 0) return 1; // cgrad's default error handler has printed why
    printf("onnx_export: %s -> %s (opset %d, batch %s)\n", in, out,
           options.opset ? options.opset : 17, options.static_batch ? "1" : "N");
    return 0;
}
