// Specification of the framing (conflux/transport/frame.hpp): a 4-byte
// big-endian length, then the body. FrameDecoder reassembles frames from
// pieces of any size and refuses a bad length before the body arrives.
#include <doctest/doctest.h>

#include <conflux/transport/frame.hpp>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "support/allocation_probe.hpp"

using namespace conflux::transport;

// ------------------------------------------------------------ allocation probe
//
// The decoder must never allocate what a peer merely announces. To check it,
// this test binary replaces the global operator new and records the largest
// single request made while a probe is active.

using conflux::test::AllocationProbe;

// ------------------------------------------------------------ helpers

namespace {

std::string frame_of(std::string_view body) {
  std::string out;
  append_frame(out, body);
  return out;
}

std::string header_announcing(std::uint32_t size) {
  std::string header(frame_header_bytes, '\0');
  write_frame_header(header.data(), size);
  return header;
}

/// Takes every whole frame the decoder holds, copying each body.
std::vector<std::string> drain(FrameDecoder& decoder) {
  std::vector<std::string> bodies;
  while (auto body = decoder.next()) bodies.emplace_back(*body);
  return bodies;
}

}  // namespace

// ------------------------------------------------------------ encoding

TEST_CASE("a frame's header is the body length as 4 big-endian bytes") {
  const std::string body(0x0102, 'x');

  const auto frame = frame_of(body);

  REQUIRE(frame.size() == 4 + body.size());
  CHECK(frame.substr(0, 4) == std::string("\x00\x00\x01\x02", 4));
  CHECK(frame.substr(4) == body);
}

TEST_CASE("write_frame_header puts the most significant byte first") {
  CHECK(header_announcing(0x0A0B0C0D) == "\x0A\x0B\x0C\x0D");
  CHECK(header_announcing(0xFFFFFFFF) == "\xFF\xFF\xFF\xFF");
  CHECK(header_announcing(1) == std::string("\x00\x00\x00\x01", 4));
}

TEST_CASE("append_frame appends after what the buffer already holds") {
  std::string out = "abc";

  append_frame(out, "{}");

  CHECK(out == std::string("abc\x00\x00\x00\x02{}", 9));
}

// ------------------------------------------------------------ reassembly

