-- The same logical schema as migrations/postgres/0001_orders.sql for the embedded default.
-- Money is TEXT holding the exact decimal ("12.50"); times are TEXT in RFC 3339 UTC with
-- microseconds, so they sort as text. Never edit a migration after it has landed.

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    number           TEXT NOT NULL UNIQUE,
    customer_name    TEXT NOT NULL,
    customer_type    TEXT NOT NULL DEFAULT 'regular',
    type             TEXT NOT NULL CHECK (type IN ('dine_in', 'takeout', 'delivery')),
    table_number     INTEGER CHECK (table_number BETWEEN 1 AND 100),
    delivery_address TEXT,
    total_amount     TEXT NOT NULL,
    priority         INTEGER NOT NULL DEFAULT 1,
    status           TEXT NOT NULL DEFAULT 'received'
                     CHECK (status IN ('received', 'cooking', 'ready', 'completed', 'cancelled')),
    processed_by     TEXT,
    completed_at     TEXT
);
CREATE INDEX orders_status_id_idx ON orders (status, id DESC);
CREATE INDEX orders_type_id_idx ON orders (type, id DESC);

CREATE TABLE order_items (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10),
    price      TEXT NOT NULL
);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);

CREATE TABLE order_status_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    changed_by TEXT,
    changed_at TEXT NOT NULL,
    notes      TEXT
);
CREATE INDEX order_status_log_order_id_idx ON order_status_log (order_id, id);

CREATE TABLE workers (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at            TEXT NOT NULL,
    name                  TEXT NOT NULL UNIQUE,
    type                  TEXT NOT NULL DEFAULT 'general',
    status                TEXT NOT NULL DEFAULT 'online'
                          CHECK (status IN ('online', 'processing', 'offline')),
    last_seen             TEXT NOT NULL,
    orders_processed      INTEGER NOT NULL DEFAULT 0,
    heartbeat_interval_ms INTEGER NOT NULL DEFAULT 30000
);

CREATE TABLE order_counters (
    day        TEXT PRIMARY KEY,
    last_value INTEGER NOT NULL
);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT NOT NULL,
    message_id  TEXT NOT NULL UNIQUE,
    exchange    TEXT NOT NULL,
    routing_key TEXT NOT NULL,
    priority    INTEGER NOT NULL DEFAULT 0,
    payload     TEXT NOT NULL,
    request_id  TEXT,
    order_id    INTEGER REFERENCES orders (id) ON DELETE CASCADE,
    attempts    INTEGER NOT NULL DEFAULT 0,
    sent_at     TEXT
);
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;
