/*
 * granule._granule.Device: one granule_device and its synchronous calls.
 * Every call that may block releases the GIL, so other Python threads run
 * (the C API lets any number of threads use one device at once). The
 * caller's buffer goes to the C API as it is: Granule decides whether its
 * alignment allows zero-copy or needs a bounce (stats: bytes_bounced).
 *
 * Lifetime: close() refuses new calls, waits for the synchronous calls of
 * other threads and for asyncio requests in flight, then closes the handle
 * (granule_close must not run while another thread is inside the device).
 */
#include "_granule_int.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

int granule_py_check_open(DeviceObject *self)
{
    if (self->dev && !self->closing)
        return 0;
    PyErr_SetString(PyExc_ValueError, self->closing ? "the device is being closed"
                                                    : "I/O operation on a closed device");
    return -1;
}

/* Around a call made with the GIL released: close() waits for busy == 0. */
static int enter(DeviceObject *self)
{
    if (granule_py_check_open(self) < 0)
        return -1;
    ++self->busy;
    return 0;
}

static void leave(DeviceObject *self) { --self->busy; }

static PyObject *fail(int r) { return granule_py_raise(r, granule_get_error_msg()); }

static int check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t want)
{
    if (nargs == want)
        return 0;
    PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd arguments (%zd given)", name, want, nargs);
    return -1;
}

/* ---- Opening and closing ---- */

static int dev_init(DeviceObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"spec", "read_only", NULL};
    PyObject *spec;
    int read_only = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p:Device", kwlist, &spec, &read_only))
        return -1;
    if (self->dev || self->closing) {
        PyErr_SetString(PyExc_ValueError, "the device is already open (or was closed)");
        return -1;
    }
    uint32_t flags = read_only ? GRANULE_DEVICE_READ_ONLY : 0;
    granule_device *dev = NULL;
    int r;
    if (PyUnicode_Check(spec)) {
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(spec, &len);
        if (!s)
            return -1;
        if ((size_t)len != strlen(s)) {
            PyErr_SetString(PyExc_ValueError, "spec contains a NUL character");
            return -1;
        }
        /* Opening may connect (iscsi://, nbd://) or probe a disk. */
        Py_BEGIN_ALLOW_THREADS
        r = granule_open(s, flags, &dev);
        Py_END_ALLOW_THREADS
    } else {
        struct granule_kv *kv;
        size_t count;
        PyObject *keep;
        if (granule_py_kv(spec, &kv, &count, &keep) < 0)
            return -1;
        Py_BEGIN_ALLOW_THREADS
        r = granule_open_kv(kv, count, flags, &dev);
        Py_END_ALLOW_THREADS
        granule_py_free_kv(kv, keep);
    }
    if (r < 0) {
        fail(r);
        return -1;
    }
    self->dev = dev;
    return 0;
}

static PyObject *dev_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    DeviceObject *self = (DeviceObject *)type->tp_alloc(type, 0);
    if (self)
        self->reader_fd = -1;
    return (PyObject *)self;
}

/* Closes the handle with the GIL released (the C API waits for the device's
 * thread). Only once nobody else is inside the device. */
static void close_handle(DeviceObject *self)
{
    granule_device *dev = self->dev;
    self->dev = NULL;
    if (dev) {
        Py_BEGIN_ALLOW_THREADS
        granule_close(dev);
        Py_END_ALLOW_THREADS
    }
}

