// rentrade.OrderBook and rentrade.BookSet: the core's books, one shared store, views by instrument id.
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "book_store.hpp"
#include "fastcore/sim/synthetic_market.hpp"

namespace rentrade_bindings {

using fastcore::book::ApplyError;
using fastcore::book::Book;
using fastcore::book::BookSet;
using fastcore::book::QueryError;
using fastcore::common::Event;
using fastcore::common::Instrument;
using fastcore::common::Side;

namespace {

constexpr std::uint32_t kMaxLevelsLimit = 1'000'000;

std::uint32_t checked_max_levels(std::int64_t max_levels) {
  if (max_levels < 1 || max_levels > kMaxLevelsLimit) {
    throw py::value_error("max_levels must be between 1 and " + std::to_string(kMaxLevelsLimit) + ", got " +
                          std::to_string(max_levels));
  }
  return static_cast<std::uint32_t>(max_levels);
}

/// Basis points as the core's integer bps x 10^4; refuses NaN, infinities and negatives.
std::int64_t bps_to_e4(double bps) {
  if (!std::isfinite(bps) || bps < 0.0 || bps > 1e6) {
    throw py::value_error("bps must be a finite number between 0 and 1,000,000, got " + std::to_string(bps));
  }
  return std::llround(bps * 1e4);
}

[[noreturn]] void raise_apply(const OrderBookView& view, ApplyError error, std::size_t index) {
  throw BookErrorException("event " + std::to_string(index) + " refused by the " +
                           describe_instrument(view.instrument()) + " book: " + fastcore::book::describe(error) +
                           "; events before it were applied");
}

py::object best_or_none(const Book& book, Side side) {
  const auto level = book.best(side);
  if (!level) return py::none();
  return py::make_tuple(level->px_ticks, level->qty_lots);
}

std::int64_t level_value(const Instrument& instrument, py::handle value, bool is_price) {
  if (PyLong_Check(value.ptr()) && !PyBool_Check(value.ptr())) return value.cast<std::int64_t>();
  if (PyUnicode_Check(value.ptr())) {
    const auto text = value.cast<std::string_view>();
    return is_price ? price_to_ticks(instrument, text) : qty_to_lots(instrument, text);
  }
  if (PyFloat_Check(value.ptr())) {
    throw py::type_error(std::string("floats are not accepted for ") + (is_price ? "prices" : "quantities") +
                         " of " + describe_instrument(instrument) +
                         ": pass decimal strings or integer ticks/lots");
  }
  // decimal.Decimal and other numerics: their exact text.
  return level_value(instrument, py::str(value), is_price);
}

/// An int (not bool, not float) that fits int64, or a TypeError/OverflowError naming the argument.
std::int64_t exact_int64(py::handle value, const char* function, const char* name) {
  if (!PyLong_Check(value.ptr()) || PyBool_Check(value.ptr())) {
    throw py::type_error(std::string(function) + ": " + name + " must be an int, got " +
                         py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>());
  }
  int overflow = 0;
  const long long result = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow != 0) {
    PyErr_Clear();
    throw py::value_error(std::string(function) + ": " + name + " " + py::repr(value).cast<std::string>() +
                          " does not fit in int64");
  }
  return result;
}

std::vector<fastcore::book::Level> parse_levels(const Instrument& instrument, const py::handle& levels,
                                                const char* name) {
  std::vector<fastcore::book::Level> parsed;
  if (py::isinstance<py::array>(levels)) {
    const auto array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(levels);
    if (!array || array.ndim() != 2 || array.shape(1) != 2) {
      throw py::value_error(std::string(name) + " must be an integer array of shape (k, 2): ticks, lots");
    }
    parsed.reserve(static_cast<std::size_t>(array.shape(0)));
    const auto view = array.unchecked<2>();
    for (py::ssize_t i = 0; i < view.shape(0); ++i) parsed.push_back({view(i, 0), view(i, 1)});
  } else {
    for (const py::handle item : levels) {
      const auto pair = py::reinterpret_borrow<py::sequence>(item);
      if (py::len(pair) != 2) throw py::value_error(std::string("each of ") + name + " must be (price, qty)");
      parsed.push_back({level_value(instrument, pair[0], true), level_value(instrument, pair[1], false)});
    }
  }
  for (const auto& level : parsed) {
    if (level.qty_lots < 0) {
      throw BookErrorException(std::string("negative quantity in ") + name + " of the " +
                               describe_instrument(instrument) + " snapshot");
    }
    if (level.px_ticks == std::numeric_limits<std::int64_t>::min()) {
      throw BookErrorException(std::string("price out of range in ") + name + " of the " +
                               describe_instrument(instrument) + " snapshot");
    }
  }
  return parsed;
}

std::size_t apply_to_view(const OrderBookView& view, const py::array& events) {
  Book& book = view.book();
  std::size_t applied = 0;
  for_event_chunks(events, [&](std::span<const Event> chunk, std::size_t first) {
    const fastcore::book::BatchResult result = book.try_apply_batch(chunk, view.id);
    applied += result.applied;
    if (result.error == ApplyError::kUnknownBook) {
      const std::size_t i = result.applied;
      throw BookErrorException("event " + std::to_string(first + i) + " is for instrument_id " +
                               std::to_string(chunk[i].instrument_id) + ", but this book (" +
                               describe_instrument(view.instrument()) + ") has id " + std::to_string(view.id) +
                               "; events before it were applied");
    }
    if (result.error != ApplyError::kOk) raise_apply(view, result.error, first + result.applied);
    return true;
  });
  return applied;
}

py::array_t<std::int64_t> levels_array(const Book& book, Side side, std::size_t limit) {
  const auto& book_side = book.side(side);
  const std::size_t count = std::min(limit, book_side.size());
  py::array_t<std::int64_t> out({static_cast<py::ssize_t>(count), py::ssize_t{2}});
  auto view = out.mutable_unchecked<2>();
  py::ssize_t row = 0;
  book_side.for_each_level([&](fastcore::book::Level level) {
    if (static_cast<std::size_t>(row) == count) return false;
    view(row, 0) = level.px_ticks;
    view(row, 1) = level.qty_lots;
    ++row;
    return true;
  });
  return out;
}

[[noreturn]] void raise_query(const OrderBookView& view, QueryError error, const char* what) {
  const std::string name = describe_instrument(view.instrument());
  if (error == QueryError::kOverflow) throw py::value_error(std::string(what) + " overflows for " + name);
  throw py::value_error(std::string("invalid argument to ") + what + " for " + name);
}

/// Exact result of walking the book with a market order.
struct Impact {
  std::int64_t filled_lots;
  std::int64_t requested_lots;
  py::object notional;
  double avg_px_ticks;
  std::int64_t touch_px_ticks;
  std::int64_t worst_px_ticks;
  std::uint32_t levels;
  double slippage_bps;
};

// OrderBook.update_ticks is the per-call hot path: a METH_FASTCALL method that skips pybind11's
// dispatcher (overload resolution and argument casters cost ~200 ns). It handles the common valid call
// (three positional ints) itself and hands anything else - strings, keywords, invalid values - to
// _update_ticks_checked, which holds the one full implementation and raises the errors.
PyObject* g_update_ticks_checked = nullptr;  // unbound pybind11 function; lives as long as the module

PyObject* update_ticks_slow(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  constexpr Py_ssize_t kMaxArgs = 8;
  const Py_ssize_t total = nargs + (kwnames != nullptr ? PyTuple_GET_SIZE(kwnames) : 0);
  if (total + 1 > kMaxArgs) {
    PyErr_SetString(PyExc_TypeError, "update_ticks(side, px_ticks, qty_lots) takes 3 arguments");
    return nullptr;
  }
  PyObject* with_self[kMaxArgs];
  with_self[0] = self;
  for (Py_ssize_t i = 0; i < total; ++i) with_self[i + 1] = args[i];
  return PyObject_Vectorcall(g_update_ticks_checked, with_self, static_cast<std::size_t>(nargs + 1), kwnames);
}

PyObject* update_ticks_fast(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (nargs != 3 || kwnames != nullptr || !PyLong_CheckExact(args[1]) || !PyLong_CheckExact(args[2]) ||
      !PyLong_Check(args[0])) {
    return update_ticks_slow(self, args, nargs, kwnames);
  }
  // Each conversion reports overflow in its own flag: one shared flag would be reset by the next call.
  int side_overflow = 0;
  int px_overflow = 0;
  int qty_overflow = 0;
  const long side = PyLong_AsLongAndOverflow(args[0], &side_overflow);
  const long long px = PyLong_AsLongLongAndOverflow(args[1], &px_overflow);
  const long long qty = PyLong_AsLongLongAndOverflow(args[2], &qty_overflow);
  if ((side_overflow | px_overflow | qty_overflow) != 0 || (side != 0 && side != 1) || PyBool_Check(args[0])) {
    return update_ticks_slow(self, args, nargs, kwnames);
  }
  // The method descriptor has already checked that self is an OrderBook.
  auto* instance = reinterpret_cast<py::detail::instance*>(self);
  auto* view = static_cast<OrderBookView*>(instance->get_value_and_holder().value_ptr());
  if (view == nullptr) return update_ticks_slow(self, args, nargs, kwnames);
  if (view->book().try_set_level(static_cast<Side>(side), px, qty) != ApplyError::kOk) {
    return update_ticks_slow(self, args, nargs, kwnames);  // re-runs the check and raises the error
  }
  Py_RETURN_NONE;
}

PyMethodDef g_update_ticks_def = {
    "update_ticks", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&update_ticks_fast)),
    METH_FASTCALL | METH_KEYWORDS,
    "update_ticks($self, side, px_ticks, qty_lots)\n--\n\nSets a level in ticks and lots; 0 lots removes it. The\n"
    "per-call hot path (~tens of ns); side is Side.BID/ASK, 0/1 or 'bid'/'ask'."};

