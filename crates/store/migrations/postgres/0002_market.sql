-- The market simulator's prices that differ from the reference table.
CREATE TABLE prices (
    symbol     TEXT NOT NULL,
    price      NUMERIC NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT prices_pkey PRIMARY KEY (symbol),
    CONSTRAINT prices_price_check CHECK (price > 0 AND price = round(price, 9))
);