TEST_CASE("a frame fed one byte at a time comes out whole with its last byte") {
  const std::string body = R"({"type":"welcome"})";
  const auto frame = frame_of(body);
  FrameDecoder decoder;

  for (std::size_t i = 0; i + 1 < frame.size(); ++i) {
    decoder.feed(frame.substr(i, 1));
    REQUIRE_FALSE(decoder.next().has_value());
  }
  decoder.feed(frame.substr(frame.size() - 1));
  const auto out = decoder.next();

  REQUIRE(out.has_value());
  CHECK(*out == body);
  CHECK_FALSE(decoder.error().has_value());
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("a partial header announces nothing; a whole header announces the body length") {
  const auto frame = frame_of("12345");
  FrameDecoder decoder;

  decoder.feed(frame.substr(0, 3));
  CHECK(decoder.announced() == 0);
  decoder.feed(frame.substr(3, 2));

  CHECK(decoder.announced() == 5);
  CHECK(decoder.buffered() == 5);
}

TEST_CASE("several frames in one feed come out in order") {
  const auto stream = frame_of("one") + frame_of("two") + frame_of("three");
  FrameDecoder decoder;

  decoder.feed(stream);

  CHECK(drain(decoder) == std::vector<std::string>{"one", "two", "three"});
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("a feed ending inside a frame yields the whole frames and keeps the rest") {
  const auto second = frame_of("second");
  FrameDecoder decoder;

  decoder.feed(frame_of("first") + second.substr(0, 6));
  const auto before = drain(decoder);
  decoder.feed(second.substr(6));
  const auto after = drain(decoder);

  CHECK(before == std::vector<std::string>{"first"});
  CHECK(after == std::vector<std::string>{"second"});
}

TEST_CASE("frames split at every possible point are reassembled identically") {
  const auto stream = frame_of("alpha") + frame_of("b") + frame_of(std::string(300, 'c'));

  for (std::size_t split = 1; split < stream.size(); ++split) {
    FrameDecoder decoder;
    std::vector<std::string> bodies;
    for (std::size_t at = 0; at < stream.size(); at += split) {
      decoder.feed(stream.substr(at, split));
      for (auto& body : drain(decoder)) bodies.push_back(std::move(body));
    }
    CHECK(bodies == std::vector<std::string>{"alpha", "b", std::string(300, 'c')});
  }
}

TEST_CASE("a long stream of small frames keeps the decoder's buffer small") {
  const auto frame = frame_of(R"({"type":"welcome"})");
  FrameDecoder decoder;
  AllocationProbe probe;

  std::size_t frames = 0;
  for (int i = 0; i < 10000; ++i) {
    decoder.feed(frame);
    while (decoder.next()) ++frames;
  }

  CHECK(frames == 10000);
  CHECK(decoder.buffered() == 0);
  CHECK(probe.largest() < 1024);
}

// ------------------------------------------------------------ limits and errors

TEST_CASE("a length over the limit is an error as soon as the header arrives") {
  FrameDecoder decoder(1000);

  decoder.feed(header_announcing(1001));

  CHECK_FALSE(decoder.next().has_value());
  CHECK(decoder.error() == FrameErrc::too_large);
  CHECK(decoder.announced() == 1001);
}

TEST_CASE("refusing an oversized length allocates nothing near the announced size") {
  FrameDecoder decoder;  // default limit: 16 MiB
  AllocationProbe probe;

  decoder.feed(header_announcing(1u << 30));
  decoder.feed("{\"type\":");
  const auto out = decoder.next();

  CHECK_FALSE(out.has_value());
  CHECK(decoder.error() == FrameErrc::too_large);
  CHECK(decoder.buffered() < 64);
  CHECK(probe.largest() < 1024);
}

TEST_CASE("waiting for a large frame holds only the bytes received so far") {
  FrameDecoder decoder;
  AllocationProbe probe;

  decoder.feed(header_announcing(default_max_frame_bytes));
  decoder.feed(std::string(100, 'x'));

  CHECK_FALSE(decoder.next().has_value());
  CHECK_FALSE(decoder.error().has_value());
  CHECK(decoder.buffered() == 104);
  CHECK(probe.largest() < 1024);
}

TEST_CASE("a frame of exactly the limit is accepted") {
  FrameDecoder decoder(8);

  decoder.feed(frame_of("12345678"));

  const auto out = decoder.next();
  REQUIRE(out.has_value());
  CHECK(*out == "12345678");
}

TEST_CASE("the default limit is 16 MiB") {
  CHECK(default_max_frame_bytes == 16u * 1024 * 1024);
  FrameDecoder decoder;

  decoder.feed(header_announcing(16u * 1024 * 1024 + 1));

  CHECK_FALSE(decoder.next().has_value());
  CHECK(decoder.error() == FrameErrc::too_large);
}

TEST_CASE("a zero-length frame is an error") {
  FrameDecoder decoder;

  decoder.feed(header_announcing(0) + frame_of("{}"));

  CHECK_FALSE(decoder.next().has_value());
  CHECK(decoder.error() == FrameErrc::empty);
}

TEST_CASE("a length of 0xFFFFFFFF is refused as too large") {
  FrameDecoder decoder;

  decoder.feed("\xFF\xFF\xFF\xFF");

  CHECK_FALSE(decoder.next().has_value());
  CHECK(decoder.error() == FrameErrc::too_large);
  CHECK(decoder.announced() == 0xFFFFFFFF);
}

TEST_CASE("after an error the decoder returns no more frames") {
  FrameDecoder decoder;
  decoder.feed(header_announcing(0));
  REQUIRE_FALSE(decoder.next().has_value());

  decoder.feed(frame_of("{}"));

  CHECK_FALSE(decoder.next().has_value());
  CHECK(decoder.error() == FrameErrc::empty);
}

TEST_CASE("frames before a bad length are still returned") {
  FrameDecoder decoder(100);

  decoder.feed(frame_of("ok") + header_announcing(101));

  const auto first = decoder.next();
  REQUIRE(first.has_value());
  CHECK(*first == "ok");
  CHECK_FALSE(decoder.next().has_value());
  CHECK(decoder.error() == FrameErrc::too_large);
}

TEST_CASE("raising the limit with set_max_frame_bytes admits a frame already buffered") {
  const std::string big(5000, 'x');
  FrameDecoder decoder(4096);  // the handshake limit
  decoder.feed(frame_of("hello") + frame_of(big));
  REQUIRE(decoder.next() == std::optional<std::string_view>("hello"));

  decoder.set_max_frame_bytes(default_max_frame_bytes);
  const auto out = decoder.next();

  REQUIRE(out.has_value());
  CHECK(*out == big);
  CHECK_FALSE(decoder.error().has_value());
}

TEST_CASE("lowering the limit with set_max_frame_bytes refuses a larger frame not yet returned") {
  FrameDecoder decoder;
  decoder.feed(frame_of(std::string(200, 'x')));

  decoder.set_max_frame_bytes(100);

  CHECK_FALSE(decoder.next().has_value());
  CHECK(decoder.error() == FrameErrc::too_large);
}

TEST_CASE("frame errors have readable names") {
  CHECK(to_string(FrameErrc::too_large) == "frame larger than the limit");
  CHECK(to_string(FrameErrc::empty) == "empty frame");
}
