/* A shared library named like a driver that exports no granule_driver_entry:
 * the loader must say so, naming the file, and go on with the others. */
__attribute__((visibility("default"))) int granule_not_a_driver(void);

int granule_not_a_driver(void) { return 42; }
