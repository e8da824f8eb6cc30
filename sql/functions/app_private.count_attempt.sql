-- Counts a password attempt against the email and the client address before the attempt is
-- compared (and a sign-up refused for a taken email, after), and says how long the caller must wait when the count is past the limit (5 per
-- email, 100 per address, in a 15-minute window; 0: go ahead). Counting first, in the row of
-- each key, which the upsert locks, makes concurrent attempts count one after another: no
-- burst gets more comparisons than the limit. A sign-in that succeeds takes its own count back
-- (app.sign_in).
create or replace function app_private.count_attempt(email text, client_address text)
returns integer
language sql volatile security definer
set search_path = ''
as $$
  with counted as (
    insert into app_private.auth_failures as f (key, failures, window_started_at)
    values ('email:' || pg_catalog.lower(count_attempt.email), 1, pg_catalog.now()),
           ('client:' || count_attempt.client_address, 1, pg_catalog.now())
    on conflict (key) do update
       set failures = case when f.window_started_at > pg_catalog.now() - interval '15 minutes'
                           then f.failures + 1 else 1 end,
           window_started_at = case when f.window_started_at > pg_catalog.now() - interval '15 minutes'
                                    then f.window_started_at else pg_catalog.now() end
    returning f.key, f.failures, f.window_started_at
  )
  select coalesce(pg_catalog.max(pg_catalog.ceil(extract(epoch from
           c.window_started_at + interval '15 minutes' - pg_catalog.now())))::integer, 0)
    from counted as c
   where (pg_catalog.starts_with(c.key, 'email:') and c.failures > 5)
      or (pg_catalog.starts_with(c.key, 'client:') and c.failures > 100)
$$;

comment on function app_private.count_attempt(text, text) is
  'Counts one password attempt for an email and a client; seconds to wait when past the limit.';
revoke all on function app_private.count_attempt(text, text) from public;
