#include "process_memory.h"

#include <cstdlib>  // defines __GLIBC__ where glibc is the C library
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace facesr {

bool keep_freed_memory() {
#if defined(__GLIBC__)
  constexpr int kMmapThreshold = 32 << 20;  // glibc's largest, for blocks that still get mapped
  constexpr int kTrimThreshold = 1 << 30;
  // Threads' own arenas still map blocks larger than their 64 MB heaps: fine for these sizes.
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 &&
         mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
#else
  return false;
#endif
}

}  // namespace facesr
