#pragma once
// Basic vocabulary of the Raft core: terms, indices, node ids, log entries.
// Everything here is plain data; nothing performs I/O.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace conflux::raft {

using Term = std::uint64_t;
using Index = std::uint64_t;
using NodeId = std::string;

/// Largest integer a JavaScript peer reads exactly (2^53 - 1). Terms and
/// indices never exceed it on the wire; the core refuses messages that do.
inline constexpr std::uint64_t max_wire_integer = (std::uint64_t{1} << 53) - 1;

/// The largest term a node adopts, persists or campaigns in. A term above
/// it would leave no term to campaign in that the wire could carry, so the
/// cluster could never elect a leader again. A node at max_term no longer
/// campaigns (a candidate there falls back to follower); honest elections
/// cannot get there (one term per election, a few per second, is 10^7
/// years). No single hostile or corrupt message can carry a node there
/// either (max_term_jump); a member that keeps sending such messages, about
/// 2^21 of them, is outside Raft's fault model and must be kept out by
/// authentication.
inline constexpr std::uint64_t max_term = max_wire_integer - 1;

/// How far ahead of the receiver's term a message's term may be. Terms grow
/// by one per election, so an honest peer is never 2^32 elections ahead of a
/// node, however long that node was away; a message that is, is hostile or
/// corrupt. Refusing it (which Raft treats as a lost message) means that no
/// single message can carry the cluster to max_term.
inline constexpr std::uint64_t max_term_jump = std::uint64_t{1} << 32;

enum class Role : std::uint8_t { follower, pre_candidate, candidate, leader };

std::string_view to_string(Role role);

/// What an entry means to the core. Only `normal` and `session` entries
/// reach the application; the others are Raft's own bookkeeping.
enum class EntryType : std::uint8_t {
  normal = 0,  ///< an application action (opaque payload)
  no_op = 1,   ///< appended by a new leader on election (Raft §8)
  /// A cluster configuration (thesis §4): its payload is the canonical
  /// encoding of a Configuration (membership.hpp). It takes effect as soon
  /// as it is appended (thesis §4.1).
  configuration = 2,
  /// An application entry within a client session (thesis §6.3): to the
  /// core exactly like `normal`; the application reads its payload.
  session = 3,
};
inline constexpr EntryType last_entry_type = EntryType::session;

std::string_view to_string(EntryType type);

/// Immutable, shared bytes. Copying a Payload copies a pointer, so an entry
/// can sit in the log, in a message and in a Ready at once without copying
/// its bytes. The core never looks inside.
///
/// One allocation holds the reference count, the size and the bytes (a
/// shared_ptr<const std::string> took two, and 48 bytes more per entry).
/// The count is atomic: a driver may hand payloads to a storage thread.
class Payload {
 public:
  Payload() = default;
  explicit Payload(std::string_view bytes);
  Payload(const Payload& other) noexcept : block_(other.block_) {
    if (block_) block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Payload(Payload&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  Payload& operator=(Payload other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~Payload() {
    if (block_) release();
  }

  std::string_view view() const {
    return block_ ? std::string_view(block_->bytes(), block_->size) : std::string_view();
  }
  std::size_t size() const { return block_ ? block_->size : 0; }
  bool empty() const { return size() == 0; }

  friend bool operator==(const Payload& a, const Payload& b) { return a.view() == b.view(); }

 private:
  // Followed in the same allocation by `size` bytes.
  struct Block {
    std::atomic<std::size_t> refs;
    std::size_t size;
    const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  };
  void release() noexcept;

  Block* block_ = nullptr;  // null for an empty payload
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::normal;
  Payload payload;

  friend bool operator==(const Entry&, const Entry&) = default;
};

/// The state Raft must persist before answering any message (Raft §5, Figure 2:
/// "Persistent state on all servers"). `commit` is persisted too, so that a
/// restarted node can re-apply its committed prefix before hearing a leader.
struct HardState {
  Term term = 0;
  NodeId vote;  ///< candidate voted for in `term`; empty when none
  Index commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};

}  // namespace conflux::raft
