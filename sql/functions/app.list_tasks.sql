-- GET /api/tasks in one statement: opens the request, then renders all of the caller's tasks,
-- oldest first, as one JSON array (an empty one when there are none).
-- The request functions (app.*_task*) share a shape: not security definer, no set clause (see
-- app.begin_request), app.begin_request first, so that everything after it runs as app_user
-- under row-level security; PL/pgSQL plans each query once per connection, as app_user.
-- Like app.begin_request they only ever lower privileges, so every role may call them.
create or replace function app.list_tasks(ctx app.request_context) returns text
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  return (
    select coalesce(pg_catalog.json_agg(app.task_public(t) order by t.id), '[]')::text
      from app.tasks as t
  );
end
$$;

comment on function app.list_tasks(app.request_context) is 'GET /api/tasks: the caller''s tasks as JSON.';
grant execute on function app.list_tasks(app.request_context) to public;
