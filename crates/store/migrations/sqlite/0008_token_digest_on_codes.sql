-- A spent code names the token issued from it, so that a replayed code can revoke
-- that token (RFC 9700 §4.5). This link was a column of tokens with an index of its
-- own, so every redemption also wrote a page of that index at a random place; the
-- code's row is written by the redemption anyway.
ALTER TABLE auth_codes ADD COLUMN token_digest BLOB;

UPDATE auth_codes
SET token_digest = (SELECT t.digest FROM tokens t WHERE t.code_digest = auth_codes.digest)
WHERE redeemed_at IS NOT NULL;

DROP INDEX tokens_by_code;

ALTER TABLE tokens DROP COLUMN code_digest;
