// io/metrics.c - the metrics logger: keeps every logged scalar for the plot and appends it
// to the CSV and event files as it comes (io/metrics.h).
#define _POSIX_C_SOURCE 200809L // gethostname, clock_gettime
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../tensor/alloc.h"
#include "../tensor/error.h"
#include "metrics_internal.h"

struct cg_metrics {
    unsigned formats;
    int width, panel_height;
    FILE *csv, *events;
    char png_path[4200];
    cg_metrics_series series[CG_METRICS_MAX_TAGS];
    int count;
    bool drawn; // the plot shows every value logged
};

static double wall_clock(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static FILE *open_file(const char *dir, const char *name, const char *mode) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, mode);
    if (!f) cg_error(CG_ERR_IO, "metrics_open: cannot open '%s': %s", path, strerror(errno));
    return f;
}

static int open_csv(cg_metrics *m, const char *dir) {
    if (!(m->csv = open_file(dir, "metrics.csv", "a"))) return -1;
    if (ftell(m->csv) == 0 && (fputs("step,tag,value\n", m->csv) < 0 || fflush(m->csv)))
        return cg_error(CG_ERR_IO, "metrics_open: cannot write '%s/metrics.csv'", dir), -1;
    return 0;
}

// TensorBoard's naming: it reads every file whose name holds "tfevents".
static int open_events(cg_metrics *m, const char *dir) {
    char host[256] = "localhost", name[400];
    gethostname(host, sizeof host - 1);
    double now = wall_clock();
    snprintf(name, sizeof name, "events.out.tfevents.%lld.%s.%ld", (long long)now, host,
             (long)getpid());
    if (!(m->events = open_file(dir, name, "wb"))) return -1;
    return cg_tfevents_begin(m->events, now);
}

// mkdir -p: the missing directories of `dir`, parents first.
static int make_dirs(const char *dir) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return cg_error(CG_ERR_ARG, "metrics_open: dir '%.64s...' is too long", dir), -1;
    for (char *p = path + 1;; p++)
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(path, 0777) && errno != EEXIST)
                return cg_error(CG_ERR_IO, "metrics_open: cannot create '%s': %s", path,
                                strerror(errno)),
                       -1;
            if (!(*p = c)) return 0;
        }
}

static bool options_ok(const cg_metrics_options *o, const char *dir) {
    if (!dir || !*dir) return cg_error(CG_ERR_ARG, "metrics_open: dir is NULL or empty"), false;
    if (o->formats & ~7u)
        return cg_error(CG_ERR_ARG,
                        "metrics_open: formats 0x%x has bits other than "
                        "CG_METRICS_CSV | CG_METRICS_PNG | CG_METRICS_TFEVENTS",
                        o->formats),
               false;
    if (o->width && (o->width < 160 || o->width > 8192))
        return cg_error(CG_ERR_ARG, "metrics_open: width %d is outside 160..8192", o->width), false;
    if (o->panel_height && (o->panel_height < 120 || o->panel_height > 4096))
        return cg_error(CG_ERR_ARG, "metrics_open: panel_height %d is outside 120..4096",
                        o->panel_height),
               false;
    return true;
}

cg_metrics *cg_metrics_open(const char *dir, const cg_metrics_options *opts) {
    cg_metrics_options o = opts ? *opts : (cg_metrics_options){0};
    if (!options_ok(&o, dir)) return NULL;
    if (make_dirs(dir)) return NULL;
    cg_metrics *m = cg_alloc_zeroed(sizeof *m);
    if (!m) return NULL;
    m->formats = o.formats ? o.formats : 7u;
    m->width = o.width ? o.width : 720;
    m->panel_height = o.panel_height ? o.panel_height : 260;
    m->drawn = true;
    snprintf(m->png_path, sizeof m->png_path, "%s/curves.png", dir);
    if (((m->formats & CG_METRICS_CSV) && open_csv(m, dir)) ||
        ((m->formats & CG_METRICS_TFEVENTS) && open_events(m, dir))) {
        cg_metrics_close(m);
        return NULL;
    }
    return m;
}

