DROP TABLE market_candles;
DROP TABLE exchange_accounts;
