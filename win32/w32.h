/* Internals of the Win32 layer: every public declaration gets default visibility (the layer is
 * built with -fvisibility=hidden, so it exports exactly the Windows names), plus the helpers its
 * files share: last-error setting, errno and UTF-16 conversion, and the HANDLE table. */
#ifndef OPENWHP_W32_H
#define OPENWHP_W32_H

#pragma GCC visibility push(default)
#include <windows.h>
#pragma GCC visibility pop

#include <stdbool.h>

/* Sets the thread's last error and returns FALSE, so failures read `return w32_fail(ERR);`. */
BOOL w32_fail(DWORD error);
/* The Win32 error closest to an errno value (ERROR_GEN_FAILURE when none is). */
DWORD w32_error_from_errno(int err);
/* Sets the last error from errno and returns FALSE. */
BOOL w32_fail_errno(void);

/* A malloc'ed UTF-8 copy of a NUL-terminated UTF-16 string (unpaired surrogates become U+FFFD),
 * or NULL with the last error set. */
char *w32_utf16_to_utf8(const WCHAR *s);

/* ---- HANDLE table for the layer's own objects (threads, files). Events are not in it: they
 * are the library's handles. A table handle has bit 63 set, which the library's event lookup
 * never accepts (its generations are 31-bit), so no table handle is ever taken for an event. */
enum w32_kind { W32_KIND_THREAD, W32_KIND_FILE };

struct w32_object {
    enum w32_kind kind;
    unsigned refs; /* atomic: the table's reference, plus one per user in progress */
    void (*destroy)(struct w32_object *o);
};

/* True for values of the table's form (bit 63 set), live or not. */
bool w32_handle_is_table(HANDLE h);
/* Enters o (whose refs already count the table's reference) and gives its handle, or NULL with
 * the last error set (the caller then still owns o). */
HANDLE w32_handle_insert(struct w32_object *o);
/* The live object of handle h, with a reference taken, or NULL (ERROR_INVALID_HANDLE) when h is
 * not a live table handle of that kind. */
struct w32_object *w32_handle_get(HANDLE h, enum w32_kind kind);
/* The same for any kind. */
struct w32_object *w32_handle_get_any(HANDLE h);
/* Removes h from the table and drops the table's reference; false if h was not live. */
bool w32_handle_remove(HANDLE h);
void w32_object_ref(struct w32_object *o);
void w32_object_put(struct w32_object *o);

/* Threads and files as waits see them: the event that is signaled when the thread has ended,
 * or NULL for a file, which is always signaled. The event lives as long as the object. */
HANDLE w32_thread_exit_event(struct w32_object *o);

#endif
