/*
 * granule._granule: the module, its exceptions and argument conversion.
 * The Device type is in _device.c, asyncio requests in _aio.c; the friendly
 * layer (limits and stats objects, block_status iterator, option mappings)
 * is Python, in __init__.py.
 */
#include "_granule_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static PyObject *error_type;   /* granule.Error(OSError) */
static PyObject *error_by_errno; /* dict: errno -> a class deriving from Error and a builtin */

/* The builtin OSError subclasses Python itself picks by errno (PEP 3151),
 * and EROFS: a write refused by a read-only device is a permission matter
 * to a Python program, though OSError(EROFS) has no class of its own. */
static const struct {
    int code;
    const char *name;
} errno_classes[] = {
    {ENOENT, "FileNotFoundError"},   {EEXIST, "FileExistsError"},
    {EISDIR, "IsADirectoryError"},   {ENOTDIR, "NotADirectoryError"},
    {EACCES, "PermissionError"},     {EPERM, "PermissionError"},
    {EROFS, "PermissionError"},      {ETIMEDOUT, "TimeoutError"},
    {EINTR, "InterruptedError"},     {EAGAIN, "BlockingIOError"},
    {EALREADY, "BlockingIOError"},   {EINPROGRESS, "BlockingIOError"},
    {EPIPE, "BrokenPipeError"},      {ESHUTDOWN, "BrokenPipeError"},
    {ECONNABORTED, "ConnectionAbortedError"},
    {ECONNREFUSED, "ConnectionRefusedError"},
    {ECONNRESET, "ConnectionResetError"},
    {ESRCH, "ProcessLookupError"},   {ECHILD, "ChildProcessError"},
};

/* granule.<Name> deriving from granule.Error and builtins.<Name>; one class
 * per builtin (EACCES, EPERM and EROFS share granule.PermissionError). */
static int make_error_classes(PyObject *module)
{
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    error_by_errno = PyDict_New();
    if (!error_by_errno)
        return -1;
    for (size_t i = 0; i < sizeof errno_classes / sizeof errno_classes[0]; ++i) {
        const char *name = errno_classes[i].name;
        PyObject *cls = PyObject_GetAttrString(module, name);
        if (!cls) {
            PyErr_Clear();
            PyObject *builtin = PyDict_GetItemString(builtins, name); /* borrowed */
            if (!builtin) {
                PyErr_Format(PyExc_SystemError, "no builtin %s", name);
                return -1;
            }
            PyObject *bases = PyTuple_Pack(2, error_type, builtin);
            char qualified[64];
            snprintf(qualified, sizeof qualified, "granule.%s", name);
            cls = bases ? PyErr_NewExceptionWithDoc(qualified,
                                                    "A granule.Error that is also the builtin "
                                                    "exception of the same name.",
                                                    bases, NULL)
                        : NULL;
            Py_XDECREF(bases);
            if (!cls || PyModule_AddObjectRef(module, name, cls) < 0) {
                Py_XDECREF(cls);
                return -1;
            }
        }
        PyObject *key = PyLong_FromLong(errno_classes[i].code);
        int r = key ? PyDict_SetItem(error_by_errno, key, cls) : -1;
        Py_XDECREF(key);
        Py_DECREF(cls);
        if (r < 0)
            return -1;
    }
    return 0;
}

PyObject *granule_py_error(int ret, const char *msg)
{
    int code = ret < 0 ? -ret : EIO;
    PyObject *key = PyLong_FromLong(code);
    if (!key)
        return NULL;
    PyObject *cls = PyDict_GetItemWithError(error_by_errno, key); /* borrowed */
    Py_DECREF(key);
    if (!cls && PyErr_Occurred())
        return NULL;
    /* The C API's messages name the operation, offset and length; a file
     * name in them need not be UTF-8. */
    PyObject *text = PyUnicode_DecodeUTF8(msg ? msg : "", msg ? (Py_ssize_t)strlen(msg) : 0,
                                          "replace");
    if (!text)
        return NULL;
    PyObject *exc = PyObject_CallFunction(cls ? cls : error_type, "iN", code, text);
    return exc;
}

