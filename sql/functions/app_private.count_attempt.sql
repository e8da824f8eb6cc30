-- Counts a password attempt against the email before the attempt is compared, and says how
-- long the caller must wait when the email is past its limit (5 attempts that did not succeed
-- in a 15-minute window) or the client address past its own (100 failures); 0: go ahead.
-- Counting first, in the email's row, which the upsert locks, makes concurrent attempts for
-- one email count one after another: no burst gets more comparisons than the limit. A sign-in
-- that succeeds clears the count (app.sign_in). The address is counted only when a
-- comparison fails: raw SQL names any address it likes anyway, and a success then costs no
-- write to a row that every sign-in from a busy address would share.
create or replace function app_private.count_attempt(email text, client_address text)
returns integer
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  -- The database's own collation, whatever the caller's argument carries: lower() under "C"
  -- would leave 'İ' as it is, and give one account another key, with a limit of its own.
  email_key text := 'email:' || pg_catalog.lower(count_attempt.email collate pg_catalog."default");
begin
  if app_private.count_failure(email_key) <= 5 then
    return coalesce((
      select pg_catalog.ceil(extract(epoch from
               f.window_started_at + interval '15 minutes' - pg_catalog.now()))::integer
        from app_private.auth_failures as f
       where f.key = 'client:' || count_attempt.client_address and f.failures >= 100
         and f.window_started_at > pg_catalog.now() - interval '15 minutes'), 0);
  end if;
  return (select pg_catalog.ceil(extract(epoch from
            f.window_started_at + interval '15 minutes' - pg_catalog.now()))::integer
            from app_private.auth_failures as f where f.key = email_key);
end
$$;

comment on function app_private.count_attempt(text, text) is
  'Counts one password attempt for an email; seconds to wait when it or the address is past the limit.';
revoke all on function app_private.count_attempt(text, text) from public;
