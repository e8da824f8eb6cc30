-- Signs in to a built-in account. The API has hashed the password it was given with the
-- account's parameters and salt (app.password_parameters); this compares that hash with the
-- one stored, and only when they match issues the refresh token, in a new family, and clears
-- the email's failure count. So whoever calls it, raw SQL as the request role included, gets a
-- token only by knowing the password. Outcomes:
--   ok            the token is stored; user_id, name and created_at say whose;
--   invalid       no such account, or another password: counted against the email and the
--                 client address (user_id is the account's, for the audit trail, when it exists);
--   rate_limited  too many failures: wait_seconds says how long; nothing is checked or counted.
-- It reports rather than raises, so that a counted failure commits though the caller gets 401.
-- The user row is read as its user (app.user_id, for that statement only), so that the users
-- table's own policies bind even an owner that is no superuser, as Neon's is.
create or replace function app.sign_in(
  email text, client_address text, password_hash text,
  refresh_hash bytea, refresh_expires_at timestamptz,
  access_token_id uuid, access_expires_at timestamptz
) returns table (
  outcome text, user_id text, name text, created_at timestamptz, wait_seconds integer
)
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  wait integer := app.auth_wait_seconds(sign_in.email, sign_in.client_address);
  account app_private.accounts;
  acting text := pg_catalog.current_setting('app.user_id', true);
begin
  if wait > 0 then
    return query select 'rate_limited', null::text, null::text, null::timestamptz, wait;
    return;
  end if;
  select * into account from app_private.accounts as a
   where pg_catalog.lower(a.email) = pg_catalog.lower(sign_in.email);
  if not found or account.password_hash is distinct from sign_in.password_hash then
    perform app_private.auth_failed(sign_in.email, sign_in.client_address);
    return query select 'invalid', account.user_id, null::text, null::timestamptz, 0;
    return;
  end if;

  delete from app_private.auth_failures as f
   where f.key = 'email:' || pg_catalog.lower(sign_in.email);
  perform app_private.issue_refresh_token(
    account.user_id, sign_in.refresh_hash, sign_in.refresh_expires_at,
    sign_in.access_token_id, sign_in.access_expires_at);
  perform pg_catalog.set_config('app.user_id', account.user_id, true);
  return query select 'ok', u.id, u.name, u.created_at, 0
                 from app.users as u where u.id = account.user_id;
  perform pg_catalog.set_config('app.user_id', coalesce(acting, ''), true);
end
$$;

comment on function app.sign_in(text, text, text, bytea, timestamptz, uuid, timestamptz) is
  'Checks a password''s hash against the account''s and only then issues a refresh token.';
revoke all on function app.sign_in(text, text, text, bytea, timestamptz, uuid, timestamptz)
  from public;
grant execute on function app.sign_in(text, text, text, bytea, timestamptz, uuid, timestamptz)
  to app_user;
