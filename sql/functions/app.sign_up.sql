-- Creates a built-in account: a user row, its credentials and its first refresh token, in one
-- call, so that the request role can issue a token only for an account it has just created.
-- The email is unique case-insensitively; of two racing sign-ups exactly one wins. The password
-- arrives already hashed (argon2id, in the API). Outcomes:
--   ok            the account and the token are stored; id and created_at are the new user's;
--   taken         the email is registered already: counted as a failure, nothing else stored;
--   rate_limited  too many failures for this email or address: wait_seconds says how long.
-- It reports rather than raises, so that a counted failure commits though the caller gets 409.
-- The user row is written as the new user (app.user_id, for the rest of the call only), so that
-- the users table's own policies bind even an owner that is no superuser, as Neon's is.
create or replace function app.sign_up(
  email text, password_hash text, name text, client_address text,
  refresh_hash bytea, refresh_expires_at timestamptz,
  access_token_id uuid, access_expires_at timestamptz
) returns table (outcome text, id text, created_at timestamptz, wait_seconds integer)
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  new_id text := pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', '');
  wait integer := app.auth_wait_seconds(sign_up.email, sign_up.client_address);
  acting text := pg_catalog.current_setting('app.user_id', true);
begin
  if wait > 0 then
    return query select 'rate_limited', null::text, null::timestamptz, wait;
    return;
  end if;
  perform pg_catalog.set_config('app.user_id', new_id, true);
  begin
    insert into app.users as u (id, email, name)
    values (new_id, sign_up.email, sign_up.name);
    insert into app_private.accounts (user_id, email, password_hash)
    values (new_id, sign_up.email, sign_up.password_hash);
  exception when unique_violation then
    perform pg_catalog.set_config('app.user_id', coalesce(acting, ''), true);
    perform app_private.count_failure(
      'email:' || pg_catalog.lower(sign_up.email collate pg_catalog."default"));
    perform app_private.count_failure(
      'client:' || pg_catalog.left(coalesce(sign_up.client_address, ''), 64));
    return query select 'taken', null::text, null::timestamptz, 0;
    return;
  end;
  perform app_private.issue_refresh_token(
    new_id, sign_up.refresh_hash, sign_up.refresh_expires_at,
    sign_up.access_token_id, sign_up.access_expires_at);
  return query select 'ok', u.id, u.created_at, 0 from app.users as u where u.id = new_id;
  perform pg_catalog.set_config('app.user_id', coalesce(acting, ''), true);
end
$$;

comment on function app.sign_up(text, text, text, text, bytea, timestamptz, uuid, timestamptz) is
  'Creates a user with a built-in account and its first refresh token; reports a taken email.';
revoke all on function app.sign_up(text, text, text, text, bytea, timestamptz, uuid, timestamptz)
  from public;
grant execute on function app.sign_up(text, text, text, text, bytea, timestamptz, uuid, timestamptz)
  to app_user;
