// tensor/scope.c - scopes own the tensors created while they are open.
//
// A scope is a doubly linked list of tensors; scopes form a stack. cg_scope_end() frees
// the whole list, which is what keeps a training loop's memory flat without the user
// freeing each intermediate.
#include "scope.h"

#include "alloc.h"
#include "tensor_internal.h"

#define MAX_SCOPE_DEPTH 64

typedef struct cg_scope {
    cg_tensor *head;
} cg_scope;

// Each thread has its own stack of scopes, so two application threads can each run a
// scoped loop (a tensor's scope pointer still lets any thread free it and unlink it).
static _Thread_local cg_scope scopes[MAX_SCOPE_DEPTH];
static _Thread_local int depth = 0;

int cg_scope_depth(void) {
    return depth;
}

void cg_scope_begin(void) {
    if (depth == MAX_SCOPE_DEPTH) {
        cg_error(CG_ERR_STATE, "scope_begin: more than %d nested scopes (missing cg_scope_end?)",
                 MAX_SCOPE_DEPTH);
        return;
    }
    scopes[depth++].head = NULL;
}

static void link_into(cg_scope *s, cg_tensor *t) {
    t->scope = s;
    t->scope_prev = NULL;
    t->scope_next = s->head;
    if (s->head) s->head->scope_prev = t;
    s->head = t;
}

void cg_scope_adopt(cg_tensor *t) {
    if (depth > 0) link_into(&scopes[depth - 1], t);
}

void cg_scope_remove(cg_tensor *t) {
    cg_scope *s = t->scope;
    if (!s) return;
    if (t->scope_prev)
        t->scope_prev->scope_next = t->scope_next;
    else
        s->head = t->scope_next;
    if (t->scope_next) t->scope_next->scope_prev = t->scope_prev;
    t->scope = NULL;
    t->scope_prev = t->scope_next = NULL;
}

bool cg_scope_is_innermost(const cg_tensor *t) {
    return depth > 0 && t->scope == &scopes[depth - 1];
}

void cg_unscope(cg_tensor *t) {
    if (t) cg_scope_remove(t);
}

void cg_scope_end(void) {
    if (depth == 0) {
        cg_error(CG_ERR_STATE, "scope_end: no scope is open");
        return;
    }
    cg_scope *s = &scopes[--depth];
    while (s->head) cg_free(s->head); // cg_free unlinks the head
}

cg_tensor *cg_keep(cg_tensor *t) {
    if (!t) return NULL;
    // The ops that made t live in the scope being closed: cut t loose from them.
    cg_tensor_drop_node(t);
    cg_scope *s = t->scope;
    if (!s) return t;
    cg_scope_remove(t);
    int level = (int)(s - scopes);
    if (level > 0) link_into(&scopes[level - 1], t);
    return t;
}
