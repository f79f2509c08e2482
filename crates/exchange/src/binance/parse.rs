//! Binance's wire format (the documented JSON shapes) and its conversion into domain types.
//!
//! Binance sends prices and quantities as decimal strings; they are parsed with `rust_decimal`
//! and never pass through floating point.

use std::{
    collections::{BTreeMap, HashMap},
    str::FromStr,
};

use alphapulse_domain::{
    Candle, ExchangeError, FuturesPosition, OrderAck, PositionSide, SpotBalance, Symbol,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::FuturesAssetBalance;

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// Parses one of Binance's decimal strings (plain, or scientific as a fallback).
pub(crate) fn decimal(field: &str, value: &str) -> Result<Decimal, ExchangeError> {
    Decimal::from_str(value)
        .or_else(|_| Decimal::from_scientific(value))
        .map_err(|_| ExchangeError::Other(format!("field {field}: {value:?} is not a decimal")))
}

/// A decimal where `0` means "not known" (Binance's liquidation price, average price, ...).
fn non_zero(field: &str, value: &str) -> Result<Option<Decimal>, ExchangeError> {
    decimal(field, value).map(|d| (!d.is_zero()).then_some(d))
}

fn millis(field: &str, ms: i64) -> Result<DateTime<Utc>, ExchangeError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| ExchangeError::Other(format!("field {field}: {ms} is not a timestamp")))
}

/// Binance's order status (`PARTIALLY_FILLED`) in the domain's spelling (`partially_filled`).
fn status(value: &str) -> String {
    value.to_ascii_lowercase()
}

/// Keeps the prices of the requested symbols.
fn select_prices<'a>(
    symbols: &[Symbol],
    rows: impl IntoIterator<Item = (&'a str, &'a str)>,
    field: &str,
) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
    let wanted: HashMap<&str, &Symbol> = symbols.iter().map(|s| (s.as_str(), s)).collect();
    let mut prices = BTreeMap::new();
    for (symbol, price) in rows {
        if let Some(requested) = wanted.get(symbol) {
            prices.insert((*requested).clone(), decimal(field, price)?);
        }
    }
    Ok(prices)
}

// ---------------------------------------------------------------------------------------------
// Spot
// ---------------------------------------------------------------------------------------------

/// `GET /api/v3/account` (the fields used).
#[derive(Debug, Deserialize)]
pub(crate) struct AccountDto {
    balances: Vec<BalanceDto>,
}

#[derive(Debug, Deserialize)]
struct BalanceDto {
    asset: String,
    free: String,
    locked: String,
}

/// Non-zero holdings (free + locked) other than `quote_asset`, each valued through
/// `ASSET + quote_asset`. Assets whose pair is not a valid symbol are skipped with a warning.
pub(crate) fn spot_balances(
    account: AccountDto,
    quote_asset: &str,
) -> Result<Vec<SpotBalance>, ExchangeError> {
    let mut balances = Vec::new();
    for balance in account.balances {
        if balance.asset == quote_asset {
            continue;
        }
        let quantity = decimal("free", &balance.free)? + decimal("locked", &balance.locked)?;
        if quantity.is_zero() {
            continue;
        }
        let pair = format!("{}{quote_asset}", balance.asset);
        let Ok(symbol) = Symbol::parse(&pair) else {
            tracing::warn!(asset = %balance.asset, "skipping a balance whose pair is not a valid symbol");
            continue;
        };
        balances.push(SpotBalance {
            symbol,
            asset: balance.asset,
            quantity,
            avg_price: None,
        });
    }
    Ok(balances)
}

/// The quote asset's balance (free + locked); zero when the account holds none.
pub(crate) fn quote_balance(
    account: &AccountDto,
    quote_asset: &str,
) -> Result<Decimal, ExchangeError> {
    let mut total = Decimal::ZERO;
    for balance in account.balances.iter().filter(|b| b.asset == quote_asset) {
        total += decimal("free", &balance.free)? + decimal("locked", &balance.locked)?;
    }
    Ok(total)
}

/// One element of `GET /api/v3/ticker/price`.
#[derive(Debug, Deserialize)]
pub(crate) struct TickerPriceDto {
    symbol: String,
    price: String,
}

/// The last prices of `symbols` (those the venue lists).
pub(crate) fn ticker_prices(
    symbols: &[Symbol],
    rows: &[TickerPriceDto],
) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
    select_prices(
        symbols,
        rows.iter().map(|r| (r.symbol.as_str(), r.price.as_str())),
        "price",
    )
}

/// `GET /api/v3/klines` rows: `[openTime, open, high, low, close, volume, closeTime, ...]`,
/// converted oldest first.
pub(crate) fn klines(symbol: &Symbol, rows: &[Vec<Value>]) -> Result<Vec<Candle>, ExchangeError> {
    let mut candles = rows
        .iter()
        .map(|row| kline(symbol, row))
        .collect::<Result<Vec<_>, _>>()?;
    candles.sort_by_key(|c| c.open_time);
    Ok(candles)
}

