DROP VIEW spot_holdings_priced;
