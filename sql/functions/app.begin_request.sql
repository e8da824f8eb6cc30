-- Opens every API request, as the first thing its transaction does (the request functions in
-- this folder call it; so do the API's multi-statement transactions):
--   1. find whom the request acts for: the user id of a verified JWT, unless its id (jti) was
--      signed out, or the owner of a Better Auth session token that has not expired;
--   2. refuse a URL that names another user (/api/{user_id}/tasks);
--   3. drop to the request role, for the rest of the transaction (set_config(..., true) is
--      transaction-local, so it is safe behind a transaction-mode pooler such as Neon's);
--   4. record whom the transaction acts for, and answer in UTC (the timestamps the API reads;
--      a task's JSON is UTC whatever the session's TimeZone, see app.task_public_json);
--   5. create the user's row on first sight, and refresh email and name when the token carries
--      newer ones; both under the users table's own policies, and without writing anything when
--      nothing changed.
-- Returns the user id. Refusals are SQLSTATE PT401 and PT403, which the API answers with 401
-- and 403.
-- It must be neither security definer (a role cannot be switched inside one) nor carry a set
-- clause (which would undo the transaction-local settings when the function returns); every
-- name in it is schema-qualified instead.
create or replace function app.begin_request(ctx app.request_context) returns text
language plpgsql volatile
as $$
declare
  acting_user text := ctx.user_id;
begin
  if ctx.session_token is not null then
    acting_user := app_private.better_auth_session_user(ctx.session_token, ctx.session_table);
  elsif ctx.token_id is not null and app_private.access_token_revoked(ctx.token_id) then
    raise exception 'Token has been revoked' using errcode = 'PT401';
  end if;
  if acting_user is null or acting_user = '' then
    raise exception 'Invalid token' using errcode = 'PT401';
  end if;
  if ctx.path_user_id is not null and ctx.path_user_id is distinct from acting_user then
    raise exception 'Not your tasks' using errcode = 'PT403';
  end if;

  perform pg_catalog.set_config('role', 'app_user', true);
  perform pg_catalog.set_config('app.user_id', acting_user, true);
  perform pg_catalog.set_config('TimeZone', 'UTC', true);

  -- Looking is cheaper than an insert that finds a conflict, and almost every request looks.
  if not exists (select from app.users as u where u.id = acting_user) then
    insert into app.users (id, email, name)
    values (acting_user, ctx.email, ctx.name)
    on conflict (id) do nothing;
  end if;
  if ctx.email is not null or ctx.name is not null then
    update app.users as u
       set email = coalesce(ctx.email, u.email),
           name = coalesce(ctx.name, u.name)
     where u.id = acting_user
       and (u.email is distinct from coalesce(ctx.email, u.email)
            or u.name is distinct from coalesce(ctx.name, u.name));
  end if;
  return acting_user;
end
$$;

comment on function app.begin_request(app.request_context) is
  'Opens a request: resolves the caller, switches to app_user, sets app.user_id, upserts the user.';
-- Whatever role DATABASE_URL logs in as calls this before it is app_user; calling it only ever
-- lowers privileges, so every role may.
grant execute on function app.begin_request(app.request_context) to public;
