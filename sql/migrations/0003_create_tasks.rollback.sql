-- The functions in sql/functions that exist for this table go with it.
drop function if exists app.task_json(app.tasks);
drop table app.tasks;
drop function if exists app_private.tg_tasks__stamp_row();
