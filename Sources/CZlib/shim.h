#ifndef GRIDLEDGER_CZLIB_SHIM_H
#define GRIDLEDGER_CZLIB_SHIM_H
#include <zlib.h>
#endif
