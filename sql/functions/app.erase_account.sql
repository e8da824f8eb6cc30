-- Erases what this service holds about the caller, in the caller's transaction (DELETE
-- /api/account; how-to/privacy.md):
--   1. revokes every access token of theirs this service issued that is still alive (each
--      refresh token remembers its access token), and the one in use;
--   2. deletes the sign-in failures counted against their email, and the password attempts
--      for it still waiting to be compared;
--   3. replaces their user id in the audit trail by a pseudonym, new for this erasure, and adds
--      an account_erased event under it: the trail keeps what happened and when, no longer
--      whose (app_private.tg_audit_events__guard allows exactly this update);
--   4. deletes their user row, which takes their tasks, account and refresh tokens with it (on
--      delete cascade).
-- A built-in account's erasure must be confirmed with its password, as the database checks it:
-- `attempt_id` names an attempt app.sign_in_attempt counted and committed for the account's
-- email, with the hash of the password made with its parameters (app.own_account); anything
-- else is PT403, and the erasure does not happen. A Better Auth user has no password here.
-- A row that app.begin_request created in this very transaction means nothing was stored before
-- this request: PT404, and the transaction, row included, rolls back. So a second erasure with
-- a token that still verifies (a Better Auth JWT) answers 404, and leaves nothing behind.
create or replace function app.erase_account(
  attempt_id uuid, access_token_id uuid, access_expires_at timestamptz,
  client_address text, user_agent text, request_id text
) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  erased text := app.current_user_id();
  pseudonym text := 'erased:' || pg_catalog.gen_random_uuid()::text;
  account app_private.accounts;
  attempt app_private.sign_in_attempts;
begin
  if erased is null then
    raise exception 'Invalid token' using errcode = 'PT401';
  end if;
  if not exists (select from app.users as u
                  where u.id = erased and u.created_at <> pg_catalog.now()) then
    raise exception 'Nothing is stored for this account' using errcode = 'PT404';
  end if;
  select * into account from app_private.accounts as a where a.user_id = erased;
  if found then
    select * into attempt from app_private.take_attempt(erase_account.attempt_id);
    if not found
       or attempt.email <> pg_catalog.lower(account.email)
       or not app_private.hash_matches(account.password_hash, attempt.password_digest) then
      raise exception 'Wrong password' using errcode = 'PT403';
    end if;
  end if;

  insert into app_private.revoked_access_tokens (jti, expires_at)
  select r.access_token_id, r.access_expires_at
    from app_private.refresh_tokens as r
   where r.user_id = erased and r.access_expires_at > pg_catalog.now()
  union
  select erase_account.access_token_id,
         coalesce(erase_account.access_expires_at, pg_catalog.now() + interval '1 day')
   where erase_account.access_token_id is not null
  on conflict (jti) do nothing;

  delete from app_private.auth_failures as f
   where f.key = 'email:' || pg_catalog.lower(account.email);
  delete from app_private.sign_in_attempts as a
   where pg_catalog.lower(a.email) = pg_catalog.lower(account.email);

  perform pg_catalog.set_config('app.erasing_user', erased, true);
  update app.audit_events as e set user_id = pseudonym where e.user_id = erased;
  perform pg_catalog.set_config('app.erasing_user', '', true);
  insert into app.audit_events (event, user_id, client_address, user_agent, request_id)
  values ('account_erased', pseudonym, erase_account.client_address, erase_account.user_agent,
          erase_account.request_id);

  delete from app.users as u where u.id = erased;
end
$$;

comment on function app.erase_account(uuid, uuid, timestamptz, text, text, text) is
  'Erases the caller''s data and sessions; the audit trail keeps a pseudonym. PT404 if none.';
revoke all on function app.erase_account(uuid, uuid, timestamptz, text, text, text) from public;
grant execute on function app.erase_account(uuid, uuid, timestamptz, text, text, text) to app_user;
