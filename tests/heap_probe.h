// For tests of the malloc policy (model/process_memory.h): whether a fresh large block is mapped on
// its own (mmap) instead of taken from the main heap.
//
// Deterministic by construction (issue 15: a fixed 40 MB probe was flaky). With glibc's defaults a
// request is served from the heap whenever the heap already holds enough free memory, whatever the
// mmap threshold: after a training step the heap could hold more than 40 MB of freed tensors (glibc
// raises its trim threshold to 64 MB as soon as it raises its mmap threshold), so the probe then came
// from the heap and the "default maps large blocks" side failed at random. Here the block is larger
// than all free memory malloc holds in every arena (mallinfo2().fordblks) and than glibc's largest
// dynamic mmap threshold (32 MB on 64-bit), so the default policy can only map it; and the answer is
// read from the block's own chunk header (glibc's IS_MMAPPED bit), not from a process-wide counter
// that another thread could move meanwhile.
#pragma once

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace facesr::test {

inline bool large_block_is_mapped() {
  constexpr std::size_t kMinBytes = 40u << 20;
  const std::size_t bytes = std::max(kMinBytes, mallinfo2().fordblks + kMinBytes);
  void* volatile block = std::malloc(bytes);
  if (block == nullptr) std::abort();
  std::memset(block, 1, 4096);
  constexpr std::size_t kIsMmapped = 0x2;  // glibc malloc.c: the chunk was obtained with mmap
  const std::size_t chunk_size_field = static_cast<const std::size_t*>(block)[-1];
  const bool mapped = (chunk_size_field & kIsMmapped) != 0;
  std::free(block);
  return mapped;
}

}  // namespace facesr::test
