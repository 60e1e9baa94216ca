-- See migrations/postgres/0003_estimated_completion.sql.
ALTER TABLE orders ADD COLUMN estimated_completion TEXT;
