-- Numbers every write of a task for the change feed and the list's ETag (migration 0009):
-- before an insert or update, the owner's change counter goes up by one and the task takes its
-- value (change_seq); after a delete, the deleted id is kept as a tombstone with the next value.
-- Incrementing locks the owner's app.task_sync_states row until the transaction ends, so the
-- owner's next writer waits for this one to commit or roll back: one user's writes commit in
-- counter order, and the feed can never pass a number whose write is yet to commit.
-- A new counter starts at the current time in milliseconds, with everything below it counted
-- as purged: an account erased and then created again (a Better Auth user id comes back) starts
-- above every number its earlier life reached (unless that life made more writes than there
-- have been milliseconds since it began), so an earlier device's cursor answers 410 and its
-- list ETag never matches.
-- Security definer, so that the request role needs no write grant on the counter or the
-- tombstones; as the owner it still acts under their policies (through its app_user
-- membership), which allow the current user's own row only. A delete the owner makes without a
-- current user (an erasure's cascade, maintenance) is not recorded: nobody is left to sync it.
create or replace function app_private.tg_tasks__record_change() returns trigger
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  seq bigint;
begin
  if tg_op = 'DELETE' then
    update app.task_sync_states as s
       set change_count = s.change_count + 1
     where s.user_id = old.user_id
    returning s.change_count into seq;
    if found then
      insert into app.task_tombstones (user_id, change_seq, task_id)
      values (old.user_id, seq, old.id);
    end if;
    return old;
  end if;
  if new.user_id is null then  -- no user: the not-null constraint refuses the row
    return new;
  end if;
  insert into app.task_sync_states as s (user_id, change_count, tombstones_purged_through)
  select new.user_id, start.ms, start.ms - 1
    from (select (extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint
                 as ms) as start
  on conflict (user_id) do update set change_count = s.change_count + 1
  returning s.change_count into seq;
  new.change_seq := seq;
  return new;
end
$$;

comment on function app_private.tg_tasks__record_change() is
  'Before insert or update and after delete on app.tasks: numbers the write for the change feed.';
revoke all on function app_private.tg_tasks__record_change() from public;
