#ifndef GRIDLEDGER_CSERIALPORT_SHIM_H
#define GRIDLEDGER_CSERIALPORT_SHIM_H
#include <libserialport.h>
#endif