static PyObject *dev_close(DeviceObject *self, PyObject *unused)
{
    (void)unused;
    /* Another thread closing it: done when that close is. */
    while (self->closing) {
        Py_BEGIN_ALLOW_THREADS
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        Py_END_ALLOW_THREADS
    }
    if (!self->dev)
        Py_RETURN_NONE; /* idempotent */
    self->closing = 1;
    /* Other threads inside synchronous calls: they hold no Python state
     * but the device, and end by themselves. */
    while (self->busy > 0) {
        Py_BEGIN_ALLOW_THREADS
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        Py_END_ALLOW_THREADS
    }
    int r = granule_aio_shutdown(self);
    close_handle(self);
    self->closing = 0;
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

static int dev_traverse(DeviceObject *self, visitproc visit, void *arg)
{
    /* Not our type: for a Python subclass, subtype_traverse visits it. */
    Py_VISIT(self->loop);
    return 0;
}

static int dev_clear(DeviceObject *self)
{
    /* The loop unreachable with us: its selector and our fd go with it. */
    Py_CLEAR(self->loop);
    return 0;
}

/* A Python subclass's instances come here through subtype_dealloc, which
 * releases their type itself (our base type is static). */
static void dev_dealloc(DeviceObject *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakrefs)
        PyObject_ClearWeakRefs((PyObject *)self);
    /* Requests in flight hold a reference: none is left here, but the
     * loop's registration may be (calls into Python: keep any exception
     * being raised around us). */
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (granule_aio_shutdown(self) < 0)
        PyErr_WriteUnraisable((PyObject *)self);
    PyErr_Restore(type, value, tb);
    if (self->reader_fd >= 0) {
        close(self->reader_fd);
        self->reader_fd = -1;
    }
    close_handle(self);
    Py_CLEAR(self->loop);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ---- Queries ---- */

static PyObject *dev_get_length(DeviceObject *self, void *closure)
{
    (void)closure;
    if (granule_py_check_open(self) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(granule_get_length(self->dev));
}

static PyObject *dev_get_read_only(DeviceObject *self, void *closure)
{
    (void)closure;
    if (granule_py_check_open(self) < 0)
        return NULL;
    return PyBool_FromLong(granule_is_read_only(self->dev));
}

static PyObject *dev_get_growable(DeviceObject *self, void *closure)
{
    (void)closure;
    if (granule_py_check_open(self) < 0)
        return NULL;
    return PyBool_FromLong(granule_is_growable(self->dev));
}

/* "raw" or the container whose signature the first bytes hold, and
 * granule-img info's line saying why: (format, description). */
static PyObject *dev_get_format_probe(DeviceObject *self, void *closure)
{
    (void)closure;
    if (granule_py_check_open(self) < 0)
        return NULL;
    const char *description = NULL;
    const char *format = granule_get_format(self->dev, &description);
    if (!format || !description)
        return PyErr_NoMemory();
    return Py_BuildValue("(ss)", format, description);
}

static PyObject *dev_get_closed(DeviceObject *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->dev == NULL);
}

static PyObject *dev_get_inflight(DeviceObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromSsize_t(self->inflight);
}

/* [(name, value, source), ...] in granule_limit_id order. */
static PyObject *dev_limits(DeviceObject *self, PyObject *unused)
{
    (void)unused;
    if (granule_py_check_open(self) < 0)
        return NULL;
    int n = granule_get_limits(self->dev, NULL, 0);
    if (n < 0)
        return fail(n);
    struct granule_limit_info *info = PyMem_Calloc((size_t)n + 1, sizeof *info);
    if (!info)
        return PyErr_NoMemory();
    PyObject *list = NULL;
    int got = granule_get_limits(self->dev, info, (size_t)n);
    if (got < 0) {
        fail(got);
        goto done;
    }
    list = PyList_New(0);
    for (int i = 0; list && i < n && i < got; ++i) {
        PyObject *t = Py_BuildValue("(sKs)", info[i].name, (unsigned long long)info[i].value,
                                    info[i].source ? info[i].source : "");
        if (!t || PyList_Append(list, t) < 0)
            Py_CLEAR(list);
        Py_XDECREF(t);
    }
done:
    PyMem_Free(info);
    return list;
}

/* [(name, value), ...] in granule_stat_id order. */
static PyObject *dev_stats(DeviceObject *self, PyObject *unused)
{
    (void)unused;
    if (granule_py_check_open(self) < 0)
        return NULL;
    struct granule_stat st[64];
    int n = granule_get_stats(self->dev, st, sizeof st / sizeof st[0]);
    if (n < 0)
        return fail(n);
    if ((size_t)n > sizeof st / sizeof st[0])
        n = (int)(sizeof st / sizeof st[0]);
    PyObject *list = PyList_New(n);
    for (int i = 0; list && i < n; ++i) {
        PyObject *t = Py_BuildValue("(sK)", st[i].name, (unsigned long long)st[i].value);
        if (!t)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, t);
    }
    return list;
}

static PyObject *dev_reset_stats(DeviceObject *self, PyObject *unused)
{
    (void)unused;
    if (granule_py_check_open(self) < 0)
        return NULL;
    granule_reset_stats(self->dev);
    Py_RETURN_NONE;
}

/* ---- Synchronous I/O ---- */

