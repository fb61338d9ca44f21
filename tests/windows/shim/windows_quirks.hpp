// Force-included into every test built against the Qt Test stand-in.
// Windows headers define `far` and `near` as empty macros (16-bit leftovers)
// and min/max as macros; the tests use them as names (tst_tracking's `far`).
// Include the headers Asio would pull in first, in Asio's order (winsock2
// before windows.h) and with its NOMINMAX, then drop the macros: the include
// guards keep later includes from bringing them back.
#pragma once

#ifndef NOMINMAX
#define NOMINMAX 1
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#undef far
#undef near
#undef FAR
#undef NEAR
#define FAR
#define NEAR
