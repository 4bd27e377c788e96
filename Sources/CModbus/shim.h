#ifndef GRIDLEDGER_CMODBUS_SHIM_H
#define GRIDLEDGER_CMODBUS_SHIM_H
#include <modbus/modbus.h>
#include <modbus/modbus-rtu.h>
#include <modbus/modbus-tcp.h>

// libmodbus's error numbers are macros built from other macros, which Swift
// does not import; these constants carry them across unchanged.
static const int GL_MODBUS_ENOBASE = MODBUS_ENOBASE;
static const int GL_EMBBADCRC = EMBBADCRC;
static const int GL_EMBBADDATA = EMBBADDATA;
static const int GL_EMBBADEXC = EMBBADEXC;
static const int GL_EMBUNKEXC = EMBUNKEXC;
static const int GL_EMBMDATA = EMBMDATA;
static const int GL_EMBBADSLAVE = EMBBADSLAVE;
static const int GL_EMBXGTAR = EMBXGTAR;
#endif
