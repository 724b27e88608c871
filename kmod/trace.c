// SPDX-License-Identifier: GPL-2.0
/* The l4u tracepoints (kmod/trace.h) are instantiated here. */
#include "l4u.h"

#define CREATE_TRACE_POINTS
#include "trace.h"
