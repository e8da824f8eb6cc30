-- The attempt app.sign_in or app.erase_account compares, taken (deleted) so that it is compared
-- once: only one another transaction committed (app.sign_in_attempt's is counted by then), not
-- older than 5 minutes. No row when there is no such attempt.
create or replace function app_private.take_attempt(attempt_id uuid)
returns setof app_private.sign_in_attempts
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  delete from app_private.sign_in_attempts as a
   where a.id = take_attempt.attempt_id
     and a.inserted_by <> pg_catalog.pg_current_xact_id()
     and a.created_at > pg_catalog.now() - interval '5 minutes'
  returning a.*
$$;

comment on function app_private.take_attempt(uuid) is
  'Deletes and returns a password attempt another transaction committed.';
revoke all on function app_private.take_attempt(uuid) from public;
