-- A task as the API sends it. The API passes the JSON of this row (to_json, json_agg) through
-- untouched, so the wire format is defined here, once. Timestamps use PostgreSQL's own JSON form
-- (ISO 8601, e.g. 2026-11-22T05:34:20.8874+00:00), in UTC because app.begin_request sets the
-- transaction's time zone. Building JSON from a typed row is measured (bench/) about a quarter
-- cheaper than json_build_object with the same keys. Simple enough for the planner to inline.
create or replace function app.task_public(t app.tasks) returns app.task_public
language sql stable parallel safe
as $$
  select row(t.id, t.title, t.description, t.completed, t.user_id, t.version, t.created_at,
             t.updated_at)::app.task_public
$$;

comment on function app.task_public(app.tasks) is 'A task in the API''s shape (TaskPublic).';
revoke all on function app.task_public(app.tasks) from public;
grant execute on function app.task_public(app.tasks) to app_user;
