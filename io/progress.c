// io/progress.c - one progress line per loop: redrawn in place on a terminal, printed once
// at the end when the output is a file or a pipe (a log then holds one line per epoch, not
// hundreds of '\r' updates).
#define _POSIX_C_SOURCE 200809L // fileno, clock_gettime
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "training.h"

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void cg_progress_begin_mode(cg_progress *p, FILE *out, cg_progress_mode mode, int64_t total,
                            const char *label) {
    if (!cg_check_ptr(p, "progress_begin", "p")) return;
    memset(p, 0, sizeof *p);
    p->out = out ? out : stderr;
    if (mode == CG_PROGRESS_AUTO)
        mode = isatty(fileno(p->out)) ? CG_PROGRESS_LIVE : CG_PROGRESS_LINES;
    p->mode = mode;
    p->total = total > 0 ? total : 1;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    fflush(stdout); // what was printed before comes first, whichever stream we write to
    p->start = p->last_draw = seconds();
}

void cg_progress_begin(cg_progress *p, FILE *out, int64_t total, const char *label_fmt, ...) {
    char label[96] = "";
    va_list ap;
    va_start(ap, label_fmt);
    if (label_fmt) vsnprintf(label, sizeof label, label_fmt, ap);
    va_end(ap);
    cg_progress_begin_mode(p, out, CG_PROGRESS_AUTO, total, label);
}

// p was begun: an error naming op otherwise (a zeroed or NULL progress has no output).
static bool begun(const cg_progress *p, const char *op) {
    if (!cg_check_ptr(p, op, "p")) return false;
    if (p->out) return true;
    cg_error(CG_ERR_STATE, "%s: the progress was not begun with cg_progress_begin", op);
    return false;
}

double cg_progress_elapsed(const cg_progress *p) {
    if (!begun(p, "progress_elapsed")) return -1;
    return seconds() - p->start;
}

// "m:ss" (or "h:mm:ss") of t seconds.
static void clock_text(char *buf, size_t size, double t) {
    long s = t > 0 ? (long)(t + 0.5) : 0;
    if (s >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

// label [=====     ]  42%  metrics  ETA 0:12 (or "in 0:31" once done)
static int draw(cg_progress *p, const char *metrics, bool final) {
    enum { WIDTH = 24 };
    int64_t done = p->done < p->total ? p->done : p->total;
    int64_t total = p->total > 0 ? p->total : 1; // total 0: an empty loop, shown as done
    done = p->total > 0 ? done : 1;
    int filled = (int)(WIDTH * done / total);
    double elapsed = cg_progress_elapsed(p);
    char when[32];
    if (final || done == 0)
        clock_text(when, sizeof when, elapsed);
    else
        clock_text(when, sizeof when, elapsed / (double)done * (double)(total - done));
    return fprintf(p->out, "%s [%.*s%*s] %3d%%%s%s  %s %s", p->label, filled,
                   "========================", WIDTH - filled, "", (int)(100 * done / total),
                   metrics ? "  " : "", metrics ? metrics : "", final ? "in" : "ETA", when);
}

void cg_progress_step(cg_progress *p, int64_t n, const char *metrics) {
    if (!begun(p, "progress_step")) return;
    p->done += n;
    if (p->mode != CG_PROGRESS_LIVE) return;
    double t = seconds();
    if (t - p->last_draw < 0.1 && p->done < p->total) return;
    p->last_draw = t;
    fputc('\r', p->out);
    int len = draw(p, metrics, false);
    if (len < p->drawn) fprintf(p->out, "%*s", p->drawn - len, "");
    p->drawn = len;
    fflush(p->out);
}

void cg_progress_end(cg_progress *p, const char *metrics) {
    if (!begun(p, "progress_end")) return;
    if (p->mode == CG_PROGRESS_LIVE) fputc('\r', p->out);
    p->done = p->total;
    int len = draw(p, metrics, true);
    if (p->mode == CG_PROGRESS_LIVE && len < p->drawn) fprintf(p->out, "%*s", p->drawn - len, "");
    fputc('\n', p->out);
    fflush(p->out);
}
