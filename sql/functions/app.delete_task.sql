-- DELETE /api/tasks/{id} in one statement. deleted is true when the task went, false when it
-- exists but its version is not expected_version (given), null when the caller has no such task.
create or replace function app.delete_task(
  ctx app.request_context, task_id bigint, expected_version integer, out deleted boolean
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  delete from app.tasks as t
   where t.id = delete_task.task_id
     and (delete_task.expected_version is null or t.version = delete_task.expected_version);
  if found then
    deleted := true;
  elsif exists (select from app.tasks as t where t.id = delete_task.task_id) then
    deleted := false;
  end if;
end
$$;

comment on function app.delete_task(app.request_context, bigint, integer) is
  'DELETE /api/tasks/{id}.';
grant execute on function app.delete_task(app.request_context, bigint, integer) to public;
