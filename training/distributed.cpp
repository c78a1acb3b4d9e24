#include "distributed.h"

#include <cstdlib>
#include <stdexcept>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif
// Gloo: LibTorch declares ProcessGroupGloo only with USE_C10D_GLOO (its CMake config defines it),
// and the header needs gloo's own headers, which not every LibTorch ships.
#if defined(USE_C10D_GLOO) && __has_include(<gloo/context.h>)
#define FACESR_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#define FACESR_HAVE_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace facesr {

// LibTorch 1.x: ProcessGroupGloo/NCCL are ProcessGroups; from 2.0 on they are c10d::Backends (a
// ProcessGroup dispatches to them). Both offer the broadcast/allreduce/barrier used here.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct Distributed::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Collectives> group;
  std::string backend;
  torch::Device device{torch::kCPU};
};

namespace {

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  const long parsed = std::strtol(value, &end, 10);
  if (*end != '\0' || parsed < 0 || parsed > 65535)
    throw std::runtime_error(std::string("environment variable ") + name + "='" + value + "' is not a valid number");
  return static_cast<int>(parsed);
}

std::vector<torch::Tensor> tensors_of(torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors;
  for (auto& p : module.parameters()) tensors.push_back(p);
  for (auto& b : module.buffers()) tensors.push_back(b);
  return tensors;
}

}  // namespace

std::unique_ptr<Distributed> Distributed::from_environment(torch::Device device) {
  const int world = env_int("WORLD_SIZE", 1);
  if (world <= 1) return nullptr;
  const int rank = env_int("RANK", -1);
  if (rank < 0 || rank >= world)
    throw std::runtime_error("distributed training: RANK must be set to 0.." + std::to_string(world - 1) +
                             " when WORLD_SIZE=" + std::to_string(world));
  const char* addr = std::getenv("MASTER_ADDR");
  if (addr == nullptr || *addr == '\0')
    throw std::runtime_error("distributed training: set MASTER_ADDR (rank 0's address, e.g. 127.0.0.1)");
  const int port = env_int("MASTER_PORT", 29500);

  std::unique_ptr<Distributed> d(new Distributed());
  d->rank_ = rank;
  d->world_size_ = world;
  d->impl_ = std::make_unique<Impl>();
  d->impl_->device = device;
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(port);
    options.isServer = rank == 0;
    options.numWorkers = world;
    options.timeout = std::chrono::minutes(5);
    d->impl_->store = c10::make_intrusive<c10d::TCPStore>(addr, options);
#ifdef FACESR_HAVE_NCCL
    if (device.is_cuda()) {
      d->impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(d->impl_->store, rank, world);
      d->impl_->backend = "nccl";
      return d;
    }
#endif
    if (device.is_cuda())
      throw std::runtime_error("distributed training on CUDA needs NCCL, and this build has no NCCL (its LibTorch "
                               "lacks it, or its c10d NCCL headers were not found at build time)");
#ifdef FACESR_HAVE_GLOO
    auto gloo = c10d::ProcessGroupGloo::Options::create();
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(addr));
    d->impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(d->impl_->store, rank, world, gloo);
    d->impl_->backend = "gloo";
#else
    throw std::runtime_error("distributed training on the CPU needs a LibTorch built with Gloo (and its gloo/ "
                             "headers); this one has none. Train in one process (unset WORLD_SIZE).");
#endif
  } catch (const c10::Error& e) {
    throw std::runtime_error("distributed training: cannot join the process group at " + std::string(addr) + ":" +
                             std::to_string(port) + ": " + e.what_without_backtrace());
  }
  return d;
}

Distributed::~Distributed() = default;

std::string Distributed::backend() const { return impl_->backend; }

void Distributed::broadcast_module(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& t : tensors_of(module)) {
    std::vector<torch::Tensor> one{t.data()};
    impl_->group->broadcast(one)->wait();
  }
}

void Distributed::broadcast_buffers(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& b : module.buffers()) {
    std::vector<torch::Tensor> one{b};
    impl_->group->broadcast(one)->wait();
  }
}

void Distributed::average_gradients(torch::nn::Module& module) {
  std::vector<torch::Tensor> grads;
  for (auto& p : module.parameters())
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return;
  std::vector<torch::Tensor> flat{torch::cat([&] {
    std::vector<torch::Tensor> views;
    for (auto& g : grads) views.push_back(g.reshape({-1}));
    return views;
  }())};
  impl_->group->allreduce(flat)->wait();
  flat[0].div_(world_size_);
  int64_t offset = 0;
  for (auto& g : grads) {
    g.copy_(flat[0].slice(0, offset, offset + g.numel()).view_as(g));
    offset += g.numel();
  }
}

double Distributed::average(double value) {
  std::vector<torch::Tensor> t{torch::tensor({value}, torch::kFloat64)};
  impl_->group->allreduce(t)->wait();
  return t[0].item<double>() / world_size_;
}

bool Distributed::in_sync(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> views;
  for (auto& t : tensors_of(module)) views.push_back(t.detach().to(torch::kFloat64).reshape({-1}));
  const auto local = torch::cat(views);
  std::vector<torch::Tensor> high{local.clone()}, low{local.clone()};
  c10d::AllreduceOptions max_options, min_options;
  max_options.reduceOp = c10d::ReduceOp::MAX;
  min_options.reduceOp = c10d::ReduceOp::MIN;
  impl_->group->allreduce(high, max_options)->wait();
  impl_->group->allreduce(low, min_options)->wait();
  return torch::equal(high[0], low[0]);
}

void Distributed::barrier() { impl_->group->barrier()->wait(); }

}  // namespace facesr
