-- DELETE /api/tasks/{id} in one statement. expected_version as in app.replace_task; the answer
-- too, except that 'done' carries the version that was deleted and body is always null.
create or replace function app.delete_task(
  ctx app.request_context, task_id bigint, expected_version integer,
  out outcome text, out version integer, out body text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  delete from app.tasks as t
   where t.id = delete_task.task_id
     and (delete_task.expected_version is null or t.version = delete_task.expected_version)
  returning 'done', t.version into delete_task.outcome, delete_task.version;
  if not found then
    select 'stale', t.version into delete_task.outcome, delete_task.version
      from app.tasks as t
     where t.id = delete_task.task_id;
    if not found then
      delete_task.outcome := 'missing';
    end if;
  end if;
end
$$;

comment on function app.delete_task(app.request_context, bigint, integer) is
  'DELETE /api/tasks/{id}: outcome done, stale or missing.';
grant execute on function app.delete_task(app.request_context, bigint, integer) to public;
