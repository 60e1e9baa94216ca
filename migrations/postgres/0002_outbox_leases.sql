-- A relay leases the rows it publishes, so several relays (processes) never send a row twice
-- while its lease holds, and a relay that died leaves rows for the next one (CONTRACT §4).
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TIMESTAMPTZ;
