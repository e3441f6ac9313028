// tensor/error.c - the error channel: last status + message, and a replaceable handler.
#include "error.h"

#include <stdarg.h>
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
