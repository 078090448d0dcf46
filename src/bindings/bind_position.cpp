// rentrade.Positions / rentrade.Position (positions and exact P&L from fills), the sizing primitives
// behind rentrade.sizing, and the in-core position-update latency loop.
#include <pybind11/native_enum.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "fastcore/perf/position_latency.hpp"
#include "fastcore/position/position_book.hpp"
#include "fastcore/risk/sizing.hpp"

namespace rentrade_bindings {
namespace {

using fastcore::common::Instrument;
using fastcore::common::Side;
using fastcore::position::Fill;
using fastcore::position::Liquidity;
using fastcore::position::Position;
using fastcore::position::PositionBook;
using fastcore::position::PositionError;
using fastcore::position::Totals;

/// Raised to Python as rentrade.PositionError (a ValueError).
struct PositionErrorException : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Positions and their instruments, shared by a Positions and every Position view into it.
struct PositionStore {
  PositionBook book;
  std::vector<Instrument> instruments;
  std::string quote;
};

struct PositionView {
  std::shared_ptr<PositionStore> store;
  std::uint32_t id;

  [[nodiscard]] Position position() const noexcept { return store->book[id]; }
  [[nodiscard]] const Instrument& instrument() const noexcept { return store->instruments[id]; }
};

/// Totals in the book's unit, as returned by Positions.totals().
struct PnlTotals {
  Totals totals;
  std::int32_t scale;
};

py::int_ to_pyint(__int128 value) {
  const std::string text = fastcore::common::format_scaled(value, 0);
  return py::reinterpret_steal<py::int_>(PyLong_FromString(text.c_str(), nullptr, 10));
}

__int128 from_pyint(const py::int_& value, const char* name) {
  const std::string text = py::str(value).cast<std::string>();
  __int128 out = 0;
  const bool negative = !text.empty() && text[0] == '-';
  for (std::size_t i = negative ? 1 : 0; i < text.size(); ++i) {
    if (__builtin_mul_overflow(out, 10, &out) || __builtin_add_overflow(out, text[i] - '0', &out)) {
      throw py::value_error(std::string(name) + " does not fit in 127 bits");
    }
  }
  return negative ? -out : out;
}

[[noreturn]] void raise_position(const Instrument* instrument, PositionError error, const std::string& context) {
  std::string message = context;
  if (instrument != nullptr) message += " (" + describe_instrument(*instrument) + ")";
  throw PositionErrorException(message + ": " + fastcore::position::describe(error));
}

Liquidity parse_liquidity(py::handle value) {
  if (PyLong_Check(value.ptr()) && !PyBool_Check(value.ptr())) {
    const long v = PyLong_AsLong(value.ptr());
    if (v == 0) return Liquidity::kMaker;
    if (v == 1) return Liquidity::kTaker;
    if (v == -1 && PyErr_Occurred()) PyErr_Clear();
  } else if (PyUnicode_Check(value.ptr())) {
    const auto text = value.cast<std::string>();
    if (text == "maker" || text == "MAKER") return Liquidity::kMaker;
    if (text == "taker" || text == "TAKER") return Liquidity::kTaker;
  }
  throw py::value_error("liquidity must be Liquidity.MAKER/TAKER, 0/1 or 'maker'/'taker', got " +
                        py::repr(value).cast<std::string>());
}

/// A fee in the quote currency, exactly in the instrument's notional units (negative = rebate).
std::int64_t fee_to_units(const Instrument& instrument, py::handle fee) {
  return money_to_units(fee, instrument.notional_decimals(), true, "fee", " for " + describe_instrument(instrument),
                        "notional");
}

/// Money of one instrument: tick-lots -> Decimal in the quote currency.
py::object tick_lots_to_decimal(const PositionStore& store, std::uint32_t id, __int128 tick_lots) {
  __int128 units = 0;
  if (store.book.try_to_notional(id, tick_lots, units) != PositionError::kOk) {
    raise_position(&store.instruments[id], PositionError::kOverflow, "money of position");
  }
  return make_decimal(units, store.instruments[id].notional_decimals());
}

bool apply_one(PositionStore& store, const Fill& fill, const char* context) {
  const PositionError error = store.book.try_apply_fill(fill);
  if (error == PositionError::kOk) return true;
  if (error == PositionError::kDuplicate) return false;
  const Instrument* instrument = fill.instrument_id < store.instruments.size() ? &store.instruments[fill.instrument_id] : nullptr;
  raise_position(instrument, error, context);
}

bool apply_fill(PositionStore& store, std::uint32_t id, py::handle side, std::int64_t px_ticks,
                std::int64_t qty_lots, std::uint64_t trade_id, py::handle fee, py::handle liquidity,
                std::int64_t ts_ns) {
  const Instrument& instrument = store.instruments[id];
  const Fill fill{ts_ns,    px_ticks, qty_lots, fee_to_units(instrument, fee), trade_id, id, parse_side(side),
                  parse_liquidity(liquidity), store.book.venue_of(id), 0};
  return apply_one(store, fill, "fill refused");
}

std::uint32_t checked_id(const PositionStore& store, std::int64_t id) {
  if (id < 0 || static_cast<std::size_t>(id) >= store.instruments.size()) {
    throw py::index_error("instrument id " + std::to_string(id) + " out of range (0.." +
                          std::to_string(store.instruments.size() - 1) + ")");
  }
  return static_cast<std::uint32_t>(id);
}

py::object unrealized(const PositionView& v, std::optional<std::int64_t> mark) {
  std::int64_t px = 0;
  const bool has_mark = v.store->book.mark(v.id, px);
  if (mark) px = *mark;
  else if (!has_mark && v.position().net_lots() != 0) {
    raise_position(&v.instrument(), PositionError::kNoMark, "unrealized P&L");
  }
  __int128 tick_lots = 0;
  if (v.position().try_unrealized_tl(px, tick_lots) != PositionError::kOk) {
    raise_position(&v.instrument(), PositionError::kOverflow, "unrealized P&L");
  }
  return tick_lots_to_decimal(*v.store, v.id, tick_lots);
}

py::dtype fill_dtype() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage
      .call_once_and_store_result([] { return py::module_::import("rentrade.fills").attr("FILL_DTYPE"); })
      .get_stored()
      .cast<py::dtype>();
}

std::span<const Fill> fill_span(const py::array& fills) {
  if (fills.ndim() != 1) throw py::value_error("fills must be a 1-D array of rentrade.fills.FILL_DTYPE");
  if (!py::bool_(fills.dtype().attr("__eq__")(fill_dtype()))) {
    throw py::type_error("fills must have dtype rentrade.fills.FILL_DTYPE, got " +
                         py::str(fills.dtype()).cast<std::string>());
  }
  if (fills.shape(0) > 0 && fills.strides(0) != static_cast<py::ssize_t>(sizeof(Fill))) {
    throw py::value_error("fills must be C-contiguous (use numpy.ascontiguousarray)");
  }
  if (reinterpret_cast<std::uintptr_t>(fills.data()) % alignof(Fill) != 0) {
    throw py::value_error("fills must be 8-byte aligned (use rentrade.fills.empty_fills)");
  }
  return {static_cast<const Fill*>(fills.data()), static_cast<std::size_t>(fills.shape(0))};
}

std::shared_ptr<PositionStore> make_store(const std::vector<Instrument>& instruments, const py::object& quote,
                                          std::int64_t dedup_capacity) {
  if (instruments.empty()) throw py::value_error("Positions needs at least one instrument");
  if (instruments.size() > UINT32_MAX) throw py::value_error("too many instruments");
  if (dedup_capacity < 1 || dedup_capacity > PositionBook::kMaxDedupCapacity) {
    throw py::value_error("dedup_capacity must be between 1 and " + std::to_string(PositionBook::kMaxDedupCapacity) +
                          ", got " + std::to_string(dedup_capacity));
  }
  std::vector<std::string> quotes;
  if (py::isinstance<py::str>(quote)) {
    quotes.assign(instruments.size(), quote.cast<std::string>());
  } else if (!quote.is_none()) {
    quotes = quote.cast<std::vector<std::string>>();
    if (quotes.size() != instruments.size()) {
      throw py::value_error("quote: " + std::to_string(quotes.size()) + " currencies for " +
                            std::to_string(instruments.size()) + " instruments");
    }
  }
  auto store = std::make_shared<PositionStore>();
  const PositionError error =
      store->book.try_init(instruments, quotes, static_cast<std::uint32_t>(dedup_capacity));
  if (error == PositionError::kMixedQuote) {
    std::string seen;
    for (const std::string& q : quotes) {
      if (seen.find("'" + q + "'") == std::string::npos) seen += (seen.empty() ? "'" : ", '") + q + "'";
    }
    throw PositionErrorException("instruments are quoted in " + seen +
                                 ": totals only add one quote currency; make one Positions per currency");
  }
  if (error != PositionError::kOk) raise_position(nullptr, error, "Positions");
  store->instruments = instruments;
  store->quote = quotes.empty() ? std::string() : quotes.front();
  return store;
}

constexpr const char* kApplyFillDoc =
    "Applies one of our fills: side BID/'buy' or ASK/'sell', price in ticks, quantity in lots (> 0),\n"
    "the venue's trade id (!= 0), the fee in the quote currency (str/Decimal/int; negative = rebate).\n"
    "Returns False, changing nothing, when this trade id of this instrument was already applied.\n"
    "Raises PositionError on a refused fill (nothing changes).";

// ---- sizing ----

using fastcore::risk::Ratio;
using fastcore::risk::SizingError;

Ratio parse_ratio(const std::string& text, const char* name) {
  Ratio out;
  const SizingError error = fastcore::risk::try_parse_ratio(text, out);
  if (error != SizingError::kOk) {
    throw py::value_error(std::string(name) + " '" + text + "': " + fastcore::risk::describe(error));
  }
  return out;
}

void check_sizing(SizingError error) {
  if (error != SizingError::kOk) throw py::value_error(fastcore::risk::describe(error));
}

py::tuple ratio_tuple(Ratio r) { return py::make_tuple(to_pyint(r.num), to_pyint(r.den)); }

}  // namespace

