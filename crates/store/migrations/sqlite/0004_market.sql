-- The market simulator's prices that differ from the reference table, in integer
-- billionths (see paddock_core::money).
CREATE TABLE prices (
    symbol      TEXT PRIMARY KEY,
    price_nanos INTEGER NOT NULL CHECK (price_nanos > 0),
    updated_at  TEXT NOT NULL
) STRICT;
