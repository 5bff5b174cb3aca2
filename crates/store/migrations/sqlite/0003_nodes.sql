-- Exact money, throttles shared by every process, and the invalidation log that keeps
-- each node's caches honest.

-- Cash as integer billionths (see paddock_core::money), which SQL compares and sums
-- exactly; the text it replaces was exact, so the conversion is too.
ALTER TABLE accounts ADD COLUMN cash_nanos INTEGER NOT NULL DEFAULT 0;
-- Converted on the digits without the sign, which is then put back, so that -5.5
-- becomes -5500000000 (paddock never wrote a negative cash, but the rule is exact).
UPDATE accounts SET cash_nanos =
    (CASE WHEN cash LIKE '-%' THEN -1 ELSE 1 END) *
    (CASE WHEN instr(ltrim(cash, '-'), '.') = 0
        THEN CAST(ltrim(cash, '-') AS INTEGER) * 1000000000
        ELSE CAST(substr(ltrim(cash, '-'), 1, instr(ltrim(cash, '-'), '.') - 1) AS INTEGER)
                * 1000000000
            + CAST(substr(substr(ltrim(cash, '-'), instr(ltrim(cash, '-'), '.') + 1)
                || '000000000', 1, 9) AS INTEGER)
    END);
ALTER TABLE accounts DROP COLUMN cash;

-- Failure counts per key (login e-mail, IP, client id, broker key id), saved with a
-- version check so that concurrent processes count every failure.
CREATE TABLE throttles (
    key      TEXT PRIMARY KEY,
    started  TEXT NOT NULL,
    failures INTEGER NOT NULL CHECK (failures >= 0),
    version  INTEGER NOT NULL
) STRICT;

CREATE INDEX throttles_by_start ON throttles (started);

-- Every revocation, client disable/enable and secret rotation, written in the same
-- transaction: nodes read it to drop what their caches hold.
CREATE TABLE invalidations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('token', 'client', 'account', 'prices')),
    target     BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX invalidations_by_time ON invalidations (created_at);
