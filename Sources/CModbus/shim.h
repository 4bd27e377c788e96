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

// accept4 is a GNU extension the Glibc module does not declare; servers accept with it so a
// client's socket is close-on-exec from its first instant, never inherited by a process that
// another thread starts meanwhile.
#include <sys/socket.h>
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
#endif
