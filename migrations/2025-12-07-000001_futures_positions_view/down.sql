DROP VIEW futures_positions_marked;
