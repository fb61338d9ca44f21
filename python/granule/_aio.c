/*
 * asyncio requests: aread, aread_into, awrite, aflush, adiscard,
 * awrite_zeroes, _ablock_status (ablock_status in __init__.py) submit at call time (submission order is call order, and
 * overlapping writes take effect in submission order) and return an
 * asyncio.Future of the running loop.
 *
 * Requests are submitted without a callback, so completions queue on the
 * device. The device's completion fd (an eventfd, readable while the queue
 * is not empty) is watched by the loop's add_reader, registered once per
 * device; the reader drains the queue in batches and settles the futures
 * here, in C, on the loop's thread. A request holds its future, its result
 * object, its buffer's Py_buffer and a reference to the device until it
 * completed, whether its future was cancelled or not: Granule may be
 * writing into the buffer until then.
 *
 * We register a dup of the fd, not the device's own: the loop may be
 * running in another thread when the device is closed, and its selector
 * must still hold a valid fd until that thread removed it.
 */
#include "_granule_int.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

enum { BATCH = 256 };

typedef struct {
    DeviceObject *owner;
    PyObject *future;
    PyObject *result; /* the future's value on success */
    Py_buffer view;
    int has_view;
    int has_extent;  /* block status: the answer goes to extent, the result is (length, flags) */
    struct granule_extent extent;
} request;

/* Looked up on first use: a program that never awaits never imports asyncio. */
static PyObject *get_running_loop;   /* asyncio.get_running_loop (raises) */
static PyObject *peek_running_loop;  /* asyncio._get_running_loop (None) */
static PyObject *settle_fn;          /* this module's _settle */
static PyObject *remove_reader_fn;   /* this module's _remove_reader */
static PyObject *s_create_future, *s_done, *s_set_result, *s_set_exception, *s_is_running,
    *s_is_closed, *s_on_readable;

static int lazy_init(void)
{
    if (get_running_loop)
        return 0;
    PyObject *asyncio = PyImport_ImportModule("asyncio");
    if (!asyncio)
        return -1;
    PyObject *mod = PyImport_ImportModule("granule._granule");
    if (!mod) {
        Py_DECREF(asyncio);
        return -1;
    }
    peek_running_loop = PyObject_GetAttrString(asyncio, "_get_running_loop");
    settle_fn = PyObject_GetAttrString(mod, "_settle");
    remove_reader_fn = PyObject_GetAttrString(mod, "_remove_reader");
    struct {
        PyObject **s;
        const char *v;
    } names[] = {
        {&s_create_future, "create_future"}, {&s_done, "done"},
        {&s_set_result, "set_result"},       {&s_set_exception, "set_exception"},
        {&s_is_running, "is_running"},       {&s_is_closed, "is_closed"},
        {&s_on_readable, "_on_readable"},
    };
    int ok = peek_running_loop && settle_fn && remove_reader_fn;
    for (size_t i = 0; ok && i < sizeof names / sizeof names[0]; ++i)
        ok = (*names[i].s = PyUnicode_InternFromString(names[i].v)) != NULL;
    /* Set last: it says everything else is there. */
    if (ok)
        ok = (get_running_loop = PyObject_GetAttrString(asyncio, "get_running_loop")) != NULL;
    Py_DECREF(mod);
    Py_DECREF(asyncio);
    return ok ? 0 : -1;
}

static int drain_in_flight(DeviceObject *self);

static int call_bool(PyObject *obj, PyObject *method)
{
    PyObject *r = PyObject_CallMethodNoArgs(obj, method);
    if (!r)
        return -1;
    int b = PyObject_IsTrue(r);
    Py_DECREF(r);
    return b;
}

/* 1 when loop runs in another thread than this one. */
static int runs_elsewhere(PyObject *loop)
{
    int running = call_bool(loop, s_is_running);
    if (running <= 0)
        return running;
    PyObject *here = PyObject_CallNoArgs(peek_running_loop);
    if (!here)
        return -1;
    int elsewhere = here != loop;
    Py_DECREF(here);
    return elsewhere;
}

/* Unregisters our fd from the loop and closes it, in the loop's thread
 * when it runs elsewhere. Nothing is in flight. */
