-- See migrations/postgres/0006_outbox_pruning.sql (SQLite reuses freed pages by itself).
DELETE FROM outbox
WHERE sent_at IS NOT NULL
  AND NOT (exchange = 'orders_topic'
           AND EXISTS (SELECT 1 FROM orders o
                       WHERE o.id = outbox.order_id AND o.status IN ('received', 'cooking')));
DELETE FROM outbox
WHERE exchange = 'orders_topic'
  AND EXISTS (SELECT 1 FROM orders o
              WHERE o.id = outbox.order_id AND o.status NOT IN ('received', 'cooking'));
CREATE INDEX outbox_kitchen_order_idx ON outbox (order_id) WHERE exchange = 'orders_topic';
