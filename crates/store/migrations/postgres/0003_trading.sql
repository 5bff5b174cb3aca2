-- The paper brokerage: orders, holdings, and the trade events the streams will
-- deliver.

CREATE TABLE orders (
    id               UUID NOT NULL,
    account_id       UUID NOT NULL,
    client_order_id  TEXT NOT NULL,
    symbol           TEXT NOT NULL,
    asset_id         UUID NOT NULL,
    side             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    time_in_force    TEXT NOT NULL,
    qty              NUMERIC,
    notional         NUMERIC,
    filled_qty       NUMERIC NOT NULL,
    filled_avg_price NUMERIC,
    limit_price      NUMERIC,
    stop_price       NUMERIC,
    trail_price      NUMERIC,
    trail_percent    NUMERIC,
    water_mark       NUMERIC,
    stopped          BOOLEAN NOT NULL,
    extended_hours   BOOLEAN NOT NULL,
    status           TEXT NOT NULL,
    is_open          BOOLEAN NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    submitted_at     TIMESTAMPTZ NOT NULL,
    filled_at        TIMESTAMPTZ,
    canceled_at      TIMESTAMPTZ,
    expired_at       TIMESTAMPTZ,
    CONSTRAINT orders_pkey PRIMARY KEY (id),
    CONSTRAINT orders_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT orders_client_order_id_key UNIQUE (account_id, client_order_id),
    CONSTRAINT orders_amount_check CHECK ((qty IS NULL) <> (notional IS NULL))
);

CREATE INDEX orders_by_account ON orders (account_id, submitted_at);
CREATE INDEX orders_open ON orders (submitted_at) WHERE is_open;

CREATE TABLE positions (
    account_id      UUID NOT NULL,
    symbol          TEXT NOT NULL,
    qty             NUMERIC NOT NULL,
    avg_entry_price NUMERIC NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT positions_pkey PRIMARY KEY (account_id, symbol),
    CONSTRAINT positions_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT positions_qty_check CHECK (qty > 0)
);

CREATE TABLE trade_events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    account_id   UUID NOT NULL,
    order_id     UUID NOT NULL,
    event        TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    price        NUMERIC,
    qty          NUMERIC,
    position_qty NUMERIC,
    execution_id UUID,
    CONSTRAINT trade_events_pkey PRIMARY KEY (seq),
    CONSTRAINT trade_events_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT trade_events_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id)
);

CREATE INDEX trade_events_by_account ON trade_events (account_id, seq);
