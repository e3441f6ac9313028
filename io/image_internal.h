// io/image_internal.h - the PNG encoder of io/image.c (stb_image_write) for other io files
// that draw their own pictures (io/image_grid.c, io/metrics_plot.c).
#ifndef CG_IMAGE_INTERNAL_H
#define CG_IMAGE_INTERNAL_H

#include <stdint.h>

// Write width x height pixels of `channels` bytes each (1 gray, 3 RGB), rows top first, as a
// PNG through the atomic file helper: a crash leaves the previous file intact. 0, or -1
// with CG_ERR_IO naming `who` and the path.
int cg_image_write_png(const char *path, const uint8_t *pixels, int width, int height, int channels,
                       const char *who);

#endif