void add_update_ticks_fast_path(py::class_<OrderBookView>& cls) {
  g_update_ticks_checked = cls.attr("_update_ticks_checked").ptr();
  Py_INCREF(g_update_ticks_checked);  // kept for the process lifetime, like the type itself
  PyObject* descriptor = PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), &g_update_ticks_def);
  if (descriptor == nullptr) throw py::error_already_set();
  cls.attr("update_ticks") = py::reinterpret_steal<py::object>(descriptor);
}

}  // namespace

void bind_book(py::module_& m) {
  py::class_<Impact>(m, "Impact", "A market order walked through the book (result of OrderBook.impact).")
      .def_readonly("filled_lots", &Impact::filled_lots)
      .def_readonly("requested_lots", &Impact::requested_lots)
      .def_property_readonly("complete", [](const Impact& i) { return i.filled_lots == i.requested_lots; })
      .def_readonly("notional", &Impact::notional, "Exact notional of the fills in the quote currency.")
      .def_readonly("avg_px_ticks", &Impact::avg_px_ticks)
      .def_readonly("touch_px_ticks", &Impact::touch_px_ticks)
      .def_readonly("worst_px_ticks", &Impact::worst_px_ticks)
      .def_readonly("levels", &Impact::levels)
      .def_readonly("slippage_bps", &Impact::slippage_bps,
                    "Average fill price vs the touch, in bps (positive = worse); NaN if the touch is <= 0.")
      .def("__repr__", [](const Impact& i) {
        return "Impact(filled_lots=" + std::to_string(i.filled_lots) + ", requested_lots=" +
               std::to_string(i.requested_lots) + ", notional=" + py::str(i.notional).cast<std::string>() +
               ", avg_px_ticks=" + std::to_string(i.avg_px_ticks) + ", levels=" + std::to_string(i.levels) +
               ", slippage_bps=" + std::to_string(i.slippage_bps) + ")";
      });

  py::class_<OrderBookView> order_book(m, "OrderBook",
                            "L2 order book of one instrument in the compiled core. Prices are integer ticks and\n"
                            "quantities integer lots; decimal strings convert exactly through the instrument.");
  order_book
      .def(py::init([](const Instrument& instrument, std::int64_t max_levels) {
             return OrderBookView{
                 std::make_shared<BookStore>(std::vector<Instrument>{instrument}, checked_max_levels(max_levels)),
                 0};
           }),
           py::arg("instrument"), py::arg("max_levels") = Book::kDefaultMaxLevels)
      .def_property_readonly("instrument", [](const OrderBookView& v) { return v.instrument(); })
      .def_property_readonly("instrument_id", [](const OrderBookView& v) { return v.id; })
      .def_property_readonly("max_levels", [](const OrderBookView& v) { return v.book().bids().max_levels(); })
      .def(
          "apply_snapshot",
          [](const OrderBookView& v, const py::handle& bids, const py::handle& asks, std::optional<std::uint64_t> seq,
             std::optional<std::int64_t> ts_exchange_ns, std::optional<std::int64_t> ts_local_ns) {
            // Parse everything first: a bad level raises with the book untouched.
            const auto bid_levels = parse_levels(v.instrument(), bids, "bids");
            const auto ask_levels = parse_levels(v.instrument(), asks, "asks");
            Book& book = v.book();
            book.clear();
            for (const auto& level : bid_levels) (void)book.try_set_level(Side::kBid, level.px_ticks, level.qty_lots);
            for (const auto& level : ask_levels) (void)book.try_set_level(Side::kAsk, level.px_ticks, level.qty_lots);
            book.set_sequence(seq.value_or(0));
            book.set_timestamps(ts_exchange_ns.value_or(0), ts_local_ns.value_or(0));
          },
          py::arg("bids"), py::arg("asks"), py::arg("seq") = py::none(), py::arg("ts_exchange_ns") = py::none(),
          py::arg("ts_local_ns") = py::none(),
          "Replaces the book. Levels are (price, qty) pairs of decimal strings or integer ticks/lots, or an\n"
          "int64 array of shape (k, 2). Zero quantities are skipped. Atomic: on error the book is unchanged.")
      .def(
          "update",
          [](const OrderBookView& v, py::handle side, std::string_view price, std::string_view qty) {
            const Side parsed_side = parse_side(side);
            const std::int64_t px = price_to_ticks(v.instrument(), price);
            const std::int64_t lots = qty_to_lots(v.instrument(), qty);
            const ApplyError error = v.book().try_set_level(parsed_side, px, lots);
            if (error != ApplyError::kOk) raise_apply(v, error, 0);
          },
          py::arg("side"), py::arg("price"), py::arg("qty"),
          "Sets a level from decimal strings; quantity '0' removes it.")
      .def(
          "_update_ticks_checked",
          [](const OrderBookView& v, py::handle side, py::handle px, py::handle qty) {
            const std::int64_t px_ticks = exact_int64(px, "update_ticks", "px_ticks");
            const std::int64_t qty_lots = exact_int64(qty, "update_ticks", "qty_lots");
            const ApplyError error = v.book().try_set_level(parse_side(side), px_ticks, qty_lots);
            if (error != ApplyError::kOk) {
              throw BookErrorException("update_ticks(" + std::to_string(px_ticks) + ", " + std::to_string(qty_lots) +
                                       ") refused by the " + describe_instrument(v.instrument()) +
                                       " book: " + fastcore::book::describe(error));
            }
          },
          py::arg("side"), py::arg("px_ticks"), py::arg("qty_lots"),
          "update_ticks() with full argument handling and errors (its fallback).")
      .def("apply_events", &apply_to_view, py::arg("events"),
           "Applies an array of rentrade.events.EVENT_DTYPE in order (zero-copy). Every event must carry\n"
           "this book's instrument_id. Returns the number applied; raises BookError at the first bad one.")
      .def("clear", [](const OrderBookView& v) {
        v.book().clear();
        v.book().set_sequence(0);
      })
      .def("best_bid", [](const OrderBookView& v) { return best_or_none(v.book(), Side::kBid); })
      .def("best_ask", [](const OrderBookView& v) { return best_or_none(v.book(), Side::kAsk); })
      .def("mid", [](const OrderBookView& v) { return v.book().mid_ticks(); }, "Mid in ticks, or None.")
      .def("spread_ticks", [](const OrderBookView& v) { return v.book().spread_ticks(); })
      .def("microprice", [](const OrderBookView& v) { return v.book().microprice_ticks(); },
           "Size-weighted mid in ticks, or None.")
      .def(
          "levels",
          [](const OrderBookView& v, py::handle side, std::optional<std::int64_t> n) {
            if (n && *n < 0) throw py::value_error("n must be >= 0");
            return levels_array(v.book(), parse_side(side), n ? static_cast<std::size_t>(*n) : SIZE_MAX);
          },
          py::arg("side"), py::arg("n") = py::none(), "Top n levels (all if None), best first, shape (k, 2).")
      .def(
          "qty_at",
          [](const OrderBookView& v, py::handle side, std::int64_t px_ticks) {
            return v.book().side(parse_side(side)).qty_at(px_ticks);
          },
          py::arg("side"), py::arg("px_ticks"))
      .def(
          "depth_notional",
          [](const OrderBookView& v, double bps, py::handle side) -> py::object {
            bool bids = true;
            bool asks = true;
            if (!side.is_none()) {
              const Side chosen = parse_side(side);
              bids = chosen == Side::kBid;
              asks = chosen == Side::kAsk;
            }
            __int128 total = 0;
            const QueryError error = v.book().try_depth_notional(bps_to_e4(bps), bids, asks, total);
            if (error == QueryError::kEmptySide) return py::none();
            if (error != QueryError::kOk) raise_query(v, error, "depth_notional");
            __int128 scaled = 0;
            if (__builtin_mul_overflow(total, v.instrument().notional_factor(), &scaled)) {
              raise_query(v, QueryError::kOverflow, "depth_notional");
            }
            return make_decimal(scaled, v.instrument().notional_decimals());
          },
          py::arg("bps"), py::arg("side") = py::none(),
          "Exact notional (quote currency, Decimal) resting within +-bps of mid; None if a side is empty.")
      .def(
          "impact",
          [](const OrderBookView& v, py::handle side, py::handle qty) -> py::object {
            const std::int64_t lots = level_value(v.instrument(), qty, false);
            if (lots <= 0) throw py::value_error("impact needs a positive quantity");
            fastcore::book::ImpactResult result;
            const QueryError error = v.book().try_impact(parse_side(side), lots, result);
            if (error == QueryError::kEmptySide) return py::none();
            if (error != QueryError::kOk) raise_query(v, error, "impact");
            __int128 quote = 0;
            if (__builtin_mul_overflow(result.notional, v.instrument().notional_factor(), &quote)) {
              raise_query(v, QueryError::kOverflow, "impact");
            }
            const double avg = static_cast<double>(result.notional) / static_cast<double>(result.filled_lots);
            const double touch = static_cast<double>(result.touch_px);
            const bool buying = parse_side(side) == Side::kBid;
            const double slippage = result.touch_px <= 0 ? std::nan("")
                                                         : (buying ? avg - touch : touch - avg) / touch * 1e4;
            return py::cast(Impact{result.filled_lots, lots, make_decimal(quote, v.instrument().notional_decimals()),
                                   avg, result.touch_px, result.worst_px, result.levels, slippage});
          },
          py::arg("side"), py::arg("qty"),
          "Walks the book with a market order (side BID/'buy' takes asks); qty is a decimal string or lots.\n"
          "Returns an Impact, or None if the side it would take is empty.")
      .def(
          "max_qty_within",
          [](const OrderBookView& v, py::handle side, double bps) -> std::int64_t {
            std::int64_t lots = 0;
            const QueryError error = v.book().try_max_qty_within(parse_side(side), bps_to_e4(bps), lots);
            if (error == QueryError::kEmptySide) return 0;
            if (error != QueryError::kOk) raise_query(v, error, "max_qty_within");
            return lots;
          },
          py::arg("side"), py::arg("bps"),
          "Largest size in lots whose average fill price stays within bps of the touch (0 if empty).")
      .def("is_crossed", [](const OrderBookView& v) { return v.book().is_crossed(); })
      .def_property_readonly("seq", [](const OrderBookView& v) { return v.book().seq(); })
      .def_property_readonly("ts_exchange_ns", [](const OrderBookView& v) { return v.book().ts_exchange_ns(); })
      .def_property_readonly("ts_local_ns", [](const OrderBookView& v) { return v.book().ts_local_ns(); })
      .def_property_readonly("bid_levels", [](const OrderBookView& v) { return v.book().bids().size(); })
      .def_property_readonly("ask_levels", [](const OrderBookView& v) { return v.book().asks().size(); })
      .def_property_readonly("updates", [](const OrderBookView& v) { return v.book().updates(); })
      .def_property_readonly("dropped_levels", [](const OrderBookView& v) { return v.book().dropped_levels(); })
      .def("__repr__", [](const OrderBookView& v) {
        const Book& book = v.book();
        auto fmt = [&](Side side) -> std::string {
          const auto level = book.best(side);
          if (!level) return "None";
          return v.instrument().symbol.empty() ? "?" :
                 fastcore::common::format_steps(level->qty_lots, v.instrument().lot) + " @ " +
                 fastcore::common::format_steps(level->px_ticks, v.instrument().tick);
        };
        return "<OrderBook " + describe_instrument(v.instrument()) + " bid=" + fmt(Side::kBid) +
               " ask=" + fmt(Side::kAsk) + " levels=" + std::to_string(book.bids().size()) + "/" +
               std::to_string(book.asks().size()) + " seq=" + std::to_string(book.seq()) + ">";
      });

  add_update_ticks_fast_path(order_book);

  py::class_<BookStore, std::shared_ptr<BookStore>>(
      m, "BookSet", "Books for many instruments in one store, indexed by instrument id (position in the list).")
      .def(py::init([](const std::vector<Instrument>& instruments, std::int64_t max_levels) {
             if (instruments.empty()) throw py::value_error("BookSet needs at least one instrument");
             if (instruments.size() > UINT32_MAX) throw py::value_error("too many instruments");
             return std::make_shared<BookStore>(instruments, checked_max_levels(max_levels));
           }),
           py::arg("instruments"), py::arg("max_levels") = Book::kDefaultMaxLevels)
      .def("__len__", [](const BookStore& s) { return s.books.size(); })
      .def("__getitem__",
           [](const std::shared_ptr<BookStore>& s, std::int64_t id) {
             if (id < 0 || static_cast<std::size_t>(id) >= s->books.size()) {
               throw py::index_error("instrument id " + std::to_string(id) + " out of range (0.." +
                                     std::to_string(s->books.size() - 1) + ")");
             }
             return OrderBookView{s, static_cast<std::uint32_t>(id)};
           })
      .def_property_readonly("instruments", [](const BookStore& s) { return s.instruments; })
      .def(
          "apply_events",
          [](BookStore& s, const py::array& events) {
            std::size_t applied = 0;
            for_event_chunks(events, [&](std::span<const Event> chunk, std::size_t first) {
              const auto result = s.books.try_apply(chunk);
              applied += result.applied;
              if (result.error != ApplyError::kOk) {
                const Event& bad = chunk[result.applied];
                std::string where = bad.instrument_id < s.instruments.size()
                                        ? describe_instrument(s.instruments[bad.instrument_id])
                                        : "instrument_id " + std::to_string(bad.instrument_id);
                throw BookErrorException("event " + std::to_string(first + result.applied) + " refused (" + where +
                                         "): " + fastcore::book::describe(result.error) +
                                         "; events before it were applied");
              }
              return true;
            });
            return applied;
          },
          py::arg("events"), "Routes each event to its instrument's book, in order. Returns the count applied.");

  m.def(
      "synthetic_events",
      [](std::uint32_t instruments, std::size_t count, std::uint64_t seed, std::uint32_t snapshot_levels,
         std::uint32_t trade_one_in) {
        if (instruments == 0) throw py::value_error("instruments must be >= 1");
        if (snapshot_levels == 0 || snapshot_levels > 100'000) throw py::value_error("snapshot_levels must be 1..100000");
        if (trade_one_in == 0) throw py::value_error("trade_one_in must be >= 1");
        fastcore::sim::SyntheticMarketConfig config;
        config.instruments = instruments;
        config.seed = seed;
        config.snapshot_levels = snapshot_levels;
        config.trade_one_in = trade_one_in;
        fastcore::sim::SyntheticMarket market(config);
        py::array out = make_event_array(count);
        market.generate(std::span<Event>(static_cast<Event*>(out.mutable_data()), count));
        return out;
      },
      py::arg("instruments"), py::arg("count"), py::arg("seed") = 1, py::arg("snapshot_levels") = 500,
      py::arg("trade_one_in") = 10,
      "Deterministic synthetic market: `count` events (opening snapshots first, then deltas and trades)\n"
      "for `instruments` instruments with ids 0..instruments-1. Same seed, same bytes.");
}

}  // namespace rentrade_bindings
