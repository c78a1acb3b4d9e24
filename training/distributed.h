// Data-parallel training across processes on PyTorch's c10d (Gloo on CPU; NCCL when this LibTorch
// has it and training runs on CUDA), started torchrun-style: every process gets RANK, WORLD_SIZE,
// MASTER_ADDR and MASTER_PORT in its environment. Without WORLD_SIZE (or with WORLD_SIZE=1) training
// is a single process and nothing here is used.
//
//   RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 facesr-train ... &
//   RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 facesr-train ...
//
// Contract used by the trainer: parameters are broadcast from rank 0 at start, every gradient is
// all-reduced (averaged) before each optimizer step, batch-norm buffers are broadcast from rank 0
// after each step, each rank takes its own slice of the global
// batch, and only rank 0 writes checkpoints, logs, samples and the exported model.
#pragma once

#include <memory>
#include <string>

#include <torch/torch.h>

namespace facesr {

class Distributed {
 public:
  // Reads the environment. Returns nullptr for a single-process run. Throws std::runtime_error
  // naming the variable when the environment is incomplete or inconsistent.
  static std::unique_ptr<Distributed> from_environment(torch::Device device);
  ~Distributed();

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  std::string backend() const;

  // Copies rank 0's parameters and buffers into every rank's module.
  void broadcast_module(torch::nn::Module& module);
  // Copies rank 0's buffers (batch-norm running statistics) to every rank, as PyTorch's DDP does
  // (broadcast_buffers): each rank's statistics come from its own slice of the batch.
  void broadcast_buffers(torch::nn::Module& module);
  // Replaces every gradient of `module` by its mean over the ranks (one flat all-reduce).
  void average_gradients(torch::nn::Module& module);
  // Mean of a scalar over the ranks (for logging).
  double average(double value);
  // True when every rank holds bit-identical parameters and buffers in `module`.
  bool in_sync(torch::nn::Module& module);
  void barrier();

 private:
  Distributed() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0;
  int world_size_ = 1;
};

}  // namespace facesr
