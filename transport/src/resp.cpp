#include "resp.hpp"

#include <hiredis/hiredis.h>

#include <stdexcept>

namespace conflux::transport::resp {
namespace {

Reply copy(const redisReply& from) {
  Reply to;
  switch (from.type) {
    case REDIS_REPLY_STRING:
      to.kind = Reply::Kind::string;
      break;
    case REDIS_REPLY_STATUS:
      to.kind = Reply::Kind::status;
      break;
    case REDIS_REPLY_ERROR:
      to.kind = Reply::Kind::error;
      break;
    case REDIS_REPLY_INTEGER:
      to.kind = Reply::Kind::integer;
      to.integer = from.integer;
      return to;
    case REDIS_REPLY_ARRAY:
      to.kind = Reply::Kind::array;
      for (std::size_t i = 0; i < from.elements; ++i) to.elements.push_back(copy(*from.element[i]));
      return to;
    default:
      return to;  // nil
  }
  to.text.assign(from.str, from.len);
  return to;
}

}  // namespace

std::string format(const std::vector<std::string_view>& args) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  for (const auto arg : args) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* command = nullptr;
  const int size = redisFormatCommandArgv(&command, static_cast<int>(args.size()), pointers.data(),
                                          lengths.data());
  if (size < 0) throw std::bad_alloc();
  std::string out(command, static_cast<std::size_t>(size));
  redisFreeCommand(command);
  return out;
}

struct Reader::Handle {
  redisReader* reader = redisReaderCreate();
  ~Handle() { redisReaderFree(reader); }
};

Reader::Reader() : handle_(std::make_unique<Handle>()) {
  if (!handle_->reader) throw std::bad_alloc();
}

Reader::~Reader() = default;

void Reader::feed(const char* data, std::size_t size) {
  if (redisReaderFeed(handle_->reader, data, size) != REDIS_OK)
    throw std::runtime_error(std::string("RESP: ") + handle_->reader->errstr);
}

std::optional<Reply> Reader::next() {
  void* raw = nullptr;
  if (redisReaderGetReply(handle_->reader, &raw) != REDIS_OK)
    throw std::runtime_error(std::string("not RESP: ") + handle_->reader->errstr);
  if (!raw) return std::nullopt;
  std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw),
                                                     freeReplyObject);
  return copy(*reply);
}

}  // namespace conflux::transport::resp
