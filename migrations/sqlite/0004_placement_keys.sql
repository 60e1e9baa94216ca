-- See migrations/postgres/0004_placement_keys.sql.
ALTER TABLE orders ADD COLUMN placement_key TEXT;
CREATE UNIQUE INDEX orders_placement_key_idx ON orders (placement_key);