PyObject *granule_py_raise(int ret, const char *msg)
{
    PyObject *exc = granule_py_error(ret, msg);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* ---- Argument conversion ---- */

/* An integer >= 0 that fits in max; ValueError for a negative one (an
 * offset of -1 is a mistake, not a huge number), OverflowError above max. */
static int to_unsigned(PyObject *o, unsigned long long max, unsigned long long *out)
{
    PyObject *i = PyNumber_Index(o);
    if (!i)
        return 0;
    int overflow = 0;
    long long s = PyLong_AsLongLongAndOverflow(i, &overflow);
    if (s == -1 && PyErr_Occurred()) {
        Py_DECREF(i);
        return 0;
    }
    if (overflow < 0 || (overflow == 0 && s < 0)) {
        PyErr_Format(PyExc_ValueError, "must be >= 0, not %R", i);
        Py_DECREF(i);
        return 0;
    }
    unsigned long long v = overflow ? PyLong_AsUnsignedLongLong(i) : (unsigned long long)s;
    Py_DECREF(i);
    if (v == (unsigned long long)-1 && PyErr_Occurred())
        return 0;
    if (v > max) {
        PyErr_Format(PyExc_OverflowError, "%llu is too large (at most %llu)", v, max);
        return 0;
    }
    *out = v;
    return 1;
}

int granule_py_u64(PyObject *o, void *out)
{
    unsigned long long v;
    if (!to_unsigned(o, UINT64_MAX, &v))
        return 0;
    *(uint64_t *)out = v;
    return 1;
}

int granule_py_size(PyObject *o, void *out)
{
    unsigned long long v;
    /* Lengths become bytes objects and buffer sizes: Py_ssize_t bounds them. */
    if (!to_unsigned(o, PY_SSIZE_T_MAX, &v))
        return 0;
    *(size_t *)out = (size_t)v;
    return 1;
}

int granule_py_u32(PyObject *o, void *out)
{
    unsigned long long v;
    if (!to_unsigned(o, UINT32_MAX, &v))
        return 0;
    *(uint32_t *)out = (uint32_t)v;
    return 1;
}

int granule_py_kv(PyObject *pairs, struct granule_kv **kv, size_t *count, PyObject **keep)
{
    PyObject *seq = PySequence_Fast(pairs, "options must be a sequence of (key, value) pairs");
    if (!seq)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    /* The UTF-8 buffers belong to the str objects: keep them referenced. */
    *keep = PyList_New(0);
    *kv = PyMem_Calloc(n ? (size_t)n : 1, sizeof **kv);
    *count = 0;
    if (!*keep || !*kv)
        goto fail;
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject *pair = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *k, *v;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "options must be (key, value) pairs of str");
            goto fail;
        }
        k = PyTuple_GET_ITEM(pair, 0);
        v = PyTuple_GET_ITEM(pair, 1);
        if (!PyUnicode_Check(k) || !PyUnicode_Check(v)) {
            PyErr_Format(PyExc_TypeError, "option %R: key and value must be str", pair);
            goto fail;
        }
        const char *ks = PyUnicode_AsUTF8(k), *vs = PyUnicode_AsUTF8(v);
        if (!ks || !vs || PyList_Append(*keep, pair) < 0)
            goto fail;
        if (PyUnicode_FindChar(k, 0, 0, PyUnicode_GET_LENGTH(k), 1) >= 0) {
            PyErr_Format(PyExc_ValueError, "option key %R contains a NUL character", k);
            goto fail;
        }
        if (PyUnicode_FindChar(v, 0, 0, PyUnicode_GET_LENGTH(v), 1) >= 0) {
            PyErr_Format(PyExc_ValueError, "option %R: value contains a NUL character", k);
            goto fail;
        }
        (*kv)[i].key = ks;
        (*kv)[i].value = vs;
        ++*count;
    }
    Py_DECREF(seq);
    return 0;
fail:
    Py_DECREF(seq);
    granule_py_free_kv(*kv, *keep);
    *kv = NULL;
    *keep = NULL;
    return -1;
}

void granule_py_free_kv(struct granule_kv *kv, PyObject *keep)
{
    PyMem_Free(kv);
    Py_XDECREF(keep);
}

/* ---- The module ---- */

static PyObject *mod_version(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return PyUnicode_FromString(granule_version());
}

static PyObject *mod_c_api_version(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    uint32_t v = granule_c_api_version();
    return Py_BuildValue("(II)", v >> 16, v & 0xffffu);
}

static PyMethodDef module_methods[] = {
    {"version", mod_version, METH_NOARGS,
     "The Granule release of the library this module runs with, '0.1.0'."},
    {"c_api_version", mod_c_api_version, METH_NOARGS,
     "(major, minor) of the C API (granule.h) of the library this module runs with."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "granule._granule",
    .m_doc = "The C extension under the granule package: Granule's C API (granule.h).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__granule(void)
{
    /* The C API only grows within a major version: a library older than
     * the header this was compiled with may lack what it calls. */
    uint32_t runs = granule_c_api_version();
    if (runs >> 16 != GRANULE_C_API_MAJOR || runs < GRANULE_C_API_VERSION) {
        PyErr_Format(PyExc_ImportError,
                     "granule._granule was built for the C API %d.%d, libgranule-c has %u.%u",
                     GRANULE_C_API_MAJOR, GRANULE_C_API_MINOR, runs >> 16, runs & 0xffffu);
        return NULL;
    }
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    if (PyModule_AddFunctions(m, granule_aio_module_methods) < 0)
        goto fail;
    error_type = PyErr_NewExceptionWithDoc(
        "granule.Error",
        "A Granule call failed: errno is the error code, strerror the C API's message "
        "(the operation, offset and length, and why).",
        PyExc_OSError, NULL);
    if (!error_type || PyModule_AddObjectRef(m, "Error", error_type) < 0)
        goto fail;
    if (make_error_classes(m) < 0)
        goto fail;
    if (PyType_Ready(&granule_device_type) < 0 ||
        PyModule_AddObjectRef(m, "Device", (PyObject *)&granule_device_type) < 0)
        goto fail;
    if (PyModule_AddIntConstant(m, "IO_FUA", GRANULE_IO_FUA) < 0 ||
        PyModule_AddIntConstant(m, "IO_MAY_UNMAP", GRANULE_IO_MAY_UNMAP) < 0 ||
        PyModule_AddIntConstant(m, "IO_NO_FALLBACK", GRANULE_IO_NO_FALLBACK) < 0 ||
        PyModule_AddIntConstant(m, "EXTENT_ZERO", GRANULE_EXTENT_ZERO) < 0 ||
        PyModule_AddIntConstant(m, "EXTENT_DATA", GRANULE_EXTENT_DATA) < 0 ||
        PyModule_AddIntConstant(m, "EXTENT_ALLOCATED", GRANULE_EXTENT_ALLOCATED) < 0)
        goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
