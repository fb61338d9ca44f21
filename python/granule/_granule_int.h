/*
 * What the three parts of the extension module granule._granule share:
 * _granule.c (the module, errors, argument conversion), _device.c (the
 * Device type and its synchronous calls) and _aio.c (asyncio requests).
 * Plain CPython C API over granule.h; no state beyond these globals (the
 * module is single-phase, one per interpreter).
 */
#ifndef GRANULE_PY_INT_H
#define GRANULE_PY_INT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <granule.h>

#include <stdint.h>

typedef struct {
    PyObject_HEAD
    granule_device *dev;  /* NULL before __init__ and after close() */
    int closing;          /* close() has begun: every new call is refused */
    Py_ssize_t busy;      /* synchronous calls running with the GIL released */
    Py_ssize_t inflight;  /* submitted asyncio requests not yet delivered */
    PyObject *loop;       /* the event loop watching reader_fd, or NULL */
    int reader_fd;        /* our dup of the completion fd, registered with loop; -1 */
    PyObject *weakrefs;
} DeviceObject;

extern PyTypeObject granule_device_type;

/* ---- _granule.c ---- */
/* Sets the exception for a C API failure (ret < 0) with message msg, and
 * returns NULL. */
PyObject *granule_py_raise(int ret, const char *msg);
/* The exception object itself (a new reference), for futures. */
PyObject *granule_py_error(int ret, const char *msg);
/* O& converters: a non-negative int (ValueError when negative,
 * OverflowError when too big, TypeError when not an integer). */
int granule_py_u64(PyObject *o, void *out);
int granule_py_size(PyObject *o, void *out);
int granule_py_u32(PyObject *o, void *out);
/* The raw flags= bits (for bits a newer C API adds) with the keyword
 * arguments fua=, may_unmap=, no_fallback= set: one place for the sync and
 * asyncio calls. */
static inline uint32_t granule_py_io_flags(uint32_t flags, int fua, int may_unmap, int no_fallback)
{
    return flags | (fua ? GRANULE_IO_FUA : 0) | (may_unmap ? GRANULE_IO_MAY_UNMAP : 0) |
           (no_fallback ? GRANULE_IO_NO_FALLBACK : 0);
}
/* Key/value pairs from a sequence of (str, str) tuples; *kv and the
 * strings (UTF-8 of the tuple items, kept alive by *keep) are freed by
 * granule_py_free_kv. */
int granule_py_kv(PyObject *pairs, struct granule_kv **kv, size_t *count, PyObject **keep);
void granule_py_free_kv(struct granule_kv *kv, PyObject *keep);

/* ---- _device.c ---- */
/* ValueError and -1 when the device is closed or closing; else 0. */
int granule_py_check_open(DeviceObject *self);

/* ---- _aio.c ---- */
PyObject *granule_aio_read(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *granule_aio_read_into(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *granule_aio_write(DeviceObject *self, PyObject *args, PyObject *kwds);
PyObject *granule_aio_flush(DeviceObject *self, PyObject *unused);
PyObject *granule_aio_discard(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *granule_aio_write_zeroes(DeviceObject *self, PyObject *args, PyObject *kwds);
PyObject *granule_aio_block_status(DeviceObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *granule_aio_on_readable(DeviceObject *self, PyObject *unused);
/* Waits (GIL released) for every asyncio request in flight, settling its
 * future, then unregisters the completion fd from the loop. -1 with an
 * exception set only when Python calls failed in a way that matters. */
int granule_aio_shutdown(DeviceObject *self);
/* The module-level helpers _settle and _remove_reader (see _aio.c). */
extern PyMethodDef granule_aio_module_methods[];

#endif
