/* LoadLibrary/GetProcAddress/FreeLibrary: "winhvplatform.dll" and "winhvemulation.dll" (any
 * case, with or without ".dll" or a directory) are built-in modules answering from openwhp's
 * export tables, so it works whether the library is linked shared or static; other names go to
 * dlopen. An HMODULE is a struct module of the loaded list, counted as Windows counts loads. */
#include "w32.h"
#include "module_exports.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>

#define ORDINAL_LIMIT 0x10000u /* GetProcAddress names below this are ordinals */

struct module {
    const struct w32_export *exports; /* built-in, or NULL for a dlopen'ed library */
    const size_t *nexports;
    void *dl;
    unsigned loads;
    struct module *next;
};

static struct module winhvplatform = {w32_winhvplatform_exports,
                                        &w32_winhvplatform_export_count, NULL, 0, NULL};
static struct module winhvemulation = {w32_winhvemulation_exports,
                                         &w32_winhvemulation_export_count, NULL, 0, NULL};

/* lock protects the loaded list and every module's loads. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct module *loaded;

/* The built-in module a file name names, or NULL. */
static struct module *builtin(const char *name)
{
    const char *base = name;
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    static const struct {
        const char *stem;
        struct module *m;
    } names[] = {{"winhvplatform", &winhvplatform}, {"winhvemulation", &winhvemulation}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i].stem);
        if (!strncasecmp(base, names[i].stem, n) &&
            (base[n] == '\0' || !strcasecmp(base + n, ".dll")))
            return names[i].m;
    }
    return NULL;
}

static bool is_loaded_locked(const struct module *m)
{
    for (const struct module *p = loaded; p; p = p->next)
        if (p == m)
            return true;
    return false;
}

/* Counts one more load of m, entering it in the list at its first. */
static HMODULE load_locked(struct module *m)
{
    if (m->loads++ == 0) {
        m->next = loaded;
        loaded = m;
    }
    return (HMODULE)m;
}

static struct module *dl_module_locked(void *dl)
{
    for (struct module *p = loaded; p; p = p->next)
        if (p->dl == dl)
            return p;
    struct module *m = calloc(1, sizeof(*m));
    if (m)
        m->dl = dl;
    return m;
}

HMODULE WINAPI LoadLibraryA(LPCSTR lpLibFileName)
{
    if (!lpLibFileName) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    struct module *m = builtin(lpLibFileName);
    void *dl = NULL;
    if (!m) {
        dl = dlopen(lpLibFileName, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
            w32_fail(ERROR_MOD_NOT_FOUND);
            return NULL;
        }
    }
    pthread_mutex_lock(&lock);
    if (!m)
        m = dl_module_locked(dl);
    HMODULE h = m ? load_locked(m) : NULL;
    pthread_mutex_unlock(&lock);
    if (!h) {
        dlclose(dl);
        w32_fail(ERROR_NOT_ENOUGH_MEMORY);
    } else if (dl && m->loads > 1) {
        dlclose(dl); /* dlopen counted this load too; the module keeps one dlopen reference */
    }
    return h;
}

HMODULE WINAPI LoadLibraryW(LPCWSTR lpLibFileName)
{
    if (!lpLibFileName) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    char *name = w32_utf16_to_utf8(lpLibFileName);
    if (!name)
        return NULL;
    HMODULE h = LoadLibraryA(name);
    free(name);
    return h;
}

static int compare_export(const void *key, const void *element)
{
    return strcmp(key, ((const struct w32_export *)element)->name);
}

FARPROC WINAPI GetProcAddress(HMODULE hModule, LPCSTR lpProcName)
{
    if (!lpProcName) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    pthread_mutex_lock(&lock);
    struct module *m = (struct module *)hModule;
    bool live = m && is_loaded_locked(m);
    pthread_mutex_unlock(&lock);
    if (!live) {
        w32_fail(ERROR_MOD_NOT_FOUND);
        return NULL;
    }
    FARPROC proc = NULL;
    if ((uintptr_t)lpProcName < ORDINAL_LIMIT) {
        /* Ordinals are not numbered here. */
    } else if (m->exports) {
        const struct w32_export *e =
            bsearch(lpProcName, m->exports, *m->nexports, sizeof(*e), compare_export);
        proc = e ? e->proc : NULL;
    } else {
        /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
        void *sym = dlsym(m->dl, lpProcName);
        proc = sym ? (FARPROC)(uintptr_t)sym : NULL;
    }
    if (!proc)
        w32_fail(ERROR_PROC_NOT_FOUND);
    return proc;
}

BOOL WINAPI FreeLibrary(HMODULE hLibModule)
{
    struct module *m = (struct module *)hLibModule;
    pthread_mutex_lock(&lock);
    bool live = m && is_loaded_locked(m);
    bool last = live && --m->loads == 0;
    if (last)
        for (struct module **p = &loaded; *p; p = &(*p)->next)
            if (*p == m) {
                *p = m->next;
                break;
            }
    pthread_mutex_unlock(&lock);
    if (!live)
        return w32_fail(ERROR_MOD_NOT_FOUND);
    if (last && m->dl) {
        dlclose(m->dl);
        free(m);
    }
    return TRUE;
}
