-- ops/not_null_up/begin.sql: while the old app (which still writes NULL emails)
-- runs, email becomes NOT NULL through the shadow column email_new = up.
SELECT zdm.begin_set_not_null('person', 'email', up => 'coalesce(email, ''unknown'')',
                              migration => 'not_null_up') AS migration;
