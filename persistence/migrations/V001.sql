-- V001: the current update's state row and the append-only transition journal.
-- On-disk contract: state names are stable strings; columns and tables are only ever added.
CREATE TABLE IF NOT EXISTS update_state (
    id INT PRIMARY KEY,                       -- always 1: one update at a time per device
    update_id VARCHAR(64) NOT NULL,
    state VARCHAR(64) NOT NULL,               -- UpdateState name
    phase VARCHAR(16) NOT NULL,               -- BEFORE_COMMIT / AFTER_COMMIT / DONE: lets an older hupd act on a state it does not know
    context CLOB NOT NULL,                    -- UpdateContext as JSON
    context_format INT NOT NULL,
    transitions INT NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE IF NOT EXISTS journal (
    seq BIGINT AUTO_INCREMENT PRIMARY KEY,
    update_id VARCHAR(64) NOT NULL,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    from_state VARCHAR(64) NOT NULL,
    event VARCHAR(32) NOT NULL,
    to_state VARCHAR(64) NOT NULL,
    to_phase VARCHAR(16) NOT NULL,
    reason VARCHAR(4000)
);

CREATE INDEX IF NOT EXISTS journal_update ON journal(update_id, seq);
