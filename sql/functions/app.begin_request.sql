-- The first statement of every API transaction, in one round trip:
--   1. drop to the request role, for the rest of the transaction (set_config(..., true) is
--      transaction-local, so it is safe behind a transaction-mode pooler such as Neon's);
--   2. record whom the transaction acts for;
--   3. create the user's row on first sight, under the users table's own insert policy.
-- The role switch comes first so that nothing after it runs with the login role's rights.
-- It must be neither security definer (a role cannot be switched inside one) nor carry a set
-- clause (which would undo the transaction-local settings when the function returns); every
-- name in it is schema-qualified instead.
create or replace function app.begin_request(user_id text) returns void
language plpgsql volatile
as $$
begin
  if user_id is null or user_id = '' then
    raise exception 'a request needs a user id' using errcode = 'PT401';
  end if;
  perform pg_catalog.set_config('role', 'app_user', true);
  perform pg_catalog.set_config('app.user_id', user_id, true);
  insert into app.users (id) values (user_id) on conflict (id) do nothing;
end
$$;

comment on function app.begin_request(text) is
  'Opens a request: switches to app_user, sets app.user_id, creates the user on first sight.';
-- Whatever role DATABASE_URL logs in as calls this before it is app_user; calling it only ever
-- lowers privileges, so every role may.
grant execute on function app.begin_request(text) to public;
