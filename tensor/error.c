// tensor/error.c - the error channel: last status + message, and a replaceable handler.
#include "error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static _Thread_local cg_status last_status = CG_OK;
static _Thread_local char last_message[512];
static _Thread_local char context[192];
static _Thread_local unsigned long error_count; // every report, cleared or not
static _Thread_local bool deferred;             // record only, no handler (cg_error_defer)

static void default_handler(cg_status status, const char *message, void *userdata) {
    (void)status;
    (void)userdata;
    fprintf(stderr, "cgrad: %s\n", message);
}

static cg_error_handler handler = default_handler;
static void *handler_userdata = NULL;

void cg_set_error_handler(cg_error_handler h, void *userdata) {
    handler = h ? h : default_handler;
    handler_userdata = h ? userdata : NULL;
}

unsigned long cg_error_count(void) {
    return error_count;
}

cg_status cg_last_error(void) {
    return last_status;
}
const char *cg_last_error_message(void) {
    return last_message;
}

void cg_clear_error(void) {
    last_status = CG_OK;
    last_message[0] = '\0';
}

const char *cg_status_name(cg_status status) {
    switch (status) {
    case CG_OK:
        return "ok";
    case CG_ERR_SHAPE:
        return "shape error";
    case CG_ERR_ARG:
        return "argument error";
    case CG_ERR_STATE:
        return "state error";
    case CG_ERR_MEMORY:
        return "out of memory";
    case CG_ERR_IO:
        return "I/O error";
    case CG_ERR_FORMAT:
        return "format error";
    }
    return "unknown error";
}

void cg_error_defer(bool on) {
    deferred = on;
}

void cg_error_set_context(const char *c) {
    snprintf(context, sizeof context, "%s", c ? c : "");
}
const char *cg_error_context(void) {
    return context;
}

void *cg_error(cg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = context[0] ? snprintf(last_message, sizeof last_message, "%s: ", context) : 0;
    vsnprintf(last_message + n, sizeof last_message - (size_t)n, fmt, ap);
    va_end(ap);
    last_status = status;
    error_count++;
    if (!deferred) handler(status, last_message, handler_userdata);
    return NULL;
}

// ---- warnings --------------------------------------------------------------------------------

static cg_warning_handler warning_handler = NULL; // NULL: print once per call site
static void *warning_userdata = NULL;

void cg_set_warning_handler(cg_warning_handler h, void *userdata) {
    warning_handler = h;
    warning_userdata = h ? userdata : NULL;
}

// Whether the format string `site` warns for the first time (then it is remembered; past 64
// sites every warning is printed).
static bool first_warning_at(const char *site) {
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static const char *seen[64];
    static int n_seen;
    bool first = true;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_seen && first; i++) first = seen[i] != site;
    if (first && n_seen < 64) seen[n_seen++] = site;
    pthread_mutex_unlock(&lock);
    return first;
}

void cg_warn(const char *fmt, ...) {
    char message[768];
    va_list ap;
    va_start(ap, fmt);
    int n = context[0] ? snprintf(message, sizeof message, "%s: ", context) : 0;
    vsnprintf(message + n, sizeof message - (size_t)n, fmt, ap);
    va_end(ap);
    if (warning_handler)
        warning_handler(message, warning_userdata);
    else if (first_warning_at(fmt))
        fprintf(stderr, "cgrad: warning: %s\n", message);
}
