-- Counts one failure against a rate-limit key ('email:<lower-case email>' or
-- 'client:<address>'), starting a new 15-minute window for a key whose window is over. Returns
-- the key's count in its window, this failure included. The upsert locks the key's row until
-- the transaction ends, so that concurrent counts of one key come one after another.
create or replace function app_private.count_failure(key text) returns integer
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  insert into app_private.auth_failures as f (key, failures, window_started_at)
  values (count_failure.key, 1, pg_catalog.now())
  on conflict (key) do update
     set failures = case when f.window_started_at > pg_catalog.now() - interval '15 minutes'
                         then f.failures + 1 else 1 end,
         window_started_at = case when f.window_started_at > pg_catalog.now() - interval '15 minutes'
                                  then f.window_started_at else pg_catalog.now() end
  returning f.failures
$$;

comment on function app_private.count_failure(text) is
  'Counts one failure for a rate-limit key; returns the count in its window.';
revoke all on function app_private.count_failure(text) from public;
