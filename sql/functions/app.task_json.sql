-- A task as the API sends it. The API passes this JSON through untouched, so the wire format is
-- defined here, once: timestamps in UTC with microseconds and a Z, whatever the session's
-- time zone. Simple enough for the planner to inline into the calling query.
create or replace function app.task_json(t app.tasks) returns json
language sql stable parallel safe
as $$
  select pg_catalog.json_build_object(
    'id', t.id,
    'title', t.title,
    'description', t.description,
    'completed', t.completed,
    'user_id', t.user_id,
    'version', t.version,
    'created_at', pg_catalog.to_char(t.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'updated_at', pg_catalog.to_char(t.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$;

comment on function app.task_json(app.tasks) is 'A task in the API''s JSON shape (TaskPublic).';
revoke all on function app.task_json(app.tasks) from public;
grant execute on function app.task_json(app.tasks) to app_user;