void bind_position(py::module_& m) {
  py::register_exception<PositionErrorException>(m, "PositionError", PyExc_ValueError);

  py::native_enum<Liquidity>(m, "Liquidity", "enum.IntEnum", "Who provided the liquidity of a fill.")
      .value("MAKER", Liquidity::kMaker)
      .value("TAKER", Liquidity::kTaker)
      .finalize();

  m.def(
      "fill_layout",
      [] {
        py::dict layout;
#define RENTRADE_FIELD(name) layout[#name] = py::make_tuple(offsetof(Fill, name), sizeof(Fill::name))
        RENTRADE_FIELD(ts_ns);
        RENTRADE_FIELD(px_ticks);
        RENTRADE_FIELD(qty_lots);
        RENTRADE_FIELD(fee_units);
        RENTRADE_FIELD(trade_id);
        RENTRADE_FIELD(instrument_id);
        RENTRADE_FIELD(side);
        RENTRADE_FIELD(liquidity);
        RENTRADE_FIELD(venue_id);
        RENTRADE_FIELD(reserved);
#undef RENTRADE_FIELD
        return layout;
      },
      "Field name -> (byte offset, size) of the C++ fill record; rentrade.fills.FILL_DTYPE must match it.");

  py::class_<PnlTotals>(m, "PnlTotals", "P&L summed over instruments of one quote currency, as Decimals.")
      .def_property_readonly("realized", [](const PnlTotals& t) { return make_decimal(t.totals.realized, t.scale); })
      .def_property_readonly("maker_fees", [](const PnlTotals& t) { return make_decimal(t.totals.maker_fees, t.scale); })
      .def_property_readonly("taker_fees", [](const PnlTotals& t) { return make_decimal(t.totals.taker_fees, t.scale); })
      .def_property_readonly("fees",
                             [](const PnlTotals& t) {
                               return make_decimal(t.totals.maker_fees + t.totals.taker_fees, t.scale);
                             })
      .def_property_readonly("unrealized",
                             [](const PnlTotals& t) { return make_decimal(t.totals.unrealized, t.scale); })
      .def_property_readonly("net",
                             [](const PnlTotals& t) {
                               return make_decimal(t.totals.realized - t.totals.maker_fees - t.totals.taker_fees +
                                                       t.totals.unrealized,
                                                   t.scale);
                             })
      .def_property_readonly("traded_notional",
                             [](const PnlTotals& t) { return make_decimal(t.totals.traded, t.scale); })
      .def_property_readonly("fills", [](const PnlTotals& t) { return t.totals.fills; })
      .def_property_readonly("open_without_mark", [](const PnlTotals& t) { return t.totals.open_without_mark; })
      .def("__repr__", [](const PnlTotals& t) {
        const auto text = [&](__int128 v) { return fastcore::common::format_scaled(v, t.scale); };
        return "<PnlTotals realized=" + text(t.totals.realized) +
               " fees=" + text(t.totals.maker_fees + t.totals.taker_fees) + " unrealized=" + text(t.totals.unrealized) +
               " fills=" + std::to_string(t.totals.fills) + " open_without_mark=" +
               std::to_string(t.totals.open_without_mark) + ">";
      });

  py::class_<PositionView>(m, "Position",
                           "Position and exact P&L of one instrument. Money is a Decimal in the quote currency;\n"
                           "realized + unrealized always equals the cash ledger exactly.")
      .def(py::init([](const Instrument& instrument, const py::object& quote, std::int64_t dedup_capacity) {
             return PositionView{make_store({instrument}, quote, dedup_capacity), 0};
           }),
           py::arg("instrument"), py::arg("quote") = py::none(),
           py::arg("dedup_capacity") = PositionBook::kDefaultDedupCapacity)
      .def_property_readonly("instrument", [](const PositionView& v) { return v.instrument(); })
      .def_property_readonly("instrument_id", [](const PositionView& v) { return v.id; })
      .def("apply_fill",
           [](const PositionView& v, py::handle side, std::int64_t px_ticks, std::int64_t qty_lots,
              std::uint64_t trade_id, py::handle fee, py::handle liquidity, std::int64_t ts_ns) {
             return apply_fill(*v.store, v.id, side, px_ticks, qty_lots, trade_id, fee, liquidity, ts_ns);
           },
           py::arg("side"), py::arg("px_ticks"), py::arg("qty_lots"), py::kw_only(), py::arg("trade_id"),
           py::arg("fee") = 0, py::arg("liquidity") = Liquidity::kTaker, py::arg("ts_ns") = 0, kApplyFillDoc)
      .def_property_readonly("net_lots", [](const PositionView& v) { return v.position().net_lots(); },
                             "Signed position in lots: > 0 long, < 0 short.")
      .def_property_readonly("net_qty",
                             [](const PositionView& v) {
                               return fastcore::common::format_steps(v.position().net_lots(), v.instrument().lot);
                             })
      .def_property_readonly("cost_basis",
                             [](const PositionView& v) {
                               return tick_lots_to_decimal(*v.store, v.id, v.position().open_cost_tl());
                             },
                             "Exact cost of the open lots (quote currency; 0 when flat).")
      .def_property_readonly("avg_entry_px_ticks",
                             [](const PositionView& v) -> py::object {
                               if (v.position().net_lots() == 0) return py::none();
                               return py::float_(v.position().avg_entry_px_ticks());
                             },
                             "Average entry in ticks for display (a float); None when flat. The exact value\n"
                             "is cost_basis / net quantity.")
      .def_property_readonly("realized_pnl",
                             [](const PositionView& v) {
                               return tick_lots_to_decimal(*v.store, v.id, v.position().realized_tl());
                             },
                             "Realized P&L before fees.")
      .def_property_readonly("maker_fees",
                             [](const PositionView& v) {
                               return make_decimal(v.position().maker_fee_units(), v.instrument().notional_decimals());
                             })
      .def_property_readonly("taker_fees",
                             [](const PositionView& v) {
                               return make_decimal(v.position().taker_fee_units(), v.instrument().notional_decimals());
                             })
      .def_property_readonly("fees",
                             [](const PositionView& v) {
                               return make_decimal(v.position().maker_fee_units() + v.position().taker_fee_units(),
                                                   v.instrument().notional_decimals());
                             },
                             "Maker plus taker fees; negative when rebates exceed them.")
      .def_property_readonly("traded_notional",
                             [](const PositionView& v) {
                               return tick_lots_to_decimal(*v.store, v.id, v.position().traded_tl());
                             })
      .def_property_readonly("fills", [](const PositionView& v) { return v.position().fills(); })
      .def_property_readonly("mark_px_ticks",
                             [](const PositionView& v) -> py::object {
                               std::int64_t px = 0;
                               if (!v.store->book.mark(v.id, px)) return py::none();
                               return py::int_(px);
                             })
      .def("set_mark",
           [](const PositionView& v, std::int64_t px_ticks) {
             (void)v.store->book.try_set_mark(v.id, px_ticks);  // id checked by construction
           },
           py::arg("px_ticks"), "Sets the price unrealized P&L is measured at.")
      .def("unrealized_pnl", &unrealized, py::arg("mark_px_ticks") = py::none(),
           "Unrealized P&L at `mark_px_ticks` (default: the mark set with set_mark; PositionError when the\n"
           "position is open and there is none). 0 when flat.")
      .def("__repr__", [](const PositionView& v) {
        const Position& p = v.position();
        return "<Position " + describe_instrument(v.instrument()) +
               " net=" + fastcore::common::format_steps(p.net_lots(), v.instrument().lot) +
               " realized=" + py::str(tick_lots_to_decimal(*v.store, v.id, p.realized_tl())).cast<std::string>() +
               " fills=" + std::to_string(p.fills()) + ">";
      });

  py::class_<PositionStore, std::shared_ptr<PositionStore>>(
      m, "Positions",
      "Positions for many instruments of one quote currency, indexed by instrument id (position in the list),\n"
      "with duplicate fills recognised per venue and totals per venue and overall.")
      .def(py::init(&make_store), py::arg("instruments"), py::arg("quote") = py::none(),
           py::arg("dedup_capacity") = PositionBook::kDefaultDedupCapacity)
      .def("__len__", [](const PositionStore& s) { return s.instruments.size(); })
      .def("__getitem__",
           [](const std::shared_ptr<PositionStore>& s, std::int64_t id) {
             return PositionView{s, checked_id(*s, id)};
           })
      .def_property_readonly("instruments", [](const PositionStore& s) { return s.instruments; })
      .def_property_readonly("quote",
                             [](const PositionStore& s) -> py::object {
                               if (s.quote.empty()) return py::none();
                               return py::str(s.quote);
                             })
      .def_property_readonly("venues", [](const PositionStore& s) { return s.book.venues(); },
                             "Venue names; a venue's index is the venue_id its fills carry.")
      .def("venue_id", [](const PositionStore& s, std::int64_t instrument_id) {
             return s.book.venue_of(checked_id(s, instrument_id));
           }, py::arg("instrument_id"))
      .def_property_readonly("scale", [](const PositionStore& s) { return s.book.scale(); },
                             "Decimals of the totals' unit (the finest notional unit of the instruments).")
      .def_property_readonly("duplicates", [](const PositionStore& s) { return s.book.duplicates(); },
                             "Fills ignored because their trade id was already applied.")
      .def("apply_fill",
           [](PositionStore& s, std::int64_t instrument_id, py::handle side, std::int64_t px_ticks,
              std::int64_t qty_lots, std::uint64_t trade_id, py::handle fee, py::handle liquidity,
              std::int64_t ts_ns) {
             return apply_fill(s, checked_id(s, instrument_id), side, px_ticks, qty_lots, trade_id, fee, liquidity,
                               ts_ns);
           },
           py::arg("instrument_id"), py::arg("side"), py::arg("px_ticks"), py::arg("qty_lots"), py::kw_only(),
           py::arg("trade_id"), py::arg("fee") = 0, py::arg("liquidity") = Liquidity::kTaker, py::arg("ts_ns") = 0,
           kApplyFillDoc)
      .def("apply_fills",
           [](PositionStore& s, const py::array& fills) {
             const std::span<const Fill> span = fill_span(fills);
             std::size_t applied = 0;
             for (std::size_t i = 0; i < span.size(); ++i) {
               const PositionError error = s.book.try_apply_fill(span[i]);
               if (error == PositionError::kOk) {
                 ++applied;
               } else if (error != PositionError::kDuplicate) {
                 const std::uint32_t id = span[i].instrument_id;
                 raise_position(id < s.instruments.size() ? &s.instruments[id] : nullptr, error,
                                "fill " + std::to_string(i) + " refused; fills before it were applied");
               }
             }
             return applied;
           },
           py::arg("fills"),
           "Applies a numpy array of rentrade.fills.FILL_DTYPE in order, in the core (no Python per fill).\n"
           "Duplicates are skipped; returns the number applied. fee_units are notional units.")
      .def("set_mark",
           [](PositionStore& s, std::int64_t instrument_id, std::int64_t px_ticks) {
             (void)s.book.try_set_mark(checked_id(s, instrument_id), px_ticks);
           },
           py::arg("instrument_id"), py::arg("px_ticks"))
      .def("totals",
           [](const PositionStore& s, const py::object& venue) {
             int venue_id = -1;
             if (!venue.is_none()) {
               const auto name = venue.cast<std::string>();
               const auto& venues = s.book.venues();
               const auto found = std::find(venues.begin(), venues.end(), name);
               if (found == venues.end()) throw py::key_error("no instrument on venue '" + name + "'");
               venue_id = static_cast<int>(found - venues.begin());
             }
             PnlTotals out{{}, s.book.scale()};
             const PositionError error = s.book.try_totals(venue_id, out.totals);
             if (error != PositionError::kOk) raise_position(nullptr, error, "totals");
             return out;
           },
           py::arg("venue") = py::none(),
           "Realized, fees, unrealized (at each instrument's mark) and traded notional, summed over one\n"
           "venue or all, exactly, in units of 10^-scale of the quote currency. Open positions without a\n"
           "mark are left out of unrealized and counted in open_without_mark.");

  m.def(
      "measure_position_update",
      [](PositionStore& store, const py::array& fills, int passes) {
        if (passes < 0) throw py::value_error("passes must be >= 0");
        const std::span<const Fill> span = fill_span(fills);
        const fastcore::common::CycleClock clock;
        PositionError error = PositionError::kOk;
        fastcore::perf::LatencyRun run = fastcore::perf::measure_position_update(store.book, span, passes, clock, error);
        if (error != PositionError::kOk) raise_position(nullptr, error, "measure_position_update: a fill was refused");
        return run;
      },
      py::arg("positions"), py::arg("fills"), py::arg("passes") = 3,
      "Applies `fills` to `positions` once with each fill timed alone in the core (duplicate check\n"
      "included; cycle counter, timer overhead subtracted), then `passes` times untimed for throughput\n"
      "(pass k xors k << 48 into the trade ids so nothing is a duplicate: ids must be < 2^48).");

  m.def(
      "sizing_kelly",
      [](const std::string& win_rate, const std::string& payoff) {
        Ratio out;
        check_sizing(fastcore::risk::try_kelly(parse_ratio(win_rate, "win rate"), parse_ratio(payoff, "payoff"), out));
        return ratio_tuple(out);
      },
      py::arg("win_rate"), py::arg("payoff"), "Kelly f* = p - (1 - p) / b as an exact (numerator, denominator).");
  m.def(
      "sizing_allocate",
      [](const std::string& capital, std::int64_t instruments, const std::string& win_rate, const std::string& payoff,
         const std::string& fraction) {
        fastcore::risk::Allocation out;
        check_sizing(fastcore::risk::try_allocate(parse_ratio(capital, "capital"), instruments,
                                                  parse_ratio(win_rate, "win rate"), parse_ratio(payoff, "payoff"),
                                                  parse_ratio(fraction, "fraction"), out));
        return py::make_tuple(ratio_tuple(out.kelly), ratio_tuple(out.capital_fraction), ratio_tuple(out.per_instrument),
                              fastcore::risk::describe(out.limit), out.limit == fastcore::risk::SizeLimit::kNone);
      },
      py::arg("capital"), py::arg("instruments"), py::arg("win_rate"), py::arg("payoff"), py::arg("fraction"),
      "(f*, fraction x f*, capital per instrument, limit text, has edge), ratios as (num, den).");
  m.def(
      "sizing_max_order",
      [](const Instrument& instrument, std::int64_t px_ticks, const py::int_& num, const py::int_& den) {
        const Ratio budget{from_pyint(num, "budget numerator"), from_pyint(den, "budget denominator")};
        if (budget.den <= 0) throw py::value_error("budget denominator must be > 0");
        fastcore::risk::OrderSize out;
        check_sizing(fastcore::risk::try_max_order(instrument, px_ticks, budget, out));
        return py::make_tuple(out.qty_lots, make_decimal(out.notional_units, instrument.notional_decimals()),
                              fastcore::risk::describe(out.limit), out.limit == fastcore::risk::SizeLimit::kNone);
      },
      py::arg("instrument"), py::arg("px_ticks"), py::arg("budget_num"), py::arg("budget_den"),
      "Largest order (lots, exact notional, limit text, ok) within a budget of num/den quote currency.");
}

}  // namespace rentrade_bindings
