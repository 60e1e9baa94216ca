//! The adapter's statements that are more than a line.

pub(super) const ORDER_COLUMNS: &str = "id, number, customer_name, type, table_number, delivery_address, \
     total_amount, priority, status, processed_by, created_at, updated_at, completed_at, \
     estimated_completion, notes, rush";

/// Kitchen messages of orders still waiting or cooking, most urgent first (see the trait).
pub(super) const KITCHEN_BACKLOG: &str = "SELECT m.id, m.message_id, m.exchange, m.routing_key, m.priority, \
         m.payload, m.request_id \
     FROM outbox m JOIN orders o ON o.id = m.order_id \
     WHERE m.exchange = ? AND o.status IN ('received', 'cooking') \
     ORDER BY o.priority DESC, o.id";

/// Leases unsent rows to a claimant: free rows, rows whose lease ran out, and its own.
pub(super) const CLAIM: &str = "UPDATE outbox SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox \
                          WHERE sent_at IS NULL \
                            AND (claimed_until IS NULL OR claimed_until < ? OR claimed_by = ?) \
                          ORDER BY id LIMIT ?) \
             RETURNING id, message_id, exchange, routing_key, priority, payload, request_id";

/// Gives up a claimant's leases on the rows it did not send.
pub(super) const RELEASE: &str = "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL \
             WHERE claimed_by = ? AND sent_at IS NULL";

/// A worker's registration: a new name, or one whose holder is offline or silent for two
/// heartbeats (or any, with `replace`); no row back when the name is taken.
pub(super) const REGISTER_WORKER: &str = "INSERT INTO workers (created_at, name, type, status, last_seen, heartbeat_interval_ms) \
             VALUES (?, ?, ?, 'online', ?, ?) \
             ON CONFLICT (name) DO UPDATE SET type = excluded.type, status = 'online', \
                 last_seen = excluded.last_seen, heartbeat_interval_ms = excluded.heartbeat_interval_ms \
             WHERE ? OR workers.status = 'offline' \
                OR (julianday(?) - julianday(workers.last_seen)) * 86400000.0 > workers.heartbeat_interval_ms * 2 \
             RETURNING id";

/// A heartbeat or a cook's report.
pub(super) const WORKER_SEEN: &str = "UPDATE workers SET status = ?, last_seen = ?, \
             orders_processed = orders_processed + ? WHERE name = ?";
