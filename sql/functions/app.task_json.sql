-- A task as the API sends it. The API passes this JSON through untouched, so the wire format is
-- defined here, once. Timestamps use PostgreSQL's own JSON form (ISO 8601, e.g.
-- 2026-11-22T05:34:20.8874+00:00), in UTC because app.begin_request sets the transaction's
-- time zone; that is several times cheaper than formatting them with to_char. Simple enough
-- for the planner to inline into the calling query.
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
    'created_at', t.created_at,
    'updated_at', t.updated_at)
$$;

comment on function app.task_json(app.tasks) is 'A task in the API''s JSON shape (TaskPublic).';
revoke all on function app.task_json(app.tasks) from public;
grant execute on function app.task_json(app.tasks) to app_user;
