-- The paper brokerage: orders, holdings, and the trade events the streams will
-- deliver. Amounts are integer billionths (see paddock_core::money).

CREATE TABLE orders (
    id                     TEXT PRIMARY KEY,
    account_id             TEXT NOT NULL REFERENCES accounts (id),
    client_order_id        TEXT NOT NULL,
    symbol                 TEXT NOT NULL,
    asset_id               TEXT NOT NULL,
    side                   TEXT NOT NULL,
    kind                   TEXT NOT NULL,
    time_in_force          TEXT NOT NULL,
    qty_nanos              INTEGER,
    notional_nanos         INTEGER,
    filled_qty_nanos       INTEGER NOT NULL,
    filled_avg_price_nanos INTEGER,
    limit_price_nanos      INTEGER,
    stop_price_nanos       INTEGER,
    trail_price_nanos      INTEGER,
    trail_percent_nanos    INTEGER,
    water_mark_nanos       INTEGER,
    stopped                INTEGER NOT NULL CHECK (stopped IN (0, 1)),
    extended_hours         INTEGER NOT NULL CHECK (extended_hours IN (0, 1)),
    status                 TEXT NOT NULL,
    is_open                INTEGER NOT NULL CHECK (is_open IN (0, 1)),
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    submitted_at           TEXT NOT NULL,
    filled_at              TEXT,
    canceled_at            TEXT,
    expired_at             TEXT,
    CHECK ((qty_nanos IS NULL) <> (notional_nanos IS NULL)),
    UNIQUE (account_id, client_order_id)
) STRICT;

CREATE INDEX orders_by_account ON orders (account_id, submitted_at);
CREATE INDEX orders_open ON orders (submitted_at) WHERE is_open = 1;

CREATE TABLE positions (
    account_id            TEXT NOT NULL REFERENCES accounts (id),
    symbol                TEXT NOT NULL,
    qty_nanos             INTEGER NOT NULL CHECK (qty_nanos > 0),
    avg_entry_price_nanos INTEGER NOT NULL,
    updated_at            TEXT NOT NULL,
    PRIMARY KEY (account_id, symbol)
) STRICT;

CREATE TABLE trade_events (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    order_id           TEXT NOT NULL REFERENCES orders (id),
    event              TEXT NOT NULL,
    at                 TEXT NOT NULL,
    price_nanos        INTEGER,
    qty_nanos          INTEGER,
    position_qty_nanos INTEGER,
    execution_id       TEXT
) STRICT;

CREATE INDEX trade_events_by_account ON trade_events (account_id, seq);
