// tests/compile_fail/conv2d_positional_stride.c - PyTorch's nn.Conv2d(1, 32, 3, 1) is kernel 3,
// stride 1. Its positional spelling must not compile into a 3x1 kernel (or anything else) in
// cgrad: the stride goes in the options.
// tests/CMakeLists.txt compiles this file and passes only if the compiler refuses it with
// "too many arguments".
#include <cgrad.h>

cg_module *pytorch_positional_stride(void) {
    return cg_Conv2d(1, 32, 3, 1, NULL);
}
