-- Nothing looks tokens up by their client (the Bearer check goes from a token to its
-- client, by the client's key), and clients are disabled, never deleted. The index
-- only added a B-tree to every token's insert: its last page, written once per group
-- of tokens on SQLite, once per token on PostgreSQL.
DROP INDEX IF EXISTS tokens_by_client;
