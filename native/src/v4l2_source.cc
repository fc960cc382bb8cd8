// Placeholder replaced by the V4L2 capture implementation.
#include "v4l2_source.h"
