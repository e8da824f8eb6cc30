-- GET /api/tasks in one statement: opens the request, then joins the stored JSON of all of the
-- caller's tasks (app.tasks.public_json), oldest first, into one array ('[]' when there are
-- none). Rendering each row's JSON here instead was most of the list's cost in PostgreSQL
-- (how-to/benchmark.md, "The database's half of a list").
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
    select '[' || coalesce(pg_catalog.string_agg(t.public_json, ',' order by t.id), '') || ']'
      from app.tasks as t
  );
end
$$;

comment on function app.list_tasks(app.request_context) is 'GET /api/tasks: the caller''s tasks as JSON.';
grant execute on function app.list_tasks(app.request_context) to public;
