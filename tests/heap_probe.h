// For tests of the malloc policy (model/process_memory.h): whether a fresh 40 MB block (more than
// glibc's largest mmap threshold) is mapped on its own instead of taken from the heap.
#pragma once

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace facesr::test {

inline bool large_block_is_mapped() {
  constexpr std::size_t kBytes = 40u << 20;
  const auto before = mallinfo2().hblks;  // blocks mapped now
  void* volatile block = std::malloc(kBytes);
  if (block == nullptr) std::abort();
  std::memset(block, 1, 4096);
  const bool mapped = mallinfo2().hblks > before;
  std::free(block);
  return mapped;
}

}  // namespace facesr::test