static int detach(DeviceObject *self)
{
    PyObject *loop = self->loop;
    int fd = self->reader_fd;
    self->loop = NULL;
    self->reader_fd = -1;
    if (!loop) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    int rc = 0, closed = call_bool(loop, s_is_closed);
    int elsewhere = closed == 0 ? runs_elsewhere(loop) : 0;
    if (closed < 0 || elsewhere < 0) {
        rc = -1;
    } else if (closed) {
        /* Its selector is gone, and our registration with it. */
    } else if (elsewhere) {
        PyObject *r = PyObject_CallMethod(loop, "call_soon_threadsafe", "OOi", remove_reader_fn,
                                          loop, fd);
        if (r) {
            Py_DECREF(r);
            fd = -1; /* _remove_reader closes it there */
        } else {
            PyErr_Clear(); /* closed meanwhile */
        }
    } else {
        PyObject *r = PyObject_CallMethod(loop, "remove_reader", "i", fd);
        Py_XDECREF(r);
        rc = r ? 0 : -1;
    }
    if (fd >= 0)
        close(fd);
    Py_DECREF(loop);
    return rc;
}

/* The running loop, bound to the device: its completion fd registered with
 * the loop's add_reader the first time. One loop at a time: another one
 * takes the device over only when the first is not running in another
 * thread, once the first one's requests completed. A borrowed reference. */