static bool tag_ok(const char *tag) {
    if (!tag) return cg_error(CG_ERR_ARG, "metrics_log: tag is NULL"), false;
    size_t n = strlen(tag);
    if (n == 0 || n > 63)
        return cg_error(CG_ERR_ARG, "metrics_log: tag '%s' has %zu characters, not 1..63", tag, n),
               false;
    for (const char *c = tag; *c; c++)
        if (*c < 32 || *c > 126 || *c == ',' || *c == '"')
            return cg_error(CG_ERR_ARG,
                            "metrics_log: tag '%s' holds a control character, "
                            "',' or '\"'",
                            tag),
                   false;
    return true;
}

// The series of `tag`, created at its first value; NULL with the error.
static cg_metrics_series *series_of(cg_metrics *m, const char *tag) {
    for (int i = 0; i < m->count; i++)
        if (!strcmp(m->series[i].tag, tag)) return &m->series[i];
    if (m->count == CG_METRICS_MAX_TAGS)
        return cg_error(CG_ERR_ARG, "metrics_log: tag '%s' would be the %dth; at most %d tags", tag,
                        CG_METRICS_MAX_TAGS + 1, CG_METRICS_MAX_TAGS);
    cg_metrics_series *s = &m->series[m->count++];
    snprintf(s->tag, sizeof s->tag, "%s", tag);
    return s;
}

static int append(cg_metrics_series *s, int64_t step, double value) {
    if (s->count == s->capacity) {
        int64_t cap = s->capacity ? 2 * s->capacity : 256;
        int64_t *steps = cg_alloc((size_t)cap * sizeof *steps);
        double *values = cg_alloc((size_t)cap * sizeof *values);
        if (!steps || !values) return cg_dealloc(steps), cg_dealloc(values), -1;
        if (s->count) {
            memcpy(steps, s->steps, (size_t)s->count * sizeof *steps);
            memcpy(values, s->values, (size_t)s->count * sizeof *values);
        }
        cg_dealloc(s->steps), cg_dealloc(s->values);
        s->steps = steps, s->values = values, s->capacity = cap;
    }
    s->steps[s->count] = step, s->values[s->count] = value, s->count++;
    return 0;
}

int cg_metrics_log(cg_metrics *m, const char *tag, int64_t step, double value) {
    if (!m) return cg_error(CG_ERR_ARG, "metrics_log: the logger is NULL"), -1;
    if (!tag_ok(tag)) return -1;
    cg_metrics_series *s = series_of(m, tag);
    if (!s || append(s, step, value)) return -1;
    m->drawn = false;
    // %.17g: the CSV holds the double exactly; printf writes "nan", "inf", "-inf".
    if (m->csv &&
        (fprintf(m->csv, "%lld,%s,%.17g\n", (long long)step, tag, value) < 0 || fflush(m->csv)))
        return cg_error(CG_ERR_IO, "metrics_log: cannot write metrics.csv: %s", strerror(errno)),
               -1;
    if (m->events && cg_tfevents_scalar(m->events, wall_clock(), tag, step, (float)value))
        return -1;
    return 0;
}

int cg_metrics_flush(cg_metrics *m) {
    if (!m) return cg_error(CG_ERR_ARG, "metrics_flush: the logger is NULL"), -1;
    if ((m->csv && fflush(m->csv)) || (m->events && fflush(m->events)))
        return cg_error(CG_ERR_IO, "metrics_flush: %s", strerror(errno)), -1;
    if (!(m->formats & CG_METRICS_PNG) || m->drawn) return 0;
    if (cg_metrics_plot(m->png_path, m->series, m->count, m->width, m->panel_height)) return -1;
    m->drawn = true;
    return 0;
}

int cg_metrics_close(cg_metrics *m) {
    if (!m) return 0;
    int rc = cg_metrics_flush(m);
    if (m->csv && fclose(m->csv)) rc = -1;
    if (m->events && fclose(m->events)) rc = -1;
    for (int i = 0; i < m->count; i++)
        cg_dealloc(m->series[i].steps), cg_dealloc(m->series[i].values);
    cg_dealloc(m);
    return rc;
}
