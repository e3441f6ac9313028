// nn/atomic_file.c - temporary file + fsync + rename, for checkpoints and PNGs.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "../tensor/error.h"
#include "atomic_file_internal.h"

int cg_atomic_open(cg_atomic_file *af, const char *path, const char *who) {
    memset(af, 0, sizeof *af);
    af->path = path;
    af->who = who;
    if (!path || strlen(path) > 4096) {
        cg_error(CG_ERR_ARG, "%s: path is NULL or too long", who);
        return -1;
    }
    snprintf(af->tmp_path, sizeof af->tmp_path, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        cg_error(CG_ERR_IO, "%s: cannot create a temporary file next to %s: %s", who, path,
                 strerror(errno));
        return -1;
    }
    fchmod(fd, 0644); // mkstemp makes 0600; a checkpoint or picture is an ordinary file
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        cg_error(CG_ERR_IO, "%s: %s: %s", who, af->tmp_path, strerror(errno));
        close(fd);
        unlink(af->tmp_path);
        return -1;
    }
    return 0;
}

void cg_atomic_abort(cg_atomic_file *af) {
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp_path[0]) unlink(af->tmp_path);
    af->tmp_path[0] = '\0';
}

// fsync the directory holding path so the rename itself survives a crash.
static void sync_parent_dir(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd); // best effort: some file systems refuse fsync on directories
        close(fd);
    }
}

int cg_atomic_commit(cg_atomic_file *af) {
    if (af->failed) {
        cg_error(CG_ERR_IO, "%s: %s: write failed; the previous file is unchanged", af->who,
                 af->path);
        cg_atomic_abort(af);
        return -1;
    }
    const char *what = NULL;
    if (ferror(af->f))
        what = "write failed";
    else if (fflush(af->f) != 0)
        what = "flush failed";
    else if (fsync(fileno(af->f)) != 0)
        what = "fsync failed";
    int saved = errno;
    if (fclose(af->f) != 0 && !what) {
        what = "close failed";
        saved = errno;
    }
    af->f = NULL;
    if (!what && rename(af->tmp_path, af->path) != 0) {
        what = "rename failed";
        saved = errno;
    }
    if (what) {
        cg_error(CG_ERR_IO, "%s: %s: %s (%s); the previous file is unchanged", af->who, af->path,
                 what, strerror(saved));
        unlink(af->tmp_path);
        af->tmp_path[0] = '\0';
        return -1;
    }
    af->tmp_path[0] = '\0';
    sync_parent_dir(af->path);
    return 0;
}
