// GRANULE_API marks what libgranule exports: the public API of these headers
// and nothing else (the library is built with hidden visibility, so its
// internals and the Boost code it instantiates stay private to it).
#pragma once

#if defined(_WIN32)
#if defined(GRANULE_BUILDING_LIBRARY)
#define GRANULE_API __declspec(dllexport)
#else
#define GRANULE_API __declspec(dllimport)
#endif
#else
#define GRANULE_API __attribute__((visibility("default")))
#endif