static PyObject *bind_loop(DeviceObject *self)
{
    PyObject *loop = PyObject_CallNoArgs(get_running_loop); /* RuntimeError outside a loop */
    if (!loop)
        return NULL;
    if (self->loop == loop) {
        Py_DECREF(loop);
        return loop;
    }
    if (self->loop) {
        int elsewhere = runs_elsewhere(self->loop);
        if (elsewhere > 0)
            PyErr_Format(PyExc_RuntimeError,
                         "the device is attached to an event loop running in another thread, "
                         "with %zd requests in flight (a device serves one event loop at a time)",
                         self->inflight);
        /* The old loop is not running: its requests (submitted and never
         * awaited, say) complete first, their futures settled on it or
         * dropped when it is closed; then this loop takes the device. */
        if (elsewhere != 0 || drain_in_flight(self) < 0 || detach(self) < 0) {
            Py_DECREF(loop);
            return NULL;
        }
    }
    int fd = granule_get_completion_fd(self->dev);
    if (fd < 0) {
        Py_DECREF(loop);
        return granule_py_raise(fd, granule_get_error_msg());
    }
    int rfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (rfd < 0) {
        Py_DECREF(loop);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    PyObject *cb = PyObject_GetAttr((PyObject *)self, s_on_readable);
    PyObject *r = cb ? PyObject_CallMethod(loop, "add_reader", "iO", rfd, cb) : NULL;
    Py_XDECREF(cb);
    if (!r) {
        close(rfd);
        Py_DECREF(loop);
        return NULL;
    }
    Py_DECREF(r);
    self->loop = loop;
    self->reader_fd = rfd;
    return loop;
}

static void request_free(request *q)
{
    if (q->has_view)
        PyBuffer_Release(&q->view);
    Py_XDECREF(q->future);
    Py_XDECREF(q->result);
    Py_XDECREF(q->owner);
    PyMem_Free(q);
}

/* A request with its future, before submission. */
static request *new_request(DeviceObject *self)
{
    if (granule_py_check_open(self) < 0 || lazy_init() < 0)
        return NULL;
    PyObject *loop = bind_loop(self);
    if (!loop)
        return NULL;
    request *q = PyMem_Calloc(1, sizeof *q);
    if (!q) {
        PyErr_NoMemory();
        return NULL;
    }
    q->future = PyObject_CallMethodNoArgs(loop, s_create_future);
    if (!q->future) {
        PyMem_Free(q);
        return NULL;
    }
    Py_INCREF(self);
    q->owner = self;
    return q;
}

/* After granule_submit_*: the future, or the submission's error. */
static PyObject *submitted(request *q, int r)
{
    if (r < 0) {
        granule_py_raise(r, granule_get_error_msg());
        request_free(q);
        return NULL;
    }
    ++q->owner->inflight;
    return Py_NewRef(q->future);
}

/* Sets the future's result or exception unless it is done already
 * (cancelled: the value is dropped). */
static int settle(PyObject *fut, PyObject *value, int is_exc)
{
    int done = call_bool(fut, s_done);
    if (done != 0)
        return done < 0 ? -1 : 0;
    PyObject *r = PyObject_CallMethodOneArg(fut, is_exc ? s_set_exception : s_set_result, value);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* How close() hands results to futures: directly on the loop's thread (or
 * when the loop is not running), through call_soon_threadsafe when it runs
 * elsewhere, not at all when it is closed. */
enum settle_mode { DIRECT, THREADSAFE, DROP };

static void deliver(request *q, int ret, const char *msg, enum settle_mode mode)
{
    --q->owner->inflight;
    /* The buffer is the caller's again before anyone sees the result. */
    if (q->has_view) {
        PyBuffer_Release(&q->view);
        q->has_view = 0;
    }
    int is_exc = ret < 0;
    PyObject *value = is_exc          ? granule_py_error(ret, msg)
                      : q->has_extent ? Py_BuildValue("(KI)", (unsigned long long)q->extent.length,
                                                      (unsigned)q->extent.flags)
                                      : Py_NewRef(q->result ? q->result : Py_None);
    if (!value) { /* no memory for the exception: that error instead */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_NormalizeException(&t, &v, &tb);
        Py_XDECREF(t);
        Py_XDECREF(tb);
        value = v;
        is_exc = 1;
    }
    if (value && mode == DIRECT) {
        if (settle(q->future, value, is_exc) < 0)
            PyErr_WriteUnraisable(q->future);
    } else if (value && mode == THREADSAFE) {
        PyObject *r = PyObject_CallMethod(q->owner->loop, "call_soon_threadsafe", "OOOO",
                                          settle_fn, q->future, value, is_exc ? Py_True : Py_False);
        if (!r)
            PyErr_Clear(); /* the loop closed meanwhile: nobody can await the future */
        Py_XDECREF(r);
    }
    Py_XDECREF(value);
    request_free(q);
}

PyObject *granule_aio_on_readable(DeviceObject *self, PyObject *unused)
{
    (void)unused;
    struct granule_completion out[BATCH];
    /* Closed: a wakeup that raced with close(), which settled everything. */
    while (self->dev) {
        int n = granule_poll_completions(self->dev, out, BATCH, 0);
        if (n < 0)
            return granule_py_raise(n, granule_get_error_msg());
        for (int i = 0; i < n; ++i)
            deliver(out[i].user_data, out[i].ret, out[i].error_msg, DIRECT);
        if (n < BATCH)
            break;
    }
    Py_RETURN_NONE;
}

/* How close() (or a new loop taking the device over) hands results to
 * the futures of self->loop. */
static enum settle_mode settle_mode_for(DeviceObject *self)
{
    if (!self->loop)
        return DIRECT;
    int closed = call_bool(self->loop, s_is_closed);
    int elsewhere = closed == 0 ? runs_elsewhere(self->loop) : 0;
    if (closed < 0 || elsewhere < 0)
        PyErr_Clear();
    return closed > 0 ? DROP : elsewhere > 0 ? THREADSAFE : DIRECT;
}

/* Waits (GIL released) for every request in flight, settling each. */
static int drain_in_flight(DeviceObject *self)
{
    enum settle_mode mode = self->inflight > 0 ? settle_mode_for(self) : DIRECT;
    struct granule_completion out[BATCH];
    while (self->inflight > 0 && self->dev) {
        int n;
        /* A bounded wait: with the loop running elsewhere, its reader may
         * take the last completions. */
        Py_BEGIN_ALLOW_THREADS
        n = granule_poll_completions(self->dev, out, BATCH, 100);
        Py_END_ALLOW_THREADS
        if (n < 0) {
            granule_py_raise(n, granule_get_error_msg());
            return -1;
        }
        for (int i = 0; i < n; ++i)
            deliver(out[i].user_data, out[i].ret, out[i].error_msg, mode);
    }
    return 0;
}

int granule_aio_shutdown(DeviceObject *self)
{
    if (self->inflight > 0 && lazy_init() < 0)
        return -1;
    if (drain_in_flight(self) < 0)
        return -1;
    return detach(self);
}

/* ---- Submission ---- */

/* A request that holds the caller's buffer (view, released on failure)
 * until it completes; its result is the buffer's length. */
static request *new_buffer_request(DeviceObject *self, Py_buffer *view)
{
    request *q = new_request(self);
    if (!q) {
        PyBuffer_Release(view);
        return NULL;
    }
    q->view = *view;
    q->has_view = 1;
    q->result = PyLong_FromSsize_t(view->len);
    if (!q->result) {
        request_free(q); /* releases the view */
        return NULL;
    }
    return q;
}

PyObject *granule_aio_read(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t offset;
    size_t n;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "aread() takes exactly 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (!granule_py_u64(args[0], &offset) || !granule_py_size(args[1], &n))
        return NULL;
    request *q = new_request(self);
    if (!q)
        return NULL;
    /* Read straight into the bytes object the future will hold: nobody
     * else has it until then. */
    q->result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (!q->result) {
        request_free(q);
        return NULL;
    }
    return submitted(q, granule_submit_pread(self->dev, offset, PyBytes_AS_STRING(q->result), n,
                                             0, NULL, q));
}

PyObject *granule_aio_read_into(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t offset;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "aread_into() takes exactly 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (!granule_py_u64(args[0], &offset))
        return NULL;
    Py_buffer view;
    if (!PyArg_Parse(args[1], "w*", &view))
        return NULL;
    request *q = new_buffer_request(self, &view);
    if (!q)
        return NULL;
    return submitted(q, granule_submit_pread(self->dev, offset, view.buf, (size_t)view.len, 0,
                                             NULL, q));
}

PyObject *granule_aio_write(DeviceObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"offset", "buffer", "fua", "flags", NULL};
    uint64_t offset;
    Py_buffer view;
    int fua = 0;
    uint32_t flags = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&y*|$pO&:awrite", kwlist, granule_py_u64,
                                     &offset, &view, &fua, granule_py_u32, &flags))
        return NULL;
    request *q = new_buffer_request(self, &view);
    if (!q)
        return NULL;
    flags = granule_py_io_flags(flags, fua, 0, 0);
    return submitted(q, granule_submit_pwrite(self->dev, offset, view.buf, (size_t)view.len,
                                              flags, NULL, q));
}

