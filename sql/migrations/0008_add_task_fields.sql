-- The fields the best task APIs share and real frontends send: a priority, a due date (a day,
-- or a moment), tags, a manual position; and `extra`, the top-level fields a client sends that
-- the API does not model, kept as sent and sent back (api/models.py, UNKNOWN_TASK_FIELDS).
--
-- The task's JSON gains them, so its stored column is computed again: app.task_public_json
-- takes the new columns (a new signature, so the column that calls the old one goes first and
-- comes back, which rewrites the table and fills it for existing rows). The write functions
-- that take the fields as arguments change signature too; the old ones are dropped here and
-- sql/functions creates the new ones.
--
-- The checks mirror api/models.py: priority 1 (low) to 3 (high), or null for none; up to 20
-- tags of 1 to 50 characters, trimmed, no repeats; `extra` an object of at most 20 keys and
-- 16 KB that names no field the API models. Functions used by a check are immutable and live
-- here, with the columns whose stored values they judge.
-- depends: 0007_add_erasure_and_retention

create function app_private.tags_are_valid(tags text[]) returns boolean
language sql immutable strict parallel safe
set search_path = ''
return pg_catalog.cardinality(tags) <= 20
   and pg_catalog.array_position(tags, null) is null
   and (select pg_catalog.bool_and(pg_catalog.char_length(tag) between 1 and 50
                                   and tag = pg_catalog.btrim(tag))
             and pg_catalog.count(distinct tag) = pg_catalog.count(*)
          from pg_catalog.unnest(tags) as tag) is not false;
comment on function app_private.tags_are_valid(text[]) is
  'Check of app.tasks.tags: at most 20, each 1 to 50 characters and trimmed, no repeats.';

create function app_private.extra_is_valid(extra jsonb) returns boolean
language sql immutable strict parallel safe
set search_path = ''
return pg_catalog.jsonb_typeof(extra) = 'object'
   and pg_catalog.octet_length(extra::text) <= 16384
   and (select pg_catalog.count(*) from pg_catalog.jsonb_object_keys(extra)) <= 20
   and not extra ?| array['id', 'title', 'description', 'completed', 'status', 'user_id',
                          'version', 'created_at', 'updated_at', 'priority', 'due_date',
                          'tags', 'position'];
comment on function app_private.extra_is_valid(jsonb) is
  'Check of app.tasks.extra: an object of at most 20 keys and 16 KB naming no modelled field.';

alter table app.tasks
  add column priority smallint check (priority between 1 and 3),
  add column due_at timestamptz,
  add column due_all_day boolean not null default false,
  add column tags text[] not null default '{}' check (app_private.tags_are_valid(tags)),
  add column position integer not null default 0,
  add column extra jsonb not null default '{}' check (app_private.extra_is_valid(extra)),
  add constraint tasks_due_all_day_check check (not due_all_day or due_at is not null);
comment on column app.tasks.priority is '1 low, 2 medium, 3 high; null for none.';
comment on column app.tasks.due_at is
  'When the task is due; for a due day (due_all_day), that day at 00:00 UTC.';
comment on column app.tasks.due_all_day is
  'The task is due on a day (sent and shown as YYYY-MM-DD), not at a moment.';
comment on column app.tasks.tags is 'Labels, in the order the client gave them.';
comment on column app.tasks.position is 'A manual order among the user''s tasks, lowest first.';
comment on column app.tasks.extra is
  'Top-level fields a client sent that the API does not model, kept and sent back as sent.';

grant insert (priority, due_at, due_all_day, tags, position, extra),
  update (priority, due_at, due_all_day, tags, position, extra) on app.tasks to app_user;

-- The lists filter and sort by these within one user's tasks (app.query_tasks): each index
-- leads with user_id, which row-level security compares, and ends with id, the tie-breaker of
-- every order, so a keyset page is one index range. Sorts by a column that can be null sort on
-- the expression that puts nulls last.
create index tasks_user_id_completed_id_idx on app.tasks (user_id, completed, id);
create index tasks_user_id_updated_at_id_idx on app.tasks (user_id, updated_at, id);
create index tasks_user_id_due_idx on app.tasks (user_id, (coalesce(due_at, 'infinity')), id);
create index tasks_user_id_priority_idx on app.tasks (user_id, (coalesce(priority, 0)), id);
create index tasks_user_id_title_idx on app.tasks (user_id, title, id);
create index tasks_user_id_position_id_idx on app.tasks (user_id, position, id);

alter type app.task_public
  add attribute status text,
  add attribute priority text,
  add attribute due_date text,
  add attribute tags text[],
  add attribute position integer;

alter table app.tasks drop column public_json;
drop function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz
);
drop function if exists app.create_task(app.request_context, text, text, boolean);
drop function if exists app.replace_task(app.request_context, bigint, text, text, boolean, integer);

-- As in 0006: PL/pgSQL, immutable, UTC pinned. The modelled fields come first, in TaskPublic's
-- order; the fields in `extra` follow them, as the client sent them.
create function app.task_public_json(
  id bigint, title text, description text, completed boolean, user_id text, version integer,
  created_at timestamptz, updated_at timestamptz, priority smallint, due_at timestamptz,
  due_all_day boolean, tags text[], "position" integer, extra jsonb
) returns text
language plpgsql immutable
set timezone = 'UTC'
as $$
declare
  known text := pg_catalog.to_json(
    row(task_public_json.id, task_public_json.title, task_public_json.description,
        task_public_json.completed, task_public_json.user_id, task_public_json.version,
        task_public_json.created_at, task_public_json.updated_at,
        case when task_public_json.completed then 'completed' else 'pending' end,
        (array['low', 'medium', 'high'])[task_public_json.priority],
        case when task_public_json.due_all_day
             then pg_catalog.to_char(task_public_json.due_at, 'YYYY-MM-DD')
             else pg_catalog.to_json(task_public_json.due_at) #>> '{}' end,
        task_public_json.tags, task_public_json."position")::app.task_public
  )::text;
begin
  if task_public_json.extra = '{}' then
    return known;
  end if;
  return pg_catalog.left(known, -1) || ',' || pg_catalog.substr(task_public_json.extra::text, 2);
end
$$;
comment on function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz, smallint, timestamptz,
  boolean, text[], integer, jsonb
) is 'A task as the API sends it (TaskPublic and its extra fields), as JSON text, UTC.';
revoke all on function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz, smallint, timestamptz,
  boolean, text[], integer, jsonb
) from public;
grant execute on function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz, smallint, timestamptz,
  boolean, text[], integer, jsonb
) to app_user;

alter table app.tasks add column public_json text not null
  generated always as (app.task_public_json(id, title, description, completed, user_id, version,
                                            created_at, updated_at, priority, due_at, due_all_day,
                                            tags, position, extra)) stored;
comment on column app.tasks.public_json is
  'The task as the API sends it (app.task_public_json of the other columns), kept by PostgreSQL.';
