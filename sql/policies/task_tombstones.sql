-- Deleted tasks' ids (migration 0009). The request role may read its own (the change feed) and
-- nothing else: it has no write grant. insert_own is what the owner acts under, through its
-- app_user membership, in the trigger that records a deletion
-- (app_private.tg_tasks__record_change).
drop policy if exists select_own on app.task_tombstones;
create policy select_own on app.task_tombstones for select to app_user
  using (user_id = (select app.current_user_id()));

drop policy if exists insert_own on app.task_tombstones;
create policy insert_own on app.task_tombstones for insert to app_user
  with check (user_id = (select app.current_user_id()));

-- app_private.purge_expired deletes the rows older than the cutoff it names. These two policies
-- are for the owner alone (the role that runs this file, which owns the table and runs the
-- purge), never for app_user: a policy of the request role's is OR-ed into the feed's reads,
-- and a cutoff the request role set itself would widen what it sees.
do $$
begin
  drop policy if exists select_expired on app.task_tombstones;
  execute pg_catalog.format(
    $sql$create policy select_expired on app.task_tombstones for select to %I
           using (deleted_at < nullif(current_setting('app.tombstone_purge_before', true), '')::timestamptz)$sql$,
    current_user);
  drop policy if exists purge_expired on app.task_tombstones;
  execute pg_catalog.format(
    $sql$create policy purge_expired on app.task_tombstones for delete to %I
           using (deleted_at < nullif(current_setting('app.tombstone_purge_before', true), '')::timestamptz)$sql$,
    current_user);
end
$$;
