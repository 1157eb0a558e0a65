/* Files: CreateFile dispositions and their last errors, ReadFile/WriteFile (also at an
 * OVERLAPPED offset), sizes, file pointers, SetEndOfFile, DeleteFile, the W forms. */
#include <windows.h>

#include <stdlib.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
    char dir[] = "/tmp/openwhp-w32-fileXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[MAX_PATH];
    snprintf(path, sizeof(path), "%s/data.bin", dir);

    /* Dispositions: CREATE_NEW, then the *_ALWAYS ones report ERROR_ALREADY_EXISTS. */
    CHECK(CreateFileA(path, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL) == INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);
    HANDLE f = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_NEW,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    CHECK(f != INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_SUCCESS);
    CHECK(CreateFileA(path, GENERIC_READ, 0, NULL, CREATE_NEW, 0, NULL) == INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_FILE_EXISTS);
    HANDLE g = CreateFileA(path, GENERIC_READ, 0, NULL, OPEN_ALWAYS, 0, NULL);
    CHECK(g != INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_ALREADY_EXISTS);

    /* Write, read back, sizes and pointers. */
    static const char text[] = "0123456789abcdef";
    DWORD n = 0;
    CHECK(WriteFile(f, text, 16, &n, NULL) && n == 16);
    CHECK_EQ(GetFileSize(f, NULL), 16);
    DWORD high = 1;
    CHECK_EQ(GetFileSize(g, &high), 16);
    CHECK_EQ(high, 0);
    LARGE_INTEGER size, pos, dist;
    CHECK(GetFileSizeEx(f, &size) && size.QuadPart == 16);
    char buf[32] = {0};
    CHECK(ReadFile(f, buf, 4, &n, NULL) && n == 0); /* at the end */
    CHECK_EQ(SetFilePointer(f, 4, NULL, FILE_BEGIN), 4);
    CHECK(ReadFile(f, buf, 4, &n, NULL) && n == 4 && !memcmp(buf, "4567", 4));
    CHECK_EQ(SetFilePointer(f, -2, NULL, FILE_CURRENT), 6);
    CHECK_EQ(SetFilePointer(f, -1, NULL, FILE_END), 15);
    CHECK(ReadFile(f, buf, 10, &n, NULL) && n == 1 && buf[0] == 'f');
    dist.QuadPart = 2;
    CHECK(SetFilePointerEx(f, dist, &pos, FILE_BEGIN) && pos.QuadPart == 2);
    CHECK_EQ(SetFilePointer(f, -3, NULL, FILE_BEGIN), INVALID_SET_FILE_POINTER);
    CHECK_EQ(GetLastError(), ERROR_NEGATIVE_SEEK);
    CHECK_EQ(SetFilePointer(f, 0, NULL, 7), INVALID_SET_FILE_POINTER);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    LONG hi = 1; /* a 64-bit move: 4 GiB + 1 (sparse) */
    CHECK_EQ(SetFilePointer(f, 1, &hi, FILE_BEGIN), 1);
    CHECK_EQ(hi, 1);
    CHECK_EQ(GetLastError(), NO_ERROR);

    /* OVERLAPPED offsets on a synchronous handle, and its event. */
    HANDLE done = CreateEventA(NULL, TRUE, FALSE, NULL);
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.Offset = 10;
    ov.hEvent = done;
    CHECK(ReadFile(g, buf, 3, NULL, &ov));
    CHECK(!memcmp(buf, "abc", 3) && ov.InternalHigh == 3);
    CHECK_EQ(WaitForSingleObject(done, 0), WAIT_OBJECT_0);
    CHECK(ReadFile(g, buf, 2, &n, NULL) && n == 2 && !memcmp(buf, "de", 2)); /* moved past */
    CHECK(CloseHandle(done));

    /* SetEndOfFile, access rights. */
    CHECK_EQ(SetFilePointer(f, 8, NULL, FILE_BEGIN), 8);
    CHECK(SetEndOfFile(f));
    CHECK_EQ(GetFileSize(f, NULL), 8);
    CHECK(FlushFileBuffers(f));
    CHECK(!WriteFile(g, text, 1, &n, NULL)); /* opened for reading */
    CHECK_EQ(GetLastError(), ERROR_ACCESS_DENIED);
    CHECK(!ReadFile(f, NULL, 1, &n, NULL));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!ReadFile(f, buf, 1, NULL, NULL));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    /* CREATE_ALWAYS truncates; TRUNCATE_EXISTING needs write access. */
    HANDLE t = CreateFileA(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    CHECK(t != INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_ALREADY_EXISTS);
    CHECK_EQ(GetFileSize(t, NULL), 0);
    CHECK(CreateFileA(path, GENERIC_READ, 0, NULL, TRUNCATE_EXISTING, 0, NULL) == INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(CreateFileA(path, GENERIC_READ, 0, NULL, 0, 0, NULL) == INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(CreateFileA(path, GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL) ==
          INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_NOT_SUPPORTED);
    CHECK(CreateFileA(NULL, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL) == INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(CreateFileA(dir, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL) == INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_ACCESS_DENIED); /* a directory without backup semantics */
    char missing[MAX_PATH];
    snprintf(missing, sizeof(missing), "%s/data.bin/x", dir);
    CHECK(CreateFileA(missing, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL) == INVALID_HANDLE_VALUE);
    CHECK_EQ(GetLastError(), ERROR_PATH_NOT_FOUND);

    /* The W form: a UTF-16 name (with a non-ASCII character) becomes a UTF-8 path. */
    WCHAR wpath[MAX_PATH];
    size_t len = strlen(dir), i;
    for (i = 0; i < len; i++)
        wpath[i] = (WCHAR)dir[i];
    static const WCHAR tail[] = {'/', 0x00E9, '.', 't', 'x', 't', 0};
    memcpy(wpath + i, tail, sizeof(tail));
    HANDLE w = CreateFileW(wpath, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    CHECK(w != INVALID_HANDLE_VALUE);
    char utf8[MAX_PATH];
    snprintf(utf8, sizeof(utf8), "%s/\xC3\xA9.txt", dir);
    CHECK(access(utf8, F_OK) == 0);
    CHECK(CloseHandle(w));
    CHECK(DeleteFileW(wpath));
    CHECK(!DeleteFileA(utf8));
    CHECK_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);

    CHECK(CloseHandle(f) && CloseHandle(g) && CloseHandle(t));
    CHECK(!CloseHandle(f));
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    CHECK_EQ(GetFileSize(f, NULL), INVALID_FILE_SIZE);
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    CHECK(DeleteFileA(path));
    rmdir(dir);
    return check_report();
}
