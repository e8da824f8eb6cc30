-- Deleted tasks' ids (migration 0009). The request role may read its own (the change feed) and
-- nothing else: it has no write grant. insert_own is what the owner acts under, through its
-- app_user membership, in the trigger that records a deletion
-- (app_private.tg_tasks__record_change). select_expired and purge_expired are for
-- app_private.purge_expired: rows older than the cutoff it names, for a role other than
-- app_user itself (the owner), so that the request role cannot widen its view by setting the
-- cutoff.
drop policy if exists select_own on app.task_tombstones;
create policy select_own on app.task_tombstones for select to app_user
  using (user_id = (select app.current_user_id()));

drop policy if exists insert_own on app.task_tombstones;
create policy insert_own on app.task_tombstones for insert to app_user
  with check (user_id = (select app.current_user_id()));

drop policy if exists select_expired on app.task_tombstones;
create policy select_expired on app.task_tombstones for select to app_user
  using (current_user <> 'app_user'
         and deleted_at < nullif(current_setting('app.tombstone_purge_before', true), '')::timestamptz);

drop policy if exists purge_expired on app.task_tombstones;
create policy purge_expired on app.task_tombstones for delete to app_user
  using (current_user <> 'app_user'
         and deleted_at < nullif(current_setting('app.tombstone_purge_before', true), '')::timestamptz);
