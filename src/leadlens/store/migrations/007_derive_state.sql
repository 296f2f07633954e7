-- What the derive step last ran on, per repository and step, written in the transaction that
-- writes the step's output: any ingest derives again what differs (a derive killed midway, an
-- ingest with --no-derive, a new mainline, a changed setting), and nothing else.
CREATE TABLE derive_state (
    repo             VARCHAR NOT NULL,
    step             VARCHAR NOT NULL,      -- changes | line_ages | forge
    inputs           VARCHAR NOT NULL,      -- JSON: fingerprints of the stored data and settings it read
    derived_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (repo, step)
);
