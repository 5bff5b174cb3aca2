-- Replacing orders (PATCH /v2/orders/{id}), bracket/OCO/OTO groups, account
-- configurations, watchlists, the price walk, and finding a fill by its execution id
-- (the activities' page token).

ALTER TABLE orders ADD COLUMN replaces UUID;
ALTER TABLE orders ADD COLUMN replaced_by UUID;
ALTER TABLE orders ADD COLUMN replaced_at TIMESTAMPTZ;
ALTER TABLE orders ADD COLUMN order_class TEXT NOT NULL DEFAULT 'simple';
ALTER TABLE orders ADD COLUMN parent_id UUID;

CREATE INDEX orders_by_parent ON orders (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE account_configs (
    account_id                UUID NOT NULL,
    dtbp_check                TEXT NOT NULL,
    pdt_check                 TEXT NOT NULL,
    trade_confirm_email       TEXT NOT NULL,
    suspend_trade             BOOLEAN NOT NULL,
    no_shorting               BOOLEAN NOT NULL,
    fractional_trading        BOOLEAN NOT NULL,
    ptp_no_exception_entry    BOOLEAN NOT NULL,
    max_options_trading_level SMALLINT,
    updated_at                TIMESTAMPTZ NOT NULL,
    CONSTRAINT account_configs_pkey PRIMARY KEY (account_id),
    CONSTRAINT account_configs_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
);

CREATE TABLE watchlists (
    id         UUID NOT NULL,
    account_id UUID NOT NULL,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT watchlists_pkey PRIMARY KEY (id),
    CONSTRAINT watchlists_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT watchlists_name_key UNIQUE (account_id, name)
);

CREATE TABLE watchlist_symbols (
    watchlist_id UUID NOT NULL,
    position     INTEGER NOT NULL,
    symbol       TEXT NOT NULL,
    CONSTRAINT watchlist_symbols_pkey PRIMARY KEY (watchlist_id, symbol),
    CONSTRAINT watchlist_symbols_watchlist_id_fkey FOREIGN KEY (watchlist_id)
        REFERENCES watchlists (id) ON DELETE CASCADE
);

CREATE INDEX trade_events_by_execution ON trade_events (execution_id)
    WHERE execution_id IS NOT NULL;

-- The price walk's last tick: one row, locked by the unit of work that takes a tick.
CREATE TABLE price_walk (
    id   SMALLINT NOT NULL,
    tick BIGINT,
    CONSTRAINT price_walk_pkey PRIMARY KEY (id),
    CONSTRAINT price_walk_one_row CHECK (id = 1)
);

INSERT INTO price_walk (id, tick) VALUES (1, NULL);
