// SHA-256 and HMAC-SHA256: published vectors (FIPS 180-4 examples, RFC 4231) on both compression paths,
// and the two paths against each other for every length across the padding boundaries, fed in pieces.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "fastcore/common/sha256.hpp"

using fastcore::common::HmacSha256;
using fastcore::common::Sha256;

namespace {

std::span<const std::uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string hex(const Sha256::Digest& digest) {
  std::string out;
  char buf[3];
  for (std::uint8_t b : digest) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

std::string sha256_hex(std::string_view text) {
  Sha256 sha;
  sha.update(bytes(text));
  return hex(sha.finish());
}

std::string hmac_hex(std::string_view key, std::string_view message) {
  HmacSha256 mac(bytes(key));
  char out[64];
  mac.mac_hex(bytes(message), out);
  return {out, 64};
}

void published_vectors() {
  CHECK_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK_EQ(sha256_hex(std::string(1000000, 'a')),
           "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // RFC 4231 test cases 1, 2 and 6 (a key longer than one block is hashed first).
  CHECK_EQ(hmac_hex(std::string(20, '\x0b'), "Hi There"),
           "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK_EQ(hmac_hex("Jefe", "what do ya want for nothing?"),
           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK_EQ(hmac_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
           "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Binance's published HMAC example (USD-M futures, POST /fapi/v1/order).
  CHECK_EQ(hmac_hex("2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
                    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000"
                    "&timestamp=1591702613943"),
           "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9");
}

void paths_agree_at_every_length() {
  std::string message;
  std::uint32_t x = 12345;
  for (int i = 0; i < 300; ++i) {
    x = x * 1103515245u + 12345u;
    message.push_back(static_cast<char>(x >> 24));
  }
  for (std::size_t len = 0; len <= message.size(); ++len) {
    const std::string_view part(message.data(), len);
    Sha256::force_portable(true);
    const std::string portable = sha256_hex(part);
    const std::string portable_mac = hmac_hex("k", part);
    Sha256::force_portable(false);
    CHECK_EQ(sha256_hex(part), portable);
    CHECK_EQ(hmac_hex("k", part), portable_mac);
    // Fed in uneven pieces, the digest is the same as in one go.
    Sha256 pieces;
    std::size_t at = 0;
    for (std::size_t step = 1; at < len; step = step * 3 % 67 + 1) {
      const std::size_t take = std::min(step, len - at);
      pieces.update(bytes(part.substr(at, take)));
      at += take;
    }
    CHECK_EQ(hex(pieces.finish()), portable);
  }
}

}  // namespace

int main() {
  const bool extensions = Sha256::uses_sha_extensions();
  std::printf("x86 SHA extensions: %s\n", extensions ? "used" : "not available");
  published_vectors();
  Sha256::force_portable(true);
  published_vectors();
  Sha256::force_portable(false);
  paths_agree_at_every_length();
  return report("test_sha256");
}
