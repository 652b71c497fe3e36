-- Deploy zdm_client:person to pg
BEGIN;
CREATE EXTENSION IF NOT EXISTS zdm;
CREATE TABLE person (
    id         bigint PRIMARY KEY,
    first_name text,
    last_name  text NOT NULL
);
INSERT INTO person (id, first_name, last_name)
SELECT g, 'first_' || g, 'last_' || g FROM generate_series(1, 20000) g;
COMMIT;
