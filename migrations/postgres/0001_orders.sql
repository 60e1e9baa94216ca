-- The compatible tables of CONTRACT §2, plus the per-day order counter and the outbox.
-- Never edit a migration after it has landed: add a new one.

CREATE TABLE orders (
    id               SERIAL PRIMARY KEY,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    number           TEXT NOT NULL UNIQUE,
    customer_name    TEXT NOT NULL,
    customer_type    TEXT NOT NULL DEFAULT 'regular',
    type             TEXT NOT NULL CHECK (type IN ('dine_in', 'takeout', 'delivery')),
    table_number     INTEGER CHECK (table_number BETWEEN 1 AND 100),
    delivery_address TEXT,
    total_amount     DECIMAL(10, 2) NOT NULL,
    priority         INTEGER NOT NULL DEFAULT 1,
    status           TEXT NOT NULL DEFAULT 'received'
                     CHECK (status IN ('received', 'cooking', 'ready', 'completed', 'cancelled')),
    processed_by     TEXT,
    completed_at     TIMESTAMPTZ
);
CREATE INDEX orders_status_id_idx ON orders (status, id DESC);
CREATE INDEX orders_type_id_idx ON orders (type, id DESC);

CREATE TABLE order_items (
    id         SERIAL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10),
    price      DECIMAL(8, 2) NOT NULL CHECK (price > 0)
);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);

CREATE TABLE order_status_log (
    id         SERIAL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    changed_by TEXT,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    notes      TEXT
);
CREATE INDEX order_status_log_order_id_idx ON order_status_log (order_id, id);

CREATE TABLE workers (
    id                    SERIAL PRIMARY KEY,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    name                  TEXT NOT NULL UNIQUE,
    type                  TEXT NOT NULL DEFAULT 'general',
    status                TEXT NOT NULL DEFAULT 'online'
                          CHECK (status IN ('online', 'processing', 'offline')),
    last_seen             TIMESTAMPTZ NOT NULL DEFAULT now(),
    orders_processed      INTEGER NOT NULL DEFAULT 0,
    -- Offline detection is per worker: silent for twice its own interval (CONTRACT §1).
    heartbeat_interval_ms INTEGER NOT NULL DEFAULT 30000
);

-- One row per UTC day; upserted inside the order's own statement so the row lock is held as
-- briefly as possible (it is the ceiling of order creation throughput).
CREATE TABLE order_counters (
    day        DATE PRIMARY KEY,
    last_value INTEGER NOT NULL
);

-- The transactional outbox (CONTRACT §4): written with the change it announces, published by a
-- relay with publisher confirms, then marked sent.
CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    message_id  TEXT NOT NULL UNIQUE,
    exchange    TEXT NOT NULL,
    routing_key TEXT NOT NULL,
    priority    SMALLINT NOT NULL DEFAULT 0,
    payload     JSONB NOT NULL,
    request_id  TEXT,
    order_id    INTEGER REFERENCES orders (id) ON DELETE CASCADE,
    attempts    INTEGER NOT NULL DEFAULT 0,
    sent_at     TIMESTAMPTZ
);
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;
