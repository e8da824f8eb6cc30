-- A user's change counter (migration 0009). The request role may read its own row (the list's
-- ETag, the change feed's cursors) and nothing else: it has no write grant. The write policies
-- are what the owner acts under, through its app_user membership, in the trigger that counts
-- writes (app_private.tg_tasks__record_change): the current user's own row only.
-- mark_purged and select_purging are for app_private.purge_expired, which raises
-- tombstones_purged_through for every user whose tombstones it deleted; they hold only for a
-- role other than app_user itself (the owner), while the purge names its cutoff.
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

drop policy if exists select_purging on app.task_sync_states;
create policy select_purging on app.task_sync_states for select to app_user
  using (current_user <> 'app_user'
         and nullif(current_setting('app.tombstone_purge_before', true), '') is not null);

drop policy if exists mark_purged on app.task_sync_states;
create policy mark_purged on app.task_sync_states for update to app_user
  using (current_user <> 'app_user'
         and nullif(current_setting('app.tombstone_purge_before', true), '') is not null)
  with check (current_user <> 'app_user'
              and nullif(current_setting('app.tombstone_purge_before', true), '') is not null);
