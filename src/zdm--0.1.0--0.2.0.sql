-- zdm 0.1.0 -> 0.2.0. Every change to src/zdm.sql since 0.1.0 has its line
-- here: sql/upgrade.sql checks that an updated 0.1.0 equals a fresh install.
\echo Use "ALTER EXTENSION zdm UPDATE TO '0.2.0'" to load this file. \quit
