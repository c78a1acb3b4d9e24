// Process-wide malloc policy for LibTorch work on the CPU (glibc only; elsewhere a no-op).
//
// LibTorch allocates fresh tensors for every forward (and backward) pass. With glibc's defaults,
// blocks of 128 kB and more are mmap'ed and returned to the OS when freed, so every batch pays page
// faults again on the same sizes (10-25 % of the time here, perf). keep_freed_memory() makes malloc
// keep freed memory for reuse: no mmap for large blocks in the main heap (M_MMAP_MAX 0: glibc's
// largest mmap threshold, 32 MB, is below ngf 16's 33.5 MB buffers at batch 8) and no trimming. The
// process then keeps its peak heap. It cannot be undone, so callers make it an option
// (EngineOptions::keep_freed_memory, facesr-train --keep-freed-memory).
#pragma once

namespace facesr {

// Does nothing where malloc is not glibc's.
void keep_freed_memory();

}  // namespace facesr
