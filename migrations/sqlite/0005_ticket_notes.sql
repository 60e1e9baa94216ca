-- See migrations/postgres/0005_ticket_notes.sql.
ALTER TABLE orders ADD COLUMN notes TEXT;
ALTER TABLE orders ADD COLUMN rush INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_items ADD COLUMN notes TEXT;
CREATE INDEX orders_finished_idx ON orders (updated_at DESC)
    WHERE status IN ('completed', 'cancelled');
