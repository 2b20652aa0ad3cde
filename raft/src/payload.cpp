#include <conflux/raft/types.hpp>
#include <cstring>
#include <new>

namespace conflux::raft {

Payload::Payload(std::string_view bytes) {
  if (bytes.empty()) return;
  void* memory = ::operator new(sizeof(Block) + bytes.size());
  block_ = new (memory) Block{{1}, bytes.size()};
  std::memcpy(static_cast<char*>(memory) + sizeof(Block), bytes.data(), bytes.size());
}

// acq_rel: the last owner must see every other owner's reads finished
// before it frees the bytes. Precondition: block_ is set.
void Payload::release() noexcept {
  if (block_->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const auto total = sizeof(Block) + block_->size;
  block_->~Block();
  ::operator delete(static_cast<void*>(block_), total);
  block_ = nullptr;
}

}  // namespace conflux::raft
