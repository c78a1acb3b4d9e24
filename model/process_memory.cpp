#include "process_memory.h"

#include <cstdlib>  // defines __GLIBC__ where glibc is the C library
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace facesr {

void keep_freed_memory() {
#if defined(__GLIBC__)
  constexpr int kMmapThreshold = 32 << 20;  // glibc's largest, for blocks that still get mapped
  constexpr int kTrimThreshold = 1 << 30;
  // Threads' own arenas still map blocks larger than their 64 MB heaps: fine for these sizes.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
#endif
}

}  // namespace facesr
