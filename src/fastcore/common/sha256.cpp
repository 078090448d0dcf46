#include "fastcore/common/sha256.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FASTCORE_SHA_X86 1
#endif

namespace fastcore::common {
namespace {

constexpr std::array<std::uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

constexpr std::array<std::uint32_t, 8> kInitial = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept { return (x >> n) | (x << (32 - n)); }

std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}

void compress_portable(std::uint32_t* state, const std::uint8_t* data, std::size_t blocks) noexcept {
  for (; blocks > 0; --blocks, data += Sha256::kBlockBytes) {
    std::array<std::uint32_t, 64> w{};
    for (std::size_t i = 0; i < 16; ++i) w[i] = load_be32(data + 4 * i);
    for (std::size_t i = 16; i < 64; ++i) {
      const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (std::size_t i = 0; i < 64; ++i) {
      const std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[i] + w[i];
      const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

#ifdef FASTCORE_SHA_X86
// The x86 SHA extensions keep the state as ABEF/CDGH halves and do two rounds per instruction; the
// message schedule of group g (4 rounds) finishes word group g+1 (msg2) and starts g+3 (msg1).
// Compiled for those instructions only here; called only when the CPU reports them.
__attribute__((target("sha,sse4.1"))) void compress_sha_ext(std::uint32_t* state, const std::uint8_t* data,
                                                            std::size_t blocks) noexcept {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));      // DCBA
  __m128i state1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));  // HGFE
  tmp = _mm_shuffle_epi32(tmp, 0xB1);                                           // CDAB
  state1 = _mm_shuffle_epi32(state1, 0x1B);                                     // EFGH
  __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);                             // ABEF
  state1 = _mm_blend_epi16(state1, tmp, 0xF0);                                  // CDGH

  for (; blocks > 0; --blocks, data += Sha256::kBlockBytes) {
    const __m128i abef_save = state0;
    const __m128i cdgh_save = state1;
    __m128i msg[4];
#pragma GCC unroll 16
    for (std::size_t g = 0; g < 16; ++g) {
      if (g < 4) {
        msg[g] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * g)), byte_swap);
      }
      const __m128i& cur = msg[g % 4];
      __m128i w = _mm_add_epi32(cur, _mm_loadu_si128(reinterpret_cast<const __m128i*>(&kRound[4 * g])));
      state1 = _mm_sha256rnds2_epu32(state1, state0, w);
      if (g >= 3 && g <= 14) {
        const __m128i carry = _mm_alignr_epi8(cur, msg[(g + 3) % 4], 4);
        msg[(g + 1) % 4] = _mm_sha256msg2_epu32(_mm_add_epi32(msg[(g + 1) % 4], carry), cur);
      }
      w = _mm_shuffle_epi32(w, 0x0E);
      state0 = _mm_sha256rnds2_epu32(state0, state1, w);
      if (g >= 1 && g <= 12) msg[(g + 3) % 4] = _mm_sha256msg1_epu32(msg[(g + 3) % 4], cur);
    }
    state0 = _mm_add_epi32(state0, abef_save);
    state1 = _mm_add_epi32(state1, cdgh_save);
  }

  tmp = _mm_shuffle_epi32(state0, 0x1B);        // FEBA
  state1 = _mm_shuffle_epi32(state1, 0xB1);     // DCHG
  state0 = _mm_blend_epi16(tmp, state1, 0xF0);  // DCBA
  state1 = _mm_alignr_epi8(state1, tmp, 8);     // HGFE
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), state0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), state1);
}

bool cpu_has_sha_extensions() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
}
#endif

using CompressFn = void (*)(std::uint32_t*, const std::uint8_t*, std::size_t) noexcept;

CompressFn choose_compress() noexcept {
#ifdef FASTCORE_SHA_X86
  if (cpu_has_sha_extensions()) return compress_sha_ext;
#endif
  return compress_portable;
}

// Chosen once at load; force_portable() switches it for tests (single-threaded use only).
CompressFn g_compress = choose_compress();

}  // namespace