static PyObject *dev_pread(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t offset;
    size_t n;
    if (check_nargs("pread", nargs, 2) < 0 || !granule_py_u64(args[0], &offset) ||
        !granule_py_size(args[1], &n))
        return NULL;
    /* Straight into the bytes object that is returned: no second copy. */
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (!out)
        return NULL;
    if (enter(self) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    int r;
    char *buf = PyBytes_AS_STRING(out);
    Py_BEGIN_ALLOW_THREADS
    r = granule_pread(self->dev, offset, buf, n, 0);
    Py_END_ALLOW_THREADS
    leave(self);
    if (r < 0) {
        Py_DECREF(out);
        return fail(r);
    }
    return out;
}

static PyObject *dev_pread_into(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t offset;
    Py_buffer view;
    if (check_nargs("pread_into", nargs, 2) < 0 || !granule_py_u64(args[0], &offset))
        return NULL;
    if (!PyArg_Parse(args[1], "w*", &view))
        return NULL;
    if (enter(self) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = granule_pread(self->dev, offset, view.buf, (size_t)view.len, 0);
    Py_END_ALLOW_THREADS
    leave(self);
    Py_ssize_t len = view.len;
    PyBuffer_Release(&view);
    return r < 0 ? fail(r) : PyLong_FromSsize_t(len);
}

static PyObject *dev_pwrite(DeviceObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"offset", "buffer", "fua", "flags", NULL};
    uint64_t offset;
    Py_buffer view;
    int fua = 0;
    uint32_t flags = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&y*|$pO&:pwrite", kwlist, granule_py_u64,
                                     &offset, &view, &fua, granule_py_u32, &flags))
        return NULL;
    if (enter(self) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    int r;
    flags = granule_py_io_flags(flags, fua, 0, 0);
    Py_BEGIN_ALLOW_THREADS
    r = granule_pwrite(self->dev, offset, view.buf, (size_t)view.len, flags);
    Py_END_ALLOW_THREADS
    leave(self);
    Py_ssize_t len = view.len;
    PyBuffer_Release(&view);
    return r < 0 ? fail(r) : PyLong_FromSsize_t(len);
}

/* Views of every buffer of a sequence, as an iovec. */
typedef struct {
    Py_buffer *views;
    struct granule_iov *iov;
    Py_ssize_t n;
    Py_ssize_t total;
} iov_list;

static void iov_release(iov_list *l)
{
    for (Py_ssize_t i = 0; i < l->n; ++i)
        PyBuffer_Release(&l->views[i]);
    PyMem_Free(l->views);
    PyMem_Free(l->iov);
    memset(l, 0, sizeof *l);
}

static int iov_get(PyObject *buffers, int writable, iov_list *l)
{
    memset(l, 0, sizeof *l);
    PyObject *seq = PySequence_Fast(buffers, "buffers must be a sequence of buffers");
    if (!seq)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > INT32_MAX) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_OverflowError, "too many buffers");
        return -1;
    }
    l->views = PyMem_Calloc((size_t)n + 1, sizeof *l->views);
    l->iov = PyMem_Calloc((size_t)n + 1, sizeof *l->iov);
    if (!l->views || !l->iov) {
        Py_DECREF(seq);
        iov_release(l);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject *b = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyArg_Parse(b, writable ? "w*" : "y*", &l->views[i])) {
            Py_DECREF(seq);
            iov_release(l);
            return -1;
        }
        l->n = i + 1;
        l->iov[i].base = l->views[i].buf;
        l->iov[i].len = (size_t)l->views[i].len;
        l->total += l->views[i].len;
    }
    Py_DECREF(seq);
    return 0;
}

static PyObject *dev_preadv(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t offset;
    iov_list l;
    if (check_nargs("preadv", nargs, 2) < 0 || !granule_py_u64(args[0], &offset) ||
        iov_get(args[1], 1, &l) < 0)
        return NULL;
    if (enter(self) < 0) {
        iov_release(&l);
        return NULL;
    }
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = granule_preadv(self->dev, offset, l.iov, (int)l.n, 0);
    Py_END_ALLOW_THREADS
    leave(self);
    Py_ssize_t total = l.total;
    iov_release(&l);
    return r < 0 ? fail(r) : PyLong_FromSsize_t(total);
}

