-- A user's change counter (migration 0009). The request role may read its own row (the list's
-- ETag, the change feed's cursors) and nothing else: it has no write grant. The write policies
-- are what the owner acts under, through its app_user membership, in the trigger that counts
-- writes (app_private.tg_tasks__record_change): the current user's own row only.
drop policy if exists select_own on app.task_sync_states;
create policy select_own on app.task_sync_states for select to app_user
  using (user_id = (select app.current_user_id()));

drop policy if exists insert_own on app.task_sync_states;
create policy insert_own on app.task_sync_states for insert to app_user
  with check (user_id = (select app.current_user_id()));

drop policy if exists update_own on app.task_sync_states;
create policy update_own on app.task_sync_states for update to app_user
  using (user_id = (select app.current_user_id()))
  with check (user_id = (select app.current_user_id()));

-- app_private.purge_expired raises tombstones_purged_through for every user whose tombstones it
-- deleted, while it names its cutoff. These two policies are for the owner alone (the role that
-- runs this file, which owns the table and runs the purge), never for app_user: a policy of the
-- request role's is OR-ed into every one of its queries, and the list's read of its own row
-- would scan the table instead of using its key.
do $$
begin
  drop policy if exists select_purging on app.task_sync_states;
  execute pg_catalog.format(
    $sql$create policy select_purging on app.task_sync_states for select to %I
           using (nullif(current_setting('app.tombstone_purge_before', true), '') is not null)$sql$,
    current_user);
  drop policy if exists mark_purged on app.task_sync_states;
  execute pg_catalog.format(
    $sql$create policy mark_purged on app.task_sync_states for update to %I
           using (nullif(current_setting('app.tombstone_purge_before', true), '') is not null)
           with check (nullif(current_setting('app.tombstone_purge_before', true), '') is not null)$sql$,
    current_user);
end
$$;