void Sha256::reset() noexcept {
  state_ = kInitial;
  total_bytes_ = 0;
  buffered_ = 0;
}

void Sha256::update(std::span<const std::uint8_t> data) noexcept {
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  total_bytes_ += n;
  if (buffered_ > 0) {
    const std::size_t take = std::min(n, kBlockBytes - buffered_);
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take;
    p += take;
    n -= take;
    if (buffered_ < kBlockBytes) return;
    g_compress(state_.data(), buffer_.data(), 1);
    buffered_ = 0;
  }
  if (n >= kBlockBytes) {
    const std::size_t blocks = n / kBlockBytes;
    g_compress(state_.data(), p, blocks);
    p += blocks * kBlockBytes;
    n -= blocks * kBlockBytes;
  }
  if (n > 0) {
    std::memcpy(buffer_.data(), p, n);
    buffered_ = n;
  }
}

Sha256::Digest Sha256::finish() noexcept {
  const std::uint64_t bit_length = total_bytes_ * 8;
  buffer_[buffered_++] = 0x80;
  if (buffered_ > kBlockBytes - 8) {
    std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.end(), std::uint8_t{0});
    g_compress(state_.data(), buffer_.data(), 1);
    buffered_ = 0;
  }
  std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.end() - 8, std::uint8_t{0});
  for (std::size_t i = 0; i < 8; ++i) buffer_[kBlockBytes - 1 - i] = static_cast<std::uint8_t>(bit_length >> (8 * i));
  g_compress(state_.data(), buffer_.data(), 1);
  buffered_ = 0;
  Digest out{};
  for (std::size_t i = 0; i < 8; ++i) {
    out[4 * i] = static_cast<std::uint8_t>(state_[i] >> 24);
    out[4 * i + 1] = static_cast<std::uint8_t>(state_[i] >> 16);
    out[4 * i + 2] = static_cast<std::uint8_t>(state_[i] >> 8);
    out[4 * i + 3] = static_cast<std::uint8_t>(state_[i]);
  }
  return out;
}

bool Sha256::uses_sha_extensions() noexcept { return g_compress != compress_portable; }

bool Sha256::force_portable(bool portable) noexcept {
  const bool was_portable = g_compress == compress_portable;
  g_compress = portable ? compress_portable : choose_compress();
  return was_portable;
}

HmacSha256::HmacSha256(std::span<const std::uint8_t> key) noexcept {
  std::array<std::uint8_t, Sha256::kBlockBytes> pad{};
  if (key.size() > Sha256::kBlockBytes) {
    Sha256 long_key;
    long_key.update(key);
    const Sha256::Digest digest = long_key.finish();
    std::copy(digest.begin(), digest.end(), pad.begin());
  } else {
    std::copy(key.begin(), key.end(), pad.begin());
  }
  for (auto& b : pad) b ^= 0x36;
  inner_.update(pad);
  for (auto& b : pad) b ^= 0x36 ^ 0x5c;
  outer_.update(pad);
  std::fill(pad.begin(), pad.end(), std::uint8_t{0});
}

HmacSha256::~HmacSha256() {
  // The pad states are as good as the key for signing: do not leave them in freed memory.
  volatile std::uint8_t* p = reinterpret_cast<volatile std::uint8_t*>(this);
  for (std::size_t i = 0; i < sizeof(*this); ++i) p[i] = 0;
}

Sha256::Digest HmacSha256::mac(std::span<const std::uint8_t> message) const noexcept {
  Sha256 inner = inner_;
  inner.update(message);
  const Sha256::Digest inner_digest = inner.finish();
  Sha256 outer = outer_;
  outer.update(inner_digest);
  return outer.finish();
}

void HmacSha256::mac_hex(std::span<const std::uint8_t> message, char out[64]) const noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  const Sha256::Digest digest = mac(message);
  for (std::size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0x0f];
  }
}

}  // namespace fastcore::common
