// whp_sample in C++: the same program, compiled as C++ (the WHP flag enums combine with | here
// only through DEFINE_ENUM_FLAG_OPERATORS). Build:
//   c++ whp_sample.cpp $(pkg-config --cflags --libs winhvplatform-win32)
#include "whp_sample.c"
