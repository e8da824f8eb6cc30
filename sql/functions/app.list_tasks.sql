-- GET /api/tasks in one statement: opens the request, then answers the caller's change marker
-- (app.task_sync_states.change_count, 0 before their first write: the list's ETag) and, unless
-- it is one of known_markers (the client's If-None-Match), the stored JSON of all of the
-- caller's tasks (app.tasks.public_json), oldest first, joined into one array ('[]' when there
-- are none). A known marker answers a null body: the list is not read at all. Rendering each
-- row's JSON here instead was most of the list's cost in PostgreSQL (how-to/benchmark.md, "The
-- database's half of a list").
-- The request functions (app.*_task*) share a shape: not security definer, no set clause (see
-- app.begin_request), app.begin_request first, so that everything after it runs as app_user
-- under row-level security; PL/pgSQL plans each query once per connection, as app_user.
-- Like app.begin_request they only ever lower privileges, so every role may call them.
create or replace function app.list_tasks(
  ctx app.request_context, known_markers bigint[],
  out marker bigint, out body text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  -- One statement, so that the marker and the list come from one snapshot.
  select m.change_count,
         case when m.change_count = any(list_tasks.known_markers) then null
              else (select '[' || coalesce(pg_catalog.string_agg(t.public_json, ',' order by t.id), '')
                           || ']'
                      from app.tasks as t) end
    into list_tasks.marker, list_tasks.body
    from (select coalesce((select s.change_count from app.task_sync_states as s), 0)
                 as change_count) as m;
end
$$;

comment on function app.list_tasks(app.request_context, bigint[]) is
  'GET /api/tasks: the caller''s change marker, and their tasks as JSON unless it is known.';
grant execute on function app.list_tasks(app.request_context, bigint[]) to public;
