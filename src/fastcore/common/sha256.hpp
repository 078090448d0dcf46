#pragma once
/// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for request signing on the order path.
///
/// Why in the core: every signed order passes through HMAC-SHA256 (Binance, Bybit, OKX), and the
/// order encoders of the hot path live in C++. The compression function uses the x86 SHA extensions
/// when the CPU has them (checked once at start) and a portable version otherwise; both are tested
/// against each other and against published vectors. HmacSha256 hashes the key's pads once, so a
/// message costs only its own blocks plus one outer block. No allocation anywhere.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace fastcore::common {

/// Incremental SHA-256. Cost: about 2 cycles/byte with SHA extensions, ~15 without.
class Sha256 {
 public:
  static constexpr std::size_t kBlockBytes = 64;
  static constexpr std::size_t kDigestBytes = 32;
  using Digest = std::array<std::uint8_t, kDigestBytes>;

  Sha256() noexcept { reset(); }
  /// Starts a new message.
  void reset() noexcept;
  /// Appends bytes to the message.
  void update(std::span<const std::uint8_t> data) noexcept;
  /// Pads the message and returns its digest; the object must be reset() before reuse.
  [[nodiscard]] Digest finish() noexcept;

  /// True when the x86 SHA extensions are used (for tests and the benchmark report).
  [[nodiscard]] static bool uses_sha_extensions() noexcept;
  /// Forces the portable compression function (tests compare both paths); returns the previous choice.
  static bool force_portable(bool portable) noexcept;

 private:
  std::array<std::uint32_t, 8> state_{};
  std::array<std::uint8_t, kBlockBytes> buffer_{};
  std::uint64_t total_bytes_ = 0;
  std::size_t buffered_ = 0;
};

/// HMAC-SHA256 under one key with the inner and outer pads hashed once. The key itself is not kept
/// (only the two hash states after the pads); the destructor zeroes them.
class HmacSha256 {
 public:
  explicit HmacSha256(std::span<const std::uint8_t> key) noexcept;
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  /// MAC of `message`. Cost: the message's blocks plus two (padding, outer hash).
  [[nodiscard]] Sha256::Digest mac(std::span<const std::uint8_t> message) const noexcept;
  /// MAC of `message` as 64 lowercase hex characters written to `out` (not NUL-terminated).
  void mac_hex(std::span<const std::uint8_t> message, char out[64]) const noexcept;

 private:
  Sha256 inner_;  ///< State after hashing key ^ ipad.
  Sha256 outer_;  ///< State after hashing key ^ opad.
};

}  // namespace fastcore::common
