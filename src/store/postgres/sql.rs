//! The adapter's larger statements, each one round trip.

/// Counter, order, items, first log row and outbox rows in one statement, so one round trip
/// holds the per-day counter's row lock (see issue #2: the counter is the throughput ceiling).
/// The padded sequence mirrors `domain::order_number`; the contract test checks they agree.
/// A placement whose key ($20) an order already has writes nothing and returns that order
/// (`replayed`). Two racing with one key: the unique index makes the second insert nothing and
/// return no row, and the caller reads the first's order.
pub(super) const PLACE_ORDER: &str = r#"
WITH existing AS (
    SELECT number, total_amount, priority FROM orders
    WHERE $20::text IS NOT NULL AND placement_key = $20
), counter AS (
    INSERT INTO order_counters AS c (day, last_value)
    SELECT $1, 1 WHERE NOT EXISTS (SELECT 1 FROM existing)
    ON CONFLICT (day) DO UPDATE SET last_value = c.last_value + 1
    RETURNING last_value
), new_order AS (
    INSERT INTO orders (created_at, updated_at, number, customer_name, type, table_number,
                        delivery_address, total_amount, priority, placement_key, notes)
    SELECT $2, $2,
           $3 || CASE WHEN last_value < 1000 THEN lpad(last_value::text, 3, '0')
                      ELSE last_value::text END,
           $4, $5, $6, $7, $8, $9, $20, $21
    FROM counter
    ON CONFLICT (placement_key) DO NOTHING
    RETURNING id, number, total_amount, priority
), items AS (
    INSERT INTO order_items (created_at, order_id, name, quantity, price, notes)
    SELECT $2, o.id, i.name, i.quantity, i.price, i.notes
    FROM new_order o,
         unnest($10::text[], $11::int4[], $12::numeric[], $22::text[])
             WITH ORDINALITY AS i(name, quantity, price, notes, n)
    ORDER BY i.n
), first_log AS (
    INSERT INTO order_status_log (created_at, order_id, status, changed_by, changed_at)
    SELECT $2, id, 'received', $13, $2 FROM new_order
), messages AS (
    INSERT INTO outbox (created_at, message_id, exchange, routing_key, priority, payload,
                        request_id, order_id)
    SELECT $2, m.message_id, m.exchange, m.routing_key, m.priority,
           m.payload::jsonb || jsonb_build_object('order_number', o.number), $14, o.id
    FROM new_order o,
         unnest($15::text[], $16::text[], $17::text[], $18::int2[], $19::text[])
             WITH ORDINALITY AS m(message_id, exchange, routing_key, priority, payload, n)
    ORDER BY m.n
)
SELECT number, total_amount, priority, false AS replayed FROM new_order
UNION ALL
SELECT number, total_amount, priority, true AS replayed FROM existing
"#;

/// A status change in one statement (one round trip): the locked read of the order, the
/// compare-and-set update (status allowed, and finishing only by the holder), the log row, the
/// status-update message (its `old_status` merged in here, where it is known) and, when the
/// order leaves the kitchen, its kitchen message. The final select tells applied / refused /
/// unknown apart.
pub(super) const TRANSITION: &str = r#"
WITH prev AS (
    SELECT id, status, processed_by, created_at FROM orders WHERE number = $1 FOR UPDATE
), applied AS (
    UPDATE orders o SET status = $2, updated_at = $3,
        processed_by = COALESCE($4, o.processed_by),
        completed_at = COALESCE($5, o.completed_at),
        estimated_completion = CASE WHEN $7 THEN $8 ELSE o.estimated_completion END
    FROM prev
    WHERE o.id = prev.id AND prev.status = ANY($6)
      AND ($9::text IS NULL OR prev.processed_by = $9)
    RETURNING o.id, prev.status AS old_status
), log AS (
    INSERT INTO order_status_log (created_at, order_id, status, changed_by, changed_at, notes)
    SELECT $3, id, $2, $10, $3, $11 FROM applied
), message AS (
    INSERT INTO outbox (created_at, message_id, exchange, routing_key, priority, payload,
                        request_id, order_id)
    SELECT $3, $12, $13, '', 0, $14::jsonb || jsonb_build_object('old_status', old_status),
           $15, id
    FROM applied
), kitchen_done AS (
    DELETE FROM outbox k USING applied
    WHERE $16 AND k.order_id = applied.id AND k.exchange = $17
)
SELECT prev.status AS current, prev.processed_by, prev.created_at, applied.old_status
FROM prev LEFT JOIN applied ON TRUE
"#;

