-- Replacing orders (PATCH /v2/orders/{id}), bracket/OCO/OTO groups, account
-- configurations, watchlists, the price walk, and finding a fill by its execution id
-- (the activities' page token).

ALTER TABLE orders ADD COLUMN replaces TEXT;
ALTER TABLE orders ADD COLUMN replaced_by TEXT;
ALTER TABLE orders ADD COLUMN replaced_at TEXT;
ALTER TABLE orders ADD COLUMN order_class TEXT NOT NULL DEFAULT 'simple';
ALTER TABLE orders ADD COLUMN parent_id TEXT;

CREATE INDEX orders_by_parent ON orders (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE account_configs (
    account_id                TEXT PRIMARY KEY REFERENCES accounts (id),
    dtbp_check                TEXT NOT NULL,
    pdt_check                 TEXT NOT NULL,
    trade_confirm_email       TEXT NOT NULL,
    suspend_trade             INTEGER NOT NULL CHECK (suspend_trade IN (0, 1)),
    no_shorting               INTEGER NOT NULL CHECK (no_shorting IN (0, 1)),
    fractional_trading        INTEGER NOT NULL CHECK (fractional_trading IN (0, 1)),
    ptp_no_exception_entry    INTEGER NOT NULL CHECK (ptp_no_exception_entry IN (0, 1)),
    max_options_trading_level INTEGER,
    updated_at                TEXT NOT NULL
) STRICT;

CREATE TABLE watchlists (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (account_id, name)
) STRICT;

CREATE TABLE watchlist_symbols (
    watchlist_id TEXT NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    symbol       TEXT NOT NULL,
    PRIMARY KEY (watchlist_id, symbol)
) STRICT;

CREATE INDEX trade_events_by_execution ON trade_events (execution_id)
    WHERE execution_id IS NOT NULL;

-- The price walk's last tick: one row, locked by the unit of work that takes a tick.
CREATE TABLE price_walk (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    tick INTEGER
) STRICT;

INSERT INTO price_walk (id, tick) VALUES (1, NULL);
