-- No duplicate orders from retries (CONTRACT §4): each placement's key (the client's
-- Idempotency-Key, else its request id) is kept with the order, unique, so the same placement
-- sent again answers the order it made instead of making a second one.
ALTER TABLE orders ADD COLUMN placement_key TEXT;
CREATE UNIQUE INDEX orders_placement_key_idx ON orders (placement_key);
