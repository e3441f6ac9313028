// examples/pth_convert.c - convert PyTorch state dicts between .pth and .safetensors.
//
//   pth_convert model.pth model.safetensors             torch.save(model.state_dict()) file
//   pth_convert run.pth model.safetensors --key model   a checkpoint dict {"model": ...}
//   pth_convert model.safetensors model.pth             for torch.load(weights_only=True)
//
// The direction follows the input's extension. Tensors are float32 on the way out
// (num_batches_tracked goes back to int64 in a .pth); the .pth reader runs no pickled code
// (io/pth.h), so converting an untrusted file is safe.
#include <stdio.h>
#include <string.h>

#include "cgrad.h"

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int usage(void) {
    fprintf(stderr, "usage: pth_convert IN.pth OUT.safetensors [--key PATH]\n"
                    "       pth_convert IN.safetensors OUT.pth\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--key") == 0)) return usage();
    const char *in = argv[1], *out = argv[2], *key = argc == 5 ? argv[4] : NULL;
    int rc = -1, count = 0;
    if (ends_with(in, ".pth") || ends_with(in, ".pt")) {
        cg_tensor_list list;
        if (cg_pth_load(in, key, &list) == 0) {
            const char *k = "format", *v = "pt";
            rc = cg_safetensors_save(out, &list, 1, &k, &v);
            count = list.count;
            cg_pth_free(&list);
        }
    } else if (ends_with(in, ".safetensors") && !key) {
        cg_safetensors st;
        if (cg_safetensors_load(in, &st) == 0) {
            rc = cg_pth_save(out, &st.tensors);
            count = st.tensors.count;
            cg_safetensors_free(&st);
        }
    } else {
        fprintf(stderr,
                "pth_convert: %s: give a .pth/.pt or a .safetensors file (--key only "
                "for .pth input)\n",
                in);
        return 2;
    }
    if (rc != 0) return 1; // cgrad's default error handler has printed why
    printf("pth_convert: %d tensors from %s to %s\n", count, in, out);
    return 0;
}
