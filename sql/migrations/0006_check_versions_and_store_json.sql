-- Two changes to how tasks are written and read, made together because the request functions
-- change shape for both.
--
-- 1. One optimistic-locking mechanism. Updates used to set version to the version the client
--    read, and app_private.tg_tasks__stamp_row refused any other value (PT409), while
--    app.delete_task compared versions in its WHERE clause. Now every write compares in its
--    WHERE clause and answers outcome 'done', 'stale' or 'missing' (sql/functions/app.*_task.sql).
--    Nobody chooses a version any more: the trigger sets it, and the request role loses its
--    update grant on the column. The four write functions change their OUT parameters, which
--    create or replace cannot do, so they are dropped here (where they exist: on a new database
--    sql/functions has not run yet) and sql/functions creates them again.
--
-- 2. Each task's JSON, rendered once per write instead of once per read. Rendering JSON row by
--    row was most of what a list cost PostgreSQL (how-to/benchmark.md, "The database's half of
--    a list"). public_json is a stored generated column, so PostgreSQL itself recomputes it on
--    every insert and update, whoever writes and however (the owner, COPY, a trigger), and
--    nobody can write it directly. Adding it rewrites the table, which fills it for existing
--    rows. Its expression must be immutable: app.task_public_json pins TimeZone to UTC for its
--    own call, so the text does not depend on the writer's session. It lives here, not in
--    sql/functions, because stored rows hold its output: changing the wire format takes a new
--    migration that recomputes the column, never an edit of a repeatable file.
--    app.task_public(app.tasks), which rendered on read, goes; the type app.task_public stays
--    and still defines the fields.
-- depends: 0005_request_functions

revoke update (version) on app.tasks from app_user;
comment on column app.tasks.version is
  'Starts at 1, goes up by one on every update (the trigger sets it); writers compare, never set.';

drop function if exists app.replace_task(app.request_context, bigint, text, text, boolean, integer);
drop function if exists app.patch_task(app.request_context, bigint, jsonb, integer);
drop function if exists app.toggle_task(app.request_context, bigint, integer);
drop function if exists app.delete_task(app.request_context, bigint, integer);
drop function if exists app.task_public(app.tasks);

-- PL/pgSQL, not SQL: a SQL function that cannot be inlined (this one has a set clause) is
-- planned again by every statement that calls it, which slowed every insert and update;
-- PL/pgSQL keeps its plan for the session (how-to/benchmark.md).
create function app.task_public_json(
  id bigint, title text, description text, completed boolean, user_id text, version integer,
  created_at timestamptz, updated_at timestamptz
) returns text
language plpgsql immutable
set timezone = 'UTC'
as $$
begin
  return pg_catalog.to_json(
    row(task_public_json.id, task_public_json.title, task_public_json.description,
        task_public_json.completed, task_public_json.user_id, task_public_json.version,
        task_public_json.created_at, task_public_json.updated_at)::app.task_public
  )::text;
end
$$;
comment on function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz
) is 'A task as the API sends it (TaskPublic), as JSON text with UTC timestamps.';
-- Whoever writes app.tasks evaluates the generated column, and so needs execute.
revoke all on function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz
) from public;
grant execute on function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz
) to app_user;

alter table app.tasks add column public_json text not null
  generated always as (app.task_public_json(id, title, description, completed, user_id, version,
                                            created_at, updated_at)) stored;
comment on column app.tasks.public_json is
  'The task as the API sends it (app.task_public_json of the other columns), kept by PostgreSQL.';
