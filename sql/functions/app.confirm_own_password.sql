-- Erasure's confirmation: whether the hash the API made of the password it was given, with the
-- parameters app.own_account returned, is the caller's own account's. Counted against the same
-- failure limit as sign-in, so that a stolen access token cannot guess its way to an erasure.
-- Outcomes: ok; invalid (counted); rate_limited (wait_seconds says how long, nothing checked);
-- none, when the caller has no built-in account.
create or replace function app.confirm_own_password(password_hash text, client_address text)
returns table (outcome text, wait_seconds integer)
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  account app_private.accounts;
  wait integer;
begin
  select * into account from app_private.accounts as a where a.user_id = app.current_user_id();
  if not found then
    return query select 'none', 0;
    return;
  end if;
  wait := app.auth_wait_seconds(account.email, confirm_own_password.client_address);
  if wait > 0 then
    return query select 'rate_limited', wait;
  elsif account.password_hash is distinct from confirm_own_password.password_hash then
    perform app_private.auth_failed(account.email, confirm_own_password.client_address);
    return query select 'invalid', 0;
  else
    return query select 'ok', 0;
  end if;
end
$$;

comment on function app.confirm_own_password(text, text) is
  'Whether a password''s hash is the caller''s own account''s; a wrong one is counted.';
revoke all on function app.confirm_own_password(text, text) from public;
grant execute on function app.confirm_own_password(text, text) to app_user;
