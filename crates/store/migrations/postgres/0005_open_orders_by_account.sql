-- An account's open orders without walking its whole history: every order placed
-- reads them (buying power, held shares), and an account may have many thousands of
-- filled orders behind a handful of open ones.
CREATE INDEX orders_open_by_account ON orders (account_id, submitted_at) WHERE is_open;
