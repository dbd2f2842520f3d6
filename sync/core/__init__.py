"""What every stage shares: the records that flow between them, the error family, text
folding, redaction of secrets, the sync's limits and deadlines, and the database file's
errors. Nothing here reads a page, calls YouTube or writes a table."""
