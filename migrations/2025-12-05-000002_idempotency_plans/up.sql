-- The orders a trading action is about to place (client order ids included), written before
-- the first order goes out: a retry of an attempt that died midway places exactly these again
-- (the venues answer an already used client order id with the first order) instead of
-- planning anew or answering "in progress" forever.
ALTER TABLE idempotency_keys ADD COLUMN plan JSONB;