/// Published messages leave; a kitchen message stays (marked sent) while its order is still in
/// the kitchen (see `Store::mark_sent`).
pub(super) const MARK_SENT: &str = r#"
WITH gone AS (
    DELETE FROM outbox m
    WHERE m.id = ANY($1)
      AND NOT (m.exchange = $3 AND EXISTS (
          SELECT 1 FROM orders o WHERE o.id = m.order_id AND o.status IN ('received', 'cooking')))
    RETURNING m.id
)
UPDATE outbox SET sent_at = $2 WHERE id = ANY($1) AND id NOT IN (SELECT id FROM gone)
"#;

/// The order a placement key already made (after a race lost to it).
pub(super) const BY_KEY: &str =
    "SELECT number, total_amount, priority, true AS replayed FROM orders WHERE placement_key = $1";

pub(super) const ORDER_COLUMNS: &str = "id, number, customer_name, type, table_number, delivery_address, \
     total_amount, priority, status, processed_by, created_at, updated_at, completed_at, \
     estimated_completion, notes, rush";

/// Kitchen messages of orders still waiting or cooking, most urgent first (see the trait).
pub(super) const KITCHEN_BACKLOG: &str = "SELECT m.id, m.message_id, m.exchange, m.routing_key, m.priority, \
         m.payload::text AS payload, m.request_id \
     FROM outbox m JOIN orders o ON o.id = m.order_id \
     WHERE m.exchange = $1 AND o.status IN ('received', 'cooking') \
     ORDER BY o.priority DESC, o.id";

/// Leases up to $4 unsent rows to $1 until $2: free rows, rows whose lease ran out before $3,
/// and the claimant's own; rows another relay is claiming right now are skipped, not waited for.
pub(super) const CLAIM: &str = "UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox \
                          WHERE sent_at IS NULL \
                            AND (claimed_until IS NULL OR claimed_until < $3 OR claimed_by = $1) \
                          ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING id, message_id, exchange, routing_key, priority, payload::text AS payload, request_id";

/// Gives up $1's leases on the rows it did not send.
pub(super) const RELEASE: &str = "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL \
             WHERE claimed_by = $1 AND sent_at IS NULL";

/// A worker's registration: a new name, or one whose holder is offline or silent for two
/// heartbeats (or any, with `replace` in $5); no row back when the name is taken.
pub(super) const REGISTER_WORKER: &str = "INSERT INTO workers (created_at, name, type, status, last_seen, heartbeat_interval_ms) \
             VALUES ($1, $2, $3, 'online', $1, $4) \
             ON CONFLICT (name) DO UPDATE SET type = EXCLUDED.type, status = 'online', \
                 last_seen = EXCLUDED.last_seen, heartbeat_interval_ms = EXCLUDED.heartbeat_interval_ms \
             WHERE $5 OR workers.status = 'offline' \
                OR workers.last_seen < $1 - make_interval(secs => workers.heartbeat_interval_ms * 2 / 1000.0) \
             RETURNING id";

/// A heartbeat or a cook's report.
pub(super) const WORKER_SEEN: &str = "UPDATE workers SET status = $1, last_seen = $2, \
             orders_processed = orders_processed + $4 WHERE name = $3";
