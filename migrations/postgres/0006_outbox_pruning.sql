-- A small outbox (issue #10): a published message leaves the outbox at once, except an order's
-- kitchen message, which stays (marked sent) while the order is still waiting or cooking so an
-- in-process bus can be refilled from it (CONTRACT §3), and goes when the order leaves the
-- kitchen. What earlier versions kept is removed here.
DELETE FROM outbox m
WHERE m.sent_at IS NOT NULL
  AND NOT (m.exchange = 'orders_topic'
           AND EXISTS (SELECT 1 FROM orders o
                       WHERE o.id = m.order_id AND o.status IN ('received', 'cooking')));
DELETE FROM outbox m
WHERE m.exchange = 'orders_topic'
  AND EXISTS (SELECT 1 FROM orders o
              WHERE o.id = m.order_id AND o.status NOT IN ('received', 'cooking'));
-- Message ids are v4 UUIDs made by the writer; a unique index over them cost a random B-tree
-- insert per message and guarded against nothing that can happen.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_message_id_key;
-- The transition that takes an order out of the kitchen finds its kitchen message by this.
CREATE INDEX outbox_kitchen_order_idx ON outbox (order_id) WHERE exchange = 'orders_topic';
-- Every row is inserted and deleted within moments: vacuum after a fixed number of dead rows
-- rather than a fraction of a table that is nearly empty, so freed space is reused at once.
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
                        autovacuum_vacuum_cost_delay = 0);
