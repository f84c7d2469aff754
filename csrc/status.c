/* status.c — names for ifr_status codes. No state. */
#include "ifr.h"

const char *ifr_strstatus(int status) {
    switch (status) {
    case IFR_OK: return "ok";
    case IFR_TIMEOUT: return "timeout";
    case IFR_INTERRUPTED: return "interrupted";
    case IFR_CLOSED: return "closed";
    case IFR_NOMEM: return "out of memory";
    case IFR_EMPTY: return "empty";
    case IFR_INVALID: return "invalid argument";
    case IFR_OSERROR: return "operating system error";
    default: return "unknown status";
    }
}
