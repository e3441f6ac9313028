// examples/tiny_mlp.c - fit y = x^2 on [-2, 2] with a 1-16-1 tanh MLP, autograd and a
// hand-written SGD step.
#include <cgrad.h>
#include <stdio.h>

int main(void) {
    cg_manual_seed(0);
    cg_tensor *x = cg_uniform(CG_SHAPE(64, 1), -2.0f, 2.0f, NULL), *y = cg_mul(x, x);
    cg_tensor *w1 = cg_requires_grad(cg_normal(CG_SHAPE(1, 16), 0.0f, 1.0f, NULL), true);
    cg_tensor *b1 = cg_requires_grad(cg_zeros(CG_SHAPE(16)), true);
    cg_tensor *w2 = cg_requires_grad(cg_normal(CG_SHAPE(16, 1), 0.0f, 0.25f, NULL), true);
    cg_tensor *b2 = cg_requires_grad(cg_zeros(CG_SHAPE(1)), true);
    cg_tensor *params[] = {w1, b1, w2, b2};
    for (int step = 0; step <= 2000; step++) {
        cg_scope_begin(); // everything created until cg_scope_end() is freed there
        cg_tensor *h = cg_tanh(cg_add(cg_matmul(x, w1), b1));
        cg_tensor *loss =
            cg_mean(cg_pow(cg_sub(cg_add(cg_matmul(h, w2), b2), y), 2), CG_ALL_DIMS, false);
        cg_backward(loss);
        for (int i = 0; i < 4; i++) { // SGD: p -= lr * grad, then clear the grad
            for (int64_t j = 0; j < params[i]->numel; j++)
                params[i]->data[j] -= 0.05f * params[i]->grad->data[j];
            cg_zero_grad(params[i]);
        }
        if (step % 500 == 0) printf("step %4d  loss %.5f\n", step, cg_item(loss));
        cg_scope_end();
    }
    for (int i = 0; i < 4; i++) cg_free(params[i]);
    cg_free(x), cg_free(y);
    return 0;
}
