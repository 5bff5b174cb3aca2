-- Nothing looks tokens up by their client (the Bearer check goes from a token to its
-- client, by the client's key), and clients are disabled, never deleted. The index
-- only made every new token write one more B-tree page.
DROP INDEX tokens_by_client;
