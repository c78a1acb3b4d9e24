// Distributed for a LibTorch whose c10d headers this project cannot compile against (see
// training/meson.build): a single-process run works as everywhere; asking for several processes
// fails at start with a message instead of training each rank alone.
#include "distributed.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace facesr {

struct Distributed::Impl {};

std::unique_ptr<Distributed> Distributed::from_environment(torch::Device) {
  const char* world = std::getenv("WORLD_SIZE");
  if (world == nullptr || *world == '\0' || std::string(world) == "1" || std::string(world) == "0") return nullptr;
  throw std::runtime_error(std::string("WORLD_SIZE=") + world +
                           " asks for multi-process training, but this facesr-train was built against a LibTorch "
                           "whose c10d headers did not compile (meson's configure log says why). Unset WORLD_SIZE "
                           "to train in one process, or build against Debian's libtorch-dev or a LibTorch that "
                           "ships its gloo headers.");
}

Distributed::~Distributed() = default;

namespace {
[[noreturn]] void unreachable() { throw std::logic_error("Distributed used in a build without multi-process training"); }
}  // namespace

std::string Distributed::backend() const { unreachable(); }
void Distributed::broadcast_module(torch::nn::Module&) { unreachable(); }
void Distributed::broadcast_buffers(torch::nn::Module&) { unreachable(); }
void Distributed::average_gradients(torch::nn::Module&) { unreachable(); }
double Distributed::average(double) { unreachable(); }
bool Distributed::in_sync(torch::nn::Module&) { unreachable(); }
void Distributed::barrier() { unreachable(); }

}  // namespace facesr
