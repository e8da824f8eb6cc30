-- POST /api/tasks in one statement. The task belongs to the caller: user_id defaults to
-- app.user_id, which the request role may not name itself. The body is the new row's stored
-- JSON (app.tasks.public_json), computed by the insert itself. `extra` holds the top-level
-- fields the API does not model (api/models.py), '{}' for none.
create or replace function app.create_task(
  ctx app.request_context, title text, description text, completed boolean, priority smallint,
  due_at timestamptz, due_all_day boolean, tags text[], "position" integer, extra jsonb,
  out id bigint, out version integer, out body text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  insert into app.tasks as t
         (title, description, completed, priority, due_at, due_all_day, tags, position, extra)
  values (create_task.title, create_task.description, create_task.completed,
          create_task.priority, create_task.due_at, create_task.due_all_day, create_task.tags,
          create_task."position", create_task.extra)
  returning t.id, t.version, t.public_json
       into create_task.id, create_task.version, create_task.body;
end
$$;

comment on function app.create_task(
  app.request_context, text, text, boolean, smallint, timestamptz, boolean, text[], integer, jsonb
) is 'POST /api/tasks.';
grant execute on function app.create_task(
  app.request_context, text, text, boolean, smallint, timestamptz, boolean, text[], integer, jsonb
) to public;