fn kline(symbol: &Symbol, row: &[Value]) -> Result<Candle, ExchangeError> {
    let malformed = |why: &str| ExchangeError::Other(format!("malformed kline: {why}"));
    if row.len() < 6 {
        return Err(malformed("fewer than 6 fields"));
    }
    let open_time = row[0]
        .as_i64()
        .ok_or_else(|| malformed("open time is not an integer"))?;
    let field = |index: usize, name: &str| -> Result<Decimal, ExchangeError> {
        let text = row[index]
            .as_str()
            .ok_or_else(|| malformed(&format!("{name} is not a string")))?;
        decimal(name, text)
    };
    Ok(Candle {
        symbol: symbol.clone(),
        open_time: millis("openTime", open_time)?,
        open: field(1, "open")?,
        high: field(2, "high")?,
        low: field(3, "low")?,
        close: field(4, "close")?,
        volume: field(5, "volume")?,
    })
}

/// `POST /api/v3/order` answer with `newOrderRespType=FULL` (the fields used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SpotOrderDto {
    symbol: String,
    order_id: i64,
    client_order_id: String,
    transact_time: i64,
    executed_qty: String,
    cummulative_quote_qty: String,
    status: String,
    #[serde(default)]
    fills: Vec<FillDto>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FillDto {
    price: String,
    qty: String,
    commission: String,
    commission_asset: String,
}

/// The ack of a spot order: the average price is the quantity-weighted mean of the fills (or
/// `cummulativeQuoteQty / executedQty` without fills), the fee the sum of the commissions in
/// `quote_asset`, commissions charged in the base asset being valued at their fill's price.
/// Commissions in a third asset (BNB) cannot be valued here: they are left out and logged.
pub(crate) fn spot_order_ack(
    order: SpotOrderDto,
    quote_asset: &str,
) -> Result<OrderAck, ExchangeError> {
    let base_asset = order.symbol.strip_suffix(quote_asset);
    let mut fill_qty = Decimal::ZERO;
    let mut fill_notional = Decimal::ZERO;
    let mut fee = Decimal::ZERO;
    for fill in &order.fills {
        let price = decimal("fills.price", &fill.price)?;
        let qty = decimal("fills.qty", &fill.qty)?;
        let commission = decimal("fills.commission", &fill.commission)?;
        fill_qty += qty;
        fill_notional += price * qty;
        if fill.commission_asset == quote_asset {
            fee += commission;
        } else if Some(fill.commission_asset.as_str()) == base_asset {
            fee += commission * price;
        } else if !commission.is_zero() {
            tracing::warn!(
                symbol = %order.symbol,
                asset = %fill.commission_asset,
                %commission,
                "commission in a third asset is not included in the fee"
            );
        }
    }
    let executed = decimal("executedQty", &order.executed_qty)?;
    let avg_price = if !fill_qty.is_zero() {
        Some((fill_notional / fill_qty).normalize())
    } else if !executed.is_zero() {
        Some((decimal("cummulativeQuoteQty", &order.cummulative_quote_qty)? / executed).normalize())
    } else {
        None
    };
    Ok(OrderAck {
        client_order_id: order.client_order_id,
        exchange_order_id: order.order_id.to_string(),
        status: status(&order.status),
        filled_quantity: executed,
        avg_price,
        fee,
        created_at: millis("transactTime", order.transact_time)?,
    })
}

// ---------------------------------------------------------------------------------------------
// USD-M futures
// ---------------------------------------------------------------------------------------------

/// One element of `GET /fapi/v2/positionRisk` (the fields used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PositionRiskDto {
    symbol: String,
    position_amt: String,
    entry_price: String,
    mark_price: String,
    leverage: String,
    liquidation_price: String,
}

/// Open positions: rows with a zero `positionAmt` are dropped, the sign gives the side (also in
/// hedge mode, where `SHORT` rows carry a negative amount), the quantity is absolute.
pub(crate) fn positions(rows: Vec<PositionRiskDto>) -> Result<Vec<FuturesPosition>, ExchangeError> {
    let mut positions = Vec::new();
    for row in rows {
        let amount = decimal("positionAmt", &row.position_amt)?;
        if amount.is_zero() {
            continue;
        }
        let Ok(symbol) = Symbol::parse(&row.symbol) else {
            tracing::warn!(symbol = %row.symbol, "skipping a position whose symbol is not valid");
            continue;
        };
        positions.push(FuturesPosition {
            symbol,
            side: if amount.is_sign_negative() {
                PositionSide::Short
            } else {
                PositionSide::Long
            },
            quantity: amount.abs(),
            entry_price: decimal("entryPrice", &row.entry_price)?,
            mark_price: non_zero("markPrice", &row.mark_price)?,
            leverage: decimal("leverage", &row.leverage)?,
            liquidation_price: non_zero("liquidationPrice", &row.liquidation_price)?,
        });
    }
    Ok(positions)
}

/// One element of `GET /fapi/v2/balance` (the fields used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FuturesBalanceDto {
    asset: String,
    balance: String,
    available_balance: String,
    cross_un_pnl: String,
}

