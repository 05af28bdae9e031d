-- skim's journal: the first schema.
--
-- Migrations only ever ADD (tables, columns, indexes). Never DROP, RENAME or DELETE here:
-- a deploy must keep every row. The test `migrations::migrations_only_add` enforces it.
--
-- Conventions (the store crate converts; no SQL outside it):
--   money, prices, P&L  TEXT holding an exact decimal written by rust_decimal (never a REAL)
--   timestamps          TEXT 'YYYY-MM-DDTHH:MM:SS.fffffffffZ' (UTC, fixed width: text order = time order)
--   trading days        TEXT 'YYYY-MM-DD' (the ASX trading day, Australia/Sydney)
--   booleans            INTEGER 0/1
--   quantities          INTEGER whole shares

-- ticker -> IBKR contract id cache
CREATE TABLE contracts (
    ticker      TEXT PRIMARY KEY NOT NULL,
    conid       INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);

-- one row per trading day and ticker that the scan found (gap + price-sensitive announcement)
CREATE TABLE candidates (
    id                 INTEGER PRIMARY KEY,
    trading_day        TEXT NOT NULL,
    ticker             TEXT NOT NULL,
    conid              INTEGER NOT NULL,
    gap_pct            TEXT NOT NULL,
    headline           TEXT,
    announced_at       TEXT,
    price_sensitive    INTEGER NOT NULL CHECK (price_sensitive IN (0, 1)),
    scanned_at         TEXT NOT NULL,
    last_price         TEXT,
    prev_close         TEXT,
    range_high         TEXT,
    range_low          TEXT,
    range_measured_at  TEXT,
    status             TEXT NOT NULL DEFAULT 'watching'
                       CHECK (status IN ('watching', 'entered', 'skipped', 'expired')),
    status_reason      TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (trading_day, ticker)
);

-- positions are opened, added to, reduced and closed only by fills
CREATE TABLE positions (
    id                  INTEGER PRIMARY KEY,
    trading_day         TEXT NOT NULL,              -- entry day
    ticker              TEXT NOT NULL,
    conid               INTEGER NOT NULL,
    state               TEXT NOT NULL
                        CHECK (state IN ('pending_entry', 'open', 'half_exited', 'closed')),
    quantity            INTEGER NOT NULL DEFAULT 0 CHECK (quantity >= 0),   -- remaining shares
    original_quantity   INTEGER NOT NULL DEFAULT 0 CHECK (original_quantity >= 0), -- all shares bought
    avg_entry_price     TEXT,
    entry_cost          TEXT NOT NULL DEFAULT '0',  -- sum of buy price x qty (exact)
    cost_basis          TEXT NOT NULL DEFAULT '0',  -- cost of the shares still held (exact)
    entry_at            TEXT,
    stop_price          TEXT,
    stop_order_coid     TEXT,
    stop_ibkr_order_id  TEXT,
    half_exit_done      INTEGER NOT NULL DEFAULT 0 CHECK (half_exit_done IN (0, 1)),
    sold_quantity       INTEGER NOT NULL DEFAULT 0 CHECK (sold_quantity >= 0),
    exit_proceeds       TEXT NOT NULL DEFAULT '0',  -- sum of sell price x qty (exact)
    exit_price          TEXT,                       -- average sell price
    exit_at             TEXT,
    exit_day            TEXT,
    realised_pnl        TEXT NOT NULL DEFAULT '0',  -- net of all commissions
    commissions         TEXT NOT NULL DEFAULT '0',
    close_reason        TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX positions_state ON positions (state);
CREATE INDEX positions_trading_day ON positions (trading_day);
CREATE INDEX positions_exit_day ON positions (exit_day);

-- the order journal: a row is written (pending) before the order is sent
CREATE TABLE orders (
    id               INTEGER PRIMARY KEY,
    coid             TEXT NOT NULL UNIQUE,          -- our client order id
    trading_day      TEXT NOT NULL,
    ticker           TEXT NOT NULL,
    conid            INTEGER NOT NULL,
    side             TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    order_type       TEXT NOT NULL CHECK (order_type IN ('MKT', 'LMT', 'STP')),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    limit_price      TEXT,
    stop_price       TEXT,
    purpose          TEXT NOT NULL CHECK (purpose IN
                     ('entry', 'protective_stop', 'half_exit', 'trail_exit', 'stop_backstop', 'manual')),
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
                     ('pending', 'submitted', 'partially_filled', 'filled', 'cancelled', 'rejected', 'failed')),
    ibkr_order_id    TEXT,
    filled_quantity  INTEGER NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0),
    avg_fill_price   TEXT,
    broker_status    TEXT,                          -- last status text IBKR gave
    detail           TEXT,                          -- why the last state change happened
    position_id      INTEGER REFERENCES positions (id),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX orders_state ON orders (state);
CREATE INDEX orders_position ON orders (position_id);
CREATE INDEX orders_trading_day ON orders (trading_day);
-- One entry per ticker per trading day, even under two concurrent `trade` runs. A failed or
-- rejected entry never reached the market, so it does not count.
CREATE UNIQUE INDEX orders_one_entry_per_ticker_day ON orders (trading_day, ticker)
    WHERE purpose = 'entry' AND state NOT IN ('failed', 'rejected');

-- executions; IBKR's execution id is unique, so a fill seen twice is stored once
CREATE TABLE fills (
    id            INTEGER PRIMARY KEY,
    exec_id       TEXT NOT NULL UNIQUE,
    order_id      INTEGER NOT NULL REFERENCES orders (id),
    quantity      INTEGER NOT NULL CHECK (quantity > 0),
    price         TEXT NOT NULL,
    commission    TEXT NOT NULL,
    realised_pnl  TEXT NOT NULL,                    -- this fill's contribution, net of its commission
    filled_at     TEXT NOT NULL,
    trading_day   TEXT NOT NULL,
    recorded_at   TEXT NOT NULL
);
CREATE INDEX fills_order ON fills (order_id);

-- one row per job run
CREATE TABLE job_runs (
    id           INTEGER PRIMARY KEY,
    job          TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    outcome      TEXT CHECK (outcome IS NULL OR outcome IN ('ok', 'error', 'skipped')),
    detail       TEXT
);

-- the daemon's switches: exactly one row
CREATE TABLE flags (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    paused              INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    paused_by           TEXT,
    paused_at           TEXT,
    paused_reason       TEXT,
    trading_enabled     INTEGER NOT NULL DEFAULT 0 CHECK (trading_enabled IN (0, 1)),
    trading_changed_at  TEXT,
    trading_reason      TEXT
);
INSERT INTO flags (id) VALUES (1);
