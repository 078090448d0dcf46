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

// HmacSha256.signed_form is the order path's one call (a Binance order form encoded, signed and finished):
// a METH_FASTCALL method, because pybind11's dispatcher (overload resolution, argument casters) costs more
// on this path than the SHA-256 itself.
PyObject* signed_form(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3 || !PyDict_Check(args[0]) || !PyUnicode_Check(args[1]) || !PyUnicode_Check(args[2])) {
    PyErr_SetString(PyExc_TypeError, "signed_form(params: dict, tail: str, signature_name: str)");
    return nullptr;
  }
  // The method descriptor has already checked that self is an HmacSha256.
  auto* instance = reinterpret_cast<py::detail::instance*>(self);
  const auto* mac = static_cast<const HmacSha256*>(instance->get_value_and_holder().value_ptr());
  if (mac == nullptr) {
    PyErr_SetString(PyExc_ValueError, "HmacSha256 is not initialised");
    return nullptr;
  }
  // One buffer per thread, reused: the order path allocates nothing here once it has grown.
  thread_local std::string form;
  form.clear();
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  Py_ssize_t position = 0;
  while (PyDict_Next(args[0], &position, &key, &value)) {
    if (!form.empty()) form.push_back('&');
    if (!append_plain(form, key)) Py_RETURN_NONE;
    form.push_back('=');
    if (!append_plain(form, value)) Py_RETURN_NONE;
  }
  Py_ssize_t size = 0;
  const char* tail = PyUnicode_AsUTF8AndSize(args[1], &size);
  if (tail == nullptr) return nullptr;
  if (size > 0) {
    if (!form.empty()) form.push_back('&');
    form.append(tail, static_cast<std::size_t>(size));
  }
  char hex[64];
  mac->mac_hex({reinterpret_cast<const std::uint8_t*>(form.data()), form.size()}, hex);
  const char* name = PyUnicode_AsUTF8AndSize(args[2], &size);
  if (name == nullptr) return nullptr;
  form.push_back('&');
  form.append(name, static_cast<std::size_t>(size));
  form.push_back('=');
  form.append(hex, sizeof hex);
  return PyBytes_FromStringAndSize(form.data(), static_cast<Py_ssize_t>(form.size()));
}

PyMethodDef g_signed_form_def = {
    "signed_form", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&signed_form)), METH_FASTCALL,
    "signed_form($self, params, tail, signature_name)\n--\n\n"
    "`k=v&...&<tail>&<signature_name>=<hex MAC of everything before>` as bytes, in the dict's order,\n"
    "or None when a name or value is not a str of RFC 3986 unreserved characters (the caller then\n"
    "takes the general encoding path). `tail` is appended unchecked: it is the caller's own text."};

}  // namespace

void bind_signing(py::module_& m) {
  py::class_<HmacSha256> hmac_class(m, "HmacSha256",
                         "HMAC-SHA256 under one secret, with the key's pads hashed once (the core's implementation,\n"
                         "x86 SHA extensions when the CPU has them). The key is not kept, only the two pad states,\n"
                         "which are zeroed when the object is freed; repr shows nothing of them and pickling is refused.");
  hmac_class
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
      .def("__repr__", [](const HmacSha256&) { return std::string("<HmacSha256 key redacted>"); });
  PyObject* descriptor = PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(hmac_class.ptr()), &g_signed_form_def);
  if (descriptor == nullptr) throw py::error_already_set();
  hmac_class.attr("signed_form") = py::reinterpret_steal<py::object>(descriptor);
  m.def("sha256_uses_cpu_extensions", &fastcore::common::Sha256::uses_sha_extensions,
        "True when SHA-256 runs on the x86 SHA extensions (else a portable implementation).");
}

}  // namespace rentrade_bindings
