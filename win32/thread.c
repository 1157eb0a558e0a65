/* Threads: CreateThread runs the routine on a detached pthread; the thread object records the
 * Linux thread id and the exit code and owns a manual-reset event, signaled when the routine has
 * returned, that waits use. CREATE_SUSPENDED holds the routine until ResumeThread. */
#include "w32.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define SUPPORTED_CREATION_FLAGS (CREATE_SUSPENDED | STACK_SIZE_PARAM_IS_A_RESERVATION)

struct thread {
    struct w32_object obj;
    LPTHREAD_START_ROUTINE start;
    LPVOID param;
    HANDLE exit_event; /* set once exit_code is final */
    /* lock protects the fields below. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    DWORD tid;           /* 0 until the thread has started */
    DWORD suspend_count; /* the routine starts when it reaches 0 */
    bool finished;
    DWORD exit_code;
};

static void destroy(struct w32_object *o)
{
    struct thread *t = (struct thread *)o;
    OpenWhpCloseEvent(t->exit_event);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

HANDLE w32_thread_exit_event(struct w32_object *o)
{
    return o->kind == W32_KIND_THREAD ? ((struct thread *)o)->exit_event : NULL;
}

static void *run(void *arg)
{
    struct thread *t = arg;
    pthread_mutex_lock(&t->lock);
    t->tid = (DWORD)gettid();
    pthread_cond_broadcast(&t->cond);
    while (t->suspend_count)
        pthread_cond_wait(&t->cond, &t->lock);
    pthread_mutex_unlock(&t->lock);

    DWORD code = t->start(t->param);

    pthread_mutex_lock(&t->lock);
    t->exit_code = code;
    t->finished = true;
    pthread_mutex_unlock(&t->lock);
    OpenWhpSetEvent(t->exit_event);
    w32_object_put(&t->obj);
    return NULL;
}

static bool start_thread(struct thread *t, SIZE_T stack_size)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return w32_fail(ERROR_NOT_ENOUGH_MEMORY);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int r = 0;
    if (stack_size)
        r = pthread_attr_setstacksize(&attr, stack_size < (SIZE_T)PTHREAD_STACK_MIN
                                                 ? (SIZE_T)PTHREAD_STACK_MIN
                                                 : stack_size);
    if (r == 0)
        r = pthread_create(&(pthread_t){0}, &attr, run, t);
    pthread_attr_destroy(&attr);
    if (r != 0)
        return w32_fail(r == EINVAL ? ERROR_INVALID_PARAMETER : ERROR_NOT_ENOUGH_MEMORY);
    return true;
}

HANDLE WINAPI CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes, SIZE_T dwStackSize,
                           LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter,
                           DWORD dwCreationFlags, LPDWORD lpThreadId)
{
    (void)lpThreadAttributes;
    if (!lpStartAddress || (dwCreationFlags & ~SUPPORTED_CREATION_FLAGS)) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    struct thread *t = calloc(1, sizeof(*t));
    if (!t) {
        w32_fail(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    t->obj = (struct w32_object){W32_KIND_THREAD, 2, destroy}; /* the table's and the thread's */
    t->start = lpStartAddress;
    t->param = lpParameter;
    t->suspend_count = (dwCreationFlags & CREATE_SUSPENDED) ? 1 : 0;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    t->exit_event = OpenWhpCreateEvent(TRUE, FALSE);
    if (!t->exit_event) {
        w32_fail_errno();
        t->obj.refs = 1;
        w32_object_put(&t->obj);
        return NULL;
    }
    HANDLE h = w32_handle_insert(&t->obj);
    if (!h) {
        t->obj.refs = 1;
        w32_object_put(&t->obj);
        return NULL;
    }
    if (!start_thread(t, dwStackSize)) {
        DWORD err = GetLastError();
        t->obj.refs = 1; /* no thread holds it */
        w32_handle_remove(h);
        SetLastError(err);
        return NULL;
    }
    pthread_mutex_lock(&t->lock);
    while (!t->tid)
        pthread_cond_wait(&t->cond, &t->lock);
    DWORD tid = t->tid;
    pthread_mutex_unlock(&t->lock);
    if (lpThreadId)
        *lpThreadId = tid;
    return h;
}

static struct thread *get_thread(HANDLE h)
{
    return (struct thread *)w32_handle_get(h, W32_KIND_THREAD);
}

DWORD WINAPI ResumeThread(HANDLE hThread)
{
    struct thread *t = get_thread(hThread);
    if (!t)
        return (DWORD)-1;
    pthread_mutex_lock(&t->lock);
    DWORD previous = t->suspend_count;
    if (t->suspend_count && --t->suspend_count == 0)
        pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    w32_object_put(&t->obj);
    return previous;
}

BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode)
{
    if (!lpExitCode)
        return w32_fail(ERROR_INVALID_PARAMETER);
    struct thread *t = get_thread(hThread);
    if (!t)
        return FALSE;
    pthread_mutex_lock(&t->lock);
    *lpExitCode = t->finished ? t->exit_code : STILL_ACTIVE;
    pthread_mutex_unlock(&t->lock);
    w32_object_put(&t->obj);
    return TRUE;
}

DWORD WINAPI GetThreadId(HANDLE Thread)
{
    struct thread *t = get_thread(Thread);
    if (!t)
        return 0;
    pthread_mutex_lock(&t->lock);
    DWORD tid = t->tid;
    pthread_mutex_unlock(&t->lock);
    w32_object_put(&t->obj);
    return tid;
}

DWORD WINAPI GetCurrentThreadId(VOID)
{
    return (DWORD)gettid();
}

DWORD WINAPI GetCurrentProcessId(VOID)
{
    return (DWORD)getpid();
}