/// Futures wallet balances, zero balances dropped.
pub(crate) fn futures_balances(
    rows: Vec<FuturesBalanceDto>,
) -> Result<Vec<FuturesAssetBalance>, ExchangeError> {
    let mut balances = Vec::new();
    for row in rows {
        let balance = decimal("balance", &row.balance)?;
        let cross_unrealized_pnl = decimal("crossUnPnl", &row.cross_un_pnl)?;
        if balance.is_zero() && cross_unrealized_pnl.is_zero() {
            continue;
        }
        balances.push(FuturesAssetBalance {
            asset: row.asset,
            balance,
            available_balance: decimal("availableBalance", &row.available_balance)?,
            cross_unrealized_pnl,
        });
    }
    Ok(balances)
}

/// One element of `GET /fapi/v1/premiumIndex` (the fields used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PremiumIndexDto {
    symbol: String,
    mark_price: String,
}

/// The mark prices of `symbols` (those the venue lists).
pub(crate) fn mark_prices(
    symbols: &[Symbol],
    rows: &[PremiumIndexDto],
) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
    select_prices(
        symbols,
        rows.iter()
            .map(|r| (r.symbol.as_str(), r.mark_price.as_str())),
        "markPrice",
    )
}

/// `POST /fapi/v1/order` answer with `newOrderRespType=RESULT` (the fields used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FuturesOrderDto {
    client_order_id: String,
    order_id: i64,
    executed_qty: String,
    avg_price: String,
    status: String,
    update_time: i64,
}

/// The ack of a futures order. The order endpoint does not report commissions, so `fee` is zero
/// (the fills' commissions are in `GET /fapi/v1/userTrades`).
pub(crate) fn futures_order_ack(order: FuturesOrderDto) -> Result<OrderAck, ExchangeError> {
    Ok(OrderAck {
        client_order_id: order.client_order_id,
        exchange_order_id: order.order_id.to_string(),
        status: status(&order.status),
        filled_quantity: decimal("executedQty", &order.executed_qty)?,
        avg_price: non_zero("avgPrice", &order.avg_price)?,
        fee: Decimal::ZERO,
        created_at: millis("updateTime", order.update_time)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn decimals_keep_their_scale_and_accept_scientific() {
        assert_eq!(
            decimal("x", "0.01634790").unwrap().to_string(),
            "0.01634790"
        );
        assert_eq!(decimal("x", "1e-8").unwrap(), d("0.00000001"));
        assert!(matches!(decimal("x", "abc"), Err(ExchangeError::Other(_))));
    }

    #[test]
    fn commission_in_base_asset_is_valued_at_the_fill_price() {
        let order: SpotOrderDto = serde_json::from_value(serde_json::json!({
            "symbol": "BTCUSDT", "orderId": 1, "clientOrderId": "c", "transactTime": 1,
            "executedQty": "0.5", "cummulativeQuoteQty": "50", "status": "FILLED",
            "fills": [
                {"price": "100", "qty": "0.5", "commission": "0.001", "commissionAsset": "BTC"},
                {"price": "100", "qty": "0", "commission": "1", "commissionAsset": "BNB"}
            ]
        }))
        .unwrap();
        let ack = spot_order_ack(order, "USDT").unwrap();
        assert_eq!(ack.fee, d("0.1"));
        assert_eq!(ack.avg_price, Some(d("100")));
    }

    #[test]
    fn average_price_without_fills_comes_from_the_quote_quantity() {
        let order: SpotOrderDto = serde_json::from_value(serde_json::json!({
            "symbol": "BTCUSDT", "orderId": 1, "clientOrderId": "c", "transactTime": 1,
            "executedQty": "2", "cummulativeQuoteQty": "201", "status": "PARTIALLY_FILLED"
        }))
        .unwrap();
        let ack = spot_order_ack(order, "USDT").unwrap();
        assert_eq!(ack.avg_price, Some(d("100.5")));
        assert_eq!(ack.status, "partially_filled");
        assert_eq!(ack.fee, Decimal::ZERO);
    }

    #[test]
    fn malformed_klines_are_errors() {
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let short = vec![vec![Value::from(1), Value::from("1")]];
        assert!(matches!(
            klines(&symbol, &short),
            Err(ExchangeError::Other(_))
        ));
        let numeric = vec![vec![
            Value::from(1),
            Value::from(1.5),
            Value::from("1"),
            Value::from("1"),
            Value::from("1"),
            Value::from("1"),
        ]];
        assert!(matches!(
            klines(&symbol, &numeric),
            Err(ExchangeError::Other(_))
        ));
    }

    #[test]
    fn invalid_symbols_are_skipped() {
        let account: AccountDto = serde_json::from_value(serde_json::json!({
            "balances": [
                {"asset": "VERYLONGASSETNAMEXYZ", "free": "1", "locked": "0"},
                {"asset": "ETH", "free": "1", "locked": "0"}
            ]
        }))
        .unwrap();
        let balances = spot_balances(account, "USDT").unwrap();
        assert_eq!(balances.len(), 1);
        assert_eq!(balances[0].symbol.as_str(), "ETHUSDT");
    }
}
