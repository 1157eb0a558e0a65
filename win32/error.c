/* The thread's last error (GetLastError/SetLastError) and the conversions of errno values to
 * the Win32 errors Windows reports in the same situations. */
#include "w32.h"

#include <errno.h>

static _Thread_local DWORD last_error;

DWORD WINAPI GetLastError(VOID)
{
    return last_error;
}

VOID WINAPI SetLastError(DWORD ErrCode)
{
    last_error = ErrCode;
}

BOOL w32_fail(DWORD error)
{
    last_error = error;
    return FALSE;
}

DWORD w32_error_from_errno(int err)
{
    static const struct {
        int err;
        DWORD win32;
    } map[] = {
        {0, ERROR_SUCCESS},
        {EPERM, ERROR_ACCESS_DENIED},
        {ENOENT, ERROR_FILE_NOT_FOUND},
        {EIO, ERROR_GEN_FAILURE},
        {EBADF, ERROR_INVALID_HANDLE},
        {EAGAIN, ERROR_NOT_ENOUGH_MEMORY},
        {ENOMEM, ERROR_NOT_ENOUGH_MEMORY},
        {EACCES, ERROR_ACCESS_DENIED},
        {EFAULT, ERROR_NOACCESS},
        {EBUSY, ERROR_BUSY},
        {EEXIST, ERROR_FILE_EXISTS},
        {ENOTDIR, ERROR_PATH_NOT_FOUND},
        {EISDIR, ERROR_ACCESS_DENIED},
        {EINVAL, ERROR_INVALID_PARAMETER},
        {ENFILE, ERROR_TOO_MANY_OPEN_FILES},
        {EMFILE, ERROR_TOO_MANY_OPEN_FILES},
        {EFBIG, ERROR_FILE_TOO_LARGE},
        {ENOSPC, ERROR_DISK_FULL},
        {ESPIPE, ERROR_SEEK},
        {EROFS, ERROR_WRITE_PROTECT},
        {EPIPE, ERROR_BROKEN_PIPE},
        {ENAMETOOLONG, ERROR_FILENAME_EXCED_RANGE},
        {ENOSYS, ERROR_CALL_NOT_IMPLEMENTED},
        {ENOTEMPTY, ERROR_DIR_NOT_EMPTY},
        {ELOOP, ERROR_PATH_NOT_FOUND},
        {EOVERFLOW, ERROR_ARITHMETIC_OVERFLOW},
        {ENOTSUP, ERROR_NOT_SUPPORTED},
        {ETIMEDOUT, ERROR_TIMEOUT},
        {EDQUOT, ERROR_DISK_FULL},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].err == err)
            return map[i].win32;
    return ERROR_GEN_FAILURE;
}

BOOL w32_fail_errno(void)
{
    return w32_fail(w32_error_from_errno(errno));
}
