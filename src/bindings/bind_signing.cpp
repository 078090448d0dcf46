// rentrade._fastcore.HmacSha256: the core's HMAC-SHA256 for request signing, and the one-call
// "encode a form, sign it, append the signature" path that a Binance order takes.
#include <Python.h>

#include <array>
#include <span>
#include <string>

#include "bindings.hpp"
#include "fastcore/common/sha256.hpp"

namespace rentrade_bindings {
namespace {

using fastcore::common::HmacSha256;

std::span<const std::uint8_t> as_bytes(const py::bytes& data) {
  char* buffer = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(data.ptr(), &buffer, &size) != 0) throw py::error_already_set();
  return {reinterpret_cast<const std::uint8_t*>(buffer), static_cast<std::size_t>(size)};
}

// RFC 3986 unreserved characters: the only ones a form may carry unescaped on the fast path.
constexpr std::array<bool, 256> kUnreserved = [] {
  std::array<bool, 256> table{};
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (char c : {'-', '.', '_', '~'}) table[static_cast<std::size_t>(static_cast<unsigned char>(c))] = true;
  return table;
}();

// Appends a str that needs no escaping; false (nothing promised about `out`) when it is not a str or
// holds anything but unreserved characters.
bool append_plain(std::string& out, PyObject* text) {
  if (!PyUnicode_Check(text)) return false;
  Py_ssize_t size = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(text, &size);
  if (utf8 == nullptr) {
    PyErr_Clear();  // e.g. a lone surrogate: the general path reports it properly
    return false;
  }
  for (Py_ssize_t i = 0; i < size; ++i) {
    if (!kUnreserved[static_cast<unsigned char>(utf8[i])]) return false;
  }
  out.append(utf8, static_cast<std::size_t>(size));
  return true;
}

}  // namespace

void bind_signing(py::module_& m) {
  py::class_<HmacSha256>(m, "HmacSha256",
                         "HMAC-SHA256 under one secret, with the key's pads hashed once (the core's implementation,\n"
                         "x86 SHA extensions when the CPU has them). The key is not kept, only the two pad states,\n"
                         "which are zeroed when the object is freed; repr shows nothing of them and pickling is refused.")
      .def(py::init([](const py::bytes& key) { return std::make_unique<HmacSha256>(as_bytes(key)); }), py::arg("key"))
      .def(
          "digest", [](const HmacSha256& mac, const py::bytes& message) {
            const auto digest = mac.mac(as_bytes(message));
            return py::bytes(reinterpret_cast<const char*>(digest.data()), digest.size());
          },
          py::arg("message"), "The 32-byte MAC of `message`.")
      .def(
          "hexdigest", [](const HmacSha256& mac, const py::bytes& message) {
            char out[64];
            mac.mac_hex(as_bytes(message), out);
            return py::str(out, sizeof out);
          },
          py::arg("message"), "The MAC of `message` as 64 lowercase hex characters.")
      .def(
          "signed_form",
          [](const HmacSha256& mac, const py::dict& params, const py::str& tail,
             const py::str& signature_name) -> py::object {
            // One buffer per thread, reused: the order path allocates nothing here once it has grown.
            thread_local std::string form;
            form.clear();
            PyObject* key = nullptr;
            PyObject* value = nullptr;
            Py_ssize_t position = 0;
            while (PyDict_Next(params.ptr(), &position, &key, &value)) {
              if (!form.empty()) form.push_back('&');
              if (!append_plain(form, key)) return py::none();
              form.push_back('=');
              if (!append_plain(form, value)) return py::none();
            }
            Py_ssize_t size = 0;
            const char* tail_utf8 = PyUnicode_AsUTF8AndSize(tail.ptr(), &size);
            if (tail_utf8 == nullptr) throw py::error_already_set();
            if (size > 0) {
              if (!form.empty()) form.push_back('&');
              form.append(tail_utf8, static_cast<std::size_t>(size));
            }
            char hex[64];
            mac.mac_hex({reinterpret_cast<const std::uint8_t*>(form.data()), form.size()}, hex);
            const char* name_utf8 = PyUnicode_AsUTF8AndSize(signature_name.ptr(), &size);
            if (name_utf8 == nullptr) throw py::error_already_set();
            form.push_back('&');
            form.append(name_utf8, static_cast<std::size_t>(size));
            form.push_back('=');
            form.append(hex, sizeof hex);
            return py::bytes(form.data(), form.size());
          },
          py::arg("params"), py::arg("tail"), py::arg("signature_name"),
          "`k=v&...&<tail>&<signature_name>=<hex MAC of everything before>` as bytes, in the dict's order,\n"
          "or None when a name or value is not a str of RFC 3986 unreserved characters (the caller then\n"
          "takes the general encoding path). `tail` is appended unchecked: it is the caller's own text.")
      .def("__repr__", [](const HmacSha256&) { return std::string("<HmacSha256 key redacted>"); });
  m.def("sha256_uses_cpu_extensions", &fastcore::common::Sha256::uses_sha_extensions,
        "True when SHA-256 runs on the x86 SHA extensions (else a portable implementation).");
}

}  // namespace rentrade_bindings
