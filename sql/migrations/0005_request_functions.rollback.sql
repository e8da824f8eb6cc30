-- The functions in sql/functions that exist for these types go with them. The version before
-- re-creates its own app.begin_request and app.task_json when it migrates.
drop function if exists app.list_tasks(app.request_context);
drop function if exists app.get_task(app.request_context, bigint);
drop function if exists app.create_task(app.request_context, text, text, boolean);
drop function if exists app.replace_task(app.request_context, bigint, text, text, boolean, integer);
drop function if exists app.patch_task(app.request_context, bigint, jsonb, integer);
drop function if exists app.toggle_task(app.request_context, bigint, integer);
drop function if exists app.delete_task(app.request_context, bigint, integer);
drop function if exists app.begin_request(app.request_context);
drop function if exists app.task_public(app.tasks);
drop type app.task_public;
drop type app.request_context;
