-- paddock's schema on PostgreSQL: the same tables as the three SQLite migrations
-- reach, in native types. Secrets, codes and tokens are kept only as SHA-256
-- digests; passwords as argon2id. Every unique and foreign-key constraint is named,
-- because the store maps a violation to its typed error by that name
-- (src/postgres/errors.rs): renaming one here means renaming it there.
-- Tables are unqualified, so that a deployment or a test may keep them in a schema of
-- its own (`options[search_path]=…` in the URL).

CREATE TABLE brokers (
    id            UUID NOT NULL,
    name          TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    secret_digest BYTEA NOT NULL CHECK (octet_length(secret_digest) = 32),
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT brokers_pkey PRIMARY KEY (id),
    CONSTRAINT brokers_key_id_key UNIQUE (key_id)
);

CREATE TABLE users (
    id            UUID NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE accounts (
    id             UUID NOT NULL,
    user_id        UUID NOT NULL,
    broker_id      UUID NOT NULL,
    env            TEXT NOT NULL CHECK (env IN ('live', 'paper')),
    account_number TEXT NOT NULL,
    -- Exact: NUMERIC, never a float, to the nine decimals paddock_core::money keeps.
    cash           NUMERIC NOT NULL CONSTRAINT accounts_cash_scale CHECK (cash = trunc(cash, 9)),
    created_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    CONSTRAINT accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT accounts_broker_id_fkey FOREIGN KEY (broker_id) REFERENCES brokers (id)
);

CREATE INDEX accounts_by_user ON accounts (user_id);
-- A user has at most one live account (SPEC §1). Created before the account-number
-- constraint on purpose: PostgreSQL checks unique indexes in creation order, so an
-- insert breaking both reports this one, as the SQLite backend does.
CREATE UNIQUE INDEX accounts_one_live_per_user ON accounts (user_id) WHERE env = 'live';
ALTER TABLE accounts ADD CONSTRAINT accounts_account_number_key UNIQUE (account_number);

CREATE TABLE clients (
    -- "C" collation: client ids sort by their bytes, as on SQLite.
    client_id             TEXT COLLATE "C" NOT NULL,
    broker_id             UUID NOT NULL,
    secret_digest         BYTEA NOT NULL CHECK (octet_length(secret_digest) = 32),
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL,
    url                   TEXT NOT NULL,
    terms_of_use          TEXT NOT NULL,
    privacy_policy        TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED')),
    -- The registered redirect URIs, exact strings, in registration order.
    redirect_uris         TEXT[] NOT NULL,
    live_trading_approved BOOLEAN NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    CONSTRAINT clients_pkey PRIMARY KEY (client_id),
    CONSTRAINT clients_broker_id_fkey FOREIGN KEY (broker_id) REFERENCES brokers (id)
);

CREATE TABLE auth_codes (
    digest           BYTEA NOT NULL CHECK (octet_length(digest) = 32),
    client_id        TEXT COLLATE "C" NOT NULL,
    user_id          UUID NOT NULL,
    redirect_uri     TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    live_account_id  UUID,
    paper_account_id UUID,
    code_challenge   TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    redeemed_at      TIMESTAMPTZ,
    CONSTRAINT auth_codes_pkey PRIMARY KEY (digest),
    CONSTRAINT auth_codes_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (client_id),
    CONSTRAINT auth_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT auth_codes_live_account_id_fkey
        FOREIGN KEY (live_account_id) REFERENCES accounts (id),
    CONSTRAINT auth_codes_paper_account_id_fkey
        FOREIGN KEY (paper_account_id) REFERENCES accounts (id),
    CHECK (live_account_id IS NOT NULL OR paper_account_id IS NOT NULL)
);

CREATE INDEX auth_codes_by_expiry ON auth_codes (expires_at);

CREATE TABLE tokens (
    digest           BYTEA NOT NULL CHECK (octet_length(digest) = 32),
    -- The grant's public handle (the connected-apps page revokes by it).
    id               UUID NOT NULL,
    client_id        TEXT COLLATE "C" NOT NULL,
    user_id          UUID NOT NULL,
    scopes           TEXT NOT NULL,
    live_account_id  UUID,
    paper_account_id UUID,
    -- The authorization code this token was issued from, so that a replayed code
    -- can revoke it (RFC 9700 §4.5). NULL for tokens issued by the Broker API. Not a
    -- foreign key: spent codes are purged while their tokens live on.
    code_digest      BYTEA,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ,
    last_used_at     TIMESTAMPTZ,
    revoked_at       TIMESTAMPTZ,
    CONSTRAINT tokens_pkey PRIMARY KEY (digest),
    CONSTRAINT tokens_id_key UNIQUE (id),
    CONSTRAINT tokens_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (client_id),
    CONSTRAINT tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT tokens_live_account_id_fkey
        FOREIGN KEY (live_account_id) REFERENCES accounts (id),
    CONSTRAINT tokens_paper_account_id_fkey
        FOREIGN KEY (paper_account_id) REFERENCES accounts (id),
    CHECK (live_account_id IS NOT NULL OR paper_account_id IS NOT NULL)
);

CREATE INDEX tokens_by_code ON tokens (code_digest) WHERE code_digest IS NOT NULL;
CREATE INDEX tokens_by_user ON tokens (user_id);
CREATE INDEX tokens_by_client ON tokens (client_id);

-- Browser sessions after login, found by the SHA-256 digest of the session cookie.
CREATE TABLE sessions (
    digest     BYTEA NOT NULL CHECK (octet_length(digest) = 32),
    user_id    UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (digest),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failure counts per key (login e-mail, IP, client id, broker key id), saved with a
-- version check so that concurrent processes count every failure.
CREATE TABLE throttles (
    key      TEXT NOT NULL,
    started  TIMESTAMPTZ NOT NULL,
    failures BIGINT NOT NULL CHECK (failures >= 0),
    version  BIGINT NOT NULL,
    CONSTRAINT throttles_pkey PRIMARY KEY (key)
);

CREATE INDEX throttles_by_start ON throttles (started);

-- Every revocation, client disable/enable and secret rotation, written in the same
-- transaction: nodes read it to drop what their caches hold. Writers lock the table
-- (src/postgres/nodes.rs), so that sequence numbers commit in order and a node that
-- has read up to `seq` never misses a smaller one committed later.
CREATE TABLE invalidations (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY,
    kind       TEXT NOT NULL CHECK (kind IN ('token', 'client', 'account', 'prices')),
    target     BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT invalidations_pkey PRIMARY KEY (seq)
);

CREATE INDEX invalidations_by_time ON invalidations (created_at);
