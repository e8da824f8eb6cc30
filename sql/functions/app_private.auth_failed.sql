-- Counts a failed sign-in, sign-up or erasure confirmation against the email and the client
-- address, starting a new 15-minute window for a key whose window is over. Only the functions
-- that check a password call it (app.sign_in, app.sign_up, app.confirm_own_password,
-- app.rehash_password): the request role cannot count failures, or clear them, by itself.
create or replace function app_private.auth_failed(email text, client_address text) returns void
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

comment on function app_private.auth_failed(text, text) is
  'Counts one failed attempt for an email and a client.';
revoke all on function app_private.auth_failed(text, text) from public;
