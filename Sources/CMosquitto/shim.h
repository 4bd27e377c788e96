#ifndef GRIDLEDGER_CMOSQUITTO_SHIM_H
#define GRIDLEDGER_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#endif