static PyObject *dev_pwritev(DeviceObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"offset", "buffers", "fua", "flags", NULL};
    uint64_t offset;
    PyObject *buffers;
    int fua = 0;
    uint32_t flags = 0;
    iov_list l;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&O|$pO&:pwritev", kwlist, granule_py_u64,
                                     &offset, &buffers, &fua, granule_py_u32, &flags) ||
        iov_get(buffers, 0, &l) < 0)
        return NULL;
    if (enter(self) < 0) {
        iov_release(&l);
        return NULL;
    }
    int r;
    flags = granule_py_io_flags(flags, fua, 0, 0);
    Py_BEGIN_ALLOW_THREADS
    r = granule_pwritev(self->dev, offset, l.iov, (int)l.n, flags);
    Py_END_ALLOW_THREADS
    leave(self);
    Py_ssize_t total = l.total;
    iov_release(&l);
    return r < 0 ? fail(r) : PyLong_FromSsize_t(total);
}

static PyObject *dev_flush(DeviceObject *self, PyObject *unused)
{
    (void)unused;
    if (enter(self) < 0)
        return NULL;
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = granule_flush(self->dev);
    Py_END_ALLOW_THREADS
    leave(self);
    return r < 0 ? fail(r) : Py_NewRef(Py_None);
}

static PyObject *dev_discard(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t offset, length;
    if (check_nargs("discard", nargs, 2) < 0 || !granule_py_u64(args[0], &offset) ||
        !granule_py_u64(args[1], &length) || enter(self) < 0)
        return NULL;
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = granule_discard(self->dev, offset, length);
    Py_END_ALLOW_THREADS
    leave(self);
    return r < 0 ? fail(r) : Py_NewRef(Py_None);
}

static PyObject *dev_write_zeroes(DeviceObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"offset", "length", "may_unmap", "fua", "no_fallback", "flags", NULL};
    uint64_t offset, length;
    int may_unmap = 0, fua = 0, no_fallback = 0;
    uint32_t flags = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&O&|$pppO&:write_zeroes", kwlist,
                                     granule_py_u64, &offset, granule_py_u64, &length, &may_unmap,
                                     &fua, &no_fallback, granule_py_u32, &flags) ||
        enter(self) < 0)
        return NULL;
    flags = granule_py_io_flags(flags, fua, may_unmap, no_fallback);
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = granule_write_zeroes(self->dev, offset, length, flags);
    Py_END_ALLOW_THREADS
    leave(self);
    return r < 0 ? fail(r) : Py_NewRef(Py_None);
}

/* One extent: (length, flags); the Python layer walks a range. */
static PyObject *dev_block_status(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t offset, length;
    if (check_nargs("_block_status", nargs, 2) < 0 || !granule_py_u64(args[0], &offset) ||
        !granule_py_u64(args[1], &length) || enter(self) < 0)
        return NULL;
    struct granule_extent e;
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = granule_block_status(self->dev, offset, length, &e);
    Py_END_ALLOW_THREADS
    leave(self);
    if (r < 0)
        return fail(r);
    return Py_BuildValue("(KI)", (unsigned long long)e.length, (unsigned int)e.flags);
}

static PyObject *dev_truncate(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t length;
    if (check_nargs("truncate", nargs, 1) < 0 || !granule_py_u64(args[0], &length) ||
        enter(self) < 0)
        return NULL;
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = granule_truncate(self->dev, length);
    Py_END_ALLOW_THREADS
    leave(self);
    return r < 0 ? fail(r) : Py_NewRef(Py_None);
}

/* Takes (key, value) pairs of str; granule.Device.reopen makes them. */
static PyObject *dev_reopen(DeviceObject *self, PyObject *pairs)
{
    struct granule_kv *kv;
    size_t count;
    PyObject *keep;
    if (granule_py_kv(pairs, &kv, &count, &keep) < 0)
        return NULL;
    if (enter(self) < 0) {
        granule_py_free_kv(kv, keep);
        return NULL;
    }
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = granule_reopen(self->dev, kv, count);
    Py_END_ALLOW_THREADS
    leave(self);
    granule_py_free_kv(kv, keep);
    return r < 0 ? fail(r) : Py_NewRef(Py_None);
}

#define FASTCALL(f) (PyCFunction)(void (*)(void))(f), METH_FASTCALL
#define KWARGS(f) (PyCFunction)(void (*)(void))(f), METH_VARARGS | METH_KEYWORDS

