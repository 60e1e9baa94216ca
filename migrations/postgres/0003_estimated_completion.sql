-- The estimated completion is stored when cooking starts, from the cook's own cooking time,
-- and is what GET /orders/{number}/status answers (CONTRACT §5). Null until cooking starts.
ALTER TABLE orders ADD COLUMN estimated_completion TIMESTAMPTZ;
