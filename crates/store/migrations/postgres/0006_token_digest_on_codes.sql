-- A spent code names the token issued from it, so that a replayed code can revoke
-- that token (RFC 9700 §4.5). This link was a column of tokens with an index of its
-- own, one more index entry for every redemption; the code's row is written by the
-- redemption anyway.
ALTER TABLE auth_codes ADD COLUMN token_digest BYTEA;

UPDATE auth_codes a
SET token_digest = t.digest
FROM tokens t
WHERE t.code_digest = a.digest;

DROP INDEX tokens_by_code;

ALTER TABLE tokens DROP COLUMN code_digest;
