-- paddock's foundation schema: brokers, users, accounts, OAuth clients, codes, tokens.
-- Secrets, codes and tokens are kept only as SHA-256 digests; passwords as argon2id.
-- Timestamps are RFC 3339 text in UTC; ids are hyphenated UUID text.

CREATE TABLE brokers (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    key_id        TEXT NOT NULL UNIQUE,
    secret_digest BLOB NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    broker_id      TEXT NOT NULL REFERENCES brokers (id),
    env            TEXT NOT NULL CHECK (env IN ('live', 'paper')),
    account_number TEXT NOT NULL UNIQUE,
    cash           TEXT NOT NULL,
    created_at     TEXT NOT NULL
) STRICT;

CREATE INDEX accounts_by_user ON accounts (user_id);
-- A user has at most one live account (SPEC §1).
CREATE UNIQUE INDEX accounts_one_live_per_user ON accounts (user_id) WHERE env = 'live';

CREATE TABLE clients (
    client_id             TEXT PRIMARY KEY,
    broker_id             TEXT NOT NULL REFERENCES brokers (id),
    secret_digest         BLOB NOT NULL,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL,
    url                   TEXT NOT NULL,
    terms_of_use          TEXT NOT NULL,
    privacy_policy        TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED')),
    -- JSON array of the registered redirect URIs, exact strings, in registration order.
    redirect_uris         TEXT NOT NULL,
    live_trading_approved INTEGER NOT NULL CHECK (live_trading_approved IN (0, 1)),
    created_at            TEXT NOT NULL
) STRICT;

CREATE TABLE auth_codes (
    digest           BLOB PRIMARY KEY,
    client_id        TEXT NOT NULL REFERENCES clients (client_id),
    user_id          TEXT NOT NULL REFERENCES users (id),
    redirect_uri     TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    live_account_id  TEXT REFERENCES accounts (id),
    paper_account_id TEXT REFERENCES accounts (id),
    code_challenge   TEXT,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    redeemed_at      TEXT,
    CHECK (live_account_id IS NOT NULL OR paper_account_id IS NOT NULL)
) STRICT;

CREATE INDEX auth_codes_by_expiry ON auth_codes (expires_at);

CREATE TABLE tokens (
    digest           BLOB PRIMARY KEY,
    -- The grant's public handle (the connected-apps page revokes by it).
    id               TEXT NOT NULL UNIQUE,
    client_id        TEXT NOT NULL REFERENCES clients (client_id),
    user_id          TEXT NOT NULL REFERENCES users (id),
    scopes           TEXT NOT NULL,
    live_account_id  TEXT REFERENCES accounts (id),
    paper_account_id TEXT REFERENCES accounts (id),
    -- The authorization code this token was issued from, so that a replayed code
    -- can revoke it (RFC 9700 §4.5). NULL for tokens issued by the Broker API.
    code_digest      BLOB,
    created_at       TEXT NOT NULL,
    expires_at       TEXT,
    last_used_at     TEXT,
    revoked_at       TEXT,
    CHECK (live_account_id IS NOT NULL OR paper_account_id IS NOT NULL)
) STRICT;

CREATE INDEX tokens_by_code ON tokens (code_digest) WHERE code_digest IS NOT NULL;
CREATE INDEX tokens_by_user ON tokens (user_id);
CREATE INDEX tokens_by_client ON tokens (client_id);
