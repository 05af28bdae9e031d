-- Adds only: a free-form operator note on positions, and indexes for the daily P&L and the
-- "last run of each job" queries.
ALTER TABLE positions ADD COLUMN notes TEXT;
CREATE INDEX fills_trading_day ON fills (trading_day);
CREATE INDEX job_runs_job ON job_runs (job, id);
