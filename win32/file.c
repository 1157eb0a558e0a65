/* Files: CreateFile opens a Linux path with the Windows disposition rules and the handle is a
 * table object owning the fd; ReadFile/WriteFile are synchronous and transfer everything they
 * can (a short count only at end of file), as on Windows. */
#include "w32.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_RIGHTS (GENERIC_READ | GENERIC_ALL | GENERIC_EXECUTE | FILE_READ_DATA)
#define WRITE_RIGHTS (GENERIC_WRITE | GENERIC_ALL | FILE_WRITE_DATA | FILE_APPEND_DATA)
/* Attribute and hint bits that need nothing here. */
#define ACCEPTED_FLAGS                                                                             \
    (0xFFFFu | FILE_FLAG_WRITE_THROUGH | FILE_FLAG_NO_BUFFERING | FILE_FLAG_RANDOM_ACCESS |        \
     FILE_FLAG_SEQUENTIAL_SCAN | FILE_FLAG_BACKUP_SEMANTICS)
#define NEW_FILE_MODE 0666

struct file {
    struct w32_object obj;
    int fd;
    bool readable, writable;
};

static void destroy(struct w32_object *o)
{
    struct file *f = (struct file *)o;
    close(f->fd);
    free(f);
}

/* Opens path per the disposition; *existed tells whether an *_ALWAYS disposition found the
 * file. -1 with errno set. */
static int open_disposition(const char *path, int flags, DWORD disposition, bool *existed)
{
    *existed = false;
    switch (disposition) {
    case CREATE_NEW:
        return open(path, flags | O_CREAT | O_EXCL, NEW_FILE_MODE);
    case OPEN_EXISTING:
        return open(path, flags);
    case TRUNCATE_EXISTING:
        return open(path, flags | O_TRUNC);
    case CREATE_ALWAYS:
    case OPEN_ALWAYS:
        for (;;) {
            int fd = open(path, flags | O_CREAT | O_EXCL, NEW_FILE_MODE);
            if (fd >= 0 || errno != EEXIST)
                return fd;
            fd = open(path, flags | (disposition == CREATE_ALWAYS ? O_TRUNC : 0));
            if (fd >= 0) {
                *existed = true;
                return fd;
            }
            if (errno != ENOENT) /* ENOENT: removed in between, create it again */
                return -1;
        }
    }
    errno = EINVAL;
    return -1;
}

static HANDLE create_file(const char *path, DWORD access, DWORD disposition, DWORD flags)
{
    bool rd = (access & READ_RIGHTS) != 0, wr = (access & WRITE_RIGHTS) != 0;
    if (disposition < CREATE_NEW || disposition > TRUNCATE_EXISTING ||
        (disposition == TRUNCATE_EXISTING && !wr)) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return INVALID_HANDLE_VALUE;
    }
    if (flags & ~ACCEPTED_FLAGS) { /* overlapped I/O, delete-on-close */
        w32_fail(ERROR_NOT_SUPPORTED);
        return INVALID_HANDLE_VALUE;
    }
    if (!path[0]) {
        w32_fail(ERROR_PATH_NOT_FOUND);
        return INVALID_HANDLE_VALUE;
    }
    int oflags = O_CLOEXEC | (rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY);
    if (flags & FILE_FLAG_WRITE_THROUGH)
        oflags |= O_DSYNC;
    if (!rd && !wr && (disposition == OPEN_EXISTING))
        oflags = O_PATH | O_CLOEXEC; /* query-only access: size, no data */
    bool existed;
    int fd = open_disposition(path, oflags, disposition, &existed);
    if (fd < 0) {
        w32_fail_errno();
        return INVALID_HANDLE_VALUE;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && !(flags & FILE_FLAG_BACKUP_SEMANTICS)) {
        close(fd);
        w32_fail(ERROR_ACCESS_DENIED); /* as Windows: directories need backup semantics */
        return INVALID_HANDLE_VALUE;
    }
    struct file *f = malloc(sizeof(*f));
    if (!f) {
        close(fd);
        w32_fail(ERROR_NOT_ENOUGH_MEMORY);
        return INVALID_HANDLE_VALUE;
    }
    *f = (struct file){{W32_KIND_FILE, 1, destroy}, fd, rd && !(oflags & O_PATH), wr};
    HANDLE h = w32_handle_insert(&f->obj);
    if (!h) {
        destroy(&f->obj);
        return INVALID_HANDLE_VALUE;
    }
    SetLastError(existed ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
    return h;
}

HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile)
{
    (void)dwShareMode, (void)lpSecurityAttributes, (void)hTemplateFile;
    if (!lpFileName) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return INVALID_HANDLE_VALUE;
    }
    return create_file(lpFileName, dwDesiredAccess, dwCreationDisposition, dwFlagsAndAttributes);
}

HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile)
{
    (void)dwShareMode, (void)lpSecurityAttributes, (void)hTemplateFile;
    if (!lpFileName) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return INVALID_HANDLE_VALUE;
    }
    char *path = w32_utf16_to_utf8(lpFileName);
    if (!path)
        return INVALID_HANDLE_VALUE;
    HANDLE h = create_file(path, dwDesiredAccess, dwCreationDisposition, dwFlagsAndAttributes);
    free(path);
    return h;
}

static struct file *get_file(HANDLE h)
{
    return (struct file *)w32_handle_get(h, W32_KIND_FILE);
}

/* One read or write of up to n bytes at offset at, or at the file position when at < 0. */
static ssize_t io_once(int fd, char *p, size_t n, off_t at, bool out)
{
    if (at >= 0)
        return out ? pwrite(fd, p, n, at) : pread(fd, p, n, at);
    return out ? write(fd, p, n) : read(fd, p, n);
}

/* Transfers up to n bytes at the file position, or at the OVERLAPPED's offset (then the
 * position moves past the transfer, as Windows does for synchronous handles), and sets the
 * OVERLAPPED's event when done. */
static BOOL transfer(HANDLE h, void *buf, DWORD n, LPDWORD done, LPOVERLAPPED ov, bool out)
{
    if ((!done && !ov) || (!buf && n))
        return w32_fail(ERROR_INVALID_PARAMETER);
    struct file *f = get_file(h);
    if (!f)
        return FALSE;
    if (out ? !f->writable : !f->readable) {
        w32_object_put(&f->obj);
        return w32_fail(ERROR_ACCESS_DENIED);
    }
    off_t at = ov ? (off_t)(((uint64_t)ov->OffsetHigh << 32) | ov->Offset) : -1;
    DWORD total = 0;
    BOOL ok = TRUE;
    while (total < n) {
        ssize_t r = io_once(f->fd, (char *)buf + total, n - total, at < 0 ? at : at + total, out);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            ok = w32_fail_errno();
            break;
        }
        if (r == 0)
            break; /* end of file */
        total += (DWORD)r;
    }
    if (ov && total)
        lseek(f->fd, at + total, SEEK_SET);
    w32_object_put(&f->obj);
    if (done)
        *done = total;
    if (ov) {
        ov->Internal = ok ? 0 : (ULONG_PTR)GetLastError();
        ov->InternalHigh = total;
        if (ov->hEvent)
            SetEvent(ov->hEvent);
    }
    return ok;
}

BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                     LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped)
{
    return transfer(hFile, lpBuffer, nNumberOfBytesToRead, lpNumberOfBytesRead, lpOverlapped,
                    false);
}

BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                      LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped)
{
    return transfer(hFile, (void *)lpBuffer, nNumberOfBytesToWrite, lpNumberOfBytesWritten,
                    lpOverlapped, true);
}

/* The file's size in *size; false with the last error set. */
static bool file_size(HANDLE h, uint64_t *size)
{
    struct file *f = get_file(h);
    if (!f)
        return false;
    struct stat st;
    bool ok = fstat(f->fd, &st) == 0;
    if (ok)
        *size = (uint64_t)st.st_size;
    else
        w32_fail_errno();
    w32_object_put(&f->obj);
    return ok;
}

DWORD WINAPI GetFileSize(HANDLE hFile, LPDWORD lpFileSizeHigh)
{
    uint64_t size;
    if (!file_size(hFile, &size))
        return INVALID_FILE_SIZE;
    if (lpFileSizeHigh)
        *lpFileSizeHigh = (DWORD)(size >> 32);
    SetLastError(NO_ERROR); /* documented: tells a real size 0xFFFFFFFF from a failure */
    return (DWORD)size;
}

