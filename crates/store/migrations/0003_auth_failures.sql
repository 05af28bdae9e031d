-- Consecutive refused IBKR handshakes, kept across restarts so a crash or restart loop cannot
-- keep handshaking with bad credentials until IBKR locks the account. Only adds.
ALTER TABLE flags ADD COLUMN auth_failures INTEGER NOT NULL DEFAULT 0 CHECK (auth_failures >= 0);
