-- What a line needs on its tickets (CONTRACT §1, §7): a note on the order and on each item,
-- and the rush mark an operator sets. The partial index serves the console's recall list
-- (the most recently finished orders, newest first).
ALTER TABLE orders ADD COLUMN notes TEXT;
ALTER TABLE orders ADD COLUMN rush BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE order_items ADD COLUMN notes TEXT;
CREATE INDEX orders_finished_idx ON orders (updated_at DESC)
    WHERE status IN ('completed', 'cancelled');
