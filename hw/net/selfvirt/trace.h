#include "trace/trace-hw_net_selfvirt.h"
