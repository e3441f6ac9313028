// io/atomic_file.c - temporary file + fsync + rename, for checkpoints and PNGs.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tensor/error.h"
#include "atomic_file_internal.h"

// Split path into its directory ("." if none) and its last component.
static void split_path(const char *path, char *dir, size_t size, const char **base) {
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, size, ".");
    else if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

// The pid in a temporary file name "<base>.tmp-<pid>-<n>" (after the prefix), or 0.
static pid_t temp_owner(const char *rest) {
    char *end;
    long pid = strtol(rest, &end, 10);
    if (end == rest || *end != '-' || pid <= 0) return 0;
    for (const char *p = end + 1; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    return end[1] ? (pid_t)pid : 0;
}

void cg_atomic_remove_stale(const char *path) {
    if (!path || strlen(path) > 4096) return;
    char dir[4097], prefix[4097 + 8], stale[8192];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    int n = snprintf(prefix, sizeof prefix, "%s.tmp-", base);
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, prefix, (size_t)n) != 0) continue;
        pid_t owner = temp_owner(e->d_name + n);
        // Only a writer that no longer exists leaves its file for good (EPERM: alive).
        if (owner == 0 || owner == getpid() || kill(owner, 0) == 0 || errno != ESRCH) continue;
        snprintf(stale, sizeof stale, "%s/%s", dir, e->d_name);
        unlink(stale);
    }
    closedir(d);
}

int cg_atomic_open(cg_atomic_file *af, const char *path, const char *who) {
    static atomic_uint_fast64_t serial;
    memset(af, 0, sizeof *af);
    af->path = path;
    af->who = who;
    if (!path || strlen(path) > 4096) {
        cg_error(CG_ERR_ARG, "%s: path is NULL or too long", who);
        return -1;
    }
    cg_atomic_remove_stale(path);
    snprintf(af->tmp_path, sizeof af->tmp_path, "%s.tmp-%ld-%llu", path, (long)getpid(),
             (unsigned long long)atomic_fetch_add(&serial, 1));
    int fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        cg_error(CG_ERR_IO, "%s: cannot create a temporary file next to %s: %s", who, path,
                 strerror(errno));
        return -1;
    }
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
    char dir[4097];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
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
