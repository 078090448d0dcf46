// rentrade.Risk (pre-trade risk checks, order lifecycle, kill switch, loss limits), its reason codes with
// readable messages, and the in-core risk-check latency loop.
#include <pybind11/native_enum.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "book_store.hpp"
#include "bindings.hpp"
#include "fastcore/perf/risk_latency.hpp"
#include "fastcore/risk/book_view.hpp"
#include "fastcore/risk/risk_check.hpp"

namespace rentrade_bindings {
namespace {

using fastcore::common::Instrument;
using fastcore::common::Side;
using fastcore::risk::InstrumentLimits;
using fastcore::risk::MarketView;
using fastcore::risk::OrderError;
using fastcore::risk::OrderRequest;
using fastcore::risk::RiskEngine;
using fastcore::risk::RiskReason;
using fastcore::risk::Scope;
using fastcore::risk::ScopeLimits;
using fastcore::risk::Throttle;
using fastcore::risk::TradingState;

/// Raised to Python as rentrade.RiskError (a ValueError): a refused lifecycle or configuration call.
struct RiskErrorException : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RiskStore {
  RiskStore() = default;
  /// A view of a RiskEngine owned by someone else (rentrade.Engine.risk): `owner` keeps it alive.
  RiskStore(RiskEngine& shared, std::vector<Instrument> list, py::object keep)
      : engine(shared), instruments(std::move(list)), owner(std::move(keep)) {}
  RiskEngine own;
  RiskEngine& engine = own;
  std::vector<Instrument> instruments;
  py::object owner;  ///< Set for a view (null otherwise): its lifecycle belongs to the owner.
};

/// Lifecycle and state calls on Engine.risk would bypass the engine's order table, positions and cancels.
void require_own(const RiskStore& s) {
  if (s.owner) {
    throw RiskErrorException(
        "this Risk is Engine.risk: the engine drives its orders, positions, P&L and states; use "
        "Engine.on_reports, Engine.set_state/halt and Engine.reset_day (limits may be set here)");
  }
}

void check_order(OrderError error, const std::string& context) {
  if (error != OrderError::kOk) throw RiskErrorException(context + ": " + fastcore::risk::describe(error));
}

std::uint32_t checked_id(const RiskStore& s, std::int64_t id) {
  if (id < 0 || static_cast<std::size_t>(id) >= s.instruments.size()) {
    throw py::index_error("instrument id " + std::to_string(id) + " out of range (0.." +
                          std::to_string(s.instruments.size() - 1) + ")");
  }
  return static_cast<std::uint32_t>(id);
}

std::uint32_t venue_id(const RiskStore& s, const py::handle& venue) {
  const auto& names = s.engine.venues();
  if (py::isinstance<py::str>(venue)) {
    const auto name = venue.cast<std::string>();
    const auto found = std::find(names.begin(), names.end(), name);
    if (found == names.end()) throw py::key_error("no instrument on venue '" + name + "'");
    return static_cast<std::uint32_t>(found - names.begin());
  }
  const auto id = venue.cast<std::int64_t>();
  if (id < 0 || static_cast<std::size_t>(id) >= names.size()) {
    throw py::index_error("venue id " + std::to_string(id) + " out of range");
  }
  return static_cast<std::uint32_t>(id);
}

/// (scope, id) from the optional instrument_id / venue keywords; neither means global.
std::pair<Scope, std::uint32_t> scope_of(const RiskStore& s, const std::optional<std::int64_t>& instrument_id,
                                         const py::object& venue) {
  if (instrument_id && !venue.is_none()) throw py::value_error("give instrument_id or venue, not both");
  if (instrument_id) return {Scope::kInstrument, checked_id(s, *instrument_id)};
  if (!venue.is_none()) return {Scope::kVenue, venue_id(s, venue)};
  return {Scope::kGlobal, 0};
}

/// Money in the quote currency -> exact units of the engine's 10^-scale.
std::int64_t to_money(const RiskStore& s, const py::handle& value, const char* name, bool allow_negative) {
  return money_to_units(value, s.engine.scale(), allow_negative, name, "", "money");
}

py::list to_list(const std::vector<std::uint64_t>& ids) {
  py::list out;
  for (std::uint64_t id : ids) out.append(id);
  return out;
}

OrderRequest make_request(const RiskStore& s, std::int64_t instrument_id, py::handle side, std::int64_t px_ticks,
                          std::int64_t qty_lots, std::int64_t ts_ns, bool reduce_only) {
  return OrderRequest{ts_ns, px_ticks, qty_lots, checked_id(s, instrument_id), parse_side(side), reduce_only};
}

const MarketView& market_or_empty(const std::optional<MarketView>& market) {
  static const MarketView kEmpty{};
  return market ? *market : kEmpty;
}

constexpr const char* kCheckDoc =
    "Checks one order without changing anything; returns a RiskReason (OK when it may be sent).\n"
    "side BID/'buy' or ASK/'sell', price in ticks, quantity in lots, ts_ns = now (refills throttles, ages\n"
    "the book). market describes the instrument's book; without it there is no mid, last trade or book\n"
    "timestamp, so collars refuse opening orders and a staleness threshold treats the book as stale.";

}  // namespace

py::object make_risk_view(RiskEngine& engine, const std::vector<Instrument>& instruments, py::object owner) {
  return py::cast(std::make_unique<RiskStore>(engine, instruments, std::move(owner)));
}

void bind_risk(py::module_& m) {
  py::register_exception<RiskErrorException>(m, "RiskError", PyExc_ValueError);

  py::native_enum<RiskReason> reason(m, "RiskReason", "enum.IntEnum",
                                     "Why the pre-trade risk check refused an order (OK: it may be sent).");
#define RENTRADE_REASON(py_name, member) reason.value(py_name, RiskReason::member)
  RENTRADE_REASON("OK", kOk);
  RENTRADE_REASON("UNKNOWN_INSTRUMENT", kUnknownInstrument);
  RENTRADE_REASON("GLOBAL_HALTED", kGlobalHalted);
  RENTRADE_REASON("VENUE_HALTED", kVenueHalted);
  RENTRADE_REASON("INSTRUMENT_HALTED", kInstrumentHalted);
  RENTRADE_REASON("BAD_QTY", kBadQty);
  RENTRADE_REASON("BAD_PRICE", kBadPrice);
  RENTRADE_REASON("QTY_BELOW_MIN", kQtyBelowMin);
  RENTRADE_REASON("QTY_ABOVE_MAX", kQtyAboveMax);
  RENTRADE_REASON("NOT_LOT_MULTIPLE", kNotLotMultiple);
  RENTRADE_REASON("NOT_TICK_MULTIPLE", kNotTickMultiple);
  RENTRADE_REASON("NOTIONAL_BELOW_MIN", kNotionalBelowMin);
  RENTRADE_REASON("NOTIONAL_ABOVE_MAX", kNotionalAboveMax);
  RENTRADE_REASON("GLOBAL_REDUCE_ONLY", kGlobalReduceOnly);
  RENTRADE_REASON("VENUE_REDUCE_ONLY", kVenueReduceOnly);
  RENTRADE_REASON("INSTRUMENT_REDUCE_ONLY", kInstrumentReduceOnly);
  RENTRADE_REASON("REDUCE_ONLY_WOULD_INCREASE", kReduceOnlyWouldIncrease);
  RENTRADE_REASON("BOOK_STALE", kBookStale);
  RENTRADE_REASON("BOOK_CROSSED", kBookCrossed);
  RENTRADE_REASON("BOOK_RESYNCING", kBookResyncing);
  RENTRADE_REASON("NO_REFERENCE_PRICE", kNoReferencePrice);
  RENTRADE_REASON("OUTSIDE_COLLAR_MID", kOutsideCollarMid);
  RENTRADE_REASON("OUTSIDE_COLLAR_LAST", kOutsideCollarLast);
  RENTRADE_REASON("SELF_TRADE", kSelfTrade);
  RENTRADE_REASON("MAX_LONG_POSITION", kMaxLongPosition);
  RENTRADE_REASON("MAX_SHORT_POSITION", kMaxShortPosition);
  RENTRADE_REASON("TOO_MANY_OPEN_ORDERS", kTooManyOpenOrders);
  RENTRADE_REASON("INSTRUMENT_GROSS_NOTIONAL", kInstrumentGrossNotional);
  RENTRADE_REASON("VENUE_GROSS_NOTIONAL", kVenueGrossNotional);
  RENTRADE_REASON("TOTAL_GROSS_NOTIONAL", kTotalGrossNotional);
  RENTRADE_REASON("INSTRUMENT_THROTTLED", kInstrumentThrottled);
  RENTRADE_REASON("VENUE_THROTTLED", kVenueThrottled);
  RENTRADE_REASON("ORDER_TABLE_FULL", kOrderTableFull);
  RENTRADE_REASON("DUPLICATE_ORDER_ID", kDuplicateOrderId);
#undef RENTRADE_REASON
  reason.finalize();
  static_assert(fastcore::risk::kRiskReasonCount == 34, "bind every RiskReason above");

  m.def(
      "describe_risk",
      [](RiskReason r) { return std::string(fastcore::risk::describe(r)); }, py::arg("reason"),
      "Readable message for a RiskReason.");
  // RiskReason.message: the same text as a property of each member.
  m.attr("RiskReason").attr("message") = py::module_::import("builtins").attr("property")(
      py::cpp_function([](RiskReason r) { return std::string(fastcore::risk::describe(r)); }));

  py::native_enum<TradingState>(m, "TradingState", "enum.IntEnum",
                                "Trading state of a scope; the effective state is the most restrictive in scope.")
      .value("ACTIVE", TradingState::kActive)
      .value("REDUCE_ONLY", TradingState::kReduceOnly)
      .value("HALTED", TradingState::kHalted)
      .finalize();

  py::class_<MarketView>(m, "MarketView", "What the risk check needs of one instrument's market, in ticks and ns.")
      .def(py::init([](std::optional<std::int64_t> bid, std::optional<std::int64_t> ask,
                       std::optional<std::int64_t> last, std::int64_t book_ts_local_ns, std::optional<bool> crossed,
                       bool resyncing) {
             MarketView v;
             v.has_bid = bid.has_value();
             v.bid_px_ticks = bid.value_or(0);
             v.has_ask = ask.has_value();
             v.ask_px_ticks = ask.value_or(0);
             v.has_last_trade = last.has_value();
             v.last_trade_px_ticks = last.value_or(0);
             v.book_ts_local_ns = book_ts_local_ns;
             v.crossed = crossed.value_or(bid && ask && *bid >= *ask);
             v.resyncing = resyncing;
             return v;
           }),
           py::kw_only(), py::arg("bid_px_ticks") = py::none(), py::arg("ask_px_ticks") = py::none(),
           py::arg("last_trade_px_ticks") = py::none(), py::arg("book_ts_local_ns") = 0,
           py::arg("crossed") = py::none(), py::arg("resyncing") = false,
           "Best bid/ask (None: side empty), last trade, the book's last local update time; crossed defaults\n"
           "to bid >= ask.")
      .def_static(
          "from_book",
          [](const OrderBookView& book, std::optional<std::int64_t> last_trade_px_ticks, bool resyncing) {
            return fastcore::risk::market_view(book.book(), last_trade_px_ticks, resyncing);
          },
          py::arg("book"), py::kw_only(), py::arg("last_trade_px_ticks") = py::none(), py::arg("resyncing") = false,
          "The view of an OrderBook now: best bid/ask, crossed and its ts_local_ns, plus the last trade and\n"
          "whether the caller is resynchronising it.")
      .def_readonly("book_ts_local_ns", &MarketView::book_ts_local_ns)
      .def_readonly("crossed", &MarketView::crossed)
      .def_readonly("resyncing", &MarketView::resyncing)
      .def_property_readonly("bid_px_ticks",
                             [](const MarketView& v) { return v.has_bid ? py::cast(v.bid_px_ticks) : py::none(); })
      .def_property_readonly("ask_px_ticks",
                             [](const MarketView& v) { return v.has_ask ? py::cast(v.ask_px_ticks) : py::none(); })
      .def_property_readonly("last_trade_px_ticks", [](const MarketView& v) {
        return v.has_last_trade ? py::cast(v.last_trade_px_ticks) : py::none();
      });

  py::class_<RiskStore>(m, "Risk",
                        "Pre-trade risk for instruments on one quote currency: checks, order lifecycle, kill\n"
                        "switch, throttles and loss limits. Money arguments are amounts of the quote currency\n"
                        "(str, Decimal or int; never float). Not thread-safe.")
      .def(py::init([](const std::vector<Instrument>& instruments, std::int64_t order_capacity) {
             if (order_capacity < 1 || order_capacity > RiskEngine::kMaxOrderCapacity) {
               throw py::value_error("order_capacity must be between 1 and " +
                                     std::to_string(RiskEngine::kMaxOrderCapacity));
             }
             if (instruments.empty()) throw py::value_error("Risk needs at least one instrument");
             auto store = std::make_unique<RiskStore>();
             check_order(store->engine.try_init(instruments, static_cast<std::uint32_t>(order_capacity)), "Risk");
             store->instruments = instruments;
             return store;
           }),
           py::arg("instruments"), py::arg("order_capacity") = 4096,
           "Instrument id = index in `instruments`; venues are grouped by Instrument.venue. Working orders\n"
           "(in flight + acked) live in a fixed table of order_capacity slots.")
      .def_property_readonly("scale", [](const RiskStore& s) { return s.engine.scale(); },
                             "Money unit of gross_notional: 10^-scale of the quote currency.")
      .def_property_readonly("venues", [](const RiskStore& s) { return s.engine.venues(); })
      .def_property_readonly("working_orders", [](const RiskStore& s) { return s.engine.working_orders(); })
      .def(
          "set_limits",
          [](RiskStore& s, std::int64_t instrument_id, std::int64_t min_qty_lots, std::int64_t max_qty_lots,
             std::int64_t qty_step_lots, std::int64_t px_step_ticks, const py::object& min_notional,
             const py::object& max_order_notional, std::int64_t collar_mid_bps, std::int64_t collar_last_bps,
             std::int64_t max_long_lots, std::int64_t max_short_lots, std::int64_t max_open_orders,
             const py::object& max_gross_notional, std::int64_t stale_after_ns, std::int64_t orders_per_s,
             std::int64_t burst) {
            const std::uint32_t id = checked_id(s, instrument_id);
            InstrumentLimits l;
            l.min_qty_lots = min_qty_lots;
            l.max_qty_lots = max_qty_lots;
            l.qty_step_lots = qty_step_lots;
            l.px_step_ticks = px_step_ticks;
            l.min_notional = to_money(s, min_notional, "min_notional", false);
            l.max_order_notional = to_money(s, max_order_notional, "max_order_notional", false);
            l.collar_mid_bps = collar_mid_bps;
            l.collar_last_bps = collar_last_bps;
            l.max_long_lots = max_long_lots;
            l.max_short_lots = max_short_lots;
            l.max_open_orders = max_open_orders;
            l.max_gross_notional = to_money(s, max_gross_notional, "max_gross_notional", false);
            l.stale_after_ns = stale_after_ns;
            l.throttle = Throttle{orders_per_s, burst};
            check_order(s.engine.try_set_limits(id, l), "set_limits (" + describe_instrument(s.instruments[id]) + ")");
          },
          py::arg("instrument_id"), py::kw_only(), py::arg("min_qty_lots") = 0, py::arg("max_qty_lots") = 0,
          py::arg("qty_step_lots") = 1, py::arg("px_step_ticks") = 1, py::arg("min_notional") = 0,
          py::arg("max_order_notional") = 0, py::arg("collar_mid_bps") = 0, py::arg("collar_last_bps") = 0,
          py::arg("max_long_lots") = 0, py::arg("max_short_lots") = 0, py::arg("max_open_orders") = 0,
          py::arg("max_gross_notional") = 0, py::arg("stale_after_ns") = 0, py::arg("orders_per_s") = 0,
          py::arg("burst") = 1,
          "Replaces the instrument's limits; 0 means no limit. The instrument's own min_qty and\n"
          "min_notional stay a floor. Throttle: a token bucket of `burst` orders refilled at orders_per_s.")
      .def(
          "set_venue_limits",
          [](RiskStore& s, const py::object& venue, const py::object& max_gross_notional,
             const py::object& daily_loss_reduce, const py::object& daily_loss_halt, const py::object& drawdown_reduce,
             const py::object& drawdown_halt, std::int64_t orders_per_s, std::int64_t burst) {
            ScopeLimits l;
            l.max_gross_notional = to_money(s, max_gross_notional, "max_gross_notional", false);
            l.daily_loss_reduce = to_money(s, daily_loss_reduce, "daily_loss_reduce", false);
            l.daily_loss_halt = to_money(s, daily_loss_halt, "daily_loss_halt", false);
            l.drawdown_reduce = to_money(s, drawdown_reduce, "drawdown_reduce", false);
            l.drawdown_halt = to_money(s, drawdown_halt, "drawdown_halt", false);
            l.throttle = Throttle{orders_per_s, burst};
            check_order(s.engine.try_set_venue_limits(venue_id(s, venue), l), "set_venue_limits");
          },
          py::arg("venue"), py::kw_only(), py::arg("max_gross_notional") = 0, py::arg("daily_loss_reduce") = 0,
          py::arg("daily_loss_halt") = 0, py::arg("drawdown_reduce") = 0, py::arg("drawdown_halt") = 0,
          py::arg("orders_per_s") = 0, py::arg("burst") = 1,
          "Limits of one venue (name or id); 0 means no limit. Loss limits apply to update_pnl(venue=...).")
      .def(
          "set_global_limits",
          [](RiskStore& s, const py::object& max_gross_notional, const py::object& daily_loss_reduce,
             const py::object& daily_loss_halt, const py::object& drawdown_reduce, const py::object& drawdown_halt) {
            ScopeLimits l;
            l.max_gross_notional = to_money(s, max_gross_notional, "max_gross_notional", false);
            l.daily_loss_reduce = to_money(s, daily_loss_reduce, "daily_loss_reduce", false);
            l.daily_loss_halt = to_money(s, daily_loss_halt, "daily_loss_halt", false);
            l.drawdown_reduce = to_money(s, drawdown_reduce, "drawdown_reduce", false);
            l.drawdown_halt = to_money(s, drawdown_halt, "drawdown_halt", false);
            check_order(s.engine.try_set_global_limits(l), "set_global_limits");
          },
          py::kw_only(), py::arg("max_gross_notional") = 0, py::arg("daily_loss_reduce") = 0,
          py::arg("daily_loss_halt") = 0, py::arg("drawdown_reduce") = 0, py::arg("drawdown_halt") = 0,
          "Limits over every instrument; 0 means no limit.")
      .def(
          "check",
          [](const RiskStore& s, std::int64_t instrument_id, py::handle side, std::int64_t px_ticks,
             std::int64_t qty_lots, std::int64_t ts_ns, bool reduce_only, const std::optional<MarketView>& market) {
            const OrderRequest r = make_request(s, instrument_id, side, px_ticks, qty_lots, ts_ns, reduce_only);
            return s.engine.try_check(r, market_or_empty(market)).reason;
          },
          py::arg("instrument_id"), py::arg("side"), py::arg("px_ticks"), py::arg("qty_lots"), py::arg("ts_ns"),
          py::kw_only(), py::arg("reduce_only") = false, py::arg("market") = py::none(), kCheckDoc)
      .def(
          "submit",
          [](RiskStore& s, std::uint64_t order_id, std::int64_t instrument_id, py::handle side, std::int64_t px_ticks,
             std::int64_t qty_lots, std::int64_t ts_ns, bool reduce_only, const std::optional<MarketView>& market) {
            require_own(s);
            const OrderRequest r = make_request(s, instrument_id, side, px_ticks, qty_lots, ts_ns, reduce_only);
            return s.engine.try_submit(order_id, r, market_or_empty(market)).reason;
          },
          py::arg("order_id"), py::arg("instrument_id"), py::arg("side"), py::arg("px_ticks"), py::arg("qty_lots"),
          py::arg("ts_ns"), py::kw_only(), py::arg("reduce_only") = false, py::arg("market") = py::none(),
          "check(), and when it returns OK records the order as sent (on_order_sent) under our order_id.")
      .def(
          "on_order_sent",
          [](RiskStore& s, std::uint64_t order_id, std::int64_t instrument_id, py::handle side, std::int64_t px_ticks,
             std::int64_t qty_lots, std::int64_t ts_ns) {
            require_own(s);
            const OrderRequest r = make_request(s, instrument_id, side, px_ticks, qty_lots, ts_ns, false);
            check_order(s.engine.on_order_sent(order_id, r), "order " + std::to_string(order_id));
          },
          py::arg("order_id"), py::arg("instrument_id"), py::arg("side"), py::arg("px_ticks"), py::arg("qty_lots"),
          py::arg("ts_ns"),
          "Records an order sent without submit(): it counts against limits and throttles from now on.")
      .def(
          "on_ack",
          [](RiskStore& s, std::uint64_t order_id) {
            require_own(s);
            check_order(s.engine.on_ack(order_id), "ack of order " + std::to_string(order_id));
          },
          py::arg("order_id"), "The venue accepted the order; it rests (it already counted in flight).")
      .def(
          "on_reject",
          [](RiskStore& s, std::uint64_t order_id) {
            require_own(s);
            check_order(s.engine.on_reject(order_id), "reject of order " + std::to_string(order_id));
          },
          py::arg("order_id"), "The venue refused the order; its exposure is released.")
      .def(
          "on_cancel",
          [](RiskStore& s, std::uint64_t order_id) {
            require_own(s);
            check_order(s.engine.on_cancel(order_id), "cancel of order " + std::to_string(order_id));
          },
          py::arg("order_id"), "The order is cancelled or expired; its remaining exposure is released.")
      .def(
          "on_fill",
          [](RiskStore& s, std::uint64_t order_id, std::int64_t px_ticks, std::int64_t qty_lots) {
            require_own(s);
            check_order(s.engine.on_fill(order_id, px_ticks, qty_lots), "fill of order " + std::to_string(order_id));
          },
          py::arg("order_id"), py::arg("px_ticks"), py::arg("qty_lots"),
          "A fill: exposure moves from the working order to the position (valued at the fill price).")
      .def(
          "set_position",
          [](RiskStore& s, std::int64_t instrument_id, std::int64_t net_lots, std::int64_t px_ticks) {
            require_own(s);
            check_order(s.engine.try_set_position(checked_id(s, instrument_id), net_lots, px_ticks), "set_position");
          },
          py::arg("instrument_id"), py::arg("net_lots"), py::arg("px_ticks"),
          "Sets the net position (e.g. from the venue at start-up) valued at px_ticks.")
      .def(
          "set_mark",
          [](RiskStore& s, std::int64_t instrument_id, std::int64_t px_ticks) {
            require_own(s);
            check_order(s.engine.try_set_mark(checked_id(s, instrument_id), px_ticks), "set_mark");
          },
          py::arg("instrument_id"), py::arg("px_ticks"), "Revalues the position's gross notional at px_ticks.")
      .def(
          "set_state",
          [](RiskStore& s, TradingState state, std::optional<std::int64_t> instrument_id, const py::object& venue) {
            require_own(s);
            const auto [scope, id] = scope_of(s, instrument_id, venue);
            std::vector<std::uint64_t> cancels;
            check_order(s.engine.try_set_state(scope, id, state, cancels), "set_state");
            return to_list(cancels);
          },
          py::arg("state"), py::kw_only(), py::arg("instrument_id") = py::none(), py::arg("venue") = py::none(),
          "Sets the trading state of an instrument, a venue, or (neither given) everything. HALTED returns\n"
          "the ids of working orders in scope, to cancel; otherwise an empty list.")
      .def(
          "halt",
          [](RiskStore& s, std::optional<std::int64_t> instrument_id, const py::object& venue) {
            require_own(s);
            const auto [scope, id] = scope_of(s, instrument_id, venue);
            std::vector<std::uint64_t> cancels;
            check_order(s.engine.try_set_state(scope, id, TradingState::kHalted, cancels), "halt");
            return to_list(cancels);
          },
          py::kw_only(), py::arg("instrument_id") = py::none(), py::arg("venue") = py::none(),
          "Kill switch: set_state(HALTED, ...); returns the working order ids to cancel.")
      .def(
          "state",
          [](const RiskStore& s, std::optional<std::int64_t> instrument_id, const py::object& venue) {
            const auto [scope, id] = scope_of(s, instrument_id, venue);
            return s.engine.state(scope, id);
          },
          py::kw_only(), py::arg("instrument_id") = py::none(), py::arg("venue") = py::none(),
          "The state set by set_state/halt at that scope (loss limits not included).")
      .def(
          "effective_state",
          [](const RiskStore& s, std::int64_t instrument_id) {
            return s.engine.effective_state(checked_id(s, instrument_id));
          },
          py::arg("instrument_id"),
          "Most restrictive of the global, venue and instrument states, loss limits included.")
      .def(
          "update_pnl",
          [](RiskStore& s, const py::object& day_pnl, const py::object& venue) {
            require_own(s);
            const Scope scope = venue.is_none() ? Scope::kGlobal : Scope::kVenue;
            const std::uint32_t id = venue.is_none() ? 0 : venue_id(s, venue);
            std::vector<std::uint64_t> cancels;
            check_order(s.engine.try_update_pnl(scope, id, to_money(s, day_pnl, "day_pnl", true), cancels),
                        "update_pnl");
            return to_list(cancels);
          },
          py::arg("day_pnl"), py::kw_only(), py::arg("venue") = py::none(),
          "Feeds the day's realized + unrealized P&L (quote currency) of everything or of a venue. A loss or\n"
          "drawdown limit moves the scope to REDUCE_ONLY, then HALTED, until reset_day(); returns the working\n"
          "order ids to cancel when it reaches HALTED.")
      .def(
          "loss_state",
          [](const RiskStore& s, const py::object& venue) {
            return venue.is_none() ? s.engine.loss_state(Scope::kGlobal, 0)
                                   : s.engine.loss_state(Scope::kVenue, venue_id(s, venue));
          },
          py::kw_only(), py::arg("venue") = py::none(), "State set by the loss limits of everything or a venue.")
      .def("reset_day", [](RiskStore& s) {
        require_own(s);
        s.engine.reset_day();
      },
           "New trading day: P&L peaks to 0, loss-driven states back to ACTIVE (set_state states stay).")
      .def(
          "net_lots", [](const RiskStore& s, std::int64_t id) { return s.engine.net_lots(checked_id(s, id)); },
          py::arg("instrument_id"), "Net position in lots from set_position and on_fill.")
      .def(
          "open_orders", [](const RiskStore& s, std::int64_t id) { return s.engine.open_orders(checked_id(s, id)); },
          py::arg("instrument_id"), "Working orders (in flight + acked) of the instrument.")
      .def(
          "working_lots",
          [](const RiskStore& s, std::int64_t id, py::handle side) {
            return s.engine.working_lots(checked_id(s, id), parse_side(side));
          },
          py::arg("instrument_id"), py::arg("side"), "Remaining lots of working orders on one side.")
      .def(
          "gross_notional",
          [](const RiskStore& s, std::optional<std::int64_t> instrument_id, const py::object& venue) {
            const auto [scope, id] = scope_of(s, instrument_id, venue);
            return make_decimal(s.engine.gross_notional(scope, id), s.engine.scale());
          },
          py::kw_only(), py::arg("instrument_id") = py::none(), py::arg("venue") = py::none(),
          "Positions at their mark plus working orders at their prices, as an exact Decimal.")
      .def(
          "is_working",
          [](const RiskStore& s, std::uint64_t order_id) {
            bool acked = false;
            return s.engine.find_order(order_id, acked);
          },
          py::arg("order_id"), "Whether the order is in flight or resting.");

  m.def(
      "measure_risk_check",
      [](const RiskStore& s, std::int64_t checks, std::uint64_t seed, int passes, std::int64_t mid_px_ticks,
         std::int64_t spread_ticks, std::int64_t max_qty_lots, std::int64_t ts_ns) {
        if (checks < 1 || passes < 0 || mid_px_ticks <= spread_ticks || spread_ticks < 1 || max_qty_lots < 1) {
          throw py::value_error("need checks >= 1, passes >= 0, spread_ticks >= 1, mid_px_ticks > spread_ticks, "
                                "max_qty_lots >= 1");
        }
        const auto n = static_cast<std::uint32_t>(s.instruments.size());
        std::vector<MarketView> markets(n);
        for (MarketView& v : markets) {
          v.bid_px_ticks = mid_px_ticks - spread_ticks / 2 - spread_ticks % 2;
          v.ask_px_ticks = mid_px_ticks + spread_ticks / 2;
          v.has_bid = v.has_ask = v.has_last_trade = true;
          v.last_trade_px_ticks = mid_px_ticks;
          v.book_ts_local_ns = ts_ns;
        }
        SeededRandom random(seed);
        const auto next = [&random] { return random.next(); };
        std::vector<OrderRequest> requests(static_cast<std::size_t>(checks));
        for (std::size_t i = 0; i < requests.size(); ++i) {
          OrderRequest& r = requests[i];
          r.instrument_id = static_cast<std::uint32_t>(next() % n);
          r.side = (next() & 1) != 0 ? Side::kAsk : Side::kBid;
          // Around mid within +-2 % (some outside any collar tighter than that).
          const auto range = static_cast<std::uint64_t>(mid_px_ticks / 50 + 1);
          r.px_ticks = mid_px_ticks - static_cast<std::int64_t>(range) + static_cast<std::int64_t>(next() % (2 * range + 1));
          r.qty_lots = 1 + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(max_qty_lots));
          r.ts_ns = ts_ns + static_cast<std::int64_t>(i) * 1000;
        }
        const fastcore::common::CycleClock clock;
        std::array<std::uint64_t, fastcore::risk::kRiskReasonCount> reasons{};
        fastcore::perf::LatencyRun run =
            fastcore::perf::measure_risk_check(s.engine, requests, markets, passes, clock, reasons);
        py::dict counts;
        for (int r = 0; r < fastcore::risk::kRiskReasonCount; ++r) {
          if (reasons[static_cast<std::size_t>(r)] != 0) {
            counts[py::cast(static_cast<RiskReason>(r))] = reasons[static_cast<std::size_t>(r)];
          }
        }
        return py::make_tuple(run, counts);
      },
      py::arg("risk"), py::arg("checks") = 200'000, py::kw_only(), py::arg("seed") = 1, py::arg("passes") = 3,
      py::arg("mid_px_ticks") = 600'000, py::arg("spread_ticks") = 2, py::arg("max_qty_lots") = 100,
      py::arg("ts_ns") = 1'700'000'000'000'000'000,
      "Times `checks` seeded random orders (random instrument and side, price within +-2 % of mid, 1..max\n"
      "lots, 1 us apart) through Risk.check one at a time in the core (cycle counter, timer overhead\n"
      "subtracted), against a fresh two-sided book at mid on every instrument, then `passes` times untimed\n"
      "for throughput. Checks only: the risk state does not change. Returns (LatencyRun, {RiskReason: count})\n"
      "so callers can see the checks exercised both sides.");
}

}  // namespace rentrade_bindings
