-- The user this transaction acts for, as set by app.begin_request. Policies call it as
-- (select app.current_user_id()) so that it is evaluated once per statement, not once per row.
create or replace function app.current_user_id() returns text
language sql stable parallel safe
as $$ select nullif(pg_catalog.current_setting('app.user_id', true), '') $$;

comment on function app.current_user_id() is 'User this transaction acts for; null when none is set.';
revoke all on function app.current_user_id() from public;
grant execute on function app.current_user_id() to app_user;
