// io/metrics_internal.h - what io/metrics.c shares with its plot (io/metrics_plot.c) and
// TensorBoard writer (io/tfevents.c), and the plot's layout, which tests read.
#ifndef CG_METRICS_INTERNAL_H
#define CG_METRICS_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

// One tag's values in the order logged.
typedef struct cg_metrics_series {
    char tag[64];
    int64_t *steps;
    double *values;
    int64_t count, capacity;
} cg_metrics_series;

// Layout of every panel (pixels): a title strip on top (the group's name and the legend),
// the y tick labels on the left, the x tick labels below. Panel i occupies rows
// [i * panel_height, (i + 1) * panel_height); its plot area is columns
// [PLOT_LEFT, width - PLOT_RIGHT) and rows [PLOT_TOP, panel_height - PLOT_BOTTOM) of it.
enum {
    CG_PLOT_LEFT = 84,
    CG_PLOT_RIGHT = 16,
    CG_PLOT_TOP = 28,
    CG_PLOT_BOTTOM = 24,
};
// Series colours in order within a panel (RGB), as matplotlib's first ones.
extern const uint8_t cg_plot_colors[6][3];

// Draw the series as a PNG at path (atomically). 0, or -1 with the error.
int cg_metrics_plot(const char *path, const cg_metrics_series *series, int count, int width,
                    int panel_height);

// TensorBoard: write the first record (file_version "brain.Event:2") to a new event file.
// Returns 0, or -1 with CG_ERR_IO.
int cg_tfevents_begin(FILE *f, double wall_time);
// Append one scalar event and fflush. 0, or -1 with CG_ERR_IO.
int cg_tfevents_scalar(FILE *f, double wall_time, const char *tag, int64_t step, float value);

#endif