PyObject *granule_aio_flush(DeviceObject *self, PyObject *unused)
{
    (void)unused;
    request *q = new_request(self);
    return q ? submitted(q, granule_submit_flush(self->dev, NULL, q)) : NULL;
}

PyObject *granule_aio_discard(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t offset, length;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "adiscard() takes exactly 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (!granule_py_u64(args[0], &offset) || !granule_py_u64(args[1], &length))
        return NULL;
    request *q = new_request(self);
    return q ? submitted(q, granule_submit_discard(self->dev, offset, length, NULL, q)) : NULL;
}

PyObject *granule_aio_block_status(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t offset, length;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "_ablock_status() takes exactly 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (!granule_py_u64(args[0], &offset) || !granule_py_u64(args[1], &length))
        return NULL;
    request *q = new_request(self);
    if (!q)
        return NULL;
    q->has_extent = 1;
    return submitted(q, granule_submit_block_status(self->dev, offset, length, &q->extent, NULL, q));
}

PyObject *granule_aio_write_zeroes(DeviceObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"offset", "length", "may_unmap", "fua", "no_fallback", "flags", NULL};
    uint64_t offset, length;
    int may_unmap = 0, fua = 0, no_fallback = 0;
    uint32_t flags = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&O&|$pppO&:awrite_zeroes", kwlist,
                                     granule_py_u64, &offset, granule_py_u64, &length, &may_unmap,
                                     &fua, &no_fallback, granule_py_u32, &flags))
        return NULL;
    flags = granule_py_io_flags(flags, fua, may_unmap, no_fallback);
    request *q = new_request(self);
    return q ? submitted(q, granule_submit_write_zeroes(self->dev, offset, length, flags, NULL, q))
             : NULL;
}

/* ---- Module helpers, called through call_soon_threadsafe ---- */

static PyObject *mod_settle(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *fut, *value;
    int is_exc;
    if (!PyArg_ParseTuple(args, "OOp:_settle", &fut, &value, &is_exc) || lazy_init() < 0)
        return NULL;
    return settle(fut, value, is_exc) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *mod_remove_reader(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *loop;
    int fd;
    if (!PyArg_ParseTuple(args, "Oi:_remove_reader", &loop, &fd))
        return NULL;
    PyObject *r = PyObject_CallMethod(loop, "remove_reader", "i", fd);
    close(fd);
    Py_XDECREF(r);
    return r ? Py_NewRef(Py_None) : NULL;
}

PyMethodDef granule_aio_module_methods[] = {
    {"_settle", mod_settle, METH_VARARGS, "_settle(future, value, is_exception)"},
    {"_remove_reader", mod_remove_reader, METH_VARARGS,
     "_remove_reader(loop, fd): unregisters and closes a closed device's fd, on the loop's thread."},
    {NULL, NULL, 0, NULL},
};