static PyMethodDef dev_methods[] = {
    {"close", (PyCFunction)dev_close, METH_NOARGS,
     "close(): waits for requests in flight, then closes the device. Idempotent."},
    {"pread", FASTCALL(dev_pread), "pread(offset, n) -> bytes: n bytes read at offset."},
    {"pread_into", FASTCALL(dev_pread_into),
     "pread_into(offset, buffer) -> int: fills a writable contiguous buffer from offset."},
    {"pwrite", KWARGS(dev_pwrite),
     "pwrite(offset, buffer, *, fua=False) -> int: writes a buffer at offset."},
    {"preadv", FASTCALL(dev_preadv),
     "preadv(offset, buffers) -> int: fills each writable buffer in turn from offset."},
    {"pwritev", KWARGS(dev_pwritev),
     "pwritev(offset, buffers, *, fua=False) -> int: writes the buffers one after the other."},
    {"flush", (PyCFunction)dev_flush, METH_NOARGS, "flush(): makes completed writes durable."},
    {"discard", FASTCALL(dev_discard), "discard(offset, length): advisory deallocation."},
    {"write_zeroes", KWARGS(dev_write_zeroes),
     "write_zeroes(offset, length, *, may_unmap=False, fua=False, no_fallback=False)"},
    {"truncate", FASTCALL(dev_truncate), "truncate(length): sets the device's length."},
    {"_block_status", FASTCALL(dev_block_status), "_block_status(offset, length) -> (length, flags)"},
    {"_reopen", (PyCFunction)dev_reopen, METH_O, "_reopen([(key, value), ...])"},
    {"_limits", (PyCFunction)dev_limits, METH_NOARGS, "_limits() -> [(name, value, source), ...]"},
    {"_stats", (PyCFunction)dev_stats, METH_NOARGS, "_stats() -> [(name, value), ...]"},
    {"reset_stats", (PyCFunction)dev_reset_stats, METH_NOARGS, "reset_stats(): counters to 0."},
    {"aread", FASTCALL(granule_aio_read),
     "aread(offset, n) -> Future[bytes], submitted at once."},
    {"aread_into", FASTCALL(granule_aio_read_into),
     "aread_into(offset, buffer) -> Future[int], submitted at once."},
    {"awrite", KWARGS(granule_aio_write),
     "awrite(offset, buffer, *, fua=False) -> Future[int], submitted at once."},
    {"aflush", (PyCFunction)granule_aio_flush, METH_NOARGS, "aflush() -> Future[None]."},
    {"adiscard", FASTCALL(granule_aio_discard), "adiscard(offset, length) -> Future[None]."},
    {"awrite_zeroes", KWARGS(granule_aio_write_zeroes),
     "awrite_zeroes(offset, length, *, may_unmap=False, fua=False, no_fallback=False) -> "
     "Future[None]."},
    {"_ablock_status", FASTCALL(granule_aio_block_status),
     "_ablock_status(offset, length) -> Future[(length, flags)], submitted at once."},
    {"_on_readable", (PyCFunction)granule_aio_on_readable, METH_NOARGS,
     "The event loop's reader callback: settles the futures of completed requests."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef dev_getset[] = {
    {"length", (getter)dev_get_length, NULL, "The device's length in bytes.", NULL},
    {"read_only", (getter)dev_get_read_only, NULL, "True when writes are refused.", NULL},
    {"growable", (getter)dev_get_growable, NULL, "True when writes past the end grow the device.", NULL},
    {"_format_probe", (getter)dev_get_format_probe, NULL, "(format, description) of the probe at open.", NULL},
    {"closed", (getter)dev_get_closed, NULL, "True once close() ran (or before opening).", NULL},
    {"in_flight", (getter)dev_get_inflight, NULL, "asyncio requests not yet completed.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject granule_device_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "granule._granule.Device",
    .tp_basicsize = sizeof(DeviceObject),
    .tp_dealloc = (destructor)dev_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Device(spec, read_only=False): an open Granule device (granule.h's granule_device).",
    .tp_traverse = (traverseproc)dev_traverse,
    .tp_clear = (inquiry)dev_clear,
    .tp_weaklistoffset = offsetof(DeviceObject, weakrefs),
    .tp_methods = dev_methods,
    .tp_getset = dev_getset,
    .tp_init = (initproc)dev_init,
    .tp_new = dev_new,
};
