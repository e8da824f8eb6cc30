-- What the change feed (GET /api/tasks/changes) and the list's ETag read: every write of a task
-- takes the next number of its owner's change counter, in the writer's own transaction.
--
-- 1. app.task_sync_states: one row per user, change_count counts the user's task writes. The
--    trigger that stamps a write (app_private.tg_tasks__record_change) increments it, which
--    locks the row until the writer commits: the next writer of that user waits, so one user's
--    writes commit in counter order, and a reader that sees number n sees every number below it.
--    A sequence or updated_at cannot promise that: transactions commit out of order, and a
--    cursor past a later number would skip an earlier one committed after it.
-- 2. app.tasks.change_seq: the counter's value at the task's last write. Nothing else about the
--    tasks changes (no column of the API's JSON), and existing tasks get numbers in the order of
--    their last update, with the stamping trigger held off so that their versions stay.
-- 3. app.task_tombstones: the id of each deleted task, with its number, kept for
--    TOMBSTONE_RETENTION_DAYS (app_private.purge_expired). tombstones_purged_through remembers
--    the highest number the purge took: a cursor below it may have missed a deletion (410).
-- The function, policies and trigger bindings are in sql/functions and sql/policies.
-- app.list_tasks changes its answer (the marker beside the body) and app_private.purge_expired
-- takes the tombstones' period: create or replace cannot, so the old ones go here.
-- depends: 0008_add_task_fields

create table app.task_sync_states (
  user_id text primary key references app.users (id) on delete cascade,
  change_count bigint not null default 0 check (change_count >= 0),
  tombstones_purged_through bigint not null default 0
    check (tombstones_purged_through between 0 and change_count)
);
comment on table app.task_sync_states is
  'Per user: how many task writes there have been (the list ETag, the feed''s cursors).';
comment on column app.task_sync_states.tombstones_purged_through is
  'Highest change number of a purged tombstone: an older cursor answers 410.';
alter table app.task_sync_states enable row level security;
alter table app.task_sync_states force row level security;
grant select on app.task_sync_states to app_user;

create table app.task_tombstones (
  user_id text not null references app.task_sync_states (user_id) on delete cascade,
  change_seq bigint not null,
  task_id bigint not null,
  deleted_at timestamptz not null default now(),
  primary key (user_id, change_seq)
);
comment on table app.task_tombstones is
  'Deleted tasks'' ids, for the change feed, until app_private.purge_expired takes them.';
-- The purge finds old tombstones by time; they arrive in time order.
create index task_tombstones_deleted_at_idx on app.task_tombstones using brin (deleted_at);
alter table app.task_tombstones enable row level security;
alter table app.task_tombstones force row level security;
grant select on app.task_tombstones to app_user;

alter table app.tasks add column change_seq bigint;
comment on column app.tasks.change_seq is
  'The owner''s change counter at this task''s last write (app_private.tg_tasks__record_change).';

-- Numbers for the tasks already there. The migrating role may not be a superuser: row-level
-- security is lifted for this transaction's backfill only, and the stamping trigger (which
-- would bump versions) is held off.
alter table app.tasks no force row level security;
alter table app.task_sync_states no force row level security;
alter table app.tasks disable trigger user;
update app.tasks as t
   set change_seq = n.seq
  from (select s.id, pg_catalog.row_number() over (partition by s.user_id
                                                   order by s.updated_at, s.id) as seq
          from app.tasks as s) as n
 where n.id = t.id;
insert into app.task_sync_states (user_id, change_count)
select t.user_id, pg_catalog.max(t.change_seq) from app.tasks as t group by t.user_id;
alter table app.tasks enable trigger user;
alter table app.tasks force row level security;
alter table app.task_sync_states force row level security;

alter table app.tasks alter column change_seq set not null;
create unique index tasks_user_id_change_seq_idx on app.tasks (user_id, change_seq);

drop function if exists app.list_tasks(app.request_context);
drop function if exists app_private.purge_expired(interval, interval, interval);
