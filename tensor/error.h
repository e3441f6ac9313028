// tensor/error.h - the one error channel of cgrad.
//
// Every function that can fail reports through cg_error(): it records a status and a
// message that names the op, the argument and the shapes, e.g.
//   "matmul: cannot multiply [2,3] by [4,5]: inner dims 3 != 4"
// and then calls the error handler. Functions that return a tensor return NULL on error;
// functions that return int return -1. Passing a NULL tensor (the result of an earlier
// failure) to an op makes it return NULL as well without replacing the first message, so a
// chain of calls can be checked once at the end.
//
// The default handler prints "cgrad: <message>" to stderr and returns; nothing exits.
// Replace it with cg_set_error_handler() (tests install a silent one and read the message).
#ifndef CG_ERROR_H
#define CG_ERROR_H

#include <stdbool.h>

typedef enum cg_status {
    CG_OK = 0,
    CG_ERR_SHAPE,  // shapes or ranks that do not fit together
    CG_ERR_ARG,    // a bad argument value (negative stride, dim out of range, ...)
    CG_ERR_STATE,  // wrong use of state (backward twice through a freed graph, ...)
    CG_ERR_MEMORY, // out of memory
    CG_ERR_IO,     // a file could not be opened, read or written
    CG_ERR_FORMAT, // a file's contents are corrupt, truncated or of another format
} cg_status;

typedef void (*cg_error_handler)(cg_status status, const char *message, void *userdata);

// Install a handler (NULL restores the default one that prints to stderr).
void cg_set_error_handler(cg_error_handler handler, void *userdata);

// The last error since cg_clear_error() (CG_OK if none) and its message ("" if none).
cg_status cg_last_error(void);
const char *cg_last_error_message(void);
void cg_clear_error(void);
const char *cg_status_name(cg_status status);
// How many errors this thread has reported so far (cg_clear_error does not reset it):
// compare two readings to learn whether anything in between failed, whatever the
// functions returned (the backward engine checks every op's backward this way).
unsigned long cg_error_count(void);

// A context for this thread's messages: while set, every message starts with
// "<context>: ", so "conv2d: ..." reads "features.3: conv2d: ..." (nn/module.c sets the
// module path while a child module runs). NULL or "" clears it; the string is copied.
void cg_error_set_context(const char *context);
const char *cg_error_context(void); // "" when none

// While on, this thread's errors are recorded (status, message, count) without calling the
// handler: for a worker thread whose errors another thread re-raises with cg_error (the
// data loader's workers), so each is reported once, on the thread that asked for the work.
void cg_error_defer(bool on);

// Report an error: printf-style message, starting with the op's name. Returns NULL so a
// function can `return cg_error(...)`.
void *cg_error(cg_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// ---- warnings: what PyTorch reports with warnings.warn ----------------------------------
// A warning does not fail the call and sets no error. The handler sees every warning (with
// the context prefix, as errors); the default one prints "cgrad: warning: <message>" to
// stderr once per call site (per format string), as Python's default warning filter does.
typedef void (*cg_warning_handler)(const char *message, void *userdata);
void cg_set_warning_handler(cg_warning_handler handler, void *userdata); // NULL: the default
void cg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
