// io/metrics.h - training curves: scalars (loss, accuracy, lr) logged per step or epoch to
// a CSV file, a PNG plot drawn by the library, and TensorBoard event files.
//
//   cg_metrics *m = cg_metrics_open("runs/mnist", NULL);     // all three formats
//   for (...) {
//       cg_metrics_log(m, "train/loss", step, loss);          // every step
//       ...
//       cg_metrics_log(m, "test/accuracy", step, acc);        // every epoch
//       cg_metrics_flush(m);                                  // redraw curves.png
//   }
//   cg_metrics_close(m);                                      // flushes, frees
//
// In `dir` (created with its missing parents; use one directory per run, since TensorBoard
// shows every event file of a directory as one run):
//   metrics.csv   long format, one line per logged value: "step,tag,value". Long rather than
//                 wide because tags arrive at different rates (a loss every step, an
//                 accuracy every epoch): a wide table would be mostly holes and would need a
//                 new header whenever a tag first appears. Reopening the directory appends.
//   curves.png    one panel per tag group, the text after a tag's last '/' ("train/loss"
//                 and "test/loss" share the panel LOSS, each its own colour, named in the
//                 legend); x is the step (the same range in every panel), y the value with
//                 tick labels. Drawn from the
//                 values logged since open, rewritten by cg_metrics_flush and close.
//   events.out.tfevents.<seconds>.<host>.<pid>
//                 TensorBoard's event file: `tensorboard --logdir runs` shows the scalars.
//
// Crash safety: every CSV line and event record is appended and flushed as it is logged,
// so a crash loses at most the record being written; the PNG is replaced atomically
// (io/atomic_file_internal.h), so it is always the last complete plot.
#ifndef CG_METRICS_H
#define CG_METRICS_H

#include <stdint.h>

typedef enum cg_metrics_format {
    CG_METRICS_CSV = 1,
    CG_METRICS_PNG = 2,
    CG_METRICS_TFEVENTS = 4,
} cg_metrics_format;

typedef struct cg_metrics_options {
    unsigned formats; // CG_METRICS_* bits (0: all three)
    int width;        // plot width in pixels (0: 720)
    int panel_height; // height of each panel in pixels (0: 260)
} cg_metrics_options;

typedef struct cg_metrics cg_metrics;

// Open (create) the directory and the files; NULL options = all formats, default sizes.
// NULL with CG_ERR_IO (naming the path) if the directory or a file cannot be created, or
// CG_ERR_ARG for a size outside 160..8192 (width) / 120..4096 (panel_height).
cg_metrics *cg_metrics_open(const char *dir, const cg_metrics_options *opts);
// Record `value` under `tag` at `step`. Tags are 1..63 printable ASCII characters without
// ',' or '"' (so the CSV needs no quoting); at most CG_METRICS_MAX_TAGS distinct tags.
// Non-finite values are written to the CSV ("nan", "inf") and the event file, and leave a
// gap in the plot. 0, or -1 with CG_ERR_ARG (bad tag) / CG_ERR_IO / CG_ERR_MEMORY.
#define CG_METRICS_MAX_TAGS 32
int cg_metrics_log(cg_metrics *m, const char *tag, int64_t step, double value);
// Flush the files and redraw the plot (if the PNG format is on). 0, or -1 with the error.
int cg_metrics_flush(cg_metrics *m);
// Flush, close and free (also on failure). NULL is fine. 0, or -1 if the final flush failed.
int cg_metrics_close(cg_metrics *m);

#endif
