-- Counts a failed sign-in or sign-up against the email and the client address, starting a new
-- 15-minute window for a key whose window is over.
create or replace function app.auth_failed(email text, client_address text) returns void
language sql volatile security definer
set search_path = ''
as $$
  insert into app_private.auth_failures as f (key, failures, window_started_at)
  values ('email:' || pg_catalog.lower(auth_failed.email), 1, pg_catalog.now()),
         ('client:' || auth_failed.client_address, 1, pg_catalog.now())
  on conflict (key) do update
     set failures = case when f.window_started_at > pg_catalog.now() - interval '15 minutes'
                         then f.failures + 1 else 1 end,
         window_started_at = case when f.window_started_at > pg_catalog.now() - interval '15 minutes'
                                  then f.window_started_at else pg_catalog.now() end
$$;

comment on function app.auth_failed(text, text) is 'Counts one failed attempt for an email and a client.';
revoke all on function app.auth_failed(text, text) from public;
grant execute on function app.auth_failed(text, text) to app_user;
