-- GET /api/tasks/changes in one statement: the caller's tasks written after a cursor, the ids of
-- those deleted after it, and where the next call starts. A cursor is two change numbers
-- (app.task_sync_states, migration 0009), which the API wraps in an opaque string:
--   after_seq  the writes the client has: tasks and tombstones numbered above it are sent;
--   horizon    deletions up to it are known not to matter (they happened before the snapshot a
--              full resync started from, so the client never had those tasks); 0 otherwise.
-- One user's writes commit in counter order, so a snapshot that shows number n shows every
-- number below it: nothing numbered at most the next cursor can appear later, and a task
-- written again takes a new number and comes again. At most max_items items (tasks and
-- tombstones together, in number order) a call; has_more says there are others.
-- outcome is 'done', or 'gone' when tombstones the cursor needs were purged
-- (tombstones_purged_through; a counter made again after an erasure starts above its old
-- numbers, see app_private.tg_tasks__record_change), or when the cursor is ahead of the
-- caller's counter (another user's): either way the client must resync in full.
-- A full resync passes after_seq 0 and a null horizon: every task, no tombstones, and pages
-- after the first keep the first page's counter as their horizon.
-- One statement, so that the counter, the tasks and the tombstones come from one snapshot. The
-- shape of a request function: see app.list_tasks.
create or replace function app.task_changes(
  ctx app.request_context, after_seq bigint, horizon bigint, max_items integer,
  out outcome text, out next_seq bigint, out next_horizon bigint, out has_more boolean,
  out tasks text, out deleted text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  with state as (
    select coalesce(pg_catalog.max(s.change_count), 0) as head,
           coalesce(pg_catalog.max(s.tombstones_purged_through), 0) as purged
      from app.task_sync_states as s
  ), floor as (
    select st.head, st.purged,
           greatest(task_changes.after_seq, coalesce(task_changes.horizon, st.head)) as skip_below
      from state as st
  ), items as (
    select * from (
      (select t.change_seq as seq, t.public_json as json, null::bigint as task_id
         from app.tasks as t
        where t.change_seq > task_changes.after_seq
        order by t.change_seq
        limit task_changes.max_items + 1)
      union all
      (select d.change_seq, null, d.task_id
         from app.task_tombstones as d, floor as f
        where d.change_seq > f.skip_below
        order by d.change_seq
        limit task_changes.max_items + 1)
    ) as u
    order by u.seq
    limit task_changes.max_items + 1
  ), numbered as (
    select i.*, pg_catalog.row_number() over (order by i.seq) as n from items as i
  ), page as (
    select * from numbered as p where p.n <= task_changes.max_items
  )
  -- A cursor of nothing (0, 0: issued before the caller's first write) holds no task a purged
  -- tombstone could be about.
  select case when task_changes.after_seq > f.head or task_changes.horizon > f.head
                   or (f.skip_below < f.purged and f.skip_below > 0) then 'gone' else 'done' end,
         case when m.more then (select pg_catalog.max(p.seq) from page as p) else f.head end,
         case when m.more then coalesce(task_changes.horizon, f.head) else 0 end,
         m.more,
         '[' || coalesce((select pg_catalog.string_agg(p.json, ',' order by p.seq)
                            from page as p where p.json is not null), '') || ']',
         '[' || coalesce((select pg_catalog.string_agg(p.task_id::text, ',' order by p.seq)
                            from page as p where p.task_id is not null), '') || ']'
    into task_changes.outcome, task_changes.next_seq, task_changes.next_horizon,
         task_changes.has_more, task_changes.tasks, task_changes.deleted
    from floor as f,
         lateral (select exists (select from numbered as x where x.n > task_changes.max_items)
                  as more) as m;
  if task_changes.outcome = 'gone' then
    task_changes.next_seq := null;
    task_changes.next_horizon := null;
    task_changes.has_more := null;
    task_changes.tasks := null;
    task_changes.deleted := null;
  end if;
end
$$;

comment on function app.task_changes(app.request_context, bigint, bigint, integer) is
  'GET /api/tasks/changes: tasks and tombstones after a cursor, the next cursor, has_more.';
grant execute on function app.task_changes(app.request_context, bigint, bigint, integer) to public;
