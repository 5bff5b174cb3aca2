-- Browser sessions after login, found by the SHA-256 digest of the session cookie.

CREATE TABLE sessions (
    digest     BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_by_expiry ON sessions (expires_at);
