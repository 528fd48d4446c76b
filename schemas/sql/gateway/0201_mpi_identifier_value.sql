-- 0201_mpi_identifier_value.sql — PDQm (IHE ITI-78) `identifier=VALUE` with no
-- system (R4 search.html#token: any system) looks identifiers up by value
-- alone; the primary key (system, value, record_id) cannot serve that.

CREATE INDEX IF NOT EXISTS identifier_value_idx ON mpi.identifier (value);
