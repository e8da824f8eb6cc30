-- POST /api/tasks in one statement. The task belongs to the caller: user_id defaults to
-- app.user_id, which the request role may not name itself. The body is the new row's stored
-- JSON (app.tasks.public_json), computed by the insert itself.
create or replace function app.create_task(
  ctx app.request_context, title text, description text, completed boolean,
  out id bigint, out version integer, out body text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  insert into app.tasks as t (title, description, completed)
  values (create_task.title, create_task.description, create_task.completed)
  returning t.id, t.version, t.public_json
       into create_task.id, create_task.version, create_task.body;
end
$$;

comment on function app.create_task(app.request_context, text, text, boolean) is
  'POST /api/tasks.';
grant execute on function app.create_task(app.request_context, text, text, boolean) to public;
