// docs/guide/02-module-class.c - a module class of your own: torchvision's ResNet BasicBlock
// with a projection shortcut. It loads a state_dict PyTorch saved and computes what PyTorch
// computed: the output in train and eval mode and the input's gradient.
//
//   02-module-class [docs/guide/basic_block.safetensors]   (made by gen_basic_block.py)
#include <cgrad.h>
#include <stdio.h>

// ---- the class ----------------------------------------------------------------------------
// The children, kept for forward. The module owns them (cg_module_add_child): they are
// freed with it, and their parameters are named conv1.weight, bn1.running_mean, ...
typedef struct basic_block {
    cg_module *conv1, *bn1, *conv2, *bn2;
    cg_module *downsample; // the projection shortcut, or NULL when the shapes already match
} basic_block;

// x (N, in, H, W) -> (N, out, H / stride, W / stride), as BasicBlock.forward:
// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
static cg_tensor *basic_block_forward(cg_module *m, cg_tensor *x) {
    basic_block *b = m->impl;
    cg_tensor *out = cg_relu(cg_module_forward(b->bn1, cg_module_forward(b->conv1, x)));
    out = cg_module_forward(b->bn2, cg_module_forward(b->conv2, out));
    cg_tensor *shortcut = b->downsample ? cg_module_forward(b->downsample, x) : x;
    return cg_relu(cg_add(out, shortcut)); // a NULL anywhere above comes out as NULL
}

static const cg_module_class basic_block_class = {.name = "BasicBlock",
                                                  .forward = basic_block_forward};

// BasicBlock(in, out, stride) with torchvision's layers and state_dict names. NULL (with
// the error of the constructor that failed) on bad arguments.
static cg_module *BasicBlock(int in, int out, int stride) {
    cg_module *m = cg_module_new(&basic_block_class, &(basic_block){0}, sizeof(basic_block));
    if (!m) return NULL;
    basic_block *b = m->impl; // the module's own copy of the config
    const cg_conv_options first = {.stride = stride, .padding = 1, .no_bias = true};
    const cg_conv_options second = {.padding = 1, .no_bias = true};
    b->conv1 = cg_module_add_child(m, "conv1", cg_Conv2d(in, out, 3, &first));
    b->bn1 = cg_module_add_child(m, "bn1", cg_BatchNorm2d(out, NULL));
    b->conv2 = cg_module_add_child(m, "conv2", cg_Conv2d(out, out, 3, &second));
    b->bn2 = cg_module_add_child(m, "bn2", cg_BatchNorm2d(out, NULL));
    bool ok = b->conv1 && b->bn1 && b->conv2 && b->bn2;
    if (stride != 1 || in != out) { // a 1x1 convolution projects x to the output's shape
        const cg_conv_options project = {.stride = stride, .no_bias = true};
        b->downsample =
            cg_module_add_child(m, "downsample",
                                cg_Sequential(2, (cg_module *[]){cg_Conv2d(in, out, 1, &project),
                                                                 cg_BatchNorm2d(out, NULL)}));
        ok = ok && b->downsample;
    }
    if (!ok) {
        cg_module_free(m);
        return NULL;
    }
    return m;
}

// ---- using it -------------------------------------------------------------------------------
// max |a - b| / max |b|: how far cgrad's numbers are from PyTorch's, relative to their size.
static double relative_error(cg_tensor *a, cg_tensor *b) {
    return cg_item(cg_max_all(cg_abs(cg_sub(a, b)))) / cg_item(cg_max_all(cg_abs(b)));
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "docs/guide/basic_block.safetensors";
    cg_module *block = BasicBlock(16, 32, 2);
    if (!block) return 1;
    cg_module_print(block, stdout);
    printf("parameters: %lld (torchvision's block: 14528)\n",
           (long long)cg_module_num_parameters(block));

    // PyTorch's state_dict; the file also holds the reference tensors, which the model does
    // not have: load_state_dict(strict=False) loads the shared names and reports the rest.
    cg_load_report report;
    if (cg_module_load_ex(path, block, &(cg_load_options){.non_strict = true}, &report)) return 1;
    printf("loaded; not in the file: %d; not in the model:", report.n_missing);
    for (int i = 0; i < report.n_unexpected; i++) printf(" %s", report.unexpected[i]);
    printf("\n");
    bool all_loaded = report.n_missing == 0;
    cg_load_report_free(&report);
    cg_safetensors torch_run;
    if (cg_safetensors_load(path, &torch_run)) return 1;

    cg_scope_begin();
    cg_tensor *x = cg_requires_grad(cg_copy(cg_safetensors_find(&torch_run, "input")), true);
    cg_tensor *y = cg_module_forward(block, x); // train mode: batch statistics
    cg_backward_ex(y, cg_safetensors_find(&torch_run, "grad_output"), false);
    double e_train = relative_error(y, cg_safetensors_find(&torch_run, "output_train"));
    double e_grad = relative_error(x->grad, cg_safetensors_find(&torch_run, "input_grad"));
    cg_module_eval(block); // running statistics, updated by the forward above
    cg_set_grad_enabled(false);
    double e_eval =
        relative_error(cg_module_forward(block, x), cg_safetensors_find(&torch_run, "output_eval"));
    cg_set_grad_enabled(true);
    cg_scope_end();
    printf("relative error against PyTorch: train output %.1e, input gradient %.1e, "
           "eval output %.1e\n",
           e_train, e_grad, e_eval);

    bool same = all_loaded && cg_module_num_parameters(block) == 14528 && e_train < 1e-5 &&
                e_grad < 1e-5 && e_eval < 1e-5;
    cg_safetensors_free(&torch_run);
    cg_module_free(block);
    return same ? 0 : 1;
}
