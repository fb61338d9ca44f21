/* granule-test-exporter.dll: the DLL granule-driver-missingsym imports
 * from. It is built into a folder that no program searches, so loading the
 * plugin fails for want of it: the loader test's "cannot load" case. */
__declspec(dllexport) int granule_test_symbol_that_does_not_exist(void) { return 0; }
