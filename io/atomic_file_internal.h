// io/atomic_file_internal.h - write a file so that a crash never leaves it half-written.
//
// The data goes to "<path>.tmp-<pid>-<n>" in the same directory; commit flushes it, fsyncs
// it, renames it over <path> (atomic on POSIX) and fsyncs the directory. Until commit the
// old file at <path> is untouched; on any failure the temporary file is removed.
//
// A writer killed before commit cannot remove its file, so every save and load of <path>
// first removes the "<path>.tmp-<pid>-*" files whose process no longer exists: however
// often saves are killed, at most one temporary file per live writer stays beside <path>.
// (Writers on other hosts sharing the directory over NFS look dead: save there from one
// host.)
#ifndef CG_ATOMIC_FILE_INTERNAL_H
#define CG_ATOMIC_FILE_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

typedef struct cg_atomic_file {
    FILE *f; // write here
    char tmp_path[4096 + 48];
    const char *path; // not owned
    const char *who;  // op name for messages
    bool failed;      // set by the writer to make commit abort
} cg_atomic_file;

// Open the temporary file. Returns 0, or -1 with CG_ERR_IO naming `who` and path.
int cg_atomic_open(cg_atomic_file *af, const char *path, const char *who);
// Flush, fsync, close and rename over the target. Returns 0, or -1 with CG_ERR_IO (the
// temporary file is removed and the old file is intact). Aborts if af->failed is set.
int cg_atomic_commit(cg_atomic_file *af);
// Close and remove the temporary file without touching the target.
void cg_atomic_abort(cg_atomic_file *af);
// Remove the temporary files of dead writers of path (best effort, silent).
void cg_atomic_remove_stale(const char *path);

#endif
