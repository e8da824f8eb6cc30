-- Signs in to a built-in account, given an attempt app.sign_in_attempt recorded and counted
-- in a transaction that committed: the hash the API made of the password it was given, with
-- the account's parameters and salt. Only when it is the stored hash does this issue the
-- refresh token (in a new family) and clear the email's count; so whoever calls it, raw SQL as the request role
-- included, gets a token only by knowing the password, and learns whether a guess was right
-- only after the guess was counted. Outcomes:
--   ok       the token is stored; user_id, name and created_at say whose. A new_password_hash,
--            made with today's parameters when the stored hash was made with older ones,
--            replaces it;
--   invalid  no such account, another password, or no such attempt: the attempt stays counted
--            against the email, a failure is counted against the client address, and a
--            sign_in_failed audit event names the account (the caller is not told whose);
--   stale    the account's hash changed since its parameters were handed out (another
--            sign-in upgraded it): nothing compared; the attempt stays counted (a success of
--            the API's second try clears it), so that a stale attempt cannot lower a count.
-- It reports rather than raises, so that what it did commits though the caller gets 401.
-- The user row is read as its user (app.user_id, for that statement only), so that the users
-- table's own policies bind even an owner that is no superuser, as Neon's is.
create or replace function app.sign_in(
  attempt_id uuid, new_password_hash text,
  refresh_hash bytea, refresh_expires_at timestamptz,
  access_token_id uuid, access_expires_at timestamptz,
  user_agent text, request_id text
) returns table (outcome text, user_id text, name text, created_at timestamptz)
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  attempt app_private.sign_in_attempts;
  account app_private.accounts;
  known boolean;
  acting text := pg_catalog.current_setting('app.user_id', true);
begin
  select * into attempt from app_private.take_attempt(sign_in.attempt_id);
  if not found then
    return query select 'invalid', null::text, null::text, null::timestamptz;
    return;
  end if;
  select * into account from app_private.accounts as a
   where pg_catalog.lower(a.email) = attempt.email;  -- lowered once, by app.sign_in_attempt
  known := found;

  if known and not app_private.hash_matches(account.password_hash, attempt.password_digest)
     and attempt.password_parameters <> ''
     and app_private.hash_parameters(account.password_hash) <> attempt.password_parameters then
    return query select 'stale', null::text, null::text, null::timestamptz;
    return;
  end if;
  if not known or not app_private.hash_matches(account.password_hash, attempt.password_digest) then
    perform app_private.count_failure('client:' || attempt.client_address);
    insert into app.audit_events (event, user_id, client_address, user_agent, request_id)
    values ('sign_in_failed', account.user_id, attempt.client_address,
            pg_catalog.left(sign_in.user_agent, 512), pg_catalog.left(sign_in.request_id, 128));
    return query select 'invalid', null::text, null::text, null::timestamptz;
    return;
  end if;

  delete from app_private.auth_failures as f
   where f.key = 'email:' || attempt.email;
  if sign_in.new_password_hash is not null then
    update app_private.accounts as a
       set password_hash = sign_in.new_password_hash, updated_at = pg_catalog.now()
     where a.user_id = account.user_id;
  end if;
  perform app_private.issue_refresh_token(
    account.user_id, sign_in.refresh_hash, sign_in.refresh_expires_at,
    sign_in.access_token_id, sign_in.access_expires_at);
  perform pg_catalog.set_config('app.user_id', account.user_id, true);
  return query select 'ok', u.id, u.name, u.created_at
                 from app.users as u where u.id = account.user_id;
  perform pg_catalog.set_config('app.user_id', coalesce(acting, ''), true);
end
$$;

comment on function app.sign_in(uuid, text, bytea, timestamptz, uuid, timestamptz, text, text) is
  'Compares a counted attempt with the account''s hash and only then issues a refresh token.';
revoke all on function app.sign_in(uuid, text, bytea, timestamptz, uuid, timestamptz, text, text)
  from public;
grant execute on function app.sign_in(uuid, text, bytea, timestamptz, uuid, timestamptz, text, text)
  to app_user;