BOOL WINAPI GetFileSizeEx(HANDLE hFile, PLARGE_INTEGER lpFileSize)
{
    uint64_t size;
    if (!lpFileSize)
        return w32_fail(ERROR_INVALID_PARAMETER);
    if (!file_size(hFile, &size))
        return FALSE;
    lpFileSize->QuadPart = (LONGLONG)size;
    return TRUE;
}

/* Moves the file position; the new one in *pos. false with the last error set. */
static bool seek(HANDLE h, int64_t distance, DWORD method, int64_t *pos)
{
    static const int whence[] = {[FILE_BEGIN] = SEEK_SET, [FILE_CURRENT] = SEEK_CUR,
                                 [FILE_END] = SEEK_END};
    if (method > FILE_END)
        return w32_fail(ERROR_INVALID_PARAMETER);
    struct file *f = get_file(h);
    if (!f)
        return false;
    off_t r = lseek(f->fd, (off_t)distance, whence[method]);
    if (r < 0)
        w32_fail(errno == EINVAL ? ERROR_NEGATIVE_SEEK : w32_error_from_errno(errno));
    else
        *pos = r;
    w32_object_put(&f->obj);
    return r >= 0;
}

DWORD WINAPI SetFilePointer(HANDLE hFile, LONG lDistanceToMove, PLONG lpDistanceToMoveHigh,
                            DWORD dwMoveMethod)
{
    int64_t distance = lDistanceToMove, old = 0, pos = 0;
    if (lpDistanceToMoveHigh)
        distance = (int64_t)(((uint64_t)(uint32_t)*lpDistanceToMoveHigh << 32) |
                             (uint32_t)lDistanceToMove);
    if (!seek(hFile, 0, FILE_CURRENT, &old) || !seek(hFile, distance, dwMoveMethod, &pos))
        return INVALID_SET_FILE_POINTER;
    if (!lpDistanceToMoveHigh && pos >= (int64_t)INVALID_SET_FILE_POINTER) {
        /* Documented: without the high part, a position that a DWORD cannot return fails. */
        seek(hFile, old, FILE_BEGIN, &pos);
        w32_fail(ERROR_INVALID_PARAMETER);
        return INVALID_SET_FILE_POINTER;
    }
    if (lpDistanceToMoveHigh)
        *lpDistanceToMoveHigh = (LONG)(pos >> 32);
    SetLastError(NO_ERROR); /* documented: tells a real 0xFFFFFFFF from a failure */
    return (DWORD)pos;
}

BOOL WINAPI SetFilePointerEx(HANDLE hFile, LARGE_INTEGER liDistanceToMove,
                             PLARGE_INTEGER lpNewFilePointer, DWORD dwMoveMethod)
{
    int64_t pos = 0;
    if (!seek(hFile, liDistanceToMove.QuadPart, dwMoveMethod, &pos))
        return FALSE;
    if (lpNewFilePointer)
        lpNewFilePointer->QuadPart = pos;
    return TRUE;
}

BOOL WINAPI SetEndOfFile(HANDLE hFile)
{
    struct file *f = get_file(hFile);
    if (!f)
        return FALSE;
    off_t pos = f->writable ? lseek(f->fd, 0, SEEK_CUR) : -1;
    BOOL ok = !f->writable ? w32_fail(ERROR_ACCESS_DENIED)
              : pos < 0 || ftruncate(f->fd, pos) != 0 ? w32_fail_errno()
                                                       : TRUE;
    w32_object_put(&f->obj);
    return ok;
}

BOOL WINAPI FlushFileBuffers(HANDLE hFile)
{
    struct file *f = get_file(hFile);
    if (!f)
        return FALSE;
    BOOL ok = !f->writable ? w32_fail(ERROR_ACCESS_DENIED)
              : fsync(f->fd) != 0 ? w32_fail_errno()
                                  : TRUE;
    w32_object_put(&f->obj);
    return ok;
}

BOOL WINAPI DeleteFileA(LPCSTR lpFileName)
{
    if (!lpFileName)
        return w32_fail(ERROR_INVALID_PARAMETER);
    return unlink(lpFileName) == 0 ? TRUE : w32_fail_errno();
}

BOOL WINAPI DeleteFileW(LPCWSTR lpFileName)
{
    if (!lpFileName)
        return w32_fail(ERROR_INVALID_PARAMETER);
    char *path = w32_utf16_to_utf8(lpFileName);
    if (!path)
        return FALSE;
    BOOL ok = DeleteFileA(path);
    free(path);
    return ok;
}
