-- From here on, tokens and codes are stamped: 54 characters after their prefix, and
-- digests that begin with the stamp. A paddock from before would take such a token
-- for a malformed one, refusing it at the Bearer check and answering 200 to its
-- revocation without revoking it. No table changes: this migration marks the schema
-- as newer than such a binary, which then refuses to open the database.
SELECT 1;
